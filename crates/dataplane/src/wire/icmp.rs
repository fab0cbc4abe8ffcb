//! ICMP for IPv4 (RFC 792): the message types the VPC router answers or sends, and which
//! types are errors (never answered with an error, RFC 1812 4.3.2.7).

/// Echo reply.
pub const ECHO_REPLY: u8 = 0;
/// Echo request.
pub const ECHO_REQUEST: u8 = 8;
/// Time exceeded.
pub const TIME_EXCEEDED: u8 = 11;
/// ICMP header length (type, code, checksum, 4 bytes of rest-of-header).
pub const HEADER_LEN: usize = 8;

/// Whether an ICMP message of this type is an error message (RFC 1122 3.2.2): 3, 4, 5,
/// 11, 12. An unknown type counts as an error, so the router never answers it.
pub fn is_error(icmp_type: u8) -> bool {
    !matches!(icmp_type, 0 | 8 | 9 | 10 | 13 | 14 | 15 | 16 | 17 | 18)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types() {
        for t in [3, 4, 5, 11, 12, 200] {
            assert!(is_error(t), "{t}");
        }
        for t in [ECHO_REPLY, ECHO_REQUEST, 13, 14] {
            assert!(!is_error(t), "{t}");
        }
    }
}

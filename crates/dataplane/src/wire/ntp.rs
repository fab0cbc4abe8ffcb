//! NTP (RFC 5905) packets as the Amazon Time Sync Service answers them: the 48-byte
//! header's field offsets, its modes, and timestamps (seconds since 1900 and a 32-bit
//! binary fraction). Extension fields and MACs after the header are ignored.

/// The UDP port of NTP.
pub const PORT: u16 = 123;
/// The header's length: what a request must carry at least, and what a reply is.
pub const HEADER_LEN: usize = 48;
/// Mode of a client's request.
pub const MODE_CLIENT: u8 = 3;
/// Mode of a server's reply.
pub const MODE_SERVER: u8 = 4;
/// Seconds from the NTP era's start (1900-01-01) to the Unix epoch (1970-01-01).
pub const UNIX_TO_NTP_SECS: u64 = 2_208_988_800;

/// Field offsets in the header.
pub mod field {
    /// Leap indicator (2 bits), version (3 bits), mode (3 bits).
    pub const LI_VN_MODE: usize = 0;
    /// Stratum.
    pub const STRATUM: usize = 1;
    /// Poll interval (log2 seconds).
    pub const POLL: usize = 2;
    /// Precision (log2 seconds).
    pub const PRECISION: usize = 3;
    /// Root delay (NTP short format).
    pub const ROOT_DELAY: usize = 4;
    /// Root dispersion (NTP short format).
    pub const ROOT_DISPERSION: usize = 8;
    /// Reference ID.
    pub const REFERENCE_ID: usize = 12;
    /// Reference timestamp: when the clock was last set.
    pub const REFERENCE_TS: usize = 16;
    /// Origin timestamp: the request's transmit timestamp, echoed.
    pub const ORIGIN_TS: usize = 24;
    /// Receive timestamp: when the request arrived.
    pub const RECEIVE_TS: usize = 32;
    /// Transmit timestamp: when the reply left.
    pub const TRANSMIT_TS: usize = 40;
}

/// The mode of the header `h`.
pub fn mode(h: &[u8]) -> u8 {
    h[field::LI_VN_MODE] & 0x07
}

/// The version of the header `h`.
pub fn version(h: &[u8]) -> u8 {
    (h[field::LI_VN_MODE] >> 3) & 0x07
}

/// The NTP timestamp of `unix_nanos` nanoseconds after the Unix epoch.
pub fn timestamp(unix_nanos: u64) -> [u8; 8] {
    let secs = unix_nanos / 1_000_000_000 + UNIX_TO_NTP_SECS;
    let nanos = unix_nanos % 1_000_000_000;
    let fraction = (nanos << 32) / 1_000_000_000;
    let mut t = [0u8; 8];
    t[..4].copy_from_slice(&(secs as u32).to_be_bytes());
    t[4..].copy_from_slice(&(fraction as u32).to_be_bytes());
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_count_from_1900_with_a_binary_fraction() {
        // 2026-12-06T00:00:00.5Z: 1796515200 Unix seconds.
        let t = timestamp(1_796_515_200 * 1_000_000_000 + 500_000_000);
        assert_eq!(t, [0xEE, 0xBF, 0x24, 0x00, 0x80, 0, 0, 0]);
        assert_eq!(timestamp(0), [0x83, 0xAA, 0x7E, 0x80, 0, 0, 0, 0]);
    }

    #[test]
    fn mode_and_version_are_read_from_the_first_byte() {
        let h = [0x23u8; HEADER_LEN]; // LI 0, version 4, mode 3
        assert_eq!((version(&h), mode(&h)), (4, MODE_CLIENT));
    }
}

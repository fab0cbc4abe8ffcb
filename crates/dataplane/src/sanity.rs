//! Stage 1, `sanity`: checks the IPv4 header of every packet read from an ENI, per
//! RFC 1812 5.2.2: length, version, IHL, total length, header checksum, options, martian
//! source. Trailing bytes past the total length are trimmed. Nothing past the IP header
//! is read here.

use etherparse::Ipv4HeaderSlice;
use etherparse::err::ipv4::{HeaderError, HeaderSliceError};

use crate::packet::PacketBuf;
use crate::verdict::DropReason;
use crate::wire::checksum;
use crate::wire::ipv4::{self, Ipv4Header, option};

/// What `check` did besides accepting the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trimmed {
    /// The packet was exactly its total length.
    No,
    /// Bytes past the total length were cut off.
    Yes,
}

/// Checks the header at the start of `pkt`; trims trailing bytes.
#[inline]
pub(crate) fn check(pkt: &mut PacketBuf) -> Result<(Ipv4Header, Trimmed), DropReason> {
    let bytes = pkt.as_bytes();
    match bytes.first().map(|b| b >> 4) {
        Some(4) => {}
        Some(6) => return Err(DropReason::Ipv6NotEnabled),
        Some(_) => return Err(DropReason::BadVersion),
        None => return Err(DropReason::Truncated),
    }
    let h = Ipv4HeaderSlice::from_slice(bytes).map_err(|e| match e {
        HeaderSliceError::Len(l) if l.required_len <= ipv4::MIN_HEADER_LEN => DropReason::Truncated,
        HeaderSliceError::Len(_) => DropReason::BadHeaderLength,
        HeaderSliceError::Content(HeaderError::HeaderLengthSmallerThanHeader { .. }) => {
            DropReason::BadHeaderLength
        }
        HeaderSliceError::Content(HeaderError::UnexpectedVersion { .. }) => DropReason::BadVersion,
    })?;
    let header_len = h.slice().len();
    let total_len = usize::from(h.total_len());
    if total_len < header_len {
        return Err(DropReason::BadTotalLength);
    }
    if total_len > bytes.len() {
        return Err(DropReason::Truncated);
    }
    if !checksum::verifies(h.slice()) {
        return Err(DropReason::BadChecksum);
    }
    check_options(h.options())?;
    let src = h.source_addr();
    if ipv4::is_martian_source(src) {
        return Err(DropReason::MartianSource);
    }
    let header = Ipv4Header {
        header_len,
        total_len,
        ttl: h.ttl(),
        protocol: h.protocol().0,
        src,
        dst: h.destination_addr(),
        frag_offset: h.fragments_offset().value(),
        more_fragments: h.more_fragments(),
        dont_fragment: h.dont_fragment(),
    };
    let trimmed = if total_len < bytes.len() {
        pkt.set_len(total_len);
        Trimmed::Yes
    } else {
        Trimmed::No
    };
    Ok((header, trimmed))
}

/// Walks the options (RFC 791 3.1): single-byte END and NOP, else type, length >= 2,
/// data; a length past the end is malformed; source routes are refused (RFC 7126 4.3-4.4).
fn check_options(mut opts: &[u8]) -> Result<(), DropReason> {
    while let Some(&kind) = opts.first() {
        match kind {
            option::END => return Ok(()),
            option::NOP => opts = &opts[1..],
            _ => {
                let len = usize::from(*opts.get(1).ok_or(DropReason::BadOptions)?);
                if len < 2 || len > opts.len() {
                    return Err(DropReason::BadOptions);
                }
                if kind == option::LSRR || kind == option::SSRR {
                    return Err(DropReason::SourceRoute);
                }
                opts = &opts[len..];
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ICMP echo request 10.0.1.10 -> 10.0.12.10, TTL 64, id 0x1c46, 8 bytes of ICMP.
    const ECHO: [u8; 28] = [
        0x45, 0x00, 0x00, 0x1c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0xfd, 0x87, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // IPv4
        0x08, 0x00, 0xf7, 0xfe, 0x00, 0x01, 0x00, 0x00, // ICMP echo, id 1, seq 0
    ];

    fn run(bytes: &[u8]) -> Result<(Ipv4Header, Trimmed), DropReason> {
        check(&mut PacketBuf::from_bytes(bytes))
    }

    /// `bytes` with the header checksum recomputed.
    fn fixed(mut bytes: Vec<u8>) -> Vec<u8> {
        let hl = usize::from(bytes[0] & 0x0f) * 4;
        bytes[10] = 0;
        bytes[11] = 0;
        let c = checksum::internet(&bytes[..hl.min(bytes.len())]);
        bytes[10..12].copy_from_slice(&c.to_be_bytes());
        bytes
    }

    #[test]
    fn a_good_header_passes_with_its_facts() {
        assert!(checksum::verifies(&ECHO[..20]));
        let (h, t) = run(&ECHO).unwrap();
        assert_eq!(t, Trimmed::No);
        assert_eq!(
            (h.header_len, h.total_len, h.ttl, h.protocol),
            (20, 28, 64, 1)
        );
        assert_eq!(h.src.to_string(), "10.0.1.10");
        assert_eq!(h.dst.to_string(), "10.0.12.10");
        assert!(!h.is_fragment());
    }

    #[test]
    fn row_1_shorter_than_a_header() {
        assert_eq!(run(&ECHO[..19]), Err(DropReason::Truncated));
        assert_eq!(run(&[]), Err(DropReason::Truncated));
        assert_eq!(run(&[0x45]), Err(DropReason::Truncated));
    }

    #[test]
    fn row_2_version() {
        let mut p = ECHO;
        p[0] = 0x55;
        assert_eq!(run(&p), Err(DropReason::BadVersion));
        p[0] = 0x05;
        assert_eq!(run(&p), Err(DropReason::BadVersion));
        p[0] = 0x60;
        assert_eq!(run(&p), Err(DropReason::Ipv6NotEnabled));
    }

    #[test]
    fn row_3_ihl() {
        let mut p = ECHO;
        p[0] = 0x44;
        assert_eq!(run(&p), Err(DropReason::BadHeaderLength));
        // IHL 15 = 60 bytes, longer than the 28-byte packet.
        p[0] = 0x4f;
        assert_eq!(run(&p), Err(DropReason::BadHeaderLength));
    }

    #[test]
    fn row_4_total_length_below_header() {
        let mut p = ECHO.to_vec();
        p[3] = 19;
        assert_eq!(run(&fixed(p)), Err(DropReason::BadTotalLength));
    }

    #[test]
    fn row_5_total_length_beyond_the_bytes() {
        let mut p = ECHO.to_vec();
        p[3] = 29;
        assert_eq!(run(&fixed(p)), Err(DropReason::Truncated));
    }

    #[test]
    fn row_6_trailing_bytes_are_trimmed() {
        let mut buf = PacketBuf::from_bytes(&[&ECHO[..], &[0xde, 0xad]].concat());
        let (h, t) = check(&mut buf).unwrap();
        assert_eq!(t, Trimmed::Yes);
        assert_eq!(h.total_len, 28);
        assert_eq!(buf.as_bytes(), &ECHO);
    }

    #[test]
    fn row_7_bad_checksum() {
        let mut p = ECHO;
        p[11] ^= 1;
        assert_eq!(run(&p), Err(DropReason::BadChecksum));
    }

    /// The echo with 4 bytes of options (IHL 6).
    fn with_options(opts: [u8; 4]) -> Vec<u8> {
        let mut p = Vec::from(&ECHO[..20]);
        p[0] = 0x46;
        p[3] = 32;
        p.extend_from_slice(&opts);
        p.extend_from_slice(&ECHO[20..]);
        fixed(p)
    }

    #[test]
    fn row_10_options() {
        // NOPs and END, and a well-formed router alert (type 148, length 4), pass.
        assert!(run(&with_options([1, 1, 1, 0])).is_ok());
        assert!(run(&with_options([148, 4, 0, 0])).is_ok());
        // Loose and strict source routes are refused.
        assert_eq!(
            run(&with_options([131, 3, 4, 0])),
            Err(DropReason::SourceRoute)
        );
        assert_eq!(
            run(&with_options([137, 3, 4, 0])),
            Err(DropReason::SourceRoute)
        );
        // A length of 0, 1, or past the end is malformed; so is a lone type byte.
        assert_eq!(
            run(&with_options([7, 0, 0, 0])),
            Err(DropReason::BadOptions)
        );
        assert_eq!(
            run(&with_options([7, 1, 0, 0])),
            Err(DropReason::BadOptions)
        );
        assert_eq!(
            run(&with_options([7, 5, 0, 0])),
            Err(DropReason::BadOptions)
        );
        assert_eq!(
            run(&with_options([1, 1, 1, 7])),
            Err(DropReason::BadOptions)
        );
    }

    #[test]
    fn row_12_martian_sources() {
        for src in [
            [0, 0, 0, 0],
            [127, 0, 0, 1],
            [224, 0, 0, 5],
            [240, 1, 2, 3],
            [255; 4],
        ] {
            let mut p = ECHO.to_vec();
            p[12..16].copy_from_slice(&src);
            assert_eq!(run(&fixed(p)), Err(DropReason::MartianSource), "{src:?}");
        }
    }
}

//! ICMP errors from the VPC router, built in place of the packet that caused them
//! (RFC 792, RFC 1812 4.3.2): a new IPv4 and ICMP header followed by as much of the
//! original datagram as fits in 576 bytes, counting only bytes that were received. No
//! error is sent about a non-first fragment, an ICMP error, or a packet to or from a
//! broadcast or multicast address, and errors are rate limited with a token bucket
//! (RFC 1812 4.3.2.8) on the pipeline's clock.

use std::net::Ipv4Addr;

use crate::packet::PacketBuf;
use crate::time::Time;
use crate::wire::ipv4::{self, Ipv4Header, NewHeader};
use crate::wire::{checksum, icmp};

/// The most an error may be (RFC 1812 4.3.2.3).
const MAX_ERROR_LEN: usize = PacketBuf::MIN_CAPACITY;
/// IPv4 + ICMP header in front of the quote.
const PREFIX: usize = ipv4::MIN_HEADER_LEN + icmp::HEADER_LEN;

/// A token bucket: `rate` errors per second on average, bursts of `burst`.
#[derive(Debug, Clone)]
pub(crate) struct RateLimit {
    /// Nanoseconds of credit; one error costs `cost`.
    credit: u64,
    cost: u64,
    cap: u64,
    last: Time,
}

impl RateLimit {
    /// Linux's defaults: 1000 ICMP messages per second, bursts of 50.
    pub(crate) fn new(rate_per_sec: u64, burst: u64) -> Self {
        let cost = 1_000_000_000 / rate_per_sec.max(1);
        RateLimit {
            credit: cost * burst,
            cost,
            cap: cost * burst,
            last: Time::ZERO,
        }
    }

    /// Whether one more error may be sent at `now`; takes its token if so.
    pub(crate) fn allow(&mut self, now: Time) -> bool {
        let elapsed = now.as_nanos().saturating_sub(self.last.as_nanos());
        self.last = self.last.max(now);
        self.credit = self.credit.saturating_add(elapsed).min(self.cap);
        if self.credit >= self.cost {
            self.credit -= self.cost;
            true
        } else {
            false
        }
    }
}

/// Whether RFC 1812 4.3.2.7 allows an ICMP error about this packet (the addresses were
/// already checked: the source is not martian, the destination not broadcast/multicast).
pub(crate) fn allowed_about(pkt: &PacketBuf, ip: &Ipv4Header) -> bool {
    if ip.frag_offset != 0 {
        return false;
    }
    if ip.protocol == ipv4::PROTO_ICMP {
        // An ICMP error, or a message too short to tell.
        return match pkt.as_bytes().get(ip.header_len) {
            Some(&t) => !icmp::is_error(t),
            None => false,
        };
    }
    true
}

/// What an error says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IcmpError {
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
    /// The 4 bytes after the checksum (unused, or the next-hop MTU).
    pub rest: [u8; 4],
}

/// Rewrites `pkt` into the ICMP error `e` from `router` to the packet's source.
pub(crate) fn build(
    pkt: &mut PacketBuf,
    ip: &Ipv4Header,
    router: Ipv4Addr,
    e: IcmpError,
    ident: u16,
) {
    let quote = pkt.len().min(ip.total_len).min(MAX_ERROR_LEN - PREFIX);
    let total = PREFIX + quote;
    let buf = pkt.buffer_mut();
    buf.copy_within(0..quote, PREFIX);
    let msg = &mut buf[ipv4::MIN_HEADER_LEN..total];
    msg[..8].copy_from_slice(&[
        e.icmp_type,
        e.code,
        0,
        0,
        e.rest[0],
        e.rest[1],
        e.rest[2],
        e.rest[3],
    ]);
    let c = checksum::internet(msg);
    msg[2..4].copy_from_slice(&c.to_be_bytes());
    let header = NewHeader {
        total_len: total as u16,
        ident,
        protocol: ipv4::PROTO_ICMP,
        src: router,
        dst: ip.src,
    };
    ipv4::write_header(buf, header);
    pkt.set_len(total);
}

/// Time exceeded in transit (type 11, code 0).
pub(crate) const TIME_EXCEEDED: IcmpError = IcmpError {
    icmp_type: icmp::TIME_EXCEEDED,
    code: 0,
    rest: [0; 4],
};

/// Destination unreachable, fragmentation needed and DF set (type 3, code 4), with the
/// next-hop MTU (RFC 1191).
pub(crate) fn frag_needed(mtu: usize) -> IcmpError {
    let [hi, lo] = u16::try_from(mtu).unwrap_or(u16::MAX).to_be_bytes();
    IcmpError {
        icmp_type: 3,
        code: 4,
        rest: [0, 0, hi, lo],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_bucket_allows_a_burst_then_the_rate() {
        let mut r = RateLimit::new(1000, 50);
        let t0 = Time::from_secs(10);
        assert_eq!((0..60).filter(|_| r.allow(t0)).count(), 50);
        // 1 ms later one more token has accrued, 10 ms later ten.
        assert!(r.allow(t0 + Duration::from_millis(1)));
        assert!(!r.allow(t0 + Duration::from_millis(1)));
        let t1 = t0 + Duration::from_millis(11);
        assert_eq!((0..60).filter(|_| r.allow(t1)).count(), 10);
        // Credit never exceeds the burst, however long the pause.
        let t2 = t1 + Duration::from_secs(3600);
        assert_eq!((0..100).filter(|_| r.allow(t2)).count(), 50);
        // A clock that goes backwards gives no credit.
        assert!(!r.allow(t0));
    }

    #[test]
    fn a_large_packet_is_quoted_up_to_576_bytes() {
        let mut bytes = vec![0u8; 1400];
        bytes[..20].copy_from_slice(&[
            0x45, 0, 0x05, 0x78, 0, 1, 0, 0, 0, 17, 0, 0, 10, 0, 1, 10, 10, 0, 2, 10,
        ]);
        let c = checksum::internet(&bytes[..20]);
        bytes[10..12].copy_from_slice(&c.to_be_bytes());
        let mut pkt = PacketBuf::new(2048);
        pkt.buffer_mut()[..1400].copy_from_slice(&bytes);
        pkt.set_len(1400);
        let ip = crate::sanity::check(&mut pkt).unwrap().0;
        build(&mut pkt, &ip, Ipv4Addr::new(10, 0, 1, 1), TIME_EXCEEDED, 9);
        let out = pkt.as_bytes();
        assert_eq!(out.len(), 576);
        assert!(checksum::verifies(&out[..20]));
        assert!(checksum::verifies(&out[20..]));
        assert_eq!(&out[20..28], &[11, 0, out[22], out[23], 0, 0, 0, 0]);
        assert_eq!(&out[28..48], &bytes[..20]);
        assert_eq!(&out[12..20], &[10, 0, 1, 1, 10, 0, 1, 10]);
    }
}

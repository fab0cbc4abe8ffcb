//! Applying one address translation to a packet in flight: the bytes (through
//! `nat::rewrite`, every checksum updated incrementally) and the pipeline's parsed view
//! of them (the IPv4 header and the transport facts), so later stages judge the packet
//! as it now is. Shared by the internet gateway (1:1 NAT, address only) and the NAT
//! gateway (address and port). An ICMP error is translated per RFC 5508: its outer
//! address and the opposite end of the packet it quotes.

use std::net::Ipv4Addr;

use crate::l4::{Facts, L4};
use crate::nat::rewrite::{self, End};
use crate::wire::ipv4::Ipv4Header;

/// Rewrites `end` of the packet to `addr` (and, with `port`, its port or echo
/// identifier; for an ICMP error the quoted packet's opposite end too).
pub(crate) fn translate(
    pkt: &mut [u8],
    ip: &mut Ipv4Header,
    f: &mut Facts,
    end: End,
    addr: Ipv4Addr,
    port: Option<u16>,
) {
    if let L4::IcmpError { quoted, .. } = &mut f.l4 {
        rewrite::rewrite_icmp_error(pkt, ip, end, addr, port);
        let echo = quoted.proto == crate::l4::PROTO_ICMP;
        match end {
            End::Src => {
                quoted.dst = addr;
                if let Some(p) = port {
                    quoted.dst_port = p;
                    if echo {
                        quoted.src_port = p;
                    }
                }
            }
            End::Dst => {
                quoted.src = addr;
                if let Some(p) = port {
                    quoted.src_port = p;
                    if echo {
                        quoted.dst_port = p;
                    }
                }
            }
        }
    } else {
        rewrite::rewrite(pkt, ip, end, addr, port, f.shape.partial);
        if let Some(p) = port {
            match (&mut f.l4, end) {
                (L4::IcmpEcho { id, .. }, _) => {
                    *id = p;
                    f.tuple.src_port = p;
                    f.tuple.dst_port = p;
                }
                (_, End::Src) => f.tuple.src_port = p,
                (_, End::Dst) => f.tuple.dst_port = p,
            }
        }
    }
    match end {
        End::Src => {
            ip.src = addr;
            f.tuple.src = addr;
        }
        End::Dst => {
            ip.dst = addr;
            f.tuple.dst = addr;
        }
    }
}

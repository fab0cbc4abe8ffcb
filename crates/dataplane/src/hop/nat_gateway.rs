//! The NAT gateway, a place of its own (AWS: vpc-nat-gateway,
//! nat-gateway-troubleshooting): source NAT for packets routed to it from the inside,
//! translation back for replies to its addresses, then routing in its own subnet. Its
//! state is one translation table (`nat::NatTable`); it counts AWS's CloudWatch
//! metrics.
//!
//! - only TCP, UDP and ICMP (echo by identifier, and errors quoting a translated flow)
//!   are translated; any other protocol is dropped (`nat-unsupported-protocol`);
//! - UDP fragments are translated, TCP and ICMP fragments are dropped (`nat-fragment`);
//! - a TCP segment from inside with no translation (its 350 s idle timeout passed) is
//!   answered with a RST, not a FIN, as AWS documents; but a RST is never answered
//!   with a RST (RFC 793 "Reset Generation"), it is only dropped;
//! - an echo reply from inside answers nothing it let in (`nat-unsolicited`), and an
//!   echo request to its address is not answered;
//! - a private NAT gateway never sends to an internet gateway (`nat-private-to-igw`);
//!   a public one's packets to the internet meet the internet's MTU there;
//! - a route to a deleted NAT gateway is a blackhole; a deleted or changed one starts
//!   with an empty table, an unchanged one keeps its translations across a
//!   configuration change.

use std::net::Ipv4Addr;

use vpc_config::{NatConnectivity, NatGatewayId, Topology};

use super::{Gateway, GatewayStep, Hop, InFlight, Oversize, Place, internet_gateway};
use crate::destination;
use crate::direction::Direction;
use crate::l4::{Facts, L4, PROTO_TCP, PROTO_UDP, TcpFacts, tcp_flags};
use crate::nat::rewrite::End;
use crate::nat::{NatConfig, NatTable, OutboundMiss, TcpFlags};
use crate::packet::PacketBuf;
use crate::pipeline::{Limits, Mode, Net};
use crate::time::Time;
use crate::verdict::{DropReason, Reply, Verdict};
use crate::wire::checksum;
use crate::wire::ipv4::{self, Ipv4Header, NewHeader};
use crate::xlate;

/// A NAT gateway's decision, for `vpcctl trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The NAT gateway.
    pub nat: NatGatewayId,
    /// From the inside (`Egress`: the source is translated) or a reply to its
    /// address (`Ingress`: the destination is translated back).
    pub direction: Direction,
    /// The address and port before.
    pub before: (Ipv4Addr, u16),
    /// What it becomes.
    pub after: Translation,
}

/// What a NAT gateway makes of an address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translation {
    /// The translation it has.
    Mapped(Ipv4Addr, u16),
    /// A new translation from this address (a trace does not allocate its port).
    New(Ipv4Addr),
    /// It has none for the packet.
    None,
}

/// One translation table per NAT gateway that is not deleted (`None` for a deleted
/// one), fresh. Boxed: tables are large.
pub(crate) fn compile(t: &Topology, limits: &Limits) -> Vec<Option<Box<NatTable>>> {
    t.nat_gateways
        .iter()
        .map(|n| {
            (!n.deleted).then(|| {
                Box::new(NatTable::new(NatConfig {
                    addresses: n.private_ips.clone(),
                    ports: n.source_ports,
                    max_per_destination: n.max_connections_per_destination,
                    capacity: limits.nat_per_gateway,
                }))
            })
        })
        .collect()
}

/// Whether a route to NAT gateway `n` is a blackhole: it was deleted.
pub(crate) fn gone(t: &Topology, n: NatGatewayId) -> bool {
    t.nat_gateway(n).deleted
}

/// The translation table as a packet (which changes it) or a trace (which only looks)
/// sees it.
enum Table<'t> {
    Live(&'t mut NatTable),
    Trace(&'t NatTable),
}

impl Table<'_> {
    fn get(&self) -> &NatTable {
        match self {
            Table::Live(t) => t,
            Table::Trace(t) => t,
        }
    }

    fn outbound(&mut self, now: Time, f: &Facts) -> Result<Translation, OutboundMiss> {
        match self {
            Table::Live(t) => t
                .outbound(now, &f.tuple, tcp_flags_of(f))
                .map(|(a, p)| Translation::Mapped(a, p)),
            Table::Trace(t) => Ok(match t.peek_outbound(now, &f.tuple, tcp_flags_of(f))? {
                Some((a, p)) => Translation::Mapped(a, p),
                None => Translation::New(t.config().addresses[0]),
            }),
        }
    }

    fn inbound(&mut self, now: Time, f: &Facts) -> Option<(Ipv4Addr, u16)> {
        match self {
            Table::Live(t) => t.inbound(now, &f.tuple, tcp_flags_of(f)),
            Table::Trace(t) => t.peek_inbound(now, &f.tuple),
        }
    }
}

/// A packet entering NAT gateway `n`: from the inside (`Egress`, routed to it: source
/// NAT, after routing in its subnet) or to its own address (`Ingress`: translated
/// back, then routed in its subnet). Returns the next hop. A packet counts in its
/// metrics: what comes in and goes out on each side, and what it drops.
pub(crate) fn handle(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    n: NatGatewayId,
    direction: Direction,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let len = u64::from(p.f.len);
    let Some(state) = mode.trace_state() else {
        // A packet: the table stays locked while it is used.
        let Some(mut table) = mode.live_state().and_then(|s| s.nat(n)) else {
            return Err(DropReason::RouteBlackhole.into());
        };
        let m = &mut table.metrics;
        match direction {
            Direction::Egress => {
                m.packets_in_from_source += 1;
                m.bytes_in_from_source += len;
            }
            Direction::Ingress => {
                m.packets_in_from_destination += 1;
                m.bytes_in_from_destination += len;
            }
        }
        let result = translate(net, mode, &mut Table::Live(&mut table), n, direction, p);
        let m = &mut table.metrics;
        match (&result, direction) {
            (Err(_), _) => m.packets_drop_count += 1,
            (Ok(_), Direction::Egress) => {
                m.packets_out_to_destination += 1;
                m.bytes_out_to_destination += len;
            }
            (Ok(_), Direction::Ingress) => {
                m.packets_out_to_source += 1;
                m.bytes_out_to_source += len;
            }
        }
        return result;
    };
    let Some(table) = state.nat(n) else {
        return Err(DropReason::RouteBlackhole.into());
    };
    translate(net, mode, &mut Table::Trace(&table), n, direction, p)
}

fn translate(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    table: &mut Table<'_>,
    n: NatGatewayId,
    direction: Direction,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    supported(&p.ip, &p.f)?;
    match direction {
        Direction::Egress => outbound(net, mode, table, n, p),
        Direction::Ingress => inbound(net, mode, table, n, p),
    }
}

fn outbound(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    table: &mut Table<'_>,
    n: NatGatewayId,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let hop = route(net, mode, n, &p.ip)?;
    if let Place::Gateway(Gateway::Igw(_)) = hop.to {
        if net.topology.nat_gateway(n).connectivity == NatConnectivity::Private {
            return Err(DropReason::NatPrivateToIgw.into());
        }
        super::mtu(
            net,
            mode,
            p,
            internet_gateway::INTERNET_MTU,
            Oversize::Fragment,
        )?;
    }
    let before = (p.f.tuple.src, p.f.tuple.src_port);
    let step = |after| {
        GatewayStep::Nat(Step {
            nat: n,
            direction: Direction::Egress,
            before,
            after,
        })
    };
    let after = match p.f.l4 {
        L4::IcmpError { quoted, .. } => {
            let (a, port) = table
                .get()
                .reverse_of_inside(&quoted)
                .ok_or(DropReason::IcmpErrorNoFlow)?;
            Translation::Mapped(a, port)
        }
        // An echo reply going out answers nothing the NAT gateway let in.
        L4::IcmpEcho { request: false, .. } => {
            return Err(DropReason::NatUnsolicited.into());
        }
        _ => match table.outbound(p.now, &p.f) {
            Ok(t) => t,
            Err(OutboundMiss::PortAllocation) => {
                return Err(DropReason::NatPortAllocation.into());
            }
            Err(OutboundMiss::TableFull) => return Err(DropReason::NatTableFull.into()),
            Err(OutboundMiss::NoMapping) => {
                if let L4::Tcp(tcp) = p.f.l4 {
                    if !deserves_reset(&tcp) {
                        return Err(DropReason::NatNoMapping.into());
                    }
                    mode.step(step(Translation::None).into());
                    let ident = mode.ident();
                    reset(p.pkt, &p.ip, &p.f, &tcp, ident);
                    return Err(Verdict::Reply {
                        to: p.origin,
                        reply: Reply::TcpReset {
                            cause: DropReason::NatNoMapping,
                        },
                    });
                }
                return Err(DropReason::NatUnsolicited.into());
            }
        },
    };
    let (addr, port) = match after {
        Translation::Mapped(a, port) => (a, port),
        // A trace's new translation: the port is the probe's own.
        Translation::New(a) => (a, before.1),
        Translation::None => before,
    };
    xlate::translate(
        p.pkt.as_bytes_mut(),
        &mut p.ip,
        &mut p.f,
        End::Src,
        addr,
        Some(port),
    );
    mode.step(step(after).into());
    Ok(hop)
}

fn inbound(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    table: &mut Table<'_>,
    n: NatGatewayId,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let before = (p.f.tuple.dst, p.f.tuple.dst_port);
    let inside = match p.f.l4 {
        L4::IcmpError { quoted, .. } => table.get().inside_of_quoted(&quoted),
        L4::IcmpEcho { request: true, .. } => None,
        _ => table.inbound(p.now, &p.f),
    };
    let step = |after| {
        GatewayStep::Nat(Step {
            nat: n,
            direction: Direction::Ingress,
            before,
            after,
        })
    };
    let Some((addr, port)) = inside else {
        mode.step(step(Translation::None).into());
        return Err(DropReason::NatUnsolicited.into());
    };
    xlate::translate(
        p.pkt.as_bytes_mut(),
        &mut p.ip,
        &mut p.f,
        End::Dst,
        addr,
        Some(port),
    );
    mode.step(step(Translation::Mapped(addr, port)).into());
    Ok(route(net, mode, n, &p.ip)?)
}

/// Stages 3, 5 and 6 for a packet NAT gateway `n` sends on: its subnet's route table.
fn route(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    n: NatGatewayId,
    ip: &Ipv4Header,
) -> Result<Hop, DropReason> {
    let s = net.topology.subnet(net.topology.nat_gateway(n).subnet);
    let dst = destination::classify(&net.tables, s.vpc, ip.dst)?;
    net.route(
        Place::Gateway(Gateway::Nat(n)),
        s.route_table,
        dst,
        ip,
        mode,
    )
}

/// Its trace step in words.
pub(crate) fn describe(t: &Topology, s: &Step) -> (String, String, Option<String>) {
    let name = &t.nat_gateway(s.nat).name;
    let b = format!("{}:{}", s.before.0, s.before.1);
    let (text, because) = match (s.direction, s.after) {
        (Direction::Egress, Translation::Mapped(ip, p)) => {
            (format!("source {b} becomes {ip}:{p}"), None)
        }
        (Direction::Egress, Translation::New(ip)) => (
            format!("source {b} becomes {ip}:(a port allocated for the new connection)"),
            None,
        ),
        (Direction::Ingress, Translation::Mapped(ip, p)) => {
            (format!("destination {b} becomes {ip}:{p}"), None)
        }
        (Direction::Ingress, Translation::New(_)) => (String::new(), None),
        (Direction::Egress, Translation::None) => (
            format!("no translation for {b}"),
            Some(format!(
                "NAT gateway {name} has no translation for this TCP segment (not a SYN): it answers with a RST"
            )),
        ),
        (Direction::Ingress, Translation::None) => (
            format!("no translation for {b}"),
            Some(format!(
                "NAT gateway {name} has no translation for {b} from this remote address and port: unsolicited"
            )),
        ),
    };
    (format!("nat-gateway {name}"), text, because)
}

/// Whether a NAT gateway translates this packet at all.
fn supported(ip: &Ipv4Header, f: &Facts) -> Result<(), DropReason> {
    match f.l4 {
        L4::Tcp(_) | L4::Udp | L4::IcmpEcho { .. } | L4::IcmpError { .. } => {}
        L4::IcmpOther { .. } | L4::Other => return Err(DropReason::NatUnsupportedProtocol),
    }
    if ip.is_fragment() && ip.protocol != PROTO_UDP {
        return Err(DropReason::NatFragment);
    }
    Ok(())
}

/// The TCP flags the table needs.
fn tcp_flags_of(f: &Facts) -> TcpFlags {
    match f.l4 {
        L4::Tcp(t) => Some(t.flags),
        _ => None,
    }
}

/// Whether a TCP segment with no translation is answered with a RST: any but a RST
/// (RFC 793: "If the incoming segment has the RST bit set, it is discarded").
pub(crate) fn deserves_reset(tcp: &TcpFacts) -> bool {
    tcp.flags & tcp_flags::RST == 0
}

/// Length of the RST the gateway sends: IPv4 and TCP headers without options.
const RST_LEN: usize = ipv4::MIN_HEADER_LEN + 20;

/// Replaces the TCP segment in `pkt` (whose header is `ip`, facts `f`) with the RST
/// that answers it (RFC 793 "Reset Generation": to a segment with ACK, a RST with its
/// acknowledgement number as sequence number; otherwise a RST+ACK acknowledging it),
/// from the segment's destination to its source.
fn reset(pkt: &mut PacketBuf, ip: &Ipv4Header, f: &Facts, tcp: &TcpFacts, ident: u16) {
    let (seq, ack, flags) = if tcp.flags & tcp_flags::ACK != 0 {
        (tcp.ack, 0, tcp_flags::RST)
    } else {
        let syn_fin = u32::from(tcp.flags & (tcp_flags::SYN | tcp_flags::FIN) != 0);
        let ack = tcp.seq.wrapping_add(tcp.payload_len).wrapping_add(syn_fin);
        (0, ack, tcp_flags::RST | tcp_flags::ACK)
    };
    let buf = pkt.buffer_mut();
    ipv4::write_header(
        buf,
        NewHeader {
            total_len: RST_LEN as u16,
            ident,
            protocol: PROTO_TCP,
            src: ip.dst,
            dst: ip.src,
        },
    );
    let seg = &mut buf[ipv4::MIN_HEADER_LEN..RST_LEN];
    seg.fill(0);
    seg[0..2].copy_from_slice(&f.tuple.dst_port.to_be_bytes());
    seg[2..4].copy_from_slice(&f.tuple.src_port.to_be_bytes());
    seg[4..8].copy_from_slice(&seq.to_be_bytes());
    seg[8..12].copy_from_slice(&ack.to_be_bytes());
    seg[12] = 5 << 4;
    seg[13] = flags;
    let c = checksum::transport(ip.dst, ip.src, PROTO_TCP, seg);
    seg[16..18].copy_from_slice(&c.to_be_bytes());
    pkt.set_len(RST_LEN);
}

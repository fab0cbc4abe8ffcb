//! The VPC's own services as the pipeline sees them: the Amazon DNS resolver (the VPC's
//! base+2 and 169.254.169.253, UDP and TCP port 53), the instance metadata service
//! (169.254.169.254, TCP port 80) and the Amazon Time Sync Service (169.254.169.123,
//! UDP port 123). AWS answers them in the VPC itself: from every network interface,
//! without a route, never filtered by security groups or network ACLs, never in flow
//! logs, not reachable from outside the VPC (a peered VPC, a VPN, the internet).
//!
//! The time service is one datagram and is answered here (`timesync`). DNS and metadata
//! need TCP and real protocol servers: the pipeline hands their packets to one port,
//! [`Port::Services`], whose far end is the daemon's services namespace, where vpcd's
//! resolver and metadata server listen on kernel sockets. VPC CIDRs may overlap, so the
//! asker's address cannot travel as it is: the source becomes a *client address* in
//! 100.64.0.0/10 that names the asking interface's port slot (stable while the
//! interface lives, `ports.rs`) and which address it asked at ([`Asked`]); a question
//! to the VPC's base+2 goes to 169.254.169.253. The answers come back through the
//! services port and are turned around: the client address becomes the interface's
//! own address again (and 169.254.169.253 the base+2 it asked at), and the packet is
//! delivered to the interface directly. The servers find the interface, and so the
//! instance and VPC they answer for, from the client address ([`client`]).
//!
//! Questions are accepted only from the interface's own primary address (an appliance
//! with the source/destination check off may send others: those are dropped as
//! `link-local-service`), and only to the service's protocol and port. A VPC with
//! `enable_dns_support` off has no resolver (`dns-support-disabled`). Each interface
//! may send the resolver 1024 packets per second, AWS's limit; more are dropped
//! (`dns-rate-limited`; counted per second of the pipeline's clock).

use std::net::Ipv4Addr;

use vpc_config::addressing::{DNS_LINK_LOCAL, METADATA, TIME_SYNC};
use vpc_config::{EniId, HostId};

use crate::l4::{PROTO_TCP, PROTO_UDP};
use crate::nat::rewrite::{self, End};
use crate::offload::Shape;
use crate::packet::PacketBuf;
use crate::pipeline::{Mode, Net};
use crate::tables::EniEntry;
use crate::time::Time;
use crate::timesync;
use crate::trace::Step;
use crate::verdict::{DropReason, Port, Reply, Verdict};
use crate::wire::ipv4::Ipv4Header;

/// The DNS port.
pub const DNS_PORT: u16 = 53;
/// The metadata service's port.
pub const METADATA_PORT: u16 = 80;

/// Which address a DNS question was asked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// A link-local service address (169.254.169.253 or 169.254.169.254): the answer
    /// comes from the same address.
    LinkLocal,
    /// The VPC's resolver address (base+2): the answer must come from it.
    Resolver,
}

/// The client address for port slot `slot` asking at `asked`: 100.64.x.y for a
/// link-local address, 100.65.x.y for base+2, with x.y the slot. `None` past 65,535
/// slots (vpcd gives at most [`MAX_SLOT`]).
pub fn client_address(asked: Asked, slot: usize) -> Option<Ipv4Addr> {
    let slot = u16::try_from(slot).ok()?;
    let [hi, lo] = slot.to_be_bytes();
    let second = match asked {
        Asked::LinkLocal => 64,
        Asked::Resolver => 65,
    };
    Some(Ipv4Addr::new(100, second, hi, lo))
}

/// The highest slot a client address can name.
pub const MAX_SLOT: usize = u16::MAX as usize;

/// The port slot and asked-at address a client address names (see [`client_address`]).
pub fn client(addr: Ipv4Addr) -> Option<(Asked, usize)> {
    let [a, b, hi, lo] = addr.octets();
    let asked = match (a, b) {
        (100, 64) => Asked::LinkLocal,
        (100, 65) => Asked::Resolver,
        _ => return None,
    };
    Some((asked, usize::from(u16::from_be_bytes([hi, lo]))))
}

/// Which service a packet from an ENI addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The Amazon DNS resolver.
    Dns,
    /// The instance metadata service.
    Metadata,
}

/// Whether `dst` is one of the VPC's service addresses for ENI `eni` (a cheap test on
/// the packet path: the rest is out of line).
#[inline(always)]
pub(crate) fn addressed(eni: &EniEntry, dst: Ipv4Addr) -> bool {
    dst.is_link_local() || dst == eni.resolver
}

/// The TCP/UDP destination port of a first fragment or whole datagram, if it has one.
fn dst_port(pkt: &PacketBuf, ip: &Ipv4Header) -> Option<u16> {
    if ip.is_fragment() || !matches!(ip.protocol, PROTO_TCP | PROTO_UDP) {
        return None;
    }
    let b = pkt.as_bytes();
    let at = ip.header_len + 2;
    (ip.total_len >= ip.header_len + 8).then(|| u16::from_be_bytes([b[at], b[at + 1]]))
}

/// A packet from ENI `e` to a link-local address or its VPC's resolver: answered (the
/// time service), handed to the services port, or dropped.
#[cold]
#[inline(never)]
pub(crate) fn request(
    net: &Net,
    now: Time,
    (e, eni): (EniId, &EniEntry),
    pkt: &mut PacketBuf,
    ip: &Ipv4Header,
    shape: Shape,
    mode: &mut Mode<'_, '_>,
) -> Result<Verdict, Verdict> {
    let dst = ip.dst;
    if dst == TIME_SYNC {
        let unix_nanos = net.wall_epoch.saturating_add(now.as_nanos());
        timesync::answer(pkt, ip, unix_nanos, mode.ident())?;
        mode.step(Step::TimeSync);
        return Ok(Verdict::Reply {
            to: Port::Eni(e),
            reply: Reply::TimeReply,
        });
    }
    let (service, asked) = match dst {
        METADATA => (Service::Metadata, Asked::LinkLocal),
        DNS_LINK_LOCAL => (Service::Dns, Asked::LinkLocal),
        d if d == eni.resolver => (Service::Dns, Asked::Resolver),
        _ => return Err(DropReason::DstLinkLocal.into()),
    };
    let port = dst_port(pkt, ip);
    let fits = match service {
        Service::Dns => port == Some(DNS_PORT),
        Service::Metadata => ip.protocol == PROTO_TCP && port == Some(METADATA_PORT),
    };
    if !fits || ip.src != eni.ip {
        return Err(DropReason::LinkLocalService.into());
    }
    if service == Service::Dns {
        if !eni.dns {
            return Err(DropReason::DnsSupportDisabled.into());
        }
        if let Some(w) = mode.live_state()
            && !w.dns_allowed(e, now)
        {
            return Err(DropReason::DnsRateLimited.into());
        }
    }
    let slot = net.ports.slot(Port::Eni(e));
    let client = client_address(asked, slot).ok_or(DropReason::LinkLocalService)?;
    mode.step(Step::Service { service });
    let mut header = *ip;
    rewrite::rewrite(
        pkt.as_bytes_mut(),
        &header,
        End::Src,
        client,
        None,
        shape.partial,
    );
    header.src = client;
    if asked == Asked::Resolver {
        let bytes = pkt.as_bytes_mut();
        rewrite::rewrite(
            bytes,
            &header,
            End::Dst,
            DNS_LINK_LOCAL,
            None,
            shape.partial,
        );
    }
    Ok(Verdict::Forward { to: Port::Services })
}

/// A packet from internet host `h` to a link-local address: a DNS question to
/// 169.254.169.253 (UDP or TCP 53) from the host's own address goes to the services
/// port, where the emulated internet's resolver answers it (public names only);
/// anything else is dropped. AWS has no such thing: the internet has resolvers of its
/// own, and this one stands for them (docs/dns.md).
#[cold]
#[inline(never)]
pub(crate) fn host_request(
    net: &Net,
    h: HostId,
    pkt: &mut PacketBuf,
    ip: &Ipv4Header,
    shape: Shape,
    mode: &mut Mode<'_, '_>,
) -> Result<Verdict, Verdict> {
    if ip.dst != DNS_LINK_LOCAL {
        return Err(DropReason::DstLinkLocal.into());
    }
    if dst_port(pkt, ip) != Some(DNS_PORT) || ip.src != net.tables.host_addrs[h.index()] {
        return Err(DropReason::LinkLocalService.into());
    }
    let slot = net.ports.slot(Port::Host(h));
    let client = client_address(Asked::LinkLocal, slot).ok_or(DropReason::LinkLocalService)?;
    mode.step(Step::Service {
        service: Service::Dns,
    });
    rewrite::rewrite(
        pkt.as_bytes_mut(),
        ip,
        End::Src,
        client,
        None,
        shape.partial,
    );
    Ok(Verdict::Forward { to: Port::Services })
}

/// A packet from the services port: an answer to the interface its client address
/// names, turned around, or a drop.
#[cold]
#[inline(never)]
pub(crate) fn answer(
    net: &Net,
    pkt: &mut PacketBuf,
    ip: &Ipv4Header,
    shape: Shape,
    mode: &mut Mode<'_, '_>,
) -> Result<Verdict, Verdict> {
    let no_client = || Verdict::from(DropReason::ServicesNoClient);
    if !matches!(ip.protocol, PROTO_TCP | PROTO_UDP)
        || ![METADATA, DNS_LINK_LOCAL].contains(&ip.src)
    {
        return Err(no_client());
    }
    let (asked, slot) = client(ip.dst).ok_or_else(no_client)?;
    let e = match net.ports.port(slot) {
        Some(Port::Eni(e)) => e,
        Some(Port::Host(h)) if asked == Asked::LinkLocal && ip.src == DNS_LINK_LOCAL => {
            if !mode.state().host_up().up(h.index()) {
                return Err(DropReason::EniDown.into());
            }
            let addr = net.tables.host_addrs[h.index()];
            rewrite::rewrite(pkt.as_bytes_mut(), ip, End::Dst, addr, None, shape.partial);
            return Ok(Verdict::Forward { to: Port::Host(h) });
        }
        _ => return Err(no_client()),
    };
    if !mode.state().link_up().up(e.index()) {
        return Err(DropReason::EniDown.into());
    }
    let eni = net.tables.eni(e);
    let mut header = *ip;
    rewrite::rewrite(
        pkt.as_bytes_mut(),
        &header,
        End::Dst,
        eni.ip,
        None,
        shape.partial,
    );
    header.dst = eni.ip;
    if asked == Asked::Resolver && ip.src == DNS_LINK_LOCAL {
        let bytes = pkt.as_bytes_mut();
        rewrite::rewrite(bytes, &header, End::Src, eni.resolver, None, shape.partial);
    }
    mode.step(Step::Deliver { to: e });
    Ok(Verdict::Forward { to: Port::Eni(e) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_addresses_name_the_slot_and_the_address_asked() {
        assert_eq!(
            client_address(Asked::LinkLocal, 0x0102),
            Some(Ipv4Addr::new(100, 64, 1, 2))
        );
        assert_eq!(
            client_address(Asked::Resolver, 7),
            Some(Ipv4Addr::new(100, 65, 0, 7))
        );
        assert_eq!(client_address(Asked::Resolver, 65_536), None);
        assert_eq!(
            client(Ipv4Addr::new(100, 65, 1, 2)),
            Some((Asked::Resolver, 258))
        );
        assert_eq!(client(Ipv4Addr::new(100, 66, 1, 2)), None);
        assert_eq!(client(Ipv4Addr::new(10, 64, 1, 2)), None);
    }
}

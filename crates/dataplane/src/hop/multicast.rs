//! Transit gateway multicast domains (AWS: Transit Gateway guide, "Multicast on transit
//! gateways"): the only multicast a VPC carries. A datagram an interface sends to a
//! group address (224.0.0.0/4 outside 224.0.0.0/24) from a subnet associated with a
//! domain reaches every member interface of that group in the domain, and nobody else.
//!
//! - **Members and sources** are static (`RegisterTransitGatewayMulticastGroupMembers`,
//!   `...Sources`). A domain with IGMPv2 support takes any interface of its subnets as
//!   a source; without, only a registered source may send to a group
//!   (`multicast-not-source`). A group with no member drops what is sent to it
//!   (`multicast-no-members`); a sender is never sent its own datagram.
//! - **Firewall**: the sender's security groups (egress) and its subnet's network ACL
//!   (outbound) once, then for each member its subnet's network ACL (inbound) and its
//!   security groups (ingress): a member whose rules refuse the datagram does not get
//!   it. Each member's flow log records its own view.
//! - The sender's attachment (the VPC attachment of its subnet's association) must be
//!   available, else the route is a blackhole.
//! - The verdict is [`Verdict::Multicast`]: the group and a bit per member that gets a
//!   copy; the daemon writes one copy per member (vpcd's limit: 64 members a group,
//!   which the configuration enforces).
//!
//! Not modelled (yet): IGMPv2 joins and leaves (members are only the registered ones),
//! multicast across transit gateway peering (AWS has none either).

use std::net::Ipv4Addr;

use rustc_hash::FxHashMap;
use vpc_config::{AttachmentStatus, EniId, MulticastDomainId, SubnetId, TgwAttachmentId, Topology};

use super::{Gateway, GatewayStep, InFlight, Place};
use crate::pipeline::{Mode, Net};
use crate::verdict::{DropReason, Verdict};

/// The most members a group may have (one bit each in [`Verdict::Multicast`]; the
/// configuration refuses more).
const MAX_MEMBERS: usize = vpc_config::MAX_GROUP_MEMBERS;

/// A multicast group of a domain, as the dataplane numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId(pub u32);

/// A compiled group.
#[derive(Debug, Clone)]
struct Group {
    /// Its member interfaces, at most [`MAX_MEMBERS`].
    members: Vec<EniId>,
    /// Its registered sources.
    sources: Vec<EniId>,
}

/// The multicast domains compiled for the packet path.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compiled {
    groups: Vec<Group>,
    by_key: FxHashMap<(MulticastDomainId, Ipv4Addr), GroupId>,
    /// Per subnet: its domain and the attachment that associates it.
    subnet_domain: Vec<Option<(MulticastDomainId, TgwAttachmentId)>>,
}

impl Compiled {
    pub(crate) fn compile(t: &Topology) -> Compiled {
        let mut c = Compiled {
            subnet_domain: vec![None; t.subnets.len()],
            ..Compiled::default()
        };
        for (d, domain) in t.multicast_domains.iter().enumerate() {
            let d = MulticastDomainId(d as u32);
            for &(att, subnet) in &domain.associations {
                c.subnet_domain[subnet.index()] = Some((d, att));
            }
            let group = |c: &mut Compiled, address: Ipv4Addr| -> usize {
                let id = *c.by_key.entry((d, address)).or_insert_with(|| {
                    c.groups.push(Group {
                        members: Vec::new(),
                        sources: Vec::new(),
                    });
                    GroupId(c.groups.len() as u32 - 1)
                });
                id.0 as usize
            };
            for &(address, eni) in &domain.members {
                let g = group(&mut c, address);
                let members = &mut c.groups[g].members;
                if members.len() < MAX_MEMBERS && !members.contains(&eni) {
                    members.push(eni);
                }
            }
            for &(address, eni) in &domain.sources {
                let g = group(&mut c, address);
                c.groups[g].sources.push(eni);
            }
        }
        c
    }

    /// The members of group `g`.
    pub(crate) fn members(&self, g: GroupId) -> &[EniId] {
        self.groups.get(g.0 as usize).map_or(&[], |g| &g.members)
    }

    /// The domain subnet `s` is associated with, if any.
    pub(crate) fn domain_of(&self, s: SubnetId) -> Option<MulticastDomainId> {
        self.subnet_domain[s.index()].map(|(d, _)| d)
    }
}

/// A multicast domain's decision, for `vpcctl trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The domain.
    pub domain: MulticastDomainId,
    /// The group address.
    pub group: Ipv4Addr,
    /// How many members there are, and how many get a copy.
    pub delivered: (u32, u32),
}

/// A datagram `sender` sends to group address `p.ip.dst` from a subnet associated with
/// `domain`.
pub(crate) fn send(
    net: &Net,
    mode: &mut Mode<'_>,
    (sender, subnet): (EniId, SubnetId),
    p: &mut InFlight<'_>,
) -> Result<Verdict, Verdict> {
    let c = &net.fabric.multicast;
    let t = &net.topology;
    let Some((domain, att)) = c.subnet_domain[subnet.index()] else {
        return Err(DropReason::DstMulticast.into());
    };
    let dst = p.ip.dst;
    if !vpc_config::is_multicast_group(dst) {
        return Err(DropReason::DstMulticast.into());
    }
    let Some(&g) = c.by_key.get(&(domain, dst)) else {
        return Err(DropReason::MulticastNoMembers.into());
    };
    let group = &c.groups[g.0 as usize];
    if !t.multicast_domain(domain).igmpv2 && !group.sources.contains(&sender) {
        return Err(DropReason::MulticastNotSource.into());
    }
    let a = t.tgw_attachment(att);
    if a.status != AttachmentStatus::Available {
        return Err(DropReason::RouteBlackhole.into());
    }
    let tgw = Place::Gateway(Gateway::Tgw {
        tgw: a.transit_gateway,
        from: att,
        az: None,
    });
    net.firewall(p.now, Place::Eni(sender), tgw, &p.f, mode)?;
    let mut bits = 0u64;
    let mut last = DropReason::MulticastNoMembers;
    let link_up = |mode: &Mode<'_>, e: EniId| mode.state().link_up[e.index()];
    for (i, &m) in group.members.iter().enumerate() {
        if m == sender {
            continue;
        }
        if !link_up(mode, m) {
            last = DropReason::EniDown;
            continue;
        }
        match net.firewall(p.now, tgw, Place::Eni(m), &p.f, mode) {
            Ok(()) => bits |= 1 << i,
            Err(r) => last = r,
        }
    }
    let total = group.members.iter().filter(|&&m| m != sender).count() as u32;
    mode.step(
        GatewayStep::Multicast(Step {
            domain,
            group: dst,
            delivered: (total, bits.count_ones()),
        })
        .into(),
    );
    if bits == 0 {
        return Err(last.into());
    }
    Ok(Verdict::Multicast {
        group: g,
        members: bits,
    })
}

/// Its trace step in words.
pub(crate) fn describe(t: &Topology, s: &Step) -> (String, String, Option<String>) {
    let d = t.multicast_domain(s.domain);
    let (total, got) = s.delivered;
    let text = format!(
        "group {}: {got} of {total} members get a copy (domain {} of transit gateway {})",
        s.group,
        d.name,
        t.transit_gateway(d.transit_gateway).name
    );
    (format!("multicast {}", d.name), text, None)
}

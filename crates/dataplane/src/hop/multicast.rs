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
//!   copy; the daemon writes one copy per member (vpcd's limit: 32 members a group,
//!   which the configuration enforces).
//!
//! - **IGMP**: in a domain with IGMPv2 support, an interface's membership reports and
//!   leaves (IGMP versions 1 to 3: Linux sends version 3) add it to and remove it from
//!   groups, besides the registered members (a leave never removes a registration).
//!   vpcd sends no queries, so a joined member stays until it leaves, its interface is
//!   gone, or its subnet leaves the domain; joins survive configuration changes
//!   otherwise. At most 4,096 groups at once.
//!
//! Not modelled: multicast across transit gateway peering (AWS has none either).

use std::net::Ipv4Addr;

use rustc_hash::FxHashMap;
use vpc_config::{AttachmentStatus, EniId, MulticastDomainId, SubnetId, TgwAttachmentId, Topology};

use super::{Gateway, GatewayStep, InFlight, Place};
use crate::pipeline::{Mode, Net};
use crate::verdict::{DropReason, Verdict};
use crate::wire::igmp::{Change, Membership};
use crate::wire::ipv4::Ipv4Header;

/// The most members a group may have (one bit each in [`Verdict::Multicast`]; the
/// configuration refuses more, and joins beyond it are ignored).
const MAX_MEMBERS: usize = vpc_config::MAX_GROUP_MEMBERS;

/// The most groups the domains may have at once, registered and joined: joins of more
/// are ignored (so IGMP cannot make the table grow without bound).
const MAX_GROUPS: usize = 4096;

/// A multicast group of a domain, as the dataplane numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId(pub u32);

/// A group and its members.
#[derive(Debug, Clone)]
struct Group {
    domain: MulticastDomainId,
    address: Ipv4Addr,
    /// Its member interfaces: the registered ones first, then those that joined with
    /// IGMP; at most [`MAX_MEMBERS`].
    members: Vec<EniId>,
    /// How many of `members` are registered.
    registered: usize,
    /// Its registered sources.
    sources: Vec<EniId>,
}

/// The multicast domains compiled for the packet path: which domain each subnet is in.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compiled {
    /// Per subnet: its domain and the attachment that associates it.
    subnet_domain: Vec<Option<(MulticastDomainId, TgwAttachmentId)>>,
}

impl Compiled {
    pub(crate) fn compile(t: &Topology) -> Compiled {
        let mut subnet_domain = vec![None; t.subnets.len()];
        for (d, domain) in t.multicast_domains.iter().enumerate() {
            for &(att, subnet) in &domain.associations {
                subnet_domain[subnet.index()] = Some((MulticastDomainId(d as u32), att));
            }
        }
        Compiled { subnet_domain }
    }

    /// The domain subnet `s` is associated with, if any.
    pub(crate) fn domain_of(&self, s: SubnetId) -> Option<MulticastDomainId> {
        self.subnet_domain[s.index()].map(|(d, _)| d)
    }
}

/// The groups and their members: state, since IGMP joins and leaves change it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Groups {
    groups: Vec<Group>,
    by_key: FxHashMap<(MulticastDomainId, Ipv4Addr), GroupId>,
}

impl Groups {
    /// The registered groups of `t`.
    pub(crate) fn compile(t: &Topology) -> Groups {
        let mut g = Groups::default();
        for (d, domain) in t.multicast_domains.iter().enumerate() {
            let d = MulticastDomainId(d as u32);
            for &(address, eni) in &domain.members {
                if let Some(k) = g.group(d, address) {
                    let group = &mut g.groups[k];
                    if group.members.len() < MAX_MEMBERS && !group.members.contains(&eni) {
                        group.members.push(eni);
                        group.registered += 1;
                    }
                }
            }
            for &(address, eni) in &domain.sources {
                if let Some(k) = g.group(d, address) {
                    g.groups[k].sources.push(eni);
                }
            }
        }
        g
    }

    /// The groups of `new`: its registrations, and the members that joined with IGMP
    /// under `old` and still may (the domain of the same name has IGMPv2 support and
    /// their subnet); `moved` gives an ENI of `old` its index in `new` (`None`: gone).
    pub(crate) fn apply(
        &self,
        old: &Topology,
        new: &Topology,
        moved: impl Fn(EniId) -> Option<EniId>,
    ) -> Groups {
        let mut g = Groups::compile(new);
        for group in &self.groups {
            let name = &old.multicast_domain(group.domain).name;
            let Some(d) = new.multicast_domains.iter().position(|d| &d.name == name) else {
                continue;
            };
            let domain = &new.multicast_domains[d];
            for eni in group.members[group.registered..]
                .iter()
                .filter_map(|&e| moved(e))
            {
                let subnet = new.enis.get(eni.index()).map(|e| e.subnet);
                if domain.igmpv2 && domain.associations.iter().any(|&(_, s)| Some(s) == subnet) {
                    g.join(MulticastDomainId(d as u32), group.address, eni);
                }
            }
        }
        g
    }

    /// The index of group `address` of `domain`, made if new (`None` past
    /// [`MAX_GROUPS`]).
    fn group(&mut self, domain: MulticastDomainId, address: Ipv4Addr) -> Option<usize> {
        if let Some(id) = self.by_key.get(&(domain, address)) {
            return Some(id.0 as usize);
        }
        if self.groups.len() >= MAX_GROUPS {
            return None;
        }
        self.groups.push(Group {
            domain,
            address,
            members: Vec::new(),
            registered: 0,
            sources: Vec::new(),
        });
        let id = GroupId(self.groups.len() as u32 - 1);
        self.by_key.insert((domain, address), id);
        Some(id.0 as usize)
    }

    /// `eni` joins group `address` of `domain` (an IGMP report).
    fn join(&mut self, domain: MulticastDomainId, address: Ipv4Addr, eni: EniId) {
        if let Some(k) = self.group(domain, address) {
            let members = &mut self.groups[k].members;
            if members.len() < MAX_MEMBERS && !members.contains(&eni) {
                members.push(eni);
            }
        }
    }

    /// `eni` leaves group `address` of `domain` (an IGMP leave); a registered member
    /// stays.
    fn leave(&mut self, domain: MulticastDomainId, address: Ipv4Addr, eni: EniId) {
        if let Some(&id) = self.by_key.get(&(domain, address)) {
            let g = &mut self.groups[id.0 as usize];
            if let Some(i) = g.members[g.registered..].iter().position(|&m| m == eni) {
                g.members.remove(g.registered + i);
            }
        }
    }

    /// The members of group `g`.
    pub(crate) fn members(&self, g: GroupId) -> &[EniId] {
        self.groups.get(g.0 as usize).map_or(&[], |g| &g.members)
    }

    /// Every group: (domain, address, members, how many registered).
    pub(crate) fn all(
        &self,
    ) -> impl Iterator<Item = (MulticastDomainId, Ipv4Addr, &[EniId], usize)> {
        self.groups
            .iter()
            .map(|g| (g.domain, g.address, g.members.as_slice(), g.registered))
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
    mode: &mut Mode<'_, '_>,
    (sender, subnet): (EniId, SubnetId),
    p: &mut InFlight<'_>,
) -> Result<Verdict, Verdict> {
    let t = &net.topology;
    let Some((domain, att)) = net.fabric.multicast.subnet_domain[subnet.index()] else {
        return Err(DropReason::DstMulticast.into());
    };
    let dst = p.ip.dst;
    if !vpc_config::is_multicast_group(dst) {
        return Err(DropReason::DstMulticast.into());
    }
    let groups = mode.state().multicast();
    let Some(&g) = groups.by_key.get(&(domain, dst)) else {
        return Err(DropReason::MulticastNoMembers.into());
    };
    // The members, copied out of the groups (unlocked before the firewall below): at
    // most 32, on the stack.
    let group = &groups.groups[g.0 as usize];
    let mut members = [EniId(0); MAX_MEMBERS];
    let n = group.members.len();
    members[..n].copy_from_slice(&group.members);
    let members = &members[..n];
    if !t.multicast_domain(domain).igmpv2 && !group.sources.contains(&sender) {
        return Err(DropReason::MulticastNotSource.into());
    }
    drop(groups);
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
    let mut bits = 0u32;
    let mut last = DropReason::MulticastNoMembers;
    let link_up = |mode: &Mode<'_, '_>, e: EniId| mode.state().link_up().up(e.index());
    for (i, &m) in members.iter().enumerate() {
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
    let total = members.iter().filter(|&&m| m != sender).count() as u32;
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

/// An IGMP message `sender` sends from a subnet associated with a domain: with IGMPv2
/// support, its reports and leaves change the groups' members (a trace only says what
/// it would change); the message itself goes no further (`igmp`). Without, it is local
/// network control like any other (`dst-multicast`).
pub(crate) fn igmp(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    (sender, subnet): (EniId, SubnetId),
    pkt: &[u8],
    ip: &Ipv4Header,
) -> Verdict {
    let Some((domain, _)) = net.fabric.multicast.subnet_domain[subnet.index()] else {
        return DropReason::DstMulticast.into();
    };
    if !net.topology.multicast_domain(domain).igmpv2 {
        return DropReason::DstMulticast.into();
    }
    let payload = pkt.get(ip.header_len..ip.total_len).unwrap_or(&[]);
    let Some(message) = Membership::new_checked(payload) else {
        return DropReason::Igmp.into();
    };
    for (group, change) in message.changes() {
        if !vpc_config::is_multicast_group(group) {
            continue;
        }
        mode.step(
            GatewayStep::Igmp(IgmpStep {
                domain,
                group,
                join: change == Change::Join,
            })
            .into(),
        );
        if let Some(s) = mode.live_state() {
            let mut groups = s.multicast();
            match change {
                Change::Join => groups.join(domain, group, sender),
                Change::Leave => groups.leave(domain, group, sender),
            }
        }
    }
    DropReason::Igmp.into()
}

/// An IGMP membership change, for `vpcctl trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IgmpStep {
    /// The domain.
    pub domain: MulticastDomainId,
    /// The group.
    pub group: Ipv4Addr,
    /// Joins (else leaves).
    pub join: bool,
}

/// An IGMP step in words.
pub(crate) fn describe_igmp(t: &Topology, s: &IgmpStep) -> (String, String, Option<String>) {
    let d = t.multicast_domain(s.domain);
    let what = if s.join { "joins" } else { "leaves" };
    (
        format!("multicast {}", d.name),
        format!("IGMP: the sender {what} group {}", s.group),
        None,
    )
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

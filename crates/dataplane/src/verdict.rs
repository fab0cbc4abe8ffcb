//! What the pipeline decided for a packet, as data: forward it to a port (an ENI or a
//! host of the emulated internet), send a reply in its place (from the VPC router, the
//! internet router or a NAT gateway), or drop it for a named reason.
//!
//! Every drop reason has a stable kebab-case name; it is the name of its counter, and
//! the name `vpcctl counters` and the documentation use.

use vpc_config::{EniId, HostId};

/// Where packets enter and leave the dataplane: a device the daemon owns (a TUN device,
/// or a veth it reads and writes through AF_XDP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Port {
    /// An ENI of an instance.
    Eni(EniId),
    /// A host of the emulated internet.
    Host(HostId),
    /// The VPCs' own services (DNS resolver, instance metadata): one port for every
    /// VPC, whose far end is the daemon's services namespace (`services.rs`).
    Services,
}

impl From<EniId> for Port {
    fn from(e: EniId) -> Self {
        Port::Eni(e)
    }
}

impl From<HostId> for Port {
    fn from(h: HostId) -> Self {
        Port::Host(h)
    }
}

/// The pipeline's decision for one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Write the (possibly rewritten) packet to port `to`.
    Forward {
        /// The egress port.
        to: Port,
    },
    /// The buffer now holds a reply (an echo reply, an ICMP error, a NAT gateway's TCP
    /// RST) in place of the original; write it to port `to`.
    Reply {
        /// The port to send the reply to (the one the packet came from).
        to: Port,
        /// What the reply is.
        reply: Reply,
    },
    /// Write the packet to every member of multicast group `group` whose bit is set
    /// in `members` (bit `i`: the group's `i`-th member, see
    /// [`crate::Dataplane::multicast_members`]).
    Multicast {
        /// The group.
        group: crate::hop::multicast::GroupId,
        /// Which members get a copy.
        members: u32,
    },
    /// Discard the packet.
    Drop(DropReason),
}

// A verdict, and the stages' `Result<Verdict, Verdict>`, travel in registers (at most
// 16 bytes): a larger one goes through memory at every stage boundary, which cost the
// warm path a quarter of its speed when `Multicast` once carried a 64-bit member mask.
const _: () = assert!(std::mem::size_of::<Result<Verdict, Verdict>>() <= 16);

impl From<DropReason> for Verdict {
    fn from(reason: DropReason) -> Self {
        Verdict::Drop(reason)
    }
}

/// A packet the VPC router sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// An ICMP echo reply from a subnet router address.
    EchoReply,
    /// An NTP reply from the Amazon Time Sync Service (169.254.169.123).
    TimeReply,
    /// An ICMP error reporting that the original packet was dropped for `cause`.
    IcmpError {
        /// Why the original packet was dropped (counted under this reason).
        cause: DropReason,
    },
    /// A TCP RST from a NAT gateway for a connection it has no translation for (its
    /// idle timeout expired); the original packet is counted under `cause`.
    TcpReset {
        /// Why the original packet was dropped.
        cause: DropReason,
    },
}

macro_rules! drop_reasons {
    ($( #[doc = $doc:literal] $variant:ident = $name:literal, )*) => {
        /// Why a packet was dropped.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DropReason {
            $( #[doc = $doc] $variant, )*
        }

        impl DropReason {
            /// Every reason, in counter order.
            pub const ALL: &'static [DropReason] = &[$(DropReason::$variant),*];
            /// How many reasons there are.
            pub const COUNT: usize = Self::ALL.len();

            /// The stable counter name, e.g. `bad-checksum`.
            pub fn name(self) -> &'static str {
                match self { $(DropReason::$variant => $name,)* }
            }

            /// A one-line description.
            pub fn description(self) -> &'static str {
                match self { $(DropReason::$variant => $doc.trim_start(),)* }
            }

            /// The reason with counter name `name`.
            pub fn from_name(name: &str) -> Option<DropReason> {
                Self::ALL.iter().copied().find(|r| r.name() == name)
            }

            /// The index of this reason's counter.
            pub fn index(self) -> usize {
                self as usize
            }
        }
    };
}

drop_reasons! {
    /// A frame shorter than an Ethernet header (AF_XDP ports).
    FrameTruncated = "frame-truncated",
    /// A frame that is neither IPv4, IPv6 nor ARP (AF_XDP ports).
    FrameNotIp = "frame-not-ip",
    /// An ARP message vpcd does not answer: a reply, a probe, an announcement, or not Ethernet/IPv4 (AF_XDP ports).
    ArpIgnored = "arp-ignored",
    /// Fewer bytes than an IPv4 header, or than the header's total length (RFC 1812 5.2.2).
    Truncated = "truncated",
    /// The IP version is neither 4 nor 6.
    BadVersion = "bad-version",
    /// An IPv6 packet; IPv6 is not enabled in this VPC.
    Ipv6NotEnabled = "ipv6-not-enabled",
    /// IHL below 5, or a header longer than the packet.
    BadHeaderLength = "bad-header-length",
    /// Total length smaller than the header.
    BadTotalLength = "bad-total-length",
    /// The IPv4 header checksum does not verify.
    BadChecksum = "bad-checksum",
    /// A loose or strict source route option (RFC 7126).
    SourceRoute = "source-route",
    /// An IPv4 option with a malformed length.
    BadOptions = "bad-options",
    /// A source in 0/8, 127/8, 224/4 or 240/4, or the limited broadcast address.
    MartianSource = "martian-source",
    /// Source/destination check: the source is not the sending ENI's address.
    SpoofedSource = "spoofed-source",
    /// A destination in 0/8, 127/8 or 240/4.
    MartianDestination = "martian-destination",
    /// A subnet's network or broadcast address, or 255.255.255.255 (a VPC has no broadcast).
    DstBroadcast = "dst-broadcast",
    /// A multicast destination (no multicast domain).
    DstMulticast = "dst-multicast",
    /// A subnet's reserved base+2 or base+3 address.
    DstReserved = "dst-reserved",
    /// To one of the VPC's own services but not in its protocol and port (DNS at 169.254.169.253 or the VPC's base+2: UDP or TCP 53; instance metadata at 169.254.169.254: TCP 80; time at 169.254.169.123: UDP 123), or not from the interface's own address; never filtered or logged.
    LinkLocalService = "link-local-service",
    /// To the Amazon DNS resolver of a VPC whose `enable_dns_support` is off: AWS's resolver does not answer there.
    DnsSupportDisabled = "dns-support-disabled",
    /// To the Amazon DNS resolver over AWS's limit of 1024 packets per second per network interface.
    DnsRateLimited = "dns-rate-limited",
    /// From the services port (vpcd's DNS and metadata servers) but not a TCP or UDP answer from a service address to an interface that still exists: its instance was removed while it asked.
    ServicesNoClient = "services-no-client",
    /// An NTP request to the time service (169.254.169.123) shorter than NTP's 48-byte header, with a bad UDP length, or not in client mode.
    TimeRequestMalformed = "time-request-malformed",
    /// Any other link-local destination (169.254.0.0/16): never forwarded (RFC 3927).
    DstLinkLocal = "dst-link-local",
    /// To a subnet router address, but not an ICMP echo request it can answer.
    RouterUnsupported = "router-unsupported",
    /// An ICMP echo request to the router that is too short or fails its checksum.
    BadIcmp = "bad-icmp",
    /// No route in the subnet's route table matches the destination.
    NoRoute = "no-route",
    /// The matching route's target is gone (state blackhole).
    RouteBlackhole = "route-blackhole",
    /// A local destination that no ENI of the VPC has.
    NoSuchHost = "no-such-host",
    /// Source/destination check: routed to an ENI that is not the destination.
    DstCheck = "dst-check",
    /// The egress ENI is down (its device or namespace is gone).
    EniDown = "eni-down",
    /// Routed back to the ENI it came from (a route to an appliance, used by the appliance).
    RouteLoop = "route-loop",
    /// TTL 0: a router never forwards it (RFC 1812 4.2.2.9); ICMP time exceeded is sent.
    TtlExpired = "ttl-expired",
    /// A non-first fragment whose first fragment was not forwarded (dropped, or not yet seen: fragments are not held).
    Fragment = "fragment",
    /// A fragment reaching past byte 65,535 of its datagram (RFC 791).
    FragmentOverflow = "fragment-overflow",
    /// Offload metadata (virtio-net header) that does not fit the packet: a partial checksum not at the TCP/UDP checksum field, segmentation of a packet that is not TCP/UDP or of a fragment, a segment size of 0.
    BadOffload = "bad-offload",
    /// The TCP, UDP or ICMP header is cut short (or a first fragment too short to hold the ports).
    L4Truncated = "l4-truncated",
    /// TCP data offset below 5 or past the end of the packet.
    TcpBadHeader = "tcp-bad-header",
    /// The TCP checksum does not verify.
    TcpBadChecksum = "tcp-bad-checksum",
    /// An invalid TCP flag combination: none, SYN+FIN, SYN+RST, FIN without ACK, or Xmas.
    TcpBadFlags = "tcp-bad-flags",
    /// A RST or SYN+ACK of no tracked TCP connection: it can neither start one nor be picked up mid-stream.
    TcpNoFlow = "tcp-no-flow",
    /// Outside the tracked connection's sequence window, or a RST not at the exact sequence (RFC 5961); the connection stays as it was.
    TcpOutOfWindow = "tcp-out-of-window",
    /// The UDP length field is below 8 or does not match the IP payload.
    UdpBadLength = "udp-bad-length",
    /// An ICMP error whose quoted packet is too short or has a bad header checksum.
    IcmpErrorBadInner = "icmp-error-bad-inner",
    /// An ICMP error about an ICMP error (RFC 1122 3.2.2).
    IcmpErrorAboutError = "icmp-error-about-error",
    /// An ICMP error quoting no tracked flow of the ENI.
    IcmpErrorNoFlow = "icmp-error-no-flow",
    /// An echo reply to no tracked echo request.
    IcmpUnsolicitedReply = "icmp-unsolicited-reply",
    /// No egress rule of the sending ENI's security groups allows it.
    SgEgress = "sg-egress",
    /// The source subnet's network ACL denies it outbound.
    NaclOutbound = "nacl-outbound",
    /// The destination subnet's network ACL denies it inbound.
    NaclInbound = "nacl-inbound",
    /// No ingress rule of the receiving ENI's security groups allows it.
    SgIngress = "sg-ingress",
    /// A new flow the ENI's full connection table has no room for; tracked flows are kept (AWS: conntrack_allowance_exceeded).
    ConntrackFull = "conntrack-full",
    /// Routed to the internet gateway from an address with no public IP or Elastic IP.
    IgwNoPublicIp = "igw-no-public-ip",
    /// Larger than the MTU of a gateway it crosses (internet gateway 1500, VPC peering 9001 or 1500 across regions, transit gateway 8500) with DF set; ICMP fragmentation needed is sent (RFC 1191).
    TooBig = "too-big",
    /// From the internet to an address no host and no attached internet gateway has (every private address).
    InternetNoRoute = "internet-no-route",
    /// To a NAT gateway in a protocol other than TCP, UDP and ICMP echo (or their ICMP errors).
    NatUnsupportedProtocol = "nat-unsupported-protocol",
    /// A TCP or ICMP fragment to a NAT gateway (only UDP fragments are translated).
    NatFragment = "nat-fragment",
    /// No free source port for a new connection through a NAT gateway (AWS: ErrorPortAllocation).
    NatPortAllocation = "nat-port-allocation",
    /// To a NAT gateway's address with no translation for it: unsolicited, or from another remote address or port than the mapping's.
    NatUnsolicited = "nat-unsolicited",
    /// A non-SYN TCP segment from inside with no translation (its idle timeout passed); the NAT gateway answers with a RST.
    NatNoMapping = "nat-no-mapping",
    /// A new connection through a NAT gateway whose translation table is full.
    NatTableFull = "nat-table-full",
    /// A private NAT gateway's traffic routed to an internet gateway.
    NatPrivateToIgw = "nat-private-to-igw",
    /// Over a VPC peering connection to an address outside the peer VPC but in another VPC: peering is not transitive.
    PeeringTransitive = "peering-transitive",
    /// Over a VPC peering connection to an address outside every VPC, or from an address outside the sending VPC: no edge-to-edge routing.
    PeeringEdgeToEdge = "peering-edge-to-edge",
    /// To a gateway VPC endpoint from outside its VPC (over a peering connection, a transit gateway, or from an address that is not the VPC's): no edge-to-edge routing.
    EndpointEdgeToEdge = "endpoint-edge-to-edge",
    /// From an emulated AWS service to a private address with no flow a gateway endpoint learned on the way out.
    EndpointNoFlow = "endpoint-no-flow",
    /// Out of a gateway endpoint with the 5-tuple of a live flow of another endpoint (overlapping VPC blocks): its answers could not be told apart.
    EndpointFlowConflict = "endpoint-flow-conflict",
    /// Out of a gateway endpoint when the endpoints' flow table is full.
    EndpointTableFull = "endpoint-table-full",
    /// Into a virtual private gateway that has no VPN connection with a tunnel up (AWS drops it).
    VpnNoConnection = "vpn-no-connection",
    /// Out of a VPN tunnel to an address that is no interface of the VPC the virtual private gateway is attached to (or the gateway is detached).
    VpnNoDestination = "vpn-no-destination",
    /// Routed to a transit gateway from an availability zone where the VPC's attachment has no subnet: such a zone cannot reach the gateway.
    TgwZoneNotAttached = "tgw-zone-not-attached",
    /// Into a transit gateway through an attachment associated with none of its route tables.
    TgwNoAssociation = "tgw-no-association",
    /// No route in the transit gateway route table of the attachment it came in through.
    TgwNoRoute = "tgw-no-route",
    /// A transit gateway blackhole route, or a route to an attachment that is not available.
    TgwBlackhole = "tgw-blackhole",
    /// Larger than a transit gateway's MTU (8500) without DF (with DF: ICMP fragmentation needed, `too-big`).
    TgwMtuExceeded = "tgw-mtu-exceeded",
    /// An IGMP message to a multicast domain with IGMPv2 support: read (a membership report or leave) and carried no further.
    Igmp = "igmp",
    /// To a multicast group of the sender's domain that has no member that may receive it (or no member at all).
    MulticastNoMembers = "multicast-no-members",
    /// To a multicast group from an interface that is not a registered source, in a domain without IGMPv2 support.
    MulticastNotSource = "multicast-not-source",
    /// Passed more gateways than any real path does (a routing loop between gateways).
    HopLimit = "hop-limit",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_round_trip() {
        let mut names: Vec<&str> = DropReason::ALL.iter().map(|r| r.name()).collect();
        for n in &names {
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
                "{n}"
            );
            assert_eq!(DropReason::from_name(n).map(|r| r.name()), Some(*n));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DropReason::COUNT);
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert!(!r.description().is_empty());
        }
    }

    #[test]
    fn docs_counters_md_lists_every_reason() {
        let doc = include_str!("../../../docs/counters.md");
        for r in DropReason::ALL {
            assert!(
                doc.contains(&format!("| `{}` |", r.name())),
                "docs/counters.md lacks {}",
                r.name()
            );
        }
    }
}

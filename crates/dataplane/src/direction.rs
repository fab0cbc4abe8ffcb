//! The one `Direction` of the dataplane: which way a packet crosses a place's boundary.
//! For an interface (an ENI, a NAT gateway's or a transit gateway attachment's) it is
//! AWS's flow-log `flow-direction`: `ingress` into it, `egress` out of it. A security
//! group's and a network ACL's rules are inbound (`Ingress`) or outbound (`Egress`). A
//! gateway is entered from the inside of its VPC (`Egress`: towards the outside, a NAT
//! gateway translating the source) or from the outside (`Ingress`: a reply to a NAT
//! gateway's address, a packet from the internet or from a peer).
//!
//! (A connection table's orientation of a packet, original or reply, is relative to
//! its flow's first packet, not to a boundary: `conntrack::Dir`.)

/// Which way a packet crosses a boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Into the interface (or the VPC, or from outside a gateway).
    Ingress,
    /// Out of the interface (or the VPC, or from inside a gateway).
    Egress,
}

impl Direction {
    /// AWS's name (the `flow-direction` field): `ingress` or `egress`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

//! Stage 7, `ttl`: the VPC router is not a hop. AWS's VPC router does not show up in a
//! traceroute inside a VPC, so forwarding between ENIs of a VPC leaves the TTL alone
//! (documented in docs/architecture.md). A router never forwards a packet whose TTL is
//! already 0 (RFC 1812 4.2.2.9): it is dropped with an ICMP time exceeded.
//! Gateways that are hops (NAT gateways, the internet router) decrement in later stages.

use crate::verdict::DropReason;
use crate::wire::ipv4::Ipv4Header;

pub(crate) fn check(ip: &Ipv4Header) -> Result<(), DropReason> {
    if ip.ttl == 0 {
        return Err(DropReason::TtlExpired);
    }
    Ok(())
}

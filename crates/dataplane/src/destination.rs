//! Stage 3, `destination`: what the destination address is, before any route is looked
//! up. A VPC has no broadcast and no multicast (outside transit gateway multicast
//! domains), so broadcast, multicast and martian destinations and a subnet's network,
//! broadcast, base+2 and base+3 addresses are dropped. The subnet router addresses
//! (base+1) go to the `router` stage; an ENI's address is remembered for the `deliver`
//! stage.
//!
//! Link-local destinations (169.254.0.0/16) are never forwarded (RFC 3927 section 7, and
//! AWS refuses routes into 169.254.168.0/22): the VPC's own services there, instance
//! metadata 169.254.169.254, time 169.254.169.123 and DNS 169.254.169.253, are
//! answered by the VPC itself in AWS, never filtered by security groups or network
//! ACLs and never in flow logs; until vpcd answers them they are dropped here, before
//! those stages, as `link-local-service`. Any other link-local destination is
//! `dst-link-local`.

use std::net::Ipv4Addr;

use vpc_config::addressing::{self, Reserved};
use vpc_config::{EniId, NatGatewayId, VpcId};

use crate::tables::{AddrClass, Tables};
use crate::verdict::DropReason;
use crate::wire::ipv4;

/// What the destination is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dst {
    /// A subnet router address of the sender's VPC.
    Router,
    /// The private address of an ENI in the sender's VPC.
    Host(EniId),
    /// A private address of a NAT gateway in the sender's VPC.
    Nat(NatGatewayId),
    /// Anything else: up to the route table.
    Other,
}

/// The checks that need no VPC, for a packet from the internet: broadcast, multicast
/// and martian destinations.
pub(crate) fn check_public(dst: Ipv4Addr) -> Result<(), DropReason> {
    if dst.is_broadcast() {
        return Err(DropReason::DstBroadcast);
    }
    if dst.is_multicast() {
        return Err(DropReason::DstMulticast);
    }
    if ipv4::is_martian_destination(dst) {
        return Err(DropReason::MartianDestination);
    }
    Ok(())
}

#[inline]
pub(crate) fn classify(tables: &Tables, vpc: VpcId, dst: Ipv4Addr) -> Result<Dst, DropReason> {
    check_public(dst)?;
    if dst.is_link_local() {
        return Err(
            if [
                addressing::METADATA,
                addressing::TIME_SYNC,
                addressing::DNS_LINK_LOCAL,
            ]
            .contains(&dst)
            {
                DropReason::LinkLocalService
            } else {
                DropReason::DstLinkLocal
            },
        );
    }
    match tables.classify(vpc, dst) {
        None => Ok(Dst::Other),
        Some(AddrClass::Eni(e)) => Ok(Dst::Host(e)),
        Some(AddrClass::Nat(n)) => Ok(Dst::Nat(n)),
        Some(AddrClass::Reserved(Reserved::Router)) => Ok(Dst::Router),
        Some(AddrClass::Reserved(Reserved::Network | Reserved::Broadcast)) => {
            Err(DropReason::DstBroadcast)
        }
        Some(AddrClass::Reserved(Reserved::Dns | Reserved::Future)) => Err(DropReason::DstReserved),
    }
}

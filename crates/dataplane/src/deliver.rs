//! Stage 6, `deliver`: the route's target becomes the egress ENI. A `local` route
//! delivers to the ENI that owns the destination address; an ENI target (middlebox
//! routing) sends to that ENI, which must have its source/destination check off unless
//! it is the destination itself. A route to an ENI that is gone is a blackhole.

use vpc_config::{EniId, RouteTarget};

use crate::destination::Dst;
use crate::route::Route;
use crate::tables::Tables;
use crate::verdict::DropReason;
use crate::wire::ipv4::Ipv4Header;

pub(crate) fn next_hop(
    tables: &Tables,
    link_up: &[bool],
    from: EniId,
    route: &Route,
    dst: Dst,
    ip: &Ipv4Header,
) -> Result<EniId, DropReason> {
    let to = match route.target {
        RouteTarget::Local => match dst {
            Dst::Host(eni) if link_up[eni.index()] => eni,
            Dst::Host(_) => return Err(DropReason::EniDown),
            Dst::Router | Dst::Other => return Err(DropReason::NoSuchHost),
        },
        RouteTarget::Eni(eni) => {
            if !link_up[eni.index()] {
                return Err(DropReason::RouteBlackhole);
            }
            let target = tables.eni(eni);
            if target.source_dest_check && target.ip != ip.dst {
                return Err(DropReason::DstCheck);
            }
            eni
        }
    };
    if to == from {
        return Err(DropReason::RouteLoop);
    }
    Ok(to)
}

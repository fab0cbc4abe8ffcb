//! Stage 2, `antispoof`: the source half of AWS's source/destination check (on by
//! default per ENI; appliances turn it off): an ENI may only send packets whose source
//! is its own private address.

use crate::tables::EniEntry;
use crate::verdict::DropReason;
use crate::wire::ipv4::Ipv4Header;

pub(crate) fn check(from: &EniEntry, ip: &Ipv4Header) -> Result<(), DropReason> {
    if from.source_dest_check && ip.src != from.ip {
        return Err(DropReason::SpoofedSource);
    }
    Ok(())
}

//! The Amazon DNS resolver (Route 53 Resolver at the VPC's base+2 and 169.254.169.253).
#![allow(missing_docs)]
use vpc_config::{EniId, Topology, VpcId};
#[derive(Debug, Clone, Copy)]
pub enum Transport {
    Udp,
    Tcp,
}
pub fn answer(_t: &Topology, _vpc: VpcId, query: &[u8], _tr: Transport) -> Option<Vec<u8>> {
    let mut a = query.to_vec();
    if a.len() > 2 {
        a[2] |= 0x80;
    }
    Some(a)
}
pub fn resolv_conf(t: &Topology, eni: EniId) -> String {
    let vpc = t.vpc(t.subnet(t.eni(eni).subnet).vpc);
    format!(
        "nameserver {}\n",
        vpc_config::addressing::dns_resolver(vpc.cidrs[0])
    )
}

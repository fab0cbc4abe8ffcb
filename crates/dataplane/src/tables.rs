//! The topology compiled for the packet path: per ENI the facts every packet needs, one
//! longest-prefix-match table per route table, and one hash lookup that classifies a
//! destination address of a VPC (an ENI's address or one of a subnet's reserved ones).
//! Built once per configuration; read-only while packets flow.

use std::net::Ipv4Addr;

use rustc_hash::FxHashMap;
use vpc_config::addressing::{self, Reserved};
use vpc_config::{EniId, RouteTableId, RouteTarget, SubnetId, Topology, VpcId};

use crate::route::{Origin, Route, RouteTable};

/// What one ENI's packets need.
#[derive(Debug, Clone)]
pub(crate) struct EniEntry {
    /// Its primary private address.
    pub ip: Ipv4Addr,
    /// Its VPC.
    pub vpc: VpcId,
    /// Its subnet.
    pub subnet: SubnetId,
    /// Its subnet's route table.
    pub route_table: RouteTableId,
    /// Source/destination check.
    pub source_dest_check: bool,
    /// The VPC router's address in its subnet (source of ICMP errors sent to it).
    pub router: Ipv4Addr,
}

/// What an address of a VPC is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrClass {
    /// An ENI's private address.
    Eni(EniId),
    /// One of a subnet's five reserved addresses.
    Reserved(Reserved),
}

/// The compiled topology.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    pub enis: Vec<EniEntry>,
    pub route_tables: Vec<RouteTable>,
    addrs: FxHashMap<(VpcId, Ipv4Addr), AddrClass>,
}

impl Tables {
    pub fn compile(t: &Topology) -> Tables {
        let enis = t
            .enis
            .iter()
            .map(|e| {
                let subnet = t.subnet(e.subnet);
                EniEntry {
                    ip: e.private_ip,
                    vpc: subnet.vpc,
                    subnet: e.subnet,
                    route_table: subnet.route_table,
                    source_dest_check: e.source_dest_check,
                    router: addressing::router(subnet.cidr),
                }
            })
            .collect();
        let route_tables = t
            .route_tables
            .iter()
            .map(|rt| {
                let mut table = RouteTable::new();
                for r in &rt.routes {
                    let origin = match r.target {
                        RouteTarget::Local => Origin::Local,
                        RouteTarget::Eni(_) => Origin::Static,
                    };
                    table.insert(Route {
                        destination: r.destination,
                        target: r.target,
                        origin,
                    });
                }
                table
            })
            .collect();
        let mut addrs = FxHashMap::default();
        for s in &t.subnets {
            for (ip, r) in addressing::reserved_addresses(s.cidr) {
                addrs.insert((s.vpc, ip), AddrClass::Reserved(r));
            }
        }
        for id in t.eni_ids() {
            addrs.insert((t.eni_vpc(id), t.eni(id).private_ip), AddrClass::Eni(id));
        }
        Tables {
            enis,
            route_tables,
            addrs,
        }
    }

    /// What `ip` is in `vpc`, if anything.
    pub fn classify(&self, vpc: VpcId, ip: Ipv4Addr) -> Option<AddrClass> {
        self.addrs.get(&(vpc, ip)).copied()
    }

    pub fn eni(&self, id: EniId) -> &EniEntry {
        &self.enis[id.index()]
    }
}

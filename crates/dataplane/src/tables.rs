//! The topology compiled for the packet path: per ENI the facts every packet needs, one
//! longest-prefix-match table per route table, one hash lookup that classifies a
//! destination address of a VPC (an ENI's address, a NAT gateway's, or one of a
//! subnet's reserved ones), and the internet side: the internet gateways' 1:1 mappings
//! between private and public addresses (only for VPCs with an attached gateway) and the
//! internet hosts by address. Built once per configuration; read-only while packets flow.

use std::net::Ipv4Addr;

use rustc_hash::FxHashMap;
use vpc_config::addressing::{self, Reserved};
use vpc_config::{
    EniId, HostId, HostRole, NatGatewayId, RouteTableId, SubnetId, Topology, VpcId, VpnGatewayId,
};

use crate::route::RouteTable;

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
    /// Its VPC's DNS resolver address (the primary CIDR's base+2).
    pub resolver: Ipv4Addr,
    /// Whether its VPC answers DNS (`enable_dns_support`).
    pub dns: bool,
}

/// What an address of a VPC is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrClass {
    /// An ENI's private address.
    Eni(EniId),
    /// One of a subnet's five reserved addresses.
    Reserved(Reserved),
    /// A private address of a NAT gateway (not deleted).
    Nat(NatGatewayId),
}

/// The compiled topology.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    pub enis: Vec<EniEntry>,
    pub route_tables: Vec<RouteTable>,
    /// Per VPC: the gateway route table of its attached internet gateway (its edge
    /// association), which routes what enters the VPC from the internet.
    pub gateway_tables: Vec<Option<RouteTableId>>,
    addrs: FxHashMap<(VpcId, Ipv4Addr), AddrClass>,
    /// Internet gateways' 1:1 NAT, outbound: (VPC, private) -> public.
    to_public: FxHashMap<(VpcId, Ipv4Addr), Ipv4Addr>,
    /// Internet gateways' 1:1 NAT, inbound: public -> (VPC, private).
    to_private: FxHashMap<Ipv4Addr, (VpcId, Ipv4Addr)>,
    /// Internet hosts by address.
    hosts: FxHashMap<Ipv4Addr, HostId>,
    /// Per internet host: its address.
    pub host_addrs: Vec<Ipv4Addr>,
    /// Per internet host: the VPN gateway it is the far end of, if it is one.
    pub host_vgw: Vec<Option<VpnGatewayId>>,
    /// Per VPN gateway: its far end's port while a VPN connection of it has a tunnel
    /// up (`None`: it drops what it is sent).
    pub vgw_up: Vec<Option<HostId>>,
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
                    resolver: addressing::dns_resolver(t.vpc(subnet.vpc).cidrs[0]),
                    dns: t.vpc(subnet.vpc).enable_dns_support,
                }
            })
            .collect();
        let route_tables = t
            .route_tables
            .iter()
            .enumerate()
            .map(|(i, rt)| {
                let mut table = RouteTable::new();
                for r in &rt.routes {
                    table.insert(*r);
                }
                // After the static routes: at an equal prefix they win (AWS).
                let id = RouteTableId(i as u32);
                for r in t.endpoint_routes(id) {
                    table.insert(r);
                }
                // Last: a propagated route never replaces another of its prefix.
                for r in t.propagated_routes(id) {
                    table.insert(r);
                }
                table.prepare();
                table
            })
            .collect();
        let gateway_tables = (0..t.vpcs.len() as u32)
            .map(|v| {
                t.vpc_internet_gateway(VpcId(v))
                    .and_then(|g| t.gateway_route_table(g))
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
        for (n, nat) in t.nat_gateways.iter().enumerate() {
            if !nat.deleted {
                let vpc = t.subnet(nat.subnet).vpc;
                for &ip in &nat.private_ips {
                    addrs.insert((vpc, ip), AddrClass::Nat(NatGatewayId(n as u32)));
                }
            }
        }
        let mut to_public = FxHashMap::default();
        let mut to_private = FxHashMap::default();
        for (vpc, private, public) in t.public_mappings() {
            if t.vpc_internet_gateway(vpc).is_some() {
                to_public.insert((vpc, private), public);
                to_private.insert(public, (vpc, private));
            }
        }
        let host_addrs: Vec<Ipv4Addr> = t.internet_hosts.iter().map(|h| h.address).collect();
        // A VPN gateway's far end is no host of the internet.
        let host_vgw: Vec<Option<VpnGatewayId>> = t
            .internet_hosts
            .iter()
            .map(|h| match h.role {
                HostRole::VpnGateway(g) => Some(g),
                _ => None,
            })
            .collect();
        let hosts = host_addrs
            .iter()
            .enumerate()
            .filter(|&(i, _)| host_vgw[i].is_none())
            .map(|(i, &a)| (a, HostId(i as u32)))
            .collect();
        Tables {
            enis,
            route_tables,
            gateway_tables,
            addrs,
            to_public,
            to_private,
            hosts,
            host_addrs,
            host_vgw,
            vgw_up: (0..t.vpn_gateways.len() as u32)
                .map(VpnGatewayId)
                .map(|g| t.vpn_gateway_host(g).filter(|_| t.vpn_gateway_up(g)))
                .collect(),
        }
    }

    /// The public address an attached internet gateway maps `private` of `vpc` to.
    pub fn public_of(&self, vpc: VpcId, private: Ipv4Addr) -> Option<Ipv4Addr> {
        self.to_public.get(&(vpc, private)).copied()
    }

    /// The VPC and private address an attached internet gateway maps `public` to.
    pub fn private_of(&self, public: Ipv4Addr) -> Option<(VpcId, Ipv4Addr)> {
        self.to_private.get(&public).copied()
    }

    /// The internet host with address `ip`.
    pub fn host(&self, ip: Ipv4Addr) -> Option<HostId> {
        self.hosts.get(&ip).copied()
    }

    /// What `ip` is in `vpc`, if anything.
    #[inline]
    pub fn classify(&self, vpc: VpcId, ip: Ipv4Addr) -> Option<AddrClass> {
        self.addrs.get(&(vpc, ip)).copied()
    }

    pub fn eni(&self, id: EniId) -> &EniEntry {
        &self.enis[id.index()]
    }
}

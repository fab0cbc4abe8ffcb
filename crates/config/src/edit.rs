//! Changes to a running topology, as the daemon's control socket makes them: deleting a
//! NAT gateway, attaching and detaching an internet gateway, allocating, releasing,
//! associating and disassociating Elastic IPs, associating a route table with an
//! internet gateway and disassociating it, and replacing or restoring the target of a
//! local route (EC2's `DeleteNatGateway`, `AttachInternetGateway`,
//! `DetachInternetGateway`, `AllocateAddress`, `ReleaseAddress`, `AssociateAddress`,
//! `DisassociateAddress`, `AssociateRouteTable --gateway-id`, `DisassociateRouteTable`
//! and `ReplaceRoute` on a local route, with `--network-interface-id` or
//! `--local-target`).
//!
//! Each method checks everything first: it either returns an error and changes
//! nothing, or applies the whole change. The topology's invariants hold after every
//! change: a VPC has at most one attached internet gateway, public addresses are unique
//! and in the documentation ranges, an interface has at most one Elastic IP, an Elastic
//! IP has at most one association, an internet gateway has at most one gateway route
//! table, of the VPC it is attached to, whose routes are all inside the VPC's blocks
//! and target network interfaces (AWS's rules for gateway route tables), and a local
//! route's target is `local` or a network interface of the table's VPC.
//!
//! Where vpcd differs from AWS: an internet gateway may be detached while addresses of
//! its VPC are mapped to public ones (AWS refuses); its mappings stop with it, and its
//! edge association is removed (a detached gateway routes nothing: attach it again,
//! then associate it again). Associating a gateway that already has a gateway route
//! table is refused (AWS replaces the association). Routes to a detached internet
//! gateway or a deleted NAT gateway stay in their tables (their state is `blackhole`),
//! as in AWS.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::addressing;
use crate::topology::*;

/// Why a change to the topology was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// No NAT gateway has the name.
    #[error("there is no NAT gateway {0:?}")]
    UnknownNatGateway(String),
    /// The NAT gateway was deleted already.
    #[error("NAT gateway {0:?} is already deleted")]
    NatGatewayDeleted(String),
    /// No internet gateway has the name.
    #[error("there is no internet gateway {0:?}")]
    UnknownInternetGateway(String),
    /// No VPC has the name.
    #[error("there is no vpc {0:?}")]
    UnknownVpc(String),
    /// Detaching an internet gateway that is not attached.
    #[error("internet gateway {0:?} is not attached to a vpc")]
    InternetGatewayNotAttached(String),
    /// Attaching an internet gateway that is attached already.
    #[error("internet gateway {igw:?} is already attached to vpc {vpc:?}")]
    InternetGatewayAttached {
        /// The internet gateway.
        igw: String,
        /// The VPC it is attached to.
        vpc: String,
    },
    /// Attaching an internet gateway to a VPC that has one.
    #[error("vpc {vpc:?} already has internet gateway {igw:?} attached")]
    VpcHasInternetGateway {
        /// The VPC.
        vpc: String,
        /// Its internet gateway.
        igw: String,
    },
    /// An address outside the documentation ranges, or one vpcd keeps for itself.
    #[error(
        "{0} cannot be a public address: use 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24, without each range's first and last address and without 192.0.2.1"
    )]
    NotPublicAddress(Ipv4Addr),
    /// Allocating an address that an Elastic IP, a public IP or an internet host has.
    #[error("{address} is already used by {owner}")]
    AddressInUse {
        /// The address.
        address: Ipv4Addr,
        /// What has it: `Elastic IP "name"`, `web/eth0 (public_ip)` or
        /// `internet host "name"`.
        owner: String,
    },
    /// No Elastic IP has the address.
    #[error("{0} is not an allocated Elastic IP")]
    UnknownAddress(Ipv4Addr),
    /// Releasing or associating an Elastic IP that is associated.
    #[error("Elastic IP {address} is associated with {with}")]
    AddressAssociated {
        /// The Elastic IP's address.
        address: Ipv4Addr,
        /// What it is associated with: `web/eth0` or `NAT gateway "nat-a"`.
        with: String,
    },
    /// No network interface has the name.
    #[error(
        "{0:?} is not a network interface (write an instance's name for its eth0, or instance/ethN)"
    )]
    UnknownNetworkInterface(String),
    /// Associating an Elastic IP with an interface that has one.
    #[error("{eni} already has Elastic IP {address}")]
    EniHasAddress {
        /// The interface (`instance/ethN`).
        eni: String,
        /// Its Elastic IP.
        address: Ipv4Addr,
    },
    /// Disassociating an Elastic IP that is not associated.
    #[error("Elastic IP {0} is not associated")]
    AddressNotAssociated(Ipv4Addr),
    /// Disassociating a NAT gateway's Elastic IP: it is freed by deleting the gateway.
    #[error(
        "Elastic IP {address} belongs to NAT gateway {nat:?}; it is disassociated when the NAT gateway is deleted"
    )]
    NatGatewayAddress {
        /// The Elastic IP's address.
        address: Ipv4Addr,
        /// The NAT gateway.
        nat: String,
    },
    /// No route table has the name.
    #[error("there is no route table {0:?}")]
    UnknownRouteTable(String),
    /// Associating a route table with an internet gateway that is not attached to the
    /// table's VPC.
    #[error(
        "internet gateway {igw:?} is not attached to vpc {vpc:?} of route table {table:?} ({})",
        attachment(.attached)
    )]
    GatewayNotInTableVpc {
        /// The internet gateway.
        igw: String,
        /// The route table.
        table: String,
        /// The route table's VPC.
        vpc: String,
        /// The VPC the gateway is attached to, if any.
        attached: Option<String>,
    },
    /// Associating an internet gateway that has a gateway route table already (this
    /// one or another).
    #[error(
        "internet gateway {igw:?} is already associated with route table {table:?}; an internet gateway has one gateway route table at most (disassociate it first)"
    )]
    GatewayAssociated {
        /// The internet gateway.
        igw: String,
        /// The route table it is associated with.
        table: String,
    },
    /// Disassociating an internet gateway from a table it is not associated with.
    #[error("internet gateway {igw:?} is not associated with route table {table:?}")]
    GatewayNotAssociated {
        /// The internet gateway.
        igw: String,
        /// The route table.
        table: String,
    },
    /// Making a gateway route table of a table with a route whose target is not a
    /// network interface.
    #[error(
        "route table {table:?} cannot be a gateway route table: its route to {destination} targets {target}, and a gateway route table's routes may only target a network interface"
    )]
    GatewayTableTarget {
        /// The route table.
        table: String,
        /// The route's destination.
        destination: Ipv4Net,
        /// The route's target as users write it (`igw`, `nat-a`).
        target: String,
    },
    /// Making a gateway route table of a table with a route outside its VPC's blocks.
    #[error(
        "route table {table:?} cannot be a gateway route table: its route to {destination} is outside vpc {vpc:?} ({vpc_cidrs}), and a gateway route table may only route destinations inside its VPC's CIDR blocks"
    )]
    GatewayTableDestination {
        /// The route table.
        table: String,
        /// The route's destination.
        destination: Ipv4Net,
        /// The table's VPC.
        vpc: String,
        /// The VPC's blocks, comma separated.
        vpc_cidrs: String,
    },
    /// Replacing the target of a route that is not one of the table's local routes.
    #[error(
        "{destination} is not a local route of route table {table:?}: its local routes are the CIDR blocks of vpc {vpc:?} ({vpc_cidrs})"
    )]
    NotALocalRoute {
        /// The route table.
        table: String,
        /// The destination given.
        destination: Ipv4Net,
        /// The table's VPC.
        vpc: String,
        /// The VPC's blocks, comma separated.
        vpc_cidrs: String,
    },
    /// Replacing a local route's target with an interface of another VPC.
    #[error("{eni} is in vpc {eni_vpc:?}, route table {table:?} in vpc {table_vpc:?}")]
    EniInOtherVpc {
        /// The interface (`instance/ethN`).
        eni: String,
        /// The interface's VPC.
        eni_vpc: String,
        /// The route table.
        table: String,
        /// The route table's VPC.
        table_vpc: String,
    },
}

/// How an internet gateway is attached, for [`EditError::GatewayNotInTableVpc`].
fn attachment(vpc: &Option<String>) -> String {
    match vpc {
        Some(v) => format!("it is attached to vpc {v:?}"),
        None => "it is detached".to_owned(),
    }
}

impl Topology {
    /// Deletes NAT gateway `name` (`DeleteNatGateway`): it stays in the list, marked
    /// `deleted`, so that routes to it turn `blackhole`; its Elastic IPs are
    /// disassociated and stay allocated.
    pub fn delete_nat_gateway(&mut self, name: &str) -> Result<(), EditError> {
        let id = self.nat_gateway_named(name)?;
        if self.nat_gateway(id).deleted {
            return Err(EditError::NatGatewayDeleted(name.to_owned()));
        }
        self.nat_gateways[id.index()].deleted = true;
        for e in &mut self.elastic_ips {
            if matches!(e.association, Some(EipAssociation::NatGateway(n, _)) if n == id) {
                e.association = None;
            }
        }
        Ok(())
    }

    /// Detaches internet gateway `name` from its VPC (`DetachInternetGateway`). Unlike
    /// AWS, this is allowed while the VPC has public addresses. Its edge association
    /// (its gateway route table) is removed too, since a gateway route table's
    /// gateways are attached to its VPC: a detached gateway has no route table, and
    /// one attached again needs [`Topology::associate_route_table_gateway`] again.
    pub fn detach_internet_gateway(&mut self, name: &str) -> Result<(), EditError> {
        let id = self.internet_gateway_named(name)?;
        if self.internet_gateway(id).vpc.is_none() {
            return Err(EditError::InternetGatewayNotAttached(name.to_owned()));
        }
        self.internet_gateways[id.index()].vpc = None;
        for t in &mut self.route_tables {
            t.gateways.retain(|&g| g != id);
        }
        Ok(())
    }

    /// Attaches internet gateway `name` to VPC `vpc` (`AttachInternetGateway`): the
    /// gateway must be detached and the VPC must have none.
    pub fn attach_internet_gateway(&mut self, name: &str, vpc: &str) -> Result<(), EditError> {
        let id = self.internet_gateway_named(name)?;
        let vpc_id = self
            .vpcs
            .iter()
            .position(|v| v.name == vpc)
            .map(|i| VpcId(i as u32))
            .ok_or_else(|| EditError::UnknownVpc(vpc.to_owned()))?;
        if let Some(attached) = self.internet_gateway(id).vpc {
            return Err(EditError::InternetGatewayAttached {
                igw: name.to_owned(),
                vpc: self.vpc(attached).name.clone(),
            });
        }
        if let Some(other) = self.vpc_internet_gateway(vpc_id) {
            return Err(EditError::VpcHasInternetGateway {
                vpc: vpc.to_owned(),
                igw: self.internet_gateway(other).name.clone(),
            });
        }
        self.internet_gateways[id.index()].vpc = Some(vpc_id);
        Ok(())
    }

    /// Allocates Elastic IP `address` (`AllocateAddress`), unassociated, named
    /// [`ElasticIp::default_name`] (with `-2`, `-3`, ... if an Elastic IP has that name
    /// already). The address must be public and used by no Elastic IP, interface or
    /// internet host.
    pub fn allocate_address(&mut self, address: Ipv4Addr) -> Result<ElasticIpId, EditError> {
        if !addressing::is_public_address(address) {
            return Err(EditError::NotPublicAddress(address));
        }
        if let Some(owner) = self.public_address_owner(address) {
            return Err(EditError::AddressInUse { address, owner });
        }
        let base = ElasticIp::default_name(address);
        let taken = |n: &str| self.elastic_ips.iter().any(|e| e.name == n);
        let name = (1..)
            .map(|i| {
                if i == 1 {
                    base.clone()
                } else {
                    format!("{base}-{i}")
                }
            })
            .find(|n| !taken(n))
            .unwrap_or(base);
        self.elastic_ips.push(ElasticIp {
            name,
            address,
            association: None,
        });
        Ok(ElasticIpId(self.elastic_ips.len() as u32 - 1))
    }

    /// Releases Elastic IP `address` (`ReleaseAddress`): it must be unassociated. It is
    /// removed from [`Topology::elastic_ips`] (the ids of later ones shift down).
    pub fn release_address(&mut self, address: Ipv4Addr) -> Result<(), EditError> {
        let id = self.elastic_ip_at(address)?;
        if let Some(a) = self.elastic_ips[id.index()].association {
            return Err(EditError::AddressAssociated {
                address,
                with: self.association_name(a),
            });
        }
        self.elastic_ips.remove(id.index());
        Ok(())
    }

    /// Associates Elastic IP `address` with network interface `eni`, written as
    /// [`Topology::find_eni`] takes it (`web` for web's eth0, or `web/eth1`)
    /// (`AssociateAddress`). The Elastic IP must be unassociated and the interface must
    /// have no Elastic IP; an auto-assigned public IP of the interface is replaced by
    /// it while it is associated.
    pub fn associate_address(&mut self, address: Ipv4Addr, eni: &str) -> Result<(), EditError> {
        let id = self.elastic_ip_at(address)?;
        let eni_id = self
            .find_eni(eni)
            .ok_or_else(|| EditError::UnknownNetworkInterface(eni.to_owned()))?;
        if let Some(a) = self.elastic_ips[id.index()].association {
            return Err(EditError::AddressAssociated {
                address,
                with: self.association_name(a),
            });
        }
        let has = self
            .elastic_ips
            .iter()
            .find(|e| e.association == Some(EipAssociation::Eni(eni_id)));
        if let Some(other) = has {
            return Err(EditError::EniHasAddress {
                eni: self.eni_name(eni_id).to_string(),
                address: other.address,
            });
        }
        self.elastic_ips[id.index()].association = Some(EipAssociation::Eni(eni_id));
        Ok(())
    }

    /// Disassociates Elastic IP `address` from its network interface
    /// (`DisassociateAddress`). A NAT gateway's Elastic IP is refused: it is
    /// disassociated when the NAT gateway is deleted.
    pub fn disassociate_address(&mut self, address: Ipv4Addr) -> Result<(), EditError> {
        let id = self.elastic_ip_at(address)?;
        match self.elastic_ips[id.index()].association {
            None => Err(EditError::AddressNotAssociated(address)),
            Some(EipAssociation::NatGateway(n, _)) => Err(EditError::NatGatewayAddress {
                address,
                nat: self.nat_gateway(n).name.clone(),
            }),
            Some(EipAssociation::Eni(_)) => {
                self.elastic_ips[id.index()].association = None;
                Ok(())
            }
        }
    }

    /// Associates route table `table` with internet gateway `igw` (`AssociateRouteTable
    /// --gateway-id`, an edge association), making it a gateway route table: it then
    /// routes the traffic entering the VPC through `igw`, after the gateway translated
    /// the public destination to the private one. The gateway must be attached to the
    /// table's VPC and have no gateway route table (AWS would replace the association;
    /// vpcd refuses, naming the table that has it), and every route of the table must
    /// be allowed in a gateway route table: a network interface target (or `local`)
    /// and a destination inside the VPC's blocks.
    pub fn associate_route_table_gateway(
        &mut self,
        table: &str,
        igw: &str,
    ) -> Result<(), EditError> {
        let table_id = self.route_table_named(table)?;
        let igw_id = self.internet_gateway_named(igw)?;
        let rt = self.route_table(table_id);
        let vpc = self.vpc(rt.vpc);
        let attached = self.internet_gateway(igw_id).vpc;
        if attached != Some(rt.vpc) {
            return Err(EditError::GatewayNotInTableVpc {
                igw: igw.to_owned(),
                table: table.to_owned(),
                vpc: vpc.name.clone(),
                attached: attached.map(|v| self.vpc(v).name.clone()),
            });
        }
        if let Some(other) = self.gateway_route_table(igw_id) {
            return Err(EditError::GatewayAssociated {
                igw: igw.to_owned(),
                table: self.route_table(other).name.clone(),
            });
        }
        for r in &rt.routes {
            if !r.target.allowed_in_gateway_route_table() {
                return Err(EditError::GatewayTableTarget {
                    table: table.to_owned(),
                    destination: r.destination,
                    target: self.route_target_name(r.target),
                });
            }
            if !vpc.cidrs.iter().any(|b| b.contains(&r.destination)) {
                return Err(EditError::GatewayTableDestination {
                    table: table.to_owned(),
                    destination: r.destination,
                    vpc: vpc.name.clone(),
                    vpc_cidrs: addressing::cidr_list(&vpc.cidrs),
                });
            }
        }
        self.route_tables[table_id.index()].gateways.push(igw_id);
        Ok(())
    }

    /// Removes the edge association of route table `table` with internet gateway `igw`
    /// (`DisassociateRouteTable`): the traffic entering through `igw` is then routed by
    /// the VPC's local routes only. The table keeps its routes.
    pub fn disassociate_route_table_gateway(
        &mut self,
        table: &str,
        igw: &str,
    ) -> Result<(), EditError> {
        let table_id = self.route_table_named(table)?;
        let igw_id = self.internet_gateway_named(igw)?;
        let gateways = &mut self.route_tables[table_id.index()].gateways;
        let Some(k) = gateways.iter().position(|&g| g == igw_id) else {
            return Err(EditError::GatewayNotAssociated {
                igw: igw.to_owned(),
                table: table.to_owned(),
            });
        };
        gateways.remove(k);
        Ok(())
    }

    /// Replaces the target of the local route for `destination` in route table `table`
    /// (`ReplaceRoute` on a local route): `Some(eni)` sends it to that network
    /// interface, written as [`Topology::find_eni`] takes it (`fw` for fw's eth0, or
    /// `fw/eth1`), which must be in the table's VPC (`--network-interface-id`); `None`
    /// restores `local` (`--local-target`). `destination` must be one of the VPC's CIDR
    /// blocks: a table has one local route per block, each replaced or restored on its
    /// own. Restoring a local target, or setting the interface it has, changes nothing.
    pub fn replace_local_route_target(
        &mut self,
        table: &str,
        destination: Ipv4Net,
        eni: Option<&str>,
    ) -> Result<(), EditError> {
        let table_id = self.route_table_named(table)?;
        let rt = self.route_table(table_id);
        let vpc = self.vpc(rt.vpc);
        let local = rt
            .routes
            .iter()
            .position(|r| r.origin == RouteOrigin::Local && r.destination == destination);
        let Some(local) = local.filter(|_| vpc.cidrs.contains(&destination)) else {
            return Err(EditError::NotALocalRoute {
                table: table.to_owned(),
                destination,
                vpc: vpc.name.clone(),
                vpc_cidrs: addressing::cidr_list(&vpc.cidrs),
            });
        };
        let target = match eni {
            None => RouteTarget::Local,
            Some(name) => {
                let id = self
                    .find_eni(name)
                    .ok_or_else(|| EditError::UnknownNetworkInterface(name.to_owned()))?;
                let eni_vpc = self.eni_vpc(id);
                if eni_vpc != rt.vpc {
                    return Err(EditError::EniInOtherVpc {
                        eni: self.eni_name(id).to_string(),
                        eni_vpc: self.vpc(eni_vpc).name.clone(),
                        table: table.to_owned(),
                        table_vpc: vpc.name.clone(),
                    });
                }
                RouteTarget::Eni(id)
            }
        };
        self.route_tables[table_id.index()].routes[local].target = target;
        Ok(())
    }

    /// The route table named `name`.
    pub fn find_route_table(&self, name: &str) -> Option<RouteTableId> {
        self.route_tables
            .iter()
            .position(|t| t.name == name)
            .map(|i| RouteTableId(i as u32))
    }

    /// The NAT gateway named `name`.
    pub fn find_nat_gateway(&self, name: &str) -> Option<NatGatewayId> {
        self.nat_gateways
            .iter()
            .position(|n| n.name == name)
            .map(|i| NatGatewayId(i as u32))
    }

    /// The internet gateway named `name`.
    pub fn find_internet_gateway(&self, name: &str) -> Option<InternetGatewayId> {
        self.internet_gateways
            .iter()
            .position(|g| g.name == name)
            .map(|i| InternetGatewayId(i as u32))
    }

    /// The Elastic IP whose address is `address`.
    pub fn find_elastic_ip(&self, address: Ipv4Addr) -> Option<ElasticIpId> {
        self.elastic_ips
            .iter()
            .position(|e| e.address == address)
            .map(|i| ElasticIpId(i as u32))
    }

    fn nat_gateway_named(&self, name: &str) -> Result<NatGatewayId, EditError> {
        self.find_nat_gateway(name)
            .ok_or_else(|| EditError::UnknownNatGateway(name.to_owned()))
    }

    fn internet_gateway_named(&self, name: &str) -> Result<InternetGatewayId, EditError> {
        self.find_internet_gateway(name)
            .ok_or_else(|| EditError::UnknownInternetGateway(name.to_owned()))
    }

    fn route_table_named(&self, name: &str) -> Result<RouteTableId, EditError> {
        self.find_route_table(name)
            .ok_or_else(|| EditError::UnknownRouteTable(name.to_owned()))
    }

    fn elastic_ip_at(&self, address: Ipv4Addr) -> Result<ElasticIpId, EditError> {
        self.find_elastic_ip(address)
            .ok_or(EditError::UnknownAddress(address))
    }

    /// What an Elastic IP is associated with, as errors name it.
    fn association_name(&self, a: EipAssociation) -> String {
        match a {
            EipAssociation::Eni(e) => self.eni_name(e).to_string(),
            EipAssociation::NatGateway(n, _) => {
                format!("NAT gateway {:?}", self.nat_gateway(n).name)
            }
        }
    }

    /// What uses public address `address`: an Elastic IP, an interface's public IP or an
    /// internet host.
    fn public_address_owner(&self, address: Ipv4Addr) -> Option<String> {
        if let Some(e) = self.elastic_ips.iter().find(|e| e.address == address) {
            return Some(format!("Elastic IP {:?}", e.name));
        }
        if let Some(k) = self
            .eni_ids()
            .find(|&k| self.eni(k).public_ip == Some(address))
        {
            return Some(format!("{} (public_ip)", self.eni_name(k)));
        }
        self.internet_hosts
            .iter()
            .find(|h| h.address == address)
            .map(|h| format!("internet host {:?}", h.name))
    }
}

/// A VPC's blocks as errors show them: `10.0.0.0/16, 10.1.0.0/16`.
#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::EditError;
    use crate::topology::*;

    /// The demo, plus a detached internet gateway `spare-igw`, a second VPC `other`
    /// (10.9.0.0/16 and 10.10.0.0/16) without one, with instance `stranger`, an
    /// unassociated Elastic IP 198.51.100.30, `app/eth0`'s public IP 203.0.113.5, a
    /// private NAT gateway `hidden`, a gateway route table `edge-rt` of internet
    /// gateway `igw` (private-b's CIDR to `app`) and a table `egress-rt` whose only
    /// route, 0.0.0.0/0, goes to `app`.
    fn topology() -> Topology {
        let src = crate::DEMO_TOML.replace(
            "private_ip = \"10.0.2.10\"",
            "private_ip = \"10.0.2.10\"\npublic_ip = \"203.0.113.5\"",
        ) + r#"
[[vpc]]
name = "other"
cidr = "10.9.0.0/16"
secondary_cidrs = ["10.10.0.0/16"]

[[subnet]]
name = "other-a"
vpc = "other"
cidr = "10.9.0.0/24"
az = "a"

[[internet_gateway]]
name = "spare-igw"

[[elastic_ip]]
address = "198.51.100.30"

[[nat_gateway]]
name = "hidden"
subnet = "private-a"
connectivity = "private"

[[instance]]
name = "stranger"
subnet = "other-a"

[[route_table]]
name = "edge-rt"
vpc = "demo"
gateways = ["igw"]
route = [{ destination = "10.0.12.0/24", instance = "app" }]

[[route_table]]
name = "egress-rt"
vpc = "demo"
route = [{ destination = "0.0.0.0/0", instance = "app" }]
"#;
        crate::parse(&src, "t.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn eip<'t>(t: &'t Topology, address: &str) -> &'t ElasticIp {
        let id = t.find_elastic_ip(ip(address)).unwrap();
        &t.elastic_ips[id.index()]
    }

    /// Runs `edit` on a fresh topology: on error, checks that nothing changed.
    fn refused<T: std::fmt::Debug>(
        edit: impl FnOnce(&mut Topology) -> Result<T, EditError>,
    ) -> EditError {
        let mut t = topology();
        let before = t.clone();
        let e = edit(&mut t).expect_err("the edit should be refused");
        assert_eq!(t, before, "a refused edit changed the topology");
        e
    }

    #[test]
    fn deleting_a_nat_gateway_frees_its_elastic_ips() {
        let mut t = topology();
        let nat_a = t.find_nat_gateway("nat-a").unwrap();
        t.delete_nat_gateway("nat-a").unwrap();
        assert!(t.nat_gateway(nat_a).deleted);
        assert_eq!(t.nat_gateway(nat_a).private_ips, [ip("10.0.1.5")]);
        assert_eq!(eip(&t, "198.51.100.20").association, None);
        assert_eq!(t.nat_public_ips(nat_a), [None]);
        // nat-b keeps its Elastic IP; routes to nat-a stay.
        assert!(eip(&t, "198.51.100.21").association.is_some());
        let rt = &t.route_tables[1];
        assert_eq!(rt.routes[1].target, RouteTarget::NatGateway(nat_a));
        assert!(!t.public_mappings().iter().any(|m| m.1 == ip("10.0.1.5")));
        // The freed Elastic IP can be associated with an interface.
        t.associate_address(ip("198.51.100.20"), "db").unwrap();

        assert_eq!(
            t.delete_nat_gateway("nat-a"),
            Err(EditError::NatGatewayDeleted("nat-a".into()))
        );
        assert_eq!(
            refused(|t| t.delete_nat_gateway("nope")),
            EditError::UnknownNatGateway("nope".into())
        );
        let mut t = topology();
        t.delete_nat_gateway("hidden").unwrap();
        assert!(t.nat_gateways[2].deleted);
    }

    #[test]
    fn detaching_and_attaching_internet_gateways() {
        let mut t = topology();
        let demo = VpcId(0);
        let igw = t.find_internet_gateway("igw").unwrap();
        t.detach_internet_gateway("igw").unwrap();
        assert_eq!(t.internet_gateway(igw).vpc, None);
        assert_eq!(t.vpc_internet_gateway(demo), None);
        // The route to it stays (blackhole).
        assert_eq!(
            t.route_tables[0].routes[1].target,
            RouteTarget::InternetGateway(igw)
        );
        assert_eq!(
            t.detach_internet_gateway("igw"),
            Err(EditError::InternetGatewayNotAttached("igw".into()))
        );
        // Another gateway may take the VPC, and the first one another VPC.
        t.attach_internet_gateway("spare-igw", "demo").unwrap();
        t.attach_internet_gateway("igw", "other").unwrap();
        assert_eq!(
            t.vpc_internet_gateway(demo),
            t.find_internet_gateway("spare-igw")
        );
        assert_eq!(t.vpc_internet_gateway(VpcId(1)), Some(igw));

        assert_eq!(
            refused(|t| t.detach_internet_gateway("spare-igw")),
            EditError::InternetGatewayNotAttached("spare-igw".into())
        );
        assert_eq!(
            refused(|t| t.detach_internet_gateway("nope")),
            EditError::UnknownInternetGateway("nope".into())
        );
        assert_eq!(
            refused(|t| t.attach_internet_gateway("nope", "demo")),
            EditError::UnknownInternetGateway("nope".into())
        );
        assert_eq!(
            refused(|t| t.attach_internet_gateway("spare-igw", "nope")),
            EditError::UnknownVpc("nope".into())
        );
        assert_eq!(
            refused(|t| t.attach_internet_gateway("igw", "other")),
            EditError::InternetGatewayAttached {
                igw: "igw".into(),
                vpc: "demo".into()
            }
        );
        assert_eq!(
            refused(|t| t.attach_internet_gateway("igw", "demo")),
            EditError::InternetGatewayAttached {
                igw: "igw".into(),
                vpc: "demo".into()
            }
        );
        assert_eq!(
            refused(|t| t.attach_internet_gateway("spare-igw", "demo")),
            EditError::VpcHasInternetGateway {
                vpc: "demo".into(),
                igw: "igw".into()
            }
        );
    }

    #[test]
    fn allocating_and_releasing_addresses() {
        let mut t = topology();
        let count = t.elastic_ips.len();
        let id = t.allocate_address(ip("198.51.100.40")).unwrap();
        assert_eq!(id.index(), count);
        assert_eq!(
            t.elastic_ips[id.index()],
            ElasticIp {
                name: "eip-198-51-100-40".into(),
                address: ip("198.51.100.40"),
                association: None,
            }
        );
        t.release_address(ip("198.51.100.40")).unwrap();
        assert_eq!(t.elastic_ips.len(), count);
        assert_eq!(t.find_elastic_ip(ip("198.51.100.40")), None);
        // Releasing one from the middle of the list.
        t.release_address(ip("198.51.100.30")).unwrap();
        assert_eq!(t.find_elastic_ip(ip("198.51.100.30")), None);
        assert_eq!(t.elastic_ips.len(), count - 1);

        // A default name that is taken gets a suffix.
        let mut t = topology();
        t.elastic_ips[0].name = "eip-198-51-100-41".into();
        let id = t.allocate_address(ip("198.51.100.41")).unwrap();
        assert_eq!(t.elastic_ips[id.index()].name, "eip-198-51-100-41-2");

        for bad in ["10.0.0.1", "192.0.2.1", "198.51.100.0", "203.0.113.255"] {
            assert_eq!(
                refused(|t| t.allocate_address(ip(bad))),
                EditError::NotPublicAddress(ip(bad))
            );
        }
        for (used, owner) in [
            ("198.51.100.10", "Elastic IP \"web-eip\""),
            ("198.51.100.30", "Elastic IP \"eip-198-51-100-30\""),
            ("203.0.113.5", "app/eth0 (public_ip)"),
            ("203.0.113.10", "internet host \"internet\""),
        ] {
            assert_eq!(
                refused(|t| t.allocate_address(ip(used))),
                EditError::AddressInUse {
                    address: ip(used),
                    owner: owner.into()
                }
            );
        }
        assert_eq!(
            refused(|t| t.release_address(ip("198.51.100.99"))),
            EditError::UnknownAddress(ip("198.51.100.99"))
        );
        assert_eq!(
            refused(|t| t.release_address(ip("198.51.100.10"))),
            EditError::AddressAssociated {
                address: ip("198.51.100.10"),
                with: "web/eth0".into()
            }
        );
        assert_eq!(
            refused(|t| t.release_address(ip("198.51.100.20"))),
            EditError::AddressAssociated {
                address: ip("198.51.100.20"),
                with: "NAT gateway \"nat-a\"".into()
            }
        );
    }

    #[test]
    fn associating_and_disassociating_addresses() {
        let mut t = topology();
        let app = t.find_eni("app").unwrap();
        assert_eq!(t.eni_public_ip(app), Some(ip("203.0.113.5")));
        t.associate_address(ip("198.51.100.30"), "app/eth0")
            .unwrap();
        assert_eq!(
            eip(&t, "198.51.100.30").association,
            Some(EipAssociation::Eni(app))
        );
        // The Elastic IP replaces the public IP while it is associated.
        assert_eq!(t.eni_public_ip(app), Some(ip("198.51.100.30")));
        t.disassociate_address(ip("198.51.100.30")).unwrap();
        assert_eq!(eip(&t, "198.51.100.30").association, None);
        assert_eq!(t.eni_public_ip(app), Some(ip("203.0.113.5")));
        // web's Elastic IP moves to db.
        t.disassociate_address(ip("198.51.100.10")).unwrap();
        t.associate_address(ip("198.51.100.10"), "db").unwrap();
        assert_eq!(
            t.eni_public_ip(t.find_eni("db").unwrap()),
            Some(ip("198.51.100.10"))
        );
        assert_eq!(t.eni_public_ip(t.find_eni("web").unwrap()), None);

        assert_eq!(
            refused(|t| t.associate_address(ip("198.51.100.99"), "app")),
            EditError::UnknownAddress(ip("198.51.100.99"))
        );
        assert_eq!(
            refused(|t| t.associate_address(ip("198.51.100.30"), "app/eth1")),
            EditError::UnknownNetworkInterface("app/eth1".into())
        );
        assert_eq!(
            refused(|t| t.associate_address(ip("198.51.100.10"), "app")),
            EditError::AddressAssociated {
                address: ip("198.51.100.10"),
                with: "web/eth0".into()
            }
        );
        assert_eq!(
            refused(|t| t.associate_address(ip("198.51.100.21"), "app")),
            EditError::AddressAssociated {
                address: ip("198.51.100.21"),
                with: "NAT gateway \"nat-b\"".into()
            }
        );
        assert_eq!(
            refused(|t| t.associate_address(ip("198.51.100.30"), "web")),
            EditError::EniHasAddress {
                eni: "web/eth0".into(),
                address: ip("198.51.100.10")
            }
        );
        assert_eq!(
            refused(|t| t.disassociate_address(ip("198.51.100.99"))),
            EditError::UnknownAddress(ip("198.51.100.99"))
        );
        assert_eq!(
            refused(|t| t.disassociate_address(ip("198.51.100.30"))),
            EditError::AddressNotAssociated(ip("198.51.100.30"))
        );
        assert_eq!(
            refused(|t| t.disassociate_address(ip("198.51.100.20"))),
            EditError::NatGatewayAddress {
                address: ip("198.51.100.20"),
                nat: "nat-a".into()
            }
        );
    }

    fn net(s: &str) -> ipnet::Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn associating_and_disassociating_gateway_route_tables() {
        let mut t = topology();
        let igw = t.find_internet_gateway("igw").unwrap();
        let edge = t.find_route_table("edge-rt").unwrap();
        let main = t.find_route_table("demo-main").unwrap();
        assert_eq!(t.gateway_route_table(igw), Some(edge));
        let edge_routes = t.route_table(edge).routes.clone();
        t.disassociate_route_table_gateway("edge-rt", "igw")
            .unwrap();
        assert_eq!(t.gateway_route_table(igw), None);
        assert!(t.route_table(edge).gateways.is_empty());
        assert_eq!(t.route_table(edge).routes, edge_routes);
        // A table with only local routes (the implicit main table) may take it.
        t.associate_route_table_gateway("demo-main", "igw").unwrap();
        assert_eq!(t.route_table(main).gateways, [igw]);
        assert_eq!(t.gateway_route_table(igw), Some(main));
        assert!(t.route_table(main).main);
        // Detaching the gateway removes its edge association; attached again, it has
        // no gateway route table until it is associated again.
        t.detach_internet_gateway("igw").unwrap();
        assert!(t.route_table(main).gateways.is_empty());
        assert_eq!(t.gateway_route_table(igw), None);
        assert_eq!(
            t.associate_route_table_gateway("edge-rt", "igw"),
            Err(EditError::GatewayNotInTableVpc {
                igw: "igw".into(),
                table: "edge-rt".into(),
                vpc: "demo".into(),
                attached: None
            })
        );
        t.attach_internet_gateway("igw", "demo").unwrap();
        assert_eq!(t.gateway_route_table(igw), None);
        t.associate_route_table_gateway("edge-rt", "igw").unwrap();
        assert_eq!(t, topology());

        assert_eq!(
            refused(|t| t.associate_route_table_gateway("nope", "igw")),
            EditError::UnknownRouteTable("nope".into())
        );
        assert_eq!(
            refused(|t| t.associate_route_table_gateway("demo-main", "nope")),
            EditError::UnknownInternetGateway("nope".into())
        );
        assert_eq!(
            refused(|t| t.associate_route_table_gateway("demo-main", "spare-igw")),
            EditError::GatewayNotInTableVpc {
                igw: "spare-igw".into(),
                table: "demo-main".into(),
                vpc: "demo".into(),
                attached: None
            }
        );
        assert_eq!(
            refused(|t| t.associate_route_table_gateway("other-main", "igw")),
            EditError::GatewayNotInTableVpc {
                igw: "igw".into(),
                table: "other-main".into(),
                vpc: "other".into(),
                attached: Some("demo".into())
            }
        );
        for table in ["demo-main", "edge-rt"] {
            assert_eq!(
                refused(|t| t.associate_route_table_gateway(table, "igw")),
                EditError::GatewayAssociated {
                    igw: "igw".into(),
                    table: "edge-rt".into()
                }
            );
        }
        // Tables with routes a gateway route table cannot have.
        let mut t = topology();
        t.disassociate_route_table_gateway("edge-rt", "igw")
            .unwrap();
        let before = t.clone();
        assert_eq!(
            t.associate_route_table_gateway("public-rt", "igw"),
            Err(EditError::GatewayTableTarget {
                table: "public-rt".into(),
                destination: net("0.0.0.0/0"),
                target: "igw".into()
            })
        );
        assert_eq!(
            t.associate_route_table_gateway("private-a-rt", "igw"),
            Err(EditError::GatewayTableTarget {
                table: "private-a-rt".into(),
                destination: net("0.0.0.0/0"),
                target: "nat-a".into()
            })
        );
        assert_eq!(
            t.associate_route_table_gateway("egress-rt", "igw"),
            Err(EditError::GatewayTableDestination {
                table: "egress-rt".into(),
                destination: net("0.0.0.0/0"),
                vpc: "demo".into(),
                vpc_cidrs: "10.0.0.0/16".into()
            })
        );
        assert_eq!(t, before, "a refused edit changed the topology");

        assert_eq!(
            refused(|t| t.disassociate_route_table_gateway("nope", "igw")),
            EditError::UnknownRouteTable("nope".into())
        );
        assert_eq!(
            refused(|t| t.disassociate_route_table_gateway("edge-rt", "nope")),
            EditError::UnknownInternetGateway("nope".into())
        );
        for (table, igw) in [("demo-main", "igw"), ("edge-rt", "spare-igw")] {
            assert_eq!(
                refused(|t| t.disassociate_route_table_gateway(table, igw)),
                EditError::GatewayNotAssociated {
                    igw: igw.into(),
                    table: table.into()
                }
            );
        }
    }

    #[test]
    fn replacing_and_restoring_local_route_targets() {
        let mut t = topology();
        let public = t.find_route_table("public-rt").unwrap();
        let app = t.find_eni("app").unwrap();
        let db = t.find_eni("db").unwrap();
        let local = |t: &Topology, table: RouteTableId| -> Vec<(String, RouteTarget)> {
            t.route_table(table)
                .routes
                .iter()
                .filter(|r| r.origin == RouteOrigin::Local)
                .map(|r| (r.destination.to_string(), r.target))
                .collect()
        };
        let count = t.route_table(public).routes.len();
        t.replace_local_route_target("public-rt", net("10.0.0.0/16"), Some("app"))
            .unwrap();
        assert_eq!(
            t.route_table(public).routes[0],
            Route {
                destination: net("10.0.0.0/16"),
                target: RouteTarget::Eni(app),
                origin: RouteOrigin::Local
            }
        );
        assert_eq!(t.route_table(public).routes.len(), count);
        // Another interface, written instance/ethN; then `local` again.
        t.replace_local_route_target("public-rt", net("10.0.0.0/16"), Some("db/eth0"))
            .unwrap();
        assert_eq!(
            local(&t, public),
            [("10.0.0.0/16".to_string(), RouteTarget::Eni(db))]
        );
        t.replace_local_route_target("public-rt", net("10.0.0.0/16"), None)
            .unwrap();
        assert_eq!(t, topology());
        // Restoring a local target changes nothing.
        t.replace_local_route_target("public-rt", net("10.0.0.0/16"), None)
            .unwrap();
        assert_eq!(t, topology());
        // Each block of a VPC has its own local route.
        let other = t.find_route_table("other-main").unwrap();
        let stranger = t.find_eni("stranger").unwrap();
        t.replace_local_route_target("other-main", net("10.10.0.0/16"), Some("stranger"))
            .unwrap();
        assert_eq!(
            local(&t, other),
            [
                ("10.9.0.0/16".to_string(), RouteTarget::Local),
                ("10.10.0.0/16".to_string(), RouteTarget::Eni(stranger))
            ]
        );
        // A gateway route table's local route too.
        t.replace_local_route_target("edge-rt", net("10.0.0.0/16"), Some("app"))
            .unwrap();
        let edge = t.find_route_table("edge-rt").unwrap();
        assert_eq!(
            local(&t, edge),
            [("10.0.0.0/16".to_string(), RouteTarget::Eni(app))]
        );

        assert_eq!(
            refused(|t| t.replace_local_route_target("nope", net("10.0.0.0/16"), None)),
            EditError::UnknownRouteTable("nope".into())
        );
        for destination in ["10.0.1.0/24", "0.0.0.0/0", "10.9.0.0/16"] {
            assert_eq!(
                refused(|t| t.replace_local_route_target(
                    "public-rt",
                    net(destination),
                    Some("app")
                )),
                EditError::NotALocalRoute {
                    table: "public-rt".into(),
                    destination: net(destination),
                    vpc: "demo".into(),
                    vpc_cidrs: "10.0.0.0/16".into()
                }
            );
        }
        assert_eq!(
            refused(|t| t.replace_local_route_target(
                "public-rt",
                net("10.0.0.0/16"),
                Some("app/eth1")
            )),
            EditError::UnknownNetworkInterface("app/eth1".into())
        );
        assert_eq!(
            refused(|t| t.replace_local_route_target(
                "public-rt",
                net("10.0.0.0/16"),
                Some("stranger")
            )),
            EditError::EniInOtherVpc {
                eni: "stranger/eth0".into(),
                eni_vpc: "other".into(),
                table: "public-rt".into(),
                table_vpc: "demo".into()
            }
        );
    }

    #[test]
    fn route_tables_are_found_by_name() {
        let t = topology();
        let names: Vec<&str> = t.route_tables.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "public-rt",
                "private-a-rt",
                "private-b-rt",
                "edge-rt",
                "egress-rt",
                "demo-main",
                "other-main"
            ]
        );
        assert_eq!(t.find_route_table("edge-rt"), Some(RouteTableId(3)));
        assert_eq!(t.find_route_table("other-main"), Some(RouteTableId(6)));
        assert_eq!(t.find_route_table("nope"), None);
    }

    #[test]
    fn edits_keep_the_table_limits() {
        let src =
            crate::DEMO_TOML.to_owned() + "\n[limits]\nconntrack_per_eni = 1000\nfragments = 7\n";
        let mut t = crate::parse(&src, "t.toml").unwrap_or_else(|e| panic!("{e}"));
        let limits = t.limits;
        assert_eq!(limits.conntrack_per_eni, 1000);
        assert_eq!(limits.fragments, 7);
        t.delete_nat_gateway("nat-a").unwrap();
        t.detach_internet_gateway("igw").unwrap();
        t.attach_internet_gateway("igw", "demo").unwrap();
        t.allocate_address(ip("198.51.100.40")).unwrap();
        t.associate_address(ip("198.51.100.40"), "db").unwrap();
        t.disassociate_address(ip("198.51.100.40")).unwrap();
        t.release_address(ip("198.51.100.40")).unwrap();
        assert_eq!(t.limits, limits);
    }

    #[test]
    fn errors_read_as_sentences() {
        let shown: Vec<String> = [
            EditError::NatGatewayDeleted("nat-a".into()),
            EditError::VpcHasInternetGateway {
                vpc: "demo".into(),
                igw: "igw".into(),
            },
            EditError::AddressAssociated {
                address: ip("198.51.100.10"),
                with: "web/eth0".into(),
            },
            EditError::NatGatewayAddress {
                address: ip("198.51.100.20"),
                nat: "nat-a".into(),
            },
            EditError::UnknownRouteTable("rt".into()),
            EditError::GatewayNotInTableVpc {
                igw: "igw".into(),
                table: "rt".into(),
                vpc: "demo".into(),
                attached: Some("other".into()),
            },
            EditError::GatewayNotInTableVpc {
                igw: "spare".into(),
                table: "rt".into(),
                vpc: "demo".into(),
                attached: None,
            },
            EditError::GatewayAssociated {
                igw: "igw".into(),
                table: "edge-rt".into(),
            },
            EditError::GatewayNotAssociated {
                igw: "igw".into(),
                table: "rt".into(),
            },
            EditError::GatewayTableTarget {
                table: "public-rt".into(),
                destination: "0.0.0.0/0".parse().unwrap(),
                target: "igw".into(),
            },
            EditError::GatewayTableDestination {
                table: "egress-rt".into(),
                destination: "0.0.0.0/0".parse().unwrap(),
                vpc: "demo".into(),
                vpc_cidrs: "10.0.0.0/16".into(),
            },
            EditError::NotALocalRoute {
                table: "public-rt".into(),
                destination: "10.0.1.0/24".parse().unwrap(),
                vpc: "demo".into(),
                vpc_cidrs: "10.0.0.0/16".into(),
            },
            EditError::EniInOtherVpc {
                eni: "stranger/eth0".into(),
                eni_vpc: "other".into(),
                table: "public-rt".into(),
                table_vpc: "demo".into(),
            },
        ]
        .iter()
        .map(|e| e.to_string())
        .collect();
        assert_eq!(
            shown,
            [
                "NAT gateway \"nat-a\" is already deleted",
                "vpc \"demo\" already has internet gateway \"igw\" attached",
                "Elastic IP 198.51.100.10 is associated with web/eth0",
                "Elastic IP 198.51.100.20 belongs to NAT gateway \"nat-a\"; it is disassociated when the NAT gateway is deleted",
                "there is no route table \"rt\"",
                "internet gateway \"igw\" is not attached to vpc \"demo\" of route table \"rt\" (it is attached to vpc \"other\")",
                "internet gateway \"spare\" is not attached to vpc \"demo\" of route table \"rt\" (it is detached)",
                "internet gateway \"igw\" is already associated with route table \"edge-rt\"; an internet gateway has one gateway route table at most (disassociate it first)",
                "internet gateway \"igw\" is not associated with route table \"rt\"",
                "route table \"public-rt\" cannot be a gateway route table: its route to 0.0.0.0/0 targets igw, and a gateway route table's routes may only target a network interface",
                "route table \"egress-rt\" cannot be a gateway route table: its route to 0.0.0.0/0 is outside vpc \"demo\" (10.0.0.0/16), and a gateway route table may only route destinations inside its VPC's CIDR blocks",
                "10.0.1.0/24 is not a local route of route table \"public-rt\": its local routes are the CIDR blocks of vpc \"demo\" (10.0.0.0/16)",
                "stranger/eth0 is in vpc \"other\", route table \"public-rt\" in vpc \"demo\"",
            ]
        );
    }
}

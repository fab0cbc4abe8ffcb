//! Changes to a running topology, as the daemon's control socket makes them: deleting a
//! NAT gateway, attaching and detaching an internet gateway, allocating, releasing,
//! associating and disassociating Elastic IPs, associating a route table with an
//! internet gateway and disassociating it, and replacing or restoring the target of a
//! local route (EC2's `DeleteNatGateway`, `AttachInternetGateway`,
//! `DetachInternetGateway`, `AllocateAddress`, `ReleaseAddress`, `AssociateAddress`,
//! `DisassociateAddress`, `AssociateRouteTable --gateway-id`, `DisassociateRouteTable`
//! and `ReplaceRoute` on a local route, with `--network-interface-id` or
//! `--local-target`); creating, accepting and deleting VPC peering connections
//! (`CreateVpcPeeringConnection`, `AcceptVpcPeeringConnection`,
//! `DeleteVpcPeeringConnection`); changing transit gateway route tables' propagations,
//! associations and static routes and accepting attachments
//! (`EnableTransitGatewayRouteTablePropagation`,
//! `DisableTransitGatewayRouteTablePropagation`, `AssociateTransitGatewayRouteTable`,
//! `DisassociateTransitGatewayRouteTable`, `CreateTransitGatewayRoute`,
//! `DeleteTransitGatewayRoute`, `AcceptTransitGatewayVpcAttachment` /
//! `AcceptTransitGatewayPeeringAttachment`); and registering and deregistering
//! multicast group members and sources
//! (`RegisterTransitGatewayMulticastGroupMembers` and the rest). An instance's
//! metadata options (`ModifyInstanceMetadataOptions`) are changed in `metadata`
//! ([`Topology::modify_instance_metadata_options`]).
//!
//! Each method checks everything first: it either returns an error and changes
//! nothing, or applies the whole change. The topology's invariants hold after every
//! change: a VPC has at most one attached internet gateway, public addresses are unique
//! and in the documentation ranges, an interface has at most one Elastic IP, an Elastic
//! IP has at most one association, an internet gateway has at most one gateway route
//! table, of the VPC it is attached to, whose routes are all inside the VPC's blocks
//! and target network interfaces (AWS's rules for gateway route tables), and a local
//! route's target is `local` or a network interface of the table's VPC. Two VPCs are
//! joined by at most one peering connection that is not deleted, never with
//! overlapping blocks; a transit gateway attachment is associated with at most one
//! route table of each of its gateways, only VPC attachments propagate, static routes'
//! destinations are canonical and unique per table; a multicast group's members and
//! sources are interfaces of subnets associated with the domain, each registered once.
//!
//! Where vpcd differs from AWS: an internet gateway may be detached while addresses of
//! its VPC are mapped to public ones (AWS refuses); its mappings stop with it, and its
//! edge association is removed (a detached gateway routes nothing: attach it again,
//! then associate it again). Associating a gateway that already has a gateway route
//! table is refused (AWS replaces the association). Routes to a detached internet
//! gateway, a deleted NAT gateway or a deleted peering connection stay in their tables
//! (their state is `blackhole`), as in AWS.

mod endpoints;

pub use endpoints::EndpointEditError;
mod vpn;
pub use vpn::{NewTunnelOptions, VpnEditError};

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::addressing;
use crate::fabric::*;
use crate::topology::*;

mod dns;
pub use dns::{DnsEditError, NewDhcpOptions};

/// Why a change to the topology was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// Deleting an attachment a multicast domain associates.
    #[error(
        "transit gateway attachment {attachment:?} has subnets associated with multicast domain {domain:?}: deregister its members and sources and disassociate them first"
    )]
    AttachmentInMulticastDomain {
        /// The attachment.
        attachment: String,
        /// The domain.
        domain: String,
    },
    /// A multicast group that has as many members as vpcd carries.
    #[error(
        "group {0} has {max} members already: vpcd carries a group to at most {max} interfaces",
        max = crate::MAX_GROUP_MEMBERS
    )]
    TooManyGroupMembers(Ipv4Addr),
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
    /// A name that cannot name a resource.
    #[error(
        "{0:?} is not a valid name (1 to 48 characters: letters, digits, '-', '_' and '.', starting with a letter or digit)"
    )]
    BadName(String),
    /// Creating a resource with the name of an existing one of its kind.
    #[error("there is already a {kind} named {name:?}")]
    NameTaken {
        /// The kind of resource, e.g. "VPC peering connection".
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// No VPC peering connection has the name.
    #[error("there is no VPC peering connection {0:?}")]
    UnknownVpcPeeringConnection(String),
    /// Peering a VPC with itself.
    #[error("vpc {0:?} cannot be peered with itself")]
    PeeredWithItself(String),
    /// Peering VPCs whose blocks overlap.
    #[error(
        "{peer_cidr} of vpc {peer_vpc:?} overlaps {cidr} of vpc {vpc:?}: VPCs with matching or overlapping IPv4 CIDR blocks cannot be peered"
    )]
    PeeringOverlap {
        /// The requester.
        vpc: String,
        /// The requester's block.
        cidr: Ipv4Net,
        /// The accepter.
        peer_vpc: String,
        /// The accepter's block that overlaps it.
        peer_cidr: Ipv4Net,
    },
    /// Peering VPCs that are peered already.
    #[error(
        "vpc {vpc:?} and vpc {peer_vpc:?} are already peered by VPC peering connection {pcx:?}"
    )]
    AlreadyPeered {
        /// The requester.
        vpc: String,
        /// The accepter.
        peer_vpc: String,
        /// The connection that joins them.
        pcx: String,
    },
    /// Accepting a connection that is not pending acceptance.
    #[error("VPC peering connection {pcx:?} is {status}, not pending-acceptance")]
    PeeringNotPending {
        /// The connection.
        pcx: String,
        /// Its status (AWS's name).
        status: &'static str,
    },
    /// Deleting a connection that is deleted.
    #[error("VPC peering connection {0:?} is already deleted")]
    PeeringDeleted(String),
    /// No transit gateway route table has the name.
    #[error("there is no transit gateway route table {0:?}")]
    UnknownTgwRouteTable(String),
    /// No transit gateway attachment has the name.
    #[error("there is no transit gateway attachment {0:?}")]
    UnknownTgwAttachment(String),
    /// An attachment of another gateway than the route table's.
    #[error(
        "transit gateway attachment {attachment:?} is not an attachment of transit gateway {tgw:?} of route table {table:?}"
    )]
    AttachmentNotOnTgw {
        /// The attachment.
        attachment: String,
        /// The route table.
        table: String,
        /// The route table's gateway.
        tgw: String,
    },
    /// Using a deleted attachment.
    #[error("transit gateway attachment {0:?} is deleted")]
    AttachmentDeleted(String),
    /// Propagating from a peering attachment.
    #[error(
        "transit gateway attachment {0:?} is a peering attachment: peering attachments propagate no routes (add a static route to it)"
    )]
    PropagationFromPeering(String),
    /// Enabling a propagation that is enabled.
    #[error(
        "transit gateway attachment {attachment:?} already propagates into route table {table:?}"
    )]
    AlreadyPropagating {
        /// The attachment.
        attachment: String,
        /// The route table.
        table: String,
    },
    /// Disabling a propagation that is not enabled.
    #[error(
        "transit gateway attachment {attachment:?} does not propagate into route table {table:?}"
    )]
    NotPropagating {
        /// The attachment.
        attachment: String,
        /// The route table.
        table: String,
    },
    /// Associating an attachment that is associated with a table of the gateway.
    #[error(
        "transit gateway attachment {attachment:?} is already associated with route table {table:?}; an attachment has one route table per transit gateway (disassociate it first)"
    )]
    TgwAttachmentAssociated {
        /// The attachment.
        attachment: String,
        /// The route table it is associated with.
        table: String,
    },
    /// Disassociating an attachment from a table it is not associated with.
    #[error(
        "transit gateway attachment {attachment:?} is not associated with route table {table:?}"
    )]
    TgwAttachmentNotAssociated {
        /// The attachment.
        attachment: String,
        /// The route table.
        table: String,
    },
    /// A destination with host bits set.
    #[error("{given} is not canonical: host bits are set (did you mean {canonical}?)")]
    NonCanonicalDestination {
        /// As given.
        given: Ipv4Net,
        /// With the host bits cleared.
        canonical: Ipv4Net,
    },
    /// Creating a static route whose destination the table routes statically already.
    #[error("route table {table:?} already has a static route to {destination}")]
    TgwRouteExists {
        /// The route table.
        table: String,
        /// The destination.
        destination: Ipv4Net,
    },
    /// Deleting a static route that does not exist.
    #[error("route table {table:?} has no static route to {destination}")]
    NoTgwRoute {
        /// The route table.
        table: String,
        /// The destination.
        destination: Ipv4Net,
    },
    /// Accepting an attachment that is not pending acceptance.
    #[error("transit gateway attachment {attachment:?} is {status}, not pending-acceptance")]
    AttachmentNotPending {
        /// The attachment.
        attachment: String,
        /// Its status (AWS's name).
        status: &'static str,
    },
    /// No multicast domain has the name.
    #[error("there is no transit gateway multicast domain {0:?}")]
    UnknownMulticastDomain(String),
    /// A group address that is not one a multicast domain uses.
    #[error(
        "{0} is not a multicast group address: use 224.0.0.0/4 outside 224.0.0.0/24 (local network control)"
    )]
    NotMulticastGroup(Ipv4Addr),
    /// Registering an interface whose subnet is not associated with the domain.
    #[error(
        "{eni} is in subnet {subnet:?}, which is not associated with multicast domain {domain:?}"
    )]
    SubnetNotInDomain {
        /// The interface (`instance/ethN`).
        eni: String,
        /// Its subnet.
        subnet: String,
        /// The domain.
        domain: String,
    },
    /// Registering a member or source that is registered.
    #[error("{eni} is already a {role} of group {group} in multicast domain {domain:?}")]
    AlreadyRegistered {
        /// The interface (`instance/ethN`).
        eni: String,
        /// "member" or "source".
        role: &'static str,
        /// The group.
        group: Ipv4Addr,
        /// The domain.
        domain: String,
    },
    /// Deregistering a member or source that is not registered.
    #[error("{eni} is not a {role} of group {group} in multicast domain {domain:?}")]
    NotRegistered {
        /// The interface (`instance/ethN`).
        eni: String,
        /// "member" or "source".
        role: &'static str,
        /// The group.
        group: Ipv4Addr,
        /// The domain.
        domain: String,
    },
    /// No running instance has the name.
    #[error("there is no instance {0:?}")]
    UnknownInstance(String),
    /// A metadata hop limit outside 1..=64.
    #[error("http_put_response_hop_limit {0} is not 1 to 64")]
    BadHopLimit(i64),
    /// A metadata option's value that AWS does not have.
    #[error(
        "{key} {value:?} is not one of AWS's values ({})",
        if *key == "http_tokens" { "optional, required" } else { "enabled, disabled" }
    )]
    BadMetadataOption {
        /// `http_tokens` or `http_endpoint`.
        key: &'static str,
        /// The value given.
        value: String,
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

    /// Requests VPC peering connection `name` from VPC `vpc` (the requester) to VPC
    /// `peer_vpc` (the accepter) (`CreateVpcPeeringConnection`). Refused, as when the
    /// configuration is loaded, for the same VPC twice, for VPCs with overlapping
    /// blocks and for VPCs that a connection (not deleted) joins already. Its status is
    /// `active` when both VPCs have one owner and `pending-acceptance` otherwise (the
    /// configuration's default).
    pub fn create_vpc_peering_connection(
        &mut self,
        name: &str,
        vpc: &str,
        peer_vpc: &str,
    ) -> Result<VpcPeeringConnectionId, EditError> {
        if !crate::validate::valid_name(name) {
            return Err(EditError::BadName(name.to_owned()));
        }
        if self.find_vpc_peering_connection(name).is_some() {
            return Err(EditError::NameTaken {
                kind: "VPC peering connection",
                name: name.to_owned(),
            });
        }
        let a = self.vpc_named(vpc)?;
        let b = self.vpc_named(peer_vpc)?;
        if a == b {
            return Err(EditError::PeeredWithItself(vpc.to_owned()));
        }
        let overlap = self.vpc(a).cidrs.iter().find_map(|&x| {
            let y = self.vpc(b).cidrs.iter().find(|y| overlaps(x, **y))?;
            Some((x, *y))
        });
        if let Some((cidr, peer_cidr)) = overlap {
            return Err(EditError::PeeringOverlap {
                vpc: vpc.to_owned(),
                cidr,
                peer_vpc: peer_vpc.to_owned(),
                peer_cidr,
            });
        }
        if let Some(p) = self.vpc_peering_between(a, b) {
            return Err(EditError::AlreadyPeered {
                vpc: vpc.to_owned(),
                peer_vpc: peer_vpc.to_owned(),
                pcx: self.vpc_peering_connection(p).name.clone(),
            });
        }
        let status = PeeringStatus::new_between(self.vpc(a).owner_id == self.vpc(b).owner_id);
        self.vpc_peering_connections.push(VpcPeeringConnection {
            name: name.to_owned(),
            requester: a,
            accepter: b,
            status,
        });
        Ok(VpcPeeringConnectionId(
            self.vpc_peering_connections.len() as u32 - 1,
        ))
    }

    /// Accepts VPC peering connection `name` (`AcceptVpcPeeringConnection`): it must be
    /// `pending-acceptance`, and becomes `active`.
    pub fn accept_vpc_peering_connection(&mut self, name: &str) -> Result<(), EditError> {
        let id = self.vpc_peering_connection_named(name)?;
        let status = self.vpc_peering_connection(id).status;
        if status != PeeringStatus::PendingAcceptance {
            return Err(EditError::PeeringNotPending {
                pcx: name.to_owned(),
                status: status.aws_name(),
            });
        }
        self.vpc_peering_connections[id.index()].status = PeeringStatus::Active;
        Ok(())
    }

    /// Deletes VPC peering connection `name` (`DeleteVpcPeeringConnection`, or
    /// `RejectVpcPeeringConnection` of a pending one): it stays in the list with status
    /// `deleted`, so routes to it stay and turn `blackhole`, and security group rules
    /// referencing the peer's groups stay (AWS's stale rules). The two VPCs may then be
    /// peered again by a new connection.
    pub fn delete_vpc_peering_connection(&mut self, name: &str) -> Result<(), EditError> {
        let id = self.vpc_peering_connection_named(name)?;
        if self.vpc_peering_connection(id).status == PeeringStatus::Deleted {
            return Err(EditError::PeeringDeleted(name.to_owned()));
        }
        self.vpc_peering_connections[id.index()].status = PeeringStatus::Deleted;
        Ok(())
    }

    /// Makes VPC attachment `attachment` propagate its VPC's blocks into transit
    /// gateway route table `table` (`EnableTransitGatewayRouteTablePropagation`). The
    /// attachment must be a VPC attachment of the table's gateway, not deleted, and not
    /// propagating into the table already.
    pub fn enable_tgw_route_table_propagation(
        &mut self,
        table: &str,
        attachment: &str,
    ) -> Result<(), EditError> {
        let (t, a) = self.table_and_attachment(table, attachment)?;
        if self.tgw_attachment(a).vpc().is_none() {
            return Err(EditError::PropagationFromPeering(attachment.to_owned()));
        }
        if self.tgw_route_table(t).propagations.contains(&a) {
            return Err(EditError::AlreadyPropagating {
                attachment: attachment.to_owned(),
                table: table.to_owned(),
            });
        }
        self.tgw_route_tables[t.index()].propagations.push(a);
        Ok(())
    }

    /// Stops attachment `attachment` propagating into transit gateway route table
    /// `table` (`DisableTransitGatewayRouteTablePropagation`); a propagation the
    /// default route table got by default is disabled the same way.
    pub fn disable_tgw_route_table_propagation(
        &mut self,
        table: &str,
        attachment: &str,
    ) -> Result<(), EditError> {
        let t = self.tgw_route_table_named(table)?;
        let a = self.tgw_attachment_named(attachment)?;
        let propagations = &mut self.tgw_route_tables[t.index()].propagations;
        let Some(k) = propagations.iter().position(|&p| p == a) else {
            return Err(EditError::NotPropagating {
                attachment: attachment.to_owned(),
                table: table.to_owned(),
            });
        };
        propagations.remove(k);
        Ok(())
    }

    /// Associates attachment `attachment` with transit gateway route table `table`
    /// (`AssociateTransitGatewayRouteTable`): the table then routes what enters the
    /// gateway through the attachment. The attachment must be one of the table's
    /// gateway (a peering attachment is one of both its gateways), not deleted, and
    /// associated with no table of that gateway (AWS refuses too: disassociate first).
    pub fn associate_tgw_route_table(
        &mut self,
        table: &str,
        attachment: &str,
    ) -> Result<(), EditError> {
        let (t, a) = self.table_and_attachment(table, attachment)?;
        let tgw = self.tgw_route_table(t).transit_gateway;
        if let Some(other) = self.tgw_association_on(a, tgw) {
            return Err(EditError::TgwAttachmentAssociated {
                attachment: attachment.to_owned(),
                table: self.tgw_route_table(other).name.clone(),
            });
        }
        self.tgw_route_tables[t.index()].associations.push(a);
        Ok(())
    }

    /// Removes the association of attachment `attachment` with transit gateway route
    /// table `table` (`DisassociateTransitGatewayRouteTable`): what enters the gateway
    /// through it is then routed nowhere until it is associated again.
    pub fn disassociate_tgw_route_table(
        &mut self,
        table: &str,
        attachment: &str,
    ) -> Result<(), EditError> {
        let t = self.tgw_route_table_named(table)?;
        let a = self.tgw_attachment_named(attachment)?;
        let associations = &mut self.tgw_route_tables[t.index()].associations;
        let Some(k) = associations.iter().position(|&x| x == a) else {
            return Err(EditError::TgwAttachmentNotAssociated {
                attachment: attachment.to_owned(),
                table: table.to_owned(),
            });
        };
        associations.remove(k);
        Ok(())
    }

    /// Adds a static route to `destination` in transit gateway route table `table`
    /// (`CreateTransitGatewayRoute`): to attachment `attachment` (`Some`: an attachment
    /// of the table's gateway, VPC or peering, any status but deleted) or blackhole
    /// (`None`, `--blackhole`). `destination` must be canonical and not be the
    /// destination of a static route of the table (a propagated route of the same
    /// prefix is overridden: static routes win).
    pub fn create_tgw_route(
        &mut self,
        table: &str,
        destination: Ipv4Net,
        attachment: Option<&str>,
    ) -> Result<(), EditError> {
        let t = self.tgw_route_table_named(table)?;
        if destination.trunc() != destination {
            return Err(EditError::NonCanonicalDestination {
                given: destination,
                canonical: destination.trunc(),
            });
        }
        let target = match attachment {
            None => TgwRouteTarget::Blackhole,
            Some(name) => TgwRouteTarget::Attachment(self.table_and_attachment(table, name)?.1),
        };
        let rt = self.tgw_route_table(t);
        if rt.routes.iter().any(|r| r.destination == destination) {
            return Err(EditError::TgwRouteExists {
                table: table.to_owned(),
                destination,
            });
        }
        self.tgw_route_tables[t.index()].routes.push(TgwRoute {
            destination,
            target,
        });
        Ok(())
    }

    /// Deletes the static route to `destination` of transit gateway route table
    /// `table` (`DeleteTransitGatewayRoute`). A propagated route of the same prefix, if
    /// any, takes its place.
    pub fn delete_tgw_route(&mut self, table: &str, destination: Ipv4Net) -> Result<(), EditError> {
        let t = self.tgw_route_table_named(table)?;
        let routes = &mut self.tgw_route_tables[t.index()].routes;
        let Some(k) = routes.iter().position(|r| r.destination == destination) else {
            return Err(EditError::NoTgwRoute {
                table: table.to_owned(),
                destination,
            });
        };
        routes.remove(k);
        Ok(())
    }

    /// Accepts transit gateway attachment `name`
    /// (`AcceptTransitGatewayVpcAttachment`, `AcceptTransitGatewayPeeringAttachment`):
    /// it must be `pending-acceptance`, and becomes `available` (its routes turn
    /// active, its VPC's blocks propagate).
    pub fn accept_tgw_attachment(&mut self, name: &str) -> Result<(), EditError> {
        let a = self.tgw_attachment_named(name)?;
        let status = self.tgw_attachment(a).status;
        if status != AttachmentStatus::PendingAcceptance {
            return Err(EditError::AttachmentNotPending {
                attachment: name.to_owned(),
                status: status.aws_name(),
            });
        }
        self.tgw_attachments[a.index()].status = AttachmentStatus::Available;
        Ok(())
    }

    /// Deletes transit gateway attachment `name` (`DeleteTransitGatewayVpcAttachment`,
    /// `DeleteTransitGatewayPeeringAttachment`): it stays listed as `deleted`, it is
    /// removed from every route table's associations and propagations (its propagated
    /// routes go), static routes to it stay and are `blackhole`, and so are the VPC's
    /// routes to the gateway. Refused while a multicast domain associates one of its
    /// subnets (vpcd's choice: AWS requires the domain's disassociation first too).
    pub fn delete_tgw_attachment(&mut self, name: &str) -> Result<(), EditError> {
        let a = self.tgw_attachment_named(name)?;
        if self.tgw_attachment(a).status == AttachmentStatus::Deleted {
            return Err(EditError::AttachmentDeleted(name.to_owned()));
        }
        if let Some(d) = self
            .multicast_domains
            .iter()
            .find(|d| d.associations.iter().any(|&(x, _)| x == a))
        {
            return Err(EditError::AttachmentInMulticastDomain {
                attachment: name.to_owned(),
                domain: d.name.clone(),
            });
        }
        for t in &mut self.tgw_route_tables {
            t.associations.retain(|&x| x != a);
            t.propagations.retain(|&x| x != a);
        }
        self.tgw_attachments[a.index()].status = AttachmentStatus::Deleted;
        Ok(())
    }

    /// Registers network interface `eni` (written as [`Topology::find_eni`] takes it)
    /// as a member of multicast group `group` in domain `domain`
    /// (`RegisterTransitGatewayMulticastGroupMembers`). The group must be a multicast
    /// group address ([`crate::is_multicast_group`]), the interface's subnet must be
    /// associated with the domain, and the interface not a member of the group yet.
    pub fn register_multicast_group_members(
        &mut self,
        domain: &str,
        group: Ipv4Addr,
        eni: &str,
    ) -> Result<(), EditError> {
        self.register_multicast(domain, group, eni, Role::Member)
    }

    /// Deregisters network interface `eni` as a member of multicast group `group` in
    /// domain `domain` (`DeregisterTransitGatewayMulticastGroupMembers`).
    pub fn deregister_multicast_group_members(
        &mut self,
        domain: &str,
        group: Ipv4Addr,
        eni: &str,
    ) -> Result<(), EditError> {
        self.deregister_multicast(domain, group, eni, Role::Member)
    }

    /// Registers network interface `eni` as a source of multicast group `group` in
    /// domain `domain` (`RegisterTransitGatewayMulticastGroupSources`), with the
    /// members' rules.
    pub fn register_multicast_group_sources(
        &mut self,
        domain: &str,
        group: Ipv4Addr,
        eni: &str,
    ) -> Result<(), EditError> {
        self.register_multicast(domain, group, eni, Role::Source)
    }

    /// Deregisters network interface `eni` as a source of multicast group `group` in
    /// domain `domain` (`DeregisterTransitGatewayMulticastGroupSources`).
    pub fn deregister_multicast_group_sources(
        &mut self,
        domain: &str,
        group: Ipv4Addr,
        eni: &str,
    ) -> Result<(), EditError> {
        self.deregister_multicast(domain, group, eni, Role::Source)
    }

    fn register_multicast(
        &mut self,
        domain: &str,
        group: Ipv4Addr,
        eni: &str,
        role: Role,
    ) -> Result<(), EditError> {
        let d = self.multicast_domain_named(domain)?;
        if !crate::is_multicast_group(group) {
            return Err(EditError::NotMulticastGroup(group));
        }
        let e = self
            .find_eni(eni)
            .ok_or_else(|| EditError::UnknownNetworkInterface(eni.to_owned()))?;
        let md = self.multicast_domain(d);
        let subnet = self.eni(e).subnet;
        if !md.associations.iter().any(|&(_, s)| s == subnet) {
            return Err(EditError::SubnetNotInDomain {
                eni: self.eni_name(e).to_string(),
                subnet: self.subnet(subnet).name.clone(),
                domain: domain.to_owned(),
            });
        }
        if role.list(md).contains(&(group, e)) {
            return Err(EditError::AlreadyRegistered {
                eni: self.eni_name(e).to_string(),
                role: role.name(),
                group,
                domain: domain.to_owned(),
            });
        }
        if let Role::Member = role
            && md.members.iter().filter(|(g, _)| *g == group).count() >= crate::MAX_GROUP_MEMBERS
        {
            return Err(EditError::TooManyGroupMembers(group));
        }
        role.list_mut(&mut self.multicast_domains[d.index()])
            .push((group, e));
        Ok(())
    }

    fn deregister_multicast(
        &mut self,
        domain: &str,
        group: Ipv4Addr,
        eni: &str,
        role: Role,
    ) -> Result<(), EditError> {
        let d = self.multicast_domain_named(domain)?;
        let e = self
            .find_eni(eni)
            .ok_or_else(|| EditError::UnknownNetworkInterface(eni.to_owned()))?;
        let Some(k) = role
            .list(self.multicast_domain(d))
            .iter()
            .position(|&x| x == (group, e))
        else {
            return Err(EditError::NotRegistered {
                eni: self.eni_name(e).to_string(),
                role: role.name(),
                group,
                domain: domain.to_owned(),
            });
        };
        role.list_mut(&mut self.multicast_domains[d.index()])
            .remove(k);
        Ok(())
    }

    /// The VPC named `name`.
    pub fn find_vpc(&self, name: &str) -> Option<VpcId> {
        self.vpcs
            .iter()
            .position(|v| v.name == name)
            .map(|i| VpcId(i as u32))
    }

    /// The VPC peering connection named `name` (deleted ones included).
    pub fn find_vpc_peering_connection(&self, name: &str) -> Option<VpcPeeringConnectionId> {
        self.vpc_peering_connections
            .iter()
            .position(|p| p.name == name)
            .map(|i| VpcPeeringConnectionId(i as u32))
    }

    /// The transit gateway named `name`.
    pub fn find_transit_gateway(&self, name: &str) -> Option<TransitGatewayId> {
        self.transit_gateways
            .iter()
            .position(|g| g.name == name)
            .map(|i| TransitGatewayId(i as u32))
    }

    /// The transit gateway attachment (VPC or peering) named `name`.
    pub fn find_tgw_attachment(&self, name: &str) -> Option<TgwAttachmentId> {
        self.tgw_attachments
            .iter()
            .position(|a| a.name == name)
            .map(|i| TgwAttachmentId(i as u32))
    }

    /// The transit gateway route table named `name`.
    pub fn find_tgw_route_table(&self, name: &str) -> Option<TgwRouteTableId> {
        self.tgw_route_tables
            .iter()
            .position(|t| t.name == name)
            .map(|i| TgwRouteTableId(i as u32))
    }

    /// The multicast domain named `name`.
    pub fn find_multicast_domain(&self, name: &str) -> Option<MulticastDomainId> {
        self.multicast_domains
            .iter()
            .position(|d| d.name == name)
            .map(|i| MulticastDomainId(i as u32))
    }

    /// The resource share named `name`.
    pub fn find_resource_share(&self, name: &str) -> Option<ResourceShareId> {
        self.resource_shares
            .iter()
            .position(|s| s.name == name)
            .map(|i| ResourceShareId(i as u32))
    }

    fn vpc_named(&self, name: &str) -> Result<VpcId, EditError> {
        self.find_vpc(name)
            .ok_or_else(|| EditError::UnknownVpc(name.to_owned()))
    }

    fn vpc_peering_connection_named(
        &self,
        name: &str,
    ) -> Result<VpcPeeringConnectionId, EditError> {
        self.find_vpc_peering_connection(name)
            .ok_or_else(|| EditError::UnknownVpcPeeringConnection(name.to_owned()))
    }

    fn tgw_route_table_named(&self, name: &str) -> Result<TgwRouteTableId, EditError> {
        self.find_tgw_route_table(name)
            .ok_or_else(|| EditError::UnknownTgwRouteTable(name.to_owned()))
    }

    fn tgw_attachment_named(&self, name: &str) -> Result<TgwAttachmentId, EditError> {
        self.find_tgw_attachment(name)
            .ok_or_else(|| EditError::UnknownTgwAttachment(name.to_owned()))
    }

    fn multicast_domain_named(&self, name: &str) -> Result<MulticastDomainId, EditError> {
        self.find_multicast_domain(name)
            .ok_or_else(|| EditError::UnknownMulticastDomain(name.to_owned()))
    }

    /// Transit gateway route table `table` and attachment `attachment` of its gateway
    /// that is not deleted.
    fn table_and_attachment(
        &self,
        table: &str,
        attachment: &str,
    ) -> Result<(TgwRouteTableId, TgwAttachmentId), EditError> {
        let t = self.tgw_route_table_named(table)?;
        let a = self.tgw_attachment_named(attachment)?;
        let tgw = self.tgw_route_table(t).transit_gateway;
        let att = self.tgw_attachment(a);
        if !att.is_on(tgw) {
            return Err(EditError::AttachmentNotOnTgw {
                attachment: attachment.to_owned(),
                table: table.to_owned(),
                tgw: self.transit_gateway(tgw).name.clone(),
            });
        }
        if att.status == AttachmentStatus::Deleted {
            return Err(EditError::AttachmentDeleted(attachment.to_owned()));
        }
        Ok((t, a))
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
        if let Some(g) = self
            .customer_gateways
            .iter()
            .find(|g| g.ip_address == address)
        {
            return Some(format!("customer gateway {:?}", g.name));
        }
        self.internet_hosts
            .iter()
            .find(|h| h.address == address)
            .map(|h| format!("internet host {:?}", h.name))
    }
}

/// Whether two blocks overlap.
fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Members or sources of a multicast group.
#[derive(Clone, Copy)]
enum Role {
    Member,
    Source,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Source => "source",
        }
    }

    fn list(self, d: &MulticastDomain) -> &Vec<(Ipv4Addr, EniId)> {
        match self {
            Role::Member => &d.members,
            Role::Source => &d.sources,
        }
    }

    fn list_mut(self, d: &mut MulticastDomain) -> &mut Vec<(Ipv4Addr, EniId)> {
        match self {
            Role::Member => &mut d.members,
            Role::Source => &mut d.sources,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::net::Ipv4Addr;

    use super::EditError;
    use crate::fabric::*;
    use crate::topology::*;

    /// The demo, plus a detached internet gateway `spare-igw`, a second VPC `other`
    /// (10.9.0.0/16 and 10.10.0.0/16) without one, with instance `stranger`, an
    /// unassociated Elastic IP 198.51.100.30, `app/eth0`'s public IP 203.0.113.5, a
    /// private NAT gateway `hidden`, a gateway route table `edge-rt` of internet
    /// gateway `igw` (private-b's CIDR to `app`) and a table `egress-rt` whose only
    /// route, 0.0.0.0/0, goes to `app`.
    pub(crate) fn topology() -> Topology {
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

    /// VPCs `a` (10.1.0.0/16), `b` (10.2.0.0/16), `c` (10.3.0.0/16, account
    /// 444455556666) and `d` (10.1.0.0/16 again), each with one subnet and instance
    /// (`pa`, `pa2`, `pb`, `pc`, `pd`); peering connections `a-b` (active, routed from
    /// `a`) and `b-c` (pending, across accounts); transit gateways `tgw` (multicast
    /// support, shared with 444455556666) and `tgw2`; attachments `att-a`, `att-b`,
    /// `att-c` (pending) to `tgw`, `att-d` to `tgw2`, peering attachment `tp` between
    /// them; route table `rt` of `tgw` (associates `att-a`, propagation from `att-b`, a
    /// blackhole route to 10.9.0.0/16), `tgw`'s implicit default table, `tgw2-rt`;
    /// multicast domain `md` with subnet `a-1` and member `pa`.
    pub(crate) fn fabric() -> Topology {
        let src = r#"
[[vpc]]
name = "a"
cidr = "10.1.0.0/16"

[[vpc]]
name = "b"
cidr = "10.2.0.0/16"

[[vpc]]
name = "c"
cidr = "10.3.0.0/16"
owner_id = "444455556666"

[[vpc]]
name = "d"
cidr = "10.1.0.0/16"

[[subnet]]
name = "a-1"
vpc = "a"
cidr = "10.1.1.0/24"
az = "x"

[[subnet]]
name = "b-1"
vpc = "b"
cidr = "10.2.1.0/24"
az = "x"

[[subnet]]
name = "c-1"
vpc = "c"
cidr = "10.3.1.0/24"
az = "x"

[[subnet]]
name = "d-1"
vpc = "d"
cidr = "10.1.1.0/24"
az = "x"

[[instance]]
name = "pa"
subnet = "a-1"

[[instance]]
name = "pa2"
subnet = "a-1"

[[instance]]
name = "pb"
subnet = "b-1"

[[instance]]
name = "pc"
subnet = "c-1"

[[instance]]
name = "pd"
subnet = "d-1"

[[vpc_peering_connection]]
name = "a-b"
vpc = "a"
peer_vpc = "b"

[[vpc_peering_connection]]
name = "b-c"
vpc = "b"
peer_vpc = "c"

[[route_table]]
name = "a-rt"
vpc = "a"
main = true
route = [{ destination = "10.2.0.0/16", vpc_peering_connection = "a-b" }]

[[transit_gateway]]
name = "tgw"
multicast_support = "enable"

[[transit_gateway]]
name = "tgw2"
default_route_table_association = "disable"
default_route_table_propagation = "disable"

[[resource_share]]
name = "share"
resources = ["tgw"]
principals = ["444455556666"]

[[transit_gateway_vpc_attachment]]
name = "att-a"
transit_gateway = "tgw"
vpc = "a"
subnets = ["a-1"]

[[transit_gateway_vpc_attachment]]
name = "att-b"
transit_gateway = "tgw"
vpc = "b"
subnets = ["b-1"]

[[transit_gateway_vpc_attachment]]
name = "att-c"
transit_gateway = "tgw"
vpc = "c"
subnets = ["c-1"]

[[transit_gateway_vpc_attachment]]
name = "att-d"
transit_gateway = "tgw2"
vpc = "d"
subnets = ["d-1"]

[[transit_gateway_peering_attachment]]
name = "tp"
transit_gateway = "tgw"
peer_transit_gateway = "tgw2"

[[transit_gateway_route_table]]
name = "rt"
transit_gateway = "tgw"
associations = ["att-a"]
propagations = ["att-b"]
route = [{ destination = "10.9.0.0/16", blackhole = true }]

[[transit_gateway_route_table]]
name = "tgw2-rt"
transit_gateway = "tgw2"

[[transit_gateway_multicast_domain]]
name = "md"
transit_gateway = "tgw"
associations = [{ transit_gateway_attachment = "att-a", subnets = ["a-1"] }]
group_members = [{ group_ip_address = "239.1.1.1", network_interface = "pa/eth0" }]
"#;
        crate::parse(src, "t.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `edit` on a fresh [`fabric`]: on error, checks that nothing changed.
    fn refused_fabric<T: std::fmt::Debug>(
        edit: impl FnOnce(&mut Topology) -> Result<T, EditError>,
    ) -> EditError {
        let mut t = fabric();
        let before = t.clone();
        let e = edit(&mut t).expect_err("the edit should be refused");
        assert_eq!(t, before, "a refused edit changed the topology");
        e
    }

    fn pcx_status(t: &Topology, name: &str) -> PeeringStatus {
        let id = t.find_vpc_peering_connection(name).unwrap();
        t.vpc_peering_connection(id).status
    }

    #[test]
    fn creating_accepting_and_deleting_peering_connections() {
        let mut t = fabric();
        assert_eq!(pcx_status(&t, "a-b"), PeeringStatus::Active);
        assert_eq!(pcx_status(&t, "b-c"), PeeringStatus::PendingAcceptance);
        // Across accounts: pending until accepted.
        let id = t.create_vpc_peering_connection("a-c", "a", "c").unwrap();
        assert_eq!(t.find_vpc_peering_connection("a-c"), Some(id));
        assert_eq!(
            t.vpc_peering_connection(id),
            &VpcPeeringConnection {
                name: "a-c".into(),
                requester: VpcId(0),
                accepter: VpcId(2),
                status: PeeringStatus::PendingAcceptance,
            }
        );
        t.accept_vpc_peering_connection("a-c").unwrap();
        assert_eq!(pcx_status(&t, "a-c"), PeeringStatus::Active);
        assert_eq!(
            t.accept_vpc_peering_connection("a-c"),
            Err(EditError::PeeringNotPending {
                pcx: "a-c".into(),
                status: "active"
            })
        );
        // Within one account: active at once.
        t.delete_vpc_peering_connection("a-c").unwrap();
        assert_eq!(pcx_status(&t, "a-c"), PeeringStatus::Deleted);
        let id = t.create_vpc_peering_connection("c-a", "c", "a").unwrap();
        assert_eq!(
            t.vpc_peering_connection(id).status,
            PeeringStatus::PendingAcceptance
        );
        // Deleting keeps the connection and its routes; the VPCs may be peered again.
        t.delete_vpc_peering_connection("a-b").unwrap();
        let a_rt = t.find_route_table("a-rt").unwrap();
        let ab = t.find_vpc_peering_connection("a-b").unwrap();
        assert_eq!(
            t.route_table(a_rt).routes[1].target,
            RouteTarget::VpcPeeringConnection(ab)
        );
        assert_eq!(t.vpc_peering_between(VpcId(0), VpcId(1)), None);
        assert_eq!(
            t.delete_vpc_peering_connection("a-b"),
            Err(EditError::PeeringDeleted("a-b".into()))
        );
        assert_eq!(
            t.accept_vpc_peering_connection("a-b"),
            Err(EditError::PeeringNotPending {
                pcx: "a-b".into(),
                status: "deleted"
            })
        );
        let again = t.create_vpc_peering_connection("a-b-2", "b", "a").unwrap();
        assert_eq!(
            t.vpc_peering_connection(again).status,
            PeeringStatus::Active
        );
        assert_eq!(t.vpc_peering_between(VpcId(0), VpcId(1)), Some(again));
        // A pending connection may be deleted (rejected).
        t.delete_vpc_peering_connection("b-c").unwrap();

        assert_eq!(
            refused_fabric(|t| t.create_vpc_peering_connection("../x", "a", "c")),
            EditError::BadName("../x".into())
        );
        assert_eq!(
            refused_fabric(|t| t.create_vpc_peering_connection("a-b", "a", "c")),
            EditError::NameTaken {
                kind: "VPC peering connection",
                name: "a-b".into()
            }
        );
        assert_eq!(
            refused_fabric(|t| t.create_vpc_peering_connection("x", "a", "nope")),
            EditError::UnknownVpc("nope".into())
        );
        assert_eq!(
            refused_fabric(|t| t.create_vpc_peering_connection("x", "a", "a")),
            EditError::PeeredWithItself("a".into())
        );
        assert_eq!(
            refused_fabric(|t| t.create_vpc_peering_connection("x", "d", "a")),
            EditError::PeeringOverlap {
                vpc: "d".into(),
                cidr: net("10.1.0.0/16"),
                peer_vpc: "a".into(),
                peer_cidr: net("10.1.0.0/16")
            }
        );
        assert_eq!(
            refused_fabric(|t| t.create_vpc_peering_connection("x", "b", "a")),
            EditError::AlreadyPeered {
                vpc: "b".into(),
                peer_vpc: "a".into(),
                pcx: "a-b".into()
            }
        );
        assert_eq!(
            refused_fabric(|t| t.accept_vpc_peering_connection("nope")),
            EditError::UnknownVpcPeeringConnection("nope".into())
        );
        assert_eq!(
            refused_fabric(|t| t.delete_vpc_peering_connection("nope")),
            EditError::UnknownVpcPeeringConnection("nope".into())
        );
    }

    /// The effective routes of transit gateway route table `table`, as
    /// `destination target type state`.
    fn tgw_routes(t: &Topology, table: &str) -> Vec<String> {
        t.tgw_routes(t.find_tgw_route_table(table).unwrap())
            .iter()
            .map(|e| {
                format!(
                    "{} {} {} {}",
                    e.destination,
                    t.tgw_route_target_name(e.target),
                    e.route_type.aws_name(),
                    e.state.aws_name()
                )
            })
            .collect()
    }

    #[test]
    fn enabling_and_disabling_propagations() {
        let mut t = fabric();
        assert_eq!(
            tgw_routes(&t, "rt"),
            [
                "10.2.0.0/16 att-b propagated active",
                "10.9.0.0/16 blackhole static blackhole"
            ]
        );
        t.enable_tgw_route_table_propagation("rt", "att-a").unwrap();
        t.enable_tgw_route_table_propagation("rt", "att-c").unwrap();
        // att-c is pending: it propagates once accepted.
        assert_eq!(
            tgw_routes(&t, "rt"),
            [
                "10.1.0.0/16 att-a propagated active",
                "10.2.0.0/16 att-b propagated active",
                "10.9.0.0/16 blackhole static blackhole"
            ]
        );
        t.disable_tgw_route_table_propagation("rt", "att-b")
            .unwrap();
        // The default table's propagations are disabled the same way.
        t.disable_tgw_route_table_propagation("tgw-default", "att-a")
            .unwrap();
        let d = t.find_tgw_route_table("tgw-default").unwrap();
        assert!(
            !t.tgw_route_table(d)
                .propagations
                .contains(&t.find_tgw_attachment("att-a").unwrap())
        );
        t.enable_tgw_route_table_propagation("tgw2-rt", "att-d")
            .unwrap();
        assert_eq!(
            tgw_routes(&t, "tgw2-rt"),
            ["10.1.0.0/16 att-d propagated active"]
        );

        assert_eq!(
            refused_fabric(|t| t.enable_tgw_route_table_propagation("rt", "att-b")),
            EditError::AlreadyPropagating {
                attachment: "att-b".into(),
                table: "rt".into()
            }
        );
        assert_eq!(
            refused_fabric(|t| t.enable_tgw_route_table_propagation("rt", "tp")),
            EditError::PropagationFromPeering("tp".into())
        );
        assert_eq!(
            refused_fabric(|t| t.enable_tgw_route_table_propagation("rt", "att-d")),
            EditError::AttachmentNotOnTgw {
                attachment: "att-d".into(),
                table: "rt".into(),
                tgw: "tgw".into()
            }
        );
        assert_eq!(
            refused_fabric(|t| t.enable_tgw_route_table_propagation("nope", "att-a")),
            EditError::UnknownTgwRouteTable("nope".into())
        );
        assert_eq!(
            refused_fabric(|t| t.enable_tgw_route_table_propagation("rt", "nope")),
            EditError::UnknownTgwAttachment("nope".into())
        );
        assert_eq!(
            refused_fabric(|t| t.disable_tgw_route_table_propagation("rt", "att-a")),
            EditError::NotPropagating {
                attachment: "att-a".into(),
                table: "rt".into()
            }
        );
        let mut t = fabric();
        let c = t.find_tgw_attachment("att-c").unwrap();
        t.tgw_attachments[c.index()].status = AttachmentStatus::Deleted;
        assert_eq!(
            t.enable_tgw_route_table_propagation("rt", "att-c"),
            Err(EditError::AttachmentDeleted("att-c".into()))
        );
    }

    #[test]
    fn associating_and_disassociating_tgw_route_tables() {
        let mut t = fabric();
        let a = t.find_tgw_attachment("att-a").unwrap();
        let tp = t.find_tgw_attachment("tp").unwrap();
        let rt = t.find_tgw_route_table("rt").unwrap();
        let d = t.find_tgw_route_table("tgw-default").unwrap();
        assert_eq!(t.tgw_association(a), Some(rt));
        t.disassociate_tgw_route_table("rt", "att-a").unwrap();
        assert_eq!(t.tgw_association(a), None);
        t.associate_tgw_route_table("tgw-default", "att-a").unwrap();
        assert_eq!(t.tgw_association(a), Some(d));
        // A peering attachment, on each of its gateways.
        t.associate_tgw_route_table("rt", "tp").unwrap();
        t.associate_tgw_route_table("tgw2-rt", "tp").unwrap();
        assert_eq!(t.tgw_association(tp), Some(rt));
        assert_eq!(
            t.tgw_association_on(tp, t.find_transit_gateway("tgw2").unwrap()),
            t.find_tgw_route_table("tgw2-rt")
        );

        assert_eq!(
            refused_fabric(|t| t.associate_tgw_route_table("tgw-default", "att-a")),
            EditError::TgwAttachmentAssociated {
                attachment: "att-a".into(),
                table: "rt".into()
            }
        );
        assert_eq!(
            refused_fabric(|t| t.associate_tgw_route_table("rt", "att-a")),
            EditError::TgwAttachmentAssociated {
                attachment: "att-a".into(),
                table: "rt".into()
            }
        );
        assert_eq!(
            refused_fabric(|t| t.associate_tgw_route_table("tgw2-rt", "att-a")),
            EditError::AttachmentNotOnTgw {
                attachment: "att-a".into(),
                table: "tgw2-rt".into(),
                tgw: "tgw2".into()
            }
        );
        assert_eq!(
            refused_fabric(|t| t.disassociate_tgw_route_table("rt", "att-b")),
            EditError::TgwAttachmentNotAssociated {
                attachment: "att-b".into(),
                table: "rt".into()
            }
        );
        assert_eq!(
            refused_fabric(|t| t.disassociate_tgw_route_table("rt", "nope")),
            EditError::UnknownTgwAttachment("nope".into())
        );
    }

    #[test]
    fn creating_and_deleting_tgw_routes() {
        let mut t = fabric();
        t.create_tgw_route("rt", net("10.2.0.0/16"), Some("att-a"))
            .unwrap();
        t.create_tgw_route("rt", net("0.0.0.0/0"), Some("tp"))
            .unwrap();
        t.create_tgw_route("rt", net("10.3.0.0/16"), Some("att-c"))
            .unwrap();
        t.create_tgw_route("rt", net("192.168.0.0/16"), None)
            .unwrap();
        // The static route hides the propagated one; att-c is pending: blackhole.
        assert_eq!(
            tgw_routes(&t, "rt"),
            [
                "0.0.0.0/0 tp static active",
                "10.2.0.0/16 att-a static active",
                "10.3.0.0/16 att-c static blackhole",
                "10.9.0.0/16 blackhole static blackhole",
                "192.168.0.0/16 blackhole static blackhole"
            ]
        );
        t.accept_tgw_attachment("att-c").unwrap();
        assert_eq!(tgw_routes(&t, "rt")[2], "10.3.0.0/16 att-c static active");
        // Deleting the static route brings the propagated one back.
        t.delete_tgw_route("rt", net("10.2.0.0/16")).unwrap();
        assert_eq!(
            tgw_routes(&t, "rt")[1],
            "10.2.0.0/16 att-b propagated active"
        );
        t.delete_tgw_route("rt", net("10.9.0.0/16")).unwrap();

        assert_eq!(
            refused_fabric(|t| t.create_tgw_route("rt", net("10.9.0.0/16"), None)),
            EditError::TgwRouteExists {
                table: "rt".into(),
                destination: net("10.9.0.0/16")
            }
        );
        assert_eq!(
            refused_fabric(|t| t.create_tgw_route("rt", net("10.9.0.1/16"), None)),
            EditError::NonCanonicalDestination {
                given: net("10.9.0.1/16"),
                canonical: net("10.9.0.0/16")
            }
        );
        assert_eq!(
            refused_fabric(|t| t.create_tgw_route("rt", net("10.8.0.0/16"), Some("att-d"))),
            EditError::AttachmentNotOnTgw {
                attachment: "att-d".into(),
                table: "rt".into(),
                tgw: "tgw".into()
            }
        );
        assert_eq!(
            refused_fabric(|t| t.delete_tgw_route("rt", net("10.8.0.0/16"))),
            EditError::NoTgwRoute {
                table: "rt".into(),
                destination: net("10.8.0.0/16")
            }
        );
        assert_eq!(
            refused_fabric(|t| t.delete_tgw_route("nope", net("10.8.0.0/16"))),
            EditError::UnknownTgwRouteTable("nope".into())
        );
    }

    #[test]
    fn accepting_tgw_attachments() {
        let mut t = fabric();
        let c = t.find_tgw_attachment("att-c").unwrap();
        assert_eq!(
            t.tgw_attachment(c).status,
            AttachmentStatus::PendingAcceptance
        );
        // Pending: it does not propagate into the default table yet.
        assert!(
            !tgw_routes(&t, "tgw-default")
                .iter()
                .any(|r| r.starts_with("10.3."))
        );
        t.accept_tgw_attachment("att-c").unwrap();
        assert_eq!(t.tgw_attachment(c).status, AttachmentStatus::Available);
        assert!(
            tgw_routes(&t, "tgw-default")
                .contains(&"10.3.0.0/16 att-c propagated active".to_string())
        );
        assert_eq!(
            t.accept_tgw_attachment("att-c"),
            Err(EditError::AttachmentNotPending {
                attachment: "att-c".into(),
                status: "available"
            })
        );
        assert_eq!(
            refused_fabric(|t| t.accept_tgw_attachment("tp")),
            EditError::AttachmentNotPending {
                attachment: "tp".into(),
                status: "available"
            }
        );
        assert_eq!(
            refused_fabric(|t| t.accept_tgw_attachment("nope")),
            EditError::UnknownTgwAttachment("nope".into())
        );
    }

    #[test]
    fn registering_and_deregistering_multicast_members_and_sources() {
        let mut t = fabric();
        let md = t.find_multicast_domain("md").unwrap();
        let pa = t.find_eni("pa").unwrap();
        let pa2 = t.find_eni("pa2").unwrap();
        let group = ip("239.1.1.1");
        t.register_multicast_group_members("md", group, "pa2/eth0")
            .unwrap();
        t.register_multicast_group_members("md", ip("239.2.2.2"), "pa")
            .unwrap();
        t.register_multicast_group_sources("md", group, "pa")
            .unwrap();
        assert_eq!(
            t.multicast_domain(md).members,
            [(group, pa), (group, pa2), (ip("239.2.2.2"), pa)]
        );
        assert_eq!(t.multicast_domain(md).sources, [(group, pa)]);
        t.deregister_multicast_group_members("md", group, "pa")
            .unwrap();
        t.deregister_multicast_group_sources("md", group, "pa")
            .unwrap();
        assert_eq!(
            t.multicast_domain(md).members,
            [(group, pa2), (ip("239.2.2.2"), pa)]
        );
        assert!(t.multicast_domain(md).sources.is_empty());

        assert_eq!(
            refused_fabric(|t| t.register_multicast_group_members("md", group, "pa")),
            EditError::AlreadyRegistered {
                eni: "pa/eth0".into(),
                role: "member",
                group,
                domain: "md".into()
            }
        );
        assert_eq!(
            refused_fabric(|t| t.register_multicast_group_members("md", group, "pb")),
            EditError::SubnetNotInDomain {
                eni: "pb/eth0".into(),
                subnet: "b-1".into(),
                domain: "md".into()
            }
        );
        for bad in ["224.0.0.251", "10.1.1.1", "240.0.0.1"] {
            assert_eq!(
                refused_fabric(|t| t.register_multicast_group_sources("md", ip(bad), "pa")),
                EditError::NotMulticastGroup(ip(bad))
            );
        }
        assert_eq!(
            refused_fabric(|t| t.register_multicast_group_members("nope", group, "pa")),
            EditError::UnknownMulticastDomain("nope".into())
        );
        assert_eq!(
            refused_fabric(|t| t.register_multicast_group_members("md", group, "pa/eth1")),
            EditError::UnknownNetworkInterface("pa/eth1".into())
        );
        assert_eq!(
            refused_fabric(|t| t.deregister_multicast_group_sources("md", group, "pa")),
            EditError::NotRegistered {
                eni: "pa/eth0".into(),
                role: "source",
                group,
                domain: "md".into()
            }
        );
    }

    #[test]
    fn new_kinds_are_found_by_name() {
        let t = fabric();
        assert_eq!(t.find_vpc("c"), Some(VpcId(2)));
        assert_eq!(t.find_vpc("nope"), None);
        assert_eq!(t.find_transit_gateway("tgw2"), Some(TransitGatewayId(1)));
        assert_eq!(t.find_tgw_attachment("tp"), Some(TgwAttachmentId(4)));
        assert_eq!(
            t.find_tgw_route_table("tgw-default"),
            Some(TgwRouteTableId(2))
        );
        assert_eq!(t.find_multicast_domain("md"), Some(MulticastDomainId(0)));
        assert_eq!(t.find_resource_share("share"), Some(ResourceShareId(0)));
        assert_eq!(
            t.resource_share(ResourceShareId(0)).principals,
            ["444455556666"]
        );
        assert_eq!(t.find_tgw_attachment("nope"), None);
    }

    #[test]
    fn fabric_errors_read_as_sentences() {
        let shown: Vec<String> = [
            EditError::NameTaken {
                kind: "VPC peering connection",
                name: "a-b".into(),
            },
            EditError::PeeringOverlap {
                vpc: "d".into(),
                cidr: net("10.1.0.0/16"),
                peer_vpc: "a".into(),
                peer_cidr: net("10.1.0.0/16"),
            },
            EditError::AlreadyPeered {
                vpc: "b".into(),
                peer_vpc: "a".into(),
                pcx: "a-b".into(),
            },
            EditError::PeeringNotPending {
                pcx: "a-b".into(),
                status: "active",
            },
            EditError::AttachmentNotOnTgw {
                attachment: "att-d".into(),
                table: "rt".into(),
                tgw: "tgw".into(),
            },
            EditError::TgwAttachmentAssociated {
                attachment: "att-a".into(),
                table: "rt".into(),
            },
            EditError::TgwRouteExists {
                table: "rt".into(),
                destination: net("10.9.0.0/16"),
            },
            EditError::SubnetNotInDomain {
                eni: "pb/eth0".into(),
                subnet: "b-1".into(),
                domain: "md".into(),
            },
            EditError::AlreadyRegistered {
                eni: "pa/eth0".into(),
                role: "member",
                group: ip("239.1.1.1"),
                domain: "md".into(),
            },
        ]
        .iter()
        .map(|e| e.to_string())
        .collect();
        assert_eq!(
            shown,
            [
                "there is already a VPC peering connection named \"a-b\"",
                "10.1.0.0/16 of vpc \"a\" overlaps 10.1.0.0/16 of vpc \"d\": VPCs with matching or overlapping IPv4 CIDR blocks cannot be peered",
                "vpc \"b\" and vpc \"a\" are already peered by VPC peering connection \"a-b\"",
                "VPC peering connection \"a-b\" is active, not pending-acceptance",
                "transit gateway attachment \"att-d\" is not an attachment of transit gateway \"tgw\" of route table \"rt\"",
                "transit gateway attachment \"att-a\" is already associated with route table \"rt\"; an attachment has one route table per transit gateway (disassociate it first)",
                "route table \"rt\" already has a static route to 10.9.0.0/16",
                "pb/eth0 is in subnet \"b-1\", which is not associated with multicast domain \"md\"",
                "pa/eth0 is already a member of group 239.1.1.1 in multicast domain \"md\"",
            ]
        );
    }
}

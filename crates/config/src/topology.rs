//! The validated topology: VPCs, subnets, route tables, instances and their network
//! interfaces (ENIs), cross-referenced by typed indices.
//!
//! A `Topology` only exists after every check in `validate` passed, so its users (the
//! dataplane, the daemon) rely on its invariants instead of re-checking: subnets lie
//! inside their VPC and do not overlap, every subnet has exactly one route table (its
//! explicit association or the VPC's main table), every route table starts with one
//! `local` route per VPC CIDR, every ENI has a unique, non-reserved private IPv4 address
//! inside its subnet.

use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::security::*;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl From<u32> for $name {
            fn from(i: u32) -> Self {
                $name(i)
            }
        }

        impl $name {
            /// The index into the topology's list of this kind.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id!(
    /// Index of a VPC in [`Topology::vpcs`].
    VpcId
);
id!(
    /// Index of a subnet in [`Topology::subnets`].
    SubnetId
);
id!(
    /// Index of a route table in [`Topology::route_tables`].
    RouteTableId
);
id!(
    /// Index of an instance in [`Topology::instances`].
    InstanceId
);
id!(
    /// Index of a network interface in [`Topology::enis`].
    EniId
);
id!(
    /// Index of a security group in [`Topology::security_groups`].
    SecurityGroupId
);
id!(
    /// Index of a network ACL in [`Topology::network_acls`].
    NetworkAclId
);
id!(
    /// Index of a flow log in [`Topology::flow_logs`].
    FlowLogId
);

/// A whole validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The VPCs, in file order.
    pub vpcs: Vec<Vpc>,
    /// The subnets, in file order.
    pub subnets: Vec<Subnet>,
    /// The route tables: declared ones in file order, then an implicit main table for
    /// every VPC that declared none.
    pub route_tables: Vec<RouteTable>,
    /// The instances, in file order.
    pub instances: Vec<Instance>,
    /// Every network interface of every instance, grouped by instance in order.
    pub enis: Vec<Eni>,
    /// The security groups: declared ones in file order, then an implicit `default`
    /// group for every VPC that declared none.
    pub security_groups: Vec<SecurityGroup>,
    /// The network ACLs: declared ones in file order, then an implicit `default` NACL
    /// for every VPC that declared none.
    pub network_acls: Vec<NetworkAcl>,
    /// The flow logs, in file order.
    pub flow_logs: Vec<FlowLog>,
}

/// A VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    /// Unique name.
    pub name: String,
    /// The primary CIDR first, then the secondary CIDRs; /16../28 each.
    pub cidrs: Vec<Ipv4Net>,
    /// The VPC's main route table, used by subnets without an explicit association.
    pub main_route_table: RouteTableId,
    /// The VPC's `default` security group, used by ENIs that name no group.
    pub default_security_group: SecurityGroupId,
    /// The VPC's `default` network ACL, used by subnets without an association.
    pub default_network_acl: NetworkAclId,
}

/// A subnet of a VPC in one availability zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// Unique name.
    pub name: String,
    /// The VPC it belongs to.
    pub vpc: VpcId,
    /// Inside one of the VPC's CIDRs; /16../28.
    pub cidr: Ipv4Net,
    /// Availability zone name.
    pub az: String,
    /// The route table the subnet uses.
    pub route_table: RouteTableId,
    /// Whether `route_table` is an explicit association (false: the VPC's main table).
    pub explicit_association: bool,
    /// The network ACL the subnet uses (its association, or the VPC's default NACL).
    pub network_acl: NetworkAclId,
}

/// A route table of a VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    /// Unique name.
    pub name: String,
    /// The VPC it belongs to.
    pub vpc: VpcId,
    /// Whether it is its VPC's main route table.
    pub main: bool,
    /// Whether it was written in the configuration (false: the implicit main table).
    pub declared: bool,
    /// The `local` routes (one per VPC CIDR) first, then the configured routes.
    pub routes: Vec<Route>,
}

/// One route: a destination prefix and where matching packets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The destination prefix.
    pub destination: Ipv4Net,
    /// Where matching packets are sent.
    pub target: RouteTarget,
}

/// A route's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteTarget {
    /// Delivery inside the VPC to the ENI that owns the destination address.
    Local,
    /// A network interface (written as an `instance` or a `network_interface` target):
    /// middlebox routing to an appliance.
    Eni(EniId),
}

/// An instance: one network namespace with one or more ENIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Unique name; also the name of its network namespace (after the daemon's prefix).
    pub name: String,
    /// Its ENIs; the first one is the primary interface `eth0`.
    pub enis: Vec<EniId>,
}

/// A network interface attached to an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eni {
    /// The instance it is attached to.
    pub instance: InstanceId,
    /// Device index: the interface is `eth{device_index}` inside the instance.
    pub device_index: u8,
    /// Its subnet.
    pub subnet: SubnetId,
    /// Its primary private IPv4 address.
    pub private_ip: Ipv4Addr,
    /// Source/destination check (AWS default: on).
    pub source_dest_check: bool,
    /// Its security groups, 1 to 5, in the order written (the VPC's default group if
    /// none was named). All of them are of its VPC.
    pub security_groups: Vec<SecurityGroupId>,
    /// Connection-tracking idle timeouts.
    pub conntrack: ConntrackTimeouts,
}

impl Topology {
    /// The VPC with id `id`.
    pub fn vpc(&self, id: VpcId) -> &Vpc {
        &self.vpcs[id.index()]
    }

    /// The subnet with id `id`.
    pub fn subnet(&self, id: SubnetId) -> &Subnet {
        &self.subnets[id.index()]
    }

    /// The route table with id `id`.
    pub fn route_table(&self, id: RouteTableId) -> &RouteTable {
        &self.route_tables[id.index()]
    }

    /// The instance with id `id`.
    pub fn instance(&self, id: InstanceId) -> &Instance {
        &self.instances[id.index()]
    }

    /// The ENI with id `id`.
    pub fn eni(&self, id: EniId) -> &Eni {
        &self.enis[id.index()]
    }

    /// The security group with id `id`.
    pub fn security_group(&self, id: SecurityGroupId) -> &SecurityGroup {
        &self.security_groups[id.index()]
    }

    /// The network ACL with id `id`.
    pub fn network_acl(&self, id: NetworkAclId) -> &NetworkAcl {
        &self.network_acls[id.index()]
    }

    /// The ENIs a flow log covers.
    pub fn flow_log_enis(&self, id: FlowLogId) -> impl Iterator<Item = EniId> + '_ {
        let resource = self.flow_logs[id.index()].resource;
        self.eni_ids().filter(move |&e| match resource {
            FlowLogResource::Vpc(v) => self.eni_vpc(e) == v,
            FlowLogResource::Subnet(s) => self.eni(e).subnet == s,
            FlowLogResource::Eni(x) => x == e,
        })
    }

    /// The ENI whose name (`instance/ethN`) or whose instance's name (for its `eth0`)
    /// is `name`.
    pub fn find_eni(&self, name: &str) -> Option<EniId> {
        self.eni_ids().find(|&e| {
            let eni = self.eni(e);
            self.eni_name(e).to_string() == name
                || (eni.device_index == 0 && self.instance(eni.instance).name == name)
        })
    }

    /// The ENI's name as users write it: `instance/ethN`.
    pub fn eni_name(&self, id: EniId) -> EniName<'_> {
        let eni = self.eni(id);
        EniName {
            instance: &self.instance(eni.instance).name,
            device_index: eni.device_index,
        }
    }

    /// All ENI ids, in order.
    pub fn eni_ids(&self) -> impl Iterator<Item = EniId> + '_ {
        (0..self.enis.len() as u32).map(EniId)
    }

    /// The VPC an ENI belongs to (through its subnet).
    pub fn eni_vpc(&self, id: EniId) -> VpcId {
        self.subnet(self.eni(id).subnet).vpc
    }

    /// The embedded demo topology (`config/demo.toml`).
    pub fn demo() -> Topology {
        // The demo is checked by a unit test, so this cannot fail at run time.
        #[allow(clippy::expect_used)]
        crate::parse(crate::DEMO_TOML, crate::DEMO_FILE_NAME).expect("the embedded demo is valid")
    }
}

impl Eni {
    /// Its device name inside the instance: `ethN`.
    pub fn device(&self) -> DeviceName {
        DeviceName(self.device_index)
    }
}

/// The device name of an interface inside its instance: `eth{index}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceName(pub u8);

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "eth{}", self.0)
    }
}

/// Display form of an ENI: `web/eth0`.
#[derive(Debug, Clone, Copy)]
pub struct EniName<'a> {
    instance: &'a str,
    device_index: u8,
}

impl fmt::Display for EniName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.instance, DeviceName(self.device_index))
    }
}

//! Run-time changes to virtual private and customer gateways (`vpcctl
//! create-vpn-gateway`, `attach-vpn-gateway`, `detach-vpn-gateway`,
//! `delete-vpn-gateway`, `create-customer-gateway`, `delete-customer-gateway`,
//! `enable-vgw-route-propagation`, `disable-vgw-route-propagation`, like the EC2 calls
//! of the same names): each edit is checked by writing the changed topology and
//! reading it back, so every rule of `[[vpn_gateway]]`, `[[customer_gateway]]` and
//! `propagating_vgws` (docs/config.md) holds for what it makes.
//!
//! AWS's behaviour kept here: a gateway attached elsewhere, or a VPC with a gateway,
//! refuses an attachment; detaching leaves the routes to the gateway in the VPC's
//! tables as `blackhole` and ends the tables' propagation from it; an attached
//! gateway is not deleted; propagation is enabled only from a gateway attached to the
//! table's VPC.

use std::net::Ipv4Addr;

use crate::topology::*;
use crate::vpn::*;

/// Why a VPN or customer gateway change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VpnEditError {
    /// No VPN gateway of that name.
    #[error("{0:?} is not a VPN gateway")]
    UnknownVpnGateway(String),
    /// No customer gateway of that name.
    #[error("{0:?} is not a customer gateway")]
    UnknownCustomerGateway(String),
    /// No VPC of that name.
    #[error("{0:?} is not a VPC")]
    UnknownVpc(String),
    /// No route table of that name.
    #[error("{0:?} is not a route table")]
    UnknownRouteTable(String),
    /// A gateway of that name exists.
    #[error("{0:?} exists")]
    Exists(String),
    /// Attaching a gateway that is attached.
    #[error("VPN gateway {vgw:?} is already attached to vpc {vpc:?}")]
    Attached {
        /// The gateway.
        vgw: String,
        /// Its VPC.
        vpc: String,
    },
    /// Attaching a gateway to a VPC that has one.
    #[error("vpc {vpc:?} already has VPN gateway {vgw:?} attached")]
    VpcHasVpnGateway {
        /// The VPC.
        vpc: String,
        /// Its gateway.
        vgw: String,
    },
    /// Detaching a gateway that is not attached (to that VPC).
    #[error("VPN gateway {0:?} is not attached to that vpc")]
    NotAttached(String),
    /// Deleting a gateway that is attached, or named by routes.
    #[error("VPN gateway {vgw:?} cannot be deleted: {why}")]
    InUse {
        /// The gateway.
        vgw: String,
        /// What depends on it.
        why: String,
    },
    /// The changed configuration breaks a rule (the configuration's messages).
    #[error("{0}")]
    Invalid(String),
}

impl Topology {
    /// Creates detached VPN gateway `name` (`CreateVpnGateway`).
    pub fn create_vpn_gateway(
        &mut self,
        name: &str,
        amazon_side_asn: Option<u32>,
        availability_zone: Option<&str>,
    ) -> Result<(), VpnEditError> {
        if self.find_vpn_gateway(name).is_some() {
            return Err(VpnEditError::Exists(name.to_owned()));
        }
        let mut edited = self.clone();
        edited.vpn_gateways.push(VpnGateway {
            name: name.to_owned(),
            amazon_side_asn: amazon_side_asn.unwrap_or(DEFAULT_AMAZON_SIDE_ASN),
            vpc: None,
            availability_zone: availability_zone.map(str::to_owned),
        });
        self.replace_vpn_checked(edited)
    }

    /// Attaches VPN gateway `name` to VPC `vpc` (`AttachVpnGateway`).
    pub fn attach_vpn_gateway(&mut self, name: &str, vpc: &str) -> Result<(), VpnEditError> {
        let g = self.vgw_named(name)?;
        let v = self
            .vpcs
            .iter()
            .position(|x| x.name == vpc)
            .map(|i| VpcId(i as u32))
            .ok_or_else(|| VpnEditError::UnknownVpc(vpc.to_owned()))?;
        if let Some(at) = self.vpn_gateway(g).vpc {
            return Err(VpnEditError::Attached {
                vgw: name.to_owned(),
                vpc: self.vpc(at).name.clone(),
            });
        }
        if let Some(other) = self.vpc_vpn_gateway(v) {
            return Err(VpnEditError::VpcHasVpnGateway {
                vpc: vpc.to_owned(),
                vgw: self.vpn_gateway(other).name.clone(),
            });
        }
        let mut edited = self.clone();
        edited.vpn_gateways[g.index()].vpc = Some(v);
        self.replace_vpn_checked(edited)
    }

    /// Detaches VPN gateway `name` from VPC `vpc` (`DetachVpnGateway`): routes to it
    /// turn `blackhole`, the VPC's tables stop propagating its routes.
    pub fn detach_vpn_gateway(&mut self, name: &str, vpc: &str) -> Result<(), VpnEditError> {
        let g = self.vgw_named(name)?;
        let attached = self.vpn_gateway(g).vpc;
        if attached.is_none_or(|v| self.vpc(v).name != vpc) {
            return Err(VpnEditError::NotAttached(name.to_owned()));
        }
        let mut edited = self.clone();
        edited.vpn_gateways[g.index()].vpc = None;
        for t in &mut edited.route_tables {
            t.propagating_vgws.retain(|&x| x != g);
        }
        self.replace_vpn_checked(edited)
    }

    /// Deletes VPN gateway `name` (`DeleteVpnGateway`): it must be detached, and no
    /// route may name it.
    pub fn delete_vpn_gateway(&mut self, name: &str) -> Result<(), VpnEditError> {
        let g = self.vgw_named(name)?;
        let in_use = |why: String| VpnEditError::InUse {
            vgw: name.to_owned(),
            why,
        };
        if let Some(v) = self.vpn_gateway(g).vpc {
            return Err(in_use(format!(
                "it is attached to vpc {:?}",
                self.vpc(v).name
            )));
        }
        if let Some(c) = self.connections_of_vgw(g).next() {
            return Err(in_use(format!(
                "VPN connection {:?} uses it",
                self.vpn_connection(c).name
            )));
        }
        let routed: Vec<&str> = self
            .route_tables
            .iter()
            .filter(|t| {
                t.routes
                    .iter()
                    .any(|r| r.target == RouteTarget::VpnGateway(g))
            })
            .map(|t| t.name.as_str())
            .collect();
        if !routed.is_empty() {
            return Err(in_use(format!(
                "route tables {} have routes to it",
                routed.join(", ")
            )));
        }
        let mut edited = self.clone();
        edited.vpn_gateways.remove(g.index());
        // Later gateways' indices move down by one.
        let shift = |x: VpnGatewayId| {
            if x > g { VpnGatewayId(x.0 - 1) } else { x }
        };
        for t in &mut edited.route_tables {
            for r in &mut t.routes {
                if let RouteTarget::VpnGateway(x) = r.target {
                    r.target = RouteTarget::VpnGateway(shift(x));
                }
            }
            for x in &mut t.propagating_vgws {
                *x = shift(*x);
            }
        }
        self.replace_vpn_checked(edited)
    }

    /// Creates customer gateway `name` (`CreateCustomerGateway`).
    pub fn create_customer_gateway(
        &mut self,
        name: &str,
        ip_address: Ipv4Addr,
        bgp_asn: Option<u32>,
        device_name: Option<&str>,
    ) -> Result<(), VpnEditError> {
        if self.find_customer_gateway(name).is_some() {
            return Err(VpnEditError::Exists(name.to_owned()));
        }
        let mut edited = self.clone();
        edited.customer_gateways.push(CustomerGateway {
            name: name.to_owned(),
            ip_address,
            bgp_asn: bgp_asn.unwrap_or(DEFAULT_BGP_ASN),
            device_name: device_name.map(str::to_owned),
            site_cidrs: Vec::new(),
            site_addresses: Vec::new(),
        });
        self.replace_vpn_checked(edited)
    }

    /// Deletes customer gateway `name` (`DeleteCustomerGateway`).
    pub fn delete_customer_gateway(&mut self, name: &str) -> Result<(), VpnEditError> {
        let g = self
            .find_customer_gateway(name)
            .ok_or_else(|| VpnEditError::UnknownCustomerGateway(name.to_owned()))?;
        if let Some(c) = self.connections_of_cgw(g).next() {
            return Err(VpnEditError::Invalid(format!(
                "customer gateway {name:?} is used by VPN connection {:?}; delete it first",
                self.vpn_connection(c).name
            )));
        }
        let mut edited = self.clone();
        edited.customer_gateways.remove(g.index());
        self.replace_vpn_checked(edited)
    }

    /// Makes route table `table` propagate the routes of VPN gateway `vgw`
    /// (`EnableVgwRoutePropagation`); enabling it twice changes nothing.
    pub fn enable_vgw_route_propagation(
        &mut self,
        table: &str,
        vgw: &str,
    ) -> Result<(), VpnEditError> {
        let (t, g) = (self.table_named(table)?, self.vgw_named(vgw)?);
        let mut edited = self.clone();
        let list = &mut edited.route_tables[t.index()].propagating_vgws;
        if !list.contains(&g) {
            list.push(g);
        }
        self.replace_vpn_checked(edited)
    }

    /// Stops route table `table` propagating the routes of VPN gateway `vgw`
    /// (`DisableVgwRoutePropagation`).
    pub fn disable_vgw_route_propagation(
        &mut self,
        table: &str,
        vgw: &str,
    ) -> Result<(), VpnEditError> {
        let (t, g) = (self.table_named(table)?, self.vgw_named(vgw)?);
        let mut edited = self.clone();
        edited.route_tables[t.index()]
            .propagating_vgws
            .retain(|&x| x != g);
        self.replace_vpn_checked(edited)
    }

    fn vgw_named(&self, name: &str) -> Result<VpnGatewayId, VpnEditError> {
        self.find_vpn_gateway(name)
            .ok_or_else(|| VpnEditError::UnknownVpnGateway(name.to_owned()))
    }

    fn table_named(&self, name: &str) -> Result<RouteTableId, VpnEditError> {
        self.route_tables
            .iter()
            .position(|r| r.name == name)
            .map(|i| RouteTableId(i as u32))
            .ok_or_else(|| VpnEditError::UnknownRouteTable(name.to_owned()))
    }

    /// Replaces `self` with `edited` if it reads back from its own file.
    fn replace_vpn_checked(&mut self, edited: Topology) -> Result<(), VpnEditError> {
        let checked = crate::parse(&crate::to_toml(&edited), "<edit>").map_err(|e| {
            let parts: Vec<String> = e
                .diagnostics()
                .iter()
                .map(|d| format!("{} {}", d.field, d.problem))
                .collect();
            VpnEditError::Invalid(parts.join("; "))
        })?;
        let mut checked = checked;
        checked.keep_live_from(self);
        *self = checked;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"
[[vpc]]
name = "corp"
cidr = "10.20.0.0/16"

[[vpc]]
name = "other"
cidr = "10.30.0.0/16"

[[route_table]]
name = "rt"
vpc = "corp"
main = true
"#;

    fn names(t: &Topology) -> Vec<&str> {
        t.route_tables[0]
            .propagating_vgws
            .iter()
            .map(|&g| t.vpn_gateway(g).name.as_str())
            .collect()
    }

    #[test]
    fn vpn_gateways_follow_aws_rules() {
        let mut t = crate::parse(SRC, "t.toml").unwrap();
        t.create_vpn_gateway("a", None, Some("us-east-1a")).unwrap();
        t.create_vpn_gateway("b", Some(65001), None).unwrap();
        let e = t.create_vpn_gateway("c", Some(65535), None).unwrap_err();
        assert!(e.to_string().contains("not a valid Amazon side ASN"), "{e}");
        assert_eq!(
            t.create_vpn_gateway("a", None, None).unwrap_err(),
            VpnEditError::Exists("a".into())
        );
        // Propagation only from a gateway attached to the table's VPC.
        let e = t.enable_vgw_route_propagation("rt", "b").unwrap_err();
        assert!(e.to_string().contains("is not attached to vpc"), "{e}");
        t.attach_vpn_gateway("b", "corp").unwrap();
        assert_eq!(
            t.attach_vpn_gateway("a", "corp").unwrap_err(),
            VpnEditError::VpcHasVpnGateway {
                vpc: "corp".into(),
                vgw: "b".into()
            }
        );
        assert_eq!(
            t.attach_vpn_gateway("b", "other").unwrap_err(),
            VpnEditError::Attached {
                vgw: "b".into(),
                vpc: "corp".into()
            }
        );
        t.enable_vgw_route_propagation("rt", "b").unwrap();
        t.enable_vgw_route_propagation("rt", "b").unwrap();
        assert_eq!(names(&t), ["b"]);
        t.route_tables[0].routes.push(Route {
            destination: "172.16.0.0/16".parse().unwrap(),
            target: RouteTarget::VpnGateway(VpnGatewayId(1)),
            origin: RouteOrigin::Static,
        });
        assert!(matches!(
            t.delete_vpn_gateway("b").unwrap_err(),
            VpnEditError::InUse { .. }
        ));
        // Detaching: the route stays, blackhole; propagation ends.
        assert_eq!(
            t.detach_vpn_gateway("b", "other").unwrap_err(),
            VpnEditError::NotAttached("b".into())
        );
        t.detach_vpn_gateway("b", "corp").unwrap();
        assert!(names(&t).is_empty());
        assert!(crate::to_toml(&t).contains("vpn_gateway = \"b\", state = \"blackhole\""));
        // Deleting `a` moves `b` down; the route still names `b`.
        t.delete_vpn_gateway("a").unwrap();
        assert_eq!(t.route_target_name(t.route_tables[0].routes[1].target), "b");
        t.route_tables[0].routes.pop();
        t.delete_vpn_gateway("b").unwrap();
        assert!(t.vpn_gateways.is_empty());
    }

    #[test]
    fn customer_gateways_follow_aws_rules() {
        let mut t = crate::parse(SRC, "t.toml").unwrap();
        let ip: Ipv4Addr = "203.0.113.60".parse().unwrap();
        t.create_customer_gateway("hq", ip, Some(65001), Some("edge"))
            .unwrap();
        let e = t
            .create_customer_gateway("again", ip, None, None)
            .unwrap_err();
        assert!(e.to_string().contains("203.0.113.60"), "{e}");
        let e = t
            .create_customer_gateway("bad", "10.0.0.1".parse().unwrap(), None, None)
            .unwrap_err();
        assert!(matches!(e, VpnEditError::Invalid(_)), "{e}");
        let e = t
            .create_customer_gateway("res", "203.0.113.61".parse().unwrap(), Some(7224), None)
            .unwrap_err();
        assert!(e.to_string().contains("not a valid BGP ASN"), "{e}");
        assert_eq!(t.customer_gateways[0].bgp_asn, 65001);
        t.delete_customer_gateway("hq").unwrap();
        assert_eq!(
            t.delete_customer_gateway("hq").unwrap_err(),
            VpnEditError::UnknownCustomerGateway("hq".into())
        );
    }
}

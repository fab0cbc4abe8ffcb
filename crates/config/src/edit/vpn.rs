//! Run-time changes to virtual private and customer gateways and VPN connections
//! (`vpcctl create-vpn-gateway`, `attach-vpn-gateway`, `detach-vpn-gateway`,
//! `delete-vpn-gateway`, `create-customer-gateway`, `delete-customer-gateway`,
//! `enable-vgw-route-propagation`, `disable-vgw-route-propagation`,
//! `create-vpn-connection`, `delete-vpn-connection`, `create-vpn-connection-route`,
//! `delete-vpn-connection-route`, like the EC2 calls of the same names): each edit is
//! checked by writing the changed topology and reading it back, so every rule of
//! `[[vpn_gateway]]`, `[[customer_gateway]]`, `[[vpn_connection]]` and
//! `propagating_vgws` (docs/config.md) holds for what it makes; what the daemon
//! observed of the connections ([`VpnLive`]) is kept.
//!
//! AWS's behaviour kept here: a gateway attached elsewhere, or a VPC with a gateway,
//! refuses an attachment; detaching leaves the routes to the gateway in the VPC's
//! tables as `blackhole` and ends the tables' propagation from it; an attached
//! gateway is not deleted; propagation is enabled only from a gateway attached to the
//! table's VPC. A new VPN connection gets what AWS would choose for the tunnel options
//! not given (an inside /30 free on its VPN gateway, a pre-shared key, an outside
//! address each: vpcd's choices are those a `[[vpn_connection]]` without them gets,
//! and are written out, so they stay); one pair of gateways has one connection at
//! most; static routes (`CreateVpnConnectionRoute`) are only for a connection with
//! static routing.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::topology::*;
use crate::vpn::*;

/// The options of one tunnel of a new VPN connection (`CreateVpnConnection`'s
/// `Options.TunnelOptions.N`). Each one not given takes the default a
/// `[[vpn_connection]]` without it gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewTunnelOptions {
    /// `TunnelInsideCidr` (default: the first /30 from 169.254.10.0/30 on that no
    /// tunnel of the VPN gateway has, [`default_inside_cidr`]).
    pub tunnel_inside_cidr: Option<Ipv4Net>,
    /// `PreSharedKey` (default: [`default_pre_shared_key`]).
    pub pre_shared_key: Option<String>,
    /// `IKEVersions` (empty: `ikev1` and `ikev2`).
    pub ike_versions: Vec<String>,
    /// `DPDTimeoutSeconds` (default 30).
    pub dpd_timeout_seconds: Option<u32>,
    /// `Phase1LifetimeSeconds` (default 28800).
    pub phase1_lifetime_seconds: Option<u32>,
    /// `Phase2LifetimeSeconds` (default 3600).
    pub phase2_lifetime_seconds: Option<u32>,
}

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
    /// No VPN connection of that name.
    #[error("{0:?} is not a VPN connection")]
    UnknownVpnConnection(String),
    /// A static route on a connection that uses BGP.
    #[error(
        "VPN connection {0:?} uses BGP: static routes are for a connection with static routes only"
    )]
    NotStatic(String),
    /// Adding a static route the connection has.
    #[error("VPN connection {connection:?} already has a route to {cidr}")]
    RouteExists {
        /// The connection.
        connection: String,
        /// The route's destination.
        cidr: Ipv4Net,
    },
    /// Deleting a static route the connection does not have.
    #[error("VPN connection {connection:?} has no route to {cidr}")]
    NoRoute {
        /// The connection.
        connection: String,
        /// The route's destination.
        cidr: Ipv4Net,
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

    /// Creates VPN connection `name` between customer gateway `customer_gateway` and
    /// VPN gateway `vpn_gateway` (`CreateVpnConnection`), with BGP or
    /// `static_routes_only`, and the options of up to two tunnels (the first given
    /// is tunnel 1); without static routes yet.
    pub fn create_vpn_connection(
        &mut self,
        name: &str,
        customer_gateway: &str,
        vpn_gateway: &str,
        static_routes_only: bool,
        tunnels: &[NewTunnelOptions],
    ) -> Result<(), VpnEditError> {
        if self.find_vpn_connection(name).is_some() {
            return Err(VpnEditError::Exists(name.to_owned()));
        }
        let cgw = self
            .find_customer_gateway(customer_gateway)
            .ok_or_else(|| VpnEditError::UnknownCustomerGateway(customer_gateway.to_owned()))?;
        let vgw = self.vgw_named(vpn_gateway)?;
        let invalid = |p: VpnProblem| VpnEditError::Invalid(p.to_string());
        if tunnels.len() > 2 {
            return Err(invalid(VpnProblem::TooManyTunnels(tunnels.len())));
        }
        if let Some(other) = self
            .connections_of_vgw(vgw)
            .find(|&c| self.vpn_connection(c).customer_gateway == cgw)
        {
            return Err(invalid(VpnProblem::SecondConnection {
                other: self.vpn_connection(other).name.clone(),
                cgw: customer_gateway.to_owned(),
                vgw: vpn_gateway.to_owned(),
            }));
        }
        for o in tunnels {
            if let Some(c) = o.tunnel_inside_cidr.filter(|&c| !inside_cidr_ok(c)) {
                return Err(invalid(VpnProblem::BadInsideCidr(c.to_string())));
            }
            if o.pre_shared_key
                .as_deref()
                .is_some_and(|k| !pre_shared_key_ok(k))
            {
                return Err(invalid(VpnProblem::BadPreSharedKey));
            }
        }
        // The inside CIDRs taken on the gateway, and those given for this connection.
        let mut taken: Vec<Ipv4Net> = self
            .connections_of_vgw(vgw)
            .flat_map(|c| self.vpn_connection(c).tunnels.iter())
            .map(|t| t.tunnel_inside_cidr)
            .chain(tunnels.iter().filter_map(|o| o.tunnel_inside_cidr))
            .collect();
        let none = NewTunnelOptions::default();
        let mut tunnel = |k: usize| -> Result<VpnTunnel, VpnEditError> {
            let o = tunnels.get(k).unwrap_or(&none);
            let tunnel_inside_cidr = match o.tunnel_inside_cidr {
                Some(c) => c,
                None => {
                    let c = default_inside_cidr(&taken).ok_or_else(|| {
                        VpnEditError::Invalid(format!(
                            "VPN gateway {vpn_gateway:?} has no free tunnel inside CIDR left"
                        ))
                    })?;
                    taken.push(c);
                    c
                }
            };
            Ok(VpnTunnel {
                outside_ip_address: Ipv4Addr::UNSPECIFIED,
                tunnel_inside_cidr,
                pre_shared_key: o
                    .pre_shared_key
                    .clone()
                    .unwrap_or_else(|| default_pre_shared_key(name, k)),
                ike_versions: if o.ike_versions.is_empty() {
                    vec!["ikev1".to_owned(), "ikev2".to_owned()]
                } else {
                    o.ike_versions.clone()
                },
                dpd_timeout_seconds: o
                    .dpd_timeout_seconds
                    .unwrap_or(tunnel_defaults::DPD_TIMEOUT),
                phase1_lifetime_seconds: o
                    .phase1_lifetime_seconds
                    .unwrap_or(tunnel_defaults::PHASE1_LIFETIME),
                phase2_lifetime_seconds: o
                    .phase2_lifetime_seconds
                    .unwrap_or(tunnel_defaults::PHASE2_LIFETIME),
            })
        };
        let tunnels = [tunnel(0)?, tunnel(1)?];
        let mut edited = self.clone();
        edited.vpn_connections.push(VpnConnection {
            name: name.to_owned(),
            customer_gateway: cgw,
            vpn_gateway: vgw,
            static_routes_only,
            routes: Vec::new(),
            tunnels,
            live: VpnLive::default(),
        });
        if !edited.assign_outside_addresses() {
            return Err(invalid(VpnProblem::NoOutsideAddress));
        }
        edited.derive_vpn_hosts();
        self.replace_vpn_checked(edited)
    }

    /// Deletes VPN connection `name` (`DeleteVpnConnection`): its tunnels end, and
    /// its routes are no longer propagated.
    pub fn delete_vpn_connection(&mut self, name: &str) -> Result<(), VpnEditError> {
        let c = self.vpn_connection_named(name)?;
        let mut edited = self.clone();
        edited.vpn_connections.remove(c.index());
        edited.derive_vpn_hosts();
        self.replace_vpn_checked(edited)
    }

    /// Adds static route `cidr` to VPN connection `name` (`CreateVpnConnectionRoute`):
    /// only a connection with static routes only has them.
    pub fn create_vpn_connection_route(
        &mut self,
        name: &str,
        cidr: Ipv4Net,
    ) -> Result<(), VpnEditError> {
        let c = self.static_connection_named(name)?;
        if cidr != cidr.trunc() {
            return Err(VpnEditError::Invalid(
                VpnProblem::BadRoute(cidr.to_string()).to_string(),
            ));
        }
        if self.vpn_connection(c).routes.contains(&cidr) {
            return Err(VpnEditError::RouteExists {
                connection: name.to_owned(),
                cidr,
            });
        }
        let mut edited = self.clone();
        edited.vpn_connections[c.index()].routes.push(cidr);
        self.replace_vpn_checked(edited)
    }

    /// Removes static route `cidr` from VPN connection `name`
    /// (`DeleteVpnConnectionRoute`).
    pub fn delete_vpn_connection_route(
        &mut self,
        name: &str,
        cidr: Ipv4Net,
    ) -> Result<(), VpnEditError> {
        let c = self.static_connection_named(name)?;
        if !self.vpn_connection(c).routes.contains(&cidr) {
            return Err(VpnEditError::NoRoute {
                connection: name.to_owned(),
                cidr,
            });
        }
        let mut edited = self.clone();
        edited.vpn_connections[c.index()]
            .routes
            .retain(|&r| r != cidr);
        self.replace_vpn_checked(edited)
    }

    fn vpn_connection_named(&self, name: &str) -> Result<VpnConnectionId, VpnEditError> {
        self.find_vpn_connection(name)
            .ok_or_else(|| VpnEditError::UnknownVpnConnection(name.to_owned()))
    }

    /// The connection named `name`, if it has static routing.
    fn static_connection_named(&self, name: &str) -> Result<VpnConnectionId, VpnEditError> {
        let c = self.vpn_connection_named(name)?;
        if !self.vpn_connection(c).static_routes_only {
            return Err(VpnEditError::NotStatic(name.to_owned()));
        }
        Ok(c)
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

    /// VPC corp with VPN gateway vgw attached, its table propagating vgw, three
    /// customer gateways.
    const CONNECTIONS: &str = r#"
[[vpc]]
name = "corp"
cidr = "10.20.0.0/16"

[[route_table]]
name = "rt"
vpc = "corp"
main = true
propagating_vgws = ["vgw"]

[[vpn_gateway]]
name = "vgw"
vpc = "corp"

[[customer_gateway]]
name = "hq"
ip_address = "203.0.113.60"

[[customer_gateway]]
name = "branch"
ip_address = "203.0.113.61"

[[customer_gateway]]
name = "lab"
ip_address = "203.0.113.62"
"#;

    /// Each tunnel of `t`'s connections: connection, outside address, inside CIDR,
    /// pre-shared key.
    fn tunnels(t: &Topology) -> Vec<String> {
        t.vpn_connections
            .iter()
            .flat_map(|c| {
                c.tunnels.iter().map(|x| {
                    format!(
                        "{} {} {} {}",
                        c.name, x.outside_ip_address, x.tunnel_inside_cidr, x.pre_shared_key
                    )
                })
            })
            .collect()
    }

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn vpn_connections_get_awss_defaults_and_rules() {
        let mut t = crate::parse(CONNECTIONS, "t.toml").unwrap();
        t.create_vpn_connection("a", "hq", "vgw", false, &[])
            .unwrap();
        let given = NewTunnelOptions {
            tunnel_inside_cidr: Some(net("169.254.20.0/30")),
            pre_shared_key: Some("my.key_123".into()),
            ike_versions: vec!["ikev2".into()],
            dpd_timeout_seconds: Some(40),
            phase1_lifetime_seconds: Some(14_400),
            phase2_lifetime_seconds: Some(1_800),
        };
        t.create_vpn_connection("b", "branch", "vgw", true, &[given])
            .unwrap();
        assert_eq!(
            tunnels(&t),
            [
                format!(
                    "a 192.0.2.254 169.254.10.0/30 {}",
                    default_pre_shared_key("a", 0)
                ),
                format!(
                    "a 192.0.2.253 169.254.10.4/30 {}",
                    default_pre_shared_key("a", 1)
                ),
                "b 192.0.2.252 169.254.20.0/30 my.key_123".to_owned(),
                format!(
                    "b 192.0.2.251 169.254.10.8/30 {}",
                    default_pre_shared_key("b", 1)
                ),
            ]
        );
        let b = &t.vpn_connections[1];
        assert!(b.static_routes_only && b.routes.is_empty());
        assert_eq!(
            (
                &b.tunnels[0].ike_versions[..],
                b.tunnels[0].dpd_timeout_seconds,
                b.tunnels[0].phase1_lifetime_seconds,
                b.tunnels[0].phase2_lifetime_seconds
            ),
            (&["ikev2".to_owned()][..], 40, 14_400, 1_800)
        );
        assert_eq!(
            (
                &b.tunnels[1].ike_versions[..],
                b.tunnels[1].dpd_timeout_seconds,
                b.tunnels[1].phase1_lifetime_seconds,
                b.tunnels[1].phase2_lifetime_seconds
            ),
            (
                &["ikev1".to_owned(), "ikev2".to_owned()][..],
                30,
                28_800,
                3_600
            )
        );
        // The tunnels' AWS ends are internet hosts.
        let hosts: Vec<&str> = t.internet_hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            hosts,
            [
                "hq",
                "branch",
                "lab",
                "vpcd+tun-a-1",
                "vpcd+tun-a-2",
                "vpcd+tun-b-1",
                "vpcd+tun-b-2",
                "vpcd+gw-vgw"
            ]
        );
        // Written out whole, so vpcd's choices stay what they are.
        assert!(
            crate::to_toml(&t).contains("{ outside_ip_address = \"192.0.2.252\", tunnel_inside_cidr = \"169.254.20.0/30\", pre_shared_key = \"my.key_123\", ike_versions = [\"ikev2\"], dpd_timeout_seconds = 40, phase1_lifetime_seconds = 14400, phase2_lifetime_seconds = 1800 }"),
            "{}",
            crate::to_toml(&t)
        );
        let before = t.clone();
        let err = |t: &mut Topology, cgw: &str, vgw: &str, o: &[NewTunnelOptions]| {
            t.create_vpn_connection("c", cgw, vgw, false, o)
                .unwrap_err()
                .to_string()
        };
        let cidr = |c: &str| NewTunnelOptions {
            tunnel_inside_cidr: Some(net(c)),
            ..NewTunnelOptions::default()
        };
        assert_eq!(
            t.create_vpn_connection("a", "lab", "vgw", false, &[])
                .unwrap_err(),
            VpnEditError::Exists("a".into())
        );
        assert_eq!(
            err(&mut t, "nope", "vgw", &[]),
            "\"nope\" is not a customer gateway"
        );
        assert_eq!(
            err(&mut t, "lab", "nope", &[]),
            "\"nope\" is not a VPN gateway"
        );
        assert_eq!(
            err(&mut t, "hq", "vgw", &[]),
            "vpn_connection \"a\" already joins customer gateway \"hq\" and VPN gateway \"vgw\"; AWS allows one connection per pair"
        );
        assert_eq!(
            err(&mut t, "lab", "vgw", &[cidr("169.254.1.0/30")]),
            "\"169.254.1.0/30\" is not a valid tunnel inside CIDR: use a /30 in 169.254.0.0/16 other than 169.254.0.0/30-169.254.5.0/30 and 169.254.169.252/30, which AWS reserves"
        );
        assert_eq!(
            err(
                &mut t,
                "lab",
                "vgw",
                &[NewTunnelOptions {
                    pre_shared_key: Some("0short".into()),
                    ..NewTunnelOptions::default()
                }]
            ),
            "a pre-shared key is 8-64 characters, letters, digits, '.' and '_', and does not start with '0'"
        );
        assert_eq!(
            err(
                &mut t,
                "lab",
                "vgw",
                &[
                    cidr("169.254.30.0/30"),
                    cidr("169.254.30.4/30"),
                    cidr("169.254.30.8/30")
                ]
            ),
            "a VPN connection has two tunnels; 3 tunnel_options given"
        );
        // The configuration's own checks: an inside CIDR in use on the gateway, a DPD
        // timeout AWS refuses.
        assert_eq!(
            err(&mut t, "lab", "vgw", &[cidr("169.254.10.4/30")]),
            "vpn_connection[2].tunnel_options[0].tunnel_inside_cidr tunnel inside CIDR 169.254.10.4/30 is already used by vpn_connection \"a\" tunnel 2 on VPN gateway \"vgw\""
        );
        assert_eq!(
            err(
                &mut t,
                "lab",
                "vgw",
                &[NewTunnelOptions {
                    dpd_timeout_seconds: Some(10),
                    ..NewTunnelOptions::default()
                }]
            ),
            "vpn_connection[2].tunnel_options[0].dpd_timeout_seconds 10 is not a valid DPD timeout: at least 30 seconds"
        );
        assert_eq!(t, before, "a refused edit changes nothing");
    }

    #[test]
    fn static_routes_only_on_static_connections_and_live_state_is_kept() {
        let mut t = crate::parse(CONNECTIONS, "t.toml").unwrap();
        t.create_vpn_connection("a", "hq", "vgw", false, &[])
            .unwrap();
        t.create_vpn_connection("b", "branch", "vgw", true, &[])
            .unwrap();
        t.vpn_connections[0].live = VpnLive {
            up: [true, false],
            learned: vec![net("172.16.0.0/16")],
        };
        let route = net("172.17.0.0/16");
        assert_eq!(
            t.create_vpn_connection_route("a", route).unwrap_err(),
            VpnEditError::NotStatic("a".into())
        );
        assert_eq!(
            t.create_vpn_connection_route("a", route)
                .unwrap_err()
                .to_string(),
            "VPN connection \"a\" uses BGP: static routes are for a connection with static routes only"
        );
        assert_eq!(
            t.create_vpn_connection_route("nope", route).unwrap_err(),
            VpnEditError::UnknownVpnConnection("nope".into())
        );
        t.create_vpn_connection_route("b", route).unwrap();
        assert_eq!(
            t.create_vpn_connection_route("b", route).unwrap_err(),
            VpnEditError::RouteExists {
                connection: "b".into(),
                cidr: route
            }
        );
        assert_eq!(
            t.create_vpn_connection_route("b", net("172.18.0.1/16"))
                .unwrap_err()
                .to_string(),
            "\"172.18.0.1/16\" is not a CIDR block (like \"172.16.0.0/16\")"
        );
        assert_eq!(t.vpn_connections[1].routes, [route]);
        assert!(
            crate::to_toml(&t)
                .contains("static_routes_only = true\nroutes = [\"172.17.0.0/16\"]\n")
        );
        // What the daemon observed stays through edits.
        assert_eq!(t.vpn_connections[0].live.up, [true, false]);
        // The static route is propagated while a tunnel of b is up.
        t.vpn_connections[1].live.up = [false, true];
        let rt = t.find_route_table("rt").unwrap();
        let routes: Vec<String> = t
            .propagated_routes(rt)
            .map(|r| r.destination.to_string())
            .collect();
        assert_eq!(routes, ["172.17.0.0/16", "172.16.0.0/16"]);
        assert_eq!(
            t.delete_vpn_connection_route("b", net("172.18.0.0/16"))
                .unwrap_err(),
            VpnEditError::NoRoute {
                connection: "b".into(),
                cidr: net("172.18.0.0/16")
            }
        );
        t.delete_vpn_connection_route("b", route).unwrap();
        assert!(t.vpn_connections[1].routes.is_empty());
        // A customer gateway with a connection stays; deleting the connection frees it,
        // and the other connection keeps its addresses and state.
        assert!(t.delete_customer_gateway("hq").is_err());
        t.delete_vpn_connection("a").unwrap();
        assert_eq!(
            t.delete_vpn_connection("a").unwrap_err(),
            VpnEditError::UnknownVpnConnection("a".into())
        );
        assert_eq!(
            tunnels(&t),
            [
                format!(
                    "b 192.0.2.252 169.254.10.8/30 {}",
                    default_pre_shared_key("b", 0)
                ),
                format!(
                    "b 192.0.2.251 169.254.10.12/30 {}",
                    default_pre_shared_key("b", 1)
                ),
            ]
        );
        assert_eq!(t.vpn_connections[0].live.up, [false, true]);
        assert!(
            !t.internet_hosts
                .iter()
                .any(|h| h.name.starts_with("vpcd+tun-a"))
        );
        t.delete_customer_gateway("hq").unwrap();
    }
}

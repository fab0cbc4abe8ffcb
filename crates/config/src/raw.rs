//! The configuration file as written: serde types mirroring the TOML, every value kept
//! with its byte span so validation errors can name line and column.
//!
//! Nothing here is checked beyond TOML types and unknown keys (`deny_unknown_fields`);
//! `validate` turns these into a [`crate::Topology`]. Keys follow the AWS API's
//! parameter names in snake case (a route has `destination` and exactly one target key,
//! like `CreateRoute` has `DestinationCidrBlock` and one of `InstanceId`,
//! `NetworkInterfaceId`, ...).

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub vpc: Vec<RawVpc>,
    #[serde(default)]
    pub subnet: Vec<RawSubnet>,
    #[serde(default)]
    pub route_table: Vec<RawRouteTable>,
    #[serde(default)]
    pub instance: Vec<RawInstance>,
}

/// `[[vpc]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVpc {
    pub name: Spanned<String>,
    pub cidr: Spanned<String>,
    #[serde(default)]
    pub secondary_cidrs: Vec<Spanned<String>>,
}

/// `[[subnet]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSubnet {
    pub name: Spanned<String>,
    pub vpc: Spanned<String>,
    pub cidr: Spanned<String>,
    pub az: Spanned<String>,
}

/// `[[route_table]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRouteTable {
    pub name: Spanned<String>,
    pub vpc: Spanned<String>,
    #[serde(default)]
    pub main: Option<Spanned<bool>>,
    /// Explicit subnet associations.
    #[serde(default)]
    pub subnets: Vec<Spanned<String>>,
    #[serde(default)]
    pub route: Vec<Spanned<RawRoute>>,
}

/// One `[[route_table.route]]` (or an inline table in `route = [...]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub destination: Spanned<String>,
    /// Target: an instance with exactly one network interface.
    #[serde(default)]
    pub instance: Option<Spanned<String>>,
    /// Target: a network interface, written `instance/ethN`.
    #[serde(default)]
    pub network_interface: Option<Spanned<String>>,
}

/// `[[instance]]`: the instance-level `subnet`, `private_ip` and `source_dest_check`
/// describe the primary interface `eth0`, as `RunInstances` takes them; each
/// `[[instance.eni]]` attaches one more interface (`eth1`, `eth2`, ...).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInstance {
    pub name: Spanned<String>,
    pub subnet: Spanned<String>,
    #[serde(default)]
    pub private_ip: Option<Spanned<String>>,
    #[serde(default)]
    pub source_dest_check: Option<bool>,
    #[serde(default)]
    pub eni: Vec<Spanned<RawEni>>,
}

/// `[[instance.eni]]`: a secondary network interface.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEni {
    pub subnet: Spanned<String>,
    #[serde(default)]
    pub private_ip: Option<Spanned<String>>,
    #[serde(default)]
    pub source_dest_check: Option<bool>,
}

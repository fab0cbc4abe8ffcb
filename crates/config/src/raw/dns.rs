//! The DNS tables of the file as written: `[[dhcp_options]]` (EC2's
//! `CreateDhcpOptions`) and `[[private_hosted_zone]]` (Route 53's
//! `CreateHostedZone` with `VPC`, and `ChangeResourceRecordSets`). Checked in
//! `validate/dns.rs`.

use serde::Deserialize;
use toml::Spanned;

/// `[[dhcp_options]]`: keys are `CreateDhcpOptions`' option names in snake case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDhcpOptions {
    pub name: Spanned<String>,
    #[serde(default)]
    pub domain_name: Option<Spanned<String>>,
    /// Addresses, or `AmazonProvidedDNS`.
    #[serde(default)]
    pub domain_name_servers: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub ntp_servers: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub netbios_name_servers: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub netbios_node_type: Option<Spanned<i64>>,
}

/// `[[private_hosted_zone]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHostedZone {
    /// The zone's domain.
    pub name: Spanned<String>,
    /// The associated VPCs, by name.
    pub vpcs: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub records: Vec<Spanned<RawRecordSet>>,
}

/// One record set: `{ name = "web", type = "A", ttl = 300, values = ["10.0.1.10"] }`.
/// A name ending in `.`, equal to the zone's or ending in `.<zone>` is fully
/// qualified; `@` is the apex; any other is relative to the zone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRecordSet {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub record_type: Spanned<String>,
    #[serde(default)]
    pub ttl: Option<Spanned<i64>>,
    pub values: Spanned<Vec<Spanned<String>>>,
}

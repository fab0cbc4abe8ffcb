//! vpcd's configuration: a TOML file describing VPCs (of accounts and regions),
//! subnets, route tables, instances, security groups, network ACLs, flow logs,
//! internet and NAT gateways, Elastic IPs, the hosts of the emulated internet, VPC
//! peering connections, transit gateways with their attachments, route tables and
//! multicast domains, resource shares and the sizes of the dataplane's tables, parsed
//! into raw types and then validated into a [`Topology`]. [`edit`] changes a running
//! topology (the control socket's gateway, Elastic IP, route table, peering, transit
//! gateway and multicast commands).
//!
//! [`to_toml`] writes a topology back as a file in the same format, one table per
//! resource with references by name, which [`parse`] reads back into an equal
//! topology, whatever changes at run time made it: vpcd's state file, written when
//! the topology changes at run time and read at the next start. Every state those
//! changes reach has keys in the file (a deleted NAT gateway, a deleted peering
//! connection or attachment, a route left by a detached internet gateway, an
//! attachment no longer taking its gateway's default route table). [`plan`] compares
//! two topologies in that form, resource by resource (`+ subnet private-c`,
//! `~ security_group web-sg`, `- instance db`).
//!
//! Errors name the file, line, column and field path, e.g.
//! `config/x.toml:12:8: subnet[2].cidr 10.1.0.0/24 is outside vpc "main" (10.0.0.0/16)`.
//! The syntax is documented in `docs/config.md`; the AWS rules each check enforces are
//! listed in `validate`.

pub mod account;
pub mod addressing;
mod dns;
pub mod edit;
mod endpoints;
mod error;
mod fabric;
mod metadata;
mod plan;
mod raw;
mod security;
mod topology;
mod validate;
mod vpn;
mod write;

pub use account::{DEFAULT_ACCOUNT, DEFAULT_REGION};
pub use dns::*;
pub use edit::EditError;
pub use endpoints::*;
pub use error::{ConfigError, Diagnostic, Problem};
pub use fabric::*;
pub use metadata::{
    DEFAULT_HOP_LIMIT, HttpEndpoint, HttpTokens, MAX_HOP_LIMIT, MIN_HOP_LIMIT, MetadataOptions,
    MetadataOptionsChange,
};
pub use plan::{Action, Change, Plan, plan};
pub use security::*;
pub use topology::*;
pub use validate::MAX_ENIS_PER_INSTANCE;
pub use vpn::*;
pub use write::to_toml;

use error::Reporter;

/// The demo topology that `vpcd run` uses without `--config` (`config/demo.toml`).
pub const DEMO_TOML: &str = include_str!("../../../config/demo.toml");

/// The name the embedded demo's diagnostics use.
pub const DEMO_FILE_NAME: &str = "<embedded demo>";

/// Reads and validates the configuration file at `path`.
pub fn load(path: &std::path::Path) -> Result<Topology, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: shown.clone(),
        error,
    })?;
    parse(&text, &shown)
}

/// Parses and validates configuration text; `file` names it in diagnostics.
pub fn parse(text: &str, file: &str) -> Result<Topology, ConfigError> {
    let mut reporter = Reporter::new(file, text);
    let raw = toml::Deserializer::parse(text)
        .map_err(|e| (String::new(), e))
        .and_then(|de| {
            serde_path_to_error::deserialize::<_, raw::RawConfig>(de)
                .map_err(|e| (field_path(e.path()), e.into_inner()))
        });
    let raw = match raw {
        Ok(raw) => raw,
        Err((path, e)) => {
            let field = if path == "." { String::new() } else { path };
            let problem = Problem::Syntax(e.message().to_owned());
            reporter.report(e.span().unwrap_or(0..0), field, problem);
            reporter.finish()?;
            unreachable!("a reported problem makes finish() fail");
        }
    };
    let topology = validate::validate(&raw, &mut reporter);
    reporter.finish()?;
    topology.ok_or_else(|| ConfigError::Invalid(Vec::new()))
}

/// The field path of a serde error, without the segment `toml::Spanned` adds inside.
fn field_path(path: &serde_path_to_error::Path) -> String {
    const SPANNED: &str = ".$__serde_spanned_private_value";
    path.to_string().replace(SPANNED, "")
}

//! An instance's metadata options (EC2's `InstanceMetadataOptions`: `HttpTokens`,
//! `HttpPutResponseHopLimit`, `HttpEndpoint`), as the `[[instance]]` key
//! `metadata_options = { http_tokens = "required", http_put_response_hop_limit = 2,
//! http_endpoint = "enabled" }` writes them, and the run-time change of them
//! (`ModifyInstanceMetadataOptions`, [`Topology::modify_instance_metadata_options`]).
//!
//! AWS's rules: `http_tokens` is `optional` (IMDSv1 and IMDSv2 both answer) or
//! `required` (only IMDSv2, with a session token); the hop limit is 1 to 64 (the IP TTL
//! of the token's response, so a token reaches at most that many hops away);
//! `http_endpoint` is `enabled` or `disabled`. Omitted, each key takes AWS's default
//! for `RunInstances`: `optional`, 1, `enabled`. The daemon's metadata service
//! (`vpc_services::imds`) reads them; the dataplane does not.

use serde::Deserialize;
use toml::Spanned;

use crate::edit::EditError;
use crate::topology::{InstanceId, Topology};

/// Whether the metadata service needs a session token (`HttpTokens`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum HttpTokens {
    /// IMDSv1 (no token) and IMDSv2 both answer (AWS's default).
    #[default]
    Optional,
    /// Only requests with a valid token are answered (IMDSv2 only).
    Required,
}

impl HttpTokens {
    /// AWS's (and the file's) name: `optional` or `required`.
    pub fn aws_name(self) -> &'static str {
        match self {
            HttpTokens::Optional => "optional",
            HttpTokens::Required => "required",
        }
    }

    /// The value AWS's name `s` names.
    pub fn from_aws_name(s: &str) -> Option<HttpTokens> {
        match s {
            "optional" => Some(HttpTokens::Optional),
            "required" => Some(HttpTokens::Required),
            _ => None,
        }
    }
}

/// Whether the metadata service answers the instance at all (`HttpEndpoint`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum HttpEndpoint {
    /// It answers (AWS's default).
    #[default]
    Enabled,
    /// It refuses every request.
    Disabled,
}

impl HttpEndpoint {
    /// AWS's (and the file's) name: `enabled` or `disabled`.
    pub fn aws_name(self) -> &'static str {
        match self {
            HttpEndpoint::Enabled => "enabled",
            HttpEndpoint::Disabled => "disabled",
        }
    }

    /// The value AWS's name `s` names.
    pub fn from_aws_name(s: &str) -> Option<HttpEndpoint> {
        match s {
            "enabled" => Some(HttpEndpoint::Enabled),
            "disabled" => Some(HttpEndpoint::Disabled),
            _ => None,
        }
    }
}

/// The smallest `http_put_response_hop_limit`.
pub const MIN_HOP_LIMIT: u8 = 1;
/// The largest `http_put_response_hop_limit` (AWS's limit).
pub const MAX_HOP_LIMIT: u8 = 64;
/// The hop limit of an instance that names none (AWS's `RunInstances` default).
pub const DEFAULT_HOP_LIMIT: u8 = 1;

/// An instance's metadata options; [`Default`] is AWS's default for `RunInstances`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetadataOptions {
    /// `http_tokens` (default `optional`).
    pub http_tokens: HttpTokens,
    /// `http_put_response_hop_limit`: the IP TTL of the token's response, 1 to 64
    /// (default 1).
    pub http_put_response_hop_limit: u8,
    /// `http_endpoint` (default `enabled`).
    pub http_endpoint: HttpEndpoint,
}

impl Default for MetadataOptions {
    fn default() -> Self {
        MetadataOptions {
            http_tokens: HttpTokens::Optional,
            http_put_response_hop_limit: DEFAULT_HOP_LIMIT,
            http_endpoint: HttpEndpoint::Enabled,
        }
    }
}

/// `metadata_options = { ... }` of an `[[instance]]`, as written; every key optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMetadataOptions {
    #[serde(default)]
    pub http_tokens: Option<Spanned<String>>,
    #[serde(default)]
    pub http_put_response_hop_limit: Option<Spanned<i64>>,
    #[serde(default)]
    pub http_endpoint: Option<Spanned<String>>,
}

/// A change of metadata options (`ModifyInstanceMetadataOptions`): each `None` keeps
/// the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetadataOptionsChange {
    /// New `http_tokens`.
    pub http_tokens: Option<HttpTokens>,
    /// New hop limit (checked: 1 to 64).
    pub http_put_response_hop_limit: Option<i64>,
    /// New `http_endpoint`.
    pub http_endpoint: Option<HttpEndpoint>,
}

impl MetadataOptionsChange {
    /// The change AWS's names ask for (`"required"`, `2`, `"disabled"`), each checked
    /// (the hop limit by [`Topology::modify_instance_metadata_options`]).
    pub fn from_names(
        http_tokens: Option<&str>,
        http_put_response_hop_limit: Option<i64>,
        http_endpoint: Option<&str>,
    ) -> Result<MetadataOptionsChange, EditError> {
        let bad = |key: &'static str, value: &str| EditError::BadMetadataOption {
            key,
            value: value.to_owned(),
        };
        Ok(MetadataOptionsChange {
            http_tokens: http_tokens
                .map(|v| HttpTokens::from_aws_name(v).ok_or_else(|| bad("http_tokens", v)))
                .transpose()?,
            http_put_response_hop_limit,
            http_endpoint: http_endpoint
                .map(|v| HttpEndpoint::from_aws_name(v).ok_or_else(|| bad("http_endpoint", v)))
                .transpose()?,
        })
    }
}

impl Topology {
    /// The instance named `name`.
    pub fn find_instance(&self, name: &str) -> Option<InstanceId> {
        self.instances
            .iter()
            .position(|i| i.name == name)
            .map(|i| InstanceId(i as u32))
    }

    /// Changes instance `name`'s metadata options (`ModifyInstanceMetadataOptions`);
    /// the keys `change` leaves `None` keep their value. Returns the new options. The
    /// metadata service answers by them from its next request on (tokens already
    /// handed out stay valid, as in AWS).
    pub fn modify_instance_metadata_options(
        &mut self,
        name: &str,
        change: MetadataOptionsChange,
    ) -> Result<MetadataOptions, EditError> {
        let id = self
            .find_instance(name)
            .ok_or_else(|| EditError::UnknownInstance(name.to_owned()))?;
        let mut o = self.instance(id).launch.metadata_options;
        if let Some(hops) = change.http_put_response_hop_limit {
            o.http_put_response_hop_limit = u8::try_from(hops)
                .ok()
                .filter(|h| (MIN_HOP_LIMIT..=MAX_HOP_LIMIT).contains(h))
                .ok_or(EditError::BadHopLimit(hops))?;
        }
        if let Some(t) = change.http_tokens {
            o.http_tokens = t;
        }
        if let Some(e) = change.http_endpoint {
            o.http_endpoint = e;
        }
        self.instances[id.index()].launch.metadata_options = o;
        Ok(o)
    }
}

/// `metadata_options` as the file writes it: an inline table of the keys that differ
/// from the default, in the order `http_tokens`, `http_put_response_hop_limit`,
/// `http_endpoint`; `None` when all are the default (the key is left out).
pub(crate) fn inline_table(o: &MetadataOptions) -> Option<String> {
    let d = MetadataOptions::default();
    let mut keys = Vec::new();
    if o.http_tokens != d.http_tokens {
        keys.push(format!("http_tokens = \"{}\"", o.http_tokens.aws_name()));
    }
    if o.http_put_response_hop_limit != d.http_put_response_hop_limit {
        keys.push(format!(
            "http_put_response_hop_limit = {}",
            o.http_put_response_hop_limit
        ));
    }
    if o.http_endpoint != d.http_endpoint {
        keys.push(format!(
            "http_endpoint = \"{}\"",
            o.http_endpoint.aws_name()
        ));
    }
    (!keys.is_empty()).then(|| format!("{{ {} }}", keys.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_change(
        t: &mut Topology,
        change: MetadataOptionsChange,
    ) -> Result<MetadataOptions, EditError> {
        t.modify_instance_metadata_options("web", change)
    }

    #[test]
    fn modify_changes_only_what_is_given() {
        let mut t = crate::parse(
            "[[vpc]]\nname = \"main\"\ncidr = \"10.0.0.0/16\"\n\n[[subnet]]\nname = \"a\"\nvpc = \"main\"\ncidr = \"10.0.1.0/24\"\naz = \"a\"\n\n[[instance]]\nname = \"web\"\nsubnet = \"a\"\n",
            "t",
        )
        .unwrap();
        let o = demo_change(
            &mut t,
            MetadataOptionsChange::from_names(Some("required"), Some(5), None).unwrap(),
        )
        .unwrap();
        assert_eq!(
            (
                o.http_tokens,
                o.http_put_response_hop_limit,
                o.http_endpoint
            ),
            (HttpTokens::Required, 5, HttpEndpoint::Enabled)
        );
        let o = demo_change(
            &mut t,
            MetadataOptionsChange::from_names(None, None, Some("disabled")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            (
                o.http_tokens,
                o.http_put_response_hop_limit,
                o.http_endpoint
            ),
            (HttpTokens::Required, 5, HttpEndpoint::Disabled)
        );
        assert_eq!(t.instances[0].launch.metadata_options, o);
        let before = t.clone();
        for bad in [0, 65, -1] {
            let change = MetadataOptionsChange {
                http_tokens: Some(HttpTokens::Optional),
                http_put_response_hop_limit: Some(bad),
                ..MetadataOptionsChange::default()
            };
            assert_eq!(
                demo_change(&mut t, change),
                Err(EditError::BadHopLimit(bad))
            );
        }
        assert_eq!(t, before, "a refused change changes nothing");
        assert_eq!(
            t.modify_instance_metadata_options("ghost", MetadataOptionsChange::default()),
            Err(EditError::UnknownInstance("ghost".into()))
        );
        // Written back and read again.
        assert_eq!(crate::parse(&crate::to_toml(&t), "back").unwrap(), t);
    }

    #[test]
    fn names_and_defaults() {
        assert_eq!(
            HttpTokens::from_aws_name("required"),
            Some(HttpTokens::Required)
        );
        assert_eq!(HttpTokens::from_aws_name("Required"), None);
        assert_eq!(
            HttpEndpoint::from_aws_name("disabled"),
            Some(HttpEndpoint::Disabled)
        );
        assert_eq!(HttpEndpoint::Disabled.aws_name(), "disabled");
        assert_eq!(
            MetadataOptionsChange::from_names(Some("required"), Some(3), None),
            Ok(MetadataOptionsChange {
                http_tokens: Some(HttpTokens::Required),
                http_put_response_hop_limit: Some(3),
                http_endpoint: None,
            })
        );
        assert_eq!(
            MetadataOptionsChange::from_names(None, None, Some("off"))
                .unwrap_err()
                .to_string(),
            "http_endpoint \"off\" is not one of AWS's values (enabled, disabled)"
        );
        let d = MetadataOptions::default();
        assert_eq!(
            (
                d.http_tokens.aws_name(),
                d.http_put_response_hop_limit,
                d.http_endpoint.aws_name()
            ),
            ("optional", 1, "enabled")
        );
    }
}

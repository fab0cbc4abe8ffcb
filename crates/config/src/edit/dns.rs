//! Changes to DHCP option sets at run time (`vpcctl create-dhcp-options`,
//! `associate-dhcp-options`, `delete-dhcp-options`; EC2's `CreateDhcpOptions`,
//! `AssociateDhcpOptions`, `DeleteDhcpOptions`). A new set is checked by the same code
//! as the file's `[[dhcp_options]]` (`validate/dns.rs`); a set a VPC uses is not
//! deleted (AWS's `DependencyViolation`); associating `default` leaves the VPC without
//! a set, which gives AWS's default options.

use crate::dns::DhcpOptionsId;
use crate::topology::Topology;

/// Why a DHCP option set change was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsEditError {
    /// No option set of that name.
    #[error("no dhcp_options named {0:?}")]
    UnknownDhcpOptions(String),
    /// No VPC of that name.
    #[error("no vpc named {0:?}")]
    UnknownVpc(String),
    /// Deleting a set VPCs use.
    #[error(
        "dhcp_options {name:?} is associated with vpc {vpcs}: associate them with another set or default first"
    )]
    DhcpOptionsInUse {
        /// The set.
        name: String,
        /// The VPCs, comma-separated.
        vpcs: String,
    },
    /// The new set breaks a rule of `[[dhcp_options]]`: the checks' words.
    #[error("{0}")]
    Invalid(String),
}

/// A new DHCP option set, as `CreateDhcpOptions` gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewDhcpOptions {
    /// Its name.
    pub name: String,
    /// `domain-name`.
    pub domain_name: Option<String>,
    /// `domain-name-servers`: addresses or `AmazonProvidedDNS`.
    pub domain_name_servers: Vec<String>,
    /// `ntp-servers`.
    pub ntp_servers: Vec<String>,
    /// `netbios-name-servers`.
    pub netbios_name_servers: Vec<String>,
    /// `netbios-node-type`.
    pub netbios_node_type: Option<u8>,
}

impl Topology {
    /// Adds option set `o`, checked as the file's `[[dhcp_options]]` are.
    pub fn create_dhcp_options(&mut self, o: &NewDhcpOptions) -> Result<(), DnsEditError> {
        let mut table = toml::Table::new();
        table.insert("name".into(), o.name.clone().into());
        if let Some(d) = &o.domain_name {
            table.insert("domain_name".into(), d.clone().into());
        }
        for (key, list) in [
            ("domain_name_servers", &o.domain_name_servers),
            ("ntp_servers", &o.ntp_servers),
            ("netbios_name_servers", &o.netbios_name_servers),
        ] {
            if !list.is_empty() {
                let values = list.iter().cloned().map(toml::Value::String).collect();
                table.insert(key.into(), toml::Value::Array(values));
            }
        }
        if let Some(n) = o.netbios_node_type {
            table.insert("netbios_node_type".into(), i64::from(n).into());
        }
        let mut doc = toml::Table::new();
        doc.insert(
            "dhcp_options".into(),
            toml::Value::Array(vec![toml::Value::Table(table)]),
        );
        let added = toml::to_string(&doc).map_err(|e| DnsEditError::Invalid(e.to_string()))?;
        let text = format!("{}\n{added}", crate::to_toml(self));
        let new = crate::parse(&text, "<edit>").map_err(|e| {
            let words: Vec<String> = e
                .diagnostics()
                .iter()
                .map(|d| format!("{} {}", d.field, d.problem))
                .collect();
            DnsEditError::Invalid(if words.is_empty() {
                e.to_string()
            } else {
                words.join("; ")
            })
        })?;
        *self = new;
        Ok(())
    }

    /// Makes VPC `vpc` use option set `name`, or none (AWS's defaults) for `default`.
    pub fn associate_dhcp_options(&mut self, name: &str, vpc: &str) -> Result<(), DnsEditError> {
        let set = match name {
            "default" => None,
            _ => Some(self.dhcp_options_id(name)?),
        };
        let v = self
            .vpcs
            .iter_mut()
            .find(|v| v.name == vpc)
            .ok_or_else(|| DnsEditError::UnknownVpc(vpc.to_owned()))?;
        v.dhcp_options = set;
        Ok(())
    }

    /// Deletes option set `name`, which no VPC may use.
    pub fn delete_dhcp_options(&mut self, name: &str) -> Result<(), DnsEditError> {
        let id = self.dhcp_options_id(name)?;
        let users: Vec<&str> = self
            .vpcs
            .iter()
            .filter(|v| v.dhcp_options == Some(id))
            .map(|v| v.name.as_str())
            .collect();
        if !users.is_empty() {
            return Err(DnsEditError::DhcpOptionsInUse {
                name: name.to_owned(),
                vpcs: users.join(", "),
            });
        }
        self.dhcp_options.remove(id.index());
        for v in &mut self.vpcs {
            if let Some(o) = v.dhcp_options
                && o > id
            {
                v.dhcp_options = Some(DhcpOptionsId(o.0 - 1));
            }
        }
        Ok(())
    }

    /// The option set named `name`.
    fn dhcp_options_id(&self, name: &str) -> Result<DhcpOptionsId, DnsEditError> {
        self.dhcp_options
            .iter()
            .position(|o| o.name == name)
            .map(|i| DhcpOptionsId(i as u32))
            .ok_or_else(|| DnsEditError::UnknownDhcpOptions(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DnsServer, parse, to_toml};

    const NET: &str = r#"
[[vpc]]
name = "a"
cidr = "10.0.0.0/16"
dhcp_options = "one"

[[vpc]]
name = "b"
cidr = "10.1.0.0/16"
dhcp_options = "two"

[[dhcp_options]]
name = "one"
domain_name = "one.example"

[[dhcp_options]]
name = "two"
domain_name = "two.example"
"#;

    #[test]
    fn create_associate_and_delete_keep_the_topology_valid() {
        let mut t = parse(NET, "t").unwrap_or_else(|e| panic!("{e}"));
        t.create_dhcp_options(&NewDhcpOptions {
            name: "three".into(),
            domain_name_servers: vec!["AmazonProvidedDNS".into(), "10.0.0.53".into()],
            ..NewDhcpOptions::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            t.dhcp_options[2].domain_name_servers,
            [
                DnsServer::AmazonProvidedDns,
                DnsServer::Address([10, 0, 0, 53].into())
            ]
        );
        let bad = NewDhcpOptions {
            name: "four".into(),
            ntp_servers: vec!["x".into()],
            ..NewDhcpOptions::default()
        };
        assert_eq!(
            t.create_dhcp_options(&bad),
            Err(DnsEditError::Invalid(
                "dhcp_options[3].ntp_servers[0] \"x\" is not an IPv4 address".into()
            ))
        );
        assert_eq!(
            t.delete_dhcp_options("one"),
            Err(DnsEditError::DhcpOptionsInUse {
                name: "one".into(),
                vpcs: "a".into()
            })
        );
        t.associate_dhcp_options("default", "a")
            .unwrap_or_else(|e| panic!("{e}"));
        t.delete_dhcp_options("one")
            .unwrap_or_else(|e| panic!("{e}"));
        // b's set moved down one place and is still "two".
        assert_eq!(t.vpcs[1].dhcp_options, Some(DhcpOptionsId(0)));
        assert_eq!(t.dhcp_options[0].name, "two");
        assert_eq!(
            t.associate_dhcp_options("nope", "a"),
            Err(DnsEditError::UnknownDhcpOptions("nope".into()))
        );
        let back = parse(&to_toml(&t), "back").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, t);
    }
}

//! Writes `[[vpn_gateway]]` and `[[customer_gateway]]` (see `crate::vpn`): the type
//! never (only `ipsec.1` exists), ASNs only when not the default, the VPC by name;
//! and `[[vpn_connection]]`, every tunnel option written out (outside addresses and
//! keys vpcd chose included, so they stay what they were), run-time state never.

use super::{Inline, Table, Text, Writer, quote};
use crate::vpn::{DEFAULT_AMAZON_SIDE_ASN, DEFAULT_BGP_ASN, tunnel_defaults};

impl Writer<'_> {
    pub(super) fn vpn_gateways(&self, out: &mut Vec<Table>) {
        for g in &self.t.vpn_gateways {
            let mut x = Text::new("vpn_gateway");
            x.string("name", &g.name);
            if g.amazon_side_asn != DEFAULT_AMAZON_SIDE_ASN {
                x.key("amazon_side_asn", g.amazon_side_asn);
            }
            if let Some(v) = g.vpc {
                x.string("vpc", self.vpc_name(v));
            }
            if let Some(az) = &g.availability_zone {
                x.string("availability_zone", az);
            }
            out.push(self.table("vpn_gateway", &g.name, x));
        }
    }

    pub(super) fn customer_gateways(&self, out: &mut Vec<Table>) {
        for g in &self.t.customer_gateways {
            let mut x = Text::new("customer_gateway");
            x.string("name", &g.name);
            x.string("ip_address", g.ip_address);
            if g.bgp_asn != DEFAULT_BGP_ASN {
                x.key("bgp_asn", g.bgp_asn);
            }
            if let Some(d) = &g.device_name {
                x.string("device_name", d);
            }
            x.strings("site_cidrs", &g.site_cidrs);
            x.strings("site_addresses", &g.site_addresses);
            out.push(self.table("customer_gateway", &g.name, x));
        }
    }

    pub(super) fn vpn_connections(&self, out: &mut Vec<Table>) {
        for c in &self.t.vpn_connections {
            let mut x = Text::new("vpn_connection");
            x.string("name", &c.name);
            x.string(
                "customer_gateway",
                &self.t.customer_gateway(c.customer_gateway).name,
            );
            x.string("vpn_gateway", &self.t.vpn_gateway(c.vpn_gateway).name);
            if c.static_routes_only {
                x.key("static_routes_only", true);
            }
            x.strings("routes", &c.routes);
            let tunnels = c
                .tunnels
                .iter()
                .map(|t| {
                    let mut e = Inline::default();
                    e.string("outside_ip_address", t.outside_ip_address);
                    e.string("tunnel_inside_cidr", t.tunnel_inside_cidr);
                    e.string("pre_shared_key", &t.pre_shared_key);
                    if t.ike_versions != ["ikev1", "ikev2"] {
                        let v: Vec<String> = t.ike_versions.iter().map(|v| quote(v)).collect();
                        e.key("ike_versions", format!("[{}]", v.join(", ")));
                    }
                    if t.dpd_timeout_seconds != tunnel_defaults::DPD_TIMEOUT {
                        e.key("dpd_timeout_seconds", t.dpd_timeout_seconds);
                    }
                    if t.phase1_lifetime_seconds != tunnel_defaults::PHASE1_LIFETIME {
                        e.key("phase1_lifetime_seconds", t.phase1_lifetime_seconds);
                    }
                    if t.phase2_lifetime_seconds != tunnel_defaults::PHASE2_LIFETIME {
                        e.key("phase2_lifetime_seconds", t.phase2_lifetime_seconds);
                    }
                    e
                })
                .collect();
            x.inline_tables("tunnel_options", tunnels);
            out.push(self.table("vpn_connection", &c.name, x));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn vpn_and_customer_gateways_read_back() {
        let src = r#"
[[vpc]]
name = "corp"
cidr = "10.20.0.0/16"

[[route_table]]
name = "rt"
vpc = "corp"
main = true
propagating_vgws = ["vgw"]
route = [
  { destination = "172.16.0.0/16", vpn_gateway = "vgw" },
  { destination = "172.17.0.0/16", vpn_gateway = "old", state = "blackhole" },
]

[[vpn_gateway]]
name = "vgw"
vpc = "corp"
amazon_side_asn = 4200000001
availability_zone = "us-east-1a"

[[vpn_gateway]]
name = "old"

[[customer_gateway]]
name = "hq"
ip_address = "203.0.113.60"
bgp_asn = 65001
device_name = "edge-1"

[[customer_gateway]]
name = "branch"
type = "ipsec.1"
ip_address = "203.0.113.61"
"#;
        let t = crate::parse(src, "t.toml").unwrap();
        let text = crate::to_toml(&t);
        for part in [
            "propagating_vgws = [\"vgw\"]\n",
            "{ destination = \"172.16.0.0/16\", vpn_gateway = \"vgw\" }",
            "{ destination = \"172.17.0.0/16\", vpn_gateway = \"old\", state = \"blackhole\" }",
            "[[vpn_gateway]]\nname = \"vgw\"\namazon_side_asn = 4200000001\nvpc = \"corp\"\navailability_zone = \"us-east-1a\"\n",
            "[[vpn_gateway]]\nname = \"old\"\n\n",
            "[[customer_gateway]]\nname = \"hq\"\nip_address = \"203.0.113.60\"\nbgp_asn = 65001\ndevice_name = \"edge-1\"\n",
            "[[customer_gateway]]\nname = \"branch\"\nip_address = \"203.0.113.61\"\n",
        ] {
            assert!(text.contains(part), "{part}\n---\n{text}");
        }
        assert_eq!(crate::parse(&text, "back.toml").unwrap(), t);
    }
}

//! Writes `[[vpn_gateway]]` and `[[customer_gateway]]` (see `crate::vpn`): the type
//! never (only `ipsec.1` exists), ASNs only when not the default, the VPC by name.

use super::{Table, Text, Writer};
use crate::vpn::{DEFAULT_AMAZON_SIDE_ASN, DEFAULT_BGP_ASN};

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
            out.push(self.table("customer_gateway", &g.name, x));
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

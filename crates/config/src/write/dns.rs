//! Writes the DNS tables back: `[[dhcp_options]]` and `[[private_hosted_zone]]`, in
//! the form `validate/dns.rs` reads back into equal resources (record names relative
//! to their zone, `@` for the apex).

use super::{Inline, Table, Text, Writer, quote};
use crate::dns::in_domain;

impl Writer<'_> {
    pub(super) fn dhcp_options(&self, out: &mut Vec<Table>) {
        for o in &self.t.dhcp_options {
            let mut x = Text::new("dhcp_options");
            x.string("name", &o.name);
            if let Some(d) = &o.domain_name {
                x.string("domain_name", d);
            }
            if !o.domain_name_servers.is_empty() {
                x.strings("domain_name_servers", &o.domain_name_servers);
            }
            x.strings("ntp_servers", &o.ntp_servers);
            x.strings("netbios_name_servers", &o.netbios_name_servers);
            if let Some(n) = o.netbios_node_type {
                x.key("netbios_node_type", n);
            }
            out.push(self.table("dhcp_options", &o.name, x));
        }
    }

    pub(super) fn hosted_zones(&self, out: &mut Vec<Table>) {
        for z in &self.t.private_hosted_zones {
            let mut x = Text::new("private_hosted_zone");
            x.string("name", &z.name);
            let vpcs: Vec<&str> = z.vpcs.iter().map(|&v| self.vpc_name(v)).collect();
            x.key(
                "vpcs",
                format!(
                    "[{}]",
                    vpcs.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", ")
                ),
            );
            let records = z
                .records
                .iter()
                .map(|r| {
                    let mut e = Inline::default();
                    e.string("name", relative(&r.name, &z.name))
                        .string("type", r.record_type)
                        .key("ttl", r.ttl);
                    let values: Vec<String> =
                        r.values.iter().map(|v| quote(&v.to_string())).collect();
                    e.key("values", format!("[{}]", values.join(", ")));
                    e
                })
                .collect();
            x.inline_tables("records", records);
            out.push(self.table("private_hosted_zone", &z.name, x));
        }
    }
}

/// Record name `name` as written in zone `zone`: `@` for the apex, relative where
/// that reads back the same, else fully qualified with the final dot.
fn relative(name: &str, zone: &str) -> String {
    if name == zone {
        return "@".to_owned();
    }
    match name.strip_suffix(zone).and_then(|h| h.strip_suffix('.')) {
        Some(head) if !in_domain(head, zone) => head.to_owned(),
        _ => format!("{name}."),
    }
}

#[cfg(test)]
mod tests {
    use super::relative;
    use crate::{parse, to_toml};

    #[test]
    fn record_names_are_written_relative_where_that_reads_back() {
        assert_eq!(relative("web.demo.internal", "demo.internal"), "web");
        assert_eq!(relative("demo.internal", "demo.internal"), "@");
        assert_eq!(
            relative("a.demo.internal.demo.internal", "demo.internal"),
            "a.demo.internal.demo.internal."
        );
    }

    #[test]
    fn every_dns_key_reads_back() {
        let text = r#"
[[vpc]]
name = "v"
cidr = "10.0.0.0/16"
dhcp_options = "corp"

[[dhcp_options]]
name = "corp"
domain_name = "corp.example b.example"
domain_name_servers = ["AmazonProvidedDNS", "10.0.0.53"]
ntp_servers = ["169.254.169.123"]
netbios_name_servers = ["10.0.0.7"]
netbios_node_type = 2

[[dhcp_options]]
name = "ntp-only"
ntp_servers = ["10.0.0.9"]

[[internet_host]]
name = "www.example.com"
address = "198.51.100.80"
dns_names = ["example.com", "cdn.example.com"]

[[private_hosted_zone]]
name = "demo.internal"
vpcs = ["v"]
records = [
  { name = "web", type = "A", ttl = 60, values = ["10.0.1.10", "10.0.1.11"] },
  { name = "@", type = "MX", values = ["10 mail.demo.internal"] },
  { name = "@", type = "TXT", values = ["v=spf1 \"quoted\" -all"] },
  { name = "www", type = "CNAME", values = ["web.demo.internal."] },
  { name = "v6", type = "AAAA", values = ["2001:db8::1"] },
  { name = "a.demo.internal.demo.internal.", type = "A", values = ["10.0.0.9"] },
]
"#;
        let t = parse(text, "t.toml").unwrap_or_else(|e| panic!("{e}"));
        let written = to_toml(&t);
        assert!(
            written.contains("  { name = \"web\", type = \"A\", ttl = 60, values = [\"10.0.1.10\", \"10.0.1.11\"] },\n"),
            "{written}"
        );
        assert!(written.contains("dhcp_options = \"corp\"\n"), "{written}");
        let back = parse(&written, "written").unwrap_or_else(|e| panic!("{e}\n{written}"));
        assert_eq!(back, t);
    }
}

//! Writes `[[aws_service]]` and `[[vpc_endpoint]]` (see `crate::endpoints`): a
//! service's region only if it is not the default, an endpoint's type never (only
//! `Gateway` exists), its route tables by name.

use super::{Table, Text, Writer};
use crate::account::DEFAULT_REGION;

impl Writer<'_> {
    pub(super) fn aws_services(&self, out: &mut Vec<Table>) {
        for s in &self.t.aws_services {
            let mut x = Text::new("aws_service");
            x.string("name", &s.name);
            x.strings("cidrs", &s.cidrs);
            if s.region != DEFAULT_REGION {
                x.string("region", &s.region);
            }
            out.push(self.table("aws_service", &s.service_name(), x));
        }
    }

    pub(super) fn vpc_endpoints(&self, out: &mut Vec<Table>) {
        let t = self.t;
        for e in &t.vpc_endpoints {
            let mut x = Text::new("vpc_endpoint");
            x.string("name", &e.name);
            x.string("vpc", self.vpc_name(e.vpc));
            x.string("service_name", t.aws_service(e.service).service_name());
            x.strings(
                "route_tables",
                e.route_tables.iter().map(|&r| &t.route_table(r).name),
            );
            out.push(self.table("vpc_endpoint", &e.name, x));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn services_and_endpoints_read_back() {
        let src = r#"
[[vpc]]
name = "eu"
cidr = "10.5.0.0/16"
region = "eu-west-1"

[[aws_service]]
name = "dynamodb"
region = "eu-west-1"
cidrs = ["198.51.100.64/27", "198.51.100.96/27"]

[[aws_service]]
name = "s3"
cidrs = ["192.0.2.64/26"]

[[vpc_endpoint]]
name = "ddb"
vpc = "eu"
service_name = "com.amazonaws.eu-west-1.dynamodb"
route_tables = ["eu-main"]
"#;
        let t = crate::parse(src, "t.toml").unwrap();
        let text = crate::to_toml(&t);
        assert!(
            text.contains(
                "[[aws_service]]\nname = \"dynamodb\"\ncidrs = [\"198.51.100.64/27\", \"198.51.100.96/27\"]\nregion = \"eu-west-1\"\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("[[aws_service]]\nname = \"s3\"\ncidrs = [\"192.0.2.64/26\"]\n\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "[[vpc_endpoint]]\nname = \"ddb\"\nvpc = \"eu\"\nservice_name = \"com.amazonaws.eu-west-1.dynamodb\"\nroute_tables = [\"eu-main\"]\n"
            ),
            "{text}"
        );
        assert_eq!(crate::parse(&text, "back.toml").unwrap(), t);
    }
}

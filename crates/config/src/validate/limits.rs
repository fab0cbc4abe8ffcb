//! `[limits]`, the sizes of the dataplane's bounded tables: every key is optional and
//! defaults to the dataplane's own size ([`TableLimits::default`]); a written one is at
//! least 1 and at most its maximum ([`TableLimits::CONNTRACK_PER_ENI_RANGE`] and the
//! other `*_RANGE`s). These are vpcd's limits, not AWS's: AWS sizes its tables itself.

use super::Checker;
use crate::error::Problem;
use crate::topology::TableLimits;

impl Checker<'_, '_, '_> {
    /// Each written limit within its range; the omitted ones (and broken ones, which
    /// are reported) keep their defaults.
    pub(super) fn table_limits(&mut self) {
        let mut t = TableLimits::default();
        let Some(raw) = &self.raw.limits else {
            self.limits = t;
            return;
        };
        let keys = [
            (
                "conntrack_per_eni",
                &raw.conntrack_per_eni,
                TableLimits::CONNTRACK_PER_ENI_RANGE,
                "tracked flows per network interface",
                &mut t.conntrack_per_eni,
            ),
            (
                "nat_per_gateway",
                &raw.nat_per_gateway,
                TableLimits::NAT_PER_GATEWAY_RANGE,
                "translations per NAT gateway",
                &mut t.nat_per_gateway,
            ),
            (
                "fragments",
                &raw.fragments,
                TableLimits::FRAGMENTS_RANGE,
                "fragmented datagrams",
                &mut t.fragments,
            ),
            (
                "flow_log_records",
                &raw.flow_log_records,
                TableLimits::FLOW_LOG_RECORDS_RANGE,
                "records per flow log per aggregation interval",
                &mut t.flow_log_records,
            ),
        ];
        for (key, value, (min, max), what, slot) in keys {
            let Some(value) = value else { continue };
            let v = *value.get_ref();
            match usize::try_from(v) {
                Ok(n) if (min..=max).contains(&n) => *slot = n,
                _ => {
                    let problem = Problem::LimitOutOfRange {
                        value: v,
                        min,
                        max,
                        what,
                    };
                    self.r
                        .report(value.span(), format!("limits.{key}"), problem);
                }
            }
        }
        self.limits = t;
    }
}

#[cfg(test)]
mod tests {
    use crate::{ConfigError, Problem, TableLimits, Topology, parse};

    /// A valid network; a snippet appended to it starts on line `BASE_LINES + 1`.
    const BASE: &str = r#"[[vpc]]
name = "main"
cidr = "10.0.0.0/16"

[[subnet]]
name = "a"
vpc = "main"
cidr = "10.0.1.0/24"
az = "x"

"#;

    /// Lines in `BASE`.
    const BASE_LINES: usize = 10;

    snippet_helpers!();

    #[test]
    fn base_line_count() {
        assert_eq!(BASE.lines().count(), BASE_LINES);
    }

    #[test]
    fn the_defaults_are_the_dataplanes() {
        assert_eq!(
            TableLimits::default(),
            TableLimits {
                conntrack_per_eni: 65_536,
                nat_per_gateway: 262_144,
                fragments: 4096,
                flow_log_records: 10_000,
            }
        );
        // Every default is inside its own range.
        let d = TableLimits::default();
        for (value, (min, max)) in [
            (d.conntrack_per_eni, TableLimits::CONNTRACK_PER_ENI_RANGE),
            (d.nat_per_gateway, TableLimits::NAT_PER_GATEWAY_RANGE),
            (d.fragments, TableLimits::FRAGMENTS_RANGE),
            (d.flow_log_records, TableLimits::FLOW_LOG_RECORDS_RANGE),
        ] {
            assert!((min..=max).contains(&value), "{value} not in {min}..={max}");
        }
    }

    #[test]
    fn absent_or_empty_limits_are_the_defaults() {
        assert_eq!(ok("").limits, TableLimits::default());
        assert_eq!(ok("[limits]\n").limits, TableLimits::default());
        assert_eq!(Topology::demo().limits, TableLimits::default());
        // A file with nothing but limits is valid too.
        let t = parse("[limits]\nfragments = 8\n", "t.toml").unwrap();
        assert_eq!(t.limits.fragments, 8);
    }

    #[test]
    fn a_full_section() {
        let t = ok("[limits]\n\
             conntrack_per_eni = 1048576   # tracked flows per ENI\n\
             nat_per_gateway = 262144\n\
             fragments = 4096\n\
             flow_log_records = 10000\n");
        assert_eq!(
            t.limits,
            TableLimits {
                conntrack_per_eni: 1_048_576,
                nat_per_gateway: 262_144,
                fragments: 4096,
                flow_log_records: 10_000,
            }
        );
        // The smallest and largest values allowed, and TOML's digit separators.
        let t = ok("[limits]\n\
             conntrack_per_eni = 16_777_216\n\
             nat_per_gateway = 1\n\
             fragments = 1_048_576\n\
             flow_log_records = 1_000_000\n");
        assert_eq!(
            t.limits,
            TableLimits {
                conntrack_per_eni: 16_777_216,
                nat_per_gateway: 1,
                fragments: 1_048_576,
                flow_log_records: 1_000_000,
            }
        );
    }

    #[test]
    fn omitted_keys_keep_their_defaults_wherever_the_section_is() {
        // Written before the arrays of tables, as an inline table, or after them.
        let t = parse(
            "[limits]\nnat_per_gateway = 1000\n\n[[vpc]]\nname = \"v\"\ncidr = \"10.0.0.0/16\"\n",
            "t.toml",
        )
        .unwrap();
        let expected = TableLimits {
            nat_per_gateway: 1000,
            ..TableLimits::default()
        };
        assert_eq!(t.limits, expected);
        let t = parse(
            "limits = { nat_per_gateway = 1000 }\n\n[[vpc]]\nname = \"v\"\ncidr = \"10.0.0.0/16\"\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(t.limits, expected);
        assert_eq!(ok("[limits]\nnat_per_gateway = 1000\n").limits, expected);
    }

    #[test]
    fn each_limit_out_of_range_names_file_line_column_and_field() {
        for (key, max, what) in [
            (
                "conntrack_per_eni",
                16_777_216_i64,
                "tracked flows per network interface",
            ),
            (
                "nat_per_gateway",
                16_777_216,
                "translations per NAT gateway",
            ),
            ("fragments", 1_048_576, "fragmented datagrams"),
            (
                "flow_log_records",
                1_000_000,
                "records per flow log per aggregation interval",
            ),
        ] {
            for bad in [0, -1, max + 1, i64::MAX] {
                assert_eq!(
                    errors(&format!("[limits]\n{key} = {bad}\n")),
                    [format!(
                        "{}limits.{key} {bad} is out of range: vpcd allows 1 to {max} {what}",
                        at(2, key.len() + 4)
                    )],
                    "{key} = {bad}"
                );
            }
        }
    }

    #[test]
    fn the_exact_messages_and_every_error_in_one_run() {
        let src = "[limits]\n\
             conntrack_per_eni = 0\n\
             nat_per_gateway = 16777217\n\
             fragments = 1048577\n\
             flow_log_records = -5\n";
        assert_eq!(
            errors(src),
            [
                format!(
                    "{}limits.conntrack_per_eni 0 is out of range: vpcd allows 1 to 16777216 tracked flows per network interface",
                    at(2, 21)
                ),
                format!(
                    "{}limits.nat_per_gateway 16777217 is out of range: vpcd allows 1 to 16777216 translations per NAT gateway",
                    at(3, 19)
                ),
                format!(
                    "{}limits.fragments 1048577 is out of range: vpcd allows 1 to 1048576 fragmented datagrams",
                    at(4, 13)
                ),
                format!(
                    "{}limits.flow_log_records -5 is out of range: vpcd allows 1 to 1000000 records per flow log per aggregation interval",
                    at(5, 20)
                ),
            ]
        );
        // Reported with the problems of other resources, in file order.
        let src = "[limits]\nfragments = 0\n\n[[vpc]]\nname = \"w\"\ncidr = \"10.0.0.0/8\"\n";
        match parse(src, "t.toml") {
            Err(ConfigError::Invalid(d)) => {
                let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
                assert_eq!(fields, ["limits.fragments", "vpc[0].cidr"]);
                assert_eq!((d[0].line, d[0].column), (2, 13));
                assert_eq!(
                    d[0].problem,
                    Problem::LimitOutOfRange {
                        value: 0,
                        min: 1,
                        max: 1_048_576,
                        what: "fragmented datagrams",
                    }
                );
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_field() {
        assert_eq!(
            errors("[limits]\nconntrack = 5\n"),
            [format!(
                "{}limits.conntrack unknown field `conntrack`, expected one of `conntrack_per_eni`, `nat_per_gateway`, `fragments`, `flow_log_records`",
                at(2, 1)
            )]
        );
        assert_eq!(
            errors("[limits]\nfragments = \"4096\"\n"),
            [format!(
                "{}limits.fragments invalid type: string \"4096\", expected i64",
                at(2, 13)
            )]
        );
        assert_eq!(
            errors("[limits]\nflow_log_records = 1.5\n"),
            [format!(
                "{}limits.flow_log_records invalid type: floating point `1.5`, expected i64",
                at(2, 20)
            )]
        );
        // A bare key before any table header; after one, it belongs to that table.
        match parse("limits = 5\n", "t.toml") {
            Err(e) => assert_eq!(
                e.to_string(),
                "t.toml:1:10: limits invalid type: integer `5`, expected struct RawLimits"
            ),
            Ok(t) => panic!("expected errors, got {t:?}"),
        }
        assert_eq!(
            errors("limits = { fragments = 8 }\n"),
            [format!(
                "{}subnet[0].limits unknown field `limits`, expected one of `name`, `vpc`, `cidr`, `az`, `map_public_ip_on_launch`",
                at(1, 1)
            )]
        );
        // Two sections are a TOML error.
        assert_eq!(
            errors("[limits]\nfragments = 8\n[limits]\nfragments = 9\n"),
            [format!("{}duplicate key", at(3, 2))]
        );
    }
}

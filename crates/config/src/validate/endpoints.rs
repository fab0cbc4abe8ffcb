//! Checks `[[aws_service]]` and `[[vpc_endpoint]]` (AWS: PrivateLink guide, "Gateway
//! endpoints"): a service's blocks lie in the emulated internet's documentation ranges
//! and overlap no other service's; a service name is unique per region. An endpoint is
//! of type `Gateway` (`Interface` is refused: not built), names a service of its VPC's
//! region that has gateway endpoints in AWS (`s3`, `dynamodb`), and route tables of its
//! VPC, each at most once and none a gateway route table (whose routes target only
//! `local` or an interface); a route table has at most one gateway endpoint per service
//! (AWS refuses a second route to the same prefix list).

use std::collections::HashMap;

use ipnet::Ipv4Net;
use toml::Spanned;

use super::{Checker, names, overlaps, parse_cidr, region};
use crate::addressing::PUBLIC_RANGES;
use crate::endpoints::*;
use crate::error::Problem;
use crate::topology::*;

/// The checked services and endpoints (`None`: one of them is broken).
#[derive(Default)]
pub(super) struct Pending {
    pub services: Option<Vec<AwsService>>,
    pub endpoints: Option<Vec<VpcEndpoint>>,
}

impl Checker<'_, '_, '_> {
    /// Services: blocks, overlaps, regions, names.
    pub(super) fn aws_services(&mut self) {
        let raw = self.raw;
        let mut services = Vec::new();
        let mut broken = false;
        // Every checked block so far, with its service's index.
        let mut blocks: Vec<(Ipv4Net, usize)> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, s) in raw.aws_service.iter().enumerate() {
            let path = format!("aws_service[{i}]");
            if !super::valid_name(s.name.get_ref()) {
                let problem = Problem::BadName(s.name.get_ref().clone());
                self.r
                    .report(s.name.span(), format!("{path}.name"), problem);
                broken = true;
            }
            let region = region(self.r, s.region.as_ref(), format!("{path}.region"));
            let Some(region) = region else {
                broken = true;
                continue;
            };
            let service = AwsService {
                name: s.name.get_ref().clone(),
                region: region.to_owned(),
                cidrs: Vec::new(),
            };
            let full = service.service_name();
            if seen.insert(full.clone(), i).is_some() {
                let problem = EndpointProblem::DuplicateService(full).into();
                self.r
                    .report(s.name.span(), format!("{path}.name"), problem);
                broken = true;
            }
            if s.cidrs.is_empty() {
                let problem = EndpointProblem::NoServiceCidrs.into();
                self.r
                    .report(s.name.span(), format!("{path}.cidrs"), problem);
                broken = true;
            }
            let mut cidrs = Vec::new();
            for (j, c) in s.cidrs.iter().enumerate() {
                let field = format!("{path}.cidrs[{j}]");
                let Some(net) = parse_cidr(self.r, c, field.clone()) else {
                    broken = true;
                    continue;
                };
                if !PUBLIC_RANGES.iter().any(|r| r.contains(&net)) {
                    let problem = EndpointProblem::ServiceOutsideInternet(net).into();
                    self.r.report(c.span(), field, problem);
                    broken = true;
                    continue;
                }
                if let Some(&(other, k)) = blocks.iter().find(|(b, _)| overlaps(*b, net)) {
                    let name = raw.aws_service[k].name.get_ref().clone();
                    let problem = EndpointProblem::ServiceOverlap(net, other, name).into();
                    self.r.report(c.span(), field, problem);
                    broken = true;
                    continue;
                }
                blocks.push((net, i));
                cidrs.push(net);
            }
            services.push(AwsService { cidrs, ..service });
        }
        self.ep.services = (!broken).then_some(services);
    }

    /// The service whose prefix list `reference` (a `pl-` ID or a list's name) names,
    /// in the region of `vpc` (`None`: broken, reported already).
    pub(super) fn prefix_list_ref(
        &mut self,
        vpc: Option<VpcId>,
        reference: &Spanned<String>,
        field: String,
    ) -> Option<AwsServiceId> {
        let (_, region) = self.vpc_accounts.get(vpc?.index()).copied().flatten()?;
        let services = self.ep.services.as_ref()?;
        let wanted = reference.get_ref();
        let found = services.iter().position(|s| {
            s.region == region
                && (&s.service_name() == wanted || &prefix_list_id(&s.service_name()) == wanted)
        });
        if found.is_none() {
            let problem = EndpointProblem::UnknownPrefixList(wanted.clone()).into();
            self.r.report(reference.span(), field, problem);
        }
        found.map(|k| AwsServiceId(k as u32))
    }

    /// Endpoints: names, type, VPC, service, route tables.
    pub(super) fn vpc_endpoints(&mut self) {
        let raw = self.raw;
        names(
            self.r,
            "vpc_endpoint",
            raw.vpc_endpoint.iter().map(|e| &e.name),
        );
        // Route table name -> index in the topology (declared ones, then the implicit
        // main tables of VPCs that declared none, in VPC order, as `build` makes them).
        let mut tables: HashMap<String, usize> = HashMap::new();
        for (i, t) in raw.route_table.iter().enumerate() {
            tables.entry(t.name.get_ref().clone()).or_insert(i);
        }
        let mut next = raw.route_table.len();
        for (v, vpc) in raw.vpc.iter().enumerate() {
            if !self.main_of.contains_key(&VpcId(v as u32)) {
                tables
                    .entry(format!("{}-main", vpc.name.get_ref()))
                    .or_insert(next);
                next += 1;
            }
        }
        let table_vpc = |k: usize| -> Option<VpcId> {
            match self.table_vpcs.get(k) {
                Some(v) => *v,
                // An implicit main table: the k-th VPC without a declared main table.
                None => (0..raw.vpc.len())
                    .map(|v| VpcId(v as u32))
                    .filter(|v| !self.main_of.contains_key(v))
                    .nth(k - raw.route_table.len()),
            }
        };
        let services = self.ep.services.clone();
        let mut endpoints = Vec::new();
        let mut broken = services.is_none();
        // (route table, service) -> the endpoint that routes it.
        let mut routed: HashMap<(usize, AwsServiceId), usize> = HashMap::new();
        let mut problems = Vec::new();
        for (i, e) in raw.vpc_endpoint.iter().enumerate() {
            let path = format!("vpc_endpoint[{i}]");
            if let Some(ty) = &e.vpc_endpoint_type
                && ty.get_ref() != "Gateway"
            {
                let problem = EndpointProblem::UnsupportedEndpointType(ty.get_ref().clone());
                problems.push((ty.span(), format!("{path}.vpc_endpoint_type"), problem));
                broken = true;
            }
            let vpc = self.vpc_names.get(e.vpc.get_ref().as_str()).copied();
            let Some(v) = vpc else {
                let problem = Problem::UnknownVpc(e.vpc.get_ref().clone());
                self.r.report(e.vpc.span(), format!("{path}.vpc"), problem);
                broken = true;
                continue;
            };
            let vpc = VpcId(v as u32);
            let Some(services) = &services else { continue };
            let wanted = e.service_name.get_ref();
            let field = format!("{path}.service_name");
            let Some(k) = services.iter().position(|s| &s.service_name() == wanted) else {
                let problem = EndpointProblem::UnknownService(wanted.clone());
                problems.push((e.service_name.span(), field, problem));
                broken = true;
                continue;
            };
            let service = &services[k];
            let Some((_, vpc_region)) = self.vpc_accounts[v] else {
                broken = true;
                continue;
            };
            if service.region != vpc_region {
                let problem = EndpointProblem::ServiceInOtherRegion {
                    service: wanted.clone(),
                    region: vpc_region.to_owned(),
                };
                problems.push((e.service_name.span(), field, problem));
                broken = true;
                continue;
            }
            if !service.has_gateway_endpoints() {
                let problem = EndpointProblem::NoGatewayEndpoints(wanted.clone());
                problems.push((e.service_name.span(), field, problem));
                broken = true;
                continue;
            }
            let service_id = AwsServiceId(k as u32);
            let mut route_tables = Vec::new();
            for (j, t) in e.route_tables.iter().enumerate() {
                let field = format!("{path}.route_tables[{j}]");
                let name = t.get_ref();
                let problem = match tables.get(name.as_str()) {
                    None => Some(EndpointProblem::UnknownRouteTable(name.clone())),
                    Some(&k) if table_vpc(k).is_some_and(|tv| tv != vpc) => {
                        Some(EndpointProblem::RouteTableInOtherVpc(name.clone()))
                    }
                    Some(&k) if self.table_gateways.get(k).is_some_and(|g| !g.is_empty()) => {
                        Some(EndpointProblem::GatewayRouteTable(name.clone()))
                    }
                    Some(&k) if route_tables.contains(&RouteTableId(k as u32)) => {
                        Some(EndpointProblem::DuplicateRouteTable(name.clone()))
                    }
                    Some(&k) => match routed.get(&(k, service_id)) {
                        Some(&other) => Some(EndpointProblem::SecondEndpointRoute {
                            table: name.clone(),
                            service: wanted.clone(),
                            other: raw.vpc_endpoint[other].name.get_ref().clone(),
                        }),
                        None => {
                            routed.insert((k, service_id), i);
                            route_tables.push(RouteTableId(k as u32));
                            None
                        }
                    },
                };
                if let Some(problem) = problem {
                    problems.push((t.span(), field, problem));
                    broken = true;
                }
            }
            endpoints.push(VpcEndpoint {
                name: e.name.get_ref().clone(),
                vpc,
                service: service_id,
                route_tables,
            });
        }
        for (span, field, problem) in problems {
            self.r.report(span, field, problem.into());
        }
        self.ep.endpoints = (!broken).then_some(endpoints);
    }
}

#[cfg(test)]
mod tests {
    const BASE: &str = crate::DEMO_TOML;
    const BASE_LINES: usize = lines(BASE);

    const fn lines(s: &str) -> usize {
        let b = s.as_bytes();
        let (mut i, mut n) = (0, 0);
        while i < b.len() {
            if b[i] == b'\n' {
                n += 1;
            }
            i += 1;
        }
        n
    }

    snippet_helpers!();

    #[test]
    fn the_demo_has_an_s3_endpoint_on_private_a_only() {
        let t = ok("");
        assert_eq!(t.aws_services.len(), 1);
        assert_eq!(t.aws_services[0].region, "local-1");
        assert_eq!(t.aws_services[0].service_name(), "com.amazonaws.local-1.s3");
        assert_eq!(
            t.aws_services[0].cidrs,
            vec!["192.0.2.64/26".parse::<ipnet::Ipv4Net>().unwrap()]
        );
        let e = &t.vpc_endpoints[0];
        assert_eq!(e.name, "s3-endpoint");
        let names: Vec<&str> = e
            .route_tables
            .iter()
            .map(|&r| t.route_table(r).name.as_str())
            .collect();
        assert_eq!(names, ["private-a-rt"]);
        let private_a = crate::RouteTableId(
            t.route_tables
                .iter()
                .position(|r| r.name == "private-a-rt")
                .unwrap() as u32,
        );
        let routes: Vec<crate::Route> = t.endpoint_routes(private_a).collect();
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].destination.to_string(), "192.0.2.64/26");
        assert_eq!(
            routes[0].target,
            crate::RouteTarget::VpcEndpoint(crate::VpcEndpointId(0))
        );
        assert_eq!(routes[0].origin, crate::RouteOrigin::PrefixList);
        assert!(crate::RouteOrigin::Static < crate::RouteOrigin::PrefixList);
    }

    #[test]
    fn services_stay_in_the_internet_and_apart() {
        let e = errors(
            r#"
[[aws_service]]
name = "dynamodb"
cidrs = ["10.9.0.0/24", "192.0.2.96/27"]
"#,
        );
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].contains(
                "aws_service[1].cidrs[0] 10.9.0.0/24 is not inside the emulated internet"
            ),
            "{e:?}"
        );
        assert!(
            e[1].contains(
                "aws_service[1].cidrs[1] 192.0.2.96/27 overlaps 192.0.2.64/26 of service \"s3\""
            ),
            "{e:?}"
        );
        let e = errors(
            "[[aws_service]]\nname = \"s3\"\nregion = \"local-1\"\ncidrs = [\"203.0.113.128/25\"]\n",
        );
        assert!(
            e[0].contains(
                "aws_service[1].name service \"com.amazonaws.local-1.s3\" is declared twice"
            ),
            "{e:?}"
        );
        // Another region may have its own s3.
        let t = ok(
            "[[aws_service]]\nname = \"s3\"\nregion = \"eu-west-1\"\ncidrs = [\"203.0.113.128/25\"]\n",
        );
        assert_eq!(
            t.aws_services[1].service_name(),
            "com.amazonaws.eu-west-1.s3"
        );
    }

    #[test]
    fn endpoints_follow_aws_rules() {
        let extra = r#"
[[aws_service]]
name = "sqs"
region = "local-1"
cidrs = ["198.51.100.128/26"]

[[aws_service]]
name = "dynamodb"
region = "eu-west-1"
cidrs = ["198.51.100.192/26"]

[[vpc_endpoint]]
name = "sqs-endpoint"
vpc = "demo"
service_name = "com.amazonaws.local-1.sqs"
route_tables = ["private-b-rt"]

[[vpc_endpoint]]
name = "second"
vpc = "demo"
service_name = "com.amazonaws.local-1.s3"
route_tables = ["private-b-rt", "private-a-rt", "nope", "private-b-rt"]

[[vpc_endpoint]]
name = "ddb"
vpc = "demo"
service_name = "com.amazonaws.eu-west-1.dynamodb"

[[vpc_endpoint]]
name = "iface"
vpc = "demo"
vpc_endpoint_type = "Interface"
service_name = "com.amazonaws.local-1.s3"

[[vpc_endpoint]]
name = "missing"
vpc = "demo"
service_name = "com.amazonaws.local-1.ec2"
"#;
        let e = errors(extra);
        let want = [
            "vpc_endpoint[1].service_name the service com.amazonaws.local-1.sqs does not support gateway endpoints: AWS offers gateway endpoints only for Amazon S3 and DynamoDB",
            "vpc_endpoint[2].route_tables[1] route table \"private-a-rt\" already has a route to the prefix list of com.amazonaws.local-1.s3 (endpoint \"s3-endpoint\")",
            "vpc_endpoint[2].route_tables[2] names no route table: \"nope\"",
            "vpc_endpoint[2].route_tables[3] route table \"private-b-rt\" is named twice",
            "vpc_endpoint[3].service_name service \"com.amazonaws.eu-west-1.dynamodb\" is not in the VPC's region local-1",
            "vpc_endpoint[4].vpc_endpoint_type \"Interface\": vpcd builds only gateway endpoints",
            "vpc_endpoint[5].service_name \"com.amazonaws.local-1.ec2\" names no [[aws_service]]",
        ];
        assert_eq!(e.len(), want.len(), "{e:#?}");
        for (got, want) in e.iter().zip(want) {
            assert!(got.contains(want), "{got}\n  does not contain\n{want}");
        }
    }

    #[test]
    fn a_route_table_of_another_vpc_is_refused() {
        let extra = r#"
[[vpc]]
name = "other"
cidr = "10.1.0.0/16"
region = "local-1"

[[vpc_endpoint]]
name = "s3-other"
vpc = "other"
service_name = "com.amazonaws.local-1.s3"
route_tables = ["private-b-rt", "other-main"]
"#;
        let e = errors(extra);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("vpc_endpoint[1].route_tables[0] route table \"private-b-rt\" is not in the endpoint's VPC"), "{e:?}");
        let t = ok(&extra.replace("\"private-b-rt\", ", ""));
        let main = t.vpc(t.vpc_endpoints[1].vpc).main_route_table;
        assert_eq!(t.vpc_endpoints[1].route_tables, vec![main]);
        assert_eq!(t.route_table(main).name, "other-main");
    }

    #[test]
    fn a_gateway_route_table_takes_no_endpoint() {
        let e = errors(
            r#"
[[route_table]]
name = "edge"
vpc = "demo"
gateways = ["igw"]

[[vpc_endpoint]]
name = "at-the-edge"
vpc = "demo"
service_name = "com.amazonaws.local-1.s3"
route_tables = ["edge"]
"#,
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains(
                "vpc_endpoint[1].route_tables[0] route table \"edge\" is a gateway route table"
            ),
            "{e:?}"
        );
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = errors(
            "[[vpc_endpoint]]\nname = \"x\"\nvpc = \"demo\"\nservice_name = \"com.amazonaws.local-1.nope\"\n",
        );
        assert!(
            e[0].starts_with(&format!("{}vpc_endpoint[1].service_name", at(4, 16))),
            "{e:?}"
        );
    }

    #[test]
    fn a_security_group_rule_names_a_prefix_list_a_network_acl_entry_cannot() {
        let id = crate::prefix_list_id("com.amazonaws.local-1.s3");
        assert!(id.starts_with("pl-") && id.len() == 20, "{id}");
        let extra = format!(
            r#"
[[security_group]]
name = "to-s3"
vpc = "demo"
egress = [
  {{ protocol = "tcp", port = 443, prefix_list_id = "com.amazonaws.local-1.s3" }},
  {{ protocol = "tcp", port = 80, prefix_list_id = "{id}" }},
]
"#
        );
        let t = ok(&extra);
        let g = t
            .security_groups
            .iter()
            .find(|g| g.name == "to-s3")
            .unwrap();
        let s3 = crate::SgPeer::PrefixList(crate::AwsServiceId(0));
        assert_eq!(g.egress[0].peer, s3);
        assert_eq!(g.egress[1].peer, s3);
        // Written back by ID, read back equal.
        let text = crate::to_toml(&t);
        assert!(
            text.contains(&format!("prefix_list_id = \"{id}\"")),
            "{text}"
        );
        assert_eq!(crate::parse(&text, "back.toml").unwrap(), t);

        let e = errors(
            r#"
[[security_group]]
name = "bad"
vpc = "demo"
egress = [
  { protocol = "tcp", port = 443, prefix_list_id = "pl-0123456789abcdef0" },
  { protocol = "tcp", port = 443, prefix_list_id = "com.amazonaws.local-1.s3", cidr = "10.0.0.0/8" },
]

[[network_acl]]
name = "no-lists"
vpc = "demo"
egress = [{ rule_number = 100, protocol = "all", action = "allow", prefix_list_id = "com.amazonaws.local-1.s3" }]
"#,
        );
        assert_eq!(e.len(), 3, "{e:#?}");
        assert!(e[0].contains("security_group[3].egress[0].prefix_list_id \"pl-0123456789abcdef0\" names no prefix list"), "{e:?}");
        assert!(e[1].contains("security_group[3].egress[1]"), "{e:?}");
        assert!(e[2].contains("network_acl[1].egress[0].prefix_list_id a network ACL entry cannot name a prefix list: AWS network ACL entries take only a CIDR block"), "{e:?}");
    }
}

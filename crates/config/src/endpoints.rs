//! Emulated AWS services, their AWS-managed prefix lists, and gateway VPC endpoints to
//! them (AWS: PrivateLink guide, "Gateway endpoints"; VPC guide, "Managed prefix
//! lists").
//!
//! - An [`AwsService`] (`[[aws_service]]`) is a service of one region, named
//!   `com.amazonaws.<region>.<name>`; its servers are internet hosts whose addresses lie
//!   in its blocks. The blocks are the service's AWS-managed prefix list, of the same
//!   name (its ID, `pl-...`, is derived by the EC2 API).
//! - A [`VpcEndpoint`] (`[[vpc_endpoint]]`) of type `Gateway` joins a VPC to a service
//!   of the VPC's region. Only `s3` and `dynamodb` have gateway endpoints in AWS. Each
//!   route table it is associated with gets a route whose destination is the service's
//!   prefix list and whose target is the endpoint ([`Topology::endpoint_routes`]); at
//!   most one gateway endpoint per service per route table.
//! - Route selection: longest prefix match over the prefix list's blocks as over any
//!   other route's; at an equal prefix a static route comes before a prefix-list route
//!   ([`RouteOrigin::PrefixList`] sorts after [`RouteOrigin::Static`]).

use ipnet::Ipv4Net;
use sha2::{Digest, Sha256};

use crate::topology::id;
use crate::topology::*;

id!(
    /// Index of an emulated AWS service in [`Topology::aws_services`].
    AwsServiceId
);
id!(
    /// Index of a VPC endpoint in [`Topology::vpc_endpoints`].
    VpcEndpointId
);

/// The services AWS offers gateway endpoints for.
pub const GATEWAY_SERVICES: [&str; 2] = ["s3", "dynamodb"];

/// An emulated AWS service of one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsService {
    /// Its short name (`s3`): unique per region.
    pub name: String,
    /// Its region.
    pub region: String,
    /// Its blocks, in the documentation ranges, as written: its managed prefix list's
    /// entries.
    pub cidrs: Vec<Ipv4Net>,
}

impl AwsService {
    /// AWS's service name, `com.amazonaws.<region>.<name>`: also its managed prefix
    /// list's name.
    pub fn service_name(&self) -> String {
        format!("com.amazonaws.{}.{}", self.region, self.name)
    }

    /// Whether AWS offers gateway endpoints to it.
    pub fn has_gateway_endpoints(&self) -> bool {
        GATEWAY_SERVICES.contains(&self.name.as_str())
    }
}

/// A gateway VPC endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcEndpoint {
    /// Unique name.
    pub name: String,
    /// Its VPC.
    pub vpc: VpcId,
    /// The service, of the VPC's region.
    pub service: AwsServiceId,
    /// The route tables (of its VPC) that route the service's prefix list to it, in
    /// the order written.
    pub route_tables: Vec<RouteTableId>,
}

/// The ID of the managed prefix list named `name` (`com.amazonaws.<region>.<service>`):
/// `pl-` and the first 17 hex digits of SHA-256(`pl/<name>`), as the EC2 API derives
/// every ID from a name (`vpc_ec2::ids`).
pub fn prefix_list_id(name: &str) -> String {
    let digest = Sha256::digest(format!("pl/{name}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("pl-{}", &hex[..17])
}

impl Topology {
    /// The service whose prefix list `reference` names (its `pl-` ID or its name),
    /// among the services of `region`.
    pub fn find_prefix_list(&self, reference: &str, region: &str) -> Option<AwsServiceId> {
        self.aws_services
            .iter()
            .position(|s| {
                s.region == region
                    && (s.service_name() == reference
                        || prefix_list_id(&s.service_name()) == reference)
            })
            .map(|i| AwsServiceId(i as u32))
    }

    /// The AWS service with id `id`.
    pub fn aws_service(&self, id: AwsServiceId) -> &AwsService {
        &self.aws_services[id.index()]
    }

    /// The VPC endpoint with id `id`.
    pub fn vpc_endpoint(&self, id: VpcEndpointId) -> &VpcEndpoint {
        &self.vpc_endpoints[id.index()]
    }

    /// The service named `com.amazonaws.<region>.<name>` (also its prefix list's name).
    pub fn find_aws_service(&self, service_name: &str) -> Option<AwsServiceId> {
        self.aws_services
            .iter()
            .position(|s| s.service_name() == service_name)
            .map(|i| AwsServiceId(i as u32))
    }

    /// The routes gateway endpoints add to route table `table`: one per block of each
    /// associated endpoint's prefix list, origin [`RouteOrigin::PrefixList`], target
    /// the endpoint. (AWS shows them as one route whose destination is the prefix
    /// list.)
    pub fn endpoint_routes(&self, table: RouteTableId) -> impl Iterator<Item = Route> + '_ {
        self.endpoints_of(table).flat_map(move |e| {
            self.aws_service(self.vpc_endpoint(e).service)
                .cidrs
                .iter()
                .map(move |&destination| Route {
                    destination,
                    target: RouteTarget::VpcEndpoint(e),
                    origin: RouteOrigin::PrefixList,
                })
        })
    }

    /// The endpoints associated with route table `table`.
    pub fn endpoints_of(&self, table: RouteTableId) -> impl Iterator<Item = VpcEndpointId> + '_ {
        self.vpc_endpoints
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.route_tables.contains(&table))
            .map(|(i, _)| VpcEndpointId(i as u32))
    }
}

/// What is wrong with a service, an endpoint, or a reference to a prefix list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointProblem {
    /// A service block outside the emulated internet.
    #[error(
        "{0} is not inside the emulated internet's documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)"
    )]
    ServiceOutsideInternet(Ipv4Net),
    /// A service with no block.
    #[error("is empty: a service has at least one block")]
    NoServiceCidrs,
    /// Two services whose blocks overlap.
    #[error("{0} overlaps {1} of service {2:?}")]
    ServiceOverlap(Ipv4Net, Ipv4Net, String),
    /// Two services of one name in one region.
    #[error("service {0:?} is declared twice")]
    DuplicateService(String),
    /// An endpoint type other than `Gateway`.
    #[error(
        "{0:?}: vpcd builds only gateway endpoints (\"Gateway\"); interface endpoints are not built yet"
    )]
    UnsupportedEndpointType(String),
    /// A service name that names no service.
    #[error("{0:?} names no [[aws_service]] (write com.amazonaws.<region>.<name>)")]
    UnknownService(String),
    /// A service of another region than the endpoint's VPC.
    #[error("service {service:?} is not in the VPC's region {region}")]
    ServiceInOtherRegion {
        /// The service name.
        service: String,
        /// The VPC's region.
        region: String,
    },
    /// A service AWS has no gateway endpoints for.
    #[error(
        "the service {0} does not support gateway endpoints: AWS offers gateway endpoints only for Amazon S3 and DynamoDB"
    )]
    NoGatewayEndpoints(String),
    /// A route table name that names no route table.
    #[error("names no route table: {0:?}")]
    UnknownRouteTable(String),
    /// A route table of another VPC.
    #[error("route table {0:?} is not in the endpoint's VPC")]
    RouteTableInOtherVpc(String),
    /// A second endpoint to one service in one route table.
    #[error(
        "route table {table:?} already has a route to the prefix list of {service} (endpoint {other:?}): AWS refuses a second gateway endpoint to a service in one route table"
    )]
    SecondEndpointRoute {
        /// The table.
        table: String,
        /// The service name.
        service: String,
        /// The endpoint that has the route.
        other: String,
    },
    /// A gateway route table (edge-associated with an internet gateway).
    #[error(
        "route table {0:?} is a gateway route table (associated with an internet gateway): its routes may only target local or a network interface"
    )]
    GatewayRouteTable(String),
    /// A route table named twice in one endpoint.
    #[error("route table {0:?} is named twice")]
    DuplicateRouteTable(String),
    /// A prefix list reference (`pl-...` or a list's name) that names no list.
    #[error(
        "{0:?} names no prefix list (write its pl- ID or its name com.amazonaws.<region>.<service>)"
    )]
    UnknownPrefixList(String),
    /// A network ACL entry naming a prefix list.
    #[error(
        "a network ACL entry cannot name a prefix list: AWS network ACL entries take only a CIDR block (write cidr)"
    )]
    PrefixListInNacl,
}

//! What `vpcctl describe-vpc-endpoints` and `describe-prefix-lists` are answered
//! (docs/endpoints.md).

use serde::{Deserialize, Serialize};

/// Gateway VPC endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcEndpointsReport {
    /// In configuration order.
    pub vpc_endpoints: Vec<VpcEndpointReport>,
}

/// One gateway endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcEndpointReport {
    /// Name.
    pub name: String,
    /// Its EC2 ID (`vpce-...`).
    pub id: String,
    /// Its VPC.
    pub vpc: String,
    /// `Gateway`.
    pub vpc_endpoint_type: String,
    /// `com.amazonaws.<region>.<service>`.
    pub service_name: String,
    /// The service's prefix list ID (`pl-...`).
    pub prefix_list_id: String,
    /// The route tables that route the prefix list to it.
    pub route_tables: Vec<String>,
    /// `available`.
    pub state: String,
    /// Packets it sent to the service.
    pub packets_out: u64,
    /// Their bytes.
    pub bytes_out: u64,
    /// Packets from the service it let back in.
    pub packets_in: u64,
    /// Their bytes.
    pub bytes_in: u64,
    /// Packets it dropped.
    pub packets_drop: u64,
    /// Flows it has now.
    pub active_flows: u64,
}

/// AWS-managed prefix lists (of the emulated services).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixListsReport {
    /// In configuration order.
    pub prefix_lists: Vec<PrefixListReport>,
}

/// One prefix list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixListReport {
    /// `pl-...`.
    pub id: String,
    /// `com.amazonaws.<region>.<service>`.
    pub name: String,
    /// Its blocks.
    pub cidrs: Vec<String>,
}

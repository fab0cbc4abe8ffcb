//! The control protocol's DNS views: DHCP option sets with the VPCs that use them
//! (`vpcctl describe-dhcp-options`), and Route 53 private hosted zones with their
//! record sets (`vpcctl list-hosted-zones`, `list-resource-record-sets`).

use serde::{Deserialize, Serialize};

/// Answer to [`crate::Request::DhcpOptions`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpOptionsReport {
    /// The option sets, in configuration order.
    pub sets: Vec<DhcpOptionsSetReport>,
    /// Every VPC, with its set's name (`None`: AWS's default set).
    pub vpcs: Vec<VpcDhcpReport>,
}

/// One DHCP option set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpOptionsSetReport {
    /// Its name.
    pub name: String,
    /// Its `dopt-` ID.
    pub id: String,
    /// (AWS key, values) of each option set, in AWS's key order.
    pub options: Vec<(String, Vec<String>)>,
}

/// A VPC's option set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcDhcpReport {
    /// The VPC's name.
    pub vpc: String,
    /// Its option set's name; `None`: AWS's default set.
    pub dhcp_options: Option<String>,
    /// The `resolv.conf` search domain its instances get, if any.
    pub domain_name: Option<String>,
    /// The name servers its instances get (`AmazonProvidedDNS` as its address).
    pub name_servers: Vec<String>,
}

/// Answer to [`crate::Request::HostedZones`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedZonesReport {
    /// The private hosted zones, in configuration order.
    pub zones: Vec<HostedZoneReport>,
}

/// One private hosted zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedZoneReport {
    /// Its domain.
    pub name: String,
    /// The associated VPCs' names.
    pub vpcs: Vec<String>,
    /// Its record sets, the SOA and NS at the apex first, as Route 53 lists them.
    pub records: Vec<RecordSetReport>,
}

/// One record set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSetReport {
    /// Fully qualified, with the final dot.
    pub name: String,
    /// `A`, `CNAME`, ...
    #[serde(rename = "type")]
    pub record_type: String,
    /// Seconds.
    pub ttl: u32,
    /// Its values as Route 53 shows them.
    pub values: Vec<String>,
}

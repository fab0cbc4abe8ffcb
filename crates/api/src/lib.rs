//! The control protocol between `vpcd` and `vpcctl`: one JSON request per line on the
//! daemon's Unix socket, one JSON response per line back. Requests are bounded
//! ([`MAX_REQUEST_LEN`]); anything that does not decode gets [`Response::Error`] and the
//! daemon stays up.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The socket `vpcd run` listens on unless told otherwise.
pub const DEFAULT_SOCKET: &str = "/run/vpcd/vpcd.sock";

/// The longest request line the daemon reads, newline included.
pub const MAX_REQUEST_LEN: usize = 64 * 1024;

/// A request. (Variants are structs, even without fields, because serde rejects unknown
/// keys only in struct variants of an internally tagged enum.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// Instances, ENIs and their state.
    Status {},
    /// Route tables with each route's state.
    Routes {},
    /// Per-ENI and per-drop-reason counters.
    Counters {},
    /// The connections each ENI tracks.
    Flows {
        /// Only this instance's ENIs (`web`), or one ENI (`web/eth1`).
        #[serde(default)]
        instance: Option<String>,
    },
    /// Walk a probe through the live configuration: why can X reach Y, or not.
    Trace {
        /// The sending instance (its eth0) or ENI (`instance/ethN`).
        from: String,
        /// The destination IPv4 address.
        to: String,
        /// `tcp`, `udp` or `icmp`.
        proto: String,
        /// Destination port (required for tcp and udp).
        #[serde(default)]
        port: Option<u16>,
    },
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "kebab-case")]
pub enum Response {
    /// Answer to [`Request::Status`].
    Status(Status),
    /// Answer to [`Request::Routes`].
    Routes(Routes),
    /// Answer to [`Request::Counters`].
    Counters(CountersReport),
    /// Answer to [`Request::Flows`].
    Flows(FlowsReport),
    /// Answer to [`Request::Trace`].
    Trace(TraceReport),
    /// The request could not be served.
    Error {
        /// Why.
        message: String,
    },
}

/// The daemon and its instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The daemon's process id.
    pub pid: u32,
    /// Seconds since the daemon became ready.
    pub uptime_secs: u64,
    /// Where the topology came from (a file name or the embedded demo).
    pub config: String,
    /// VPCs with their CIDRs.
    pub vpcs: Vec<VpcStatus>,
    /// Instances in configuration order.
    pub instances: Vec<InstanceStatus>,
}

/// A VPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcStatus {
    /// Name.
    pub name: String,
    /// Primary CIDR first.
    pub cidrs: Vec<String>,
    /// Subnets: name, CIDR, availability zone, route table.
    pub subnets: Vec<SubnetStatus>,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetStatus {
    /// Name.
    pub name: String,
    /// CIDR.
    pub cidr: String,
    /// Availability zone.
    pub az: String,
    /// The route table it uses.
    pub route_table: String,
}

/// An instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStatus {
    /// Name in the configuration.
    pub name: String,
    /// Its network namespace (`ip netns exec <namespace> ...`).
    pub namespace: String,
    /// Its network interfaces.
    pub enis: Vec<EniStatus>,
}

/// A network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EniStatus {
    /// `instance/ethN`.
    pub name: String,
    /// The device inside the namespace (`ethN`).
    pub device: String,
    /// Subnet name.
    pub subnet: String,
    /// Private IPv4 address.
    pub private_ip: String,
    /// Source/destination check.
    pub source_dest_check: bool,
    /// `up`, or `down` with the reason.
    pub link: String,
}

/// Every route table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routes {
    /// Tables in configuration order (implicit main tables last).
    pub tables: Vec<RouteTableReport>,
}

/// One route table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTableReport {
    /// Name.
    pub name: String,
    /// VPC name.
    pub vpc: String,
    /// Whether it is the VPC's main table.
    pub main: bool,
    /// Subnets using it (explicitly associated, or through main).
    pub subnets: Vec<String>,
    /// Routes by prefix.
    pub routes: Vec<RouteReport>,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteReport {
    /// Destination CIDR.
    pub destination: String,
    /// `local`, or the target ENI as `instance/ethN`.
    pub target: String,
    /// `active` or `blackhole`.
    pub state: String,
}

/// Counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersReport {
    /// Per ENI.
    pub enis: Vec<EniCountersReport>,
    /// Every drop reason with its description and the total over all ENIs.
    pub drops: Vec<DropCount>,
    /// The VPC router's events (echo replies, ICMP errors sent, ...).
    pub router: BTreeMap<String, u64>,
}

/// One ENI's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EniCountersReport {
    /// `instance/ethN`.
    pub name: String,
    /// Packets read from the instance.
    pub rx_packets: u64,
    /// Bytes read from the instance.
    pub rx_bytes: u64,
    /// Packets written to the instance.
    pub tx_packets: u64,
    /// Bytes written to the instance.
    pub tx_bytes: u64,
    /// Writes to the device that failed (queue full, device gone).
    pub tx_errors: u64,
    /// Drops of packets from this ENI, by reason (only reasons with a count).
    pub drops: BTreeMap<String, u64>,
}

/// One drop reason's total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropCount {
    /// The reason's counter name.
    pub reason: String,
    /// What it means.
    pub description: String,
    /// Packets dropped for it, over all ENIs.
    pub count: u64,
}

/// Tracked connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowsReport {
    /// Per ENI asked for, in configuration order.
    pub enis: Vec<EniFlows>,
}

/// One ENI's connection table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EniFlows {
    /// `instance/ethN`.
    pub name: String,
    /// Flows tracked now.
    pub tracked: u64,
    /// Flows inserted since start.
    pub inserted: u64,
    /// Flows expired (idle past their timeout) since start.
    pub expired: u64,
    /// Unreplied flows evicted to make room since start.
    pub evicted: u64,
    /// The flows.
    pub flows: Vec<FlowReport>,
}

/// One tracked flow, as its first packet went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowReport {
    /// `tcp`, `udp`, `icmp` or a protocol number.
    pub proto: String,
    /// Source address (and port).
    pub src: String,
    /// Destination address (and port).
    pub dst: String,
    /// Connection state (`established`, `syn-sent`, `replied`, ...).
    pub state: String,
    /// Seconds left before it expires if idle.
    pub expires_in_secs: u64,
    /// Packets in the direction of the first packet.
    pub packets_original: u64,
    /// Packets in the reply direction.
    pub packets_reply: u64,
}

/// A probe's walk through the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceReport {
    /// The probe, e.g. `web/eth0 10.0.1.10:49152 -> 10.0.12.10:5432 tcp SYN`.
    pub probe: String,
    /// Each stage's decision, in order.
    pub steps: Vec<TraceStep>,
    /// `FORWARD to db/eth0`, `REPLY from the VPC router`, or `DROP <reason>`.
    pub verdict: String,
    /// What decided a drop (the rule, or the reason's description); empty otherwise.
    pub because: String,
}

/// One stage of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    /// The stage, e.g. `nacl inbound`.
    pub stage: String,
    /// Its decision in words, naming the route, rule or table.
    pub decision: String,
}

/// Decoding a request or response failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The line is longer than [`MAX_REQUEST_LEN`].
    #[error("request longer than {MAX_REQUEST_LEN} bytes")]
    TooLong,
    /// The line is not a request or response of this protocol.
    #[error("malformed message: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// One message as a line (JSON and a newline).
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    // Serializing these plain data types cannot fail.
    let mut line = serde_json::to_vec(msg).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Decodes a request line.
pub fn decode_request(line: &[u8]) -> Result<Request, ApiError> {
    if line.len() > MAX_REQUEST_LEN {
        return Err(ApiError::TooLong);
    }
    Ok(serde_json::from_slice(line)?)
}

/// Decodes a response line.
pub fn decode_response(line: &[u8]) -> Result<Response, ApiError> {
    Ok(serde_json::from_slice(line)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_garbage_is_an_error() {
        let trace = Request::Trace {
            from: "web".into(),
            to: "10.0.12.10".into(),
            proto: "tcp".into(),
            port: Some(5432),
        };
        let flows = Request::Flows {
            instance: Some("db".into()),
        };
        for r in [
            Request::Status {},
            Request::Routes {},
            Request::Counters {},
            flows,
            trace,
        ] {
            let line = encode(&r);
            assert_eq!(line.last(), Some(&b'\n'));
            assert_eq!(decode_request(&line).unwrap(), r);
        }
        assert_eq!(
            encode(&Request::Counters {}),
            b"{\"command\":\"counters\"}\n"
        );
        assert!(matches!(
            decode_request(b"{\"command\":\"reboot\"}"),
            Err(ApiError::Malformed(_))
        ));
        assert!(matches!(
            decode_request(b"\xff\xfe"),
            Err(ApiError::Malformed(_))
        ));
        assert!(matches!(
            decode_request(b"{\"command\":\"status\",\"x\":1}"),
            Err(ApiError::Malformed(_))
        ));
        assert_eq!(
            decode_request(b"{\"command\":\"flows\"}").unwrap(),
            Request::Flows { instance: None }
        );
        assert!(matches!(
            decode_request(b"{\"command\":\"trace\",\"from\":\"web\",\"to\":\"x\",\"proto\":\"tcp\",\"port\":70000}"),
            Err(ApiError::Malformed(_))
        ));
        assert!(matches!(
            decode_request(&vec![b' '; MAX_REQUEST_LEN + 1]),
            Err(ApiError::TooLong)
        ));
    }

    #[test]
    fn responses_round_trip() {
        let r = Response::Error {
            message: "nope".into(),
        };
        assert_eq!(decode_response(&encode(&r)).unwrap(), r);
    }
}

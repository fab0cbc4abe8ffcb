//! Flow logs (AWS: VPC Flow Logs). Skeleton: the interface the pipeline and the daemon
//! use; the implementation is being written.

use std::net::Ipv4Addr;

use vpc_config::{EniId, FlowLogId, Topology};

use crate::time::Time;

/// The verdict a flow log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// ACCEPT: the ENI's security groups and its subnet's NACL let it pass.
    Accept,
    /// REJECT: they dropped it.
    Reject,
}

/// Which way the traffic crosses the ENI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Into the instance.
    Ingress,
    /// Out of the instance.
    Egress,
}

/// One packet as a flow log accounts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PacketRecord {
    pub proto: u8,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub bytes: u32,
    pub tcp_flags: u8,
    pub action: Action,
    pub direction: Direction,
}

/// OK, NODATA or SKIPDATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStatus {
    /// Data is logged normally.
    Ok,
    /// No traffic to or from the ENI in the interval.
    NoData,
    /// Records were skipped in the interval (capacity).
    SkipData,
}

/// One flow log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRecord {
    /// The flow log it belongs to.
    pub log: FlowLogId,
    /// The ENI.
    pub eni: EniId,
    /// OK, NODATA or SKIPDATA; the flow fields below are meaningful only for OK.
    pub status: LogStatus,
    /// Protocol.
    pub proto: u8,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Source port (0 for ICMP and other protocols).
    pub src_port: u16,
    /// Destination port (0 for ICMP and other protocols).
    pub dst_port: u16,
    /// Packets in the interval.
    pub packets: u64,
    /// Bytes in the interval.
    pub bytes: u64,
    /// First packet (for NODATA/SKIPDATA: the interval's start).
    pub start: Time,
    /// Last packet (for NODATA/SKIPDATA: the interval's end).
    pub end: Time,
    /// ACCEPT or REJECT.
    pub action: Action,
    /// TCP flags OR'd over the interval.
    pub tcp_flags: u8,
    /// ingress or egress.
    pub direction: Direction,
}

/// The flow logs' accumulators.
#[derive(Debug, Clone)]
pub(crate) struct FlowLogs {}

impl FlowLogs {
    pub fn new(topology: &Topology, max_records: usize, now: Time) -> Self {
        let _ = (topology, max_records, now);
        FlowLogs {}
    }

    /// Whether any flow log covers `eni` (cheap; checked before building a record).
    pub fn covers(&self, eni: EniId) -> bool {
        let _ = eni;
        false
    }

    pub fn record(&mut self, now: Time, eni: EniId, p: &PacketRecord) {
        let _ = (now, eni, p);
    }

    pub fn flush_due(&mut self, now: Time, out: &mut Vec<FlowRecord>) {
        let _ = (now, out);
    }

    pub fn flush_all(&mut self, now: Time, out: &mut Vec<FlowRecord>) {
        let _ = (now, out);
    }
}

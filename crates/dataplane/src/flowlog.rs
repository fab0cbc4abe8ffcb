//! Flow logs (AWS: VPC Flow Logs): the per-flow-log accumulators that turn the packets
//! the pipeline accounts into flow log records, and the text form of a record.
//!
//! What this implements of AWS's behaviour (VPC user guide: flow-logs,
//! flow-logs-records-examples):
//! - A flow log covers the network interfaces of a VPC, a subnet or one ENI, and keeps
//!   ACCEPT, REJECT or ALL traffic. The interfaces of a VPC or subnet include its NAT
//!   gateways' (requester-managed, so their `instance-id` is `-`). Its records are
//!   aggregated over windows of `max_aggregation_interval` seconds (60 or 600) that
//!   start when the flow logs are created.
//! - One record per flow per window per interface, keyed by interface, protocol, the
//!   packet's addresses and ports, action, direction and traffic path: packets and bytes
//!   summed, start/end the first and last packet. A ping allowed by the security group
//!   whose reply the NACL denies gives an ACCEPT record and a REJECT record. Protocols
//!   other than TCP and UDP (ICMP included) log both ports as 0.
//! - `tcp-flags` holds only the flags AWS logs, OR'd over the window: FIN 1, SYN 2,
//!   RST 4, and SYN-ACK 18 for a segment with both SYN and ACK (so 3 is SYN and FIN, 19
//!   SYN-ACK and FIN); ACK, PSH, URG and the others are never logged, so a flow of only
//!   ACK and PSH segments logs 0.
//! - `srcaddr` of an egress record and `dstaddr` of an ingress record are the
//!   interface's primary private address, whatever the packet's (a middlebox forwards
//!   packets that are neither from nor to it; a NAT gateway receives packets for the
//!   internet and sends packets from it); `pkt-srcaddr` and `pkt-dstaddr` are always the
//!   packet's (AWS's NAT gateway and middlebox examples).
//! - `traffic-path` of an egress record says where the packet went next: 1 through
//!   another resource of the VPC (an interface, a NAT gateway), 8 through an internet
//!   gateway from an instance (AWS's value for Nitro instances, which vpcd's are), 2
//!   through an internet gateway from a NAT gateway; ingress records have `-`.
//! - A covered ENI with nothing to log in a window gets one NODATA record; when a window
//!   runs out of record capacity the packets of new flows are not logged and the ENI
//!   gets one SKIPDATA record (besides the records kept).
//! - Records are printed in the flow log's format (AWS's default version 2 format or a
//!   custom one, whose version is the highest of its fields), `-` for inapplicable
//!   fields.
//!
//! Sans-IO: [`FlowLogs`] is given the time with every call and hands the records of
//! ended windows to its caller ([`FlowLogs::flush_due`]); the daemon writes them with
//! [`format_record`]. No allocation per packet: each window's table is reserved when the
//! flow logs are created and reused.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::Duration;

use rustc_hash::FxHashMap;
use vpc_config::{
    EniId, FlowLog, FlowLogField, FlowLogId, FlowLogResource, NatGatewayId, Topology, TrafficType,
};

use crate::l4::tcp_flags::{ACK, FIN, RST, SYN};

use crate::time::Time;

/// Records reserved per flow log window when the flow logs are created; a larger
/// `max_records` still works, but the table may grow (allocate) past this.
const MAX_PRERESERVED_RECORDS: usize = 1 << 16;

/// A network interface flow logs cover: an instance's ENI, or a NAT gateway's own
/// (requester-managed) interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Interface {
    /// An ENI of an instance.
    Eni(EniId),
    /// A NAT gateway's network interface (all its private addresses).
    NatGateway(NatGatewayId),
}

impl From<EniId> for Interface {
    fn from(e: EniId) -> Self {
        Interface::Eni(e)
    }
}

/// Where an egress packet went next (the `traffic-path` field; AWS's codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrafficPath {
    /// 1: through another resource in the same VPC (an interface, a NAT gateway).
    SameVpc,
    /// 2: through an internet gateway or a gateway endpoint (from an interface that is
    /// not a Nitro instance's: a NAT gateway's).
    InternetGatewayOrEndpoint,
    /// 3: through a virtual private gateway.
    VirtualPrivateGateway,
    /// 4: through an intra-region VPC peering connection.
    IntraRegionPeering,
    /// 5: through an inter-region VPC peering connection.
    InterRegionPeering,
    /// 8: through an internet gateway, from a Nitro instance (every vpcd instance).
    InternetGateway,
    /// 7: through a gateway VPC endpoint, from a Nitro instance.
    GatewayEndpoint,
}

impl TrafficPath {
    /// AWS's code.
    pub fn code(self) -> u8 {
        match self {
            TrafficPath::SameVpc => 1,
            TrafficPath::InternetGatewayOrEndpoint => 2,
            TrafficPath::VirtualPrivateGateway => 3,
            TrafficPath::IntraRegionPeering => 4,
            TrafficPath::InterRegionPeering => 5,
            TrafficPath::InternetGateway => 8,
            TrafficPath::GatewayEndpoint => 7,
        }
    }
}

/// The TCP flags AWS logs of a segment with flags `raw`: FIN, SYN and RST as they are,
/// and ACK only with SYN (SYN-ACK, 18); PSH, URG, ECE, CWR and ACK alone are dropped.
pub fn aws_tcp_flags(raw: u8) -> u8 {
    let kept = raw & (FIN | SYN | RST);
    if raw & (SYN | ACK) == SYN | ACK {
        kept | ACK
    } else {
        kept
    }
}

/// The verdict a flow log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// ACCEPT: the ENI's security groups and its subnet's NACL let it pass.
    Accept,
    /// REJECT: they dropped it.
    Reject,
}

impl Action {
    /// AWS's name: `ACCEPT` or `REJECT`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Accept => "ACCEPT",
            Action::Reject => "REJECT",
        }
    }
}

pub use crate::direction::Direction;

/// One packet as a flow log accounts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PacketRecord {
    pub proto: u8,
    /// The packet's source (`pkt-srcaddr`).
    pub src: Ipv4Addr,
    /// The packet's destination (`pkt-dstaddr`).
    pub dst: Ipv4Addr,
    /// The tuple's source port (ICMP echo: the identifier; zeroed here for every
    /// protocol but TCP and UDP).
    pub src_port: u16,
    /// The tuple's destination port (zeroed like `src_port`).
    pub dst_port: u16,
    /// Packets on the wire: 1, or the segments of a superpacket.
    pub packets: u32,
    /// Bytes on the wire (of all segments).
    pub bytes: u32,
    /// The segment's raw TCP flags (0 for other protocols); only those AWS logs are
    /// kept ([`aws_tcp_flags`]).
    pub tcp_flags: u8,
    pub action: Action,
    pub direction: Direction,
    /// Where an egress packet went next; `None` for ingress.
    pub traffic_path: Option<TrafficPath>,
}

/// OK, NODATA or SKIPDATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogStatus {
    /// Data is logged normally.
    Ok,
    /// Records were skipped in the interval (capacity).
    SkipData,
    /// No traffic to or from the ENI in the interval.
    NoData,
}

impl LogStatus {
    /// AWS's name: `OK`, `NODATA` or `SKIPDATA`.
    pub fn name(self) -> &'static str {
        match self {
            LogStatus::Ok => "OK",
            LogStatus::NoData => "NODATA",
            LogStatus::SkipData => "SKIPDATA",
        }
    }
}

/// One flow log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRecord {
    /// The flow log it belongs to.
    pub log: FlowLogId,
    /// The network interface.
    pub interface: Interface,
    /// OK, NODATA or SKIPDATA; the flow fields below are meaningful only for OK.
    pub status: LogStatus,
    /// Protocol.
    pub proto: u8,
    /// The packets' source address (`pkt-srcaddr`; `srcaddr` of an egress record is the
    /// interface's own address).
    pub src: Ipv4Addr,
    /// The packets' destination address (`pkt-dstaddr`; `dstaddr` of an ingress record
    /// is the interface's own address).
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
    /// The TCP flags AWS logs ([`aws_tcp_flags`]), OR'd over the interval.
    pub tcp_flags: u8,
    /// ingress or egress.
    pub direction: Direction,
    /// Where egress packets went next (`None` for ingress).
    pub traffic_path: Option<TrafficPath>,
}

impl FlowRecord {
    /// A NODATA or SKIPDATA record of `interface` for the interval `start..end` (flow
    /// fields zero; they are printed as `-`).
    fn status(
        log: FlowLogId,
        interface: Interface,
        status: LogStatus,
        start: Time,
        end: Time,
    ) -> Self {
        FlowRecord {
            log,
            interface,
            status,
            proto: 0,
            src: Ipv4Addr::UNSPECIFIED,
            dst: Ipv4Addr::UNSPECIFIED,
            src_port: 0,
            dst_port: 0,
            packets: 0,
            bytes: 0,
            start,
            end,
            action: Action::Accept,
            tcp_flags: 0,
            direction: Direction::Ingress,
            traffic_path: None,
        }
    }
}

/// What identifies a record within a window: one flow, one verdict, one direction (and
/// path), on one interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    interface: Interface,
    proto: u8,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    src_port: u16,
    dst_port: u16,
    action: Action,
    direction: Direction,
    traffic_path: Option<TrafficPath>,
}

/// What a window accumulated for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Acc {
    packets: u64,
    bytes: u64,
    first: Time,
    last: Time,
    tcp_flags: u8,
}

/// Per covered interface, in the current window: something was logged (or skipped).
const SEEN: u8 = 1;
/// Per covered interface, in the current window: a record was skipped for capacity.
const SKIPPED: u8 = 2;

/// One flow log's current window.
#[derive(Debug, Clone)]
struct LogAcc {
    id: FlowLogId,
    traffic_type: TrafficType,
    /// Window length in nanoseconds (at least 1 s).
    interval: u64,
    window_start: Time,
    window_end: Time,
    /// The interfaces it covers: ENIs in id order, then NAT gateways in id order.
    interfaces: Vec<Interface>,
    /// Per interface slot of the topology (not only covered ones, see
    /// [`FlowLogs::slot`]): `SEEN` | `SKIPPED` bits.
    flags: Vec<u8>,
    records: FxHashMap<Key, Acc>,
}

impl LogAcc {
    fn admits(&self, action: Action) -> bool {
        match self.traffic_type {
            TrafficType::All => true,
            TrafficType::Accept => action == Action::Accept,
            TrafficType::Reject => action == Action::Reject,
        }
    }

    /// Starts a window at `start`.
    fn restart(&mut self, start: Time) {
        self.window_start = start;
        self.window_end = start + Duration::from_nanos(self.interval);
        self.flags.fill(0);
        self.records.clear();
    }

    /// Appends the window's records to `out` as if it ended at `end`: the OK records,
    /// then per covered interface a SKIPDATA record if some were skipped, or a NODATA
    /// record if it had nothing logged (and `nodata`). Sorted by interface, then OK
    /// records by first packet, then SKIPDATA, then NODATA. `slot` maps an interface
    /// to its index in `flags`.
    fn emit(
        &mut self,
        end: Time,
        nodata: bool,
        slot: impl Fn(Interface) -> usize,
        out: &mut Vec<FlowRecord>,
    ) {
        let base = out.len();
        let id = self.id;
        out.extend(self.records.drain().map(|(k, a)| FlowRecord {
            log: id,
            interface: k.interface,
            status: LogStatus::Ok,
            proto: k.proto,
            src: k.src,
            dst: k.dst,
            src_port: k.src_port,
            dst_port: k.dst_port,
            packets: a.packets,
            bytes: a.bytes,
            start: a.first,
            end: a.last,
            action: k.action,
            tcp_flags: a.tcp_flags,
            direction: k.direction,
            traffic_path: k.traffic_path,
        }));
        let start = self.window_start;
        let end = end.max(start);
        for &iface in &self.interfaces {
            let flags = self.flags.get(slot(iface)).copied().unwrap_or(0);
            if flags & SKIPPED != 0 {
                out.push(FlowRecord::status(
                    id,
                    iface,
                    LogStatus::SkipData,
                    start,
                    end,
                ));
            } else if flags & SEEN == 0 && nodata {
                out.push(FlowRecord::status(id, iface, LogStatus::NoData, start, end));
            }
        }
        if let Some(window) = out.get_mut(base..) {
            window.sort_unstable_by_key(|r| {
                (
                    r.interface,
                    r.status,
                    r.start,
                    r.end,
                    r.proto,
                    r.src,
                    r.dst,
                    r.src_port,
                    r.dst_port,
                    r.action,
                    r.direction,
                    r.traffic_path,
                )
            });
        }
    }
}

/// The flow logs' accumulators: one per flow log of the topology, each with its own
/// aggregation window.
///
/// The caller records packets with [`FlowLogs::record`] and, whenever
/// [`FlowLogs::next_flush`] has passed, collects the ended windows' records with
/// [`FlowLogs::flush_due`] (a packet recorded after its window's end but before that
/// flush is counted in the ended window). At shutdown, [`FlowLogs::flush_all`].
#[derive(Debug, Clone)]
pub(crate) struct FlowLogs {
    logs: Vec<LogAcc>,
    /// Per interface slot ([`FlowLogs::slot`]): the indices into `logs` of the flow
    /// logs covering it.
    by_slot: Vec<Vec<usize>>,
    /// How many ENIs the topology has (NAT gateways' slots come after theirs).
    enis: usize,
    /// Distinct records per flow log per window.
    max_records: usize,
}

impl FlowLogs {
    /// Accumulators for every flow log of `topology`, each keeping at most
    /// `max_records` records per window, their first windows starting at `now`.
    pub fn new(topology: &Topology, max_records: usize, now: Time) -> Self {
        let enis = topology.enis.len();
        let slots = enis + topology.nat_gateways.len();
        let mut by_slot = vec![Vec::new(); slots];
        let logs = topology
            .flow_logs
            .iter()
            .enumerate()
            .map(|(i, log)| {
                let id = FlowLogId(i as u32);
                let interfaces = covered(topology, id);
                for &iface in &interfaces {
                    if let Some(list) = by_slot.get_mut(slot_of(enis, iface)) {
                        list.push(i);
                    }
                }
                let mut records = FxHashMap::default();
                records.reserve(max_records.min(MAX_PRERESERVED_RECORDS));
                let interval = u64::from(log.max_aggregation_interval.max(1)) * 1_000_000_000;
                let mut acc = LogAcc {
                    id,
                    traffic_type: log.traffic_type,
                    interval,
                    window_start: now,
                    window_end: now,
                    interfaces,
                    flags: vec![0; slots],
                    records,
                };
                acc.restart(now);
                acc
            })
            .collect();
        FlowLogs {
            logs,
            by_slot,
            enis,
            max_records,
        }
    }

    /// The index of `iface` in the per-interface tables: ENIs first, then NAT gateways.
    fn slot(&self, iface: Interface) -> usize {
        slot_of(self.enis, iface)
    }

    /// Whether any flow log covers `iface` (cheap; checked before building a record).
    pub fn covers(&self, iface: impl Into<Interface>) -> bool {
        self.by_slot
            .get(self.slot(iface.into()))
            .is_some_and(|logs| !logs.is_empty())
    }

    /// Accounts packet `p`, seen on interface `iface` at `now`, in every flow log that
    /// covers it and keeps `p`'s action.
    pub fn record(&mut self, now: Time, iface: impl Into<Interface>, p: &PacketRecord) {
        let iface = iface.into();
        let slot = self.slot(iface);
        let Some(covering) = self.by_slot.get(slot) else {
            return;
        };
        let (src_port, dst_port) = match p.proto {
            6 | 17 => (p.src_port, p.dst_port),
            _ => (0, 0),
        };
        let tcp_flags = if p.proto == 6 {
            aws_tcp_flags(p.tcp_flags)
        } else {
            0
        };
        let key = Key {
            interface: iface,
            proto: p.proto,
            src: p.src,
            dst: p.dst,
            src_port,
            dst_port,
            action: p.action,
            direction: p.direction,
            traffic_path: p.traffic_path,
        };
        for &i in covering {
            let Some(log) = self.logs.get_mut(i) else {
                continue;
            };
            if !log.admits(p.action) {
                continue;
            }
            let Some(flags) = log.flags.get_mut(slot) else {
                continue;
            };
            *flags |= SEEN;
            if let Some(a) = log.records.get_mut(&key) {
                a.packets += u64::from(p.packets);
                a.bytes += u64::from(p.bytes);
                a.first = a.first.min(now);
                a.last = a.last.max(now);
                a.tcp_flags |= tcp_flags;
            } else if log.records.len() < self.max_records {
                log.records.insert(
                    key,
                    Acc {
                        packets: u64::from(p.packets),
                        bytes: u64::from(p.bytes),
                        first: now,
                        last: now,
                        tcp_flags,
                    },
                );
            } else {
                *flags |= SKIPPED;
            }
        }
    }

    /// Appends to `out` the records of every flow log whose window has ended by `now`
    /// (its OK records, NODATA for covered ENIs without traffic, SKIPDATA where records
    /// were skipped), in flow log order, and starts its next window at the latest window
    /// boundary not after `now` (windows that passed without a flush get no records).
    pub fn flush_due(&mut self, now: Time, out: &mut Vec<FlowRecord>) {
        for log in &mut self.logs {
            if log.window_end > now {
                continue;
            }
            let end = log.window_end;
            let enis = self.enis;
            log.emit(end, true, |i| slot_of(enis, i), out);
            let elapsed = now.as_nanos().saturating_sub(log.window_start.as_nanos());
            let windows = elapsed / log.interval;
            let start = log.window_start + Duration::from_nanos(windows * log.interval);
            log.restart(start);
        }
    }

    /// Appends to `out` everything accumulated so far, the windows cut short at `now`
    /// (NODATA only for windows that lasted some time), and starts new windows at `now`.
    /// For shutdown.
    pub fn flush_all(&mut self, now: Time, out: &mut Vec<FlowRecord>) {
        for log in &mut self.logs {
            let end = now.min(log.window_end);
            let enis = self.enis;
            log.emit(end, end > log.window_start, |i| slot_of(enis, i), out);
            log.restart(now);
        }
    }

    /// When the earliest current window ends (`None` without flow logs): call
    /// [`FlowLogs::flush_due`] then.
    // The daemon polls once a second; kept for a caller that sleeps until then.
    #[allow(dead_code)]
    pub fn next_flush(&self) -> Option<Time> {
        self.logs.iter().map(|l| l.window_end).min()
    }
}

/// The index of interface `iface` in per-interface tables of a topology with `enis`
/// ENIs: ENIs first, then NAT gateways.
fn slot_of(enis: usize, iface: Interface) -> usize {
    match iface {
        Interface::Eni(e) => e.index(),
        Interface::NatGateway(n) => enis + n.index(),
    }
}

/// The interfaces flow log `id` covers: the ENIs of its resource, then for a VPC or a
/// subnet the NAT gateways (not deleted) in it.
fn covered(t: &Topology, id: FlowLogId) -> Vec<Interface> {
    let resource = t.flow_logs[id.index()].resource;
    let nats = t.nat_gateways.iter().enumerate().filter(move |(_, n)| {
        !n.deleted
            && match resource {
                FlowLogResource::Vpc(v) => t.subnet(n.subnet).vpc == v,
                FlowLogResource::Subnet(s) => n.subnet == s,
                FlowLogResource::Eni(_) => false,
            }
    });
    t.flow_log_enis(id)
        .map(Interface::Eni)
        .chain(nats.map(|(i, _)| Interface::NatGateway(NatGatewayId(i as u32))))
        .collect()
}

/// The version of records in `format`: the highest version of its fields (2 for
/// AWS's default format).
pub fn format_version(format: &[FlowLogField]) -> u8 {
    format.iter().map(|f| f.version()).max().unwrap_or(2)
}

/// The header line of a flow log file: the format's field names, space separated (as
/// AWS writes it at the top of log files delivered to S3).
pub fn header_line(log: &FlowLog) -> String {
    let mut s = String::new();
    for (i, f) in log.format.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(f.name());
    }
    s
}

/// Record `r` of flow log `log` as a line (without the newline) in the log's format.
/// `unix_secs` maps a [`Time`] to Unix seconds (for `start` and `end`).
///
/// Values: `account-id` is the `owner_id` of the interface's VPC (the account that owns
/// the interface: a NAT gateway's too, vpcd's choice where AWS may print `unknown`);
/// `region` is the VPC's region; ids are made of
/// names: `eni-<instance>-eth<N>` (a NAT gateway's interface: `eni-<nat gateway>`),
/// `vpc-<vpc>`, `subnet-<subnet>`, `i-<instance>` (`-` for a NAT gateway, whose
/// interface is requester-managed); `az-id` is the subnet's availability zone;
/// `srcaddr` of egress and `dstaddr` of ingress records are the interface's primary
/// private address, `pkt-srcaddr`/`pkt-dstaddr` the packets'; `traffic-path` is the
/// record's [`TrafficPath`] code for egress and `-` for ingress; sublocations and AWS
/// services are `-`. NODATA and SKIPDATA records print `-` for every flow field but
/// keep the fields that describe the interface and the interval.
pub fn format_record(
    t: &Topology,
    log: &FlowLog,
    r: &FlowRecord,
    unix_secs: impl Fn(Time) -> u64,
) -> String {
    let (eni, nat) = match r.interface {
        Interface::Eni(e) => (t.enis.get(e.index()), None),
        Interface::NatGateway(n) => (None, t.nat_gateways.get(n.index())),
    };
    let instance = eni.and_then(|e| t.instances.get(e.instance.index()));
    let subnet = eni
        .map(|e| e.subnet)
        .or(nat.map(|n| n.subnet))
        .and_then(|s| t.subnets.get(s.index()));
    let vpc = subnet.and_then(|s| t.vpcs.get(s.vpc.index()));
    let own = eni
        .map(|e| e.private_ip)
        .or(nat.and_then(|n| n.private_ips.first().copied()));
    let ok = r.status == LogStatus::Ok;
    let ports = ok && matches!(r.proto, 6 | 17);
    let version = format_version(&log.format);
    let (src, dst) = match (r.direction, own) {
        (Direction::Egress, Some(own)) => (own, r.dst),
        (Direction::Ingress, Some(own)) => (r.src, own),
        (_, None) => (r.src, r.dst),
    };

    let mut s = String::with_capacity(16 * log.format.len());
    for (i, &field) in log.format.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        // Writing to a String cannot fail.
        let _ = match field {
            FlowLogField::Version => write!(s, "{version}"),
            FlowLogField::AccountId => s.write_str(vpc.map_or("-", |v| v.owner_id.as_str())),
            FlowLogField::InterfaceId => match (eni, instance, nat) {
                (Some(e), Some(inst), _) => write!(s, "eni-{}-{}", inst.name, e.device()),
                (_, _, Some(n)) => write!(s, "eni-{}", n.name),
                _ => s.write_str("-"),
            },
            FlowLogField::SrcAddr if ok => write!(s, "{src}"),
            FlowLogField::DstAddr if ok => write!(s, "{dst}"),
            FlowLogField::PktSrcAddr if ok => write!(s, "{}", r.src),
            FlowLogField::PktDstAddr if ok => write!(s, "{}", r.dst),
            FlowLogField::SrcPort if ok => write!(s, "{}", if ports { r.src_port } else { 0 }),
            FlowLogField::DstPort if ok => write!(s, "{}", if ports { r.dst_port } else { 0 }),
            FlowLogField::Protocol if ok => write!(s, "{}", r.proto),
            FlowLogField::Packets if ok => write!(s, "{}", r.packets),
            FlowLogField::Bytes if ok => write!(s, "{}", r.bytes),
            FlowLogField::Start => write!(s, "{}", unix_secs(r.start)),
            FlowLogField::End => write!(s, "{}", unix_secs(r.end)),
            FlowLogField::Action if ok => s.write_str(r.action.name()),
            FlowLogField::LogStatus => s.write_str(r.status.name()),
            FlowLogField::VpcId => match vpc {
                Some(v) => write!(s, "vpc-{}", v.name),
                None => s.write_str("-"),
            },
            FlowLogField::SubnetId => match subnet {
                Some(sub) => write!(s, "subnet-{}", sub.name),
                None => s.write_str("-"),
            },
            FlowLogField::InstanceId => match instance {
                Some(inst) => write!(s, "i-{}", inst.name),
                None => s.write_str("-"),
            },
            FlowLogField::TcpFlags if ok => {
                write!(s, "{}", if r.proto == 6 { r.tcp_flags } else { 0 })
            }
            FlowLogField::Type if ok => s.write_str("IPv4"),
            FlowLogField::Region => s.write_str(vpc.map_or("-", |v| v.region.as_str())),
            FlowLogField::AzId => match subnet {
                Some(sub) => s.write_str(&sub.az),
                None => s.write_str("-"),
            },
            FlowLogField::FlowDirection if ok => s.write_str(r.direction.name()),
            FlowLogField::TrafficPath if ok && r.direction == Direction::Egress => {
                match r.traffic_path {
                    Some(path) => write!(s, "{}", path.code()),
                    None => s.write_str("-"),
                }
            }
            FlowLogField::SrcAddr
            | FlowLogField::DstAddr
            | FlowLogField::SrcPort
            | FlowLogField::DstPort
            | FlowLogField::Protocol
            | FlowLogField::Packets
            | FlowLogField::Bytes
            | FlowLogField::Action
            | FlowLogField::TcpFlags
            | FlowLogField::Type
            | FlowLogField::PktSrcAddr
            | FlowLogField::PktDstAddr
            | FlowLogField::SublocationType
            | FlowLogField::SublocationId
            | FlowLogField::PktSrcAwsService
            | FlowLogField::PktDstAwsService
            | FlowLogField::FlowDirection
            | FlowLogField::TrafficPath => s.write_str("-"),
        };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use vpc_config::{DEFAULT_FLOW_LOG_FORMAT, FlowLogResource, SubnetId, VpcId};

    const WEB: EniId = EniId(0);
    const APP: EniId = EniId(1);
    const DB: EniId = EniId(2);
    const T0: Time = Time::from_secs(100);
    /// Unix seconds of `T0` in the formatting tests.
    const UNIX_T0: u64 = 1_763_700_000;

    fn at(secs: u64) -> Time {
        T0 + Duration::from_secs(secs)
    }

    fn at_ms(ms: u64) -> Time {
        T0 + Duration::from_millis(ms)
    }

    fn unix(t: Time) -> u64 {
        UNIX_T0 + t.saturating_since(T0).as_secs()
    }

    fn flow_log(name: &str, resource: FlowLogResource, traffic_type: TrafficType) -> FlowLog {
        FlowLog {
            name: name.to_owned(),
            resource,
            traffic_type,
            destination: format!("{name}.log"),
            format: DEFAULT_FLOW_LOG_FORMAT.to_vec(),
            max_aggregation_interval: 60,
            delivery: None,
        }
    }

    /// The demo's network (web 10.0.1.10, app 10.0.2.10, db 10.0.12.10 in subnets of
    /// azs a, a, b), without security groups or flow logs.
    const NETWORK: &str = r#"
        [[vpc]]
        name = "demo"
        cidr = "10.0.0.0/16"

        [[subnet]]
        name = "public-a"
        vpc = "demo"
        cidr = "10.0.1.0/24"
        az = "a"

        [[subnet]]
        name = "private-a"
        vpc = "demo"
        cidr = "10.0.2.0/24"
        az = "a"

        [[subnet]]
        name = "private-b"
        vpc = "demo"
        cidr = "10.0.12.0/24"
        az = "b"

        [[instance]]
        name = "web"
        subnet = "public-a"
        private_ip = "10.0.1.10"

        [[instance]]
        name = "app"
        subnet = "private-a"
        private_ip = "10.0.2.10"

        [[instance]]
        name = "db"
        subnet = "private-b"
        private_ip = "10.0.12.10"
    "#;

    /// [`NETWORK`] plus `extra` configuration.
    fn parsed(extra: &str) -> Topology {
        let src = format!("{NETWORK}\n{extra}");
        vpc_config::parse(&src, "test.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`NETWORK`] with `logs`.
    fn topology(logs: Vec<FlowLog>) -> Topology {
        let mut t = parsed("");
        t.flow_logs = logs;
        t
    }

    /// The demo with one flow log of `traffic_type` on the whole VPC.
    fn vpc_log(traffic_type: TrafficType) -> Topology {
        topology(vec![flow_log(
            "all",
            FlowLogResource::Vpc(VpcId(0)),
            traffic_type,
        )])
    }

    /// TCP web:43122 -> app:8080, egress from web, accepted.
    fn tcp(bytes: u32, flags: u8) -> PacketRecord {
        PacketRecord {
            proto: 6,
            src: Ipv4Addr::new(10, 0, 1, 10),
            dst: Ipv4Addr::new(10, 0, 2, 10),
            src_port: 43122,
            dst_port: 8080,
            packets: 1,
            bytes,
            tcp_flags: flags,
            action: Action::Accept,
            direction: Direction::Egress,
            traffic_path: Some(TrafficPath::SameVpc),
        }
    }

    /// ICMP echo (identifier 7 as both ports) between `src` and `dst`.
    fn icmp(src: [u8; 4], dst: [u8; 4], action: Action, direction: Direction) -> PacketRecord {
        PacketRecord {
            proto: 1,
            src: src.into(),
            dst: dst.into(),
            src_port: 7,
            dst_port: 7,
            packets: 1,
            bytes: 84,
            tcp_flags: 0,
            action,
            direction,
            traffic_path: (direction == Direction::Egress).then_some(TrafficPath::SameVpc),
        }
    }

    fn ok(records: &[FlowRecord]) -> Vec<&FlowRecord> {
        records
            .iter()
            .filter(|r| r.status == LogStatus::Ok)
            .collect()
    }

    /// The ENI of an ENI's record.
    fn eni(i: Interface) -> EniId {
        match i {
            Interface::Eni(e) => e,
            other => panic!("not an ENI: {other:?}"),
        }
    }

    fn statuses(records: &[FlowRecord]) -> Vec<(EniId, LogStatus)> {
        records
            .iter()
            .map(|r| (eni(r.interface), r.status))
            .collect()
    }

    #[test]
    fn covers_the_enis_of_the_resource() {
        let t = parsed(
            r#"
            [[flow_log]]
            name = "subnet"
            subnet = "private-a"
            traffic_type = "ALL"
            log_destination = "subnet.log"
            max_aggregation_interval = 600

            [[flow_log]]
            name = "db"
            network_interface = "db/eth0"
            traffic_type = "REJECT"
            log_destination = "db.log"
            max_aggregation_interval = 60
            "#,
        );
        assert_eq!(
            t.flow_logs[0].resource,
            FlowLogResource::Subnet(SubnetId(1))
        );
        assert_eq!(t.flow_logs[1].resource, FlowLogResource::Eni(DB));
        let logs = FlowLogs::new(&t, 16, T0);
        assert!(!logs.covers(WEB));
        assert!(logs.covers(APP));
        assert!(logs.covers(DB));
        assert!(!logs.covers(EniId(99)));
        assert_eq!(logs.next_flush(), Some(at(60)));
        assert_eq!(FlowLogs::new(&topology(vec![]), 16, T0).next_flush(), None);
    }

    #[test]
    fn one_record_per_flow_per_interval() {
        let t = vpc_log(TrafficType::All);
        let mut logs = FlowLogs::new(&t, 16, T0);
        logs.record(at(1), WEB, &tcp(60, 0x02));
        logs.record(at(2), WEB, &tcp(52, 0x10));
        logs.record(at(4), WEB, &tcp(52, 0x11));
        let mut out = Vec::new();
        logs.flush_due(at(59), &mut out);
        assert!(out.is_empty(), "the window is not over: {out:?}");

        logs.flush_due(at(60), &mut out);
        let web = ok(&out);
        assert_eq!(web.len(), 1);
        let r = web[0];
        assert_eq!(
            (r.log, eni(r.interface), r.packets, r.bytes),
            (FlowLogId(0), WEB, 3, 164)
        );
        assert_eq!((r.start, r.end), (at(1), at(4)));
        assert_eq!(r.tcp_flags, 3, "SYN and FIN; ACK is never logged");
        assert_eq!((r.src_port, r.dst_port), (43122, 8080));
        assert_eq!(
            statuses(&out),
            [
                (WEB, LogStatus::Ok),
                (APP, LogStatus::NoData),
                (DB, LogStatus::NoData)
            ]
        );
        let nodata = &out[1];
        assert_eq!((nodata.start, nodata.end), (at(0), at(60)));

        // The next window gets a new record.
        out.clear();
        logs.record(at(61), WEB, &tcp(40, 0x10));
        logs.flush_due(at(120), &mut out);
        let web = ok(&out);
        assert_eq!(web.len(), 1);
        assert_eq!((web[0].packets, web[0].bytes), (1, 40));
        assert_eq!((web[0].start, web[0].end), (at(61), at(61)));
        assert_eq!(web[0].tcp_flags, 0, "only ACK: nothing AWS logs");
    }

    #[test]
    fn tcp_flags_are_the_ones_aws_logs() {
        // FIN 1, SYN 2, RST 4, SYN-ACK 18; ACK, PSH, URG, ECE and CWR alone are not logged.
        for (raw, logged) in [
            (0x02, 2),
            (0x12, 18),
            (0x11, 1),
            (0x14, 4),
            (0x04, 4),
            (0x10, 0),
            (0x18, 0),
            (0x38, 0),
            (0xd0, 0),
            (0x13, 19),
        ] {
            assert_eq!(aws_tcp_flags(raw), logged, "{raw:#04x}");
        }
        // A short connection, each side's view: the client logs SYN and FIN (3), the
        // server SYN-ACK and FIN (19), as in AWS's examples; a flow of data only, 0.
        let t = vpc_log(TrafficType::All);
        let mut logs = FlowLogs::new(&t, 16, T0);
        for flags in [0x02, 0x10, 0x18, 0x11, 0x10] {
            logs.record(at(1), WEB, &tcp(52, flags));
        }
        let answer = |flags| PacketRecord {
            src: Ipv4Addr::new(10, 0, 2, 10),
            dst: Ipv4Addr::new(10, 0, 1, 10),
            src_port: 8080,
            dst_port: 43122,
            ..tcp(52, flags)
        };
        for flags in [0x12, 0x18, 0x11] {
            logs.record(at(1), APP, &answer(flags));
        }
        for flags in [0x10, 0x18] {
            logs.record(at(1), DB, &tcp(52, flags));
        }
        let mut out = Vec::new();
        logs.flush_due(at(60), &mut out);
        let flags: Vec<(EniId, u8)> = ok(&out)
            .iter()
            .map(|r| (eni(r.interface), r.tcp_flags))
            .collect();
        assert_eq!(flags, [(WEB, 3), (APP, 19), (DB, 0)]);
    }

    #[test]
    fn accept_and_reject_of_one_flow_are_two_records() {
        // A ping allowed by web's security group whose reply the NACL drops on app.
        let t = vpc_log(TrafficType::All);
        let mut logs = FlowLogs::new(&t, 16, T0);
        let web = [10, 0, 1, 10];
        let app = [10, 0, 2, 10];
        logs.record(
            at(1),
            WEB,
            &icmp(web, app, Action::Accept, Direction::Egress),
        );
        logs.record(
            at(2),
            WEB,
            &icmp(app, web, Action::Reject, Direction::Ingress),
        );
        let mut out = Vec::new();
        logs.flush_due(at(60), &mut out);
        let records = ok(&out);
        assert_eq!(records.len(), 2);
        assert_eq!(
            (records[0].action, records[0].direction),
            (Action::Accept, Direction::Egress)
        );
        assert_eq!(
            (records[1].action, records[1].direction),
            (Action::Reject, Direction::Ingress)
        );
    }

    #[test]
    fn icmp_and_other_protocols_log_ports_as_zero() {
        let t = vpc_log(TrafficType::All);
        let mut logs = FlowLogs::new(&t, 16, T0);
        let web = [10, 0, 1, 10];
        let app = [10, 0, 2, 10];
        logs.record(
            at(1),
            WEB,
            &icmp(web, app, Action::Accept, Direction::Egress),
        );
        let gre = PacketRecord {
            proto: 47,
            src_port: 1,
            dst_port: 2,
            ..icmp(web, app, Action::Accept, Direction::Egress)
        };
        logs.record(at(1), WEB, &gre);
        let udp = PacketRecord {
            proto: 17,
            src_port: 5353,
            dst_port: 53,
            ..icmp(web, app, Action::Accept, Direction::Egress)
        };
        logs.record(at(1), WEB, &udp);
        let mut out = Vec::new();
        logs.flush_due(at(60), &mut out);
        let ports: Vec<(u8, u16, u16)> = ok(&out)
            .iter()
            .map(|r| (r.proto, r.src_port, r.dst_port))
            .collect();
        assert_eq!(ports, [(1, 0, 0), (17, 5353, 53), (47, 0, 0)]);
    }

    #[test]
    fn traffic_type_filters_records() {
        let t = topology(vec![
            flow_log(
                "reject",
                FlowLogResource::Vpc(VpcId(0)),
                TrafficType::Reject,
            ),
            flow_log(
                "accept",
                FlowLogResource::Vpc(VpcId(0)),
                TrafficType::Accept,
            ),
        ]);
        let mut logs = FlowLogs::new(&t, 16, T0);
        let rejected = PacketRecord {
            action: Action::Reject,
            ..tcp(60, 0x02)
        };
        logs.record(at(1), WEB, &tcp(60, 0x02));
        logs.record(at(2), APP, &rejected);
        let mut out = Vec::new();
        logs.flush_due(at(60), &mut out);
        let kept: Vec<(FlowLogId, EniId, Action)> = ok(&out)
            .iter()
            .map(|r| (r.log, eni(r.interface), r.action))
            .collect();
        assert_eq!(
            kept,
            [
                (FlowLogId(0), APP, Action::Reject),
                (FlowLogId(1), WEB, Action::Accept)
            ]
        );
        // Traffic a flow log does not keep is no data for it.
        let nodata: Vec<(FlowLogId, EniId)> = out
            .iter()
            .filter(|r| r.status == LogStatus::NoData)
            .map(|r| (r.log, eni(r.interface)))
            .collect();
        assert_eq!(
            nodata,
            [
                (FlowLogId(0), WEB),
                (FlowLogId(0), DB),
                (FlowLogId(1), APP),
                (FlowLogId(1), DB)
            ]
        );
    }

    #[test]
    fn nodata_for_covered_enis_only_and_once_after_missed_windows() {
        let t = topology(vec![flow_log(
            "db",
            FlowLogResource::Eni(DB),
            TrafficType::All,
        )]);
        let mut logs = FlowLogs::new(&t, 16, T0);
        logs.record(at(1), WEB, &tcp(60, 0x02));
        let mut out = Vec::new();
        // Three and a half windows later: one NODATA, for the window that ended.
        logs.flush_due(at(210), &mut out);
        assert_eq!(
            out,
            [FlowRecord::status(
                FlowLogId(0),
                DB.into(),
                LogStatus::NoData,
                at(0),
                at(60)
            )]
        );
        // The next window started at the last boundary, 180 s.
        assert_eq!(logs.next_flush(), Some(at(240)));
        out.clear();
        logs.flush_due(at(240), &mut out);
        assert_eq!((out.len(), out[0].start, out[0].end), (1, at(180), at(240)));
    }

    #[test]
    fn skipdata_when_records_run_out() {
        let t = vpc_log(TrafficType::All);
        let mut logs = FlowLogs::new(&t, 2, T0);
        let flow = |port| PacketRecord {
            src_port: port,
            ..tcp(60, 0x02)
        };
        logs.record(at(1), WEB, &flow(1000));
        logs.record(at(2), WEB, &flow(1001));
        logs.record(at(3), WEB, &flow(1002)); // skipped
        logs.record(at(4), WEB, &flow(1000)); // an existing record still counts
        logs.record(at(5), APP, &flow(1003)); // skipped
        let mut out = Vec::new();
        logs.flush_due(at(60), &mut out);
        assert_eq!(
            statuses(&out),
            [
                (WEB, LogStatus::Ok),
                (WEB, LogStatus::Ok),
                (WEB, LogStatus::SkipData),
                (APP, LogStatus::SkipData),
                (DB, LogStatus::NoData)
            ]
        );
        assert_eq!((out[0].src_port, out[0].packets), (1000, 2));
        assert_eq!((out[1].src_port, out[1].packets), (1001, 1));
        assert_eq!((out[2].start, out[2].end), (at(0), at(60)));

        // The next window has room again.
        out.clear();
        logs.record(at(61), WEB, &flow(1002));
        logs.flush_due(at(120), &mut out);
        assert_eq!(ok(&out).len(), 1);
        assert!(out.iter().all(|r| r.status != LogStatus::SkipData));
    }

    #[test]
    fn records_are_ordered_by_eni_then_first_packet() {
        let t = vpc_log(TrafficType::All);
        let mut logs = FlowLogs::new(&t, 16, T0);
        let flow = |port| PacketRecord {
            src_port: port,
            ..tcp(60, 0x02)
        };
        logs.record(at(30), DB, &flow(3));
        logs.record(at(20), WEB, &flow(2));
        logs.record(at(10), WEB, &flow(1));
        logs.record(at(5), APP, &flow(4));
        let mut out = Vec::new();
        logs.flush_due(at(60), &mut out);
        let order: Vec<(EniId, u16)> = out.iter().map(|r| (eni(r.interface), r.src_port)).collect();
        assert_eq!(order, [(WEB, 1), (WEB, 2), (APP, 4), (DB, 3)]);
    }

    #[test]
    fn flush_all_emits_the_partial_window_and_resets() {
        let t = vpc_log(TrafficType::All);
        let mut logs = FlowLogs::new(&t, 16, T0);
        logs.record(at_ms(1500), WEB, &tcp(60, 0x02));
        let mut out = Vec::new();
        logs.flush_all(at(20), &mut out);
        assert_eq!(
            statuses(&out),
            [
                (WEB, LogStatus::Ok),
                (APP, LogStatus::NoData),
                (DB, LogStatus::NoData)
            ]
        );
        assert_eq!((out[1].start, out[1].end), (at(0), at(20)));
        assert_eq!(logs.next_flush(), Some(at(80)));

        // Nothing left; a window of no time gets no NODATA.
        out.clear();
        logs.flush_all(at(20), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn formats_the_default_format() {
        let t = vpc_log(TrafficType::All);
        let log = &t.flow_logs[0];
        assert_eq!(format_version(&log.format), 2);
        assert_eq!(
            header_line(log),
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol \
             packets bytes start end action log-status"
        );
        let mut logs = FlowLogs::new(&t, 16, T0);
        for (s, flags) in [(0, 0x02), (1, 0x10), (2, 0x18), (3, 0x18), (4, 0x11)] {
            logs.record(at(s), WEB, &tcp(64, flags));
        }
        let mut out = Vec::new();
        logs.flush_due(at(60), &mut out);
        let lines: Vec<String> = out
            .iter()
            .map(|r| format_record(&t, log, r, unix))
            .collect();
        assert_eq!(
            lines,
            [
                "2 123456789012 eni-web-eth0 10.0.1.10 10.0.2.10 43122 8080 6 5 320 1763700000 1763700004 ACCEPT OK",
                "2 123456789012 eni-app-eth0 - - - - - - - 1763700000 1763700060 - NODATA",
                "2 123456789012 eni-db-eth0 - - - - - - - 1763700000 1763700060 - NODATA",
            ]
        );
    }

    #[test]
    fn formats_a_custom_v5_format() {
        let format = "version interface-id vpc-id subnet-id instance-id srcaddr dstaddr \
                      srcport dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr region \
                      az-id sublocation-type sublocation-id pkt-src-aws-service \
                      pkt-dst-aws-service flow-direction traffic-path action log-status";
        let log_format: Vec<String> = format
            .split_whitespace()
            .map(|f| format!("${{{f}}}"))
            .collect();
        let t = parsed(&format!(
            r#"
            [[flow_log]]
            name = "v5"
            vpc = "demo"
            traffic_type = "ALL"
            log_destination = "v5.log"
            log_format = "{}"
            max_aggregation_interval = 60
            "#,
            log_format.join(" ")
        ));
        let log = &t.flow_logs[0];
        assert_eq!(format_version(&log.format), 5);
        assert_eq!(
            header_line(log),
            format.split_whitespace().collect::<Vec<_>>().join(" ")
        );

        let mut logs = FlowLogs::new(&t, 16, T0);
        logs.record(at(1), WEB, &tcp(60, 0x02));
        let reply = PacketRecord {
            src: Ipv4Addr::new(10, 0, 2, 10),
            dst: Ipv4Addr::new(10, 0, 1, 10),
            src_port: 8080,
            dst_port: 43122,
            tcp_flags: 0x12,
            direction: Direction::Ingress,
            ..tcp(60, 0x02)
        };
        logs.record(at(2), WEB, &reply);
        let ping = icmp(
            [10, 0, 12, 10],
            [10, 0, 2, 10],
            Action::Reject,
            Direction::Ingress,
        );
        logs.record(at(3), APP, &ping);
        let mut out = Vec::new();
        logs.flush_due(at(60), &mut out);
        let lines: Vec<String> = out
            .iter()
            .map(|r| format_record(&t, log, r, unix))
            .collect();
        assert_eq!(
            lines,
            [
                "5 eni-web-eth0 vpc-demo subnet-public-a i-web 10.0.1.10 10.0.2.10 43122 8080 6 2 IPv4 10.0.1.10 10.0.2.10 us-east-1 a - - - - egress 1 ACCEPT OK",
                "5 eni-web-eth0 vpc-demo subnet-public-a i-web 10.0.2.10 10.0.1.10 8080 43122 6 18 IPv4 10.0.2.10 10.0.1.10 us-east-1 a - - - - ingress - ACCEPT OK",
                "5 eni-app-eth0 vpc-demo subnet-private-a i-app 10.0.12.10 10.0.2.10 0 0 1 0 IPv4 10.0.12.10 10.0.2.10 us-east-1 a - - - - ingress - REJECT OK",
                "5 eni-db-eth0 vpc-demo subnet-private-b i-db - - - - - - - - - us-east-1 b - - - - - - - NODATA",
            ]
        );
    }

    #[test]
    fn a_record_of_another_topology_does_not_panic() {
        let t = vpc_log(TrafficType::All);
        let r = FlowRecord::status(
            FlowLogId(0),
            EniId(42).into(),
            LogStatus::NoData,
            T0,
            at(60),
        );
        let line = format_record(&t, &t.flow_logs[0], &r, unix);
        assert_eq!(line, "2 - - - - - - - - - 1763700000 1763700060 - NODATA");
    }
}

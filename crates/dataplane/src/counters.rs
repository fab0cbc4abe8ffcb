//! Counters: per port, i.e. per ENI and per internet host (packets and bytes in and
//! out, drops by reason, attributed to the port the packet came from), the VPC router's
//! events, and each NAT gateway's CloudWatch metrics ([`NatMetrics`]). Plain integers
//! updated by the pipeline on every verdict, and on Ethernet (AF_XDP) ports by the
//! daemon for what the link layer decided ([`Counters::record_link`]); read by the
//! daemon for `vpcctl counters`. Tests assert exact deltas.

use std::sync::Arc;

use vpc_config::{EniId, HostId};

use crate::link::Ingress;
use crate::ports::Ports;
use crate::verdict::{DropReason, Port, Reply, Verdict};

/// One ENI's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EniCounters {
    /// Packets read from the ENI (sent by the instance).
    pub rx_packets: u64,
    /// Bytes read from the ENI.
    pub rx_bytes: u64,
    /// Packets the pipeline sent to the ENI (forwarded to it, or router replies).
    pub tx_packets: u64,
    /// Bytes sent to the ENI.
    pub tx_bytes: u64,
    /// Packets from this ENI dropped, by reason (index: [`DropReason::index`]).
    pub drops: [u64; DropReason::COUNT],
}

impl Default for EniCounters {
    fn default() -> Self {
        EniCounters {
            rx_packets: 0,
            rx_bytes: 0,
            tx_packets: 0,
            tx_bytes: 0,
            drops: [0; DropReason::COUNT],
        }
    }
}

impl EniCounters {
    fn add(&mut self, other: &EniCounters) {
        self.rx_packets += other.rx_packets;
        self.rx_bytes += other.rx_bytes;
        self.tx_packets += other.tx_packets;
        self.tx_bytes += other.tx_bytes;
        for (a, b) in self.drops.iter_mut().zip(&other.drops) {
            *a += b;
        }
    }

    /// Drops from this ENI for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.drops[reason.index()]
    }
}

/// Events of the VPC router that are not drops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouterCounters {
    /// ICMP echo replies sent from subnet router addresses.
    pub echo_replies: u64,
    /// ICMP errors sent (time exceeded, ...).
    pub icmp_errors_sent: u64,
    /// ICMP errors not sent because of the rate limit (the packet is still dropped).
    pub icmp_errors_rate_limited: u64,
    /// Packets with bytes past their total length, trimmed and forwarded.
    pub trailing_bytes_trimmed: u64,
    /// Superpackets read (offloads): packets that stood for more than one segment,
    /// judged once (their segments are what the ENI and host counters count).
    pub superpackets: u64,
    /// ARP requests answered on Ethernet (AF_XDP) ports.
    pub arp_replies: u64,
    /// NTP requests answered by the time service (169.254.169.123).
    pub time_replies: u64,
}

/// A NAT gateway's CloudWatch metrics (AWS: nat-gateway-cloudwatch), as totals since
/// the daemon started; `active_connection_count` is the current number of TCP
/// translations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NatMetrics {
    /// TCP connections currently translated (ActiveConnectionCount).
    pub active_connection_count: u64,
    /// New translations attempted: TCP SYNs, first UDP datagrams, first echo requests (ConnectionAttemptCount).
    pub connection_attempt_count: u64,
    /// TCP connections that completed the handshake (ConnectionEstablishedCount).
    pub connection_established_count: u64,
    /// New connections refused for want of a source port (ErrorPortAllocation).
    pub error_port_allocation: u64,
    /// Translations removed after the idle timeout (IdleTimeoutCount).
    pub idle_timeout_count: u64,
    /// Packets the NAT gateway dropped (PacketsDropCount).
    pub packets_drop_count: u64,
    /// Packets from the inside (PacketsInFromSource).
    pub packets_in_from_source: u64,
    /// Bytes from the inside (BytesInFromSource).
    pub bytes_in_from_source: u64,
    /// Packets sent on to the destination (PacketsOutToDestination).
    pub packets_out_to_destination: u64,
    /// Bytes sent on to the destination (BytesOutToDestination).
    pub bytes_out_to_destination: u64,
    /// Packets from the destination side (PacketsInFromDestination).
    pub packets_in_from_destination: u64,
    /// Bytes from the destination side (BytesInFromDestination).
    pub bytes_in_from_destination: u64,
    /// Packets sent back to the inside (PacketsOutToSource).
    pub packets_out_to_source: u64,
    /// Bytes sent back to the inside (BytesOutToSource).
    pub bytes_out_to_source: u64,
}

/// All counters of a dataplane. They are counted for the ports of one snapshot
/// (indexed by its [`EniId`]s and [`HostId`]s) and follow the ports of the next ones
/// by themselves ([`Counters::follow`]): a port that stays keeps its counters under its
/// new index, a new one starts at zero, a removed one's are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Per ENI, indexed by [`EniId`].
    pub enis: Vec<EniCounters>,
    /// Per host of the emulated internet, indexed by [`HostId`].
    pub hosts: Vec<EniCounters>,
    /// The services port's (vpcd's DNS resolver and metadata service).
    pub services: EniCounters,
    /// The VPC router's events.
    pub router: RouterCounters,
    /// The ports the per-port counters are indexed for (`None`: made without a
    /// snapshot; they adopt the first one they follow).
    ports: Option<Arc<Ports>>,
}

impl Counters {
    pub(crate) fn new(enis: usize, hosts: usize) -> Self {
        Counters {
            enis: vec![EniCounters::default(); enis],
            hosts: vec![EniCounters::default(); hosts],
            services: EniCounters::default(),
            router: RouterCounters::default(),
            ports: None,
        }
    }

    /// Zero counters for `ports`.
    pub(crate) fn for_ports(ports: &Arc<Ports>) -> Self {
        let (enis, hosts) = ports.counts();
        Counters {
            ports: Some(Arc::clone(ports)),
            ..Counters::new(enis, hosts)
        }
    }

    /// Re-indexes the per-port counters for `ports` (a later snapshot's), by slot: a
    /// pointer comparison when nothing changed, as on every batch.
    #[inline]
    pub fn follow(&mut self, ports: &Arc<Ports>) {
        match &self.ports {
            Some(mine) if Arc::ptr_eq(mine, ports) => {}
            _ => self.remap(ports),
        }
    }

    #[cold]
    fn remap(&mut self, ports: &Arc<Ports>) {
        let (enis, hosts) = match &self.ports {
            Some(old) => (ports.eni_before(old), ports.host_before(old)),
            // Counted for these ports already, as far as they go.
            None => (
                (0..ports.counts().0)
                    .map(|e| Some(EniId(e as u32)))
                    .collect(),
                (0..ports.counts().1)
                    .map(|h| Some(HostId(h as u32)))
                    .collect(),
            ),
        };
        let take = |v: &mut Vec<EniCounters>, i: Option<usize>| {
            i.and_then(|i| v.get_mut(i).map(std::mem::take))
                .unwrap_or_default()
        };
        self.enis = enis
            .iter()
            .map(|e| take(&mut self.enis, e.map(EniId::index)))
            .collect();
        self.hosts = hosts
            .iter()
            .map(|h| take(&mut self.hosts, h.map(HostId::index)))
            .collect();
        self.ports = Some(Arc::clone(ports));
    }

    /// One ENI's counters.
    pub fn eni(&self, id: EniId) -> &EniCounters {
        &self.enis[id.index()]
    }

    /// One internet host's counters.
    pub fn host(&self, id: HostId) -> &EniCounters {
        &self.hosts[id.index()]
    }

    /// One port's counters.
    pub fn port(&self, port: Port) -> &EniCounters {
        match port {
            Port::Eni(e) => self.eni(e),
            Port::Host(h) => self.host(h),
            Port::Services => &self.services,
        }
    }

    fn port_mut(&mut self, port: Port) -> &mut EniCounters {
        match port {
            Port::Eni(e) => &mut self.enis[e.index()],
            Port::Host(h) => &mut self.hosts[h.index()],
            Port::Services => &mut self.services,
        }
    }

    /// Adds `other` (another thread's counters) to these, port by port (`other` is
    /// first re-indexed for these counters' ports if it was counted for others).
    pub fn add(&mut self, other: &Counters) {
        if let Some(mine) = &self.ports
            && other.ports.as_ref().is_some_and(|o| !Arc::ptr_eq(o, mine))
        {
            let mut other = other.clone();
            other.follow(&Arc::clone(mine));
            return self.add(&other);
        }
        for (a, b) in self.enis.iter_mut().zip(&other.enis) {
            a.add(b);
        }
        for (a, b) in self.hosts.iter_mut().zip(&other.hosts) {
            a.add(b);
        }
        self.services.add(&other.services);
        let (a, b) = (&mut self.router, &other.router);
        a.echo_replies += b.echo_replies;
        a.icmp_errors_sent += b.icmp_errors_sent;
        a.icmp_errors_rate_limited += b.icmp_errors_rate_limited;
        a.trailing_bytes_trimmed += b.trailing_bytes_trimmed;
        a.superpackets += b.superpackets;
        a.arp_replies += b.arp_replies;
        a.time_replies += b.time_replies;
    }

    /// Drops for `reason` summed over every port.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.enis
            .iter()
            .chain(&self.hosts)
            .chain([&self.services])
            .map(|e| e.dropped(reason))
            .sum()
    }

    /// Records a frame of `frame_len` bytes read from `from` (an AF_XDP port) and what
    /// [`crate::link::ingress`] made of it: a dropped frame is counted on `from` with
    /// its reason, an ARP request on `from` and its reply as written to `from`. An IPv4
    /// frame is not counted here: the pipeline counts its packet, without the Ethernet
    /// header, as on a TUN port.
    pub fn record_link(&mut self, from: Port, frame_len: usize, outcome: &Ingress) {
        let rx = self.port_mut(from);
        match *outcome {
            Ingress::Ipv4 => {}
            Ingress::Drop(reason) => {
                rx.rx_packets += 1;
                rx.rx_bytes += frame_len as u64;
                rx.drops[reason.index()] += 1;
            }
            Ingress::ArpReply { len } => {
                rx.rx_packets += 1;
                rx.rx_bytes += frame_len as u64;
                rx.tx_packets += 1;
                rx.tx_bytes += len as u64;
                self.router.arp_replies += 1;
            }
        }
    }

    /// Records `(packets, bytes)` written to `to` (a multicast member's copy).
    pub(crate) fn record_tx(&mut self, to: Port, (packets, bytes): (u64, u64)) {
        let tx = self.port_mut(to);
        tx.tx_packets += packets;
        tx.tx_bytes += bytes;
    }

    /// Records one packet read from `from` and its verdict. A packet that stands for
    /// `(packets, bytes)` on the wire (a superpacket for each of its segments) came from
    /// `from`; `out` (packets, bytes) went out if the verdict sends something: the
    /// forwarded packet's own (its segments, or the fragments it is cut into), or the
    /// reply.
    #[inline]
    pub(crate) fn record(
        &mut self,
        from: Port,
        wire: (u64, u64),
        verdict: Verdict,
        out: (u64, u64),
    ) {
        let (packets, bytes) = wire;
        let rx = self.port_mut(from);
        rx.rx_packets += packets;
        rx.rx_bytes += bytes;
        match verdict {
            Verdict::Drop(reason) => rx.drops[reason.index()] += packets,
            Verdict::Reply {
                reply: Reply::IcmpError { cause },
                ..
            } => {
                rx.drops[cause.index()] += packets;
                self.router.icmp_errors_sent += 1;
            }
            Verdict::Reply {
                reply: Reply::EchoReply,
                ..
            } => self.router.echo_replies += 1,
            Verdict::Reply {
                reply: Reply::TimeReply,
                ..
            } => self.router.time_replies += 1,
            Verdict::Reply {
                reply: Reply::TcpReset { cause },
                ..
            } => rx.drops[cause.index()] += packets,
            Verdict::Forward { .. } | Verdict::Multicast { .. } => {}
        }
        if let Verdict::Forward { to } | Verdict::Reply { to, .. } = verdict {
            let tx = self.port_mut(to);
            tx.tx_packets += out.0;
            tx.tx_bytes += out.1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_link_counts_each_outcome_exactly() {
        let mut c = Counters::new(2, 1);
        let from = Port::Eni(EniId(1));

        c.record_link(from, 1514, &Ingress::Ipv4);
        assert_eq!(
            c,
            Counters::new(2, 1),
            "an IPv4 frame is the pipeline's to count"
        );

        let mut want = c.clone();
        c.record_link(from, 60, &Ingress::ArpReply { len: 42 });
        want.enis[1].rx_packets += 1;
        want.enis[1].rx_bytes += 60;
        want.enis[1].tx_packets += 1;
        want.enis[1].tx_bytes += 42;
        want.router.arp_replies += 1;
        assert_eq!(c, want);

        c.record_link(from, 60, &Ingress::Drop(DropReason::ArpIgnored));
        want.enis[1].rx_packets += 1;
        want.enis[1].rx_bytes += 60;
        want.enis[1].drops[DropReason::ArpIgnored.index()] += 1;
        assert_eq!(c, want);

        let host = Port::Host(HostId(0));
        c.record_link(host, 13, &Ingress::Drop(DropReason::FrameTruncated));
        want.hosts[0].rx_packets += 1;
        want.hosts[0].rx_bytes += 13;
        want.hosts[0].drops[DropReason::FrameTruncated.index()] += 1;
        assert_eq!(c, want);
    }

    #[test]
    fn add_sums_arp_replies() {
        let mut a = Counters::new(1, 0);
        let mut b = Counters::new(1, 0);
        a.router.arp_replies = 2;
        b.router.arp_replies = 3;
        a.add(&b);
        assert_eq!(a.router.arp_replies, 5);
    }
}

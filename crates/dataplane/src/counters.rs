//! Counters: per ENI (packets and bytes in and out, drops by reason, attributed to the
//! ENI the packet came from) and the VPC router's events. Plain integers updated by the
//! pipeline on every verdict; read by the daemon for `vpcctl counters`. Tests assert
//! exact deltas.

use vpc_config::EniId;

use crate::verdict::{DropReason, Reply, Verdict};

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
}

/// All counters of a dataplane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Per ENI, indexed by [`EniId`].
    pub enis: Vec<EniCounters>,
    /// The VPC router's events.
    pub router: RouterCounters,
}

impl Counters {
    pub(crate) fn new(enis: usize) -> Self {
        Counters {
            enis: vec![EniCounters::default(); enis],
            router: RouterCounters::default(),
        }
    }

    /// One ENI's counters.
    pub fn eni(&self, id: EniId) -> &EniCounters {
        &self.enis[id.index()]
    }

    /// Drops for `reason` summed over every ENI.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.enis.iter().map(|e| e.dropped(reason)).sum()
    }

    /// Records one packet read from `from` with `len_in` bytes, and its verdict; the
    /// packet now has `len_out` bytes.
    pub(crate) fn record(&mut self, from: EniId, len_in: usize, verdict: Verdict, len_out: usize) {
        let rx = &mut self.enis[from.index()];
        rx.rx_packets += 1;
        rx.rx_bytes += len_in as u64;
        match verdict {
            Verdict::Drop(reason) => rx.drops[reason.index()] += 1,
            Verdict::Reply {
                reply: Reply::IcmpError { cause },
                ..
            } => {
                rx.drops[cause.index()] += 1;
                self.router.icmp_errors_sent += 1;
            }
            Verdict::Reply {
                reply: Reply::EchoReply,
                ..
            } => self.router.echo_replies += 1,
            Verdict::Forward { .. } => {}
        }
        if let Verdict::Forward { to } | Verdict::Reply { to, .. } = verdict {
            let tx = &mut self.enis[to.index()];
            tx.tx_packets += 1;
            tx.tx_bytes += len_out as u64;
        }
    }
}

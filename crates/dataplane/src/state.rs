//! What packets change, shared by every forwarding thread with no lock over all of it:
//! each part has its own (a connection table per ENI, a translation table per NAT
//! gateway, metrics per transit gateway, the multicast groups, the fragments' verdicts,
//! the flow-log accumulators, the ICMP-error rate limit), link states are atomic, and
//! counters are not here at all: each thread keeps its own ([`Writer`]), merged when
//! read. A batch keeps the connection tables and flow logs it locked until it ends
//! (see [`Writer`]); other locks are held for one step of one packet.
//!
//! A packet changes state through a [`Writer`]; a trace holds only `&State`, whose
//! methods read (their guards deref to `&T` only): a trace cannot change anything, by
//! construction.
//!
//! Parts that follow the configuration's shape (per gateway, per flow log) are
//! replaced by `apply`, which builds the next `State` from the last, keeping what lives
//! on (`Arc`s shared between the two). Packets judged by the old configuration while
//! the new one is swapped in use the old handles: at most one batch per thread.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, TryLockError};

use vpc_config::{EniId, HostId, NatGatewayId, Topology, TransitGatewayId};

use crate::conntrack::ConnTable;
use crate::counters::Counters;
use crate::flowlog::FlowLogs;
use crate::frag::Fragments;
use crate::hop::multicast::Groups;
use crate::hop::nat_gateway;
use crate::hop::transit_gateway::TgwMetrics;
use crate::hop::vpc_endpoint;
use crate::icmp_error::RateLimit;
use crate::nat::NatTable;
use crate::pipeline::Limits;
use crate::ports::Ports;
use crate::time::Time;

/// Locks `m`, whatever a panicking holder left (every part stays consistent between
/// statements).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A guard that only reads.
#[derive(Debug)]
pub(crate) struct Ro<G>(G);

impl<G: Deref> Deref for Ro<G> {
    type Target = G::Target;
    fn deref(&self) -> &G::Target {
        &self.0
    }
}

/// Up or down, per ENI or per internet host.
#[derive(Debug)]
pub(crate) struct Links(Box<[AtomicBool]>);

impl Links {
    fn all_up(n: usize) -> Links {
        Links((0..n).map(|_| AtomicBool::new(true)).collect())
    }

    /// Whether link `i` is up.
    #[inline]
    pub(crate) fn up(&self, i: usize) -> bool {
        self.0[i].load(Ordering::Relaxed)
    }

    fn set(&self, i: usize, up: bool) {
        self.0[i].store(up, Ordering::Relaxed);
    }
}

/// Per ENI: its packets to the DNS resolver in the current second, for AWS's limit of
/// [`DNS_PACKETS_PER_SECOND`]. Each is `second << 32 | count`, changed atomically.
#[derive(Debug)]
pub(crate) struct DnsBudgets(Box<[AtomicU64]>);

/// AWS's limit on packets to the Amazon DNS resolver, per network interface.
pub(crate) const DNS_PACKETS_PER_SECOND: u32 = 1024;

impl DnsBudgets {
    fn new(n: usize) -> DnsBudgets {
        DnsBudgets((0..n).map(|_| AtomicU64::new(0)).collect())
    }

    /// Whether ENI `i` may send one more packet to the resolver at `now` (counting it).
    fn take(&self, i: usize, now: Time) -> bool {
        let second = now.as_nanos() / 1_000_000_000;
        let cell = &self.0[i];
        let mut cur = cell.load(Ordering::Relaxed);
        loop {
            let count = if cur >> 32 == second & 0xffff_ffff {
                cur & 0xffff_ffff
            } else {
                0
            };
            if count >= u64::from(DNS_PACKETS_PER_SECOND) {
                return false;
            }
            let next = (second & 0xffff_ffff) << 32 | (count + 1);
            match cell.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(seen) => cur = seen,
            }
        }
    }
}

/// What packets change (see the module's documentation).
#[derive(Debug)]
pub(crate) struct State {
    /// Per ENI: its connection table (each shared with the next state while its ENI
    /// stays, whatever its index then).
    conntrack: Arc<[Arc<Mutex<ConnTable>>]>,
    /// Per ENI: whether its device is up.
    link_up: Arc<Links>,
    /// Per internet host: whether its device is up.
    host_up: Arc<Links>,
    /// Per ENI: its packets to the DNS resolver this second.
    dns: Arc<DnsBudgets>,
    /// The verdicts of fragmented datagrams, for their later fragments.
    fragments: Arc<Mutex<Fragments>>,
    /// Identification field for packets the router originates.
    next_ident: Arc<AtomicU16>,
    icmp_limit: Arc<Mutex<RateLimit>>,
    /// Per NAT gateway: its translations (`None` once deleted).
    nat: Vec<Option<Arc<Mutex<NatTable>>>>,
    /// Per transit gateway: its metrics.
    tgw: Vec<Arc<Mutex<TgwMetrics>>>,
    /// Multicast groups and their members (registered and joined).
    multicast: Arc<RwLock<Groups>>,
    /// The flow logs' accumulators; `None` without flow logs (no lock to take).
    flow_logs: Option<Arc<Mutex<FlowLogs>>>,
    /// The gateway endpoints' flows and metrics.
    endpoints: Arc<Mutex<vpc_endpoint::Flows>>,
}

impl State {
    /// Fresh state for `topology`: every port up, time `now` the start of the flow
    /// logs' first aggregation interval.
    pub(crate) fn new(topology: &Topology, limits: &Limits, now: Time) -> State {
        State {
            conntrack: topology
                .enis
                .iter()
                .map(|e| {
                    Arc::new(Mutex::new(ConnTable::new(
                        limits.conntrack_per_eni,
                        e.conntrack,
                    )))
                })
                .collect(),
            link_up: Arc::new(Links::all_up(topology.enis.len())),
            host_up: Arc::new(Links::all_up(topology.internet_hosts.len())),
            dns: Arc::new(DnsBudgets::new(topology.enis.len())),
            fragments: Arc::new(Mutex::new(Fragments::new(limits.fragments))),
            next_ident: Arc::new(AtomicU16::new(1)),
            icmp_limit: Arc::new(Mutex::new(RateLimit::new(1000, 50))),
            nat: nat_gateway::compile(topology, limits)
                .into_iter()
                .map(|t| t.map(|t| Arc::new(Mutex::new(*t))))
                .collect(),
            tgw: (0..topology.transit_gateways.len())
                .map(|_| Arc::default())
                .collect(),
            multicast: Arc::new(RwLock::new(Groups::compile(topology))),
            flow_logs: flow_logs(topology, limits, now),
            endpoints: Arc::new(Mutex::new(vpc_endpoint::Flows::new(topology))),
        }
    }

    /// The state for `new` after `old`, whose ports are `ports` (`old`'s, then
    /// `new`'s: the same `Arc` if they did not change): connection tables and link
    /// states follow their ports (new ports start empty and up), with `new`'s timeouts;
    /// fragments' verdicts start over if ports moved; a NAT gateway keeps its translations while it keeps its name,
    /// addresses and ports; a transit gateway its metrics while it keeps its name;
    /// IGMP members stay where they still may. The flow logs start over if
    /// `flow_logs_changed` (the caller has flushed the old ones).
    pub(crate) fn next(
        &self,
        (old, new): (&Topology, &Topology),
        (old_ports, ports): (&Arc<Ports>, &Arc<Ports>),
        limits: &Limits,
        now: Time,
        flow_logs_changed: bool,
    ) -> State {
        let moved = !Arc::ptr_eq(old_ports, ports);
        let eni_before = ports.eni_before(old_ports);
        let host_before = ports.host_before(old_ports);
        let conntrack: Arc<[Arc<Mutex<ConnTable>>]> = if moved {
            new.enis
                .iter()
                .zip(&eni_before)
                .map(|(eni, before)| match before {
                    Some(b) => Arc::clone(&self.conntrack[b.index()]),
                    None => Arc::new(Mutex::new(ConnTable::new(
                        limits.conntrack_per_eni,
                        eni.conntrack,
                    ))),
                })
                .collect()
        } else {
            Arc::clone(&self.conntrack)
        };
        for (table, eni) in conntrack.iter().zip(&new.enis) {
            lock(table).set_timeouts(eni.conntrack);
        }
        let links = |old: &Arc<Links>, before: Vec<Option<usize>>| {
            if moved {
                Arc::new(Links(
                    before
                        .into_iter()
                        .map(|b| AtomicBool::new(b.is_none_or(|b| old.up(b))))
                        .collect(),
                ))
            } else {
                Arc::clone(old)
            }
        };
        let link_up = links(
            &self.link_up,
            eni_before.iter().map(|b| b.map(EniId::index)).collect(),
        );
        let host_up = links(
            &self.host_up,
            host_before.iter().map(|b| b.map(HostId::index)).collect(),
        );
        let nat = nat_gateway::compile(new, limits)
            .into_iter()
            .enumerate()
            .map(|(n, fresh)| {
                let fresh = fresh?;
                let name = &new.nat_gateways[n].name;
                let kept = old
                    .nat_gateways
                    .iter()
                    .position(|o| &o.name == name)
                    .and_then(|o| self.nat.get(o)?.clone())
                    .filter(|k| lock(k).config() == fresh.config());
                Some(kept.unwrap_or_else(|| Arc::new(Mutex::new(*fresh))))
            })
            .collect();
        let tgw = new
            .transit_gateways
            .iter()
            .map(|g| {
                old.transit_gateways
                    .iter()
                    .position(|o| o.name == g.name)
                    .and_then(|o| self.tgw.get(o).cloned())
                    .unwrap_or_default()
            })
            .collect();
        let groups = self.multicast().apply(old, new, |e| {
            eni_before
                .iter()
                .position(|&b| b == Some(e))
                .map(|n| EniId(n as u32))
        });
        State {
            conntrack,
            link_up,
            host_up,
            // A new budget for everyone when ports move: at most one extra second's
            // worth.
            dns: if moved {
                Arc::new(DnsBudgets::new(new.enis.len()))
            } else {
                Arc::clone(&self.dns)
            },
            fragments: if moved {
                Arc::new(Mutex::new(Fragments::new(limits.fragments)))
            } else {
                Arc::clone(&self.fragments)
            },
            next_ident: Arc::clone(&self.next_ident),
            icmp_limit: Arc::clone(&self.icmp_limit),
            nat,
            tgw,
            multicast: Arc::new(RwLock::new(groups)),
            flow_logs: if flow_logs_changed {
                flow_logs(new, limits, now)
            } else {
                self.flow_logs.clone()
            },
            endpoints: if old.vpc_endpoints == new.vpc_endpoints
                && old.aws_services == new.aws_services
            {
                Arc::clone(&self.endpoints)
            } else {
                Arc::new(Mutex::new(lock(&self.endpoints).next(old, new)))
            },
        }
    }

    /// ENI `eni`'s connection table, to read.
    pub(crate) fn conntrack(&self, eni: EniId) -> Ro<MutexGuard<'_, ConnTable>> {
        Ro(lock(&self.conntrack[eni.index()]))
    }

    /// Whether each ENI is up.
    pub(crate) fn link_up(&self) -> &Links {
        &self.link_up
    }

    /// Whether each internet host is up.
    pub(crate) fn host_up(&self) -> &Links {
        &self.host_up
    }

    /// Marks ENI `eni` up or down (the daemon's, not a packet's doing).
    pub(crate) fn set_link(&self, eni: EniId, up: bool) {
        self.link_up.set(eni.index(), up);
    }

    /// Marks internet host `host` up or down.
    pub(crate) fn set_host_link(&self, host: HostId, up: bool) {
        self.host_up.set(host.index(), up);
    }

    /// The fragments' verdicts, to read.
    pub(crate) fn fragments(&self) -> Ro<MutexGuard<'_, Fragments>> {
        Ro(lock(&self.fragments))
    }

    /// NAT gateway `n`'s translations, to read (`None` once deleted).
    pub(crate) fn nat(&self, n: NatGatewayId) -> Option<Ro<MutexGuard<'_, NatTable>>> {
        self.nat.get(n.index())?.as_deref().map(|t| Ro(lock(t)))
    }

    /// Transit gateway `tgw`'s metrics.
    pub(crate) fn tgw(&self, tgw: TransitGatewayId) -> TgwMetrics {
        *lock(&self.tgw[tgw.index()])
    }

    /// The multicast groups, to read.
    pub(crate) fn multicast(&self) -> RwLockReadGuard<'_, Groups> {
        self.multicast
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The gateway endpoints' flows, to read.
    pub(crate) fn endpoint_flows(&self) -> Ro<MutexGuard<'_, vpc_endpoint::Flows>> {
        Ro(lock(&self.endpoints))
    }

    /// The flow logs' accumulators, if there are flow logs: for the daemon's flushes.
    pub(crate) fn flow_logs(&self) -> Option<MutexGuard<'_, FlowLogs>> {
        self.flow_logs.as_deref().map(lock)
    }

    /// Removes flows, translations and fragments' verdicts idle past their timeouts;
    /// returns how many flows and translations. Locks one table at a time.
    pub(crate) fn expire(&self, now: Time) -> usize {
        let flows: usize = self.conntrack.iter().map(|t| lock(t).expire(now)).sum();
        let nat: usize = self.nat.iter().flatten().map(|t| lock(t).expire(now)).sum();
        lock(&self.fragments).expire(now);
        let endpoints = lock(&self.endpoints).expire(now);
        flows + nat + endpoints
    }
}

/// Flow-log accumulators for `topology`, if it has flow logs.
fn flow_logs(topology: &Topology, limits: &Limits, now: Time) -> Option<Arc<Mutex<FlowLogs>>> {
    (!topology.flow_logs.is_empty()).then(|| {
        Arc::new(Mutex::new(FlowLogs::new(
            topology,
            limits.flow_log_records,
            now,
        )))
    })
}

/// How many connection tables a [`Writer`] keeps locked at once.
const HELD: usize = 4;

/// A batch's hold on the state: its packets change it, and count in their thread's
/// counters. It keeps the connection tables it locked (up to [`HELD`]) and the flow
/// logs' accumulators locked until the batch ends, so a batch of one flow takes each
/// lock once rather than once a packet. No deadlock: these cached locks are taken with
/// `try_lock`; if one is busy, the writer lets go of all it holds before it waits. The
/// other locks (a NAT gateway's, the fragments', ...) are held for one step, during
/// which no cached lock is taken.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    state: &'a State,
    /// The thread's counters.
    pub counters: &'a mut Counters,
    /// The ENI indices of the connection tables held (`usize::MAX`: none), and their
    /// guards, in the same slots.
    ids: [usize; HELD],
    held: [Option<MutexGuard<'a, ConnTable>>; HELD],
    /// The next slot to reuse when all are taken.
    next: usize,
    /// The flow logs' accumulators, once locked.
    logs: Option<MutexGuard<'a, FlowLogs>>,
}

impl<'a> Writer<'a> {
    /// A batch's hold on `state`, counting in `counters`.
    pub(crate) fn new(state: &'a State, counters: &'a mut Counters) -> Self {
        Writer {
            state,
            counters,
            ids: [usize::MAX; HELD],
            held: [const { None }; HELD],
            next: 0,
            logs: None,
        }
    }

    /// The state, to read.
    pub(crate) fn state(&self) -> &'a State {
        self.state
    }

    /// Lets go of every cached lock.
    fn release(&mut self) {
        self.ids = [usize::MAX; HELD];
        self.held = [const { None }; HELD];
        self.logs = None;
    }

    /// Locks `m` for the batch: at once if free, else after letting go of every lock
    /// held (so no two writers ever wait for each other).
    fn take<T>(&mut self, m: &'a Mutex<T>) -> MutexGuard<'a, T> {
        match m.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                self.release();
                lock(m)
            }
        }
    }

    /// ENI `eni`'s connection table, locked until the batch ends (or until the writer
    /// must let go to wait for another).
    #[inline(always)]
    pub(crate) fn conntrack(&mut self, eni: EniId) -> &mut ConnTable {
        let i = eni.index();
        let k = match self.ids.iter().position(|&held| held == i) {
            Some(k) => k,
            None => self.lock_conntrack(i),
        };
        match &mut self.held[k] {
            Some(guard) => guard,
            None => unreachable!("slot {k} holds ENI {i}'s table"),
        }
    }

    /// Locks ENI `i`'s connection table into a free slot (or the oldest); returns the
    /// slot.
    #[cold]
    fn lock_conntrack(&mut self, i: usize) -> usize {
        let guard = self.take(&self.state.conntrack[i]);
        let k = self
            .ids
            .iter()
            .position(|&held| held == usize::MAX)
            .unwrap_or_else(|| {
                let k = self.next;
                self.next = (k + 1) % HELD;
                k
            });
        self.held[k] = Some(guard);
        self.ids[k] = i;
        k
    }

    /// Whether the configuration has flow logs (nothing is locked).
    #[inline(always)]
    pub(crate) fn has_flow_logs(&self) -> bool {
        self.state.flow_logs.is_some()
    }

    /// The flow logs' accumulators, if there are flow logs, locked until the batch ends.
    #[inline(always)]
    pub(crate) fn flow_logs(&mut self) -> Option<&mut FlowLogs> {
        // Without flow logs there is nothing to lock: checked here, not in the call
        // below, which would otherwise come back for every packet of the batch.
        if self.logs.is_none() && self.has_flow_logs() {
            self.lock_flow_logs();
        }
        self.logs.as_deref_mut()
    }

    #[cold]
    fn lock_flow_logs(&mut self) {
        if let Some(m) = self.state.flow_logs.as_deref() {
            self.logs = Some(self.take(m));
        }
    }

    /// The fragments' verdicts.
    pub(crate) fn fragments(&self) -> MutexGuard<'a, Fragments> {
        lock(&self.state.fragments)
    }

    /// Whether the ICMP-error rate limit allows one more error at `now` (and takes its
    /// token).
    pub(crate) fn icmp_allowed(&self, now: Time) -> bool {
        lock(&self.state.icmp_limit).allow(now)
    }

    /// Whether ENI `eni` may send one more packet to the DNS resolver at `now` (and
    /// counts it): AWS's limit per network interface.
    pub(crate) fn dns_allowed(&self, eni: EniId, now: Time) -> bool {
        self.state.dns.take(eni.index(), now)
    }

    /// The next identification field of a packet the router originates.
    pub(crate) fn ident(&self) -> u16 {
        self.state.next_ident.fetch_add(1, Ordering::Relaxed)
    }

    /// NAT gateway `n`'s translations (`None` once deleted).
    pub(crate) fn nat(&self, n: NatGatewayId) -> Option<MutexGuard<'a, NatTable>> {
        self.state.nat.get(n.index())?.as_deref().map(lock)
    }

    /// The gateway endpoints' flows and metrics.
    pub(crate) fn endpoint_flows(&self) -> MutexGuard<'a, vpc_endpoint::Flows> {
        lock(&self.state.endpoints)
    }

    /// Transit gateway `tgw`'s metrics.
    pub(crate) fn tgw(&self, tgw: TransitGatewayId) -> MutexGuard<'a, TgwMetrics> {
        lock(&self.state.tgw[tgw.index()])
    }

    /// The multicast groups, to change.
    pub(crate) fn multicast(&self) -> std::sync::RwLockWriteGuard<'a, Groups> {
        self.state
            .multicast
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

//! What the daemon's tasks share: the topology, the dataplane ([`Engine`]: no lock on the
//! packet path) and every forwarding thread's counters, the write side of every port's
//! TUN device (every ENI's and every internet host's; none with AF_XDP ports, whose
//! threads write their own frames), and per-port link state and write errors.

use std::io::IoSlice;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::{Instant, SystemTime};

use vpc_config::Topology;
use vpc_dataplane::wire::fragment::Fragments;
use vpc_dataplane::{Counters, Engine, PacketBuf, Port, Snapshot, Time};

use crate::netns::Identity;
use crate::owner::Ownership;
use crate::statefile::StateFile;
use crate::vnet;

/// State shared by the forwarding, watchdog and control tasks.
#[derive(Debug)]
pub struct Shared {
    /// Where the topology came from, for `vpcctl status`.
    pub config_name: String,
    /// What namespaces are named with (`--netns-prefix`).
    pub prefix: String,
    engine: Engine,
    /// Each forwarding thread's counters (locked by its thread once a batch, and by
    /// readers), merged when read.
    counters: Mutex<Vec<Arc<Mutex<Counters>>>>,
    /// Per port slot (`vpc_dataplane::Ports`): its write descriptor, why it is down,
    /// its failed writes. Grows as ports are added; a removed port's entry is emptied.
    ports: RwLock<Vec<PortIo>>,
    /// How ports are made and read, for ports added at run time (`live`).
    pub io: IoOptions,
    /// Each TUN forwarding thread's mailbox (`live`).
    threads: Mutex<Vec<std::sync::mpsc::Sender<crate::forward::PortChange>>>,
    /// The namespaces the daemon made and watches (`forward::watch_namespaces`).
    watched: Mutex<Vec<Watched>>,
    /// The record of the namespaces the daemon made (taken at the end, to remove
    /// them all).
    owner: Mutex<Option<Ownership>>,
    /// Whether the devices were opened with virtio-net headers (offloads).
    offload: bool,
    /// Whether every device takes UDP superpackets (USO): forwarded datagrams of one
    /// flow are then coalesced (`vpc_dataplane::gro`).
    uso: bool,
    /// UDP superpackets written (coalesced datagrams).
    udp_superpackets: AtomicU64,
    /// The daemon is stopping: devices going away are not news.
    stopping: AtomicBool,
    /// Where changes made at run time are written (`--state`), if anywhere.
    state_file: OnceLock<StateFile>,
    /// The VPN tunnels' supervisor (`tunnels`), once started.
    tunnels: OnceLock<crate::tunnels::Tunnels>,
    epoch: Instant,
    epoch_unix: SystemTime,
}

/// How the daemon makes and reads ports (for those added at run time).
#[derive(Debug, Clone)]
pub struct IoOptions {
    /// Queues per device: one per forwarding thread.
    pub threads: usize,
    /// AF_XDP ports (`--io xdp`): these cannot be added at run time yet.
    pub xdp: bool,
    /// The tokio runtime, for netlink.
    pub runtime: Option<tokio::runtime::Handle>,
}

/// What the daemon keeps per port slot.
#[derive(Debug, Default)]
pub struct PortIo {
    /// A duplicate of its TUN descriptor, written with plain non-blocking writes (none
    /// with AF_XDP ports, or once removed).
    pub writer: Option<OwnedFd>,
    /// Why it is down, if it is.
    pub down: Option<String>,
    /// Failed writes.
    pub tx_errors: AtomicU64,
}

/// A namespace the watchdog checks, and the slots of the ports that live in it.
#[derive(Debug, Clone)]
pub struct Watched {
    /// Its name.
    pub namespace: String,
    /// Its identity when the daemon made it.
    pub identity: Identity,
    /// Its ports' slots (an instance's ENIs, or an internet host).
    pub slots: Vec<usize>,
}

impl Shared {
    /// Shared state for `topology`; `writers` is indexed by slot (every ENI, then
    /// every internet host, as the first snapshot numbers them; empty with AF_XDP
    /// ports); `offload`: the devices carry virtio-net headers; `uso`: they all take
    /// UDP superpackets.
    pub fn new(
        topology: &Topology,
        (config_name, prefix): (String, String),
        writers: Vec<OwnedFd>,
        (offload, uso): (bool, bool),
        io: IoOptions,
    ) -> Self {
        // The pipeline's clock starts now; the time service answers with the wall
        // clock, this moment plus the pipeline's time.
        let (epoch, epoch_unix) = (Instant::now(), SystemTime::now());
        let wall = epoch_unix
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let engine = Engine::with_wall_clock(topology, Time::ZERO, wall);
        let n = engine.load().ports().slots();
        let mut writers = writers.into_iter();
        Shared {
            engine,
            counters: Mutex::new(Vec::new()),
            config_name,
            prefix,
            ports: RwLock::new(
                (0..n)
                    .map(|_| PortIo {
                        writer: writers.next(),
                        ..PortIo::default()
                    })
                    .collect(),
            ),
            io,
            threads: Mutex::new(Vec::new()),
            watched: Mutex::new(Vec::new()),
            owner: Mutex::new(None),
            offload,
            uso,
            udp_superpackets: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            state_file: OnceLock::new(),
            tunnels: OnceLock::new(),
            epoch,
            epoch_unix,
        }
    }

    /// The namespace of an instance or internet host named `name`.
    pub fn namespace(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Port `port`'s slot in the current snapshot.
    pub fn slot(&self, port: Port) -> usize {
        self.engine.load().ports().slot(port)
    }

    /// Keeps `owner`, the record of the namespaces made, until [`Shared::take_owner`].
    pub fn keep_owner(&self, owner: Ownership) {
        *lock(&self.owner) = Some(owner);
    }

    /// The record of the namespaces made, to remove them all (at the end).
    pub fn take_owner(&self) -> Option<Ownership> {
        lock(&self.owner).take()
    }

    /// Runs `f` with the record of the namespaces made.
    pub fn with_owner<T>(&self, f: impl FnOnce(&mut Ownership) -> T) -> Option<T> {
        lock(&self.owner).as_mut().map(f)
    }

    /// Sets what the watchdog checks.
    pub fn watch(&self, watched: Vec<Watched>) {
        *lock(&self.watched) = watched;
    }

    /// What the watchdog checks, to change.
    pub fn watched(&self) -> MutexGuard<'_, Vec<Watched>> {
        lock(&self.watched)
    }

    /// Registers a TUN forwarding thread's mailbox.
    pub fn add_thread(&self, mailbox: std::sync::mpsc::Sender<crate::forward::PortChange>) {
        lock(&self.threads).push(mailbox);
    }

    /// The TUN forwarding threads' mailboxes, in the order of their queues.
    pub fn threads(&self) -> Vec<std::sync::mpsc::Sender<crate::forward::PortChange>> {
        lock(&self.threads).clone()
    }

    /// The per-slot table, to change (ports added or removed at run time).
    pub fn port_table(&self) -> std::sync::RwLockWriteGuard<'_, Vec<PortIo>> {
        self.ports.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn port_io(&self) -> std::sync::RwLockReadGuard<'_, Vec<PortIo>> {
        self.ports.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the daemon is stopping.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// The pipeline's clock: time since the daemon started.
    pub fn now(&self) -> Time {
        Time::from_nanos(u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    /// The instant the pipeline's clock counts from, and the wall-clock time then.
    pub fn epoch(&self) -> (Instant, SystemTime) {
        (self.epoch, self.epoch_unix)
    }

    /// Seconds since the daemon started.
    pub fn uptime_secs(&self) -> u64 {
        self.epoch.elapsed().as_secs()
    }

    /// The dataplane.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The current configuration and state, to read.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.engine.snapshot()
    }

    /// A new set of counters for a forwarding thread, merged into [`Shared::counters`].
    pub fn thread_counters(&self) -> Arc<Mutex<Counters>> {
        let c = Arc::new(Mutex::new(self.engine.load().new_counters()));
        self.counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&c));
        c
    }

    /// Every forwarding thread's counters, added up, for `snapshot`'s ports.
    pub fn counters_of(&self, snapshot: &Snapshot) -> Counters {
        let mut sum = snapshot.new_counters();
        for c in self
            .counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            sum.add(&c.lock().unwrap_or_else(PoisonError::into_inner));
        }
        sum
    }

    /// A port as users name it: `web/eth0`, or an internet host's name.
    pub fn port_name(&self, port: Port) -> String {
        vpc_dataplane::trace::port_name(self.engine.load().topology(), port)
    }

    /// Whether the devices carry virtio-net headers (offloads on).
    pub fn offload(&self) -> bool {
        self.offload
    }

    /// Whether forwarded UDP datagrams may be coalesced into superpackets.
    pub fn uso(&self) -> bool {
        self.uso
    }

    /// Counts one UDP superpacket written.
    pub fn count_udp_superpacket(&self) {
        self.udp_superpackets.fetch_add(1, Ordering::Relaxed);
    }

    /// UDP superpackets written so far.
    pub fn udp_superpackets(&self) -> u64 {
        self.udp_superpackets.load(Ordering::Relaxed)
    }

    /// Writes one packet to port `to` without blocking, with its virtio-net header if
    /// offloads are on; a failure is counted. A packet the pipeline marked for
    /// fragmentation (`PacketBuf::fragment_mtu`) is written as its fragments, each
    /// gathered from its new header and its slice of the packet (no copy).
    pub fn transmit(&self, to: Port, pkt: &PacketBuf) {
        let slot = self.slot(to);
        let table = self.port_io();
        let Some(entry) = table.get(slot) else {
            return;
        };
        // AF_XDP ports have no descriptor here: their threads write their own frames.
        let Some(fd) = &entry.writer else {
            entry.tx_errors.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let bytes = pkt.as_bytes();
        let fragments = pkt
            .fragment_mtu()
            .and_then(|mtu| Fragments::new(bytes, usize::from(mtu)));
        let mut failed = false;
        if let Some(fragments) = fragments {
            // Fragments carry no offload: their checksums are complete.
            let hdr = [0u8; vnet::LEN];
            let hdr = if self.offload { &hdr[..] } else { &[][..] };
            for f in fragments {
                let parts = [
                    IoSlice::new(hdr),
                    IoSlice::new(f.header()),
                    IoSlice::new(&bytes[f.payload.clone()]),
                ];
                failed |= nix::sys::uio::writev(fd, &parts).is_err();
            }
        } else if self.offload {
            let hdr = vnet::encode(pkt.offload(), bytes);
            failed = nix::sys::uio::writev(fd, &[IoSlice::new(&hdr), IoSlice::new(bytes)]).is_err();
        } else {
            failed = nix::unistd::write(fd, bytes).is_err();
        }
        if failed {
            entry.tx_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a failed write to port `port`.
    pub fn count_tx_error(&self, port: Port) {
        self.count_tx_error_slot(self.slot(port));
    }

    /// Counts a failed write to the port in slot `slot`.
    pub fn count_tx_error_slot(&self, slot: usize) {
        if let Some(e) = self.port_io().get(slot) {
            e.tx_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Every port of the current snapshot, in slot order.
    pub fn ports(&self) -> Vec<Port> {
        self.engine.load().ports().iter().map(|(_, p)| p).collect()
    }

    /// Failed writes to port `port`.
    pub fn tx_errors(&self, port: Port) -> u64 {
        let slot = self.slot(port);
        self.port_io()
            .get(slot)
            .map_or(0, |e| e.tx_errors.load(Ordering::Relaxed))
    }

    /// From now on, writes the running configuration to `file` after every change.
    pub fn keep_state(&self, file: StateFile) {
        let _ = self.state_file.set(file);
    }

    /// Keeps the VPN tunnels' supervisor.
    pub fn keep_tunnels(&self, tunnels: crate::tunnels::Tunnels) {
        let _ = self.tunnels.set(tunnels);
    }

    /// The VPN tunnels' supervisor, if started.
    pub fn tunnels(&self) -> Option<&crate::tunnels::Tunnels> {
        self.tunnels.get()
    }

    /// After a change made at run time: writes the running configuration to the state
    /// file, if there is one. `Err` says why it could not be written (the change stays
    /// made).
    pub fn save_state(&self) -> Result<(), String> {
        match self.state_file.get() {
            None => Ok(()),
            Some(f) => f
                .save(self.engine.snapshot().topology())
                .map_err(|e| format!("could not write the state file {}: {e}", f.path().display())),
        }
    }

    /// Says the daemon is stopping: from now on devices go away on purpose.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    /// Marks port `port` down for `reason` (once; later reasons are ignored). Not
    /// while the daemon stops.
    pub fn mark_down(&self, port: Port, reason: &str) {
        self.mark_down_slot(self.slot(port), reason);
    }

    /// Marks the port in slot `slot` down for `reason` (once). Not while the daemon
    /// stops, nor once the port was removed from the configuration.
    pub fn mark_down_slot(&self, slot: usize, reason: &str) {
        if self.stopping() {
            return;
        }
        let snapshot = self.engine.load();
        let Some(port) = snapshot.ports().port(slot) else {
            return;
        };
        let mut table = self.port_table();
        let Some(entry) = table.get_mut(slot) else {
            return;
        };
        if entry.down.is_none() {
            let what = match port {
                Port::Eni(_) => "ENI",
                Port::Host(_) => "internet host",
                Port::Services => "services port",
            };
            tracing::warn!("{what} {} is down: {reason}", self.port_name(port));
            entry.down = Some(reason.to_owned());
            drop(table);
            match port {
                Port::Eni(e) => snapshot.set_link(e, false),
                Port::Host(h) => snapshot.set_host_link(h, false),
                // Not a link of the VPC: its answers simply stop.
                Port::Services => {}
            }
        }
    }

    /// Why port `port` is down, or `None` if it is up.
    pub fn down_reason(&self, port: Port) -> Option<String> {
        let slot = self.slot(port);
        self.port_io().get(slot).and_then(|e| e.down.clone())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

    use super::*;
    use vpc_config::EniId;

    /// `vpcctl counters` reads every forwarding thread's counters, added up.
    #[test]
    fn counters_add_up_every_threads() {
        let topology = Topology::demo();
        let ports = topology.enis.len() + topology.internet_hosts.len();
        let writers = (0..ports)
            .map(|_| OwnedFd::from(std::fs::File::open("/dev/null").unwrap()))
            .collect();
        let shared = Shared::new(
            &topology,
            ("demo".into(), String::new()),
            writers,
            (false, false),
            IoOptions {
                threads: 1,
                xdp: false,
                runtime: None,
            },
        );
        let (a, b) = (shared.thread_counters(), shared.thread_counters());
        a.lock().unwrap().enis[0].rx_packets += 3;
        b.lock().unwrap().enis[0].rx_packets += 4;
        b.lock().unwrap().router.echo_replies += 1;
        let sum = shared.counters_of(&shared.snapshot());
        assert_eq!(sum.eni(EniId(0)).rx_packets, 7);
        assert_eq!(sum.router.echo_replies, 1);
    }
}

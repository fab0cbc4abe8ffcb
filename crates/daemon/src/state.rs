//! What the daemon's tasks share: the topology, the dataplane ([`Engine`]: no lock on the
//! packet path) and every forwarding thread's counters, the write side of every port's
//! TUN device (every ENI's and every internet host's; none with AF_XDP ports, whose
//! threads write their own frames), and per-port link state and write errors.

use std::io::IoSlice;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Instant, SystemTime};

use vpc_config::Topology;
use vpc_dataplane::wire::fragment::Fragments;
use vpc_dataplane::{Counters, Engine, PacketBuf, Port, Snapshot, Time};

use crate::statefile::StateFile;
use crate::vnet;

/// State shared by the forwarding, watchdog and control tasks.
#[derive(Debug)]
pub struct Shared {
    /// The topology the daemon started with. Its instances, ENIs and internet hosts
    /// never change; routes, gateways and Elastic IPs do (at run time, through
    /// `vpcctl`): read those from the current [`Snapshot::topology`].
    pub topology: Topology,
    /// Where it came from, for `vpcctl status`.
    pub config_name: String,
    /// Per instance: its namespace name.
    pub namespaces: Vec<String>,
    /// Per internet host: its namespace name.
    pub host_namespaces: Vec<String>,
    engine: Engine,
    /// Each forwarding thread's counters (locked by its thread once a batch, and by
    /// readers), merged when read.
    counters: Mutex<Vec<Arc<Mutex<Counters>>>>,
    /// Per port ([`Shared::slot`]): why it is down, if it is.
    down: Mutex<Vec<Option<String>>>,
    /// Per port: failed writes.
    tx_errors: Vec<AtomicU64>,
    /// Per port: a duplicate of its TUN descriptor, written with plain non-blocking
    /// writes (empty with AF_XDP ports).
    writers: Vec<OwnedFd>,
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
    epoch: Instant,
    epoch_unix: SystemTime,
}

impl Shared {
    /// Shared state for `topology`; `writers` is indexed by [`Shared::slot`] (every ENI,
    /// then every internet host); `offload`: the devices carry virtio-net headers;
    /// `uso`: they all take UDP superpackets.
    pub fn new(
        topology: Topology,
        config_name: String,
        namespaces: Vec<String>,
        host_namespaces: Vec<String>,
        writers: Vec<OwnedFd>,
        offload: bool,
        uso: bool,
    ) -> Self {
        let n = topology.enis.len() + topology.internet_hosts.len();
        Shared {
            engine: Engine::new(&topology, Time::ZERO),
            counters: Mutex::new(Vec::new()),
            topology,
            config_name,
            namespaces,
            host_namespaces,
            down: Mutex::new(vec![None; n]),
            tx_errors: (0..n).map(|_| AtomicU64::new(0)).collect(),
            writers,
            offload,
            uso,
            udp_superpackets: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            state_file: OnceLock::new(),
            epoch: Instant::now(),
            epoch_unix: SystemTime::now(),
        }
    }

    /// The index of `port` in the per-port tables: ENIs first, then internet hosts.
    pub fn slot(topology: &Topology, port: Port) -> usize {
        match port {
            Port::Eni(e) => e.index(),
            Port::Host(h) => topology.enis.len() + h.index(),
        }
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

    /// Every forwarding thread's counters, added up.
    pub fn counters(&self) -> Counters {
        let mut sum = self.engine.load().new_counters();
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
        vpc_dataplane::trace::port_name(&self.topology, port)
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
        let slot = Self::slot(&self.topology, to);
        // AF_XDP ports have no descriptor here: their threads write their own frames.
        let Some(fd) = self.writers.get(slot) else {
            self.tx_errors[slot].fetch_add(1, Ordering::Relaxed);
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
            self.tx_errors[slot].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a failed write to port `port`.
    pub fn count_tx_error(&self, port: Port) {
        self.tx_errors[Self::slot(&self.topology, port)].fetch_add(1, Ordering::Relaxed);
    }

    /// Every port, in the order of [`Shared::slot`].
    pub fn ports(&self) -> Vec<Port> {
        let t = &self.topology;
        t.eni_ids()
            .map(Port::Eni)
            .chain((0..t.internet_hosts.len()).map(|h| Port::Host(vpc_config::HostId(h as u32))))
            .collect()
    }

    /// Failed writes to port `port`.
    pub fn tx_errors(&self, port: Port) -> u64 {
        self.tx_errors[Self::slot(&self.topology, port)].load(Ordering::Relaxed)
    }

    /// From now on, writes the running configuration to `file` after every change.
    pub fn keep_state(&self, file: StateFile) {
        let _ = self.state_file.set(file);
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
        if self.stopping.load(Ordering::Relaxed) {
            return;
        }
        let slot = Self::slot(&self.topology, port);
        let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        if down[slot].is_none() {
            let what = match port {
                Port::Eni(_) => "ENI",
                Port::Host(_) => "internet host",
            };
            tracing::warn!("{what} {} is down: {reason}", self.port_name(port));
            down[slot] = Some(reason.to_owned());
            drop(down);
            let snapshot = self.engine.load();
            match port {
                Port::Eni(e) => snapshot.set_link(e, false),
                Port::Host(h) => snapshot.set_host_link(h, false),
            }
        }
    }

    /// Why port `port` is down, or `None` if it is up.
    pub fn down_reason(&self, port: Port) -> Option<String> {
        self.down.lock().unwrap_or_else(|p| p.into_inner())[Self::slot(&self.topology, port)]
            .clone()
    }
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
            topology,
            "demo".into(),
            Vec::new(),
            Vec::new(),
            writers,
            false,
            false,
        );
        let (a, b) = (shared.thread_counters(), shared.thread_counters());
        a.lock().unwrap().enis[0].rx_packets += 3;
        b.lock().unwrap().enis[0].rx_packets += 4;
        b.lock().unwrap().router.echo_replies += 1;
        let sum = shared.counters();
        assert_eq!(sum.eni(EniId(0)).rx_packets, 7);
        assert_eq!(sum.router.echo_replies, 1);
    }
}

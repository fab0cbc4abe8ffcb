//! What the daemon's tasks share: the topology, the dataplane behind one lock, the write
//! side of every ENI's TUN device, and per-ENI link state and write errors.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use vpc_config::{EniId, Topology};
use vpc_dataplane::{Dataplane, Time};

/// State shared by the forwarding, watchdog and control tasks.
#[derive(Debug)]
pub struct Shared {
    /// The running topology.
    pub topology: Topology,
    /// Where it came from, for `vpcctl status`.
    pub config_name: String,
    /// Per instance: its namespace name.
    pub namespaces: Vec<String>,
    dataplane: Mutex<Dataplane>,
    /// Per ENI: why it is down, if it is.
    down: Mutex<Vec<Option<String>>>,
    /// Per ENI: failed writes.
    tx_errors: Vec<AtomicU64>,
    /// Per ENI: a duplicate of its TUN descriptor, written with plain non-blocking writes.
    writers: Vec<OwnedFd>,
    epoch: Instant,
    epoch_unix: SystemTime,
}

impl Shared {
    /// Shared state for `topology`; `writers` is indexed by ENI.
    pub fn new(
        topology: Topology,
        config_name: String,
        namespaces: Vec<String>,
        writers: Vec<OwnedFd>,
    ) -> Self {
        let n = topology.enis.len();
        Shared {
            dataplane: Mutex::new(Dataplane::new(&topology)),
            topology,
            config_name,
            namespaces,
            down: Mutex::new(vec![None; n]),
            tx_errors: (0..n).map(|_| AtomicU64::new(0)).collect(),
            writers,
            epoch: Instant::now(),
            epoch_unix: SystemTime::now(),
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

    /// The dataplane, locked. Never held across an await.
    pub fn dataplane(&self) -> MutexGuard<'_, Dataplane> {
        self.dataplane
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes one packet to ENI `to` without blocking; a failure is counted.
    pub fn transmit(&self, to: EniId, packet: &[u8]) {
        if nix::unistd::write(&self.writers[to.index()], packet).is_err() {
            self.tx_errors[to.index()].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Failed writes to ENI `eni`.
    pub fn tx_errors(&self, eni: EniId) -> u64 {
        self.tx_errors[eni.index()].load(Ordering::Relaxed)
    }

    /// Marks ENI `eni` down for `reason` (once; later reasons are ignored).
    pub fn mark_down(&self, eni: EniId, reason: &str) {
        let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        if down[eni.index()].is_none() {
            tracing::warn!("ENI {} is down: {reason}", self.topology.eni_name(eni));
            down[eni.index()] = Some(reason.to_owned());
            drop(down);
            self.dataplane().set_link(eni, false);
        }
    }

    /// Why ENI `eni` is down, or `None` if it is up.
    pub fn down_reason(&self, eni: EniId) -> Option<String> {
        self.down.lock().unwrap_or_else(|p| p.into_inner())[eni.index()].clone()
    }
}

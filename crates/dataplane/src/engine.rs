//! The dataplane the daemon's forwarding threads share, with no lock on the packet
//! path: the current [`Snapshot`] (compiled configuration and the handles of the state
//! packets change) behind an atomic pointer (`arc-swap`), loaded once per batch and
//! swapped whole by [`Engine::apply`], so no packet sees half a configuration. The
//! state inside has a lock per part (per ENI, per gateway: `state.rs`); each thread
//! counts in its own [`Counters`], which the daemon merges when read.

use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, Guard};
use vpc_config::Topology;

use crate::flowlog::FlowRecord;
use crate::pipeline::Snapshot;
use crate::state::lock;
use crate::time::Time;

/// The shared dataplane.
#[derive(Debug)]
pub struct Engine {
    current: ArcSwap<Snapshot>,
    /// Flow-log records taken out of accumulators a configuration change replaced,
    /// handed out by the next flush; its lock also makes applies one at a time.
    control: Mutex<Vec<FlowRecord>>,
}

impl Engine {
    /// An engine for `topology` with the table sizes of its `[limits]` section, every
    /// port up, time `now` the start of the flow logs' first aggregation interval.
    pub fn new(topology: &Topology, now: Time) -> Self {
        Engine {
            current: ArcSwap::from_pointee(Snapshot::new(topology, topology.limits, now)),
            control: Mutex::new(Vec::new()),
        }
    }

    /// The current snapshot, for one batch of packets (cheap: no reference count is
    /// taken on the fast path). Hold it for a batch, not longer.
    #[inline]
    pub fn load(&self) -> Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// The current snapshot, to hold as long as needed (control-plane reads).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Applies a changed configuration with the same instances and ENIs
    /// ([`Snapshot::next`]): the next batch of every thread sees all of it. Returns
    /// `false`, changing nothing, if the ENIs or internet hosts differ.
    pub fn apply(&self, topology: &Topology, now: Time) -> bool {
        let mut pending = lock(&self.control);
        match self.current.load().next(topology, now, &mut pending) {
            Some(next) => {
                self.current.store(Arc::new(next));
                true
            }
            None => false,
        }
    }

    /// Edits the running configuration: `edit` gets it and returns what to answer and
    /// the changed configuration (`None`: no change), which is applied as by
    /// [`Engine::apply`]. Edits go one at a time, so none is lost. Returns `edit`'s
    /// answer and whether a change was applied (`false` also if the ENIs differ).
    pub fn edit<R>(
        &self,
        now: Time,
        edit: impl FnOnce(&Topology) -> (R, Option<Topology>),
    ) -> (R, bool) {
        let mut pending = lock(&self.control);
        let current = self.current.load_full();
        let (answer, changed) = edit(current.topology());
        let Some(changed) = changed else {
            return (answer, false);
        };
        match current.next(&changed, now, &mut pending) {
            Some(next) => {
                self.current.store(Arc::new(next));
                (answer, true)
            }
            None => (answer, false),
        }
    }

    /// Appends the flow-log records of every aggregation interval that has ended by
    /// `now` (and records left by a configuration change).
    pub fn flush_flow_logs(&self, now: Time, out: &mut Vec<FlowRecord>) {
        let mut pending = lock(&self.control);
        out.append(&mut pending);
        self.current.load().flush_flow_logs(now, out);
    }

    /// Appends every flow-log record accumulated so far (at shutdown).
    pub fn flush_all_flow_logs(&self, now: Time, out: &mut Vec<FlowRecord>) {
        let mut pending = lock(&self.control);
        out.append(&mut pending);
        self.current.load().flush_all_flow_logs(now, out);
    }
}

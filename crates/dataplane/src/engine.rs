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
use crate::ports::Ports;
use crate::state::lock;
use crate::time::Time;

/// The shared dataplane.
#[derive(Debug)]
pub struct Engine {
    current: ArcSwap<Snapshot>,
    /// Flow-log records taken out of accumulators a configuration change replaced,
    /// handed out by the next flush (held for moments only).
    control: Mutex<Vec<FlowRecord>>,
    /// Makes changes one at a time; held through a change's `prepare`, which may take
    /// a while (namespaces being made), so nothing else takes it.
    edits: Mutex<()>,
}

impl Engine {
    /// An engine for `topology` with the table sizes of its `[limits]` section, every
    /// port up, time `now` the start of the flow logs' first aggregation interval.
    pub fn new(topology: &Topology, now: Time) -> Self {
        Self::with_wall_clock(topology, now, 0)
    }

    /// [`Engine::new`], the time service answering with the wall clock: `unix_nanos`
    /// nanoseconds after the Unix epoch at [`Time::ZERO`].
    pub fn with_wall_clock(topology: &Topology, now: Time, unix_nanos: u64) -> Self {
        let first = Snapshot::new(topology, topology.limits, now).with_wall_clock(unix_nanos);
        Engine {
            current: ArcSwap::from_pointee(first),
            control: Mutex::new(Vec::new()),
            edits: Mutex::new(()),
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

    /// Applies a changed configuration ([`Snapshot::next`]): the next batch of every
    /// thread sees all of it.
    pub fn apply(&self, topology: &Topology, now: Time) {
        let _one = lock(&self.edits);
        let mut pending = lock(&self.control);
        let next = self.current.load().next(topology, now, &mut pending);
        self.current.store(Arc::new(next));
    }

    /// Edits the running configuration: `edit` gets it and returns what to answer and
    /// the changed configuration (`None`: no change), which is applied as by
    /// [`Engine::apply`]. Edits go one at a time, so none is lost. Returns `edit`'s
    /// answer and whether a change was applied.
    pub fn edit<R>(
        &self,
        now: Time,
        edit: impl FnOnce(&Topology) -> (R, Option<Topology>),
    ) -> (R, bool) {
        let (answer, applied) = self.edit_prepared(now, edit, |_, _, _| Ok::<(), ()>(()));
        (answer, applied == Ok(true))
    }

    /// [`Engine::edit`], with `prepare` called before the change is made, with the
    /// current snapshot, the changed configuration and its ports (`Ports::next`):
    /// what must exist before a packet sees the change (the devices of new ports) is
    /// made there. It runs without any lock that packets or flushes take. If it fails,
    /// nothing is applied and its error is returned; else whether a change was applied.
    pub fn edit_prepared<R, E>(
        &self,
        now: Time,
        edit: impl FnOnce(&Topology) -> (R, Option<Topology>),
        prepare: impl FnOnce(&Snapshot, &Topology, &Arc<Ports>) -> Result<(), E>,
    ) -> (R, Result<bool, E>) {
        let _one = lock(&self.edits);
        let current = self.current.load_full();
        let (answer, changed) = edit(current.topology());
        let Some(changed) = changed else {
            return (answer, Ok(false));
        };
        let ports = current.ports_after(&changed);
        if let Err(e) = prepare(&current, &changed, &ports) {
            return (answer, Err(e));
        }
        let mut pending = lock(&self.control);
        let next = current.next_with(&changed, ports, now, &mut pending);
        self.current.store(Arc::new(next));
        (answer, Ok(true))
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

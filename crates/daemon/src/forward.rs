//! The forwarding threads: each owns one io_uring (`uring`) over one TUN queue of every
//! port (an ENI, or a host of the emulated internet; a device has a queue per thread,
//! and a steering program keeps both directions of each conversation on one queue:
//! `sys::bpf::steer`). Each queue has reads in flight, twice
//! as many as its last wake-up brought packets (so a burst is read whole, and a quiet
//! queue has few reads waiting: each packet wakes every read waiting on its queue). One
//! system call submits a wake-up's writes and new reads and waits for the next
//! completions; every packet that completed is judged with one snapshot of the
//! dataplane (no lock over it all: `vpc_dataplane::Engine`), then written back through
//! the same ring. With offloads on, every read and write carries a virtio-net header
//! (`vnet`): superpackets of up to 64 KiB are read, judged and written whole, and
//! forwarded UDP datagrams of one flow are joined into superpackets. A read error (the
//! device was deleted) marks the port down and ends reads on it; nothing spins. A
//! watchdog notices a namespace removed from under the daemon. Ports come and go at
//! run time (`live`): a thread's ring has a descriptor table indexed by port slot, and
//! the thread reads its mailbox after every wake-up (it sleeps at most [`SLEEP`]),
//! registering the queues of new ports and cancelling reads of removed ones.

use std::os::fd::AsRawFd;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tun_rs::SyncDevice;
use vpc_dataplane::{Gso, PacketBuf, Port, Ports, Verdict, gro};

use crate::netns;
use crate::state::Shared;
use crate::sys::uring::{Done, Ring};
use crate::vnet;

/// Read buffer size: any IPv4 datagram fits, so nothing is ever truncated.
const BUF: usize = PacketBuf::MAX_DATAGRAM + 1;

/// Completions in one wake-up from which the thread, before it sleeps, spins a moment
/// (up to [`SPIN`]) for the next: at that rate more are about to come, and catching
/// them without a sleep and a wake-up is cheaper (benchmarks.md: udp64 +4 %, 20 % fewer
/// client drops, TCP unchanged). A quiet thread never spins. The AF_XDP threads (`xdp`)
/// do the same.
pub const SPIN_AFTER: usize = 8;
/// The longest spin.
pub const SPIN: Duration = Duration::from_micros(20);

/// Buffer slots per queue, and so the most reads in flight on it: the most a wake-up
/// reads from one queue, fewer when there are many ports (each slot holds a 64 KiB
/// buffer).
fn depth(ports: usize) -> usize {
    (512 / ports.max(1)).clamp(4, 32)
}

/// Ports a forwarding thread can have over the daemon's life (slots are never given
/// twice: `vpc_dataplane::Ports`): the size of its ring's descriptor table.
pub const MAX_SLOTS: usize = 1024;

/// The longest sleep: a thread reads its mailbox at least this often.
const SLEEP: Duration = Duration::from_millis(50);

/// A change to a forwarding thread's ports, from the control plane (`live`).
pub enum PortChange {
    /// Read this thread's queue of the port in slot `slot` from now on.
    Add {
        /// The slot.
        slot: usize,
        /// The thread's queue of its device.
        queue: SyncDevice,
        /// Says when the queue is read (or why not).
        done: SyncSender<Result<(), String>>,
    },
    /// Stop reading the port in slot `slot` and close its queue.
    Remove {
        /// The slot.
        slot: usize,
        /// Says when it is done.
        done: SyncSender<Result<(), String>>,
    },
}

impl std::fmt::Debug for PortChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortChange::Add { slot, .. } => write!(f, "Add({slot})"),
            PortChange::Remove { slot, .. } => write!(f, "Remove({slot})"),
        }
    }
}

/// Forwards packets on `queues` (this thread's non-blocking queue of every port, with
/// its slot) and on the ports its mailbox adds, until the daemon stops. Says on
/// `started` whether its ring could be set up (it is made here: a ring is used by the
/// thread that made it).
pub fn run_thread(
    shared: Arc<Shared>,
    queues: Vec<(usize, SyncDevice)>,
    mailbox: Receiver<PortChange>,
    started: SyncSender<std::io::Result<()>>,
) {
    let initial = queues.len();
    let hdr_len = if shared.offload() { vnet::LEN } else { 0 };
    let mut ring = match Ring::new(MAX_SLOTS, 0, BUF, hdr_len) {
        Ok(ring) => ring,
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let mut fwd = Forwarder {
        shared: &shared,
        queues: Vec::new(),
        owner: Vec::new(),
        spare: Vec::new(),
        initial,
        offload: shared.offload(),
        coalesce: shared.uso(),
    };
    for (slot, dev) in queues {
        if let Err(e) = fwd.add(&mut ring, slot, dev) {
            let _ = started.send(Err(std::io::Error::other(e)));
            return;
        }
    }
    let _ = started.send(Ok(()));
    let counters = shared.thread_counters();
    let mut done = Vec::with_capacity(ring.slots() * 2);
    while !shared.stopping() {
        fwd.read_more(&mut ring);
        if done.len() >= SPIN_AFTER {
            // Submit now, then look for completions until some come or the spin ends.
            let _ = ring.submit_and_wait(0, SLEEP);
            let until = std::time::Instant::now() + SPIN;
            while !ring.ready() && std::time::Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        if let Err(e) = ring.submit_and_wait(1, SLEEP) {
            for (slot, q) in fwd.queues.iter().enumerate() {
                if q.is_some() {
                    shared.mark_down_slot(slot, &format!("io_uring: {e}"));
                }
            }
            return;
        }
        done.clear();
        ring.completions(&mut done);
        let mut counters = counters.lock().unwrap_or_else(PoisonError::into_inner);
        fwd.handle(&mut ring, &done, &mut counters);
        drop(counters);
        fwd.close_finished();
        while let Ok(change) = mailbox.try_recv() {
            match change {
                PortChange::Add { slot, queue, done } => {
                    let _ = done.send(fwd.add(&mut ring, slot, queue));
                }
                PortChange::Remove { slot, done } => {
                    fwd.remove(&mut ring, slot);
                    let _ = done.send(Ok(()));
                }
            }
        }
    }
    // The ring is dropped (its operations cancelled) before `fwd`, which holds the
    // descriptors it reads.
    drop(ring);
}

/// What a forwarding thread knows about one of its queues.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum QueueState {
    /// Reads wait for its packets.
    Busy,
    /// A read found it empty and did not wait (`EAGAIN`): a poll waits for the next
    /// packet.
    Idle,
    /// Its port is down: no more reads.
    Down,
    /// Its port was removed: its operations are cancelled, and its descriptor is
    /// closed once none is in flight.
    Removed,
}

/// One queue: its idle slots, its state, and its reads.
struct Queue {
    /// Its descriptor, open while the ring reads it (by its slot).
    _dev: SyncDevice,
    /// Its buffer slots.
    slots: Vec<usize>,
    /// How many: the most reads in flight on it.
    depth: usize,
    /// A poll is in flight on it.
    polling: bool,
    /// Its idle slots (a stack: the most recently used, cache-warm, first).
    free: Vec<usize>,
    state: QueueState,
    /// Reads in flight.
    reading: usize,
    /// Packets its reads brought in the last wake-up.
    last: usize,
}

/// A forwarding thread's view of its ports.
struct Forwarder<'a> {
    shared: &'a Shared,
    /// Per port slot (which is also its queue's index in the ring): its queue, if this
    /// thread reads it.
    queues: Vec<Option<Queue>>,
    /// Per buffer slot: the queue (port slot) it belongs to.
    owner: Vec<usize>,
    /// Buffer slots of closed queues, for the next queue added.
    spare: Vec<usize>,
    /// Queues the thread started with (their depth is sized for them all).
    initial: usize,
    offload: bool,
    coalesce: bool,
}

impl Forwarder<'_> {
    /// Starts reading `dev` as the queue of the port in slot `slot`.
    fn add(&mut self, ring: &mut Ring, slot: usize, dev: SyncDevice) -> Result<(), String> {
        if slot >= MAX_SLOTS {
            return Err(format!(
                "the daemon has given out {MAX_SLOTS} port slots since it started: restart \
                 it to add more instances or internet hosts"
            ));
        }
        ring.set_queue(slot, dev.as_raw_fd())
            .map_err(|e| format!("register a TUN queue with io_uring: {e}"))?;
        // Sized for the ports the thread will then have, so that many ports do not
        // make many buffers: a queue keeps the depth it started with.
        let live = self.queues.iter().flatten().count() + 1;
        let depth = depth(live.max(self.initial));
        let mut slots: Vec<usize> = Vec::with_capacity(depth);
        while slots.len() < depth
            && let Some(b) = self.spare.pop()
        {
            slots.push(b);
        }
        slots.extend(ring.add_slots(depth - slots.len()));
        for &b in &slots {
            if self.owner.len() <= b {
                self.owner.resize(b + 1, usize::MAX);
            }
            self.owner[b] = slot;
        }
        if self.queues.len() <= slot {
            self.queues.resize_with(slot + 1, || None);
        }
        self.queues[slot] = Some(Queue {
            _dev: dev,
            free: slots.iter().rev().copied().collect(),
            depth,
            slots,
            polling: false,
            state: QueueState::Busy,
            reading: 0,
            last: 0,
        });
        Ok(())
    }

    /// Stops reading the port in slot `slot`: cancels its operations; its descriptor
    /// is closed once they all completed ([`Forwarder::close_finished`]).
    fn remove(&mut self, ring: &mut Ring, slot: usize) {
        if let Some(Some(q)) = self.queues.get_mut(slot) {
            q.state = QueueState::Removed;
            ring.clear_queue(slot);
        }
    }

    /// Closes the queues of removed ports with nothing in flight; their buffer slots
    /// (all idle) are kept for the next queue added.
    fn close_finished(&mut self) {
        for q in &mut self.queues {
            if q.as_ref().is_some_and(|q| {
                q.state == QueueState::Removed
                    && q.reading == 0
                    && !q.polling
                    && q.free.len() == q.slots.len()
            }) && let Some(q) = q.take()
            {
                self.spare.extend(q.slots);
            }
        }
    }

    /// Tops up the reads of every busy queue: twice as many in flight as the last
    /// wake-up brought packets (at least one, at most its slots). A burst is then read
    /// whole by the next wake-up, while a quiet queue has few reads waiting: every read
    /// waiting on a queue is woken by each packet, and all but one go back to waiting.
    fn read_more(&mut self, ring: &mut Ring) {
        for (q, queue) in self.queues.iter_mut().enumerate() {
            let Some(queue) = queue else { continue };
            let target = (2 * queue.last).clamp(1, queue.depth);
            queue.last = 0;
            if queue.state != QueueState::Busy {
                continue;
            }
            while queue.reading < target
                && let Some(slot) = queue.free.pop()
            {
                ring.read(slot, q);
                queue.reading += 1;
            }
        }
    }

    /// Judges and writes what a wake-up completed.
    fn handle(&mut self, ring: &mut Ring, done: &[Done], counters: &mut vpc_dataplane::Counters) {
        let shared = self.shared;
        let now = shared.now();
        // The configuration of the moment for the whole wake-up; the state inside
        // locks per part, and the counters are this thread's.
        let snapshot = shared.engine().load();
        let ports = snapshot.ports();
        let mut batch = snapshot.batch(counters);
        // The UDP superpacket being built: its port and its slot.
        let mut open: Option<(Port, usize)> = None;
        for &d in done {
            let (slot, queue, len) = match d {
                Done::Ready { queue } => {
                    if let Some(Some(q)) = self.queues.get_mut(queue) {
                        q.polling = false;
                        if q.state == QueueState::Idle {
                            q.state = QueueState::Busy;
                        }
                    }
                    continue;
                }
                Done::Wrote {
                    slot,
                    queue,
                    result,
                } => {
                    if result.is_err() {
                        shared.count_tx_error_slot(queue);
                    }
                    self.release(slot);
                    continue;
                }
                Done::Read {
                    slot,
                    queue,
                    result: Err(errno),
                } => {
                    if let Some(Some(q)) = self.queues.get_mut(queue) {
                        q.reading -= 1;
                    }
                    self.release(slot);
                    if errno == libc::EAGAIN {
                        self.idle(ring, queue);
                    } else {
                        self.fail(queue, errno);
                    }
                    continue;
                }
                Done::Read {
                    slot,
                    queue,
                    result: Ok(len),
                } => (slot, queue, len),
            };
            if let Some(Some(q)) = self.queues.get_mut(queue) {
                q.reading -= 1;
                q.last += 1;
            }
            // A packet of a port removed since it was read goes nowhere.
            let Some(from) = ports.port(queue) else {
                self.release(slot);
                continue;
            };
            let Some(s) = ring.slot(slot) else { continue };
            land(&mut s.buf, &s.hdr, len, self.offload);
            let verdict = batch.process(now, from, &mut s.buf);
            let to = match verdict {
                Verdict::Drop(_) => {
                    self.release(slot);
                    continue;
                }
                Verdict::Multicast { group, members } => {
                    self.flush(ring, open.take(), ports);
                    if let Some(s) = ring.slot(slot) {
                        for m in batch.members(group, members) {
                            shared.transmit(Port::Eni(m), &s.buf);
                        }
                    }
                    self.release(slot);
                    continue;
                }
                Verdict::Forward { to } | Verdict::Reply { to, .. } => to,
            };
            if s.buf.fragment_mtu().is_some() {
                // Cut into fragments: written at once, each from its own header.
                self.flush(ring, open.take(), ports);
                if let Some(s) = ring.slot(slot) {
                    shared.transmit(to, &s.buf);
                }
                self.release(slot);
                continue;
            }
            let forward = matches!(verdict, Verdict::Forward { .. });
            if let Some((port, head)) = open {
                if forward
                    && port == to
                    && let Some((h, x)) = ring.pair(head, slot)
                    && gro::append(&mut h.buf, &x.buf)
                {
                    self.release(slot);
                    continue;
                }
                self.flush(ring, open.take(), ports);
            }
            let starts = ring.slot(slot).is_some_and(|s| gro::can_start(&s.buf));
            if forward && self.coalesce && starts {
                open = Some((to, slot));
            } else {
                self.write(ring, slot, ports.slot(to));
            }
        }
        self.flush(ring, open, ports);
    }

    /// Writes the head of a superpacket that may or may not have grown.
    fn flush(&mut self, ring: &mut Ring, open: Option<(Port, usize)>, ports: &Ports) {
        if let Some((port, head)) = open {
            if ring
                .slot(head)
                .is_some_and(|s| s.buf.offload().gso != Gso::None)
            {
                self.shared.count_udp_superpacket();
            }
            self.write(ring, head, ports.slot(port));
        }
    }

    /// Queues the write of buffer slot `slot`'s packet to the port in slot `to`; the
    /// buffer slot is idle again once it is written.
    fn write(&mut self, ring: &mut Ring, slot: usize, to: usize) {
        let offload = self.offload;
        if let Some(s) = ring.slot(slot) {
            if offload {
                *s.hdr = vnet::encode(s.buf.offload(), s.buf.as_bytes());
            }
            ring.write(slot, to);
        }
    }

    /// Buffer slot `slot` is idle: back to its queue's free slots.
    fn release(&mut self, slot: usize) {
        if let Some(&q) = self.owner.get(slot)
            && let Some(Some(q)) = self.queues.get_mut(q)
        {
            q.free.push(slot);
        }
    }

    /// A read found queue `queue` empty: it is idle until a poll says otherwise.
    fn idle(&mut self, ring: &mut Ring, queue: usize) {
        if let Some(Some(q)) = self.queues.get_mut(queue)
            && q.state == QueueState::Busy
        {
            q.state = QueueState::Idle;
            q.polling = true;
            ring.poll(queue);
        }
    }

    /// A read from `queue` failed with `errno`: the port is down, once (a removed
    /// port's cancelled reads are not news).
    fn fail(&mut self, queue: usize, errno: i32) {
        if let Some(Some(q)) = self.queues.get_mut(queue)
            && !matches!(q.state, QueueState::Down | QueueState::Removed)
        {
            q.state = QueueState::Down;
            let e = std::io::Error::from_raw_os_error(errno);
            self.shared
                .mark_down_slot(queue, &format!("device error: {e}"));
        }
    }
}

/// Sets `buf` to the packet a read of `len` bytes left in it: after the virtio-net
/// header `hdr` if `offload` (a read too short for the header leaves an empty packet,
/// which the pipeline drops as truncated).
fn land(buf: &mut PacketBuf, hdr: &[u8; vnet::LEN], len: usize, offload: bool) {
    if offload {
        buf.set_len(len.saturating_sub(vnet::LEN));
        buf.set_offload(vnet::decode(hdr));
    } else {
        buf.set_len(len);
    }
}

/// Every second, checks that each namespace is still the one the daemon made; if it
/// was deleted or replaced, its ports are marked down.
pub async fn watch_namespaces(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let watched = shared.watched().clone();
        for w in &watched {
            if netns::identity(&w.namespace) != Some(w.identity) {
                for &slot in &w.slots {
                    shared.mark_down_slot(slot, &format!("namespace {} was removed", w.namespace));
                }
            }
        }
    }
}

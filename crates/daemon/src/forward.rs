//! The forwarding threads: each owns one io_uring (`uring`) over one TUN queue of every
//! port (an ENI, or a host of the emulated internet; a device has a queue per thread,
//! and the kernel keeps each flow on one queue). Each queue has reads in flight, twice
//! as many as its last wake-up brought packets (so a burst is read whole, and a quiet
//! queue has few reads waiting: each packet wakes every read waiting on its queue). One
//! system call submits a wake-up's writes and new reads and waits for the next
//! completions; every packet that completed is judged with one snapshot of the
//! dataplane (no lock over it all: `vpc_dataplane::Engine`), then written back through
//! the same ring. With offloads on, every read and write carries a virtio-net header
//! (`vnet`): superpackets of up to 64 KiB are read, judged and written whole, and
//! forwarded UDP datagrams of one flow are joined into superpackets. A read error (the
//! device was deleted) marks the port down and ends reads on it; nothing spins. A
//! watchdog notices a namespace removed from under the daemon.

use std::os::fd::AsRawFd;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tun_rs::SyncDevice;
use vpc_dataplane::{Gso, PacketBuf, Port, Verdict, gro};

use crate::netns::{self, Identity};
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

/// Forwards packets on `queues` (this thread's non-blocking queue of every port,
/// indexed by [`Shared::slot`]) until every port is down. Says on `started` whether
/// its ring could be set up (it is made here: a ring is used by the thread that made
/// it).
pub fn run_thread(
    shared: Arc<Shared>,
    queues: Vec<SyncDevice>,
    started: SyncSender<std::io::Result<()>>,
) {
    let ports = shared.ports();
    let depth = depth(ports.len());
    let hdr_len = if shared.offload() { vnet::LEN } else { 0 };
    let raw: Vec<_> = queues.iter().map(AsRawFd::as_raw_fd).collect();
    let mut ring = match Ring::new(&raw, ports.len() * depth, BUF, hdr_len) {
        Ok(ring) => {
            let _ = started.send(Ok(()));
            ring
        }
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let mut fwd = Forwarder {
        shared: &shared,
        queues: (0..ports.len())
            .map(|q| Queue {
                free: (q * depth..(q + 1) * depth).rev().collect(),
                state: QueueState::Busy,
                reading: 0,
                last: 0,
            })
            .collect(),
        ports,
        depth,
        offload: shared.offload(),
        coalesce: shared.uso(),
    };
    let counters = shared.thread_counters();
    let mut done = Vec::with_capacity(ring.slots() * 2);
    loop {
        fwd.read_more(&mut ring);
        if done.len() >= SPIN_AFTER {
            // Submit now, then look for completions until some come or the spin ends.
            let _ = ring.submit_and_wait(0);
            let until = std::time::Instant::now() + SPIN;
            while !ring.ready() && std::time::Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        if let Err(e) = ring.submit_and_wait(1) {
            for &port in &fwd.ports {
                shared.mark_down(port, &format!("io_uring: {e}"));
            }
            return;
        }
        done.clear();
        ring.completions(&mut done);
        let mut counters = counters.lock().unwrap_or_else(PoisonError::into_inner);
        fwd.handle(&mut ring, &done, &mut counters);
        drop(counters);
        if fwd.queues.iter().all(|q| q.state == QueueState::Down) {
            // The ring is dropped before `queues`, the descriptors it reads.
            return;
        }
    }
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
}

/// One queue: its idle slots, its state, and its reads.
#[derive(Debug)]
struct Queue {
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
    /// Per port, by [`Shared::slot`] (which is also its queue's index in the ring).
    queues: Vec<Queue>,
    /// Every port, by [`Shared::slot`].
    ports: Vec<Port>,
    /// Slots per queue: slot `k` belongs to queue `k / depth`.
    depth: usize,
    offload: bool,
    coalesce: bool,
}

impl Forwarder<'_> {
    /// Tops up the reads of every busy queue: twice as many in flight as the last
    /// wake-up brought packets (at least one, at most its slots). A burst is then read
    /// whole by the next wake-up, while a quiet queue has few reads waiting: every read
    /// waiting on a queue is woken by each packet, and all but one go back to waiting.
    fn read_more(&mut self, ring: &mut Ring) {
        for (q, queue) in self.queues.iter_mut().enumerate() {
            let target = (2 * queue.last).clamp(1, self.depth);
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
        let mut batch = snapshot.batch(counters);
        // The UDP superpacket being built: its port and its slot.
        let mut open: Option<(Port, usize)> = None;
        for &d in done {
            let (slot, queue, len) = match d {
                Done::Ready { queue } => {
                    let q = &mut self.queues[queue];
                    if q.state == QueueState::Idle {
                        q.state = QueueState::Busy;
                    }
                    continue;
                }
                Done::Wrote {
                    slot,
                    queue,
                    result,
                } => {
                    if result.is_err() {
                        shared.count_tx_error(self.ports[queue]);
                    }
                    self.release(slot);
                    continue;
                }
                Done::Read {
                    slot,
                    queue,
                    result: Err(errno),
                } => {
                    self.queues[queue].reading -= 1;
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
            self.queues[queue].reading -= 1;
            self.queues[queue].last += 1;
            let from = self.ports[queue];
            let Some(s) = ring.slot(slot) else { continue };
            land(&mut s.buf, &s.hdr, len, self.offload);
            let verdict = batch.process(now, from, &mut s.buf);
            let to = match verdict {
                Verdict::Drop(_) => {
                    self.release(slot);
                    continue;
                }
                Verdict::Multicast { group, members } => {
                    self.flush(ring, open.take());
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
                self.flush(ring, open.take());
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
                self.flush(ring, open.take());
            }
            let starts = ring.slot(slot).is_some_and(|s| gro::can_start(&s.buf));
            if forward && self.coalesce && starts {
                open = Some((to, slot));
            } else {
                self.write(ring, slot, to);
            }
        }
        self.flush(ring, open);
    }

    /// Writes the head of a superpacket that may or may not have grown.
    fn flush(&mut self, ring: &mut Ring, open: Option<(Port, usize)>) {
        if let Some((port, head)) = open {
            if ring
                .slot(head)
                .is_some_and(|s| s.buf.offload().gso != Gso::None)
            {
                self.shared.count_udp_superpacket();
            }
            self.write(ring, head, port);
        }
    }

    /// Queues the write of slot `slot`'s packet to `to`; the slot is idle again once it
    /// is written.
    fn write(&mut self, ring: &mut Ring, slot: usize, to: Port) {
        let offload = self.offload;
        if let Some(s) = ring.slot(slot) {
            if offload {
                *s.hdr = vnet::encode(s.buf.offload(), s.buf.as_bytes());
            }
            ring.write(slot, Shared::slot(&self.shared.topology, to));
        }
    }

    /// Slot `slot` is idle: back to its queue's free slots.
    fn release(&mut self, slot: usize) {
        self.queues[slot / self.depth].free.push(slot);
    }

    /// A read found queue `queue` empty: it is idle until a poll says otherwise.
    fn idle(&mut self, ring: &mut Ring, queue: usize) {
        let q = &mut self.queues[queue];
        if q.state == QueueState::Busy {
            q.state = QueueState::Idle;
            ring.poll(queue);
        }
    }

    /// A read from `queue` failed with `errno`: the port is down, once.
    fn fail(&mut self, queue: usize, errno: i32) {
        let q = &mut self.queues[queue];
        if q.state != QueueState::Down {
            q.state = QueueState::Down;
            let e = std::io::Error::from_raw_os_error(errno);
            self.shared
                .mark_down(self.ports[queue], &format!("device error: {e}"));
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

/// A namespace the watchdog checks, and the ports that live in it.
#[derive(Debug)]
pub struct Watched {
    /// Its name.
    pub namespace: String,
    /// Its identity when the daemon made it.
    pub identity: Identity,
    /// Its ports (an instance's ENIs, or an internet host).
    pub ports: Vec<Port>,
}

/// Every second, checks that each namespace is still the one the daemon made; if it
/// was deleted or replaced, its ports are marked down.
pub async fn watch_namespaces(shared: Arc<Shared>, watched: Vec<Watched>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        for w in &watched {
            if netns::identity(&w.namespace) != Some(w.identity) {
                for &port in &w.ports {
                    shared.mark_down(port, &format!("namespace {} was removed", w.namespace));
                }
            }
        }
    }
}

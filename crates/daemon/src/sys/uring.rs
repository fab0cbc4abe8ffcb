//! Batched TUN I/O with io_uring for one forwarding thread: every read and write of
//! the thread's TUN queues goes through one ring, so one system call submits a wake-up's
//! writes and reads and waits for the next completions. Reads that find a packet
//! complete within that call; a read of an empty queue waits in the kernel (io_uring
//! polls the queue for it; the queues are non-blocking, so no kernel worker thread ever
//! blocks in one). Where a kernel completes such a read with `EAGAIN` instead, the
//! caller marks the queue idle and queues a one-shot poll (`Ring::poll`) that says when
//! it is readable again. The descriptors are registered with the ring (no per-operation
//! descriptor lookup).
//!
//! Unsafe (see `sys`): the kernel reads and writes a slot's
//! buffers while an operation on them is in flight, which the borrow checker cannot
//! see. The invariant that makes it sound: a slot's packet buffer, header and iovecs
//! live in their own heap allocations that never move or shrink, are handed out
//! (`Ring::slot`) only while no operation on them is in flight, and are freed only
//! after every operation has completed (or leaked if the kernel never says so).

use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use io_uring::{IoUring, opcode, squeue, types};
use vpc_dataplane::PacketBuf;

/// One buffer slot: a packet buffer, the virtio-net header read or written with it,
/// and the iovecs of its operation.
#[derive(Debug)]
pub struct Slot {
    /// The packet.
    pub buf: PacketBuf,
    /// The virtio-net header (only the first `hdr_len` bytes are read or written).
    pub hdr: Box<[u8; crate::vnet::LEN]>,
    /// The iovecs of the operation in flight: header, then packet.
    iov: Box<[libc::iovec; 2]>,
}

// SAFETY: the raw pointers in `iov` point into the slot's own allocations; a slot moves
// between threads only with the ring that owns it.
unsafe impl Send for Slot {}

/// What a completed operation was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// A read into slot `slot` from queue `queue`: `Ok(bytes)` or the error.
    Read {
        /// The slot.
        slot: usize,
        /// The queue (its index among the ring's descriptors).
        queue: usize,
        /// Bytes read (header included) or the error number.
        result: Result<usize, i32>,
    },
    /// Queue `queue` is readable (its poll completed).
    Ready {
        /// The queue.
        queue: usize,
    },
    /// A write from slot `slot`: `Ok(bytes)` or the error number.
    Wrote {
        /// The slot.
        slot: usize,
        /// The queue written to.
        queue: usize,
        /// Bytes written or the error number.
        result: Result<usize, i32>,
    },
}

/// A ring, its registered queues, and its buffer slots.
pub struct Ring {
    ring: IoUring,
    slots: Vec<Slot>,
    /// Per slot: whether an operation on it is in flight.
    busy: Vec<bool>,
    in_flight: usize,
    /// Bytes of virtio-net header before each packet (0 without offloads).
    hdr_len: usize,
    /// Operations prepared but not yet submitted (submission-queue room is ensured).
    queued: usize,
    /// Bytes per packet buffer.
    capacity: usize,
}

/// Tags of `user_data`: the slot in the low 32 bits, the queue above, the kind in the
/// top two bits.
const WRITE: u64 = 1 << 63;
const POLL: u64 = 1 << 62;
const KIND: u64 = WRITE | POLL;
/// The `user_data` of a cancellation.
const CANCEL: u64 = u64::MAX;

fn tag(kind: u64, slot: usize, queue: usize) -> u64 {
    kind | ((queue as u64) << 32) | slot as u64
}

impl Ring {
    /// A ring with room for `max_queues` queues (descriptor indexes `0..max_queues`,
    /// all empty: see [`Ring::set_queue`]) and `slots` buffer slots of `capacity` bytes
    /// (more: [`Ring::add_slots`]), reading and writing `hdr_len` bytes of virtio-net
    /// header before each packet.
    pub fn new(
        max_queues: usize,
        slots: usize,
        capacity: usize,
        hdr_len: usize,
    ) -> io::Result<Ring> {
        let entries = u32::try_from((slots + max_queues).next_power_of_two().clamp(8, 4096))
            .map_err(|_| io::Error::other("too many slots"))?;
        let ring = IoUring::builder()
            .setup_single_issuer()
            .setup_cqsize(entries * 2)
            .build(entries)?;
        let max = u32::try_from(max_queues).map_err(|_| io::Error::other("too many queues"))?;
        ring.submitter().register_files_sparse(max)?;
        let mut ring = Ring {
            ring,
            busy: Vec::new(),
            slots: Vec::new(),
            in_flight: 0,
            hdr_len,
            queued: 0,
            capacity,
        };
        ring.add_slots(slots);
        Ok(ring)
    }

    /// Adds `n` buffer slots; returns their indexes. (Slots never move their buffers:
    /// each lives in its own allocation, so growing the table moves no buffer the
    /// kernel may be using.)
    pub fn add_slots(&mut self, n: usize) -> std::ops::Range<usize> {
        let start = self.slots.len();
        for _ in 0..n {
            self.slots.push(Slot {
                buf: PacketBuf::new(self.capacity),
                hdr: Box::new([0; crate::vnet::LEN]),
                iov: Box::new(
                    [libc::iovec {
                        iov_base: std::ptr::null_mut(),
                        iov_len: 0,
                    }; 2],
                ),
            });
            self.busy.push(false);
        }
        start..self.slots.len()
    }

    /// Registers `fd` (a non-blocking TUN queue, kept open by the caller until
    /// [`Ring::clear_queue`] and every operation on it completed) as queue `queue`.
    pub fn set_queue(&mut self, queue: usize, fd: RawFd) -> io::Result<()> {
        let at = u32::try_from(queue).map_err(|_| io::Error::other("queue index"))?;
        self.ring.submitter().register_files_update(at, &[fd])?;
        Ok(())
    }

    /// Cancels every operation on queue `queue` (they complete with `ECANCELED`) and
    /// unregisters it; the caller closes its descriptor once they completed.
    pub fn clear_queue(&mut self, queue: usize) {
        let cancel =
            opcode::AsyncCancel2::new(types::CancelBuilder::fd(types::Fixed(queue as u32)).all())
                .build()
                .user_data(CANCEL);
        self.make_room();
        // SAFETY: a cancellation refers to no buffer.
        if unsafe { self.ring.submission().push(&cancel) }.is_ok() {
            self.queued += 1;
        }
        let _ = self.ring.submit();
        if let Ok(at) = u32::try_from(queue) {
            let _ = self.ring.submitter().register_files_update(at, &[-1]);
        }
    }

    /// How many slots there are.
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Slot `slot`, to read or change: `None` while an operation on it is in flight.
    pub fn slot(&mut self, slot: usize) -> Option<&mut Slot> {
        if self.busy[slot] {
            None
        } else {
            Some(&mut self.slots[slot])
        }
    }

    /// Two different idle slots at once (`None` if either is busy or they are the same).
    pub fn pair(&mut self, a: usize, b: usize) -> Option<(&mut Slot, &mut Slot)> {
        if a == b || self.busy[a] || self.busy[b] {
            return None;
        }
        if a < b {
            let (x, y) = self.slots.split_at_mut(b);
            Some((&mut x[a], &mut y[0]))
        } else {
            let (x, y) = self.slots.split_at_mut(a);
            Some((&mut y[0], &mut x[b]))
        }
    }

    /// Queues a read into idle slot `slot` from queue `queue` (its whole capacity, after
    /// the header).
    pub fn read(&mut self, slot: usize, queue: usize) {
        let hdr_len = self.hdr_len;
        let s = &mut self.slots[slot];
        let data = s.buf.buffer_mut();
        s.iov[0] = libc::iovec {
            iov_base: s.hdr.as_mut_ptr().cast(),
            iov_len: hdr_len,
        };
        s.iov[1] = libc::iovec {
            iov_base: data.as_mut_ptr().cast(),
            iov_len: data.len(),
        };
        let entry = opcode::Readv::new(types::Fixed(queue as u32), s.iov.as_ptr(), 2)
            .build()
            .user_data(tag(0, slot, queue));
        self.push(slot, entry);
    }

    /// Queues a write of idle slot `slot`'s packet, after its header's first `hdr_len`
    /// bytes, to queue `queue`.
    pub fn write(&mut self, slot: usize, queue: usize) {
        let hdr_len = self.hdr_len;
        let s = &mut self.slots[slot];
        let data = s.buf.as_bytes();
        s.iov[0] = libc::iovec {
            iov_base: s.hdr.as_mut_ptr().cast(),
            iov_len: hdr_len,
        };
        s.iov[1] = libc::iovec {
            iov_base: data.as_ptr().cast_mut().cast(),
            iov_len: data.len(),
        };
        let entry = opcode::Writev::new(types::Fixed(queue as u32), s.iov.as_ptr(), 2)
            .build()
            .user_data(tag(WRITE, slot, queue));
        self.push(slot, entry);
    }

    /// Queues a one-shot poll of queue `queue` for readability (at most one per queue
    /// at a time: the caller keeps track).
    pub fn poll(&mut self, queue: usize) {
        let entry = opcode::PollAdd::new(types::Fixed(queue as u32), libc::POLLIN as u32)
            .build()
            .user_data(tag(POLL, 0, queue));
        self.make_room();
        // SAFETY: a poll refers to no buffer; the descriptor index is registered.
        if unsafe { self.ring.submission().push(&entry) }.is_ok() {
            self.queued += 1;
        }
    }

    /// Submits what is queued if the submission queue is full. It never is for want of
    /// room: there are as many entries as slots and queues, and each slot has at most
    /// one operation, each queue at most one poll.
    fn make_room(&mut self) {
        if self.ring.submission().is_full() {
            let _ = self.ring.submit();
        }
    }

    fn push(&mut self, slot: usize, entry: squeue::Entry) {
        assert!(
            !self.busy[slot],
            "slot {slot} already has an operation in flight"
        );
        self.make_room();
        // SAFETY: the entry's iovecs and the buffers they point to are the slot's own
        // heap allocations, which stay where they are and are not handed out (`slot`,
        // `pair`) until the operation completes (`busy`), and are not freed before
        // (`Drop`). The descriptor index is one the caller registered.
        let pushed = unsafe { self.ring.submission().push(&entry) };
        if pushed.is_err() {
            // The queue was full after a failed submit: leave the slot idle. The
            // caller sees no completion for it; it re-queues the slot on the next turn.
            return;
        }
        self.busy[slot] = true;
        self.in_flight += 1;
        self.queued += 1;
    }

    /// Submits everything queued and waits until at least `want` operations completed
    /// (0: do not wait), or at most `timeout`. Interrupted waits return early.
    pub fn submit_and_wait(&mut self, want: usize, timeout: Duration) -> io::Result<()> {
        let ts = types::Timespec::from(timeout);
        let args = types::SubmitArgs::new().timespec(&ts);
        match self.ring.submitter().submit_with_args(want, &args) {
            Ok(_) => {
                self.queued = 0;
                Ok(())
            }
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ETIME) => {
                self.queued = 0;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Whether completions wait to be taken.
    pub fn ready(&mut self) -> bool {
        !self.ring.completion().is_empty()
    }

    /// Appends the completed operations to `out`; their slots are idle again.
    pub fn completions(&mut self, out: &mut Vec<Done>) {
        for cqe in self.ring.completion() {
            let data = cqe.user_data();
            if data == CANCEL {
                continue;
            }
            let slot = (data & 0xffff_ffff) as usize;
            let queue = ((data >> 32) & 0x3fff_ffff) as usize;
            let result = usize::try_from(cqe.result()).map_err(|_| -cqe.result());
            if data & KIND == POLL {
                out.push(Done::Ready { queue });
                continue;
            }
            self.busy[slot] = false;
            self.in_flight -= 1;
            out.push(if data & KIND == WRITE {
                Done::Wrote {
                    slot,
                    queue,
                    result,
                }
            } else {
                Done::Read {
                    slot,
                    queue,
                    result,
                }
            });
        }
    }
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring")
            .field("slots", &self.slots.len())
            .field("in_flight", &self.in_flight)
            .finish()
    }
}

impl Drop for Ring {
    /// Cancels every operation in flight and waits (briefly) for the kernel to say so;
    /// if it does not, the slots are leaked rather than freed under it.
    fn drop(&mut self) {
        if self.in_flight == 0 {
            return;
        }
        let cancel = opcode::AsyncCancel2::new(types::CancelBuilder::any())
            .build()
            .user_data(CANCEL);
        // SAFETY: a cancellation refers to no buffer.
        let _ = unsafe { self.ring.submission().push(&cancel) };
        let deadline = Instant::now() + Duration::from_millis(500);
        while self.in_flight > 0 && Instant::now() < deadline {
            let _ = self.ring.submit_and_wait(1);
            for cqe in self.ring.completion() {
                let data = cqe.user_data();
                if data != CANCEL && data & KIND != POLL {
                    let slot = (data & 0xffff_ffff) as usize;
                    if std::mem::replace(&mut self.busy[slot], false) {
                        self.in_flight -= 1;
                    }
                }
            }
        }
        if self.in_flight > 0 {
            std::mem::forget(std::mem::take(&mut self.slots));
        }
    }
}

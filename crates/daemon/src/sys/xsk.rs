//! AF_XDP sockets for one forwarding thread: one socket per port (on the thread's queue
//! of the port's veth end), all sharing one memory area (a UMEM) of 4 KiB frames, with
//! the four rings of each socket (fill, receive, transmit, completion) mapped through
//! `xdpilone`. Every frame is always in exactly one place: the free list, the kernel's
//! hands (given to a fill or transmit ring, until it comes back on a receive or
//! completion ring), or the caller's (between [`Xsks::receive`] or [`Xsks::alloc`] and
//! [`Xsks::release`] or [`Xsks::send`]). The sockets are bound in copy mode (a veth has
//! no zero-copy), with need-wakeup: receiving needs no system call, and transmitting
//! needs one `sendto` per 32 frames (the kernel's batch in copy mode), or per ring
//! where the kernel lets a socket raise that (`XDP_MAX_TX_SKB_BUDGET`, Linux 6.17).
//!
//! Unsafe (see `sys`): the frames are memory the kernel writes; a frame is handed out
//! as a slice only while the kernel has no claim on it, which the bookkeeping above
//! guarantees.

use std::io;
use std::num::NonZeroU32;
use std::os::fd::RawFd;
use std::ptr::NonNull;

use xdpilone::xdp::XdpDesc;
use xdpilone::{DeviceQueue, IfInfo, RingRx, RingTx, Socket, SocketConfig, Umem, UmemConfig};

/// Bytes per frame: a page. The kernel keeps 256 bytes of each as headroom, so a frame
/// takes up to 3840 bytes (a veth with an XDP program takes an MTU of at most 3506).
pub const FRAME: u32 = 4096;
/// Entries of each receive, transmit and fill ring.
const RING: u32 = 1024;
/// Entries of each completion ring (every frame in flight on the transmit ring fits).
const COMPLETION: u32 = 2 * RING;
/// Frames per port: a full fill ring and a full transmit ring.
const FRAMES_PER_PORT: u32 = 2 * RING;
/// `sendto` calls at most per flush of one port (each sends up to 32 frames).
const KICKS: usize = 64;

/// A received frame, or one to send: its address in the area and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Desc {
    /// Offset of its first byte in the area.
    pub addr: u64,
    /// Its length.
    pub len: u32,
}

/// One port's socket and rings.
struct XPort {
    device: DeviceQueue,
    rx: RingRx,
    tx: RingTx,
    fd: RawFd,
    /// Frames the kernel holds for receiving (in the fill or receive ring).
    filling: u32,
    /// Frames waiting for the next flush.
    staged: Vec<XdpDesc>,
    /// Frames on the transmit ring not yet completed.
    sending: u32,
    /// Its socket failed (the device is gone).
    broken: bool,
}

/// Anonymous memory for the frames, unmapped when dropped.
struct Area {
    ptr: NonNull<u8>,
    len: usize,
}

impl Area {
    fn new(len: usize) -> io::Result<Area> {
        // SAFETY: a fresh anonymous private mapping; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p.cast()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Area { ptr, len })
    }
}

impl Drop for Area {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, of this length; every socket using it was
        // dropped before (see the field order of `Xsks`).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// The sockets of one forwarding thread.
pub struct Xsks {
    // Field order is drop order: the sockets, then the UMEM, then the memory.
    ports: Vec<XPort>,
    _umem: Umem,
    free: Vec<u64>,
    /// Per frame: whether the caller holds it (the only frames handed out as slices).
    held: Vec<bool>,
    area: Area,
}

impl std::fmt::Debug for Xsks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Xsks")
            .field("ports", &self.ports.len())
            .field("free", &self.free.len())
            .finish()
    }
}

fn errno(what: &str, e: xdpilone::Errno) -> io::Error {
    let e = io::Error::from_raw_os_error(e.get_raw());
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

impl Xsks {
    /// A socket on queue `queue` of each device of `ifindexes` (in the calling thread's
    /// namespace), in that order, sharing one area.
    pub fn new(ifindexes: &[u32], queue: u32) -> io::Result<Xsks> {
        let frames = FRAMES_PER_PORT * u32::try_from(ifindexes.len().max(1)).unwrap_or(1);
        let area = Area::new(frames as usize * FRAME as usize)?;
        let config = UmemConfig {
            fill_size: RING,
            complete_size: COMPLETION,
            frame_size: FRAME,
            headroom: 0,
            flags: 0,
        };
        let slice = NonNull::slice_from_raw_parts(area.ptr, area.len);
        // SAFETY: the area is page-aligned (mmap), valid for its length, and outlives
        // the UMEM (dropped after it).
        let umem = unsafe { Umem::new(config, slice) }.map_err(|e| errno("AF_XDP UMEM", e))?;
        let mut ports = Vec::with_capacity(ifindexes.len());
        for (i, &ifindex) in ifindexes.iter().enumerate() {
            let mut info = IfInfo::invalid();
            info.from_ifindex(ifindex)
                .map_err(|e| errno("AF_XDP device", e))?;
            info.set_queue(queue);
            // The first socket is the UMEM's own; the others share it.
            let sock = if i == 0 {
                Socket::with_shared(&info, &umem)
            } else {
                Socket::new(&info)
            }
            .map_err(|e| errno("AF_XDP socket", e))?;
            let device = umem
                .fq_cq(&sock)
                .map_err(|e| errno("AF_XDP fill and completion rings", e))?;
            let user = umem
                .rx_tx(
                    &sock,
                    &SocketConfig {
                        rx_size: NonZeroU32::new(RING),
                        tx_size: NonZeroU32::new(RING),
                        // A socket sharing the area takes the first one's mode
                        // and may name none (the kernel refuses it).
                        bind_flags: if i == 0 {
                            SocketConfig::XDP_BIND_COPY | SocketConfig::XDP_BIND_NEED_WAKEUP
                        } else {
                            0
                        },
                    },
                )
                .map_err(|e| errno("AF_XDP rings", e))?;
            let rx = user.map_rx().map_err(|e| errno("AF_XDP receive ring", e))?;
            let tx = user
                .map_tx()
                .map_err(|e| errno("AF_XDP transmit ring", e))?;
            umem.bind(&user)
                .map_err(|e| errno(&format!("bind AF_XDP socket to queue {queue}"), e))?;
            let fd = rx.as_raw_fd();
            // Fewer `sendto` calls where the kernel allows it; 32 frames a call where not.
            let _ = raise_tx_budget(fd);
            ports.push(XPort {
                device,
                rx,
                tx,
                fd,
                filling: 0,
                staged: Vec::with_capacity(RING as usize),
                sending: 0,
                broken: false,
            });
        }
        let free = (0..u64::from(frames))
            .rev()
            .map(|i| i * u64::from(FRAME))
            .collect();
        let mut x = Xsks {
            ports,
            _umem: umem,
            free,
            held: vec![false; frames as usize],
            area,
        };
        x.refill();
        Ok(x)
    }

    /// Port `p`'s socket, for the XDP program's map.
    pub fn fd(&self, p: usize) -> RawFd {
        self.ports[p].fd
    }

    /// Takes back the frames the kernel has sent and gives free frames to every fill
    /// ring that is not full.
    pub fn refill(&mut self) {
        for port in &mut self.ports {
            if port.sending > 0 {
                let mut done = port.device.complete(port.sending);
                while let Some(addr) = done.read() {
                    self.free.push(addr - addr % u64::from(FRAME));
                    port.sending -= 1;
                }
                done.release();
            }
            // A ring reserves what its cached view of the kernel's head allows, which
            // may be less than is free: ask again until it has no room.
            loop {
                let want = RING
                    .saturating_sub(port.filling)
                    .min(self.free.len() as u32);
                if want == 0 {
                    break;
                }
                let mut fill = port.device.fill(want);
                // Exactly as many as were reserved: `insert` takes an item from the
                // iterator before it finds no room, and that frame would be lost.
                let room = fill.capacity() as usize;
                let free = &mut self.free;
                let n = fill.insert(std::iter::from_fn(|| free.pop()).take(room));
                fill.commit();
                port.filling += n;
                if n == 0 {
                    break;
                }
            }
        }
    }

    /// Moves up to `max` frames received on port `p` to `out`; they are the caller's
    /// until released or sent.
    pub fn receive(&mut self, p: usize, max: u32, out: &mut Vec<Desc>) {
        let port = &mut self.ports[p];
        let mut rx = port.rx.receive(max);
        let area = self.area.len as u64;
        while let Some(d) = rx.read() {
            port.filling -= 1;
            let desc = Desc {
                addr: d.addr,
                len: d.len,
            };
            if within(desc, area) {
                self.held[index(desc.addr)] = true;
                out.push(desc);
            } else {
                // Never from a sound kernel; the frame is still ours.
                self.free.push(d.addr - d.addr % u64::from(FRAME));
            }
        }
        rx.release();
    }

    /// Whether any port has received frames waiting.
    pub fn any_received(&self) -> bool {
        self.ports.iter().any(|p| p.rx.available() > 0)
    }

    /// Whether the caller holds the frame at `addr`.
    fn holds(&self, addr: u64) -> bool {
        addr < self.area.len as u64 && self.held.get(index(addr)).copied().unwrap_or(false)
    }

    /// A received frame's bytes (nothing if the caller does not hold it).
    pub fn frame(&self, d: Desc) -> &[u8] {
        if !self.holds(d.addr) || !within(d, self.area.len as u64) {
            return &[];
        }
        // SAFETY: `d` lies inside one frame of the area (checked) that the caller holds
        // (checked): the kernel has no claim on it until it is sent or released, and
        // `&self` excludes our own writes.
        unsafe {
            std::slice::from_raw_parts(self.area.ptr.as_ptr().add(d.addr as usize), d.len as usize)
        }
    }

    /// A caller-held frame's bytes, to write: `len` bytes from `addr` (to the end of
    /// its frame at most; nothing if the caller does not hold it).
    pub fn frame_mut(&mut self, addr: u64, len: u32) -> &mut [u8] {
        if !self.holds(addr) {
            return &mut [];
        }
        let end = (addr - addr % u64::from(FRAME)) + u64::from(FRAME);
        let len = u64::from(len).min(end.saturating_sub(addr));
        // SAFETY: `addr` is in the area, in a frame the caller holds (checked), so the
        // kernel does not touch it; the range stays inside that frame; `&mut self` makes
        // the slice unique.
        unsafe {
            std::slice::from_raw_parts_mut(self.area.ptr.as_ptr().add(addr as usize), len as usize)
        }
    }

    /// A free frame (its address), if there is one; the caller's until released or sent.
    pub fn alloc(&mut self) -> Option<u64> {
        let addr = self.free.pop()?;
        self.held[index(addr)] = true;
        Some(addr)
    }

    /// A caller-held frame goes back to the free list (a frame it does not hold is
    /// left where it is).
    pub fn release(&mut self, addr: u64) {
        if self.holds(addr) {
            self.held[index(addr)] = false;
            self.free.push(addr - addr % u64::from(FRAME));
        }
    }

    /// Queues caller-held frame `d` for sending on port `p` at the next flush; if the
    /// port's transmit ring is full it is released and `false` returned.
    pub fn send(&mut self, p: usize, d: Desc) -> bool {
        let port = &mut self.ports[p];
        if port.sending + port.staged.len() as u32 >= RING || !within(d, self.area.len as u64) {
            self.release(d.addr);
            return false;
        }
        if !self.holds(d.addr) {
            return false;
        }
        self.held[index(d.addr)] = false;
        let port = &mut self.ports[p];
        port.staged.push(XdpDesc {
            addr: d.addr,
            len: d.len,
            options: 0,
        });
        true
    }

    /// Puts every staged frame on its transmit ring and has the kernel send them.
    /// Returns the frames that could not be sent (released), per port.
    pub fn flush(&mut self, mut failed: impl FnMut(usize, u32)) {
        for (i, port) in self.ports.iter_mut().enumerate() {
            if port.staged.is_empty() {
                continue;
            }
            let n = port.staged.len();
            let mut put = 0;
            while put < n {
                let mut tx = port.tx.transmit((n - put) as u32);
                let k = tx.insert(port.staged[put..].iter().copied()) as usize;
                tx.commit();
                drop(tx);
                if k == 0 {
                    break;
                }
                put += k;
            }
            port.sending += put as u32;
            for d in port.staged.drain(put..) {
                self.free.push(d.addr - d.addr % u64::from(FRAME));
            }
            port.staged.clear();
            if put < n {
                failed(i, (n - put) as u32);
            }
            for _ in 0..KICKS {
                if port.tx.pending() == 0 {
                    break;
                }
                if kick(port.fd).is_err() {
                    break;
                }
            }
        }
    }

    /// Waits up to `timeout_ms` for a frame on any port. Returns the ports whose
    /// socket failed since (its device is gone); they are not waited on again.
    pub fn wait(&mut self, timeout_ms: i32) -> io::Result<Vec<usize>> {
        let mut fds: Vec<libc::pollfd> = self
            .ports
            .iter()
            .map(|p| libc::pollfd {
                // A negative descriptor is skipped.
                fd: if p.broken { -1 } else { p.fd },
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: `fds` is a live array of `fds.len()` pollfds.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
            return Ok(Vec::new());
        }
        let mut broken = Vec::new();
        for (i, (f, port)) in fds.iter().zip(&mut self.ports).enumerate() {
            if f.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                port.broken = true;
                broken.push(i);
            }
        }
        Ok(broken)
    }
}

/// Whether an AF_XDP socket can be made here (none is kept).
pub fn probe() -> io::Result<()> {
    // SAFETY: plain socket(2); a valid result is closed at once.
    let fd = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("AF_XDP socket: {e}")));
    }
    // SAFETY: `fd` was just made and is owned by nothing else.
    unsafe { libc::close(fd) };
    Ok(())
}

/// The number of the frame at `addr`.
fn index(addr: u64) -> usize {
    (addr / u64::from(FRAME)) as usize
}

/// Whether `d` lies inside one frame of an area of `area` bytes.
fn within(d: Desc, area: u64) -> bool {
    let start = d.addr % u64::from(FRAME);
    d.addr < area && start + u64::from(d.len) <= u64::from(FRAME)
}

/// `XDP_MAX_TX_SKB_BUDGET` (Linux 6.17): frames one `sendto` sends in copy mode.
const XDP_MAX_TX_SKB_BUDGET: libc::c_int = 9;
/// The budget asked for: a whole transmit ring.
const TX_BUDGET: u32 = RING;

/// Asks the kernel to send up to a ring's worth of frames per `sendto` (instead of 32);
/// a kernel without the option keeps 32.
fn raise_tx_budget(fd: RawFd) -> io::Result<()> {
    let budget = TX_BUDGET;
    // SAFETY: `budget` is a live u32 of the size given.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_XDP,
            XDP_MAX_TX_SKB_BUDGET,
            std::ptr::from_ref(&budget).cast(),
            std::mem::size_of::<u32>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Has the kernel send what is on socket `fd`'s transmit ring (up to its budget, 32
/// frames by default, in copy mode). `EAGAIN` means more is left (or the device is
/// busy): not an error.
fn kick(fd: RawFd) -> io::Result<()> {
    // SAFETY: a zero-length `sendto` without buffers or address.
    let r = unsafe {
        libc::sendto(
            fd,
            std::ptr::null(),
            0,
            libc::MSG_DONTWAIT,
            std::ptr::null(),
            0,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EAGAIN | libc::EBUSY | libc::ENOBUFS) => Ok(()),
            _ => Err(e),
        }
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Xsks {
        /// Every frame is somewhere: free, given to a fill ring, or on a transmit ring
        /// (none is held by the caller between calls).
        fn accounted(&self) -> usize {
            self.free.len()
                + self
                    .ports
                    .iter()
                    .map(|p| (p.filling + p.sending) as usize + p.staged.len())
                    .sum::<usize>()
        }
    }

    fn ip(args: &[&str]) {
        let out = std::process::Command::new("ip")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "ip {args:?}: {out:?}");
    }

    /// With real sockets on a veth (as root): thousands of frames received and sent
    /// back lose no frame, whatever the rings' cached views reserve (a short fill
    /// reservation once lost a frame each time, until the daemon had none left).
    #[test]
    fn frames_received_and_sent_are_never_lost() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: needs root");
            return;
        }
        let ns = format!("vpcd-ut-xsk-{}", std::process::id());
        ip(&["netns", "add", &ns]);
        struct Cleanup(String);
        impl Drop for Cleanup {
            fn drop(&mut self) {
                let _ = std::process::Command::new("ip")
                    .args(["netns", "del", &self.0])
                    .output();
            }
        }
        let _cleanup = Cleanup(ns.clone());
        ip(&[
            "-n", &ns, "link", "add", "name", "xa", "type", "veth", "peer", "name", "xb",
        ]);
        ip(&["-n", &ns, "link", "set", "xa", "up"]);
        ip(&["-n", &ns, "link", "set", "xb", "up"]);
        ip(&["-n", &ns, "addr", "add", "10.9.9.1/24", "dev", "xa"]);
        ip(&[
            "-n",
            &ns,
            "neigh",
            "add",
            "10.9.9.2",
            "lladdr",
            "02:00:00:00:00:02",
            "dev",
            "xa",
        ]);
        let path = format!("/run/netns/{ns}");
        let (received, sent, accounted, total) = std::thread::spawn(move || {
            let f = std::fs::File::open(&path).unwrap();
            nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let b = nix::net::if_::if_nametoindex("xb").unwrap();
            let redirect = super::super::bpf::Redirect::attach(b, 1).unwrap();
            let mut x = Xsks::new(&[b], 0).unwrap();
            redirect.insert(0, x.fd(0)).unwrap();
            let total = x.accounted();
            // A sender in the same namespace: datagrams to a neighbour that only the
            // veth leads to, as fast as it can.
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let sender = {
                let (path, stop) = (path.clone(), stop.clone());
                std::thread::spawn(move || {
                    let f = std::fs::File::open(&path).unwrap();
                    nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
                    let s = std::net::UdpSocket::bind("10.9.9.1:0").unwrap();
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let _ = s.send_to(&[7u8; 1000], "10.9.9.2:9");
                    }
                })
            };
            let (mut received, mut sent) = (0, 0);
            let mut descs = Vec::new();
            let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while received < 20_000 && std::time::Instant::now() < until {
                x.refill();
                descs.clear();
                x.receive(0, 64, &mut descs);
                for &d in &descs {
                    received += 1;
                    // Every other frame goes back out; the rest are released.
                    if received % 2 == 0 {
                        sent += u32::from(x.send(0, d));
                    } else {
                        x.release(d.addr);
                    }
                }
                x.flush(|_, _| {});
                if descs.is_empty() {
                    x.wait(10).unwrap();
                }
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            sender.join().unwrap();
            // Let the last sends complete.
            for _ in 0..100 {
                x.refill();
                if x.ports[0].sending == 0 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            // A frame the caller no longer holds is neither handed out nor freed twice.
            let a = x.alloc().unwrap();
            x.release(a);
            x.release(a);
            assert!(x.frame_mut(a, 64).is_empty());
            assert!(!x.send(0, Desc { addr: a, len: 64 }));
            (received, sent, x.accounted(), total)
        })
        .join()
        .unwrap();
        assert!(received >= 10_000, "received {received}");
        assert!(sent > 0);
        assert_eq!(accounted, total, "frames lost");
    }

    #[test]
    fn a_descriptor_must_lie_inside_one_frame_of_the_area() {
        let area = 2 * u64::from(FRAME);
        assert!(within(
            Desc {
                addr: 256,
                len: 3840
            },
            area
        ));
        assert!(!within(
            Desc {
                addr: 256,
                len: 3841
            },
            area
        ));
        assert!(within(
            Desc {
                addr: 4096,
                len: 60
            },
            area
        ));
        assert!(!within(
            Desc {
                addr: 8192,
                len: 60
            },
            area
        ));
    }
}

//! The AF_XDP port type (`vpcd run --io xdp`): each ENI (and each internet host's
//! `eth0`) is a veth whose instance end is in the instance's namespace and whose other
//! end, `p<slot>`, is in the daemon's port namespace, where an XDP program
//! (`sys::bpf`) hands every frame to an AF_XDP socket (`sys::xsk`). Frames carry
//! Ethernet: the link layer (`vpc_dataplane::link`) answers ARP as the VPC's router and
//! gives IPv4 packets to the pipeline; every packet written gets an Ethernet header to
//! the port's MAC address. Each forwarding thread owns one socket per port, on its own
//! queue of every veth (the veths have a queue per thread), and one memory area for all
//! of them; it enters the port namespace for good before it opens them.
//!
//! A wake-up reads up to [`BATCH`] frames per port, judges them with one snapshot of the
//! dataplane, copies each packet the pipeline sends into a frame of the destination's
//! socket, and has the kernel send each socket's frames with as few `sendto` calls as
//! copy mode allows. After a busy wake-up it spins a moment for more, as the TUN
//! threads do; otherwise it sleeps in `poll`.

use std::io;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::Mode;
use vpc_dataplane::link::{self, Ingress};
use vpc_dataplane::wire::ethernet::HEADER_LEN;
use vpc_dataplane::wire::fragment::Fragments;
use vpc_dataplane::{Batch, PacketBuf, Port, Verdict};

use crate::forward::{SPIN, SPIN_AFTER};
use crate::netns;
use crate::state::Shared;
use crate::sys::bpf::Redirect;
use crate::sys::xsk::{Desc, FRAME, Xsks};

/// Frames read from one port per wake-up at most.
const BATCH: u32 = 64;
/// The longest sleep: a thread looks at its ports' states at least this often.
const SLEEP_MS: i32 = 200;

/// What a forwarding thread needs to open its sockets.
#[derive(Debug, Clone)]
pub struct Ports {
    /// The port namespace.
    pub namespace: String,
    /// Per port ([`Shared::slot`]): its veth end's index in the port namespace.
    pub ifindexes: Vec<u32>,
    /// Per port: its XDP program and socket map.
    pub redirects: Arc<Vec<Redirect>>,
}

/// Whether this host can have AF_XDP ports: an AF_XDP socket can be made and the XDP
/// program loaded.
pub fn available() -> io::Result<()> {
    crate::sys::xsk::probe()?;
    Redirect::probe()
}

/// Loads and attaches the XDP program to every port's veth end (`p<slot>`, found in
/// namespace `namespace`), with `queues` queues; brings the ends up.
pub fn attach(namespace: &str, ports: usize, queues: usize) -> anyhow::Result<Ports> {
    let name = namespace.to_owned();
    let queues = u32::try_from(queues).unwrap_or(1);
    let (ifindexes, redirects) = netns::enter(namespace, move || {
        let mut ifindexes = Vec::with_capacity(ports);
        let mut redirects = Vec::with_capacity(ports);
        for slot in 0..ports {
            let peer = crate::instance::peer_name(slot);
            let index = nix::net::if_::if_nametoindex(peer.as_str()).map_err(|error| {
                crate::error::SetupError::Os {
                    what: format!("find {peer} in the port namespace"),
                    error,
                }
            })?;
            crate::sys::netdev::link_up(&peer)
                .map_err(crate::error::SetupError::io(format!("bring up {peer}")))?;
            let r = Redirect::attach(index, queues).map_err(crate::error::SetupError::io(
                format!("attach the XDP program to {peer}"),
            ))?;
            ifindexes.push(index);
            redirects.push(r);
        }
        Ok((ifindexes, redirects))
    })?;
    Ok(Ports {
        namespace: name,
        ifindexes,
        redirects: Arc::new(redirects),
    })
}

/// Opens this thread's sockets (queue `queue` of every port) inside the port namespace
/// and puts them in the XDP programs' maps.
fn open_sockets(ports: &Ports, queue: u32) -> io::Result<Xsks> {
    let fd = open(
        &netns::path(&ports.namespace),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    setns(&fd, CloneFlags::CLONE_NEWNET)?;
    let xsks = Xsks::new(&ports.ifindexes, queue)?;
    for (p, r) in ports.redirects.iter().enumerate() {
        r.insert(queue, xsks.fd(p))?;
    }
    Ok(xsks)
}

/// Forwards the frames of queue `queue` of every port until every port is down. Says
/// on `started` whether its sockets could be opened.
pub fn run_thread(
    shared: Arc<Shared>,
    ports: Ports,
    queue: u32,
    started: SyncSender<io::Result<()>>,
) {
    let mut xsks = match open_sockets(&ports, queue) {
        Ok(x) => {
            let _ = started.send(Ok(()));
            x
        }
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let all = shared.ports();
    let mut down = vec![false; all.len()];
    let counters = shared.thread_counters();
    let mut buf = PacketBuf::new(usize::try_from(FRAME).unwrap_or(4096));
    let mut descs = Vec::with_capacity(BATCH as usize);
    loop {
        xsks.refill();
        let now = shared.now();
        let snapshot = shared.engine().load();
        let mut guard = counters.lock().unwrap_or_else(PoisonError::into_inner);
        let mut batch = snapshot.batch(&mut guard);
        let mut got = 0;
        for (p, &from) in all.iter().enumerate() {
            descs.clear();
            xsks.receive(p, BATCH, &mut descs);
            got += descs.len();
            for &d in &descs {
                frame_in(&shared, &mut xsks, &mut batch, &mut buf, (p, from), d, now);
            }
        }
        drop(batch);
        drop(guard);
        xsks.flush(|p, n| {
            for _ in 0..n {
                shared.count_tx_error(all[p]);
            }
        });
        if got >= SPIN_AFTER {
            let until = Instant::now() + SPIN;
            while !xsks.any_received() && Instant::now() < until {
                std::hint::spin_loop();
            }
            continue;
        }
        if got > 0 {
            continue;
        }
        match xsks.wait(SLEEP_MS) {
            Ok(broken) => {
                for p in broken {
                    if !down[p] {
                        down[p] = true;
                        shared.mark_down(all[p], "AF_XDP socket error: the veth is gone");
                    }
                }
            }
            Err(e) => {
                for &port in &all {
                    shared.mark_down(port, &format!("poll: {e}"));
                }
                return;
            }
        }
        if down.iter().all(|&d| d) {
            return;
        }
    }
}

/// Handles frame `d` read from port `from` (index `p`): the link layer first, then the
/// pipeline for an IPv4 packet.
fn frame_in(
    shared: &Shared,
    xsks: &mut Xsks,
    batch: &mut Batch<'_>,
    buf: &mut PacketBuf,
    (p, from): (usize, Port),
    d: Desc,
    now: vpc_dataplane::Time,
) {
    let len = d.len as usize;
    let outcome = link::ingress(xsks.frame_mut(d.addr, d.len));
    match outcome {
        Ingress::Ipv4 => {}
        Ingress::ArpReply { len: reply } => {
            batch.counters().record_link(from, len, &outcome);
            let reply = Desc {
                addr: d.addr,
                len: u32::try_from(reply).unwrap_or(0),
            };
            if !xsks.send(p, reply) {
                shared.count_tx_error(from);
            }
            return;
        }
        Ingress::Drop(_) => {
            batch.counters().record_link(from, len, &outcome);
            xsks.release(d.addr);
            return;
        }
    }
    let packet = &xsks.frame(d)[HEADER_LEN..];
    let n = packet.len().min(buf.capacity());
    buf.buffer_mut()[..n].copy_from_slice(&packet[..n]);
    buf.set_len(n);
    buf.set_offload(vpc_dataplane::Offload::default());
    xsks.release(d.addr);
    match batch.process(now, from, buf) {
        Verdict::Drop(_) => {}
        Verdict::Multicast { group, members } => {
            for m in batch.members(group, members) {
                emit(shared, xsks, Port::Eni(m), buf);
            }
        }
        Verdict::Forward { to } | Verdict::Reply { to, .. } => emit(shared, xsks, to, buf),
    }
}

/// Writes `pkt` to port `to` behind an Ethernet header: as it is, or as its fragments if
/// the pipeline said so. A frame that cannot be had or queued is a write error.
fn emit(shared: &Shared, xsks: &mut Xsks, to: Port, pkt: &PacketBuf) {
    let slot = shared.slot(to);
    let bytes = pkt.as_bytes();
    let header = link::egress_header(to);
    let mut put = |parts: &[&[u8]]| {
        let total: usize = HEADER_LEN + parts.iter().map(|p| p.len()).sum::<usize>();
        let Some(addr) = xsks.alloc() else {
            shared.count_tx_error(to);
            return;
        };
        let frame = xsks.frame_mut(addr, FRAME);
        if total > frame.len() {
            xsks.release(addr);
            shared.count_tx_error(to);
            return;
        }
        frame[..HEADER_LEN].copy_from_slice(&header);
        let mut at = HEADER_LEN;
        for part in parts {
            frame[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        let d = Desc {
            addr,
            len: u32::try_from(total).unwrap_or(0),
        };
        if !xsks.send(slot, d) {
            shared.count_tx_error(to);
        }
    };
    let fragments = pkt
        .fragment_mtu()
        .and_then(|mtu| Fragments::new(bytes, usize::from(mtu)));
    match fragments {
        Some(fragments) => {
            for f in fragments {
                put(&[f.header(), &bytes[f.payload.clone()]]);
            }
        }
        None => put(&[bytes]),
    }
}

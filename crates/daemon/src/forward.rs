//! The forwarding loop: one task per port (an ENI, or a host of the emulated internet)
//! reads a batch of packets from its TUN device (one wake-up, then non-blocking reads),
//! runs the batch through the dataplane (no lock over it all: `vpc_dataplane::Engine`), and writes each packet the
//! verdicts send somewhere with a non-blocking write. With offloads on, every read and
//! write carries a virtio-net header (`vnet`): superpackets of up to 64 KiB are read,
//! judged and written whole. A device error (the device was
//! deleted) marks the port down and ends its task; nothing spins. A watchdog notices a
//! namespace removed from under the daemon.

use std::io::{ErrorKind, IoSliceMut};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tun_rs::AsyncDevice;
use vpc_dataplane::{PacketBuf, Port, Verdict, gro};

use crate::netns::{self, Identity};
use crate::state::Shared;
use crate::vnet;

/// Packets read per wake-up at most.
const BATCH: usize = 32;
/// Read buffer size: any IPv4 datagram fits, so nothing is ever truncated.
const BUF: usize = PacketBuf::MAX_DATAGRAM + 1;

/// Forwards packets from port `port` until its device fails.
pub async fn run_port(shared: Arc<Shared>, port: Port, dev: AsyncDevice) {
    let mut bufs: Vec<PacketBuf> = (0..BATCH).map(|_| PacketBuf::new(BUF)).collect();
    let mut hdr = [0u8; vnet::LEN];
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(BATCH);
    // The copies multicast verdicts send: (packet index, member port).
    let mut copies: Vec<(usize, Port)> = Vec::new();
    let offload = shared.offload();
    let counters = shared.thread_counters();
    // Each read scatters into the virtio-net header (none without offloads) and a buffer.
    let hdr_len = if offload { vnet::LEN } else { 0 };
    loop {
        let mut failed = None;
        let mut parts = [
            IoSliceMut::new(&mut hdr[..hdr_len]),
            IoSliceMut::new(bufs[0].buffer_mut()),
        ];
        match dev.recv_vectored(&mut parts).await {
            Ok(len) => land(&mut bufs[0], &hdr, len, offload),
            Err(e) => {
                shared.mark_down(port, &format!("device error: {e}"));
                return;
            }
        }
        let mut n = 1;
        while n < BATCH {
            let mut parts = [
                IoSliceMut::new(&mut hdr[..hdr_len]),
                IoSliceMut::new(bufs[n].buffer_mut()),
            ];
            match dev.try_recv_vectored(&mut parts) {
                Ok(len) => {
                    land(&mut bufs[n], &hdr, len, offload);
                    n += 1;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let now = shared.now();
        {
            // The configuration of the moment for the whole batch; the state inside
            // locks per part, and the counters are this task's.
            let snapshot = shared.engine().load();
            let mut counters = counters.lock().unwrap_or_else(PoisonError::into_inner);
            snapshot.process_batch(
                &mut counters,
                now,
                port,
                &mut bufs[..n],
                (&mut verdicts, &mut copies),
            );
        }
        transmit_batch(&shared, &mut bufs[..n], &verdicts, &copies);
        if let Some(e) = failed {
            shared.mark_down(port, &format!("device error: {e}"));
            return;
        }
    }
}

/// Writes what the verdicts send, in order (a multicast verdict's copies are in
/// `copies`, by packet index). If the devices take UDP superpackets, joins
/// consecutive UDP datagrams of one flow forwarded to one port into one (`gro::append`):
/// one write and one wake-up of the receiver for up to 64 datagrams. A datagram that
/// cannot join is written after the superpacket before it, so each port sees the
/// batch's order.
fn transmit_batch(
    shared: &Shared,
    bufs: &mut [PacketBuf],
    verdicts: &[Verdict],
    copies: &[(usize, Port)],
) {
    let coalesce = shared.uso();
    // The superpacket being built: its port and the buffer it grows in.
    let mut open: Option<(Port, usize)> = None;
    for (i, verdict) in verdicts.iter().enumerate() {
        let to = match *verdict {
            Verdict::Forward { to } => to,
            Verdict::Reply { to, .. } => to,
            Verdict::Multicast { .. } => {
                if let Some((port, head)) = open.take() {
                    flush(shared, port, &bufs[head]);
                }
                for &(_, member) in copies.iter().filter(|(k, _)| *k == i) {
                    shared.transmit(member, &bufs[i]);
                }
                continue;
            }
            Verdict::Drop(_) => continue,
        };
        let forward = matches!(verdict, Verdict::Forward { .. });
        if let Some((port, head)) = open {
            let (before, rest) = bufs.split_at_mut(i);
            if forward && port == to && gro::append(&mut before[head], &rest[0]) {
                continue;
            }
            flush(shared, port, &bufs[head]);
            open = None;
        }
        if forward && coalesce && gro::can_start(&bufs[i]) {
            open = Some((to, i));
        } else {
            shared.transmit(to, &bufs[i]);
        }
    }
    if let Some((port, head)) = open {
        flush(shared, port, &bufs[head]);
    }
}

/// Writes `pkt`, the head of a superpacket that may or may not have grown.
fn flush(shared: &Shared, port: Port, pkt: &PacketBuf) {
    if pkt.offload().gso != vpc_dataplane::Gso::None {
        shared.count_udp_superpacket();
    }
    shared.transmit(port, pkt);
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

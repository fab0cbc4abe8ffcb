//! The forwarding loop: one task per port (an ENI, or a host of the emulated internet)
//! reads a batch of packets from its TUN device (one wake-up, then non-blocking reads),
//! runs the batch through the dataplane under one lock, and writes each packet the
//! verdicts send somewhere with a non-blocking write. A device error (the device was
//! deleted) marks the port down and ends its task; nothing spins. A watchdog notices a
//! namespace removed from under the daemon.

use std::io::ErrorKind;
use std::sync::Arc;
use std::time::Duration;

use tun_rs::AsyncDevice;
use vpc_dataplane::{PacketBuf, Port, Verdict};

use crate::netns::{self, Identity};
use crate::state::Shared;

/// Packets read per wake-up at most.
const BATCH: usize = 32;
/// Read buffer size: any IPv4 datagram fits, so nothing is ever truncated.
const BUF: usize = PacketBuf::MAX_DATAGRAM + 1;

/// Forwards packets from port `port` until its device fails.
pub async fn run_port(shared: Arc<Shared>, port: Port, dev: AsyncDevice) {
    let mut bufs: Vec<PacketBuf> = (0..BATCH).map(|_| PacketBuf::new(BUF)).collect();
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(BATCH);
    loop {
        let mut failed = None;
        match dev.recv(bufs[0].buffer_mut()).await {
            Ok(n) => bufs[0].set_len(n),
            Err(e) => {
                shared.mark_down(port, &format!("device error: {e}"));
                return;
            }
        }
        let mut n = 1;
        while n < BATCH {
            match dev.try_recv(bufs[n].buffer_mut()) {
                Ok(len) => {
                    bufs[n].set_len(len);
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
        shared
            .dataplane()
            .process_batch(now, port, &mut bufs[..n], &mut verdicts);
        for (pkt, verdict) in bufs[..n].iter().zip(&verdicts) {
            if let Verdict::Forward { to } | Verdict::Reply { to, .. } = *verdict {
                shared.transmit(to, pkt.as_bytes());
            }
        }
        if let Some(e) = failed {
            shared.mark_down(port, &format!("device error: {e}"));
            return;
        }
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

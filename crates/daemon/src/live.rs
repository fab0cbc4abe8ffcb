//! Instances and internet hosts added and removed at run time (`vpcctl apply`,
//! SIGHUP, the API): before the next snapshot is published, the namespaces and TUN
//! devices of its new ports are made and every forwarding thread reads them
//! ([`prepare`]); after it is published, the ports it no longer has are closed and
//! their namespaces removed ([`finish`]). Ports that stay (`vpc_dataplane::Ports`)
//! are not touched: their namespaces, devices, queues, tracked connections and
//! counters carry on, so their flows see no change. An instance whose interfaces
//! change (an address, a subnet, an interface added) is made again: its namespace is
//! removed and made anew. AF_XDP ports (`--io xdp`) cannot be added yet: such a change
//! is refused there.

use std::collections::BTreeSet;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use std::time::Duration;

use vpc_config::{HostId, InstanceId};
use vpc_dataplane::{Port, Snapshot};

use crate::forward::PortChange;
use crate::instance::{self, Plan};
use crate::state::{PortIo, Shared, Watched};

/// How long a forwarding thread may take to pick up a change of its ports.
const THREAD_TIMEOUT: Duration = Duration::from_secs(5);

/// What [`finish`] removes once the next snapshot is published.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Slots of ports that are gone.
    slots: Vec<usize>,
    /// Their namespaces.
    namespaces: Vec<String>,
}

/// One namespace to make: its name, what it is, its plan and its ports.
struct Node {
    namespace: String,
    what: String,
    plan: Plan,
    ports: Vec<Port>,
}

/// Makes the namespaces and devices of the ports `next` (whose ports are `new`) has and
/// `current` has not, and has every forwarding thread read them; removes first the
/// namespaces of instances made again. On failure, what it made is removed again and
/// nothing else changed.
pub fn prepare(
    shared: &Shared,
    current: &Snapshot,
    next: &vpc_config::Topology,
    new: &Arc<vpc_dataplane::Ports>,
) -> Result<Prepared, String> {
    let old = current.ports();
    if Arc::ptr_eq(old, new) {
        return Ok(Prepared::default());
    }
    if shared.io.xdp {
        return Err(
            "adding or removing instances, network interfaces or internet hosts at \
                    run time needs TUN ports: with --io xdp, restart vpcd to apply this"
                .to_owned(),
        );
    }
    let Some(rt) = shared.io.runtime.clone() else {
        return Err("ports cannot be added here (no runtime)".to_owned());
    };
    let (ot, nt) = (current.topology(), next);
    let node_name = |t: &vpc_config::Topology, port: Port| match port {
        Port::Eni(e) => t.instance(t.eni(e).instance).name.clone(),
        Port::Host(h) => t.internet_host(h).name.clone(),
        Port::Services => crate::services::NAMESPACE.to_owned(),
    };
    let mut prepared = Prepared::default();
    for slot in new.removed_since(old) {
        prepared.slots.push(slot);
        if let Some(port) = old.port(slot) {
            let ns = shared.namespace(&node_name(ot, port));
            if !prepared.namespaces.contains(&ns) {
                prepared.namespaces.push(ns);
            }
        }
    }
    let mut instances = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    for (_, port) in new.added_since(old) {
        match port {
            Port::Eni(e) => instances.insert(nt.eni(e).instance),
            Port::Host(h) => hosts.insert(h),
            // Always there, never added (`vpc_dataplane::Ports`).
            Port::Services => false,
        };
    }
    let offload = shared.offload();
    let queues = shared.io.threads;
    let mut nodes: Vec<Node> = instances
        .into_iter()
        .map(|i: InstanceId| {
            let inst = nt.instance(i);
            Node {
                namespace: shared.namespace(&inst.name),
                what: format!("instance {}", inst.name),
                plan: Plan::instance(nt, new, i, offload).with_queues(queues),
                ports: inst.enis.iter().map(|&e| Port::Eni(e)).collect(),
            }
        })
        .collect();
    nodes.extend(hosts.into_iter().map(|h: HostId| {
        let host = nt.internet_host(h);
        Node {
            namespace: shared.namespace(&host.name),
            what: format!("internet host {}", host.name),
            plan: Plan::host(nt, new, h, offload).with_queues(queues),
            ports: vec![Port::Host(h)],
        }
    }));
    // An instance made again: its old namespace goes first (it has the same name).
    let mut rebuilt = Vec::new();
    let again: Vec<String> = nodes
        .iter()
        .map(|n| n.namespace.clone())
        .filter(|ns| prepared.namespaces.contains(ns))
        .collect();
    if !again.is_empty() {
        let slots: Vec<usize> = prepared
            .slots
            .iter()
            .copied()
            .filter(|&s| {
                old.port(s)
                    .is_some_and(|p| again.contains(&shared.namespace(&node_name(ot, p))))
            })
            .collect();
        prepared.slots.retain(|s| !slots.contains(s));
        prepared.namespaces.retain(|ns| !again.contains(ns));
        remove(
            shared,
            &Prepared {
                slots: slots.clone(),
                namespaces: again,
            },
        );
        rebuilt = slots;
    }
    let mut made = Prepared::default();
    for node in nodes {
        if let Err(e) = make(shared, &rt, node, new, &mut made) {
            remove(shared, &made);
            // The instances being made again lost their namespaces already: their
            // ports (still in the running configuration) are down.
            for &slot in &rebuilt {
                shared.mark_down_slot(slot, &format!("it was being made again and failed: {e}"));
            }
            return Err(e);
        }
    }
    Ok(prepared)
}

/// Makes one namespace and its devices, and hands each device's queues to the
/// forwarding threads; records what it made in `made`.
fn make(
    shared: &Shared,
    rt: &tokio::runtime::Handle,
    node: Node,
    ports: &vpc_dataplane::Ports,
    made: &mut Prepared,
) -> Result<(), String> {
    let ns = node.namespace.clone();
    let built = tokio::task::block_in_place(|| {
        shared.with_owner(|owner| instance::build(node.plan, &ns, owner, rt))
    })
    .ok_or("the daemon is stopping")?
    .map_err(|e| format!("{} (namespace {ns}): {e}", node.what))?;
    made.namespaces.push(ns.clone());
    let threads = shared.threads();
    let mut slots = Vec::new();
    for (&port, devs) in node.ports.iter().zip(built.devices) {
        let slot = ports.slot(port);
        made.slots.push(slot);
        slots.push(slot);
        let writer = devs
            .first()
            .map(|d| d.as_fd().try_clone_to_owned())
            .transpose()
            .map_err(|e| format!("duplicate a TUN descriptor: {e}"))?;
        {
            let mut table = shared.port_table();
            if table.len() <= slot {
                table.resize_with(slot + 1, PortIo::default);
            }
            table[slot] = PortIo {
                writer,
                ..PortIo::default()
            };
        }
        for (dev, thread) in devs.into_iter().zip(&threads) {
            dev.set_nonblocking(true)
                .map_err(|e| format!("make a TUN queue non-blocking: {e}"))?;
            let (done, answer) = sync_channel(1);
            thread
                .send(PortChange::Add {
                    slot,
                    queue: dev,
                    done,
                })
                .map_err(|_| "a forwarding thread has ended".to_owned())?;
            answer
                .recv_timeout(THREAD_TIMEOUT)
                .map_err(|_| "a forwarding thread did not answer".to_owned())??;
        }
    }
    shared.watched().push(Watched {
        namespace: ns.clone(),
        identity: built.identity,
        slots,
    });
    println!("{}: namespace {ns} made", node.what);
    Ok(())
}

/// After the next snapshot is published: closes the ports that are gone and removes
/// their namespaces.
pub fn finish(shared: &Shared, prepared: Prepared) {
    for ns in &prepared.namespaces {
        println!("namespace {ns} removed");
    }
    remove(shared, &prepared);
}

/// Has every forwarding thread stop reading `what`'s slots, empties their entries, and
/// removes its namespaces.
fn remove(shared: &Shared, what: &Prepared) {
    for &slot in &what.slots {
        for thread in shared.threads() {
            let (done, answer) = sync_channel(1);
            if thread.send(PortChange::Remove { slot, done }).is_ok() {
                let _ = answer.recv_timeout(THREAD_TIMEOUT);
            }
        }
        if let Some(entry) = shared.port_table().get_mut(slot) {
            *entry = PortIo::default();
        }
    }
    shared
        .watched()
        .retain(|w| !what.namespaces.contains(&w.namespace));
    for ns in &what.namespaces {
        shared.with_owner(|owner| owner.remove(ns));
    }
}

//! Ports across configuration changes. Inside a snapshot a port is its index in the
//! topology ([`Port::Eni`] by [`EniId`], [`Port::Host`] by [`HostId`]), which moves when
//! instances or internet hosts are added or removed. What the daemon keeps per port
//! (devices, queues, write errors) and what lives on across snapshots (connection
//! tables, link state, counters) is found by the port's *slot* instead: a number given
//! to a port when it first appears and never given to another port while the engine
//! runs. A port keeps its slot across a change as long as it keeps its key: for an
//! ENI, its instance with every interface of the instance as it is built (device,
//! address, subnet block); for an internet host, its name and address; the services
//! port ([`Port::Services`]) is always there and keeps its slot. A change to an
//! instance's interfaces so makes every port of the instance a new one: its namespace
//! is made again.

use std::fmt::Write as _;

use vpc_config::{EniId, HostId, InstanceId, Topology};

use crate::verdict::Port;

/// The slots of one snapshot's ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports {
    /// Per ENI (by [`EniId`]): its slot.
    enis: Vec<u32>,
    /// Per internet host (by [`HostId`]): its slot.
    hosts: Vec<u32>,
    /// The services port's slot.
    services: u32,
    /// Per slot: the port there, if it is still in this snapshot.
    by_slot: Vec<Option<Port>>,
    /// Per slot: the port's key (kept for slots whose port is gone, so a key never
    /// comes back to another slot... nor to its old one: see [`Ports::next`]).
    keys: Vec<String>,
}

/// What makes an instance's ports the same ports: every interface as it is built.
fn instance_key(t: &Topology, i: InstanceId) -> String {
    let inst = t.instance(i);
    let mut key = format!("instance {}", inst.name);
    for &e in &inst.enis {
        let eni = t.eni(e);
        let _ = write!(
            key,
            " {} {}/{}",
            eni.device(),
            eni.private_ip,
            t.subnet(eni.subnet).cidr.prefix_len()
        );
    }
    key
}

/// The services port's key.
const SERVICES_KEY: &str = "services";

/// Every port's key, ENIs first (in [`EniId`] order), then internet hosts, then the
/// services port.
fn keys(t: &Topology) -> Vec<String> {
    let instances: Vec<String> = (0..t.instances.len())
        .map(|i| instance_key(t, InstanceId(i as u32)))
        .collect();
    t.eni_ids()
        .map(|e| {
            let eni = t.eni(e);
            format!("{}: {}", instances[eni.instance.index()], eni.device())
        })
        .chain(
            t.internet_hosts
                .iter()
                .map(|h| format!("host {} {}", h.name, h.address)),
        )
        .chain(std::iter::once(SERVICES_KEY.to_owned()))
        .collect()
}

impl Ports {
    /// The first snapshot's ports: ENIs take slots `0..enis`, internet hosts the next,
    /// the services port the last.
    pub fn new(t: &Topology) -> Ports {
        let keys = keys(t);
        let n = t.enis.len();
        let services = keys.len() as u32 - 1;
        Ports {
            enis: (0..n as u32).collect(),
            hosts: (n as u32..services).collect(),
            services,
            by_slot: t
                .eni_ids()
                .map(Port::Eni)
                .chain((0..t.internet_hosts.len()).map(|h| Port::Host(HostId(h as u32))))
                .chain(std::iter::once(Port::Services))
                .map(Some)
                .collect(),
            keys,
        }
    }

    /// The ports of `new` after these: a port whose key was here keeps its slot (if it
    /// was still present here); every other port takes a new slot after the last.
    /// `None` if nothing changed (the caller keeps these).
    pub fn next(&self, new: &Topology) -> Option<Ports> {
        let keys = keys(new);
        let live = |k: &String| {
            self.keys
                .iter()
                .position(|o| o == k)
                .filter(|&s| self.by_slot[s].is_some())
        };
        let unchanged = keys.len() == self.enis.len() + self.hosts.len() + 1
            && keys
                .iter()
                .zip(self.enis.iter().chain(&self.hosts).chain([&self.services]))
                .all(|(k, &s)| self.keys[s as usize] == *k);
        if unchanged {
            return None;
        }
        let mut next = Ports {
            enis: Vec::with_capacity(new.enis.len()),
            hosts: Vec::with_capacity(new.internet_hosts.len()),
            services: self.services,
            by_slot: vec![None; self.by_slot.len()],
            keys: self.keys.clone(),
        };
        let (n, h) = (new.enis.len(), new.internet_hosts.len());
        for (i, key) in keys.into_iter().enumerate() {
            let port = if i < n {
                Port::Eni(EniId(i as u32))
            } else if i < n + h {
                Port::Host(HostId((i - n) as u32))
            } else {
                Port::Services
            };
            let slot = match live(&key) {
                Some(s) => s,
                None => {
                    next.keys.push(key);
                    next.by_slot.push(None);
                    next.keys.len() - 1
                }
            };
            next.by_slot[slot] = Some(port);
            match port {
                Port::Eni(_) => next.enis.push(slot as u32),
                Port::Host(_) => next.hosts.push(slot as u32),
                Port::Services => next.services = slot as u32,
            }
        }
        Some(next)
    }

    /// Port `port`'s slot.
    #[inline]
    pub fn slot(&self, port: Port) -> usize {
        match port {
            Port::Eni(e) => self.enis[e.index()] as usize,
            Port::Host(h) => self.hosts[h.index()] as usize,
            Port::Services => self.services as usize,
        }
    }

    /// The port in slot `slot`, if it is one of this snapshot's.
    #[inline]
    pub fn port(&self, slot: usize) -> Option<Port> {
        self.by_slot.get(slot).copied().flatten()
    }

    /// Slots given out so far (present or gone): every slot is below this.
    pub fn slots(&self) -> usize {
        self.by_slot.len()
    }

    /// Every port of this snapshot with its slot, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, Port)> + '_ {
        self.by_slot
            .iter()
            .enumerate()
            .filter_map(|(s, p)| Some((s, (*p)?)))
    }

    /// The ports here that `older` did not have (new slots), in slot order.
    pub fn added_since<'a>(&'a self, older: &'a Ports) -> impl Iterator<Item = (usize, Port)> + 'a {
        self.iter().filter(move |&(s, _)| older.port(s).is_none())
    }

    /// The slots `older` had that are gone here.
    pub fn removed_since<'a>(&'a self, older: &'a Ports) -> impl Iterator<Item = usize> + 'a {
        older
            .iter()
            .filter(|&(s, _)| self.port(s).is_none())
            .map(|(s, _)| s)
    }

    /// For each ENI here (by [`EniId`]): the same port's [`EniId`] in `older`, if it
    /// was there.
    pub(crate) fn eni_before(&self, older: &Ports) -> Vec<Option<EniId>> {
        self.enis
            .iter()
            .map(|&s| match older.port(s as usize) {
                Some(Port::Eni(e)) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// For each internet host here (by [`HostId`]): the same host's [`HostId`] in
    /// `older`, if it was there.
    pub(crate) fn host_before(&self, older: &Ports) -> Vec<Option<HostId>> {
        self.hosts
            .iter()
            .map(|&s| match older.port(s as usize) {
                Some(Port::Host(h)) => Some(h),
                _ => None,
            })
            .collect()
    }

    /// How many ENIs and internet hosts.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.enis.len(), self.hosts.len())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

    use super::*;

    fn topology(extra: &str) -> Topology {
        let text = format!(
            r#"
[[vpc]]
name = "v"
cidr = "10.0.0.0/16"

[[subnet]]
name = "s"
vpc = "v"
cidr = "10.0.1.0/24"
az = "a"

[[instance]]
name = "a"
subnet = "s"
private_ip = "10.0.1.10"
{extra}
[[internet_host]]
name = "h"
address = "203.0.113.10"
"#
        );
        vpc_config::parse(&text, "t.toml").unwrap()
    }

    #[test]
    fn slots_stay_with_their_ports_and_are_never_given_again() {
        let one = topology("");
        let p1 = Ports::new(&one);
        assert_eq!(p1.slot(Port::Eni(EniId(0))), 0);
        assert_eq!(p1.slot(Port::Host(HostId(0))), 1);
        assert_eq!(p1.next(&one), None, "the same topology changes nothing");

        // An instance before `a`: `a` is now ENI 1 but keeps slot 0; the new one gets
        // slot 3 (2 is the services port's).
        let two =
            topology("\n[[instance]]\nname = \"b\"\nsubnet = \"s\"\nprivate_ip = \"10.0.1.11\"\n");
        let p2 = p1.next(&two).unwrap();
        let b = two.instances.iter().position(|i| i.name == "b").unwrap();
        let b_eni = two.instances[b].enis[0];
        let a_eni = two.instances[1 - b].enis[0];
        assert_eq!(p2.slot(Port::Eni(a_eni)), 0);
        assert_eq!(p2.slot(Port::Eni(b_eni)), 3);
        assert_eq!(p2.slot(Port::Host(HostId(0))), 1);
        assert_eq!(p2.slot(Port::Services), 2);
        assert_eq!(
            p2.added_since(&p1).collect::<Vec<_>>(),
            [(3, Port::Eni(b_eni))]
        );
        assert_eq!(p2.removed_since(&p1).count(), 0);
        assert_eq!(p2.eni_before(&p1)[a_eni.index()], Some(EniId(0)));
        assert_eq!(p2.eni_before(&p1)[b_eni.index()], None);

        // Back to one instance: slot 3 is gone and stays gone; adding `b` again gives
        // it slot 4.
        let p3 = p2.next(&one).unwrap();
        assert_eq!(p3.removed_since(&p2).collect::<Vec<_>>(), [3]);
        assert_eq!(p3.port(3), None);
        let p4 = p3.next(&two).unwrap();
        assert_eq!(p4.slot(Port::Eni(b_eni)), 4);
        assert_eq!(p4.slot(Port::Services), 2);
        assert_eq!(p4.slots(), 5);
    }

    #[test]
    fn a_changed_interface_makes_its_instance_new() {
        let one = topology("");
        let p1 = Ports::new(&one);
        let moved = {
            let mut t = one.clone();
            t.enis[0].private_ip = "10.0.1.99".parse().unwrap();
            t
        };
        let p2 = p1.next(&moved).unwrap();
        assert_eq!(p2.slot(Port::Eni(EniId(0))), 3);
        assert_eq!(p2.removed_since(&p1).collect::<Vec<_>>(), [0]);
        assert_eq!(p2.slot(Port::Host(HostId(0))), 1);
    }
}

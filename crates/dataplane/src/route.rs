//! Stage 5, `route`: the subnet's route table, longest prefix match, with AWS's rules
//! (VPC user guide, "Route priority"): the most specific route wins; among routes for
//! the same prefix, `local` comes first (later: static before propagated). A route whose
//! target is gone (here: an ENI whose device or namespace disappeared) stays in the
//! table in state `blackhole` and drops what it matches; AWS does not fall back to a
//! less specific route.
//!
//! A [`RouteTable`] keeps its routes in a `BTreeMap` by prefix (for `insert`'s
//! same-prefix rule and for listing) and answers lookups from an [`Lpm`] index built
//! from them by the first lookup after a change (tables are built from the
//! configuration, then only read): the address space cut into the intervals the
//! prefixes induce, reached through a direct index on the address's top bits sized to
//! the table (see `lpm.rs`): three dependent reads and no popcounts.
//!
//! Measured with `cargo bench -p vpc-bench --bench pipeline -- lpm` (random tables, half
//! /24s and half /8 to /32, lookups of 65,536 addresses inside them) on the 2-core
//! development machine: about 4 ns per lookup at 10 routes, 5 ns at 1,000, 15 ns at
//! 100,000 and 30 ns at 1,000,000 (8 ns at 100,000 when the lookups rotate through
//! 4,096 addresses, as the benchmark did when `prefix-trie` measured 52 ns there).
//! `prefix-trie`'s `PrefixMap`, used before, takes about 40, 40, 80 and 120 ns on the
//! same lookups; the `poptrie` crate (0.2), tried first, 30 to 40, 30 to 40, 85 and
//! 100 ns, since a baseline x86-64 build has no `POPCNT` and it counts bits at every
//! 6-bit level. A table takes about 80 bytes per route from 1,000 routes up (35 for the
//! map, 45 for the index), 440 bytes with 3 routes; building the index takes 7 ms at
//! 100,000 routes and 90 ms at 1,000,000.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::OnceLock;

use ipnet::Ipv4Net;
#[cfg(test)]
use vpc_config::RouteTarget;

use crate::lpm::Lpm;

/// A route as the dataplane holds it: the configuration's (destination, target and
/// origin, which breaks ties between equal prefixes).
pub use vpc_config::Route;

/// A route's state, as AWS shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteState {
    /// The target exists.
    Active,
    /// The target is gone; matching packets are dropped.
    Blackhole,
}

impl RouteState {
    /// AWS's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            RouteState::Active => "active",
            RouteState::Blackhole => "blackhole",
        }
    }
}

/// One route table: its routes by prefix, and a longest-prefix-match index over them,
/// built by the first lookup after a change.
#[derive(Clone, Default)]
pub struct RouteTable {
    /// Every route, keyed by its prefix with host bits cleared: the source of truth.
    routes: BTreeMap<Ipv4Net, Route>,
    /// The lookup index over `routes`; empty until a lookup needs it, emptied by every
    /// change to `routes`.
    lpm: OnceLock<Lpm<Route>>,
}

impl RouteTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `route`; if a route for the same prefix exists, the one with the better
    /// origin stays (`local` first among equals). Returns whether `route` was kept.
    pub fn insert(&mut self, route: Route) -> bool {
        let key = route.destination.trunc();
        if self
            .routes
            .get(&key)
            .is_some_and(|e| e.origin <= route.origin)
        {
            return false;
        }
        self.routes.insert(key, route);
        self.lpm = OnceLock::new();
        true
    }

    /// The route for `dst`: the longest matching prefix.
    #[inline]
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<&Route> {
        let lpm = match self.lpm.get() {
            Some(lpm) => lpm,
            None => self.build_lpm(),
        };
        lpm.lookup(u32::from(dst))
    }

    /// Builds the lookup index now (the pipeline does when it compiles a configuration,
    /// so that no packet pays for it).
    pub fn prepare(&self) {
        self.build_lpm();
    }

    /// The index over the routes, built now if no lookup has since the last change; out
    /// of line so that `lookup` stays small enough to inline.
    #[cold]
    #[inline(never)]
    fn build_lpm(&self) -> &Lpm<Route> {
        self.lpm
            .get_or_init(|| Lpm::build(self.routes.iter().map(|(net, r)| (*net, *r))))
    }

    /// Every route, by prefix (network address, then length: a prefix before the
    /// prefixes inside it).
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.values()
    }
}

impl fmt::Debug for RouteTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteTable")
            .field("routes", &self.routes)
            .field("lpm", &self.lpm.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use vpc_config::{EniId, RouteOrigin};

    fn route(dest: &str, target: RouteTarget, origin: RouteOrigin) -> Route {
        Route {
            destination: dest.parse().unwrap(),
            target,
            origin,
        }
    }

    #[test]
    fn longest_prefix_wins_and_local_first_among_equals() {
        let mut t = RouteTable::new();
        assert!(t.insert(route("10.0.0.0/16", RouteTarget::Local, RouteOrigin::Local)));
        assert!(t.insert(route(
            "0.0.0.0/0",
            RouteTarget::Eni(EniId(1)),
            RouteOrigin::Static
        )));
        assert!(t.insert(route(
            "10.0.2.0/24",
            RouteTarget::Eni(EniId(2)),
            RouteOrigin::Static
        )));
        // A static route for the local prefix loses to local, whichever comes first.
        assert!(!t.insert(route(
            "10.0.0.0/16",
            RouteTarget::Eni(EniId(3)),
            RouteOrigin::Static
        )));
        let mut u = RouteTable::new();
        assert!(u.insert(route(
            "10.0.0.0/16",
            RouteTarget::Eni(EniId(3)),
            RouteOrigin::Static
        )));
        assert!(u.insert(route("10.0.0.0/16", RouteTarget::Local, RouteOrigin::Local)));
        assert_eq!(
            u.lookup("10.0.9.9".parse().unwrap()).unwrap().target,
            RouteTarget::Local
        );

        let target = |ip: &str| t.lookup(ip.parse().unwrap()).map(|r| r.target);
        assert_eq!(target("10.0.1.10"), Some(RouteTarget::Local));
        assert_eq!(target("10.0.2.10"), Some(RouteTarget::Eni(EniId(2))));
        assert_eq!(target("192.0.2.1"), Some(RouteTarget::Eni(EniId(1))));
        assert_eq!(t.routes().count(), 3);
        let empty = RouteTable::new();
        assert_eq!(empty.lookup("10.0.0.1".parse().unwrap()), None);
    }

    /// What a lookup of `dst` must find among `all` (in insertion order): of the routes
    /// containing it, the longest prefix, then the best origin, then the first inserted.
    fn naive(all: &[Route], dst: Ipv4Addr) -> Option<Route> {
        all.iter()
            .filter(|r| r.destination.contains(&dst))
            .min_by_key(|r| (std::cmp::Reverse(r.destination.prefix_len()), r.origin))
            .copied()
    }

    fn eni(dest: &str, n: u32) -> Route {
        route(dest, RouteTarget::Eni(EniId(n)), RouteOrigin::Static)
    }

    fn at(t: &RouteTable, ip: &str) -> Option<Ipv4Net> {
        t.lookup(ip.parse().unwrap()).map(|r| r.destination)
    }

    fn net(s: &str) -> Option<Ipv4Net> {
        Some(s.parse().unwrap())
    }

    /// Nested prefixes whose lengths sit either side of where a multibit trie would cut
    /// (/6 | /7, /16 | /17, /24 | /25, /31, /32), probed at their first and last
    /// addresses and one past each end.
    #[test]
    fn stride_boundary_lengths() {
        // In the order `routes()` lists them (a prefix before the prefixes inside it).
        const PREFIXES: [&str; 8] = [
            "8.0.0.0/6",
            "10.0.0.0/7",
            "10.1.0.0/16",
            "10.1.128.0/17",
            "10.1.200.0/24",
            "10.1.200.128/25",
            "10.1.200.130/31",
            "10.1.200.131/32",
        ];
        let mut t = RouteTable::new();
        for (i, p) in PREFIXES.into_iter().enumerate() {
            assert!(t.insert(eni(p, i as u32)));
        }
        assert_eq!(at(&t, "7.255.255.255"), None);
        assert_eq!(at(&t, "8.0.0.0"), net("8.0.0.0/6"));
        assert_eq!(at(&t, "9.255.255.255"), net("8.0.0.0/6"));
        assert_eq!(at(&t, "10.0.0.0"), net("10.0.0.0/7"));
        assert_eq!(at(&t, "11.255.255.255"), net("10.0.0.0/7"));
        assert_eq!(at(&t, "12.0.0.0"), None);
        assert_eq!(at(&t, "10.0.255.255"), net("10.0.0.0/7"));
        assert_eq!(at(&t, "10.1.0.0"), net("10.1.0.0/16"));
        assert_eq!(at(&t, "10.1.127.255"), net("10.1.0.0/16"));
        assert_eq!(at(&t, "10.1.128.0"), net("10.1.128.0/17"));
        assert_eq!(at(&t, "10.1.255.255"), net("10.1.128.0/17"));
        assert_eq!(at(&t, "10.2.0.0"), net("10.0.0.0/7"));
        assert_eq!(at(&t, "10.1.199.255"), net("10.1.128.0/17"));
        assert_eq!(at(&t, "10.1.200.0"), net("10.1.200.0/24"));
        assert_eq!(at(&t, "10.1.200.127"), net("10.1.200.0/24"));
        assert_eq!(at(&t, "10.1.200.128"), net("10.1.200.128/25"));
        assert_eq!(at(&t, "10.1.200.129"), net("10.1.200.128/25"));
        assert_eq!(at(&t, "10.1.200.130"), net("10.1.200.130/31"));
        assert_eq!(at(&t, "10.1.200.131"), net("10.1.200.131/32"));
        assert_eq!(at(&t, "10.1.200.132"), net("10.1.200.128/25"));
        assert_eq!(at(&t, "10.1.200.255"), net("10.1.200.128/25"));
        assert_eq!(at(&t, "10.1.201.0"), net("10.1.128.0/17"));
        let listed: Vec<String> = t.routes().map(|r| r.destination.to_string()).collect();
        assert_eq!(listed, PREFIXES);
    }

    #[test]
    fn default_and_host_routes_at_the_ends_of_the_space() {
        let mut t = RouteTable::new();
        assert!(t.insert(eni("0.0.0.0/0", 0)));
        assert!(t.insert(eni("0.0.0.0/32", 1)));
        assert!(t.insert(eni("255.255.255.255/32", 2)));
        assert_eq!(at(&t, "0.0.0.0"), net("0.0.0.0/32"));
        assert_eq!(at(&t, "0.0.0.1"), net("0.0.0.0/0"));
        assert_eq!(at(&t, "255.255.255.254"), net("0.0.0.0/0"));
        assert_eq!(at(&t, "255.255.255.255"), net("255.255.255.255/32"));
    }

    #[test]
    fn a_change_after_a_lookup_is_seen_by_the_next_lookup() {
        let mut t = RouteTable::new();
        assert_eq!(at(&t, "10.0.1.1"), None);
        assert!(t.insert(eni("10.0.0.0/16", 1)));
        assert_eq!(at(&t, "10.0.1.1"), net("10.0.0.0/16"));
        assert!(t.insert(eni("10.0.1.0/24", 2)));
        assert_eq!(at(&t, "10.0.1.1"), net("10.0.1.0/24"));
        // A clone taken after the index is built answers the same, and changes apart.
        let mut c = t.clone();
        assert!(c.insert(route("10.0.0.0/16", RouteTarget::Local, RouteOrigin::Local)));
        assert_eq!(
            c.lookup("10.0.2.1".parse().unwrap()).unwrap().target,
            RouteTarget::Local
        );
        assert_eq!(
            t.lookup("10.0.2.1".parse().unwrap()).unwrap().target,
            RouteTarget::Eni(EniId(1))
        );
        // A refused insert changes nothing.
        assert!(!c.insert(eni("10.0.0.0/16", 3)));
        assert_eq!(
            c.lookup("10.0.2.1".parse().unwrap()).unwrap().target,
            RouteTarget::Local
        );
    }

    /// A prefix for the property tests: anywhere, or around one of a few addresses so
    /// that prefixes nest, overlap and repeat, with /0 and /32 often.
    fn any_prefix() -> impl Strategy<Value = Ipv4Net> {
        const NEAR: [u32; 4] = [0x0a00_0000, 0x0a01_c800, 0xc0a8_0000, 0xffff_ff00];
        prop_oneof![
            (any::<u32>(), 0u8..=32),
            (0usize..NEAR.len(), any::<u8>(), 0u8..=32)
                .prop_map(|(i, low, len)| (NEAR[i] | u32::from(low & 0x83), len)),
            (0usize..NEAR.len(), any::<u8>()).prop_map(|(i, low)| (NEAR[i] | u32::from(low), 32)),
            Just((0, 0)),
            Just((u32::MAX, 32)),
        ]
        .prop_map(|(addr, len)| Ipv4Net::new_assert(Ipv4Addr::from(addr), len))
    }

    proptest! {
        /// Against a naive model: of all routes containing the address, the longest
        /// prefix, then the best origin.
        #[test]
        fn lookup_matches_a_linear_scan(
            routes in proptest::collection::vec((any::<u32>(), 0u8..=32, any::<bool>()), 0..60),
            probes in proptest::collection::vec(any::<u32>(), 1..60),
        ) {
            let mut t = RouteTable::new();
            let mut all: Vec<Route> = Vec::new();
            for (i, (addr, len, local)) in routes.into_iter().enumerate() {
                let destination = Ipv4Net::new_assert(Ipv4Addr::from(addr), len).trunc();
                let (target, origin) = if local {
                    (RouteTarget::Local, RouteOrigin::Local)
                } else {
                    (RouteTarget::Eni(EniId(i as u32)), RouteOrigin::Static)
                };
                let r = Route { destination, target, origin };
                t.insert(r);
                all.push(r);
            }
            // Probe random addresses and every route's own network address.
            let probes = probes.into_iter().map(Ipv4Addr::from).chain(all.iter().map(|r| r.destination.network()));
            for dst in probes {
                let best_len = all.iter().filter(|r| r.destination.contains(&dst)).map(|r| r.destination.prefix_len()).max();
                let expected = best_len.map(|len| {
                    // Among equals: the best origin, and among those the first inserted.
                    let mut cands: Vec<&Route> = all.iter().filter(|r| r.destination.contains(&dst) && r.destination.prefix_len() == len).collect();
                    cands.sort_by_key(|r| r.origin);
                    *cands[0]
                });
                prop_assert_eq!(t.lookup(dst).copied(), expected);
            }
        }

        /// Against the naive model, with overlapping and repeated prefixes, /0 and /32,
        /// host bits left set, lookups between inserts (so the index is rebuilt), and
        /// probes at and just outside every prefix's ends; and `routes` lists each
        /// prefix's winner once, in prefix order.
        #[test]
        fn overlapping_prefixes_match_the_naive_model(
            batches in proptest::collection::vec(
                proptest::collection::vec((any_prefix(), any::<bool>(), any::<bool>()), 0..40),
                1..4,
            ),
            probes in proptest::collection::vec(any::<u32>(), 0..20),
        ) {
            let mut t = RouteTable::new();
            let mut all: Vec<Route> = Vec::new();
            for batch in batches {
                for (destination, local, keep_host_bits) in batch {
                    let n = all.len() as u32;
                    let destination = if keep_host_bits {
                        destination
                    } else {
                        destination.trunc()
                    };
                    let (target, origin) = if local {
                        (RouteTarget::Local, RouteOrigin::Local)
                    } else {
                        (RouteTarget::Eni(EniId(n)), RouteOrigin::Static)
                    };
                    let r = Route { destination, target, origin };
                    let kept = t.insert(r);
                    let key = destination.trunc();
                    let earlier = all.iter().filter(|e| e.destination.trunc() == key).map(|e| e.origin).min();
                    prop_assert_eq!(kept, earlier.is_none_or(|o| origin < o));
                    all.push(r);
                }
                let ends = all.iter().flat_map(|r| {
                    let (lo, hi) = (u32::from(r.destination.network()), u32::from(r.destination.broadcast()));
                    [lo, hi, lo.wrapping_sub(1), hi.wrapping_add(1)]
                });
                for dst in probes.iter().copied().chain(ends).chain([0, u32::MAX]).map(Ipv4Addr::from) {
                    prop_assert_eq!(t.lookup(dst).copied(), naive(&all, dst), "{}", dst);
                }
            }
            let mut winners: BTreeMap<Ipv4Net, Route> = BTreeMap::new();
            for r in &all {
                let w = winners.entry(r.destination.trunc()).or_insert(*r);
                if r.origin < w.origin {
                    *w = *r;
                }
            }
            prop_assert_eq!(t.routes().copied().collect::<Vec<_>>(), winners.into_values().collect::<Vec<_>>());
        }
    }
}

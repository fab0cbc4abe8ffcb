//! Stage 5, `route`: the subnet's route table, longest prefix match, with AWS's rules
//! (VPC user guide, "Route priority"): the most specific route wins; among routes for
//! the same prefix, `local` comes first (later: static before propagated). A route whose
//! target is gone (here: an ENI whose device or namespace disappeared) stays in the
//! table in state `blackhole` and drops what it matches; AWS does not fall back to a
//! less specific route.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use prefix_trie::PrefixMap;
use vpc_config::RouteTarget;

/// Where a route came from; at equal prefix length the lower one wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// The VPC's own `local` route (one per VPC CIDR).
    Local,
    /// A route written in the configuration.
    Static,
}

/// A route as the dataplane holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Destination prefix.
    pub destination: Ipv4Net,
    /// Target.
    pub target: RouteTarget,
    /// Origin, for ties.
    pub origin: Origin,
}

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

/// One route table: a longest-prefix-match trie of routes.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    lpm: PrefixMap<Ipv4Net, Route>,
}

impl RouteTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `route`; if a route for the same prefix exists, the one with the better
    /// origin stays (`local` first among equals). Returns whether `route` was kept.
    pub fn insert(&mut self, route: Route) -> bool {
        if self
            .lpm
            .get(&route.destination)
            .is_some_and(|e| e.origin <= route.origin)
        {
            return false;
        }
        self.lpm.insert(route.destination, route);
        true
    }

    /// The route for `dst`: the longest matching prefix.
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<&Route> {
        self.lpm
            .get_lpm(&Ipv4Net::new_assert(dst, 32))
            .map(|(_, r)| r)
    }

    /// Every route, by prefix.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.lpm.iter().map(|(_, r)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use vpc_config::EniId;

    fn route(dest: &str, target: RouteTarget, origin: Origin) -> Route {
        Route {
            destination: dest.parse().unwrap(),
            target,
            origin,
        }
    }

    #[test]
    fn longest_prefix_wins_and_local_first_among_equals() {
        let mut t = RouteTable::new();
        assert!(t.insert(route("10.0.0.0/16", RouteTarget::Local, Origin::Local)));
        assert!(t.insert(route(
            "0.0.0.0/0",
            RouteTarget::Eni(EniId(1)),
            Origin::Static
        )));
        assert!(t.insert(route(
            "10.0.2.0/24",
            RouteTarget::Eni(EniId(2)),
            Origin::Static
        )));
        // A static route for the local prefix loses to local, whichever comes first.
        assert!(!t.insert(route(
            "10.0.0.0/16",
            RouteTarget::Eni(EniId(3)),
            Origin::Static
        )));
        let mut u = RouteTable::new();
        assert!(u.insert(route(
            "10.0.0.0/16",
            RouteTarget::Eni(EniId(3)),
            Origin::Static
        )));
        assert!(u.insert(route("10.0.0.0/16", RouteTarget::Local, Origin::Local)));
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
                    (RouteTarget::Local, Origin::Local)
                } else {
                    (RouteTarget::Eni(EniId(i as u32)), Origin::Static)
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
    }
}

//! Instances added and removed at run time (`Snapshot::next` with other ports): a port
//! that stays keeps its tracked connections, link state and counters under its new
//! index; a new one starts empty; a removed one's go with it.

use vpc_config::{EniId, HostId, Topology};

use super::{ACK, SYN, SYN_ACK, parse, send, to_eni};
use crate::pipeline::Dataplane;
use crate::testkit::tcp;
use crate::time::Time;
use crate::verdict::Port;

const WEB_IP: [u8; 4] = [10, 0, 1, 10];
const APP_IP: [u8; 4] = [10, 0, 2, 10];
const CACHE_IP: [u8; 4] = [10, 0, 2, 20];
const T0: Time = Time::from_secs(1000);

/// The demo with instance `cache` (in private-a, app-sg) first and without `db`.
fn changed() -> Topology {
    let demo = include_str!("../../../../config/demo.toml");
    let db = "[[instance]]\nname = \"db\"\nsubnet = \"private-b\"\nprivate_ip = \"10.0.12.10\"\nsecurity_groups = [\"db-sg\"]\n";
    assert!(demo.contains(db));
    let cache = "[[instance]]\nname = \"cache\"\nsubnet = \"private-a\"\nprivate_ip = \"10.0.2.20\"\nsecurity_groups = [\"app-sg\"]\n\n[[instance]]\nname = \"web\"";
    parse(
        &demo
            .replace(db, "")
            .replacen("[[instance]]\nname = \"web\"", cache, 1),
    )
}

fn eni(t: &Topology, instance: &str) -> EniId {
    let i = t.instances.iter().position(|i| i.name == instance).unwrap();
    t.instances[i].enis[0]
}

#[test]
fn ports_that_stay_keep_their_flows_and_counters_when_instances_come_and_go() {
    let demo = Topology::demo();
    let mut dp = Dataplane::new(&demo);
    let (web, app) = (eni(&demo, "web"), eni(&demo, "app"));
    // web opens a connection to app:8080 (app-sg allows it from web-sg).
    let syn = tcp(WEB_IP, 40000, APP_IP, 8080, SYN, 1, 0);
    assert_eq!(send(&mut dp, T0, web, &syn).0, to_eni(app));
    let syn_ack = tcp(APP_IP, 8080, WEB_IP, 40000, SYN_ACK, 100, 2);
    assert_eq!(send(&mut dp, T0, app, &syn_ack).0, to_eni(web));
    let web_rx = dp.counters().eni(web).rx_packets;
    assert_eq!(web_rx, 1);

    let t = changed();
    dp.apply(&t, T0);
    let (web2, app2, cache) = (eni(&t, "web"), eni(&t, "app"), eni(&t, "cache"));
    assert_eq!((web2, app2, cache), (EniId(1), EniId(2), EniId(0)));
    // Slots: web and app keep 0 and 1, the internet hosts (internet, s3) keep 3 and 4
    // and the services port 5, db's 2 is gone and cache takes 6.
    let ports = dp.snapshot.ports().clone();
    assert_eq!(ports.slot(Port::Eni(web2)), 0);
    assert_eq!(ports.slot(Port::Eni(app2)), 1);
    assert_eq!(ports.slot(Port::Host(HostId(0))), 3);
    assert_eq!(ports.slot(Port::Host(HostId(1))), 4);
    assert_eq!(ports.slot(Port::Services), 5);
    assert_eq!(ports.slot(Port::Eni(cache)), 6);
    assert_eq!(ports.port(2), None);

    // The reply direction passes only because the connection is tracked (web-sg
    // allows no inbound 40000): app's table came along under its new index.
    let ack = tcp(APP_IP, 8080, WEB_IP, 40000, ACK, 101, 2);
    assert_eq!(send(&mut dp, T0, app2, &ack).0, to_eni(web2));
    let c = dp.counters();
    assert_eq!(c.enis.len(), 3);
    assert_eq!(c.eni(web2).tx_packets, 2, "web's counters followed it");
    assert_eq!(c.eni(web2).rx_packets, 1);
    assert_eq!(c.eni(app2).rx_packets, 2);
    assert_eq!(
        *c.eni(cache),
        Default::default(),
        "a new port starts at zero"
    );

    // The new instance works, and is tracked on its own.
    let syn = tcp(WEB_IP, 40001, CACHE_IP, 8080, SYN, 1, 0);
    assert_eq!(send(&mut dp, T0, web2, &syn).0, to_eni(cache));
    let syn_ack = tcp(CACHE_IP, 8080, WEB_IP, 40001, SYN_ACK, 100, 2);
    assert_eq!(send(&mut dp, T0, cache, &syn_ack).0, to_eni(web2));
    assert_eq!(dp.counters().eni(cache).rx_packets, 1);
}

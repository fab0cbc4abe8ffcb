//! End-to-end tests: the real daemon, as root, with real namespaces, TUN devices, ping
//! and TCP. Each test has its own namespace prefix and control socket.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod harness;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::Duration;

use harness::{Vpcd, eventually, namespaces, root_or_skip};

/// The host's IPv4 addresses and routes, to show vpcd leaves them alone.
fn host_network() -> String {
    let run = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().expect("ip");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["-4", "-o", "addr", "show"]) + &run(&["-4", "route", "show", "table", "all"])
}

/// Issue 2's acceptance, on the embedded demo.
#[test]
fn demo_forwards_between_subnets_and_drops_reserved_destinations() {
    if !root_or_skip() {
        return;
    }
    let host_before = host_network();
    let mut vpcd = Vpcd::start("demo", None);
    let mut names = namespaces(&vpcd.prefix);
    names.sort();
    assert_eq!(
        names,
        [
            "e2e-demo-app",
            "e2e-demo-db",
            "e2e-demo-internet",
            "e2e-demo-s3",
            "e2e-demo-vpcd+services",
            "e2e-demo-web"
        ]
    );
    assert_eq!(
        host_network(),
        host_before,
        "vpcd changed the host's addresses or routes"
    );

    // Between subnets, both ways, where the security groups allow ICMP (web-sg and
    // app-sg from 10.0.0.0/16); the subnet router answers. (web and db cannot ping each
    // other: db-sg allows no ICMP, and private-b-nacl denies public-a; see security.rs.)
    assert!(vpcd.ping("web", "10.0.2.10", 3, &[]), "web -> app");
    assert!(vpcd.ping("app", "10.0.1.10", 3, &[]), "app -> web");
    assert!(
        vpcd.ping("app", "10.0.2.1", 1, &[]),
        "app -> its subnet router"
    );

    // TCP across availability zones, from app to a listener in db (db-sg: from app-sg).
    let reply = vpcd.tcp_exchange("app", "db", "10.0.12.10", 5432, "hello through the vpc");
    assert_eq!(reply, "cpv eht hguorht olleh (server saw 10.0.2.10)");

    // Reserved and broadcast destinations are dropped and counted, exactly once each.
    let before = vpcd.counters();
    assert!(
        !vpcd.ping("app", "10.0.2.255", 1, &["-b"]),
        "broadcast must not answer"
    );
    assert!(
        !vpcd.ping("app", "10.0.2.3", 1, &[]),
        "reserved address must not answer"
    );
    let after = vpcd.counters();
    let delta = |reason| harness::drops(&after, reason) - harness::drops(&before, reason);
    assert_eq!((delta("dst-broadcast"), delta("dst-reserved")), (1, 1));
    let app = |c: &vpc_api::CountersReport| {
        c.enis
            .iter()
            .find(|e| e.name == "app/eth0")
            .unwrap()
            .rx_packets
    };
    assert_eq!(app(&after) - app(&before), 2);

    // vpcctl shows the route table and the drops by name.
    let routes = vpcd.ctl(&["routes"]);
    assert!(routes.contains("10.0.0.0/16  local   active"), "{routes}");
    let counters = vpcd.ctl(&["counters"]);
    assert!(
        counters.contains("dst-broadcast") && counters.contains("dst-reserved"),
        "{counters}"
    );

    // SIGTERM removes every namespace, device and the socket.
    assert!(vpcd.stop().success(), "{}", vpcd.stderr());
    assert_eq!(namespaces(&vpcd.prefix), Vec::<String>::new());
    assert!(!vpcd.socket.exists());
    assert!(vpcd.stdout().contains("stopped"));
    assert_eq!(host_network(), host_before);
}

#[test]
fn a_crashed_daemons_namespaces_are_removed_by_the_next_one() {
    if !root_or_skip() {
        return;
    }
    // No other daemon may start (and remove the crashed one's leftovers) meanwhile.
    let _only_us = harness::exclusive_startup();
    let mut first = Vpcd::start_holding("crash", None);
    first.crash();
    assert_eq!(
        namespaces(&first.prefix).len(),
        6,
        "a killed daemon cannot clean up"
    );
    let mut second = Vpcd::start_holding("crash", None);
    assert!(
        second.stdout().contains(
            "removed namespaces left by an earlier vpcd: e2e-crash-web, e2e-crash-app, e2e-crash-db, e2e-crash-internet, e2e-crash-s3"
        ),
        "{}",
        second.stdout()
    );
    assert!(second.ping("web", "10.0.2.10", 1, &[]));
    assert!(second.stop().success());
    assert_eq!(namespaces(&second.prefix), Vec::<String>::new());
}

#[test]
fn a_namespace_vpcd_did_not_create_is_refused_and_left_alone() {
    if !root_or_skip() {
        return;
    }
    let foreign = "e2e-foreign-app";
    assert!(
        Command::new("ip")
            .args(["netns", "add", foreign])
            .status()
            .unwrap()
            .success()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_vpcd"))
        .args([
            "run",
            "--netns-prefix",
            "e2e-foreign-",
            "--control-socket",
            "/tmp/vpcd-e2e-foreign.sock",
            "--flow-log-dir",
            "/tmp/vpcd-e2e-foreign-flowlogs",
        ])
        .output()
        .expect("run vpcd");
    let left = namespaces("e2e-foreign-");
    harness::remove_namespaces("e2e-foreign-");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "network namespace \"e2e-foreign-app\" already exists and was not created by vpcd"
        ),
        "{stderr}"
    );
    // The foreign namespace is still there; the ones vpcd made before failing are not.
    assert_eq!(left, [foreign]);
}

#[test]
fn a_deleted_device_or_namespace_takes_only_its_eni_down() {
    if !root_or_skip() {
        return;
    }
    let vpcd = Vpcd::start("fault", None);
    let status = vpcd.exec("db", &["ip", "link", "del", "eth0"]).status;
    assert!(status.success());
    let down = |eni: &str| {
        vpcd.status()
            .instances
            .iter()
            .flat_map(|i| i.enis.clone())
            .find(|e| e.name == eni)
            .unwrap()
            .link
    };
    assert!(
        eventually(Duration::from_secs(5), || down("db/eth0")
            .starts_with("down")),
        "{}",
        down("db/eth0")
    );
    let before = vpcd.dropped("eni-down");
    assert!(!vpcd.ping("web", "10.0.12.10", 1, &[]));
    assert_eq!(vpcd.dropped("eni-down") - before, 1);
    // The others keep forwarding.
    assert!(vpcd.ping("web", "10.0.2.10", 2, &[]));
    // No busy loop on the dead device: the daemon is idle.
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", vpcd.pid())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    };
    let t0 = cpu();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        cpu() - t0 < 50,
        "vpcd used {} ticks in 2 s while idle",
        cpu() - t0
    );

    // A namespace deleted from under the daemon: its ENI goes down, nothing else.
    assert!(
        Command::new("ip")
            .args(["netns", "del", &vpcd.ns("app")])
            .status()
            .unwrap()
            .success()
    );
    assert!(eventually(Duration::from_secs(5), || down("app/eth0")
        .contains("namespace e2e-fault-app was removed")));
    assert_eq!(down("web/eth0"), "up");
}

#[test]
fn middlebox_routing_sends_traffic_through_the_appliance() {
    if !root_or_skip() {
        return;
    }
    let config = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/middlebox.toml"
    ))
    .unwrap();
    let vpcd = Vpcd::start("mbox", Some(&config));
    for sysctl in ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0"] {
        assert!(
            vpcd.exec("fw", &["sysctl", "-q", "-w", sysctl])
                .status
                .success()
        );
    }
    assert!(
        vpcd.ping("client", "10.1.2.10", 3, &[]),
        "client -> server through fw"
    );
    let c = vpcd.counters();
    let eni = |name: &str| c.enis.iter().find(|e| e.name == name).unwrap().clone();
    // Requests went to fw/eth0 and left through fw/eth1; replies the other way.
    assert!(
        eni("fw/eth0").tx_packets >= 3 && eni("fw/eth1").rx_packets >= 3,
        "{c:?}"
    );
    assert!(
        eni("fw/eth1").tx_packets >= 3 && eni("fw/eth0").rx_packets >= 3,
        "{c:?}"
    );
    // The appliance is a real hop: TTL 1 expires in fw's kernel, which says so.
    let out = vpcd.exec(
        "client",
        &["ping", "-n", "-c", "1", "-W", "1", "-t", "1", "10.1.2.10"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("From 10.1.1.5") && text.contains("Time to live exceeded"),
        "{text}"
    );
    let routes = vpcd.ctl(&["routes"]);
    assert!(routes.contains("10.1.2.0/24  fw/eth0  active"), "{routes}");
}

#[test]
fn the_control_socket_is_private_and_survives_garbage() {
    if !root_or_skip() {
        return;
    }
    let vpcd = Vpcd::start("ctl", None);
    let mode = std::fs::metadata(&vpcd.socket)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let ask = |bytes: &[u8]| {
        let mut s = UnixStream::connect(&vpcd.socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(bytes).unwrap();
        let mut reply = String::new();
        let _ = s.read_to_string(&mut reply);
        reply
    };
    assert!(ask(b"garbage\n").starts_with("{\"response\":\"error\""));
    assert!(ask(b"{\"command\":\"reboot\"}\n").starts_with("{\"response\":\"error\""));
    let huge = vec![b'x'; vpc_api::MAX_REQUEST_LEN + 10];
    assert!(ask(&huge).contains("longer than"));
    // Still serving.
    assert_eq!(vpcd.status().instances.len(), 3);
}

#[test]
fn a_second_daemon_on_a_live_socket_fails_and_removes_only_its_own_namespaces() {
    if !root_or_skip() {
        return;
    }
    let first = Vpcd::start("live1", None);
    let out = Command::new(env!("CARGO_BIN_EXE_vpcd"))
        .args(["run", "--netns-prefix", "e2e-live2-", "--control-socket"])
        .arg(&first.socket)
        .arg("--flow-log-dir")
        .arg(&first.flow_log_dir)
        .output()
        .expect("run vpcd");
    let left = namespaces("e2e-live2-");
    harness::remove_namespaces("e2e-live2-");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("another vpcd is listening there").count(),
        1,
        "{stderr}"
    );
    assert_eq!(left, Vec::<String>::new());
    // The first daemon and its socket are untouched.
    assert_eq!(first.status().instances.len(), 3);
    assert!(first.ping("web", "10.0.2.10", 1, &[]));
}

/// The Amazon Time Sync Service: an NTP request from an instance to 169.254.169.123 is
/// answered with the host's time, and counted.
#[test]
fn the_time_service_answers_ntp_with_the_hosts_time() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start("ntp", None);
    let query = r#"
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"\x23" + bytes(47), ("169.254.169.123", 123))
reply, peer = s.recvfrom(512)
assert peer == ("169.254.169.123", 123), peer
assert len(reply) == 48 and reply[0] & 7 == 4 and reply[1] == 3, reply
secs, frac = struct.unpack("!II", reply[40:48])
print(abs(secs - 2208988800 + frac / 2**32 - time.time()))
"#;
    let out = vpcd.exec("db", &["python3", "-c", query]);
    assert!(out.status.success(), "{out:?}");
    let off: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(off < 2.0, "the service's time is {off} s off the host's");
    assert_eq!(vpcd.counters().router["time-replies"], 1);
    vpcd.stop();
}

//! Live test of the BIRD control client: two BIRDs in network namespaces of their
//! own (`tvb-*`) joined by a veth pair, a BGP session between them, checked through
//! `bird::Control` (session Established, the peer's route learned with its AS
//! path). Skipped unless root with BIRD installed.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Lab, is_root};
use vpc_vpn::bird::{BirdError, Control};

fn have_bird() -> bool {
    Command::new("bird")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

impl Lab {
    /// Starts BIRD (foreground, so the child's PID is BIRD's) in `ns`; returns its
    /// control socket.
    fn start_bird(&mut self, ns: &str, name: &str, conf: &str) -> PathBuf {
        let conf_path = self.dir.join(format!("{name}.conf"));
        fs::write(&conf_path, conf).unwrap();
        let ctl = self.dir.join(format!("{name}.ctl"));
        let out = fs::File::create(self.dir.join(format!("{name}.out"))).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "bird", "-f", "-c"])
            .arg(&conf_path)
            .arg("-s")
            .arg(&ctl)
            .arg("-P")
            .arg(self.dir.join(format!("{name}.pid")))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        self.children.push(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ctl.exists() {
            assert!(Instant::now() < deadline, "no control socket for {name}");
            std::thread::sleep(Duration::from_millis(20));
        }
        ctl
    }
}

fn conf(router_id: &str, local_as: u32, peer: &str, peer_as: u32, net: &str) -> String {
    format!(
        "router id {router_id};
protocol device {{ scan time 10; }}
protocol static origin {{ ipv4; route {net} blackhole; }}
protocol bgp tun1 {{
  local as {local_as};
  source address {router_id};
  neighbor {peer} as {peer_as};
  hold time 30; keepalive time 10;
  connect delay time 1; connect retry time 5; error wait time 1, 10;
  graceful restart off;
  ipv4 {{ import all; export where proto = \"origin\"; }};
}}
"
    )
}

#[test]
fn two_birds_over_the_control_socket() {
    if !is_root() || !have_bird() {
        eprintln!("bird_live: skipped (needs root and bird)");
        return;
    }
    let (mut lab, ns_a, ns_b) = Lab::pair("tvb", ("169.254.40.1/30", "169.254.40.2/30"));

    let ctl_a = lab.start_bird(
        &ns_a,
        "aws",
        &conf("169.254.40.1", 64512, "169.254.40.2", 65001, "10.20.0.0/16"),
    );
    let ctl_b = lab.start_bird(
        &ns_b,
        "cgw",
        &conf(
            "169.254.40.2",
            65001,
            "169.254.40.1",
            64512,
            "172.16.0.0/16",
        ),
    );
    let timeout = Duration::from_secs(5);
    let mut a = Control::connect(&ctl_a, timeout).unwrap();
    let mut b = Control::connect(&ctl_b, timeout).unwrap();
    assert!(a.version().starts_with('2'), "{}", a.version());

    // The session comes up (connect delay 1 s).
    let deadline = Instant::now() + Duration::from_secs(20);
    let tun1 = loop {
        let ps = a.protocols(Some("tun1")).unwrap();
        assert_eq!(ps.len(), 1, "{ps:#?}");
        if ps[0].is_established() {
            break ps[0].clone();
        }
        assert!(Instant::now() < deadline, "no session: {ps:#?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(tun1.proto, "BGP");
    assert_eq!(tun1.bgp_state.as_deref(), Some("Established"));
    assert_eq!(tun1.neighbor_address.as_deref(), Some("169.254.40.2"));
    assert_eq!(tun1.neighbor_as, Some(65001));

    // The customer's prefix arrives (shortly after Established).
    let deadline = Instant::now() + Duration::from_secs(10);
    let routes = loop {
        let routes = a.routes_of("tun1").unwrap();
        if !routes.is_empty() {
            break routes;
        }
        assert!(Instant::now() < deadline, "no route learned");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(routes.len(), 1, "{routes:#?}");
    let r = &routes[0];
    assert_eq!(r.prefix.to_string(), "172.16.0.0/16");
    assert_eq!(r.protocol, "tun1");
    assert!(r.primary);
    assert_eq!(r.via, Some(Ipv4Addr::new(169, 254, 40, 2)));
    assert_eq!(r.dev.as_deref(), Some("tvb0"));
    assert_eq!(r.as_path, Some(vec![65001]));
    assert_eq!(a.count_routes_of("tun1").unwrap(), 1);
    let all = vpc_vpn::bird::routes(&a.command("show route all").unwrap());
    assert_eq!(
        vpc_vpn::bird::count_routes_of(&all, "origin"),
        1,
        "{all:#?}"
    );

    // And the other way.
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.count_routes_of("tun1").unwrap() != 1 {
        assert!(Instant::now() < deadline, "cgw learned nothing");
        std::thread::sleep(Duration::from_millis(100));
    }
    let rb = b.routes_of("tun1").unwrap();
    assert_eq!(rb[0].prefix.to_string(), "10.20.0.0/16");
    assert_eq!(rb[0].as_path, Some(vec![64512]));

    // Errors come back as errors; the connection stays usable.
    let e = a.command("show nonsense").unwrap_err();
    assert!(matches!(e, BirdError::Command { code: 9001, .. }), "{e}");
    // Disabling the session: down on both sides.
    a.command("disable tun1").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pa = a.protocols(Some("tun1")).unwrap();
        let pb = b.protocols(Some("tun1")).unwrap();
        if pa[0].state == "down" && !pb[0].is_established() {
            assert_eq!(b.count_routes_of("tun1").unwrap(), 0);
            break;
        }
        assert!(Instant::now() < deadline, "{pa:#?} {pb:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(Path::new(&ctl_a).exists());
    drop(lab);
}

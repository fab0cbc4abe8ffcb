//! Live test of the VICI and error-notify clients against two real charons
//! (kernel-libipsec) in network namespaces of their own (`tvv-*`), joined by a veth
//! pair: connections and keys loaded with `vici::Client`, a tunnel initiated,
//! `list-sas` and `child-updown` checked, then a wrong pre-shared key reported on
//! the error-notify socket. Skipped unless root with strongSwan installed.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Lab, ip, is_root};
use vpc_vpn::enfy::{self, Kind};
use vpc_vpn::vici::{Client, IkeSa, Message, ViciError};

const CHARON: &str = "/usr/lib/ipsec/charon";

/// One charon: its directory (`run/` is bind-mounted on its /run).
struct Side {
    dir: PathBuf,
}

impl Side {
    fn vici(&self) -> PathBuf {
        self.dir.join("run/charon.vici")
    }
    fn enfy(&self) -> PathBuf {
        self.dir.join("run/charon.enfy")
    }
}

impl Lab {
    fn start_charon(&mut self, ns: &str, name: &str) -> Side {
        let dir = self.dir.join(name);
        fs::create_dir_all(dir.join("run")).unwrap();
        let conf = dir.join("strongswan.conf");
        fs::write(
            &conf,
            format!(
                "charon {{
  load_modular = no
  load = random nonce openssl aes sha1 sha2 hmac gcm gmp pem pkcs1 x509 pubkey kdf kernel-libipsec kernel-netlink socket-default vici counters error-notify
  install_routes = no
  install_virtual_ip = no
  routing_table = 220
  routing_table_prio = 40000
  retransmit_tries = 2
  retransmit_timeout = 1.0
  filelog {{ log {{ path = {log} \n default = 1 \n ike = 2 \n flush_line = yes }} }}
  plugins {{ vici {{ socket = unix://{vici} }} }}
}}
",
                log = dir.join("charon.log").display(),
                vici = dir.join("run/charon.vici").display(),
            ),
        )
        .unwrap();
        let script = format!(
            "mount --bind {run} /run && STRONGSWAN_CONF={conf} exec {CHARON}",
            run = dir.join("run").display(),
            conf = conf.display()
        );
        let out = fs::File::create(dir.join("charon.stdout")).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        self.children.push(child);
        let side = Side { dir };
        wait_for(&side.vici(), "VICI socket");
        wait_for(&side.enfy(), "error-notify socket");
        // The recipe: the real TUN becomes the tunnel's interface, a placeholder
        // ipsec0 takes kernel-libipsec's parked routes.
        wait_for_link(ns, "ipsec0");
        ip(&["-n", ns, "link", "set", "ipsec0", "down"]);
        ip(&["-n", ns, "link", "set", "ipsec0", "name", "tvvtun"]);
        ip(&["-n", ns, "link", "set", "tvvtun", "up"]);
        ip(&["-n", ns, "tuntap", "add", "dev", "ipsec0", "mode", "tun"]);
        ip(&["-n", ns, "link", "set", "ipsec0", "up"]);
        side
    }
}

fn wait_for(path: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(Instant::now() < deadline, "no {what} at {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for_link(ns: &str, link: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ok = Command::new("ip")
            .args(["-n", ns, "link", "show", link])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return;
        }
        assert!(Instant::now() < deadline, "no {link} in {ns}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A swanctl-like connection between `local` and `remote` with one child
/// `name` (0.0.0.0/0 both ways).
fn conn(name: &str, local: &str, remote: &str) -> Message {
    Message::new()
        .with_str("version", "2")
        .with_list("local_addrs", [local])
        .with_list("remote_addrs", [remote])
        .with_str("encap", "yes")
        .with_str("mobike", "no")
        .with_str("dpd_delay", "10s")
        .with_list("proposals", ["aes128-sha1-modp2048"])
        .with_section(
            "local",
            Message::new().with_str("auth", "psk").with_str("id", local),
        )
        .with_section(
            "remote",
            Message::new()
                .with_str("auth", "psk")
                .with_str("id", remote),
        )
        .with_section(
            "children",
            Message::new().with_section(
                name,
                Message::new()
                    .with_list("local_ts", ["0.0.0.0/0"])
                    .with_list("remote_ts", ["0.0.0.0/0"])
                    .with_list("esp_proposals", ["aes128-sha1-modp2048"])
                    .with_str("start_action", "none"),
            ),
        )
}

/// Reads error-notify records until one of `kind` (or the deadline).
fn wait_record(l: &mut enfy::Listener, kind: Kind) -> enfy::Record {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    l.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    loop {
        assert!(
            Instant::now() < deadline,
            "no {kind:?} record; saw {seen:#?}"
        );
        match l.next() {
            Ok(r) if r.kind == kind => return r,
            Ok(r) => seen.push(r),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("error-notify: {e}"),
        }
    }
}

#[test]
fn two_charons_over_vici() {
    if !is_root() || !Path::new(CHARON).exists() {
        eprintln!("vici_live: skipped (needs root and {CHARON})");
        return;
    }
    let (mut lab, ns_a, ns_b) = Lab::pair("tvv", ("192.0.2.1/24", "192.0.2.2/24"));
    let (addr_a, addr_b) = ("192.0.2.1", "192.0.2.2");

    let aws = lab.start_charon(&ns_a, "aws");
    let cgw = lab.start_charon(&ns_b, "cgw");
    let timeout = Duration::from_secs(10);
    let mut a = Client::connect(aws.vici(), timeout).unwrap();
    let mut b = Client::connect(cgw.vici(), timeout).unwrap();
    let version = a.version().unwrap();
    assert_eq!(version.get_str("daemon"), Some("charon"), "{version:?}");

    // A dedicated event connection and the error-notify sockets.
    let mut events = Client::connect(aws.vici(), timeout).unwrap();
    events.register("child-updown").unwrap();
    events.register("ike-updown").unwrap();
    let mut enfy_a = enfy::Listener::connect(aws.enfy()).unwrap();
    let mut enfy_b = enfy::Listener::connect(cgw.enfy()).unwrap();

    // An unknown command, and a connection charon refuses.
    assert!(matches!(
        a.request("no-such-command", &Message::new()),
        Err(ViciError::UnknownCommand(_))
    ));
    let bad = Message::new().with_section("local", Message::new().with_str("auth", "nonsense"));
    let e = a.load_conn("broken", &bad).unwrap_err();
    assert!(matches!(e, ViciError::Failed { .. }), "{e}");

    a.load_shared(addr_a, addr_b, "psk-tunnel-one-AAAA")
        .unwrap();
    b.load_shared(addr_b, addr_a, "psk-tunnel-one-AAAA")
        .unwrap();
    a.load_conn("aws-t1", &conn("aws-t1", addr_a, addr_b))
        .unwrap();
    b.load_conn("cgw-t1", &conn("cgw-t1", addr_b, addr_a))
        .unwrap();
    let conns = a.list_conns().unwrap();
    assert!(
        conns.iter().any(|m| m.section("aws-t1").is_some()),
        "{conns:?}"
    );

    b.initiate("cgw-t1", Some("cgw-t1")).unwrap();

    for (client, name) in [(&mut a, "aws-t1"), (&mut b, "cgw-t1")] {
        let sas = client.list_sas().unwrap();
        let sa = sas
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{sas:#?}"));
        assert_eq!(sa.state, "ESTABLISHED", "{sa:#?}");
        assert!(sa.established_seconds.is_some(), "{sa:#?}");
        assert_eq!(sa.children.len(), 1, "{sa:#?}");
        let child = &sa.children[0];
        assert_eq!(child.name, name);
        assert_eq!(child.state, "INSTALLED", "{child:#?}");
        eprintln!("LIVE {sa:?}");
        assert_eq!(child.encr_alg.as_deref(), Some("AES_CBC"));
        assert_eq!(child.integ_alg.as_deref(), Some("HMAC_SHA1_96"));
    }

    // child-updown with up=yes for aws-t1 (ike-updown may come first).
    events
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no child-updown event");
        let (name, msg) = events.next_event().unwrap();
        if name == "child-updown" {
            assert_eq!(msg.get_bool("up"), Some(true), "{msg:?}");
            let sas = IkeSa::all_in(&msg);
            assert_eq!(sas.len(), 1, "{msg:?}");
            assert_eq!(sas[0].name, "aws-t1");
            assert_eq!(sas[0].children[0].state, "INSTALLED");
            break;
        }
    }

    // Wrong PSK on the customer side: load_shared replaces the key (same id).
    b.terminate_ike("cgw-t1").unwrap();
    b.load_shared(addr_b, addr_a, "not-the-right-key").unwrap();
    let e = b.initiate("cgw-t1", Some("cgw-t1")).unwrap_err();
    assert!(matches!(e, ViciError::Failed { .. }), "{e}");
    let r = wait_record(&mut enfy_a, Kind::PeerAuthFailed);
    assert_eq!(r.name, "aws-t1", "{r:?}");
    assert_eq!(r.id, addr_b, "{r:?}");
    assert!(r.ip.starts_with(addr_b), "{r:?}");
    assert_eq!(r.message, "peer authentication failed");
    eprintln!("LIVE record {r:?}");
    assert_eq!(
        r.kind.down_reason(),
        Some("IKE authentication failed: pre-shared key mismatch")
    );
    // The initiator learns it from the peer's AUTHENTICATION_FAILED notify.
    let r = wait_record(&mut enfy_b, Kind::LocalAuthFailed);
    assert_eq!(r.name, "cgw-t1", "{r:?}");
    assert!(r.kind.down_reason().is_some());

    // After the failure, the AWS side has no established SA left for aws-t1.
    let sas = a.list_sas().unwrap();
    assert!(
        !sas.iter()
            .any(|s| s.name == "aws-t1" && s.state == "ESTABLISHED"),
        "{sas:#?}"
    );

    a.unload_conn("aws-t1").unwrap();
    assert!(matches!(
        a.unload_conn("aws-t1"),
        Err(ViciError::Failed { .. })
    ));
    assert!(matches!(
        a.terminate_ike("no-such-conn"),
        Err(ViciError::Failed { .. })
    ));
    drop(lab);
}

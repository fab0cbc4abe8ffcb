//! The rendered files run for real: both sides of a VPN connection, the AWS side from
//! `render::aws_tunnel` and `render::aws_bird` (started as vpcd will), the customer
//! side by `scripts/customer-gateway.sh` (its `vpcctl` replaced by a stand-in that
//! copies files from `render::render_customer`), in namespaces of its own (`tvr-*`):
//!
//! ```text
//! tvr-cust (203.0.113.60, lo 172.16.1.1) --- tvr-net ("internet") --- tvr-awst1 (198.51.100.101, charon)
//!                                                                 \-- tvr-awst2 (198.51.100.102, charon)
//! tvr-aws: the gateway's router (BIRD, the charons' TUN devices vti0-1/vti0-2, lo 10.20.1.10)
//! ```
//!
//! Three variants, one after the other: BGP with a BIRD customer, BGP with an FRR
//! customer (if FRR is installed), static routing. Each checks that both tunnels come
//! up (IKEv1 and IKEv2 allowed on the AWS side, IKEv2 used), that the routes arrive
//! (BGP: 172.16.0.0/16 on the AWS side, 10.20.0.0/16 on the customer's; static: over
//! tunnel 1 on both sides) and that pings cross both ways, one at the full 1400-byte
//! MTU, and that the script's `up` and `down` are harmless a second time; the first
//! also negotiates each of AWS's DH groups, for IKE and for ESP with PFS, CBC and GCM
//! in turn. Skipped, with a note, unless run as root with charon, swanctl, bird and
//! birdc installed.
//! Everything it made (processes by PID, namespaces, its directory) goes away at the
//! end, failed or not.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use vpc_vpn::render::{self, Format};
use vpc_vpn::{Connection, IkeVersion, Tunnel};

const CHARON: &str = "/usr/lib/ipsec/charon";
const NAMESPACES: [&str; 5] = ["tvr-net", "tvr-awst1", "tvr-awst2", "tvr-aws", "tvr-cust"];
const SITE: &str = "tvr-cust";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why the test cannot run here, if it cannot.
fn missing() -> Option<String> {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0");
    if !root {
        return Some("not root".to_string());
    }
    for bin in [
        CHARON,
        "/usr/sbin/swanctl",
        "/usr/sbin/bird",
        "/usr/sbin/birdc",
    ] {
        if !Path::new(bin).exists() {
            return Some(format!("{bin} is not installed"));
        }
    }
    for ns in NAMESPACES {
        if Path::new("/run/netns").join(ns).exists() {
            return Some(format!("namespace {ns} exists already (another run?)"));
        }
    }
    None
}

/// Everything the test made; `Drop` undoes it.
struct Guard {
    dir: PathBuf,
    children: Vec<Child>,
    namespaces: Vec<&'static str>,
    site_up: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.site_up {
            let _ = Command::new("bash")
                .arg(repo_root().join("scripts/customer-gateway.sh"))
                .args(["down", SITE])
                .env("VPCD_SITE_DIR", self.dir.join("sites"))
                .status();
        }
        // Our own children (charons, BIRD), by PID: a child not yet waited for keeps
        // its PID even when it has exited.
        for pid in self.children.iter().map(Child::id) {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for child in &mut self.children {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                sleep(Duration::from_millis(50));
            }
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs a shell script; its output on failure.
fn sh(script: &str) -> Result<String, String> {
    let out = Command::new("sh")
        .args(["-ec", script])
        .output()
        .map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{script}\n=> {}\n{text}", out.status))
    }
}

/// Waits up to `secs` for `check` to hold; the last output otherwise.
fn wait_until(secs: u64, what: &str, script: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = String::new();
    while Instant::now() < deadline {
        match sh(script) {
            Ok(out) if check(&out) => return out,
            Ok(out) | Err(out) => last = out,
        }
        sleep(Duration::from_millis(100));
    }
    panic!("{what}: not within {secs} s; last output:\n{last}");
}

fn write_files(dir: &Path, files: &[render::File]) {
    for f in files {
        let path = dir.join(&f.path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &f.text).unwrap();
    }
}

fn connection(static_routes_only: bool) -> Connection {
    let tunnel = |outside: Ipv4Addr, inside: &str, psk: &str| Tunnel {
        outside_ip: outside,
        inside_cidr: inside.parse().unwrap(),
        pre_shared_key: psk.to_string(),
        ike_versions: vec![IkeVersion::V1, IkeVersion::V2],
        dpd_timeout_seconds: 30,
        phase1_lifetime_seconds: 28800,
        phase2_lifetime_seconds: 3600,
    };
    Connection {
        name: "office".to_string(),
        id: "vpn-0123456789abcdef0".to_string(),
        customer_ip: Ipv4Addr::new(203, 0, 113, 60),
        customer_asn: 65001,
        amazon_asn: 64512,
        static_routes_only,
        static_routes: if static_routes_only {
            vec!["172.16.0.0/16".parse().unwrap()]
        } else {
            vec![]
        },
        site_cidrs: vec!["172.16.0.0/16".parse().unwrap()],
        vpc_cidrs: vec!["10.20.0.0/16".parse().unwrap()],
        tunnels: [
            tunnel(
                Ipv4Addr::new(198, 51, 100, 101),
                "169.254.10.0/30",
                "tvr.psk.one",
            ),
            tunnel(
                Ipv4Addr::new(198, 51, 100, 102),
                "169.254.11.0/30",
                "tvr.psk.two",
            ),
        ],
    }
}

/// The namespaces and links of the report's topology.
const TOPOLOGY: &str = "
for n in tvr-net tvr-awst1 tvr-awst2 tvr-aws tvr-cust; do ip netns add $n; ip -n $n link set lo up; done
ip netns exec tvr-net sysctl -qw net.ipv4.ip_forward=1
ip netns exec tvr-aws sysctl -qw net.ipv4.ip_forward=1
ip link add n-t1 netns tvr-net type veth peer name out0 netns tvr-awst1
ip link add n-t2 netns tvr-net type veth peer name out0 netns tvr-awst2
ip link add n-cust netns tvr-net type veth peer name out0 netns tvr-cust
ip -n tvr-net addr add 198.51.100.1/32 dev n-t1
ip -n tvr-net addr add 198.51.100.1/32 dev n-t2
ip -n tvr-net addr add 203.0.113.1/24 dev n-cust
for l in n-t1 n-t2 n-cust; do ip -n tvr-net link set $l up; done
ip -n tvr-net route add 198.51.100.101/32 dev n-t1
ip -n tvr-net route add 198.51.100.102/32 dev n-t2
for t in 1 2; do
  ip -n tvr-awst$t addr add 198.51.100.10$t/32 dev out0
  ip -n tvr-awst$t link set out0 up
  ip -n tvr-awst$t route add 198.51.100.1/32 dev out0
  ip -n tvr-awst$t route add default via 198.51.100.1
done
ip -n tvr-cust addr add 203.0.113.60/24 dev out0
ip -n tvr-cust link set out0 up
ip -n tvr-cust route add default via 203.0.113.1
ip -n tvr-aws addr add 10.20.1.10/32 dev lo
ip -n tvr-cust addr add 172.16.1.1/32 dev lo
";

/// The variants, one after the other (they share the namespace names): a BGP
/// connection with a BIRD customer (and AWS's DH groups probed), with an FRR customer
/// (if FRR is installed), and a static connection.
#[test]
fn both_sides_come_up_and_carry_traffic() {
    if let Some(why) = missing() {
        eprintln!("render_live: skipped ({why})");
        return;
    }
    run(false, "bird", true);
    if Path::new("/usr/lib/frr/bgpd").exists() {
        run(false, "frr", false);
    } else {
        eprintln!("render_live: FRR not installed, its variant skipped");
    }
    run(true, "bird", false);
}

fn run(static_routes_only: bool, customer: &str, probe_groups: bool) {
    eprintln!("render_live: static_routes_only={static_routes_only} customer={customer}");
    let dir = std::env::temp_dir().join(format!("tvr-render-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let mut guard = Guard {
        dir: dir.clone(),
        children: Vec::new(),
        namespaces: Vec::new(),
        site_up: false,
    };
    let c = connection(static_routes_only);
    guard.namespaces.extend(NAMESPACES);
    sh(TOPOLOGY).unwrap();

    // The AWS side: one charon per tunnel in its endpoint's namespace, its TUN moved
    // into the gateway's router namespace as the tunnel's interface.
    for k in 0..2 {
        let ns = ["tvr-awst1", "tvr-awst2"][k];
        let tdir = dir.join(format!("aws-t{}", k + 1));
        write_files(&tdir, &render::aws_tunnel(&c, k, &tdir));
        fs::create_dir_all(tdir.join("run")).unwrap();
        let d = tdir.display();
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "sh", "-c"])
            .arg(format!(
                "mount --bind {d}/run /run && STRONGSWAN_CONF={d}/strongswan.conf exec {CHARON}"
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        guard.children.push(child);
        wait_until(
            5,
            "AWS charon's VICI socket",
            &format!("test -S {d}/run/charon.vici"),
            |_| true,
        );
        let iface = render::tunnel_interface(0, k);
        let t = &c.tunnels[k];
        sh(&format!(
            "ip -n {ns} link set ipsec0 netns tvr-aws
             ip -n tvr-aws link set ipsec0 name {iface}
             ip -n tvr-aws addr add {}/30 dev {iface}
             ip -n tvr-aws link set {iface} mtu 1400 up
             ip -n {ns} tuntap add dev ipsec0 mode tun
             ip -n {ns} link set ipsec0 up
             swanctl --load-all --noprompt --file {d}/swanctl.conf --uri unix://{d}/run/charon.vici >/dev/null 2>&1",
            t.aws_inside()
        ))
        .unwrap();
    }
    let bdir = dir.join("aws-bird");
    let bird_conf = render::aws_bird("vgw", 64512, &c.vpc_cidrs, &[(0, &c)], &bdir);
    write_files(&bdir, std::slice::from_ref(&bird_conf));
    let b = bdir.display();
    let bird = Command::new("ip")
        .args(["netns", "exec", "tvr-aws", "bird", "-f", "-c"])
        .arg(bdir.join("bird.conf"))
        .arg("-s")
        .arg(bdir.join("bird.ctl"))
        .arg("-P")
        .arg(bdir.join("bird.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    guard.children.push(bird);
    wait_until(
        5,
        "AWS BIRD's socket",
        &format!("test -S {b}/bird.ctl"),
        |_| true,
    );

    // The customer side, by the script, from what `vpcctl vpn-config` would write.
    let sites = dir.join("sites");
    let site_dir = sites.join(SITE);
    let rendered = dir.join("rendered");
    let format: Format = customer.parse().unwrap();
    for (format, name) in [(Format::Strongswan, "strongswan"), (format, customer)] {
        write_files(
            &rendered.join(name),
            &render::render_customer(&[&c], format, &site_dir),
        );
    }
    let fake = dir.join("vpcctl");
    fs::write(
        &fake,
        format!(
            "#!/bin/sh\n# vpcctl [--socket S] vpn-config SITE --format F --out DIR\nwhile [ $# -gt 0 ]; do case $1 in --format) f=$2; shift;; --out) o=$2; shift;; esac; shift; done\nmkdir -p \"$o\" && cp -r {}/\"$f\"/. \"$o\"/\n",
            rendered.display()
        ),
    )
    .unwrap();
    guard.site_up = true;
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/customer-gateway.sh"))
        .args(["up", SITE, customer])
        .env("VPCD_SITE_DIR", &sites)
        .env("VPCCTL", "sh")
        .env("VPCCTL_ARGS", fake.display().to_string())
        .output()
        .unwrap();
    let script_out = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("customer-gateway.sh up:\n{script_out}");
    assert!(out.status.success(), "customer-gateway.sh up failed");

    // Both tunnels up (seen from the AWS side).
    for k in 1..=2 {
        wait_until(
            15,
            &format!("tunnel {k} INSTALLED"),
            &format!(
                "swanctl --list-sas --uri unix://{}/aws-t{k}/run/charon.vici",
                dir.display()
            ),
            |out| out.contains("INSTALLED"),
        );
    }
    let aws_ctl = format!("{b}/bird.ctl");
    if static_routes_only {
        // Static routes: over tunnel 1 on both sides (BIRD on the AWS side, the
        // script's `routes` on the customer's), tunnel 2 standing by.
        wait_until(
            10,
            "172.16.0.0/16 over tunnel 1 on the AWS side",
            "ip -n tvr-aws route show 172.16.0.0/16",
            |out| out.contains("172.16.0.0/16 dev vti0-1"),
        );
        let cust = sh("ip -n tvr-cust route show 10.20.0.0/16").unwrap();
        assert!(
            cust.contains("dev vti1 scope link metric 100")
                && cust.contains("dev vti2 scope link metric 200"),
            "{cust}"
        );
        let protocols = sh(&format!("birdc -s {aws_ctl} show protocols")).unwrap();
        assert!(!protocols.contains("BGP"), "{protocols}");
    } else {
        // BGP both ways.
        wait_until(
            20,
            "AWS BGP sessions Established",
            &format!("birdc -s {aws_ctl} show protocols"),
            |out| out.lines().filter(|l| l.contains("Established")).count() == 2,
        );
        wait_until(
            20,
            "172.16.0.0/16 learned on the AWS side",
            "ip -n tvr-aws route show 172.16.0.0/16",
            |out| out.contains("172.16.0.0/16 via 169.254.1"),
        );
        // FRR installs both tunnels (ECMP: `nexthop via ...` lines).
        wait_until(
            20,
            "10.20.0.0/16 learned on the customer side",
            "ip -n tvr-cust route show 10.20.0.0/16",
            |out| out.contains("10.20.0.0/16") && out.contains("via 169.254.1"),
        );
    }
    // The VPC CIDR stays out of the AWS side's kernel (vpcd routes it).
    let kernel = sh("ip -n tvr-aws route show 10.20.0.0/16").unwrap();
    assert!(kernel.trim().is_empty(), "{kernel}");

    sh("ip netns exec tvr-cust ping -c1 -W2 -I 172.16.1.1 10.20.1.10").unwrap();
    sh("ip netns exec tvr-aws ping -c1 -W2 -I 10.20.1.10 172.16.1.1").unwrap();
    // A packet of the full 1400-byte MTU crosses too.
    sh("ip netns exec tvr-cust ping -c1 -W2 -M do -s 1372 -I 172.16.1.1 10.20.1.10").unwrap();

    // AWS accepts every DH group of its proposals, for IKE and (on a rekey) for ESP:
    // a probe connection from the customer's tunnel-1 charon, one group at a time.
    let vici1 = format!("unix://{}/tunnel1/run/charon.vici", site_dir.display());
    let groups: &[(&str, &str)] = if probe_groups {
        &[
            ("modp1024", "MODP_1024"),
            ("modp2048", "MODP_2048"),
            ("modp3072", "MODP_3072"),
            ("modp4096", "MODP_4096"),
            ("modp6144", "MODP_6144"),
            ("modp8192", "MODP_8192"),
            ("ecp256", "ECP_256"),
            ("ecp384", "ECP_384"),
            ("ecp521", "ECP_521"),
            ("modp1024s160", "MODP_1024_160"),
            ("modp2048s224", "MODP_2048_224"),
            ("modp2048s256", "MODP_2048_256"),
        ]
    } else {
        &[]
    };
    for (i, &(group, shown)) in groups.iter().enumerate() {
        // CBC with SHA-2 and GCM in turn (AWS prefers CBC when offered both).
        let (ike, esp, esp_shown) = if i % 2 == 0 {
            ("aes128-sha256", "aes256-sha512", "HMAC_SHA2_512_256")
        } else {
            ("aes256gcm16-prfsha384", "aes256gcm16", "AES_GCM_16-256")
        };
        let probe = dir.join("probe.conf");
        fs::write(
            &probe,
            format!(
                "connections {{ probe {{ version = 2\n local_addrs = 203.0.113.60\n remote_addrs = 198.51.100.101\n encap = yes\n mobike = no\n proposals = {ike}-{group}\n local {{ auth = psk\n id = 203.0.113.60 }}\n remote {{ auth = psk\n id = 198.51.100.101 }}\n children {{ probe {{ local_ts = 0.0.0.0/0\n remote_ts = 0.0.0.0/0\n esp_proposals = {esp}-{group} }} }} }} }}\nsecrets {{ ike-probe {{ id-a = 203.0.113.60\n id-b = 198.51.100.101\n secret = \"tvr.psk.one\" }} }}\n"
            ),
        )
        .unwrap();
        sh(&format!(
            "swanctl --load-all --noprompt --file {} --uri {vici1} >/dev/null 2>&1
             swanctl --initiate --child probe --timeout 20 --uri {vici1} >/dev/null
             swanctl --rekey --child probe --uri {vici1} >/dev/null",
            probe.display()
        ))
        .unwrap_or_else(|e| panic!("DH group {group}: {e}"));
        let sas = wait_until(
            20,
            &format!("probe with {group} rekeyed with PFS"),
            &format!("swanctl --list-sas --ike probe --uri {vici1}"),
            |out| {
                out.contains(&format!("/{shown}\n"))
                    && out.contains(&format!("{esp_shown}/{shown}"))
            },
        );
        let algs: Vec<&str> = sas
            .lines()
            .filter(|l| l.contains(shown))
            .map(str::trim)
            .collect();
        eprintln!("DH group {group}: {}", algs.join(" | "));
        sh(&format!(
            "swanctl --terminate --ike probe --timeout 10 --uri {vici1} >/dev/null"
        ))
        .unwrap();
    }

    let script = |args: &[&str]| {
        let out = Command::new("bash")
            .arg(repo_root().join("scripts/customer-gateway.sh"))
            .args(args)
            .env("VPCD_SITE_DIR", &sites)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "customer-gateway.sh {args:?}: {text}");
        text
    };
    // `up` again leaves the running site alone; `down` twice is fine.
    let again = script(&["up", SITE, customer]);
    assert!(again.contains("already up"), "{again}");
    script(&["down", SITE]);
    guard.site_up = false;
    let twice = script(&["down", SITE]);
    assert!(twice.contains("is not up"), "{twice}");
    assert!(
        !site_dir.exists(),
        "customer-gateway.sh down left {site_dir:?}"
    );
    let links = sh("ip -n tvr-cust -o link show").unwrap();
    assert!(
        !links.contains("vti") && !links.contains("ipsec0"),
        "{links}"
    );
}

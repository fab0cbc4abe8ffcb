//! End to end, with real peers (docs/vpn.md): `config/vpn.toml` running, the head
//! office's customer side started by `scripts/customer-gateway.sh up hq bird` (two
//! charons and BIRD in the site's namespace), the branch's by `up branch frr` (FRR);
//! both tunnels UP, the site's prefix propagated into the route table, ping and 10 MB
//! over TCP intact, CloudHub between the sites, failover with a TCP transfer in
//! progress, and a wrong pre-shared key and a wrong proposal leaving a tunnel DOWN with
//! the reason. Skipped unless root with strongSwan, BIRD and FRR installed (`.ci/run`
//! installs them).

mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use harness::{Vpcd, root_or_skip};

const VPN: &str = include_str!("../../../config/vpn.toml");

/// A directory removed on drop (declared before the sites in it, so dropped after).
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A customer site started by the script, stopped (and its files removed) on drop.
struct Site {
    name: &'static str,
    env: Vec<(String, String)>,
    dir: PathBuf,
}

impl Site {
    fn up(vpcd: &Vpcd, base: &Path, name: &'static str, speaker: &str) -> Site {
        // vpcctl next to vpcd if cargo built it; else the files are written here with
        // vpcctl's library (what the script's `vpcctl vpn-config` calls would write)
        // and the script's calls do nothing.
        let vpcctl = Path::new(env!("CARGO_BIN_EXE_vpcd")).with_file_name("vpcctl");
        let vpcctl = if vpcctl.exists() {
            vpcctl.display().to_string()
        } else {
            let dir = base.join(name).display().to_string();
            for format in ["strongswan", speaker] {
                vpcd.ctl(&["vpn-config", name, "--format", format, "--out", &dir]);
            }
            "true".to_owned()
        };
        let env = vec![
            ("VPCD_PREFIX".to_owned(), vpcd.ns("")),
            ("VPCCTL".to_owned(), vpcctl),
            (
                "VPCCTL_ARGS".to_owned(),
                format!("--socket {}", vpcd.socket.display()),
            ),
            ("VPCD_SITE_DIR".to_owned(), base.display().to_string()),
        ];
        let site = Site {
            name,
            env,
            dir: base.join(name),
        };
        let out = site.script(&["up", name, speaker]);
        assert!(
            out.status.success(),
            "customer-gateway.sh up {name} {speaker}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        site
    }

    fn script(&self, args: &[&str]) -> std::process::Output {
        Command::new("bash")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../scripts/customer-gateway.sh"
            ))
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .expect("run customer-gateway.sh")
    }

    /// `swanctl` on this site's tunnel `n`.
    fn swanctl(&self, n: usize, args: &[&str]) -> String {
        let uri = format!("unix://{}/tunnel{n}/run/charon.vici", self.dir.display());
        let out = Command::new("swanctl")
            .args(args)
            .args(["--uri", &uri])
            .output()
            .expect("swanctl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.script(&["down", self.name]);
    }
}

/// The tunnels of `connection` as `vpcctl vpn-connections` shows them: (status,
/// message) per tunnel.
fn tunnels(vpcd: &Vpcd, connection: &str) -> Vec<(String, String)> {
    let text = vpcd.ctl(&["vpn-connections"]);
    let mut rows = Vec::new();
    let mut mine = false;
    for line in text.lines().skip(1) {
        if !line.starts_with(' ') {
            mine = line.starts_with(&format!("{connection} "));
        }
        if mine && !line.contains(" routes: ") {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let Some(i) = words.iter().position(|w| *w == "UP" || *w == "DOWN") {
                rows.push((words[i].to_owned(), words[i + 3..].join(" ")));
            }
        }
    }
    rows
}

/// Waits up to `secs` for `f`.
fn wait(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Sends `bytes` bytes from `client` to `addr:port` where a listener in `server` sums
/// them up, pacing the sender with `pause` between 30 kB writes; returns (sent sha256,
/// received sha256) once done.
fn transfer(
    vpcd: &Vpcd,
    (client, server): (&str, &str),
    addr: &str,
    bytes: usize,
    pause: f64,
) -> (String, String) {
    let port = 9100;
    let receiver = format!(
        "import socket,hashlib\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('{addr}',{port})); s.listen(1)\nc,_=s.accept(); h=hashlib.sha256()\nwhile True:\n    b=c.recv(65536)\n    if not b: break\n    h.update(b)\nprint(h.hexdigest())\n"
    );
    let sender = format!(
        "import socket,hashlib,os,time\nd=os.urandom({bytes}); s=socket.create_connection(('{addr}',{port}))\nfor i in range(0,len(d),30000):\n    s.sendall(d[i:i+30000]); time.sleep({pause})\ns.close(); print(hashlib.sha256(d).hexdigest())\n"
    );
    let server_ns = vpcd.ns(server);
    let recv = std::thread::spawn(move || {
        Command::new("ip")
            .args([
                "netns", "exec", &server_ns, "timeout", "120", "python3", "-c", &receiver,
            ])
            .output()
            .expect("receiver")
    });
    std::thread::sleep(Duration::from_millis(500));
    let sent = vpcd.exec(client, &["timeout", "120", "python3", "-c", &sender]);
    let got = recv.join().expect("receiver thread");
    (
        String::from_utf8_lossy(&sent.stdout).trim().to_owned(),
        String::from_utf8_lossy(&got.stdout).trim().to_owned(),
    )
}

#[test]
fn sites_connect_over_ipsec_and_bgp_with_real_peers() {
    if !root_or_skip() {
        return;
    }
    for tool in [
        "/usr/lib/ipsec/charon",
        "/usr/sbin/bird",
        "/usr/lib/frr/bgpd",
        "/usr/sbin/swanctl",
    ] {
        if !Path::new(tool).exists() {
            eprintln!(
                "skipped: {tool} is not installed (.ci/run installs strongSwan, BIRD and FRR)"
            );
            return;
        }
    }
    let mut vpcd = Vpcd::start("vpn", Some(VPN));
    let base = Dir(std::env::temp_dir().join(format!("vpcd-e2e-vpn-sites-{}", std::process::id())));
    let base = &base.0;

    // The head office with BIRD: both tunnels UP within 60 s, its prefix propagated.
    let start = Instant::now();
    let hq = Site::up(&vpcd, base, "hq", "bird");
    assert!(
        wait(60, || tunnels(&vpcd, "vpn-hq")
            .iter()
            .filter(|t| t.0 == "UP")
            .count()
            == 2),
        "vpn-hq not UP: {}\n{}",
        vpcd.ctl(&["vpn-connections"]),
        vpcd.stdout()
    );
    println!("vpn-hq: both tunnels UP in {:?}", start.elapsed());
    assert!(
        wait(10, || vpcd.ctl(&["routes"]).contains("172.16.0.0/16")),
        "{}",
        vpcd.ctl(&["routes"])
    );
    let routes = vpcd.ctl(&["routes"]);
    assert!(
        routes.lines().any(|l| l.starts_with("172.16.0.0/16")
            && l.contains("vgw")
            && l.contains("EnableVgwRoutePropagation")),
        "{routes}"
    );
    assert!(
        vpcd.ping("erp", "172.16.1.1", 3, &[]),
        "erp cannot ping 172.16.1.1"
    );
    let (sent, got) = transfer(&vpcd, ("erp", "hq"), "172.16.1.1", 10_000_000, 0.0);
    assert!(
        !sent.is_empty() && sent == got,
        "10 MB: sent {sent}, got {got}"
    );

    // The branch with FRR; CloudHub: hq learns the branch's prefix and reaches it.
    let branch = Site::up(&vpcd, base, "branch", "frr");
    assert!(
        wait(60, || tunnels(&vpcd, "vpn-branch")
            .iter()
            .filter(|t| t.0 == "UP")
            .count()
            == 2),
        "vpn-branch not UP: {}",
        vpcd.ctl(&["vpn-connections"])
    );
    let ctl = hq.dir.join("bird.ctl");
    assert!(
        wait(20, || {
            let out = Command::new("birdc")
                .args(["-s", &ctl.display().to_string(), "show", "route"])
                .output()
                .expect("birdc");
            String::from_utf8_lossy(&out.stdout).contains("172.17.0.0/16")
        }),
        "hq's BIRD did not learn 172.17.0.0/16"
    );
    assert!(
        vpcd.ping("hq", "172.17.1.1", 2, &["-I", "172.16.1.1"]),
        "172.16.1.1 cannot reach 172.17.1.1 through vgw"
    );

    // Failover: the tunnel carrying traffic ends while a TCP transfer is in progress.
    let transfer_vpcd = &vpcd;
    let (sent, got) = std::thread::scope(|s| {
        let t = s.spawn(|| transfer(transfer_vpcd, ("erp", "hq"), "172.16.1.1", 3_000_000, 0.05));
        std::thread::sleep(Duration::from_secs(2));
        let out = hq.swanctl(1, &["--terminate", "--ike", "vpn-hq-1"]);
        assert!(out.contains("terminate completed successfully"), "{out}");
        let ended = Instant::now();
        assert!(
            wait(5, || tunnels(transfer_vpcd, "vpn-hq")
                .first()
                .is_some_and(|t| t.0 == "DOWN")),
            "{}",
            transfer_vpcd.ctl(&["vpn-connections"])
        );
        // Both ends take the dead tunnel's interface down at once: traffic moves
        // within seconds, well inside BGP's 30 s hold time.
        assert!(
            wait(10, || transfer_vpcd.ping("erp", "172.16.1.1", 1, &[])),
            "no traffic 10 s after the tunnel ended"
        );
        println!(
            "failover: traffic flows again {:?} after the tunnel ended",
            ended.elapsed()
        );
        t.join().expect("transfer")
    });
    assert!(
        !sent.is_empty() && sent == got,
        "across failover: sent {sent}, got {got}"
    );
    assert_eq!(tunnels(&vpcd, "vpn-hq")[1].0, "UP");
    assert!(vpcd.ping("erp", "172.16.1.1", 2, &[]), "after failover");
    // The site brings tunnel 1 back: both UP again.
    let _ = hq.swanctl(1, &["--initiate", "--child", "vpn-hq-1", "--timeout", "10"]);
    assert!(
        wait(30, || tunnels(&vpcd, "vpn-hq").iter().all(|t| t.0 == "UP")),
        "{}",
        vpcd.ctl(&["vpn-connections"])
    );

    // A wrong pre-shared key (branch tunnel 2) and a wrong proposal (branch tunnel 1):
    // DOWN with the reason, in vpcctl and in the log; hq unaffected.
    let conf2 = branch.dir.join("tunnel2/swanctl.conf");
    let text = std::fs::read_to_string(&conf2).expect("tunnel 2's swanctl.conf");
    std::fs::write(
        &conf2,
        text.replace("branch.tunnel2.secret", "not.the.secret"),
    )
    .unwrap();
    let conf1 = branch.dir.join("tunnel1/swanctl.conf");
    let text = std::fs::read_to_string(&conf1).expect("tunnel 1's swanctl.conf");
    let bad = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("proposals") {
                "    proposals = aes128-md5-modp1024".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&conf1, bad).unwrap();
    for (n, conf) in [(2, &conf2), (1, &conf1)] {
        let _ = branch.swanctl(n, &["--terminate", "--ike", &format!("vpn-branch-{n}")]);
        let uri = format!("unix://{}/tunnel{n}/run/charon.vici", branch.dir.display());
        let _ = Command::new("swanctl")
            .args(["--load-all", "--noprompt", "--file"])
            .arg(conf)
            .args(["--uri", &uri])
            .output();
        let _ = branch.swanctl(
            n,
            &[
                "--initiate",
                "--child",
                &format!("vpn-branch-{n}"),
                "--timeout",
                "5",
            ],
        );
    }
    assert!(
        wait(20, || {
            let t = tunnels(&vpcd, "vpn-branch");
            t.len() == 2
                && t[1].0 == "DOWN"
                && t[1].1.contains("pre-shared key")
                && t[0].0 == "DOWN"
                && t[0].1.contains("proposal")
        }),
        "{}",
        vpcd.ctl(&["vpn-connections"])
    );
    let log = vpcd.stdout();
    assert!(log.contains("pre-shared key mismatch"), "{log}");
    assert!(log.contains("proposal"), "{log}");
    assert_eq!(tunnels(&vpcd, "vpn-hq")[1].0, "UP");
    assert!(
        vpcd.ping("erp", "172.16.1.1", 2, &[]),
        "hq after the branch's failures"
    );

    // More than 100 prefixes from a site: AWS resets the session.
    let conf = hq.dir.join("bird.conf");
    let text = std::fs::read_to_string(&conf).expect("hq's bird.conf");
    let many: String = (0..100)
        .map(|i| format!("  route 172.20.{i}.0/24 blackhole;\n"))
        .collect();
    let more = text.replacen(
        "  route 172.16.0.0/16 blackhole;\n",
        &format!("  route 172.16.0.0/16 blackhole;\n{many}"),
        1,
    );
    assert_ne!(more, text, "hq's bird.conf has no site route:\n{text}");
    std::fs::write(&conf, more).unwrap();
    let ctl = ctl.display().to_string();
    let configure = || {
        Command::new("birdc")
            .args(["-s", &ctl, "configure"])
            .output()
            .expect("birdc configure")
    };
    configure();
    assert!(
        wait(20, || tunnels(&vpcd, "vpn-hq").iter().all(|t| t.0
            == "DOWN"
            && t.1.contains("Route limit exceeded"))),
        "{}",
        vpcd.ctl(&["vpn-connections"])
    );
    std::fs::write(&conf, text).unwrap();
    configure();

    drop(branch);
    drop(hq);
    vpcd.stop();
}

//! End-to-end tests of live apply (issue 14): `vpcctl apply FILE` prints the plan and
//! applies the difference at once, without touching a running flow; `--dry-run` and a
//! file that describes what runs change nothing; an invalid file is refused whole with
//! its location; an instance added gets its namespace at once and loses it when
//! removed, while the others are not touched; SIGHUP applies the `--config` file
//! again.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod harness;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use harness::{Vpcd, drop_deltas, in_netns, namespaces, root_or_skip};

const DEMO: &str = include_str!("../../../config/demo.toml");

/// db-sg's rules in the demo.
const DB_SG: &str = r#"ingress = [{ protocol = "tcp", port = 5432, security_group = "app-sg" }]"#;

/// The demo with one more subnet, and ICMP from private-a (app) allowed into db-sg.
fn changed() -> String {
    let opened = r#"ingress = [
  { protocol = "tcp", port = 5432, security_group = "app-sg" },
  { protocol = "icmp", cidr = "10.0.2.0/24" },
]"#;
    assert!(DEMO.contains(DB_SG));
    DEMO.replace(DB_SG, opened)
        + "\n[[subnet]]\nname = \"extra\"\nvpc = \"demo\"\ncidr = \"10.0.20.0/24\"\naz = \"a\"\n"
}

/// A file the test wrote, removed when the test ends, also when it fails.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A temporary path for `name`; nothing is written yet (and what is there is removed).
fn temp(name: &str) -> TempFile {
    let f =
        TempFile(std::env::temp_dir().join(format!("vpcd-e2e-{name}-{}.toml", std::process::id())));
    let _ = std::fs::remove_file(&f.0);
    f
}

/// `text` written to a temporary file named after `name`.
fn write(name: &str, text: &str) -> TempFile {
    let f = temp(name);
    std::fs::write(&f.0, text).unwrap();
    f
}

/// A TCP flow from web to app:8080 that sends 64 KiB every 10 ms for `for_` and
/// returns (bytes sent, bytes the server read).
fn flow(vpcd: &Vpcd, for_: Duration) -> std::thread::JoinHandle<(usize, usize)> {
    let listener = in_netns(&vpcd.ns("app"), || {
        TcpListener::bind(("0.0.0.0", 8080)).unwrap()
    })
    .join()
    .unwrap();
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0;
        loop {
            match c.read(&mut buf).unwrap() {
                0 => return n,
                k => n += k,
            }
        }
    });
    let web = vpcd.ns("web");
    std::thread::spawn(move || {
        let sent = in_netns(&web, move || {
            let mut s = TcpStream::connect_timeout(
                &"10.0.2.10:8080".parse().unwrap(),
                Duration::from_secs(5),
            )
            .unwrap();
            let chunk = vec![7u8; 1 << 16];
            let (until, mut sent) = (Instant::now() + for_, 0);
            while Instant::now() < until {
                s.write_all(&chunk).unwrap();
                sent += chunk.len();
                std::thread::sleep(Duration::from_millis(10));
            }
            s.shutdown(std::net::Shutdown::Write).unwrap();
            sent
        })
        .join()
        .unwrap();
        (sent, server.join().unwrap())
    })
}

#[test]
fn apply_prints_the_plan_and_changes_only_what_differs_under_a_running_flow() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start("apply1", Some(DEMO));
    let web_ns = harness::namespace_identity(&vpcd.ns("web"));
    assert!(
        !vpcd.ping("app", "10.0.12.10", 1, &[]),
        "db-sg lets no ICMP in yet"
    );
    let before = vpcd.counters();
    let running = flow(&vpcd, Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(500));

    // A dry run prints the plan and changes nothing.
    let file = write("apply1", &changed());
    let f = file.path().display().to_string();
    let out = vpcd.ctl(&["apply", "--dry-run", &f]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("{f}: 2 changes"), "{out}");
    let mut plan: Vec<&str> = lines[1..3].iter().map(|l| l.trim()).collect();
    plan.sort_unstable();
    assert_eq!(plan, ["+ subnet extra", "~ security_group db-sg"], "{out}");
    assert_eq!(lines[3], "dry run: nothing applied", "{out}");
    assert!(
        !vpcd.ping("app", "10.0.12.10", 1, &[]),
        "nothing applied yet"
    );

    // Applied: at once, and only the difference.
    let out = vpcd.ctl(&["apply", &f]);
    assert!(out.ends_with("applied\n"), "{out}");
    assert!(
        vpcd.ping("app", "10.0.12.10", 2, &[]),
        "db-sg now lets ICMP from app in"
    );
    assert!(
        vpcd.ctl(&["routes"]).contains("extra"),
        "the new subnet is associated"
    );
    assert!(
        vpcd.ctl(&["status"]).contains("10.0.20.0/24"),
        "status shows the new subnet"
    );

    // The same file again: no changes.
    assert_eq!(vpcd.ctl(&["apply", &f]), format!("{f}: no changes\n"));

    // An invalid file is refused whole, with its location; what runs stays.
    let bad = write("apply1-bad", &(changed() + "\n[[subnet]]\nname = 5\n"));
    let b = bad.path().display().to_string();
    let err = vpcd.try_ctl(&["apply", &b]).unwrap_err().to_string();
    assert!(err.contains(&b) && err.contains(':'), "{err}");
    assert!(vpcd.ping("app", "10.0.12.10", 1, &[]));

    // A new instance gets its namespace at once, ready to use; removed again, the
    // namespace goes.
    let more = changed()
        + "\n[[instance]]\nname = \"cache\"\nsubnet = \"extra\"\nprivate_ip = \"10.0.20.10\"\nsecurity_groups = [\"app-sg\"]\n";
    let more = write("apply1-more", &more);
    let out = vpcd.ctl(&["apply", &more.path().display().to_string()]);
    assert!(
        out.contains("+ instance cache") && out.ends_with("applied\n"),
        "{out}"
    );
    let cache = vpcd.ns("cache");
    assert!(namespaces(&vpcd.prefix).contains(&cache));
    assert!(
        vpcd.ping("web", "10.0.20.10", 2, &[]),
        "web reaches the new instance"
    );
    assert!(
        vpcd.ping("cache", "10.0.1.10", 1, &[]),
        "and it reaches web"
    );
    assert!(vpcd.ctl(&["status"]).contains("cache"));
    let out = vpcd.ctl(&["apply", &f]);
    assert!(out.contains("- instance cache"), "{out}");
    assert!(!namespaces(&vpcd.prefix).contains(&cache));

    // The flow ran through all of it: every byte arrived, nothing was dropped, and the
    // namespaces were not touched.
    let (sent, read) = running.join().unwrap();
    assert_eq!(read, sent);
    let after = vpcd.counters();
    let deltas = drop_deltas(&before, &after);
    // Only the echo request sent after the dry run (refused by db-sg).
    assert_eq!(deltas, ["sg-ingress +1"], "{deltas:?}");
    assert_eq!(harness::namespace_identity(&vpcd.ns("web")), web_ns);
    vpcd.stop();
    assert!(namespaces(&vpcd.prefix).is_empty());
}

#[test]
fn sighup_applies_the_config_file_again() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start("apply2", Some(DEMO));
    let config = vpcd.config_path().unwrap().to_owned();
    let hup = |vpcd: &Vpcd, expect: &str| {
        let seen = vpcd.stdout().matches("SIGHUP").count();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(vpcd.pid() as i32),
            nix::sys::signal::Signal::SIGHUP,
        )
        .unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        while vpcd.stdout().matches("SIGHUP").count() == seen && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = vpcd.stdout();
        let last = out
            .lines()
            .rev()
            .find(|l| l.starts_with("SIGHUP"))
            .unwrap_or("");
        assert!(last.contains(expect), "{last:?} lacks {expect:?}");
    };
    assert!(!vpcd.ping("app", "10.0.12.10", 1, &[]));
    std::fs::write(&config, changed()).unwrap();
    hup(&vpcd, "SIGHUP: applied");
    assert!(vpcd.ping("app", "10.0.12.10", 2, &[]));
    hup(&vpcd, "no changes");
    std::fs::write(&config, "[[vpc]]\nname = 7\n").unwrap();
    hup(&vpcd, "not applied");
    assert!(
        vpcd.ping("app", "10.0.12.10", 1, &[]),
        "the running configuration stays"
    );
    vpcd.stop();
    assert!(namespaces(&vpcd.prefix).is_empty());
}

/// `--state FILE`: every change made at run time is written there (mode 0600, the
/// format of `--config`), and the next start runs what it holds.
#[test]
fn a_state_file_keeps_run_time_changes_across_a_restart() {
    if !root_or_skip() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let state = temp("state");
    let s = state.path().display().to_string();
    let mut vpcd = Vpcd::start_with("state1", Some(DEMO), &["--state", &s]);
    assert!(vpcd.stdout().contains(&format!(
        "state: changes made at run time are written to {s}"
    )));
    let mode = std::fs::metadata(state.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let written = || vpc_config::load(state.path()).unwrap();
    assert_eq!(
        written(),
        vpc_config::parse(DEMO, "demo").unwrap(),
        "at start: the config"
    );
    // A file applied, then a change on top (an apply sets the whole configuration, so
    // the other order would undo the deletion).
    let file = write("state1", &changed());
    vpcd.ctl(&["apply", &file.path().display().to_string()]);
    vpcd.ctl(&["delete-nat-gateway", "nat-b"]);
    let plan = vpc_config::plan(&vpc_config::parse(DEMO, "demo").unwrap(), &written());
    let mut plan: Vec<String> = plan.to_string().lines().map(str::to_owned).collect();
    plan.sort_unstable();
    assert_eq!(
        plan,
        [
            "+ subnet extra",
            "~ nat_gateway nat-b",
            "~ security_group db-sg"
        ],
        "the state file holds both changes"
    );
    vpcd.stop();

    // The next start runs the state, not --config.
    let mut again = Vpcd::start_with("state2", Some(DEMO), &["--state", &s]);
    assert!(
        again
            .stdout()
            .contains(&format!("state: restored from {s}")),
        "{}",
        again.stdout()
    );
    assert_eq!(
        again.route_state("private-b-rt", "0.0.0.0/0"),
        "nat-b blackhole"
    );
    assert!(again.ping("app", "10.0.12.10", 2, &[]), "db-sg as applied");
    again.stop();
    assert!(namespaces(&again.prefix).is_empty());
}

/// An empty file is a topology with nothing in it: the daemon starts from nothing, and
/// resources without instances are applied into it.
#[test]
fn an_empty_daemon_takes_a_vpc_by_apply() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start("apply3", Some(""));
    let file = write(
        "apply3",
        "[[vpc]]\nname = \"v\"\ncidr = \"10.9.0.0/16\"\n\n\
         [[subnet]]\nname = \"s\"\nvpc = \"v\"\ncidr = \"10.9.1.0/24\"\naz = \"a\"\n",
    );
    let f = file.path().display().to_string();
    let out = vpcd.ctl(&["apply", &f]);
    for line in ["+ vpc v", "+ subnet s", "+ route_table v-main", "applied"] {
        assert!(out.lines().any(|l| l.trim() == line), "{line:?} in {out}");
    }
    assert!(
        vpcd.ctl(&["routes"]).contains("10.9.0.0/16"),
        "the VPC's local route"
    );
    assert_eq!(vpcd.ctl(&["apply", &f]), format!("{f}: no changes\n"));

    // Then the whole demo: its instances and internet host get their namespaces and
    // behave as in the demo; the empty file again removes them all.
    let demo = write("apply3-demo", DEMO);
    let out = vpcd.ctl(&["apply", &demo.path().display().to_string()]);
    assert!(
        out.contains("+ instance web") && out.ends_with("applied\n"),
        "{out}"
    );
    assert!(vpcd.ping("web", "10.0.2.10", 2, &[]), "web reaches app");
    assert!(
        !vpcd.ping("web", "10.0.12.10", 1, &[]),
        "db answers no ping"
    );
    assert!(
        vpcd.ping("app", "203.0.113.10", 1, &[]),
        "app reaches the internet"
    );
    let empty = write("apply3-empty", "");
    vpcd.ctl(&["apply", &empty.path().display().to_string()]);
    // Only the services namespace stays while the daemon runs.
    assert_eq!(namespaces(&vpcd.prefix), [vpcd.ns("vpcd+services")]);
    vpcd.stop();
    assert!(namespaces(&vpcd.prefix).is_empty());
}

/// A process the test started, ended by its PID when the test ends (also on failure).
struct Started(std::process::Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn an_apply_under_iperf3_load_drops_nothing_of_the_running_flow() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start("apply5", Some(DEMO));
    // iperf3 between web and app:8080 (app-sg lets web-sg in on 8080) for 4 seconds,
    // app sending (-R): its data reaches web only as replies of a tracked connection
    // (web-sg lets nothing from port 8080 in), so a connection forgotten by the apply
    // would show as sg-ingress drops.
    let server = Started(
        std::process::Command::new("ip")
            .args(["netns", "exec", &vpcd.ns("app")])
            .args(["iperf3", "-s", "-1", "-p", "8080"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start iperf3 (apt-get install iperf3)"),
    );
    // And a UDP flow web opened to the internet host, whose next datagram comes from
    // the host after the apply: only web's tracked connection lets it in.
    let udp = |ns: String, port: u16| {
        in_netns(&ns, move || {
            let s = std::net::UdpSocket::bind(("0.0.0.0", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            s
        })
        .join()
        .unwrap()
    };
    let (web_udp, host_udp) = (udp(vpcd.ns("web"), 5000), udp(vpcd.ns("internet"), 9999));
    web_udp.send_to(b"out", "203.0.113.10:9999").unwrap();
    let mut buf = [0u8; 16];
    let (_, web_public) = host_udp.recv_from(&mut buf).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let before = vpcd.counters();
    let web = vpcd.ns("web");
    let client = std::thread::spawn(move || {
        std::process::Command::new("ip")
            .args(["netns", "exec", &web])
            .args(["iperf3", "-c", "10.0.2.10", "-p", "8080", "-t", "4", "-R"])
            .output()
            .expect("run iperf3")
    });
    std::thread::sleep(Duration::from_millis(1500));
    // A subnet and an instance more, and db-sg (unrelated to the flow) changed.
    let more = changed()
        + "\n[[instance]]\nname = \"cache\"\nsubnet = \"extra\"\nprivate_ip = \"10.0.20.10\"\nsecurity_groups = [\"app-sg\"]\n";
    let file = write("apply5", &more);
    let out = vpcd.ctl(&["apply", &file.path().display().to_string()]);
    assert!(
        out.contains("+ instance cache") && out.ends_with("applied\n"),
        "{out}"
    );
    // An invalid file changes nothing.
    let bad = write("apply5-bad", "[[vpc]]\nname = 1\n");
    assert!(
        vpcd.try_ctl(&["apply", &bad.path().display().to_string()])
            .is_err()
    );
    host_udp.send_to(b"back", web_public).unwrap();
    let (n, _) = web_udp
        .recv_from(&mut buf)
        .expect("the reply of a connection tracked before the apply");
    assert_eq!(&buf[..n], b"back");
    let done = client.join().unwrap();
    assert!(
        done.status.success(),
        "iperf3: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    drop(server);
    let after = vpcd.counters();
    assert_eq!(drop_deltas(&before, &after), Vec::<String>::new());
    assert!(
        vpcd.ping("web", "10.0.20.10", 1, &[]),
        "the new instance works"
    );
    vpcd.stop();
    assert!(namespaces(&vpcd.prefix).is_empty());
}

#[test]
fn an_instance_whose_address_changes_is_made_again_and_the_others_are_not_touched() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start("apply6", Some(DEMO));
    let (web, app) = (
        harness::namespace_identity(&vpcd.ns("web")),
        harness::namespace_identity(&vpcd.ns("app")),
    );
    let moved = DEMO.replace("private_ip = \"10.0.2.10\"", "private_ip = \"10.0.2.11\"");
    assert_ne!(moved, DEMO);
    let file = write("apply6", &moved);
    let out = vpcd.ctl(&["apply", &file.path().display().to_string()]);
    assert!(
        out.contains("~ instance app") && out.ends_with("applied\n"),
        "{out}"
    );
    assert_ne!(
        harness::namespace_identity(&vpcd.ns("app")),
        app,
        "app made again"
    );
    assert_eq!(
        harness::namespace_identity(&vpcd.ns("web")),
        web,
        "web untouched"
    );
    let addr = vpcd.exec("app", &["ip", "-br", "addr", "show", "eth0"]);
    assert!(
        String::from_utf8_lossy(&addr.stdout).contains("10.0.2.11/24"),
        "{addr:?}"
    );
    assert!(vpcd.ping("web", "10.0.2.11", 2, &[]));
    assert!(!vpcd.ping("web", "10.0.2.10", 1, &[]));
    vpcd.stop();
    assert!(namespaces(&vpcd.prefix).is_empty());
}

/// Many add/remove cycles of one instance with two forwarding threads and the demo's
/// flow logs: each time the instance works, and at the end its namespace is gone. (The
/// deadlock once found this way, a change holding the flow-log flush's lock while it
/// made a namespace, is pinned down deterministically by the engine test
/// `a_flush_does_not_wait_for_a_change_being_prepared`; here the flush lands in a
/// change only by chance.)
#[test]
fn instances_come_and_go_many_times_with_flow_logs_and_two_threads() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start_with("apply7", Some(DEMO), &["--threads", "2"]);
    let more = write(
        "apply7-more",
        &(DEMO.to_owned()
            + "\n[[instance]]\nname = \"cache\"\nsubnet = \"private-a\"\nprivate_ip = \"10.0.2.20\"\nsecurity_groups = [\"app-sg\"]\n"),
    );
    let demo = write("apply7-demo", DEMO);
    let (more, demo) = (
        more.path().display().to_string(),
        demo.path().display().to_string(),
    );
    let started = Instant::now();
    for _ in 0..12 {
        assert!(vpcd.ctl(&["apply", &more]).ends_with("applied\n"));
        assert!(vpcd.ping("web", "10.0.2.20", 1, &[]), "web reaches cache");
        assert!(vpcd.ctl(&["apply", &demo]).ends_with("applied\n"));
    }
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(!namespaces(&vpcd.prefix).contains(&vpcd.ns("cache")));
    vpcd.stop();
    assert!(namespaces(&vpcd.prefix).is_empty());
}

//! The shared dataplane (`Engine`) under threads, on the demo: forwarding threads that
//! share one engine, each counting in its own counters, merged after. Batches in
//! opposite directions between the same two ENIs (each batch locks both connection
//! tables) all finish; a configuration swapped in while packets flow is seen whole by
//! each batch; a trace beside live batches changes nothing. The threads are waited for
//! with a deadline, so a deadlock fails a test instead of hanging it.

use std::net::Ipv4Addr;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use vpc_config::{EniId, Topology};

use super::{delta, drop, parse, to_eni};
use crate::counters::Counters;
use crate::engine::Engine;
use crate::packet::PacketBuf;
use crate::pipeline::Snapshot;
use crate::testkit::echo;
use crate::time::Time;
use crate::trace::{self, Probe};
use crate::verdict::{DropReason, Verdict};

const WEB: EniId = EniId(0);
const APP: EniId = EniId(1);
const WEB_IP: [u8; 4] = [10, 0, 1, 10];
const APP_IP: [u8; 4] = [10, 0, 2, 10];
const T0: Time = Time::from_secs(1000);
/// Packets per batch, as the daemon reads them.
const BATCH: usize = 32;
/// Batches each forwarding thread sends.
const BATCHES: usize = 2000;
/// Batches each thread sends in opposite directions: enough for the two to meet often
/// (a batch that waited for a lock without letting go of its own deadlocked them).
const OPPOSITE_BATCHES: usize = 4 * BATCHES;
/// How long the threads of a test may take before it calls them deadlocked.
const DEADLINE: Duration = Duration::from_secs(60);

/// A thread's work: what it returns.
type Job<T> = Box<dyn FnOnce() -> T + Send>;

/// Runs each job on its own thread and returns their results in order. Fails if they
/// have not all finished within [`DEADLINE`] (the stuck threads are left behind) or if
/// one panicked (with its panic).
fn on_threads<T: Send + 'static>(jobs: Vec<Job<T>>) -> Vec<T> {
    let n = jobs.len();
    let (tx, rx) = mpsc::channel();
    for (i, job) in jobs.into_iter().enumerate() {
        let tx = tx.clone();
        thread::spawn(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(job));
            let _ = tx.send((i, result));
        });
    }
    let deadline = Instant::now() + DEADLINE;
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for done in 0..n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, Ok(r))) => results[i] = Some(r),
            Ok((_, Err(p))) => panic::resume_unwind(p),
            Err(_) => panic!("deadlock? {done} of {n} threads finished within {DEADLINE:?}"),
        }
    }
    results.into_iter().flatten().collect()
}

/// Raises a stop flag when dropped: when its thread ends, even by a panic (so the
/// threads that wait for the flag end too).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// `BATCH` ICMP echo requests from `src` to `dst`, identifiers `first..`: as many
/// flows.
fn pings(src: [u8; 4], dst: [u8; 4], first: u16) -> Vec<Vec<u8>> {
    (first..first + BATCH as u16)
        .map(|id| echo(src, dst, true, id))
        .collect()
}

/// A forwarding thread: sends `pristine` from `from` as one batch at a time through
/// `engine` (each under the snapshot loaded for it) until `more` says stop, giving
/// `check` every batch's snapshot and verdicts; returns its counters.
fn forward(
    engine: &Engine,
    from: EniId,
    pristine: &[Vec<u8>],
    mut more: impl FnMut(usize) -> bool,
    mut check: impl FnMut(&Snapshot, &[Verdict]),
) -> Counters {
    let mut counters = engine.load().new_counters();
    let mut pkts: Vec<PacketBuf> = pristine.iter().map(|p| PacketBuf::from_bytes(p)).collect();
    let (mut verdicts, mut copies) = (Vec::new(), Vec::new());
    let mut batches = 0;
    while more(batches) {
        for (buf, p) in pkts.iter_mut().zip(pristine) {
            *buf = PacketBuf::from_bytes(p);
        }
        let snapshot = engine.load();
        let out = (&mut verdicts, &mut copies);
        snapshot.process_batch(&mut counters, T0, from, &mut pkts, out);
        assert_eq!(verdicts.len(), pkts.len());
        assert!(copies.is_empty());
        check(&snapshot, &verdicts);
        batches += 1;
    }
    counters
}

/// The sum of threads' counters.
fn merged(zero: &Counters, parts: &[Counters]) -> Counters {
    let mut all = zero.clone();
    for c in parts {
        all.add(c);
    }
    all
}

/// The counter changes of `packets` 32-byte packets forwarded each way between web and
/// app, `dropped` more sent by web and dropped for `reason` (`delta`'s lines).
fn exchanged(web_to_app: u64, app_to_web: u64, dropped: (u64, DropReason)) -> Vec<String> {
    let (n, reason) = dropped;
    let sent = web_to_app + n;
    let mut lines = vec![
        format!("web/eth0 rx_packets +{sent}"),
        format!("web/eth0 rx_bytes +{}", 32 * sent),
        format!("web/eth0 tx_packets +{app_to_web}"),
        format!("web/eth0 tx_bytes +{}", 32 * app_to_web),
    ];
    if n > 0 {
        lines.push(format!("web/eth0 drop {} +{n}", reason.name()));
    }
    lines.extend([
        format!("app/eth0 rx_packets +{app_to_web}"),
        format!("app/eth0 rx_bytes +{}", 32 * app_to_web),
        format!("app/eth0 tx_packets +{web_to_app}"),
        format!("app/eth0 tx_bytes +{}", 32 * web_to_app),
    ]);
    lines
}

#[test]
fn batches_in_opposite_directions_between_two_enis_all_finish_and_count_exactly() {
    // web pings app and app pings web at once (the demo's groups allow ICMP within the
    // VPC): each batch locks web's table and app's, in opposite orders.
    let t = Topology::demo();
    let engine = Arc::new(Engine::new(&t, T0));
    let zero = engine.load().new_counters();
    // Both start at once, so their batches overlap.
    let start = Arc::new(Barrier::new(2));
    let job = |from, to, pristine: Vec<Vec<u8>>| -> Job<Counters> {
        let (engine, start) = (Arc::clone(&engine), Arc::clone(&start));
        Box::new(move || {
            start.wait();
            let check = |_: &Snapshot, v: &[Verdict]| assert!(v.iter().all(|v| *v == to_eni(to)));
            forward(&engine, from, &pristine, |b| b < OPPOSITE_BATCHES, check)
        })
    };
    let counters = on_threads(vec![
        job(WEB, APP, pings(WEB_IP, APP_IP, 0)),
        job(APP, WEB, pings(APP_IP, WEB_IP, 100)),
    ]);
    let n = (OPPOSITE_BATCHES * BATCH) as u64;
    assert_eq!(
        delta(&t, &zero, &merged(&zero, &counters)),
        exchanged(n, n, (0, DropReason::SgIngress))
    );
    // Each table tracks its 32 pings and the other's 32, each inserted once.
    let snapshot = engine.load();
    for eni in [WEB, APP] {
        let (stats, len) = snapshot.conntrack_stats(eni);
        assert_eq!((stats.inserted, len), (64, 64), "{}", t.eni_name(eni));
    }
}

/// The demo and the demo with a network ACL on app's subnet that denies ICMP from web
/// (and allows everything else): one of the two is in force.
fn demo_and_no_ping_from_web() -> (Topology, Topology) {
    let blocked = parse(&format!(
        "{}{}",
        vpc_config::DEMO_TOML,
        r#"
[[network_acl]]
name = "no-ping-from-web"
vpc = "demo"
subnets = ["private-a"]
ingress = [
  { rule_number = 100, protocol = "icmp", action = "deny", cidr = "10.0.1.10/32" },
  { rule_number = 200, protocol = "all", action = "allow", cidr = "0.0.0.0/0" },
]
egress = [{ rule_number = 100, protocol = "all", action = "allow", cidr = "0.0.0.0/0" }]
"#
    ));
    (Topology::demo(), blocked)
}

/// Whether `s` runs the configuration with network ACL `no-ping-from-web`.
fn blocks_web(s: &Snapshot) -> bool {
    s.topology()
        .network_acls
        .iter()
        .any(|a| a.name == "no-ping-from-web")
}

#[test]
fn configurations_swapped_in_while_packets_flow_are_seen_whole_by_each_batch() {
    let (open, blocked) = demo_and_no_ping_from_web();
    let engine = Arc::new(Engine::new(&open, T0));
    let zero = engine.load().new_counters();
    let stop = Arc::new(AtomicBool::new(false));
    let (forwarded, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    // web -> app: every verdict of a batch is the one of the configuration it ran
    // under. It goes on until it has seen both (or 10 times the batches).
    let web: Job<Counters> = {
        let (engine, stop) = (Arc::clone(&engine), Arc::clone(&stop));
        let (forwarded, dropped) = (Arc::clone(&forwarded), Arc::clone(&dropped));
        Box::new(move || {
            let pristine = pings(WEB_IP, APP_IP, 0);
            let both =
                || forwarded.load(Ordering::Relaxed) > 0 && dropped.load(Ordering::Relaxed) > 0;
            let more = |b| b < BATCHES || (!both() && b < 10 * BATCHES);
            let check = |s: &Snapshot, v: &[Verdict]| {
                let (want, seen) = if blocks_web(s) {
                    (drop(DropReason::NaclInbound), &dropped)
                } else {
                    (to_eni(APP), &forwarded)
                };
                assert_eq!(v, [want; BATCH], "a batch under one configuration");
                seen.fetch_add(v.len(), Ordering::Relaxed);
            };
            let _stop = StopOnDrop(stop);
            forward(&engine, WEB, &pristine, more, check)
        })
    };
    // app -> web: forwarded under both.
    let app: Job<Counters> = {
        let engine = Arc::clone(&engine);
        Box::new(move || {
            let check = |_: &Snapshot, v: &[Verdict]| assert!(v.iter().all(|v| *v == to_eni(WEB)));
            forward(
                &engine,
                APP,
                &pings(APP_IP, WEB_IP, 100),
                |b| b < BATCHES,
                check,
            )
        })
    };
    // The control plane: the two configurations in turn until web is done.
    let applier: Job<Counters> = {
        let (engine, stop, open) = (Arc::clone(&engine), Arc::clone(&stop), open.clone());
        Box::new(move || {
            let mut applied = 0;
            while !stop.load(Ordering::Relaxed) {
                let next = if applied % 2 == 0 { &blocked } else { &open };
                engine.apply(next, T0);
                applied += 1;
            }
            assert!(applied > 0);
            Counters::new(0, 0)
        })
    };
    let counters = on_threads(vec![web, app, applier]);
    let (f, d) = (
        forwarded.load(Ordering::Relaxed) as u64,
        dropped.load(Ordering::Relaxed) as u64,
    );
    assert!(
        f > 0 && d > 0,
        "web saw both configurations: {f} forwarded, {d} dropped"
    );
    let n = (BATCHES * BATCH) as u64;
    assert_eq!(
        delta(&open, &zero, &merged(&zero, &counters[..2])),
        exchanged(f, n, (d, DropReason::NaclInbound))
    );
}

#[test]
fn a_trace_beside_live_batches_changes_nothing() {
    let t = Topology::demo();
    let engine = Arc::new(Engine::new(&t, T0));
    let zero = engine.load().new_counters();
    // web's 32 pings to app are tracked first, so the batches below insert nothing.
    let warm = forward(
        &engine,
        WEB,
        &pings(WEB_IP, APP_IP, 0),
        |b| b < 1,
        |_, _| {},
    );
    let stats = |eni| engine.load().conntrack_stats(eni);
    let before = [stats(WEB), stats(APP)];
    assert_eq!((before[0].0.inserted, before[1].1), (32, 32));
    let stop = Arc::new(AtomicBool::new(false));
    let batches = Arc::new(AtomicUsize::new(0));
    let sender: Job<Counters> = {
        let (engine, stop, batches) =
            (Arc::clone(&engine), Arc::clone(&stop), Arc::clone(&batches));
        Box::new(move || {
            let check = |_: &Snapshot, v: &[Verdict]| {
                assert!(v.iter().all(|v| *v == to_eni(APP)));
                batches.fetch_add(1, Ordering::Relaxed);
            };
            forward(
                &engine,
                WEB,
                &pings(WEB_IP, APP_IP, 0),
                |_| !stop.load(Ordering::Relaxed),
                check,
            )
        })
    };
    // A TCP SYN web -> app 8080 (a new flow app-sg allows), traced while web's batches
    // run, until at least 50 batches ran during the traces.
    let tracer: Job<Counters> = {
        let (engine, stop, batches) =
            (Arc::clone(&engine), Arc::clone(&stop), Arc::clone(&batches));
        Box::new(move || {
            let _stop = StopOnDrop(stop);
            while batches.load(Ordering::Relaxed) == 0 {
                thread::yield_now();
            }
            let first = batches.load(Ordering::Relaxed);
            let mut traces = 0;
            while traces < 100 || batches.load(Ordering::Relaxed) < first + 50 {
                let walked = engine
                    .load()
                    .trace(T0, WEB, Ipv4Addr::from(APP_IP), Probe::Tcp(8080));
                assert_eq!(walked.verdict, to_eni(APP));
                traces += 1;
            }
            Counters::new(0, 0)
        })
    };
    let counters = on_threads(vec![sender, tracer]);
    assert_eq!(
        [stats(WEB), stats(APP)],
        before,
        "no flow inserted or removed"
    );
    let n = ((batches.load(Ordering::Relaxed) + 1) * BATCH) as u64;
    assert_eq!(
        delta(&t, &zero, &merged(&warm, &counters[..1])),
        exchanged(n, 0, (0, DropReason::SgIngress))
            .into_iter()
            .filter(|l| !l.ends_with(" +0"))
            .collect::<Vec<_>>()
    );
    // The traced SYN, sent as a packet, is a new flow on both ENIs.
    let mut syn = trace::build(WEB_IP.into(), APP_IP.into(), Probe::Tcp(8080));
    let mut c = zero.clone();
    assert_eq!(
        engine.load().process(&mut c, T0, WEB, &mut syn),
        to_eni(APP)
    );
    assert_eq!(stats(WEB).0.inserted, before[0].0.inserted + 1);
    assert_eq!(stats(APP).0.inserted, before[1].0.inserted + 1);
}

/// A change's `prepare` may take long (the daemon makes namespaces there, through
/// netlink driven by the task that also flushes the flow logs): flushes, packets and
/// reads never wait for it. Regression: the change held the flushes' lock through it,
/// and the daemon deadlocked.
#[test]
fn a_flush_does_not_wait_for_a_change_being_prepared() {
    let t = Topology::demo();
    let engine = Arc::new(Engine::new(&t, Time::ZERO));
    let other = Arc::clone(&engine);
    let (answer, result) = engine.edit_prepared(
        Time::ZERO,
        |t| ("edited", Some(t.clone())),
        |current, _, _| {
            let (done, flushed) = mpsc::channel();
            let engine = Arc::clone(&other);
            thread::spawn(move || {
                let mut out = Vec::new();
                engine.flush_flow_logs(Time::from_secs(120), &mut out);
                let _ = done.send(());
            });
            // Packets go on with the current snapshot meanwhile.
            let mut counters = current.new_counters();
            let mut pkt = PacketBuf::from_bytes(&echo(WEB_IP, APP_IP, true, 1));
            let verdict = current.process(&mut counters, Time::ZERO, WEB, &mut pkt);
            assert_eq!(verdict, to_eni(APP));
            flushed
                .recv_timeout(Duration::from_secs(5))
                .map_err(|_| "the flush waited for the change")
        },
    );
    assert_eq!((answer, result), ("edited", Ok(true)));
}

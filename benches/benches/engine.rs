//! Criterion benchmarks of the shared dataplane (`vpc_dataplane::Engine`) under
//! threads, run with `cargo bench -p vpc-bench --bench engine`: how the rate of
//! forwarding grows with the threads that share one engine, as the daemon's forwarding
//! threads do, and what the per-ENI connection-table lock costs when threads meet on it.
//!
//! The topology is [`vpc_bench::one_subnet_topology`] with 8 instances: one subnet, a
//! security group that allows (and tracks) UDP to port 5201, no flow log. Each thread
//! owns its counters and 32 packet buffers, and judges warm batches of 32 copies of one
//! 84-byte UDP datagram of a tracked flow (`Snapshot::process_batch` under the snapshot
//! `Engine::load` gives it for each batch, the buffers restored before each batch, as in
//! `benches/pipeline.rs`).
//!
//! - `engine/threads-N` (N = 1, 2, 4): N threads, thread k forwarding from instance 2k to
//!   instance 2k + 1: no two threads share an ENI, so none waits for another's lock.
//! - `engine/threads-2-same-eni`: 2 threads forwarding distinct flows (source ports
//!   40000 and 40001) from instance 0 to instance 1: each batch locks both ENIs'
//!   connection tables for the whole batch, so the threads take turns.
//!
//! An iteration is one batch on every thread, and the throughput is counted in packets
//! (`Throughput::Elements`, 32 per thread): criterion's rate is the packets per second of
//! all threads together, comparable across thread counts. The time of a sample runs from
//! the first thread's start to the last thread's end; the threads are spawned and meet
//! at a barrier before it (`std::thread::scope`, outside the timing), so all of them run
//! during the timed part. On a machine with fewer cores than threads they also share the
//! cores. Before timing, each flow's first batch is sent (so every timed packet is of a
//! tracked flow) and checked to be forwarded; every thread's last batch is checked too.
//! The results are never asserted.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use criterion::{criterion_group, criterion_main};
use vpc_bench::udp_ports;
use vpc_bench::{ONE_SUBNET_PORT, buffer_for, one_subnet_ip, one_subnet_topology, restore};
use vpc_config::EniId;
use vpc_dataplane::{Engine, Port, Time, Verdict};

/// The time passed to the pipeline: fixed, nothing here depends on it.
const NOW: Time = Time::from_secs(1);

/// Packets a thread judges in one batch, as the daemon reads them.
const BATCH: usize = 32;

/// Instances of the topology: four pairs, one per thread of `engine/threads-4`.
const INSTANCES: usize = 8;

/// One thread's flow: the ENI it reads from, the ENI its packets go to, and the packet.
struct Flow {
    from: EniId,
    to: EniId,
    packet: Vec<u8>,
}

/// The flow from instance `from` to instance `to` with source port `sport`.
fn flow(from: usize, to: usize, sport: u16) -> Flow {
    let eni = |i: usize| EniId(u32::try_from(i).expect("few instances"));
    let (src, dst): (Ipv4Addr, Ipv4Addr) = (one_subnet_ip(from), one_subnet_ip(to));
    Flow {
        from: eni(from),
        to: eni(to),
        packet: udp_ports(src, sport, dst, ONE_SUBNET_PORT, 84),
    }
}

/// One thread's part of an iteration count: `iters` batches of its flow through
/// `engine`, after `start` (all threads at once). Returns when it started and ended, or
/// panics if its last batch was not forwarded.
fn run(engine: &Engine, f: &Flow, iters: u64, start: &Barrier) -> (Instant, Instant) {
    let mut counters = engine.load().new_counters();
    let mut bufs: Vec<_> = (0..BATCH).map(|_| buffer_for(&f.packet)).collect();
    let (mut verdicts, mut copies) = (Vec::with_capacity(BATCH), Vec::new());
    start.wait();
    let began = Instant::now();
    for _ in 0..iters {
        for buf in &mut bufs {
            restore(buf, &f.packet);
        }
        let snapshot = engine.load();
        snapshot.process_batch(
            &mut counters,
            black_box(NOW),
            black_box(f.from),
            &mut bufs,
            (&mut verdicts, &mut copies),
        );
    }
    let ended = Instant::now();
    let forwarded = Verdict::Forward {
        to: Port::Eni(f.to),
    };
    assert!(verdicts.iter().all(|v| *v == forwarded), "{verdicts:?}");
    black_box(&counters);
    (began, ended)
}

/// Benchmarks `name`: one thread per flow of `flows`, all sharing one engine.
fn bench_threads(c: &mut Criterion, name: &str, flows: &[Flow]) {
    let t = one_subnet_topology(INSTANCES);
    let engine = Engine::new(&t, NOW);
    // Each flow's first batch, untimed: the flows are tracked from here on.
    let start = Barrier::new(1);
    for f in flows {
        run(&engine, f, 1, &start);
    }
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements((BATCH * flows.len()) as u64));
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = &Barrier::new(flows.len());
            let engine = &engine;
            let times: Vec<(Instant, Instant)> = thread::scope(|s| {
                let threads: Vec<_> = flows
                    .iter()
                    .map(|f| s.spawn(move || run(engine, f, iters, start)))
                    .collect();
                threads
                    .into_iter()
                    .map(|h| h.join().expect("a forwarding thread"))
                    .collect()
            });
            let began = times.iter().map(|t| t.0).min().expect("a thread");
            let ended = times.iter().map(|t| t.1).max().expect("a thread");
            ended - began
        })
    });
    g.finish();
}

/// `engine/threads-N`: N threads, each between its own pair of ENIs.
fn own_enis(c: &mut Criterion) {
    for n in [1, 2, 4] {
        let flows: Vec<Flow> = (0..n).map(|k| flow(2 * k, 2 * k + 1, 40000)).collect();
        bench_threads(c, &format!("threads-{n}"), &flows);
    }
}

/// `engine/threads-2-same-eni`: 2 threads, distinct flows between the same two ENIs.
fn same_eni(c: &mut Criterion) {
    let flows = [flow(0, 1, 40000), flow(0, 1, 40001)];
    bench_threads(c, "threads-2-same-eni", &flows);
}

criterion_group! {
    name = benches;
    // Two cores here: short runs, and still enough samples for a stable median.
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = own_enis, same_eni
}
criterion_main!(benches);

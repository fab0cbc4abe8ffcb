//! Criterion benchmarks of the packet pipeline, run with `cargo bench -p vpc-bench`.
//! The results are recorded in `docs/benchmarks.md`, never asserted.
//!
//! Every pipeline benchmark owns one dataplane and preallocated packet buffers; each
//! iteration first copies the pristine input back into its buffer (the pipeline may
//! rewrite a packet in place, e.g. into the router's reply), then processes it. That
//! copy is inside the timing; `restore/*` measures it alone. Nothing allocates inside
//! the timed loop. Before timing, each benchmark checks once that its packet gets the
//! verdict it is meant to measure.
//!
//! - `forward/*`: one packet app -> web, forwarded between subnets: the route, both
//!   NACLs, and the flow's entry in each ENI's connection table (the first packet,
//!   before timing, tracked it, so this is the warm path).
//!   `forward/icmp-84B-no-flow-log` is the same without the demo's VPC flow log.
//! - `router/echo-reply`: app pings its subnet router 10.0.2.1, answered in place.
//! - `drop/reserved`: app -> 10.0.2.3, a reserved address, dropped.
//! - `batch/N`: `process_batch` on N forwardable packets (app -> web, warm).
//! - `lpm/N`: `RouteTable::lookup` alone, N random prefixes.
//! - `pipeline/1000-routes`: forwarding through a route table of 1,001 routes.
//! - `restore/*`: the per-iteration copy of the input, alone.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use criterion::{criterion_group, criterion_main};
use vpc_bench::{APP, APP_IP, DB_IP, FW, WEB, WEB_IP, XorShift};
use vpc_bench::{
    addresses_in, buffer_for, demo_with_udp, icmp_echo, many_routes_topology, outside_slash_24s,
    random_prefixes, restore, route_table, udp,
};
use vpc_config::{HostId, Topology};
use vpc_dataplane::{Dataplane, DropReason, Port, Reply, Time, Verdict};

/// The time passed to the pipeline: fixed, nothing here depends on it.
const NOW: Time = Time::from_secs(1);

/// Benchmarks `name` in `group`: `pristine`, read from ENI `from` of `topology`, through
/// `Dataplane::process`, restored before each iteration. Checks `expected` first.
fn one_packet(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    topology: &Topology,
    from: impl Into<Port> + Copy,
    pristine: &[u8],
    expected: Verdict,
) {
    let mut dp = Dataplane::new(topology);
    let mut buf = buffer_for(pristine);
    assert_eq!(dp.process(NOW, from, &mut buf), expected, "{name}");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter(|| {
            restore(&mut buf, pristine);
            dp.process(black_box(NOW), black_box(from), &mut buf)
        })
    });
}

fn forward(c: &mut Criterion) {
    let t = demo_with_udp();
    let mut g = c.benchmark_group("forward");
    let to_web = Verdict::Forward { to: Port::Eni(WEB) };
    let icmp = icmp_echo(APP_IP, WEB_IP, 84);
    one_packet(&mut g, "icmp-84B", &t, APP, &icmp, to_web);
    let big = udp(APP_IP, WEB_IP, 1500);
    one_packet(&mut g, "udp-1500B", &t, APP, &big, to_web);
    let mut unlogged = t.clone();
    unlogged.flow_logs.clear();
    one_packet(
        &mut g,
        "icmp-84B-no-flow-log",
        &unlogged,
        APP,
        &icmp,
        to_web,
    );
    g.finish();
}

/// Through the NAT gateway and the internet gateway: app to the internet host and the
/// reply back (translation, both gateways' NACL stages, app's connection table).
fn nat(c: &mut Criterion) {
    let t = Topology::demo();
    let host = HostId(0);
    let internet = Ipv4Addr::new(203, 0, 113, 10);
    let mut g = c.benchmark_group("nat");
    let to_host = Verdict::Forward {
        to: Port::Host(host),
    };
    let ping = icmp_echo(APP_IP, internet, 84);
    one_packet(&mut g, "icmp-84B-out", &t, APP, &ping, to_host);
    let big = udp(APP_IP, internet, 1500);
    one_packet(&mut g, "udp-1500B-out", &t, APP, &big, to_host);
    // The echo reply, to the identifier the NAT gateway chose.
    let mut dp = Dataplane::new(&t);
    let mut buf = buffer_for(&ping);
    assert_eq!(dp.process(NOW, APP, &mut buf), to_host);
    let id = u16::from_be_bytes([buf.as_bytes()[24], buf.as_bytes()[25]]);
    let mut reply = icmp_echo(internet, Ipv4Addr::new(198, 51, 100, 20), 84);
    reply[20] = 0;
    reply[24..26].copy_from_slice(&id.to_be_bytes());
    reply[22..24].copy_from_slice(&[0, 0]);
    let c = vpc_dataplane::wire::checksum::internet(&reply[20..]);
    reply[22..24].copy_from_slice(&c.to_be_bytes());
    let mut buf = buffer_for(&reply);
    let to_app = Verdict::Forward { to: Port::Eni(APP) };
    assert_eq!(dp.process(NOW, host, &mut buf), to_app);
    g.throughput(Throughput::Elements(1));
    g.bench_function("icmp-84B-in", |b| {
        b.iter(|| {
            restore(&mut buf, &reply);
            dp.process(black_box(NOW), black_box(host), &mut buf)
        })
    });
    g.finish();
}

fn router(c: &mut Criterion) {
    let t = Topology::demo();
    let mut g = c.benchmark_group("router");
    let ping = icmp_echo(APP_IP, Ipv4Addr::new(10, 0, 2, 1), 84);
    let reply = Verdict::Reply {
        to: Port::Eni(APP),
        reply: Reply::EchoReply,
    };
    one_packet(&mut g, "echo-reply", &t, APP, &ping, reply);
    g.finish();
}

fn drops(c: &mut Criterion) {
    let t = Topology::demo();
    let mut g = c.benchmark_group("drop");
    let p = icmp_echo(APP_IP, Ipv4Addr::new(10, 0, 2, 3), 84);
    let dropped = Verdict::Drop(DropReason::DstReserved);
    one_packet(&mut g, "reserved", &t, APP, &p, dropped);
    g.finish();
}

fn batch(c: &mut Criterion) {
    let t = Topology::demo();
    let pristine = icmp_echo(APP_IP, WEB_IP, 84);
    let mut g = c.benchmark_group("batch");
    for n in [1usize, 32, 256] {
        let mut dp = Dataplane::new(&t);
        let mut pkts: Vec<_> = (0..n).map(|_| buffer_for(&pristine)).collect();
        let mut verdicts = Vec::with_capacity(n);
        let capacity = verdicts.capacity();
        dp.process_batch(NOW, APP, &mut pkts, &mut verdicts);
        assert!(
            verdicts
                .iter()
                .all(|v| *v == Verdict::Forward { to: Port::Eni(WEB) })
        );
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                for p in pkts.iter_mut() {
                    restore(p, &pristine);
                }
                dp.process_batch(black_box(NOW), black_box(APP), &mut pkts, &mut verdicts);
                black_box(&verdicts);
            })
        });
        // Reusing the verdict vector never grew it.
        assert_eq!(verdicts.capacity(), capacity);
    }
    g.finish();
}

/// How many precomputed addresses the LPM benchmarks rotate through (a power of two).
const LOOKUP_ADDRESSES: usize = 4096;

fn lpm(c: &mut Criterion) {
    let mut g = c.benchmark_group("lpm");
    g.throughput(Throughput::Elements(1));
    for n in [10usize, 1000, 100_000] {
        let mut rng = XorShift::new(0x5eed + n as u64);
        let prefixes = random_prefixes(n, &mut rng);
        let table = route_table(&prefixes);
        let addrs = addresses_in(&prefixes, LOOKUP_ADDRESSES, &mut rng);
        let mut i = 0;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) & (LOOKUP_ADDRESSES - 1);
                table.lookup(black_box(addrs[i])).map(|r| r.target)
            })
        });
    }
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    let prefixes = outside_slash_24s(1000, &mut XorShift::new(0x1000));
    let t = many_routes_topology(&prefixes);
    let dst = Ipv4Addr::from(u32::from(prefixes[500].network()) | 77);
    let p = icmp_echo(WEB_IP, dst, 84);
    let mut g = c.benchmark_group("pipeline");
    one_packet(
        &mut g,
        "1000-routes",
        &t,
        WEB,
        &p,
        Verdict::Forward { to: Port::Eni(FW) },
    );
    g.finish();
}

fn restore_only(c: &mut Criterion) {
    let mut g = c.benchmark_group("restore");
    g.throughput(Throughput::Elements(1));
    for (name, pristine) in [
        ("84B", icmp_echo(WEB_IP, DB_IP, 84)),
        ("1500B", udp(WEB_IP, DB_IP, 1500)),
    ] {
        let mut buf = buffer_for(&pristine);
        g.bench_function(name, |b| {
            b.iter(|| {
                restore(&mut buf, black_box(&pristine));
                black_box(&mut buf);
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // Two cores here: short runs, and still enough samples for a stable median.
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = forward, nat, router, drops, batch, lpm, pipeline, restore_only
}
criterion_main!(benches);

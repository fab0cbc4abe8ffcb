//! Criterion benchmarks of the packet pipeline, run with `cargo bench -p vpc-bench`.
//! The results are recorded in `docs/benchmarks.md`, never asserted.
//!
//! Every benchmark reports its throughput in packets (`Throughput::Elements`), so
//! criterion prints packets per second next to the time per iteration. Every pipeline
//! benchmark owns its dataplane and preallocated packet buffers; each iteration first
//! copies the pristine input back into its buffer (the pipeline may rewrite a packet in
//! place, e.g. into the router's reply or a NAT translation), then processes it. That
//! copy is inside the timing; `restore/*` measures it alone. Nothing allocates inside
//! the timed loop except where a table grows (said where it applies). Before timing,
//! each benchmark checks that its packet gets the verdict it is meant to measure.
//!
//! - `cold/*`: the first packet of a new flow between two ENIs with five security
//!   groups of 60 rules each (all evaluated), two 20-rule NACLs and 1,001 routes.
//! - `warm/*`: a packet of a tracked flow through the same topology.
//! - `forward/*`: one packet app -> web of the demo, warm (tracked on both ENIs).
//!   `forward/icmp-84B-no-flow-log` is the same without the demo's VPC flow log.
//! - `nat/*`: through the NAT gateway and the internet gateway and back, warm.
//! - `fabric/*`: one packet between two VPCs, warm: `fabric/peering-icmp-84B` across a
//!   VPC peering connection (`config/peering.toml`, pa -> pb), `fabric/tgw-icmp-84B`
//!   through a transit gateway (`config/hub-and-spoke.toml`, s1 -> svc); neither has a
//!   flow log, so `forward/icmp-84B-no-flow-log` is the path to compare with.
//! - `router/echo-reply`: app pings its subnet router 10.0.2.1, answered in place.
//! - `drop/reserved`: app -> 10.0.2.3, a reserved address, dropped.
//! - `batch/N`: `process_batch` on N forwardable packets (app -> web, warm).
//! - `lpm/N`: `RouteTable::lookup` alone, N random prefixes (10 to 1,000,000).
//! - `conntrack/*`: one connection table (`FlowTable`) holding 1,000,000 flows: insert
//!   a new flow, look up a tracked one.
//! - `pipeline/1000-routes`: forwarding through a route table of 1,001 routes.
//! - `restore/*`: the per-iteration copy of the input, alone.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use criterion::{criterion_group, criterion_main};
use vpc_bench::{APP, APP_IP, CLIENT, CLIENT_IP, DB_IP, FW, SERVER, SERVER_IP, WEB, WEB_IP};
use vpc_bench::{PacketSet, XorShift, tcp_flags};
use vpc_bench::{
    addresses_in, buffer_for, demo_with_udp, distinct_udp_flows, firewall_topology, icmp_echo,
    many_routes_topology, outside_slash_24s, random_prefixes, restore, route_table,
    service_flow_ports, tcp, tcp_syn, udp, udp_ports,
};
use vpc_config::{HostId, Topology};
use vpc_dataplane::flowtable::{FlowFacts, FlowTable};
use vpc_dataplane::{Dataplane, DropReason, Limits, Port, Reply, Time, Verdict};

/// The time passed to the pipeline: fixed, nothing here depends on it (except in
/// `cold/*`, which moves it on between rounds of flows).
const NOW: Time = Time::from_secs(1);

/// Packets a benchmark judges in one batch, as the daemon reads them (at most 32 a
/// wake-up): the batch's locks are taken once.
const BATCH: usize = 32;

/// Benchmarks `name` in `group`: `pristine`, read from port `from`, through
/// `Dataplane::process_batch` of `dp` in batches of [`BATCH`] copies, each restored
/// before every batch (timed: a copy costs what the daemon's read would), the time
/// reported per packet. Checks `expected` first (that packet is processed once more,
/// untimed).
fn bench_process(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    dp: &mut Dataplane,
    from: impl Into<Port> + Copy,
    pristine: &[u8],
    expected: Verdict,
) {
    let mut bufs: Vec<_> = (0..BATCH).map(|_| buffer_for(pristine)).collect();
    assert_eq!(dp.process(NOW, from, &mut bufs[0]), expected, "{name}");
    let mut verdicts = Vec::with_capacity(BATCH);
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        // An iteration is a packet: `iters` packets in batches of `BATCH`.
        b.iter_custom(|iters| {
            let start = Instant::now();
            let mut left = iters as usize;
            while left > 0 {
                let n = left.min(BATCH);
                for buf in &mut bufs[..n] {
                    restore(buf, pristine);
                }
                dp.process_batch(
                    black_box(NOW),
                    black_box(from),
                    &mut bufs[..n],
                    &mut verdicts,
                );
                left -= n;
            }
            start.elapsed()
        })
    });
    assert!(verdicts.iter().all(|v| *v == expected), "{name}");
}

/// [`bench_process`] on a fresh dataplane of `topology` with default limits.
fn one_packet(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    topology: &Topology,
    from: impl Into<Port> + Copy,
    pristine: &[u8],
    expected: Verdict,
) {
    let mut dp = Dataplane::new(topology);
    bench_process(group, name, &mut dp, from, pristine, expected);
}

/// The 1,000 random /24s (outside any VPC) of `pipeline/1000-routes`, `cold/*` and
/// `warm/*`: with `local`, route tables of 1,001 routes.
fn thousand_prefixes() -> Vec<ipnet::Ipv4Net> {
    outside_slash_24s(1000, &mut XorShift::new(0x1000))
}

/// Distinct flows per round of a `cold/*` benchmark (2^17).
const COLD_FLOWS: usize = 1 << 17;

/// The first packet of a new flow, client -> server in [`vpc_bench::firewall_topology`]
/// (no flow log), through the whole pipeline: client's route table (1,001 routes,
/// `local` matches), the egress rules of client's five groups (300 rules, the 299th
/// (TCP) or 300th (UDP) allows), client-nacl outbound and server-nacl inbound (20
/// rules each, rule 200 allows after 19 non-matching denies), the ingress rules of
/// server's five groups (300 rules, the same positions), and a miss and an insert in
/// both ENIs' connection tables.
///
/// - `cold/tcp-syn-60B`: a Linux-like SYN (MSS, SACK permitted, timestamps, window
///   scale), 60 bytes.
/// - `cold/udp-84B`: a UDP datagram, 84 bytes.
///
/// Every timed packet is a new flow: each benchmark rotates through 2^17 precomputed
/// packets of distinct source (1024..=65535) and destination ports (10000..), so every
/// packet of a round starts a flow. Between rounds, outside the timing, the time passed
/// in moves on by 1,000 s and `Dataplane::expire` removes the previous round's flows
/// (idle past their 60 s / 30 s timeouts), so the next round's packets are first
/// packets again; both tables thus hold 0 to 2^17 flows while timed (each has room for
/// 2^19, so none is full and no flow is refused). Their hash maps keep the room a round
/// needs (an untimed round 0 sized them; expiring removes flows without shrinking
/// them), so nothing grows or rehashes inside the timing.
/// Checked outside the timing: each packet of round 0 is forwarded, a repeat of one is
/// tracked (no new flow), and after the benchmark the number of flows inserted on
/// each ENI and packets delivered to server equal the number of packets processed.
fn cold(c: &mut Criterion) {
    let t = firewall_topology(&thousand_prefixes());
    let mut g = c.benchmark_group("cold");
    let syns = PacketSet::new((0..COLD_FLOWS).map(|i| {
        let (sport, dport) = service_flow_ports(i);
        tcp_syn(CLIENT_IP, sport, SERVER_IP, dport, 1000 + i as u32)
    }));
    first_packets(&mut g, "tcp-syn-60B", &t, &syns);
    let datagrams = PacketSet::new((0..COLD_FLOWS).map(|i| {
        let (sport, dport) = service_flow_ports(i);
        udp_ports(CLIENT_IP, sport, SERVER_IP, dport, 84)
    }));
    first_packets(&mut g, "udp-84B", &t, &datagrams);
    g.finish();
}

/// One `cold/*` benchmark: `packets`, each a new flow from [`CLIENT`] to [`SERVER`];
/// see [`cold`].
fn first_packets(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    topology: &Topology,
    packets: &PacketSet,
) {
    let n = packets.len();
    let limits = Limits {
        conntrack_per_eni: 4 * n,
        ..Limits::default()
    };
    let mut dp = Dataplane::with_limits(topology, limits, Time::ZERO);
    let to_server = Verdict::Forward {
        to: Port::Eni(SERVER),
    };
    let mut buf = buffer_for(packets.get(0));
    // Round 0, untimed: every packet is forwarded and starts a flow on both ENIs.
    for i in 0..n {
        restore(&mut buf, packets.get(i));
        assert_eq!(dp.process(NOW, CLIENT, &mut buf), to_server, "{name} {i}");
    }
    for eni in [CLIENT, SERVER] {
        let (stats, len) = dp.conntrack_stats(eni);
        assert_eq!((stats.inserted, len), (n as u64, n), "{name}");
    }
    // A second packet of a flow is tracked: no new flow.
    restore(&mut buf, packets.get(0));
    assert_eq!(dp.process(NOW, CLIENT, &mut buf), to_server, "{name}");
    assert_eq!(dp.conntrack_stats(SERVER).0.inserted, n as u64, "{name}");

    let round_time = |round: u64| NOW + Duration::from_secs(1000 * round);
    let mut round = 0;
    let mut next = n;
    let mut timed: u64 = 0;
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                if next == n {
                    // A new round, untimed: the previous round's flows are gone.
                    round += 1;
                    dp.expire(round_time(round));
                    assert_eq!(dp.conntrack_stats(CLIENT).1, 0);
                    assert_eq!(dp.conntrack_stats(SERVER).1, 0);
                    next = 0;
                }
                let now = round_time(round);
                let batch = (left as usize).min(n - next);
                let start = Instant::now();
                for i in next..next + batch {
                    restore(&mut buf, packets.get(i));
                    black_box(dp.process(black_box(now), CLIENT, &mut buf));
                }
                spent += start.elapsed();
                next += batch;
                left -= batch as u64;
                timed += batch as u64;
            }
            spent
        })
    });
    // Every timed packet started a flow on both ENIs and was delivered to server.
    let all = n as u64 + timed;
    assert_eq!(dp.conntrack_stats(CLIENT).0.inserted, all, "{name}");
    assert_eq!(dp.conntrack_stats(SERVER).0.inserted, all, "{name}");
    let counters = dp.counters();
    assert_eq!(counters.eni(CLIENT).rx_packets, all + 1, "{name}");
    assert_eq!(counters.eni(SERVER).tx_packets, all + 1, "{name}");
}

/// A packet of a flow both ENIs already track, client -> server in the topology of
/// [`cold`]: the route lookup (1,001 routes), a hit in client's connection table, the
/// two NACLs (rule 200 of 20 each, after 19 non-matching rules: NACLs are stateless),
/// a hit in server's connection table; no security group rule is evaluated.
///
/// - `warm/udp-84B`: the same 84-byte datagram every time (the flow's first packet was
///   sent before timing).
/// - `warm/tcp-84B`: an established connection (SYN, SYN+ACK, ACK sent before timing):
///   the same 44-byte data segment every time (a retransmission for the window checks,
///   which it passes).
///
/// Checked outside the timing: the flow is inserted once on each ENI, and is still the
/// only one after the benchmark (every timed packet was tracked).
fn warm(c: &mut Criterion) {
    let t = firewall_topology(&thousand_prefixes());
    let mut g = c.benchmark_group("warm");
    let to_server = Verdict::Forward {
        to: Port::Eni(SERVER),
    };
    let to_client = Verdict::Forward {
        to: Port::Eni(CLIENT),
    };
    let (sport, dport) = service_flow_ports(0);

    let mut dp = Dataplane::new(&t);
    let datagram = udp_ports(CLIENT_IP, sport, SERVER_IP, dport, 84);
    let mut first = buffer_for(&datagram);
    assert_eq!(dp.process(NOW, CLIENT, &mut first), to_server);
    bench_process(&mut g, "udp-84B", &mut dp, CLIENT, &datagram, to_server);
    assert_one_flow(&dp, "udp-84B");

    let mut dp = Dataplane::new(&t);
    let (isn_c, isn_s) = (1000, 5000);
    let handshake = [
        (
            CLIENT,
            tcp_syn(CLIENT_IP, sport, SERVER_IP, dport, isn_c),
            to_server,
        ),
        (
            SERVER,
            tcp(
                SERVER_IP,
                dport,
                CLIENT_IP,
                sport,
                tcp_flags::SYN | tcp_flags::ACK,
                (isn_s, isn_c + 1),
                &vpc_bench::SYN_OPTIONS,
                60,
            ),
            to_client,
        ),
        (
            CLIENT,
            tcp(
                CLIENT_IP,
                sport,
                SERVER_IP,
                dport,
                tcp_flags::ACK,
                (isn_c + 1, isn_s + 1),
                &[],
                40,
            ),
            to_server,
        ),
    ];
    for (from, p, expected) in &handshake {
        let mut buf = buffer_for(p);
        assert_eq!(dp.process(NOW, *from, &mut buf), *expected);
    }
    let data = tcp(
        CLIENT_IP,
        sport,
        SERVER_IP,
        dport,
        tcp_flags::ACK | tcp_flags::PSH,
        (isn_c + 1, isn_s + 1),
        &[],
        84,
    );
    bench_process(&mut g, "tcp-84B", &mut dp, CLIENT, &data, to_server);
    assert_one_flow(&dp, "tcp-84B");
    assert_eq!(
        dp.flows(CLIENT, NOW).map(|f| f.state).collect::<Vec<_>>(),
        ["established"]
    );
    g.finish();
}

/// Client and server of `dp` each inserted exactly one flow.
fn assert_one_flow(dp: &Dataplane, name: &str) {
    for eni in [CLIENT, SERVER] {
        let (stats, len) = dp.conntrack_stats(eni);
        assert_eq!((stats.inserted, len), (1, 1), "{name}");
    }
}

/// Packets app -> web of the demo, warm: the first packet, sent before timing, made
/// the flow tracked on both ENIs, so each timed packet is app's route table (local),
/// a hit in app's connection table, the NACLs of private-a and public-a (the default,
/// allow all), a hit in web's connection table and the flow log's two updates.
///
/// - `forward/icmp-84B`: an echo request, 84 bytes.
/// - `forward/udp-1500B`: UDP to port 5201 (which `web-sg` allows here), 1500 bytes.
/// - `forward/icmp-84B-no-flow-log`: `forward/icmp-84B` without the demo's flow log.
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

/// One echo request between two VPCs, warm (the first, before timing, made the flow
/// tracked on both ENIs): across a peering connection (pa's route table, a hit in pa's
/// connection table, a-1's NACL outbound, the connection's checks, b-1's NACL inbound,
/// a hit in pb's table), and through a transit gateway (s1's route table, its table,
/// the attachment interface in s1's subnet, the gateway's route table of att-s1, the
/// attachment interface in shared-1, shared-1's route table, svc's table).
fn fabric(c: &mut Criterion) {
    let mut g = c.benchmark_group("fabric");
    let parse = |text: &str| vpc_config::parse(text, "bench.toml").expect("valid");
    let icmp = |src: [u8; 4], dst: [u8; 4]| icmp_echo(src.into(), dst.into(), 84);
    let to = |e: u32| Verdict::Forward {
        to: Port::Eni(vpc_config::EniId(e)),
    };
    let warm_one =
        |g: &mut BenchmarkGroup<'_, WallTime>, name: &str, t: &Topology, p: &[u8], expected| {
            let mut dp = Dataplane::new(t);
            let mut first = buffer_for(p);
            assert_eq!(
                dp.process(NOW, vpc_config::EniId(0), &mut first),
                expected,
                "{name}"
            );
            bench_process(g, name, &mut dp, vpc_config::EniId(0), p, expected);
        };
    let peering = parse(include_str!("../../config/peering.toml"));
    warm_one(
        &mut g,
        "peering-icmp-84B",
        &peering,
        &icmp([10, 1, 1, 10], [10, 2, 1, 10]),
        to(1),
    );
    let hub = parse(include_str!("../../config/hub-and-spoke.toml"));
    // svc is ENI 0 there: s1 (ENI 1) pings it.
    let mut dp = Dataplane::new(&hub);
    let p = icmp([10, 11, 1, 10], [10, 10, 1, 10]);
    let mut first = buffer_for(&p);
    assert_eq!(dp.process(NOW, vpc_config::EniId(1), &mut first), to(0));
    bench_process(
        &mut g,
        "tgw-icmp-84B",
        &mut dp,
        vpc_config::EniId(1),
        &p,
        to(0),
    );
    g.finish();
}

/// Through the NAT gateway and the internet gateway of the demo, warm (the flow's
/// first packet, before timing, created app's connection-table entry and nat-a's
/// translation).
///
/// - `nat/icmp-84B-out`, `nat/udp-1500B-out`: app -> the internet host 203.0.113.10:
///   app's route table, a hit in app's connection table, the NACLs of private-a
///   (outbound) and public-a (inbound), public-a's route table, nat-a's translation
///   lookup and source rewrite, the NACL of public-a (outbound), the internet gateway's
///   1:1 NAT (10.0.1.5 -> 198.51.100.20), the internet router, the flow log update.
/// - `nat/icmp-84B-in`, `nat/udp-1500B-in`: the reply from 203.0.113.10 to nat-a's
///   Elastic IP: the internet gateway back to 10.0.1.5, nat-a's reverse lookup and
///   destination rewrite, public-a's route table, the NACLs, a hit in app's
///   connection table (as a reply), the flow log update.
fn nat(c: &mut Criterion) {
    let t = Topology::demo();
    let host = HostId(0);
    let internet = Ipv4Addr::new(203, 0, 113, 10);
    let mut g = c.benchmark_group("nat");
    let to_host = Verdict::Forward {
        to: Port::Host(host),
    };
    let to_app = Verdict::Forward { to: Port::Eni(APP) };
    let ping = icmp_echo(APP_IP, internet, 84);
    one_packet(&mut g, "icmp-84B-out", &t, APP, &ping, to_host);
    let big = udp(APP_IP, internet, 1500);
    one_packet(&mut g, "udp-1500B-out", &t, APP, &big, to_host);

    // The echo reply, to the identifier the NAT gateway chose.
    let mut dp = Dataplane::new(&t);
    let mut buf = buffer_for(&ping);
    assert_eq!(dp.process(NOW, APP, &mut buf), to_host);
    let id = u16::from_be_bytes([buf.as_bytes()[24], buf.as_bytes()[25]]);
    let nat_public = Ipv4Addr::new(198, 51, 100, 20);
    let mut reply = icmp_echo(internet, nat_public, 84);
    reply[20] = 0;
    reply[24..26].copy_from_slice(&id.to_be_bytes());
    reply[22..24].copy_from_slice(&[0, 0]);
    let c = vpc_dataplane::wire::checksum::internet(&reply[20..]);
    reply[22..24].copy_from_slice(&c.to_be_bytes());
    bench_process(&mut g, "icmp-84B-in", &mut dp, host, &reply, to_app);

    // The UDP reply, to the source port the NAT gateway chose.
    let mut dp = Dataplane::new(&t);
    let mut buf = buffer_for(&big);
    assert_eq!(dp.process(NOW, APP, &mut buf), to_host);
    let out = buf.as_bytes();
    assert_eq!(out[12..16], nat_public.octets());
    let port = u16::from_be_bytes([out[20], out[21]]);
    let reply = udp_ports(internet, 5201, nat_public, port, 1500);
    bench_process(&mut g, "udp-1500B-in", &mut dp, host, &reply, to_app);
    g.finish();
}

/// `router/echo-reply`: app pings its subnet router 10.0.2.1 (84 bytes); the request
/// becomes the router's reply in place.
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

/// `drop/reserved`: app -> 10.0.2.3 (reserved by AWS in every subnet), 84 bytes,
/// dropped by the destination checks before routing.
fn drops(c: &mut Criterion) {
    let t = Topology::demo();
    let mut g = c.benchmark_group("drop");
    let p = icmp_echo(APP_IP, Ipv4Addr::new(10, 0, 2, 3), 84);
    let dropped = Verdict::Drop(DropReason::DstReserved);
    one_packet(&mut g, "reserved", &t, APP, &p, dropped);
    g.finish();
}

/// `batch/N`: one `process_batch` of N copies of the `forward/icmp-84B` packet (app ->
/// web of the demo, warm, flow log on), N = 1, 32, 256, all restored first; the
/// throughput is N packets per iteration.
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
const LOOKUP_ADDRESSES: usize = 1 << 16;

/// `lpm/N`: one `RouteTable::lookup` (the longest prefix match alone) in a table of N
/// distinct random canonical prefixes (half /24s, half /8 to /32), N = 10, 1,000,
/// 100,000 and 1,000,000, rotating through 65,536 precomputed addresses, each inside a
/// random prefix of the table. Each table is built before its timing starts (and only
/// if its benchmark runs: 1,000,000 routes take seconds).
fn lpm(c: &mut Criterion) {
    let mut g = c.benchmark_group("lpm");
    g.throughput(Throughput::Elements(1));
    for n in [10usize, 1000, 100_000, 1_000_000] {
        let mut input = None;
        let mut i = 0;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            let (table, addrs) = input.get_or_insert_with(|| {
                let mut rng = XorShift::new(0x5eed + n as u64);
                let prefixes = random_prefixes(n, &mut rng);
                let table = route_table(&prefixes);
                let addrs = addresses_in(&prefixes, LOOKUP_ADDRESSES, &mut rng);
                assert!(addrs.iter().all(|a| table.lookup(*a).is_some()));
                (table, addrs)
            });
            b.iter(|| {
                i = (i + 1) & (LOOKUP_ADDRESSES - 1);
                table.lookup(black_box(addrs[i])).map(|r| r.target)
            })
        });
    }
    g.finish();
}

/// Flows in the connection table of `conntrack/*`.
const TABLE_FLOWS: usize = 1_000_000;
/// New flows per round of `conntrack/insert-1M` (2^19: with them the table stays under
/// the 1,835,008 entries its hash map holds without growing).
const NEW_FLOWS: usize = 1 << 19;
/// Tracked flows `conntrack/lookup-1M` rotates through (2^20, random picks).
const LOOKUPS: usize = 1 << 20;
/// Bytes written between rounds of `conntrack/insert-1M` to push the fresh copy of the
/// table out of the caches (and its pages out of the TLB): twice the 260 MiB L3 here.
const EVICT_BYTES: usize = 520 << 20;

/// The inputs of `conntrack/*`, built by whichever of them runs first.
struct ConntrackInputs {
    /// 1,000,000 flows, tracked.
    base: FlowTable,
    /// The facts of `base`'s flows.
    flows: Vec<FlowFacts>,
    /// 2^19 other flows.
    new_flows: Vec<FlowFacts>,
}

fn conntrack_inputs() -> ConntrackInputs {
    let mut rng = XorShift::new(0xc0ffee);
    let mut flows = distinct_udp_flows(TABLE_FLOWS + NEW_FLOWS, &mut rng);
    let new_flows = flows.split_off(TABLE_FLOWS);
    let mut base = FlowTable::new(4 * TABLE_FLOWS);
    for f in &flows {
        assert!(base.insert(NOW, f));
    }
    assert_eq!(base.len(), TABLE_FLOWS);
    ConntrackInputs {
        base,
        flows,
        new_flows,
    }
}

/// Writes one byte per cache line of `scratch` (allocated on first use).
fn evict_caches(scratch: &mut Vec<u8>) {
    if scratch.is_empty() {
        scratch.resize(EVICT_BYTES, 0);
    }
    for i in (0..scratch.len()).step_by(64) {
        scratch[i] = scratch[i].wrapping_add(1);
    }
    black_box(&scratch);
}

/// One ENI's connection table on its own (`FlowTable`, AWS's default timeouts, room for
/// 4,000,000 flows so it is never full and no insert is refused), holding 1,000,000
/// distinct UDP flows (random client in 10.0.0.0/8 and source port, random public
/// server, a few service ports), facts parsed before timing. The table (about 203 MB)
/// is far larger than the caches.
///
/// - `conntrack/insert-1M`: `FlowTable::insert` of a new flow (a probe that misses,
///   then the hash map insert) into the table, which holds 1,000,001 flows and grows to
///   1,524,288 during a round: rotating through 2^19 - 1 other distinct flows. When
///   they are used up, the table is replaced, untimed, by a fresh copy of the
///   1,000,000-flow table, into which the round's first new flow is inserted, and
///   520 MiB are written to evict the copy from the caches. The copy's hash map has as
///   much room as the original's (1,835,008 flows), so it does not grow inside the
///   timing.
///   Checked after each batch, untimed: the table grew by one flow per insert.
/// - `conntrack/lookup-1M`: `FlowTable::lookup` of a tracked flow (a hit that advances
///   its state and idle timer), rotating through 2^20 random picks of the 1,000,000
///   flows. Checked: every lookup found its flow.
fn conntrack(c: &mut Criterion) {
    let mut g = c.benchmark_group("conntrack");
    g.throughput(Throughput::Elements(1));
    let mut inputs = None;

    let mut table = None;
    let mut scratch = Vec::new();
    let mut next = NEW_FLOWS;
    g.bench_function("insert-1M", |b| {
        let ConntrackInputs {
            base, new_flows, ..
        } = inputs.get_or_insert_with(conntrack_inputs);
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                if next == NEW_FLOWS {
                    table = None;
                    let mut fresh = base.clone();
                    // The round's first new flow, inserted untimed; the timed inserts
                    // go on from the second.
                    assert!(fresh.insert(NOW, &new_flows[0]));
                    table = Some(fresh);
                    evict_caches(&mut scratch);
                    next = 1;
                }
                let t = table.as_mut().expect("a table");
                let batch = (left as usize).min(NEW_FLOWS - next);
                let start = Instant::now();
                for f in &new_flows[next..next + batch] {
                    black_box(t.insert(black_box(NOW), f));
                }
                spent += start.elapsed();
                next += batch;
                left -= batch as u64;
                assert_eq!(t.len(), TABLE_FLOWS + next);
            }
            spent
        })
    });
    drop((table, scratch));

    let mut picks = None;
    let mut i = 0;
    let mut found = 0u64;
    let mut looked = 0u64;
    g.bench_function("lookup-1M", |b| {
        let ConntrackInputs { base, flows, .. } = inputs.get_or_insert_with(conntrack_inputs);
        let picks: &Vec<FlowFacts> = picks.get_or_insert_with(|| {
            let mut rng = XorShift::new(0x100c);
            (0..LOOKUPS)
                .map(|_| flows[rng.below(TABLE_FLOWS as u32) as usize])
                .collect()
        });
        b.iter(|| {
            i = (i + 1) & (LOOKUPS - 1);
            looked += 1;
            found += u64::from(base.lookup(black_box(NOW), &picks[i]));
        })
    });
    assert_eq!(found, looked);
    if let Some(inputs) = &inputs {
        assert_eq!(inputs.base.len(), TABLE_FLOWS);
    }
    g.finish();
}

/// `pipeline/1000-routes`: an 84-byte echo request from web to a host in one of 1,000
/// random /24s, through the demo plus appliance `fw` (source/destination check off, a
/// group open to all) and a route table for web's subnet with a route to `fw` for each
/// /24 (1,001 routes with `local`); warm (the flow is tracked), forward to fw.
fn pipeline(c: &mut Criterion) {
    let prefixes = thousand_prefixes();
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

/// `restore/84B`, `restore/1500B`: the per-iteration copy of a pristine packet into its
/// buffer that every pipeline benchmark does, alone.
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
    targets = cold, warm, forward, fabric, nat, router, drops, batch, lpm, conntrack, pipeline,
        restore_only
}
criterion_main!(benches);

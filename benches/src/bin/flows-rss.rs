//! How much memory tracked flows take: the process's resident set size (`VmRSS` of
//! `/proc/self/status`) before and after creating N flows, and the difference per flow.
//!
//! ```text
//! cargo run --release -p vpc-bench --bin flows-rss -- [N]          # every case, N = 1000000
//! cargo run --release -p vpc-bench --bin flows-rss -- --case C [N]  # one case, this process
//! ```
//!
//! Cases (the flows are UDP, app 10.0.2.10 source ports 1024..=51023 times destination
//! ports 1000.., see `vpc_bench::many_flow_ports`):
//!
//! - `conntrack`: a bare `FlowTable` of capacity N, N inserts: one connection-table
//!   entry per flow (a hash map slot).
//! - `nat`: the demo (flow log removed) with `Limits` raised to N connection-table
//!   entries per ENI and N NAT translations: N datagrams from app to the internet host
//!   203.0.113.10 through `Dataplane::process`, each a new flow: one entry in app's
//!   connection table plus one nat-a translation per flow (at most 50,000 flows per
//!   destination port, under the NAT gateway's 55,000 per destination address, port
//!   and protocol).
//! - `eni-to-eni`: the demo (flow log removed) with web-sg also allowing UDP 1000-65535
//!   from the VPC, same limits: N datagrams from app to web, each a new flow tracked in
//!   both app's and web's connection tables (two entries per flow).
//!
//! Without `--case`, the program runs itself once per case (`std::env::current_exe`),
//! so that each case starts from a fresh heap. Every case asserts that each packet was
//! forwarded (or inserted) and that N flows exist at the end. Output, one line per case:
//!
//! ```text
//! RSS flows=1000000 case=conntrack bytes=... bytes_per_flow=... rss_before_kib=... rss_after_kib=... seconds=...
//! ```
//!
//! `bytes` is the growth of VmRSS (KiB granularity, pages actually touched); hash maps
//! double, so bytes per flow depend on where N falls between two sizes.

use std::net::Ipv4Addr;
use std::process::{Command, ExitCode};
use std::time::Instant;

use vpc_bench::{APP, APP_IP, WEB, WEB_IP, demo_open_udp, many_flow_ports, restore, udp_ports};
use vpc_config::{HostId, NatGatewayId, Topology};
use vpc_dataplane::flowtable::{FlowFacts, FlowTable};
use vpc_dataplane::{Dataplane, Limits, PacketBuf, Port, Time, Verdict};

const CASES: [&str; 3] = ["conntrack", "nat", "eni-to-eni"];
const DEFAULT_FLOWS: usize = 1_000_000;
const NOW: Time = Time::from_secs(1);
/// The demo's internet host.
const INTERNET: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
/// Length of every datagram.
const LEN: usize = 28;

/// The process's resident set size in KiB.
fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line in kB")
}

/// Writes the `i`th datagram from app to `dst` into `buf` (a reused buffer; the
/// temporary bytes are freed at once, so the heap does not grow with `i`).
fn datagram(buf: &mut PacketBuf, i: usize, dst: Ipv4Addr) {
    let (sport, dport) = many_flow_ports(i);
    restore(buf, &udp_ports(APP_IP, sport, dst, dport, LEN));
}

/// Raised limits: room for `n` flows per ENI and `n` translations per NAT gateway.
fn limits(n: usize) -> Limits {
    let d = Limits::default();
    Limits {
        conntrack_per_eni: n.max(d.conntrack_per_eni),
        nat_per_gateway: n.max(d.nat_per_gateway),
        ..d
    }
}

/// Sends `n` new flows from app to `dst` through a dataplane of `t`; every packet must
/// be forwarded to `to`. Returns the dataplane (kept alive for the measurement).
fn pipeline(t: &Topology, n: usize, dst: Ipv4Addr, to: Port) -> Dataplane {
    let mut dp = Dataplane::with_limits(t, limits(n), NOW);
    let mut buf = PacketBuf::new(LEN);
    for i in 0..n {
        datagram(&mut buf, i, dst);
        let v = dp.process(NOW, APP, &mut buf);
        assert_eq!(v, Verdict::Forward { to }, "flow {i}");
    }
    dp
}

/// Runs case `case` with `n` flows in this process and prints its line.
fn run(case: &str, n: usize) {
    let mut t = Topology::demo();
    t.flow_logs.clear();
    let open = demo_open_udp();
    let facts = |i: usize| {
        let (sport, dport) = many_flow_ports(i);
        let p = udp_ports(APP_IP, sport, INTERNET, dport, LEN);
        FlowFacts::parse(&p).expect("a well-formed datagram")
    };
    // Warm up the allocator and the code paths with a throwaway run, so that the
    // measurement does not count them.
    match case {
        "conntrack" => {
            let mut small = FlowTable::new(1000);
            for i in 0..1000 {
                assert!(small.insert(NOW, &facts(i)));
            }
        }
        "nat" => drop(pipeline(&t, 1000, INTERNET, Port::Host(HostId(0)))),
        "eni-to-eni" => drop(pipeline(&open, 1000, WEB_IP, Port::Eni(WEB))),
        _ => unreachable!("checked by main"),
    }

    let start = Instant::now();
    let before = vm_rss_kib();
    let after;
    match case {
        "conntrack" => {
            let mut table = FlowTable::new(n);
            for i in 0..n {
                assert!(table.insert(NOW, &facts(i)), "flow {i}");
            }
            after = vm_rss_kib();
            assert_eq!(table.len(), n);
        }
        "nat" => {
            let dp = pipeline(&t, n, INTERNET, Port::Host(HostId(0)));
            after = vm_rss_kib();
            assert_eq!(dp.conntrack_stats(APP).1, n);
            let nat_a = NatGatewayId(0);
            assert_eq!(t.nat_gateway(nat_a).name, "nat-a");
            let attempts = dp.nat_metrics(nat_a).connection_attempt_count;
            assert_eq!(attempts, n as u64, "one translation per flow");
        }
        "eni-to-eni" => {
            let dp = pipeline(&open, n, WEB_IP, Port::Eni(WEB));
            after = vm_rss_kib();
            assert_eq!(dp.conntrack_stats(APP).1, n);
            assert_eq!(dp.conntrack_stats(WEB).1, n);
        }
        _ => unreachable!("checked by main"),
    }
    let seconds = start.elapsed().as_secs_f64();
    let bytes = after.saturating_sub(before) * 1024;
    println!(
        "RSS flows={n} case={case} bytes={bytes} bytes_per_flow={:.1} rss_before_kib={before} \
         rss_after_kib={after} seconds={seconds:.2}",
        bytes as f64 / n as f64
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        eprintln!("usage: flows-rss [--case conntrack|nat|eni-to-eni] [N]");
        ExitCode::FAILURE
    };
    let (case, rest) = match args.as_slice() {
        [flag, case, rest @ ..] if flag == "--case" => (Some(case.as_str()), rest),
        rest => (None, rest),
    };
    let n = match rest {
        [] => DEFAULT_FLOWS,
        [n] => match n.replace('_', "").parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => return usage(),
        },
        _ => return usage(),
    };
    match case {
        Some(case) if CASES.contains(&case) => {
            run(case, n);
            ExitCode::SUCCESS
        }
        Some(_) => usage(),
        None => {
            let exe = std::env::current_exe().expect("the path of this program");
            for case in CASES {
                let status = Command::new(&exe)
                    .args(["--case", case, &n.to_string()])
                    .status()
                    .expect("run a case");
                if !status.success() {
                    eprintln!("flows-rss: case {case} failed: {status}");
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
    }
}

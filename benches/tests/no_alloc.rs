//! The warm paths allocate nothing per packet: within one VPC, through a NAT gateway or
//! a gateway VPC endpoint,
//! across a peering connection, through a transit gateway, and to a multicast group.
//! Each path's first packets (which insert flows and translations) are sent first;
//! then 1,000 more are counted with a counting global allocator (`allocation-counter`,
//! which replaces the allocator of this test binary only).

use vpc_bench::{buffer_for, icmp_echo, restore, udp};
use vpc_config::{EniId, HostId, Topology};
use vpc_dataplane::{Dataplane, Port, Time, Verdict};

const NOW: Time = Time::from_secs(1);

/// Sends `pristine` from `from` once (untimed), then counts the allocations of 1,000
/// more, each checked to get `expected`.
fn allocations(t: &Topology, from: Port, pristine: &[u8], expected: fn(&Verdict) -> bool) -> u64 {
    let mut dp = Dataplane::new(t);
    let mut buf = buffer_for(pristine);
    let v = dp.process(NOW, from, &mut buf);
    assert!(expected(&v), "{v:?}");
    let mut ok = true;
    let info = allocation_counter::measure(|| {
        for _ in 0..1000 {
            restore(&mut buf, pristine);
            ok &= expected(&dp.process(NOW, from, &mut buf));
        }
    });
    assert!(ok);
    info.count_total
}

fn parse(text: &str) -> Topology {
    vpc_config::parse(text, "t.toml").expect("valid")
}

/// A warm path: its name, topology, the port a packet comes from, the packet, and what
/// its verdict must be.
type Case = (&'static str, Topology, Port, Vec<u8>, fn(&Verdict) -> bool);

fn forwarded(v: &Verdict) -> bool {
    matches!(v, Verdict::Forward { .. })
}

#[test]
fn no_warm_path_allocates() {
    // The counter counts (a test that cannot fail proves nothing).
    let boxed = allocation_counter::measure(|| {
        std::hint::black_box(Box::new(1u64));
    });
    assert_eq!(boxed.count_total, 1);
    let demo = Topology::demo();
    let echo = |s: [u8; 4], d: [u8; 4]| icmp_echo(s.into(), d.into(), 84);
    let cases: [Case; 6] = [
        (
            "within a VPC (with the demo's flow log)",
            demo.clone(),
            Port::Eni(EniId(1)),
            echo([10, 0, 2, 10], [10, 0, 1, 10]),
            forwarded,
        ),
        (
            "through a NAT gateway and the internet gateway",
            demo.clone(),
            Port::Eni(EniId(1)),
            udp([10, 0, 2, 10].into(), [203, 0, 113, 10].into(), 100),
            |v| {
                *v == Verdict::Forward {
                    to: Port::Host(HostId(0)),
                }
            },
        ),
        (
            "through a gateway VPC endpoint (its flow refreshed)",
            demo.clone(),
            Port::Eni(EniId(1)),
            udp([10, 0, 2, 10].into(), [192, 0, 2, 80].into(), 100),
            |v| {
                *v == Verdict::Forward {
                    to: Port::Host(HostId(1)),
                }
            },
        ),
        (
            "across a peering connection",
            parse(include_str!("../../config/peering.toml")),
            Port::Eni(EniId(0)),
            echo([10, 1, 1, 10], [10, 2, 1, 10]),
            forwarded,
        ),
        (
            "through a transit gateway",
            parse(include_str!("../../config/hub-and-spoke.toml")),
            Port::Eni(EniId(1)),
            echo([10, 11, 1, 10], [10, 10, 1, 10]),
            forwarded,
        ),
        (
            "to a multicast group",
            parse(include_str!("../../config/multicast.toml")),
            Port::Eni(EniId(0)),
            udp([10, 40, 1, 10].into(), [239, 1, 1, 1].into(), 100),
            |v| matches!(v, Verdict::Multicast { .. }),
        ),
    ];
    for (name, t, from, packet, expected) in cases {
        assert_eq!(allocations(&t, from, &packet, expected), 0, "{name}");
    }
}

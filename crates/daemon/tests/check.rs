//! `vpcd check`: a valid file gets a summary and exit 0; an invalid one gets its
//! diagnostics with file, line, column and field, and exit 1. No root needed.

use std::process::Command;

fn check(file: &str) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vpcd"))
        .args(["check", file])
        .output()
        .expect("run vpcd check");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8");
    (out.status.success(), text(out.stdout), text(out.stderr))
}

#[test]
fn an_overlapping_subnet_is_reported_with_its_location() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/overlap.toml");
    let (ok, stdout, stderr) = check(file);
    assert!(!ok);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!("{file}:15:8: subnet[1].cidr 10.0.1.128/25 overlaps subnet \"a\" (10.0.1.0/24)\n")
    );
}

#[test]
fn the_demo_checks_with_a_summary() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/demo.toml");
    let (ok, stdout, _) = check(file);
    assert!(ok);
    assert_eq!(
        stdout,
        format!(
            "{file}: ok: 1 vpc, 4 subnets, 4 route tables, 3 instances, 3 network interfaces, 4 security groups, 2 network ACLs, 1 flow log, 1 internet gateway, 2 NAT gateways, 3 Elastic IPs, 2 internet hosts, 1 AWS service, 1 VPC endpoint\n"
        )
    );
}

#[test]
fn a_missing_file_is_an_error() {
    let (ok, _, stderr) = check("/nonexistent/vpcd.toml");
    assert!(!ok);
    assert!(stderr.starts_with("/nonexistent/vpcd.toml: "), "{stderr}");
}

#[test]
fn a_route_to_the_metadata_service_is_refused_with_its_location() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/metadata-route.toml"
    );
    let (ok, stdout, stderr) = check(file);
    assert!(!ok);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!(
            "{file}:21:26: route_table[0].route[0].destination 169.254.169.254/32 is inside \
             169.254.168.0/22, which AWS reserves for the VPC's own services (DNS, instance \
             metadata, time): no route may send it anywhere\n"
        )
    );
}

#[test]
fn a_peering_of_overlapping_blocks_is_refused_with_its_location() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/peering-overlap.toml"
    );
    let (ok, stdout, stderr) = check(file);
    assert!(!ok);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!(
            "{file}:14:12: vpc_peering_connection[0].peer_vpc 10.1.128.0/17 of vpc \"d\" overlaps 10.1.0.0/16 of vpc \"a\": VPCs with matching or overlapping IPv4 CIDR blocks cannot be peered\n"
        )
    );
}

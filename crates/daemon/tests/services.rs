//! End to end, with the system's own tools in real namespaces: the VPC's DNS resolver
//! (`getent hosts` through the resolv.conf vpcd writes), the instance metadata service
//! (`curl`, IMDSv1 and IMDSv2, `http_tokens = "required"`), and the gateway endpoint to
//! the emulated `s3` service of the demo; none of them needs a security-group rule or
//! shows in a flow log.

mod harness;

use harness::{Vpcd, root_or_skip};

/// The demo plus `vault` in private-b: a group that allows nothing in or out, and
/// metadata tokens required.
fn config() -> String {
    let demo = include_str!("../../../config/demo.toml");
    format!(
        "{demo}
[[security_group]]
name = \"closed\"
vpc = \"demo\"
description = \"nothing in or out\"
egress = []

[[instance]]
name = \"vault\"
subnet = \"private-b\"
private_ip = \"10.0.12.20\"
security_groups = [\"closed\"]
metadata_options = {{ http_tokens = \"required\", http_put_response_hop_limit = 3 }}
"
    )
}

/// `getent hosts NAME` in `node`'s namespace: the first address, or the failure.
fn getent(vpcd: &Vpcd, node: &str, name: &str) -> String {
    let out = vpcd.exec(node, &["getent", "hosts", name]);
    let text = String::from_utf8_lossy(&out.stdout);
    match text.split_whitespace().next() {
        Some(addr) if out.status.success() => addr.to_owned(),
        _ => format!("getent failed: {out:?}"),
    }
}

/// `curl` in `node`'s namespace with `args`: its standard output.
fn curl(vpcd: &Vpcd, node: &str, args: &[&str]) -> String {
    let mut all = vec!["curl", "-s", "-m", "5"];
    all.extend_from_slice(args);
    let out = vpcd.exec(node, &all);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const IMDS: &str = "http://169.254.169.254/latest";

#[test]
fn names_metadata_and_the_s3_endpoint_work_with_the_systems_tools() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start("svc", Some(&config()));
    let web_ns = vpcd.ns("web");
    let resolv = format!("/etc/netns/{web_ns}/resolv.conf");
    let text = std::fs::read_to_string(&resolv).expect("vpcd wrote web's resolv.conf");
    assert!(text.contains("nameserver 10.0.0.2"), "{text}");
    assert!(text.contains("search local-1.compute.internal"), "{text}");

    // A DHCP option set associated at run time reaches resolv.conf at once (as a lease
    // renewal would), and `default` brings AWS's back.
    vpcd.ctl(&[
        "create-dhcp-options",
        "corp",
        "--domain-name",
        "corp.example",
        "--domain-name-servers",
        "AmazonProvidedDNS",
    ]);
    vpcd.ctl(&[
        "associate-dhcp-options",
        "--dhcp-options-id",
        "corp",
        "--vpc-id",
        "demo",
    ]);
    let text = std::fs::read_to_string(&resolv).unwrap();
    assert!(text.contains("search corp.example"), "{text}");
    vpcd.ctl(&[
        "associate-dhcp-options",
        "--dhcp-options-id",
        "default",
        "--vpc-id",
        "demo",
    ]);
    let text = std::fs::read_to_string(&resolv).unwrap();
    assert!(text.contains("search local-1.compute.internal"), "{text}");

    // Names: the private hosted zone, private DNS names, web's public name (its private
    // address inside the VPC), the short name through the search domain.
    assert_eq!(getent(&vpcd, "app", "db.demo.internal"), "10.0.12.10");
    assert_eq!(
        getent(&vpcd, "app", "ip-10-0-1-10.local-1.compute.internal"),
        "10.0.1.10"
    );
    assert_eq!(
        getent(
            &vpcd,
            "db",
            "ec2-198-51-100-10.local-1.compute.amazonaws.com"
        ),
        "10.0.1.10"
    );
    assert_eq!(getent(&vpcd, "web", "ip-10-0-12-10"), "10.0.12.10");
    // A group that allows nothing out does not stop it.
    assert_eq!(getent(&vpcd, "vault", "web.demo.internal"), "10.0.1.10");
    // From the internet, web's public name gives its public address, and private
    // names are not known (the emulated internet's resolver).
    assert_eq!(
        getent(
            &vpcd,
            "internet",
            "ec2-198-51-100-10.local-1.compute.amazonaws.com"
        ),
        "198.51.100.10"
    );
    let private = vpcd.exec("internet", &["getent", "hosts", "db.demo.internal"]);
    assert_eq!(private.status.code(), Some(2), "{private:?}");
    let missing = vpcd.exec("app", &["getent", "hosts", "nobody.demo.internal"]);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");

    // Metadata, IMDSv1.
    assert_eq!(
        curl(&vpcd, "web", &[&format!("{IMDS}/meta-data/local-ipv4")]),
        "10.0.1.10"
    );
    assert_eq!(
        curl(&vpcd, "web", &[&format!("{IMDS}/meta-data/public-ipv4")]),
        "198.51.100.10"
    );
    // Answers follow the configuration: web's Elastic IP moved to app at run time.
    vpcd.ctl(&["disassociate-address", "198.51.100.10"]);
    vpcd.ctl(&["associate-address", "198.51.100.10", "app"]);
    let status = |node: &str| {
        curl(
            &vpcd,
            node,
            &[
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &format!("{IMDS}/meta-data/public-ipv4"),
            ],
        )
    };
    assert_eq!(status("web"), "404");
    assert_eq!(
        curl(&vpcd, "app", &[&format!("{IMDS}/meta-data/public-ipv4")]),
        "198.51.100.10"
    );
    vpcd.ctl(&["disassociate-address", "198.51.100.10"]);
    vpcd.ctl(&["associate-address", "198.51.100.10", "web"]);
    assert_eq!(status("app"), "404");
    // IMDSv2: a token, then a request with it.
    let token = curl(
        &vpcd,
        "app",
        &[
            "-X",
            "PUT",
            "-H",
            "X-aws-ec2-metadata-token-ttl-seconds: 60",
            &format!("{IMDS}/api/token"),
        ],
    );
    assert!(!token.is_empty());
    assert_eq!(
        curl(
            &vpcd,
            "app",
            &[
                "-H",
                &format!("X-aws-ec2-metadata-token: {token}"),
                &format!("{IMDS}/meta-data/local-ipv4"),
            ],
        ),
        "10.0.2.10"
    );
    // Tokens required: 401 without one, the answer with one.
    let code = |args: &[&str]| {
        let mut all = vec!["-o", "/dev/null", "-w", "%{http_code}"];
        all.extend_from_slice(args);
        curl(&vpcd, "vault", &all)
    };
    assert_eq!(code(&[&format!("{IMDS}/meta-data/local-ipv4")]), "401");
    // The token's response leaves with vault's hop limit (3) as its IP TTL; other
    // answers with the usual 64.
    let capture = vpcd.capture("vault", "tcp and src host 169.254.169.254");
    let token = curl(
        &vpcd,
        "vault",
        &[
            "-X",
            "PUT",
            "-H",
            "X-aws-ec2-metadata-token-ttl-seconds: 60",
            &format!("{IMDS}/api/token"),
        ],
    );
    assert_eq!(
        curl(
            &vpcd,
            "vault",
            &[
                "-H",
                &format!("X-aws-ec2-metadata-token: {token}"),
                &format!("{IMDS}/meta-data/local-ipv4"),
            ],
        ),
        "10.0.12.20"
    );
    let ttls: Vec<(u8, usize)> = capture
        .packets()
        .iter()
        .filter(|p| p.len() > 60)
        .map(|p| (p[8], p.len()))
        .collect();
    assert!(ttls.len() >= 2, "{ttls:?}");
    assert_eq!(ttls[0].0, 3, "the token's response: {ttls:?}");
    assert_eq!(ttls[ttls.len() - 1].0, 64, "the metadata's: {ttls:?}");

    // The s3 service: app through the gateway endpoint (its own address), db through
    // nat-b.
    let server = vpcd.http_server("s3", 80);
    vpcd.http_get("app", "192.0.2.80", 80)
        .expect("app reaches s3");
    vpcd.http_get("db", "192.0.2.80", 80)
        .expect("db reaches s3");
    assert_eq!(server.clients(), ["10.0.2.10", "198.51.100.21"]);
    drop(server);

    // Nothing dropped on the way, and the services port did the work.
    let c = vpcd.counters();
    assert!(c.services.rx_packets > 0 && c.services.tx_packets > 0);
    for reason in ["sg-egress", "nacl-outbound", "link-local-service"] {
        assert_eq!(harness::drops(&c, reason), 0, "{reason}");
    }

    vpcd.stop();
    // No question to the services is in the flow log, which did log the s3 request.
    let log = vpcd.flow_log("demo-flows.log");
    assert!(
        log.lines().any(|l| l.contains(" 10.0.2.10 192.0.2.80 ")),
        "{log}"
    );
    for line in log.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert!(
            !fields
                .iter()
                .any(|f| *f == "10.0.0.2" || f.starts_with("169.254.")),
            "{line}"
        );
    }
    assert!(!std::path::Path::new(&resolv).exists());
}

//! `respond` with literal requests and literal answers over one small topology: `web`
//! (two interfaces, an Elastic IP, user data, hop limit 2), `db` (tokens required, no
//! public address) and `off` (endpoint disabled).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::net::Ipv4Addr;

use vpc_config::{EniId, HttpTokens, MetadataOptionsChange, Topology};

use super::*;

const CONFIG: &str = r#"
[[vpc]]
name = "main"
cidr = "10.0.0.0/16"
secondary_cidrs = ["10.1.0.0/16"]
enable_dns_hostnames = true

[[subnet]]
name = "a"
vpc = "main"
cidr = "10.0.1.0/24"
az = "a"

[[subnet]]
name = "b"
vpc = "main"
cidr = "10.1.2.0/24"
az = "a"

[[security_group]]
name = "web-sg"
vpc = "main"

[[instance]]
name = "web"
subnet = "a"
private_ip = "10.0.1.10"
security_groups = ["web-sg", "default"]
image_id = "ami-0c0ffee0000000001"
instance_type = "t3.micro"
user_data = "IyEvYmluL3NoCmVjaG8gaGk="
launch_time = "2025-12-06T05:46:40.000Z"
metadata_options = { http_put_response_hop_limit = 2 }

[[instance.eni]]
subnet = "b"
private_ip = "10.1.2.10"

[[instance]]
name = "db"
subnet = "a"
private_ip = "10.0.1.20"
metadata_options = { http_tokens = "required" }

[[instance]]
name = "off"
subnet = "a"
private_ip = "10.0.1.30"
metadata_options = { http_endpoint = "disabled" }

[[internet_gateway]]
name = "igw"
vpc = "main"

[[elastic_ip]]
address = "198.51.100.10"
instance = "web"
"#;

const KEY: [u8; 32] = [7; 32];
const NOW: u64 = 1_765_000_000;
const WEB: EniId = EniId(0);
const WEB_ETH1: EniId = EniId(1);
const DB: EniId = EniId(2);
const OFF: EniId = EniId(3);
const WEB_ID: &str = "i-077eda50944fdc37f";
const WEB_MAC: &str = "02:f8:e9:95:bb:07";
const WEB_ETH1_MAC: &str = "02:a9:b7:5d:f1:c1";

fn topology() -> Topology {
    vpc_config::parse(CONFIG, "t").unwrap()
}

fn req<'a>(method: &'a str, path: &'a str) -> Request<'a> {
    Request {
        method,
        path,
        token: None,
        token_ttl: None,
        forwarded_for: false,
    }
}

fn get(t: &Topology, eni: EniId, path: &str) -> Response {
    respond(t, eni, &req("GET", path), NOW, &KEY)
}

fn get_with(t: &Topology, eni: EniId, path: &str, token: &str, now: u64) -> Response {
    let r = Request {
        token: Some(token),
        ..req("GET", path)
    };
    respond(t, eni, &r, now, &KEY)
}

fn put_token(t: &Topology, eni: EniId, ttl: Option<&str>) -> Response {
    let r = Request {
        token_ttl: ttl,
        ..req("PUT", "/latest/api/token")
    };
    respond(t, eni, &r, NOW, &KEY)
}

/// A token for `eni`'s instance, good for `ttl` seconds from `NOW`.
fn token(t: &Topology, eni: EniId, ttl: &str) -> String {
    let r = put_token(t, eni, Some(ttl));
    assert_eq!(r.status, 200);
    String::from_utf8(r.body).unwrap()
}

fn text(r: &Response) -> &str {
    std::str::from_utf8(&r.body).unwrap()
}

/// 200 and `body`, as text/plain.
fn assert_text(r: &Response, body: &str) {
    assert_eq!(
        (r.status, r.content_type, text(r)),
        (200, "text/plain", body)
    );
}

/// An error page with `status`.
fn assert_error(r: &Response, status: u16, title: &str) {
    assert_eq!(r.status, status, "{}", text(r));
    assert_eq!(r.content_type, "text/html");
    assert!(
        text(r).contains(&format!("<title>{status} - {title}</title>")),
        "{}",
        text(r)
    );
}

#[test]
fn imdsv1_get_local_ipv4() {
    let t = topology();
    let r = get(&t, WEB, "/latest/meta-data/local-ipv4");
    assert_text(&r, "10.0.1.10");
    assert_eq!(r.ttl, None);
    assert!(r.headers.is_empty());
    assert_text(
        &get(&t, WEB_ETH1, "/latest/meta-data/local-ipv4"),
        "10.0.1.10",
    );
}

#[test]
fn any_interface_answers_for_its_instance() {
    let t = topology();
    assert_text(&get(&t, WEB_ETH1, "/latest/meta-data/instance-id"), WEB_ID);
    assert_text(
        &get(&t, WEB_ETH1, "/latest/meta-data/local-ipv4"),
        "10.0.1.10",
    );
    assert_text(&get(&t, WEB, "/latest/meta-data/mac"), WEB_MAC);
    assert_error(
        &get(&t, EniId(99), "/latest/meta-data/local-ipv4"),
        404,
        "Not Found",
    );
}

#[test]
fn token_put_then_get_with_token() {
    let t = topology();
    let r = put_token(&t, WEB, Some("21600"));
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "text/plain");
    assert_eq!(
        r.headers,
        [("X-aws-ec2-metadata-token-ttl-seconds", "21600".to_owned())]
    );
    // The hop limit of web (2) is the IP TTL of the answer.
    assert_eq!(r.ttl, Some(2));
    let tok = String::from_utf8(r.body).unwrap();
    assert_eq!(tok.len(), 56);
    let r = get_with(&t, WEB, "/latest/meta-data/local-ipv4", &tok, NOW + 100);
    assert_text(&r, "10.0.1.10");
    assert_eq!(
        r.headers,
        [("X-aws-ec2-metadata-token-ttl-seconds", "21500".to_owned())]
    );
    assert_eq!(r.ttl, None);
    // The same token from the instance's other interface.
    let r = get_with(&t, WEB_ETH1, "/latest/meta-data/instance-id", &tok, NOW);
    assert_text(&r, WEB_ID);
}

#[test]
fn hop_limit_is_the_instances_and_defaults_to_one() {
    let mut t = topology();
    assert_eq!(put_token(&t, WEB, Some("60")).ttl, Some(2));
    assert_eq!(put_token(&t, DB, Some("60")).ttl, Some(1));
    let change = MetadataOptionsChange {
        http_put_response_hop_limit: Some(64),
        ..MetadataOptionsChange::default()
    };
    t.modify_instance_metadata_options("db", change).unwrap();
    assert_eq!(put_token(&t, DB, Some("60")).ttl, Some(64));
}

#[test]
fn bad_token_ttl_is_400() {
    let t = topology();
    for ttl in [
        None,
        Some("0"),
        Some("21601"),
        Some("-1"),
        Some("ten"),
        Some(""),
    ] {
        let r = put_token(&t, WEB, ttl);
        assert_error(&r, 400, "Bad Request");
        assert_eq!(r.ttl, None, "{ttl:?}");
    }
    assert_eq!(put_token(&t, WEB, Some("1")).status, 200);
}

#[test]
fn expired_token_is_401() {
    let t = topology();
    let tok = token(&t, WEB, "60");
    assert_text(
        &get_with(&t, WEB, "/latest/meta-data/local-ipv4", &tok, NOW + 59),
        "10.0.1.10",
    );
    assert_error(
        &get_with(&t, WEB, "/latest/meta-data/local-ipv4", &tok, NOW + 60),
        401,
        "Unauthorized",
    );
}

#[test]
fn token_of_another_instance_or_key_is_401() {
    let t = topology();
    let web = token(&t, WEB, "600");
    // Even though db's... web's token is no good for db, and optional tokens do not
    // excuse a bad one.
    assert_error(
        &get_with(&t, DB, "/latest/meta-data/local-ipv4", &web, NOW),
        401,
        "Unauthorized",
    );
    let r = get_with(
        &t,
        WEB,
        "/latest/meta-data/local-ipv4",
        "AAAAAAAAAAFyGyJelLDFmO2oL3WmjLPrRu1sU6kvOB/fVCsqPAb8Tw==",
        NOW,
    );
    assert_error(&r, 401, "Unauthorized");
    assert_error(
        &get_with(&t, WEB, "/latest/meta-data/local-ipv4", "garbage", NOW),
        401,
        "Unauthorized",
    );
    // A token made under another key (another run of the daemon).
    let other = respond(
        &t,
        WEB,
        &Request {
            token_ttl: Some("600"),
            ..req("PUT", "/latest/api/token")
        },
        NOW,
        &[8; 32],
    );
    let other = String::from_utf8(other.body).unwrap();
    assert_error(
        &get_with(&t, WEB, "/latest/meta-data/local-ipv4", &other, NOW),
        401,
        "Unauthorized",
    );
}

#[test]
fn required_tokens_refuse_imdsv1() {
    let t = topology();
    assert_error(
        &get(&t, DB, "/latest/meta-data/local-ipv4"),
        401,
        "Unauthorized",
    );
    assert_error(&get(&t, DB, "/latest/meta-data/"), 401, "Unauthorized");
    let tok = token(&t, DB, "300");
    assert_text(
        &get_with(&t, DB, "/latest/meta-data/local-ipv4", &tok, NOW),
        "10.0.1.20",
    );
}

#[test]
fn options_changed_at_run_time_apply_at_once() {
    let mut t = topology();
    assert_eq!(get(&t, WEB, "/latest/meta-data/local-ipv4").status, 200);
    let change = MetadataOptionsChange {
        http_tokens: Some(HttpTokens::Required),
        ..MetadataOptionsChange::default()
    };
    t.modify_instance_metadata_options("web", change).unwrap();
    assert_error(
        &get(&t, WEB, "/latest/meta-data/local-ipv4"),
        401,
        "Unauthorized",
    );
}

#[test]
fn put_with_x_forwarded_for_is_refused() {
    let t = topology();
    let r = Request {
        token_ttl: Some("21600"),
        forwarded_for: true,
        ..req("PUT", "/latest/api/token")
    };
    let r = respond(&t, WEB, &r, NOW, &KEY);
    assert_error(&r, 403, "Forbidden");
    assert_eq!(r.ttl, None);
}

#[test]
fn disabled_endpoint_is_403() {
    let t = topology();
    assert_error(
        &get(&t, OFF, "/latest/meta-data/local-ipv4"),
        403,
        "Forbidden",
    );
    assert_error(&put_token(&t, OFF, Some("60")), 403, "Forbidden");
    assert_error(&get(&t, OFF, "/"), 403, "Forbidden");
}

#[test]
fn other_methods_are_405() {
    let t = topology();
    let r = respond(&t, WEB, &req("POST", "/latest/meta-data/"), NOW, &KEY);
    assert_error(&r, 405, "Method Not Allowed");
    assert_eq!(r.headers, [("Allow", "GET, HEAD".to_owned())]);
    let r = respond(
        &t,
        WEB,
        &req("PUT", "/latest/meta-data/local-ipv4"),
        NOW,
        &KEY,
    );
    assert_error(&r, 405, "Method Not Allowed");
    let r = get(&t, WEB, "/latest/api/token");
    assert_error(&r, 405, "Method Not Allowed");
    assert_eq!(r.headers, [("Allow", "PUT".to_owned())]);
}

#[test]
fn head_answers_without_a_body() {
    let t = topology();
    let r = respond(
        &t,
        WEB,
        &req("HEAD", "/latest/meta-data/local-ipv4"),
        NOW,
        &KEY,
    );
    assert_eq!(
        (r.status, r.content_type, r.body.len()),
        (200, "text/plain", 0)
    );
}

#[test]
fn directory_listings() {
    let t = topology();
    let root = get(&t, WEB, "/");
    assert_eq!(root.status, 200);
    assert!(
        text(&root).starts_with("1.0\n2007-01-19\n"),
        "{}",
        text(&root)
    );
    assert!(
        text(&root).ends_with("\n2024-04-11\nlatest"),
        "{}",
        text(&root)
    );
    assert_text(&get(&t, WEB, "/latest/"), "dynamic\nmeta-data\nuser-data");
    assert_text(&get(&t, WEB, "/latest"), "dynamic\nmeta-data\nuser-data");
    let db = token(&t, DB, "60");
    assert_text(
        &get_with(&t, DB, "/latest/", &db, NOW),
        "dynamic\nmeta-data",
    );
    let meta = "ami-id\nami-launch-index\nhostname\ninstance-action\ninstance-id\ninstance-life-cycle\ninstance-type\nlocal-hostname\nlocal-ipv4\nmac\nnetwork/\nplacement/\npublic-hostname\npublic-ipv4\nsecurity-groups\nservices/";
    assert_text(&get(&t, WEB, "/latest/meta-data/"), meta);
    assert_text(&get(&t, WEB, "/latest/meta-data"), meta);
    // A query string is ignored; dated versions answer as latest.
    assert_text(&get(&t, WEB, "/latest/meta-data/?x=1"), meta);
    assert_text(&get(&t, WEB, "/2009-04-04/meta-data/instance-id"), WEB_ID);
    assert_text(
        &get(&t, WEB, "/latest/meta-data/placement/"),
        "availability-zone\navailability-zone-id\nregion",
    );
    assert_text(
        &get(&t, WEB, "/latest/meta-data/services/"),
        "domain\npartition",
    );
    assert_text(&get(&t, WEB, "/latest/dynamic/"), "instance-identity/");
    assert_text(
        &get(&t, WEB, "/latest/dynamic/instance-identity/"),
        "document",
    );
}

#[test]
fn instance_categories() {
    let t = topology();
    let m = |p: &str| get(&t, WEB, &format!("/latest/meta-data/{p}"));
    assert_text(&m("ami-id"), "ami-0c0ffee0000000001");
    assert_text(&m("instance-id"), WEB_ID);
    assert_text(&m("instance-type"), "t3.micro");
    assert_text(&m("hostname"), "ip-10-0-1-10.ec2.internal");
    assert_text(&m("local-hostname"), "ip-10-0-1-10.ec2.internal");
    assert_text(
        &m("public-hostname"),
        "ec2-198-51-100-10.compute-1.amazonaws.com",
    );
    assert_text(&m("security-groups"), "web-sg\ndefault");
    assert_text(&m("placement/availability-zone"), "us-east-1a");
    assert_text(&m("placement/availability-zone-id"), "use1-az1");
    assert_text(&m("placement/region"), "us-east-1");
    // A value is not a directory.
    assert_error(&m("instance-id/x"), 404, "Not Found");
}

#[test]
fn instance_id_is_describe_instances_one() {
    let id = vpc_ec2::ids::id(vpc_ec2::ids::Kind::Instance, "web");
    assert_eq!(id, WEB_ID);
}

#[test]
fn mac_subtree() {
    let t = topology();
    let m = |p: &str| {
        get(
            &t,
            WEB,
            &format!("/latest/meta-data/network/interfaces/macs/{p}"),
        )
    };
    assert_text(&m(""), &format!("{WEB_MAC}/\n{WEB_ETH1_MAC}/"));
    assert_text(
        &m(WEB_MAC),
        "device-number\ninterface-id\nipv4-associations/\nlocal-hostname\nlocal-ipv4s\nmac\nowner-id\npublic-hostname\npublic-ipv4s\nsecurity-group-ids\nsecurity-groups\nsubnet-id\nsubnet-ipv4-cidr-block\nvpc-id\nvpc-ipv4-cidr-block\nvpc-ipv4-cidr-blocks",
    );
    let eth0 = |p: &str| m(&format!("{WEB_MAC}/{p}"));
    assert_text(&eth0("device-number"), "0");
    assert_text(&eth0("interface-id"), "eni-5c9a3ad8a3911d679");
    assert_text(&eth0("ipv4-associations/"), "198.51.100.10");
    assert_text(&eth0("ipv4-associations/198.51.100.10"), "10.0.1.10");
    assert_text(&eth0("local-ipv4s"), "10.0.1.10");
    assert_text(&eth0("mac"), WEB_MAC);
    assert_text(&eth0("owner-id"), "123456789012");
    assert_text(&eth0("public-ipv4s"), "198.51.100.10");
    assert_text(
        &eth0("security-group-ids"),
        "sg-f284d51f500c7e1de\nsg-1ebdcae247c5a3ad3",
    );
    assert_text(&eth0("subnet-id"), "subnet-7694e6010105081a0");
    assert_text(&eth0("subnet-ipv4-cidr-block"), "10.0.1.0/24");
    assert_text(&eth0("vpc-id"), "vpc-1f40ac3d5852ad3a9");
    assert_text(&eth0("vpc-ipv4-cidr-block"), "10.0.0.0/16");
    assert_text(&eth0("vpc-ipv4-cidr-blocks"), "10.0.0.0/16\n10.1.0.0/16");
    let eth1 = |p: &str| m(&format!("{WEB_ETH1_MAC}/{p}"));
    assert_text(&eth1("device-number"), "1");
    assert_text(&eth1("interface-id"), "eni-cbb53e388f87b1f94");
    assert_text(&eth1("local-hostname"), "ip-10-1-2-10.ec2.internal");
    assert_text(&eth1("local-ipv4s"), "10.1.2.10");
    assert_text(&eth1("subnet-id"), "subnet-bea1be61f77bf8810");
    assert_text(&eth1("subnet-ipv4-cidr-block"), "10.1.2.0/24");
    assert_text(&eth1("security-groups"), "default");
    assert_error(&eth1("public-ipv4s"), 404, "Not Found");
    assert_error(&m("02:00:00:00:00:00/mac"), 404, "Not Found");
}

#[test]
fn identity_document() {
    let t = topology();
    assert_text(
        &get(&t, WEB, "/latest/dynamic/instance-identity/document"),
        "{\n  \"accountId\" : \"123456789012\",\n  \"architecture\" : \"x86_64\",\n  \"availabilityZone\" : \"us-east-1a\",\n  \"billingProducts\" : null,\n  \"devpayProductCodes\" : null,\n  \"marketplaceProductCodes\" : null,\n  \"imageId\" : \"ami-0c0ffee0000000001\",\n  \"instanceId\" : \"i-077eda50944fdc37f\",\n  \"instanceType\" : \"t3.micro\",\n  \"kernelId\" : null,\n  \"pendingTime\" : \"2025-12-06T05:46:40Z\",\n  \"privateIp\" : \"10.0.1.10\",\n  \"ramdiskId\" : null,\n  \"region\" : \"us-east-1\",\n  \"version\" : \"2017-09-30\"\n}",
    );
}

#[test]
fn user_data_is_decoded() {
    let t = topology();
    let r = get(&t, WEB, "/latest/user-data");
    assert_eq!(
        (r.status, r.content_type, text(&r)),
        (200, "application/octet-stream", "#!/bin/sh\necho hi")
    );
    let db = token(&t, DB, "60");
    assert_error(
        &get_with(&t, DB, "/latest/user-data", &db, NOW),
        404,
        "Not Found",
    );
}

#[test]
fn public_ipv4_follows_the_elastic_ip() {
    let mut t = topology();
    let eip = Ipv4Addr::new(198, 51, 100, 10);
    let db = token(&t, DB, "600");
    let db_get =
        |t: &Topology, p: &str| get_with(t, DB, &format!("/latest/meta-data/{p}"), &db, NOW);
    assert_error(&db_get(&t, "public-ipv4"), 404, "Not Found");
    assert_error(&db_get(&t, "public-hostname"), 404, "Not Found");
    assert_text(
        &get(&t, WEB, "/latest/meta-data/public-ipv4"),
        "198.51.100.10",
    );
    // Moved at run time: the next request sees it.
    t.disassociate_address(eip).unwrap();
    assert_error(
        &get(&t, WEB, "/latest/meta-data/public-ipv4"),
        404,
        "Not Found",
    );
    t.associate_address(eip, "db").unwrap();
    assert_text(&db_get(&t, "public-ipv4"), "198.51.100.10");
    assert_text(
        &db_get(&t, "public-hostname"),
        "ec2-198-51-100-10.compute-1.amazonaws.com",
    );
}

#[test]
fn unknown_paths_are_404() {
    let t = topology();
    for p in [
        "/latest/meta-data/iam/",
        "/latest/meta-data/nothing",
        "/2099-01-01/meta-data/",
        "/latest/api/",
        "latest/meta-data/",
        "/latest/dynamic/instance-identity/pkcs7",
    ] {
        assert_error(&get(&t, WEB, p), 404, "Not Found");
    }
}

#[test]
fn request_from_headers() {
    let r = Request::from_headers(
        "PUT",
        "/latest/api/token",
        [
            ("x-aws-ec2-metadata-token-ttl-seconds", "60"),
            ("Host", "169.254.169.254"),
            ("X-AWS-EC2-METADATA-TOKEN", "abc"),
            ("x-forwarded-for", "10.0.0.1"),
            ("X-aws-ec2-metadata-token-ttl-seconds", "120"),
        ],
    );
    assert_eq!(
        (r.method, r.path, r.token, r.token_ttl, r.forwarded_for),
        ("PUT", "/latest/api/token", Some("abc"), Some("60"), true)
    );
    let r = Request::from_headers("GET", "/", [("Accept", "*/*")]);
    assert_eq!((r.token, r.token_ttl, r.forwarded_for), (None, None, false));
}

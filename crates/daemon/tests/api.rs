//! End-to-end tests of the EC2 Query API (`vpcd run --api`): the AWS CLI, signed with
//! the key vpcd writes to its credentials file, builds resources that `vpcctl` then
//! shows and that carry packets; a request signed with a wrong key is refused; the API
//! is not reachable from an instance's namespace; a non-loopback address needs
//! `--api-remote`.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod harness;

use std::process::{Command, Output};

use harness::{Vpcd, namespaces, root_or_skip};

/// One instance in one subnet, for a namespace to try the API from.
const ONE: &str = r#"
[[vpc]]
name = "base"
cidr = "10.7.0.0/16"

[[subnet]]
name = "base-a"
vpc = "base"
cidr = "10.7.1.0/24"
az = "a"

[[instance]]
name = "probe"
subnet = "base-a"
private_ip = "10.7.1.10"
"#;

/// A free TCP port on loopback (bound, then let go).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The daemon with the API on `port`, its keys in `creds`.
fn start(tag: &str, port: u16, creds: &std::path::Path) -> Vpcd {
    let _ = std::fs::remove_file(creds);
    Vpcd::start_with(
        tag,
        Some(ONE),
        &[
            "--api",
            &format!("127.0.0.1:{port}"),
            "--api-credentials",
            &creds.display().to_string(),
        ],
    )
}

/// A file the test made, removed when the test ends (also when it fails).
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `aws ec2|sts ARGS` against the API with the keys of `creds`.
fn aws(port: u16, creds: &std::path::Path, args: &[&str]) -> Output {
    Command::new("aws")
        .args(args)
        .args(["--endpoint-url", &format!("http://127.0.0.1:{port}")])
        .args(["--output", "text"])
        .env("AWS_SHARED_CREDENTIALS_FILE", creds)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run the AWS CLI (pip install awscli)")
}

/// `aws ...` that must succeed; its standard output, trimmed.
fn ok(port: u16, creds: &std::path::Path, args: &[&str]) -> String {
    let out = aws(port, creds, args);
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_aws_cli_builds_a_vpc_that_vpcctl_shows() {
    if !root_or_skip() {
        return;
    }
    let creds =
        TempFile(std::env::temp_dir().join(format!("vpcd-e2e-api1-{}", std::process::id())));
    let port = free_port();
    let mut vpcd = start("api1", port, &creds.0);
    assert!(
        vpcd.stdout()
            .contains(&format!("api credentials: {}", creds.0.display())),
        "{}",
        vpcd.stdout()
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&creds.0).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the credentials file is root's only");

    assert_eq!(
        ok(
            port,
            &creds.0,
            &["sts", "get-caller-identity", "--query", "Account"]
        ),
        "123456789012"
    );
    let vpc = ok(
        port,
        &creds.0,
        &[
            "ec2",
            "create-vpc",
            "--cidr-block",
            "10.20.0.0/16",
            "--tag-specifications",
            "ResourceType=vpc,Tags=[{Key=Name,Value=corp}]",
            "--query",
            "Vpc.VpcId",
        ],
    );
    assert!(vpc.starts_with("vpc-") && vpc.len() == 21, "{vpc}");
    let subnet = ok(
        port,
        &creds.0,
        &[
            "ec2",
            "create-subnet",
            "--vpc-id",
            &vpc,
            "--cidr-block",
            "10.20.1.0/24",
            "--availability-zone",
            "us-east-1b",
            "--query",
            "Subnet.SubnetId",
        ],
    );
    let igw = ok(
        port,
        &creds.0,
        &[
            "ec2",
            "create-internet-gateway",
            "--query",
            "InternetGateway.InternetGatewayId",
        ],
    );
    ok(
        port,
        &creds.0,
        &[
            "ec2",
            "attach-internet-gateway",
            "--internet-gateway-id",
            &igw,
            "--vpc-id",
            &vpc,
        ],
    );
    assert_eq!(
        ok(
            port,
            &creds.0,
            &[
                "ec2",
                "describe-vpcs",
                "--filters",
                "Name=tag:Name,Values=corp",
                "--query",
                "Vpcs[].VpcId"
            ]
        ),
        vpc
    );
    // The IDs stay what they were, and vpcctl shows the same VPC by its Name tag.
    assert_eq!(
        ok(
            port,
            &creds.0,
            &[
                "ec2",
                "describe-subnets",
                "--filters",
                &format!("Name=vpc-id,Values={vpc}"),
                "--query",
                "Subnets[].[SubnetId,AvailabilityZone]"
            ]
        ),
        format!("{subnet}\tus-east-1b")
    );
    let status = vpcd.ctl(&["status"]);
    assert!(status.contains("vpc corp (10.20.0.0/16)"), "{status}");
    assert!(status.contains(&subnet), "{status}");

    // Errors as AWS gives them.
    let out = aws(port, &creds.0, &["ec2", "delete-vpc", "--vpc-id", &vpc]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("DependencyViolation"),
        "{out:?}"
    );
    let out = aws(
        port,
        &creds.0,
        &["ec2", "describe-vpcs", "--vpc-ids", "vpc-00000000000000000"],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("InvalidVpcID.NotFound"),
        "{out:?}"
    );

    // A request signed with another secret is refused, and changes nothing.
    let text = std::fs::read_to_string(&creds.0).unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("aws_access_key_id = "))
        .unwrap()
        .to_owned();
    let wrong = TempFile(creds.0.with_extension("wrong"));
    std::fs::write(
        &wrong.0,
        format!(
            "[default]\naws_access_key_id = {key}\naws_secret_access_key = {}\n",
            "x".repeat(40)
        ),
    )
    .unwrap();
    let out = aws(
        port,
        &wrong.0,
        &["ec2", "create-vpc", "--cidr-block", "10.30.0.0/16"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("AuthFailure"),
        "{out:?}"
    );
    assert!(!vpcd.ctl(&["status"]).contains("10.30.0.0/16"));

    // A body over 1 MiB is refused before it is read whole.
    let status = {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let len = 2 << 20;
        write!(
            c,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {len}\r\n\r\n"
        )
        .unwrap();
        let _ = c.write_all(&vec![b'a'; len]);
        let mut answer = String::new();
        let _ = c.read_to_string(&mut answer);
        answer.lines().next().unwrap_or_default().to_owned()
    };
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");

    // The API listens in the host's namespace only: an instance cannot reach it.
    let probe = vpcd.exec(
        "probe",
        &[
            "python3",
            "-c",
            &format!("import socket; socket.create_connection(('127.0.0.1', {port}), 2)"),
        ],
    );
    assert!(
        !probe.status.success(),
        "the API answered from inside an instance"
    );

    vpcd.stop();
    assert!(namespaces(&vpcd.prefix).is_empty());
}

#[test]
fn a_non_loopback_api_address_needs_api_remote() {
    if !root_or_skip() {
        return;
    }
    let creds =
        TempFile(std::env::temp_dir().join(format!("vpcd-e2e-api2-{}", std::process::id())));
    let out = Command::new(env!("CARGO_BIN_EXE_vpcd"))
        .args([
            "run",
            "--netns-prefix",
            "e2e-api2-",
            "--control-socket",
            "/tmp/vpcd-e2e-api2.sock",
        ])
        .args([
            "--config",
            "/dev/null",
            "--api",
            "0.0.0.0:4566",
            "--api-credentials",
        ])
        .arg(&creds.0)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--api-remote"), "{err}");
    assert!(namespaces("e2e-api2-").is_empty());
    assert!(
        !creds.0.exists(),
        "nothing is made before the address is checked"
    );
    assert!(!std::path::Path::new("/tmp/vpcd-e2e-api2.sock").exists());
}

/// Only the emulated internet: the VPC comes through the API.
const INTERNET: &str = r#"
[[internet_host]]
name = "internet"
address = "203.0.113.10"
"#;

/// A process the test started, ended by its PID when the test ends.
struct Started(std::process::Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP server on `port` in `node`'s namespace (python's http.server).
fn http_server(vpcd: &Vpcd, node: &str, port: u16) -> Started {
    let s = Started(
        Command::new("ip")
            .args(["netns", "exec", &vpcd.ns(node)])
            .args(["python3", "-m", "http.server", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        vpcd.wait_listening(node, port),
        "the server in {node} listens"
    );
    s
}

/// Whether `node` gets an HTTP answer from `url` within 3 s (curl).
fn get(vpcd: &Vpcd, node: &str, url: &str) -> bool {
    vpcd.exec(node, &["curl", "-sf", "-m", "3", "-o", "/dev/null", url])
        .status
        .success()
}

/// Runs one of the demo-building scripts against the API; returns web's public
/// address from its last line (`vpc ...: web i-... (198.51.100.x), ...`).
fn build_demo(script: &str, port: u16, creds: &std::path::Path) -> String {
    let out = Command::new(script)
        .env("ENDPOINT", format!("http://127.0.0.1:{port}"))
        .env("AWS_SHARED_CREDENTIALS_FILE", creds)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().last().unwrap_or_default();
    line.split('(')
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("no public address in {line:?}"))
        .to_owned()
}

/// The demo's behaviour (config/demo.toml), on what a script built.
fn behaves_as_the_demo(vpcd: &Vpcd, web_public: &str) {
    assert!(vpcd.ping("web", "10.0.2.10", 2, &[]), "web pings app");
    assert!(vpcd.ping("app", "10.0.1.10", 1, &[]), "app pings web");
    assert!(
        !vpcd.ping("app", "10.0.12.10", 1, &[]),
        "db answers no ping"
    );
    assert!(
        !vpcd.ping("web", "10.0.12.10", 1, &[]),
        "nor does web reach db"
    );
    assert!(
        vpcd.ping("app", "203.0.113.10", 1, &[]),
        "app reaches the internet (NAT)"
    );
    assert!(
        vpcd.ping("db", "203.0.113.10", 1, &[]),
        "db too, through its zone's NAT"
    );
    let _app = http_server(vpcd, "app", 8080);
    assert!(
        get(vpcd, "web", "http://10.0.2.10:8080/"),
        "web reaches app:8080"
    );
    let _db = http_server(vpcd, "db", 5432);
    assert!(
        get(vpcd, "app", "http://10.0.12.10:5432/"),
        "app reaches db:5432"
    );
    let _web = http_server(vpcd, "web", 80);
    assert!(
        get(vpcd, "internet", &format!("http://{web_public}/")),
        "the internet reaches web on its Elastic IP"
    );
    assert!(
        !get(vpcd, "internet", "http://10.0.2.10:8080/"),
        "but not app"
    );
}

/// The demo's shape from an empty VPC side, by `script`; then the demo's behaviour.
fn demo_by(tag: &str, script: &str) {
    let creds =
        TempFile(std::env::temp_dir().join(format!("vpcd-e2e-{tag}-{}", std::process::id())));
    let _ = std::fs::remove_file(&creds.0);
    let port = free_port();
    let mut vpcd = Vpcd::start_with(
        tag,
        Some(INTERNET),
        &[
            "--api",
            &format!("127.0.0.1:{port}"),
            "--api-credentials",
            &creds.0.display().to_string(),
        ],
    );
    let script = format!("{}/../../scripts/{script}", env!("CARGO_MANIFEST_DIR"));
    let public = build_demo(&script, port, &creds.0);
    for node in ["web", "app", "db"] {
        assert!(namespaces(&vpcd.prefix).contains(&vpcd.ns(node)), "{node}");
    }
    behaves_as_the_demo(&vpcd, &public);
    vpcd.stop();
    assert!(namespaces(&vpcd.prefix).is_empty());
}

#[test]
fn the_aws_cli_builds_the_demo_and_it_behaves_as_the_demo() {
    if !root_or_skip() {
        return;
    }
    demo_by("api3", "ec2-demo.sh");
}

#[test]
fn boto3_with_waiters_builds_the_demo_and_it_behaves_as_the_demo() {
    if !root_or_skip() {
        return;
    }
    demo_by("api4", "ec2-demo.py");
}

#[test]
fn what_the_api_made_survives_a_restart_with_its_ids() {
    if !root_or_skip() {
        return;
    }
    let creds =
        TempFile(std::env::temp_dir().join(format!("vpcd-e2e-api5-{}", std::process::id())));
    let state = TempFile(
        std::env::temp_dir().join(format!("vpcd-e2e-api5-{}.state.toml", std::process::id())),
    );
    let _ = std::fs::remove_file(&creds.0);
    let _ = std::fs::remove_file(&state.0);
    let port = free_port();
    let args = [
        "--api".to_owned(),
        format!("127.0.0.1:{port}"),
        "--api-credentials".to_owned(),
        creds.0.display().to_string(),
        "--state".to_owned(),
        state.0.display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut vpcd = Vpcd::start_with("api5", Some(INTERNET), &args);
    let vpc = ok(
        port,
        &creds.0,
        &[
            "ec2",
            "create-vpc",
            "--cidr-block",
            "10.50.0.0/16",
            "--query",
            "Vpc.VpcId",
        ],
    );
    let subnet = ok(
        port,
        &creds.0,
        &[
            "ec2",
            "create-subnet",
            "--vpc-id",
            &vpc,
            "--cidr-block",
            "10.50.1.0/24",
            "--query",
            "Subnet.SubnetId",
        ],
    );
    ok(
        port,
        &creds.0,
        &[
            "ec2",
            "create-tags",
            "--resources",
            &subnet,
            "--tags",
            "Key=tier,Value=web",
        ],
    );
    // vpcctl shows the tags too.
    let tags = vpcd.ctl(&["describe-tags", "--resource-id", &subnet]);
    let row: Vec<&str> = tags
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(row, [subnet.as_str(), "tier", "web"], "{tags}");
    vpcd.stop();

    let mut vpcd = Vpcd::start_with("api5", Some(INTERNET), &args);
    assert!(
        vpcd.stdout().contains("state: restored"),
        "{}",
        vpcd.stdout()
    );
    assert_eq!(
        ok(
            port,
            &creds.0,
            &[
                "ec2",
                "describe-subnets",
                "--filters",
                "Name=tag:tier,Values=web",
                "--query",
                "Subnets[].[VpcId,SubnetId]"
            ]
        ),
        format!("{vpc}\t{subnet}"),
        "the same IDs and tags after the restart"
    );
    vpcd.stop();
}

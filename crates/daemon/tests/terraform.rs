//! Terraform's acceptance tests of the EC2 API: `terraform apply` of a module against
//! an empty vpcd, with the `hashicorp/aws` provider from the machine's filesystem
//! mirror (nothing is downloaded); a second `terraform plan` shows no changes; real
//! packets flow between its instances; `terraform destroy` leaves no namespace and no
//! resource. Two modules: a two-tier VPC (`fixtures/terraform/main.tf`, issue 14) whose
//! packets also leave through its NAT gateway, and two VPCs joined by a peering
//! connection and a transit gateway, with a flow log (`fixtures/terraform/fabric/`).
//! Skipped, loudly, where the machine has no terraform or no provider mirror
//! (`VPCD_TF_MIRROR`, default `/opt/tf-plugins`).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod harness;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use harness::{Vpcd, namespaces, root_or_skip};

/// Only the emulated internet: the VPC comes from Terraform.
const INTERNET: &str = r#"
[[internet_host]]
name = "internet"
address = "203.0.113.10"
"#;

/// A directory the test made, removed when the test ends (also when it fails).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A process the test started, ended by its PID when the test ends.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The provider mirror, if this machine has terraform and one.
fn mirror() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var("VPCD_TF_MIRROR").unwrap_or("/opt/tf-plugins".into()));
    let found = Command::new("terraform")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
        && dir.join("registry.terraform.io/hashicorp/aws").is_dir();
    found.then_some(dir)
}

/// Runs `terraform ARGS` in `dir` (at most 10 minutes: `timeout` ends it by its PID).
fn terraform(dir: &Path, env: &[(&str, &Path)], args: &[&str]) -> Output {
    let mut cmd = Command::new("timeout");
    cmd.args(["600", "terraform"]).args(args).current_dir(dir);
    cmd.env("TF_CLI_CONFIG_FILE", dir.join("cli.tfrc"))
        .env("TF_IN_AUTOMATION", "1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn check(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "terraform {what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Terraform working directory with module `module`, and a vpcd (netns tag `tag`)
/// serving the EC2 API to it; `None` (skipped, loudly) without root, terraform or the
/// provider mirror.
struct Run {
    dir: TempDir,
    vpcd: Vpcd,
    creds: PathBuf,
    endpoint: String,
}

impl Run {
    fn start(tag: &str, module: &str) -> Option<Run> {
        if !root_or_skip() {
            return None;
        }
        let Some(mirror) = mirror() else {
            eprintln!(
                "!! SKIPPED: no terraform or no hashicorp/aws provider mirror on this machine \
                 (VPCD_TF_MIRROR, default /opt/tf-plugins) !!"
            );
            return None;
        };
        let dir =
            TempDir(std::env::temp_dir().join(format!("vpcd-e2e-{tag}-{}", std::process::id())));
        let _ = std::fs::remove_dir_all(&dir.0);
        std::fs::create_dir_all(&dir.0).unwrap();
        std::fs::write(dir.0.join("main.tf"), module).unwrap();
        std::fs::write(
            dir.0.join("cli.tfrc"),
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n",
                mirror.display()
            ),
        )
        .unwrap();
        let creds = dir.0.join("credentials");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let vpcd = Vpcd::start_with(
            tag,
            Some(INTERNET),
            &[
                "--api",
                &format!("127.0.0.1:{port}"),
                "--api-credentials",
                &creds.display().to_string(),
            ],
        );
        let run = Run {
            dir,
            vpcd,
            creds,
            endpoint: format!("endpoint=http://127.0.0.1:{port}"),
        };
        check(
            "init",
            &run.tf(&["init", "-input=false", "-no-color"], false),
        );
        Some(run)
    }

    /// `terraform ARGS` (with the endpoint variable if `vars`).
    fn tf(&self, args: &[&str], vars: bool) -> Output {
        let env: [(&str, &Path); 1] = [("AWS_SHARED_CREDENTIALS_FILE", &self.creds)];
        let mut all = args.to_vec();
        if vars {
            all.extend(["-input=false", "-no-color", "-var", &self.endpoint]);
        }
        terraform(&self.dir.0, &env, &all)
    }

    /// Applies the module; a second plan shows no changes (exit 0; 2 would mean
    /// changes).
    fn apply_and_plan(&self) {
        check("apply", &self.tf(&["apply", "-auto-approve"], true));
        check("plan", &self.tf(&["plan", "-detailed-exitcode"], true));
    }

    /// Destroys the module: no instance namespace and no VPC is left, and the daemon
    /// stops cleanly.
    fn destroy(mut self) {
        check("destroy", &self.tf(&["destroy", "-auto-approve"], true));
        let vpcd = &mut self.vpcd;
        let left: Vec<String> = namespaces(&vpcd.prefix)
            .into_iter()
            .filter(|n| *n != vpcd.ns("internet") && *n != vpcd.ns("vpcd+services"))
            .collect();
        assert_eq!(left, Vec::<String>::new(), "no instance namespace is left");
        let status = vpcd.ctl(&["status"]);
        assert!(!status.contains("vpc "), "no VPC is left: {status}");
        vpcd.stop();
        assert!(namespaces(&vpcd.prefix).is_empty());
    }
}

#[test]
fn terraform_applies_a_two_tier_vpc_that_carries_packets_and_destroys_it() {
    let Some(run) = Run::start("tf", include_str!("fixtures/terraform/main.tf")) else {
        return;
    };
    run.apply_and_plan();
    let vpcd = &run.vpcd;

    // Real packets: web reaches app on 8080 and by ping; app reaches the internet
    // through the NAT gateway; nothing reaches app on another port.
    let server = Started(
        Command::new("ip")
            .args(["netns", "exec", &vpcd.ns("tt-app")])
            .args([
                "python3",
                "-m",
                "http.server",
                "8080",
                "--bind",
                "10.40.2.10",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        vpcd.wait_listening("tt-app", 8080),
        "the server in app listens"
    );
    assert!(vpcd.ping("tt-web", "10.40.2.10", 2, &[]), "web pings app");
    let get = vpcd.exec(
        "tt-web",
        &[
            "curl",
            "-sf",
            "-m",
            "5",
            "-o",
            "/dev/null",
            "http://10.40.2.10:8080/",
        ],
    );
    assert!(get.status.success(), "web gets app:8080: {get:?}");
    assert!(
        vpcd.ping("tt-app", "203.0.113.10", 2, &[]),
        "app reaches the internet"
    );
    drop(server);
    run.destroy();
}

#[test]
fn terraform_peers_two_vpcs_joins_them_by_a_transit_gateway_and_destroys_them() {
    let Some(run) = Run::start("tf2", include_str!("fixtures/terraform/fabric/main.tf")) else {
        return;
    };
    run.apply_and_plan();
    let vpcd = &run.vpcd;
    // Real packets, both ways through the peering connection.
    assert!(
        vpcd.ping("tf2-a-host", "10.60.1.10", 2, &[]),
        "a pings b through the peering connection"
    );
    assert!(
        vpcd.ping("tf2-b-host", "10.50.1.10", 2, &[]),
        "b pings a through the peering connection"
    );
    run.destroy();
}

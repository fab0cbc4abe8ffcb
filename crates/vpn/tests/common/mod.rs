//! What the live tests share: whether they can run (root), `ip` that must succeed,
//! and a `Lab` that removes everything a test made (its processes by PID, its
//! namespaces, its directory) when dropped, even after a failed assertion.
#![allow(dead_code)] // each test binary uses part of it

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Whether the test runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Runs `ip` with `args`, which must succeed.
pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Everything a test creates; removed on drop.
pub struct Lab {
    /// Its files.
    pub dir: PathBuf,
    /// Its namespaces.
    pub namespaces: Vec<String>,
    /// The daemons it started (charon sends its DELETEs on SIGTERM, so each gets up to
    /// 5 s before SIGKILL).
    pub children: Vec<Child>,
}

impl Lab {
    /// A lab named `tag` (its files in a directory of the temp dir): two namespaces
    /// `<tag>-a-<pid>` and `<tag>-b-<pid>` joined by a veth pair `<tag>0`/`<tag>1`
    /// with addresses `cidrs`, everything up. Returns the lab and the two namespaces.
    pub fn pair(tag: &str, cidrs: (&str, &str)) -> (Lab, String, String) {
        let pid = std::process::id();
        let (a, b) = (format!("{tag}-a-{pid}"), format!("{tag}-b-{pid}"));
        let mut lab = Lab {
            dir: std::env::temp_dir().join(format!("{tag}-{pid}")),
            namespaces: Vec::new(),
            children: Vec::new(),
        };
        fs::create_dir_all(&lab.dir).unwrap();
        for ns in [&a, &b] {
            ip(&["netns", "add", ns]);
            lab.namespaces.push(ns.clone());
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        let (dev_a, dev_b) = (format!("{tag}0"), format!("{tag}1"));
        ip(&[
            "link", "add", &dev_a, "netns", &a, "type", "veth", "peer", "name", &dev_b, "netns", &b,
        ]);
        for (ns, dev, cidr) in [(&a, &dev_a, cidrs.0), (&b, &dev_b, cidrs.1)] {
            ip(&["-n", ns, "addr", "add", cidr, "dev", dev]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
        }
        (lab, a, b)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
        }
        for c in &mut self.children {
            let deadline = Instant::now() + Duration::from_secs(5);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

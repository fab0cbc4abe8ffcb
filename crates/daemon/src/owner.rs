//! Which namespaces this daemon created, so a later daemon can remove them after a crash
//! and never touches anything else.
//!
//! Each running daemon holds an exclusive `flock` on its own record file in
//! `/run/vpcd/owners/`, named by a token unique to the run. A namespace's name is
//! written there before the namespace is created, and the first thing done inside a new
//! namespace is to give its loopback device the alias `vpcd:<token>`. At start, every
//! record whose lock can be taken belongs to a dead daemon; a namespace it lists is
//! removed only if its loopback carries that daemon's alias, so a namespace someone else
//! made under the same name is never touched. (A crash in the instant between the
//! namespace's creation and the alias leaves it unproven: it is reported, not removed.)
//! TUN devices need no record: they are not persistent and vanish with their process.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use nix::fcntl::{Flock, FlockArg};
use rtnetlink::packet_route::link::LinkAttribute;
use tokio::runtime::Handle;

use crate::error::SetupError;
use crate::netns;

/// Where the records live.
pub const OWNERS_DIR: &str = "/run/vpcd/owners";

/// This daemon's record, locked for as long as the daemon lives.
#[derive(Debug)]
pub struct Ownership {
    file: Flock<File>,
    path: PathBuf,
    token: String,
    /// Namespaces this daemon created (and must remove).
    created: Vec<String>,
}

impl Ownership {
    /// Creates and locks a new record.
    pub fn claim() -> Result<Ownership, SetupError> {
        std::fs::create_dir_all(OWNERS_DIR)
            .map_err(SetupError::io(format!("create {OWNERS_DIR}")))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let token = format!("{}-{nanos}", std::process::id());
        let path = Path::new(OWNERS_DIR).join(&token);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(SetupError::io(format!("create {}", path.display())))?;
        let file = Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, e)| {
            SetupError::Os {
                what: format!("lock {}", path.display()),
                error: e,
            }
        })?;
        Ok(Ownership {
            file,
            path,
            token,
            created: Vec::new(),
        })
    }

    /// The alias this daemon puts on the loopback device of each of its namespaces.
    pub fn marker(&self) -> String {
        marker(&self.token)
    }

    /// Records, durably, that this daemon is about to create namespace `name`.
    pub fn intend(&mut self, name: &str) -> Result<(), SetupError> {
        writeln!(self.file, "{name}")
            .and_then(|()| self.file.sync_data())
            .map_err(SetupError::io(format!("write {}", self.path.display())))
    }

    /// Whether this daemon created namespace `name` (and has not removed it).
    pub fn made(&self, name: &str) -> bool {
        self.created.iter().any(|n| n == name)
    }

    /// Notes that namespace `name` was created by this daemon.
    pub fn created(&mut self, name: &str) {
        self.created.push(name.to_owned());
    }

    /// Removes namespace `name`, which this daemon created (an instance or internet
    /// host removed at run time). It stays in the record, which lists every namespace
    /// the daemon ever meant to make; removing it again later does nothing.
    pub fn remove(&mut self, name: &str) {
        self.created.retain(|n| n != name);
        if let Err(e) = netns::delete(name) {
            tracing::warn!("{e}");
        }
    }

    /// Removes every namespace this daemon created, and the record.
    pub fn remove_all(self) {
        for name in &self.created {
            if let Err(e) = netns::delete(name) {
                tracing::warn!("{e}");
            }
        }
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!("remove {}: {e}", self.path.display());
        }
    }
}

fn marker(token: &str) -> String {
    format!("vpcd:{token}")
}

/// Removes the namespaces of daemons that died without cleaning up; returns their names.
pub fn reap_leftovers(rt: &Handle) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(OWNERS_DIR) else {
        return removed;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(file) = File::open(&path) else {
            continue;
        };
        // A record still locked belongs to a live daemon.
        let Ok(file) = Flock::lock(file, FlockArg::LockExclusiveNonblock) else {
            continue;
        };
        let token = entry.file_name().to_string_lossy().into_owned();
        for name in BufReader::new(&*file).lines().map_while(Result::ok) {
            let name = name.as_str();
            if netns::identity(name).is_none() {
                continue; // never created, or already gone
            }
            match lo_alias(name, rt) {
                Ok(Some(alias)) if alias == marker(&token) => match netns::delete(name) {
                    Ok(()) => removed.push(name.to_owned()),
                    Err(e) => tracing::warn!("leftover {name}: {e}"),
                },
                _ => tracing::warn!(
                    "namespace {name} is named in the record of a dead vpcd but not marked as its namespace; left alone"
                ),
            }
        }
        let _ = std::fs::remove_file(&path);
    }
    removed
}

/// The alias of the loopback device in namespace `name`.
fn lo_alias(name: &str, rt: &Handle) -> Result<Option<String>, SetupError> {
    let rt = rt.clone();
    netns::enter(name, move || {
        netns::with_netlink(&rt, async |netlink| {
            let mut links = netlink.link().get().match_name("lo".to_owned()).execute();
            let link = links
                .try_next()
                .await
                .map_err(SetupError::netlink("get lo"))?;
            Ok(link.and_then(|l| {
                l.attributes.into_iter().find_map(|a| match a {
                    LinkAttribute::IfAlias(s) => Some(s),
                    _ => None,
                })
            }))
        })
    })
}

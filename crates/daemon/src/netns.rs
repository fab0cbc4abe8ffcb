//! Named network namespaces, made and removed exactly as iproute2's `ip netns add/del`
//! does (a bind mount of the namespace on `/run/netns/NAME`), so `ip netns exec NAME`
//! works on them. Everything namespace-bound happens on a dedicated OS thread: the thread
//! that unshares or enters a namespace never runs other work, and the host's namespace
//! is never changed.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::stat::Mode;
use nix::unistd::{mkdir, unlink};
use tokio::runtime::Handle;

use crate::error::SetupError;

/// Where iproute2 keeps named namespaces.
pub const RUN_DIR: &str = "/run/netns";

/// The path of namespace `name`.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(RUN_DIR).join(name)
}

/// Which namespace a name refers to now: (device, inode) of the nsfs file. Only
/// meaningful while the namespace lives (the kernel reuses inode numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Device of the nsfs mount.
    pub dev: u64,
    /// Inode of the namespace.
    pub ino: u64,
}

/// The identity of namespace `name`, if it exists.
pub fn identity(name: &str) -> Option<Identity> {
    let m = std::fs::metadata(path(name)).ok()?;
    Some(Identity {
        dev: m.dev(),
        ino: m.ino(),
    })
}

/// Makes `/run/netns` exist and be a shared mount, like iproute2 does before its first
/// namespace, so namespaces mounted there are visible in every mount namespace.
pub fn ensure_run_dir() -> Result<(), SetupError> {
    let err = |e| SetupError::Os {
        what: format!("prepare {RUN_DIR}"),
        error: e,
    };
    match mkdir(RUN_DIR, Mode::from_bits_truncate(0o755)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(err(e)),
    }
    let shared = || {
        mount(
            Some(""),
            RUN_DIR,
            Some("none"),
            MsFlags::MS_SHARED | MsFlags::MS_REC,
            None::<&str>,
        )
    };
    match shared() {
        Ok(()) => Ok(()),
        Err(Errno::EINVAL) => {
            // Not a mount point yet: bind it on itself, then make it shared.
            mount(
                Some(RUN_DIR),
                RUN_DIR,
                Some("none"),
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .map_err(err)?;
            shared().map_err(err)
        }
        Err(e) => Err(err(e)),
    }
}

/// Creates namespace `name` on a new thread and runs `setup` on that thread, inside the
/// new namespace. If `setup` fails the namespace is removed again. Blocks until done.
pub fn create<T, F>(name: &str, setup: F) -> Result<(Identity, T), SetupError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, SetupError> + Send + 'static,
{
    let name = name.to_owned();
    on_thread(move || {
        let p = path(&name);
        let os = |what: &str| {
            let what = format!("{what} for namespace {name}");
            move |error| SetupError::Os { what, error }
        };
        match open(
            &p,
            OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => drop(fd),
            Err(Errno::EEXIST) => return Err(SetupError::NamespaceExists { name }),
            Err(e) => return Err(os("create the mount point")(e)),
        }
        let made = unshare(CloneFlags::CLONE_NEWNET)
            .map_err(os("unshare"))
            .and_then(|()| {
                mount(
                    Some("/proc/thread-self/ns/net"),
                    &p,
                    Some("none"),
                    MsFlags::MS_BIND,
                    None::<&str>,
                )
                .map_err(os("bind-mount"))
            })
            .and_then(|()| identity(&name).ok_or_else(|| os("stat")(Errno::ENOENT)));
        let ident = match made {
            Ok(ident) => ident,
            Err(e) => {
                let _ = unlink(&p);
                return Err(e);
            }
        };
        match setup() {
            Ok(t) => Ok((ident, t)),
            Err(e) => {
                let _ = delete(&name);
                Err(e)
            }
        }
    })
}

/// Runs `f` on a new thread inside the existing namespace `name`. Blocks until done.
pub fn enter<T, F>(name: &str, f: F) -> Result<T, SetupError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, SetupError> + Send + 'static,
{
    let name = name.to_owned();
    on_thread(move || {
        let fd = open(
            &path(&name),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|error| SetupError::Os {
            what: format!("open namespace {name}"),
            error,
        })?;
        setns(&fd, CloneFlags::CLONE_NEWNET).map_err(|error| SetupError::Os {
            what: format!("enter namespace {name}"),
            error,
        })?;
        f()
    })
}

/// Removes namespace `name` like `ip netns del`: detach the mount and unlink it. The
/// namespace itself ends when nothing else holds it. An absent namespace is not an error.
pub fn delete(name: &str) -> Result<(), SetupError> {
    let p = path(name);
    let err = |error| SetupError::Os {
        what: format!("delete namespace {name}"),
        error,
    };
    match umount2(&p, MntFlags::MNT_DETACH) {
        Ok(()) | Err(Errno::EINVAL) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(err(e)),
    }
    // An instance's resolv.conf goes with its namespace.
    crate::services::remove_resolv_conf(name);
    match unlink(&p) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(err(e)),
    }
}

/// Runs `f` with a netlink handle whose socket is opened now, in the calling thread's
/// namespace (a netlink socket stays in the namespace it was opened in). The connection
/// runs on `rt`; this blocks the calling thread, which must not be a runtime thread.
pub fn with_netlink<T>(
    rt: &Handle,
    f: impl AsyncFnOnce(&rtnetlink::Handle) -> Result<T, SetupError>,
) -> Result<T, SetupError> {
    let (conn, netlink) = {
        let _guard = rt.enter();
        let (conn, netlink, _) =
            rtnetlink::new_connection().map_err(SetupError::io("open netlink"))?;
        (conn, netlink)
    };
    let task = rt.spawn(conn);
    let result = rt.block_on(f(&netlink));
    task.abort();
    result
}

/// Runs `f` on a fresh OS thread (which may change its own namespace) and waits for it.
fn on_thread<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SetupError> + Send + 'static,
) -> Result<T, SetupError> {
    let handle = std::thread::Builder::new()
        .name("vpcd-netns".into())
        .spawn(f)
        .map_err(|e| SetupError::Thread(e.to_string()))?;
    handle
        .join()
        .map_err(|_| SetupError::Thread("namespace thread panicked".into()))?
}

//! The control socket: a Unix socket, mode 0600 from its creation (bound under a
//! restrictive umask, so there is no window), that only root or the daemon's own user may
//! use. One JSON request per line, one JSON response per line (`vpc-api`). Oversized or
//! malformed requests get an error response; a slow client is cut off; the daemon never
//! fails because of a client.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::stat::{Mode, umask};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use vpc_api::{MAX_REQUEST_LEN, Request, Response};

use crate::error::SetupError;
use crate::report;
use crate::state::Shared;

/// Clients served at once; more wait for a slot.
const MAX_CLIENTS: usize = 32;
/// How long a client may take to send a request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds the control socket at `path`. A stale socket left by a dead daemon is
/// replaced; a live one is an error.
pub async fn bind(path: &Path) -> Result<UnixListener, SetupError> {
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::create_dir_all(dir)
            .map_err(SetupError::io(format!("create {}", dir.display())))?;
    }
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(SetupError::Io {
                what: format!("control socket {}", path.display()),
                error: std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    "another vpcd is listening there",
                ),
            });
        }
        std::fs::remove_file(path)
            .map_err(SetupError::io(format!("remove stale {}", path.display())))?;
    }
    // Sockets start from mode 0777 minus the umask: 0177 makes this one 0600.
    let old = umask(Mode::from_bits_truncate(0o177));
    let bound = UnixListener::bind(path);
    umask(old);
    bound.map_err(SetupError::io(format!("bind {}", path.display())))
}

/// Serves clients until the task is aborted.
pub async fn serve(listener: UnixListener, shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(MAX_CLIENTS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("control socket accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Err(e) = client(stream, &shared).await {
                tracing::debug!("control client: {e}");
            }
            drop(permit);
        });
    }
}

async fn client(stream: UnixStream, shared: &Shared) -> std::io::Result<()> {
    let allowed = stream
        .peer_cred()
        .map(|c| c.uid() == 0 || c.uid() == nix::unistd::geteuid().as_raw())
        .unwrap_or(false);
    let (read, mut write) = stream.into_split();
    if !allowed {
        let refusal = Response::Error {
            message: "permission denied: vpcctl must run as root".into(),
        };
        return write.write_all(&vpc_api::encode(&refusal)).await;
    }
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = MAX_REQUEST_LEN as u64 + 1;
        let mut bounded = (&mut reader).take(limit);
        let read = tokio::time::timeout(REQUEST_TIMEOUT, bounded.read_until(b'\n', &mut line));
        match read.await {
            Err(_) | Ok(Ok(0)) => return Ok(()),
            Ok(Err(e)) => return Err(e),
            Ok(Ok(_)) => {}
        }
        let response = match vpc_api::decode_request(&line) {
            Ok(request) => answer(request, shared),
            Err(e) => Response::Error {
                message: e.to_string(),
            },
        };
        let too_long = line.len() > MAX_REQUEST_LEN;
        write.write_all(&vpc_api::encode(&response)).await?;
        if too_long || line.last() != Some(&b'\n') {
            return Ok(()); // the rest of an oversized line is not read
        }
    }
}

fn answer(request: Request, shared: &Shared) -> Response {
    match request {
        Request::Status {} => Response::Status(report::status(shared)),
        Request::Routes {} => Response::Routes(report::routes(shared)),
        Request::Counters {} => Response::Counters(report::counters(shared)),
        Request::Flows { instance } => match report::flows(shared, instance.as_deref()) {
            Ok(r) => Response::Flows(r),
            Err(message) => Response::Error { message },
        },
        Request::Trace {
            from,
            to,
            proto,
            port,
        } => match report::trace(shared, &from, &to, &proto, port) {
            Ok(r) => Response::Trace(r),
            Err(message) => Response::Error { message },
        },
    }
}

//! The VPC's own services on kernel sockets: the Amazon DNS resolver (UDP and TCP on
//! 169.254.169.253:53) and the instance metadata service (HTTP/1.1, hyper, on
//! 169.254.169.254:80), listening in the daemon's services namespace
//! (`<prefix>vpcd+services`), whose one device `svc0` is the dataplane's services port
//! ([`vpc_dataplane::Port::Services`]). No instance reaches these sockets except
//! through the pipeline, which hands them questions from a *client address* naming the
//! asking interface's port slot (`vpc_dataplane::services`): each question is answered
//! for that interface with the running configuration (`vpc_services`), so an answer
//! follows every change at once. A client address whose interface is gone gets no
//! answer.
//!
//! Limits: at most [`MAX_CONNECTIONS`] TCP connections per service at once and
//! [`MAX_PER_CLIENT`] from one interface (so one instance cannot hold them all; more
//! are closed at once), request headers within [`HEADER_TIMEOUT`], a DNS-over-TCP
//! connection idle for [`TCP_IDLE`] is closed, a metadata connection lasts at most
//! [`METADATA_LIFETIME`].

use std::convert::Infallible;
use std::net::{SocketAddr, SocketAddrV4};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use vpc_config::Topology;
use vpc_config::addressing::{DNS_LINK_LOCAL, METADATA};
use vpc_dataplane::Port;
use vpc_dataplane::services::{DNS_PORT, METADATA_PORT, client};

use crate::error::SetupError;
use crate::netns;
use crate::state::Shared;

/// The services namespace's name, after the daemon's prefix ('+' is in no instance's
/// or host's name).
pub const NAMESPACE: &str = "vpcd+services";

/// TCP connections served at once, per service; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 256;

/// TCP connections per service from one interface (one client address).
pub const MAX_PER_CLIENT: usize = 16;

/// The longest a metadata connection is kept (clients open a new one).
const METADATA_LIFETIME: Duration = Duration::from_secs(60);

/// How long a metadata request may take to send its headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a DNS-over-TCP connection may stay idle.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// The largest metadata request body read (requests have none).
const MAX_BODY: usize = 4096;

/// The services' sockets, bound inside the services namespace.
#[derive(Debug)]
pub struct Listeners {
    dns_udp: std::net::UdpSocket,
    dns_tcp: std::net::TcpListener,
    metadata: std::net::TcpListener,
}

/// Binds the services' sockets inside namespace `namespace` (made with
/// `instance::Plan::services`).
pub fn listen(namespace: &str) -> Result<Listeners, SetupError> {
    netns::enter(namespace, || {
        let dns = SocketAddrV4::new(DNS_LINK_LOCAL, DNS_PORT);
        let imds = SocketAddrV4::new(METADATA, METADATA_PORT);
        let io = |what: String| SetupError::io(what);
        let dns_udp = std::net::UdpSocket::bind(dns).map_err(io(format!("bind udp {dns}")))?;
        let dns_tcp = std::net::TcpListener::bind(dns).map_err(io(format!("bind tcp {dns}")))?;
        let metadata = std::net::TcpListener::bind(imds).map_err(io(format!("bind tcp {imds}")))?;
        for nonblocking in [
            dns_udp.set_nonblocking(true),
            dns_tcp.set_nonblocking(true),
            metadata.set_nonblocking(true),
        ] {
            nonblocking.map_err(io("make a service socket non-blocking".to_owned()))?;
        }
        Ok(Listeners {
            dns_udp,
            dns_tcp,
            metadata,
        })
    })
}

/// Serves the services on `listeners` until the tasks are aborted.
pub fn spawn(listeners: Listeners, shared: Arc<Shared>) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let udp = UdpSocket::from_std(listeners.dns_udp)?;
    let tcp = TcpListener::from_std(listeners.dns_tcp)?;
    let http = TcpListener::from_std(listeners.metadata)?;
    let key = Arc::new(random_key()?);
    Ok(vec![
        tokio::spawn(dns_udp(udp, Arc::clone(&shared))),
        tokio::spawn(dns_tcp(tcp, Arc::clone(&shared))),
        tokio::spawn(metadata(http, shared, key)),
    ])
}

/// A per-run secret for the metadata service's session tokens.
fn random_key() -> anyhow::Result<[u8; 32]> {
    use std::io::Read;
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .map_err(|e| anyhow::anyhow!("read /dev/urandom for the metadata service's key: {e}"))?;
    Ok(key)
}

/// The port (an interface, or an internet host asking the internet's resolver) a
/// client address names in the running configuration, with the configuration.
fn asker(shared: &Shared, peer: SocketAddr) -> Option<(Arc<vpc_dataplane::Snapshot>, Port)> {
    let SocketAddr::V4(peer) = peer else {
        return None;
    };
    let (_, slot) = client(*peer.ip())?;
    let snapshot = shared.snapshot();
    match snapshot.ports().port(slot)? {
        port @ (Port::Eni(_) | Port::Host(_)) => Some((snapshot, port)),
        Port::Services => None,
    }
}

/// The resolver's answer to `query` from `port`: its VPC's resolver for an interface,
/// the emulated internet's for an internet host.
fn resolve(
    t: &Topology,
    port: Port,
    query: &[u8],
    transport: vpc_services::dns::Transport,
) -> Option<Vec<u8>> {
    match port {
        Port::Eni(e) => {
            let vpc = t.subnet(t.eni(e).subnet).vpc;
            vpc_services::dns::answer(t, vpc, query, transport)
        }
        Port::Host(_) => vpc_services::dns::answer_public(t, query, transport),
        Port::Services => None,
    }
}

async fn dns_udp(socket: UdpSocket, shared: Arc<Shared>) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let (n, peer) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("dns: receive: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some((snapshot, port)) = asker(&shared, peer) else {
            continue;
        };
        let answer = resolve(
            snapshot.topology(),
            port,
            &buf[..n],
            vpc_services::dns::Transport::Udp,
        );
        if let Some(answer) = answer
            && let Err(e) = socket.send_to(&answer, peer).await
        {
            tracing::debug!("dns: answer {peer}: {e}");
        }
    }
}

/// Connections per client address, each counted while its [`Held`] lives.
#[derive(Debug, Default)]
struct PerClient(std::sync::Mutex<std::collections::HashMap<SocketAddr, usize>>);

/// One connection counted in [`PerClient`].
#[derive(Debug)]
struct Held(Arc<PerClient>, SocketAddr);

impl PerClient {
    /// Counts a connection from `peer`'s address, unless it has [`MAX_PER_CLIENT`].
    fn take(self: &Arc<Self>, peer: SocketAddr) -> Option<Held> {
        let key = SocketAddr::new(peer.ip(), 0);
        let mut counts = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = counts.entry(key).or_default();
        if *n >= MAX_PER_CLIENT {
            return None;
        }
        *n += 1;
        Some(Held(Arc::clone(self), key))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut counts = (self.0)
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.1);
            }
        }
    }
}

async fn dns_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let clients = Arc::new(PerClient::default());
    loop {
        let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("dns: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(held) = clients.take(peer) else {
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let _ = dns_connection(stream, peer, &shared).await;
            drop((permit, held));
        });
    }
}

/// One DNS-over-TCP connection (RFC 7766): length-prefixed messages, answered in
/// order, until the client closes or stays idle.
async fn dns_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
) -> std::io::Result<()> {
    let mut query = vec![0u8; 65_535];
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
            Ok(r) => r?,
            Err(_) => return Ok(()),
        };
        let len = usize::from(u16::from_be_bytes(len));
        tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut query[..len]))
            .await
            .map_err(|_| std::io::ErrorKind::TimedOut)??;
        let Some((snapshot, port)) = asker(shared, peer) else {
            return Ok(());
        };
        let Some(answer) = resolve(
            snapshot.topology(),
            port,
            &query[..len],
            vpc_services::dns::Transport::Tcp,
        ) else {
            return Ok(());
        };
        let Ok(n) = u16::try_from(answer.len()) else {
            return Ok(());
        };
        stream.write_all(&n.to_be_bytes()).await?;
        stream.write_all(&answer).await?;
    }
}

async fn metadata(listener: TcpListener, shared: Arc<Shared>, key: Arc<[u8; 32]>) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let clients = Arc::new(PerClient::default());
    loop {
        let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("metadata: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(held) = clients.take(peer) else {
            continue;
        };
        // The same socket, to set each response's IP TTL (a token's hop limit).
        let Ok(fd) = stream.as_fd().try_clone_to_owned() else {
            continue;
        };
        let fd = Arc::new(fd);
        let (shared, key) = (Arc::clone(&shared), Arc::clone(&key));
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let (shared, key, fd) = (Arc::clone(&shared), Arc::clone(&key), Arc::clone(&fd));
                async move { Ok::<_, Infallible>(metadata_answer(req, peer, &shared, &key, &fd).await) }
            });
            let mut http = http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let served = http.serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(METADATA_LIFETIME, served).await;
            drop((permit, held));
        });
    }
}

/// The IP TTL of the metadata service's responses other than a token's: Linux's
/// default.
const DEFAULT_TTL: u32 = 64;

async fn metadata_answer(
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    shared: &Shared,
    key: &[u8; 32],
    fd: &OwnedFd,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    // Requests carry no body; one is read (bounded) and ignored.
    let _ = Limited::new(body, MAX_BODY).collect().await;
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    // Only interfaces reach the metadata service (the pipeline lets nothing else in).
    let Some((snapshot, Port::Eni(eni))) = asker(shared, peer) else {
        return plain(404, "text/plain", Vec::new(), Vec::new());
    };
    let request = vpc_services::imds::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        token: header("x-aws-ec2-metadata-token"),
        token_ttl: header("x-aws-ec2-metadata-token-ttl-seconds"),
        forwarded_for: parts.headers.contains_key("x-forwarded-for"),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let response = vpc_services::imds::respond(snapshot.topology(), eni, &request, now, key);
    let ttl = response.ttl.map_or(DEFAULT_TTL, u32::from);
    let _ = nix::sys::socket::setsockopt(fd, nix::sys::socket::sockopt::Ipv4Ttl, &(ttl as i32));
    plain(
        response.status,
        response.content_type,
        response.headers,
        response.body,
    )
}

fn plain(
    status: u16,
    content_type: &str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
) -> hyper::Response<Full<Bytes>> {
    let mut b = hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("server", "EC2ws");
    for (name, value) in headers {
        b = b.header(name, value);
    }
    b.body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}

/// Writes every instance's resolv.conf for the running configuration (its primary
/// interface's DHCP options): at start and after every change, as an instance renews
/// its DHCP lease; and every internet host's, naming the emulated internet's resolver. Only for namespaces this daemon made (none without a record of
/// them, as in the control module's tests).
pub fn sync_resolv_conf(shared: &Shared) {
    let snapshot = shared.snapshot();
    let t = snapshot.topology();
    for inst in &t.instances {
        let Some(&eth0) = inst.enis.first() else {
            continue;
        };
        let namespace = shared.namespace(&inst.name);
        if shared.with_owner(|o| o.made(&namespace)) != Some(true) {
            continue;
        }
        let content = vpc_services::dns::resolv_conf(t, eth0);
        if let Err(e) = write_resolv_conf(&namespace, &content) {
            tracing::warn!("write /etc/netns/{namespace}/resolv.conf: {e}");
        }
    }
    // Internet hosts ask the emulated internet's resolver (public names only).
    for host in &t.internet_hosts {
        let namespace = shared.namespace(&host.name);
        if shared.with_owner(|o| o.made(&namespace)) != Some(true) {
            continue;
        }
        let content = format!(
            "; the emulated internet's resolver (vpcd): public names only\nnameserver {}\n",
            vpc_config::addressing::DNS_LINK_LOCAL
        );
        if let Err(e) = write_resolv_conf(&namespace, &content) {
            tracing::warn!("write /etc/netns/{namespace}/resolv.conf: {e}");
        }
    }
}

/// Writes `/etc/netns/<namespace>/resolv.conf` (which `ip netns exec` mounts over
/// `/etc/resolv.conf`) for instance namespace `namespace` with `content`; nothing is
/// written when it already holds it.
pub fn write_resolv_conf(namespace: &str, content: &str) -> std::io::Result<()> {
    let dir = format!("/etc/netns/{namespace}");
    let path = format!("{dir}/resolv.conf");
    let content = format!("{RESOLV_MARK}{content}");
    if std::fs::read_to_string(&path).is_ok_and(|c| c == content) {
        return Ok(());
    }
    std::fs::create_dir_all(&dir)?;
    let tmp = format!("{path}.vpcd");
    std::fs::write(&tmp, content)?;
    std::fs::rename(&tmp, &path)
}

/// The first line of every resolv.conf vpcd writes: only such a file is removed.
const RESOLV_MARK: &str = "# written by vpcd for this instance's namespace; removed with it\n";

/// Removes what [`write_resolv_conf`] wrote for `namespace` (a file vpcd did not
/// write is left alone), and the directory if that leaves it empty.
pub fn remove_resolv_conf(namespace: &str) {
    let dir = format!("/etc/netns/{namespace}");
    let path = format!("{dir}/resolv.conf");
    if std::fs::read_to_string(&path).is_ok_and(|c| c.starts_with(RESOLV_MARK)) {
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_dir(&dir);
        // And /etc/netns itself once nothing is left in it.
        let _ = std::fs::remove_dir("/etc/netns");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

    use super::*;

    #[test]
    fn one_client_holds_at_most_its_share_of_connections() {
        let clients = Arc::new(PerClient::default());
        let a: SocketAddr = "100.64.0.3:40000".parse().unwrap();
        let b: SocketAddr = "100.64.0.4:40000".parse().unwrap();
        let held: Vec<Held> = (0..MAX_PER_CLIENT)
            .map(|i| {
                let port = SocketAddr::new(a.ip(), 40000 + i as u16);
                clients.take(port).unwrap()
            })
            .collect();
        assert!(clients.take(a).is_none(), "a 17th from the same address");
        assert!(clients.take(b).is_some(), "another address has its own");
        drop(held);
        assert!(clients.take(a).is_some());
        // Counts go away with their connections.
        assert!(clients.0.lock().unwrap().is_empty());
    }
}

//! The end-to-end harness: runs the real `vpcd` binary as root with a namespace prefix
//! and control socket of the test's own, so tests run in parallel; drives instances with
//! real tools (`ip netns exec ... ping`) and real sockets opened inside their namespaces;
//! asks the daemon through `vpcctl`'s code. Dropping a [`Vpcd`] stops the daemon and
//! removes every namespace with the test's prefix, also when the test failed.

#![allow(dead_code)] // each test binary uses a different part
#![allow(clippy::unwrap_used)] // test support: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use vpc_api::{CountersReport, NatGatewayReport, Response, Routes, Status};

/// Whether the e2e tests can run: they need root. Without root they fail, unless
/// `VPCD_SKIP_E2E=1` asks to skip them.
pub fn root_or_skip() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var_os("VPCD_SKIP_E2E").is_some_and(|v| v == "1") {
        eprintln!("VPCD_SKIP_E2E=1: skipping an end-to-end test (it needs root)");
        return false;
    }
    panic!(
        "the end-to-end tests need root (they create network namespaces and TUN devices): \
         run `sudo scripts/test.sh`, or set VPCD_SKIP_E2E=1 to skip them"
    );
}

/// Daemon start-ups share this lock; a test that needs to be the only one starting
/// daemons (a starting daemon removes every dead daemon's leftovers) takes it exclusively.
static STARTUP: RwLock<()> = RwLock::new(());

/// Keeps other tests from starting daemons while held.
pub fn exclusive_startup() -> RwLockWriteGuard<'static, ()> {
    STARTUP.write().unwrap_or_else(|p| p.into_inner())
}

/// A running daemon.
pub struct Vpcd {
    child: Option<Child>,
    /// Namespace prefix (`e2e-<tag>-`).
    pub prefix: String,
    /// Control socket.
    pub socket: PathBuf,
    /// The test's own flow-log directory (`--flow-log-dir`), removed on drop.
    pub flow_log_dir: PathBuf,
    config: Option<PathBuf>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Vpcd {
    /// Starts `vpcd run` on the embedded demo, or on `config` (TOML text), and waits for
    /// its `ready` line.
    pub fn start(tag: &str, config: Option<&str>) -> Vpcd {
        let _shared = STARTUP.read().unwrap_or_else(|p| p.into_inner());
        Self::start_holding(tag, config)
    }

    /// Like [`Vpcd::start`], with more arguments to `vpcd run`.
    pub fn start_with(tag: &str, config: Option<&str>, args: &[&str]) -> Vpcd {
        let _shared = STARTUP.read().unwrap_or_else(|p| p.into_inner());
        Self::launch(tag, config, args)
    }

    /// Like [`Vpcd::start_with`], with `vpcd` started by `wrapper` (a command that execs
    /// its arguments, e.g. `setpriv --bounding-set -net_raw`; the process is then vpcd).
    pub fn start_wrapped(tag: &str, wrapper: &[&str], args: &[&str]) -> Vpcd {
        let _shared = STARTUP.read().unwrap_or_else(|p| p.into_inner());
        Self::launch_wrapped(tag, None, wrapper, args)
    }

    /// Like [`Vpcd::start`], for a test that holds [`exclusive_startup`].
    pub fn start_holding(tag: &str, config: Option<&str>) -> Vpcd {
        Self::launch(tag, config, &[])
    }

    fn launch(tag: &str, config: Option<&str>, args: &[&str]) -> Vpcd {
        Self::launch_wrapped(tag, config, &[], args)
    }

    fn launch_wrapped(tag: &str, config: Option<&str>, wrapper: &[&str], args: &[&str]) -> Vpcd {
        let prefix = format!("e2e-{tag}-");
        let tmp = std::env::temp_dir();
        let socket = tmp.join(format!("vpcd-e2e-{tag}-{}.sock", std::process::id()));
        let flow_log_dir = tmp.join(format!("vpcd-e2e-{tag}-{}-flowlogs", std::process::id()));
        let _ = std::fs::remove_dir_all(&flow_log_dir);
        let config = config.map(|text| {
            let path = tmp.join(format!("vpcd-e2e-{tag}-{}.toml", std::process::id()));
            std::fs::write(&path, text).expect("write the test config");
            path
        });
        let mut cmd = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(env!("CARGO_BIN_EXE_vpcd"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_vpcd")),
        };
        cmd.args(["run", "--netns-prefix", &prefix, "--control-socket"])
            .arg(&socket)
            .arg("--flow-log-dir")
            .arg(&flow_log_dir);
        if let Some(c) = &config {
            cmd.arg("--config").arg(c);
        }
        cmd.args(args);
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vpcd");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let out = child.stdout.take().expect("piped stdout");
        let sink = stdout.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                {
                    let mut s = sink.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
                // After the line is in `stdout`, so a test that saw ready can read it.
                if line.starts_with("ready") {
                    let _ = ready_tx.send(());
                }
            }
        });
        let err = child.stderr.take().expect("piped stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut vpcd = Vpcd {
            child: Some(child),
            prefix,
            socket,
            flow_log_dir,
            config,
            stdout,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if ready_rx.recv_timeout(Duration::from_millis(100)).is_ok() {
                return vpcd;
            }
            let exited = vpcd
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "vpcd did not become ready ({exited:?})\nstdout:\n{}\nstderr:\n{}",
                    vpcd.stdout(),
                    vpcd.stderr()
                );
            }
        }
    }

    /// Everything the daemon printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Everything the daemon printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// The namespace of `instance`.
    pub fn ns(&self, instance: &str) -> String {
        format!("{}{instance}", self.prefix)
    }

    /// Waits (at most 15 s) until something listens on TCP `port` in `node`'s
    /// namespace; whether it does.
    pub fn wait_listening(&self, node: &str, port: u16) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let out = self.exec(node, &["ss", "-Hltn", &format!("sport = :{port}")]);
            if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Runs a command inside `instance`'s namespace.
    pub fn exec(&self, instance: &str, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns(instance)])
            .args(args)
            .output()
            .expect("run ip netns exec")
    }

    /// Whether `count` pings from `instance` to `dst` all get answers (`extra` are more
    /// ping options).
    pub fn ping(&self, instance: &str, dst: &str, count: u32, extra: &[&str]) -> bool {
        let count = count.to_string();
        let mut args = vec!["ping", "-n", "-q", "-c", &count, "-i", "0.2", "-W", "1"];
        args.extend_from_slice(extra);
        args.push(dst);
        self.exec(instance, &args).status.success()
    }

    /// Runs vpcctl against this daemon; returns what it printed.
    pub fn ctl(&self, args: &[&str]) -> String {
        self.try_ctl(args)
            .unwrap_or_else(|e| panic!("vpcctl {args:?}: {e}"))
    }

    /// The configuration file the daemon was started with (written by the harness).
    pub fn config_path(&self) -> Option<&std::path::Path> {
        self.config.as_deref()
    }

    /// Runs vpcctl against this daemon; returns what it printed, or its error.
    pub fn try_ctl(&self, args: &[&str]) -> Result<String, vpcctl::CtlError> {
        let socket = self.socket.to_string_lossy().into_owned();
        let mut full = vec!["vpcctl", "--socket", &socket];
        full.extend_from_slice(args);
        let mut out = Vec::new();
        vpcctl::run(full, &mut out)?;
        Ok(String::from_utf8(out).expect("utf-8 output"))
    }

    /// `vpcctl routes --json`, decoded.
    pub fn routes(&self) -> Routes {
        match vpc_api::decode_response(self.ctl(&["routes", "--json"]).as_bytes()) {
            Ok(Response::Routes(r)) => r,
            other => panic!("unexpected routes response {other:?}"),
        }
    }

    /// The state of the route to `destination` in route table `table`.
    pub fn route_state(&self, table: &str, destination: &str) -> String {
        let routes = self.routes();
        let t = routes
            .tables
            .iter()
            .find(|t| t.name == table)
            .unwrap_or_else(|| panic!("no route table {table}: {routes:?}"));
        t.routes
            .iter()
            .find(|r| r.destination == destination)
            .map(|r| format!("{} {}", r.target, r.state))
            .unwrap_or_else(|| panic!("no route {destination} in {table}: {routes:?}"))
    }

    /// `vpcctl nat-gateways NAME --mappings --json`, decoded.
    pub fn nat_gateway(&self, name: &str) -> NatGatewayReport {
        let json = self.ctl(&["nat-gateways", name, "--mappings", "--json"]);
        match vpc_api::decode_response(json.as_bytes()) {
            Ok(Response::NatGateways(mut r)) if r.nat_gateways.len() == 1 => {
                r.nat_gateways.remove(0)
            }
            other => panic!("unexpected nat-gateways response {other:?}"),
        }
    }

    /// `vpcctl counters --json`, decoded.
    pub fn counters(&self) -> CountersReport {
        match vpc_api::decode_response(self.ctl(&["counters", "--json"]).as_bytes()) {
            Ok(Response::Counters(c)) => c,
            other => panic!("unexpected counters response {other:?}"),
        }
    }

    /// `vpcctl status --json`, decoded.
    pub fn status(&self) -> Status {
        match vpc_api::decode_response(self.ctl(&["status", "--json"]).as_bytes()) {
            Ok(Response::Status(s)) => s,
            other => panic!("unexpected status response {other:?}"),
        }
    }

    /// The flow-log file `name` (relative to the test's flow-log directory), as text.
    pub fn flow_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.flow_log_dir.join(name)).unwrap_or_default()
    }

    /// A TCP exchange: a listener in `server`'s namespace on `port`, a client in
    /// `client`'s connecting to `addr` and sending `message`; the server answers what it
    /// read, reversed. Returns the reply and the address the server saw.
    pub fn tcp_exchange(
        &self,
        client: &str,
        server: &str,
        addr: &'static str,
        port: u16,
        message: &'static str,
    ) -> String {
        let listener = in_netns(&self.ns(server), move || {
            std::net::TcpListener::bind(("0.0.0.0", port)).expect("bind")
        })
        .join()
        .expect("listener thread");
        let server = std::thread::spawn(move || {
            let (mut conn, peer) = listener.accept().expect("accept");
            let mut got = Vec::new();
            conn.read_to_end(&mut got).expect("read");
            got.reverse();
            conn.write_all(&got).expect("write");
            peer.ip().to_string()
        });
        let reply = in_netns(&self.ns(client), move || {
            let to: std::net::SocketAddr = format!("{addr}:{port}").parse().unwrap();
            let mut s =
                std::net::TcpStream::connect_timeout(&to, Duration::from_secs(5)).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(message.as_bytes()).expect("send");
            s.shutdown(std::net::Shutdown::Write).expect("shutdown");
            let mut reply = String::new();
            s.read_to_string(&mut reply).expect("receive");
            reply
        })
        .join()
        .expect("client thread");
        let peer = server.join().expect("server thread");
        format!("{reply} (server saw {peer})")
    }

    /// Whether a TCP connection from `instance` to `dst:port` is established within
    /// 700 ms: shorter than the kernel's initial SYN retransmission timeout (1 s, RFC
    /// 6298), so a connection that fails sends exactly one SYN.
    pub fn tcp_connects(&self, instance: &str, dst: &'static str, port: u16) -> bool {
        in_netns(&self.ns(instance), move || {
            std::net::TcpStream::connect_timeout(
                &std::net::SocketAddr::from((dst.parse::<std::net::Ipv4Addr>().unwrap(), port)),
                Duration::from_millis(700),
            )
            .is_ok()
        })
        .join()
        .unwrap()
    }

    /// Drops for `reason` over all ENIs.
    pub fn dropped(&self, reason: &str) -> u64 {
        drops(&self.counters(), reason)
    }

    /// Starts an HTTP server in `node`'s namespace on `port` (see [`HttpServer`]).
    pub fn http_server(&self, node: &str, port: u16) -> HttpServer {
        HttpServer::start(&self.ns(node), port)
    }

    /// `GET /` from `node` to `addr:port` (like `curl http://addr:port/`), waiting up to
    /// 5 s: the response body, or why there is none.
    pub fn http_get(&self, node: &str, addr: &str, port: u16) -> Result<String, String> {
        let to = SocketAddr::from((addr.parse::<Ipv4Addr>().unwrap(), port));
        in_netns(&self.ns(node), move || http_get(to))
            .join()
            .unwrap()
    }

    /// A UDP echo server in `server`'s namespace on `port` answers one datagram from a
    /// socket in `client`'s namespace sent to `addr:port`. Returns the reply (the
    /// server answers `you are <source address:port>`), or why there is none.
    pub fn udp_exchange(
        &self,
        client: &str,
        server: &str,
        addr: &str,
        port: u16,
    ) -> Result<String, String> {
        let socket = in_netns(&self.ns(server), move || {
            UdpSocket::bind(("0.0.0.0", port)).expect("bind")
        })
        .join()
        .unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let echo = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            let (_, peer) = socket.recv_from(&mut buf).ok()?;
            socket
                .send_to(format!("you are {peer}").as_bytes(), peer)
                .ok()
        });
        let to = SocketAddr::from((addr.parse::<Ipv4Addr>().unwrap(), port));
        let reply = in_netns(&self.ns(client), move || {
            let s = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.send_to(b"hello", to).map_err(|e| e.to_string())?;
            let mut buf = [0u8; 1500];
            let n = s.recv(&mut buf).map_err(|e| format!("no reply: {e}"))?;
            Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
        })
        .join()
        .unwrap();
        let _ = echo.join();
        reply
    }

    /// Sends one UDP datagram from `node` to `addr:port`.
    pub fn udp_send(&self, node: &str, addr: &str, port: u16) {
        let to = SocketAddr::from((addr.parse::<Ipv4Addr>().unwrap(), port));
        in_netns(&self.ns(node), move || {
            UdpSocket::bind("0.0.0.0:0")
                .unwrap()
                .send_to(b"anyone there?", to)
                .unwrap();
        })
        .join()
        .unwrap();
    }

    /// Sends SIGTERM and waits for the daemon to exit.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        wait_timeout(&mut child, Duration::from_secs(20)).unwrap_or_else(|| {
            let _ = child.kill();
            panic!(
                "vpcd did not stop within 20 s of SIGTERM\nstdout:\n{}",
                self.stdout()
            );
        })
    }

    /// Kills the daemon with SIGKILL (a crash): nothing is cleaned up by it.
    pub fn crash(&mut self) {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Vpcd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
            if wait_timeout(&mut child, Duration::from_secs(10)).is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        remove_namespaces(&self.prefix);
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_dir_all(&self.flow_log_dir);
        if let Some(c) = &self.config {
            let _ = std::fs::remove_file(c);
        }
    }
}

/// A packet capture by tcpdump on `eth0` inside a test's namespace (see
/// [`Vpcd::capture`]). [`Capture::packets`] stops it and returns what it saw; dropping
/// it ends the tcpdump process (by its PID) and removes the capture file.
pub struct Capture {
    child: Option<Child>,
    path: PathBuf,
}

impl Vpcd {
    /// Starts tcpdump on `node`'s `eth0` with capture filter `filter`, and waits until
    /// it is listening.
    pub fn capture(&self, node: &str, filter: &str) -> Capture {
        let path = std::env::temp_dir().join(format!(
            "vpcd-e2e-{}{node}-{}.pcap",
            self.prefix,
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns(node)])
            .args([
                "tcpdump",
                "--immediate-mode",
                "-i",
                "eth0",
                "-n",
                "-U",
                "-w",
            ])
            .arg(&path)
            .arg(filter)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tcpdump (apt-get install tcpdump)");
        let err = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        let mut capture = Capture {
            child: Some(child),
            path,
        };
        if rx.recv_timeout(Duration::from_secs(10)).is_err() {
            capture.end();
            panic!("tcpdump did not start listening in {node}");
        }
        capture
    }
}

impl Capture {
    /// Stops the capture; returns the IPv4 packets it saw, in order.
    pub fn packets(mut self) -> Vec<Vec<u8>> {
        self.end();
        let data = std::fs::read(&self.path).expect("read the capture");
        pcap_packets(&data)
    }

    fn end(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGINT);
            if wait_timeout(&mut child, Duration::from_secs(5)).is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.end();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The packets of a pcap file (little-endian, microseconds) whose link type is raw IP,
/// as tcpdump writes it for a TUN device.
fn pcap_packets(data: &[u8]) -> Vec<Vec<u8>> {
    let u32_at = |at: usize| {
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    assert_eq!(u32_at(0), Some(0xa1b2_c3d4), "a little-endian pcap file");
    let mut packets = Vec::new();
    let mut at = 24;
    while let Some(len) = u32_at(at + 8) {
        let start = at + 16;
        let Some(p) = data.get(start..start + len) else {
            break;
        };
        packets.push(p.to_vec());
        at = start + len;
    }
    packets
}

/// A minimal HTTP/1.0 server on a thread: binds `0.0.0.0:port` inside a namespace,
/// answers every request with `200 OK` and the body `you are <client address:port>`,
/// and logs each client's address. Stops when dropped.
pub struct HttpServer {
    stop: Arc<AtomicBool>,
    clients: Arc<Mutex<Vec<SocketAddr>>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    fn start(ns: &str, port: u16) -> HttpServer {
        let listener = in_netns(ns, move || {
            TcpListener::bind(("0.0.0.0", port)).expect("bind")
        })
        .join()
        .unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let clients = Arc::new(Mutex::new(Vec::new()));
        let (stop2, clients2) = (stop.clone(), clients.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, peer)) => {
                        clients2.lock().unwrap().push(peer);
                        let _ = serve_http(conn, peer);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(_) => return,
                }
            }
        });
        HttpServer {
            stop,
            clients,
            thread: Some(thread),
        }
    }

    /// The addresses of the clients served so far (the access log), in order.
    pub fn clients(&self) -> Vec<String> {
        self.clients
            .lock()
            .unwrap()
            .iter()
            .map(|a| a.ip().to_string())
            .collect()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_http(mut conn: TcpStream, peer: SocketAddr) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let body = format!("you are {peer}\n");
    write!(
        conn,
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// `GET /` to `to`: the body of a `200 OK`, or why not.
fn http_get(to: SocketAddr) -> Result<String, String> {
    let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(5))
        .map_err(|e| format!("connect to {to}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET / HTTP/1.0\r\nHost: {to}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut response = String::new();
    s.read_to_string(&mut response)
        .map_err(|e| format!("read from {to}: {e}"))?;
    match response.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.0 200 ") => Ok(body.to_owned()),
        _ => Err(format!("bad response from {to}: {response:?}")),
    }
}

/// The change of each named drop counter between two reports, e.g. `sg-ingress +1`.
pub fn drop_deltas(before: &CountersReport, after: &CountersReport) -> Vec<String> {
    after
        .drops
        .iter()
        .zip(&before.drops)
        .filter(|(a, b)| a.count != b.count)
        .map(|(a, b)| format!("{} +{}", a.reason, a.count - b.count))
        .collect()
}

/// Drops for `reason` in a counters report.
pub fn drops(c: &CountersReport, reason: &str) -> u64 {
    c.drops
        .iter()
        .find(|d| d.reason == reason)
        .map(|d| d.count)
        .unwrap_or_else(|| panic!("no drop reason {reason}"))
}

/// The namespaces whose names start with `prefix`.
pub fn namespaces(prefix: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// Removes every namespace whose name starts with `prefix` (a test's own).
pub fn remove_namespaces(prefix: &str) {
    for ns in namespaces(prefix) {
        let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    }
}

/// Runs `f` on a thread inside namespace `ns` (sockets it opens belong to `ns`).
pub fn in_netns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `cond` every 100 ms for up to `limit`.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The identity (device and inode) of namespace `ns`'s bind mount: the same while the
/// namespace is the same one.
pub fn namespace_identity(ns: &str) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(format!("/run/netns/{ns}")).ok()?;
    Some((m.dev(), m.ino()))
}

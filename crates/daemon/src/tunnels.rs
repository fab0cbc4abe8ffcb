//! The AWS side of site-to-site VPN at run time (docs/vpn.md): for every VPN
//! connection's two tunnels a strongSwan charon (IKE and ESP in user space,
//! `kernel-libipsec`) in the namespace of the tunnel's outside address, its TUN device
//! moved into the VPN gateway's router namespace as the tunnel's interface; for every
//! VPN gateway with connections one BIRD there (eBGP per tunnel, the connections'
//! static routes, CloudHub). A supervisor thread makes what runs follow the
//! configuration, reads each tunnel's state (charon's VICI and error-notify sockets,
//! BIRD's control socket), takes a tunnel's interface down the moment its IPsec SA goes
//! (so traffic moves to the other tunnel at once, not after BGP's hold time), and hands
//! what it sees to the dataplane as each connection's `VpnLive` (tunnels up, routes
//! learned), from which the route tables' propagated routes come. The processes are
//! this daemon's: started and ended by PID, their files in a directory of their own.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ipnet::Ipv4Net;
use vpc_config::{Topology, VpnConnectionId, VpnGatewayId, VpnLive};
use vpc_ec2::ids::{self, Kind};
use vpc_vpn::{Connection, IkeVersion, Tunnel, bird, enfy, render, vici};

use crate::state::Shared;

/// strongSwan's charon.
pub const CHARON: &str = "/usr/lib/ipsec/charon";
/// AWS's most per tunnel, as `tc` writes it.
const TUNNEL_RATE: &str = "1250mbit";
/// How often the supervisor looks.
const TICK: Duration = Duration::from_millis(250);
/// How long a control socket may take to appear after its daemon starts.
const START_WAIT: Duration = Duration::from_secs(15);

/// The render input for connection `c` of `t`.
pub fn connection(t: &Topology, c: VpnConnectionId) -> Connection {
    let conn = t.vpn_connection(c);
    let cgw = t.customer_gateway(conn.customer_gateway);
    let vgw = t.vpn_gateway(conn.vpn_gateway);
    let tunnel = |k: usize| {
        let x = &conn.tunnels[k];
        Tunnel {
            outside_ip: x.outside_ip_address,
            inside_cidr: x.tunnel_inside_cidr,
            pre_shared_key: x.pre_shared_key.clone(),
            ike_versions: x
                .ike_versions
                .iter()
                .map(|v| {
                    if v == "ikev1" {
                        IkeVersion::V1
                    } else {
                        IkeVersion::V2
                    }
                })
                .collect(),
            dpd_timeout_seconds: x.dpd_timeout_seconds,
            phase1_lifetime_seconds: x.phase1_lifetime_seconds,
            phase2_lifetime_seconds: x.phase2_lifetime_seconds,
        }
    };
    Connection {
        name: conn.name.clone(),
        id: ids::id(Kind::VpnConnection, &conn.name),
        customer_ip: cgw.ip_address,
        customer_asn: cgw.bgp_asn,
        amazon_asn: vgw.amazon_side_asn,
        static_routes_only: conn.static_routes_only,
        static_routes: conn.routes.clone(),
        site_cidrs: cgw.site_cidrs.clone(),
        vpc_cidrs: vgw.vpc.map(|v| t.vpc(v).cidrs.clone()).unwrap_or_default(),
        tunnels: [tunnel(0), tunnel(1)],
    }
}

/// One tunnel as `vpcctl vpn-connections` shows it (AWS's `VgwTelemetry`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TunnelStatus {
    /// `UP` or `DOWN`.
    pub up: bool,
    /// Why it is down, or what it carries (`2 BGP ROUTES`).
    pub message: String,
    /// Routes accepted over its BGP session.
    pub accepted_routes: u32,
    /// When its status last changed (Unix seconds).
    pub last_change: u64,
}

/// What the supervisor shares with the control socket.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Per connection name: its two tunnels.
    pub tunnels: HashMap<String, [TunnelStatus; 2]>,
}

/// A running charon.
struct Charon {
    child: Child,
    dir: PathBuf,
    /// The files it was started with (a change restarts it).
    files: Vec<render::File>,
    /// The router namespace its interface is in, and the interface.
    gw_ns: String,
    interface: String,
    /// Whether its interface is up (the SA is).
    link_up: bool,
    /// The last error-notify reason.
    reason: Arc<Mutex<Option<String>>>,
}

/// A running BIRD.
struct Bird {
    child: Child,
    dir: PathBuf,
    text: String,
}

/// The supervisor's own state.
struct Supervisor {
    shared: Arc<Shared>,
    prefix: String,
    dir: PathBuf,
    charons: BTreeMap<(String, usize), Charon>,
    birds: BTreeMap<String, Bird>,
    observed: Arc<Mutex<Observed>>,
    /// Complaints already logged (each once).
    said: Vec<String>,
}

/// The handle the daemon keeps: the shared observations and the stop switch.
#[derive(Debug, Clone)]
pub struct Tunnels {
    /// What the supervisor sees.
    observed: Arc<Mutex<Observed>>,
    stop: Arc<Mutex<bool>>,
    done: Arc<Mutex<Option<std::sync::mpsc::Receiver<()>>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Tunnels {
    /// Starts the AWS side of every tunnel (before returning, so that a site started
    /// as soon as the daemon is ready finds its peers listening), then the supervisor
    /// thread; their files go under a directory of their own.
    pub fn start(shared: Arc<Shared>, prefix: &str) -> Tunnels {
        let observed = Arc::new(Mutex::new(Observed::default()));
        let stop = Arc::new(Mutex::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let dir = std::env::temp_dir().join(format!("vpcd-{}vpn-{}", prefix, std::process::id()));
        let mut s = Supervisor {
            shared,
            prefix: prefix.to_owned(),
            dir,
            charons: BTreeMap::new(),
            birds: BTreeMap::new(),
            observed: observed.clone(),
            said: Vec::new(),
        };
        s.tick();
        let stopping = stop.clone();
        let spawned = std::thread::Builder::new()
            .name("vpcd-vpn".into())
            .spawn(move || {
                while !*lock(&stopping) {
                    s.tick();
                    std::thread::sleep(TICK);
                }
                s.stop_all();
                let _ = tx.send(());
            });
        if let Err(e) = spawned {
            tracing::warn!("VPN tunnels cannot run: {e}");
        }
        Tunnels {
            observed,
            stop,
            done: Arc::new(Mutex::new(Some(rx))),
        }
    }

    /// What the supervisor sees now.
    pub fn observed(&self) -> Observed {
        lock(&self.observed).clone()
    }

    /// Ends every charon and BIRD and waits (up to 10 s) for it.
    pub fn stop(&self) {
        *lock(&self.stop) = true;
        if let Some(rx) = lock(&self.done).take() {
            let _ = rx.recv_timeout(Duration::from_secs(10));
        }
    }
}

/// Unix seconds now.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs `ip` with `args`; its error output on failure.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Waits for `path` to exist.
fn wait_for(path: &Path) -> bool {
    let start = Instant::now();
    while start.elapsed() < START_WAIT {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Waits for `path` to exist while `child` runs.
fn wait_ready(path: &Path, child: &mut Child) -> bool {
    let start = Instant::now();
    while start.elapsed() < START_WAIT {
        if path.exists() {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Ends `child` (SIGTERM, then SIGKILL after 3 s) and reaps it.
fn end(child: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(0));
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Writes `files` under `dir`.
fn write_files(dir: &Path, files: &[render::File]) -> Result<(), String> {
    for f in files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let mut file =
            std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        file.write_all(f.text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

impl Supervisor {
    fn ns(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Logs `what` once.
    fn say(&mut self, what: String) {
        if !self.said.contains(&what) {
            tracing::warn!("{what}");
            println!("vpn: {what}");
            self.said.push(what);
        }
    }

    fn tick(&mut self) {
        let snapshot = self.shared.snapshot();
        let t = snapshot.topology();
        self.follow(t);
        let live = self.observe(t);
        let changed = t
            .vpn_connections
            .iter()
            .zip(&live)
            .any(|(c, l)| c.live != *l);
        if changed {
            let now = self.shared.now();
            self.shared.engine().edit(now, |t| {
                let mut next = t.clone();
                for (c, l) in next.vpn_connections.iter_mut().zip(&live) {
                    c.live = l.clone();
                }
                (
                    (),
                    (next.vpn_connections != t.vpn_connections).then_some(next),
                )
            });
        }
    }

    /// Starts, restarts and ends charons and BIRDs to match `t`.
    fn follow(&mut self, t: &Topology) {
        let mut wanted: BTreeMap<(String, usize), (VpnConnectionId, Vec<render::File>)> =
            BTreeMap::new();
        for i in 0..t.vpn_connections.len() {
            let id = VpnConnectionId(i as u32);
            let c = connection(t, id);
            for k in 0..2 {
                let dir = self.dir.join(format!("{}-{}", c.name, k + 1));
                wanted.insert((c.name.clone(), k), (id, render::aws_tunnel(&c, k, &dir)));
            }
        }
        let gone: Vec<(String, usize)> = self
            .charons
            .iter()
            .filter(|(key, ch)| wanted.get(*key).is_none_or(|(_, f)| *f != ch.files))
            .map(|(key, _)| key.clone())
            .collect();
        for key in gone {
            if let Some(mut ch) = self.charons.remove(&key) {
                end(&mut ch.child);
                let _ = std::fs::remove_dir_all(&ch.dir);
            }
        }
        // BIRDs first: a tunnel's interface must exist before BIRD reads it, but BIRD
        // follows interfaces as they come.
        let mut birds_wanted = BTreeMap::new();
        for (g, vgw) in t.vpn_gateways.iter().enumerate() {
            let g = VpnGatewayId(g as u32);
            let conns: Vec<(usize, Connection)> = t
                .connections_of_vgw(g)
                .map(|c| (c.index(), connection(t, c)))
                .collect();
            if conns.is_empty() {
                continue;
            }
            let refs: Vec<(usize, &Connection)> = conns.iter().map(|(i, c)| (*i, c)).collect();
            let cidrs = vgw.vpc.map(|v| t.vpc(v).cidrs.clone()).unwrap_or_default();
            let dir = self.dir.join(format!("bird-{}", vgw.name));
            let f = render::aws_bird(&vgw.name, vgw.amazon_side_asn, &cidrs, &refs, &dir);
            birds_wanted.insert(vgw.name.clone(), (dir, f.text));
        }
        let gone: Vec<String> = self
            .birds
            .keys()
            .filter(|k| !birds_wanted.contains_key(*k))
            .cloned()
            .collect();
        for k in gone {
            if let Some(mut b) = self.birds.remove(&k) {
                end(&mut b.child);
                let _ = std::fs::remove_dir_all(&b.dir);
            }
        }
        for (name, (dir, text)) in birds_wanted {
            let gw_ns = self.ns(&vpc_config::vpn_gateway_host_name(&name));
            match self.birds.get_mut(&name) {
                Some(b) if b.text == text => {}
                Some(b) => {
                    let path = dir.join("bird.conf");
                    if let Err(e) = std::fs::write(&path, &text) {
                        tracing::warn!("{}: {e}", path.display());
                    }
                    b.text = text;
                    let ctl = dir.join("bird.ctl");
                    if let Err(e) = bird::Control::connect(&ctl, Duration::from_secs(2))
                        .and_then(|mut c| c.command("configure"))
                    {
                        tracing::warn!("BIRD of vpn gateway {name}: configure: {e}");
                    }
                }
                None => match start_bird(&gw_ns, &dir, &text) {
                    Ok(child) => {
                        self.birds.insert(name, Bird { child, dir, text });
                    }
                    Err(e) => self.say(format!("BIRD of vpn gateway {name}: {e}")),
                },
            }
        }
        for ((name, k), (id, files)) in wanted {
            if self.charons.contains_key(&(name.clone(), k)) {
                continue;
            }
            let conn = t.vpn_connection(id);
            let tunnel_ns = self.ns(&vpc_config::tunnel_host_name(&name, k));
            let gw = t.vpn_gateway(conn.vpn_gateway);
            let gw_ns = self.ns(&vpc_config::vpn_gateway_host_name(&gw.name));
            let interface = render::tunnel_interface(id.index(), k);
            let inside =
                Ipv4Addr::from(u32::from(conn.tunnels[k].tunnel_inside_cidr.network()) + 1);
            let dir = self.dir.join(format!("{name}-{}", k + 1));
            match start_charon(&tunnel_ns, &gw_ns, &dir, &files, &interface, inside) {
                Ok(child) => {
                    let reason = Arc::new(Mutex::new(None));
                    watch_errors(dir.join("run/charon.enfy"), reason.clone());
                    self.charons.insert(
                        (name, k),
                        Charon {
                            child,
                            dir,
                            files,
                            gw_ns,
                            interface,
                            link_up: true,
                            reason,
                        },
                    );
                }
                Err(e) => self.say(format!(
                    "VPN connection {name} tunnel {}: cannot start charon: {e}",
                    k + 1
                )),
            }
        }
    }

    /// Each connection's `VpnLive` now, and the tunnels' statuses for the reports.
    fn observe(&mut self, t: &Topology) -> Vec<VpnLive> {
        let mut lives = Vec::new();
        let now = unix_now();
        let mut observed = std::mem::take(&mut *lock(&self.observed));
        let mut statuses: HashMap<String, [TunnelStatus; 2]> = HashMap::new();
        // BGP sessions per gateway.
        let mut protocols: HashMap<String, Vec<bird::Protocol>> = HashMap::new();
        let mut routes: HashMap<String, Vec<bird::Route>> = HashMap::new();
        for (name, b) in &self.birds {
            if let Ok(mut c) =
                bird::Control::connect(b.dir.join("bird.ctl"), Duration::from_secs(1))
            {
                protocols.insert(name.clone(), c.protocols(None).unwrap_or_default());
                let r = c
                    .command("show route all")
                    .map(|r| bird::routes(&r))
                    .unwrap_or_default();
                routes.insert(name.clone(), r);
            }
        }
        for (i, conn) in t.vpn_connections.iter().enumerate() {
            let vgw = &t.vpn_gateway(conn.vpn_gateway).name;
            let mut live = VpnLive::default();
            let mut st: [TunnelStatus; 2] = Default::default();
            #[allow(clippy::needless_range_loop)] // k is the tunnel, in keys and names too
            for k in 0..2 {
                let key = (conn.name.clone(), k);
                let Some(ch) = self.charons.get_mut(&key) else {
                    st[k].message = "charon is not running (see the daemon's log)".into();
                    continue;
                };
                let sock = ch.dir.join("run/charon.vici");
                let ipsec = vici::Client::connect(&sock, Duration::from_secs(1))
                    .and_then(|mut c| c.list_sas())
                    .map(|sas| {
                        sas.iter().any(|sa| {
                            sa.state == "ESTABLISHED"
                                && sa.children.iter().any(|c| c.state == "INSTALLED")
                        })
                    })
                    .unwrap_or(false);
                if ipsec != ch.link_up {
                    let state = if ipsec { "up" } else { "down" };
                    if let Err(e) = ip(&["-n", &ch.gw_ns, "link", "set", &ch.interface, state]) {
                        tracing::warn!("{e}");
                    }
                    ch.link_up = ipsec;
                    if ipsec {
                        *lock(&ch.reason) = None;
                    }
                }
                let proto = render::bgp_protocol_name(i, k);
                let session = protocols
                    .get(vgw)
                    .and_then(|ps| ps.iter().find(|p| p.name == proto));
                let learned: Vec<Ipv4Net> = routes
                    .get(vgw)
                    .map(|rs| {
                        rs.iter()
                            .filter(|r| r.protocol == proto)
                            .map(|r| r.prefix)
                            .collect()
                    })
                    .unwrap_or_default();
                let up = if conn.static_routes_only {
                    ipsec
                } else {
                    ipsec && session.is_some_and(bird::Protocol::is_established)
                };
                live.up[k] = up;
                for p in &learned {
                    if !live.learned.contains(p) {
                        live.learned.push(*p);
                    }
                }
                st[k].up = up;
                st[k].accepted_routes = learned.len() as u32;
                st[k].message = if up && conn.static_routes_only {
                    String::new()
                } else if up {
                    format!("{} BGP ROUTES", learned.len())
                } else if !ipsec {
                    lock(&ch.reason)
                        .clone()
                        .unwrap_or_else(|| "IPSEC IS DOWN".to_owned())
                } else {
                    session
                        .and_then(|s| s.last_error.clone())
                        .map_or_else(|| "BGP IS DOWN".to_owned(), |e| format!("BGP IS DOWN: {e}"))
                };
            }
            // Last change: kept while the status stays.
            let before = observed.tunnels.remove(&conn.name).unwrap_or_default();
            #[allow(clippy::needless_range_loop)] // k is the tunnel, in messages too
            for k in 0..2 {
                st[k].last_change = if before[k].up == st[k].up && before[k].last_change != 0 {
                    before[k].last_change
                } else {
                    if before[k].last_change != 0 || st[k].up {
                        let word = if st[k].up { "UP" } else { "DOWN" };
                        println!(
                            "vpn: {} tunnel {} ({}) is {word}{}",
                            conn.name,
                            k + 1,
                            conn.tunnels[k].outside_ip_address,
                            if st[k].message.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", st[k].message)
                            }
                        );
                    }
                    now
                };
            }
            statuses.insert(conn.name.clone(), st);
            live.learned.sort();
            lives.push(live);
        }
        observed.tunnels = statuses;
        *lock(&self.observed) = observed;
        lives
    }

    fn stop_all(&mut self) {
        for (_, mut ch) in std::mem::take(&mut self.charons) {
            end(&mut ch.child);
        }
        for (_, mut b) in std::mem::take(&mut self.birds) {
            end(&mut b.child);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `program` is in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// Starts BIRD in `ns` with `text` as its configuration, its files in `dir`.
fn start_bird(ns: &str, dir: &Path, text: &str) -> Result<Child, String> {
    if !on_path("bird") {
        return Err("bird is not installed (Debian: bird2)".into());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let conf = dir.join("bird.conf");
    std::fs::write(&conf, text).map_err(|e| format!("{}: {e}", conf.display()))?;
    let ctl = dir.join("bird.ctl");
    let log = std::fs::File::create(dir.join("bird.stdout")).map_err(|e| e.to_string())?;
    let child = Command::new("ip")
        .args(["netns", "exec", ns, "bird", "-f", "-c"])
        .arg(&conf)
        .arg("-s")
        .arg(&ctl)
        .arg("-P")
        .arg(dir.join("bird.pid"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("start bird: {e} (is BIRD 2 installed?)"))?;
    let mut child = child;
    if !wait_ready(&ctl, &mut child) {
        end(&mut child);
        return Err(format!(
            "bird did not start: see {}",
            dir.join("bird.stdout").display()
        ));
    }
    Ok(child)
}

/// Starts charon for one tunnel in namespace `tunnel_ns` with its own /run, moves its
/// TUN device into `gw_ns` as `interface` with the AWS inside address, leaves a
/// placeholder `ipsec0` behind (libipsec installs its routes on it) and loads the
/// tunnel's configuration.
fn start_charon(
    tunnel_ns: &str,
    gw_ns: &str,
    dir: &Path,
    files: &[render::File],
    interface: &str,
    inside: Ipv4Addr,
) -> Result<Child, String> {
    if !Path::new(CHARON).exists() {
        return Err(format!(
            "{CHARON} is not installed (Debian: strongswan-charon libcharon-extra-plugins)"
        ));
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("run")).map_err(|e| format!("{}: {e}", dir.display()))?;
    write_files(dir, files)?;
    let log = std::fs::File::create(dir.join("charon.stdout")).map_err(|e| e.to_string())?;
    let mut child = Command::new("ip")
        .args(["netns", "exec", tunnel_ns, "sh", "-c"])
        .arg(format!(
            "mount --bind '{d}/run' /run && STRONGSWAN_CONF='{d}/strongswan.conf' exec {CHARON}",
            d = dir.display()
        ))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("start charon: {e}"))?;
    let vici_path = dir.join("run/charon.vici");
    if !wait_ready(&vici_path, &mut child) {
        end(&mut child);
        return Err(format!(
            "no VICI socket: see {}",
            dir.join("charon.stdout").display()
        ));
    }
    let setup = || -> Result<(), String> {
        // The TUN device libipsec made: renamed here, then moved (two would collide).
        let start = Instant::now();
        while ip(&["-n", tunnel_ns, "link", "show", "ipsec0"]).is_err() {
            if start.elapsed() > START_WAIT {
                return Err("charon made no ipsec0 device".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        ip(&["-n", tunnel_ns, "link", "set", "ipsec0", "name", interface])?;
        ip(&["-n", tunnel_ns, "link", "set", interface, "netns", gw_ns])?;
        let addr = format!("{inside}/30");
        ip(&["-n", gw_ns, "addr", "add", &addr, "dev", interface])?;
        ip(&["-n", gw_ns, "link", "set", interface, "mtu", "1400", "up"])?;
        // AWS's 1.25 Gbit/s per tunnel, towards the site (the kernel here has no
        // policing action for the other way, which userspace ESP keeps far below it).
        let shaped = Command::new("ip")
            .args([
                "netns", "exec", gw_ns, "tc", "qdisc", "replace", "dev", interface,
            ])
            .args([
                "root",
                "tbf",
                "rate",
                TUNNEL_RATE,
                "burst",
                "1mb",
                "latency",
                "50ms",
            ])
            .output();
        if !shaped.is_ok_and(|o| o.status.success()) {
            tracing::warn!("{interface}: could not cap its rate at {TUNNEL_RATE} (tc tbf)");
        }
        ip(&[
            "-n", tunnel_ns, "tuntap", "add", "dev", "ipsec0", "mode", "tun",
        ])?;
        ip(&["-n", tunnel_ns, "link", "set", "ipsec0", "up"])?;
        load(&vici_path, files)
    };
    match setup() {
        Ok(()) => Ok(child),
        Err(e) => {
            end(&mut child);
            Err(e)
        }
    }
}

/// Loads the tunnel's `swanctl.conf` with swanctl.
fn load(vici_path: &Path, files: &[render::File]) -> Result<(), String> {
    let Some(conf) = files.iter().find(|f| f.path.ends_with("swanctl.conf")) else {
        return Err("no swanctl.conf rendered".into());
    };
    let dir = vici_path
        .parent()
        .and_then(Path::parent)
        .ok_or("no directory")?;
    let out = Command::new("swanctl")
        .args(["--load-all", "--noprompt", "--file"])
        .arg(dir.join(&conf.path))
        .arg("--uri")
        .arg(format!("unix://{}", vici_path.display()))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("swanctl: {e} (Debian: strongswan-swanctl)"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "swanctl --load-all: {}",
            String::from_utf8_lossy(&out.stdout).trim()
        ))
    }
}

/// Reads charon's error-notify socket in a thread of its own, keeping the last reason
/// a tunnel cannot come up for (and logging each).
fn watch_errors(path: PathBuf, reason: Arc<Mutex<Option<String>>>) {
    let _ = std::thread::Builder::new()
        .name("vpcd-vpn-enfy".into())
        .spawn(move || {
            if !wait_for(&path) {
                return;
            }
            let Ok(mut listener) = enfy::Listener::connect(&path) else {
                return;
            };
            while let Ok(r) = listener.next() {
                let Some(why) = r.kind.down_reason() else {
                    continue;
                };
                let text = format!("{why} ({})", r.message);
                tracing::warn!("vpn {}: {text}", r.name);
                println!("vpn: tunnel {} ({}): {text}", r.name, r.ip);
                *lock(&reason) = Some(text);
            }
        });
}

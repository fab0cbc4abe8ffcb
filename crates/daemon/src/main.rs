//! `vpcd`: runs VPCs of network namespaces. For every instance of the topology it makes a
//! network namespace named like the instance and, per ENI, a TUN device inside it (or,
//! with `--io xdp`, a veth whose other end it reads through AF_XDP), and for every host
//! of the emulated internet a namespace with one such device; it forwards
//! every packet those devices send through the sans-IO dataplane (`vpc-dataplane`), and
//! answers `vpcctl` on a control socket. On SIGINT or SIGTERM it removes everything it
//! made; at start it removes what a crashed vpcd left behind.

mod control;
mod dns_report;
mod ec2;
mod endpoints;
mod error;
mod flowlog;
mod forward;
mod housekeeping;
mod instance;
mod live;
mod netns;
mod owner;
mod report;
mod services;
mod state;
mod statefile;
mod sys;
mod tunnels;
mod vnet;
mod vpn;
mod xdp;

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use tokio::runtime::Handle;
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;
use tun_rs::SyncDevice;
use vpc_config::{HostId, HostRole, InstanceId, Topology};
use vpc_dataplane::Port;

use crate::flowlog::{FlowLogWriter, WallClock};
use crate::housekeeping::FlowLogOutput;
use crate::instance::{Built, Plan};
use crate::owner::Ownership;
use crate::state::{IoOptions, Shared, Watched};
use crate::statefile::StateFile;

/// Where flow logs with a relative `log_destination` go unless told otherwise.
const DEFAULT_FLOW_LOG_DIR: &str = "/var/log/vpcd";

#[derive(Debug, Parser)]
#[command(
    name = "vpcd",
    version,
    about = "A userspace VPC router: AWS VPC semantics for Linux network namespaces"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How the daemon reads and writes its ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Io {
    /// TUN devices (layer 3), io_uring.
    Tun,
    /// Veth pairs (Ethernet), AF_XDP.
    Xdp,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bring up the topology and forward its packets until SIGINT or SIGTERM (as root).
    Run {
        /// Topology file; without it, the embedded demo (config/demo.toml) runs.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Prefix for namespace names (the instance `web` lives in `<prefix>web`).
        #[arg(long, value_name = "PREFIX", default_value = "")]
        netns_prefix: String,
        /// Where the control socket for vpcctl is created.
        #[arg(long, value_name = "PATH", default_value = vpc_api::DEFAULT_SOCKET)]
        control_socket: PathBuf,
        /// Directory for flow-log files whose `log_destination` is a relative path.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_FLOW_LOG_DIR)]
        flow_log_dir: PathBuf,
        /// Open the TUN devices without virtio-net headers: no checksum offload and no
        /// superpackets, one packet of at most the MTU per read and write (slower; for
        /// comparison, see docs/offloads.md).
        #[arg(long)]
        no_offload: bool,
        /// Forwarding threads (default 1). Each reads and writes its own queue of every
        /// TUN device through its own io_uring; both directions of a conversation are
        /// read by one thread.
        #[arg(long, value_name = "N", default_value_t = 1)]
        threads: usize,
        /// The port type: `tun` (a TUN device per ENI, read and written through
        /// io_uring) or `xdp` (a veth per ENI whose other end the daemon reads and
        /// writes through AF_XDP; falls back to TUN where AF_XDP is unavailable). See
        /// docs/architecture.md and docs/benchmarks.md.
        #[arg(long, value_enum, default_value_t = Io::Tun)]
        io: Io,
        /// State file: the running configuration is written there after every change
        /// made at run time (vpcctl, vpcctl apply, SIGHUP), in the format of --config;
        /// if it exists at start, it is what runs (instead of --config).
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        /// Serve the EC2 Query API (and STS GetCallerIdentity) on ADDR, e.g.
        /// 127.0.0.1:4566: the AWS CLI, SDKs and Terraform then build VPCs here. Requests
        /// must be signed (SigV4) with a key of --api-credentials. See docs/api.md.
        #[arg(long, value_name = "ADDR")]
        api: Option<std::net::SocketAddr>,
        /// Allow --api on an address that is not loopback (anyone who can reach it and
        /// has a key can create namespaces as root).
        #[arg(long)]
        api_remote: bool,
        /// The API's access keys, in the AWS CLI's shared-credentials format (root only,
        /// mode 0600); created with a fresh key for each account on first start.
        #[arg(long, value_name = "FILE", default_value = DEFAULT_API_CREDENTIALS)]
        api_credentials: PathBuf,
    },
    /// Validate a topology file: print its errors (exit 1) or a summary.
    Check {
        /// The file to check.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    match main_result() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vpcd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn main_result() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { file } => Ok(check(&file)),
        Command::Run {
            config,
            netns_prefix,
            control_socket,
            flow_log_dir,
            no_offload,
            threads,
            io,
            state,
            api,
            api_remote,
            api_credentials,
        } => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_env("VPCD_LOG")
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .with_writer(std::io::stderr)
                .init();
            // The control plane's tasks (vpcctl, housekeeping, the watchdog); packets
            // have their own threads.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .thread_name("vpcd")
                .build()
                .context("start the async runtime")?;
            let paths = Options {
                socket: control_socket,
                flow_log_dir,
                offload: !no_offload,
                threads: threads.clamp(1, MAX_THREADS),
                io,
                state,
                api: api.map(|addr| ApiOptions {
                    addr,
                    remote: api_remote,
                    credentials: api_credentials,
                }),
            };
            runtime.block_on(run(config.as_deref(), &netns_prefix, &paths))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(file: &Path) -> ExitCode {
    match vpc_config::load(file) {
        Ok(t) => {
            println!("{}: ok: {}", file.display(), summary(&t));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// `1 instance`, `3 instances`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// What a topology has, in words: every kind of a single VPC's resources, and the
/// kinds that join VPCs where there are any.
fn summary(t: &Topology) -> String {
    let fabric = [
        (t.vpc_peering_connections.len(), "VPC peering connection"),
        (t.transit_gateways.len(), "transit gateway"),
        (t.tgw_attachments.len(), "transit gateway attachment"),
        (t.tgw_route_tables.len(), "transit gateway route table"),
        (t.multicast_domains.len(), "multicast domain"),
        (t.resource_shares.len(), "resource share"),
        (t.aws_services.len(), "AWS service"),
        (t.vpc_endpoints.len(), "VPC endpoint"),
        (t.vpn_gateways.len(), "VPN gateway"),
        (t.customer_gateways.len(), "customer gateway"),
    ];
    let fabric = fabric
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| count(n, what));
    [
        count(t.vpcs.len(), "vpc"),
        count(t.subnets.len(), "subnet"),
        count(t.route_tables.len(), "route table"),
        count(t.instances.len(), "instance"),
        count(t.enis.len(), "network interface"),
        count(t.security_groups.len(), "security group"),
        count(t.network_acls.len(), "network ACL"),
        count(t.flow_logs.len(), "flow log"),
        count(t.internet_gateways.len(), "internet gateway"),
        count(t.nat_gateways.len(), "NAT gateway"),
        count(t.elastic_ips.len(), "Elastic IP"),
        count(t.internet_hosts.len(), "internet host"),
    ]
    .into_iter()
    .chain(fabric)
    .collect::<Vec<_>>()
    .join(", ")
}

/// Where the daemon puts files, and how it opens devices.
#[derive(Debug)]
struct Options {
    /// The control socket.
    socket: PathBuf,
    /// The base of relative flow-log destinations.
    flow_log_dir: PathBuf,
    /// Open TUN devices with virtio-net headers and offloads.
    offload: bool,
    /// Forwarding threads (and queues per device).
    threads: usize,
    /// The port type asked for.
    io: Io,
    /// The state file, if any.
    state: Option<PathBuf>,
    /// The EC2 API, if served.
    api: Option<ApiOptions>,
}

/// Where and how the EC2 API is served.
#[derive(Debug)]
struct ApiOptions {
    addr: std::net::SocketAddr,
    remote: bool,
    credentials: PathBuf,
}

/// Where the API's credentials file is kept unless `--api-credentials` says.
const DEFAULT_API_CREDENTIALS: &str = "/var/lib/vpcd/api-credentials";

/// The API's keys (made on first start) and its bound listener: before anything is
/// made, so a bad address or file stops the start.
async fn open_api(
    options: &ApiOptions,
    topology: &Topology,
) -> anyhow::Result<(tokio::net::TcpListener, Arc<vpc_ec2::Api>)> {
    let mut accounts: Vec<&str> = vec![vpc_config::DEFAULT_ACCOUNT];
    for owner in topology.vpcs.iter().map(|v| v.owner_id.as_str()).chain(
        topology
            .transit_gateways
            .iter()
            .map(|g| g.owner_id.as_str()),
    ) {
        if !accounts.contains(&owner) {
            accounts.push(owner);
        }
    }
    let listener = ec2::bind(options.addr, options.remote).await?;
    if let Some(dir) = options.credentials.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let credentials = vpc_ec2::Credentials::load_or_create(&options.credentials, &accounts)
        .with_context(|| format!("the API credentials {}", options.credentials.display()))?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()) << 32;
    Ok((listener, Arc::new(vpc_ec2::Api::new(credentials, seed))))
}

/// The most forwarding threads (a TUN device has at most 256 queues).
const MAX_THREADS: usize = 64;

async fn run(config: Option<&Path>, prefix: &str, paths: &Options) -> anyhow::Result<()> {
    let socket = paths.socket.as_path();
    if !nix::unistd::geteuid().is_root() {
        bail!("vpcd run must run as root: it creates network namespaces and TUN devices");
    }
    if !prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || prefix.len() > 16
    {
        bail!("--netns-prefix {prefix:?}: use at most 16 letters, digits, '-', '_' or '.'");
    }
    let state = paths.state.as_deref().map(StateFile::new);
    let restored = match &state {
        Some(s) => s.load().with_context(|| {
            format!(
                "the state file {} (fix it, or remove it to start from --config)",
                s.path().display()
            )
        })?,
        None => None,
    };
    let (topology, config_name) = match (restored, config) {
        (Some(t), _) => {
            let name = paths
                .state
                .as_deref()
                .unwrap_or(Path::new(""))
                .display()
                .to_string();
            println!("state: restored from {name}");
            (t, format!("state file {name}"))
        }
        (None, Some(path)) => (vpc_config::load(path)?, path.display().to_string()),
        (None, None) => (
            Topology::demo(),
            "embedded demo (config/demo.toml)".to_owned(),
        ),
    };
    // Signals that arrive during start-up wait until it is over, then stop the daemon.
    let mut sigterm = signal(SignalKind::terminate()).context("install the SIGTERM handler")?;
    let mut sigint = signal(SignalKind::interrupt()).context("install the SIGINT handler")?;
    let mut sighup = signal(SignalKind::hangup()).context("install the SIGHUP handler")?;

    netns::ensure_run_dir()?;
    let reaped = tokio::task::block_in_place(|| owner::reap_leftovers(&Handle::current()));
    if !reaped.is_empty() {
        println!(
            "removed namespaces left by an earlier vpcd: {}",
            reaped.join(", ")
        );
    }
    if let Some(state) = &state {
        // Written before anything is made, so a path that cannot be written stops the
        // start, not a later change.
        state
            .save(&topology)
            .with_context(|| format!("write the state file {}", state.path().display()))?;
    }
    let api = match &paths.api {
        Some(options) => Some(open_api(options, &topology).await?),
        None => None,
    };
    let mut owner = Ownership::claim()?;
    println!("topology {config_name}: {}", summary(&topology));
    let (shared, logs, mut tasks) =
        match start(&mut owner, topology, config_name, prefix, paths).await {
            Ok(running) => running,
            Err(e) => {
                owner.remove_all();
                return Err(e);
            }
        };
    // From now on namespaces come and go with the configuration (`live`).
    shared.keep_owner(owner);
    services::sync_resolv_conf(&shared);
    let tunnels = tokio::task::block_in_place(|| tunnels::Tunnels::start(shared.clone(), prefix));
    shared.keep_tunnels(tunnels);
    if let (Some((listener, api)), Some(options)) = (api, &paths.api) {
        println!(
            "api: EC2 Query API on http://{} (SigV4; docs/api.md)",
            options.addr
        );
        println!("api credentials: {}", options.credentials.display());
        tasks.push(tokio::spawn(ec2::serve(listener, shared.clone(), api)));
    }
    if let Some(state) = state {
        println!(
            "state: changes made at run time are written to {}",
            state.path().display()
        );
        shared.keep_state(state);
    }
    let snapshot = shared.snapshot();
    let t = snapshot.topology();
    println!(
        "ready: {}, {}, {}; control socket {}; stop with Ctrl-C or SIGTERM",
        count(t.instances.len(), "instance"),
        count(t.enis.len(), "ENI"),
        count(t.internet_hosts.len(), "internet host"),
        socket.display()
    );
    drop(snapshot);

    let which = loop {
        tokio::select! {
            _ = sigterm.recv() => break "SIGTERM",
            _ = sigint.recv() => break "SIGINT",
            _ = sighup.recv() => reload(config, &shared),
        }
    };
    println!("{which}: removing namespaces and devices");
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        let _ = task.await;
    }
    housekeeping::flush(&shared, &logs);
    if let Some(t) = shared.tunnels() {
        t.stop();
    }
    shared.stop();
    if let Some(owner) = shared.take_owner() {
        owner.remove_all();
    }
    drop(shared);
    let _ = std::fs::remove_file(socket);
    println!("stopped");
    Ok(())
}

/// SIGHUP: applies the `--config` file again, as `vpcctl apply` does, and says what
/// came of it.
fn reload(config: Option<&Path>, shared: &Shared) {
    let Some(path) = config else {
        println!("SIGHUP: running the embedded demo, no --config file to read again");
        return;
    };
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    match control::apply_file(&path, false, shared) {
        vpc_api::Response::Applied(a) if a.changes.is_empty() => {
            println!("SIGHUP: {}: no changes", a.path);
        }
        vpc_api::Response::Applied(a) => {
            println!("SIGHUP: applied {}: {}", a.path, a.changes.join(", "));
            for note in a.notes {
                println!("SIGHUP: note: {note}");
            }
        }
        vpc_api::Response::Error { message } => {
            println!("SIGHUP: {}: not applied: {message}", path.display());
        }
        _ => {}
    }
}

/// Everything that can fail in start-up, in order: namespaces and devices (recorded in
/// `owner`, which the caller removes on failure), the dataplane, the flow-log files, and
/// last the control socket, so that a failure never leaves a socket behind. Returns the
/// shared state, the flow-log output and the running tasks.
async fn start(
    owner: &mut Ownership,
    topology: Topology,
    config_name: String,
    prefix: &str,
    paths: &Options,
) -> anyhow::Result<(Arc<Shared>, Arc<FlowLogOutput>, Vec<JoinHandle<()>>)> {
    let names: Vec<String> = topology
        .instances
        .iter()
        .map(|i| format!("{prefix}{}", i.name))
        .collect();
    let mut host_names: Vec<String> = topology
        .internet_hosts
        .iter()
        .map(|h| format!("{prefix}{}", h.name))
        .collect();
    let services_ns = format!("{prefix}{}", services::NAMESPACE);
    let io = match paths.io {
        Io::Xdp => match xdp::available() {
            Ok(()) => Io::Xdp,
            Err(e) => {
                println!("AF_XDP is unavailable ({e:#}): using TUN devices");
                Io::Tun
            }
        },
        Io::Tun => Io::Tun,
    };
    // With AF_XDP ports, the daemon's ends of the veths live in a namespace of its own
    // ('+' is in no instance's or host's name).
    let port_ns = (io == Io::Xdp).then(|| format!("{prefix}vpcd+ports"));
    let offload = paths.offload && io == Io::Tun;
    let ports = vpc_dataplane::Ports::new(&topology);
    let built = tokio::task::block_in_place(|| {
        build_all(
            &topology,
            &ports,
            (&names, &host_names, &services_ns),
            (offload, paths.threads),
            port_ns.as_deref(),
            owner,
            &Handle::current(),
        )
    })?;
    let xdp_ports = match &port_ns {
        Some(ns) => {
            let n = ports.slots();
            let ports = tokio::task::block_in_place(|| xdp::attach(ns, n, paths.threads))?;
            println!(
                "AF_XDP ports: {n} veth pairs, their daemon ends in namespace {ns}, {} each",
                count(paths.threads, "queue")
            );
            Some(ports)
        }
        None => None,
    };
    let listeners = tokio::task::block_in_place(|| services::listen(&services_ns))
        .context("the DNS resolver's and metadata service's sockets")?;
    // The services namespace's node comes last, after the hosts'.
    host_names.push(services_ns);
    let (shared, devices, watched) = start_dataplane(
        &topology,
        (config_name, prefix.to_owned()),
        (&names, &host_names),
        built,
        (offload, paths.threads, io == Io::Tun),
    )?;
    shared.watch(watched);
    let writer = FlowLogWriter::open(shared.snapshot().topology(), &paths.flow_log_dir)?;
    for (_, path) in writer.paths() {
        println!("flow log: {}", path.display());
    }
    let (epoch, epoch_unix) = shared.epoch();
    let logs = Arc::new(FlowLogOutput::new(
        writer,
        WallClock::new(epoch, epoch_unix),
    ));
    // A topology without ports (an empty file, to be filled at run time) needs no
    // forwarding thread (and io_uring refuses a ring over no descriptors).
    let any_port = !shared.ports().is_empty();
    if let Some(ports) = xdp_ports.filter(|_| any_port) {
        for i in 0..paths.threads {
            let (shared, ports) = (shared.clone(), ports.clone());
            let (started, result) = std::sync::mpsc::sync_channel(1);
            let queue = u32::try_from(i).unwrap_or(0);
            std::thread::Builder::new()
                .name(format!("vpcd-xdp-{i}"))
                .spawn(move || xdp::run_thread(shared, ports, queue, started))
                .context("start a forwarding thread")?;
            result
                .recv()
                .context("a forwarding thread ended at once")?
                .context("open the AF_XDP sockets of a forwarding thread")?;
        }
    }
    // TUN threads start even without ports: ports may be added at run time.
    for (i, queues) in devices.into_iter().enumerate() {
        let shared = shared.clone();
        let (started, result) = std::sync::mpsc::sync_channel(1);
        let (mailbox, inbox) = std::sync::mpsc::channel();
        shared.add_thread(mailbox);
        std::thread::Builder::new()
            .name(format!("vpcd-fwd-{i}"))
            .spawn(move || forward::run_thread(shared, queues, inbox, started))
            .context("start a forwarding thread")?;
        result
            .recv()
            .context("a forwarding thread ended at once")?
            .context(
                "set up io_uring for a forwarding thread (vpcd needs io_uring: Linux 6.0 or \
                 later, not disabled by sysctl kernel.io_uring_disabled or a seccomp filter)",
            )?;
    }
    let listener = control::bind(&paths.socket).await?;
    let mut tasks = vec![
        tokio::spawn(forward::watch_namespaces(shared.clone())),
        tokio::spawn(control::serve(listener, shared.clone())),
        tokio::spawn(housekeeping::run(shared.clone(), logs.clone())),
    ];
    tasks.extend(services::spawn(listeners, shared.clone())?);
    Ok((shared, logs, tasks))
}

/// A namespace the daemon made, and its ports in the order of its devices.
#[derive(Debug)]
struct BuiltNode {
    built: Built,
    ports: Vec<Port>,
}

/// Creates every instance's and every internet host's namespace and devices, recording
/// each namespace in `owner`.
fn build_all(
    topology: &Topology,
    ports: &vpc_dataplane::Ports,
    (names, host_names, services_ns): (&[String], &[String], &str),
    (offload, queues): (bool, usize),
    port_ns: Option<&str>,
    owner: &mut Ownership,
    rt: &Handle,
) -> anyhow::Result<Vec<BuiltNode>> {
    let mut nodes = Vec::new();
    if let Some(ns) = port_ns {
        instance::build(Plan::empty(), ns, owner, rt)
            .with_context(|| format!("the port namespace {ns}"))?;
    }
    let veth = |plan: Plan| match port_ns {
        Some(ns) => plan.with_veth(ns),
        None => plan,
    };
    for (i, name) in names.iter().enumerate() {
        let id = InstanceId(i as u32);
        let inst = topology.instance(id);
        let plan = veth(Plan::instance(topology, ports, id, offload).with_queues(queues));
        let built = instance::build(plan, name, owner, rt)
            .with_context(|| format!("instance {} (namespace {name})", inst.name))?;
        let enis: Vec<String> = inst
            .enis
            .iter()
            .map(|&e| {
                let eni = topology.eni(e);
                let subnet = topology.subnet(eni.subnet);
                let prefix_len = subnet.cidr.prefix_len();
                format!(
                    "{} {}/{prefix_len} ({}, az {})",
                    eni.device(),
                    eni.private_ip,
                    subnet.name,
                    subnet.az
                )
            })
            .collect();
        println!(
            "instance {}: namespace {name}, {}",
            inst.name,
            enis.join(", ")
        );
        let ports = inst.enis.iter().map(|&e| Port::Eni(e)).collect();
        nodes.push(BuiltNode { built, ports });
    }
    for (i, name) in host_names.iter().enumerate() {
        let id = HostId(i as u32);
        let host = topology.internet_host(id);
        let plan = veth(Plan::host(topology, ports, id, offload).with_queues(queues));
        let built = instance::build(plan, name, owner, rt)
            .with_context(|| format!("internet host {} (namespace {name})", host.name))?;
        match host.role {
            HostRole::VpnGateway(g) => println!(
                "vpn gateway {}: router namespace {name} (its tunnels' interfaces, BGP)",
                topology.vpn_gateway(g).name
            ),
            HostRole::Site(g) => println!(
                "customer gateway {}: site namespace {name}, eth0 {}",
                topology.customer_gateway(g).name,
                host.address
            ),
            HostRole::Tunnel(c, k) => println!(
                "vpn connection {} tunnel {}: namespace {name}, eth0 {}",
                topology.vpn_connection(c).name,
                k + 1,
                host.address
            ),
            HostRole::Declared => println!(
                "internet host {}: namespace {name}, eth0 {}",
                host.name, host.address
            ),
        }
        nodes.push(BuiltNode {
            built,
            ports: vec![Port::Host(id)],
        });
    }
    let plan = veth(Plan::services(ports, offload).with_queues(queues));
    let built = instance::build(plan, services_ns, owner, rt)
        .with_context(|| format!("the services namespace {services_ns}"))?;
    println!(
        "services: namespace {services_ns}, DNS at each VPC's base+2 and {}, metadata at {}",
        vpc_config::addressing::DNS_LINK_LOCAL,
        vpc_config::addressing::METADATA
    );
    nodes.push(BuiltNode {
        built,
        ports: vec![Port::Services],
    });
    Ok(nodes)
}

/// The shared state, each TUN forwarding thread's queues (with their slots), and what
/// the watchdog checks.
type Started = (Arc<Shared>, Vec<Vec<(usize, SyncDevice)>>, Vec<Watched>);

/// Turns the built devices into the threads' queues and write descriptors (TUN ports:
/// `tun`), and the shared state.
fn start_dataplane(
    topology: &Topology,
    names: (String, String),
    (instances, hosts): (&[String], &[String]),
    built: Vec<BuiltNode>,
    (offload, threads, tun): (bool, usize, bool),
) -> anyhow::Result<Started> {
    let ports = vpc_dataplane::Ports::new(topology);
    let n = if tun { ports.slots() } else { 0 };
    let mut writers: Vec<Option<OwnedFd>> = (0..n).map(|_| None).collect();
    let mut queues: Vec<Vec<(usize, SyncDevice)>> =
        (0..threads).filter(|_| tun).map(|_| Vec::new()).collect();
    let mut watched = Vec::new();
    // UDP superpackets may be written only if every device takes them (USO, 6.2+).
    let mut uso = offload;
    for (node, namespace) in built.into_iter().zip(instances.iter().chain(hosts)) {
        let mut slots = Vec::new();
        for (&port, devs) in node.ports.iter().zip(node.built.devices) {
            let slot = ports.slot(port);
            for (q, dev) in devs.into_iter().enumerate() {
                uso &= dev.udp_gso();
                if q == 0 {
                    writers[slot] = Some(
                        dev.as_fd()
                            .try_clone_to_owned()
                            .context("duplicate a TUN descriptor")?,
                    );
                }
                if let Some(thread) = queues.get_mut(q) {
                    // Reads that find the queue empty must not wait (see `uring`).
                    dev.set_nonblocking(true)
                        .context("make a TUN queue non-blocking")?;
                    thread.push((slot, dev));
                }
            }
        }
        for &port in &node.ports {
            slots.push(ports.slot(port));
        }
        watched.push(Watched {
            namespace: namespace.clone(),
            identity: node.built.identity,
            slots,
        });
    }
    let writers = writers
        .into_iter()
        .collect::<Option<Vec<OwnedFd>>>()
        .context("a port has no TUN device")?;
    let shared = Arc::new(Shared::new(
        topology,
        names,
        writers,
        (offload, uso),
        IoOptions {
            threads,
            xdp: !tun,
            runtime: Some(Handle::current()),
        },
    ));
    Ok((shared, queues, watched))
}

//! `vpcctl`: asks a running `vpcd` for its status, route tables, counters and tracked
//! connections over the daemon's control socket, and traces why a probe would or would
//! not get through; prints tables (or the JSON response with `--json`).
//!
//! The command logic lives in this library ([`run`]) so that the end-to-end tests drive
//! exactly what the binary runs; `main.rs` only maps errors to an exit status.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use vpc_api::{
    ApiError, CountersReport, FlowsReport, Request, Response, Routes, Status, TraceReport,
};

/// Why a vpcctl command failed.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// The command line is invalid (or asked for help or the version).
    #[error(transparent)]
    Usage(#[from] clap::Error),
    /// The control socket could not be reached.
    #[error("cannot reach vpcd at {path} (is `vpcd run` running? are you root?): {source}")]
    Connect {
        /// The socket path.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// Talking to the daemon failed.
    #[error("talking to vpcd: {0}")]
    Socket(io::Error),
    /// Writing the output failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The daemon's answer is not a response of this protocol.
    #[error("cannot decode vpcd's response: {0}")]
    Decode(#[from] ApiError),
    /// The daemon answered with an error.
    #[error("vpcd: {0}")]
    Daemon(String),
    /// The daemon answered a different question.
    #[error("unexpected response from vpcd")]
    Unexpected,
}

#[derive(Debug, Parser)]
#[command(name = "vpcctl", version, about = "Inspect a running vpcd")]
struct Cli {
    /// The daemon's control socket.
    #[arg(long, global = true, env = "VPCD_SOCKET", default_value = vpc_api::DEFAULT_SOCKET)]
    socket: PathBuf,
    /// Print the daemon's JSON response instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Instances, their namespaces and ENIs, and link states.
    Status,
    /// Route tables, their subnets, and every route with its state.
    Routes,
    /// Packets and bytes per ENI, and drops by reason.
    Counters {
        /// Also list drop reasons that have not occurred.
        #[arg(long)]
        all: bool,
    },
    /// The connections each ENI tracks (security-group connection tracking).
    Flows {
        /// Only this instance's ENIs (e.g. `web`), or one ENI (`fw/eth1`).
        instance: Option<String>,
    },
    /// Why can X reach Y (or not): walk a probe through the live configuration and
    /// print each stage's decision: route, security groups, network ACLs, verdict.
    Trace {
        /// The sending instance (its eth0) or ENI (`instance/ethN`).
        #[arg(long, value_name = "INSTANCE")]
        from: String,
        /// The destination IPv4 address.
        #[arg(long, value_name = "IP")]
        to: String,
        /// The protocol of the probe.
        #[arg(long, value_parser = ["tcp", "udp", "icmp"])]
        proto: String,
        /// Destination port (tcp and udp).
        #[arg(long, value_name = "N")]
        port: Option<u16>,
    },
}

/// Runs vpcctl with command line `args` (program name first), writing to `out`.
pub fn run<I, T>(args: I, out: &mut impl Write) -> Result<(), CtlError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    let request = match cli.command {
        Command::Status => Request::Status {},
        Command::Routes => Request::Routes {},
        Command::Counters { .. } => Request::Counters {},
        Command::Flows { ref instance } => Request::Flows {
            instance: instance.clone(),
        },
        Command::Trace {
            ref from,
            ref to,
            ref proto,
            port,
        } => Request::Trace {
            from: from.clone(),
            to: to.clone(),
            proto: proto.clone(),
            port,
        },
    };
    let (raw, response) = ask(&cli, &request)?;
    if cli.json {
        out.write_all(raw.as_bytes())?;
        return Ok(());
    }
    match (response, cli.command) {
        (Response::Status(s), Command::Status) => print_status(out, &s)?,
        (Response::Routes(r), Command::Routes) => print_routes(out, &r)?,
        (Response::Counters(c), Command::Counters { all }) => print_counters(out, &c, all)?,
        (Response::Flows(f), Command::Flows { .. }) => print_flows(out, &f)?,
        (Response::Trace(t), Command::Trace { .. }) => print_trace(out, &t)?,
        (Response::Error { message }, _) => return Err(CtlError::Daemon(message)),
        _ => return Err(CtlError::Unexpected),
    }
    Ok(())
}

/// Sends one request; returns the raw response line and its decoding.
fn ask(cli: &Cli, request: &Request) -> Result<(String, Response), CtlError> {
    let mut stream = UnixStream::connect(&cli.socket).map_err(|source| CtlError::Connect {
        path: cli.socket.display().to_string(),
        source,
    })?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(CtlError::Socket)?;
    stream
        .write_all(&vpc_api::encode(request))
        .map_err(CtlError::Socket)?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .map_err(CtlError::Socket)?;
    let response = vpc_api::decode_response(line.as_bytes())?;
    Ok((line, response))
}

fn print_status(out: &mut impl Write, s: &Status) -> io::Result<()> {
    writeln!(
        out,
        "vpcd pid {}, up {}s, topology {}",
        s.pid, s.uptime_secs, s.config
    )?;
    for v in &s.vpcs {
        writeln!(out, "\nvpc {} ({})", v.name, v.cidrs.join(", "))?;
        let rows: Vec<Vec<String>> = v
            .subnets
            .iter()
            .map(|sub| {
                vec![
                    sub.name.clone(),
                    sub.cidr.clone(),
                    sub.az.clone(),
                    sub.route_table.clone(),
                ]
            })
            .collect();
        table(out, &["SUBNET", "CIDR", "AZ", "ROUTE TABLE"], &rows)?;
    }
    writeln!(out)?;
    let mut rows = Vec::new();
    for i in &s.instances {
        for e in &i.enis {
            let check = if e.source_dest_check { "on" } else { "off" };
            rows.push(vec![
                i.name.clone(),
                i.namespace.clone(),
                e.device.clone(),
                e.private_ip.clone(),
                e.subnet.clone(),
                check.to_owned(),
                e.link.clone(),
            ]);
        }
    }
    let header = [
        "INSTANCE",
        "NAMESPACE",
        "DEVICE",
        "PRIVATE IP",
        "SUBNET",
        "SRC/DST CHECK",
        "LINK",
    ];
    table(out, &header, &rows)
}

fn print_routes(out: &mut impl Write, r: &Routes) -> io::Result<()> {
    for (i, t) in r.tables.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let main = if t.main { ", main" } else { "" };
        let subnets = if t.subnets.is_empty() {
            "none".to_owned()
        } else {
            t.subnets.join(", ")
        };
        writeln!(
            out,
            "route table {} (vpc {}{main}); subnets: {subnets}",
            t.name, t.vpc
        )?;
        let rows: Vec<Vec<String>> = t
            .routes
            .iter()
            .map(|r| vec![r.destination.clone(), r.target.clone(), r.state.clone()])
            .collect();
        table(out, &["DESTINATION", "TARGET", "STATE"], &rows)?;
    }
    Ok(())
}

fn print_counters(out: &mut impl Write, c: &CountersReport, all: bool) -> io::Result<()> {
    let rows: Vec<Vec<String>> = c
        .enis
        .iter()
        .map(|e| {
            vec![
                e.name.clone(),
                e.rx_packets.to_string(),
                e.rx_bytes.to_string(),
                e.tx_packets.to_string(),
                e.tx_bytes.to_string(),
                e.tx_errors.to_string(),
                e.drops.values().sum::<u64>().to_string(),
            ]
        })
        .collect();
    let header = [
        "ENI",
        "RX PKTS",
        "RX BYTES",
        "TX PKTS",
        "TX BYTES",
        "TX ERRORS",
        "DROPS",
    ];
    table(out, &header, &rows)?;
    writeln!(out)?;
    let rows: Vec<Vec<String>> = c
        .drops
        .iter()
        .filter(|d| all || d.count > 0)
        .map(|d| vec![d.reason.clone(), d.count.to_string(), d.description.clone()])
        .collect();
    if rows.is_empty() {
        writeln!(out, "no drops (vpcctl counters --all lists every reason)")?;
    } else {
        table(out, &["DROP REASON", "PACKETS", "MEANING"], &rows)?;
    }
    let by_eni: Vec<Vec<String>> = c
        .enis
        .iter()
        .flat_map(|e| {
            e.drops
                .iter()
                .map(|(r, n)| vec![e.name.clone(), r.clone(), n.to_string()])
        })
        .collect();
    if !by_eni.is_empty() {
        writeln!(out)?;
        table(out, &["FROM ENI", "DROP REASON", "PACKETS"], &by_eni)?;
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = c
        .router
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect();
    table(out, &["VPC ROUTER", "COUNT"], &rows)
}

fn print_flows(out: &mut impl Write, f: &FlowsReport) -> io::Result<()> {
    for (i, e) in f.enis.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}: {} tracked (inserted {}, expired {}, evicted {})",
            e.name, e.tracked, e.inserted, e.expired, e.evicted
        )?;
        if e.flows.is_empty() {
            continue;
        }
        let rows: Vec<Vec<String>> = e
            .flows
            .iter()
            .map(|f| {
                vec![
                    f.proto.clone(),
                    f.src.clone(),
                    f.dst.clone(),
                    f.state.clone(),
                    format!("{}s", f.expires_in_secs),
                    f.packets_original.to_string(),
                    f.packets_reply.to_string(),
                ]
            })
            .collect();
        let header = [
            "PROTO",
            "SOURCE",
            "DESTINATION",
            "STATE",
            "EXPIRES",
            "PKTS OUT",
            "PKTS BACK",
        ];
        table(out, &header, &rows)?;
    }
    Ok(())
}

fn print_trace(out: &mut impl Write, t: &TraceReport) -> io::Result<()> {
    writeln!(out, "trace {}", t.probe)?;
    let rows: Vec<Vec<String>> = t
        .steps
        .iter()
        .map(|s| vec![format!("  {}", s.stage), s.decision.clone()])
        .collect();
    table(out, &["  STAGE", "DECISION"], &rows)?;
    writeln!(out, "verdict: {}", t.verdict)?;
    if !t.because.is_empty() {
        writeln!(out, "because: {}", t.because)?;
    }
    Ok(())
}

/// Writes rows under a header, columns left-aligned to their widest cell.
fn table(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let cells = std::iter::once(header.to_vec())
        .chain(rows.iter().map(|r| r.iter().map(String::as_str).collect()));
    for row in cells {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "{}", padded.join("  ").trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["web/eth0".to_owned(), "3".to_owned()],
            vec!["a".to_owned(), "12345".to_owned()],
        ];
        table(&mut out, &["ENI", "PKTS"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ENI       PKTS\nweb/eth0  3\na         12345\n"
        );
    }

    #[test]
    fn an_absent_daemon_is_a_connect_error() {
        let mut out = Vec::new();
        let r = run(
            ["vpcctl", "--socket", "/nonexistent/vpcd.sock", "status"],
            &mut out,
        );
        assert!(matches!(r, Err(CtlError::Connect { .. })), "{r:?}");
        assert!(matches!(
            run(["vpcctl", "frobnicate"], &mut out),
            Err(CtlError::Usage(_))
        ));
    }
}

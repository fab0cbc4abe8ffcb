//! `vpcctl`: asks a running `vpcd` for its status, route tables and counters over the
//! daemon's control socket, and prints them as tables (or as JSON with `--json`).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use vpc_api::{CountersReport, Request, Response, Routes, Status};

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
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vpcctl: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let request = match cli.command {
        Command::Status => Request::Status,
        Command::Routes => Request::Routes,
        Command::Counters { .. } => Request::Counters,
    };
    let (raw, response) = ask(&cli, &request)?;
    if cli.json {
        print!("{raw}");
        return Ok(());
    }
    match (response, cli.command) {
        (Response::Status(s), _) => print_status(&s),
        (Response::Routes(r), _) => print_routes(&r),
        (Response::Counters(c), Command::Counters { all }) => print_counters(&c, all),
        (Response::Error { message }, _) => bail!("vpcd: {message}"),
        (other, _) => bail!("unexpected response from vpcd: {other:?}"),
    }
    Ok(())
}

/// Sends one request; returns the raw response line and its decoding.
fn ask(cli: &Cli, request: &Request) -> anyhow::Result<(String, Response)> {
    let mut stream = UnixStream::connect(&cli.socket).with_context(|| {
        format!(
            "cannot reach vpcd at {} (is `vpcd run` running? are you root?)",
            cli.socket.display()
        )
    })?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(&vpc_api::encode(request))?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .context("read the response")?;
    let response = vpc_api::decode_response(line.as_bytes()).context("decode the response")?;
    Ok((line, response))
}

fn print_status(s: &Status) {
    println!(
        "vpcd pid {}, up {}s, topology {}",
        s.pid, s.uptime_secs, s.config
    );
    for v in &s.vpcs {
        println!("\nvpc {} ({})", v.name, v.cidrs.join(", "));
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
        table(&["SUBNET", "CIDR", "AZ", "ROUTE TABLE"], &rows);
    }
    println!();
    let mut rows = Vec::new();
    for i in &s.instances {
        for e in &i.enis {
            rows.push(vec![
                i.name.clone(),
                i.namespace.clone(),
                e.device.clone(),
                e.private_ip.clone(),
                e.subnet.clone(),
                if e.source_dest_check { "on" } else { "off" }.into(),
                e.link.clone(),
            ]);
        }
    }
    table(
        &[
            "INSTANCE",
            "NAMESPACE",
            "DEVICE",
            "PRIVATE IP",
            "SUBNET",
            "SRC/DST CHECK",
            "LINK",
        ],
        &rows,
    );
}

fn print_routes(r: &Routes) {
    for (i, t) in r.tables.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let main = if t.main { ", main" } else { "" };
        let subnets = if t.subnets.is_empty() {
            "none".to_owned()
        } else {
            t.subnets.join(", ")
        };
        println!(
            "route table {} (vpc {}{main}); subnets: {subnets}",
            t.name, t.vpc
        );
        let rows: Vec<Vec<String>> = t
            .routes
            .iter()
            .map(|r| vec![r.destination.clone(), r.target.clone(), r.state.clone()])
            .collect();
        table(&["DESTINATION", "TARGET", "STATE"], &rows);
    }
}

fn print_counters(c: &CountersReport, all: bool) {
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
    table(
        &[
            "ENI",
            "RX PKTS",
            "RX BYTES",
            "TX PKTS",
            "TX BYTES",
            "TX ERRORS",
            "DROPS",
        ],
        &rows,
    );
    println!();
    let rows: Vec<Vec<String>> = c
        .drops
        .iter()
        .filter(|d| all || d.count > 0)
        .map(|d| vec![d.reason.clone(), d.count.to_string(), d.description.clone()])
        .collect();
    if rows.is_empty() {
        println!("no drops (vpcctl counters --all lists every reason)");
    } else {
        table(&["DROP REASON", "PACKETS", "MEANING"], &rows);
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
        println!();
        table(&["FROM ENI", "DROP REASON", "PACKETS"], &by_eni);
    }
    println!();
    let rows: Vec<Vec<String>> = c
        .router
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect();
    table(&["VPC ROUTER", "COUNT"], &rows);
}

/// Prints rows under a header, columns left-aligned to their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

//! The configuration files of both sides of a VPN connection, as text: this module owns
//! what charon (strongSwan 5.9.8, `kernel-libipsec`), BIRD 2 and FRR 8 are given to run.
//! It does no I/O: every function returns [`File`]s (a path relative to the directory
//! they are meant for, and their text), and the caller writes them.
//!
//! It follows AWS Site-to-Site VPN's behaviour (docs/vpn.md):
//!
//! - **AWS side, one charon per tunnel** ([`aws_tunnel`]): the responder, never the
//!   initiator (`start_action = none`); route-based (traffic selectors
//!   `0.0.0.0/0 <-> 0.0.0.0/0`, the charon's TUN device being the tunnel's interface);
//!   AWS's default proposals (AES-128/256 CBC and GCM-16, SHA-1 and SHA-2, DH groups 2
//!   and 14-24, with and without PFS); DPD every 10 s, `dpd_action = clear`; rekeying
//!   after the tunnel's phase 1 and phase 2 lifetimes; the IKE versions the tunnel
//!   allows; identities are the outside addresses; a replay window of 1024 packets.
//! - **AWS side, one BIRD per virtual private gateway** ([`aws_bird`]): one eBGP
//!   session per tunnel of a BGP connection over the inside /30 (hold time 30 s,
//!   keepalive 10 s, at most 100 prefixes from the peer, as AWS), advertising the VPC
//!   CIDRs and, as CloudHub does, what the gateway learned from its other connections;
//!   static routes of static connections over tunnel 1, falling back to tunnel 2 when
//!   tunnel 1's interface is down; the learned and static routes go to the kernel, the
//!   VPC CIDRs do not.
//! - **Customer side** ([`render_customer`]): a customer gateway as AWS's generic
//!   configuration sets it up: the initiator (`start_action = start`,
//!   `dpd_action = restart`, `close_action = start`), `aes128-sha1-modp2048`, its BGP
//!   speaker (BIRD or FRR) advertising the site's CIDRs, or kernel routes to the VPC
//!   CIDRs for static connections. All tunnels of a site share one namespace and one
//!   address: tunnel N's charon uses ports 500 + 1000 (N - 1) and 4500 + 10000 (N - 1)
//!   (so at most [`MAX_CUSTOMER_TUNNELS`] tunnels), sending to the AWS side's 500.
//!
//! Names: [`ike_name`] (the IKE and CHILD SA's name in `swanctl.conf`, the same in both
//! sides' files), [`tunnel_interface`] and [`customer_interface`] (the TUN devices),
//! [`bgp_protocol_name`] and [`static_protocol_name`] (BIRD protocols on the AWS side).
//!
//! Paths given as `dir` are written into the files as they are (`Path::display`): they
//! must be absolute and hold no spaces or quotes.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::Ipv4Net;

use crate::{Connection, IkeVersion, Tunnel};

/// A rendered configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Its path, relative to the directory it was rendered for.
    pub path: String,
    /// Its contents.
    pub text: String,
}

/// The customer side's output formats (`vpcctl vpn-config --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// strongSwan: `tunnel<N>/strongswan.conf`, `tunnel<N>/swanctl.conf`, `tunnels`,
    /// `routes`.
    Strongswan,
    /// BIRD 2: `bird.conf`.
    Bird,
    /// FRR: `zebra.conf`, `bgpd.conf`.
    Frr,
}

/// A name that is not one of [`Format`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?} (strongswan, bird or frr)")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strongswan" => Ok(Format::Strongswan),
            "bird" => Ok(Format::Bird),
            "frr" => Ok(Format::Frr),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

/// How many tunnels one customer gateway can have: tunnel N's NAT-T port is
/// 4500 + 10000 (N - 1), which must stay below 65536. Tunnels beyond it are not
/// rendered; callers check [`customer_tunnel_count`] first.
pub const MAX_CUSTOMER_TUNNELS: usize = 7;

/// The plugins each charon loads (`load_modular = no`). `kernel-libipsec` does ESP in
/// user space through a TUN device; `kernel-netlink` still provides addresses and
/// routes. `openssl` provides every DH group used here (curve25519 too, so the
/// `curve25519` plugin of libstrongswan-extra-plugins is not needed).
const CHARON_PLUGINS: &str = "random nonce openssl aes sha1 sha2 hmac gcm gmp pem pkcs1 x509 pubkey kdf kernel-libipsec kernel-netlink socket-default vici counters error-notify updown";

/// AWS's default DH groups, in AWS's order: 2, 14-24. All of them are provided by the
/// `openssl` plugin of strongSwan 5.9.8 on Debian 12 (`swanctl --list-algs` against a
/// charon loading [`CHARON_PLUGINS`]), and each was negotiated for IKE and ESP with
/// PFS (tests/render_live.rs), so none is dropped.
const AWS_DH_GROUPS: &str = "modp1024-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521-modp1024s160-modp2048s224-modp2048s256";

/// AWS's default phase 1 encryption and integrity algorithms, CBC and GCM.
const AWS_IKE_CBC: &str = "aes128-aes256-sha1-sha256-sha384-sha512";
const AWS_IKE_GCM: &str = "aes128gcm16-aes256gcm16-prfsha1-prfsha256-prfsha384-prfsha512";
const AWS_ESP_GCM: &str = "aes128gcm16-aes256gcm16";

/// The customer side's proposal, IKE and ESP (AWS's generic configuration with
/// group 14).
const CUSTOMER_PROPOSAL: &str = "aes128-sha1-modp2048";

/// AWS's IKE proposals (`proposals` in swanctl.conf).
fn aws_ike_proposals() -> String {
    format!("{AWS_IKE_CBC}-{AWS_DH_GROUPS},{AWS_IKE_GCM}-{AWS_DH_GROUPS}")
}

/// AWS's ESP proposals (`esp_proposals`): with PFS, then the same without, since a
/// peer without PFS proposes no group when it rekeys.
fn aws_esp_proposals() -> String {
    format!(
        "{AWS_IKE_CBC}-{AWS_DH_GROUPS},{AWS_ESP_GCM}-{AWS_DH_GROUPS},{AWS_IKE_CBC},{AWS_ESP_GCM}"
    )
}

/// The name of tunnel `k` (0 or 1) of a connection in both sides' `swanctl.conf`: its
/// IKE SA (connection), its CHILD SA and, prefixed with `ike-`, its secret. It is the
/// connection's name with every character other than ASCII letters, digits, `-` and
/// `_` replaced by `_`, then `-1` or `-2` (e.g. `office-1`). Each charon has one tunnel,
/// so the name only helps people reading logs and `swanctl --list-sas`.
pub fn ike_name(c: &Connection, k: usize) -> String {
    let base: String = c
        .name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                ch
            } else {
                '_'
            }
        })
        .collect();
    let base = if base.is_empty() {
        "vpn".to_string()
    } else {
        base
    };
    format!("{base}-{}", k + 1)
}

/// The interface of tunnel `k` (0 or 1) of the connection numbered `global_index` in
/// the virtual private gateway's router namespace: the AWS charon's TUN device, moved
/// there and renamed `vti<global_index>-<k+1>` (e.g. `vti0-1`; at most 15 characters for
/// any `usize` up to 10 digits).
pub fn tunnel_interface(global_index: usize, k: usize) -> String {
    format!("vti{global_index}-{}", k + 1)
}

/// The BIRD protocol of the BGP session over tunnel `k` (0 or 1) of the connection
/// numbered `global_index`, on the AWS side: `t<global_index>_<k+1>` (e.g. `t0_1`), for
/// `birdc show protocols all t0_1`, `disable t0_1`, ...
pub fn bgp_protocol_name(global_index: usize, k: usize) -> String {
    format!("t{global_index}_{}", k + 1)
}

/// The BIRD static protocol holding a static connection's routes over its tunnel `k`
/// (0 or 1), on the AWS side: `s<global_index>_<k+1>` (e.g. `s2_1`).
pub fn static_protocol_name(global_index: usize, k: usize) -> String {
    format!("s{global_index}_{}", k + 1)
}

/// The interface of a customer gateway's tunnel `n` (1-based, in the order of
/// [`customer_strongswan`]): `vti<n>`.
pub fn customer_interface(n: usize) -> String {
    format!("vti{n}")
}

/// The UDP ports (IKE, NAT-T) of a customer gateway's tunnel `n` (1-based), or `None`
/// beyond [`MAX_CUSTOMER_TUNNELS`].
pub fn customer_ports(n: usize) -> Option<(u16, u16)> {
    if n == 0 || n > MAX_CUSTOMER_TUNNELS {
        return None;
    }
    let ike = u16::try_from(500 + 1000 * (n - 1)).ok()?;
    let nat = u16::try_from(4500 + 10000 * (n - 1)).ok()?;
    Some((ike, nat))
}

/// How many tunnels a customer gateway with these connections has (two each).
pub fn customer_tunnel_count(cgw_connections: &[&Connection]) -> usize {
    cgw_connections.len() * 2
}

/// The tunnels of a customer gateway, numbered from 1, up to [`MAX_CUSTOMER_TUNNELS`].
fn customer_tunnels<'a>(
    cgw_connections: &'a [&'a Connection],
) -> impl Iterator<Item = (usize, &'a Connection, usize, &'a Tunnel)> + 'a {
    cgw_connections
        .iter()
        .flat_map(|c| c.tunnels.iter().enumerate().map(move |(k, t)| (*c, k, t)))
        .enumerate()
        .map(|(i, (c, k, t))| (i + 1, c, k, t))
        .take(MAX_CUSTOMER_TUNNELS)
}

/// `version` in swanctl.conf for the IKE versions a tunnel allows: 2 with IKEv2 only
/// (and when the list is empty), 1 with IKEv1 only, 0 (any) with both.
fn aws_ike_version(versions: &[IkeVersion]) -> u8 {
    let v1 = versions.contains(&IkeVersion::V1);
    let v2 = versions.contains(&IkeVersion::V2);
    match (v1, v2) {
        (true, true) => 0,
        (true, false) => 1,
        _ => 2,
    }
}

/// The customer's IKE version: the last one the tunnel allows (IKEv2 by default).
fn customer_ike_version(versions: &[IkeVersion]) -> u8 {
    match versions.last() {
        Some(IkeVersion::V1) => 1,
        _ => 2,
    }
}

/// A string for strongSwan's settings syntax, quoted.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// An address with the prefix length of a /30 (`169.254.10.2/30`).
fn with_len(addr: Ipv4Addr, net: &Ipv4Net) -> String {
    format!("{addr}/{}", net.prefix_len())
}

/// The settings of one charon instance (`strongswan.conf`).
fn strongswan_conf(title: &str, port: u16, nat_port: u16, table: u32, dir: &Path) -> String {
    let d = dir.display();
    format!(
        "# {title}: rendered by vpcd, do not edit
# One charon per tunnel, started with STRONGSWAN_CONF pointing here and {d}/run bound
# over /run (its pid file and error-notify socket are compiled in under /run).
charon {{
  load_modular = no
  load = {CHARON_PLUGINS}
  port = {port}
  port_nat_t = {nat_port}
  install_routes = no
  install_virtual_ip = no
  # kernel-libipsec installs '<remote_ts> dev ipsec0' for every policy whatever
  # install_routes says (a placeholder ipsec0 must exist); this table's rule sits
  # after main, so those routes are never used.
  routing_table = {table}
  routing_table_prio = 40000
  retransmit_tries = 3
  retransmit_timeout = 2.0
  syslog {{
  }}
  filelog {{
    log {{
      path = {d}/charon.log
      time_format = %F %T
      append = no
      default = 1
      ike = 2
      cfg = 1
      flush_line = yes
    }}
  }}
  plugins {{
    vici {{
      socket = unix://{d}/run/charon.vici
    }}
  }}
}}
"
    )
}

/// What differs between the two sides' `swanctl.conf`.
struct SwanctlSide<'a> {
    title: String,
    name: String,
    version: u8,
    local: Ipv4Addr,
    remote: Ipv4Addr,
    proposals: &'a str,
    esp_proposals: &'a str,
    /// `replay_window` of the CHILD SA, if set.
    replay_window: Option<u32>,
    dpd_action: &'a str,
    start_action: &'a str,
    close_action: &'a str,
    /// The CHILD SA's `updown` command, if any.
    updown: Option<String>,
}

/// One tunnel's `swanctl.conf`.
fn swanctl_conf(side: &SwanctlSide<'_>, t: &Tunnel) -> String {
    let SwanctlSide {
        title,
        name,
        version,
        local,
        remote,
        proposals,
        esp_proposals,
        replay_window,
        dpd_action,
        start_action,
        close_action,
        updown,
    } = side;
    let mut replay = replay_window
        .map(|w| format!("        replay_window = {w}\n"))
        .unwrap_or_default();
    if let Some(u) = updown {
        replay.push_str(&format!("        updown = {u}\n"));
    }
    format!(
        "# {title}: rendered by vpcd, do not edit
connections {{
  {name} {{
    version = {version}
    local_addrs = {local}
    remote_addrs = {remote}
    remote_port = 500
    # kernel-libipsec does ESP in UDP only
    encap = yes
    dpd_delay = 10s
    dpd_timeout = {dpd}s
    rekey_time = {p1}s
    mobike = no
    # retry for ever: a peer that is not up yet is tried again
    keyingtries = 0
    proposals = {proposals}
    local {{
      auth = psk
      id = {local}
    }}
    remote {{
      auth = psk
      id = {remote}
    }}
    children {{
      {name} {{
        # route-based, as AWS's tunnels: the TUN device is the tunnel's interface
        local_ts = 0.0.0.0/0
        remote_ts = 0.0.0.0/0
        esp_proposals = {esp_proposals}
        rekey_time = {p2}s
{replay}        dpd_action = {dpd_action}
        start_action = {start_action}
        close_action = {close_action}
      }}
    }}
  }}
}}
secrets {{
  ike-{name} {{
    id-a = {local}
    id-b = {remote}
    secret = {psk}
  }}
}}
",
        dpd = t.dpd_timeout_seconds,
        p1 = t.phase1_lifetime_seconds,
        p2 = t.phase2_lifetime_seconds,
        psk = quoted(&t.pre_shared_key),
    )
}

/// The AWS side of tunnel `k` (0 or 1) of a connection, for a charon whose directory is
/// `dir`: `strongswan.conf` (ports 500/4500, routing table 220, log `<dir>/charon.log`,
/// VICI socket `<dir>/run/charon.vici`) and `swanctl.conf` (the responder, named
/// [`ike_name`]). A `k` above 1 is taken as 1.
pub fn aws_tunnel(c: &Connection, k: usize, dir: &Path) -> Vec<File> {
    let k = k.min(1);
    let t = &c.tunnels[k];
    let title = format!(
        "AWS side of tunnel {} of VPN connection {} ({})",
        k + 1,
        c.name,
        c.id
    );
    let ike = aws_ike_proposals();
    let esp = aws_esp_proposals();
    let side = SwanctlSide {
        title: title.clone(),
        name: ike_name(c, k),
        version: aws_ike_version(&t.ike_versions),
        local: t.outside_ip,
        remote: c.customer_ip,
        proposals: &ike,
        esp_proposals: &esp,
        replay_window: Some(1024),
        dpd_action: "clear",
        start_action: "none",
        close_action: "none",
        updown: None,
    };
    vec![
        File {
            path: "strongswan.conf".to_string(),
            text: strongswan_conf(&title, 500, 4500, 220, dir),
        },
        File {
            path: "swanctl.conf".to_string(),
            text: swanctl_conf(&side, t),
        },
    ]
}

/// The BGP session timers shared by both sides' BIRD: AWS's hold time and keepalive,
/// and short connect and error-wait timers so a session comes back within a second of
/// its tunnel; no graceful restart (with it, BIRD kept a dead tunnel's routes ~120 s).
const BIRD_BGP_TIMERS: &str = "  hold time 30;
  keepalive time 10;
  connect delay time 1;
  connect retry time 5;
  error wait time 1, 10;
  graceful restart off;
";

/// The BIRD configuration (`bird.conf`) of a virtual private gateway, whose directory
/// is `dir` (log `<dir>/bird.log`), for its connections, each with the global index
/// used in [`tunnel_interface`], [`bgp_protocol_name`] and [`static_protocol_name`]:
///
/// - `router id`: the first tunnel's AWS inside address (none without connections);
/// - `protocol static vpc`: the VPC CIDRs, as blackhole routes BGP advertises (not
///   exported to the kernel: vpcd routes them);
/// - per tunnel of a BGP connection, `protocol bgp t<i>_<k+1>` from the AWS inside
///   address to the customer's, importing at most 100 prefixes (then restarting the
///   session, as AWS drops it) and exporting everything but that connection's own
///   routes: the VPC CIDRs and, as CloudHub, the other connections' learned and static
///   routes;
/// - per static connection, `protocol static s<i>_1` (preference 200) and `s<i>_2`
///   (preference 190) with its static routes via tunnel 1's and tunnel 2's interfaces:
///   a route via an interface that is down is withdrawn, so tunnel 2 takes over;
/// - `protocol kernel`: every route but the VPC's goes to the namespace's kernel table.
pub fn aws_bird(
    vgw_name: &str,
    amazon_asn: u32,
    vpc_cidrs: &[Ipv4Net],
    connections: &[(usize, &Connection)],
    dir: &Path,
) -> File {
    let d = dir.display();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# virtual private gateway {vgw_name} (AS {amazon_asn}): rendered by vpcd, do not edit"
    );
    let _ = writeln!(s, "log \"{d}/bird.log\" all;");
    if let Some((_, c)) = connections.first() {
        let _ = writeln!(s, "router id {};", c.tunnels[0].aws_inside());
    }
    s.push_str(
        "timeformat protocol iso long;
protocol device {
  scan time 10;
}
# learned (BGP) and static connection routes go to the kernel, the VPC CIDRs do not
protocol kernel {
  ipv4 {
    import none;
    export where proto != \"vpc\";
  };
}
protocol static vpc {
  ipv4;
",
    );
    for cidr in vpc_cidrs {
        let _ = writeln!(s, "  route {cidr} blackhole;");
    }
    s.push_str("}\n");
    let bgp: Vec<_> = connections
        .iter()
        .filter(|(_, c)| !c.static_routes_only)
        .collect();
    if !bgp.is_empty() {
        let _ = write!(
            s,
            "template bgp vgw {{\n  local as {amazon_asn};\n{BIRD_BGP_TIMERS}}}\n"
        );
    }
    for (i, c) in connections {
        if c.static_routes_only {
            for (k, preference) in [(0, 200), (1, 190)] {
                let _ = write!(
                    s,
                    "# static routes of VPN connection {} ({}) over tunnel {}\n\
                     protocol static {} {{\n  ipv4 {{\n    preference {preference};\n  }};\n",
                    c.name,
                    c.id,
                    k + 1,
                    static_protocol_name(*i, k),
                );
                for p in &c.static_routes {
                    let _ = writeln!(s, "  route {p} via \"{}\";", tunnel_interface(*i, k));
                }
                s.push_str("}\n");
            }
        } else {
            let own = [bgp_protocol_name(*i, 0), bgp_protocol_name(*i, 1)];
            for (k, t) in c.tunnels.iter().enumerate() {
                let _ = write!(
                    s,
                    "# BGP over tunnel {} of VPN connection {} ({})\n\
                     protocol bgp {} from vgw {{\n  \
                     source address {};\n  \
                     neighbor {} as {};\n  \
                     ipv4 {{\n    \
                     import limit 100 action restart;\n    \
                     import all;\n    \
                     export where proto != \"{}\" && proto != \"{}\";\n  \
                     }};\n}}\n",
                    k + 1,
                    c.name,
                    c.id,
                    bgp_protocol_name(*i, k),
                    t.aws_inside(),
                    t.customer_inside(),
                    c.customer_asn,
                    own[0],
                    own[1],
                );
            }
        }
    }
    File {
        path: "bird.conf".to_string(),
        text: s,
    }
}

/// The customer side's charons, one per tunnel of every connection of one customer
/// gateway, numbered N = 1, 2, ... in order (tunnels 1 and 2 of the first connection,
/// then of the second, ...; at most [`MAX_CUSTOMER_TUNNELS`]), under `dir`:
///
/// - `tunnel<N>/strongswan.conf`: ports [`customer_ports`], routing table 220 + N, log
///   `<dir>/tunnel<N>/charon.log`, VICI socket `<dir>/tunnel<N>/run/charon.vici`;
/// - `tunnel<N>/swanctl.conf`: the initiator, named [`ike_name`];
/// - `tunnel<N>/updown.sh`: run by charon as the CHILD SA comes and goes, it takes the
///   tunnel's interface up and down (fast failover at the site too);
/// - `tunnels`: one line per tunnel, `N IFACE INSIDE`: its number, the interface its
///   TUN device is renamed to ([`customer_interface`]) and the customer's inside
///   address with its prefix length (`1 vti1 169.254.10.2/30`);
/// - `routes`: for static connections, one line per VPC CIDR and tunnel,
///   `PREFIX IFACE METRIC` (metric 100 over the first tunnel, 200 over the second),
///   for `ip route add PREFIX dev IFACE metric METRIC`; empty without static
///   connections (BGP brings the routes then).
pub fn customer_strongswan(cgw_connections: &[&Connection], dir: &Path) -> Vec<File> {
    let mut files = Vec::new();
    let mut tunnels = String::new();
    let mut routes = String::new();
    let proposal = CUSTOMER_PROPOSAL;
    for (n, c, k, t) in customer_tunnels(cgw_connections) {
        let Some((port, nat_port)) = customer_ports(n) else {
            continue;
        };
        let tdir = dir.join(format!("tunnel{n}"));
        let title = format!(
            "customer side of tunnel {} of VPN connection {} ({}), tunnel {n} of its customer gateway",
            k + 1,
            c.name,
            c.id
        );
        let side = SwanctlSide {
            title: title.clone(),
            name: ike_name(c, k),
            version: customer_ike_version(&t.ike_versions),
            local: c.customer_ip,
            remote: t.outside_ip,
            proposals: proposal,
            esp_proposals: proposal,
            replay_window: None,
            dpd_action: "restart",
            start_action: "start",
            close_action: "start",
            updown: Some(format!("sh {}/updown.sh", tdir.display())),
        };
        // n <= MAX_CUSTOMER_TUNNELS, so this cannot overflow.
        let table = 220 + u32::try_from(n).unwrap_or(0);
        files.push(File {
            path: format!("tunnel{n}/strongswan.conf"),
            text: strongswan_conf(&title, port, nat_port, table, &tdir),
        });
        files.push(File {
            path: format!("tunnel{n}/swanctl.conf"),
            text: swanctl_conf(&side, t),
        });
        let iface = customer_interface(n);
        files.push(File {
            path: format!("tunnel{n}/updown.sh"),
            text: updown_sh(&title, &iface),
        });
        let _ = writeln!(
            tunnels,
            "{n} {iface} {}",
            with_len(t.customer_inside(), &t.inside_cidr)
        );
        if c.static_routes_only {
            for cidr in &c.vpc_cidrs {
                let _ = writeln!(routes, "{cidr} {iface} {}", 100 * (k + 1));
            }
        }
    }
    files.push(File {
        path: "tunnels".to_string(),
        text: tunnels,
    });
    files.push(File {
        path: "routes".to_string(),
        text: routes,
    });
    files
}

/// A customer tunnel's `updown.sh`, which charon's updown plugin runs when the CHILD
/// SA comes and goes: the tunnel's interface follows it, so the site's BGP speaker
/// drops the session over a dead tunnel at once and uses the other (else it would
/// wait for its hold timer, up to 30 s).
fn updown_sh(title: &str, iface: &str) -> String {
    format!(
        "#!/bin/sh
# {title}: rendered by vpcd, do not edit
# Run by charon (updown plugin) as its CHILD SA comes up or goes down.
case \"$PLUTO_VERB\" in
  up-client) ip link set {iface} up ;;
  down-client) ip link set {iface} down ;;
esac
exit 0
"
    )
}

/// The site's CIDRs: every connection's `site_cidrs`, without repeats, in order.
fn site_cidrs(cgw_connections: &[&Connection]) -> Vec<Ipv4Net> {
    let mut out: Vec<Ipv4Net> = Vec::new();
    for c in cgw_connections {
        for cidr in &c.site_cidrs {
            if !out.contains(cidr) {
                out.push(*cidr);
            }
        }
    }
    out
}

/// The customer gateway's BIRD (`bird.conf`, log `<dir>/bird.log`): AS the
/// connections' customer ASN, router id the customer gateway's address, the site's
/// CIDRs as blackhole routes in `protocol static site` advertised to AWS, one
/// `protocol bgp t<N>` per tunnel N of a BGP connection (numbered as in
/// [`customer_strongswan`]), and the learned routes exported to the kernel.
pub fn customer_bird(cgw_connections: &[&Connection], dir: &Path) -> File {
    let d = dir.display();
    let mut s = String::new();
    let first = cgw_connections.first();
    let asn = first.map_or(65000, |c| c.customer_asn);
    let _ = writeln!(
        s,
        "# customer gateway (AS {asn}): rendered by vpcd, do not edit"
    );
    let _ = writeln!(s, "log \"{d}/bird.log\" all;");
    if let Some(c) = first {
        let _ = writeln!(s, "router id {};", c.customer_ip);
    }
    s.push_str(
        "timeformat protocol iso long;
protocol device {
  scan time 10;
}
# routes learned from AWS go to the kernel
protocol kernel {
  ipv4 {
    import none;
    export where source = RTS_BGP;
  };
}
# the site's networks, advertised to AWS
protocol static site {
  ipv4;
",
    );
    for cidr in site_cidrs(cgw_connections) {
        let _ = writeln!(s, "  route {cidr} blackhole;");
    }
    s.push_str("}\n");
    let tunnels: Vec<_> = customer_tunnels(cgw_connections)
        .filter(|(_, c, _, _)| !c.static_routes_only)
        .collect();
    if !tunnels.is_empty() {
        let _ = write!(
            s,
            "template bgp aws {{\n  local as {asn};\n{BIRD_BGP_TIMERS}  ipv4 {{\n    import all;\n    export where proto = \"site\";\n  }};\n}}\n"
        );
    }
    for (n, c, k, t) in tunnels {
        let _ = write!(
            s,
            "# tunnel {} of VPN connection {} ({})\n\
             protocol bgp t{n} from aws {{\n  source address {};\n  neighbor {} as {};\n}}\n",
            k + 1,
            c.name,
            c.id,
            t.customer_inside(),
            t.aws_inside(),
            c.amazon_asn,
        );
    }
    File {
        path: "bird.conf".to_string(),
        text: s,
    }
}

/// The customer gateway's FRR: `zebra.conf` and `bgpd.conf` (logs `<dir>/zebra.log`,
/// `<dir>/bgpd.log`), with the same contents as [`customer_bird`]: the site's CIDRs
/// advertised (prefix list `SITE`, route maps `TO-AWS` and `FROM-AWS`), one neighbor per
/// tunnel of a BGP connection in peer group `AWS`, timers 10/30, learned routes
/// installed by zebra (FRR spreads traffic over both tunnels: ECMP).
pub fn customer_frr(cgw_connections: &[&Connection], dir: &Path) -> Vec<File> {
    let d = dir.display();
    let first = cgw_connections.first();
    let asn = first.map_or(65000, |c| c.customer_asn);
    let zebra = format!(
        "! customer gateway (AS {asn}): rendered by vpcd, do not edit\nhostname cgw-zebra\nlog file {d}/zebra.log\n"
    );
    let mut s = String::new();
    let _ = write!(
        s,
        "! customer gateway (AS {asn}): rendered by vpcd, do not edit\nhostname cgw-bgpd\nlog file {d}/bgpd.log\n!\n"
    );
    let cidrs = site_cidrs(cgw_connections);
    if cidrs.is_empty() {
        s.push_str("ip prefix-list SITE seq 5 deny any\n");
    }
    for (i, cidr) in cidrs.iter().enumerate() {
        let _ = writeln!(s, "ip prefix-list SITE seq {} permit {cidr}", 5 * (i + 1));
    }
    s.push_str(
        "route-map TO-AWS permit 10\n match ip address prefix-list SITE\nexit\nroute-map FROM-AWS permit 10\nexit\n!\n",
    );
    let _ = writeln!(s, "router bgp {asn}");
    if let Some(c) = first {
        let _ = writeln!(s, " bgp router-id {}", c.customer_ip);
    }
    s.push_str(
        " no bgp network import-check\n timers bgp 10 30\n neighbor AWS peer-group\n neighbor AWS timers connect 5\n",
    );
    for (_, c, _, t) in
        customer_tunnels(cgw_connections).filter(|(_, c, _, _)| !c.static_routes_only)
    {
        let aws = t.aws_inside();
        let _ = write!(
            s,
            " neighbor {aws} remote-as {}\n neighbor {aws} peer-group AWS\n neighbor {aws} update-source {}\n",
            c.amazon_asn,
            t.customer_inside()
        );
    }
    s.push_str(" !\n address-family ipv4 unicast\n");
    for cidr in &cidrs {
        let _ = writeln!(s, "  network {cidr}");
    }
    s.push_str(
        "  neighbor AWS route-map TO-AWS out\n  neighbor AWS route-map FROM-AWS in\n exit-address-family\nexit\n",
    );
    vec![
        File {
            path: "zebra.conf".to_string(),
            text: zebra,
        },
        File {
            path: "bgpd.conf".to_string(),
            text: s,
        },
    ]
}

/// The customer side of one customer gateway's connections, in one format, to run
/// unchanged from `dir` (what `vpcctl vpn-config --format` writes and
/// `scripts/customer-gateway.sh` runs): [`customer_strongswan`], [`customer_bird`] or
/// [`customer_frr`].
pub fn render_customer(cgw_connections: &[&Connection], format: Format, dir: &Path) -> Vec<File> {
    match format {
        Format::Strongswan => customer_strongswan(cgw_connections, dir),
        Format::Bird => vec![customer_bird(cgw_connections, dir)],
        Format::Frr => customer_frr(cgw_connections, dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tunnel(outside: [u8; 4], inside: &str, psk: &str) -> Tunnel {
        Tunnel {
            outside_ip: Ipv4Addr::from(outside),
            inside_cidr: inside.parse().unwrap(),
            pre_shared_key: psk.to_string(),
            ike_versions: vec![IkeVersion::V2],
            dpd_timeout_seconds: 30,
            phase1_lifetime_seconds: 28800,
            phase2_lifetime_seconds: 3600,
        }
    }

    fn office() -> Connection {
        Connection {
            name: "office".to_string(),
            id: "vpn-0a1b2c3d".to_string(),
            customer_ip: Ipv4Addr::new(203, 0, 113, 60),
            customer_asn: 65001,
            amazon_asn: 64512,
            static_routes_only: false,
            static_routes: vec![],
            site_cidrs: vec!["172.16.0.0/16".parse().unwrap()],
            vpc_cidrs: vec!["10.20.0.0/16".parse().unwrap()],
            tunnels: [
                tunnel([198, 51, 100, 101], "169.254.10.0/30", "psk-one"),
                tunnel([198, 51, 100, 102], "169.254.11.0/30", "psk-two"),
            ],
        }
    }

    fn branch() -> Connection {
        Connection {
            name: "branch".to_string(),
            id: "vpn-11112222".to_string(),
            customer_ip: Ipv4Addr::new(203, 0, 113, 60),
            customer_asn: 65001,
            amazon_asn: 64512,
            static_routes_only: true,
            static_routes: vec!["192.168.0.0/24".parse().unwrap()],
            site_cidrs: vec!["192.168.0.0/24".parse().unwrap()],
            vpc_cidrs: vec!["10.20.0.0/16".parse().unwrap()],
            tunnels: [
                tunnel([198, 51, 100, 103], "169.254.12.0/30", "psk-three"),
                tunnel([198, 51, 100, 104], "169.254.13.0/30", "psk-four"),
            ],
        }
    }

    /// The AWS side's swanctl.conf of tunnel 1 of `office()`, exactly.
    const AWS_SWANCTL: &str = r#"# AWS side of tunnel 1 of VPN connection office (vpn-0a1b2c3d): rendered by vpcd, do not edit
connections {
  office-1 {
    version = 2
    local_addrs = 198.51.100.101
    remote_addrs = 203.0.113.60
    remote_port = 500
    # kernel-libipsec does ESP in UDP only
    encap = yes
    dpd_delay = 10s
    dpd_timeout = 30s
    rekey_time = 28800s
    mobike = no
    # retry for ever: a peer that is not up yet is tried again
    keyingtries = 0
    proposals = aes128-aes256-sha1-sha256-sha384-sha512-modp1024-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521-modp1024s160-modp2048s224-modp2048s256,aes128gcm16-aes256gcm16-prfsha1-prfsha256-prfsha384-prfsha512-modp1024-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521-modp1024s160-modp2048s224-modp2048s256
    local {
      auth = psk
      id = 198.51.100.101
    }
    remote {
      auth = psk
      id = 203.0.113.60
    }
    children {
      office-1 {
        # route-based, as AWS's tunnels: the TUN device is the tunnel's interface
        local_ts = 0.0.0.0/0
        remote_ts = 0.0.0.0/0
        esp_proposals = aes128-aes256-sha1-sha256-sha384-sha512-modp1024-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521-modp1024s160-modp2048s224-modp2048s256,aes128gcm16-aes256gcm16-modp1024-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521-modp1024s160-modp2048s224-modp2048s256,aes128-aes256-sha1-sha256-sha384-sha512,aes128gcm16-aes256gcm16
        rekey_time = 3600s
        replay_window = 1024
        dpd_action = clear
        start_action = none
        close_action = none
      }
    }
  }
}
secrets {
  ike-office-1 {
    id-a = 198.51.100.101
    id-b = 203.0.113.60
    secret = "psk-one"
  }
}
"#;

    /// The gateway's bird.conf with `office()` (BGP, index 0) and `branch()` (static,
    /// index 1), exactly.
    const AWS_BIRD: &str = r#"# virtual private gateway vgw (AS 64512): rendered by vpcd, do not edit
log "/x/bird/bird.log" all;
router id 169.254.10.1;
timeformat protocol iso long;
protocol device {
  scan time 10;
}
# learned (BGP) and static connection routes go to the kernel, the VPC CIDRs do not
protocol kernel {
  ipv4 {
    import none;
    export where proto != "vpc";
  };
}
protocol static vpc {
  ipv4;
  route 10.20.0.0/16 blackhole;
}
template bgp vgw {
  local as 64512;
  hold time 30;
  keepalive time 10;
  connect delay time 1;
  connect retry time 5;
  error wait time 1, 10;
  graceful restart off;
}
# BGP over tunnel 1 of VPN connection office (vpn-0a1b2c3d)
protocol bgp t0_1 from vgw {
  source address 169.254.10.1;
  neighbor 169.254.10.2 as 65001;
  ipv4 {
    import limit 100 action restart;
    import all;
    export where proto != "t0_1" && proto != "t0_2";
  };
}
# BGP over tunnel 2 of VPN connection office (vpn-0a1b2c3d)
protocol bgp t0_2 from vgw {
  source address 169.254.11.1;
  neighbor 169.254.11.2 as 65001;
  ipv4 {
    import limit 100 action restart;
    import all;
    export where proto != "t0_1" && proto != "t0_2";
  };
}
# static routes of VPN connection branch (vpn-11112222) over tunnel 1
protocol static s1_1 {
  ipv4 {
    preference 200;
  };
  route 192.168.0.0/24 via "vti1-1";
}
# static routes of VPN connection branch (vpn-11112222) over tunnel 2
protocol static s1_2 {
  ipv4 {
    preference 190;
  };
  route 192.168.0.0/24 via "vti1-2";
}
"#;

    #[test]
    fn aws_swanctl_conf_is_exactly_this() {
        let files = aws_tunnel(&office(), 0, Path::new("/x/t1"));
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["strongswan.conf", "swanctl.conf"]);
        assert_eq!(files[1].text, AWS_SWANCTL);
    }

    #[test]
    fn aws_bird_conf_is_exactly_this() {
        let (o, b) = (office(), branch());
        let f = aws_bird(
            "vgw",
            64512,
            &o.vpc_cidrs,
            &[(0, &o), (1, &b)],
            Path::new("/x/bird"),
        );
        assert_eq!(f.path, "bird.conf");
        assert_eq!(f.text, AWS_BIRD);
    }

    #[test]
    fn aws_strongswan_conf() {
        let files = aws_tunnel(&office(), 1, Path::new("/v/t2"));
        let conf = &files[0].text;
        for line in [
            "  port = 500\n",
            "  port_nat_t = 4500\n",
            "  install_routes = no\n",
            "  routing_table = 220\n",
            "  routing_table_prio = 40000\n",
            "      path = /v/t2/charon.log\n",
            "      socket = unix:///v/t2/run/charon.vici\n",
            "  load = random nonce openssl aes sha1 sha2 hmac gcm gmp pem pkcs1 x509 pubkey kdf kernel-libipsec kernel-netlink socket-default vici counters error-notify updown\n",
        ] {
            assert!(conf.contains(line), "{line:?} missing from\n{conf}");
        }
        let swanctl = &files[1].text;
        assert!(swanctl.contains("  office-2 {\n"));
        assert!(swanctl.contains("local_addrs = 198.51.100.102\n"));
        assert!(swanctl.contains("secret = \"psk-two\"\n"));
    }

    #[test]
    fn ike_versions_and_lifetimes() {
        let mut c = office();
        let version = |c: &Connection| {
            aws_tunnel(c, 0, Path::new("/d"))[1]
                .text
                .lines()
                .find(|l| l.trim_start().starts_with("version = "))
                .map(|l| l.trim().to_string())
        };
        assert_eq!(version(&c).as_deref(), Some("version = 2"));
        c.tunnels[0].ike_versions = vec![IkeVersion::V1, IkeVersion::V2];
        assert_eq!(version(&c).as_deref(), Some("version = 0"));
        c.tunnels[0].ike_versions = vec![IkeVersion::V1];
        assert_eq!(version(&c).as_deref(), Some("version = 1"));
        c.tunnels[0].ike_versions = vec![];
        assert_eq!(version(&c).as_deref(), Some("version = 2"));
        // The customer uses the last version listed.
        c.tunnels[0].ike_versions = vec![IkeVersion::V2, IkeVersion::V1];
        let cust = customer_strongswan(&[&c], Path::new("/s"));
        assert!(cust[1].text.contains("    version = 1\n"));
        c.tunnels[0].phase1_lifetime_seconds = 3600;
        c.tunnels[0].phase2_lifetime_seconds = 900;
        c.tunnels[0].dpd_timeout_seconds = 40;
        let t = &aws_tunnel(&c, 0, Path::new("/d"))[1].text;
        assert!(t.contains("    rekey_time = 3600s\n"));
        assert!(t.contains("        rekey_time = 900s\n"));
        assert!(t.contains("    dpd_timeout = 40s\n"));
    }

    #[test]
    fn psk_is_quoted() {
        let mut c = office();
        c.tunnels[0].pre_shared_key = r#"a"b\c"#.to_string();
        let t = &aws_tunnel(&c, 0, Path::new("/d"))[1].text;
        assert!(t.contains(r#"    secret = "a\"b\\c""#), "{t}");
    }

    #[test]
    fn names() {
        assert_eq!(tunnel_interface(0, 0), "vti0-1");
        assert_eq!(tunnel_interface(12, 1), "vti12-2");
        assert!(tunnel_interface(9_999_999_999, 1).len() <= 15);
        assert_eq!(bgp_protocol_name(3, 1), "t3_2");
        assert_eq!(static_protocol_name(3, 0), "s3_1");
        assert_eq!(customer_interface(4), "vti4");
        let mut c = office();
        assert_eq!(ike_name(&c, 1), "office-2");
        c.name = "head office.eu".to_string();
        assert_eq!(ike_name(&c, 0), "head_office_eu-1");
        c.name = String::new();
        assert_eq!(ike_name(&c, 0), "vpn-1");
    }

    #[test]
    fn customer_ports_and_tables() {
        assert_eq!(customer_ports(1), Some((500, 4500)));
        assert_eq!(customer_ports(2), Some((1500, 14500)));
        assert_eq!(customer_ports(7), Some((6500, 64500)));
        assert_eq!(customer_ports(0), None);
        assert_eq!(customer_ports(8), None);
        let (o, b) = (office(), branch());
        let files = customer_strongswan(&[&o, &b], Path::new("/s"));
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "tunnel1/strongswan.conf",
                "tunnel1/swanctl.conf",
                "tunnel1/updown.sh",
                "tunnel2/strongswan.conf",
                "tunnel2/swanctl.conf",
                "tunnel2/updown.sh",
                "tunnel3/strongswan.conf",
                "tunnel3/swanctl.conf",
                "tunnel3/updown.sh",
                "tunnel4/strongswan.conf",
                "tunnel4/swanctl.conf",
                "tunnel4/updown.sh",
                "tunnels",
                "routes",
            ]
        );
        let t3 = &files[6].text;
        for line in [
            "  port = 2500\n",
            "  port_nat_t = 24500\n",
            "  routing_table = 223\n",
            "      path = /s/tunnel3/charon.log\n",
            "      socket = unix:///s/tunnel3/run/charon.vici\n",
        ] {
            assert!(t3.contains(line), "{line:?} missing from\n{t3}");
        }
        let s3 = &files[7].text;
        for line in [
            "  branch-1 {\n",
            "    remote_addrs = 198.51.100.103\n",
            "    remote_port = 500\n",
            "    proposals = aes128-sha1-modp2048\n",
            "        esp_proposals = aes128-sha1-modp2048\n",
            "        dpd_action = restart\n",
            "        start_action = start\n",
            "        close_action = start\n",
        ] {
            assert!(s3.contains(line), "{line:?} missing from\n{s3}");
        }
        assert!(!s3.contains("replay_window"));
        assert!(
            s3.contains("        updown = sh /s/tunnel3/updown.sh\n"),
            "{s3}"
        );
        assert!(
            files[8]
                .text
                .contains("  down-client) ip link set vti3 down ;;\n")
        );
        assert_eq!(
            files[12].text,
            "1 vti1 169.254.10.2/30\n2 vti2 169.254.11.2/30\n3 vti3 169.254.12.2/30\n4 vti4 169.254.13.2/30\n"
        );
        assert_eq!(
            files[13].text,
            "10.20.0.0/16 vti3 100\n10.20.0.0/16 vti4 200\n"
        );
        // Four connections: eight tunnels, the last one beyond the ports.
        let all = [&o, &b, &o, &b];
        assert_eq!(customer_tunnel_count(&all), 8);
        let files = customer_strongswan(&all, Path::new("/s"));
        assert_eq!(files.len(), 3 * MAX_CUSTOMER_TUNNELS + 2);
    }

    #[test]
    fn customer_bgp_speakers() {
        let (o, b) = (office(), branch());
        let bird = customer_bird(&[&o, &b], Path::new("/s")).text;
        assert!(bird.contains("router id 203.0.113.60;\n"));
        assert!(bird.contains("  local as 65001;\n"));
        assert!(bird.contains("  graceful restart off;\n"));
        assert!(bird.contains("  route 172.16.0.0/16 blackhole;\n"));
        assert!(bird.contains(
            "protocol bgp t2 from aws {\n  source address 169.254.11.2;\n  neighbor 169.254.11.1 as 64512;\n}\n"
        ));
        // The static connection's tunnels have no BGP session.
        assert!(!bird.contains("protocol bgp t3"));
        let frr = customer_frr(&[&o, &b], Path::new("/s"));
        assert_eq!(frr[0].path, "zebra.conf");
        assert_eq!(frr[1].path, "bgpd.conf");
        let bgpd = &frr[1].text;
        for line in [
            "log file /s/bgpd.log\n",
            "router bgp 65001\n",
            " bgp router-id 203.0.113.60\n",
            " timers bgp 10 30\n",
            " neighbor 169.254.10.1 remote-as 64512\n",
            " neighbor 169.254.11.1 update-source 169.254.11.2\n",
            "  network 172.16.0.0/16\n",
            "ip prefix-list SITE seq 5 permit 172.16.0.0/16\n",
        ] {
            assert!(bgpd.contains(line), "{line:?} missing from\n{bgpd}");
        }
        assert!(!bgpd.contains("169.254.12.1"));
    }

    #[test]
    fn render_customer_formats() {
        let o = office();
        let dir = Path::new("/s");
        assert_eq!(render_customer(&[&o], Format::Strongswan, dir).len(), 8);
        assert_eq!(
            render_customer(&[&o], Format::Bird, dir),
            vec![customer_bird(&[&o], dir)]
        );
        assert_eq!(render_customer(&[&o], Format::Frr, dir).len(), 2);
        assert_eq!("bird".parse::<Format>(), Ok(Format::Bird));
        assert_eq!("frr".parse::<Format>(), Ok(Format::Frr));
        assert_eq!("strongswan".parse::<Format>(), Ok(Format::Strongswan));
        assert!("quagga".parse::<Format>().is_err());
    }
}

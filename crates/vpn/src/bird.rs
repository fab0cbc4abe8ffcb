//! A blocking client of BIRD 2's control socket (`bird -s PATH`, what `birdc`
//! talks to), and parsers of its replies: protocols (BGP sessions) and routes.
//!
//! The protocol is text. After the greeting `0001 BIRD 2.0.12 ready.`, each
//! command's reply is lines `NNNN-text` (more follows), ` text` (more follows, same
//! code as the line before) and ends with a line `NNNN text` (code, space). Codes
//! 0xxx mean done, 1xxx are table rows, 2xxx table headings, 8xxx runtime errors and
//! 9xxx syntax errors. Lines starting with `+` are asynchronous messages (skipped).
//!
//! The parsers are pure functions of the reply lines, tested on text captured from
//! BIRD 2.0.12.

use std::io::{self, BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use ipnet::Ipv4Net;

/// A reply: its lines as (code, text), continuation lines carrying the code of the
/// line before them, the final line included.
pub type Reply = Vec<(u16, String)>;

/// What can go wrong talking to BIRD.
#[derive(Debug, thiserror::Error)]
pub enum BirdError {
    /// The socket failed (a timeout leaves the connection unusable: reconnect).
    #[error("BIRD control socket: {0}")]
    Io(#[from] io::Error),
    /// BIRD closed the connection.
    #[error("BIRD control socket closed")]
    Closed,
    /// A line that doesn't follow the protocol, or an unexpected greeting.
    #[error("unexpected BIRD reply line {0:?}")]
    Protocol(String),
    /// The command failed: 8xxx (runtime) or 9xxx (syntax) and BIRD's message.
    #[error("BIRD error {code}: {text}")]
    Command {
        /// The reply code.
        code: u16,
        /// BIRD's message, e.g. `syntax error, unexpected CF_SYM_UNDEFINED`.
        text: String,
    },
    /// A command containing a line break.
    #[error("invalid BIRD command {0:?}")]
    InvalidCommand(String),
    /// An earlier read failed midway; the reply stream is out of step.
    #[error("BIRD connection out of step after an earlier error; reconnect")]
    Desynchronized,
}

/// A connection to BIRD's control socket.
#[derive(Debug)]
pub struct Control {
    reader: BufReader<UnixStream>,
    /// The greeting's version (`2.0.12`).
    version: String,
    broken: bool,
}

impl Control {
    /// Connects to the control socket at `path` and reads the greeting; `timeout`
    /// bounds every read and write.
    pub fn connect(path: impl AsRef<Path>, timeout: Duration) -> Result<Control, BirdError> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let mut c = Control {
            reader: BufReader::new(stream),
            version: String::new(),
            broken: false,
        };
        let greeting = c.read_reply()?;
        match greeting.first() {
            Some((1, text)) => {
                // `BIRD 2.0.12 ready.`
                c.version = text
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                Ok(c)
            }
            other => Err(BirdError::Protocol(format!("greeting {other:?}"))),
        }
    }

    /// BIRD's version, from the greeting.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Runs `cmd` (e.g. `show protocols all`) and returns its reply; an 8xxx/9xxx
    /// code is an error.
    pub fn command(&mut self, cmd: &str) -> Result<Reply, BirdError> {
        if cmd.contains(['\n', '\r']) {
            return Err(BirdError::InvalidCommand(cmd.to_string()));
        }
        if self.broken {
            return Err(BirdError::Desynchronized);
        }
        let stream = self.reader.get_mut();
        let sent = stream
            .write_all(format!("{cmd}\n").as_bytes())
            .and_then(|()| stream.flush());
        if let Err(e) = sent {
            self.broken = true;
            return Err(e.into());
        }
        let reply = self.read_reply()?;
        if let Some((code, text)) = reply.iter().find(|(code, _)| *code >= 8000) {
            return Err(BirdError::Command {
                code: *code,
                text: text.clone(),
            });
        }
        Ok(reply)
    }

    /// `show protocols all` (or `show protocols all NAME`), parsed.
    pub fn protocols(&mut self, name: Option<&str>) -> Result<Vec<Protocol>, BirdError> {
        let cmd = match name {
            Some(n) => format!("show protocols all {n}"),
            None => "show protocols all".to_string(),
        };
        Ok(protocols(&self.command(&cmd)?))
    }

    /// `show route all protocol NAME`, parsed.
    pub fn routes_of(&mut self, protocol: &str) -> Result<Vec<Route>, BirdError> {
        Ok(routes(
            &self.command(&format!("show route all protocol {protocol}"))?,
        ))
    }

    /// How many routes protocol `protocol` has in its table, best or not
    /// (`show route protocol NAME count`).
    pub fn count_routes_of(&mut self, protocol: &str) -> Result<u64, BirdError> {
        let reply = self.command(&format!("show route protocol {protocol} count"))?;
        route_count(&reply).ok_or_else(|| BirdError::Protocol(format!("{reply:?}")))
    }

    fn read_reply(&mut self) -> Result<Reply, BirdError> {
        let mut lines = Vec::new();
        let mut last_code = 0u16;
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => {
                    self.broken = true;
                    return Err(BirdError::Closed);
                }
                Ok(_) => {}
                Err(e) => {
                    self.broken = true;
                    return Err(e.into());
                }
            }
            let line = line.strip_suffix('\n').unwrap_or(&line);
            match parse_line(line, last_code) {
                Line::Async => {}
                Line::More(code, text) => {
                    last_code = code;
                    lines.push((code, text.to_string()));
                }
                Line::Last(code, text) => {
                    lines.push((code, text.to_string()));
                    return Ok(lines);
                }
                Line::Bad => {
                    self.broken = true;
                    return Err(BirdError::Protocol(line.to_string()));
                }
            }
        }
    }
}

enum Line<'a> {
    More(u16, &'a str),
    Last(u16, &'a str),
    Async,
    Bad,
}

fn parse_line(line: &str, last_code: u16) -> Line<'_> {
    let b = line.as_bytes();
    if b.len() >= 4 && b[..4].iter().all(u8::is_ascii_digit) {
        let Ok(code) = line[..4].parse::<u16>() else {
            return Line::Bad;
        };
        match b.get(4) {
            None => Line::Last(code, ""),
            Some(b' ') => Line::Last(code, &line[5..]),
            Some(b'-') => Line::More(code, &line[5..]),
            Some(_) => Line::Bad,
        }
    } else if let Some(text) = line.strip_prefix(' ') {
        Line::More(last_code, text)
    } else if line.starts_with('+') {
        Line::Async
    } else {
        Line::Bad
    }
}

/// A protocol instance as `show protocols [all]` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protocol {
    /// Its name (`tun1`).
    pub name: String,
    /// Its protocol (`BGP`, `Static`, `Device`, `Kernel`, ...).
    pub proto: String,
    /// Its table (`master4`, or `---` for BGP, whose tables are per channel).
    pub table: String,
    /// `up`, `start`, `down`, `flush`, ...
    pub state: String,
    /// Since when it has been in this state, as BIRD prints it (depends on
    /// `timeformat protocol`: `09:00:24.793` or `2026-12-06 09:00:24`).
    pub since: String,
    /// The first word of the info column: for BGP `Established`, `Active`,
    /// `Connect`, `Idle`, `OpenSent`, `OpenConfirm`, ...; may be empty.
    pub info: String,
    /// The rest of the info column, e.g. `Socket: Connection refused` or
    /// `Error: Hold timer expired`.
    pub info_detail: Option<String>,
    /// With `all`, for BGP: the `BGP state` line.
    pub bgp_state: Option<String>,
    /// With `all`, for BGP: the neighbor's address.
    pub neighbor_address: Option<String>,
    /// With `all`, for BGP: the neighbor's AS.
    pub neighbor_as: Option<u32>,
    /// With `all`, for BGP: the last error (`Socket: Connection refused`, `Received:
    /// Hold timer expired`, ...).
    pub last_error: Option<String>,
    /// With `all`: routes imported (over all channels).
    pub routes_imported: Option<u64>,
    /// With `all`: routes exported (over all channels).
    pub routes_exported: Option<u64>,
}

impl Protocol {
    /// Whether this is a BGP session in state Established.
    pub fn is_established(&self) -> bool {
        self.state == "up" && self.info == "Established"
    }
}

/// Whether `s` looks like a date `YYYY-MM-DD` (BIRD's `iso` time formats put a
/// space between date and time).
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn parse_protocol_row(text: &str) -> Option<Protocol> {
    let mut words = text.split_whitespace();
    let name = words.next()?.to_string();
    let proto = words.next()?.to_string();
    let table = words.next()?.to_string();
    let state = words.next()?.to_string();
    let mut since = words.next().unwrap_or_default().to_string();
    let mut rest: Vec<&str> = words.collect();
    if is_date(&since) && rest.first().is_some_and(|t| t.contains(':')) {
        since = format!("{since} {}", rest.remove(0));
    }
    let info = rest.first().map(|s| s.to_string()).unwrap_or_default();
    let detail = (rest.len() > 1).then(|| rest[1..].join(" "));
    Some(Protocol {
        name,
        proto,
        table,
        state,
        since,
        info,
        info_detail: detail,
        ..Protocol::default()
    })
}

/// The protocols of a `show protocols` or `show protocols all` reply.
pub fn protocols(reply: &[(u16, String)]) -> Vec<Protocol> {
    let mut out: Vec<Protocol> = Vec::new();
    for (code, text) in reply {
        match code {
            1002 => {
                if let Some(p) = parse_protocol_row(text) {
                    out.push(p);
                }
            }
            1006 => {
                let Some(p) = out.last_mut() else { continue };
                let Some((key, value)) = text.split_once(':') else {
                    continue;
                };
                let value = value.trim();
                match key.trim() {
                    "BGP state" => p.bgp_state = Some(value.to_string()),
                    "Neighbor address" => p.neighbor_address = Some(value.to_string()),
                    "Neighbor AS" => p.neighbor_as = value.parse().ok(),
                    "Last error" => p.last_error = Some(value.to_string()),
                    "Routes" => {
                        // `2 imported, 1 exported, 2 preferred` (also `filtered`).
                        for part in value.split(',') {
                            let mut it = part.split_whitespace();
                            let (Some(n), Some(what)) = (it.next(), it.next()) else {
                                continue;
                            };
                            let Ok(n) = n.parse::<u64>() else { continue };
                            let slot = match what {
                                "imported" => &mut p.routes_imported,
                                "exported" => &mut p.routes_exported,
                                _ => continue,
                            };
                            *slot = Some(slot.unwrap_or(0) + n);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    out
}

/// A route as `show route [all]` shows it (IPv4 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The prefix.
    pub prefix: Ipv4Net,
    /// `unicast`, `blackhole`, `unreachable`, `prohibit`.
    pub kind: String,
    /// The protocol that brought it (`tun1`, `vpc`).
    pub protocol: String,
    /// Whether it is the best (exported) route for its prefix (`*`).
    pub primary: bool,
    /// The gateway of its (first) next hop.
    pub via: Option<Ipv4Addr>,
    /// The interface of its (first) next hop.
    pub dev: Option<String>,
    /// `BGP.as_path` (with `all`; AS sets flattened).
    pub as_path: Option<Vec<u32>>,
}

/// Parses a route line's text after the prefix: `unicast [tun1 09:00:27.149] *
/// (100) [AS65001i]`.
fn parse_route_rest(prefix: Ipv4Net, rest: &str) -> Option<Route> {
    let rest = rest.trim_start();
    let (kind, rest) = rest.split_once(char::is_whitespace)?;
    let rest = rest.trim_start().strip_prefix('[')?;
    let (inside, after) = rest.split_once(']')?;
    let protocol = inside.split_whitespace().next()?.to_string();
    Some(Route {
        prefix,
        kind: kind.to_string(),
        protocol,
        primary: after.split_whitespace().next() == Some("*"),
        via: None,
        dev: None,
        as_path: None,
    })
}

/// The routes of a `show route [all] [protocol X] [for ...]` reply. Alternative
/// routes for a prefix (printed without it) are included; IPv6 routes are skipped.
pub fn routes(reply: &[(u16, String)]) -> Vec<Route> {
    let mut out: Vec<Route> = Vec::new();
    // The prefix of the last route line; None after a non-IPv4 one.
    let mut prefix: Option<Ipv4Net> = None;
    // Whether the last route line was kept (its next hops and attributes follow).
    let mut current = false;
    for (code, text) in reply {
        match code {
            1007 => {
                if let Some(hop) = text.strip_prefix('\t') {
                    if !current {
                        continue;
                    }
                    let Some(r) = out.last_mut() else { continue };
                    let words: Vec<&str> = hop.split_whitespace().collect();
                    if r.via.is_some() || r.dev.is_some() {
                        continue; // further next hops of a multipath route
                    }
                    match words.as_slice() {
                        ["via", gw, "on", dev, ..] => {
                            r.via = gw.parse().ok();
                            r.dev = Some(dev.to_string());
                        }
                        ["dev", dev, ..] => r.dev = Some(dev.to_string()),
                        _ => {}
                    }
                    continue;
                }
                if text.starts_with("Table ") || !text.contains('[') {
                    continue;
                }
                let rest = if text.starts_with(char::is_whitespace) {
                    text.as_str()
                } else {
                    let (first, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
                    prefix = first.parse::<Ipv4Net>().ok();
                    rest
                };
                current = false;
                if let Some(route) = prefix.and_then(|p| parse_route_rest(p, rest)) {
                    out.push(route);
                    current = true;
                }
            }
            1012 if current => {
                let Some(r) = out.last_mut() else { continue };
                if let Some(path) = text.trim_start().strip_prefix("BGP.as_path:") {
                    r.as_path = Some(
                        path.split(|c: char| c.is_whitespace() || c == '{' || c == '}' || c == ',')
                            .filter_map(|t| t.parse().ok())
                            .collect(),
                    );
                }
            }
            _ => {}
        }
    }
    out
}

/// The routes of protocol `protocol` among `routes`.
pub fn count_routes_of(routes: &[Route], protocol: &str) -> usize {
    routes.iter().filter(|r| r.protocol == protocol).count()
}

/// The number of matching routes of a `show route ... count` reply (`2 of 3 routes
/// for 3 networks in table master4`, summed over tables).
pub fn route_count(reply: &[(u16, String)]) -> Option<u64> {
    let mut total = None;
    for (code, text) in reply {
        if *code != 1007 {
            continue;
        }
        let mut words = text.split_whitespace();
        if let (Some(n), Some("of")) = (words.next(), words.next())
            && let Ok(n) = n.parse::<u64>()
        {
            total = Some(total.unwrap_or(0) + n);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Splits raw socket text into a reply the way `Control` does.
    fn reply(raw: &str) -> Reply {
        let mut out = Vec::new();
        let mut last = 0;
        for line in raw.lines() {
            match parse_line(line, last) {
                Line::More(c, t) => {
                    last = c;
                    out.push((c, t.to_string()));
                }
                Line::Last(c, t) => out.push((c, t.to_string())),
                Line::Async => {}
                Line::Bad => panic!("bad line {line:?}"),
            }
        }
        out
    }

    // Captured from BIRD 2.0.12 (two BIRDs over a veth pair), verbatim.
    const PROTOCOLS_ALL: &str = "2002-Name       Proto      Table      State  Since         Info
1002-device1    Device     ---        up     08:59:34.306  
1006-
1002-vpc        Static     master4    up     08:59:34.306  
1006-  Channel ipv4
     State:          UP
     Table:          master4
     Preference:     200
     Input filter:   ACCEPT
     Output filter:  REJECT
     Routes:         1 imported, 0 exported, 1 preferred
     Route change stats:     received   rejected   filtered    ignored   accepted
       Import updates:              1          0          0          0          1
       Import withdraws:            0          0        ---          0          0
       Export updates:              0          0          0        ---          0
       Export withdraws:            0        ---        ---        ---          0
 
1002-tun1       BGP        ---        up     08:59:35.121  Established   
1006-  BGP state:          Established
     Neighbor address: 169.254.20.2
     Neighbor AS:      65001
     Local AS:         64512
     Neighbor ID:      169.254.20.2
     Local capabilities
       Multiprotocol
         AF announced: ipv4
       Route refresh
       4-octet AS numbers
       Enhanced refresh
     Neighbor capabilities
       Multiprotocol
         AF announced: ipv4
       Route refresh
       4-octet AS numbers
       Enhanced refresh
     Session:          external AS4
     Source address:   169.254.20.1
     Hold timer:       20.770/30
     Keepalive timer:  0.815/10
   Channel ipv4
     State:          UP
     Table:          master4
     Preference:     100
     Input filter:   ACCEPT
     Output filter:  (unnamed)
     Routes:         2 imported, 1 exported, 2 preferred
     Route change stats:     received   rejected   filtered    ignored   accepted
       Import updates:              2          0          0          0          2
       Import withdraws:            0          0        ---          0          0
       Export updates:              3          2          0        ---          1
       Export withdraws:            0        ---        ---        ---          0
     BGP Next hop:   169.254.20.1
 
1002-tun2       BGP        ---        start  08:59:34.306  Idle          
1006-  BGP state:          Idle
     Neighbor address: 169.254.21.2
     Neighbor AS:      65001
     Local AS:         64512
   Channel ipv4
     State:          DOWN
     Table:          master4
     Preference:     100
     Input filter:   ACCEPT
     Output filter:  (unnamed)
 
0000 
";

    #[test]
    fn parses_show_protocols_all() {
        let p = protocols(&reply(PROTOCOLS_ALL));
        assert_eq!(p.len(), 4);
        assert_eq!(
            p[0],
            Protocol {
                name: "device1".into(),
                proto: "Device".into(),
                table: "---".into(),
                state: "up".into(),
                since: "08:59:34.306".into(),
                ..Protocol::default()
            }
        );
        assert_eq!(p[1].routes_imported, Some(1));
        assert_eq!(
            p[2],
            Protocol {
                name: "tun1".into(),
                proto: "BGP".into(),
                table: "---".into(),
                state: "up".into(),
                since: "08:59:35.121".into(),
                info: "Established".into(),
                info_detail: None,
                bgp_state: Some("Established".into()),
                neighbor_address: Some("169.254.20.2".into()),
                neighbor_as: Some(65001),
                last_error: None,
                routes_imported: Some(2),
                routes_exported: Some(1),
            }
        );
        assert!(p[2].is_established());
        assert_eq!(p[3].state, "start");
        assert_eq!(p[3].info, "Idle");
        assert_eq!(p[3].bgp_state.as_deref(), Some("Idle"));
        assert_eq!(p[3].routes_imported, None);
        assert!(!p[3].is_established());
    }

    #[test]
    fn parses_active_session_with_error_and_iso_time() {
        let raw = "2002-Name       Proto      Table      State  Since         Info
1002-tun1       BGP        ---        start  09:00:03.396  Active        Socket: Connection refused
1006-  BGP state:          Active
     Neighbor address: 169.254.20.2
     Neighbor AS:      65001
     Local AS:         64512
     Connect delay:    0.350/1
     Last error:       Socket: Connection refused
   Channel ipv4
     State:          DOWN
     Table:          master4
     Preference:     100
     Input filter:   ACCEPT
     Output filter:  (unnamed)
 
0000 
";
        let p = protocols(&reply(raw));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].info, "Active");
        assert_eq!(
            p[0].info_detail.as_deref(),
            Some("Socket: Connection refused")
        );
        assert_eq!(
            p[0].last_error.as_deref(),
            Some("Socket: Connection refused")
        );
        // `timeformat protocol iso long`, a name wider than its column.
        let raw = "2002-Name       Proto      Table      State  Since         Info
1002-device1    Device     ---        up     2026-12-06 09:00:24  
 vpc        Static     master4    up     2026-12-06 09:00:24  
 a_long_protocol_name_tun1 BGP        ---        up     2026-12-06 09:00:24  Established   
 tun2       BGP        ---        up     2026-12-06 09:00:43  Established   
0000 
";
        let p = protocols(&reply(raw));
        assert_eq!(p.len(), 4);
        assert_eq!(p[2].name, "a_long_protocol_name_tun1");
        assert_eq!(p[2].since, "2026-12-06 09:00:24");
        assert_eq!(p[2].info, "Established");
        assert_eq!(p[1].since, "2026-12-06 09:00:24");
        assert_eq!(p[1].info, "");
    }

    #[test]
    fn parses_show_route_all_with_alternatives() {
        let raw = "1007-Table master4:
 172.16.0.0/16        unicast [a_long_protocol_name_tun1 2026-12-06 09:00:27] * (100) [AS65001i]
 \tvia 169.254.20.2 on v1
1008-\tType: BGP univ
1012-\tBGP.origin: IGP
 \tBGP.as_path: 65001
 \tBGP.next_hop: 169.254.20.2
 \tBGP.local_pref: 100
1007-                     unicast [tun2 2026-12-06 09:00:43] (100) [AS65001i]
 \tvia 169.254.21.2 on w1
1008-\tType: BGP univ
1012-\tBGP.origin: IGP
 \tBGP.as_path: 65001 65001
 \tBGP.next_hop: 169.254.21.2
 \tBGP.local_pref: 100
1007-10.30.0.0/16         unicast [vpc 2026-12-06 09:00:54] * (200)
 \tdev v1
1008-\tType: static univ
1007-10.20.0.0/16         blackhole [vpc 2026-12-06 09:00:24] * (200)
1008-\tType: static univ
0000 
";
        let r = routes(&reply(raw));
        let net = |s: &str| s.parse::<Ipv4Net>().unwrap();
        assert_eq!(
            r,
            [
                Route {
                    prefix: net("172.16.0.0/16"),
                    kind: "unicast".into(),
                    protocol: "a_long_protocol_name_tun1".into(),
                    primary: true,
                    via: Some(Ipv4Addr::new(169, 254, 20, 2)),
                    dev: Some("v1".into()),
                    as_path: Some(vec![65001]),
                },
                Route {
                    prefix: net("172.16.0.0/16"),
                    kind: "unicast".into(),
                    protocol: "tun2".into(),
                    primary: false,
                    via: Some(Ipv4Addr::new(169, 254, 21, 2)),
                    dev: Some("w1".into()),
                    as_path: Some(vec![65001, 65001]),
                },
                Route {
                    prefix: net("10.30.0.0/16"),
                    kind: "unicast".into(),
                    protocol: "vpc".into(),
                    primary: true,
                    via: None,
                    dev: Some("v1".into()),
                    as_path: None,
                },
                Route {
                    prefix: net("10.20.0.0/16"),
                    kind: "blackhole".into(),
                    protocol: "vpc".into(),
                    primary: true,
                    via: None,
                    dev: None,
                    as_path: None,
                },
            ]
        );
        assert_eq!(count_routes_of(&r, "vpc"), 2);
        assert_eq!(count_routes_of(&r, "tun2"), 1);
    }

    #[test]
    fn parses_show_route_short_form() {
        let raw = "1007-Table master4:
 10.20.0.0/16         blackhole [vpc 2026-12-06 09:00:24] * (200)
 172.16.0.0/16        unicast [a_long_protocol_name_tun1 2026-12-06 09:00:27] * (100) [AS65001i]
 \tvia 169.254.20.2 on v1
                      unicast [tun2 2026-12-06 09:00:43] (100) [AS65001i]
 \tvia 169.254.21.2 on w1
 172.17.0.0/16        unicast [tun2 2026-12-06 09:00:43] * (100) [AS65001i]
 \tvia 169.254.21.2 on w1
                      unicast [a_long_protocol_name_tun1 2026-12-06 09:00:27] (100) [AS65001i]
 \tvia 169.254.20.2 on v1
 2001:db8::/32        unicast [tun3 2026-12-06 09:00:27] * (100) [AS65001i]
 \tvia 2001:db8::1 on v1
0000 
";
        let r = routes(&reply(raw));
        assert_eq!(r.len(), 5);
        assert_eq!(r[3].prefix.to_string(), "172.17.0.0/16");
        assert_eq!(r[3].protocol, "tun2");
        assert!(r[3].primary);
        assert_eq!(r[4].prefix.to_string(), "172.17.0.0/16");
        assert_eq!(r[4].protocol, "a_long_protocol_name_tun1");
        assert!(!r[4].primary);
        assert_eq!(r[4].via, Some(Ipv4Addr::new(169, 254, 20, 2)));
        assert_eq!(r[4].as_path, None);
        assert_eq!(count_routes_of(&r, "tun2"), 2);
        assert_eq!(count_routes_of(&r, "tun3"), 0);
    }

    #[test]
    fn reply_framing() {
        assert_eq!(
            reply("1007-2 of 3 routes for 3 networks in table master4\n0000 \n"),
            [
                (
                    1007,
                    "2 of 3 routes for 3 networks in table master4".to_string()
                ),
                (0, String::new())
            ]
        );
        let r = reply(
            "1007-3 of 3 routes for 3 networks in table master4\n 0 of 0 routes for 0 networks in table master6\n0014 Total: 3 of 3 routes for 3 networks in 2 tables\n",
        );
        assert_eq!(r[1].0, 1007);
        assert_eq!(route_count(&r), Some(3));
        assert_eq!(r.last().unwrap().0, 14);
        assert!(matches!(parse_line("0000", 0), Line::Last(0, "")));
        assert!(matches!(parse_line("+ async", 0), Line::Async));
        assert!(matches!(parse_line("garbage", 0), Line::Bad));
        assert!(matches!(
            parse_line("9001 syntax error, unexpected CF_SYM_UNDEFINED", 0),
            Line::Last(9001, _)
        ));
    }

    /// `Control` against a fake BIRD on a socket: greeting, a reply, an error.
    #[test]
    fn control_against_fake_bird() {
        use std::io::Read;
        let dir = std::env::temp_dir().join(format!("vpc-vpn-bird-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bird.ctl");
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"0001 BIRD 2.0.12 ready.\n").unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"show route protocol tun1 count\n");
            s.write_all(b"1007-2 of 3 routes for 3 networks in table master4\n0000 \n")
                .unwrap();
            let n = s.read(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"shw\n");
            s.write_all(b"9001 syntax error, unexpected CF_SYM_UNDEFINED\n")
                .unwrap();
        });
        let mut c = Control::connect(&path, Duration::from_secs(5)).unwrap();
        assert_eq!(c.version(), "2.0.12");
        assert_eq!(c.count_routes_of("tun1").unwrap(), 2);
        let e = c.command("shw").unwrap_err();
        assert!(matches!(e, BirdError::Command { code: 9001, .. }), "{e}");
        assert!(matches!(
            c.command("a\nb"),
            Err(BirdError::InvalidCommand(_))
        ));
        server.join().unwrap();
        assert!(matches!(
            c.command("show status"),
            Err(BirdError::Closed | BirdError::Io(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! A blocking client of strongSwan's VICI control socket (one charon per tunnel):
//! the message format, commands (`load-conn`, `load-shared`, `initiate`,
//! `terminate`, `list-sas`, ...) and events (`ike-updown`, `child-updown`, ...).
//!
//! Hand-written rather than using the `rustici` crate: that crate is LGPL-2.1
//! (this workspace is Apache-2.0 and Rust links statically), has a single
//! maintainer and few users, and the wire format is small (a length-prefixed
//! packet of typed elements), so owning ~500 lines is cheaper than the dependency.
//!
//! Wire format (strongSwan `src/libcharon/plugins/vici/README.md`): a 4-byte
//! big-endian length, then the packet: a `u8` type, for named types a `u8` name
//! length and the name, then for commands, responses and events a message made of
//! elements (section start/end, key-value, list start/item/end).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// The largest packet charon accepts or sends (`VICI_MESSAGE_SIZE_MAX`).
pub const MAX_PACKET: usize = 512 * 1024;

// Packet types.
const CMD_REQUEST: u8 = 0;
const CMD_RESPONSE: u8 = 1;
const CMD_UNKNOWN: u8 = 2;
const EVENT_REGISTER: u8 = 3;
const EVENT_UNREGISTER: u8 = 4;
const EVENT_CONFIRM: u8 = 5;
const EVENT_UNKNOWN: u8 = 6;
const EVENT: u8 = 7;

// Message element types.
const SECTION_START: u8 = 1;
const SECTION_END: u8 = 2;
const KEY_VALUE: u8 = 3;
const LIST_START: u8 = 4;
const LIST_ITEM: u8 = 5;
const LIST_END: u8 = 6;

/// What can go wrong talking VICI.
#[derive(Debug, thiserror::Error)]
pub enum ViciError {
    /// The socket failed (including a read timeout: see [`ViciError::is_timeout`]).
    #[error("VICI socket: {0}")]
    Io(#[from] io::Error),
    /// charon closed the connection.
    #[error("VICI socket closed by charon")]
    Closed,
    /// A packet or message that doesn't follow the format.
    #[error("malformed VICI data: {0}")]
    Malformed(String),
    /// A message too large for the format (a name over 255 bytes, a value over
    /// 65535 bytes, a packet over [`MAX_PACKET`]).
    #[error("VICI message too large: {0}")]
    TooLarge(String),
    /// charon doesn't know this command.
    #[error("charon does not know the VICI command {0:?}")]
    UnknownCommand(String),
    /// charon doesn't know this event.
    #[error("charon does not know the VICI event {0:?}")]
    UnknownEvent(String),
    /// A packet of a type not expected at this point.
    #[error("unexpected VICI packet type {0}")]
    Unexpected(u8),
    /// The command ran and failed (`success = no`); charon's `errmsg`.
    #[error("{cmd} failed: {errmsg}")]
    Failed {
        /// The command.
        cmd: String,
        /// charon's error message (empty if it gave none).
        errmsg: String,
    },
}

impl ViciError {
    /// Whether this is a read (or write) timeout, after which the connection is
    /// still usable (partial packets are kept).
    pub fn is_timeout(&self) -> bool {
        matches!(self, ViciError::Io(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }
}

/// A value in a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A key-value's value (usually text; VICI allows any bytes).
    Str(Vec<u8>),
    /// A named section.
    Section(Message),
    /// A list of text items (items that aren't UTF-8 are decoded lossily).
    List(Vec<String>),
}

/// A VICI message: an ordered tree of key-values, sections and lists. Names may
/// repeat (charon's messages don't, but the format allows it); getters return the
/// first match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The elements in order.
    pub entries: Vec<(String, Value)>,
}

impl Message {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder: adds a key-value.
    pub fn with_str(mut self, key: impl Into<String>, value: impl AsRef<[u8]>) -> Self {
        self.push_str(key, value);
        self
    }

    /// Builder: adds a list.
    pub fn with_list<I, S>(mut self, key: impl Into<String>, items: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.push_list(key, items);
        self
    }

    /// Builder: adds a section.
    pub fn with_section(mut self, name: impl Into<String>, section: Message) -> Self {
        self.push_section(name, section);
        self
    }

    /// Adds a key-value.
    pub fn push_str(&mut self, key: impl Into<String>, value: impl AsRef<[u8]>) {
        self.entries
            .push((key.into(), Value::Str(value.as_ref().to_vec())));
    }

    /// Adds a list.
    pub fn push_list<I, S>(&mut self, key: impl Into<String>, items: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.entries.push((
            key.into(),
            Value::List(items.into_iter().map(Into::into).collect()),
        ));
    }

    /// Adds a section.
    pub fn push_section(&mut self, name: impl Into<String>, section: Message) {
        self.entries.push((name.into(), Value::Section(section)));
    }

    /// The first element named `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The value of key `key` as bytes.
    pub fn get_bytes(&self, key: &str) -> Option<&[u8]> {
        match self.get(key) {
            Some(Value::Str(v)) => Some(v),
            _ => None,
        }
    }

    /// The value of key `key` as text (`None` if absent, not a key-value or not
    /// UTF-8).
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get_bytes(key)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The value of key `key` as an unsigned number.
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get_str(key).and_then(|v| v.parse().ok())
    }

    /// The value of key `key` as a VICI boolean (`yes`/`true`/`1` or
    /// `no`/`false`/`0`).
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        match self.get_str(key)? {
            "yes" | "true" | "1" => Some(true),
            "no" | "false" | "0" => Some(false),
            _ => None,
        }
    }

    /// The list `key`.
    pub fn get_list(&self, key: &str) -> Option<&[String]> {
        match self.get(key) {
            Some(Value::List(v)) => Some(v),
            _ => None,
        }
    }

    /// The section `name`.
    pub fn section(&self, name: &str) -> Option<&Message> {
        match self.get(name) {
            Some(Value::Section(m)) => Some(m),
            _ => None,
        }
    }

    /// All sections, in order, with their names.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Message)> {
        self.entries.iter().filter_map(|(k, v)| match v {
            Value::Section(m) => Some((k.as_str(), m)),
            _ => None,
        })
    }

    /// The message in wire form (without the packet header).
    pub fn encode(&self) -> Result<Vec<u8>, ViciError> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), ViciError> {
        for (name, value) in &self.entries {
            match value {
                Value::Str(v) => {
                    out.push(KEY_VALUE);
                    put_name(out, name)?;
                    put_value(out, v)?;
                }
                Value::Section(m) => {
                    out.push(SECTION_START);
                    put_name(out, name)?;
                    m.encode_into(out)?;
                    out.push(SECTION_END);
                }
                Value::List(items) => {
                    out.push(LIST_START);
                    put_name(out, name)?;
                    for item in items {
                        out.push(LIST_ITEM);
                        put_value(out, item.as_bytes())?;
                    }
                    out.push(LIST_END);
                }
            }
        }
        Ok(())
    }

    /// Parses a message in wire form (without the packet header).
    pub fn decode(data: &[u8]) -> Result<Message, ViciError> {
        let mut cur = Cursor { data, pos: 0 };
        // The stack of open sections: (name, message); the root has no name.
        let mut stack: Vec<(String, Message)> = vec![(String::new(), Message::new())];
        while let Some(kind) = cur.u8_opt() {
            match kind {
                SECTION_START => {
                    let name = cur.name()?;
                    stack.push((name, Message::new()));
                }
                SECTION_END => {
                    if stack.len() < 2 {
                        return Err(ViciError::Malformed("section end at top level".into()));
                    }
                    let (name, done) = stack
                        .pop()
                        .ok_or_else(|| ViciError::Malformed("section stack".into()))?;
                    top(&mut stack)?.push_section(name, done);
                }
                KEY_VALUE => {
                    let key = cur.name()?;
                    let value = cur.value()?;
                    top(&mut stack)?
                        .entries
                        .push((key, Value::Str(value.to_vec())));
                }
                LIST_START => {
                    let key = cur.name()?;
                    let mut items = Vec::new();
                    loop {
                        match cur.u8()? {
                            LIST_ITEM => {
                                items.push(String::from_utf8_lossy(cur.value()?).into_owned())
                            }
                            LIST_END => break,
                            other => {
                                return Err(ViciError::Malformed(format!(
                                    "element type {other} inside list {key:?}"
                                )));
                            }
                        }
                    }
                    top(&mut stack)?.entries.push((key, Value::List(items)));
                }
                other => {
                    return Err(ViciError::Malformed(format!("element type {other}")));
                }
            }
        }
        if stack.len() != 1 {
            return Err(ViciError::Malformed("unterminated section".into()));
        }
        stack
            .pop()
            .map(|(_, m)| m)
            .ok_or_else(|| ViciError::Malformed("section stack".into()))
    }

    /// `Err(Failed)` if this is a reply with `success = no` (with its `errmsg`).
    pub fn check_success(&self, cmd: &str) -> Result<(), ViciError> {
        match self.get_bool("success") {
            Some(false) => Err(ViciError::Failed {
                cmd: cmd.to_string(),
                errmsg: self.get_str("errmsg").unwrap_or_default().to_string(),
            }),
            _ => Ok(()),
        }
    }
}

fn top(stack: &mut [(String, Message)]) -> Result<&mut Message, ViciError> {
    stack
        .last_mut()
        .map(|(_, m)| m)
        .ok_or_else(|| ViciError::Malformed("section stack".into()))
}

fn put_name(out: &mut Vec<u8>, name: &str) -> Result<(), ViciError> {
    let len = u8::try_from(name.len())
        .map_err(|_| ViciError::TooLarge(format!("name of {} bytes", name.len())))?;
    out.push(len);
    out.extend_from_slice(name.as_bytes());
    Ok(())
}

fn put_value(out: &mut Vec<u8>, value: &[u8]) -> Result<(), ViciError> {
    let len = u16::try_from(value.len())
        .map_err(|_| ViciError::TooLarge(format!("value of {} bytes", value.len())))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
    Ok(())
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn u8_opt(&mut self) -> Option<u8> {
        let b = self.data.get(self.pos).copied()?;
        self.pos += 1;
        Some(b)
    }

    fn u8(&mut self) -> Result<u8, ViciError> {
        self.u8_opt()
            .ok_or_else(|| ViciError::Malformed("truncated".into()))
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], ViciError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| ViciError::Malformed("truncated".into()))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn name(&mut self) -> Result<String, ViciError> {
        let len = usize::from(self.u8()?);
        let raw = self.bytes(len)?;
        String::from_utf8(raw.to_vec())
            .map_err(|_| ViciError::Malformed("name is not UTF-8".into()))
    }

    fn value(&mut self) -> Result<&'a [u8], ViciError> {
        let len = self.bytes(2)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        self.bytes(len)
    }
}

/// One packet as read from the socket.
#[derive(Debug)]
enum Packet {
    Response(Message),
    UnknownCmd,
    Confirm,
    UnknownEvent,
    Event(String, Message),
    Other(u8),
}

fn decode_packet(frame: &[u8]) -> Result<Packet, ViciError> {
    let mut cur = Cursor {
        data: frame,
        pos: 0,
    };
    let kind = cur.u8()?;
    Ok(match kind {
        CMD_RESPONSE => Packet::Response(Message::decode(&frame[1..])?),
        CMD_UNKNOWN => Packet::UnknownCmd,
        EVENT_CONFIRM => Packet::Confirm,
        EVENT_UNKNOWN => Packet::UnknownEvent,
        EVENT => {
            let name = cur.name()?;
            Packet::Event(name, Message::decode(&frame[cur.pos..])?)
        }
        other => Packet::Other(other),
    })
}

/// Encodes a whole packet, length prefix included.
fn encode_packet(kind: u8, name: &str, msg: Option<&Message>) -> Result<Vec<u8>, ViciError> {
    let mut body = vec![kind];
    put_name(&mut body, name)?;
    if let Some(msg) = msg {
        msg.encode_into(&mut body)?;
    }
    if body.len() > MAX_PACKET {
        return Err(ViciError::TooLarge(format!(
            "packet of {} bytes",
            body.len()
        )));
    }
    let len = u32::try_from(body.len())
        .map_err(|_| ViciError::TooLarge(format!("packet of {} bytes", body.len())))?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    Ok(out)
}

/// A connection to charon's VICI socket.
///
/// Events that arrive while waiting for a command's response (on a connection that
/// registered for some) are kept and returned by [`Client::next_event`].
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    /// Bytes read but not yet making a whole packet (kept across timeouts).
    rbuf: Vec<u8>,
    pending: VecDeque<(String, Message)>,
    /// Used by [`Client::initiate`] to bound charon's own wait.
    timeout: Duration,
}

/// The unique id [`Client::load_shared`] gives the pre-shared key between `id_a`
/// and `id_b` (for [`Client::unload_shared`]).
pub fn shared_key_id(id_a: &str, id_b: &str) -> String {
    format!("ike-{id_a}-{id_b}")
}

impl Client {
    /// Connects to the VICI socket at `path`; `timeout` bounds every read and write
    /// (see [`Client::set_read_timeout`] for an event connection).
    pub fn connect(path: impl AsRef<Path>, timeout: Duration) -> Result<Client, ViciError> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Client {
            stream,
            rbuf: Vec::new(),
            pending: VecDeque::new(),
            timeout,
        })
    }

    /// Sets the read timeout (`None`: block until something arrives).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<(), ViciError> {
        self.stream.set_read_timeout(timeout)?;
        Ok(())
    }

    fn send(&mut self, packet: &[u8]) -> Result<(), ViciError> {
        self.stream.write_all(packet)?;
        Ok(())
    }

    /// Reads one whole packet (its body, without the length).
    fn read_frame(&mut self) -> Result<Vec<u8>, ViciError> {
        loop {
            if self.rbuf.len() >= 4 {
                let len =
                    u32::from_be_bytes([self.rbuf[0], self.rbuf[1], self.rbuf[2], self.rbuf[3]]);
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                if len > MAX_PACKET {
                    return Err(ViciError::Malformed(format!("packet length {len}")));
                }
                if self.rbuf.len() >= 4 + len {
                    let frame = self.rbuf[4..4 + len].to_vec();
                    self.rbuf.drain(..4 + len);
                    return Ok(frame);
                }
            }
            let mut buf = [0u8; 16 * 1024];
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(ViciError::Closed),
                Ok(n) => self.rbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn read_packet(&mut self) -> Result<Packet, ViciError> {
        let frame = self.read_frame()?;
        decode_packet(&frame)
    }

    /// Sends command `cmd` and returns charon's response. An unknown command is an
    /// error; a response with `success = no` is returned as is (see
    /// [`Client::call`]).
    pub fn request(&mut self, cmd: &str, msg: &Message) -> Result<Message, ViciError> {
        let packet = encode_packet(CMD_REQUEST, cmd, Some(msg))?;
        self.send(&packet)?;
        loop {
            match self.read_packet()? {
                Packet::Response(m) => return Ok(m),
                Packet::UnknownCmd => return Err(ViciError::UnknownCommand(cmd.to_string())),
                Packet::Event(name, m) => self.pending.push_back((name, m)),
                Packet::Confirm => return Err(ViciError::Unexpected(EVENT_CONFIRM)),
                Packet::UnknownEvent => return Err(ViciError::Unexpected(EVENT_UNKNOWN)),
                Packet::Other(t) => return Err(ViciError::Unexpected(t)),
            }
        }
    }

    /// [`Client::request`], then `success = no` becomes [`ViciError::Failed`].
    pub fn call(&mut self, cmd: &str, msg: &Message) -> Result<Message, ViciError> {
        let reply = self.request(cmd, msg)?;
        reply.check_success(cmd)?;
        Ok(reply)
    }

    /// Sends a command that streams its result as events (`list-sas` streams
    /// `list-sa`, `list-conns` streams `list-conn`): registers for `event`, sends
    /// the command, collects those events until the response, unregisters.
    pub fn request_streamed(
        &mut self,
        cmd: &str,
        event: &str,
        msg: &Message,
    ) -> Result<(Vec<Message>, Message), ViciError> {
        self.register(event)?;
        let packet = encode_packet(CMD_REQUEST, cmd, Some(msg))?;
        self.send(&packet)?;
        let mut events = Vec::new();
        let reply = loop {
            match self.read_packet()? {
                Packet::Response(m) => break m,
                Packet::UnknownCmd => return Err(ViciError::UnknownCommand(cmd.to_string())),
                Packet::Event(name, m) if name == event => events.push(m),
                Packet::Event(name, m) => self.pending.push_back((name, m)),
                Packet::Confirm => return Err(ViciError::Unexpected(EVENT_CONFIRM)),
                Packet::UnknownEvent => return Err(ViciError::Unexpected(EVENT_UNKNOWN)),
                Packet::Other(t) => return Err(ViciError::Unexpected(t)),
            }
        };
        self.unregister(event)?;
        Ok((events, reply))
    }

    fn event_op(&mut self, kind: u8, event: &str) -> Result<(), ViciError> {
        let packet = encode_packet(kind, event, None)?;
        self.send(&packet)?;
        loop {
            match self.read_packet()? {
                Packet::Confirm => return Ok(()),
                Packet::UnknownEvent => return Err(ViciError::UnknownEvent(event.to_string())),
                Packet::Event(name, m) => self.pending.push_back((name, m)),
                Packet::Response(_) => return Err(ViciError::Unexpected(CMD_RESPONSE)),
                Packet::UnknownCmd => return Err(ViciError::Unexpected(CMD_UNKNOWN)),
                Packet::Other(t) => return Err(ViciError::Unexpected(t)),
            }
        }
    }

    /// Registers for event `event` (`ike-updown`, `child-updown`, `ike-rekey`,
    /// `child-rekey`, `log`, ...); read them with [`Client::next_event`].
    pub fn register(&mut self, event: &str) -> Result<(), ViciError> {
        self.event_op(EVENT_REGISTER, event)
    }

    /// Unregisters from event `event`.
    pub fn unregister(&mut self, event: &str) -> Result<(), ViciError> {
        self.event_op(EVENT_UNREGISTER, event)
    }

    /// The next event (its name and message), blocking up to the read timeout
    /// (a timeout is an error for which [`ViciError::is_timeout`] holds; the
    /// connection stays usable).
    pub fn next_event(&mut self) -> Result<(String, Message), ViciError> {
        if let Some(ev) = self.pending.pop_front() {
            return Ok(ev);
        }
        match self.read_packet()? {
            Packet::Event(name, m) => Ok((name, m)),
            // A late confirm can't happen (register waits for it); anything else is
            // a protocol error.
            Packet::Response(_) => Err(ViciError::Unexpected(CMD_RESPONSE)),
            Packet::UnknownCmd => Err(ViciError::Unexpected(CMD_UNKNOWN)),
            Packet::Confirm => Err(ViciError::Unexpected(EVENT_CONFIRM)),
            Packet::UnknownEvent => Err(ViciError::Unexpected(EVENT_UNKNOWN)),
            Packet::Other(t) => Err(ViciError::Unexpected(t)),
        }
    }

    /// charon's version (`version` command): daemon, version, sysname, release,
    /// machine.
    pub fn version(&mut self) -> Result<Message, ViciError> {
        self.request("version", &Message::new())
    }

    /// Loads (or replaces) an IKE pre-shared key between identities `id_a` and
    /// `id_b`, under the unique id [`shared_key_id`]`(id_a, id_b)` so that loading
    /// it again replaces the old secret.
    pub fn load_shared(&mut self, id_a: &str, id_b: &str, secret: &str) -> Result<(), ViciError> {
        let msg = Message::new()
            .with_str("id", shared_key_id(id_a, id_b))
            .with_str("type", "IKE")
            .with_str("data", secret)
            .with_list("owners", [id_a, id_b]);
        self.call("load-shared", &msg).map(drop)
    }

    /// Unloads the shared key with unique id `id` (see [`shared_key_id`]).
    pub fn unload_shared(&mut self, id: &str) -> Result<(), ViciError> {
        self.call("unload-shared", &Message::new().with_str("id", id))
            .map(drop)
    }

    /// Loads (or replaces) connection `name` with the swanctl.conf-like settings
    /// `conn` (`version`, `local_addrs`, `local { auth id }`, `children { ... }`).
    pub fn load_conn(&mut self, name: &str, conn: &Message) -> Result<(), ViciError> {
        let msg = Message::new().with_section(name, conn.clone());
        self.call("load-conn", &msg).map(drop)
    }

    /// Unloads connection `name` (established SAs stay).
    pub fn unload_conn(&mut self, name: &str) -> Result<(), ViciError> {
        self.call("unload-conn", &Message::new().with_str("name", name))
            .map(drop)
    }

    /// Initiates CHILD_SA `child` (of connection `ike`, if given) and waits until
    /// it is up or failed; charon gives up slightly before this client's timeout.
    pub fn initiate(&mut self, child: &str, ike: Option<&str>) -> Result<(), ViciError> {
        let ms = self.timeout.as_millis().saturating_sub(200).max(100);
        let mut msg = Message::new().with_str("child", child);
        if let Some(ike) = ike {
            msg.push_str("ike", ike);
        }
        msg.push_str("timeout", ms.to_string());
        self.call("initiate", &msg).map(drop)
    }

    /// Terminates the IKE_SAs of connection `name` (and their CHILD_SAs), without
    /// waiting for the peer's answer (`force`); an error if none matched.
    pub fn terminate_ike(&mut self, name: &str) -> Result<(), ViciError> {
        let msg = Message::new()
            .with_str("ike", name)
            .with_str("force", "yes")
            .with_str("timeout", "-1");
        self.call("terminate", &msg).map(drop)
    }

    /// The current IKE_SAs and their CHILD_SAs (`list-sas`).
    pub fn list_sas(&mut self) -> Result<Vec<IkeSa>, ViciError> {
        let (events, reply) = self.request_streamed("list-sas", "list-sa", &Message::new())?;
        reply.check_success("list-sas")?;
        Ok(events.iter().flat_map(IkeSa::all_in).collect())
    }

    /// The loaded connections (`list-conns`): one message per connection, each one
    /// section named after it.
    pub fn list_conns(&mut self) -> Result<Vec<Message>, ViciError> {
        let (events, reply) = self.request_streamed("list-conns", "list-conn", &Message::new())?;
        reply.check_success("list-conns")?;
        Ok(events)
    }
}

/// An IKE_SA as `list-sas` (and the `ike-updown`/`child-updown` events) show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IkeSa {
    /// The connection's name (`(unnamed)` before a config is chosen).
    pub name: String,
    /// charon's unique id of this IKE_SA.
    pub uniqueid: u64,
    /// `CREATED`, `CONNECTING`, `ESTABLISHED`, `PASSIVE`, `REKEYING`, `REKEYED`,
    /// `DELETING`, `DESTROYING`.
    pub state: String,
    /// The peer's address (`remote-host`).
    pub remote_host: String,
    /// Seconds since it was established.
    pub established_seconds: Option<u64>,
    /// Its CHILD_SAs.
    pub children: Vec<ChildSa>,
}

/// A CHILD_SA of an [`IkeSa`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildSa {
    /// The child config's name.
    pub name: String,
    /// charon's unique id of this CHILD_SA.
    pub uniqueid: u64,
    /// `CREATED`, `ROUTED`, `INSTALLING`, `INSTALLED`, `UPDATING`, `REKEYING`,
    /// `REKEYED`, `RETRYING`, `DELETING`, `DELETED`, `DESTROYING`.
    pub state: String,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// Encryption algorithm (e.g. `AES_CBC`, `AES_GCM_16`).
    pub encr_alg: Option<String>,
    /// Integrity algorithm (e.g. `HMAC_SHA1_96`; none with AEAD).
    pub integ_alg: Option<String>,
}

impl IkeSa {
    /// Parses one IKE_SA section named `name`.
    pub fn parse(name: &str, m: &Message) -> IkeSa {
        let children = m
            .section("child-sas")
            .map(|cs| {
                cs.sections()
                    .map(|(key, c)| ChildSa::parse(key, c))
                    .collect()
            })
            .unwrap_or_default();
        IkeSa {
            name: name.to_string(),
            uniqueid: m.get_u64("uniqueid").unwrap_or_default(),
            state: m.get_str("state").unwrap_or_default().to_string(),
            remote_host: m.get_str("remote-host").unwrap_or_default().to_string(),
            established_seconds: m.get_u64("established"),
            children,
        }
    }

    /// Every IKE_SA section of a message (a `list-sa` event, or an `ike-updown` /
    /// `child-updown` event, whose other keys such as `up` are skipped).
    pub fn all_in(m: &Message) -> Vec<IkeSa> {
        m.sections()
            .map(|(name, s)| IkeSa::parse(name, s))
            .collect()
    }
}

impl ChildSa {
    /// Parses one section of `child-sas` (named like `aws-t1-5`; the child's name
    /// is its `name` key, the section name minus the unique id otherwise).
    pub fn parse(key: &str, m: &Message) -> ChildSa {
        let name = m
            .get_str("name")
            .map(str::to_string)
            .unwrap_or_else(|| key.rsplit_once('-').map_or(key, |(n, _)| n).to_string());
        let n = |k: &str| m.get_u64(k).unwrap_or_default();
        ChildSa {
            name,
            uniqueid: n("uniqueid"),
            state: m.get_str("state").unwrap_or_default().to_string(),
            bytes_in: n("bytes-in"),
            bytes_out: n("bytes-out"),
            packets_in: n("packets-in"),
            packets_out: n("packets-out"),
            encr_alg: m.get_str("encr-alg").map(str::to_string),
            integ_alg: m.get_str("integ-alg").map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let m = Message::new()
            .with_str("version", "2")
            .with_list("local_addrs", ["198.51.100.101"])
            .with_section(
                "local",
                Message::new()
                    .with_str("auth", "psk")
                    .with_str("id", "198.51.100.101"),
            )
            .with_section(
                "children",
                Message::new()
                    .with_section("t1", Message::new().with_list("local_ts", ["0.0.0.0/0"])),
            );
        let wire = m.encode().unwrap();
        assert_eq!(Message::decode(&wire).unwrap(), m);
        assert_eq!(m.section("local").unwrap().get_str("auth"), Some("psk"));
        assert_eq!(m.get_list("local_addrs").unwrap(), ["198.51.100.101"]);
        assert_eq!(
            m.section("children")
                .unwrap()
                .section("t1")
                .unwrap()
                .get_list("local_ts")
                .unwrap(),
            ["0.0.0.0/0"]
        );
    }

    #[test]
    fn encode_exact_bytes() {
        let m = Message::new()
            .with_str("k", "v")
            .with_section("s", Message::new())
            .with_list("l", ["a"]);
        assert_eq!(
            m.encode().unwrap(),
            [
                3, 1, b'k', 0, 1, b'v', // key-value
                1, 1, b's', 2, // section
                4, 1, b'l', 5, 0, 1, b'a', 6, // list
            ]
        );
        let p = encode_packet(CMD_REQUEST, "version", None).unwrap();
        assert_eq!(
            p,
            [0, 0, 0, 9, 0, 7, b'v', b'e', b'r', b's', b'i', b'o', b'n']
        );
    }

    #[test]
    fn decode_rejects_garbage() {
        assert!(Message::decode(&[1, 1, b's']).is_err()); // unterminated section
        assert!(Message::decode(&[2]).is_err()); // end at top level
        assert!(Message::decode(&[3, 1, b'k', 0, 5, b'v']).is_err()); // short value
        assert!(Message::decode(&[9]).is_err());
        assert!(Message::decode(&[4, 1, b'l', 3]).is_err());
        assert!(
            Message::new()
                .with_str("x".repeat(256), "v")
                .encode()
                .is_err()
        );
        assert!(
            Message::new()
                .with_str("k", vec![0u8; 65536])
                .encode()
                .is_err()
        );
    }

    #[test]
    fn success_no_is_an_error() {
        let ok = Message::new().with_str("success", "yes");
        assert!(ok.check_success("load-conn").is_ok());
        let bad = Message::new()
            .with_str("success", "no")
            .with_str("errmsg", "parsing request failed");
        let e = bad.check_success("load-conn").unwrap_err();
        assert_eq!(e.to_string(), "load-conn failed: parsing request failed");
    }

    /// A `list-sa` event as charon 5.9.8 sent it (keys from
    /// /tmp/vpn-spike/vici-monitor-aws-t1.txt).
    #[test]
    fn parses_list_sa() {
        let child = Message::new()
            .with_str("name", "aws-t1")
            .with_str("uniqueid", "5")
            .with_str("state", "INSTALLED")
            .with_str("encr-alg", "AES_CBC")
            .with_str("integ-alg", "HMAC_SHA1_96")
            .with_str("bytes-in", "1123")
            .with_str("packets-in", "13")
            .with_str("bytes-out", "660")
            .with_str("packets-out", "12");
        let ike = Message::new()
            .with_str("uniqueid", "4")
            .with_str("state", "ESTABLISHED")
            .with_str("remote-host", "203.0.113.60")
            .with_str("established", "17")
            .with_list("tasks-passive", ["IKE_DELETE"])
            .with_section("child-sas", Message::new().with_section("aws-t1-5", child));
        let ev = Message::new()
            .with_str("up", "yes")
            .with_section("aws-t1", ike);
        let sas = IkeSa::all_in(&Message::decode(&ev.encode().unwrap()).unwrap());
        assert_eq!(
            sas,
            [IkeSa {
                name: "aws-t1".into(),
                uniqueid: 4,
                state: "ESTABLISHED".into(),
                remote_host: "203.0.113.60".into(),
                established_seconds: Some(17),
                children: vec![ChildSa {
                    name: "aws-t1".into(),
                    uniqueid: 5,
                    state: "INSTALLED".into(),
                    bytes_in: 1123,
                    bytes_out: 660,
                    packets_in: 13,
                    packets_out: 12,
                    encr_alg: Some("AES_CBC".into()),
                    integ_alg: Some("HMAC_SHA1_96".into()),
                }],
            }]
        );
    }

    /// A fake charon on a socket pair: framing, register/confirm, events
    /// arriving before the response (kept for `next_event`), `success = no`,
    /// CMD_UNKNOWN, a packet split across a read timeout.
    #[test]
    fn client_against_fake_charon() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let mut c = Client {
            stream: a,
            rbuf: Vec::new(),
            pending: VecDeque::new(),
            timeout: Duration::from_secs(5),
        };
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let sa = Message::new().with_section(
            "aws-t1",
            Message::new()
                .with_str("uniqueid", "1")
                .with_str("state", "ESTABLISHED"),
        );
        let sa2 = sa.clone();
        let server = std::thread::spawn(move || {
            let read = |b: &mut UnixStream| {
                let mut len = [0u8; 4];
                b.read_exact(&mut len).unwrap();
                let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
                b.read_exact(&mut body).unwrap();
                body
            };
            let confirm = [0, 0, 0, 1, EVENT_CONFIRM];
            assert_eq!(read(&mut b), b"\x03\x0aike-updown");
            b.write_all(&confirm).unwrap();
            // list-sas
            assert_eq!(read(&mut b), b"\x03\x07list-sa");
            b.write_all(&confirm).unwrap();
            assert_eq!(read(&mut b), b"\x00\x08list-sas");
            b.write_all(&encode_packet(EVENT, "ike-updown", Some(&sa2)).unwrap())
                .unwrap();
            b.write_all(&encode_packet(EVENT, "list-sa", Some(&sa2)).unwrap())
                .unwrap();
            b.write_all(&[0, 0, 0, 1, CMD_RESPONSE]).unwrap();
            assert_eq!(read(&mut b), b"\x04\x07list-sa");
            b.write_all(&confirm).unwrap();
            // load-conn failing
            let req = read(&mut b);
            assert_eq!(&req[..11], b"\x00\x09load-conn");
            let no = Message::new()
                .with_str("success", "no")
                .with_str("errmsg", "bad");
            let mut resp = vec![CMD_RESPONSE];
            resp.extend(no.encode().unwrap());
            b.write_all(&(resp.len() as u32).to_be_bytes()).unwrap();
            b.write_all(&resp).unwrap();
            // unknown command
            assert_eq!(read(&mut b), b"\x00\x04nope");
            b.write_all(&[0, 0, 0, 1, CMD_UNKNOWN]).unwrap();
            // an event in two halves, 300 ms apart
            let ev = encode_packet(EVENT, "child-updown", Some(&sa2)).unwrap();
            b.write_all(&ev[..7]).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            b.write_all(&ev[7..]).unwrap();
            b
        });
        c.register("ike-updown").unwrap();
        let sas = c.list_sas().unwrap();
        assert_eq!(sas.len(), 1);
        assert_eq!(sas[0].name, "aws-t1");
        assert_eq!(sas[0].state, "ESTABLISHED");
        let e = c.load_conn("x", &Message::new()).unwrap_err();
        assert!(
            matches!(&e, ViciError::Failed { errmsg, .. } if errmsg == "bad"),
            "{e}"
        );
        let e = c.request("nope", &Message::new()).unwrap_err();
        assert!(matches!(e, ViciError::UnknownCommand(_)), "{e}");
        // the event that came in the middle of list-sas
        let (name, m) = c.next_event().unwrap();
        assert_eq!((name.as_str(), &m), ("ike-updown", &sa));
        c.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let e = c.next_event().unwrap_err();
        assert!(e.is_timeout(), "{e}");
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let (name, m) = c.next_event().unwrap();
        assert_eq!((name.as_str(), &m), ("child-updown", &sa));
        let b = server.join().unwrap();
        drop(b);
        assert!(matches!(c.next_event(), Err(ViciError::Closed)));
    }
}

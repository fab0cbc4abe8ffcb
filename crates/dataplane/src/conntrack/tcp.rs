//! TCP connection tracking: the state machine and sequence-window checks of one tracked
//! connection (AWS: security groups track TCP state; an out-of-window segment of a
//! tracked connection is not a reply).
//!
//! The window check is Linux `nf_conntrack_proto_tcp`'s `tcp_in_window` (after Rooij,
//! "Real stateful TCP packet filtering in IP Filter"), simplified. Per direction the
//! table keeps `end` (the highest sequence number sent plus its length, SYN and FIN
//! counting one), `maxend` (the highest ack + scaled window the other side advertised:
//! how far this side may send), `maxwin` (the largest scaled window this side
//! advertised) and the window scale of its SYN (applied only if both SYNs carried the
//! option, RFC 7323 2.2). A segment from `sender` to `receiver` is in window when
//!
//! - `seq <= sender.maxend` (it starts inside the receive window),
//! - `seq + len >= sender.end - receiver.maxwin` (it is not older than a window; SYN
//!   and FIN count in `len`), and
//! - with ACK, `ack <= receiver.end + 1` (it acks nothing not yet sent).
//!
//! All comparisons are modulo 2^32 (as `i32` differences). Simplifications against
//! Linux: no lower bound on the ack (Linux: `receiver.end - MAXACKWINDOW`), SACK blocks
//! are ignored, no simultaneous open (a SYN from the responder while in `SynSent` is out
//! of window), and empty segments are not exempt from the sequence checks.
//!
//! Mid-stream pick-up (Linux `nf_conntrack_tcp_loose`, [`TcpConn::picked_up`]): a
//! connection first seen at an ACK (or a FIN+ACK) starts `Established` (or `FinWait`)
//! with what that segment tells about its sender, and is *liberal*: its segments are
//! not checked against the windows, which a connection seen mid-stream does not know
//! (nor its window scale), as Linux's `IP_CT_TCP_FLAG_BE_LIBERAL`. Each side's
//! sequence numbers are still learned from its segments (the other side's from its
//! first one), so RSTs are still judged at the exact sequence number, FINs still close
//! the connection, and a SYN still cannot restart it while it is established.
//!
//! RST (RFC 5961 3.2): it closes the connection only when its sequence number is
//! exactly the one the receiver expects next, which the table knows as either the
//! receiver's highest ack or the sender's `end`; any other RST, even in window, is
//! refused and the connection stays as it was. In `SynSent` the responder's RST must
//! carry an ACK of the SYN (ack = ISN + 1) and its sequence number is not checked
//! (Linux answers a SYN to a closed port with sequence 0: RFC 793 "Reset Generation").
//!
//! States: `SynSent` -(SYN+ACK acking the SYN)-> `SynReceived` -(ACK from the
//! initiator)-> `Established` -(first FIN)-> `FinWait` -(second FIN)-> `Closing` -(both
//! FINs acked)-> `Closed`; a valid RST goes to `Closed` from anywhere. A plain SYN on a
//! `Closing` or `Closed` connection starts a new connection (the table replaces the
//! entry); on `Established` or `FinWait` it is out of window. A retransmitted SYN is
//! valid in `SynSent` (it may carry a new ISN, which replaces the old) and, unchanged,
//! in `SynReceived`; a retransmitted SYN+ACK from the responder is checked like any
//! segment.

use std::time::Duration;

use super::Dir;
use crate::l4::TcpFacts;
use crate::l4::tcp_flags::{ACK, FIN, RST, SYN};
use crate::verdict::DropReason;

/// Idle timeout while the handshake is in progress (`SynSent`, `SynReceived`).
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle timeout after the first FIN (`FinWait`).
pub(crate) const FIN_WAIT_TIMEOUT: Duration = Duration::from_secs(120);
/// Idle timeout after both FINs (`Closing`) and once closed (`Closed`).
pub(crate) const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a tracked TCP connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TcpState {
    /// The initiator's SYN was seen.
    SynSent,
    /// The responder's SYN+ACK was seen.
    SynReceived,
    /// The initiator acked the SYN+ACK.
    Established,
    /// One side sent a FIN.
    FinWait,
    /// Both sides sent a FIN.
    Closing,
    /// Both FINs were acked, or a valid RST was seen.
    Closed,
}

impl TcpState {
    /// Every state, each at its index ([`TcpState::index`]).
    pub(crate) const ALL: [TcpState; 6] = [
        TcpState::SynSent,
        TcpState::SynReceived,
        TcpState::Established,
        TcpState::FinWait,
        TcpState::Closing,
        TcpState::Closed,
    ];

    /// Its index in [`TcpState::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The idle timeout in this state in nanoseconds, `established` when established.
    pub(crate) fn timeout_nanos(self, established: u64) -> u64 {
        use super::nanos;
        match self {
            TcpState::SynSent | TcpState::SynReceived => nanos(HANDSHAKE_TIMEOUT),
            TcpState::Established => established,
            TcpState::FinWait => nanos(FIN_WAIT_TIMEOUT),
            TcpState::Closing | TcpState::Closed => nanos(CLOSE_TIMEOUT),
        }
    }

    /// The name `vpcctl flows` shows.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TcpState::SynSent => "syn-sent",
            TcpState::SynReceived => "syn-received",
            TcpState::Established => "established",
            TcpState::FinWait => "fin-wait",
            TcpState::Closing => "closing",
            TcpState::Closed => "closed",
        }
    }
}

/// What the table knows about one direction (the segments one side sends).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Side {
    /// Highest sequence number sent + length (+1 for SYN and FIN).
    end: u32,
    /// Highest `ack + window` the other side advertised: how far this side may send.
    maxend: u32,
    /// Largest (scaled) window this side advertised; 0 until its first segment.
    maxwin: u32,
    /// Highest ack this side sent (meaningful if `ack_seen`).
    max_ack: u32,
    /// Window scale option of this side's SYN.
    wscale: Option<u8>,
    /// The shift of this side's (non-SYN) window fields: its `wscale` once both SYNs
    /// carried the option (RFC 7323 2.2), else 0. Fixed by the SYN+ACK, so that a
    /// segment does not derive it again.
    shift: u8,
    /// Whether this side sent an ACK.
    ack_seen: bool,
    /// Whether this side sent a FIN.
    fin: bool,
    /// Whether the other side acked this side's FIN.
    fin_acked: bool,
}

impl Side {
    /// This side as its SYN (or SYN+ACK) `t` describes it.
    fn from_syn(t: &TcpFacts) -> Side {
        let end = seg_end(t);
        Side {
            end,
            maxend: end,
            maxwin: u32::from(t.window).max(1),
            wscale: t.wscale,
            ..Side::default()
        }
    }
}

/// The tracking state of one TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TcpConn {
    state: TcpState,
    /// Indexed by [`Dir`]: the initiator's side, then the responder's.
    sides: [Side; 2],
    /// Picked up mid-stream: segments are not checked against the windows.
    liberal: bool,
}

/// What a segment does to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TcpStep {
    /// The segment is valid; the connection advanced.
    Valid,
    /// A SYN starting a new connection in place of a closed one.
    NewFlow,
}

/// `a - b` as a signed distance on the sequence space.
fn diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// `a <= b` modulo 2^32.
fn seq_le(a: u32, b: u32) -> bool {
    diff(a, b) <= 0
}

/// `a > b` modulo 2^32.
fn seq_gt(a: u32, b: u32) -> bool {
    diff(a, b) > 0
}

/// The sequence number after segment `t`: seq + payload, +1 for SYN, +1 for FIN.
fn seg_end(t: &TcpFacts) -> u32 {
    t.seq
        .wrapping_add(t.payload_len)
        .wrapping_add(u32::from(t.flags & SYN != 0))
        .wrapping_add(u32::from(t.flags & FIN != 0))
}

/// Whether `t` is a plain SYN (SYN without ACK), the only segment that opens a flow.
pub(crate) fn is_plain_syn(t: &TcpFacts) -> bool {
    t.flags & (SYN | ACK) == SYN
}

impl TcpConn {
    /// A connection opened by the plain SYN `syn`.
    pub(crate) fn new(syn: &TcpFacts) -> TcpConn {
        TcpConn {
            state: TcpState::SynSent,
            sides: [Side::from_syn(syn), Side::default()],
            liberal: false,
        }
    }

    /// A connection first seen mid-stream at segment `t`, which came from the side that
    /// becomes the initiator: `Established` for an ACK, `FinWait` for a FIN+ACK, with
    /// liberal window tracking. `None` for a segment that cannot be picked up: a RST
    /// (nothing to track), a SYN (a SYN+ACK of no tracked SYN; a plain SYN starts a
    /// connection with [`TcpConn::new`]) or one without ACK (Linux: invalid).
    pub(crate) fn picked_up(t: &TcpFacts) -> Option<TcpConn> {
        if t.flags & (SYN | RST) != 0 || t.flags & ACK == 0 {
            return None;
        }
        let end = seg_end(t);
        let win = u32::from(t.window).max(1);
        let fin = t.flags & FIN != 0;
        let initiator = Side {
            end,
            maxend: end.wrapping_add(win),
            maxwin: win,
            max_ack: t.ack,
            wscale: None,
            shift: 0,
            ack_seen: true,
            fin,
            fin_acked: false,
        };
        Some(TcpConn {
            state: if fin {
                TcpState::FinWait
            } else {
                TcpState::Established
            },
            sides: [initiator, Side::default()],
            liberal: true,
        })
    }

    /// The state.
    pub(crate) fn state(&self) -> TcpState {
        self.state
    }

    /// The idle timeout in this state, `established` when established.
    #[cfg(test)]
    pub(crate) fn timeout(&self, established: Duration) -> Duration {
        Duration::from_nanos(self.state.timeout_nanos(super::nanos(established)))
    }

    /// Whether a plain SYN may replace this connection with a new one.
    pub(crate) fn reusable(&self) -> bool {
        matches!(self.state, TcpState::Closing | TcpState::Closed)
    }

    /// Judges segment `t` travelling in direction `dir`: whether it is valid (the
    /// connection then advances in place), starts a new connection, or why it is
    /// invalid (the connection then stays as it was).
    ///
    /// The common segment (no SYN, no RST, past `SynSent`: data and acks) goes straight
    /// to the window checks, which change nothing until it has passed them; SYNs, RSTs
    /// and the handshake's first step take the state machine of [`TcpConn::control`].
    #[inline(always)]
    pub(crate) fn step(&mut self, dir: Dir, t: &TcpFacts) -> Result<TcpStep, DropReason> {
        if t.flags & (SYN | RST) == 0 && self.state != TcpState::SynSent {
            self.track(dir, t)?;
            return Ok(TcpStep::Valid);
        }
        self.control(dir, t)
    }

    /// [`TcpConn::step`] for a SYN, a RST, or any segment in `SynSent`. Out of line:
    /// these come a few times per connection, not per packet. Works on a copy (a
    /// SYN+ACK changes the responder's side before its window check), committed only
    /// if the segment is valid.
    #[inline(never)]
    fn control(&mut self, dir: Dir, t: &TcpFacts) -> Result<TcpStep, DropReason> {
        let invalid = Err(DropReason::TcpOutOfWindow);
        let (s, r) = sides(dir);
        let (syn, ack, rst) = (t.flags & SYN != 0, t.flags & ACK != 0, t.flags & RST != 0);
        let mut c = *self;
        if syn && !ack {
            return match (c.state, dir) {
                (TcpState::Closing | TcpState::Closed, _) => Ok(TcpStep::NewFlow),
                (TcpState::SynSent, Dir::Original) => {
                    self.sides[0] = Side::from_syn(t);
                    Ok(TcpStep::Valid)
                }
                (TcpState::SynReceived, Dir::Original) if seg_end(t) == c.sides[0].end => {
                    Ok(TcpStep::Valid)
                }
                _ => invalid,
            };
        }
        if c.state == TcpState::SynSent {
            match dir {
                Dir::Reply if syn => {
                    if t.ack != c.sides[0].end {
                        return invalid;
                    }
                    c.sides[1] = Side::from_syn(t);
                    // Window scaling applies only if both SYNs carried the option: the
                    // shifts are fixed here, once.
                    if let (Some(a), Some(b)) = (c.sides[0].wscale, c.sides[1].wscale) {
                        c.sides[0].shift = a;
                        c.sides[1].shift = b;
                    }
                    c.state = TcpState::SynReceived;
                    // On to the window update: the SYN+ACK's ack and window bound the
                    // initiator.
                }
                Dir::Reply if rst && ack && t.ack == c.sides[0].end => {
                    self.state = TcpState::Closed;
                    return Ok(TcpStep::Valid);
                }
                Dir::Original if rst && t.seq == c.sides[0].end => {
                    self.state = TcpState::Closed;
                    return Ok(TcpStep::Valid);
                }
                _ => return invalid,
            }
        } else if rst {
            let (snd, rcv) = (c.sides[s], c.sides[r]);
            // A side not seen yet (of a connection picked up mid-stream) has no `end`.
            let seen = snd.maxwin != 0;
            if (seen && t.seq == snd.end) || (rcv.ack_seen && t.seq == rcv.max_ack) {
                self.state = TcpState::Closed;
                return Ok(TcpStep::Valid);
            }
            return invalid;
        } else if syn && dir == Dir::Original {
            // SYN+ACK from the initiator.
            return invalid;
        }
        c.track(dir, t)?;
        *self = c;
        Ok(TcpStep::Valid)
    }

    /// The window checks of segment `t` in direction `dir` (which passed the state
    /// checks), then, if it is in window (or the connection is liberal), what it says
    /// about both sides and the state it leads to. Out of window: `Err`, nothing
    /// changed.
    #[inline(always)]
    fn track(&mut self, dir: Dir, t: &TcpFacts) -> Result<(), DropReason> {
        let (s, r) = sides(dir);
        let (syn, ack) = (t.flags & SYN != 0, t.flags & ACK != 0);
        let end = seg_end(t);
        let (snd, rcv) = (&self.sides[s], &self.sides[r]);
        let in_window = seq_le(t.seq, snd.maxend)
            && !seq_gt(snd.end.wrapping_sub(rcv.maxwin), end)
            && (!ack || seq_le(t.ack, rcv.end.wrapping_add(1)));
        if !in_window && !self.liberal {
            return Err(DropReason::TcpOutOfWindow);
        }

        // The windows of SYNs are never scaled (RFC 7323 2.2).
        let shift = if syn { 0 } else { u32::from(snd.shift) };
        let win = u32::from(t.window) << shift;
        let snd = &mut self.sides[s];
        if snd.maxwin == 0 {
            // This side's first segment (of a connection picked up mid-stream): what it
            // says is all there is to know.
            snd.end = end;
            snd.maxend = end;
        }
        snd.maxwin = snd.maxwin.max(win).max(1);
        if seq_gt(end, snd.end) {
            snd.end = end;
        }
        if ack && (!snd.ack_seen || seq_gt(t.ack, snd.max_ack)) {
            snd.max_ack = t.ack;
            snd.ack_seen = true;
        }
        if t.flags & FIN != 0 {
            snd.fin = true;
        }
        let snd_maxend = snd.maxend;
        let rcv = &mut self.sides[r];
        if rcv.maxwin != 0 && seq_gt(end, snd_maxend) {
            rcv.maxwin = rcv.maxwin.saturating_add(end.wrapping_sub(snd_maxend));
        }
        if ack {
            let maxend = t.ack.wrapping_add(win.max(1));
            if seq_gt(maxend, rcv.maxend) {
                rcv.maxend = maxend;
            }
            if rcv.fin && !seq_gt(rcv.end, t.ack) {
                rcv.fin_acked = true;
            }
        }

        // An established connection has seen no FIN: the segment that carries the first
        // one moves it on, below. So one without FIN leaves its state as it is: the
        // common segment stops at this test (which replaced reading both sides' FINs).
        if self.state == TcpState::Established && t.flags & FIN == 0 {
            debug_assert!(
                !self.sides[0].fin && !self.sides[1].fin,
                "an established connection has seen no FIN"
            );
            return Ok(());
        }
        if self.state == TcpState::SynReceived && dir == Dir::Original && ack {
            self.state = TcpState::Established;
        }
        let [a, b] = &self.sides;
        // Without a FIN on either side (nor, then, an acked one) the state stays.
        if (a.fin || b.fin)
            && matches!(
                self.state,
                TcpState::Established | TcpState::FinWait | TcpState::Closing
            )
        {
            self.state = if a.fin_acked && b.fin_acked {
                TcpState::Closed
            } else if a.fin && b.fin {
                TcpState::Closing
            } else {
                TcpState::FinWait
            };
        }
        Ok(())
    }
}

/// The indices into [`TcpConn::sides`] of the sender and the receiver of a segment
/// travelling in direction `dir`.
fn sides(dir: Dir) -> (usize, usize) {
    match dir {
        Dir::Original => (0, 1),
        Dir::Reply => (1, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(flags: u8, seq: u32, payload_len: u32) -> TcpFacts {
        TcpFacts {
            flags,
            seq,
            ack: 0,
            window: 0,
            payload_len,
            wscale: None,
        }
    }

    #[test]
    fn sequence_comparisons_wrap() {
        assert!(seq_le(u32::MAX, 0));
        assert!(seq_gt(5, u32::MAX - 5));
        assert!(!seq_gt(u32::MAX - 5, 5));
        assert!(seq_le(7, 7) && !seq_gt(7, 7));
        assert_eq!(diff(1, u32::MAX), 2);
    }

    #[test]
    fn syn_and_fin_count_one() {
        assert_eq!(seg_end(&facts(SYN, u32::MAX, 0)), 0);
        assert_eq!(seg_end(&facts(FIN | ACK, 10, 5)), 16);
        assert_eq!(seg_end(&facts(ACK, 10, 5)), 15);
        assert!(is_plain_syn(&facts(SYN, 0, 0)));
        assert!(!is_plain_syn(&facts(SYN | ACK, 0, 0)));
    }

    /// The table of timeouts by state (the connection table's `Idle`) is built from
    /// [`TcpState::ALL`] and read by [`TcpState::index`]: each state must be at its
    /// index, and all of them there.
    #[test]
    fn every_state_is_at_its_index() {
        for (i, s) in TcpState::ALL.into_iter().enumerate() {
            assert_eq!(s.index(), i, "{}", s.name());
        }
        let names: std::collections::BTreeSet<_> = TcpState::ALL.map(TcpState::name).into();
        assert_eq!(names.len(), TcpState::ALL.len());
    }

    #[test]
    fn timeouts_by_state() {
        let established = Duration::from_secs(432_000);
        let mut c = TcpConn::new(&facts(SYN, 1, 0));
        for (state, timeout, name) in [
            (TcpState::SynSent, HANDSHAKE_TIMEOUT, "syn-sent"),
            (TcpState::SynReceived, HANDSHAKE_TIMEOUT, "syn-received"),
            (TcpState::Established, established, "established"),
            (TcpState::FinWait, FIN_WAIT_TIMEOUT, "fin-wait"),
            (TcpState::Closing, CLOSE_TIMEOUT, "closing"),
            (TcpState::Closed, CLOSE_TIMEOUT, "closed"),
        ] {
            c.state = state;
            assert_eq!(c.timeout(established), timeout);
            assert_eq!(state.name(), name);
            assert_eq!(
                c.reusable(),
                matches!(state, TcpState::Closing | TcpState::Closed)
            );
        }
    }
}

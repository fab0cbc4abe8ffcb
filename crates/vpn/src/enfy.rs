//! charon's error-notify socket (`charon.enfy` in a charon's private /run): the
//! records it streams when something goes wrong, and which of them say why a
//! tunnel cannot come up.
//!
//! Each record is a fixed 768-byte struct (strongSwan
//! `src/libcharon/plugins/error_notify/error_notify_msg.h`, since 5.1.0 widened
//! the fields; types 1-32 as of 5.9.8 and master): `int type` in network byte
//! order, then NUL-terminated `char str[384]`, `char name[64]`, `char id[256]`,
//! `char ip[60]`.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// The size of one record on the wire.
pub const RECORD_LEN: usize = 768;

const STR_LEN: usize = 384;
const NAME_LEN: usize = 64;
const ID_LEN: usize = 256;
const IP_LEN: usize = 60;

/// What a record reports (`ERROR_NOTIFY_*`, mapped from charon's `ALERT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 1: a RADIUS request timed out.
    RadiusNotResponding,
    /// 2: our own authentication failed (the peer rejected us).
    LocalAuthFailed,
    /// 3: the peer's authentication failed (e.g. pre-shared key mismatch).
    PeerAuthFailed,
    /// 4: parsing an IKE header failed.
    ParseErrorHeader,
    /// 5: parsing an IKE message body failed.
    ParseErrorBody,
    /// 6: an IKE message was retransmitted until giving up.
    RetransmitSendTimeout,
    /// 7: an IKE_SA timed out before it could be established.
    HalfOpenTimeout,
    /// 8: the received IKE_SA proposals did not match.
    ProposalMismatchIke,
    /// 9: the received CHILD_SA proposals did not match.
    ProposalMismatchChild,
    /// 10: the traffic selectors did not match.
    TsMismatch,
    /// 11: installing the IPsec SA failed.
    InstallChildSaFailed,
    /// 12: installing the IPsec policy failed.
    InstallChildPolicyFailed,
    /// 13: an old IKE_SA was replaced due to the uniqueness policy.
    UniqueReplace,
    /// 14: a new IKE_SA was rejected due to the uniqueness policy.
    UniqueKeep,
    /// 15: allocating a virtual IP failed.
    VipFailure,
    /// 16: an authorization plugin prevented the IKE_SA.
    AuthorizationFailed,
    /// 17: a certificate expired.
    CertExpired,
    /// 18: a certificate was revoked.
    CertRevoked,
    /// 19: no trusted issuer certificate was found.
    NoIssuerCert,
    /// 20: an IKE message was retransmitted.
    RetransmitSend,
    /// 21: a response arrived after retransmits.
    RetransmitCleared,
    /// 22: the peer retransmitted a request.
    RetransmitReceive,
    /// 23: resolving the peer's address failed.
    PeerAddrFailed,
    /// 24: the peer did not answer the initial message (one record per try).
    PeerInitUnreachable,
    /// 25: an IKE message with an unknown SPI arrived.
    InvalidIkeSpi,
    /// 26: the traffic selectors were narrowed.
    TsNarrowed,
    /// 27: the IKE_SA was kept after its (first) CHILD_SA failed.
    KeepOnChildSaFailure,
    /// 28: an IKE_SA expired without replacement.
    IkeSaExpired,
    /// 29: validating a certificate's status failed.
    CertValidationFailed,
    /// 30: a self-signed root certificate is not trusted.
    UntrustedRootCert,
    /// 31: the trust chain was too long.
    CertExceededPathLen,
    /// 32: a certificate violated a policy.
    CertPolicyViolation,
    /// A type this list doesn't know.
    Other(i32),
}

impl Kind {
    /// The kind of wire type `t`.
    pub fn from_code(t: i32) -> Kind {
        use Kind::*;
        match t {
            1 => RadiusNotResponding,
            2 => LocalAuthFailed,
            3 => PeerAuthFailed,
            4 => ParseErrorHeader,
            5 => ParseErrorBody,
            6 => RetransmitSendTimeout,
            7 => HalfOpenTimeout,
            8 => ProposalMismatchIke,
            9 => ProposalMismatchChild,
            10 => TsMismatch,
            11 => InstallChildSaFailed,
            12 => InstallChildPolicyFailed,
            13 => UniqueReplace,
            14 => UniqueKeep,
            15 => VipFailure,
            16 => AuthorizationFailed,
            17 => CertExpired,
            18 => CertRevoked,
            19 => NoIssuerCert,
            20 => RetransmitSend,
            21 => RetransmitCleared,
            22 => RetransmitReceive,
            23 => PeerAddrFailed,
            24 => PeerInitUnreachable,
            25 => InvalidIkeSpi,
            26 => TsNarrowed,
            27 => KeepOnChildSaFailure,
            28 => IkeSaExpired,
            29 => CertValidationFailed,
            30 => UntrustedRootCert,
            31 => CertExceededPathLen,
            32 => CertPolicyViolation,
            other => Other(other),
        }
    }

    /// Its wire type.
    pub fn code(&self) -> i32 {
        use Kind::*;
        match self {
            RadiusNotResponding => 1,
            LocalAuthFailed => 2,
            PeerAuthFailed => 3,
            ParseErrorHeader => 4,
            ParseErrorBody => 5,
            RetransmitSendTimeout => 6,
            HalfOpenTimeout => 7,
            ProposalMismatchIke => 8,
            ProposalMismatchChild => 9,
            TsMismatch => 10,
            InstallChildSaFailed => 11,
            InstallChildPolicyFailed => 12,
            UniqueReplace => 13,
            UniqueKeep => 14,
            VipFailure => 15,
            AuthorizationFailed => 16,
            CertExpired => 17,
            CertRevoked => 18,
            NoIssuerCert => 19,
            RetransmitSend => 20,
            RetransmitCleared => 21,
            RetransmitReceive => 22,
            PeerAddrFailed => 23,
            PeerInitUnreachable => 24,
            InvalidIkeSpi => 25,
            TsNarrowed => 26,
            KeepOnChildSaFailure => 27,
            IkeSaExpired => 28,
            CertValidationFailed => 29,
            UntrustedRootCert => 30,
            CertExceededPathLen => 31,
            CertPolicyViolation => 32,
            Other(t) => *t,
        }
    }

    /// A short, AWS-like status text if this kind means the tunnel cannot come up
    /// (or lost its IPsec SA); `None` for informational records (retransmits,
    /// uniqueness, narrowing, ...).
    ///
    /// [`Kind::KeepOnChildSaFailure`] follows a more specific record (proposal or
    /// traffic selector mismatch, install failure) for the same attempt: prefer
    /// that one's reason when both arrive.
    pub fn down_reason(&self) -> Option<&'static str> {
        use Kind::*;
        Some(match self {
            PeerAuthFailed => "IKE authentication failed: pre-shared key mismatch",
            LocalAuthFailed => "IKE authentication failed: rejected by the peer",
            AuthorizationFailed => "IKE authorization failed",
            ProposalMismatchIke => "IKE proposal mismatch",
            ProposalMismatchChild => "IPsec (phase 2) proposal mismatch",
            TsMismatch => "traffic selector mismatch",
            RetransmitSendTimeout => "peer not responding (retransmits timed out)",
            HalfOpenTimeout => "IKE negotiation timed out",
            PeerAddrFailed => "peer address could not be resolved",
            InstallChildSaFailed => "installing the IPsec SA failed",
            InstallChildPolicyFailed => "installing the IPsec policy failed",
            KeepOnChildSaFailure => "IPsec SA could not be established",
            IkeSaExpired => "IKE SA expired without replacement",
            CertExpired | CertRevoked | NoIssuerCert | CertValidationFailed | UntrustedRootCert
            | CertExceededPathLen | CertPolicyViolation => {
                "IKE authentication failed: certificate rejected"
            }
            RadiusNotResponding | ParseErrorHeader | ParseErrorBody | UniqueReplace
            | UniqueKeep | VipFailure | RetransmitSend | RetransmitCleared | RetransmitReceive
            | PeerInitUnreachable | InvalidIkeSpi | TsNarrowed | Other(_) => return None,
        })
    }
}

/// One error-notify record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What happened.
    pub kind: Kind,
    /// charon's description (`str`), e.g. `peer authentication failed`.
    pub message: String,
    /// The connection's name, if known (empty before a config is chosen, e.g. on
    /// an IKE proposal mismatch).
    pub name: String,
    /// The peer's identity, if known.
    pub id: String,
    /// The peer's address and port (`203.0.113.60[4500]`), if known.
    pub ip: String,
}

/// A NUL-terminated string from a fixed field (lossy UTF-8).
fn field(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

impl Record {
    /// Parses one record; `None` unless `buf` is exactly [`RECORD_LEN`] bytes.
    pub fn parse(buf: &[u8]) -> Option<Record> {
        if buf.len() != RECORD_LEN {
            return None;
        }
        let (t, rest) = buf.split_at(4);
        let t = i32::from_be_bytes(t.try_into().ok()?);
        let (message, rest) = rest.split_at(STR_LEN);
        let (name, rest) = rest.split_at(NAME_LEN);
        let (id, ip) = rest.split_at(ID_LEN);
        debug_assert_eq!(ip.len(), IP_LEN);
        Some(Record {
            kind: Kind::from_code(t),
            message: field(message),
            name: field(name),
            id: field(id),
            ip: field(ip),
        })
    }
}

/// A connection to a charon's error-notify socket.
#[derive(Debug)]
pub struct Listener {
    stream: UnixStream,
    buf: Vec<u8>,
}

impl Listener {
    /// Connects to the socket at `path` (`<charon's /run>/charon.enfy`). Reads block
    /// until a record arrives (see [`Listener::set_read_timeout`]).
    pub fn connect(path: impl AsRef<Path>) -> io::Result<Listener> {
        Ok(Listener {
            stream: UnixStream::connect(path)?,
            buf: Vec::with_capacity(RECORD_LEN),
        })
    }

    /// Sets the read timeout (`None`: block). A timed-out [`Listener::next`] keeps
    /// what it had read of a record.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)
    }

    /// The next record; `UnexpectedEof` when charon closed the socket.
    // Not an `Iterator`: errors (timeouts) don't end the stream.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> io::Result<Record> {
        let mut chunk = [0u8; RECORD_LEN];
        while self.buf.len() < RECORD_LEN {
            let want = RECORD_LEN - self.buf.len();
            match self.stream.read(&mut chunk[..want]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "error-notify socket closed",
                    ));
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let record = Record::parse(&self.buf);
        self.buf.clear();
        record.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad record"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::Write;

    use super::*;

    /// Builds a record as charon lays it out.
    fn record(t: i32, s: &str, name: &str, id: &str, ip: &str) -> Vec<u8> {
        let mut buf = vec![0u8; RECORD_LEN];
        buf[..4].copy_from_slice(&t.to_be_bytes());
        let mut put = |off: usize, v: &str| buf[off..off + v.len()].copy_from_slice(v.as_bytes());
        put(4, s);
        put(4 + STR_LEN, name);
        put(4 + STR_LEN + NAME_LEN, id);
        put(4 + STR_LEN + NAME_LEN + ID_LEN, ip);
        buf
    }

    #[test]
    fn parses_peer_auth_failed() {
        // The bytes of the record charon 5.9.8 sent for a wrong PSK (failcases/badpsk).
        let mut buf = [0u8; RECORD_LEN];
        buf[3] = 3;
        buf[4..30].copy_from_slice(b"peer authentication failed");
        buf[388..394].copy_from_slice(b"aws-t1");
        buf[452..464].copy_from_slice(b"203.0.113.60");
        buf[708..726].copy_from_slice(b"203.0.113.60[4500]");
        let r = Record::parse(&buf).unwrap();
        assert_eq!(
            r,
            Record {
                kind: Kind::PeerAuthFailed,
                message: "peer authentication failed".into(),
                name: "aws-t1".into(),
                id: "203.0.113.60".into(),
                ip: "203.0.113.60[4500]".into(),
            }
        );
        assert_eq!(
            r.kind.down_reason(),
            Some("IKE authentication failed: pre-shared key mismatch")
        );
    }

    #[test]
    fn parses_unnamed_ike_proposal_mismatch() {
        let msg = "the received IKE_SA proposals did not match: IKE:3DES_CBC/HMAC_MD5_96/PRF_HMAC_MD5/MODP_1024";
        let r = Record::parse(&record(8, msg, "", "", "203.0.113.60[500]")).unwrap();
        assert_eq!(r.kind, Kind::ProposalMismatchIke);
        assert_eq!(r.message, msg);
        assert_eq!(r.name, "");
        assert_eq!(r.kind.down_reason(), Some("IKE proposal mismatch"));
    }

    #[test]
    fn full_fields_and_bad_lengths() {
        // A field with no NUL fills its whole width and doesn't run into the next.
        let name = "n".repeat(NAME_LEN);
        let r = Record::parse(&record(9, "x", &name, "id", "ip")).unwrap();
        assert_eq!(r.name, name);
        assert_eq!(r.id, "id");
        assert!(Record::parse(&[0u8; RECORD_LEN - 1]).is_none());
        assert!(Record::parse(&[0u8; RECORD_LEN + 1]).is_none());
    }

    #[test]
    fn kinds_round_trip_and_reasons() {
        for t in 0..40 {
            assert_eq!(Kind::from_code(t).code(), t);
        }
        assert_eq!(Kind::from_code(0), Kind::Other(0));
        assert_eq!(Kind::from_code(13), Kind::UniqueReplace);
        assert_eq!(Kind::from_code(27), Kind::KeepOnChildSaFailure);
        assert_eq!(
            Kind::RetransmitSendTimeout.down_reason(),
            Some("peer not responding (retransmits timed out)")
        );
        assert_eq!(
            Kind::ProposalMismatchChild.down_reason(),
            Some("IPsec (phase 2) proposal mismatch")
        );
        assert_eq!(
            Kind::TsMismatch.down_reason(),
            Some("traffic selector mismatch")
        );
        assert_eq!(Kind::RetransmitSend.down_reason(), None);
        assert_eq!(Kind::UniqueReplace.down_reason(), None);
    }

    #[test]
    fn listener_reassembles_records() {
        let dir = std::env::temp_dir().join(format!("vpc-vpn-enfy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("charon.enfy");
        let _ = std::fs::remove_file(&path);
        let server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let mut l = Listener::connect(&path).unwrap();
        let (mut s, _) = server.accept().unwrap();
        let a = record(
            3,
            "peer authentication failed",
            "aws-t1",
            "203.0.113.60",
            "203.0.113.60[4500]",
        );
        let b = record(6, "IKE message retransmission timed out", "aws-t1", "", "");
        let mut both = a.clone();
        both.extend(&b);
        s.write_all(&both[..100]).unwrap();
        l.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let e = l.next().unwrap_err();
        assert!(matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ));
        s.write_all(&both[100..]).unwrap();
        assert_eq!(l.next().unwrap().kind, Kind::PeerAuthFailed);
        assert_eq!(l.next().unwrap().kind, Kind::RetransmitSendTimeout);
        drop(s);
        assert_eq!(l.next().unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

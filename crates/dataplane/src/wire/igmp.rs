//! IGMP membership messages (RFC 2236 for version 2, RFC 3376 for version 3), as a
//! transit gateway multicast domain with IGMPv2 support reads them: which groups an
//! interface joins or leaves. Linux sends version 3 reports unless told otherwise
//! (`net.ipv4.conf.*.force_igmp_version`), so both are read.
//!
//! A view over the IGMP message (the IP payload) with a checked constructor, in the
//! style of smoltcp's `wire` types; nothing is allocated.

use std::net::Ipv4Addr;

use super::checksum;

/// The IP protocol number of IGMP.
pub const PROTO_IGMP: u8 = 2;
/// A membership query (all versions).
pub const MEMBERSHIP_QUERY: u8 = 0x11;
/// A version 1 membership report.
pub const V1_REPORT: u8 = 0x12;
/// A version 2 membership report.
pub const V2_REPORT: u8 = 0x16;
/// A version 2 leave group message.
pub const V2_LEAVE: u8 = 0x17;
/// A version 3 membership report.
pub const V3_REPORT: u8 = 0x22;
/// The length of the fixed header (type, max response, checksum, group or reserved).
pub const HEADER_LEN: usize = 8;

/// Version 3 group record types (RFC 3376 4.2.12).
mod record {
    pub const MODE_IS_INCLUDE: u8 = 1;
    pub const MODE_IS_EXCLUDE: u8 = 2;
    pub const CHANGE_TO_INCLUDE: u8 = 3;
    pub const CHANGE_TO_EXCLUDE: u8 = 4;
    pub const ALLOW_NEW_SOURCES: u8 = 5;
}

/// What a message says about one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The sender is (or stays) a member.
    Join,
    /// The sender is no longer a member.
    Leave,
}

/// A membership message: a report (version 1, 2 or 3) or a version 2 leave.
#[derive(Debug, Clone, Copy)]
pub struct Membership<'a> {
    bytes: &'a [u8],
}

impl<'a> Membership<'a> {
    /// The message in `bytes` (an IP payload), if it is a membership report or leave
    /// with a valid checksum and every record inside it; `None` for anything else
    /// (queries included).
    pub fn new_checked(bytes: &'a [u8]) -> Option<Self> {
        if bytes.len() < HEADER_LEN || !checksum::verifies(bytes) {
            return None;
        }
        let m = Membership { bytes };
        match bytes[0] {
            V1_REPORT | V2_REPORT | V2_LEAVE => Some(m),
            V3_REPORT => {
                // Every record must lie inside the message.
                let mut at = HEADER_LEN;
                for _ in 0..m.v3_records() {
                    at = at.checked_add(m.v3_record_len(at)?)?;
                }
                (at <= bytes.len()).then_some(m)
            }
            _ => None,
        }
    }

    /// A version 3 report's number of group records.
    fn v3_records(&self) -> usize {
        usize::from(u16::from_be_bytes([self.bytes[6], self.bytes[7]]))
    }

    /// The length of the version 3 record at `at`, if its header is inside.
    fn v3_record_len(&self, at: usize) -> Option<usize> {
        let r = self.bytes.get(at..at + 8)?;
        let aux = usize::from(r[1]) * 4;
        let sources = usize::from(u16::from_be_bytes([r[2], r[3]])) * 4;
        Some(8 + sources + aux)
    }

    /// Each group the message is about and what it says, in order.
    pub fn changes(&self) -> Changes<'a> {
        Changes {
            m: *self,
            next: 0,
            at: HEADER_LEN,
        }
    }
}

/// The iterator of [`Membership::changes`].
#[derive(Debug, Clone)]
pub struct Changes<'a> {
    m: Membership<'a>,
    next: usize,
    at: usize,
}

impl Iterator for Changes<'_> {
    type Item = (Ipv4Addr, Change);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.m.bytes;
        let addr = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
        match b[0] {
            V1_REPORT | V2_REPORT | V2_LEAVE if self.next == 0 => {
                self.next = 1;
                let change = if b[0] == V2_LEAVE {
                    Change::Leave
                } else {
                    Change::Join
                };
                Some((addr(4), change))
            }
            V3_REPORT => loop {
                if self.next >= self.m.v3_records() {
                    return None;
                }
                let at = self.at;
                let len = self.m.v3_record_len(at)?;
                self.next += 1;
                self.at += len;
                let sources = u16::from_be_bytes([b[at + 2], b[at + 3]]);
                let change = match (b[at], sources) {
                    (record::MODE_IS_EXCLUDE | record::CHANGE_TO_EXCLUDE, _) => Change::Join,
                    (
                        record::MODE_IS_INCLUDE
                        | record::CHANGE_TO_INCLUDE
                        | record::ALLOW_NEW_SOURCES,
                        1..,
                    ) => Change::Join,
                    (record::MODE_IS_INCLUDE | record::CHANGE_TO_INCLUDE, 0) => Change::Leave,
                    // BLOCK_OLD_SOURCES and unknown types change no membership.
                    _ => continue,
                };
                return Some((addr(at + 4), change));
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Linux joining 239.1.1.1 (IGMPv3, to 224.0.0.22): one CHANGE_TO_EXCLUDE record
    /// with no sources.
    const V3_JOIN: [u8; 16] = [
        0x22, 0x00, 0xe9, 0xfb, 0x00, 0x00, 0x00, 0x01, // type, reserved, checksum, 1 record
        0x04, 0x00, 0x00, 0x00, 0xef, 0x01, 0x01, 0x01, // CHANGE_TO_EXCLUDE 239.1.1.1
    ];
    /// Leaving it: CHANGE_TO_INCLUDE with no sources.
    const V3_LEAVE: [u8; 16] = [
        0x22, 0x00, 0xea, 0xfb, 0x00, 0x00, 0x00, 0x01, //
        0x03, 0x00, 0x00, 0x00, 0xef, 0x01, 0x01, 0x01, //
    ];
    /// An IGMPv2 report for 239.1.1.1.
    const V2_JOIN: [u8; 8] = [0x16, 0x00, 0xf9, 0xfc, 0xef, 0x01, 0x01, 0x01];
    /// An IGMPv2 leave of 239.1.1.1.
    const V2_LEAVE_MSG: [u8; 8] = [0x17, 0x00, 0xf8, 0xfc, 0xef, 0x01, 0x01, 0x01];

    fn changes(b: &[u8]) -> Option<Vec<(Ipv4Addr, Change)>> {
        Membership::new_checked(b).map(|m| m.changes().collect())
    }

    #[test]
    fn literal_messages_read_as_their_changes() {
        let g = Ipv4Addr::new(239, 1, 1, 1);
        assert_eq!(changes(&V3_JOIN), Some(vec![(g, Change::Join)]));
        assert_eq!(changes(&V3_LEAVE), Some(vec![(g, Change::Leave)]));
        assert_eq!(changes(&V2_JOIN), Some(vec![(g, Change::Join)]));
        assert_eq!(changes(&V2_LEAVE_MSG), Some(vec![(g, Change::Leave)]));
    }

    #[test]
    fn queries_bad_checksums_and_truncated_records_are_not_memberships() {
        let query = [0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0];
        assert!(checksum::verifies(&query));
        assert!(changes(&query).is_none());
        let mut bad = V2_JOIN;
        bad[4] = 0xe0;
        assert!(changes(&bad).is_none());
        assert!(changes(&V3_JOIN[..12]).is_none());
        assert!(changes(&V2_JOIN[..6]).is_none());
    }

    #[test]
    fn v3_records_are_read_in_turn() {
        // Two records: ALLOW 239.2.2.2 from one source, BLOCK (ignored), then
        // CHANGE_TO_INCLUDE {} for 239.3.3.3.
        let mut m = vec![0x22, 0, 0, 0, 0, 0, 0, 3];
        m.extend_from_slice(&[5, 0, 0, 1, 239, 2, 2, 2, 10, 0, 0, 1]);
        m.extend_from_slice(&[6, 0, 0, 1, 239, 2, 2, 2, 10, 0, 0, 1]);
        m.extend_from_slice(&[3, 0, 0, 0, 239, 3, 3, 3]);
        let c = checksum::internet(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            changes(&m),
            Some(vec![
                (Ipv4Addr::new(239, 2, 2, 2), Change::Join),
                (Ipv4Addr::new(239, 3, 3, 3), Change::Leave),
            ])
        );
        // A record count past the end.
        m[7] = 4;
        let c = {
            m[2..4].copy_from_slice(&[0, 0]);
            checksum::internet(&m)
        };
        m[2..4].copy_from_slice(&c.to_be_bytes());
        assert!(changes(&m).is_none());
    }
}

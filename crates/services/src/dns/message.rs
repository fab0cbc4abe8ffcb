//! One query to one answer: the header rules, the question, CNAME chasing, negative
//! answers, EDNS(0) and truncation.
//!
//! - A message shorter than a header, or one with QR set (a response), gets no answer.
//! - An opcode other than QUERY: NOTIMP. A message that does not parse, or has not
//!   exactly one question: FORMERR (the ID, opcode and RD copied from the header).
//! - A class other than IN: REFUSED; AXFR, IXFR and the other meta types but ANY:
//!   NOTIMP. An EDNS version other than 0: BADVERS (RFC 6891).
//! - Flags: QR, RA, RD copied, AA clear (the resolver is recursive: it relays Route
//!   53's answers, it is not a name server of the zones). CD copied, AD clear.
//! - A CNAME is followed within what the resolver knows, up to [`MAX_CNAME_CHAIN`]
//!   records; a loop or a longer chain is SERVFAIL. The answer's RCODE is that of the
//!   chain's last name (RFC 6604).
//! - NXDOMAIN and NODATA carry the SOA of the name's zone in the authority section.
//! - With EDNS(0) in the query the answer has an OPT record offering
//!   [`ADVERTISED_UDP_SIZE`].

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use vpc_config::VpcId;

use super::names::Rec;
use super::{ADVERTISED_UDP_SIZE, MAX_CNAME_CHAIN, PLAIN_UDP_SIZE, Resolver, Transport};

/// Length of the DNS header.
const HEADER_LEN: usize = 12;

pub(super) fn answer(
    r: &Resolver<'_>,
    vpc: Option<VpcId>,
    query: &[u8],
    transport: Transport,
) -> Option<Vec<u8>> {
    if query.len() < HEADER_LEN || query[2] & 0x80 != 0 {
        return None;
    }
    let id = u16::from_be_bytes([query[0], query[1]]);
    let opcode = (query[2] >> 3) & 0x0f;
    let rd = query[2] & 0x01 != 0;
    if opcode != 0 {
        return encode(
            &bare(id, OpCode::from_u8(opcode), rd, ResponseCode::NotImp),
            None,
            transport,
        );
    }
    let Ok(q) = Message::from_vec(query) else {
        return encode(
            &bare(id, OpCode::Query, rd, ResponseCode::FormErr),
            None,
            transport,
        );
    };
    let mut out = bare(id, OpCode::Query, rd, ResponseCode::NoError);
    out.metadata.checking_disabled = q.metadata.checking_disabled;
    let client_size = q.edns.as_ref().map(|e| e.max_payload());
    if let Some(e) = &q.edns {
        let mut edns = Edns::new();
        edns.set_max_payload(ADVERTISED_UDP_SIZE);
        out.set_edns(edns);
        if e.version() != 0 {
            out.metadata.response_code = ResponseCode::BADVERS;
            return encode(&out, client_size, transport);
        }
    }
    let [question] = &q.queries[..] else {
        out.metadata.response_code = ResponseCode::FormErr;
        return encode(&out, client_size, transport);
    };
    out.add_query(question.clone());
    let qtype = question.query_type();
    if question.query_class() != DNSClass::IN {
        out.metadata.response_code = ResponseCode::Refused;
    } else if matches!(
        qtype,
        RecordType::AXFR | RecordType::IXFR | RecordType::OPT | RecordType::Unknown(128..=254)
    ) {
        out.metadata.response_code = ResponseCode::NotImp;
    } else {
        resolve(r, vpc, question, &mut out);
    }
    encode(&out, client_size, transport)
}

/// A response header with no sections.
fn bare(id: u16, op_code: OpCode, rd: bool, code: ResponseCode) -> Message {
    let mut m = Message::new(id, MessageType::Response, op_code);
    m.metadata.recursion_desired = rd;
    m.metadata.recursion_available = true;
    m.metadata.authoritative = false;
    m.metadata.response_code = code;
    m
}

/// Fills the answer to `question` in: answers, the SOA of a negative answer, RCODE.
fn resolve(r: &Resolver<'_>, vpc: Option<VpcId>, question: &Query, out: &mut Message) {
    let qtype = question.query_type();
    let mut owner: Name = question.name().clone();
    let mut seen: Vec<String> = Vec::new();
    loop {
        let canonical = canonical(&owner);
        if seen.contains(&canonical) || seen.len() > MAX_CNAME_CHAIN {
            out.answers.clear();
            out.metadata.response_code = ResponseCode::ServFail;
            return;
        }
        seen.push(canonical.clone());
        let node = r.node(vpc, &canonical);
        let Some(records) = node.records else {
            out.metadata.response_code = ResponseCode::NXDomain;
            out.add_authority(soa(&node.zone));
            return;
        };
        let wanted = |rec: &&Rec| qtype == RecordType::ANY || rec.rtype == qtype;
        let matching: Vec<&Rec> = records.iter().filter(wanted).collect();
        if !matching.is_empty() {
            for rec in matching {
                out.add_answer(Record::from_rdata(owner.clone(), rec.ttl, rec.data.clone()));
            }
            return;
        }
        let cname = records.iter().find(|rec| rec.rtype == RecordType::CNAME);
        match cname {
            Some(rec) => {
                out.add_answer(Record::from_rdata(owner.clone(), rec.ttl, rec.data.clone()));
                let RData::CNAME(target) = &rec.data else {
                    return;
                };
                owner = target.0.clone();
            }
            None => {
                out.add_authority(soa(&node.zone));
                return;
            }
        }
    }
}

/// The canonical form of a name in a question: lowercase, no final dot.
fn canonical(n: &Name) -> String {
    let s = n.to_ascii().to_ascii_lowercase();
    s.strip_suffix('.').unwrap_or(&s).to_owned()
}

/// The SOA record of `zone`.
fn soa(zone: &super::names::Zone<'_>) -> Record {
    let (owner, ttl, data) = zone.soa();
    Record::from_rdata(owner, ttl, data)
}

/// The answer's bytes, truncated (TC set, the question and OPT alone) where it is too
/// long for the transport.
fn encode(m: &Message, client_size: Option<u16>, transport: Transport) -> Option<Vec<u8>> {
    let limit = match transport {
        Transport::Tcp => usize::from(u16::MAX),
        Transport::Udp => match client_size {
            None => PLAIN_UDP_SIZE,
            Some(s) => usize::from(s.clamp(PLAIN_UDP_SIZE as u16, ADVERTISED_UDP_SIZE)),
        },
    };
    let bytes = m.to_vec().ok()?;
    if bytes.len() <= limit {
        return Some(bytes);
    }
    m.truncate().to_vec().ok()
}

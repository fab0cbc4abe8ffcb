//! The services take anything an instance sends without panicking: random bytes and
//! mutated queries to the resolver, random methods, paths and headers to the metadata
//! service. An answer to something that parses as a query carries its ID; a metadata
//! answer is always one of the service's status codes.

use proptest::prelude::*;
use vpc_config::{EniId, Topology, VpcId};
use vpc_services::dns::{Transport, answer};
use vpc_services::imds::{Request, respond};

/// A query for `db.demo.internal` A, ID 0x1234, RD set.
const QUERY: [u8; 34] = [
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 2, b'd', b'b', 4, b'd',
    b'e', b'm', b'o', 8, b'i', b'n', b't', b'e', b'r', b'n', b'a', b'l', 0, 0x00, 0x01, 0x00, 0x01,
];

fn demo() -> &'static Topology {
    static T: std::sync::OnceLock<Topology> = std::sync::OnceLock::new();
    T.get_or_init(Topology::demo)
}

#[test]
fn the_literal_query_is_answered() {
    let a = answer(demo(), VpcId(0), &QUERY, Transport::Udp).unwrap();
    assert_eq!(&a[..2], &[0x12, 0x34]);
    // QR set, NOERROR, one answer: 10.0.12.10 at the end.
    assert_eq!(a[2] & 0x80, 0x80);
    assert_eq!(a[3] & 0x0f, 0);
    assert_eq!(&a[a.len() - 4..], &[10, 0, 12, 10]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic_the_resolver(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for transport in [Transport::Udp, Transport::Tcp] {
            if let Some(a) = answer(demo(), VpcId(0), &bytes, transport) {
                prop_assert!(a.len() >= 12);
                prop_assert_eq!(&a[..2], &bytes[..2]);
                if transport == Transport::Udp {
                    prop_assert!(a.len() <= 1232);
                }
            }
        }
    }

    #[test]
    fn mutated_queries_never_panic_the_resolver(
        flips in proptest::collection::vec((0usize..34, any::<u8>()), 1..6),
        cut in 12usize..=34,
    ) {
        let mut q = QUERY.to_vec();
        for (at, b) in flips {
            q[at] = b;
        }
        q.truncate(cut);
        if let Some(a) = answer(demo(), VpcId(0), &q, Transport::Udp) {
            prop_assert_eq!(&a[..2], &q[..2]);
        }
    }

    #[test]
    fn any_request_gets_a_metadata_status(
        method in prop::sample::select(vec!["GET", "PUT", "HEAD", "POST", "DELETE", "", "G\u{0}T"]),
        path in "(/[a-zA-Z0-9._%-]{0,12}){0,6}/?",
        token in proptest::option::of("[ -~]{0,80}"),
        ttl in proptest::option::of("[-0-9a-z ]{0,8}"),
        forwarded_for in any::<bool>(),
        eni in 0u32..3,
        now in any::<u64>(),
    ) {
        let req = Request {
            method,
            path: &path,
            token: token.as_deref(),
            token_ttl: ttl.as_deref(),
            forwarded_for,
        };
        let r = respond(demo(), EniId(eni), &req, now, &[7; 32]);
        prop_assert!([200, 400, 401, 403, 404, 405].contains(&r.status), "{} {}", r.status, path);
    }
}

//! What the API's integration tests share: keys of two accounts, a fixed clock, a
//! session that signs each request (SigV4, as botocore does) for its region, applies
//! the topology a change returns after checking it reads back from its own file
//! unchanged, and small XML helpers.

#![allow(dead_code, unused_imports)] // each test file uses its own part
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

pub use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use vpc_config::Topology;
pub use vpc_ec2::ids::{self, Kind};
pub use vpc_ec2::{Api, Credentials, Request, Response, sigv4};

pub const KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const OTHER_KEY: &str = "AKIAOTHERACCOUNT0001";

pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_765_000_000)
}

pub fn api() -> Api {
    let mut c = Credentials::default();
    c.insert(KEY, SECRET, "123456789012");
    c.insert(OTHER_KEY, SECRET, "444455556666");
    Api::new(c, 7)
}

/// The region of the demo's VPC (config/demo.toml): a session on it signs for it.
pub const DEMO_REGION: &str = "local-1";

/// A test session: the API, the topology it changes, and the region its calls are
/// signed for (the EC2 API answers about that region's resources only).
pub struct Session {
    pub api: Api,
    pub t: Topology,
    pub region: String,
}

impl Session {
    /// A session on `t`, signing for us-east-1 (where a VPC without `region` is).
    pub fn new(t: Topology) -> Session {
        Session {
            api: api(),
            t,
            region: "us-east-1".to_owned(),
        }
    }

    /// A session on the demo, signing for its region ([`DEMO_REGION`]).
    pub fn demo() -> Session {
        Session::new(Topology::demo()).with_region(DEMO_REGION)
    }

    /// The same session, signing for `region`.
    pub fn with_region(mut self, region: &str) -> Session {
        self.region = region.to_owned();
        self
    }

    pub fn empty() -> Session {
        Session::new(vpc_config::parse("", "empty").unwrap())
    }

    /// POSTs `body`, signed by `key` for `service` in `region`, and applies a change.
    pub fn call_as(&mut self, key: &str, service: &str, region: &str, body: &str) -> Response {
        let headers = signed(key, service, region, body);
        let req = Request {
            method: "POST",
            path_and_query: "/",
            headers: &headers,
            body: body.as_bytes(),
        };
        let (resp, new) = self.api.handle(&req, &self.t, now());
        assert_eq!(resp.content_type, "text/xml;charset=UTF-8");
        if let Some(new) = new {
            assert_eq!(resp.status, 200);
            // What the caller applies reads back from its own file unchanged.
            let back = vpc_config::parse(&vpc_config::to_toml(&new), "back").unwrap();
            assert_eq!(back, new);
            self.t = new;
        }
        resp
    }

    /// POSTs `body` signed by the first account's key for the session's region.
    pub fn call(&mut self, body: &str) -> Response {
        let region = self.region.clone();
        self.call_as(KEY, "ec2", &region, body)
    }

    /// Calls and expects success: the body.
    pub fn ok(&mut self, body: &str) -> String {
        let r = self.call(body);
        assert_eq!(r.status, 200, "{body}\n{}", r.body);
        r.body
    }

    /// Calls and expects error `code` with `status`: the body.
    pub fn err(&mut self, body: &str, status: u16, code: &str) -> String {
        let r = self.call(body);
        assert_eq!(r.status, status, "{body}\n{}", r.body);
        assert!(
            r.body.contains(&format!("<Code>{code}</Code>")),
            "{body}\n{}",
            r.body
        );
        r.body
    }
}

pub fn signed(key: &str, service: &str, region: &str, body: &str) -> Vec<(String, String)> {
    let mut headers = vec![
        ("Host".to_owned(), "127.0.0.1:4566".to_owned()),
        (
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        ),
    ];
    let added = sigv4::sign(
        "POST",
        "/",
        &headers,
        body.as_bytes(),
        key,
        SECRET,
        region,
        service,
        now(),
    );
    headers.extend(added);
    headers
}

/// The text of the first `<tag>` element of `xml`.
pub fn first<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
    &xml[start..end]
}

pub fn count(xml: &str, needle: &str) -> usize {
    xml.matches(needle).count()
}

pub const V: &str = "Version=2016-11-15";

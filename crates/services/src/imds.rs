//! The instance metadata service (IMDSv1 and IMDSv2) at 169.254.169.254, as one pure
//! function: [`respond`] takes the topology, the network interface that asked (the
//! daemon knows it from the packet, never from a header), the request, the time and
//! the daemon's per-run token key, and returns the HTTP response. No state is kept:
//! session tokens carry their own expiry and MAC (`imds/token.rs`), and every answer
//! is computed from the topology passed in, so a change shows at once.
//!
//! AWS's behaviour implemented (docs/metadata.md lists every path and status):
//! - `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1 to 21600)
//!   answers a token good for that many seconds for this instance, with the TTL
//!   header, in an IP packet whose TTL is the instance's
//!   `http_put_response_hop_limit` ([`Response::ttl`]); a missing or bad TTL is 400; a
//!   `PUT` carrying `X-Forwarded-For` is refused (403), as AWS refuses proxied token
//!   requests.
//! - A request with `X-aws-ec2-metadata-token` is answered only if the token is valid
//!   for this instance and unexpired (else 401), whatever `http_tokens` says; without
//!   one, `http_tokens = "required"` answers 401 and `"optional"` answers (IMDSv1).
//! - `http_endpoint = "disabled"`: every request is 403.
//! - `GET` (and `HEAD`, without the body) read; any other method is 405 (and `GET` of
//!   the token path too).
//! - Unknown paths are 404 with AWS's small XHTML error page, as are absent values
//!   (`public-ipv4` without a public address, `user-data` without user data, `iam/`:
//!   vpcd has no instance profiles).

mod base64;
mod token;
mod tree;

#[cfg(test)]
mod tests;

use vpc_config::{EniId, HttpEndpoint, HttpTokens, Topology};

/// The request header that asks for a token's lifetime, and the response header that
/// tells it.
pub const TOKEN_TTL_HEADER: &str = "X-aws-ec2-metadata-token-ttl-seconds";
/// The request header that carries a session token.
pub const TOKEN_HEADER: &str = "X-aws-ec2-metadata-token";
/// The path that issues tokens (`PUT`).
pub const TOKEN_PATH: &str = "/latest/api/token";
/// The longest token lifetime, in seconds (six hours, AWS's limit).
pub const MAX_TOKEN_TTL: u64 = 21_600;
/// The content type of metadata (every value and listing but user data).
pub const TEXT: &str = "text/plain";
/// The content type of user data.
pub const OCTETS: &str = "application/octet-stream";
/// The content type of error pages.
pub const HTML: &str = "text/html";

/// The metadata versions answered, as `/` lists them: every dated version answers the
/// same as `latest` (vpcd serves one set of categories).
pub const VERSIONS: &[&str] = &[
    "1.0",
    "2007-01-19",
    "2007-03-01",
    "2007-08-29",
    "2007-10-10",
    "2007-12-15",
    "2008-02-01",
    "2008-09-01",
    "2009-04-04",
    "2011-01-01",
    "2011-05-01",
    "2012-01-12",
    "2014-02-25",
    "2014-11-05",
    "2015-10-20",
    "2016-04-19",
    "2016-06-30",
    "2016-09-02",
    "2018-03-28",
    "2018-08-17",
    "2018-09-24",
    "2019-10-01",
    "2020-10-27",
    "2021-01-03",
    "2021-03-23",
    "2021-07-15",
    "2022-09-24",
    "2024-04-11",
    "latest",
];

/// One HTTP request to 169.254.169.254, as the daemon's server parsed it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `HEAD`, `PUT`, ...
    pub method: &'a str,
    /// The request target's path (a query string, if any, is ignored).
    pub path: &'a str,
    /// `X-aws-ec2-metadata-token`, if sent.
    pub token: Option<&'a str>,
    /// `X-aws-ec2-metadata-token-ttl-seconds`, if sent.
    pub token_ttl: Option<&'a str>,
    /// Whether an `X-Forwarded-For` header was sent.
    pub forwarded_for: bool,
}

impl<'a> Request<'a> {
    /// The request of `method` to `path` with `headers` (name, value) as received:
    /// names are matched without regard to case; of a repeated header the first is
    /// taken.
    pub fn from_headers(
        method: &'a str,
        path: &'a str,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Request<'a> {
        let mut r = Request {
            method,
            path,
            token: None,
            token_ttl: None,
            forwarded_for: false,
        };
        for (name, value) in headers {
            if name.eq_ignore_ascii_case(TOKEN_HEADER) {
                r.token = r.token.or(Some(value));
            } else if name.eq_ignore_ascii_case(TOKEN_TTL_HEADER) {
                r.token_ttl = r.token_ttl.or(Some(value));
            } else if name.eq_ignore_ascii_case("X-Forwarded-For") {
                r.forwarded_for = true;
            }
        }
        r
    }
}

/// The HTTP response to write back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// 200, 400, 401, 403, 404 or 405.
    pub status: u16,
    /// [`TEXT`], [`OCTETS`] or [`HTML`].
    pub content_type: &'static str,
    /// Headers besides `Content-Type` and `Content-Length`: the token TTL on a token
    /// response and on answers to a request with a token (the seconds it has left),
    /// `Allow` on a 405.
    pub headers: Vec<(&'static str, String)>,
    /// The body (empty for `HEAD`).
    pub body: Vec<u8>,
    /// The IP TTL to send this response with, if it must not be the default: the
    /// instance's hop limit, on a token `PUT`'s answer (so that a token does not reach
    /// a container or host more hops away).
    pub ttl: Option<u8>,
}

impl Response {
    fn ok(content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status: 200,
            content_type,
            headers: Vec::new(),
            body,
            ttl: None,
        }
    }

    /// AWS's error page for `status`.
    fn error(status: u16) -> Response {
        let reason = match status {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            405 => "Method Not Allowed",
            _ => "Not Found",
        };
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n <head>\n  <title>{status} - {reason}</title>\n </head>\n <body>\n  <h1>{status} - {reason}</h1>\n </body>\n</html>\n"
        );
        Response {
            status,
            content_type: HTML,
            headers: Vec::new(),
            body: body.into_bytes(),
            ttl: None,
        }
    }

    fn not_allowed(allow: &str) -> Response {
        let mut r = Response::error(405);
        r.headers.push(("Allow", allow.to_owned()));
        r
    }
}

/// The answer to `req` from network interface `eni` at `now_unix_secs`, with tokens
/// made and checked under `key` (the daemon's per-run random key). An interface that
/// is not in `t` (gone since the packet arrived) gets 404.
pub fn respond(
    t: &Topology,
    eni: EniId,
    req: &Request<'_>,
    now_unix_secs: u64,
    key: &[u8; 32],
) -> Response {
    let Some(e) = t.enis.get(eni.index()) else {
        return Response::error(404);
    };
    let instance = e.instance;
    let options = t.instance(instance).launch.metadata_options;
    if options.http_endpoint == HttpEndpoint::Disabled {
        return Response::error(403);
    }
    let instance_id = vpc_ec2::actions::metadata::instance_id(t, instance);
    let path = req.path.split_once('?').map_or(req.path, |(p, _)| p);
    if path == TOKEN_PATH {
        if req.method != "PUT" {
            return Response::not_allowed("PUT");
        }
        if req.forwarded_for {
            return Response::error(403);
        }
        let Some(ttl) = req
            .token_ttl
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| (1..=MAX_TOKEN_TTL).contains(s))
        else {
            return Response::error(400);
        };
        let token = token::issue(key, &instance_id, now_unix_secs + ttl);
        let mut r = Response::ok(TEXT, token.into_bytes());
        r.headers.push((TOKEN_TTL_HEADER, ttl.to_string()));
        r.ttl = Some(options.http_put_response_hop_limit);
        return r;
    }
    let head = match req.method {
        "GET" => false,
        "HEAD" => true,
        _ => return Response::not_allowed("GET, HEAD"),
    };
    let mut left = None;
    match req.token {
        Some(tok) => match token::expiry(key, &instance_id, tok, now_unix_secs) {
            Some(expiry) => left = Some(expiry - now_unix_secs),
            None => return Response::error(401),
        },
        None if options.http_tokens == HttpTokens::Required => return Response::error(401),
        None => {}
    }
    let mut r = match read(t, instance, path) {
        Some(r) => r,
        None => Response::error(404),
    };
    if let Some(left) = left {
        r.headers.push((TOKEN_TTL_HEADER, left.to_string()));
    }
    if head {
        r.body.clear();
    }
    r
}

/// The answer to a read of `path` (200), or `None` (404).
fn read(t: &Topology, instance: vpc_config::InstanceId, path: &str) -> Option<Response> {
    let trimmed = path.strip_prefix('/')?;
    if trimmed.is_empty() {
        return Some(Response::ok(TEXT, VERSIONS.join("\n").into_bytes()));
    }
    let (version, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    if !VERSIONS.contains(&version) {
        return None;
    }
    let rest = rest.trim_end_matches('/');
    let leaves = tree::leaves(t, instance);
    let mut body = tree::lookup(&leaves, rest)?;
    if rest.is_empty() {
        // The version's own listing names its categories without a `/`, as AWS.
        body = String::from_utf8_lossy(&body)
            .split('\n')
            .map(|c| c.trim_end_matches('/'))
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes();
    }
    let content_type = if rest == "user-data" { OCTETS } else { TEXT };
    Some(Response::ok(content_type, body))
}

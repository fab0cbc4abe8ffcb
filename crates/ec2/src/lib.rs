//! The EC2 Query API (and STS `GetCallerIdentity`) over a vpcd [`Topology`], as a
//! library that does no I/O: [`Api::handle`] takes one HTTP request (method, path and
//! query, headers, body), the running topology and the time, and returns the HTTP
//! response and, for a mutating action that succeeded, the changed topology, which the
//! caller applies whole. The daemon serves it over HTTP; nothing here opens a socket,
//! starts a thread or reads the clock. The one exception is [`credentials`], which
//! reads and creates the credentials file.
//!
//! A request goes through: SigV4 verification ([`sigv4`]: the access key decides the
//! account, the credential scope the region and the service, `ec2` or `sts`), the
//! parameters ([`params`]: form body and query string, dotted names as a tree), the
//! action ([`actions`]), and the XML answer ([`xml`]) or an EC2 error ([`error`]).
//! Resources are named by IDs derived from their configuration names ([`ids`]);
//! `Describe*` filters and pages by the same rules everywhere ([`filter`]).
//! `docs/api.md` lists the actions and what differs from AWS.

pub mod actions;
pub mod credentials;
pub mod error;
pub mod filter;
pub mod ids;
pub mod params;
pub mod sigv4;
pub mod xml;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use vpc_config::Topology;

pub use credentials::{Credentials, CredentialsError};
pub use error::ApiError;

/// The XML namespace of EC2 responses.
pub const EC2_XMLNS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";
/// The XML namespace of STS responses.
pub const STS_XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// The content type of every response.
pub const CONTENT_TYPE: &str = "text/xml;charset=UTF-8";

/// One HTTP request, as the server received it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `POST` (the SDKs) or `GET` (parameters in the query string).
    pub method: &'a str,
    /// The request target: path and query string, as sent (`/`, `/?Action=...`).
    pub path_and_query: &'a str,
    /// The headers, names in any case, in the order received.
    pub headers: &'a [(String, String)],
    /// The body (the form parameters of a `POST`).
    pub body: &'a [u8],
}

/// One HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// 200, 400, 401 (`AuthFailure`).
    pub status: u16,
    /// Always [`CONTENT_TYPE`].
    pub content_type: &'static str,
    /// The XML document.
    pub body: String,
}

/// The API: the access keys it accepts, and the seed of the IDs and request IDs it
/// makes up (so that a run is reproducible given its seed).
#[derive(Debug)]
pub struct Api {
    credentials: Credentials,
    seed: u64,
    counter: AtomicU64,
    /// The `ClientToken`s of creating actions (key: account, region, action, token)
    /// and the ID of the resource each made, for AWS's idempotency: the same token
    /// answers the same resource. Kept in memory only (AWS keeps them for a while too).
    client_tokens: Mutex<HashMap<String, String>>,
}

impl Api {
    /// An API accepting `credentials`; `seed` makes fresh resource IDs and request IDs
    /// (the daemon passes a random one, tests a fixed one).
    pub fn new(credentials: Credentials, seed: u64) -> Api {
        Api {
            credentials,
            seed,
            counter: AtomicU64::new(0),
            client_tokens: Mutex::new(HashMap::new()),
        }
    }

    /// The resource ID a creating action made for client token `key`, if any.
    pub(crate) fn client_token(&self, key: &str) -> Option<String> {
        let tokens = self.client_tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.get(key).cloned()
    }

    /// Remembers that client token `key` made resource `id`.
    pub(crate) fn remember_client_token(&self, key: String, id: String) {
        let mut tokens = self.client_tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.insert(key, id);
    }

    /// The keys it accepts.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The next number of this API's sequence (request IDs and fresh resource IDs).
    pub(crate) fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// 64 hex digits, different for every call: SHA-256 of the seed, `what` and the
    /// next number.
    pub(crate) fn fresh_hex(&self, what: &str) -> String {
        let n = self.next();
        sigv4::hex(&Sha256::digest(
            format!("{}/{what}/{n}", self.seed).as_bytes(),
        ))
    }

    /// A request ID, formatted like AWS's (a UUID).
    fn request_id(&self) -> String {
        let h = self.fresh_hex("request");
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// Authenticates (SigV4), parses and runs one action against `topology` at time
    /// `now`; returns the HTTP response and, for a mutating action that succeeded, the
    /// changed topology (the caller applies it whole).
    pub fn handle(
        &self,
        req: &Request<'_>,
        topology: &Topology,
        now: SystemTime,
    ) -> (Response, Option<Topology>) {
        let request_id = self.request_id();
        let caller = match sigv4::verify(req, &self.credentials, now) {
            Ok(c) => c,
            Err(e) => return (error_response(&e, &request_id, false), None),
        };
        let sts = caller.service == "sts";
        let mut pairs = Vec::new();
        if let Some((_, query)) = req.path_and_query.split_once('?') {
            pairs.extend(params::decode_form(query));
        }
        if !req.body.is_empty() {
            pairs.extend(params::decode_form(&String::from_utf8_lossy(req.body)));
        }
        let p = params::Params::new(&pairs);
        let action = match p.str("Action") {
            Some(a) => a.to_owned(),
            None => {
                let e = ApiError::new(
                    "MissingAction",
                    "The request must contain the parameter Action",
                );
                return (error_response(&e, &request_id, sts), None);
            }
        };
        let ctx = actions::Ctx {
            t: topology,
            p: &p,
            caller: &caller,
            api: self,
            now,
        };
        let result = if sts {
            actions::sts(&ctx, &action)
        } else if caller.service == "ec2" {
            actions::ec2(&ctx, &action)
        } else {
            Err(ApiError::auth(format!(
                "Credential should be scoped to a valid service: {:?} is not ec2 or sts",
                caller.service
            )))
        };
        match result {
            Ok(out) => {
                let body = if sts {
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{STS_XMLNS}\"><{action}Result>{}</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>",
                        out.xml
                    )
                } else {
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{EC2_XMLNS}\"><requestId>{request_id}</requestId>{}</{action}Response>",
                        out.xml
                    )
                };
                (
                    Response {
                        status: 200,
                        content_type: CONTENT_TYPE,
                        body,
                    },
                    out.topology,
                )
            }
            Err(e) => (error_response(&e, &request_id, sts), None),
        }
    }

    /// An EC2 error answer that is not the API's own (the server's: a body too large,
    /// a change the daemon could not make): HTTP `status`, `code`, `message`.
    pub fn error_response(&self, status: u16, code: &str, message: &str) -> Response {
        let mut e = ApiError::new(code, message);
        e.status = status;
        error_response(&e, &self.request_id(), false)
    }
}

/// The XML of an error: EC2's `<Response><Errors>...`, or STS's `<ErrorResponse>`.
fn error_response(e: &ApiError, request_id: &str, sts: bool) -> Response {
    let code = xml::escape(&e.code);
    let message = xml::escape(&e.message);
    let body = if sts {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{STS_XMLNS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
    };
    Response {
        status: e.status,
        content_type: CONTENT_TYPE,
        body,
    }
}

//! The instance metadata service (IMDSv1 and IMDSv2) at 169.254.169.254.
use vpc_config::{EniId, Topology};
#[derive(Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub token: Option<&'a str>,
    pub token_ttl: Option<&'a str>,
    pub forwarded_for: bool,
}
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub ttl: Option<u8>,
}
pub fn respond(t: &Topology, eni: EniId, req: &Request, _now: u64, _key: &[u8; 32]) -> Response {
    Response {
        status: 200,
        content_type: "text/plain",
        headers: vec![],
        body: format!("{} {}", req.path, t.eni(eni).private_ip).into_bytes(),
        ttl: Some(1),
    }
}

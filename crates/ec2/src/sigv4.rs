//! AWS Signature Version 4 verification (and, for tests and tools, signing).
//!
//! A request carries `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/
//! SERVICE/aws4_request, SignedHeaders=a;b;c, Signature=hex`. The verifier looks the
//! access key up, rebuilds the canonical request from exactly the headers the request
//! lists as signed (method, canonical URI, canonical query string, canonical headers,
//! the signed header list, and the hex SHA-256 of the body, or the
//! `x-amz-content-sha256` header if present), the string to sign
//! (`AWS4-HMAC-SHA256`, `x-amz-date`, the scope, the hash of the canonical request),
//! derives the signing key from the secret (`AWS4`+secret, then date, region, service,
//! `aws4_request`, each an HMAC-SHA256 step), and compares the signature in constant
//! time. A request whose `x-amz-date` is more than 15 minutes from the server's clock
//! is refused, as AWS refuses it. Every failure is `AuthFailure` (HTTP 401).
//!
//! Clients differ only in what they sign: botocore (the AWS CLI, boto3) signs
//! `content-type;host;x-amz-date`, Terraform's aws-sdk-go-v2 signs
//! `amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date`.
//! Both are verified the same way. Presigned URLs (the signature in the query string)
//! are not supported.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::Request;
use crate::credentials::Credentials;
use crate::error::ApiError;
use crate::params::percent_decode;

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name in `Authorization` and the string to sign.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far a request's `x-amz-date` may be from the server's clock (AWS: 15 minutes).
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Who signed a request and for what: the result of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The access key ID.
    pub access_key: String,
    /// The account the key belongs to.
    pub account: String,
    /// The region of the credential scope (`us-east-1`).
    pub region: String,
    /// The service of the credential scope (`ec2`, `sts`).
    pub service: String,
}

/// The parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn denied() -> ApiError {
    ApiError::auth("AWS was not able to validate the provided access credentials")
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, ApiError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            ApiError::auth(format!(
                "Unsupported authorization type (only {ALGORITHM} is supported)"
            ))
        })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let malformed = || {
        ApiError::auth(
            "The Authorization header is malformed: it needs Credential, SignedHeaders and Signature",
        )
    };
    let (credential, signed, signature) = (
        credential.ok_or_else(malformed)?,
        signed.ok_or_else(malformed)?,
        signature.ok_or_else(malformed)?,
    );
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, "aws4_request"] = scope[..] else {
        return Err(ApiError::auth(format!(
            "Credential should be scoped to a valid region and service: {credential:?}"
        )));
    };
    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers: signed.split(';').collect(),
        signature,
    })
}

/// The value of header `name` (case-insensitive): several of one name joined by `,`.
fn header(req: &Request<'_>, name: &str) -> Option<String> {
    let values: Vec<&str> = req
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// Verifies the request's signature against `credentials` at time `now`.
pub fn verify(
    req: &Request<'_>,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<Caller, ApiError> {
    let value = header(req, "authorization").ok_or_else(|| {
        ApiError::auth("AWS was not able to validate the provided access credentials: the request is not signed")
    })?;
    let auth = parse_authorization(&value)?;
    let key = credentials.get(auth.access_key).ok_or_else(denied)?;
    if !auth.signed_headers.contains(&"host") {
        return Err(ApiError::auth("The host header must be signed"));
    }
    let amz_date = header(req, "x-amz-date").ok_or_else(|| {
        ApiError::auth("AWS was not able to validate the provided access credentials: the request has no x-amz-date header")
    })?;
    let signed_at = parse_amz_date(&amz_date).ok_or_else(|| {
        ApiError::auth(format!(
            "Invalid x-amz-date {amz_date:?}: expected YYYYMMDDTHHMMSSZ"
        ))
    })?;
    if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
        return Err(ApiError::auth(format!(
            "Date in Credential scope does not match YYYYMMDD from x-amz-date: {} vs {amz_date}",
            auth.date
        )));
    }
    let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if signed_at + MAX_SKEW.as_secs() < now_secs {
        return Err(ApiError::auth(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            format_amz_date(now_secs - MAX_SKEW.as_secs()),
            format_amz_date(now_secs)
        )));
    }
    if signed_at > now_secs + MAX_SKEW.as_secs() {
        return Err(ApiError::auth(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            format_amz_date(now_secs + MAX_SKEW.as_secs()),
            format_amz_date(now_secs)
        )));
    }
    let mut headers = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value = header(req, name).ok_or_else(|| {
            ApiError::auth(format!(
                "Header {name} is listed as signed but is not in the request"
            ))
        })?;
        headers.push((name.to_string(), value));
    }
    // The body's own hash, always: a client's `x-amz-content-sha256` must agree with
    // it (else a signed request could carry another body).
    let payload = hex(&Sha256::digest(req.body));
    if header(req, "x-amz-content-sha256").is_some_and(|h| h != payload) {
        return Err(ApiError::auth(
            "The provided x-amz-content-sha256 header does not match what was computed.",
        ));
    }
    let canonical = canonical_request(req.method, req.path_and_query, &headers, &payload);
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let to_sign = string_to_sign(&amz_date, &scope, &canonical);
    let signing_key = signing_key(&key.secret, auth.date, auth.region, auth.service);
    let given = unhex(auth.signature).ok_or_else(denied)?;
    let mut mac = hmac(&signing_key);
    mac.update(to_sign.as_bytes());
    mac.verify_slice(&given).map_err(|_| {
        ApiError::auth(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        )
    })?;
    Ok(Caller {
        access_key: auth.access_key.to_owned(),
        account: key.account.clone(),
        region: auth.region.to_owned(),
        service: auth.service.to_owned(),
    })
}

/// The headers a client adds to sign a request: `x-amz-date` and `authorization`,
/// signing `headers` (which must include `host`) and the body. For tests and tools.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: &[u8],
    access_key: &str,
    secret: &str,
    region: &str,
    service: &str,
    at: SystemTime,
) -> Vec<(String, String)> {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let amz_date = format_amz_date(secs);
    let date = &amz_date[..8];
    let mut signed: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    signed.push(("x-amz-date".to_owned(), amz_date.clone()));
    signed.sort();
    let payload = hex(&Sha256::digest(body));
    let canonical = canonical_request(method, path_and_query, &signed, &payload);
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = string_to_sign(&amz_date, &scope, &canonical);
    let mut mac = hmac(&signing_key(secret, date, region, service));
    mac.update(to_sign.as_bytes());
    let signature = hex(&mac.finalize().into_bytes());
    let names: Vec<&str> = signed.iter().map(|(k, _)| k.as_str()).collect();
    vec![
        ("X-Amz-Date".to_owned(), amz_date.clone()),
        (
            "Authorization".to_owned(),
            format!(
                "{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={}, Signature={signature}",
                names.join(";")
            ),
        ),
    ]
}

/// The canonical request: method, canonical URI, canonical query string, canonical
/// headers (`name:value\n` each, values trimmed with inner runs of spaces collapsed),
/// signed header names, payload hash; `headers` are in the signed order.
fn canonical_request(
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    payload: &str,
) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let path = if path.is_empty() { "/" } else { path };
    let mut out = String::new();
    out.push_str(method);
    out.push('\n');
    out.push_str(&uri_encode(path, false));
    out.push('\n');
    out.push_str(&canonical_query(query));
    out.push('\n');
    for (name, value) in headers {
        out.push_str(name);
        out.push(':');
        out.push_str(&value.split_whitespace().collect::<Vec<_>>().join(" "));
        out.push('\n');
    }
    out.push('\n');
    let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    out.push_str(&names.join(";"));
    out.push('\n');
    out.push_str(payload);
    out
}

/// The query string's pairs, decoded, encoded again the AWS way and sorted.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k, false), true),
                uri_encode(&percent_decode(v, false), true),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// AWS's URI encoding: unreserved characters (`A-Z a-z 0-9 - _ . ~`) as they are,
/// every other byte `%XX` (uppercase); `/` kept unless `slash` is set.
fn uri_encode(s: &str, slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if !slash => out.push('/'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn string_to_sign(amz_date: &str, scope: &str, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    )
}

fn hmac(key: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length: this cannot fail.
    match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

fn hmac_bytes(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = hmac(key);
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac_bytes(format!("AWS4{secret}").as_bytes(), date);
    let k_region = hmac_bytes(&k_date, region);
    let k_service = hmac_bytes(&k_region, service);
    hmac_bytes(&k_service, "aws4_request")
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Seconds since the epoch of `YYYYMMDDTHHMMSSZ`.
fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, sec) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || sec > 60
        || y < 1970
    {
        return None;
    }
    let days = days_from_civil(y as i64, mo as i64, d as i64);
    u64::try_from(days)
        .ok()
        .map(|days| days * 86_400 + h * 3600 + mi * 60 + sec)
}

/// `YYYYMMDDTHHMMSSZ` of seconds since the epoch.
pub fn format_amz_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(amz_date: &str) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(parse_amz_date(amz_date).unwrap())
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A request botocore 1.43 signed (`SigV4Auth(Credentials(AKID, SECRET), "ec2",
    /// "us-east-1").add_auth(AWSRequest(...))` for `http://127.0.0.1:4566/`): the
    /// literal bytes it sent.
    const BOTO_BODY: &[u8] =
        b"Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=main";
    const BOTO_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261206/us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=d8a204c98b60deb83e73c086e93dac56ff6f30431481c3b02c8cbc1d3fb436d6";

    fn boto_headers(auth: &str, date: &str) -> Vec<(String, String)> {
        h(&[
            ("Host", "127.0.0.1:4566"),
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("X-Amz-Date", date),
            ("Authorization", auth),
            ("Content-Length", "83"),
        ])
    }

    fn creds(secret: &str) -> Credentials {
        let mut c = Credentials::default();
        c.insert("AKIAIOSFODNN7EXAMPLE", secret, "123456789012");
        c
    }

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn check(
        headers: &[(String, String)],
        body: &[u8],
        secret: &str,
        now: &str,
    ) -> Result<Caller, ApiError> {
        let req = Request {
            method: "POST",
            path_and_query: "/",
            headers,
            body,
        };
        verify(&req, &creds(secret), at(now))
    }

    #[test]
    fn a_botocore_signature_is_accepted() {
        let headers = boto_headers(BOTO_AUTH, "20261206T040657Z");
        let caller = check(&headers, BOTO_BODY, SECRET, "20261206T040657Z").unwrap();
        assert_eq!(caller.account, "123456789012");
        assert_eq!(
            (caller.region.as_str(), caller.service.as_str()),
            ("us-east-1", "ec2")
        );
        // 14 minutes either way is fine.
        check(&headers, BOTO_BODY, SECRET, "20261206T042057Z").unwrap();
        check(&headers, BOTO_BODY, SECRET, "20261206T035257Z").unwrap();
    }

    #[test]
    fn tampered_requests_are_refused() {
        let headers = boto_headers(BOTO_AUTH, "20261206T040657Z");
        let now = "20261206T040657Z";
        let refused = |r: Result<Caller, ApiError>| {
            let e = r.unwrap_err();
            assert_eq!((e.status, e.code.as_str()), (401, "AuthFailure"), "{e}");
            e.message
        };
        // Wrong secret.
        let m = refused(check(&headers, BOTO_BODY, "wrong", now));
        assert!(m.contains("signature we calculated does not match"), "{m}");
        // Changed body.
        refused(check(
            &headers,
            b"Action=DescribeVpcs&Version=2016-11-15",
            SECRET,
            now,
        ));
        // A payload hash header that is not the body's.
        let mut hashed = headers.clone();
        hashed.push((
            "X-Amz-Content-Sha256".to_owned(),
            hex(&Sha256::digest(b"other")),
        ));
        let m = refused(check(&hashed, BOTO_BODY, SECRET, now));
        assert!(m.contains("x-amz-content-sha256"), "{m}");
        // Changed signed header.
        let mut changed = headers.clone();
        changed[1].1 = "application/x-www-form-urlencoded".to_owned();
        refused(check(&changed, BOTO_BODY, SECRET, now));
        // Stale and future dates.
        let m = refused(check(&headers, BOTO_BODY, SECRET, "20261206T042258Z"));
        assert!(
            m.starts_with(
                "Signature expired: 20261206T040657Z is now earlier than 20261206T040758Z"
            ),
            "{m}"
        );
        let m = refused(check(&headers, BOTO_BODY, SECRET, "20261206T035056Z"));
        assert!(m.starts_with("Signature not yet current"), "{m}");
        // Unknown key, no signature, a signed header missing, malformed.
        let other = BOTO_AUTH.replace("AKIAIOSFODNN7EXAMPLE", "AKIAOTHER0000000000X");
        refused(check(&boto_headers(&other, now), BOTO_BODY, SECRET, now));
        refused(check(&headers[..3], BOTO_BODY, SECRET, now));
        refused(check(
            &[headers[1].clone(), headers[2].clone(), headers[3].clone()],
            BOTO_BODY,
            SECRET,
            now,
        ));
        refused(check(
            &boto_headers("AWS4-HMAC-SHA256 Credential=x", now),
            BOTO_BODY,
            SECRET,
            now,
        ));
    }

    /// The example of AWS's SigV4 documentation (IAM `ListUsers` by GET).
    #[test]
    fn the_aws_documentation_example() {
        let headers = h(&[
            ("Host", "iam.amazonaws.com"),
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            ),
        ]);
        let req = Request {
            method: "GET",
            path_and_query: "/?Action=ListUsers&Version=2010-05-08",
            headers: &headers,
            body: b"",
        };
        let mut c = Credentials::default();
        c.insert(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "123456789012",
        );
        let caller = verify(&req, &c, at("20150830T123600Z")).unwrap();
        assert_eq!(caller.service, "iam");
    }

    #[test]
    fn our_signer_agrees_with_botocore() {
        let headers = h(&[
            ("Host", "127.0.0.1:4566"),
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
        ]);
        let added = sign(
            "POST",
            "/",
            &headers,
            BOTO_BODY,
            "AKIAIOSFODNN7EXAMPLE",
            SECRET,
            "us-east-1",
            "ec2",
            at("20261206T040657Z"),
        );
        assert_eq!(added[1].1, BOTO_AUTH);
    }

    #[test]
    fn dates_convert_both_ways() {
        for d in [
            "19700101T000000Z",
            "20000229T235959Z",
            "20261206T040657Z",
            "21000301T120000Z",
        ] {
            assert_eq!(format_amz_date(parse_amz_date(d).unwrap()), d);
        }
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        for bad in [
            "",
            "20150830123600Z",
            "20151330T123600Z",
            "2015083xT123600Z",
        ] {
            assert!(parse_amz_date(bad).is_none(), "{bad}");
        }
    }
}

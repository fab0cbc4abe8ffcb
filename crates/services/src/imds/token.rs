//! IMDSv2 session tokens, stateless: a token is base64 of its expiry (seconds since
//! the epoch, 8 bytes big-endian) and HMAC-SHA256, under the daemon's per-run key, of
//! the instance's EC2 ID and that expiry; 56 characters, like AWS's. So a token is
//! good for the instance it was issued to (any of its interfaces) until it expires,
//! and for no other instance; a daemon restart (a new key) invalidates every token, as
//! a token does not survive an instance's stop in AWS. Nothing is remembered between
//! requests.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::base64;

type HmacSha256 = Hmac<Sha256>;

/// What the MAC covers besides the instance and expiry (a version tag).
const DOMAIN: &[u8] = b"vpcd-imds-token/1\0";

fn mac(key: &[u8; 32], instance_id: &str, expiry: u64) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    #[allow(clippy::expect_used)]
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(DOMAIN);
    m.update(instance_id.as_bytes());
    m.update(b"\0");
    m.update(&expiry.to_be_bytes());
    m
}

/// A token for `instance_id` that expires at `expiry` (seconds since the epoch).
pub fn issue(key: &[u8; 32], instance_id: &str, expiry: u64) -> String {
    let mut bytes = expiry.to_be_bytes().to_vec();
    bytes.extend_from_slice(&mac(key, instance_id, expiry).finalize().into_bytes());
    base64::encode(&bytes)
}

/// The expiry of `token` (seconds since the epoch) if it was issued by [`issue`] under
/// `key` for `instance_id` and has not expired at `now` (it is good while
/// `now < expiry`); else `None`.
pub fn expiry(key: &[u8; 32], instance_id: &str, token: &str, now: u64) -> Option<u64> {
    let bytes = base64::decode(token)?;
    let (expiry, tag) = bytes.split_first_chunk::<8>()?;
    let expiry = u64::from_be_bytes(*expiry);
    (tag.len() == 32 && now < expiry && mac(key, instance_id, expiry).verify_slice(tag).is_ok())
        .then_some(expiry)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn bound_to_key_instance_and_time() {
        let valid = |key: &[u8; 32], id: &str, t: &str, now: u64| expiry(key, id, t, now).is_some();
        let t = issue(&KEY, "i-0123456789abcdef0", 1_000_100);
        assert_eq!(t.len(), 56);
        assert!(t.starts_with("AAAAAAAPQq"), "{t}"); // 1_000_100 = 0xF42A4
        assert_eq!(
            expiry(&KEY, "i-0123456789abcdef0", &t, 1_000_099),
            Some(1_000_100)
        );
        assert!(!valid(&KEY, "i-0123456789abcdef0", &t, 1_000_100));
        assert!(!valid(&KEY, "i-0fedcba9876543210", &t, 1_000_000));
        assert!(!valid(&[8; 32], "i-0123456789abcdef0", &t, 1_000_000));
        // A later expiry written over the token does not carry the MAC.
        let forged = format!("AAAAAAAPQr{}", &t[10..]);
        assert!(!valid(&KEY, "i-0123456789abcdef0", &forged, 1_000_000));
        assert!(!valid(&KEY, "i-0123456789abcdef0", "", 0));
        assert!(!valid(&KEY, "i-0123456789abcdef0", "not a token", 0));
    }
}

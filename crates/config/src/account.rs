//! AWS accounts and regions. Every VPC and transit gateway has an owner, an AWS account
//! ID (`owner_id`, AWS's `OwnerId`: 12 decimal digits), and lies in a region (`region`,
//! like `us-east-1`). Both only matter between resources: a VPC peering connection or a
//! transit gateway attachment across accounts waits for the accepter unless the file
//! accepts it, a transit gateway is attached to VPCs of other accounts only once it is
//! shared with them (AWS RAM), and a security group rule may reference a peer VPC's
//! group only within one region. vpcd runs everything on one host: an account or a
//! region is a label, not a boundary.

/// The account of a VPC or transit gateway without `owner_id` (the account ID AWS's
/// documentation uses in its examples).
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// The region of a VPC or transit gateway without `region`.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Whether `s` is an AWS account ID: exactly 12 decimal digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` looks like an AWS region name: lowercase words separated by single
/// dashes, the first of two letters (the area: `us`, `eu`, `ap`, ...), then one or more
/// of letters (`gov`, `east`, `southeast`, ...), and a number last: `us-east-1`,
/// `eu-west-1`, `us-gov-west-1`, `ap-southeast-2`. Whether AWS has that region is not
/// checked. Besides, vpcd's own regions `local-1`, `local-2`, ...: regions no AWS
/// account has, for topologies that should not pass for one of AWS's (the demo's is
/// `local-1`); they behave like any region but `us-east-1` (e.g. DNS names
/// `ip-10-0-1-10.local-1.compute.internal`).
pub fn is_region_name(s: &str) -> bool {
    if let Some(n) = s.strip_prefix("local-") {
        return !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit());
    }
    let parts: Vec<&str> = s.split('-').collect();
    let letters = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let [area, middle @ .., number] = &parts[..] else {
        return false;
    };
    area.len() == 2
        && letters(area)
        && !middle.is_empty()
        && middle.iter().all(letters)
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_12_digits() {
        assert!(is_account_id(DEFAULT_ACCOUNT));
        assert!(is_account_id("000000000000"));
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            " 23456789012",
        ] {
            assert!(!is_account_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn region_names_are_area_direction_number() {
        for good in [
            DEFAULT_REGION,
            "eu-west-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "cn-northwest-1",
            "eu-isoe-west-1",
            "local-1",
            "local-12",
        ] {
            assert!(is_region_name(good), "{good:?}");
        }
        for bad in [
            "",
            "us",
            "us-east",
            "useast1",
            "US-EAST-1",
            "us-east-1a",
            "us--east-1",
            "us-east-",
            "-us-east-1",
            "usa-east-1",
            "us-east-123",
            "us-1",
            "us-east-1 ",
            "local-",
            "local-123",
            "local-1a",
            "local",
        ] {
            assert!(!is_region_name(bad), "{bad:?}");
        }
    }
}

//! The categories the metadata service answers for one instance, as a flat list of
//! (path, value) leaves under a version (`meta-data/instance-id`, `user-data`,
//! `dynamic/instance-identity/document`); directory listings are derived from it.
//! Every value comes from the topology given and the functions the EC2 API uses
//! (`vpc_ec2::actions::metadata`), so the metadata service and `DescribeInstances`
//! agree, and a change (an Elastic IP associated at run time) shows at the next
//! request.
//!
//! AWS's rules kept: `hostname` and `local-hostname` are the private DNS name,
//! `public-hostname` exists only when `DescribeInstances` shows a public DNS name (a
//! public address in a VPC with DNS host names), `public-ipv4` only with a public
//! address (an associated Elastic IP, else the auto-assigned one), `mac` is the
//! primary interface's, `security-groups` the primary interface's group names one per
//! line, and `network/interfaces/macs/<mac>/` has one directory per interface.

use vpc_config::{InstanceId, Topology};
use vpc_ec2::actions::metadata as ec2;

use super::base64;

/// One leaf: its path under the version (no leading or trailing `/`) and its value.
pub(super) type Leaf = (String, Vec<u8>);

/// Every leaf of instance `i`, in the order listings show them.
pub(super) fn leaves(t: &Topology, i: InstanceId) -> Vec<Leaf> {
    let mut out: Vec<Leaf> = Vec::new();
    let mut put = |path: String, value: String| out.push((path, value.into_bytes()));
    let inst = t.instance(i);
    let l = &inst.launch;
    let eth0 = inst.enis[0];
    let eni = t.eni(eth0);
    let subnet = t.subnet(eni.subnet);
    let vpc = t.vpc(subnet.vpc);
    let region = &vpc.region;
    let private_dns = ec2::private_dns(region, eni.private_ip);
    let public = t.eni_public_ip(eth0);
    let m = "meta-data";

    put(
        "dynamic/instance-identity/document".to_owned(),
        identity_document(t, i),
    );
    put(format!("{m}/ami-id"), ec2::image_id(l).to_owned());
    put(format!("{m}/ami-launch-index"), "0".to_owned());
    put(format!("{m}/hostname"), private_dns.clone());
    put(format!("{m}/instance-action"), "none".to_owned());
    put(format!("{m}/instance-id"), ec2::instance_id(t, i));
    put(format!("{m}/instance-life-cycle"), "on-demand".to_owned());
    put(format!("{m}/instance-type"), ec2::type_name(l).to_owned());
    put(format!("{m}/local-hostname"), private_dns.clone());
    put(format!("{m}/local-ipv4"), eni.private_ip.to_string());
    put(format!("{m}/mac"), ec2::mac(t, eth0));
    for &e in &inst.enis {
        let x = t.eni(e);
        let s = t.subnet(x.subnet);
        let v = t.vpc(s.vpc);
        let dir = format!("{m}/network/interfaces/macs/{}", ec2::mac(t, e));
        let groups = ec2::groups(t, e);
        let public = t.eni_public_ip(e);
        put(format!("{dir}/device-number"), x.device_index.to_string());
        put(format!("{dir}/interface-id"), ec2::eni_id(t, e));
        if let Some(p) = public {
            put(
                format!("{dir}/ipv4-associations/{p}"),
                x.private_ip.to_string(),
            );
        }
        put(
            format!("{dir}/local-hostname"),
            ec2::private_dns(&v.region, x.private_ip),
        );
        put(format!("{dir}/local-ipv4s"), x.private_ip.to_string());
        put(format!("{dir}/mac"), ec2::mac(t, e));
        put(format!("{dir}/owner-id"), v.owner_id.clone());
        if let Some(p) = public {
            if v.enable_dns_hostnames {
                put(
                    format!("{dir}/public-hostname"),
                    ec2::public_dns(&v.region, p),
                );
            }
            put(format!("{dir}/public-ipv4s"), p.to_string());
        }
        put(
            format!("{dir}/security-group-ids"),
            lines(groups.iter().map(|(id, _)| id.as_str())),
        );
        put(
            format!("{dir}/security-groups"),
            lines(groups.iter().map(|(_, name)| name.as_str())),
        );
        put(format!("{dir}/subnet-id"), ec2::subnet_id(t, x.subnet));
        put(format!("{dir}/subnet-ipv4-cidr-block"), s.cidr.to_string());
        put(format!("{dir}/vpc-id"), ec2::vpc_id(t, s.vpc));
        put(format!("{dir}/vpc-ipv4-cidr-block"), v.cidrs[0].to_string());
        put(
            format!("{dir}/vpc-ipv4-cidr-blocks"),
            lines(v.cidrs.iter().map(|c| c.to_string())),
        );
    }
    put(
        format!("{m}/placement/availability-zone"),
        ec2::az_name(region, &subnet.az),
    );
    put(
        format!("{m}/placement/availability-zone-id"),
        ec2::az_id(region, &subnet.az),
    );
    put(format!("{m}/placement/region"), region.clone());
    if let Some(p) = public {
        if vpc.enable_dns_hostnames {
            put(format!("{m}/public-hostname"), ec2::public_dns(region, p));
        }
        put(format!("{m}/public-ipv4"), p.to_string());
    }
    put(
        format!("{m}/security-groups"),
        lines(ec2::groups(t, eth0).into_iter().map(|(_, name)| name)),
    );
    put(format!("{m}/services/domain"), "amazonaws.com".to_owned());
    put(format!("{m}/services/partition"), "aws".to_owned());
    if let Some(data) = l.user_data.as_deref().and_then(base64::decode) {
        out.push(("user-data".to_owned(), data));
    }
    out
}

/// Values one per line (no newline after the last, as AWS).
fn lines<S: AsRef<str>>(values: impl Iterator<Item = S>) -> String {
    values
        .map(|v| v.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `dynamic/instance-identity/document`: AWS's fields, in AWS's order and layout. The
/// fields AWS fills only for marketplace, devpay and kernel/ramdisk images are `null`;
/// `pendingTime` is the launch time (the epoch for an instance written by hand).
fn identity_document(t: &Topology, i: InstanceId) -> String {
    let inst = t.instance(i);
    let l = &inst.launch;
    let eth0 = inst.enis[0];
    let subnet = t.subnet(t.eni(eth0).subnet);
    let vpc = t.vpc(subnet.vpc);
    let pending = ec2::launch_time(l).replace(".000Z", "Z");
    let fields: [(&str, Option<String>); 15] = [
        ("accountId", Some(vpc.owner_id.clone())),
        ("architecture", Some(ec2::architecture(l).to_owned())),
        (
            "availabilityZone",
            Some(ec2::az_name(&vpc.region, &subnet.az)),
        ),
        ("billingProducts", None),
        ("devpayProductCodes", None),
        ("marketplaceProductCodes", None),
        ("imageId", Some(ec2::image_id(l).to_owned())),
        ("instanceId", Some(ec2::instance_id(t, i))),
        ("instanceType", Some(ec2::type_name(l).to_owned())),
        ("kernelId", None),
        ("pendingTime", Some(pending)),
        ("privateIp", Some(t.eni(eth0).private_ip.to_string())),
        ("ramdiskId", None),
        ("region", Some(vpc.region.clone())),
        ("version", Some("2017-09-30".to_owned())),
    ];
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("  \"{k}\" : \"{}\"", json_escape(v)),
            None => format!("  \"{k}\" : null"),
        })
        .collect();
    format!("{{\n{}\n}}", body.join(",\n"))
}

/// `s` as the inside of a JSON string.
fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// What `path` (under the version, without leading or trailing `/`; empty for the
/// version itself) names among `leaves`: a leaf's value, or a directory's listing
/// (children one per line, in leaf order, a directory's name ending in `/`), or
/// `None`.
pub(super) fn lookup(leaves: &[Leaf], path: &str) -> Option<Vec<u8>> {
    if let Some((_, v)) = leaves.iter().find(|(p, _)| p == path) {
        return Some(v.clone());
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let mut children: Vec<String> = Vec::new();
    for (p, _) in leaves {
        let Some(rest) = p.strip_prefix(&prefix) else {
            continue;
        };
        let child = match rest.split_once('/') {
            Some((dir, _)) => format!("{dir}/"),
            None => rest.to_owned(),
        };
        if !children.contains(&child) {
            children.push(child);
        }
    }
    (!children.is_empty()).then(|| children.join("\n").into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_and_escapes() {
        let leaves: Vec<Leaf> = vec![
            ("a/b/c".into(), b"1".to_vec()),
            ("a/d".into(), b"2".to_vec()),
            ("a/b/e".into(), b"3".to_vec()),
            ("f".into(), b"4".to_vec()),
        ];
        assert_eq!(lookup(&leaves, "").as_deref(), Some(&b"a/\nf"[..]));
        assert_eq!(lookup(&leaves, "a").as_deref(), Some(&b"b/\nd"[..]));
        assert_eq!(lookup(&leaves, "a/b").as_deref(), Some(&b"c\ne"[..]));
        assert_eq!(lookup(&leaves, "a/b/e").as_deref(), Some(&b"3"[..]));
        assert_eq!(lookup(&leaves, "a/x"), None);
        assert_eq!(lookup(&leaves, "a/b/c/d"), None);
        assert_eq!(json_escape("a\"b\\c\n"), "a\\\"b\\\\c\\u000a");
    }
}

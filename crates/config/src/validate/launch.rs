//! What the EC2 API keeps of an instance's launch (`image_id`, `instance_type`,
//! `key_name`, `user_data`, `launch_time`, `client_token`,
//! `instance_initiated_shutdown_behavior`, `disable_api_termination`,
//! `disable_api_stop` on `[[instance]]`), and the instances it terminated
//! (`[[terminated_instance]]`), with AWS's forms: an image ID is `ami-` and 8 or 17
//! hex digits, an instance type 1 to 64 letters, digits, `.` and `-`, a key name 1 to
//! 255 characters, user data base64 of at most 16 KiB, a client token 1 to 64
//! characters, a time RFC 3339 in UTC (`2025-12-06T05:46:40Z`, milliseconds allowed),
//! the shutdown behaviour `stop` or `terminate`. None of it reaches the dataplane.
//!
//! A terminated instance's name follows the rules of names, is unique among terminated
//! instances and is no running instance's name (both would have the same EC2 ID); its
//! `owner_id` and `region` follow a VPC's rules (defaults when omitted); its `az` is
//! not empty.

use toml::Spanned;

use super::{Checker, account, names, region};
use crate::error::Problem;
use crate::raw::{RawInstance, RawTerminatedInstance};
use crate::topology::{Launch, MAX_USER_DATA_LEN, TerminatedInstance};

impl Checker<'_, '_, '_> {
    /// Checks the launch keys of every instance and the terminated instances.
    pub(super) fn launches(&mut self) {
        let raw = self.raw;
        self.launches = raw
            .instance
            .iter()
            .enumerate()
            .map(|(i, inst)| self.launch(i, inst))
            .collect();
        self.terminated = self.terminated_instances();
    }

    /// The launch keys of `[[instance]]` number `i`.
    fn launch(&mut self, i: usize, raw: &RawInstance) -> Launch {
        let prefix = format!("instance[{i}]");
        let mut l = Launch {
            image_id: self.attribute(&prefix, "image_id", raw.image_id.as_ref()),
            instance_type: self.attribute(&prefix, "instance_type", raw.instance_type.as_ref()),
            key_name: self.attribute(&prefix, "key_name", raw.key_name.as_ref()),
            user_data: self.attribute(&prefix, "user_data", raw.user_data.as_ref()),
            launch_time: self.attribute(&prefix, "launch_time", raw.launch_time.as_ref()),
            client_token: self.attribute(&prefix, "client_token", raw.client_token.as_ref()),
            shutdown_behavior: self.attribute(
                &prefix,
                "instance_initiated_shutdown_behavior",
                raw.instance_initiated_shutdown_behavior.as_ref(),
            ),
            ..Launch::default()
        };
        l.disable_api_termination = raw.disable_api_termination.unwrap_or(false);
        l.disable_api_stop = raw.disable_api_stop.unwrap_or(false);
        l.metadata_options = self.metadata_options(&prefix, raw.metadata_options.as_ref());
        l
    }

    /// Every `[[terminated_instance]]`; `None` if one is broken.
    fn terminated_instances(&mut self) -> Option<Vec<TerminatedInstance>> {
        let raw = &self.raw.terminated_instance;
        let own = names(self.r, "terminated_instance", raw.iter().map(|t| &t.name));
        let mut ok = own.len() == raw.len();
        let mut out = Vec::new();
        for (i, t) in raw.iter().enumerate() {
            let prefix = format!("terminated_instance[{i}]");
            if let Some(&index) = self.instance_names.get(t.name.get_ref().as_str()) {
                let problem = Problem::DuplicateName {
                    name: t.name.get_ref().clone(),
                    kind: "instance",
                    index,
                };
                self.r
                    .report(t.name.span(), format!("{prefix}.name"), problem);
                ok = false;
            }
            let owner = account(self.r, t.owner_id.as_ref(), format!("{prefix}.owner_id"));
            let reg = region(self.r, t.region.as_ref(), format!("{prefix}.region"));
            if let Some(az) = &t.az
                && az.get_ref().is_empty()
            {
                self.r
                    .report(az.span(), format!("{prefix}.az"), Problem::EmptyAz);
                ok = false;
            }
            let launch = self.terminated_launch(&prefix, t);
            let terminated_time =
                self.attribute(&prefix, "terminated_time", t.terminated_time.as_ref());
            let (Some(owner), Some(reg)) = (owner, reg) else {
                ok = false;
                continue;
            };
            out.push(TerminatedInstance {
                name: t.name.get_ref().clone(),
                owner_id: owner.to_owned(),
                region: reg.to_owned(),
                az: t.az.as_ref().map(|a| a.get_ref().clone()),
                launch,
                terminated_time,
            });
        }
        ok.then_some(out)
    }

    fn terminated_launch(&mut self, prefix: &str, t: &RawTerminatedInstance) -> Launch {
        Launch {
            image_id: self.attribute(prefix, "image_id", t.image_id.as_ref()),
            instance_type: self.attribute(prefix, "instance_type", t.instance_type.as_ref()),
            key_name: self.attribute(prefix, "key_name", t.key_name.as_ref()),
            launch_time: self.attribute(prefix, "launch_time", t.launch_time.as_ref()),
            client_token: self.attribute(prefix, "client_token", t.client_token.as_ref()),
            ..Launch::default()
        }
    }

    /// A written attribute `key`, checked (a bad one is reported and dropped).
    fn attribute(
        &mut self,
        prefix: &str,
        key: &str,
        written: Option<&Spanned<String>>,
    ) -> Option<String> {
        let w = written?;
        let v = w.get_ref();
        let expected = match key {
            "image_id" if !is_image_id(v) => "an image ID (ami- and 8 or 17 hex digits)",
            "instance_type" if !is_instance_type(v) => {
                "an instance type (1 to 64 letters, digits, '.' and '-')"
            }
            "key_name" if v.is_empty() || v.chars().count() > 255 => {
                "a key pair name (1 to 255 characters)"
            }
            "user_data" if !is_base64(v) || v.len() > MAX_USER_DATA_LEN => {
                "user data (base64, at most 16 KiB before encoding)"
            }
            "client_token" if v.is_empty() || v.chars().count() > 64 => {
                "a client token (1 to 64 characters)"
            }
            "launch_time" | "terminated_time" if !is_utc_time(v) => {
                "a UTC time in RFC 3339 form (2025-12-06T05:46:40Z)"
            }
            "instance_initiated_shutdown_behavior" if v != "stop" && v != "terminate" => {
                "\"stop\" or \"terminate\""
            }
            _ => return Some(v.clone()),
        };
        let problem = Problem::BadInstanceAttribute {
            value: v.clone(),
            expected,
        };
        self.r.report(w.span(), format!("{prefix}.{key}"), problem);
        None
    }
}

/// `ami-` and 8 or 17 hex digits.
fn is_image_id(s: &str) -> bool {
    s.strip_prefix("ami-").is_some_and(|h| {
        (h.len() == 8 || h.len() == 17) && h.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn is_instance_type(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

fn is_base64(s: &str) -> bool {
    s.len().is_multiple_of(4)
        && s.trim_end_matches('=').len() + 2 >= s.len()
        && s.trim_end_matches('=')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// `YYYY-MM-DDTHH:MM:SSZ`, optionally with `.` and 1 to 9 digits before the `Z`.
pub(crate) fn is_utc_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 20 || b.last() != Some(&b'Z') {
        return false;
    }
    let frac = &b[19..b.len() - 1];
    digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (frac.is_empty()
            || (frac[0] == b'.'
                && (2..=10).contains(&frac.len())
                && frac[1..].iter().all(u8::is_ascii_digit)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert!(is_utc_time("2025-12-06T05:46:40Z"));
        assert!(is_utc_time("2025-12-06T05:46:40.000Z"));
        for bad in [
            "2025-12-06 05:46:40Z",
            "2025-12-06T05:46:40",
            "2025-12-06T05:46:40.Z",
            "",
        ] {
            assert!(!is_utc_time(bad), "{bad}");
        }
        assert!(is_image_id("ami-0123456789abcdef0") && is_image_id("ami-12345678"));
        assert!(!is_image_id("ami-123") && !is_image_id("i-0123456789abcdef0"));
        assert!(is_base64("aGVsbG8=") && is_base64("") && !is_base64("a===") && !is_base64("abc"));
        assert!(is_instance_type("t3.micro") && !is_instance_type("t3 micro"));
    }

    const BASE: &str = "[[vpc]]\nname = \"main\"\ncidr = \"10.0.0.0/16\"\n\n[[subnet]]\nname = \"a\"\nvpc = \"main\"\ncidr = \"10.0.1.0/24\"\naz = \"a\"\n";
    const BASE_LINES: usize = 9;
    snippet_helpers!();

    #[test]
    fn launch_keys_are_checked_and_kept() {
        let t = ok(
            "\n[[instance]]\nname = \"web\"\nsubnet = \"a\"\nimage_id = \"ami-0123456789abcdef0\"\ninstance_type = \"t3.micro\"\nkey_name = \"k\"\nuser_data = \"aGVsbG8=\"\nlaunch_time = \"2025-12-06T05:46:40.000Z\"\nclient_token = \"tok\"\ninstance_initiated_shutdown_behavior = \"terminate\"\ndisable_api_termination = true\ndisable_api_stop = true\n\n[[terminated_instance]]\nname = \"gone\"\naz = \"a\"\ninstance_type = \"t3.micro\"\nterminated_time = \"2025-12-06T06:00:00Z\"\n",
        );
        let l = &t.instances[0].launch;
        assert_eq!(l.image_id.as_deref(), Some("ami-0123456789abcdef0"));
        assert_eq!(l.shutdown_behavior.as_deref(), Some("terminate"));
        assert!(l.disable_api_termination && l.disable_api_stop);
        assert_eq!(t.terminated_instances.len(), 1);
        assert_eq!(t.terminated_instances[0].owner_id, crate::DEFAULT_ACCOUNT);
        // Written back and read again unchanged.
        let back = crate::parse(&crate::to_toml(&t), "back").unwrap();
        assert_eq!(back, t);
        assert_eq!(
            errors(
                "\n[[instance]]\nname = \"web\"\nsubnet = \"a\"\nimage_id = \"ami-1\"\ninstance_initiated_shutdown_behavior = \"halt\"\n"
            ),
            [
                format!(
                    "{}instance[0].image_id \"ami-1\" is not an image ID (ami- and 8 or 17 hex digits)",
                    at(5, 12)
                ),
                format!(
                    "{}instance[0].instance_initiated_shutdown_behavior \"halt\" is not \"stop\" or \"terminate\"",
                    at(6, 40)
                ),
            ]
        );
        assert_eq!(
            errors(
                "\n[[instance]]\nname = \"web\"\nsubnet = \"a\"\n\n[[terminated_instance]]\nname = \"web\"\n"
            ),
            [format!(
                "{}terminated_instance[0].name \"web\" is already the name of instance 0",
                at(7, 8)
            )]
        );
    }
}

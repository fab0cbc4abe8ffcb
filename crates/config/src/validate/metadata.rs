//! The `metadata_options` key of `[[instance]]` (EC2's `InstanceMetadataOptions`):
//! `http_tokens` is `"optional"` or `"required"`, `http_put_response_hop_limit` 1 to
//! 64, `http_endpoint` `"enabled"` or `"disabled"`, AWS's accepted values; a bad one
//! is reported at its line and column and the default is kept in its place.

use toml::Spanned;

use super::Checker;
use crate::error::Problem;
use crate::metadata::{
    HttpEndpoint, HttpTokens, MAX_HOP_LIMIT, MIN_HOP_LIMIT, MetadataOptions, RawMetadataOptions,
};

impl Checker<'_, '_, '_> {
    /// The metadata options of the instance whose keys start with `prefix`
    /// (`instance[3]`); omitted: AWS's defaults.
    pub(super) fn metadata_options(
        &mut self,
        prefix: &str,
        raw: Option<&Spanned<RawMetadataOptions>>,
    ) -> MetadataOptions {
        let mut o = MetadataOptions::default();
        let Some(raw) = raw.map(Spanned::get_ref) else {
            return o;
        };
        let prefix = format!("{prefix}.metadata_options");
        if let Some(w) = &raw.http_tokens {
            match HttpTokens::from_aws_name(w.get_ref()) {
                Some(t) => o.http_tokens = t,
                None => self.bad(&prefix, "http_tokens", w, "\"optional\" or \"required\""),
            }
        }
        if let Some(w) = &raw.http_endpoint {
            match HttpEndpoint::from_aws_name(w.get_ref()) {
                Some(e) => o.http_endpoint = e,
                None => self.bad(&prefix, "http_endpoint", w, "\"enabled\" or \"disabled\""),
            }
        }
        if let Some(w) = &raw.http_put_response_hop_limit {
            match u8::try_from(*w.get_ref())
                .ok()
                .filter(|h| (MIN_HOP_LIMIT..=MAX_HOP_LIMIT).contains(h))
            {
                Some(h) => o.http_put_response_hop_limit = h,
                None => {
                    let problem = Problem::BadInstanceAttribute {
                        value: w.get_ref().to_string(),
                        expected: "a hop limit (1 to 64)",
                    };
                    let field = format!("{prefix}.http_put_response_hop_limit");
                    self.r.report(w.span(), field, problem);
                }
            }
        }
        o
    }

    fn bad(&mut self, prefix: &str, key: &str, w: &Spanned<String>, expected: &'static str) {
        let problem = Problem::BadInstanceAttribute {
            value: w.get_ref().clone(),
            expected,
        };
        self.r.report(w.span(), format!("{prefix}.{key}"), problem);
    }
}

#[cfg(test)]
mod tests {
    use crate::{HttpEndpoint, HttpTokens};

    const BASE: &str = "[[vpc]]\nname = \"main\"\ncidr = \"10.0.0.0/16\"\n\n[[subnet]]\nname = \"a\"\nvpc = \"main\"\ncidr = \"10.0.1.0/24\"\naz = \"a\"\n";
    const BASE_LINES: usize = 9;
    snippet_helpers!();

    #[test]
    fn options_are_read_defaulted_and_written_back() {
        let t = ok(
            "\n[[instance]]\nname = \"web\"\nsubnet = \"a\"\nmetadata_options = { http_tokens = \"required\", http_put_response_hop_limit = 2, http_endpoint = \"disabled\" }\n\n[[instance]]\nname = \"db\"\nsubnet = \"a\"\nmetadata_options = { http_put_response_hop_limit = 64 }\n\n[[instance]]\nname = \"plain\"\nsubnet = \"a\"\n",
        );
        let web = t.instances[0].launch.metadata_options;
        assert_eq!(web.http_tokens, HttpTokens::Required);
        assert_eq!(web.http_put_response_hop_limit, 2);
        assert_eq!(web.http_endpoint, HttpEndpoint::Disabled);
        let db = t.instances[1].launch.metadata_options;
        assert_eq!(db.http_tokens, HttpTokens::Optional);
        assert_eq!(db.http_put_response_hop_limit, 64);
        assert_eq!(db.http_endpoint, HttpEndpoint::Enabled);
        assert_eq!(
            t.instances[2]
                .launch
                .metadata_options
                .http_put_response_hop_limit,
            1
        );
        let text = crate::to_toml(&t);
        assert!(
            text.contains("metadata_options = { http_tokens = \"required\", http_put_response_hop_limit = 2, http_endpoint = \"disabled\" }\n"),
            "{text}"
        );
        assert!(
            text.contains("metadata_options = { http_put_response_hop_limit = 64 }\n"),
            "{text}"
        );
        // Defaults are not written.
        assert_eq!(text.matches("metadata_options").count(), 2, "{text}");
        let back = crate::parse(&text, "back").unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn bad_values_name_line_and_column() {
        assert_eq!(
            errors(
                "\n[[instance]]\nname = \"web\"\nsubnet = \"a\"\nmetadata_options = { http_tokens = \"always\", http_put_response_hop_limit = 0, http_endpoint = \"on\" }\n"
            ),
            [
                format!(
                    "{}instance[0].metadata_options.http_tokens \"always\" is not \"optional\" or \"required\"",
                    at(5, 36)
                ),
                format!(
                    "{}instance[0].metadata_options.http_put_response_hop_limit \"0\" is not a hop limit (1 to 64)",
                    at(5, 76)
                ),
                format!(
                    "{}instance[0].metadata_options.http_endpoint \"on\" is not \"enabled\" or \"disabled\"",
                    at(5, 95)
                ),
            ]
        );
    }
}

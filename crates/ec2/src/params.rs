//! The request's parameters: the form body (`application/x-www-form-urlencoded`) and
//! the query string, decoded, and the parameter tree every action reads them from.
//!
//! The EC2 Query protocol flattens lists and structures into dotted names with 1-based
//! indices: `VpcId.1`, `Filter.1.Name`, `Filter.1.Value.1`,
//! `TagSpecification.1.Tag.1.Key`. [`Params`] keeps them as a tree: a name's children
//! are the names that extend it by one dotted segment; [`Params::list`] reads the
//! children numbered 1, 2, 3, ... in order (AWS does not require them to be
//! contiguous: a gap is skipped).

use std::collections::BTreeMap;

use crate::error::ApiError;

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a byte.
/// Pairs without `=` have an empty value; empty pairs are skipped.
pub fn decode_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Percent-decodes `s` (and `+` as a space when `plus` is set). A `%` not followed by
/// two hex digits is kept as is; invalid UTF-8 is replaced.
pub fn percent_decode(s: &str, plus: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() && hex(bytes[i + 1]).zip(hex(bytes[i + 2])).is_some() => {
                let (h, l) = hex(bytes[i + 1]).zip(hex(bytes[i + 2])).unwrap_or((0, 0));
                out.push(h << 4 | l);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The parameters of one request as a tree of dotted names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// The value of this node's own name, if it was given.
    value: Option<String>,
    /// The children by their next segment.
    children: BTreeMap<String, Params>,
}

impl Params {
    /// The tree of `pairs` (name, value); a repeated name keeps its last value.
    pub fn new(pairs: &[(String, String)]) -> Params {
        let mut root = Params::default();
        for (name, value) in pairs {
            let mut node = &mut root;
            for segment in name.split('.') {
                node = node.children.entry(segment.to_owned()).or_default();
            }
            node.value = Some(value.clone());
        }
        root
    }

    /// The subtree under `name` (dotted), if any parameter starts with it.
    pub fn get(&self, name: &str) -> Option<&Params> {
        let mut node = self;
        for segment in name.split('.') {
            node = node.children.get(segment)?;
        }
        Some(node)
    }

    /// The value of parameter `name`, if given.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|p| p.value.as_deref())
    }

    /// This node's own value.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// The value of parameter `name`, or `MissingParameter`.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.str(name).ok_or_else(|| {
            ApiError::missing(format!("The request must contain the parameter {name}"))
        })
    }

    /// The members of list `name` (`name.1`, `name.2`, ...), in index order.
    pub fn list(&self, name: &str) -> Vec<&Params> {
        let Some(node) = self.get(name) else {
            return Vec::new();
        };
        let mut items: Vec<(u32, &Params)> = node
            .children
            .iter()
            .filter_map(|(k, v)| k.parse::<u32>().ok().filter(|&n| n >= 1).map(|n| (n, v)))
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// The values of list `name` (`VpcId.1=a&VpcId.2=b`).
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.list(name)
            .into_iter()
            .filter_map(|p| p.value.clone())
            .collect()
    }

    /// A boolean parameter (`true` / `false`, as the SDKs send them), if given.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.str(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::invalid_value(format!(
                "Value ({v}) for parameter {name} is invalid. Expected a boolean (true or false)."
            ))),
        }
    }

    /// An integer parameter, if given.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.str(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::invalid_value(format!(
                    "Value ({v}) for parameter {name} is invalid. Expected an integer."
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode() {
        let pairs = decode_form(
            "Action=DescribeVpcs&Filter.1.Name=tag%3AName&Filter.1.Value.1=a+b%20c&x&&y=%zz",
        );
        assert_eq!(
            pairs,
            [
                ("Action".to_owned(), "DescribeVpcs".to_owned()),
                ("Filter.1.Name".to_owned(), "tag:Name".to_owned()),
                ("Filter.1.Value.1".to_owned(), "a b c".to_owned()),
                ("x".to_owned(), String::new()),
                ("y".to_owned(), "%zz".to_owned()),
            ]
        );
    }

    #[test]
    fn dotted_names_are_a_tree_and_lists_are_one_based() {
        let p = Params::new(&decode_form(
            "VpcId.2=b&VpcId.1=a&VpcId.10=c&Filter.1.Name=vpc-id&Filter.1.Value.1=x&Filter.1.Value.2=y&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=n&Flag=true",
        ));
        assert_eq!(p.strings("VpcId"), ["a", "b", "c"]);
        let filters = p.list("Filter");
        assert_eq!(filters.len(), 1);
        assert_eq!(filters[0].str("Name"), Some("vpc-id"));
        assert_eq!(filters[0].strings("Value"), ["x", "y"]);
        assert_eq!(p.str("TagSpecification.1.Tag.1.Key"), Some("Name"));
        assert_eq!(p.bool("Flag").unwrap(), Some(true));
        assert!(p.bool("Action").unwrap().is_none());
        assert!(p.required("Action").is_err());
        assert!(p.list("Nothing").is_empty());
    }
}

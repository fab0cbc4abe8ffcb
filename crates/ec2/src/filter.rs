//! `Filter.N.Name` / `Filter.N.Value.N` and `MaxResults` / `NextToken`, as every
//! `Describe*` action takes them.
//!
//! AWS's rules: a filter matches a resource if any of its values matches one of the
//! resource's values for that name (values may use `*`, any run of characters, and
//! `?`, one character; matching is case-sensitive); a resource is listed if every
//! filter matches. `tag:<key>` matches the value of tag `<key>`, `tag-key` a tag's key,
//! `tag-value` a tag's value. A filter name the action does not know is
//! `InvalidParameterValue`. Pagination: `MaxResults` is 5 to 1000 (else
//! `InvalidParameterValue`); the answer then holds at most that many items and a
//! `nextToken` if more follow, which the next call passes as `NextToken`. The token is
//! opaque to clients: here the index of the next item in hex.

use crate::error::ApiError;
use crate::params::Params;

/// One filter: a name and the values any of which must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The filter's name (`vpc-id`, `tag:Name`, ...).
    pub name: String,
    /// The patterns.
    pub values: Vec<String>,
}

/// The filters of a request.
pub fn filters(p: &Params) -> Result<Vec<Filter>, ApiError> {
    p.list("Filter")
        .into_iter()
        .map(|f| {
            let name = f.str("Name").ok_or_else(|| {
                ApiError::missing("The request must contain the parameter Filter.N.Name")
            })?;
            Ok(Filter {
                name: name.to_owned(),
                values: f.strings("Value"),
            })
        })
        .collect()
}

/// Whether `text` matches `pattern` (`*` any run, `?` one character).
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// A resource as filters see it: its values per filter name and its tags.
pub trait Filterable {
    /// The resource's values for filter `name` (not a `tag` filter); `None` if the
    /// action has no such filter.
    fn values(&self, name: &str) -> Option<Vec<String>>;
    /// The resource's tags, as shown.
    fn tags(&self) -> &[(String, String)];
}

/// Whether `item` passes every filter; an unknown filter name is an error.
pub fn matches(item: &impl Filterable, filters: &[Filter]) -> Result<bool, ApiError> {
    for f in filters {
        let values: Vec<String> = if let Some(key) = f.name.strip_prefix("tag:") {
            item.tags()
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .collect()
        } else if f.name == "tag-key" {
            item.tags().iter().map(|(k, _)| k.clone()).collect()
        } else if f.name == "tag-value" {
            item.tags().iter().map(|(_, v)| v.clone()).collect()
        } else {
            item.values(&f.name).ok_or_else(|| {
                ApiError::invalid_value(format!("The filter '{}' is invalid", f.name))
            })?
        };
        if !f
            .values
            .iter()
            .any(|p| values.iter().any(|v| wildcard(p, v)))
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The items that pass `filters`, one page of them, and the token of the next page.
pub fn page<T: Filterable>(
    p: &Params,
    items: Vec<T>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let filters = filters(p)?;
    let mut kept = Vec::new();
    for item in items {
        if matches(&item, &filters)? {
            kept.push(item);
        }
    }
    paginate(p, kept)
}

/// One page of `items` by `MaxResults` and `NextToken`.
pub fn paginate<T>(p: &Params, mut items: Vec<T>) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = p.int("MaxResults")?;
    if let Some(m) = max
        && !(5..=1000).contains(&m)
    {
        return Err(ApiError::invalid_value(format!(
            "Value ( {m} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000."
        )));
    }
    let start = match p.str("NextToken") {
        None | Some("") => 0,
        Some(t) => usize::from_str_radix(t, 16)
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or_else(|| ApiError::invalid_value(format!("The token '{t}' is invalid")))?,
    };
    items.drain(..start);
    let Some(max) = max else {
        return Ok((items, None));
    };
    let max = max as usize;
    if items.len() > max {
        items.truncate(max);
        Ok((items, Some(format!("{:x}", start + max))))
    } else {
        Ok((items, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::decode_form;

    #[test]
    fn wildcards() {
        for (p, t) in [
            ("*", ""),
            ("a*", "abc"),
            ("a?c", "abc"),
            ("*c", "abc"),
            ("a*b*c", "axxbyyc"),
            ("abc", "abc"),
        ] {
            assert!(wildcard(p, t), "{p} {t}");
        }
        for (p, t) in [("a", "A"), ("a?", "a"), ("*d", "abc"), ("ab", "abc")] {
            assert!(!wildcard(p, t), "{p} {t}");
        }
    }

    #[test]
    fn pages() {
        let p = Params::new(&decode_form("MaxResults=5"));
        let (items, next) = paginate(&p, (0..12).collect()).unwrap();
        assert_eq!((items, next.as_deref()), (vec![0, 1, 2, 3, 4], Some("5")));
        let p = Params::new(&decode_form("MaxResults=5&NextToken=a"));
        let (items, next) = paginate(&p, (0..12).collect()).unwrap();
        assert_eq!((items, next), (vec![10, 11], None));
        for bad in [
            "MaxResults=4",
            "MaxResults=1001",
            "NextToken=zz",
            "NextToken=ff",
        ] {
            let p = Params::new(&decode_form(bad));
            assert_eq!(
                paginate(&p, vec![1]).unwrap_err().code,
                "InvalidParameterValue",
                "{bad}"
            );
        }
    }
}

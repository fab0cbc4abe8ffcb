//! `CreateTags`, `DeleteTags`, `DescribeTags`.
//!
//! Tags live in the configuration's `[tags."<id>"]` tables. `CreateTags` adds or
//! replaces keys (a `Name` tag does not rename the resource: its ID stays);
//! `DeleteTags` removes the keys given (only where the value matches, if a value is
//! given), or every tag without `Tag.N`. A resource named in the configuration but
//! without a `Name` tag shows its configuration name as `Name` (unless the name is an
//! ID), in `DescribeTags` as in each `Describe*`; that shown tag is not stored and
//! cannot be deleted. AWS's limits apply (50 tags, keys 1 to 128 characters without
//! `aws:`, values up to 256): a change past them is `InvalidParameterValue`
//! (`TagLimitExceeded` for the count).

use super::{Ctx, Outcome, commit};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind, RESOURCE_KINDS};

/// The resources of `ResourceId.N`: (kind, ID).
fn resources(ctx: &Ctx<'_>) -> Result<Vec<(Kind, String)>, ApiError> {
    let wanted = ctx.p.strings("ResourceId");
    if wanted.is_empty() {
        return Err(ApiError::missing(
            "The request must contain the parameter ResourceId",
        ));
    }
    let mut out = Vec::new();
    for id in wanted {
        let Some(kind) = Kind::of_id(&id).filter(|k| RESOURCE_KINDS.contains(k)) else {
            return Err(ApiError::new(
                "InvalidID",
                format!("The ID '{id}' is not valid"),
            ));
        };
        let i = ctx.find(kind, &id)?;
        let ident = &ids::names(ctx.t, kind)[i];
        out.push((kind, ids::id(kind, ident)));
    }
    Ok(out)
}

/// `CreateTags`: `ResourceId.N`, `Tag.N.Key`, `Tag.N.Value`.
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let targets = resources(ctx)?;
    let mut tags = Vec::new();
    for tag in ctx.p.list("Tag") {
        let key = tag
            .str("Key")
            .ok_or_else(|| ApiError::missing("The request must contain the parameter Tag.N.Key"))?;
        tags.push((key.to_owned(), tag.str("Value").unwrap_or("").to_owned()));
    }
    if tags.is_empty() {
        return Err(ApiError::missing(
            "The request must contain the parameter Tag",
        ));
    }
    let mut new = ctx.t.clone();
    for (_, id) in &targets {
        super::set_tags(&mut new, id, &tags);
        if new
            .tags
            .get(id)
            .is_some_and(|m| m.len() > vpc_config::MAX_TAGS_PER_RESOURCE)
        {
            return Err(ApiError::new(
                "TagLimitExceeded",
                format!(
                    "The maximum number of tags ({}) for resource {id} has been reached",
                    vpc_config::MAX_TAGS_PER_RESOURCE
                ),
            ));
        }
    }
    Outcome::done(commit(&new)?)
}

/// `DeleteTags`: `ResourceId.N`, `Tag.N.Key` with an optional `Tag.N.Value`.
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let targets = resources(ctx)?;
    let tags: Vec<(String, Option<String>)> = ctx
        .p
        .list("Tag")
        .into_iter()
        .filter_map(|t| {
            t.str("Key")
                .map(|k| (k.to_owned(), t.str("Value").map(str::to_owned)))
        })
        .collect();
    let mut new = ctx.t.clone();
    for (_, id) in &targets {
        if let Some(entry) = new.tags.get_mut(id) {
            if tags.is_empty() {
                entry.clear();
            }
            for (k, v) in &tags {
                if v.as_ref().is_none_or(|v| entry.get(k) == Some(v)) {
                    entry.remove(k);
                }
            }
            if entry.is_empty() {
                new.tags.remove(id);
            }
        }
    }
    Outcome::done(commit(&new)?)
}

/// One tag of one resource.
struct Item {
    id: String,
    kind: Kind,
    key: String,
    value: String,
    tags: Vec<(String, String)>,
}

impl Filterable for Item {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        match name {
            "resource-id" => Some(vec![self.id.clone()]),
            "resource-type" => Some(vec![self.kind.resource_type().to_owned()]),
            "key" => Some(vec![self.key.clone()]),
            "value" => Some(vec![self.value.clone()]),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// `DescribeTags`: `Filter.N` (`resource-id`, `resource-type`, `key`, `value`),
/// `MaxResults`, `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let mut items = Vec::new();
    for kind in RESOURCE_KINDS {
        for (i, ident) in ids::names(ctx.t, kind).iter().enumerate() {
            if !ctx.sees(kind, i) {
                continue;
            }
            let id = ids::id(kind, ident);
            for (key, value) in ctx.shown_tags(kind, ident) {
                items.push(Item {
                    id: id.clone(),
                    kind,
                    key,
                    value,
                    tags: Vec::new(),
                });
            }
        }
    }
    super::described(ctx, "tagSet", items, |x, t| {
        x.leaf("resourceId", &t.id)
            .leaf("resourceType", t.kind.resource_type())
            .leaf("key", &t.key)
            .leaf("value", &t.value);
    })
}

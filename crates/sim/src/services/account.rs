//! AWS Account (restJson1): `ListRegions`.

use super::{json_input, validation_message, Ctx};
use crate::paging;
use crate::protocol::{ApiError, Protocol, Reply};
use crate::regions::{self, RegionKind};
use crate::world::Account;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The simulator's page size when `MaxResults` is absent: smaller than the region
/// list, so a caller that ignores `NextToken` misses regions here rather than in
/// production.
const DEFAULT_PAGE: i64 = 20;
const MAX_RESULTS: i64 = 50;
const STATUSES: &[&str] = &[
    "ENABLED",
    "ENABLING",
    "DISABLING",
    "DISABLED",
    "ENABLED_BY_DEFAULT",
];

pub fn call(ctx: &Ctx<'_>, operation: &str, body: &[u8]) -> Result<Reply, ApiError> {
    match operation {
        "ListRegions" => list_regions(ctx, json_input(Protocol::RestJson, body)?),
        other => Err(ApiError::unknown_operation(Protocol::RestJson, other)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRegionsInput {
    account_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    region_opt_status_contains: Option<Vec<String>>,
}

fn validation(message: String) -> ApiError {
    ApiError::client("ValidationException", message)
}

fn access_denied(ctx: &Ctx<'_>) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "AccessDeniedException",
        format!(
            "User: {} is not authorized to perform: account:ListRegions",
            ctx.caller.arn
        ),
    )
}

fn target_account<'w>(ctx: &Ctx<'w>, requested: Option<&str>) -> Result<&'w Account, ApiError> {
    let world = ctx.world;
    let caller = &ctx.caller.account;
    let id = match requested {
        None => caller.as_str(),
        // AccountId is the management account's way to look into a member.
        Some(_) if caller != &world.management => return Err(access_denied(ctx)),
        Some(id) if id == world.management => {
            return Err(validation(
                "The management account can't specify its own AccountId; omit the parameter."
                    .to_owned(),
            ))
        }
        Some(id) => id,
    };
    world.account(id).ok_or_else(|| access_denied(ctx))
}

fn list_regions(ctx: &Ctx<'_>, input: ListRegionsInput) -> Result<Reply, ApiError> {
    let account = target_account(ctx, input.account_id.as_deref())?;
    let size = input.max_results.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_RESULTS).contains(&size) {
        return Err(validation(validation_message(
            size,
            "maxResults",
            "Member must have value between 1 and 50",
        )));
    }
    let wanted = input.region_opt_status_contains.unwrap_or_default();
    if let Some(bad) = wanted.iter().find(|s| !STATUSES.contains(&s.as_str())) {
        return Err(validation(validation_message(
            bad,
            "regionOptStatusContains",
            "Member must satisfy enum value set: [ENABLED, ENABLING, DISABLING, DISABLED, ENABLED_BY_DEFAULT]",
        )));
    }
    let listed: Vec<(&str, &str)> = ctx
        .world
        .regions
        .iter()
        .map(|region| (region.as_str(), opt_status(account, region)))
        .filter(|(_, status)| wanted.is_empty() || wanted.iter().any(|w| w == status))
        .collect();
    let page = paging::page(
        &format!("account:ListRegions:{}:{}", account.id, wanted.join(",")),
        listed.len(),
        input.next_token.as_deref(),
        usize::try_from(size).unwrap_or(1),
    )
    .map_err(|_| validation("The NextToken is invalid.".to_owned()))?;
    let regions: Vec<Value> = listed[page.start..page.end]
        .iter()
        .map(|(name, status)| json!({"RegionName": name, "RegionOptStatus": status}))
        .collect();
    let mut out = Map::new();
    out.insert("Regions".into(), Value::Array(regions));
    if let Some(token) = page.next_token {
        out.insert("NextToken".into(), Value::from(token));
    }
    Ok(Reply::Json(Value::Object(out)))
}

fn opt_status(account: &Account, region: &str) -> &'static str {
    match regions::kind(region) {
        Some(RegionKind::DefaultEnabled) => "ENABLED_BY_DEFAULT",
        _ if account.region_enabled(region) => "ENABLED",
        _ => "DISABLED",
    }
}

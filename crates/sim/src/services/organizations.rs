//! AWS Organizations (awsJson1_1): `ListAccounts`, `DescribeOrganization`, `ListParents`,
//! `DescribeOrganizationalUnit`, `ListTagsForResource`. Only the management account may call
//! them (a delegated administrator is not simulated).

use super::{json_input, Ctx};
use crate::paging;
use crate::protocol::{epoch, ApiError, Protocol, Reply};
use crate::world::Account;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// AWS caps `ListAccounts` and `ListParents` pages at 20.
const MAX_RESULTS: i64 = 20;

/// `ListTagsForResource` has no MaxResults and AWS does not document its page size; 10 makes
/// paging reachable with a scenario's tags (at most 50 per account).
const TAGS_PAGE: usize = 10;

pub fn call(ctx: &Ctx<'_>, operation: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let world = ctx.world;
    if !world.org_enabled {
        return Err(ApiError::client(
            "AWSOrganizationsNotInUseException",
            "Your account is not a member of an organization.",
        ));
    }
    match operation {
        "ListAccounts" => list_accounts(ctx, json_input(Protocol::AwsJson, body)?),
        "DescribeOrganization" => describe_organization(ctx),
        "ListParents" => list_parents(ctx, json_input(Protocol::AwsJson, body)?),
        "DescribeOrganizationalUnit" => {
            describe_organizational_unit(ctx, json_input(Protocol::AwsJson, body)?)
        }
        "ListTagsForResource" => list_tags_for_resource(ctx, json_input(Protocol::AwsJson, body)?),
        other => Err(ApiError::unknown_operation(
            Protocol::AwsJson,
            &format!("Organizations.{other}"),
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListAccountsInput {
    next_token: Option<String>,
    max_results: Option<i64>,
}

/// Only the management account (or a delegated administrator, not simulated) may read the
/// organization's structure.
fn management_only(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if ctx.caller.account != ctx.world.management {
        return Err(ApiError::client(
            "AccessDeniedException",
            "You don't have permissions to access this resource.",
        ));
    }
    Ok(())
}

/// A page size from `MaxResults` (1..=20, default 20).
fn page_size(max_results: Option<i64>) -> Result<usize, ApiError> {
    let size = max_results.unwrap_or(MAX_RESULTS);
    if !(1..=MAX_RESULTS).contains(&size) {
        let reason = if size < 1 {
            "MIN_VALUE_EXCEEDED"
        } else {
            "MAX_VALUE_EXCEEDED"
        };
        return Err(ApiError::client(
            "InvalidInputException",
            format!("You provided a value that is outside the allowed range: MaxResults must be between 1 and {MAX_RESULTS}, got {size}."),
        )
        .with_field("Reason", reason));
    }
    Ok(usize::try_from(size).unwrap_or(1))
}

/// The page of a listing of `total` items that `token` points to.
fn page(
    scope: &str,
    total: usize,
    token: Option<&str>,
    size: usize,
) -> Result<paging::Page, ApiError> {
    paging::page(scope, total, token, size).map_err(|_| {
        ApiError::client(
            "InvalidInputException",
            "The specified NextToken is not valid.",
        )
        .with_field("Reason", "INVALID_NEXT_TOKEN")
    })
}

/// An id that does not have the shape of the parameter's pattern.
fn invalid_pattern() -> ApiError {
    ApiError::client(
        "InvalidInputException",
        "You provided a value that does not match the required pattern.",
    )
    .with_field("Reason", "INVALID_PATTERN")
}

/// `len` lowercase letters or digits.
fn lower_alnum(text: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

fn is_root_id(id: &str) -> bool {
    id.strip_prefix("r-")
        .is_some_and(|rest| lower_alnum(rest, 4..=32))
}

fn is_unit_id(id: &str) -> bool {
    id.strip_prefix("ou-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(root, unit)| lower_alnum(root, 4..=32) && lower_alnum(unit, 8..=32))
}

fn is_policy_id(id: &str) -> bool {
    id.strip_prefix("p-").is_some_and(|rest| {
        (8..=128).contains(&rest.len())
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

fn list_accounts(ctx: &Ctx<'_>, input: ListAccountsInput) -> Result<Reply, ApiError> {
    let world = ctx.world;
    management_only(ctx)?;
    let size = page_size(input.max_results)?;
    let page = page(
        &format!("organizations:ListAccounts:{}", world.org_id),
        world.accounts.len(),
        input.next_token.as_deref(),
        size,
    )?;
    let accounts: Vec<Value> = world.accounts[page.start..page.end]
        .iter()
        .map(account_json)
        .collect();
    let mut out = Map::new();
    out.insert("Accounts".into(), Value::Array(accounts));
    if let Some(token) = page.next_token {
        out.insert("NextToken".into(), Value::from(token));
    }
    Ok(Reply::Json(Value::Object(out)))
}

fn account_json(account: &Account) -> Value {
    let mut out = Map::new();
    out.insert("Id".into(), Value::from(account.id.clone()));
    out.insert("Arn".into(), Value::from(account.arn.clone()));
    out.insert("Email".into(), Value::from(account.email.clone()));
    out.insert("Name".into(), Value::from(account.name.clone()));
    // Both fields, as AWS sends them until the legacy Status retires (2026-09).
    if let Some(status) = account.legacy_status() {
        out.insert("Status".into(), Value::from(status));
    }
    out.insert("State".into(), Value::from(account.state.clone()));
    out.insert(
        "JoinedMethod".into(),
        Value::from(account.joined_method.clone()),
    );
    out.insert("JoinedTimestamp".into(), epoch(account.joined_at));
    Value::Object(out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListParentsInput {
    child_id: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

/// The parent of an account or OU: one item, paged like every Organizations listing.
fn list_parents(ctx: &Ctx<'_>, input: ListParentsInput) -> Result<Reply, ApiError> {
    let world = ctx.world;
    management_only(ctx)?;
    let child = input.child_id.unwrap_or_default();
    if !(is_account_id(&child) || is_unit_id(&child)) {
        return Err(invalid_pattern());
    }
    let parent = world
        .account(&child)
        .map(|a| a.parent.as_str())
        .or_else(|| world.unit(&child).map(|u| u.parent.as_str()))
        .ok_or_else(|| {
            ApiError::client(
                "ChildNotFoundException",
                "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
            )
        })?;
    let size = page_size(input.max_results)?;
    let page = page(
        &format!("organizations:ListParents:{child}"),
        1,
        input.next_token.as_deref(),
        size,
    )?;
    let kind = if parent == world.root_id {
        "ROOT"
    } else {
        "ORGANIZATIONAL_UNIT"
    };
    let parents: Vec<Value> = (page.start..page.end)
        .map(|_| json!({"Id": parent, "Type": kind}))
        .collect();
    let mut out = Map::new();
    out.insert("Parents".into(), Value::Array(parents));
    if let Some(token) = page.next_token {
        out.insert("NextToken".into(), Value::from(token));
    }
    Ok(Reply::Json(Value::Object(out)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeOrganizationalUnitInput {
    organizational_unit_id: Option<String>,
}

fn describe_organizational_unit(
    ctx: &Ctx<'_>,
    input: DescribeOrganizationalUnitInput,
) -> Result<Reply, ApiError> {
    management_only(ctx)?;
    let id = input.organizational_unit_id.unwrap_or_default();
    if !is_unit_id(&id) {
        return Err(invalid_pattern());
    }
    let unit = ctx.world.unit(&id).ok_or_else(|| {
        ApiError::client(
            "OrganizationalUnitNotFoundException",
            "We can't find an organizational unit (OU) with the OrganizationalUnitId that you specified.",
        )
    })?;
    Ok(Reply::Json(json!({
        "OrganizationalUnit": {"Id": unit.id, "Arn": unit.arn, "Name": unit.name}
    })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsForResourceInput {
    resource_id: Option<String>,
    next_token: Option<String>,
}

/// An account's tags, [`TAGS_PAGE`] a page. The root and OUs exist and have none; policies
/// are not simulated.
fn list_tags_for_resource(
    ctx: &Ctx<'_>,
    input: ListTagsForResourceInput,
) -> Result<Reply, ApiError> {
    let world = ctx.world;
    management_only(ctx)?;
    let id = input.resource_id.unwrap_or_default();
    if !(is_account_id(&id) || is_root_id(&id) || is_unit_id(&id) || is_policy_id(&id)) {
        return Err(invalid_pattern());
    }
    let none = std::collections::BTreeMap::new();
    let tags = match world.account(&id) {
        Some(account) => &account.tags,
        None if id == world.root_id || world.unit(&id).is_some() => &none,
        None => return Err(ApiError::client(
            "TargetNotFoundException",
            "We can't find a root, OU, account, or policy with the TargetId that you specified.",
        )),
    };
    let page = page(
        &format!("organizations:ListTagsForResource:{id}"),
        tags.len(),
        input.next_token.as_deref(),
        TAGS_PAGE,
    )?;
    let tags: Vec<Value> = tags
        .iter()
        .skip(page.start)
        .take(page.end - page.start)
        .map(|(key, value)| json!({"Key": key, "Value": value}))
        .collect();
    let mut out = Map::new();
    out.insert("Tags".into(), Value::Array(tags));
    if let Some(token) = page.next_token {
        out.insert("NextToken".into(), Value::from(token));
    }
    Ok(Reply::Json(Value::Object(out)))
}

fn describe_organization(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let world = ctx.world;
    let management = world
        .account(&world.management)
        .ok_or_else(|| ApiError::from_code("ServiceException", "management account missing"))?;
    Ok(Reply::Json(json!({
        "Organization": {
            "Id": world.org_id,
            "Arn": format!("arn:aws:organizations::{}:organization/{}", world.management, world.org_id),
            "FeatureSet": world.feature_set,
            "MasterAccountArn": management.arn,
            "MasterAccountId": management.id,
            "MasterAccountEmail": management.email,
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
        }
    })))
}

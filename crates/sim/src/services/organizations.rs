//! AWS Organizations (awsJson1_1): `ListAccounts`, `DescribeOrganization`.

use super::{json_input, Ctx};
use crate::paging;
use crate::protocol::{epoch, ApiError, Protocol, Reply};
use crate::world::Account;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// AWS caps `ListAccounts` pages at 20.
const MAX_RESULTS: i64 = 20;

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

fn list_accounts(ctx: &Ctx<'_>, input: ListAccountsInput) -> Result<Reply, ApiError> {
    let world = ctx.world;
    // Only the management account (or a delegated administrator, not simulated)
    // may list the organization's accounts.
    if ctx.caller.account != world.management {
        return Err(ApiError::client(
            "AccessDeniedException",
            "You don't have permissions to access this resource.",
        ));
    }
    let size = input.max_results.unwrap_or(MAX_RESULTS);
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
    let page = paging::page(
        &format!("organizations:ListAccounts:{}", world.org_id),
        world.accounts.len(),
        input.next_token.as_deref(),
        usize::try_from(size).unwrap_or(1),
    )
    .map_err(|_| {
        ApiError::client(
            "InvalidInputException",
            "The specified NextToken is not valid.",
        )
        .with_field("Reason", "INVALID_NEXT_TOKEN")
    })?;
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

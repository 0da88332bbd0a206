//! AWS STS (awsQuery): `GetCallerIdentity`, `AssumeRole`.
//!
//! `AssumeRole` enforces what a real trust policy would: the role must exist in the
//! target account, the caller's account must be trusted, the external id must
//! match, and the session must fit the role's maximum duration (1 h when chaining
//! roles). Everything else about IAM is out of scope.

use super::{validation_message, Ctx};
use crate::protocol::{form_params, xml_escape, ApiError, Protocol, Reply, STS_XMLNS};
use axum::http::StatusCode;
use chrono::Duration;

pub fn call(ctx: &Ctx<'_>, operation: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let params = form_params(body);
    match operation {
        "GetCallerIdentity" => Ok(get_caller_identity(ctx)),
        "AssumeRole" => assume_role(ctx, &params),
        other => Err(ApiError::unknown_operation(Protocol::AwsQuery, other)),
    }
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn envelope(ctx: &Ctx<'_>, operation: &str, result: &str) -> Reply {
    Reply::Xml(format!(
        "<{operation}Response xmlns=\"{STS_XMLNS}\">\n  <{operation}Result>\n{result}  </{operation}Result>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{operation}Response>\n",
        xml_escape(ctx.request_id)
    ))
}

fn get_caller_identity(ctx: &Ctx<'_>) -> Reply {
    let caller = ctx.caller;
    envelope(
        ctx,
        "GetCallerIdentity",
        &format!(
            "    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n",
            xml_escape(&caller.arn),
            xml_escape(&caller.user_id),
            xml_escape(&caller.account)
        ),
    )
}

fn validation_error(message: String) -> ApiError {
    ApiError::client("ValidationError", message)
}

/// `arn:aws:iam::<account>:role/<path/>name` → (account, name).
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (account_ok && !name.is_empty()).then_some((account, name))
}

fn assume_role(ctx: &Ctx<'_>, params: &[(String, String)]) -> Result<Reply, ApiError> {
    let world = ctx.world;
    let caller = ctx.caller;

    let role_arn = param(params, "RoleArn").unwrap_or_default();
    if role_arn.len() < 20 {
        return Err(validation_error(validation_message(
            role_arn,
            "roleArn",
            "Member must have length greater than or equal to 20",
        )));
    }
    let session_name = param(params, "RoleSessionName").unwrap_or_default();
    let name_ok = (2..=64).contains(&session_name.len())
        && session_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !name_ok {
        return Err(validation_error(validation_message(
            session_name,
            "roleSessionName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64",
        )));
    }
    let duration = match param(params, "DurationSeconds") {
        None => 3600,
        Some(text) => text.parse::<i64>().map_err(|_| {
            validation_error(validation_message(
                text,
                "durationSeconds",
                "Member must be a number",
            ))
        })?,
    };
    if !(900..=43200).contains(&duration) {
        return Err(validation_error(validation_message(
            duration,
            "durationSeconds",
            "Member must have value between 900 and 43200",
        )));
    }
    let Some((account_id, role_name)) = parse_role_arn(role_arn) else {
        return Err(validation_error(format!(
            "{role_arn} is not a valid role ARN"
        )));
    };

    // One message for every trust failure, as AWS gives: the caller cannot tell a
    // missing role from an untrusted one.
    let denied = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn
            ),
        )
    };
    let account = world.account(account_id).ok_or_else(denied)?;
    if account.deny_assume_role
        || !account.roles.iter().any(|r| r == role_name)
        || !account.trusted_accounts.contains(&caller.account)
    {
        return Err(denied());
    }
    if let Some(expected) = &account.external_id {
        if param(params, "ExternalId") != Some(expected.as_str()) {
            return Err(denied());
        }
    }
    if caller.assumed_role && duration > 3600 {
        return Err(validation_error(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".to_owned(),
        ));
    }
    if duration > account.max_session_seconds {
        return Err(validation_error(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .to_owned(),
        ));
    }

    let expiration = ctx.wall_now + Duration::seconds(duration);
    let session = ctx
        .sessions
        .issue(&account.id, role_name, session_name, expiration);
    tracing::debug!(
        caller = %caller.arn,
        account = %account.id,
        role = role_name,
        key = %session.access_key_id,
        "issued role session"
    );
    Ok(envelope(
        ctx,
        "AssumeRole",
        &format!(
            "    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>\n",
            xml_escape(&session.assumed_role_id()),
            xml_escape(&session.arn()),
            xml_escape(&session.access_key_id),
            xml_escape(&session.secret_access_key),
            xml_escape(&session.session_token),
            session.expiration.format("%Y-%m-%dT%H:%M:%SZ"),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_role_arn;

    #[test]
    fn role_arns() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::111122223333:role/certwatch-read-only"),
            Some(("111122223333", "certwatch-read-only"))
        );
        assert_eq!(
            parse_role_arn("arn:aws:iam::111122223333:role/ops/certwatch"),
            Some(("111122223333", "certwatch"))
        );
        assert_eq!(parse_role_arn("arn:aws:iam::1111:role/x"), None);
        assert_eq!(parse_role_arn("arn:aws:iam::111122223333:user/x"), None);
    }
}

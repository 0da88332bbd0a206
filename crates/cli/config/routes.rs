//! `[[slack.routes]]` and `slack.route_by_tag`: which channel each account's certificates go to
//! (the rules themselves are `certwatch_slack::routes`), and `[slack.actions]`, what people may
//! change in AWS from Slack.

use super::invalid;
use certwatch_slack::routes::{is_channel_id, OuMatcher, Route, Routes, TagMatcher};
use serde::{Deserialize, Serialize};

/// One `[[slack.routes]]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouteFile {
    /// Shown in the org-wide summary and by `certwatch routes`; default `routes[N]`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub channel: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ous: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_tag: Option<TagFile>,
}

/// `account_tag = { key = "team", value = "payments" }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagFile {
    pub key: String,
    pub value: String,
}

/// `[slack.actions]`: what people may change in AWS from Slack. Everything is off by default;
/// each also needs the member role's permission (the StackSet's parameter).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActionsFile {
    /// `/certs resend` and the *Resend validation email* button (`acm:ResendValidationEmail`),
    /// for `slack.admin_user_ids` and `slack.responder_user_ids`.
    pub resend_validation_email: bool,
}

/// AWS's limits on a tag: key 1–128 characters, value 0–256.
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

fn check_tag_key(key: &str, name: &str) -> Result<(), (String, String)> {
    let len = key.chars().count();
    if !(1..=MAX_TAG_KEY).contains(&len) || key.trim() != key {
        return Err(invalid(
            name,
            format!("{key:?} is not a tag key (1-{MAX_TAG_KEY} characters, no surrounding spaces)"),
        ));
    }
    Ok(())
}

/// The checked routes. `default_channel` is `slack.digest.channel`, where the org-wide summary
/// and the accounts no rule claims go.
pub(super) fn check(
    routes: &[RouteFile],
    by_tag: &str,
    default_channel: &str,
) -> Result<Routes, (String, String)> {
    let mut checked: Vec<Route> = Vec::with_capacity(routes.len());
    for (n, file) in routes.iter().enumerate() {
        let key = |k: &str| format!("slack.routes[{n}].{k}");
        if file.channel.is_empty() {
            return Err(invalid(
                key("channel"),
                "missing: every route needs the channel id its accounts go to, like \"C0123ABCD\"",
            ));
        }
        if !is_channel_id(&file.channel) {
            return Err(invalid(
                key("channel"),
                format!(
                    "{:?} is not a Slack channel id like \"C0123ABCD\" (channel names change; \
                     ids do not)",
                    file.channel
                ),
            ));
        }
        if let Some(bad) = file.accounts.iter().find(|a| !is_account_id(a)) {
            return Err(invalid(
                key("accounts"),
                format!("{bad:?} is not a 12-digit account id"),
            ));
        }
        let ous = file
            .ous
            .iter()
            .map(|text| OuMatcher::parse(text))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| invalid(key("ous"), reason))?;
        let account_tag = match &file.account_tag {
            None => None,
            Some(tag) => {
                check_tag_key(&tag.key, &key("account_tag.key"))?;
                if tag.value.chars().count() > MAX_TAG_VALUE {
                    return Err(invalid(
                        key("account_tag.value"),
                        format!("longer than a tag value can be ({MAX_TAG_VALUE} characters)"),
                    ));
                }
                Some(TagMatcher {
                    key: tag.key.clone(),
                    value: tag.value.clone(),
                })
            }
        };
        let route = Route {
            name: if file.name.trim().is_empty() {
                format!("routes[{n}]")
            } else {
                file.name.trim().to_owned()
            },
            channel: file.channel.clone(),
            accounts: file.accounts.clone(),
            ous,
            account_tag,
        };
        if !route.has_matcher() {
            return Err(invalid(
                format!("slack.routes[{n}]"),
                "has no matcher: give it accounts, ous or account_tag (unmatched accounts \
                 already go to slack.digest.channel)",
            ));
        }
        if let Some(earlier) = checked.iter().position(|r| r.key() == route.key()) {
            return Err(invalid(
                format!("slack.routes[{n}]"),
                format!(
                    "has the same channel and matchers as slack.routes[{earlier}], which \
                     already takes every account it would"
                ),
            ));
        }
        if let Some(earlier) = checked.iter().position(|r| r.name == route.name) {
            return Err(invalid(
                key("name"),
                format!(
                    "{:?} is also the name of slack.routes[{earlier}]; the summary tells routes \
                     apart by name",
                    route.name
                ),
            ));
        }
        checked.push(route);
    }
    let by_tag = if by_tag.is_empty() {
        None
    } else {
        check_tag_key(by_tag, "slack.route_by_tag")?;
        Some(by_tag.to_owned())
    };
    if (!checked.is_empty() || by_tag.is_some()) && default_channel.is_empty() {
        let key = if checked.is_empty() {
            "slack.route_by_tag"
        } else {
            "slack.routes"
        };
        return Err(invalid(
            key,
            "routing needs slack.digest.channel: the org-wide summary and the accounts no route \
             claims go there",
        ));
    }
    Ok(Routes {
        routes: checked,
        by_tag,
        default_channel: default_channel.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::FileConfig;

    fn error(toml: &str) -> (String, String) {
        let text = format!("[slack.digest]\nchannel = \"C0DEFAULT1\"\n{toml}");
        let file = FileConfig::parse(&text, "t.toml").expect("parses");
        match file.serve_config("t.toml") {
            Err(crate::config::ConfigError::Invalid { key, reason, .. }) => (key, reason),
            other => panic!("expected an invalid key for {toml}, got {other:?}"),
        }
    }

    #[test]
    fn every_route_mistake_names_its_key() {
        let cases = [
            (
                "[[slack.routes]]\naccounts = [\"111111111111\"]",
                "slack.routes[0].channel",
                "missing",
            ),
            (
                "[[slack.routes]]\nchannel = \"#payments\"\naccounts = [\"111111111111\"]",
                "slack.routes[0].channel",
                "not a Slack channel id",
            ),
            (
                "[[slack.routes]]\nchannel = \"C0PAYMENT1\"",
                "slack.routes[0]",
                "has no matcher",
            ),
            (
                "[[slack.routes]]\nchannel = \"C0PAYMENT1\"\nous = [\"ou-ab12-xyz\"]",
                "slack.routes[0].ous",
                "is not an OU id",
            ),
            (
                "[[slack.routes]]\nchannel = \"C0PAYMENT1\"\nous = [\"Payments\"]",
                "slack.routes[0].ous",
                "from the root",
            ),
            (
                "[[slack.routes]]\nchannel = \"C0PAYMENT1\"\naccounts = [\"12345\"]",
                "slack.routes[0].accounts",
                "12-digit",
            ),
            (
                "[[slack.routes]]\nchannel = \"C0PAYMENT1\"\naccount_tag = { key = \"\", value = \"x\" }",
                "slack.routes[0].account_tag.key",
                "not a tag key",
            ),
            (
                "[[slack.routes]]\nchannel = \"C0PAYMENT1\"\nous = [\"Root/Payments\", \"ou-ab12-cdef3456\"]\n\
                 [[slack.routes]]\nchannel = \"C0WEBTEAM1\"\naccounts = [\"111111111111\"]\n\
                 [[slack.routes]]\nchannel = \"C0PAYMENT1\"\nous = [\"ou-ab12-cdef3456\", \"Root/Payments\"]",
                "slack.routes[2]",
                "same channel and matchers as slack.routes[0]",
            ),
            (
                "[[slack.routes]]\nname = \"pay\"\nchannel = \"C0PAYMENT1\"\naccounts = [\"111111111111\"]\n\
                 [[slack.routes]]\nname = \"pay\"\nchannel = \"C0WEBTEAM1\"\naccounts = [\"222222222222\"]",
                "slack.routes[1].name",
                "also the name",
            ),
            (
                "[slack]\nroute_by_tag = \" team\"",
                "slack.route_by_tag",
                "not a tag key",
            ),
        ];
        for (toml, key, reason) in cases {
            let (got_key, got_reason) = error(toml);
            assert_eq!(got_key, key, "{toml}");
            assert!(got_reason.contains(reason), "{toml}: {got_reason}");
        }
    }

    #[test]
    fn an_unknown_route_key_is_a_parse_error_naming_it() {
        let text = "[[slack.routes]]\nchannel = \"C0PAYMENT1\"\nou = [\"Root/Payments\"]";
        let err = FileConfig::parse(text, "t.toml").expect_err("unknown key");
        assert!(err.to_string().contains("unknown field `ou`"), "{err}");
    }

    #[test]
    fn routing_needs_the_default_channel() {
        let text = "[[slack.routes]]\nchannel = \"C0PAYMENT1\"\naccounts = [\"111111111111\"]";
        let file = FileConfig::parse(text, "t.toml").expect("parses");
        let err = file.serve_config("t.toml").expect_err("no default");
        assert!(err.to_string().contains("slack.routes"), "{err}");
        assert!(err.to_string().contains("slack.digest.channel"), "{err}");
    }

    #[test]
    fn valid_routes_are_checked_in_order_and_ask_the_scan_for_what_they_match_on() {
        let text = "[slack]\nroute_by_tag = \"certwatch-channel\"\n\
            [slack.digest]\nchannel = \"C0DEFAULT1\"\n\
            [[slack.routes]]\nname = \"payments\"\nchannel = \"C0PAYMENT1\"\nous = [\"Root/Payments\"]\n\
            [[slack.routes]]\nchannel = \"C0WEBTEAM1\"\naccount_tag = { key = \"team\", value = \"web\" }";
        let file = FileConfig::parse(text, "t.toml").expect("parses");
        let serve = file.serve_config("t.toml").expect("valid");
        let routes = &serve.routes;
        assert_eq!(routes.routes.len(), 2);
        assert_eq!(routes.routes[0].name, "payments");
        assert_eq!(routes.routes[1].name, "routes[1]");
        assert_eq!(routes.by_tag.as_deref(), Some("certwatch-channel"));
        assert_eq!(routes.default_channel, "C0DEFAULT1");
        let scan = file.scan_config("t.toml").expect("valid");
        assert!(scan.account_metadata.ou_path && scan.account_metadata.tags);
        let plain = FileConfig::default().scan_config("d").expect("valid");
        assert!(!plain.account_metadata.ou_path && !plain.account_metadata.tags);
    }
}

//! What Slack sends when someone clicks one of our buttons or submits our reason modal: the JSON
//! of the `payload` form field (HTTP interactivity, signed like slash commands) or the payload of
//! a Socket Mode `interactive` envelope, parsed into an [`Interaction`].
//!
//! Only what certwatch acts on is read: `block_actions` whose first action is one of our buttons
//! ([`crate::interactive`]'s action ids), and a `view_submission` of our modal (its
//! `callback_id`), whose `private_metadata` says what was decided, about which certificate and
//! which message to update. Anything else is [`Interaction::Other`], to acknowledge and ignore;
//! a payload of ours that lacks what it must carry is an [`InteractionError`]. Nothing here
//! panics, whatever arrives.

use crate::interactive::{
    ButtonAction, Metadata, ModalAction, MODAL_CALLBACK_ID, REASON_ACTION_ID, REASON_BLOCK_ID,
};
use serde_json::Value;

/// A click on one of our buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub action: ButtonAction,
    /// The certificate (the button's `value`).
    pub arn: String,
    pub user_id: String,
    pub team_id: String,
    /// The message the button is in.
    pub channel_id: String,
    pub message_ts: String,
    /// For `views.open`: single use, valid for 3 seconds after the click.
    pub trigger_id: String,
    /// For an ephemeral answer (the *Details* button, a refusal); absent from some surfaces.
    pub response_url: Option<String>,
    /// The clicked message as the payload carries it (`blocks`, `text`…), for
    /// [`crate::interactive::mark_decided`] once the decision is written; `None` if absent.
    pub message: Option<Value>,
}

/// A submission of our reason modal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submit {
    pub action: ModalAction,
    pub arn: String,
    /// As typed, trimmed (the modal requires one; `bot` refuses an empty one anyway).
    pub reason: String,
    pub user_id: String,
    pub team_id: String,
    /// The message whose button opened the modal, to update.
    pub channel_id: String,
    pub message_ts: String,
}

/// An interaction payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interaction {
    Button(Button),
    Submit(Submit),
    /// Not for certwatch (another app's button, a view closed, a shortcut…): acknowledge it and
    /// do nothing.
    Other,
}

/// A payload that cannot be read, or one of ours that lacks what it must carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InteractionError {
    #[error("the form has no `payload` field")]
    NoPayload,
    #[error("the payload is not JSON: {0}")]
    NotJson(String),
    #[error("the payload is not a JSON object")]
    NotAnObject,
    #[error("the payload has no `{0}`")]
    Missing(&'static str),
    #[error("the modal's private_metadata is not certwatch's: {0}")]
    BadMetadata(String),
}

/// The interaction in an HTTP interactivity request's form body (`payload=<JSON>`), verified
/// beforehand with [`crate::verify()`] like a slash command.
pub fn parse_form_payload(body: &[u8]) -> Result<Interaction, InteractionError> {
    let payload = form_urlencoded::parse(body)
        .find(|(key, _)| key == "payload")
        .map(|(_, value)| value.into_owned())
        .ok_or(InteractionError::NoPayload)?;
    parse_payload(payload.as_bytes())
}

/// The interaction in a payload's JSON text.
pub fn parse_payload(json: &[u8]) -> Result<Interaction, InteractionError> {
    let value: Value =
        serde_json::from_slice(json).map_err(|e| InteractionError::NotJson(e.to_string()))?;
    parse_value(&value)
}

/// The interaction in a payload already parsed as JSON (a Socket Mode envelope's `payload`).
pub fn parse_value(payload: &Value) -> Result<Interaction, InteractionError> {
    if !payload.is_object() {
        return Err(InteractionError::NotAnObject);
    }
    match payload["type"].as_str() {
        Some("block_actions") => button(payload),
        Some("view_submission") => submission(payload),
        _ => Ok(Interaction::Other),
    }
}

/// A string at `value`, if it is one and not empty.
fn text(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

fn required(value: &Value, what: &'static str) -> Result<String, InteractionError> {
    text(value).ok_or(InteractionError::Missing(what))
}

fn user_and_team(payload: &Value) -> Result<(String, String), InteractionError> {
    let user_id = required(&payload["user"]["id"], "user.id")?;
    let team_id = text(&payload["team"]["id"])
        .or_else(|| text(&payload["user"]["team_id"]))
        .ok_or(InteractionError::Missing("team.id"))?;
    Ok((user_id, team_id))
}

fn button(payload: &Value) -> Result<Interaction, InteractionError> {
    // Slack sends the one action clicked; another app's (or a block's own) is not ours.
    let first = &payload["actions"][0];
    let Some(action) = first["action_id"]
        .as_str()
        .and_then(ButtonAction::from_action_id)
    else {
        return Ok(Interaction::Other);
    };
    let (user_id, team_id) = user_and_team(payload)?;
    let container = &payload["container"];
    let channel_id = text(&container["channel_id"])
        .or_else(|| text(&payload["channel"]["id"]))
        .ok_or(InteractionError::Missing("container.channel_id"))?;
    let message_ts = text(&container["message_ts"])
        .or_else(|| text(&payload["message"]["ts"]))
        .ok_or(InteractionError::Missing("container.message_ts"))?;
    Ok(Interaction::Button(Button {
        action,
        arn: required(&first["value"], "actions[0].value")?,
        user_id,
        team_id,
        channel_id,
        message_ts,
        trigger_id: required(&payload["trigger_id"], "trigger_id")?,
        response_url: text(&payload["response_url"]),
        message: payload.get("message").filter(|m| m.is_object()).cloned(),
    }))
}

fn submission(payload: &Value) -> Result<Interaction, InteractionError> {
    let view = &payload["view"];
    if view["callback_id"] != MODAL_CALLBACK_ID {
        return Ok(Interaction::Other);
    }
    let (user_id, team_id) = user_and_team(payload)?;
    let metadata = view["private_metadata"]
        .as_str()
        .ok_or(InteractionError::Missing("view.private_metadata"))?;
    let metadata: Metadata =
        serde_json::from_str(metadata).map_err(|e| InteractionError::BadMetadata(e.to_string()))?;
    let reason = view["state"]["values"][REASON_BLOCK_ID][REASON_ACTION_ID]["value"]
        .as_str()
        .ok_or(InteractionError::Missing(
            "view.state.values.certwatch_reason.certwatch_reason_input.value",
        ))?;
    Ok(Interaction::Submit(Submit {
        action: metadata.action,
        arn: metadata.arn,
        reason: reason.trim().to_owned(),
        user_id,
        team_id,
        channel_id: metadata.channel,
        message_ts: metadata.ts,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interactive::{modal, ACTION_DETAILS, ACTION_SNOOZE_7D};
    use serde_json::json;

    const ARN: &str =
        "arn:aws:acm:us-east-1:222222222222:certificate/5eed0000-0000-4000-8000-000000000002";

    /// A `block_actions` payload as Slack sends it for a button in a channel message.
    fn click(action_id: &str) -> Value {
        json!({
            "type": "block_actions",
            "team": {"id": "T1", "domain": "example"},
            "user": {"id": "U1", "username": "ana", "team_id": "T1"},
            "api_app_id": "A1",
            "token": "legacy",
            "container": {"type": "message", "message_ts": "1772431200.000100", "channel_id": "C1", "is_ephemeral": false},
            "trigger_id": "123.456.abc",
            "channel": {"id": "C1", "name": "certs"},
            "message": {"type": "message", "ts": "1772431200.000100", "text": "digest", "blocks": []},
            "response_url": "https://hooks.slack.com/actions/T1/1/x",
            "actions": [{"action_id": action_id, "block_id": "b1", "value": ARN, "type": "button", "action_ts": "1772431300.1"}],
        })
    }

    #[test]
    fn a_click_on_our_button() {
        let Ok(Interaction::Button(button)) = parse_value(&click(ACTION_SNOOZE_7D)) else {
            panic!("a button");
        };
        assert_eq!(button.action, ButtonAction::Snooze7d);
        assert_eq!(button.arn, ARN);
        assert_eq!(
            (button.user_id.as_str(), button.team_id.as_str()),
            ("U1", "T1")
        );
        assert_eq!(
            (button.channel_id.as_str(), button.message_ts.as_str()),
            ("C1", "1772431200.000100")
        );
        assert_eq!(button.trigger_id, "123.456.abc");
        assert_eq!(
            button.response_url.as_deref(),
            Some("https://hooks.slack.com/actions/T1/1/x")
        );
        assert_eq!(
            button.message.map(|m| m["text"].clone()),
            Some(json!("digest"))
        );
    }

    #[test]
    fn over_http_the_payload_is_a_form_field() {
        let json = click(ACTION_DETAILS).to_string();
        let body: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &json)
            .finish();
        assert!(matches!(
            parse_form_payload(body.as_bytes()),
            Ok(Interaction::Button(Button {
                action: ButtonAction::Details,
                ..
            }))
        ));
        assert_eq!(
            parse_form_payload(b"text=hello"),
            Err(InteractionError::NoPayload)
        );
        assert!(matches!(
            parse_form_payload(b"payload=%7Bnot"),
            Err(InteractionError::NotJson(_))
        ));
    }

    #[test]
    fn a_submission_of_our_modal_reads_its_metadata() {
        let view = modal(
            ModalAction::Acknowledge,
            ARN,
            "api.example.com",
            "C1",
            "1.2",
        );
        let mut view = view;
        view["id"] = json!("V1");
        view["state"] = json!({"values": {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "  we own it \n"}}}});
        let payload = json!({"type": "view_submission", "team": {"id": "T1"}, "user": {"id": "U2", "team_id": "T1"}, "view": view});
        assert_eq!(
            parse_value(&payload),
            Ok(Interaction::Submit(Submit {
                action: ModalAction::Acknowledge,
                arn: ARN.to_owned(),
                reason: "we own it".to_owned(),
                user_id: "U2".to_owned(),
                team_id: "T1".to_owned(),
                channel_id: "C1".to_owned(),
                message_ts: "1.2".to_owned(),
            }))
        );
    }

    #[test]
    fn others_and_errors() {
        // (payload, expected)
        let mut no_user = click(ACTION_SNOOZE_7D);
        no_user["user"] = json!(null);
        let mut no_value = click(ACTION_SNOOZE_7D);
        no_value["actions"][0]["value"] = json!("");
        let mut no_trigger = click(ACTION_SNOOZE_7D);
        no_trigger.as_object_mut().map(|o| o.remove("trigger_id"));
        let cases = [
            (click("someone_elses"), Ok(Interaction::Other)),
            (
                json!({"type": "block_actions", "actions": []}),
                Ok(Interaction::Other),
            ),
            (json!({"type": "view_closed"}), Ok(Interaction::Other)),
            (json!({"type": "shortcut"}), Ok(Interaction::Other)),
            (
                json!({"type": "view_submission", "view": {"callback_id": "other"}}),
                Ok(Interaction::Other),
            ),
            (json!({}), Ok(Interaction::Other)),
            (json!([1, 2]), Err(InteractionError::NotAnObject)),
            (json!("block_actions"), Err(InteractionError::NotAnObject)),
            (no_user, Err(InteractionError::Missing("user.id"))),
            (no_value, Err(InteractionError::Missing("actions[0].value"))),
            (no_trigger, Err(InteractionError::Missing("trigger_id"))),
            (
                json!({"type": "view_submission", "user": {"id": "U1"}, "team": {"id": "T1"}, "view": {"callback_id": MODAL_CALLBACK_ID}}),
                Err(InteractionError::Missing("view.private_metadata")),
            ),
        ];
        for (payload, expected) in cases {
            assert_eq!(parse_value(&payload), expected, "{payload}");
        }
        let bad_metadata = json!({"type": "view_submission", "user": {"id": "U1"}, "team": {"id": "T1"}, "view": {"callback_id": MODAL_CALLBACK_ID, "private_metadata": "{\"action\":\"delete\"}"}});
        assert!(matches!(
            parse_value(&bad_metadata),
            Err(InteractionError::BadMetadata(_))
        ));
        assert!(matches!(
            parse_payload(b"\xff"),
            Err(InteractionError::NotJson(_))
        ));
    }
}

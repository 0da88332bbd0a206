//! What certwatch sends that people click or fill in: the buttons under each digest and alert
//! entry, the small modal that asks for a reason, and the message once someone decided (the
//! buttons of that certificate replaced by who snoozed it until when). What Slack sends back
//! when they do is [`crate::interaction`]'s.
//!
//! Every id is fixed here, and [`crate::interaction`] reads exactly these: the buttons' `value`
//! is the certificate's ARN, the modal carries the ARN, the action and the message to update in
//! its `private_metadata`.

use crate::blocks::{self, MAX_BUTTON_VALUE};
use crate::mrkdwn::{self, code};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The button that snoozes a certificate for 7 days (after the reason modal).
pub const ACTION_SNOOZE_7D: &str = "certwatch_snooze_7d";
/// The button that acknowledges a certificate (after the reason modal).
pub const ACTION_ACK: &str = "certwatch_ack";
/// The button that shows a certificate's details and history, to the clicker only.
pub const ACTION_DETAILS: &str = "certwatch_details";
/// The button that asks ACM to send the validation email again (after Slack's confirm dialog);
/// only on entries pending email validation, and only when the config allows resends.
pub const ACTION_RESEND: &str = "certwatch_resend_validation_email";
/// The reason modal's `callback_id`.
pub const MODAL_CALLBACK_ID: &str = "certwatch_reason";
/// The reason input's `block_id` and `action_id` (`view.state.values[block][action].value`).
pub const REASON_BLOCK_ID: &str = "certwatch_reason";
pub const REASON_ACTION_ID: &str = "certwatch_reason_input";

/// Days the *Snooze 7 days* button snoozes for.
pub const BUTTON_SNOOZE_DAYS: u32 = 7;

/// Slack's limits on what is sent here.
const MAX_MODAL_TITLE: usize = 24;
const MAX_PRIVATE_METADATA: usize = 3000;

/// A button of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ButtonAction {
    Snooze7d,
    Acknowledge,
    Details,
    Resend,
}

impl ButtonAction {
    pub const ALL: [ButtonAction; 4] = [
        ButtonAction::Snooze7d,
        ButtonAction::Acknowledge,
        ButtonAction::Details,
        ButtonAction::Resend,
    ];

    /// Its `action_id`.
    pub fn action_id(self) -> &'static str {
        match self {
            ButtonAction::Snooze7d => ACTION_SNOOZE_7D,
            ButtonAction::Acknowledge => ACTION_ACK,
            ButtonAction::Details => ACTION_DETAILS,
            ButtonAction::Resend => ACTION_RESEND,
        }
    }

    /// The button with this `action_id`, if it is ours.
    pub fn from_action_id(id: &str) -> Option<ButtonAction> {
        ButtonAction::ALL.into_iter().find(|a| a.action_id() == id)
    }

    /// The decision the button leads to (through the reason modal); `None` for *Details* and
    /// *Resend validation email*.
    pub fn modal_action(self) -> Option<ModalAction> {
        match self {
            ButtonAction::Snooze7d => Some(ModalAction::Snooze7d),
            ButtonAction::Acknowledge => Some(ModalAction::Acknowledge),
            ButtonAction::Details | ButtonAction::Resend => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            ButtonAction::Snooze7d => "Snooze 7 days",
            ButtonAction::Acknowledge => "Acknowledge",
            ButtonAction::Details => "Details",
            ButtonAction::Resend => "Resend validation email",
        }
    }
}

/// What the reason modal decides: as `private_metadata` carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModalAction {
    /// Snooze for [`BUTTON_SNOOZE_DAYS`] days from the submission.
    #[serde(rename = "snooze_7d")]
    Snooze7d,
    #[serde(rename = "ack")]
    Acknowledge,
}

impl ModalAction {
    fn title(self) -> &'static str {
        match self {
            ModalAction::Snooze7d => "Snooze for 7 days",
            ModalAction::Acknowledge => "Acknowledge",
        }
    }

    fn submit(self) -> &'static str {
        match self {
            ModalAction::Snooze7d => "Snooze",
            ModalAction::Acknowledge => "Acknowledge",
        }
    }
}

/// The modal's `private_metadata`: what to decide, on what, and which message to update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Metadata {
    pub action: ModalAction,
    pub arn: String,
    pub channel: String,
    pub ts: String,
}

/// The actions block under an entry: *Snooze 7 days*, *Acknowledge*, *Details*, and with
/// `resend` *Resend validation email* (behind Slack's confirm dialog), each with the ARN as its
/// `value`. `None` for an ARN longer than a button's value may be (never an ACM one).
/// No `block_id`: Slack makes one, and an ARN listed twice in a message (an alert with a new and
/// a risen finding) would otherwise repeat it, which Slack refuses.
pub(crate) fn buttons(arn: &str, resend: bool) -> Option<Value> {
    if arn.is_empty() || arn.len() > MAX_BUTTON_VALUE {
        return None;
    }
    let elements: Vec<Value> = ButtonAction::ALL
        .iter()
        .filter(|action| resend || **action != ButtonAction::Resend)
        .map(|action| {
            let mut button = json!({
                "type": "button",
                "action_id": action.action_id(),
                "text": {"type": "plain_text", "text": action.label()},
                "value": arn,
            });
            if *action == ButtonAction::Resend {
                button["confirm"] = json!({
                    "title": plain("Resend the email?", MAX_MODAL_TITLE),
                    "text": {"type": "plain_text", "text": "ACM sends the validation email again \
                        to every approver address of each domain still pending. certwatch does this \
                        at most once every 12 hours per certificate, and keeps it in the audit trail."},
                    "confirm": plain("Resend", MAX_MODAL_TITLE),
                    "deny": plain("Cancel", MAX_MODAL_TITLE),
                });
            }
            button
        })
        .collect();
    Some(json!({"type": "actions", "elements": elements}))
}

/// The `view` for `views.open` when *Snooze 7 days* or *Acknowledge* is clicked: a modal that
/// asks for the reason (required, at most [`crate::command::MAX_REASON_CHARS`] characters).
/// `domain` names the certificate; `channel_id` and `message_ts` are the clicked message's,
/// carried back in `private_metadata` so that the submission can update it.
pub fn modal(
    action: ModalAction,
    arn: &str,
    domain: &str,
    channel_id: &str,
    message_ts: &str,
) -> Value {
    let metadata = Metadata {
        action,
        arn: arn.to_owned(),
        channel: channel_id.to_owned(),
        ts: message_ts.to_owned(),
    };
    // Serializing plain strings cannot fail; over-long metadata (never from Slack's own ids and
    // an ACM ARN) would be refused by Slack, so it is cut to none and the submission says so.
    let metadata = serde_json::to_string(&metadata)
        .ok()
        .filter(|m| m.len() <= MAX_PRIVATE_METADATA)
        .unwrap_or_default();
    let what = match action {
        ModalAction::Snooze7d => format!(
            "Snooze {} for {BUTTON_SNOOZE_DAYS} days: it leaves the digest and the alerts until \
             then (never past its NotAfter). It comes back at once if it becomes urgent.",
            code(domain)
        ),
        ModalAction::Acknowledge => format!(
            "Acknowledge {}: \"we own it\". It leaves the digest until its findings change (an \
             urgency rises, a new finding, a renewal) or it becomes urgent.",
            code(domain)
        ),
    };
    json!({
        "type": "modal",
        "callback_id": MODAL_CALLBACK_ID,
        "title": plain(action.title(), MAX_MODAL_TITLE),
        "submit": plain(action.submit(), MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": metadata,
        "blocks": [
            blocks::section(&what),
            {
                "type": "input",
                "block_id": REASON_BLOCK_ID,
                "label": plain("Why?", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_ACTION_ID,
                    "multiline": false,
                    "min_length": 1,
                    "max_length": crate::command::MAX_REASON_CHARS,
                    "placeholder": plain("e.g. moving it to DNS validation, OPS-123", 150),
                },
            },
            blocks::context(&[
                "Kept in certwatch's audit trail with your name and the reason. \
                 `/certs snoozed` lists every snooze and acknowledgement."
                    .to_owned(),
            ]),
        ],
    })
}

/// The answer to a `view_submission` that keeps the modal open and shows `message` under the
/// reason input (plain text), e.g. when the certificate is no longer in the inventory.
pub fn modal_error(message: &str) -> Value {
    let (message, _) = mrkdwn::shorten_plain(&mrkdwn::to_plain(message), 2000);
    json!({"response_action": "errors", "errors": {REASON_BLOCK_ID: message}})
}

/// A plain-text object, cut to `max` bytes.
fn plain(text: &str, max: usize) -> Value {
    json!({"type": "plain_text", "text": mrkdwn::shorten_plain(text, max).0, "emoji": false})
}

/// The clicked message for `chat.update`: every actions block of ours whose buttons carry `arn`
/// replaced by a context block with `note` (mrkdwn, escaped: [`crate::render::decision_note`]).
/// `message` is either the blocks array or a message object with `blocks` (as the payload's
/// `message`); the same shape comes back, everything else unchanged. Nothing of ours for `arn`:
/// the message unchanged.
pub fn mark_decided(message: &Value, arn: &str, note: &str) -> Value {
    let mut message = message.clone();
    let blocks = match &mut message {
        Value::Array(blocks) => blocks,
        Value::Object(map) => match map.get_mut("blocks") {
            Some(Value::Array(blocks)) => blocks,
            _ => return message,
        },
        _ => return message,
    };
    for block in blocks.iter_mut() {
        if is_ours_for(block, arn) {
            *block = blocks::context(&[note.to_owned()]);
        }
    }
    message
}

/// Whether `block` is an actions block with one of our buttons for `arn`.
fn is_ours_for(block: &Value, arn: &str) -> bool {
    block["type"] == "actions"
        && block["elements"].as_array().is_some_and(|elements| {
            elements.iter().any(|e| {
                e["value"] == arn
                    && e["action_id"]
                        .as_str()
                        .is_some_and(|id| ButtonAction::from_action_id(id).is_some())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_limits;

    const ARN: &str =
        "arn:aws:acm:us-east-1:222222222222:certificate/5eed0000-0000-4000-8000-000000000002";

    #[test]
    fn modal_snapshot() {
        let view = modal(
            ModalAction::Snooze7d,
            ARN,
            "api.example.com",
            "C0DIGEST",
            "1772431200.000100",
        );
        assert_eq!(view["title"]["text"], "Snooze for 7 days");
        let blocks = view["blocks"].as_array().cloned().unwrap_or_default();
        check_limits(&blocks).unwrap_or_else(|e| panic!("{e}"));
        insta::assert_json_snapshot!("modal_snooze", view);
        let view = modal(ModalAction::Acknowledge, ARN, "<b>", "C1", "1.2");
        insta::assert_json_snapshot!("modal_ack", view);
    }

    #[test]
    fn titles_and_labels_fit() {
        for action in [ModalAction::Snooze7d, ModalAction::Acknowledge] {
            let view = modal(action, ARN, "x", "C", "1");
            for key in ["title", "submit", "close"] {
                let text = view[key]["text"].as_str().unwrap_or_default();
                assert!(!text.is_empty() && text.chars().count() <= MAX_MODAL_TITLE);
            }
        }
        for action in ButtonAction::ALL {
            assert!(action.label().chars().count() <= 75);
            assert_eq!(
                ButtonAction::from_action_id(action.action_id()),
                Some(action)
            );
        }
        assert_eq!(buttons(&"a".repeat(2001), true), None);
    }

    #[test]
    fn mark_decided_replaces_only_that_certificates_buttons() {
        let other = "arn:aws:acm:us-east-1:222222222222:certificate/other";
        let blocks = json!([
            blocks::section("*URGENT* · `api.example.com`"),
            buttons(ARN, false),
            blocks::section("*ACTION* · `pay.example.com`"),
            buttons(other, true),
            {"type": "actions", "elements": [{"type": "button", "action_id": "someone_elses", "value": ARN}]},
        ]);
        let note = "*Snoozed* by <@U1> until 2026-03-09: moving to DNS";
        let marked = mark_decided(&blocks, ARN, note);
        insta::assert_json_snapshot!("mark_decided", marked);
        assert_eq!(marked[1]["type"], "context");
        assert_eq!(marked[1]["elements"][0]["text"], note);
        assert_eq!(marked[3], blocks[3]);
        assert_eq!(marked[4], blocks[4]);
        // A message object keeps its other fields.
        let message = json!({"ts": "1.2", "text": "digest", "blocks": blocks});
        let marked_message = mark_decided(&message, ARN, note);
        assert_eq!(marked_message["blocks"], marked);
        assert_eq!(marked_message["ts"], "1.2");
        // Not ours, or not there: unchanged.
        assert_eq!(mark_decided(&blocks, "arn:none", note), blocks);
        assert_eq!(mark_decided(&json!("text"), ARN, note), json!("text"));
    }
}

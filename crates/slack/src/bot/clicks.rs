//! The bot's answers to interactions: a click on one of our buttons (open the reason modal,
//! show the details, or refuse) and a submission of the reason modal (a decision to write, or a
//! reply saying why not). Gated like commands: workspace and channel, then who may decide.

use super::{gate_at, Access, Answer, Refusal};
use crate::command::Until;
use crate::decide::{self, Ask, Found, Wanted};
use crate::index::Prepared;
use crate::interaction::{Button, Submit};
use crate::interactive::{self, ButtonAction, ModalAction, BUTTON_SNOOZE_DAYS};
use crate::render::Reply;
use chrono::{DateTime, Utc};

/// What the runtime does with a click on one of our buttons.
#[derive(Debug, Clone, PartialEq)]
pub enum Click {
    /// *Snooze 7 days* or *Acknowledge*: `views.open` this modal with the click's `trigger_id`
    /// (at once: it expires 3 seconds after the click).
    OpenModal(serde_json::Value),
    /// *Details*: reply to the clicker only (the click's `response_url`, ephemeral) with
    /// [`crate::render::show_with_history`] for this certificate.
    Show { arn: String },
    /// Reply to the clicker only (through the `response_url`): the certificate is no longer in
    /// the inventory.
    Reply(Reply),
    /// *Resend validation email*, checked: the runtime carries it out as for
    /// [`Answer::Resend`] and replies to the clicker only.
    Resend(Box<crate::resend::Resend>),
}

/// The answer to a click on one of our buttons. Anyone in an answered channel may see the
/// details; only responders and admins get the reason modal (others are refused before they
/// type anything).
pub fn click(access: &Access, button: &Button, inventory: &Prepared) -> Result<Click, Refusal> {
    gate_at(access, &button.team_id, &button.channel_id)?;
    let record = match decide::find(inventory, &button.arn) {
        Found::One(record) => record,
        _ => {
            return Ok(Click::Reply(Reply::note(&format!(
                "{} is no longer in the inventory: a later scan no longer found it.",
                crate::mrkdwn::code(&button.arn)
            ))))
        }
    };
    let action = match (button.action, button.action.modal_action()) {
        (ButtonAction::Resend, _) => {
            return Ok(
                match crate::resend::ask(
                    access,
                    inventory,
                    &record.facts.arn,
                    &button.user_id,
                    &button.channel_id,
                    false,
                )? {
                    Ok(resend) => Click::Resend(Box::new(resend)),
                    Err(reply) => Click::Reply(reply),
                },
            )
        }
        (_, None) => {
            return Ok(Click::Show {
                arn: record.facts.arn.clone(),
            })
        }
        (_, Some(action)) => action,
    };
    if !access.may_decide(&button.user_id) {
        return Err(Refusal::NotResponder);
    }
    Ok(Click::OpenModal(interactive::modal(
        action,
        &record.facts.arn,
        record.facts.display_name(),
        &button.channel_id,
        &button.message_ts,
    )))
}

/// The answer to a submission of the reason modal: [`Answer::Decide`] to write (then update the
/// clicked message with [`interactive::mark_decided`] and [`crate::render::decision_note`]), or
/// [`Answer::Reply`] saying why not (show it in the modal with [`interactive::modal_error`]).
/// Gated again: the modal may outlive someone's place in `responder_user_ids`.
pub fn submit(
    access: &Access,
    submit: &Submit,
    inventory: &Prepared,
    now: DateTime<Utc>,
) -> Result<Answer, Refusal> {
    gate_at(access, &submit.team_id, &submit.channel_id)?;
    if !access.may_decide(&submit.user_id) {
        return Err(Refusal::NotResponder);
    }
    let wanted = match submit.action {
        ModalAction::Snooze7d => Wanted::Snooze(Until::Days(BUTTON_SNOOZE_DAYS)),
        ModalAction::Acknowledge => Wanted::Acknowledge,
    };
    let ask = Ask {
        target: &submit.arn,
        wanted,
        reason: &submit.reason,
        by: &submit.user_id,
        channel: &submit.channel_id,
        public: false,
    };
    Ok(match decide::decide(inventory, &ask, now) {
        Ok(decide) => Answer::Decide(Box::new(decide)),
        Err(reply) => Answer::Reply(reply),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::tests::{access, PAY};
    use crate::interactive::ButtonAction;

    fn button(action: ButtonAction, user: &str, channel: &str, arn: &str) -> Button {
        Button {
            action,
            arn: arn.to_owned(),
            user_id: user.to_owned(),
            team_id: "T1".to_owned(),
            channel_id: channel.to_owned(),
            message_ts: "1.2".to_owned(),
            trigger_id: "tr".to_owned(),
            response_url: None,
            message: None,
        }
    }

    #[test]
    fn clicks_open_the_modal_for_responders_and_details_for_all() {
        let fixture = crate::fixtures::small();
        let inv = &fixture.prepared();
        let arn = format!("arn:aws:acm:us-east-1:222222222222:certificate/{PAY}");
        let click_as =
            |action, user, channel| click(&access(), &button(action, user, channel, &arn), inv);
        let Ok(Click::OpenModal(view)) = click_as(ButtonAction::Snooze7d, "URESP", "C1") else {
            panic!("a modal");
        };
        assert_eq!(view["callback_id"], crate::interactive::MODAL_CALLBACK_ID);
        assert!(view["private_metadata"]
            .as_str()
            .is_some_and(|m| m.contains(&arn)));
        assert_eq!(
            click_as(ButtonAction::Acknowledge, "USOMEONE", "C1"),
            Err(Refusal::NotResponder)
        );
        assert_eq!(
            click_as(ButtonAction::Details, "USOMEONE", "C1"),
            Ok(Click::Show { arn: arn.clone() })
        );
        assert_eq!(
            click_as(ButtonAction::Details, "USOMEONE", "C9"),
            Err(Refusal::OtherChannel)
        );
        let gone = click(
            &access(),
            &button(ButtonAction::Snooze7d, "URESP", "C1", "arn:aws:acm:gone"),
            inv,
        );
        assert!(matches!(gone, Ok(Click::Reply(_))), "{gone:?}");
    }

    #[test]
    fn a_submission_decides_for_seven_days() {
        let fixture = crate::fixtures::small();
        let arn = format!("arn:aws:acm:us-east-1:222222222222:certificate/{PAY}");
        let mut form = Submit {
            action: ModalAction::Snooze7d,
            arn: arn.clone(),
            reason: "moving to DNS".to_owned(),
            user_id: "URESP".to_owned(),
            team_id: "T1".to_owned(),
            channel_id: "C1".to_owned(),
            message_ts: "1.2".to_owned(),
        };
        let Ok(Answer::Decide(decide)) = submit(&access(), &form, &fixture.prepared(), fixture.now)
        else {
            panic!("a decision");
        };
        assert_eq!(
            decide.action,
            certwatch_core::AuditAction::Snooze {
                until: fixture.now + chrono::Duration::days(7)
            }
        );
        assert!(!decide.public);
        form.reason = String::new();
        assert!(matches!(
            submit(&access(), &form, &fixture.prepared(), fixture.now),
            Ok(Answer::Reply(_))
        ));
        form.user_id = "USOMEONE".to_owned();
        assert_eq!(
            submit(&access(), &form, &fixture.prepared(), fixture.now),
            Err(Refusal::NotResponder)
        );
    }
}

//! Clicks on the digest's and the alerts' buttons, and the reason modal's submission, from
//! either transport (HTTP `POST /slack/interactions`, verified like commands, or a Socket Mode
//! interactive envelope). The decisions are certwatch-slack's (`bot::click`, `bot::submit`);
//! this carries them out: open the modal, write the decision, mark the message.

use super::App;
use certwatch_slack::bot::{self, Answer, Click};
use certwatch_slack::{Button, Interaction, Reply, Submit};
use std::sync::Arc;

/// What the transport answers Slack with, at once.
#[derive(Debug, Clone, PartialEq)]
pub enum Ack {
    /// An empty 200 (a click; a submission that closes the modal).
    Empty,
    /// A submission refused: the modal stays open and shows this (`response_action: errors`).
    ModalError(serde_json::Value),
}

/// Carries out one interaction.
pub async fn handle(app: &Arc<App>, interaction: Interaction) -> Ack {
    if app.is_stopping() {
        return Ack::Empty;
    }
    match interaction {
        Interaction::Button(button) => {
            clicked(app, &button).await;
            Ack::Empty
        }
        Interaction::Submit(submit) => submitted(app, &submit).await,
        Interaction::Other => Ack::Empty,
    }
}

async fn clicked(app: &Arc<App>, button: &Button) {
    let inventory = app.prepared();
    let reply = match bot::click(&app.access_for(&button.channel_id), button, &inventory) {
        Ok(Click::OpenModal(view)) => {
            let Some(slack) = &app.slack else { return };
            // The trigger_id expires 3 seconds after the click: open at once.
            if let Err(e) = slack.open_view(&button.trigger_id, &view).await {
                let id = app.error_id();
                tracing::error!(error_id = %id, arn = %button.arn, "views.open failed: {e:#}");
                bot::apology(&id)
            } else {
                return;
            }
        }
        Ok(Click::Show { arn }) => app.show(&arn, false).await,
        Ok(Click::Reply(reply)) => reply,
        Ok(Click::Resend(resend)) => {
            // ACM may take seconds (a role to assume): the click is acknowledged now and the
            // clicker gets the outcome.
            let (app, url) = (app.clone(), button.response_url.clone());
            tokio::spawn(async move {
                let reply = app.resend(&resend).await;
                respond(&app, url.as_deref(), &reply).await;
            });
            return;
        }
        Err(refusal) => {
            tracing::info!(user = %button.user_id, ?refusal, "refused a click");
            refusal.reply()
        }
    };
    respond(app, button.response_url.as_deref(), &reply).await;
}

async fn submitted(app: &Arc<App>, submit: &Submit) -> Ack {
    let inventory = app.prepared();
    let access = app.access_for(&submit.channel_id);
    let decide = match bot::submit(&access, submit, &inventory, app.clock.now()) {
        Ok(Answer::Decide(decide)) => decide,
        Ok(Answer::Reply(reply)) => return modal_error(&reply),
        Ok(_) => return Ack::Empty,
        Err(refusal) => {
            tracing::info!(user = %submit.user_id, ?refusal, "refused a submission");
            return modal_error(&refusal.reply());
        }
    };
    if let Err(apology) = app.try_record_decision(&decide).await {
        return modal_error(&apology);
    }
    // A modal snoozes or acknowledges: there is always a decision to show.
    let Some(decision) = decide.decision.clone() else {
        return Ack::Empty;
    };
    // The clicked message says who decided what (the bot's own message only), after the
    // answer: Slack wants it within 3 seconds.
    let (app, submit, arn) = (app.clone(), submit.clone(), decide.arn.clone());
    tokio::spawn(async move { mark_message(&app, &submit, &arn, &decision).await });
    Ack::Empty
}

async fn mark_message(app: &App, submit: &Submit, arn: &str, decision: &certwatch_core::Decision) {
    let Some(slack) = &app.slack else { return };
    let note = certwatch_slack::render::decision_note(decision);
    let updated = match slack
        .fetch_message(&submit.channel_id, &submit.message_ts)
        .await
    {
        Ok(Some(message)) => {
            let marked = certwatch_slack::mark_decided(&message, arn, &note);
            slack
                .update_message(&submit.channel_id, &submit.message_ts, &marked)
                .await
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = updated {
        tracing::warn!(%arn, "the decision is recorded, but the message could not be marked: {e:#}");
    }
}

fn modal_error(reply: &Reply) -> Ack {
    Ack::ModalError(certwatch_slack::modal_error(&reply.text))
}

async fn respond(app: &App, response_url: Option<&str>, reply: &Reply) {
    match (response_url, &app.slack) {
        (Some(url), Some(slack)) => slack.respond_reply(url, reply).await,
        _ => tracing::info!("no response_url with the click: reply not sent"),
    }
}

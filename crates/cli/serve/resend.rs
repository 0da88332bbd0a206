//! `/certs resend` and the *Resend validation email* button, once the bot has checked who asks
//! and for what (`certwatch_slack::resend`): at most one resend per certificate per 12 hours
//! (from the audit trail), the call through the [`Resender`](super::ports::Resender) port, and
//! the audit entry of what ACM accepted.

use super::App;
use certwatch_core::decisions::resend_allowed;
use certwatch_slack::resend::{self, Outcome, Resend};
use certwatch_slack::Reply;

impl App {
    /// Carries out `resend` and returns the reply: at once when there is no `response_url`;
    /// otherwise the call to ACM (which assumes a role and may take seconds) goes on in its own
    /// task, the reply now says it is under way and the outcome follows through `response_url`.
    pub(super) async fn start_resend(
        self: &std::sync::Arc<Self>,
        resend: Resend,
        response_url: Option<String>,
    ) -> Reply {
        let (Some(url), Some(slack)) = (response_url, self.slack.clone()) else {
            return self.resend(&resend).await;
        };
        // Refused at once when it is too soon (checked again, under the lock, before the call).
        if let Err(refused) = self.allowed(&resend).await {
            return refused;
        }
        let app = self.clone();
        let started = resend::started(&resend);
        tokio::spawn(async move {
            let reply = app.resend(&resend).await;
            slack.respond_reply(&url, &reply).await;
        });
        started
    }

    /// Checks the 12 hours, asks ACM, records what it accepted; the reply says what happened.
    pub(super) async fn resend(&self, resend: &Resend) -> Reply {
        let Some(resender) = self.resender.clone() else {
            return resend::reply(
                resend,
                &Outcome::Failed("resends cannot be made from this certwatch (demo)".to_owned()),
            );
        };
        // One at a time: two clicks must not both pass the 12-hour check.
        let _one = self.resend_lock.lock().await;
        if let Err(refused) = self.allowed(resend).await {
            return refused;
        }
        let outcome = resender
            .resend(&resend.account_id, &resend.region, &resend.arn)
            .await;
        if let Outcome::Sent { sent, .. } = &outcome {
            let entry = resend.audit_entry(sent, self.clock.now());
            tracing::info!(
                arn = %resend.arn,
                user = %resend.by,
                channel = %resend.channel,
                domains = sent.len(),
                "validation email resent"
            );
            if let Err(e) = self.with_store(move |s| s.record_resend(&entry)).await {
                // ACM sent it; only the record failed. Say so rather than pretend nothing
                // happened.
                let id = self.error_id();
                tracing::error!(error_id = %id, "recording a resend in the audit trail: {e:#}");
                let mut reply = resend::reply(resend, &outcome);
                reply.text.push_str(&format!(
                    " (It could not be written to the audit trail: error {id}.)"
                ));
                return reply;
            }
        } else {
            tracing::info!(arn = %resend.arn, user = %resend.by, ?outcome, "resend not made");
        }
        resend::reply(resend, &outcome)
    }

    /// `Ok` when the certificate had no resend in the last 12 hours (the audit trail says),
    /// else the reply that refuses it.
    async fn allowed(&self, resend: &Resend) -> Result<(), Reply> {
        let arn = resend.arn.clone();
        let last = match self.with_store(move |s| s.last_resend_at(&arn)).await {
            Ok(last) => last,
            Err(e) => return Err(self.apology("reading the resends of a certificate", &e)),
        };
        let now = self.clock.now();
        resend_allowed(last, now).map_err(|next| {
            let last = last.unwrap_or(now);
            tracing::info!(arn = %resend.arn, user = %resend.by, "resend refused: within 12 hours");
            resend::reply(resend, &Outcome::TooSoon { last, next })
        })
    }

    fn apology(&self, what: &str, e: &anyhow::Error) -> Reply {
        let id = self.error_id();
        tracing::error!(error_id = %id, "{what}: {e:#}");
        certwatch_slack::bot::apology(&id)
    }
}

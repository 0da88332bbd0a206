//! `/certs resend` and the *Resend validation email* button: who may ask, for which
//! certificate, and what the bot says once the runtime has asked ACM (`acm:ResendValidationEmail`,
//! certwatch's one write to AWS, done by `certwatch_scanner::act`).
//!
//! Three things must all be true, and a refusal says which is missing: the config turns it on
//! (`slack.actions.resend_validation_email`), the user is a responder or an admin, and the member
//! role allows the call (only ACM can say: the StackSet's `AllowResendValidationEmail`). Besides,
//! one certificate gets at most one resend per [`certwatch_core::RESEND_INTERVAL`], whoever asks;
//! the runtime checks that against the audit trail before calling AWS.

use crate::bot::{Access, Refusal};
use crate::decide::{find, Found};
use crate::index::Prepared;
use crate::mrkdwn::{code, escape, moment};
use crate::render::Reply;
use certwatch_core::{AuditAction, AuditEntry, CertificateRecord, Code};
use chrono::{DateTime, Utc};

/// A resend that passed the bot's checks: the runtime checks the 12 hours, calls ACM and
/// replies with [`reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resend {
    pub arn: String,
    pub account_id: String,
    pub account_name: String,
    pub region: String,
    /// The certificate's name, for the reply.
    pub domain: String,
    pub by: String,
    pub channel: String,
    pub public: bool,
}

/// One domain ACM sent the validation email for again, and the addresses it went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub domain: String,
    pub emails: Vec<String>,
}

/// What became of a resend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// ACM sent these; `not_sent` says why the rest was not (ACM refused one after others went).
    Sent {
        sent: Vec<Sent>,
        not_sent: Option<String>,
    },
    /// The certificate had a resend less than 12 hours ago; the next may go at `next`.
    TooSoon {
        last: DateTime<Utc>,
        next: DateTime<Utc>,
    },
    /// ACM refused: the member role does not allow `acm:ResendValidationEmail`.
    NotPermitted,
    /// ACM says no domain of the certificate is pending email validation (any more).
    NotPending,
    /// ACM (or the way to it) failed; the text is ACM's, shown as it is.
    Failed(String),
}

/// Checks a resend of `target` asked by `user_id` in `channel_id`: the reply saying why not, or
/// what the runtime does.
pub fn ask(
    access: &Access,
    inv: &Prepared,
    target: &str,
    user_id: &str,
    channel_id: &str,
    public: bool,
) -> Result<Result<Resend, Reply>, Refusal> {
    if !access.resend_validation_email {
        return Err(Refusal::ResendOff);
    }
    if !access.may_decide(user_id) {
        return Err(Refusal::NotResponderToResend);
    }
    let record = match find(inv, target) {
        Found::One(record) => record,
        Found::None => {
            return Ok(Err(Reply::note(&format!(
                "No certificate with ARN or id {} in the inventory: no email was sent.",
                code(target)
            ))))
        }
        Found::Several(n) => {
            return Ok(Err(Reply::note(&format!(
                "{n} certificates match {}: no email was sent. Use the full ARN.",
                code(target)
            ))))
        }
    };
    let domain = record.facts.display_name().to_owned();
    if !pending_email(record) {
        return Ok(Err(Reply::note(&format!(
            "{} is not waiting for an approval email (no `PENDING_VALIDATION_EMAIL` finding in \
             the latest scan): no email was sent.",
            code(&domain)
        ))));
    }
    Ok(Ok(Resend {
        arn: record.facts.arn.clone(),
        account_id: record.facts.account_id.clone(),
        account_name: record.account_name.clone(),
        region: record.facts.region.clone(),
        domain,
        by: user_id.to_owned(),
        channel: channel_id.to_owned(),
        public,
    }))
}

impl Resend {
    /// The audit trail's entry for a resend ACM accepted for `sent`.
    pub fn audit_entry(&self, sent: &[Sent], at: DateTime<Utc>) -> AuditEntry {
        AuditEntry {
            at,
            by: self.by.clone(),
            channel: self.channel.clone(),
            action: AuditAction::ResendValidationEmail {
                domains: sent.iter().map(|s| s.domain.clone()).collect(),
            },
            arn: self.arn.clone(),
            reason: String::new(),
        }
    }
}

/// Whether the certificate waits for an approval email (its `PENDING_VALIDATION_EMAIL` finding):
/// what a resend is for.
pub fn pending_email(record: &CertificateRecord) -> bool {
    record
        .findings
        .iter()
        .any(|f| f.code == Code::PendingValidationEmail)
}

/// The reply while the runtime asks ACM (the outcome follows through the `response_url`).
pub fn started(resend: &Resend) -> Reply {
    Reply::note(&format!(
        "Asking ACM to resend the validation email for {}…",
        code(&resend.domain)
    ))
}

/// The reply once the runtime has an [`Outcome`].
pub fn reply(resend: &Resend, outcome: &Outcome) -> Reply {
    let domain = code(&resend.domain);
    let account = format!(
        "{} ({})",
        escape(&resend.account_name),
        code(&resend.account_id)
    );
    let text = match outcome {
        Outcome::Sent { sent, not_sent } => {
            let mut text = format!(
                "ACM sent the validation email for {domain} again, <@{}>:",
                resend.by
            );
            for s in sent {
                let to = if s.emails.is_empty() {
                    "the domain's approver addresses".to_owned()
                } else {
                    s.emails
                        .iter()
                        .map(|e| escape(e))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                text.push_str(&format!("\n• {} → {to}", code(&s.domain)));
            }
            if let Some(why) = not_sent {
                text.push_str(&format!(
                    "\nThe other domains were not resent: {}",
                    escape(why)
                ));
            }
            text.push_str(
                "\nSomeone who reads one of these addresses must open the email and approve it. \
                 The resend is in the audit trail (`/certs show`).",
            );
            text
        }
        Outcome::TooSoon { last, next } => format!(
            "The validation email for {domain} was resent at {}; certwatch resends it at most \
             once every 12 hours (the approvers get every email of every resend). Next possible: \
             {}. No email was sent.",
            moment(*last),
            moment(*next)
        ),
        Outcome::NotPermitted => format!(
            "The member role in account {account} does not allow `acm:ResendValidationEmail`, so \
             no email was sent. Deploy certwatch's member role with the \
             `AllowResendValidationEmail=true` parameter, or resend it in the console \
             (Certificate Manager → the certificate → Actions → Resend validation email)."
        ),
        Outcome::NotPending => format!(
            "ACM says no domain of {domain} is waiting for email validation any more: no email \
             was sent. The next scan will show its status."
        ),
        Outcome::Failed(message) => format!(
            "ACM did not resend the validation email for {domain}: {}",
            escape(message)
        ),
    };
    let mut reply = Reply::note(&text);
    if resend.public {
        reply.response_type = crate::render::ResponseType::InChannel;
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn access(enabled: bool) -> Access {
        Access {
            responder_user_ids: vec!["URESP".to_owned()],
            admin_user_ids: vec!["UADMIN".to_owned()],
            resend_validation_email: enabled,
            ..Access::default()
        }
    }

    /// The demo's certificate pending email validation, and one that is not.
    fn pending_and_not(inv: &Prepared) -> (String, String) {
        let arn_of = |code: Code| {
            inv.report
                .certificates
                .iter()
                .find(|c| c.findings.iter().any(|f| f.code == code))
                .map(|c| c.facts.arn.clone())
                .expect("the demo has one")
        };
        (arn_of(Code::PendingValidationEmail), arn_of(Code::Imported))
    }

    #[test]
    fn the_three_conditions_are_checked_before_anything_is_sent() {
        let fixture = fixtures::demo();
        let inv = &fixture.prepared();
        let (pending, imported) = pending_and_not(inv);
        assert_eq!(
            ask(&access(false), inv, &pending, "UADMIN", "C1", false),
            Err(Refusal::ResendOff)
        );
        assert_eq!(
            ask(&access(true), inv, &pending, "USOMEONE", "C1", false),
            Err(Refusal::NotResponderToResend)
        );
        let not_pending = ask(&access(true), inv, &imported, "URESP", "C1", false)
            .expect("answered")
            .expect_err("nothing to send");
        assert!(not_pending
            .text
            .contains("not waiting for an approval email"));
        let unknown = ask(&access(true), inv, "nope", "URESP", "C1", false)
            .expect("answered")
            .expect_err("no such certificate");
        assert!(unknown.text.contains("no email was sent"));
        let id = pending.rsplit('/').next().expect("an id");
        let resend = ask(&access(true), inv, id, "UADMIN", "C9", true)
            .expect("answered")
            .expect("a resend");
        assert_eq!(resend.arn, pending);
        assert_eq!(
            (resend.by.as_str(), resend.channel.as_str()),
            ("UADMIN", "C9")
        );
        assert!(resend.public);
    }

    #[test]
    fn replies_say_where_it_went_or_why_not_and_fit_slack() {
        let fixture = fixtures::demo();
        let (pending, _) = pending_and_not(&fixture.prepared());
        let resend = ask(
            &access(true),
            &fixture.prepared(),
            &pending,
            "URESP",
            "C1",
            false,
        )
        .expect("answered")
        .expect("a resend");
        let at = fixture.now;
        let sent = Outcome::Sent {
            sent: vec![Sent {
                domain: "campaign.example.org".to_owned(),
                emails: vec!["admin@example.org".to_owned(), "<b>@x".to_owned()],
            }],
            not_sent: Some("ACM did not resend: InvalidStateException".to_owned()),
        };
        for (outcome, wanted) in [
            (sent.clone(), "admin@example.org, &lt;b&gt;@x"),
            (sent, "The other domains were not resent"),
            (
                Outcome::TooSoon {
                    last: at,
                    next: at + certwatch_core::RESEND_INTERVAL,
                },
                "at most once every 12 hours",
            ),
            (Outcome::NotPermitted, "AllowResendValidationEmail=true"),
            (Outcome::NotPending, "no email was sent"),
            (Outcome::Failed("boom <x>".to_owned()), "boom &lt;x&gt;"),
        ] {
            let reply = reply(&resend, &outcome);
            assert!(reply.text.contains(wanted), "{outcome:?}: {}", reply.text);
            crate::check_limits(&reply.blocks).expect("within limits");
        }
        let entry = resend.audit_entry(
            &[Sent {
                domain: "campaign.example.org".to_owned(),
                emails: vec![],
            }],
            at,
        );
        assert_eq!(entry.by, "URESP");
        assert_eq!(
            entry.action,
            AuditAction::ResendValidationEmail {
                domains: vec!["campaign.example.org".to_owned()]
            }
        );
    }
}

//! A decision someone asked for (`/certs snooze|ack|unsnooze`, or a button and its reason
//! modal), checked against the inventory at `now`: either everything the runtime writes
//! ([`Decide`]: the audit entry and the decision in force) or a reply that says why not, and
//! then nothing is written. Who may decide is [`crate::bot`]'s gate; this is what is decided.
//!
//! A snooze runs until `now` + the days asked for, or until the day asked for at 00:00 UTC (a
//! day not in the future is refused), and never past the certificate's NotAfter
//! ([`Decision::snooze_until`]); a certificate already past its NotAfter cannot be snoozed.

use crate::command::{Until, MAX_REASON_CHARS};
use crate::index::Prepared;
use crate::mrkdwn::{code, day, plain_date};
use crate::render::Reply;
use certwatch_core::{
    AuditAction, AuditEntry, CertificateRecord, Decision, DecisionKind, Visibility,
};
use chrono::{DateTime, Duration, NaiveTime, Utc};

/// What to write for a decision, and what the confirmation says ([`crate::render::decided`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decide {
    /// The certificate, resolved from the ARN or id typed (or the button's ARN).
    pub arn: String,
    /// Its name, for the confirmation.
    pub domain: String,
    /// What the audit trail records: a snooze (with its end, capped at NotAfter), an
    /// acknowledgement, or the end of the decision in force.
    pub action: AuditAction,
    pub reason: String,
    /// Who decided (Slack user id), from which channel, when (`now`).
    pub by: String,
    pub channel: String,
    pub at: DateTime<Utc>,
    /// The decision to keep in force from now on; `None`: remove the one in force (unsnooze).
    pub decision: Option<Decision>,
    /// The decision in force until now, if any (an unsnooze names it; a new decision replaces it).
    pub replaces: Option<Decision>,
    /// The end asked for, before the NotAfter cap (a snooze only).
    pub requested_until: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
    /// Whether the new decision hides the certificate now (an urgent one stays shown).
    pub visibility: Option<Visibility>,
    /// Answer in the channel rather than to the asker only.
    pub public: bool,
}

impl Decide {
    /// The audit trail's entry for this decision.
    pub fn audit_entry(&self) -> AuditEntry {
        AuditEntry {
            at: self.at,
            by: self.by.clone(),
            channel: self.channel.clone(),
            action: self.action.clone(),
            arn: self.arn.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// What someone asked to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Snooze(Until),
    Acknowledge,
    Unsnooze,
}

/// A decision asked for, before it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask<'a> {
    /// ARN or certificate id, as typed (or the button's ARN).
    pub target: &'a str,
    pub wanted: Wanted,
    /// Required for a snooze and an acknowledgement.
    pub reason: &'a str,
    pub by: &'a str,
    pub channel: &'a str,
    pub public: bool,
}

/// Checks `ask` against `inv` at `now`: what to write, or the reply saying why nothing is.
pub fn decide(inv: &Prepared, ask: &Ask<'_>, now: DateTime<Utc>) -> Result<Decide, Reply> {
    let reason = ask.reason.trim();
    let (arn, domain, record) = match find(inv, ask.target) {
        Found::One(record) => (
            record.facts.arn.clone(),
            record.facts.display_name().to_owned(),
            Some(record),
        ),
        // A decision can be ended on a certificate that is gone from the inventory.
        Found::None if ask.wanted == Wanted::Unsnooze && inv.decisions.contains_key(ask.target) => {
            (ask.target.to_owned(), ask.target.to_owned(), None)
        }
        Found::None => return Err(not_found(ask.target)),
        Found::Several(n) => {
            return Err(Reply::note(&format!(
                "{n} certificates match {}: nothing was changed. Use the full ARN.",
                code(ask.target)
            )))
        }
    };
    let replaces = inv.decisions.get(&arn).cloned();
    let mut decide = Decide {
        arn,
        domain,
        action: AuditAction::Unsnooze,
        reason: reason.to_owned(),
        by: ask.by.to_owned(),
        channel: ask.channel.to_owned(),
        at: now,
        decision: None,
        replaces,
        requested_until: None,
        not_after: record.and_then(|r| r.facts.not_after),
        visibility: None,
        public: ask.public,
    };
    if ask.wanted == Wanted::Unsnooze {
        if decide.replaces.is_none() {
            return Err(Reply::note(&format!(
                "{} is neither snoozed nor acknowledged: nothing to undo.",
                code(&decide.domain)
            )));
        }
        return Ok(decide);
    }
    // Only an unsnooze goes on without a certificate.
    let Some(record) = record else {
        return Err(not_found(ask.target));
    };
    let kind = match ask.wanted {
        Wanted::Unsnooze | Wanted::Acknowledge => DecisionKind::Acknowledge,
        Wanted::Snooze(until) => {
            let requested = match until {
                Until::Days(days) => now + Duration::days(i64::from(days)),
                Until::Date(date) => date.and_time(NaiveTime::MIN).and_utc(),
            };
            if requested <= now {
                return Err(Reply::note(&format!(
                    "{} is not in the future: a snooze runs until a later day, e.g. `7d`, `2w` \
                     or a date after {}.",
                    code(&day(requested)),
                    day(now)
                )));
            }
            let until = Decision::snooze_until(requested, decide.not_after);
            if until <= now {
                return Err(Reply::note(&format!(
                    "{} expired {}: a snooze never runs past a certificate's NotAfter, so there \
                     is nothing to snooze. Replace the certificate.",
                    code(&decide.domain),
                    decide.not_after.map_or_else(String::new, |at| format!(
                        "on {} (its NotAfter)",
                        plain_date(at)
                    ))
                )));
            }
            decide.requested_until = Some(requested);
            DecisionKind::Snooze { until }
        }
    };
    if reason.is_empty() {
        return Err(Reply::note(
            "A reason is needed: it tells whoever reads the digest next why this certificate is \
             not in it. Nothing was changed.",
        ));
    }
    let chars = reason.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err(Reply::note(&format!(
            "A reason of at most {MAX_REASON_CHARS} characters, please (this one has {chars}). \
             Nothing was changed."
        )));
    }
    decide.action = match kind {
        DecisionKind::Snooze { until } => AuditAction::Snooze { until },
        DecisionKind::Acknowledge => AuditAction::Acknowledge,
    };
    let decision = Decision {
        arn: decide.arn.clone(),
        kind,
        by: decide.by.clone(),
        at: now,
        reason: decide.reason.clone(),
        channel: decide.channel.clone(),
        findings_at: record
            .findings
            .iter()
            .map(|f| (f.code.clone(), f.urgency))
            .collect(),
        not_after_at: record.facts.not_after,
    };
    decide.visibility = Some(decision.visibility(record, now));
    decide.decision = Some(decision);
    Ok(decide)
}

fn not_found(target: &str) -> Reply {
    Reply::note(&format!(
        "No certificate with ARN or id {} in the inventory: nothing was changed. \
         `/certs domain NAME` finds certificates by name.",
        code(target)
    ))
}

/// What an ARN or id matches.
pub(crate) enum Found<'a> {
    None,
    One(&'a CertificateRecord),
    Several(usize),
}

/// The certificate whose ARN or id is `target` (case-insensitive, like `/certs show`).
pub(crate) fn find<'a>(inv: &'a Prepared, target: &'a str) -> Found<'a> {
    let target = target.trim();
    let mut found = inv.with_arn_or_id(target);
    match (found.next(), found.count()) {
        (None, _) => Found::None,
        // An exact ARN wins over ids that happen to match too.
        (Some(first), 0) => Found::One(first),
        (Some(_), more) => match inv.with_arn_or_id(target).find(|r| r.facts.arn == target) {
            Some(exact) => Found::One(exact),
            None => Found::Several(more + 1),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, at};
    use certwatch_core::{Code, Urgency};
    use chrono::NaiveDate;

    const PAY: &str = "5eed0000-0000-4000-8000-000000000005";
    const API: &str = "5eed0000-0000-4000-8000-000000000002";
    const OLD: &str = "5eed0000-0000-4000-8000-000000000003";

    fn ask(target: &str, wanted: Wanted, reason: &str) -> Result<Decide, Reply> {
        let fixture = fixtures::decided();
        let ask = Ask {
            target,
            wanted,
            reason,
            by: "U1",
            channel: "C1",
            public: false,
        };
        decide(&fixture.prepared(), &ask, fixture.now)
    }

    fn date(text: &str) -> Until {
        Until::Date(NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date"))
    }

    #[test]
    fn a_snooze_runs_from_now_and_never_past_not_after() {
        let now = fixtures::small().now;
        // (target, until, expected end, expected visibility)
        let cases = [
            (
                PAY,
                Until::Days(7),
                at("2026-03-09T09:00:00Z"),
                Visibility::Hidden,
            ),
            (
                PAY,
                Until::Days(14),
                at("2026-03-16T09:00:00Z"),
                Visibility::Hidden,
            ),
            (
                PAY,
                date("2026-03-10"),
                at("2026-03-10T00:00:00Z"),
                Visibility::Hidden,
            ),
            // Capped at NotAfter (2026-03-22 06:00).
            (
                PAY,
                date("2026-12-13"),
                at("2026-03-22T06:00:00Z"),
                Visibility::Hidden,
            ),
            // Urgent: recorded, but it stays shown.
            (
                API,
                Until::Days(7),
                at("2026-03-07T06:00:00Z"),
                Visibility::Resurfaced(certwatch_core::Resurfaced::BecameUrgent),
            ),
        ];
        for (target, until, end, visibility) in cases {
            let decide = ask(target, Wanted::Snooze(until), " moving ").expect("a decision");
            assert_eq!(
                decide.action,
                AuditAction::Snooze { until: end },
                "{until:?}"
            );
            assert_eq!(decide.visibility, Some(visibility), "{until:?}");
            let decision = decide.decision.as_ref().expect("a decision to keep");
            assert_eq!(decision.kind, DecisionKind::Snooze { until: end });
            assert_eq!(
                (decision.by.as_str(), decision.channel.as_str()),
                ("U1", "C1")
            );
            assert_eq!(decision.at, now);
            assert_eq!(decision.reason, "moving");
            assert_eq!(decision.not_after_at, decide.not_after);
            assert!(decide.requested_until.is_some_and(|r| r >= end));
            let audit = decide.audit_entry();
            assert_eq!(audit.action, decide.action);
            assert_eq!((audit.arn.as_str(), audit.at), (decide.arn.as_str(), now));
        }
        // The decision in force is what it replaces.
        let decide = ask(PAY, Wanted::Acknowledge, "ours").expect("a decision");
        assert!(decide.replaces.is_some());
        assert_eq!(
            decide.decision.map(|d| d.findings_at),
            Some(vec![
                (Code::PendingValidationDns, Urgency::Action),
                (Code::NotInUse, Urgency::Action)
            ])
        );
    }

    #[test]
    fn unsnooze_ends_the_decision_in_force() {
        let decide = ask(PAY, Wanted::Unsnooze, "").expect("an unsnooze");
        assert_eq!(decide.action, AuditAction::Unsnooze);
        assert_eq!(decide.decision, None);
        assert!(decide.replaces.is_some());
        // A certificate gone from the inventory, by its full ARN.
        let gone =
            "arn:aws:acm:us-east-1:222222222222:certificate/5eed0000-0000-4000-8000-000000000099";
        let decide = ask(gone, Wanted::Unsnooze, "").expect("an unsnooze");
        assert_eq!(decide.arn, gone);
    }

    #[test]
    fn what_cannot_be_decided_is_a_reply() {
        // (target, wanted, reason, the reply says)
        let cases = [
            (
                "nothing",
                Wanted::Acknowledge,
                "x",
                "No certificate with ARN or id `nothing`",
            ),
            (
                PAY,
                Wanted::Snooze(date("2026-03-02")),
                "x",
                "`2026-03-02` is not in the future",
            ),
            (
                PAY,
                Wanted::Snooze(date("1999-01-01")),
                "x",
                "`1999-01-01` is not in the future",
            ),
            (
                OLD,
                Wanted::Snooze(Until::Days(7)),
                "x",
                "`old.example.com` expired on 2026-02-27 06:00 UTC (its NotAfter)",
            ),
            (PAY, Wanted::Acknowledge, "  ", "A reason is needed"),
            (
                PAY,
                Wanted::Snooze(Until::Days(7)),
                "",
                "A reason is needed",
            ),
            (
                "5eed0000-0000-4000-8000-000000000004",
                Wanted::Unsnooze,
                "",
                "`shop.example.com` is neither snoozed nor acknowledged",
            ),
        ];
        for (target, wanted, reason, says) in cases {
            let reply = ask(target, wanted, reason).expect_err(says);
            assert!(reply.text.contains(says), "{says}: {}", reply.text);
            assert_eq!(reply.response_type, crate::ResponseType::Ephemeral);
        }
        let long = "x".repeat(MAX_REASON_CHARS + 1);
        assert!(ask(PAY, Wanted::Acknowledge, &long).is_err());
    }

    #[test]
    fn targets_resolve_by_arn_or_id_case_insensitively() {
        let inv = fixtures::small().prepared();
        let arn = format!("arn:aws:acm:us-east-1:222222222222:certificate/{PAY}");
        for target in [PAY, &PAY.to_uppercase(), &arn, &format!(" {arn} ")] {
            assert!(
                matches!(find(&inv, target), Found::One(r) if r.facts.arn == arn),
                "{target}"
            );
        }
        assert!(matches!(find(&inv, "5eed"), Found::None));
        let mut twice = fixtures::small().inventory;
        let mut copy = twice.report.certificates[0].clone();
        copy.facts.arn = format!("arn:aws:acm:eu-west-1:222222222222:certificate/{PAY}");
        twice.report_mut().certificates.push(copy);
        let twice = Prepared::from(twice);
        assert!(matches!(find(&twice, PAY), Found::Several(2)));
        assert!(matches!(find(&twice, &arn), Found::One(r) if r.facts.arn == arn));
    }
}

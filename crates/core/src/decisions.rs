//! What people decided about a certificate: snooze it until a date, or acknowledge it ("we own
//! it"), and whether that decision still hides it from the digest and the alerts at `now`.
//!
//! A decision never hides a certificate once it is `urgent` or `expired`: it comes back, marked
//! as having been snoozed or acknowledged by whom. A snooze cannot run past NotAfter. An
//! acknowledgement holds until the certificate's findings change: an urgency rises, a new code
//! appears, or it is renewed (NotAfter moves).
//!
//! What time alone does, between scans. [`Decision::visibility`] judges the record the latest
//! scan stored, at `now`, without the policy, so:
//! - a snooze lapses at its `until`, to the second;
//! - a certificate whose NotAfter passes is `expired` at once
//!   ([`CertificateRecord::urgency_at`]): an acknowledgement resurfaces without waiting for a scan
//!   (a snooze has lapsed by then, being capped at NotAfter);
//! - a finding's own urgency is the scan's verdict (the days to NotAfter at the scan's time,
//!   against `urgent_days`), so a decided certificate that reaches `urgent_days` resurfaces with
//!   the first scan after that day, not before: within one scan interval (`serve` rescans every
//!   `scan_interval_minutes`).

use crate::finding::{Code, Urgency};
use crate::report::CertificateRecord;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The kind of decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecisionKind {
    /// Hidden until `until` (already capped at NotAfter when the decision was made).
    Snooze { until: DateTime<Utc> },
    /// Hidden until the findings change.
    Acknowledge,
}

/// A decision in force on one certificate (the latest one; the audit trail keeps them all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub arn: String,
    #[serde(flatten)]
    pub kind: DecisionKind,
    /// Slack user id of who decided.
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: String,
    /// Slack channel id it was decided from.
    pub channel: String,
    /// The certificate as it was when decided: its findings' codes and urgencies, and NotAfter.
    pub findings_at: Vec<(Code, Urgency)>,
    pub not_after_at: Option<DateTime<Utc>>,
}

/// Whether a decision hides its certificate at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Hidden from the digest and the alerts.
    Hidden,
    /// Shown again although a decision was made: it became urgent or expired, or (an
    /// acknowledgement) its findings changed. The digest says who snoozed or acknowledged it.
    Resurfaced(Resurfaced),
    /// The decision ran out (a snooze past its date): shown as any other certificate.
    Lapsed,
}

/// Why a decided certificate is shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resurfaced {
    BecameUrgent,
    FindingsChanged,
    Renewed,
}

impl Decision {
    /// The snooze end for a request to snooze until `until`: never past NotAfter.
    pub fn snooze_until(until: DateTime<Utc>, not_after: Option<DateTime<Utc>>) -> DateTime<Utc> {
        not_after.map_or(until, |n| until.min(n))
    }

    /// Whether this decision hides `record` at `now`.
    pub fn visibility(&self, record: &CertificateRecord, now: DateTime<Utc>) -> Visibility {
        if let DecisionKind::Snooze { until } = self.kind {
            if now >= until {
                return Visibility::Lapsed;
            }
        }
        if record.urgency_at(now) >= Some(Urgency::Urgent) {
            return Visibility::Resurfaced(Resurfaced::BecameUrgent);
        }
        if self.kind == DecisionKind::Acknowledge {
            if record.facts.not_after != self.not_after_at {
                return Visibility::Resurfaced(Resurfaced::Renewed);
            }
            let changed = record.findings.iter().any(|f| {
                !self
                    .findings_at
                    .iter()
                    .any(|(code, urgency)| *code == f.code && f.urgency <= *urgency)
            });
            if changed {
                return Visibility::Resurfaced(Resurfaced::FindingsChanged);
            }
        }
        Visibility::Hidden
    }
}

/// What a person did, as the audit trail keeps it: never rewritten, never deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// Slack user id.
    pub by: String,
    /// Slack channel id the action came from.
    pub channel: String,
    pub action: AuditAction,
    pub arn: String,
    pub reason: String,
}

/// The actions the audit trail records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AuditAction {
    Snooze {
        until: DateTime<Utc>,
    },
    Acknowledge,
    Unsnooze,
    /// ACM sent the validation email again for these domains (`acm:ResendValidationEmail`,
    /// certwatch's one write to AWS): the domains ACM accepted the resend for.
    ResendValidationEmail {
        domains: Vec<String>,
    },
}

/// How often certwatch asks ACM to send one certificate's validation email again: at most once
/// in 12 hours, whoever asks. Each resend mails every approver address of each pending domain;
/// a button pressed again and again would bury the approvers, and ACM itself accepts a resend
/// only within its 72-hour window, so twice a day is plenty.
pub const RESEND_INTERVAL: Duration = Duration::hours(12);

/// Whether a resend may go out at `now`, given the last one recorded for the certificate: `Ok`
/// if there was none or it was [`RESEND_INTERVAL`] or more ago, else `Err` with the first
/// moment the next one is allowed.
pub fn resend_allowed(
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), DateTime<Utc>> {
    match last {
        Some(last) if now < last + RESEND_INTERVAL => Err(last + RESEND_INTERVAL),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{expires_in, healthy, now};
    use crate::{classify, CertType, Finding, Policy};
    use chrono::TimeZone;
    use Visibility::{Hidden, Lapsed};

    const RESURFACED_URGENT: Visibility = Visibility::Resurfaced(Resurfaced::BecameUrgent);
    const CHANGED: Visibility = Visibility::Resurfaced(Resurfaced::FindingsChanged);
    const RENEWED: Visibility = Visibility::Resurfaced(Resurfaced::Renewed);

    fn days(n: i64) -> Duration {
        Duration::days(n)
    }

    /// An imported certificate, NotAfter `days` (and an hour) after [`now`], as the scan at
    /// `scanned` judged it (IMPORTED: upcoming, then action at 45 days, urgent at 7, EXPIRED
    /// once past).
    fn imported(days: i64, scanned: DateTime<Utc>) -> CertificateRecord {
        let mut facts = expires_in(healthy(), days);
        facts.cert_type = CertType::Imported;
        let findings = classify(&facts, scanned, &Policy::default());
        CertificateRecord::new("acct", facts, findings, scanned)
    }

    /// The decision someone made on `record` at [`now`].
    fn decided(kind: DecisionKind, record: &CertificateRecord) -> Decision {
        Decision {
            arn: record.facts.arn.clone(),
            kind,
            by: "U1".into(),
            at: now(),
            reason: "ours".into(),
            channel: "C1".into(),
            findings_at: record
                .findings
                .iter()
                .map(|f| (f.code.clone(), f.urgency))
                .collect(),
            not_after_at: record.facts.not_after,
        }
    }

    /// Each case: (what, the record judged, at, expected).
    #[track_caller]
    fn check(decision: &Decision, cases: &[(&str, &CertificateRecord, DateTime<Utc>, Visibility)]) {
        for (what, record, at, expected) in cases {
            assert_eq!(decision.visibility(record, *at), *expected, "{what}");
        }
    }

    #[test]
    fn a_resend_is_allowed_once_in_12_hours() {
        let last = now();
        assert_eq!(resend_allowed(None, now()), Ok(()), "never resent");
        let next = last + Duration::hours(12);
        assert_eq!(
            resend_allowed(Some(last), last + Duration::minutes(11 * 60 + 59)),
            Err(next),
            "11h59m later"
        );
        assert_eq!(resend_allowed(Some(last), last), Err(next), "at once");
        assert_eq!(resend_allowed(Some(last), next), Ok(()), "12 hours later");
        assert_eq!(resend_allowed(Some(last), next + Duration::days(3)), Ok(()));
        assert_eq!(RESEND_INTERVAL, Duration::hours(12));
    }

    #[test]
    fn audit_actions_keep_their_json() {
        let until = Utc.with_ymd_and_hms(2026, 3, 6, 0, 0, 0).unwrap();
        for (action, json) in [
            (
                AuditAction::Snooze { until },
                r#"{"action":"snooze","until":"2026-03-06T00:00:00Z"}"#,
            ),
            (AuditAction::Acknowledge, r#"{"action":"acknowledge"}"#),
            (AuditAction::Unsnooze, r#"{"action":"unsnooze"}"#),
            (
                AuditAction::ResendValidationEmail {
                    domains: vec!["example.org".into(), "www.example.org".into()],
                },
                r#"{"action":"resend_validation_email","domains":["example.org","www.example.org"]}"#,
            ),
        ] {
            assert_eq!(serde_json::to_string(&action).unwrap(), json);
            assert_eq!(
                serde_json::from_str::<AuditAction>(json).unwrap(),
                action,
                "{json}"
            );
        }
    }

    #[test]
    fn snooze_until_is_capped_at_not_after() {
        let until = now() + days(30);
        assert_eq!(
            Decision::snooze_until(until, Some(now() + days(20))),
            now() + days(20)
        );
        assert_eq!(Decision::snooze_until(until, Some(now() + days(90))), until);
        assert_eq!(
            Decision::snooze_until(until, None),
            until,
            "no NotAfter yet"
        );
    }

    #[test]
    fn a_snooze_hides_until_its_date_then_lapses() {
        let record = imported(100, now());
        assert_eq!(record.worst_urgency(), Some(Urgency::Upcoming));
        let week = decided(
            DecisionKind::Snooze {
                until: now() + days(7),
            },
            &record,
        );
        check(
            &week,
            &[
                ("just snoozed", &record, now(), Hidden),
                (
                    "a second before",
                    &record,
                    now() + days(7) - Duration::seconds(1),
                    Hidden,
                ),
                ("at its date", &record, now() + days(7), Lapsed),
                ("after", &record, now() + days(30), Lapsed),
            ],
        );
        // A snooze does not care about new findings: only urgency brings it back.
        let mut more = record.clone();
        more.findings.push(Finding {
            code: Code::NotInUse,
            urgency: Urgency::Action,
            summary: "s".into(),
            remedy: "r".into(),
        });
        check(&week, &[("a new code", &more, now() + days(1), Hidden)]);
    }

    #[test]
    fn a_snooze_made_20_days_before_not_after_resurfaces_once_urgent() {
        let record = imported(20, now());
        assert_eq!(record.worst_urgency(), Some(Urgency::Action));
        // Asked for 30 days: capped at NotAfter.
        let until = Decision::snooze_until(now() + days(30), record.facts.not_after);
        assert_eq!(Some(until), record.facts.not_after);
        let snooze = decided(DecisionKind::Snooze { until }, &record);
        // 13 days later 7 days are left: urgent_days. The record of the scan at `now` still
        // says action; the first scan from that day on says urgent (see the module's "time").
        let urgent_day = now() + days(13);
        check(
            &snooze,
            &[
                (
                    "12 days later, rescanned",
                    &imported(20, now() + days(12)),
                    now() + days(12),
                    Hidden,
                ),
                ("13 days later, not rescanned", &record, urgent_day, Hidden),
                (
                    "13 days later, rescanned",
                    &imported(20, urgent_day),
                    urgent_day,
                    RESURFACED_URGENT,
                ),
                // At NotAfter the snooze has run out: shown as any expired certificate.
                ("at NotAfter", &record, until, Lapsed),
                (
                    "expired, rescanned",
                    &imported(20, now() + days(21)),
                    now() + days(21),
                    Lapsed,
                ),
            ],
        );
    }

    #[test]
    fn a_decision_on_an_urgent_certificate_hides_nothing() {
        let record = imported(5, now());
        assert_eq!(record.worst_urgency(), Some(Urgency::Urgent));
        let until = now() + days(2);
        for kind in [DecisionKind::Snooze { until }, DecisionKind::Acknowledge] {
            check(
                &decided(kind, &record),
                &[("urgent when decided", &record, now(), RESURFACED_URGENT)],
            );
        }
    }

    #[test]
    fn an_acknowledgement_holds_until_the_findings_change() {
        let record = imported(60, now());
        assert_eq!(record.worst_urgency(), Some(Urgency::Upcoming));
        let ack = decided(DecisionKind::Acknowledge, &record);
        let mut new_code = record.clone();
        new_code.findings.push(Finding {
            code: Code::NotInUse,
            urgency: Urgency::Upcoming,
            summary: "s".into(),
            remedy: "r".into(),
        });
        let mut fixed = record.clone();
        fixed.findings.clear();
        let mut reimported = imported(60, now());
        reimported.facts.not_after = reimported.facts.not_after.map(|n| n + days(365));
        reimported.findings = classify(&reimported.facts, now(), &Policy::default());
        let not_after = record.facts.not_after.expect("dated");
        check(
            &ack,
            &[
                ("as acknowledged", &record, now(), Hidden),
                (
                    "months later, not rescanned",
                    &record,
                    now() + days(50),
                    Hidden,
                ),
                (
                    "rescanned, still upcoming",
                    &imported(60, now() + days(10)),
                    now() + days(10),
                    Hidden,
                ),
                // 45 days left: action. The urgency rose.
                (
                    "rescanned at 45 days",
                    &imported(60, now() + days(15)),
                    now() + days(15),
                    CHANGED,
                ),
                ("a new code", &new_code, now() + days(1), CHANGED),
                ("a finding resolved", &fixed, now() + days(1), Hidden),
                ("NotAfter moved", &reimported, now() + days(1), RENEWED),
                (
                    "rescanned at 7 days",
                    &imported(60, now() + days(53)),
                    now() + days(53),
                    RESURFACED_URGENT,
                ),
                // NotAfter passed: expired without a scan.
                (
                    "past NotAfter, not rescanned",
                    &record,
                    not_after,
                    RESURFACED_URGENT,
                ),
            ],
        );
    }
}

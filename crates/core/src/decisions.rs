//! What people decided about a certificate: snooze it until a date, or acknowledge it ("we own
//! it"), and whether that decision still hides it from the digest and the alerts at `now`.
//!
//! A decision never hides a certificate once it is `urgent` or `expired`: it comes back, marked
//! as having been snoozed or acknowledged by whom. A snooze cannot run past NotAfter. An
//! acknowledgement holds until the certificate's findings change: an urgency rises, a new code
//! appears, or it is renewed (NotAfter moves).

use crate::finding::{Code, Urgency};
use crate::report::CertificateRecord;
use chrono::{DateTime, Utc};
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
    Snooze { until: DateTime<Utc> },
    Acknowledge,
    Unsnooze,
}

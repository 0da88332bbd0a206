//! What the store remembers of one certificate, for `/certs show`: each finding's life (first
//! and last seen, how its urgency moved, when it was resolved), the NotAfter each scan found when
//! it changed, and what people decided about it (the audit trail).
//!
//! Plain data: the store fills it, the Slack renderers read it.

use crate::decisions::AuditEntry;
use crate::finding::{Code, Urgency};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One finding (certificate ARN + code) from the scan that first reported it to the scan that
/// resolved it ([`crate::changes::resolves`]). A finding that comes back after being resolved
/// starts a new `FindingHistory`: the store keeps one open at a time per code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingHistory {
    pub code: Code,
    /// The time of the scan that first reported it (for a finding already stored when the store
    /// began keeping history: the earliest scan the store then remembered).
    pub first_seen: DateTime<Utc>,
    /// The time of the latest scan that reported it.
    pub last_seen: DateTime<Utc>,
    /// Its urgency in that latest scan.
    pub urgency: Urgency,
    /// Its urgency when first seen, then each change (up or down), oldest first: (scan time,
    /// urgency from then on). Never empty; the last entry's urgency is `urgency`.
    pub urgencies: Vec<(DateTime<Utc>, Urgency)>,
    /// The time of the scan that saw the certificate without it, or that found the certificate
    /// deleted; `None` while it is reported.
    pub resolved_at: Option<DateTime<Utc>>,
}

impl FindingHistory {
    /// Whether the finding is still reported (not resolved).
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }
}

/// Everything the store remembers of one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateHistory {
    pub arn: String,
    /// Oldest first (by `first_seen`, then code).
    pub findings: Vec<FindingHistory>,
    /// (scan time, NotAfter that scan found) for the first scan that saw the certificate and
    /// each later one that found another NotAfter (a renewal, a re-import), oldest first.
    pub not_after: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    /// Every decision people made about it, oldest first.
    pub audit: Vec<AuditEntry>,
}

impl CertificateHistory {
    /// The history of a certificate the store knows nothing about.
    pub fn empty(arn: &str) -> CertificateHistory {
        CertificateHistory {
            arn: arn.to_owned(),
            findings: Vec::new(),
            not_after: Vec::new(),
            audit: Vec::new(),
        }
    }

    /// Whether the store remembers nothing of it.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.not_after.is_empty() && self.audit.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decisions::AuditAction;
    use chrono::TimeZone;

    #[test]
    fn serializes_as_plain_json() {
        let at = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let history = CertificateHistory {
            arn: "arn:x".into(),
            findings: vec![FindingHistory {
                code: Code::Imported,
                first_seen: at,
                last_seen: at,
                urgency: Urgency::Action,
                urgencies: vec![(at, Urgency::Action)],
                resolved_at: None,
            }],
            not_after: vec![(at, None)],
            audit: vec![AuditEntry {
                at,
                by: "U1".into(),
                channel: "C1".into(),
                action: AuditAction::Acknowledge,
                arn: "arn:x".into(),
                reason: "ours".into(),
            }],
        };
        let json = serde_json::to_value(&history).unwrap();
        assert_eq!(json["findings"][0]["code"], "IMPORTED");
        assert_eq!(
            json["findings"][0]["urgencies"],
            serde_json::json!([["2026-06-01T12:00:00Z", "action"]])
        );
        assert_eq!(json["audit"][0]["action"]["action"], "acknowledge");
        let back: CertificateHistory = serde_json::from_value(json).unwrap();
        assert_eq!(back, history);
        assert!(history.findings[0].is_open());
        assert!(CertificateHistory::empty("arn:y").is_empty());
    }
}

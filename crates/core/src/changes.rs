//! What changed between two inventories: the alerts `serve` posts after a scan and
//! `certwatch scan --store PATH --changes` prints.
//!
//! A change is about one finding (certificate ARN + code) or one certificate (renewed, gone).
//! A certificate the latest scan could not see (stale: its account or region failed) changes
//! nothing: its old data is not news, and its findings are not "resolved" because nobody looked.

use crate::finding::{Code, Urgency};
use crate::inventory::Inventory;
use crate::report::CertificateRecord;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened to a finding or a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// A finding that the previous inventory did not have (a new certificate's included).
    New,
    /// A finding whose urgency rose (it was `from`).
    Rose { from: Urgency },
    /// A finding the previous inventory had and the certificate, seen again, no longer has.
    Resolved,
    /// The certificate's NotAfter moved forward: renewed by ACM, or re-imported.
    Renewed {
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
    /// A certificate with findings that a scan that covered its account and region no longer
    /// lists (deleted): its findings are gone with it.
    Gone,
}

/// One change, with enough of the certificate to show it without the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub arn: String,
    pub account_id: String,
    pub account_name: String,
    pub region: String,
    /// The certificate's name ([`crate::CertificateFacts::display_name`]).
    pub domain: String,
    /// The finding's code (`None` for a certificate-level change: renewed, gone).
    pub code: Option<Code>,
    /// The finding's urgency now (for `Resolved`/`Gone`: the last one known).
    pub urgency: Option<Urgency>,
    pub not_after: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub kind: ChangeKind,
}

/// Everything that changed from one inventory to the next, in [`crate::order`]'s spirit: most
/// urgent first, then by place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub changes: Vec<Change>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes worth an alert: new findings and rises at or above `min`, and every
    /// resolution, renewal and deletion of a certificate that had a finding at or above `min`.
    pub fn at_least(&self, min: Urgency) -> Changes {
        Changes {
            changes: self
                .changes
                .iter()
                .filter(|c| c.urgency.is_some_and(|u| u >= min))
                .cloned()
                .collect(),
        }
    }
}

/// The changes from `previous` to `current` (both merged inventories; `current` is judged at
/// its own scan time).
pub fn diff(previous: &Inventory, current: &Inventory) -> Changes {
    use std::collections::BTreeMap;
    let before: BTreeMap<&str, &CertificateRecord> = previous
        .report
        .certificates
        .iter()
        .map(|r| (r.facts.arn.as_str(), r))
        .collect();
    let now: BTreeMap<&str, &CertificateRecord> = current
        .report
        .certificates
        .iter()
        .map(|r| (r.facts.arn.as_str(), r))
        .collect();
    let mut changes = Vec::new();
    for (arn, record) in &now {
        if current.stale.contains_key(*arn) {
            continue;
        }
        let old = before.get(arn);
        if let Some(old) = old {
            let (from, to) = (old.facts.not_after, record.facts.not_after);
            if matches!((from, to), (Some(f), Some(t)) if t > f) {
                // As urgent as what the renewal fixed: a certificate that renews by itself
                // every year is no news.
                let was = old.worst_urgency();
                changes.push(change(record, None, was, ChangeKind::Renewed { from, to }));
            }
        }
        for finding in &record.findings {
            let was = old.and_then(|o| {
                o.findings
                    .iter()
                    .find(|f| f.code == finding.code)
                    .map(|f| f.urgency)
            });
            let kind = match was {
                None => ChangeKind::New,
                Some(from) if finding.urgency > from => ChangeKind::Rose { from },
                Some(_) => continue,
            };
            changes.push(change(
                record,
                Some(finding.code.clone()),
                Some(finding.urgency),
                kind,
            ));
        }
        if let Some(old) = old {
            for finding in &old.findings {
                if !record.findings.iter().any(|f| f.code == finding.code) {
                    changes.push(change(
                        record,
                        Some(finding.code.clone()),
                        Some(finding.urgency),
                        ChangeKind::Resolved,
                    ));
                }
            }
        }
    }
    for (arn, old) in &before {
        if now.contains_key(arn) || old.findings.is_empty() {
            continue;
        }
        changes.push(change(old, None, old.worst_urgency(), ChangeKind::Gone));
    }
    changes.sort_by(|a, b| {
        (b.urgency, &a.account_id, &a.region, &a.domain, &a.arn).cmp(&(
            a.urgency,
            &b.account_id,
            &b.region,
            &b.domain,
            &b.arn,
        ))
    });
    Changes { changes }
}

fn change(
    record: &CertificateRecord,
    code: Option<Code>,
    urgency: Option<Urgency>,
    kind: ChangeKind,
) -> Change {
    Change {
        arn: record.facts.arn.clone(),
        account_id: record.facts.account_id.clone(),
        account_name: record.account_name.clone(),
        region: record.facts.region.clone(),
        domain: record.facts.display_name().to_owned(),
        code,
        urgency,
        not_after: record.facts.not_after,
        kind,
    }
}

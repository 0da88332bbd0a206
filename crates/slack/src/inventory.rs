//! Each certificate of the stored inventory as seen at `now`, and the queries over it.
//!
//! Commands and the digest answer from the latest merged inventory ([`Inventory`], core's), not
//! from a live scan, so a certificate's stored `days_to_expiry` (computed at scan time) may be a
//! day or more old. Every answer recomputes days from NotAfter at `now` (core's day arithmetic),
//! and a certificate whose NotAfter has passed since the scan counts as expired even before the
//! next scan says so ([`CertificateRecord::urgency_at`]). Lists are in core's order
//! ([`certwatch_core::order`]).

use crate::index::Prepared;
use certwatch_core::{CertificateRecord, Decision, Finding, Inventory, Urgency, Visibility};
use chrono::{DateTime, Utc};

/// One certificate as seen at `now`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub record: &'a CertificateRecord,
    /// When it is seen.
    pub now: DateTime<Utc>,
    /// The worst finding's urgency, raised to `expired` once the certificate has expired;
    /// `None`: the certificate renews by itself.
    pub urgency: Option<Urgency>,
    /// Set when the certificate was kept from an earlier scan.
    pub last_seen: Option<DateTime<Utc>>,
    /// The snooze or acknowledgement on it, unless it ran out (then it is like any other).
    pub decision: Option<(&'a Decision, Visibility)>,
}

impl<'a> Entry<'a> {
    pub fn new(
        record: &'a CertificateRecord,
        now: DateTime<Utc>,
        last_seen: Option<DateTime<Utc>>,
    ) -> Self {
        Entry {
            record,
            now,
            urgency: record.urgency_at(now),
            last_seen,
            decision: None,
        }
    }

    /// The entry with the decision in force on it, if any, judged at the entry's `now`.
    pub fn with_decision(mut self, decision: Option<&'a Decision>) -> Self {
        self.decision = decision
            .map(|d| (d, d.visibility(self.record, self.now)))
            .filter(|(_, v)| *v != Visibility::Lapsed);
        self
    }

    /// Whether a decision hides it from the digest and the alerts.
    pub fn hidden(&self) -> bool {
        matches!(self.decision, Some((_, Visibility::Hidden)))
    }

    /// "expires in 30 days", "expired 12 days ago", "has no expiry date yet": core's words.
    pub fn expiry_phrase(&self) -> String {
        self.record.facts.expiry_phrase(self.now)
    }

    /// The finding to show: the first of the most urgent ones (core lists findings most urgent
    /// first, in rule order at equal urgency).
    pub fn worst(&self) -> Option<&'a Finding> {
        worst_finding(self.record)
    }

    /// Expired, urgent or action: what the digest lists.
    pub fn needs_action(&self) -> bool {
        self.urgency.is_some_and(|u| u >= Urgency::Action)
    }
}

/// The finding a list shows for a certificate: the first of its most urgent ones (core lists
/// findings most urgent first, in rule order at equal urgency).
pub(crate) fn worst_finding(record: &CertificateRecord) -> Option<&Finding> {
    let worst = record.worst_urgency()?;
    record.findings.iter().find(|f| f.urgency == worst)
}

/// One certificate of `inv` at `now`, with when it was last seen and its decision.
pub(crate) fn entry<'a>(
    inv: &'a Inventory,
    record: &'a CertificateRecord,
    now: DateTime<Utc>,
) -> Entry<'a> {
    Entry::new(record, now, inv.last_seen(&record.facts.arn))
        .with_decision(inv.decisions.get(&record.facts.arn))
}

/// Every certificate of `inv` at `now`, in the inventory's order.
pub(crate) fn entries(inv: &Inventory, now: DateTime<Utc>) -> Vec<Entry<'_>> {
    inv.report
        .certificates
        .iter()
        .map(|record| entry(inv, record, now))
        .collect()
}

/// The accounts matching `query`, (id, name): an exact id, or a name compared
/// case-insensitively (names are not unique in an organization, so several may match), in id
/// order.
pub(crate) fn find_accounts<'a>(inv: &'a Prepared, query: &str) -> Vec<(&'a str, &'a str)> {
    let query = query.trim();
    let accounts = &inv.index().accounts;
    if let Some((id, name)) = accounts.get_key_value(query) {
        return vec![(id, name)];
    }
    inv.index()
        .account_names
        .get(&query.to_lowercase())
        .into_iter()
        .flatten()
        .filter_map(|id| accounts.get_key_value(id.as_str()))
        .map(|(id, name)| (id.as_str(), name.as_str()))
        .collect()
}

/// Every domain name and SAN of a certificate.
pub(crate) fn names(record: &CertificateRecord) -> impl Iterator<Item = &String> {
    let facts = &record.facts;
    facts
        .domain_name
        .iter()
        .chain(&facts.subject_alternative_names)
}

/// Whether a certificate name covers the host `query`. Case-insensitive, trailing dots ignored.
/// A wildcard name covers exactly one more label (`*.example.org` covers `api.example.org`, not
/// `example.org` nor `a.b.example.org`); a wildcard query matches only the same wildcard.
pub(crate) fn covers(name: &str, query: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let query = query.trim_end_matches('.').to_ascii_lowercase();
    if name == query {
        return true;
    }
    match (name.strip_prefix("*."), query.split_once('.')) {
        (Some(parent), Some((label, rest))) => {
            !query.starts_with("*.") && !label.is_empty() && rest == parent
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_aware_domain_matching() {
        // (certificate name, query, covers?)
        let cases = [
            ("api.example.org", "api.example.org", true),
            ("API.Example.org", "api.example.ORG.", true),
            ("*.example.org", "api.example.org", true),
            ("*.example.org", "API.EXAMPLE.ORG", true),
            ("*.example.org", "example.org", false),
            ("*.example.org", "a.b.example.org", false),
            ("*.example.org", "*.example.org", true),
            ("api.example.org", "*.example.org", false),
            ("*.a.example.org", "*.example.org", false),
            ("*.example.org", ".example.org", false),
            ("example.org", "api.example.org", false),
            ("*.example.org", "apiexample.org", false),
        ];
        for (name, query, expected) in cases {
            assert_eq!(covers(name, query), expected, "covers({name:?}, {query:?})");
        }
    }
}

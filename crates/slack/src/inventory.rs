//! The stored inventory the bot answers from, and the view of each certificate at `now`.
//!
//! Commands and the digest answer from the latest merged inventory, not from a live scan, so a
//! certificate's stored `days_to_expiry` (computed at scan time) may be a day or more old. Every
//! answer recomputes days from NotAfter at `now`, and a certificate whose NotAfter has passed
//! since the scan counts as expired even before the next scan says so.

use certwatch_core::{CertificateRecord, Code, Finding, Report, Urgency};
use chrono::{DateTime, Utc};
use std::cmp::{Ordering, Reverse};
use std::collections::BTreeMap;

/// What the bot knows: the latest merged inventory and the state of scanning.
#[derive(Debug, Clone, Copy)]
pub struct Inventory<'a> {
    /// The latest merged inventory.
    pub report: &'a Report,
    /// ARN → when it was last seen, for certificates kept from an earlier scan because their
    /// account-region failed in the latest one.
    pub stale: &'a BTreeMap<String, DateTime<Utc>>,
    /// When the latest scan finished; `None` before the first one.
    pub last_scan: Option<DateTime<Utc>>,
    pub scan_running: bool,
}

/// One certificate as seen at `now`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub record: &'a CertificateRecord,
    /// Whole days to NotAfter at `now` (the stored value when NotAfter is unknown).
    pub days: Option<i64>,
    /// The worst finding's urgency, raised to `expired` once NotAfter has passed; `None`: the
    /// certificate renews by itself.
    pub urgency: Option<Urgency>,
    /// Whole days since NotAfter (rounded down) once it has passed: "expired 12 days ago".
    pub days_ago: Option<i64>,
    /// Set when the certificate was kept from an earlier scan.
    pub last_seen: Option<DateTime<Utc>>,
}

impl<'a> Entry<'a> {
    pub fn new(
        record: &'a CertificateRecord,
        now: DateTime<Utc>,
        stale: &BTreeMap<String, DateTime<Utc>>,
    ) -> Self {
        let days = record.facts.days_to_expiry(now).or(record.days_to_expiry);
        let lapsed = days.is_some_and(|d| d < 0).then_some(Urgency::Expired);
        Entry {
            record,
            days,
            days_ago: record
                .facts
                .not_after
                .filter(|at| *at <= now)
                .map(|at| (now - at).num_days()),
            urgency: record.worst_urgency().max(lapsed),
            last_seen: stale.get(&record.facts.arn).copied(),
        }
    }

    /// The finding to show: the first of the most urgent ones (core lists findings most urgent
    /// first, in rule order at equal urgency).
    pub fn worst(&self) -> Option<&'a Finding> {
        let worst = self.record.worst_urgency()?;
        self.record.findings.iter().find(|f| f.urgency == worst)
    }

    /// The finding with `code`, if the certificate has it.
    pub fn finding(&self, code: &Code) -> Option<&'a Finding> {
        self.record.findings.iter().find(|f| f.code == *code)
    }

    /// Expired, urgent or action: what the digest lists.
    pub fn needs_action(&self) -> bool {
        self.urgency.is_some_and(|u| u >= Urgency::Action)
    }
}

/// Soonest NotAfter first (unknown last, unless expired), then account, region, name: the
/// order of every list.
pub(crate) fn soonest_first(a: &Entry<'_>, b: &Entry<'_>) -> Ordering {
    let key = |e: &Entry<'_>| match (e.days, e.urgency) {
        (Some(days), _) => days,
        // Status EXPIRED without a NotAfter: as overdue as it gets.
        (None, Some(Urgency::Expired)) => i64::MIN,
        (None, _) => i64::MAX,
    };
    key(a).cmp(&key(b)).then_with(|| by_place(a, b))
}

/// Most urgent first, then soonest.
pub(crate) fn most_urgent_first(a: &Entry<'_>, b: &Entry<'_>) -> Ordering {
    Reverse(a.urgency)
        .cmp(&Reverse(b.urgency))
        .then_with(|| soonest_first(a, b))
}

fn by_place(a: &Entry<'_>, b: &Entry<'_>) -> Ordering {
    place(a).cmp(&place(b))
}

fn place<'e>(entry: &Entry<'e>) -> (&'e str, &'e str, &'e str, &'e str) {
    let facts = &entry.record.facts;
    (
        &facts.account_id,
        &facts.region,
        facts.display_name(),
        &facts.arn,
    )
}

impl<'a> Inventory<'a> {
    /// Every certificate at `now`, in the report's order.
    pub(crate) fn entries(&self, now: DateTime<Utc>) -> Vec<Entry<'a>> {
        self.report
            .certificates
            .iter()
            .map(|record| Entry::new(record, now, self.stale))
            .collect()
    }

    /// Accounts the inventory knows (from certificates and failures): id → name.
    pub(crate) fn accounts(&self) -> BTreeMap<&'a str, &'a str> {
        let mut accounts = BTreeMap::new();
        for failure in &self.report.failures {
            accounts.insert(failure.account_id.as_str(), failure.account_name.as_str());
        }
        for record in &self.report.certificates {
            accounts.insert(
                record.facts.account_id.as_str(),
                record.account_name.as_str(),
            );
        }
        accounts
    }

    /// The account ids matching `query`: an exact id, or a name compared case-insensitively
    /// (names are not unique in an organization, so several may match).
    pub(crate) fn find_accounts(&self, query: &str) -> Vec<(&'a str, &'a str)> {
        let query = query.trim();
        let accounts = self.accounts();
        if let Some((id, name)) = accounts.get_key_value(query) {
            return vec![(id, name)];
        }
        accounts
            .into_iter()
            .filter(|(_, name)| name.to_lowercase() == query.to_lowercase())
            .collect()
    }

    /// Account-regions (or whole accounts) that failed in the latest scan.
    pub(crate) fn failed_targets(&self) -> usize {
        let mut targets: Vec<(&str, Option<&str>)> = self
            .report
            .failures
            .iter()
            .filter(|f| f.certificate_arn.is_none())
            .map(|f| (f.account_id.as_str(), f.region.as_deref()))
            .collect();
        targets.sort_unstable();
        targets.dedup();
        targets.len()
    }
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

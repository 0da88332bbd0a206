//! The lookups `/certs` answers read, built once per inventory ([`Prepared`]), so that an answer
//! reads the certificates it is about instead of walking the whole inventory (510,501 records
//! at 10,000 accounts × 17 regions).
//!
//! A lookup gives candidates; the answer still applies its own rule to them (a domain's
//! wildcard match, an ARN's case-insensitive match), and every list keeps core's order
//! ([`certwatch_core::order`]), so an answer from the index is the answer a walk over every
//! certificate gives: the tests compare the two.
//!
//! What moves with time is kept apart from what does not. The order by NotAfter
//! ([`soonest_first`]), each record's findings and their urgencies never change for a record;
//! as time passes only "days to expiry" moves, and a certificate whose NotAfter passes becomes
//! expired. Both are answered at the time asked, by binary search in the order by NotAfter:
//! certificates within N days are a prefix of it, and so are those that have expired.
//!
//! Decisions (snoozes, acknowledgements) are not indexed: they are few and looked up per
//! certificate shown, so recording one keeps the index ([`Prepared::decisions_mut`]).

use crate::inventory::{covers, names, worst_finding};
use certwatch_core::order::{most_urgent_first, soonest_first};
use certwatch_core::{
    expiry::days_to, CertStatus, CertificateRecord, Code, Decision, Inventory, Urgency,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Deref;
use std::sync::Arc;

/// An inventory with its [`Index`]. Reads as the inventory itself.
#[derive(Debug, Clone)]
pub struct Prepared {
    inventory: Arc<Inventory>,
    index: Arc<Index>,
}

impl Prepared {
    /// Indexes `inventory` (O(n log n): about half a second at 510,501 certificates; build it
    /// off the async workers).
    pub fn new(inventory: Arc<Inventory>) -> Prepared {
        let index = Arc::new(Index::new(&inventory));
        Prepared { inventory, index }
    }

    /// The inventory indexed.
    pub fn inventory(&self) -> &Arc<Inventory> {
        &self.inventory
    }

    /// The decisions in force, to change in place (copied first if an answer is reading
    /// them); the index stays, as it does not depend on them.
    pub fn decisions_mut(&mut self) -> &mut BTreeMap<String, Decision> {
        &mut Arc::make_mut(&mut self.inventory).decisions
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    /// The certificates whose ARN or id is `target`, ASCII case aside, in inventory order.
    pub(crate) fn with_arn_or_id<'a>(
        &'a self,
        target: &'a str,
    ) -> impl Iterator<Item = &'a CertificateRecord> + 'a {
        self.index
            .arn_or_id(target)
            .into_iter()
            .map(|r| self.record(r))
            .filter(move |r| {
                r.facts.arn.eq_ignore_ascii_case(target)
                    || r.facts.id().eq_ignore_ascii_case(target)
            })
    }

    /// The certificates with a name that covers the host `query` ([`covers`]), in inventory
    /// order: those named `query`, and those named the wildcard of its parent.
    pub(crate) fn covering<'a>(
        &'a self,
        query: &'a str,
    ) -> impl Iterator<Item = &'a CertificateRecord> + 'a {
        let mut candidates: Vec<u32> = self.index.named(query).collect();
        if let Some((_, parent)) = query.split_once('.') {
            candidates.extend(self.index.named(&format!("*.{parent}")));
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .map(|r| self.record(r))
            .filter(move |record| names(record).any(|n| covers(n, query)))
    }

    /// The record at `position` of the inventory.
    pub(crate) fn record(&self, position: u32) -> &CertificateRecord {
        &self.inventory.report.certificates[position as usize]
    }
}

impl From<Inventory> for Prepared {
    fn from(inventory: Inventory) -> Prepared {
        Prepared::new(Arc::new(inventory))
    }
}

impl Deref for Prepared {
    type Target = Inventory;

    fn deref(&self) -> &Inventory {
        &self.inventory
    }
}

/// Positions (into the inventory's certificates) and counts; see the module.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Every record, in core's order by NotAfter alone ([`soonest_first`]).
    pub soonest: Vec<u32>,
    /// Positions in `soonest` (ascending) of the records that read as expired whatever the
    /// time: worst finding `expired`, or EXPIRED without a NotAfter.
    pub expired_anyway: Vec<u32>,
    /// Each worst finding's code ([`worst_finding`]): the positions in `soonest` (ascending)
    /// of the records whose worst finding has it.
    pub worst_code: BTreeMap<Code, Vec<u32>>,
    /// Each code's certificates, most urgent first at that finding's urgency.
    pub by_code: BTreeMap<Code, CodeList>,
    /// Account id → name, as [`Inventory::accounts`] says.
    pub accounts: BTreeMap<String, String>,
    /// Account name lowercased → the ids of the accounts with it, in id order.
    pub account_names: HashMap<String, Vec<String>>,
    /// (hash of the account id, record), sorted.
    by_account: Vec<(u64, u32)>,
    /// (hash of a domain name or SAN, record), sorted: [`key`] of each name.
    by_name: Vec<(u64, u32)>,
    /// (hash of the ARN or of the certificate id, record), sorted: [`key`] of each.
    by_arn_or_id: Vec<(u64, u32)>,
    /// What the summary counts that does not move with time.
    pub summary: Summary,
}

/// A code's certificates: (record, index of that finding among the record's findings), most
/// urgent first at the finding's urgency; and, per account name, the positions in `items` of
/// its certificates (ascending), for "narrow by account".
#[derive(Debug, Default)]
pub(crate) struct CodeList {
    pub items: Vec<(u32, u32)>,
    /// (a record of the account, positions in `items`).
    pub by_account_name: Vec<(u32, Vec<u32>)>,
}

/// Counts over the whole inventory that do not move with time.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// Records by their worst finding's urgency ([`slot`]).
    pub worst: [usize; 5],
    /// Certificates with each finding code (a certificate counts once per code).
    pub codes: BTreeMap<Code, usize>,
    /// Accounts with certificates.
    pub accounts: usize,
    /// Certificates kept from an earlier scan.
    pub stale: usize,
}

/// Where an urgency is counted in [`Summary::worst`]: `None` (renews by itself) first.
pub(crate) fn slot(urgency: Option<Urgency>) -> usize {
    match urgency {
        None => 0,
        Some(Urgency::Upcoming) => 1,
        Some(Urgency::Action) => 2,
        Some(Urgency::Urgent) => 3,
        Some(Urgency::Expired) => 4,
    }
}

/// The hash a name, an ARN or an id is looked up by: ASCII case and trailing dots do not count
/// (FNV-1a; a collision only adds a candidate that the exact rule then drops).
pub(crate) fn key(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.trim_end_matches('.').bytes() {
        hash ^= u64::from(byte.to_ascii_lowercase());
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The records `table` holds under `key`, in inventory order, each once.
fn lookup(table: &[(u64, u32)], key: u64) -> impl Iterator<Item = u32> + '_ {
    let start = table.partition_point(|(k, _)| *k < key);
    table[start..]
        .iter()
        .take_while(move |(k, _)| *k == key)
        .map(|(_, r)| *r)
}

fn sorted(mut table: Vec<(u64, u32)>) -> Vec<(u64, u32)> {
    table.sort_unstable();
    table.dedup();
    table
}

/// Whether a certificate without a NotAfter reads as expired ([`CertificateFacts::is_expired`]).
///
/// [`CertificateFacts::is_expired`]: certwatch_core::CertificateFacts::is_expired
fn overdue(record: &CertificateRecord) -> bool {
    record.facts.not_after.is_none() && record.facts.status == CertStatus::Expired
}

impl Index {
    pub fn new(inv: &Inventory) -> Index {
        let records = &inv.report.certificates;
        let position = |i: usize| u32::try_from(i).expect("fewer than 2^32 certificates");
        let mut soonest: Vec<u32> = (0..records.len()).map(position).collect();
        soonest.sort_by_key(|&r| soonest_first(&records[r as usize]));

        let mut expired_anyway = Vec::new();
        let mut worst_code: BTreeMap<Code, Vec<u32>> = BTreeMap::new();
        for (at, &r) in soonest.iter().enumerate() {
            let record = &records[r as usize];
            if record.worst_urgency() == Some(Urgency::Expired) || overdue(record) {
                expired_anyway.push(position(at));
            }
            if let Some(finding) = worst_finding(record) {
                worst_code
                    .entry(finding.code.clone())
                    .or_default()
                    .push(position(at));
            }
        }

        let mut summary = Summary::default();
        let mut by_code: BTreeMap<Code, Vec<(u32, u32)>> = BTreeMap::new();
        let mut by_account = Vec::with_capacity(records.len());
        let mut by_name = Vec::with_capacity(records.len() * 2);
        let mut by_arn_or_id = Vec::with_capacity(records.len() * 2);
        let mut with_certificates = BTreeSet::new();
        for (i, record) in records.iter().enumerate() {
            let r = position(i);
            let facts = &record.facts;
            summary.worst[slot(record.worst_urgency())] += 1;
            // A code counts once per certificate: its first finding with it.
            let mut seen: Vec<&Code> = Vec::new();
            for (f, finding) in record.findings.iter().enumerate() {
                if seen.contains(&&finding.code) {
                    continue;
                }
                seen.push(&finding.code);
                by_code
                    .entry(finding.code.clone())
                    .or_default()
                    .push((r, position(f)));
            }
            if inv.stale.contains_key(&facts.arn) {
                summary.stale += 1;
            }
            with_certificates.insert(facts.account_id.as_str());
            by_account.push((key(&facts.account_id), r));
            for name in names(record) {
                by_name.push((key(name), r));
            }
            by_arn_or_id.push((key(&facts.arn), r));
            by_arn_or_id.push((key(facts.id()), r));
        }
        summary.accounts = with_certificates.len();
        summary.codes = by_code.iter().map(|(c, l)| (c.clone(), l.len())).collect();

        let by_code = by_code
            .into_iter()
            .map(|(code, mut items)| {
                // At the urgency of this code's finding; stable, from inventory order.
                items.sort_by_key(|&(r, f)| {
                    let record = &records[r as usize];
                    most_urgent_first(record, Some(record.findings[f as usize].urgency))
                });
                let mut groups: HashMap<&str, (u32, Vec<u32>)> = HashMap::new();
                for (at, &(r, _)) in items.iter().enumerate() {
                    groups
                        .entry(records[r as usize].account_name.as_str())
                        .or_insert_with(|| (r, Vec::new()))
                        .1
                        .push(position(at));
                }
                let by_account_name = groups.into_values().collect();
                (
                    code,
                    CodeList {
                        items,
                        by_account_name,
                    },
                )
            })
            .collect();

        let accounts: BTreeMap<String, String> = inv
            .accounts()
            .into_iter()
            .map(|(id, name)| (id.to_owned(), name.to_owned()))
            .collect();
        let mut account_names: HashMap<String, Vec<String>> = HashMap::new();
        for (id, name) in &accounts {
            account_names
                .entry(name.to_lowercase())
                .or_default()
                .push(id.clone());
        }

        Index {
            soonest,
            expired_anyway,
            worst_code,
            by_code,
            accounts,
            account_names,
            by_account: sorted(by_account),
            by_name: sorted(by_name),
            by_arn_or_id: sorted(by_arn_or_id),
            summary,
        }
    }

    /// How many of `soonest` have expired at `now` (NotAfter passed, or EXPIRED without one):
    /// a prefix, as expiry only moves forward along the order.
    pub fn lapsed(&self, records: &[CertificateRecord], now: DateTime<Utc>) -> usize {
        self.soonest.partition_point(|&r| {
            let record = &records[r as usize];
            match record.facts.not_after {
                Some(at) => at <= now,
                None => overdue(record),
            }
        })
    }

    /// How many of `soonest` are within `days` days of NotAfter at `now` (expired ones
    /// included, and EXPIRED ones without a NotAfter): a prefix.
    pub fn within(&self, records: &[CertificateRecord], now: DateTime<Utc>, days: u32) -> usize {
        self.soonest.partition_point(|&r| {
            let record = &records[r as usize];
            match record.facts.not_after {
                Some(at) => days_to(at, now) <= i64::from(days),
                None => overdue(record),
            }
        })
    }

    /// `/certs expiring days` at `now`: the certificates expired or within `days` days of
    /// NotAfter, soonest first (core's [`soonest_first`]).
    pub fn expiring(
        &self,
        records: &[CertificateRecord],
        now: DateTime<Utc>,
        days: u32,
    ) -> Expiring<'_> {
        let within = self.within(records, now, days);
        let beyond = self
            .expired_anyway
            .partition_point(|&p| (p as usize) < within);
        Expiring {
            index: self,
            within,
            tail: &self.expired_anyway[beyond..],
        }
    }

    /// Records by urgency at `now` ([`slot`]): the counts of worst findings, with those that
    /// have expired since raised to `expired` ([`CertificateRecord::urgency_at`]).
    pub fn urgency_counts(&self, records: &[CertificateRecord], now: DateTime<Utc>) -> [usize; 5] {
        let mut counts = self.summary.worst;
        for &r in &self.soonest[..self.lapsed(records, now)] {
            let worst = records[r as usize].worst_urgency();
            if worst != Some(Urgency::Expired) {
                counts[slot(worst)] -= 1;
                counts[slot(Some(Urgency::Expired))] += 1;
            }
        }
        counts
    }

    /// Records of account `id`, in inventory order.
    pub fn of_account<'a>(
        &'a self,
        records: &'a [CertificateRecord],
        id: &'a str,
    ) -> impl Iterator<Item = u32> + 'a {
        lookup(&self.by_account, key(id))
            .filter(move |&r| records[r as usize].facts.account_id == id)
    }

    /// Records with a domain name or SAN whose [`key`] is `name`'s, in inventory order.
    pub fn named(&self, name: &str) -> impl Iterator<Item = u32> + '_ {
        lookup(&self.by_name, key(name))
    }

    /// Records whose ARN or id has `target`'s [`key`], in inventory order, each once.
    pub fn arn_or_id(&self, target: &str) -> Vec<u32> {
        let mut found: Vec<u32> = lookup(&self.by_arn_or_id, key(target)).collect();
        found.dedup();
        found
    }
}

/// The list of `/certs expiring`: in the order by NotAfter, a prefix (every dated certificate
/// within the days asked, and those EXPIRED without a date), then the `tail`, which read as
/// expired whatever their date (their worst finding says so).
pub(crate) struct Expiring<'a> {
    index: &'a Index,
    /// The length of the prefix.
    within: usize,
    /// Positions in `soonest` after the prefix, ascending.
    tail: &'a [u32],
}

impl<'a> Expiring<'a> {
    pub fn len(&self) -> usize {
        self.within + self.tail.len()
    }

    /// The records of the list, in order.
    pub fn records(&self) -> impl Iterator<Item = u32> + '_ {
        let soonest = &self.index.soonest;
        soonest[..self.within]
            .iter()
            .copied()
            .chain(self.tail.iter().map(|&p| soonest[p as usize]))
    }

    /// The commonest worst finding code ([`worst_finding`]) among the list's items from
    /// `shown` on, first in order on ties ([`commonest`]): in the prefix, counted in each
    /// code's positions by binary search; in the tail, one by one.
    pub fn commonest_code(&self, records: &[CertificateRecord], shown: usize) -> Option<&'a Code> {
        let index = self.index;
        let from = shown.min(self.within);
        let skipped = shown.saturating_sub(self.within).min(self.tail.len());
        let mut in_tail: BTreeMap<&Code, (usize, usize)> = BTreeMap::new();
        for (j, &p) in self.tail.iter().enumerate().skip(skipped) {
            let record = &records[index.soonest[p as usize] as usize];
            if let Some(finding) = worst_finding(record) {
                in_tail
                    .entry(&finding.code)
                    .or_insert((0, self.within + j))
                    .0 += 1;
            }
        }
        commonest(index.worst_code.iter().map(|(code, positions)| {
            let lo = positions.partition_point(|&p| (p as usize) < from);
            let hi = positions.partition_point(|&p| (p as usize) < self.within);
            let (more, first_in_tail) = in_tail.get(code).copied().unwrap_or((0, usize::MAX));
            let first = if lo < hi {
                positions[lo] as usize
            } else {
                first_in_tail
            };
            (code, hi - lo + more, first)
        }))
    }
}

impl CodeList {
    /// The commonest account name among the list's items from `shown` on, first in order on
    /// ties ([`commonest`]), from each account's positions.
    pub fn commonest_account<'r>(
        &self,
        records: &'r [CertificateRecord],
        shown: usize,
    ) -> Option<&'r str> {
        commonest(self.by_account_name.iter().map(|(r, positions)| {
            let lo = positions.partition_point(|&p| (p as usize) < shown);
            let first = positions.get(lo).map_or(usize::MAX, |&p| p as usize);
            (
                records[*r as usize].account_name.as_str(),
                positions.len() - lo,
                first,
            )
        }))
    }
}

/// The commonest value, first in order on ties: of (value, count, position of its first
/// occurrence), the one with the highest count, then the earliest. `None` when all count 0.
pub(crate) fn commonest<T>(tallies: impl Iterator<Item = (T, usize, usize)>) -> Option<T> {
    tallies
        .filter(|(_, count, _)| *count > 0)
        .max_by_key(|(_, count, first)| (*count, std::cmp::Reverse(*first)))
        .map(|(value, _, _)| value)
}

#[cfg(test)]
mod tests;

//! What changed between two inventories: the alerts `serve` posts after a scan and
//! `certwatch scan --store PATH --changes` prints.
//!
//! A change is about one finding (certificate ARN + code) or one certificate (renewed, gone).
//! A certificate the latest scan could not see (stale: its account or region failed) changes
//! nothing: its old data is not news, and its findings are not "resolved" because nobody looked.
//! For the same reason a finding is resolved only when the scan could have seen it
//! ([`resolves`]): not when a terminal finding (EXPIRED, REVOKED) now hides every other one, nor,
//! for a finding of the network checks, when this certificate's checks could not be made.
//!
//! Diffed against the empty inventory (the first scan into a store), every finding is `New`:
//! whether that is worth an alert is the caller's decision.

use crate::finding::{Code, Urgency};
use crate::inventory::Inventory;
use crate::report::{CertificateRecord, Failure, Stage};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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

    /// The changes worth an alert: new findings and rises at or above `min`, the resolution of
    /// a finding that was at or above `min`, and the renewal or deletion of a certificate whose
    /// worst finding was (a healthy certificate renewing by itself is no news).
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
    let unchecked = checks_failed(&current.report.failures);
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
                if resolves(record, &finding.code, unchecked.contains(arn)) {
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

/// Whether a finding with `code`, which the certificate had, is resolved now that a scan saw
/// the certificate as `record`: `record` does not report it, and not because it is hidden. A
/// terminal finding (EXPIRED, REVOKED: [`Code::TERMINAL`]) hides every other one, which is still
/// true of the certificate; a finding of the network checks ([`Code::NETWORK`]) is not judged
/// when a check of the certificate could not be made in that scan (`checks_failed`: a DNS or TLS
/// failure row names it), and a lookup that timed out is not a fixed record. The store's
/// finding history closes a finding by the same rule.
pub fn resolves(record: &CertificateRecord, code: &Code, checks_failed: bool) -> bool {
    let reported = |code: &Code| record.findings.iter().any(|f| f.code == *code);
    let hidden = Code::TERMINAL.iter().any(reported);
    let unjudged = checks_failed && Code::NETWORK.contains(code);
    !reported(code) && !hidden && !unjudged
}

/// The ARNs of the certificates whose network checks could not all be made (a `dns` or `tls`
/// failure row names them), for [`resolves`].
pub fn checks_failed(failures: &[Failure]) -> BTreeSet<&str> {
    failures
        .iter()
        .filter(|f| matches!(f.stage, Stage::Dns | Stage::Tls))
        .filter_map(|f| f.certificate_arn.as_deref())
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{expires_in, healthy, now};
    use crate::{classify, CertType, Finding, Policy};
    use chrono::Duration;
    use Urgency::{Action, Expired, Upcoming, Urgent};

    /// A certificate in an inventory: its name, days from [`now`] to its NotAfter, its findings.
    type Cert<'a> = (&'a str, i64, &'a [(Code, Urgency)]);

    /// `healthy()` renamed `name`, NotAfter `days` away, with exactly `findings`.
    fn record(&(name, days, findings): &Cert) -> CertificateRecord {
        let mut facts = expires_in(healthy(), days);
        facts.arn = format!("arn:aws:acm:eu-west-1:111122223333:certificate/{name}");
        facts.domain_name = Some(format!("{name}.example.com"));
        let findings = findings
            .iter()
            .map(|(code, urgency)| Finding {
                code: code.clone(),
                urgency: *urgency,
                summary: format!("{code} on {name}"),
                remedy: "fix it".into(),
            })
            .collect();
        CertificateRecord::new("acct", facts, findings, now())
    }

    /// An inventory of `certs`, the names in `stale` carried over from an earlier scan.
    fn inventory(certs: &[Cert], stale: &[&str]) -> Inventory {
        let mut report = crate::Report {
            generated_at: now(),
            certificates: certs.iter().map(record).collect(),
            failures: Vec::new(),
            accounts: Vec::new(),
            stats: Default::default(),
        };
        report.sort();
        let mut inventory = Inventory::of_scan(report);
        for name in stale {
            let arn = format!("arn:aws:acm:eu-west-1:111122223333:certificate/{name}");
            inventory.stale.insert(arn, now() - Duration::days(1));
        }
        inventory
    }

    /// One line per change: "name: kind code urgency", in the order `diff` gives.
    fn lines(changes: &Changes) -> Vec<String> {
        changes
            .changes
            .iter()
            .map(|c| {
                let name = c.domain.trim_end_matches(".example.com");
                let kind = match &c.kind {
                    ChangeKind::New => "new".to_owned(),
                    ChangeKind::Rose { from } => format!("rose from {from}"),
                    ChangeKind::Resolved => "resolved".to_owned(),
                    ChangeKind::Renewed { .. } => "renewed".to_owned(),
                    ChangeKind::Gone => "gone".to_owned(),
                };
                let code = c.code.as_ref().map_or("-".to_owned(), Code::to_string);
                let urgency = c.urgency.map_or("-", Urgency::as_str);
                format!("{name}: {kind} {code} {urgency}")
            })
            .collect()
    }

    #[track_caller]
    fn check(previous: &Inventory, current: &Inventory, expected: &[&str]) -> Changes {
        let changes = diff(previous, current);
        assert_eq!(lines(&changes), expected);
        changes
    }

    #[test]
    fn each_kind_fires_exactly_when_it_should_most_urgent_first() {
        use Code::{Imported, NotInUse, RenewalNotStarted};
        let previous = inventory(
            &[
                ("same", 20, &[(Imported, Action)]),
                ("fell", 20, &[(Imported, Urgent)]),
                ("rose", 5, &[(Imported, Action)]),
                ("new", 150, &[]),
                ("fixed", 150, &[(NotInUse, Upcoming)]),
                ("renewed", 20, &[(RenewalNotStarted, Action)]),
                ("renewed-ok", 40, &[]),
                ("back-dated", 100, &[]),
                ("gone", 3, &[(Imported, Urgent)]),
                ("gone-ok", 3, &[]),
                ("stale", 20, &[(Imported, Action)]),
            ],
            &[],
        );
        let current = inventory(
            &[
                ("same", 20, &[(Imported, Action)]),
                ("fell", 20, &[(Imported, Action)]),
                ("rose", 5, &[(Imported, Urgent)]),
                ("new", 150, &[(NotInUse, Upcoming)]),
                ("fixed", 150, &[]),
                ("renewed", 200, &[]),
                ("renewed-ok", 400, &[]),
                ("back-dated", 50, &[]),
                ("fresh", 20, &[(Imported, Action)]),
                ("fresh-ok", 20, &[]),
                // Not seen by this scan: whatever its record says, nobody looked.
                ("stale", 300, &[(NotInUse, Urgent)]),
            ],
            &["stale"],
        );
        let changes = check(
            &previous,
            &current,
            &[
                "gone: gone - urgent",
                "rose: rose from action IMPORTED urgent",
                "fresh: new IMPORTED action",
                // The old worst urgency: as urgent as what the renewal fixed.
                "renewed: renewed - action",
                "renewed: resolved RENEWAL_NOT_STARTED action",
                "fixed: resolved NOT_IN_USE upcoming",
                "new: new NOT_IN_USE upcoming",
                // A healthy certificate renewing by itself: listed, never alerted.
                "renewed-ok: renewed - -",
            ],
        );
        assert!(matches!(
            changes.changes[3].kind,
            ChangeKind::Renewed { from: Some(f), to: Some(t) } if t - f == Duration::days(180)
        ));
        assert_eq!(
            lines(&changes.at_least(Action)),
            [
                "gone: gone - urgent",
                "rose: rose from action IMPORTED urgent",
                "fresh: new IMPORTED action",
                "renewed: renewed - action",
                "renewed: resolved RENEWAL_NOT_STARTED action",
            ]
        );
        assert_eq!(
            lines(&changes.at_least(Urgent)),
            [
                "gone: gone - urgent",
                "rose: rose from action IMPORTED urgent"
            ]
        );
        assert_eq!(changes.at_least(Upcoming).changes.len(), 7);
        assert!(diff(&current, &current).is_empty(), "nothing changed");
    }

    #[test]
    fn the_first_scan_into_a_store_is_all_new() {
        let current = inventory(
            &[("a", 20, &[(Code::Imported, Action)]), ("b", 20, &[])],
            &[],
        );
        check(&Inventory::empty(), &current, &["a: new IMPORTED action"]);
    }

    #[test]
    fn a_stale_certificate_changes_nothing_and_a_deleted_one_without_findings_neither() {
        let previous = inventory(
            &[
                ("stale", 20, &[(Code::Imported, Action)]),
                ("deleted-ok", 20, &[]),
            ],
            &[],
        );
        // The store carries a stale record over unchanged.
        let current = inventory(&[("stale", 20, &[(Code::Imported, Action)])], &["stale"]);
        check(&previous, &current, &[]);
        // Even a stale record that no longer has the finding (as the store never writes it):
        // the finding is not resolved, nobody looked.
        let current = inventory(&[("stale", 20, &[])], &["stale"]);
        check(&previous, &current, &[]);
        // Seen again: now it is news.
        let current = inventory(&[("stale", 20, &[])], &[]);
        check(&previous, &current, &["stale: resolved IMPORTED action"]);
    }

    /// The certificate of the terminal tests: imported, as the rules judge it at `at`.
    fn imported_record(days: i64, at: DateTime<Utc>) -> CertificateRecord {
        let mut facts = expires_in(healthy(), days);
        facts.cert_type = CertType::Imported;
        let findings = classify(&facts, at, &Policy::default());
        CertificateRecord::new("acct", facts, findings, at)
    }

    fn of(record: CertificateRecord, at: DateTime<Utc>) -> Inventory {
        let mut inventory = Inventory::of_scan(crate::Report {
            generated_at: at,
            certificates: vec![record],
            failures: Vec::new(),
            accounts: Vec::new(),
            stats: Default::default(),
        });
        inventory.last_scan = Some(at);
        inventory
    }

    #[test]
    fn a_terminal_finding_hides_the_others_it_does_not_resolve_them() {
        let before = of(imported_record(3, now()), now());
        let later = now() + Duration::days(4);
        let expired = of(imported_record(3, later), later);
        assert_eq!(
            expired.report.certificates[0].findings[0].code,
            Code::Expired
        );
        check(&before, &expired, &["shop: new EXPIRED expired"]);
        // Re-imported into the same ARN: renewed, EXPIRED resolved, IMPORTED back (new: the
        // inventory before did not show it).
        let mut renewed = imported_record(200, later);
        renewed.facts.not_after = Some(later + Duration::days(200));
        renewed.findings = classify(&renewed.facts, later, &Policy::default());
        let renewed = of(renewed, later);
        check(
            &expired,
            &renewed,
            &[
                "shop: renewed - expired",
                "shop: resolved EXPIRED expired",
                "shop: new IMPORTED upcoming",
            ],
        );
    }

    #[test]
    fn a_network_finding_is_not_resolved_by_a_check_that_could_not_be_made() {
        let previous = inventory(&[("web", 100, &[(Code::NameUnresolvable, Upcoming)])], &[]);
        let mut current = inventory(&[("web", 100, &[(Code::NotInUse, Upcoming)])], &[]);
        let arn = current.report.certificates[0].facts.arn.clone();
        std::sync::Arc::make_mut(&mut current.report)
            .failures
            .push(Failure {
                account_id: "111122223333".into(),
                account_name: "acct".into(),
                region: Some("eu-west-1".into()),
                stage: Stage::Dns,
                certificate_arn: Some(arn.clone()),
                error: "timed out".into(),
            });
        check(&previous, &current, &["web: new NOT_IN_USE upcoming"]);
        // A DNS failure of another certificate does not count.
        std::sync::Arc::make_mut(&mut current.report).failures[0].certificate_arn =
            Some(format!("{arn}-other"));
        check(
            &previous,
            &current,
            &[
                "web: new NOT_IN_USE upcoming",
                "web: resolved NAME_UNRESOLVABLE upcoming",
            ],
        );
        // Only network findings wait for their checks.
        let previous = inventory(&[("web", 100, &[(Code::Imported, Upcoming)])], &[]);
        std::sync::Arc::make_mut(&mut current.report).failures[0].certificate_arn = Some(arn);
        check(
            &previous,
            &current,
            &[
                "web: new NOT_IN_USE upcoming",
                "web: resolved IMPORTED upcoming",
            ],
        );
    }

    #[test]
    fn order_is_most_urgent_then_place() {
        let previous = inventory(&[], &[]);
        let mut current = inventory(
            &[
                ("b", 100, &[(Code::Imported, Action)]),
                ("a", 100, &[(Code::Imported, Action)]),
                (
                    "c",
                    3,
                    &[(Code::Imported, Urgent), (Code::NotInUse, Urgent)],
                ),
                ("d", -1, &[(Code::Expired, Expired)]),
                ("e", 200, &[(Code::NotInUse, Upcoming)]),
            ],
            &[],
        );
        // Another account sorts after at equal urgency, whatever its name.
        let mut other = record(&("0-first-name", 100, &[(Code::Imported, Action)]));
        other.facts.account_id = "999999999999".into();
        std::sync::Arc::make_mut(&mut current.report)
            .certificates
            .push(other);
        check(
            &previous,
            &current,
            &[
                "d: new EXPIRED expired",
                "c: new IMPORTED urgent",
                "c: new NOT_IN_USE urgent",
                "a: new IMPORTED action",
                "b: new IMPORTED action",
                "0-first-name: new IMPORTED action",
                "e: new NOT_IN_USE upcoming",
            ],
        );
    }

    #[test]
    fn resolves_is_the_rule_the_store_shares() {
        let plain = record(&("x", 100, &[(Code::NotInUse, Upcoming)]));
        assert!(resolves(&plain, &Code::Imported, false));
        assert!(!resolves(&plain, &Code::NotInUse, false), "still reported");
        assert!(resolves(&plain, &Code::ServedStale, false));
        assert!(!resolves(&plain, &Code::ServedStale, true));
        assert!(resolves(&plain, &Code::Imported, true));
        let revoked = record(&("x", 100, &[(Code::Revoked, Urgent)]));
        assert!(!resolves(&revoked, &Code::Imported, false));
        assert!(!resolves(&revoked, &Code::Expired, false));
    }
}

//! Every lookup of the index against a walk over every certificate, on random inventories
//! asked about at random times: the same certificates, in the same order, with the same
//! "narrow the query" hint.

use super::*;
use crate::inventory::{covers, entries, find_accounts, names};
use crate::render::most_common;
use certwatch_core::order::soonest_first;
use certwatch_core::{CertificateFacts, Finding, Report};
use chrono::Duration;
use proptest::collection::vec;
use proptest::prelude::*;

fn built() -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse().expect("a time")
}

const ACCOUNTS: [(&str, &str); 4] = [
    ("111111111110", "Payments"),
    ("111111111111", "payments"),
    ("111111111112", "Shop"),
    ("111111111113", "Ops <&>"),
];

const NAMES: [&str; 7] = [
    "a.example.org",
    "*.example.org",
    "B.Example.org.",
    "example.org",
    "*.b.example.org",
    "x.b.example.org",
    "other.test",
];

/// One random certificate: account, names, NotAfter (hours from `built`), EXPIRED status,
/// findings (code, urgency), kept from an earlier scan.
#[derive(Debug, Clone)]
struct Spec {
    account: usize,
    names: Vec<usize>,
    not_after: Option<i64>,
    expired_status: bool,
    findings: Vec<(usize, usize)>,
    stale: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..ACCOUNTS.len(),
        vec(0..NAMES.len(), 1..3),
        prop_oneof![
            1 => Just(None),
            6 => (-2000i64..4000).prop_map(Some),
        ],
        any::<bool>(),
        vec((0..Code::ALL.len(), 0..Urgency::ALL.len()), 0..3),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(account, names, not_after, expired_status, findings, stale)| Spec {
                account,
                names,
                not_after,
                expired_status,
                findings,
                stale,
            },
        )
}

fn inventory(specs: &[Spec]) -> Inventory {
    let mut inv = Inventory::empty();
    inv.report = Arc::new(Report {
        generated_at: built(),
        certificates: Vec::new(),
        failures: Vec::new(),
        stats: Default::default(),
        accounts: Vec::new(),
    });
    for (i, spec) in specs.iter().enumerate() {
        let (id, name) = ACCOUNTS[spec.account];
        // Ids repeat across regions.
        let region = if i % 2 == 0 { "us-east-1" } else { "eu-west-1" };
        let arn = format!(
            "arn:aws:acm:{region}:{id}:certificate/{:08X}-0000-4000-8000-000000000000",
            i / 2
        );
        let mut facts = CertificateFacts::new(id, region, &arn);
        facts.domain_name = Some(NAMES[spec.names[0]].to_owned());
        facts.subject_alternative_names = spec.names.iter().map(|&n| NAMES[n].to_owned()).collect();
        facts.not_after = spec.not_after.map(|h| built() + Duration::hours(h));
        if spec.expired_status {
            facts.status = certwatch_core::CertStatus::Expired;
        }
        let mut findings: Vec<Finding> = spec
            .findings
            .iter()
            .map(|&(c, u)| Finding {
                code: Code::ALL[c].clone(),
                urgency: Urgency::ALL[u],
                summary: String::new(),
                remedy: String::new(),
            })
            .collect();
        // Core lists findings most urgent first.
        findings.sort_by_key(|f| std::cmp::Reverse(f.urgency));
        if spec.stale {
            inv.stale.insert(arn.clone(), built() - Duration::days(1));
        }
        inv.report_mut()
            .certificates
            .push(CertificateRecord::new(name, facts, findings, built()));
    }
    inv
}

fn arns(inv: &Inventory, records: impl Iterator<Item = u32>) -> Vec<String> {
    records
        .map(|r| inv.report.certificates[r as usize].facts.arn.clone())
        .collect()
}

proptest! {
    #[test]
    fn expiring_lists_what_a_walk_lists(
        specs in vec(spec(), 0..40),
        hours in -3000i64..3000,
        days in prop_oneof![Just(0u32), Just(1), Just(7), Just(30), 0u32..400],
    ) {
        let inv = Prepared::from(inventory(&specs));
        let now = built() + Duration::hours(hours);
        let mut walked: Vec<_> = entries(&inv, now)
            .into_iter()
            .filter(|e| {
                e.urgency == Some(Urgency::Expired)
                    || e.record.facts.days_to_expiry(now).is_some_and(|d| d <= i64::from(days))
            })
            .collect();
        walked.sort_by_key(|e| soonest_first(e.record));
        let records = &inv.report.certificates;
        let list = inv.index().expiring(records, now, days);
        prop_assert_eq!(list.len(), walked.len());
        let walked_arns: Vec<String> = walked.iter().map(|e| e.record.facts.arn.clone()).collect();
        prop_assert_eq!(arns(&inv, list.records()), walked_arns);
        for shown in 0..=walked.len() {
            let rest = walked[shown..]
                .iter()
                .filter_map(|e| e.worst())
                .map(|f| f.code.as_str());
            prop_assert_eq!(list.commonest_code(records, shown).map(Code::as_str), most_common(rest));
        }
    }

    #[test]
    fn counts_and_code_lists_are_what_a_walk_finds(
        specs in vec(spec(), 0..40),
        hours in -3000i64..3000,
    ) {
        let inv = Prepared::from(inventory(&specs));
        let now = built() + Duration::hours(hours);
        let all = entries(&inv, now);
        let index = inv.index();
        let mut counts = [0; 5];
        for e in &all {
            counts[slot(e.urgency)] += 1;
        }
        prop_assert_eq!(index.urgency_counts(&inv.report.certificates, now), counts);
        prop_assert_eq!(index.summary.stale, all.iter().filter(|e| e.last_seen.is_some()).count());
        let accounts: BTreeSet<&str> =
            all.iter().map(|e| e.record.facts.account_id.as_str()).collect();
        prop_assert_eq!(index.summary.accounts, accounts.len());
        for code in Code::ALL.iter() {
            let mut walked: Vec<(&CertificateRecord, &Finding)> = all
                .iter()
                .filter_map(|e| {
                    e.record.findings.iter().find(|f| f.code == *code).map(|f| (e.record, f))
                })
                .collect();
            walked.sort_by_key(|(r, f)| most_urgent_first(r, Some(f.urgency)));
            prop_assert_eq!(index.summary.codes.get(code).copied().unwrap_or(0), walked.len());
            let empty = CodeList::default();
            let list = index.by_code.get(code).unwrap_or(&empty);
            let listed: Vec<(&str, &str)> = list
                .items
                .iter()
                .map(|&(r, f)| {
                    let record = inv.record(r);
                    (record.facts.arn.as_str(), record.findings[f as usize].summary.as_str())
                })
                .collect();
            let expected: Vec<(&str, &str)> = walked
                .iter()
                .map(|(r, f)| (r.facts.arn.as_str(), f.summary.as_str()))
                .collect();
            prop_assert_eq!(listed, expected);
            for shown in 0..=walked.len() {
                let rest = walked[shown..].iter().map(|(r, _)| r.account_name.as_str());
                prop_assert_eq!(
                    list.commonest_account(&inv.report.certificates, shown),
                    most_common(rest)
                );
            }
        }
    }

    #[test]
    fn lookups_find_what_a_walk_finds(specs in vec(spec(), 0..40), pick in 0usize..1000) {
        let inv = Prepared::from(inventory(&specs));
        let records = &inv.report.certificates;
        // Domains: every name, in other case, with a dot, and names that only a wildcard covers.
        let mut queries: Vec<String> = NAMES.iter().map(|n| (*n).to_owned()).collect();
        queries.extend(["A.EXAMPLE.ORG.", "zz.example.org", "q.b.example.org", "*.EXAMPLE.org", "org", ""]
            .map(str::to_owned));
        for query in &queries {
            let walked: Vec<&str> = records
                .iter()
                .filter(|r| names(r).any(|n| covers(n, query)))
                .map(|r| r.facts.arn.as_str())
                .collect();
            let found: Vec<&str> = inv.covering(query).map(|r| r.facts.arn.as_str()).collect();
            prop_assert_eq!(found, walked, "domain {:?}", query);
        }
        // ARNs and ids, in any case.
        if !records.is_empty() {
            let record = &records[pick % records.len()];
            for target in [
                record.facts.arn.clone(),
                record.facts.arn.to_uppercase(),
                record.facts.id().to_owned(),
                record.facts.id().to_lowercase(),
                "nope".to_owned(),
            ] {
                let walked: Vec<&str> = records
                    .iter()
                    .filter(|r| {
                        r.facts.arn.eq_ignore_ascii_case(&target)
                            || r.facts.id().eq_ignore_ascii_case(&target)
                    })
                    .map(|r| r.facts.arn.as_str())
                    .collect();
                let found: Vec<&str> =
                    inv.with_arn_or_id(&target).map(|r| r.facts.arn.as_str()).collect();
                prop_assert_eq!(found, walked, "target {}", target);
            }
        }
        // Accounts: by id, by name in any case.
        for query in ["111111111112", "PAYMENTS", "payments ", "shop", "Ops <&>", "nobody", ""] {
            let all = inv.accounts();
            let walked: Vec<(&str, &str)> = match all.get_key_value(query.trim()) {
                Some((id, name)) => vec![(*id, *name)],
                None => all
                    .iter()
                    .filter(|(_, name)| name.to_lowercase() == query.trim().to_lowercase())
                    .map(|(id, name)| (*id, *name))
                    .collect(),
            };
            prop_assert_eq!(find_accounts(&inv, query), walked, "account {:?}", query);
            for (id, _) in find_accounts(&inv, query) {
                let walked: Vec<u32> = (0..records.len())
                    .filter(|&r| records[r].facts.account_id == id)
                    .map(|r| r as u32)
                    .collect();
                prop_assert_eq!(inv.index().of_account(records, id).collect::<Vec<_>>(), walked);
            }
        }
    }
}

#[test]
fn recording_a_decision_keeps_the_index_and_what_readers_hold() {
    let fixture = crate::fixtures::decided();
    let mut inv = fixture.prepared();
    let index = Arc::as_ptr(&inv.index);
    let reader = inv.clone();
    let (arn, decision) = reader
        .decisions
        .iter()
        .next()
        .map(|(a, d)| (a.clone(), d.clone()))
        .expect("a decision");
    inv.decisions_mut().remove(&arn);
    assert!(
        std::ptr::eq(index, Arc::as_ptr(&inv.index)),
        "the same index"
    );
    assert!(!inv.decisions.contains_key(&arn));
    assert_eq!(
        reader.decisions.get(&arn),
        Some(&decision),
        "a reader keeps its copy"
    );
    assert!(
        Arc::ptr_eq(&reader.report, &inv.report),
        "the certificates are shared, not copied"
    );
}

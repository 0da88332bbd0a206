//! Store tests: round trips, restarts, each merge rule, digest bookkeeping, and a large scan.
//! Reports are built with [`cert`], [`fail`] and [`report`]; times are fixed.

use super::*;
use certwatch_core::{CertificateFacts, Code, Finding, Stage, Urgency};
use chrono::{NaiveDate, TimeZone};
use std::time::Instant;

const A: &str = "111111111111";
const B: &str = "222222222222";
const OWN: &str = "999999999999";
const EU: &str = "eu-west-1";
const US: &str = "us-east-1";
const AP: &str = "ap-south-1";

/// Scan times: day 0, 1, 2, … at noon UTC.
fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0)
        .single()
        .expect("valid time")
        + chrono::Duration::days(n)
}

fn arn(account: &str, region: &str, id: &str) -> String {
    format!("arn:aws:acm:{region}:{account}:certificate/{id}")
}

/// A certificate seen by a scan at `now`, expiring 100 days after day 0.
fn cert(account: &str, region: &str, id: &str, now: DateTime<Utc>) -> CertificateRecord {
    let mut facts = CertificateFacts::new(account, region, &arn(account, region, id));
    facts.domain_name = Some(format!("{id}.example.com"));
    facts.subject_alternative_names = vec![format!("{id}.example.com")];
    facts.not_before = Some(day(-295));
    facts.not_after = Some(day(100));
    facts.in_use = true;
    CertificateRecord::new(&format!("acct-{account}"), facts, vec![], now)
}

fn fail(account: &str, region: Option<&str>, stage: Stage, cert_arn: Option<&str>) -> Failure {
    Failure {
        account_id: account.to_owned(),
        account_name: format!("acct-{account}"),
        region: region.map(str::to_owned),
        stage,
        certificate_arn: cert_arn.map(str::to_owned),
        error: format!("{stage} failed"),
    }
}

fn report(
    at: DateTime<Utc>,
    certificates: Vec<CertificateRecord>,
    failures: Vec<Failure>,
) -> Report {
    let mut report = Report {
        generated_at: at,
        stats: Stats {
            accounts: 1,
            targets: 1,
            certificates: certificates.len() as u64,
            ..Stats::default()
        },
        certificates,
        failures,
        accounts: Vec::new(),
    };
    report.sort();
    report
}

fn store() -> Store {
    Store::open_in_memory().expect("in-memory store")
}

/// The inventory after a clean scan that saw `before` (day 0) and a second one (day 1) that saw
/// `after` and failed with `failures`.
fn rescan(
    before: Vec<CertificateRecord>,
    after: Vec<CertificateRecord>,
    failures: Vec<Failure>,
) -> Inventory {
    let mut store = store();
    store
        .record_scan(&report(day(0), before, vec![]))
        .expect("record the first scan");
    store
        .record_scan(&report(day(1), after, failures))
        .expect("record the second scan")
}

/// The ARNs in the inventory, sorted.
fn arns(inventory: &Inventory) -> Vec<String> {
    let mut arns: Vec<String> = inventory
        .report
        .certificates
        .iter()
        .map(|c| c.facts.arn.clone())
        .collect();
    arns.sort();
    arns
}

fn sorted(mut arns: Vec<String>) -> Vec<String> {
    arns.sort();
    arns
}

fn record<'a>(inventory: &'a Inventory, arn: &str) -> &'a CertificateRecord {
    inventory
        .report
        .certificates
        .iter()
        .find(|c| c.facts.arn == arn)
        .unwrap_or_else(|| panic!("{arn} not in inventory"))
}

#[test]
fn store_is_send() {
    fn send<T: Send>() {}
    send::<Store>();
}

#[test]
fn empty_store_has_no_scan() {
    let store = store();
    let inventory = store.inventory().expect("inventory");
    assert_eq!(inventory.last_scan, None);
    assert!(inventory.report.certificates.is_empty());
    assert!(inventory.stale.is_empty());
    assert_eq!(inventory.report.generated_at, DateTime::<Utc>::UNIX_EPOCH);
}

#[test]
fn round_trip() {
    let mut store = store();
    let mut flagged = cert(A, EU, "flagged", day(0));
    flagged.findings = vec![Finding {
        code: Code::Imported,
        urgency: Urgency::Action,
        summary: "imported: ACM cannot renew it".to_owned(),
        remedy: "re-import a renewed certificate".to_owned(),
    }];
    flagged.facts.cert_type = certwatch_core::CertType::Imported;
    let mut sent = report(
        day(0),
        vec![
            flagged,
            cert(A, US, "plain", day(0)),
            cert(B, EU, "other", day(0)),
        ],
        vec![fail(B, Some(US), Stage::ListCertificates, None)],
    );
    sent.stats = Stats {
        accounts: 2,
        targets: 4,
        certificates: 3,
        regions_skipped: 1,
        api_calls: 17,
        throttled: 2,
        duration_ms: 1234,
        ..Stats::default()
    };
    let merged = store.record_scan(&sent).expect("record");
    assert_eq!(*merged.report, sent);
    assert!(merged.stale.is_empty());
    assert_eq!(merged.last_scan, Some(day(0)));
    assert_eq!(store.inventory().expect("inventory"), merged);
}

#[test]
fn subsecond_times_round_trip() {
    let mut store = store();
    let at = day(0) + chrono::Duration::nanoseconds(123_456_789);
    let merged = store
        .record_scan(&report(at, vec![cert(A, EU, "x", at)], vec![]))
        .expect("record");
    assert_eq!(merged.last_scan, Some(at));
    assert_eq!(merged.report.generated_at, at);
}

#[test]
fn restart_keeps_inventory_and_digest_marks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("certwatch.db");
    let date = NaiveDate::from_ymd_opt(2026, 11, 2).expect("date");
    let (first, second) = {
        let mut store = Store::open(&path).expect("open");
        store
            .record_scan(&report(
                day(0),
                vec![cert(A, EU, "x", day(0)), cert(A, US, "y", day(0))],
                vec![],
            ))
            .expect("record");
        let second = store
            .record_scan(&report(
                day(1),
                vec![cert(A, US, "y", day(1))],
                vec![fail(A, Some(EU), Stage::ListCertificates, None)],
            ))
            .expect("record");
        assert!(store
            .mark_digest_posted(date, "C123", "1730548800.000100", day(1))
            .expect("mark"));
        (store.inventory().expect("inventory"), second)
    };
    assert_eq!(first, second);

    let mut store = Store::open(&path).expect("reopen");
    let reopened = store.inventory().expect("inventory");
    assert_eq!(reopened, first);
    assert_eq!(reopened.stale.get(&arn(A, EU, "x")), Some(&day(0)));
    assert!(store.digest_posted(date, "C123").expect("digest_posted"));
    assert!(!store
        .mark_digest_posted(date, "C123", "1730548899.000200", day(1))
        .expect("mark"));

    let mode: String = store
        .conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("user_version");
    assert_eq!(version, schema::VERSION);
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("certwatch.db");
    drop(Store::open(&path).expect("open"));
    {
        let conn = Connection::open(&path).expect("raw open");
        conn.pragma_update(None, "user_version", schema::VERSION + 1)
            .expect("bump version");
    }
    let error = Store::open(&path).expect_err("newer schema refused");
    assert!(
        matches!(
            error,
            StoreError::NewerSchema { found, supported, .. }
                if found == schema::VERSION + 1 && supported == schema::VERSION
        ),
        "{error:?}"
    );
    let message = error.to_string();
    let found = format!("schema version {}", schema::VERSION + 1);
    assert!(message.contains(&found), "{message}");
    assert!(message.contains("newer certwatch"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("other.db");
    {
        let conn = Connection::open(&path).expect("raw open");
        conn.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);")
            .expect("create");
    }
    let error = Store::open(&path).expect_err("foreign file refused");
    assert!(matches!(error, StoreError::NotAStore { .. }), "{error:?}");
    let tables: i64 = Connection::open(&path)
        .expect("raw open")
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .expect("count");
    assert_eq!(tables, 1, "the foreign file was left alone");
}

#[test]
fn unopenable_path_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing-dir").join("certwatch.db");
    let error = Store::open(&path).expect_err("cannot open");
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    assert!(error.to_string().contains("missing-dir"), "{error}");
}

#[test]
fn successful_target_is_replaced() {
    let mut store = store();
    store
        .record_scan(&report(
            day(0),
            vec![
                cert(A, EU, "kept", day(0)),
                cert(A, EU, "deleted", day(0)),
                cert(A, US, "other", day(0)),
            ],
            vec![],
        ))
        .expect("record");
    let mut renewed = cert(A, EU, "kept", day(1));
    renewed.facts.not_after = Some(day(495));
    renewed.days_to_expiry = renewed.facts.days_to_expiry(day(1));
    let merged = store
        .record_scan(&report(
            day(1),
            vec![
                renewed.clone(),
                cert(A, EU, "new", day(1)),
                cert(A, US, "other", day(1)),
            ],
            vec![],
        ))
        .expect("record");
    assert_eq!(
        arns(&merged),
        sorted(vec![
            arn(A, EU, "kept"),
            arn(A, EU, "new"),
            arn(A, US, "other")
        ])
    );
    assert_eq!(record(&merged, &arn(A, EU, "kept")), &renewed);
    assert!(merged.stale.is_empty());
}

#[test]
fn target_whose_certificates_were_all_deleted_is_emptied() {
    // eu-west-1 was scanned fine and is empty now: it does not appear in the report at all.
    let merged = rescan(
        vec![
            cert(A, EU, "gone1", day(0)),
            cert(A, EU, "gone2", day(0)),
            cert(A, US, "u", day(0)),
        ],
        vec![cert(A, US, "u", day(1))],
        vec![],
    );
    assert_eq!(arns(&merged), vec![arn(A, US, "u")]);
}

#[test]
fn failed_region_keeps_its_certificates_stale() {
    let mut store = store();
    store
        .record_scan(&report(
            day(0),
            vec![
                cert(A, EU, "x", day(0)),
                cert(A, US, "y", day(0)),
                cert(B, EU, "z", day(0)),
            ],
            vec![],
        ))
        .expect("record");
    let merged = store
        .record_scan(&report(
            day(1),
            vec![cert(A, US, "y", day(1))],
            vec![fail(A, Some(EU), Stage::ListCertificates, None)],
        ))
        .expect("record");
    assert_eq!(
        arns(&merged),
        sorted(vec![arn(A, EU, "x"), arn(A, US, "y")])
    );
    assert_eq!(merged.stale, BTreeMap::from([(arn(A, EU, "x"), day(0))]));
    assert_eq!(merged.last_seen(&arn(A, EU, "x")), Some(day(0)));
    assert_eq!(merged.last_seen(&arn(A, US, "y")), None);
    // Days left stay true: 100 days after day 0, seen from day 1.
    assert_eq!(record(&merged, &arn(A, EU, "x")).days_to_expiry, Some(99));
    assert_eq!(merged.report.failures.len(), 1);

    // Still failing a day later: still last seen on day 0, one day fewer left.
    let merged = store
        .record_scan(&report(
            day(2),
            vec![cert(A, US, "y", day(2))],
            vec![fail(A, Some(EU), Stage::ListCertificates, None)],
        ))
        .expect("record");
    assert_eq!(merged.stale, BTreeMap::from([(arn(A, EU, "x"), day(0))]));
    assert_eq!(record(&merged, &arn(A, EU, "x")).days_to_expiry, Some(98));
    assert_eq!(record(&merged, &arn(A, US, "y")).days_to_expiry, Some(98));
}

#[test]
fn partly_listed_region_keeps_what_it_did_not_list() {
    // The second page failed: what was listed is fresh, the rest is kept stale.
    let merged = rescan(
        vec![cert(A, EU, "page1", day(0)), cert(A, EU, "page2", day(0))],
        vec![cert(A, EU, "page1", day(1))],
        vec![fail(A, Some(EU), Stage::ListCertificates, None)],
    );
    assert_eq!(
        arns(&merged),
        sorted(vec![arn(A, EU, "page1"), arn(A, EU, "page2")])
    );
    assert_eq!(
        merged.stale,
        BTreeMap::from([(arn(A, EU, "page2"), day(0))])
    );
}

#[test]
fn denied_role_keeps_every_region_of_the_account_stale() {
    let merged = rescan(
        vec![
            cert(A, EU, "e", day(0)),
            cert(A, US, "u", day(0)),
            cert(A, AP, "p", day(0)),
            cert(B, EU, "b", day(0)),
        ],
        vec![cert(B, EU, "b", day(1))],
        vec![fail(A, None, Stage::AssumeRole, None)],
    );
    assert_eq!(
        arns(&merged),
        sorted(vec![
            arn(A, EU, "e"),
            arn(A, US, "u"),
            arn(A, AP, "p"),
            arn(B, EU, "b")
        ])
    );
    assert_eq!(
        merged.stale,
        BTreeMap::from([
            (arn(A, EU, "e"), day(0)),
            (arn(A, US, "u"), day(0)),
            (arn(A, AP, "p"), day(0)),
        ])
    );
}

#[test]
fn failed_region_list_keeps_regions_other_than_those_scanned() {
    // account:ListRegions failed; the scanner still scanned us-east-1, where one was deleted
    // and one issued.
    let merged = rescan(
        vec![
            cert(A, US, "u-deleted", day(0)),
            cert(A, EU, "e", day(0)),
            cert(A, AP, "p", day(0)),
        ],
        vec![cert(A, US, "u-new", day(1))],
        vec![fail(A, None, Stage::ListRegions, None)],
    );
    assert_eq!(
        arns(&merged),
        sorted(vec![arn(A, US, "u-new"), arn(A, EU, "e"), arn(A, AP, "p")])
    );
    assert_eq!(
        merged.stale,
        BTreeMap::from([(arn(A, EU, "e"), day(0)), (arn(A, AP, "p"), day(0))])
    );
}

#[test]
fn failed_region_list_still_empties_us_east_1() {
    // The region the scanner always scans (core's rule, which the scanner's plan follows): no
    // certificate there now means none is left.
    let always = certwatch_core::regions::ALWAYS_SCANNED;
    assert_eq!(always, US);
    let merged = rescan(
        vec![cert(A, always, "u", day(0)), cert(A, EU, "e", day(0))],
        vec![],
        vec![fail(A, None, Stage::ListRegions, None)],
    );
    assert_eq!(arns(&merged), vec![arn(A, EU, "e")]);
    assert_eq!(merged.stale, BTreeMap::from([(arn(A, EU, "e"), day(0))]));
}

#[test]
fn failed_describe_keeps_just_that_certificate() {
    let mut store = store();
    store
        .record_scan(&report(
            day(0),
            vec![
                cert(A, EU, "d1", day(0)),
                cert(A, EU, "d2", day(0)),
                cert(A, EU, "d3", day(0)),
            ],
            vec![],
        ))
        .expect("record");
    let d1 = arn(A, EU, "d1");
    let never_stored = arn(A, EU, "d9");
    let merged = store
        .record_scan(&report(
            day(1),
            vec![cert(A, EU, "d2", day(1))],
            vec![
                fail(A, Some(EU), Stage::DescribeCertificate, Some(&d1)),
                fail(A, Some(EU), Stage::DescribeCertificate, Some(&never_stored)),
            ],
        ))
        .expect("record");
    assert_eq!(arns(&merged), sorted(vec![d1.clone(), arn(A, EU, "d2")]));
    assert_eq!(merged.stale, BTreeMap::from([(d1, day(0))]));
}

#[test]
fn account_gone_from_the_organization_is_dropped() {
    let merged = rescan(
        vec![
            cert(A, EU, "a", day(0)),
            cert(B, EU, "b1", day(0)),
            cert(B, US, "b2", day(0)),
        ],
        vec![cert(A, EU, "a", day(1))],
        vec![],
    );
    assert_eq!(arns(&merged), vec![arn(A, EU, "a")]);
    assert!(merged.stale.is_empty());
}

#[test]
fn unlisted_organization_keeps_accounts_not_rescanned() {
    // organizations:ListAccounts failed: only the account certwatch runs in was scanned.
    let merged = rescan(
        vec![
            cert(OWN, US, "own-kept", day(0)),
            cert(OWN, US, "own-deleted", day(0)),
            cert(A, EU, "a", day(0)),
            cert(B, US, "b", day(0)),
        ],
        vec![cert(OWN, US, "own-kept", day(1))],
        vec![fail(OWN, None, Stage::ListAccounts, None)],
    );
    assert_eq!(
        arns(&merged),
        sorted(vec![
            arn(OWN, US, "own-kept"),
            arn(A, EU, "a"),
            arn(B, US, "b")
        ])
    );
    assert_eq!(
        merged.stale,
        BTreeMap::from([(arn(A, EU, "a"), day(0)), (arn(B, US, "b"), day(0))])
    );
}

#[test]
fn stale_certificate_becomes_fresh_when_seen_again() {
    let mut store = store();
    store
        .record_scan(&report(day(0), vec![cert(A, EU, "x", day(0))], vec![]))
        .expect("record");
    let merged = store
        .record_scan(&report(
            day(1),
            vec![],
            vec![fail(A, None, Stage::AssumeRole, None)],
        ))
        .expect("record");
    assert_eq!(merged.stale, BTreeMap::from([(arn(A, EU, "x"), day(0))]));
    let back = cert(A, EU, "x", day(2));
    let merged = store
        .record_scan(&report(day(2), vec![back.clone()], vec![]))
        .expect("record");
    assert!(merged.stale.is_empty());
    assert_eq!(record(&merged, &arn(A, EU, "x")), &back);
    assert!(
        merged.report.failures.is_empty(),
        "only the latest scan's failures"
    );
}

#[test]
fn stale_record_keeps_its_findings() {
    let mut store = store();
    let mut flagged = cert(A, EU, "x", day(0));
    flagged.findings = vec![Finding {
        code: Code::NotInUse,
        urgency: Urgency::Upcoming,
        summary: "not in use".to_owned(),
        remedy: "attach it or delete it".to_owned(),
    }];
    store
        .record_scan(&report(day(0), vec![flagged.clone()], vec![]))
        .expect("record");
    let merged = store
        .record_scan(&report(
            day(30),
            vec![],
            vec![fail(A, None, Stage::AssumeRole, None)],
        ))
        .expect("record");
    let stale = record(&merged, &arn(A, EU, "x"));
    assert_eq!(stale.findings, flagged.findings);
    assert_eq!(stale.days_to_expiry, Some(70));
    assert_eq!(
        CertificateRecord {
            days_to_expiry: flagged.days_to_expiry,
            ..stale.clone()
        },
        flagged
    );
}

#[test]
fn unknown_fields_survive_in_the_stored_row() {
    let mut store = store();
    store
        .record_scan(&report(day(0), vec![cert(A, EU, "x", day(0))], vec![]))
        .expect("record");
    // A later certwatch wrote a field this one does not know.
    let x = arn(A, EU, "x");
    let json: String = store
        .conn
        .query_row(
            "SELECT record FROM certificates WHERE arn = ?1",
            [&x],
            |row| row.get(0),
        )
        .expect("row");
    let mut value: serde_json::Value = serde_json::from_str(&json).expect("json");
    value["future_field"] = serde_json::json!({"nested": [1, 2, 3]});
    store
        .conn
        .execute(
            "UPDATE certificates SET record = ?1 WHERE arn = ?2",
            params![value.to_string(), x],
        )
        .expect("update");

    // Carried over stale by a failing scan: read fine, the row left as it was.
    let merged = store
        .record_scan(&report(
            day(1),
            vec![],
            vec![fail(A, None, Stage::AssumeRole, None)],
        ))
        .expect("record");
    assert_eq!(arns(&merged), vec![x.clone()]);
    let json: String = store
        .conn
        .query_row(
            "SELECT record FROM certificates WHERE arn = ?1",
            [&x],
            |row| row.get(0),
        )
        .expect("row");
    let stored: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(stored, value);
}

#[test]
fn undecodable_row_is_a_clear_error() {
    let mut store = store();
    store
        .record_scan(&report(day(0), vec![cert(A, EU, "x", day(0))], vec![]))
        .expect("record");
    store
        .conn
        .execute("UPDATE certificates SET record = '{\"findings\": 7}'", [])
        .expect("update");
    let error = store.inventory().expect_err("bad row");
    assert!(matches!(error, StoreError::Json { .. }), "{error:?}");
    assert!(error.to_string().contains(&arn(A, EU, "x")), "{error}");
}

#[test]
fn old_scans_are_pruned_unless_stale_certificates_point_to_them() {
    let mut store = store();
    store
        .record_scan(&report(day(0), vec![cert(A, EU, "x", day(0))], vec![]))
        .expect("record");
    for n in 1..=(SCANS_KEPT + 10) {
        store
            .record_scan(&report(
                day(n),
                vec![cert(B, EU, "y", day(n))],
                vec![fail(A, None, Stage::AssumeRole, None)],
            ))
            .expect("record");
    }
    let scans: i64 = store
        .conn
        .query_row("SELECT count(*) FROM scans", [], |row| row.get(0))
        .expect("count");
    // The last SCANS_KEPT, and day 0's, which the stale certificate was last seen in.
    assert_eq!(scans, SCANS_KEPT + 1);
    let inventory = store.inventory().expect("inventory");
    assert_eq!(inventory.stale, BTreeMap::from([(arn(A, EU, "x"), day(0))]));
}

#[test]
fn digest_is_marked_once_per_date() {
    let mut store = store();
    let today = NaiveDate::from_ymd_opt(2026, 11, 2).expect("date");
    let tomorrow = today.succ_opt().expect("date");
    assert!(!store.digest_posted(today, "C1").expect("posted"));
    assert!(store
        .mark_digest_posted(today, "C1", "1.000001", day(1))
        .expect("mark"));
    assert!(!store
        .mark_digest_posted(today, "C1", "2.000002", day(1))
        .expect("mark"));
    assert!(store.digest_posted(today, "C1").expect("posted"));
    assert!(!store.digest_posted(tomorrow, "C1").expect("posted"));
    let (channel, ts): (String, String) = store
        .conn
        .query_row(
            "SELECT channel, ts FROM digests WHERE local_date = '2026-11-02'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("row");
    assert_eq!(
        (channel.as_str(), ts.as_str()),
        ("C1", "1.000001"),
        "the first mark wins"
    );
}

#[test]
fn ten_thousand_certificates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("certwatch.db")).expect("open");
    let regions = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"];
    let scan = |at: DateTime<Utc>| {
        let mut certificates = Vec::with_capacity(10_000);
        for account in 0..100 {
            let account = format!("{:012}", 100_000_000_000_u64 + account);
            for region in regions {
                for n in 0..25 {
                    certificates.push(cert(&account, region, &format!("c{n:04}-{account}"), at));
                }
            }
        }
        report(at, certificates, vec![])
    };
    let first = scan(day(0));
    let started = Instant::now();
    let merged = store.record_scan(&first).expect("record");
    let first_took = started.elapsed();
    assert_eq!(merged.report.certificates.len(), 10_000);

    let second = scan(day(1));
    let started = Instant::now();
    let merged = store.record_scan(&second).expect("record");
    let second_took = started.elapsed();
    assert_eq!(merged.report.certificates.len(), 10_000);

    let started = Instant::now();
    let read = store.inventory().expect("inventory");
    let read_took = started.elapsed();
    assert_eq!(read, merged);
    eprintln!(
        "10,000 certificates: first record_scan {first_took:?}, second (all replaced) \
         {second_took:?}, inventory() {read_took:?}"
    );
}

#[test]
fn an_owned_report_merges_exactly_like_a_borrowed_one() {
    let first = report(
        day(0),
        vec![cert(A, EU, "kept", day(0)), cert(A, US, "gone", day(0))],
        vec![],
    );
    let second = report(
        day(1),
        vec![cert(A, EU, "new", day(1))],
        vec![fail(A, Some(EU), Stage::ListCertificates, None)],
    );
    let (mut borrowed, mut owned) = (store(), store());
    for scan in [&first, &second] {
        let by_ref = borrowed.record_scan(scan).expect("record by reference");
        let by_value = owned
            .record_scan_owned(scan.clone())
            .expect("record by value");
        assert_eq!(by_ref, by_value);
    }
    let inventory = owned.inventory().expect("inventory");
    assert_eq!(
        arns(&inventory),
        sorted(vec![arn(A, EU, "kept"), arn(A, EU, "new")]),
        "the failed region keeps its old certificate; the clean one drops what it no longer has"
    );
    assert_eq!(inventory, borrowed.inventory().expect("inventory"));
}

#[test]
fn a_finding_code_this_version_does_not_know_loads_as_it_is() {
    let mut store = store();
    let mut future = cert(A, EU, "future", day(0));
    future.findings = vec![Finding {
        code: Code::ServedStale,
        urgency: Urgency::Urgent,
        summary: "stale".into(),
        remedy: "redeploy".into(),
    }];
    store
        .record_scan(&report(day(0), vec![future], vec![]))
        .expect("record");
    // A newer certwatch wrote a code this one has never heard of.
    store
        .conn
        .execute(
            "UPDATE certificates SET record = replace(record, '\"SERVED_STALE\"', '\"QUANTUM_KEY_WEAK\"')",
            [],
        )
        .expect("update");
    let inventory = store.inventory().expect("an unknown code loads");
    let finding = &record(&inventory, &arn(A, EU, "future")).findings[0];
    assert_eq!(finding.code, Code::Other("QUANTUM_KEY_WEAK".into()));
    assert_eq!(finding.code.to_string(), "QUANTUM_KEY_WEAK");
    assert_eq!(finding.urgency, Urgency::Urgent);
}

#[test]
fn a_failed_network_check_keeps_nothing_stale() {
    let mut store = store();
    store
        .record_scan(&report(
            day(0),
            vec![cert(A, EU, "n1", day(0)), cert(A, EU, "n2", day(0))],
            vec![],
        ))
        .expect("record");
    let n1 = arn(A, EU, "n1");
    // n2 was deleted; n1's DNS lookup and TLS probe failed. The target was listed in full, so
    // n2 goes and nothing is stale.
    let merged = store
        .record_scan(&report(
            day(1),
            vec![cert(A, EU, "n1", day(1))],
            vec![
                fail(A, Some(EU), Stage::Dns, Some(&n1)),
                fail(A, Some(EU), Stage::Tls, Some(&n1)),
            ],
        ))
        .expect("record");
    assert_eq!(arns(&merged), vec![n1]);
    assert!(merged.stale.is_empty());
}

#[test]
fn one_process_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("certwatch.db");
    let mut first = Store::open(&path).expect("open");
    first
        .record_scan(&report(day(0), vec![cert(A, EU, "x", day(0))], vec![]))
        .expect("record");
    let second = Store::open(&path).expect_err("a second opener is refused");
    assert!(
        matches!(&second, StoreError::Locked { location } if location == &path.display().to_string()),
        "{second:?}"
    );
    let message = second.to_string();
    assert!(message.contains("another certwatch holds it"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    // No shared-memory file, which a network file system could not back.
    let shm = dir.path().join("certwatch.db-shm");
    assert!(!shm.exists(), "{} exists", shm.display());
    drop(first);
    let reopened = Store::open(&path).expect("free again once the first lets go");
    assert_eq!(
        reopened
            .inventory()
            .expect("inventory")
            .report
            .certificates
            .len(),
        1
    );
}

#[test]
fn a_version_1_store_is_migrated_and_keeps_its_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("certwatch.db");
    {
        // What the released version wrote: its schema and one scan, one digest mark.
        let conn = Connection::open(&path).expect("sqlite");
        let v1 = include_str!("schema.rs");
        let start = v1.find("const V1: &str = \"").expect("V1") + "const V1: &str = \"".len();
        let end = start + v1[start..].find("\";").expect("end of V1");
        conn.execute_batch(&v1[start..end]).expect("v1 schema");
        conn.execute_batch(
            "PRAGMA application_id = 1668772724; PRAGMA user_version = 1; PRAGMA journal_mode = WAL;",
        )
        .expect("v1 pragmas");
        let record = serde_json::to_string(&cert(A, EU, "x", day(0))).expect("json");
        conn.execute(
            "INSERT INTO scans (id, generated_at, stats, failures) VALUES (1, ?1, ?2, '[]')",
            params![
                timestamp(day(0)),
                serde_json::to_string(&Stats::default()).expect("json")
            ],
        )
        .expect("scan");
        conn.execute(
            "INSERT INTO certificates (arn, account_id, region, last_seen, scan_id, record)
             VALUES (?1, ?2, ?3, ?4, 1, ?5)",
            params![arn(A, EU, "x"), A, EU, timestamp(day(0)), record],
        )
        .expect("certificate");
        conn.execute(
            "INSERT INTO digests (local_date, channel, ts, posted_at)
             VALUES ('2026-11-01', 'C1', '1.000001', ?1)",
            [timestamp(day(0))],
        )
        .expect("digest");
    }
    let store = Store::open(&path).expect("a version 1 store opens");
    let inventory = store.inventory().expect("inventory");
    assert_eq!(inventory.report.certificates.len(), 1);
    assert_eq!(inventory.last_scan, Some(day(0)));
    let date = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    assert!(store.digest_posted(date, "C1").expect("posted"));
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("user_version");
    assert_eq!(version, schema::VERSION);
}

mod accounts;
mod memory;

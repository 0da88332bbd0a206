//! Findings with a memory and people's decisions: the history across scans, what a merge says
//! changed, the audit trail that cannot be rewritten, decisions in force, and the migration of
//! a store written by schema 2.

use super::*;
use certwatch_core::changes::diff;
use certwatch_core::{AuditAction, AuditEntry, ChangeKind, Decision, DecisionKind, FindingHistory};
use std::collections::BTreeSet;

use Code::{Imported, NameUnresolvable, NotInUse};
use Urgency::{Action, Upcoming, Urgent};

/// `record` with exactly `findings`.
fn with(mut record: CertificateRecord, findings: &[(Code, Urgency)]) -> CertificateRecord {
    record.findings = findings
        .iter()
        .map(|(code, urgency)| Finding {
            code: code.clone(),
            urgency: *urgency,
            summary: format!("{code}"),
            remedy: "fix it".to_owned(),
        })
        .collect();
    record
}

/// One line per change: "id: kind code urgency".
fn lines(changes: &Changes) -> Vec<String> {
    changes
        .changes
        .iter()
        .map(|c| {
            let id = c.arn.rsplit('/').next().expect("id");
            let kind = match &c.kind {
                ChangeKind::New => "new".to_owned(),
                ChangeKind::Rose { from } => format!("rose from {from}"),
                ChangeKind::Resolved => "resolved".to_owned(),
                ChangeKind::Renewed { .. } => "renewed".to_owned(),
                ChangeKind::Gone => "gone".to_owned(),
            };
            let code = c.code.as_ref().map_or("-".to_owned(), Code::to_string);
            let urgency = c.urgency.map_or("-", Urgency::as_str);
            format!("{id}: {kind} {code} {urgency}")
        })
        .collect()
}

/// The findings' episodes of `arn` as (code, first seen, last seen, urgencies, resolved at),
/// times in days.
type Episode = (Code, i64, i64, Vec<(i64, Urgency)>, Option<i64>);

fn episodes(store: &Store, arn: &str) -> Vec<Episode> {
    let days = |at: DateTime<Utc>| (at - day(0)).num_days();
    store
        .history(arn)
        .expect("history")
        .findings
        .into_iter()
        .map(|f: FindingHistory| {
            assert_eq!(Some(&f.urgency), f.urgencies.last().map(|(_, u)| u));
            (
                f.code,
                days(f.first_seen),
                days(f.last_seen),
                f.urgencies.iter().map(|(at, u)| (days(*at), *u)).collect(),
                f.resolved_at.map(days),
            )
        })
        .collect()
}

/// The NotAfter history of `arn`: (seen at, NotAfter), in days.
fn not_afters(store: &Store, arn: &str) -> Vec<(i64, Option<i64>)> {
    let days = |at: DateTime<Utc>| (at - day(0)).num_days();
    store
        .history(arn)
        .expect("history")
        .not_after
        .into_iter()
        .map(|(seen, not_after)| (days(seen), not_after.map(days)))
        .collect()
}

fn new_since(store: &Store, at: DateTime<Utc>) -> BTreeSet<(String, Code)> {
    store.new_findings_since(at).expect("new findings")
}

#[test]
fn history_across_scans_new_rose_resolved_renewed_stale_gone() {
    let mut store = store();
    let (a, b, c, d) = (
        arn(A, EU, "a"),
        arn(A, EU, "b"),
        arn(B, EU, "c"),
        arn(A, US, "d"),
    );
    // Day 0: the first scan: everything is new.
    let merged = store
        .merge_scan(report(
            day(0),
            vec![
                with(cert(A, EU, "a", day(0)), &[(Imported, Action)]),
                cert(A, EU, "b", day(0)),
                with(cert(B, EU, "c", day(0)), &[(NotInUse, Upcoming)]),
                with(cert(A, US, "d", day(0)), &[(Imported, Urgent)]),
            ],
            vec![],
        ))
        .expect("day 0");
    assert_eq!(
        lines(&merged.changes),
        [
            "d: new IMPORTED urgent",
            "a: new IMPORTED action",
            "c: new NOT_IN_USE upcoming"
        ]
    );
    assert_eq!(merged.inventory, store.inventory().expect("inventory"));

    // Day 1: a rose, b has a new finding, account B's role is denied: c is stale.
    let merged = store
        .merge_scan(report(
            day(1),
            vec![
                with(cert(A, EU, "a", day(1)), &[(Imported, Urgent)]),
                with(cert(A, EU, "b", day(1)), &[(NotInUse, Upcoming)]),
                with(cert(A, US, "d", day(1)), &[(Imported, Urgent)]),
            ],
            vec![fail(B, None, Stage::AssumeRole, None)],
        ))
        .expect("day 1");
    assert_eq!(
        lines(&merged.changes),
        [
            "a: rose from action IMPORTED urgent",
            "b: new NOT_IN_USE upcoming"
        ]
    );
    assert_eq!(
        new_since(&store, day(0)),
        BTreeSet::from([(b.clone(), NotInUse)]),
        "first seen after day 0"
    );

    // Day 2: a fixed, b renewed (and fixed), d deleted, c still stale.
    let mut renewed = cert(A, EU, "b", day(2));
    renewed.facts.not_after = Some(day(300));
    let merged = store
        .merge_scan(report(
            day(2),
            vec![cert(A, EU, "a", day(2)), renewed],
            vec![fail(B, None, Stage::AssumeRole, None)],
        ))
        .expect("day 2");
    assert_eq!(
        lines(&merged.changes),
        [
            "a: resolved IMPORTED urgent",
            "d: gone - urgent",
            "b: renewed - upcoming",
            "b: resolved NOT_IN_USE upcoming",
        ]
    );
    assert!(
        new_since(&store, day(0)).is_empty(),
        "b's finding is resolved"
    );

    assert_eq!(
        episodes(&store, &a),
        [(Imported, 0, 1, vec![(0, Action), (1, Urgent)], Some(2))]
    );
    assert_eq!(
        episodes(&store, &b),
        [(NotInUse, 1, 1, vec![(1, Upcoming)], Some(2))]
    );
    assert_eq!(not_afters(&store, &b), [(0, Some(100)), (2, Some(300))]);
    assert_eq!(
        not_afters(&store, &a),
        [(0, Some(100))],
        "unchanged: one row"
    );
    // Stale: untouched, still open, last seen on day 0.
    assert_eq!(
        episodes(&store, &c),
        [(NotInUse, 0, 0, vec![(0, Upcoming)], None)]
    );
    // Deleted: its findings are resolved with it; its history stays readable.
    assert_eq!(
        episodes(&store, &d),
        [(Imported, 0, 1, vec![(0, Urgent)], Some(2))]
    );

    // Day 3: B is back and c is fine; a's finding comes back: a new episode; b is re-imported
    // with its old NotAfter (backwards: not a renewal, but history keeps it).
    let merged = store
        .merge_scan(report(
            day(3),
            vec![
                with(cert(A, EU, "a", day(3)), &[(Imported, Action)]),
                cert(A, EU, "b", day(3)),
                cert(B, EU, "c", day(3)),
            ],
            vec![],
        ))
        .expect("day 3");
    assert_eq!(
        lines(&merged.changes),
        ["a: new IMPORTED action", "c: resolved NOT_IN_USE upcoming"]
    );
    assert_eq!(
        episodes(&store, &a),
        [
            (Imported, 0, 1, vec![(0, Action), (1, Urgent)], Some(2)),
            (Imported, 3, 3, vec![(3, Action)], None),
        ]
    );
    assert_eq!(
        episodes(&store, &c),
        [(NotInUse, 0, 0, vec![(0, Upcoming)], Some(3))]
    );
    assert_eq!(
        new_since(&store, day(2)),
        BTreeSet::from([(a.clone(), Imported)])
    );
    assert_eq!(
        not_afters(&store, &b),
        [(0, Some(100)), (2, Some(300)), (3, Some(100))],
        "every change of NotAfter is kept, backwards too"
    );
    assert_eq!(new_since(&store, day(3)), BTreeSet::new(), "after, not at");
}

#[test]
fn merge_scan_merges_as_record_scan_and_diffs_the_full_inventories() {
    let scans = [
        report(
            day(0),
            vec![
                with(cert(A, EU, "a", day(0)), &[(Imported, Action)]),
                with(cert(A, US, "gone", day(0)), &[(NotInUse, Upcoming)]),
                with(cert(B, EU, "stale", day(0)), &[(Imported, Upcoming)]),
            ],
            vec![],
        ),
        report(
            day(1),
            vec![
                with(
                    cert(A, EU, "a", day(1)),
                    &[(Imported, Urgent), (NotInUse, Action)],
                ),
                cert(A, EU, "new", day(1)),
            ],
            vec![fail(B, Some(EU), Stage::ListCertificates, None)],
        ),
    ];
    let (mut merging, mut recording) = (store(), store());
    for scan in scans {
        let before = recording.inventory().expect("inventory");
        let recorded = recording.record_scan(&scan).expect("record");
        let merged = merging.merge_scan(scan).expect("merge");
        assert_eq!(merged.inventory, recorded);
        assert_eq!(
            merged.changes,
            diff(&before, &recorded),
            "the lean read loses nothing"
        );
        assert_eq!(merged.inventory, merging.inventory().expect("inventory"));
    }
    // Both merges keep the history.
    let a = arn(A, EU, "a");
    assert_eq!(
        merging.history(&a).expect("history"),
        recording.history(&a).expect("history")
    );
    assert_eq!(episodes(&recording, &arn(A, US, "gone")).len(), 1);
}

#[test]
fn hidden_findings_stay_open_as_core_judges_them() {
    let mut store = store();
    let (web, old) = (arn(A, EU, "web"), arn(A, EU, "old"));
    store
        .merge_scan(report(
            day(0),
            vec![
                with(cert(A, EU, "web", day(0)), &[(NameUnresolvable, Upcoming)]),
                with(cert(A, EU, "old", day(0)), &[(Imported, Urgent)]),
            ],
            vec![],
        ))
        .expect("day 0");
    // web's DNS lookup timed out; old expired (EXPIRED hides IMPORTED).
    let merged = store
        .merge_scan(report(
            day(1),
            vec![
                cert(A, EU, "web", day(1)),
                with(
                    cert(A, EU, "old", day(1)),
                    &[(Code::Expired, Urgency::Expired)],
                ),
            ],
            vec![fail(A, Some(EU), Stage::Dns, Some(&web))],
        ))
        .expect("day 1");
    assert_eq!(lines(&merged.changes), ["old: new EXPIRED expired"]);
    assert_eq!(
        episodes(&store, &web),
        [(NameUnresolvable, 0, 0, vec![(0, Upcoming)], None)]
    );
    assert_eq!(
        episodes(&store, &old),
        [
            (Imported, 0, 0, vec![(0, Urgent)], None),
            (Code::Expired, 1, 1, vec![(1, Urgency::Expired)], None),
        ]
    );
    // Checked again: resolved.
    store
        .merge_scan(report(day(2), vec![cert(A, EU, "web", day(2))], vec![]))
        .expect("day 2");
    assert_eq!(
        episodes(&store, &web),
        [(NameUnresolvable, 0, 0, vec![(0, Upcoming)], Some(2))]
    );
}

#[test]
fn resolved_history_is_pruned_after_a_year_and_a_bit() {
    let mut store = store();
    let (a, gone) = (arn(A, EU, "a"), arn(A, EU, "gone"));
    store
        .merge_scan(report(
            day(0),
            vec![
                with(cert(A, EU, "a", day(0)), &[(Imported, Action)]),
                cert(A, EU, "gone", day(0)),
            ],
            vec![],
        ))
        .expect("day 0");
    store
        .merge_scan(report(day(1), vec![cert(A, EU, "a", day(1))], vec![]))
        .expect("day 1");
    let kept = history::HISTORY_KEPT_DAYS;
    let scan = |store: &mut Store, n: i64| {
        store
            .merge_scan(report(day(n), vec![cert(A, EU, "a", day(n))], vec![]))
            .expect("scan");
    };
    scan(&mut store, kept);
    assert_eq!(
        not_afters(&store, &gone),
        [(0, Some(100))],
        "exactly {kept} days"
    );
    scan(&mut store, 1 + kept);
    assert!(not_afters(&store, &gone).is_empty(), "no longer stored");
    assert_eq!(
        episodes(&store, &a).len(),
        1,
        "resolved exactly {kept} days ago"
    );
    scan(&mut store, 2 + kept);
    assert!(episodes(&store, &a).is_empty());
    assert_eq!(
        not_afters(&store, &a),
        [(0, Some(100))],
        "still stored: kept"
    );
}

/// A decision on `arn` made at `at` by U1 in C1, and its audit entry.
fn decision(arn: &str, kind: DecisionKind, at: DateTime<Utc>) -> (AuditEntry, Decision) {
    let action = match &kind {
        DecisionKind::Snooze { until } => AuditAction::Snooze { until: *until },
        DecisionKind::Acknowledge => AuditAction::Acknowledge,
    };
    let entry = AuditEntry {
        at,
        by: "U1".to_owned(),
        channel: "C1".to_owned(),
        action,
        arn: arn.to_owned(),
        reason: format!("reason at {at}"),
    };
    let decision = Decision {
        arn: arn.to_owned(),
        kind,
        by: "U1".to_owned(),
        at,
        reason: entry.reason.clone(),
        channel: "C1".to_owned(),
        findings_at: vec![
            (Imported, Action),
            (Code::Other("FUTURE_CODE".into()), Upcoming),
        ],
        not_after_at: Some(day(100)),
    };
    (entry, decision)
}

#[test]
fn decide_sets_and_clears_the_decision_in_force_and_appends_to_the_audit_trail() {
    let mut store = store();
    let (a, b) = (arn(A, EU, "a"), arn(A, EU, "b"));
    store
        .merge_scan(report(
            day(0),
            vec![with(cert(A, EU, "a", day(0)), &[(Imported, Action)])],
            vec![],
        ))
        .expect("day 0");
    // Sub-second times round trip.
    let at = day(0) + chrono::Duration::nanoseconds(5);
    let until = day(7) + chrono::Duration::milliseconds(250);
    let (snooze_entry, snooze) = decision(&a, DecisionKind::Snooze { until }, at);
    store.decide(&snooze_entry, Some(&snooze)).expect("snooze");
    let inventory = store.inventory().expect("inventory");
    assert_eq!(
        inventory.decisions,
        BTreeMap::from([(a.clone(), snooze.clone())])
    );

    // An acknowledgement replaces the snooze; one on a certificate not stored is kept too.
    let (ack_entry, ack) = decision(&a, DecisionKind::Acknowledge, day(1));
    store.decide(&ack_entry, Some(&ack)).expect("ack");
    let (other_entry, other) = decision(&b, DecisionKind::Acknowledge, day(2));
    store.decide(&other_entry, Some(&other)).expect("ack b");
    assert_eq!(
        store.inventory().expect("inventory").decisions,
        BTreeMap::from([(a.clone(), ack.clone()), (b.clone(), other.clone())])
    );

    // Unsnooze: cleared, and recorded.
    let unsnooze = AuditEntry {
        action: AuditAction::Unsnooze,
        at: day(3),
        reason: String::new(),
        ..ack_entry.clone()
    };
    store.decide(&unsnooze, None).expect("unsnooze");
    assert_eq!(
        store.inventory().expect("inventory").decisions,
        BTreeMap::from([(b.clone(), other.clone())])
    );

    // A merge returns them too, and leaves them alone.
    let merged = store
        .merge_scan(report(day(4), vec![cert(A, EU, "a", day(4))], vec![]))
        .expect("day 4");
    assert_eq!(
        merged.inventory.decisions,
        BTreeMap::from([(b.clone(), other)])
    );

    assert_eq!(
        store.audit(10).expect("audit"),
        [
            unsnooze.clone(),
            other_entry.clone(),
            ack_entry.clone(),
            snooze_entry.clone()
        ],
        "newest first"
    );
    assert_eq!(
        store.audit(2).expect("audit"),
        [unsnooze.clone(), other_entry]
    );
    assert_eq!(
        store.history(&a).expect("history").audit,
        [snooze_entry, ack_entry.clone(), unsnooze],
        "oldest first, this certificate's only"
    );

    // A decision under another certificate's entry: refused, nothing written.
    let error = store
        .decide(
            &ack_entry,
            Some(&ack)
                .map(|d| Decision {
                    arn: b.clone(),
                    ..d.clone()
                })
                .as_ref(),
        )
        .expect_err("mismatch");
    assert!(
        matches!(error, StoreError::DecisionMismatch { .. }),
        "{error}"
    );
    assert_eq!(store.audit(100).expect("audit").len(), 4);
}

/// A resend of `arn`'s validation email for `domains`, at `at`, by U1 in C1.
fn resend(arn: &str, domains: &[&str], at: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        at,
        by: "U1".to_owned(),
        channel: "C1".to_owned(),
        action: AuditAction::ResendValidationEmail {
            domains: domains.iter().map(|d| (*d).to_owned()).collect(),
        },
        arn: arn.to_owned(),
        reason: String::new(),
    }
}

#[test]
fn resends_are_appended_and_the_latest_is_read_back() {
    let mut store = store();
    let (a, b) = (arn(A, EU, "a"), arn(A, EU, "b"));
    assert_eq!(store.last_resend_at(&a).expect("read"), None, "never");

    // A decision on the certificate is no resend, and a resend leaves the decision alone.
    let (ack_entry, ack) = decision(&a, DecisionKind::Acknowledge, day(0));
    store.decide(&ack_entry, Some(&ack)).expect("ack");
    assert_eq!(store.last_resend_at(&a).expect("read"), None, "an ack");

    let first = resend(&a, &["example.org"], day(1));
    store.record_resend(&first).expect("first");
    let later = resend(&a, &["example.org", "www.example.org"], day(2));
    store.record_resend(&later).expect("later");
    // Appended out of order (a clock set back): the latest time still wins.
    store
        .record_resend(&resend(
            &a,
            &["example.org"],
            day(1) + chrono::Duration::hours(1),
        ))
        .expect("out of order");
    store
        .record_resend(&resend(&b, &["b.example.org"], day(5)))
        .expect("another certificate");
    assert_eq!(store.last_resend_at(&a).expect("read"), Some(day(2)));
    assert_eq!(store.last_resend_at(&b).expect("read"), Some(day(5)));
    assert_eq!(
        store.inventory().expect("inventory").decisions.get(&a),
        Some(&ack),
        "the decision in force is untouched"
    );
    assert_eq!(store.audit(10).expect("audit").len(), 5);
    assert!(
        store.audit(10).expect("audit").contains(&later),
        "read back whole"
    );
    assert_eq!(
        store.history(&a).expect("history").audit.len(),
        4,
        "a certificate's history shows its resends"
    );

    // Only a resend goes through record_resend.
    let refused = store
        .record_resend(&ack_entry)
        .expect_err("an ack is not a resend");
    assert!(matches!(refused, StoreError::Value { .. }), "{refused}");
    assert_eq!(store.audit(10).expect("audit").len(), 5, "nothing written");
}

#[test]
fn decisions_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("certwatch.db");
    let a = arn(A, EU, "a");
    let (entry, snooze) = decision(&a, DecisionKind::Snooze { until: day(9) }, day(0));
    {
        let mut store = Store::open(&path).expect("open");
        store.decide(&entry, Some(&snooze)).expect("decide");
    }
    let store = Store::open(&path).expect("reopen");
    assert_eq!(
        store.inventory().expect("inventory").decisions.get(&a),
        Some(&snooze),
        "even before any scan"
    );
    assert_eq!(store.audit(1).expect("audit"), [entry]);
}

#[test]
fn the_audit_trail_is_append_only() {
    let mut store = store();
    let a = arn(A, EU, "a");
    let (entry, ack) = decision(&a, DecisionKind::Acknowledge, day(0));
    store.decide(&entry, Some(&ack)).expect("decide");
    let refused = [
        "UPDATE audit SET reason = 'rewritten'",
        "UPDATE audit SET by = 'U2' WHERE id = 1",
        "DELETE FROM audit",
        "DELETE FROM audit WHERE id = 1",
        "INSERT OR REPLACE INTO audit (id, at, by, channel, arn, action, reason)
             VALUES (1, 'x', 'U2', 'C2', 'arn', '{}', 'replaced')",
        "REPLACE INTO audit (id, at, by, channel, arn, action, reason)
             VALUES (1, 'x', 'U2', 'C2', 'arn', '{}', 'replaced')",
        "INSERT INTO audit (id, at, by, channel, arn, action, reason)
             VALUES (1, 'x', 'U2', 'C2', 'arn', '{}', 'upserted')
             ON CONFLICT (id) DO UPDATE SET reason = excluded.reason",
    ];
    for sql in refused {
        let error = store.conn.execute(sql, []).expect_err(sql);
        assert!(
            error.to_string().contains("the audit trail is append-only"),
            "{sql}: {error}"
        );
    }
    assert_eq!(
        store.audit(10).expect("audit"),
        std::slice::from_ref(&entry)
    );
    // Appending still works, the id is new.
    store.decide(&entry, None).expect("append");
    let ids: Vec<i64> = store
        .conn
        .prepare("SELECT id FROM audit ORDER BY id")
        .expect("prepare")
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("ids");
    assert_eq!(ids, [1, 2]);
}

#[test]
fn last_digest_posted_at_is_the_latest_post() {
    let mut store = store();
    assert_eq!(store.last_digest_posted_at("C1").expect("read"), None);
    let date = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).expect("date");
    store
        .record_digest_intent(date(3), "C1", day(2))
        .expect("intent");
    assert_eq!(
        store.last_digest_posted_at("C1").expect("read"),
        None,
        "an intent is not a post"
    );
    // Sub-second times compare as times, not as text ("…:00.5Z" < "…:00Z" as text).
    let later = day(1) + chrono::Duration::milliseconds(500);
    store
        .mark_digest_posted(date(2), "C1", "2.0", later)
        .expect("post");
    store
        .mark_digest_posted(date(1), "C1", "1.0", day(0))
        .expect("post");
    store
        .mark_digest_posted(date(4), "C1", "", day(1))
        .expect("a date that needed no post, marked before another");
    assert_eq!(
        store.last_digest_posted_at("C1").expect("read"),
        Some(later)
    );
}

/// Schema versions 1 and 2 exactly as the released certwatch wrote them (frozen here: the
/// schema's own constants must never change, and this copy proves it).
const RELEASED_V1_V2: &str = "
CREATE TABLE scans (
    id           INTEGER PRIMARY KEY,
    generated_at TEXT NOT NULL,    -- RFC 3339, UTC
    stats        TEXT NOT NULL,    -- JSON of core::Stats
    failures     TEXT NOT NULL     -- JSON array of core::Failure
);

CREATE TABLE certificates (
    arn        TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    last_seen  TEXT NOT NULL,      -- generated_at of the scan that last saw it (RFC 3339, UTC)
    scan_id    INTEGER NOT NULL,   -- that scan's id
    record     TEXT NOT NULL       -- JSON of core::CertificateRecord as that scan wrote it
);
CREATE INDEX certificates_target ON certificates (account_id, region);
CREATE INDEX certificates_scan ON certificates (scan_id);
CREATE INDEX certificates_last_seen ON certificates (last_seen);

CREATE TABLE digests (
    local_date TEXT PRIMARY KEY,   -- YYYY-MM-DD in the digest's time zone
    channel    TEXT NOT NULL,
    ts         TEXT NOT NULL,      -- Slack message timestamp
    posted_at  TEXT NOT NULL       -- RFC 3339, UTC
);

CREATE TABLE digest_intents (
    local_date  TEXT PRIMARY KEY,  -- YYYY-MM-DD in the digest's time zone
    channel     TEXT NOT NULL,
    intended_at TEXT NOT NULL      -- RFC 3339, UTC
);
";

#[test]
fn a_version_2_store_is_migrated_to_3_and_keeps_its_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("certwatch.db");
    let (a, stale) = (arn(A, EU, "a"), arn(B, EU, "stale"));
    let stale_record = with(cert(B, EU, "stale", day(0)), &[(NotInUse, Upcoming)]);
    let fresh_record = with(cert(A, EU, "a", day(1)), &[(Imported, Action)]);
    {
        // What the released version wrote: two scans (B failed in the second), a digest and
        // an intent.
        let conn = Connection::open(&path).expect("sqlite");
        conn.execute_batch(RELEASED_V1_V2).expect("v2 schema");
        conn.execute_batch(
            "PRAGMA application_id = 1668772724; PRAGMA user_version = 2; PRAGMA journal_mode = WAL;",
        )
        .expect("v2 pragmas");
        let failures = vec![fail(B, None, Stage::AssumeRole, None)];
        for (id, at, failures) in [(1, day(0), vec![]), (2, day(1), failures)] {
            conn.execute(
                "INSERT INTO scans (id, generated_at, stats, failures) VALUES (?1, ?2, ?3, ?4)",
                params![
                    id,
                    timestamp(at),
                    serde_json::to_string(&Stats::default()).expect("json"),
                    serde_json::to_string(&failures).expect("json")
                ],
            )
            .expect("scan");
        }
        for (record, scan, at) in [(&stale_record, 1, day(0)), (&fresh_record, 2, day(1))] {
            let facts = &record.facts;
            conn.execute(
                "INSERT INTO certificates (arn, account_id, region, last_seen, scan_id, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    facts.arn,
                    facts.account_id,
                    facts.region,
                    timestamp(at),
                    scan,
                    serde_json::to_string(record).expect("json")
                ],
            )
            .expect("certificate");
        }
        conn.execute(
            "INSERT INTO digests (local_date, channel, ts, posted_at)
             VALUES ('2026-11-02', 'C1', '1.000001', ?1)",
            [timestamp(day(1))],
        )
        .expect("digest");
        conn.execute(
            "INSERT INTO digest_intents (local_date, channel, intended_at)
             VALUES ('2026-11-03', 'C1', ?1)",
            [timestamp(day(2))],
        )
        .expect("intent");
    }

    let mut store = Store::open(&path).expect("a version 2 store opens");
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("user_version");
    assert_eq!(version, crate::schema::VERSION);
    let inventory = store.inventory().expect("inventory");
    assert_eq!(arns(&inventory), sorted(vec![a.clone(), stale.clone()]));
    assert_eq!(record(&inventory, &a), &fresh_record);
    assert_eq!(inventory.stale.get(&stale), Some(&day(0)));
    assert_eq!(inventory.last_scan, Some(day(1)));
    assert!(inventory.decisions.is_empty());
    let date = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("date");
    assert!(store.digest_posted(date(2), "C1").expect("posted"));
    assert!(matches!(
        store.digest_mark(date(3), "C1").expect("mark"),
        Some(DigestMark::Intended { .. })
    ));
    assert_eq!(
        store.last_digest_posted_at("C1").expect("read"),
        Some(day(1))
    );

    // The history starts from what was stored: no news for the next digest.
    assert_eq!(
        episodes(&store, &a),
        [(Imported, 0, 1, vec![(0, Action)], None)]
    );
    assert_eq!(
        episodes(&store, &stale),
        [(NotInUse, 0, 0, vec![(0, Upcoming)], None)]
    );
    assert_eq!(not_afters(&store, &a), [(0, Some(100))]);
    assert!(new_since(&store, day(1)).is_empty());

    // The next merge goes on from there.
    let merged = store
        .merge_scan(report(
            day(2),
            vec![with(cert(A, EU, "a", day(2)), &[(Imported, Urgent)])],
            vec![fail(B, None, Stage::AssumeRole, None)],
        ))
        .expect("merge");
    assert_eq!(
        lines(&merged.changes),
        ["a: rose from action IMPORTED urgent"]
    );
    assert_eq!(
        episodes(&store, &a),
        [(Imported, 0, 2, vec![(0, Action), (2, Urgent)], None)]
    );
    assert_eq!(not_afters(&store, &a), [(0, Some(100))]);
    drop(store);
    let reopened = Store::open(&path).expect("a version 3 store reopens");
    assert_eq!(reopened.history(&a).expect("history").findings.len(), 1);
}

#[test]
fn the_schema_constants_of_released_versions_are_unchanged() {
    let schema = include_str!("../schema.rs");
    let constant = |name: &str| {
        let start = schema
            .find(&format!("const {name}: &str = \""))
            .expect(name)
            + format!("const {name}: &str = \"").len();
        let end = start + schema[start..].find("\";").expect("end");
        schema[start..end].to_owned()
    };
    assert_eq!(
        format!("{}{}", constant("V1"), constant("V2")).replace("\n\n", "\n"),
        RELEASED_V1_V2.replace("\n\n", "\n"),
    );
}

//! The alert message set: a snapshot, what is left out, and a large organization split
//! within Slack's limits.

use super::*;
use crate::fixtures::{self, at, Fixture};
use crate::{blocks_to_text, check_limits, Message};
use certwatch_core::changes::diff;
use certwatch_core::{CertificateFacts, CertificateRecord, Finding};

fn messages(digest: &Digest) -> Vec<&Message> {
    std::iter::once(&digest.parent)
        .chain(&digest.replies)
        .collect()
}

fn check(digest: &Digest) {
    for (i, message) in messages(digest).iter().enumerate() {
        check_limits(&message.blocks).unwrap_or_else(|e| panic!("message {i}: {e}"));
        assert!(!message.text.is_empty() && message.text.len() <= 3000);
    }
}

fn record_mut<'a>(fixture: &'a mut Fixture, domain: &str) -> &'a mut CertificateRecord {
    fixture
        .inventory
        .report_mut()
        .certificates
        .iter_mut()
        .find(|r| r.facts.display_name() == domain)
        .unwrap_or_else(|| panic!("{domain}"))
}

/// The previous scan of [`fixtures::decided`]: `api.example.com` was only action,
/// `pay.example.com` had one finding fewer, `shop.example.com` had a finding since
/// resolved, `*.example.org` expired sooner (renewed since), `old` and `lapsed` were not
/// there yet, and `gone.example.com` was.
fn previous() -> Fixture {
    let mut previous = fixtures::decided();
    previous.inventory.decisions.clear();
    record_mut(&mut previous, "api.example.com").findings[0].urgency = Urgency::Action;
    record_mut(&mut previous, "pay.example.com")
        .findings
        .truncate(1);
    let shop = record_mut(&mut previous, "shop.example.com");
    shop.findings.push(Finding {
        code: Code::NotInUse,
        urgency: Urgency::Action,
        summary: "shop.example.com is not in use".to_owned(),
        remedy: "Attach it or delete it.".to_owned(),
    });
    let wildcard = record_mut(&mut previous, "*.example.org");
    wildcard.facts.not_after = Some(at("2026-03-10T00:00:00Z"));
    wildcard.findings[0].urgency = Urgency::Action;
    let report = previous.inventory.report_mut();
    report
        .certificates
        .retain(|r| !["old.example.com", "lapsed.example.com"].contains(&r.facts.display_name()));
    let mut facts = CertificateFacts::new(
        "222222222222",
        "us-east-1",
        "arn:aws:acm:us-east-1:222222222222:certificate/5eed0000-0000-4000-8000-000000000042",
    );
    facts.domain_name = Some("gone.example.com".to_owned());
    facts.not_after = Some(at("2026-03-05T00:00:00Z"));
    let finding = Finding {
        code: Code::Imported,
        urgency: Urgency::Urgent,
        summary: "Imported gone.example.com expires in 2 days".to_owned(),
        remedy: "Re-import it.".to_owned(),
    };
    report.certificates.push(CertificateRecord::new(
        "payments",
        facts,
        vec![finding],
        at("2026-03-01T06:00:00Z"),
    ));
    report.sort();
    previous
}

#[test]
fn alerts_snapshot() {
    let current = fixtures::decided();
    let changes = diff(&previous().inventory, &current.inventory);
    let alerts = alerts(
        &changes,
        &current.inventory,
        current.now,
        &AlertOptions::default(),
    )
    .expect("alerts");
    check(&alerts);
    assert!(alerts.replies.is_empty());
    insta::assert_json_snapshot!("alerts", alerts);
    let text = blocks_to_text(&alerts.parent.blocks);
    let order = [
        "ACM certificates: 6 changes since the previous scan (2 new, 1 more urgent, 1 resolved, 1 renewed, 1 gone)",
        "*New findings (2)*",
        "`old.example.com`",
        "New `EXPIRED` (expired)",
        "`lapsed.example.com`",
        "New `IMPORTED` (urgent): Imported lapsed.example.com",
        "*More urgent (1)*",
        "`api.example.com`",
        "`IMPORTED` action → urgent: Imported api.example.com expires in 5 days",
        "*What to do:* Re-import a renewed certificate into the same ARN before 2026-03-07",
        "*Snoozed* by @U0SNOOZER until 2026-03-06, back because it became urgent",
        "*Resolved (1)*",
        "`shop.example.com` · payments (222222222222) · us-east-1: `NOT_IN_USE` (was action) resolved",
        "*Renewed (1)*",
        "`*.example.org` · R&D <lab> (111111111111) · us-east-1: NotAfter 2026-03-10 → 2026-05-01 · *Acknowledged* by @U0ACK on 2026-02-01, back because its findings changed: R&D owns it",
        "*Gone (1)*",
        "`gone.example.com` · payments (222222222222) · us-east-1: no longer listed; it was urgent",
        "1 change of snoozed or acknowledged certificates left out: `/certs snoozed`",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|o| {
            text.find(o)
                .unwrap_or_else(|| panic!("{o} missing from\n{text}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    // pay.example.com's new finding: snoozed, left out.
    assert!(!text.contains("pay.example.com"), "{text}");
    // Buttons: for the new and risen ones only.
    let json = serde_json::to_string(&alerts.parent.blocks).expect("json");
    assert_eq!(json.matches("certwatch_snooze_7d").count(), 3);
    assert!(json.contains("<@U0SNOOZER>"), "{json}");
}

#[test]
fn nothing_to_say_is_none() {
    let current = fixtures::decided();
    let none = alerts(
        &Changes::default(),
        &current.inventory,
        current.now,
        &AlertOptions::default(),
    );
    assert_eq!(none, None);
    let same = diff(&current.inventory, &current.inventory);
    assert!(same.is_empty());
    // Only the snoozed certificate's new finding: left out, so nothing.
    let mut before = current.inventory.clone();
    if let Some(pay) = before
        .report_mut()
        .certificates
        .iter_mut()
        .find(|r| r.facts.display_name() == "pay.example.com")
    {
        pay.findings.truncate(1);
    }
    let changes = diff(&before, &current.inventory);
    assert_eq!(changes.changes.len(), 1);
    assert_eq!(
        alerts(
            &changes,
            &current.inventory,
            current.now,
            &AlertOptions::default()
        ),
        None
    );
    // Below the threshold.
    let high = AlertOptions {
        min_urgency: Urgency::Expired,
        ..AlertOptions::default()
    };
    let changes = diff(&previous().inventory, &current.inventory);
    let only_expired = alerts(&changes, &current.inventory, current.now, &high).expect("alerts");
    let text = blocks_to_text(&only_expired.parent.blocks);
    assert!(
        text.contains("1 change since the previous scan (1 new)"),
        "{text}"
    );
}

/// Every change of a 600-certificate organization appears exactly once over the parent and
/// its replies, in its kind's group, and every message is within Slack's limits.
#[test]
fn large_changes_are_split_never_truncated() {
    let fixture = fixtures::large(600);
    let kinds = [
        ChangeKind::New,
        ChangeKind::Rose {
            from: Urgency::Upcoming,
        },
        ChangeKind::Resolved,
        ChangeKind::Renewed {
            from: Some(at("2025-03-01T00:00:00Z")),
            to: Some(at("2026-03-01T00:00:00Z")),
        },
        ChangeKind::Gone,
    ];
    let changes = Changes {
        changes: fixture
            .inventory
            .report
            .certificates
            .iter()
            .enumerate()
            .map(|(i, r)| Change {
                arn: r.facts.arn.clone(),
                account_id: r.facts.account_id.clone(),
                account_name: r.account_name.clone(),
                region: r.facts.region.clone(),
                domain: r.facts.display_name().to_owned(),
                code: r
                    .findings
                    .first()
                    .map(|f| f.code.clone())
                    .or(Some(Code::Imported)),
                urgency: Some(
                    r.worst_urgency()
                        .unwrap_or(Urgency::Action)
                        .max(Urgency::Action),
                ),
                not_after: r.facts.not_after,
                kind: kinds[i % kinds.len()].clone(),
            })
            .collect(),
    };
    let alerts = alerts(
        &changes,
        &fixture.inventory,
        fixture.now,
        &AlertOptions::default(),
    )
    .expect("alerts");
    check(&alerts);
    assert!(
        alerts.replies.len() >= 10,
        "{} replies",
        alerts.replies.len()
    );
    let texts: Vec<String> = messages(&alerts)
        .iter()
        .map(|m| serde_json::to_string(&m.blocks).expect("json"))
        .collect();
    let all = texts.concat();
    for change in &changes.changes {
        let name = format!("`{}`", change.domain);
        assert_eq!(all.matches(&name).count(), 1, "{}", change.domain);
        let buttons = all
            .matches(&format!("\"value\":\"{}\"", change.arn))
            .count();
        let actionable = matches!(change.kind, ChangeKind::New | ChangeKind::Rose { .. });
        assert_eq!(buttons, if actionable { 3 } else { 0 }, "{}", change.domain);
    }
    // Groups in order over the whole set: all new, then risen, resolved, renewed, gone.
    let mut kinds_seen: Vec<usize> = changes
        .changes
        .iter()
        .map(|c| {
            let at = all.find(&format!("`{}`", c.domain)).unwrap_or(0);
            (
                at,
                KINDS.iter().position(|(k, ..)| *k == kind(c)).unwrap_or(0),
            )
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .collect();
    let sorted = {
        let mut s = kinds_seen.clone();
        s.sort();
        s
    };
    assert_eq!(kinds_seen, sorted);
    kinds_seen.dedup();
    assert_eq!(kinds_seen, vec![0, 1, 2, 3, 4]);
    let parent = blocks_to_text(&alerts.parent.blocks);
    assert!(
        parent.contains("ACM certificates: 600 changes since the previous scan (120 new, 120 more urgent, 120 resolved, 120 renewed, 120 gone)"),
        "{parent}"
    );
    assert!(
        parent.contains(&format!(
            "more changes in {} replies.",
            alerts.replies.len()
        )),
        "{parent}"
    );
}

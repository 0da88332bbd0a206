//! `/certs show` with what the store remembers of the certificate (core's
//! [`CertificateHistory`]): when each finding was first seen, how its urgency changed and when
//! it was resolved; how its NotAfter moved (renewals); and every decision people made about it
//! (the audit trail, newest first).

use super::{scan_status, show_with, Reply};
use crate::blocks::{self, MAX_SECTION};
use crate::index::Prepared;
use crate::mrkdwn::{self, channel, code, day, escape, moment, plain_date, user};
use certwatch_core::{AuditAction, AuditEntry, CertificateHistory, FindingHistory};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Audit entries shown; older ones are counted.
const MAX_AUDIT: usize = 30;

/// `/certs show ARN` with the certificate's history after its findings (the runtime answers
/// `Answer::Show` and the *Details* button with it). `arn` that is not in the inventory: the
/// same "no certificate" reply as `/certs show`; an empty history: the same reply as
/// `/certs show`.
pub fn show_with_history(
    arn: &str,
    inv: &Prepared,
    history: &CertificateHistory,
    scan_running: bool,
    now: DateTime<Utc>,
    public: bool,
) -> Reply {
    let status = scan_status(inv, scan_running);
    let (text, blocks) = show_with(inv, now, &status, arn, history_blocks(history));
    Reply::new(public, &text, blocks)
}

/// The history as sections: findings, NotAfter, decisions.
fn history_blocks(history: &CertificateHistory) -> Vec<Value> {
    let mut lines = Vec::new();
    if !history.findings.is_empty() {
        let mut findings: Vec<&FindingHistory> = history.findings.iter().collect();
        findings.sort_by(|a, b| (a.first_seen, &a.code).cmp(&(b.first_seen, &b.code)));
        lines.push("*History of its findings*".to_owned());
        lines.extend(findings.iter().map(|f| finding_line(f)));
    }
    if history.not_after.len() > 1 || history.not_after.iter().any(|(_, n)| n.is_some()) {
        let steps: Vec<String> = history
            .not_after
            .iter()
            .map(|(seen, not_after)| {
                format!(
                    "{} (from {})",
                    not_after.map_or_else(|| "none".to_owned(), day),
                    day(*seen)
                )
            })
            .collect();
        let renewals = history.not_after.len().saturating_sub(1);
        lines.push(format!(
            "*NotAfter* ({}): {}",
            mrkdwn::plural(renewals, "change", "changes"),
            steps.join(" → ")
        ));
    }
    if !history.audit.is_empty() {
        let mut audit: Vec<&AuditEntry> = history.audit.iter().collect();
        audit.sort_by_key(|e| std::cmp::Reverse(e.at));
        lines.push(format!("*Decisions* ({}, newest first)", audit.len()));
        lines.extend(audit.iter().take(MAX_AUDIT).map(|e| audit_line(e)));
        if audit.len() > MAX_AUDIT {
            lines.push(format!("… and {} older", audit.len() - MAX_AUDIT));
        }
    }
    blocks::pack(&lines, "\n", MAX_SECTION)
        .iter()
        .map(|text| blocks::section(text))
        .collect()
}

/// "`IMPORTED`: first seen 2026-01-05 (action) · urgent from 2026-02-28 · resolved 2026-03-01".
fn finding_line(finding: &FindingHistory) -> String {
    let mut urgencies = finding.urgencies.iter();
    let mut line = format!(
        "{}: first seen {}",
        code(finding.code.as_str()),
        plain_date(finding.first_seen)
    );
    if let Some((_, first)) = urgencies.next() {
        line.push_str(&format!(" ({first})"));
    }
    for (at, urgency) in urgencies {
        line.push_str(&format!(" · {urgency} from {}", plain_date(*at)));
    }
    match finding.resolved_at {
        Some(at) => line.push_str(&format!(" · resolved {}", plain_date(at))),
        None => line.push_str(&format!(
            " · still reported, last seen {}",
            plain_date(finding.last_seen)
        )),
    }
    line
}

/// "2026-03-02 09:00 UTC · <@U1> snoozed until 2026-03-09 in <#C1>: reason".
fn audit_line(entry: &AuditEntry) -> String {
    let what = match &entry.action {
        AuditAction::Snooze { until } => format!("snoozed it until {}", moment(*until)),
        AuditAction::Acknowledge => "acknowledged it".to_owned(),
        AuditAction::Unsnooze => "ended the decision".to_owned(),
        AuditAction::ResendValidationEmail { domains } => format!(
            "had ACM resend the validation email for {}",
            domains
                .iter()
                .map(|d| code(d))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut line = format!(
        "{} · {} {what} in {}",
        plain_date(entry.at),
        user(&entry.by),
        channel(&entry.channel)
    );
    let reason = entry.reason.trim();
    if !reason.is_empty() {
        line.push_str(&format!(
            ": {}",
            mrkdwn::shorten(&escape(&mrkdwn::one_line(reason)), 500).0
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, at};
    use crate::{blocks_to_text, check_limits};
    use certwatch_core::{Code, Urgency};

    #[test]
    fn show_with_history_snapshot() {
        let fixture = fixtures::decided();
        let arn =
            "arn:aws:acm:us-east-1:222222222222:certificate/5eed0000-0000-4000-8000-000000000002";
        let findings = vec![
            FindingHistory {
                code: Code::Imported,
                first_seen: at("2026-01-05T06:00:00Z"),
                last_seen: at("2026-03-02T06:00:00Z"),
                urgency: Urgency::Urgent,
                urgencies: vec![
                    (at("2026-01-05T06:00:00Z"), Urgency::Upcoming),
                    (at("2026-02-05T06:00:00Z"), Urgency::Action),
                    (at("2026-02-28T06:00:00Z"), Urgency::Urgent),
                ],
                resolved_at: None,
            },
            FindingHistory {
                code: Code::NotInUse,
                first_seen: at("2025-12-01T06:00:00Z"),
                last_seen: at("2025-12-02T06:00:00Z"),
                urgency: Urgency::Action,
                urgencies: vec![(at("2025-12-01T06:00:00Z"), Urgency::Action)],
                resolved_at: Some(at("2025-12-03T06:00:00Z")),
            },
        ];
        let not_after = vec![
            (at("2025-03-01T06:00:00Z"), Some(at("2025-09-07T06:00:00Z"))),
            (at("2025-09-01T06:00:00Z"), Some(at("2026-03-07T06:00:00Z"))),
        ];
        let entry = |at_: &str, by: &str, action, reason: &str| AuditEntry {
            at: at(at_),
            by: by.to_owned(),
            channel: "C0CERTS".to_owned(),
            action,
            arn: arn.to_owned(),
            reason: reason.to_owned(),
        };
        let audit = vec![
            entry(
                "2026-02-10T09:00:00Z",
                "U0ACK",
                AuditAction::Acknowledge,
                "payments owns it",
            ),
            entry(
                "2026-02-20T10:15:00Z",
                "U0SNOOZER",
                AuditAction::Snooze {
                    until: at("2026-03-06T00:00:00Z"),
                },
                "waiting for the vendor's renewed certificate, <OPS-7> & co",
            ),
            entry("2026-02-15T10:15:00Z", "U0ACK", AuditAction::Unsnooze, ""),
        ];
        let history = CertificateHistory {
            arn: arn.to_owned(),
            findings,
            not_after,
            audit,
        };
        let reply = show_with_history(
            arn,
            &fixture.prepared(),
            &history,
            false,
            fixture.now,
            false,
        );
        check_limits(&reply.blocks).unwrap_or_else(|e| panic!("{e}"));
        insta::assert_json_snapshot!("show_with_history", reply);
        let text = blocks_to_text(&reply.blocks);
        for expected in [
            "*Decision (shown again):* *Snoozed* by @U0SNOOZER until 2026-03-06, back because it became urgent",
            "`NOT_IN_USE`: first seen 2025-12-01 06:00 UTC (action) · resolved 2025-12-03 06:00 UTC",
            "`IMPORTED`: first seen 2026-01-05 06:00 UTC (upcoming) · action from 2026-02-05 06:00 UTC · urgent from 2026-02-28 06:00 UTC · still reported, last seen 2026-03-02 06:00 UTC",
            "*NotAfter* (1 change): 2025-09-07 (from 2025-03-01) → 2026-03-07 (from 2025-09-01)",
            "*Decisions* (3, newest first)",
        ] {
            assert!(text.contains(expected), "{expected}\n{text}");
        }
        let snooze = text
            .find("snoozed it until 2026-03-06")
            .expect("the snooze");
        let unsnooze = text.find("ended the decision").expect("the unsnooze");
        let ack = text.find("acknowledged it").expect("the ack");
        assert!(snooze < unsnooze && unsnooze < ack, "newest first");

        // No history: the show reply as `/certs show` gives it.
        let plain = show_with_history(
            arn,
            &fixture.prepared(),
            &CertificateHistory::empty(arn),
            false,
            fixture.now,
            false,
        );
        let request = crate::parse(&format!("show {arn}")).expect("show");
        assert_eq!(
            plain,
            crate::reply(&request, &fixture.prepared(), false, fixture.now)
        );
    }

    #[test]
    fn a_long_history_still_fits() {
        let fixture = fixtures::small();
        let arn =
            "arn:aws:acm:us-east-1:222222222222:certificate/5eed0000-0000-4000-8000-000000000005";
        let audit: Vec<AuditEntry> = (0..500)
            .map(|i| AuditEntry {
                at: fixture.now - chrono::Duration::hours(i),
                by: "U1".to_owned(),
                channel: "C1".to_owned(),
                action: AuditAction::Acknowledge,
                arn: arn.to_owned(),
                reason: "x".repeat(600),
            })
            .collect();
        let not_after: Vec<_> = (0..200)
            .map(|i| (fixture.now - chrono::Duration::days(i), Some(fixture.now)))
            .collect();
        let history = CertificateHistory {
            arn: arn.to_owned(),
            findings: Vec::new(),
            not_after,
            audit,
        };
        let reply = show_with_history(
            arn,
            &fixture.prepared(),
            &history,
            false,
            fixture.now,
            false,
        );
        check_limits(&reply.blocks).unwrap_or_else(|e| panic!("{e}"));
        assert!(blocks_to_text(&reply.blocks).contains("… and"));
    }
}

//! Replies about decisions: the confirmation of a snooze, acknowledgement or unsnooze
//! ([`decided`]), the refusal for those who may not decide ([`not_responder`]) and
//! `/certs snoozed`, the decisions in force with whether each still hides its certificate.

use super::{Reply, NOTE_BYTES};
use crate::blocks::{self, Page, MAX_SECTION};
use crate::decide::Decide;
use crate::index::Prepared;
use crate::mrkdwn::{self, code, escape, moment, plain_date, plural, user};
use certwatch_core::order::most_urgent_first;
use certwatch_core::{AuditAction, CertificateRecord, Decision, Resurfaced, Visibility};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The bytes of a reason in a list line.
const REASON_BYTES: usize = 300;

/// Snooze, ack or unsnooze from someone who is neither a responder nor an admin: nothing is
/// written.
pub fn not_responder() -> Reply {
    Reply::note(
        "Only certwatch responders (`slack.responder_user_ids`) and admins \
         (`slack.admin_user_ids`) may snooze, acknowledge or unsnooze a certificate; nothing was \
         changed. `/certs snoozed` shows what is snoozed, and by whom.",
    )
}

/// The confirmation once the runtime has written `decide`: what was decided, until when, and
/// whether it hides the certificate now.
pub fn decided(decide: &Decide) -> Reply {
    let domain = code(&decide.domain);
    let hidden = decide.visibility == Some(Visibility::Hidden);
    let mut text = match &decide.action {
        AuditAction::Snooze { until } => {
            let mut text = format!("Snoozed {domain} until {}", moment(*until));
            if decide.requested_until.is_some_and(|asked| asked > *until) {
                text.push_str(&format!(
                    ", its NotAfter (a snooze never runs past it; you asked for {})",
                    decide.requested_until.map(moment).unwrap_or_default()
                ));
            }
            text.push('.');
            if hidden {
                text.push_str(" It leaves the digest and the alerts until then.");
            }
            text
        }
        AuditAction::Acknowledge => {
            let mut text = format!("Acknowledged {domain}.");
            if hidden {
                text.push_str(
                    " It leaves the digest and the alerts until its findings change (an urgency \
                     rises, a new finding, a renewal).",
                );
            }
            text
        }
        AuditAction::Unsnooze => {
            let what = decide
                .replaces
                .as_ref()
                .map(|d| format!(" ({})", mrkdwn::decision_note(d, None, REASON_BYTES)))
                .unwrap_or_default();
            format!(
                "Ended the decision on {domain}{what}: it is back in the digest and the alerts."
            )
        }
        // Not a decision: resends have their own reply (`crate::resend::reply`).
        AuditAction::ResendValidationEmail { .. } => {
            format!("Asked ACM to resend the validation email for {domain}.")
        }
    };
    if let Some(Visibility::Resurfaced(why)) = decide.visibility {
        text.push_str(&format!(
            " It stays in the digest and the alerts while {}: a decision never hides an urgent or \
             expired certificate.",
            match why {
                Resurfaced::BecameUrgent => "it is urgent",
                Resurfaced::FindingsChanged => "its findings have changed",
                Resurfaced::Renewed => "it has been renewed",
            }
        ));
    }
    let mut blocks = vec![blocks::section(&text)];
    let mut context = Vec::new();
    if !decide.reason.is_empty() {
        context.push(format!(
            "Reason: {}",
            mrkdwn::shorten(&escape(&mrkdwn::one_line(&decide.reason)), 2000).0
        ));
    }
    if let (Some(old), true) = (&decide.replaces, decide.decision.is_some()) {
        context.push(format!(
            "Replaces {}",
            mrkdwn::decision_note(old, None, REASON_BYTES)
        ));
    }
    context.push(format!(
        "By {} · kept in the audit trail · `/certs snoozed` lists every snooze and acknowledgement",
        user(&decide.by)
    ));
    blocks.push(blocks::context(&context));
    Reply::new(decide.public, &text, blocks)
}

/// A decision in one line of mrkdwn, "*Snoozed* by <@U1> until 2026-12-13: reason": what
/// replaces the buttons of a decided certificate ([`crate::interactive::mark_decided`]).
pub fn decision_note(decision: &Decision) -> String {
    mrkdwn::decision_note(decision, None, 1000)
}

/// Which group of `/certs snoozed` a decision is listed in.
type Belongs = fn(&Listed<'_>) -> bool;

/// A decision and what it decided about, for `/certs snoozed`.
struct Listed<'a> {
    decision: &'a Decision,
    record: Option<&'a CertificateRecord>,
    visibility: Option<Visibility>,
}

/// `/certs snoozed`: every decision in force, grouped by what it does now (hides its
/// certificate, shown again, ran out, certificate gone), in core's order within a group.
pub(super) fn snoozed(inv: &Prepared, now: DateTime<Utc>, status: &str) -> (String, Vec<Value>) {
    let mut listed: Vec<Listed<'_>> = inv
        .decisions
        .values()
        .map(|decision| {
            // The last record with the ARN, as a map from ARN to record would keep.
            let record = inv
                .with_arn_or_id(&decision.arn)
                .filter(|r| r.facts.arn == decision.arn)
                .last();
            Listed {
                decision,
                record,
                visibility: record.map(|r| decision.visibility(r, now)),
            }
        })
        .collect();
    listed.sort_by_key(|l| {
        (
            l.record.map(|r| most_urgent_first(r, r.urgency_at(now))),
            l.decision.arn.clone(),
        )
    });
    let hidden = listed
        .iter()
        .filter(|l| l.visibility == Some(Visibility::Hidden))
        .count();
    let title = format!(
        "Snoozed and acknowledged: {}",
        plural(listed.len(), "certificate", "certificates")
    );
    let mut page = Page::new();
    page.push(blocks::header(&title));
    page.push(blocks::context(&[
        format!("{hidden} left out of the digest and the alerts now"),
        "A decision never hides a certificate once it is urgent or expired; an acknowledgement \
         ends when its findings change."
            .to_owned(),
        status.to_owned(),
    ]));
    if listed.is_empty() {
        page.push(blocks::section(
            "Nothing is snoozed or acknowledged. `/certs snooze ARN|ID 7d REASON` snoozes a \
             certificate, `/certs ack ARN|ID REASON` acknowledges one.",
        ));
        return (title, page.blocks);
    }
    let groups: [(&str, Belongs); 4] = [
        ("Left out of the digest and the alerts", |l| {
            l.visibility == Some(Visibility::Hidden)
        }),
        ("Shown again", |l| {
            matches!(l.visibility, Some(Visibility::Resurfaced(_)))
        }),
        ("Ran out", |l| l.visibility == Some(Visibility::Lapsed)),
        ("No longer in the inventory", |l| l.record.is_none()),
    ];
    // Lines go into sections of up to MAX_SECTION bytes, each group's starting with its name;
    // once a section does not fit the message, the rest is counted in a closing note.
    let mut shown = 0;
    let mut full = false;
    let mut flush = |page: &mut Page, text: &mut String, count: &mut usize| {
        if *count == 0 || full {
            return;
        }
        let block = blocks::section(text);
        if page.fits(std::slice::from_ref(&block), 1, NOTE_BYTES) {
            page.push(block);
            shown += *count;
        } else {
            full = true;
        }
        text.clear();
        *count = 0;
    };
    for (name, belongs) in groups {
        let lines: Vec<String> = listed.iter().filter(|l| belongs(l)).map(line).collect();
        if lines.is_empty() {
            continue;
        }
        let mut text = format!("*{name} ({})*", lines.len());
        let mut count = 0;
        for line in lines {
            let (line, _) = mrkdwn::shorten(&line, MAX_SECTION / 2);
            if text.len() + 1 + line.len() > MAX_SECTION {
                flush(&mut page, &mut text, &mut count);
            }
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&line);
            count += 1;
        }
        flush(&mut page, &mut text, &mut count);
    }
    if shown < listed.len() {
        page.push(blocks::context(&[format!(
            "… and {} more: more than one message can hold; `/certs show ID` shows one \
             certificate's decisions.",
            listed.len() - shown
        )]));
    }
    let text = format!("{title}, {hidden} left out of the digest now");
    (text, page.blocks)
}

/// "`api.example.com` · payments (222222222222) · us-east-1 · *Snoozed* by <@U1> until
/// 2026-03-09: reason · decided 2026-03-02 in <#C1>".
fn line(listed: &Listed<'_>) -> String {
    let decision = listed.decision;
    let place = match listed.record {
        Some(r) => format!(
            "{} · {} ({}) · {}",
            code(r.facts.display_name()),
            escape(&r.account_name),
            escape(&r.facts.account_id),
            escape(&r.facts.region)
        ),
        None => code(&decision.arn),
    };
    let visibility = listed.visibility.filter(|v| *v != Visibility::Hidden);
    format!(
        "{place} · {} · decided {} in {}",
        mrkdwn::decision_note(decision, visibility, REASON_BYTES),
        plain_date(decision.at),
        mrkdwn::channel(&decision.channel)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Until;
    use crate::decide::{decide, Ask, Wanted};
    use crate::fixtures;
    use crate::{blocks_to_text, check_limits};
    use chrono::NaiveDate;

    fn decided_reply(target: &str, wanted: Wanted, public: bool) -> Reply {
        let fixture = fixtures::decided();
        let ask = Ask {
            target,
            wanted,
            reason: "moving to DNS validation, OPS-123 <soon>",
            by: "U0RESP",
            channel: "C0CERTS",
            public,
        };
        let decide = decide(&fixture.prepared(), &ask, fixture.now).expect("a decision");
        let reply = decided(&decide);
        check_limits(&reply.blocks).unwrap_or_else(|e| panic!("{e}"));
        reply
    }

    #[test]
    fn confirmations_snapshots() {
        let date = |text| Until::Date(NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date"));
        let cases = [
            (
                "snooze_7d",
                "5eed0000-0000-4000-8000-000000000004",
                Wanted::Snooze(Until::Days(7)),
            ),
            (
                "snooze_capped",
                "5eed0000-0000-4000-8000-000000000005",
                Wanted::Snooze(date("2026-12-13")),
            ),
            (
                "snooze_urgent",
                "5eed0000-0000-4000-8000-000000000002",
                Wanted::Snooze(Until::Days(14)),
            ),
            (
                "ack",
                "5eed0000-0000-4000-8000-000000000004",
                Wanted::Acknowledge,
            ),
            (
                "unsnooze",
                "5eed0000-0000-4000-8000-000000000005",
                Wanted::Unsnooze,
            ),
        ];
        for (name, target, wanted) in cases {
            insta::assert_json_snapshot!(
                format!("decided_{name}"),
                decided_reply(target, wanted, false)
            );
        }
        let text = decided_reply(
            "5eed0000-0000-4000-8000-000000000005",
            Wanted::Snooze(date("2026-12-13")),
            true,
        );
        assert_eq!(text.response_type, crate::ResponseType::InChannel);
        let text = blocks_to_text(&text.blocks);
        assert!(
            text.contains("Snoozed `pay.example.com` until 2026-03-22 06:00 UTC, its NotAfter (a snooze never runs past it; you asked for 2026-12-13). It leaves the digest and the alerts until then."),
            "{text}"
        );
    }

    #[test]
    fn snoozed_lists_every_decision_by_what_it_does_now() {
        let fixture = fixtures::decided();
        let request = crate::parse("snoozed").expect("snoozed");
        let reply = crate::reply(&request, &fixture.prepared(), false, fixture.now);
        check_limits(&reply.blocks).unwrap_or_else(|e| panic!("{e}"));
        insta::assert_json_snapshot!("snoozed", reply);
        let text = blocks_to_text(&reply.blocks);
        let order = [
            "Left out of the digest and the alerts (2)",
            "`pay.example.com`",
            "`legacy.example.net`",
            "Shown again (2)",
            "`api.example.com` · payments (222222222222) · us-east-1 · *Snoozed* by @U0SNOOZER until 2026-03-06, back because it became urgent: waiting for the vendor's renewed certificate, <OPS-7> & co",
            "`*.example.org`",
            "Ran out (1)",
            "`etl.example.net`",
            "No longer in the inventory (1)",
            "5eed0000-0000-4000-8000-000000000099",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|o| {
                text.find(o)
                    .unwrap_or_else(|| panic!("{o} missing from\n{text}"))
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");

        let empty = crate::reply(&request, &fixtures::small().prepared(), false, fixture.now);
        assert!(blocks_to_text(&empty.blocks).contains("Nothing is snoozed or acknowledged."));
    }

    #[test]
    fn many_decisions_fit_one_message_and_say_how_many_more() {
        let mut fixture = fixtures::large(600);
        let template = fixtures::decided()
            .inventory
            .decisions
            .into_values()
            .next()
            .expect("a decision");
        for record in &fixture.inventory.report.certificates {
            let mut decision = template.clone();
            decision.arn = record.facts.arn.clone();
            decision.reason = "a long reason ".repeat(40);
            fixture
                .inventory
                .decisions
                .insert(decision.arn.clone(), decision);
        }
        let (_, blocks) = snoozed(&fixture.prepared(), fixture.now, "status");
        check_limits(&blocks).unwrap_or_else(|e| panic!("{e}"));
        let text = blocks_to_text(&blocks);
        let listed = text.matches(" · decided ").count();
        let more: usize = text
            .split("… and ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("a '… and N more' note");
        assert_eq!(listed + more, 600, "{text}");
    }
}

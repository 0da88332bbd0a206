//! The daily digest: the certificates that need a human (expired, urgent, action), grouped by
//! urgency, soonest first, each with what to do, a console link and buttons (*Snooze 7 days*,
//! *Acknowledge*, *Details*).
//!
//! A large organization does not fit in one Slack message, and a digest that silently stops at
//! Slack's limits would hide exactly the certificates at the end of the list. So the digest is a
//! parent message (counts, the most urgent certificates, the footer) plus as many threaded
//! replies as the rest needs (`thread`); every certificate that needs action appears
//! exactly once. Only a single line too long for one block is ever cut, and then the message
//! says so.
//!
//! A certificate a decision hides (snoozed, acknowledged: [`certwatch_core::Visibility::Hidden`] at `now`) is
//! left out and counted in the footer; one that came back although someone decided
//! ([`certwatch_core::Visibility::Resurfaced`]) is listed with who decided and why it is back. Entries with a
//! finding the previous digest did not have are marked *NEW*, and the title counts them.

use crate::blocks::{self, Page, MAX_SECTION};
use crate::interactive;
use crate::inventory::{entries, Entry};
use crate::mrkdwn::{self, plural};
use crate::render::scan_status;
use crate::thread::{Item, Names, Thread};
use certwatch_core::order::most_urgent_first;
use certwatch_core::{Code, DecisionKind, Inventory, Urgency};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// How the digest is posted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestOptions {
    /// When nothing needs action: post a short all-clear (`true`) or nothing (`false`).
    pub post_when_clear: bool,
    /// The time zone the digest is scheduled in, e.g. `Europe/Berlin`, shown in the footer.
    pub time_zone_label: String,
    /// The findings (certificate ARN, code) the previous digest did not list, which the runtime
    /// finds in the store's finding history: entries with one are marked *NEW*. Empty: nothing
    /// is marked (the first digest, or nothing new).
    pub new_since_last_digest: BTreeSet<(String, Code)>,
    /// The default channel's digest when accounts are routed: per routed channel what needs
    /// action there ([`crate::routes::summary`]). Empty: no summary (no routing, or a routed
    /// channel's own digest).
    pub routed: Vec<crate::routes::ChannelCount>,
    /// Entries pending email validation get a *Resend validation email* button
    /// (`slack.actions.resend_validation_email`).
    pub resend_button: bool,
}

/// One Slack message: fallback text (for notifications) and blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Value>,
}

/// A message set (the digest, the alerts after a scan): post `parent`, then each of `replies`
/// in its thread, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    pub parent: Message,
    pub replies: Vec<Message>,
    /// Some entry was too long for one block and was cut (its message says so).
    pub shortened: bool,
}

/// A latest scan older than this is called out: scheduled scans may be failing.
const OLD_SCAN: Duration = Duration::hours(36);

const SHORTENED_NOTE: &str =
    "Some entries were shortened to fit Slack's limits: `/certs show ID` has the full text.";

const NAMES: Names = Names {
    label: "ACM certificates digest",
    one: "certificate",
    many: "certificates",
    shortened_note: SHORTENED_NOTE,
};

/// The groups, in order, with what each means.
const GROUPS: [(Urgency, &str, &str); 3] = [
    (
        Urgency::Expired,
        "Expired",
        "ACM never renews an expired certificate: replace it",
    ),
    (Urgency::Urgent, "Urgent", "expires within days"),
    (
        Urgency::Action,
        "Action",
        "will not renew by itself: act before it expires",
    ),
];

/// How many certificates needing action decisions hide: snoozed, acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Hidden {
    pub snoozed: usize,
    pub acknowledged: usize,
}

impl Hidden {
    pub fn of(entries: &[Entry<'_>]) -> Hidden {
        let mut hidden = Hidden::default();
        for (decision, _) in entries
            .iter()
            .filter(|e| e.hidden())
            .filter_map(|e| e.decision)
        {
            match decision.kind {
                DecisionKind::Snooze { .. } => hidden.snoozed += 1,
                DecisionKind::Acknowledge => hidden.acknowledged += 1,
            }
        }
        hidden
    }

    pub fn total(self) -> usize {
        self.snoozed + self.acknowledged
    }

    /// "4 snoozed, 2 acknowledged: `/certs snoozed`"; `None` when nothing is hidden.
    pub fn footer(self) -> Option<String> {
        let mut parts = Vec::new();
        if self.snoozed > 0 {
            parts.push(format!("{} snoozed", self.snoozed));
        }
        if self.acknowledged > 0 {
            parts.push(format!("{} acknowledged", self.acknowledged));
        }
        (!parts.is_empty()).then(|| format!("{}: `/certs snoozed`", parts.join(", ")))
    }
}

/// The digest of `inv` at `now` (`scan_running`: whether a scan is under way, which the footer
/// mentions), or `None` when nothing needs action and `post_when_clear` is false.
pub fn digest(
    inv: &Inventory,
    scan_running: bool,
    now: DateTime<Utc>,
    opts: &DigestOptions,
) -> Option<Digest> {
    let entries = entries(inv, now);
    let (hidden, acting): (Vec<Entry<'_>>, Vec<Entry<'_>>) = entries
        .iter()
        .filter(|e| e.needs_action())
        .copied()
        .partition(Entry::hidden);
    let hidden = Hidden::of(&hidden);
    let mut tail = Vec::new();
    if let Some(warning) = old_scan_warning(inv, now) {
        tail.push(blocks::section(&warning));
    }
    tail.push(footer(inv, scan_running, opts, hidden));
    let summary = crate::routes::summary_blocks(&opts.routed);
    if acting.is_empty() {
        // The org-wide summary is news while a routed channel has something to act on.
        let routed_news = opts.routed.iter().any(|c| c.needs_action());
        return (opts.post_when_clear || routed_news)
            .then(|| all_clear(inv, &entries, hidden, summary, tail));
    }

    let is_new = |e: &Entry<'_>| {
        e.record.findings.iter().any(|f| {
            opts.new_since_last_digest
                .contains(&(e.record.facts.arn.clone(), f.code.clone()))
        })
    };
    let count = |u: Urgency| acting.iter().filter(|e| e.urgency == Some(u)).count();
    let counts: Vec<String> = GROUPS
        .iter()
        .map(|(u, _, _)| (count(*u), u.as_str()))
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n} {name}"))
        .collect();
    let mut title = format!("ACM certificates needing a human: {}", counts.join(", "));
    let new = acting.iter().filter(|e| is_new(e)).count();
    if new > 0 {
        title.push_str(&format!(" ({new} new since the last digest)"));
    }
    let mut head = Page::new();
    head.push(blocks::header(&title));
    head.push(blocks::context(&[overview(&entries, acting.len(), hidden)]));
    for block in summary {
        head.push(block);
    }

    let mut thread = Thread::new(head, &tail);
    for (urgency, name, about) in GROUPS {
        let mut group: Vec<&Entry<'_>> = acting
            .iter()
            .filter(|e| e.urgency == Some(urgency))
            .collect();
        if group.is_empty() {
            continue;
        }
        group.sort_by_key(|e| most_urgent_first(e.record, e.urgency));
        let heading = |continued: bool| {
            blocks::section(&format!(
                "*{name} ({})*{}: {about}",
                group.len(),
                if continued { ", continued" } else { "" }
            ))
        };
        let items = group
            .iter()
            .map(|entry| {
                let (line, cut) = mrkdwn::certificate_line_marked(
                    entry,
                    entry.worst(),
                    is_new(entry),
                    MAX_SECTION,
                );
                let mut blocks = vec![blocks::section(&line)];
                let resend = opts.resend_button && crate::resend::pending_email(entry.record);
                blocks.extend(interactive::buttons(&entry.record.facts.arn, resend));
                Item {
                    blocks,
                    count: 1,
                    shortened: cut,
                }
            })
            .collect();
        thread.group(heading, items);
    }
    Some(thread.finish(title, &NAMES, tail))
}

/// "18 of 40 certificates in 5 accounts need action · 3 snoozed or acknowledged · 4 upcoming ·
/// 18 renew by themselves".
fn overview(entries: &[Entry<'_>], acting: usize, hidden: Hidden) -> String {
    let accounts: BTreeSet<&str> = entries
        .iter()
        .map(|e| e.record.facts.account_id.as_str())
        .collect();
    let upcoming = entries
        .iter()
        .filter(|e| e.urgency == Some(Urgency::Upcoming))
        .count();
    let healthy = entries.iter().filter(|e| e.urgency.is_none()).count();
    let hidden = match hidden.total() {
        0 => String::new(),
        n => format!(" · {n} snoozed or acknowledged"),
    };
    format!(
        "{acting} of {} in {} need action{hidden} · {upcoming} upcoming · {healthy} renew by \
         themselves",
        plural(entries.len(), "certificate", "certificates"),
        plural(accounts.len(), "account", "accounts"),
    )
}

/// Scan time, targets scanned, failed targets, what decisions hide, the digest's time zone.
fn footer(inv: &Inventory, scan_running: bool, opts: &DigestOptions, hidden: Hidden) -> Value {
    let stats = &inv.report.stats;
    let scan = scan_status(inv, scan_running);
    let failed = inv.failed_targets();
    let accounts = plural(stats.accounts as usize, "account", "accounts");
    // A routed channel's part of the scan knows its accounts, not its account-regions.
    let mut scanned = match stats.targets {
        0 => format!("{accounts} scanned"),
        targets => format!(
            "{} in {accounts} scanned",
            plural(targets as usize, "account-region", "account-regions")
        ),
    };
    if failed == 0 {
        scanned.push_str(" · no failed targets");
    } else {
        scanned.push_str(&format!(
            " · {}: `/certs failures`",
            plural(failed, "failed target", "failed targets")
        ));
    }
    let mut elements = vec![scan, scanned];
    elements.extend(hidden.footer());
    elements.push(format!(
        "Daily digest ({})",
        mrkdwn::escape(&opts.time_zone_label)
    ));
    blocks::context(&elements)
}

fn old_scan_warning(inv: &Inventory, now: DateTime<Utc>) -> Option<String> {
    let at = inv.last_scan?;
    let age = now - at;
    (age > OLD_SCAN).then(|| {
        format!(
            "*The latest scan finished {} ago*: scheduled scans may be failing, so this digest \
             may be out of date.",
            plural(age.num_hours() as usize, "hour", "hours")
        )
    })
}

fn all_clear(
    inv: &Inventory,
    entries: &[Entry<'_>],
    hidden: Hidden,
    summary: Vec<Value>,
    tail: Vec<Value>,
) -> Digest {
    let title = "ACM certificates: nothing needs action";
    let upcoming = entries
        .iter()
        .filter(|e| e.urgency == Some(Urgency::Upcoming))
        .count();
    let text = if entries.is_empty() {
        "No certificates in the inventory.".to_owned()
    } else if hidden.total() > 0 {
        format!(
            "No certificate needs a human today besides the {} snoozed or acknowledged ({} in all: \
             {} renew by themselves, {upcoming} upcoming).",
            hidden.total(),
            plural(entries.len(), "certificate", "certificates"),
            entries.len() - upcoming - hidden.total(),
        )
    } else {
        format!(
            "No certificate needs a human today. {}: {} renew by themselves, {upcoming} upcoming \
             (findings that are not urgent yet).",
            plural(entries.len(), "certificate", "certificates"),
            entries.len() - upcoming,
        )
    };
    let mut blocks = vec![blocks::header(title), blocks::section(&text)];
    let failed = inv.failed_targets();
    if failed > 0 {
        blocks.push(blocks::section(&format!(
            "*But {} in the latest scan:* certificates there may be missing or out of date. \
             `/certs failures`",
            plural(failed, "target failed", "targets failed")
        )));
    }
    blocks.extend(summary);
    blocks.extend(tail);
    Digest {
        parent: Message {
            text: title.to_owned(),
            blocks,
        },
        replies: Vec::new(),
        shortened: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, at, Fixture};
    use crate::{blocks_to_text, check_limits};
    use certwatch_core::{Code, Report};

    fn options(post_when_clear: bool) -> DigestOptions {
        DigestOptions {
            post_when_clear,
            time_zone_label: "Europe/Berlin".to_owned(),
            ..DigestOptions::default()
        }
    }

    fn messages(digest: &Digest) -> Vec<&Message> {
        std::iter::once(&digest.parent)
            .chain(&digest.replies)
            .collect()
    }

    fn check(digest: &Digest) {
        for (i, message) in messages(digest).iter().enumerate() {
            check_limits(&message.blocks).unwrap_or_else(|e| panic!("message {i}: {e}"));
            assert!(!message.text.is_empty());
            assert!(message.text.len() <= 3000);
        }
    }

    fn run(fixture: &Fixture, opts: &DigestOptions) -> Option<Digest> {
        let digest = digest(&fixture.inventory, false, fixture.now, opts);
        if let Some(d) = &digest {
            check(d);
        }
        digest
    }

    #[test]
    fn small_digest_snapshot() {
        let digest = run(&fixtures::small(), &options(false)).expect("a digest");
        assert!(digest.replies.is_empty());
        assert!(!digest.shortened);
        insta::assert_json_snapshot!("digest_small", digest);
    }

    #[test]
    fn demo_digest_snapshot() {
        let digest = run(&fixtures::demo(), &options(false)).expect("a digest");
        insta::assert_json_snapshot!("digest_demo", digest);
        insta::assert_snapshot!("digest_demo_text", blocks_to_text(&digest.parent.blocks));
    }

    #[test]
    fn decisions_hide_mark_and_count() {
        let fixture = fixtures::decided();
        let arn = |n: u32, region: &str| {
            format!("arn:aws:acm:{region}:222222222222:certificate/5eed0000-0000-4000-8000-{n:012}")
        };
        let mut opts = options(false);
        opts.new_since_last_digest = [
            (arn(2, "us-east-1"), Code::Imported),
            // Hidden: not listed, not counted.
            (arn(5, "us-east-1"), Code::NotInUse),
            // Another certificate's finding.
            (arn(3, "eu-west-1"), Code::Imported),
        ]
        .into_iter()
        .collect();
        let digest = run(&fixture, &opts).expect("a digest");
        insta::assert_json_snapshot!("digest_decisions", digest);
        let text = blocks_to_text(&digest.parent.blocks);
        assert!(!text.contains("pay.example.com"), "{text}");
        assert!(!text.contains("legacy.example.net"), "{text}");
        for expected in [
            "ACM certificates needing a human: 2 expired, 1 urgent (1 new since the last digest)",
            "3 of 9 certificates in 3 accounts need action · 2 snoozed or acknowledged · 2 upcoming",
            "*URGENT* · *NEW* · `api.example.com`",
            "*Snoozed* by @U0SNOOZER until 2026-03-06, back because it became urgent: waiting for the vendor's renewed certificate, <OPS-7> & co",
            "1 snoozed, 1 acknowledged: `/certs snoozed`",
        ] {
            assert!(text.contains(expected), "{expected}\n{text}");
        }
        assert!(!text.contains("*EXPIRED* · *NEW*"), "{text}");
        // Each listed certificate carries its three buttons.
        let json = serde_json::to_string(&digest.parent.blocks).expect("json");
        for n in [2, 3, 6] {
            let region = if n == 2 { "us-east-1" } else { "eu-west-1" };
            assert_eq!(
                json.matches(&format!("\"value\":\"{}\"", arn(n, region)))
                    .count(),
                3
            );
        }
        for id in ["certwatch_snooze_7d", "certwatch_ack", "certwatch_details"] {
            assert_eq!(json.matches(id).count(), 3, "{id}");
        }
    }

    #[test]
    fn everything_hidden_is_all_clear_or_nothing() {
        let mut fixture = fixtures::decided();
        let now = fixture.now;
        fixture
            .inventory
            .report_mut()
            .certificates
            .retain(|c| c.urgency_at(now).is_none_or(|u| u < Urgency::Urgent));
        assert_eq!(run(&fixture, &options(false)), None);
        let digest = run(&fixture, &options(true)).expect("an all-clear");
        let text = blocks_to_text(&digest.parent.blocks);
        assert!(
            text.contains("No certificate needs a human today besides the 2 snoozed or acknowledged (6 certificates in all: 2 renew by themselves, 2 upcoming)."),
            "{text}"
        );
        assert!(
            text.contains("1 snoozed, 1 acknowledged: `/certs snoozed`"),
            "{text}"
        );
    }

    #[test]
    fn all_clear_or_nothing() {
        let mut fixture = fixtures::demo();
        fixture
            .inventory
            .report_mut()
            .certificates
            .retain(|c| c.worst_urgency().is_none_or(|u| u < Urgency::Action));
        assert_eq!(run(&fixture, &options(false)), None);
        let digest = run(&fixture, &options(true)).expect("an all-clear");
        assert!(digest.replies.is_empty());
        insta::assert_json_snapshot!("digest_all_clear", digest);
    }

    #[test]
    fn empty_inventory() {
        let report = Report {
            generated_at: at("2026-03-02T06:00:00Z"),
            certificates: Vec::new(),
            failures: Vec::new(),
            accounts: Vec::new(),
            stats: Default::default(),
        };
        let inv = Inventory {
            report: report.into(),
            stale: Default::default(),
            last_scan: None,
            decisions: Default::default(),
        };
        let now = at("2026-03-02T09:00:00Z");
        assert_eq!(digest(&inv, true, now, &options(false)), None);
        let clear = digest(&inv, true, now, &options(true)).expect("an all-clear");
        check(&clear);
        let text = blocks_to_text(&clear.parent.blocks);
        assert!(text.contains("No certificates in the inventory."), "{text}");
        assert!(
            text.contains("No scan has finished yet · a scan is running now"),
            "{text}"
        );
        for command in [
            "",
            "help",
            "expiring",
            "account x",
            "domain x",
            "code IMPORTED",
            "show x",
            "failures",
        ] {
            let request = crate::parse(command).expect(command);
            let reply = crate::reply(&request, &crate::Prepared::from(inv.clone()), true, now);
            check_limits(&reply.blocks).unwrap_or_else(|e| panic!("{command}: {e}"));
        }
    }

    #[test]
    fn old_scan_and_running_scan_are_called_out() {
        let mut fixture = fixtures::small();
        fixture.now = at("2026-03-05T09:00:00Z");
        let digest =
            digest(&fixture.inventory, true, fixture.now, &options(false)).expect("a digest");
        check(&digest);
        let text = blocks_to_text(&digest.parent.blocks);
        assert!(
            text.contains("*The latest scan finished 75 hours ago*"),
            "{text}"
        );
        assert!(text.contains("a scan is running now"), "{text}");
    }

    /// A 600-certificate organization: every certificate needing action appears exactly once
    /// over the parent and its replies, in urgency order; nothing else appears; every message
    /// is within Slack's limits; the over-long lines are cut and their messages say so.
    #[test]
    fn large_org_is_split_never_truncated() {
        let fixture = fixtures::large(600);
        let digest = run(&fixture, &options(false)).expect("a digest");
        assert!(
            digest.replies.len() >= 10,
            "{} replies",
            digest.replies.len()
        );
        assert!(digest.shortened);

        let texts: Vec<String> = messages(&digest)
            .iter()
            .map(|m| serde_json::to_string(&m.blocks).expect("json"))
            .collect();
        let all = texts.concat();
        let inv = &fixture.inventory;
        let mut positions = Vec::new();
        let mut needing = 0;
        for entry in entries(inv, fixture.now) {
            let link = format!("{}|console>", entry.record.console_url);
            let count = all.matches(&link).count();
            if entry.needs_action() {
                needing += 1;
                assert_eq!(count, 1, "{}", entry.record.facts.arn);
                positions.push((all.find(&link).unwrap_or(0), entry.urgency));
            } else {
                assert_eq!(count, 0, "{}", entry.record.facts.arn);
            }
        }
        assert_eq!(needing, 400);
        // …each with its buttons, in the same message as its line.
        for entry in entries(inv, fixture.now)
            .iter()
            .filter(|e| e.needs_action())
        {
            let link = format!("{}|console>", entry.record.console_url);
            let value = format!("\"value\":\"{}\"", entry.record.facts.arn);
            let text = texts.iter().find(|t| t.contains(&link)).expect("listed");
            assert_eq!(
                text.matches(&value).count(),
                3,
                "{}",
                entry.record.facts.arn
            );
            assert_eq!(all.matches(&value).count(), 3, "{}", entry.record.facts.arn);
        }
        positions.sort();
        assert!(
            positions.windows(2).all(|w| w[0].1 >= w[1].1),
            "urgency order"
        );

        // The fixture's over-long remedies belong to every 97th certificate; each is cut, and
        // the message that holds it says so.
        let mut cut = 0;
        for entry in entries(inv, fixture.now) {
            let n: usize = entry.record.facts.id()[24..].parse().expect("fixture id");
            if !n.is_multiple_of(97) || !entry.needs_action() {
                continue;
            }
            let link = format!("{}|console>", entry.record.console_url);
            let text = texts.iter().find(|t| t.contains(&link)).expect("listed");
            assert!(text.contains("Some entries were shortened"), "{n}");
            let line = text
                .split(&link)
                .nth(1)
                .and_then(|rest| rest.split("\"}").next())
                .unwrap_or_default();
            assert!(line.contains("…"), "{n}: {line}");
            cut += 1;
        }
        assert!(cut >= 3, "{cut}");
        let parent = blocks_to_text(&digest.parent.blocks);
        assert!(
            parent
                .contains("ACM certificates needing a human: 100 expired, 100 urgent, 200 action"),
            "{parent}"
        );
        assert!(
            parent.contains(&format!(
                "more certificates in {} replies.",
                digest.replies.len()
            )),
            "{parent}"
        );
        let last = digest.replies.last().expect("replies");
        assert!(blocks_to_text(&last.blocks).contains(&format!(
            "part {} of {}",
            digest.replies.len() + 1,
            digest.replies.len() + 1
        )));
    }
}

//! The daily digest: the certificates that need a human (expired, urgent, action), grouped by
//! urgency, soonest first, each with what to do and a console link.
//!
//! A large organization does not fit in one Slack message, and a digest that silently stops at
//! Slack's limits would hide exactly the certificates at the end of the list. So the digest is a
//! parent message (counts, the most urgent certificates, the footer) plus as many threaded
//! replies as the rest needs; every certificate that needs action appears exactly once. Only a
//! single line too long for one block is ever cut, and then the message says so.

use crate::blocks::{self, Page, MAX_SECTION};
use crate::inventory::{entries, Entry};
use crate::mrkdwn::{self, plural};
use crate::render::scan_status;
use certwatch_core::order::most_urgent_first;
use certwatch_core::{Inventory, Urgency};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// How the digest is posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestOptions {
    /// When nothing needs action: post a short all-clear (`true`) or nothing (`false`).
    pub post_when_clear: bool,
    /// The time zone the digest is scheduled in, e.g. `Europe/Berlin`, shown in the footer.
    pub time_zone_label: String,
}

/// One Slack message: fallback text (for notifications) and blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Value>,
}

/// The digest: post `parent`, then each of `replies` in its thread, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    pub parent: Message,
    pub replies: Vec<Message>,
    /// Some certificate's line was too long for one block and was cut (its message says so).
    pub shortened: bool,
}

/// A latest scan older than this is called out: scheduled scans may be failing.
const OLD_SCAN: Duration = Duration::hours(36);

/// Room for a note (continuation, shortened, part label).
const NOTE_BYTES: usize = 400;

const SHORTENED_NOTE: &str =
    "Some entries were shortened to fit Slack's limits: `/certs show ID` has the full text.";

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

/// The digest of `inv` at `now` (`scan_running`: whether a scan is under way, which the footer
/// mentions), or `None` when nothing needs action and `post_when_clear` is false.
pub fn digest(
    inv: &Inventory,
    scan_running: bool,
    now: DateTime<Utc>,
    opts: &DigestOptions,
) -> Option<Digest> {
    let entries = entries(inv, now);
    let acting: Vec<Entry<'_>> = entries
        .iter()
        .filter(|e| e.needs_action())
        .copied()
        .collect();
    let mut tail = Vec::new();
    if let Some(warning) = old_scan_warning(inv, now) {
        tail.push(blocks::section(&warning));
    }
    tail.push(footer(inv, scan_running, opts));
    if acting.is_empty() {
        return opts.post_when_clear.then(|| all_clear(inv, &entries, tail));
    }

    let count = |u: Urgency| acting.iter().filter(|e| e.urgency == Some(u)).count();
    let counts: Vec<String> = GROUPS
        .iter()
        .map(|(u, _, _)| (count(*u), u.as_str()))
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n} {name}"))
        .collect();
    let title = format!("ACM certificates needing a human: {}", counts.join(", "));
    let mut head = Page::new();
    head.push(blocks::header(&title));
    head.push(blocks::context(&[overview(&entries, acting.len())]));

    // The parent keeps room for the continuation and shortened notes and the tail; a reply for
    // its part label and shortened note.
    let parent_reserve = (tail.len() + 2, blocks::size(&tail) + 2 * NOTE_BYTES);
    let reply_reserve = (2, 2 * NOTE_BYTES);
    let mut first = Part::new(head);
    let mut rest: Vec<Part> = Vec::new();
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
        let mut needs_heading = true;
        let mut continued = false;
        for entry in &group {
            let (line, cut) = mrkdwn::certificate_line(entry, entry.worst(), MAX_SECTION);
            let line = blocks::section(&line);
            loop {
                let (part, (reserve_blocks, reserve_bytes)) = match rest.last_mut() {
                    Some(part) => (part, reply_reserve),
                    None => (&mut first, parent_reserve),
                };
                let mut extra = Vec::new();
                if needs_heading {
                    extra.push(heading(continued));
                }
                extra.push(line.clone());
                // An empty reply takes the line whatever it costs, or this would never end;
                // a line is at most one section, far below a message's budget.
                if part.page.fits(&extra, reserve_blocks, reserve_bytes) || part.page.is_empty() {
                    for block in extra {
                        part.page.push(block);
                    }
                    part.certificates += 1;
                    part.shortened |= cut;
                    needs_heading = false;
                    break;
                }
                rest.push(Part::new(Page::new()));
                needs_heading = true;
                continued = true;
            }
        }
    }

    let total = rest.len() + 1;
    let shortened = first.shortened || rest.iter().any(|p| p.shortened);
    let mut parent = first.page.blocks;
    if !rest.is_empty() {
        let more = acting.len() - first.certificates;
        parent.push(blocks::section(&format!(
            "*Continued in the thread:* {more} more {} in {}.",
            if more == 1 {
                "certificate"
            } else {
                "certificates"
            },
            plural(rest.len(), "reply", "replies")
        )));
    }
    if first.shortened {
        parent.push(blocks::context(&[SHORTENED_NOTE.to_owned()]));
    }
    parent.extend(tail);
    let replies = rest
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let label = format!("ACM certificates digest, part {} of {total}", i + 2);
            let mut blocks = vec![blocks::context(std::slice::from_ref(&label))];
            blocks.extend(part.page.blocks);
            if part.shortened {
                blocks.push(blocks::context(&[SHORTENED_NOTE.to_owned()]));
            }
            Message {
                text: label,
                blocks,
            }
        })
        .collect();
    Some(Digest {
        parent: Message {
            text: title,
            blocks: parent,
        },
        replies,
        shortened,
    })
}

/// One message of the digest being filled.
struct Part {
    page: Page,
    certificates: usize,
    shortened: bool,
}

impl Part {
    fn new(page: Page) -> Self {
        Part {
            page,
            certificates: 0,
            shortened: false,
        }
    }
}

/// "18 of 40 certificates in 5 accounts need action · 4 upcoming · 18 renew by themselves".
fn overview(entries: &[Entry<'_>], acting: usize) -> String {
    let accounts: BTreeSet<&str> = entries
        .iter()
        .map(|e| e.record.facts.account_id.as_str())
        .collect();
    let upcoming = entries
        .iter()
        .filter(|e| e.urgency == Some(Urgency::Upcoming))
        .count();
    let healthy = entries.iter().filter(|e| e.urgency.is_none()).count();
    format!(
        "{acting} of {} in {} need action · {upcoming} upcoming · {healthy} renew by themselves",
        plural(entries.len(), "certificate", "certificates"),
        plural(accounts.len(), "account", "accounts"),
    )
}

/// Scan time, targets scanned, failed targets, the digest's time zone.
fn footer(inv: &Inventory, scan_running: bool, opts: &DigestOptions) -> Value {
    let stats = &inv.report.stats;
    let scan = scan_status(inv, scan_running);
    let failed = inv.failed_targets();
    let mut scanned = format!(
        "{} in {} scanned",
        plural(stats.targets as usize, "account-region", "account-regions"),
        plural(stats.accounts as usize, "account", "accounts")
    );
    if failed == 0 {
        scanned.push_str(" · no failed targets");
    } else {
        scanned.push_str(&format!(
            " · {}: `/certs failures`",
            plural(failed, "failed target", "failed targets")
        ));
    }
    blocks::context(&[
        scan,
        scanned,
        format!("Daily digest ({})", mrkdwn::escape(&opts.time_zone_label)),
    ])
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

fn all_clear(inv: &Inventory, entries: &[Entry<'_>], tail: Vec<Value>) -> Digest {
    let title = "ACM certificates: nothing needs action";
    let upcoming = entries
        .iter()
        .filter(|e| e.urgency == Some(Urgency::Upcoming))
        .count();
    let text = if entries.is_empty() {
        "No certificates in the inventory.".to_owned()
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
    use certwatch_core::Report;

    fn options(post_when_clear: bool) -> DigestOptions {
        DigestOptions {
            post_when_clear,
            time_zone_label: "Europe/Berlin".to_owned(),
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
    fn all_clear_or_nothing() {
        let mut fixture = fixtures::demo();
        fixture
            .inventory
            .report
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
            stats: Default::default(),
        };
        let inv = Inventory {
            report,
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
            let reply = crate::reply(&request, &inv, true, now);
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

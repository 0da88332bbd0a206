//! The alerts after a scan: one message set (parent + threaded replies, like the digest) with
//! what changed since the previous scan: new findings, findings whose urgency rose, findings
//! resolved, certificates renewed, certificates gone. Nothing changed (or nothing worth it):
//! nothing to post.
//!
//! Grouped by kind, then by account (name, then id), then most urgent first. New and risen
//! findings are what someone must look at: each such certificate gets its own section with the
//! summary, what to do and the buttons. Resolutions, renewals and deletions are good news or
//! bookkeeping: packed several to a section, no buttons. A certificate a decision hides is left
//! out (and counted) unless it came back (urgent, or an acknowledged one whose findings changed),
//! and then it says who decided.

use crate::blocks::{self, Page, MAX_SECTION};
use crate::digest::Digest;
use crate::interactive;
use crate::inventory::Entry;
use crate::mrkdwn::{
    self, certificate_top, code, day, decision_note, escape, label, plain_date, plural,
    LINE_REASON_BYTES,
};
use crate::thread::{Item, Names, Thread};
use certwatch_core::{
    CertificateRecord, Change, ChangeKind, Changes, Code, Inventory, Urgency, Visibility,
};
use chrono::{DateTime, Utc};
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// What the alerts include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertOptions {
    /// New and risen findings below this are left out; resolutions, renewals and deletions
    /// count when the certificate had a finding at least this urgent ([`Changes::at_least`]).
    pub min_urgency: Urgency,
    /// Entries pending email validation get a *Resend validation email* button
    /// (`slack.actions.resend_validation_email`).
    pub resend_button: bool,
}

impl Default for AlertOptions {
    /// `action`: what needs a human before it expires (the digest's threshold too).
    fn default() -> Self {
        AlertOptions {
            min_urgency: Urgency::Action,
            resend_button: false,
        }
    }
}

const SHORTENED_NOTE: &str =
    "Some entries were shortened to fit Slack's limits: `/certs show ID` has the full text.";

const NAMES: Names = Names {
    label: "ACM certificate changes",
    one: "change",
    many: "changes",
    shortened_note: SHORTENED_NOTE,
};

/// The kinds, in the order they are listed: (heading, what it means, counted as).
const KINDS: [(Kind, &str, &str, &str); 5] = [
    (
        Kind::New,
        "New findings",
        "not seen on these certificates before",
        "new",
    ),
    (
        Kind::Rose,
        "More urgent",
        "a finding's urgency rose",
        "more urgent",
    ),
    (
        Kind::Resolved,
        "Resolved",
        "findings a scan no longer found",
        "resolved",
    ),
    (
        Kind::Renewed,
        "Renewed",
        "NotAfter moved forward",
        "renewed",
    ),
    (
        Kind::Gone,
        "Gone",
        "certificates with findings a scan of their account and region no longer listed (deleted)",
        "gone",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    New,
    Rose,
    Resolved,
    Renewed,
    Gone,
}

fn kind(change: &Change) -> Kind {
    match change.kind {
        ChangeKind::New => Kind::New,
        ChangeKind::Rose { .. } => Kind::Rose,
        ChangeKind::Resolved => Kind::Resolved,
        ChangeKind::Renewed { .. } => Kind::Renewed,
        ChangeKind::Gone => Kind::Gone,
    }
}

/// One certificate's changes of one kind, with the certificate as the inventory has it now.
struct Group<'a> {
    changes: Vec<&'a Change>,
    entry: Option<Entry<'a>>,
}

impl Group<'_> {
    fn first(&self) -> &Change {
        self.changes[0]
    }
}

/// The alerts for `changes` (the diff of the previous inventory and `inv`, the current one),
/// at `now`; `None` when nothing is worth posting.
pub fn alerts(
    changes: &Changes,
    inv: &Inventory,
    now: DateTime<Utc>,
    options: &AlertOptions,
) -> Option<Digest> {
    let changes = changes.at_least(options.min_urgency);
    let records: BTreeMap<&str, &CertificateRecord> = inv
        .report
        .certificates
        .iter()
        .map(|r| (r.facts.arn.as_str(), r))
        .collect();
    let entry = |arn: &str| {
        records.get(arn).map(|record| {
            Entry::new(record, now, inv.last_seen(arn)).with_decision(inv.decisions.get(arn))
        })
    };
    let mut left_out = 0;
    // (kind, arn) → the certificate's changes of that kind.
    let mut groups: BTreeMap<(usize, &str), Group<'_>> = BTreeMap::new();
    for change in &changes.changes {
        let entry = entry(&change.arn);
        if entry.is_some_and(|e| e.hidden()) {
            left_out += 1;
            continue;
        }
        let k = KINDS
            .iter()
            .position(|(k, ..)| *k == kind(change))
            .unwrap_or_default();
        groups
            .entry((k, change.arn.as_str()))
            .or_insert_with(|| Group {
                changes: Vec::new(),
                entry,
            })
            .changes
            .push(change);
    }
    if groups.is_empty() {
        return None;
    }

    let count = |k: Kind| {
        groups
            .iter()
            .filter(|((i, _), _)| KINDS[*i].0 == k)
            .map(|(_, g)| g.changes.len())
            .sum::<usize>()
    };
    let counts: Vec<String> = KINDS
        .iter()
        .map(|(k, _, _, counted)| (count(*k), counted))
        .filter(|(n, _)| *n > 0)
        .map(|(n, counted)| format!("{n} {counted}"))
        .collect();
    let total: usize = groups.values().map(|g| g.changes.len()).sum();
    let title = format!(
        "ACM certificates: {} since the previous scan ({})",
        plural(total, "change", "changes"),
        counts.join(", ")
    );
    let mut head = Page::new();
    head.push(blocks::header(&title));
    let mut intro = Vec::new();
    if let Some(at) = inv.last_scan {
        intro.push(format!("Scan of {}", mrkdwn::date(at)));
    }
    let accounts: std::collections::BTreeSet<&str> = groups
        .values()
        .map(|g| g.first().account_id.as_str())
        .collect();
    intro.push(format!(
        "{} in {}",
        plural(groups.len(), "certificate", "certificates"),
        plural(accounts.len(), "account", "accounts")
    ));
    head.push(blocks::context(&intro));
    let mut footer = vec![
        "Changes since the previous scan; the daily digest lists everything that needs action."
            .to_owned(),
    ];
    if left_out > 0 {
        footer.push(format!(
            "{} of snoozed or acknowledged certificates left out: `/certs snoozed`",
            plural(left_out, "change", "changes")
        ));
    }
    let tail = vec![blocks::context(&footer)];

    let mut thread = Thread::new(head, &tail);
    for (i, (k, name, about, _)) in KINDS.iter().enumerate() {
        let mut certificates: Vec<&Group<'_>> = groups
            .iter()
            .filter(|((j, _), _)| *j == i)
            .map(|(_, g)| g)
            .collect();
        if certificates.is_empty() {
            continue;
        }
        certificates.sort_by_key(|g| {
            let c = g.first();
            (
                c.account_name.clone(),
                c.account_id.clone(),
                Reverse(g.changes.iter().filter_map(|c| c.urgency).max()),
                c.region.clone(),
                c.domain.clone(),
                c.arn.clone(),
            )
        });
        let n = count(*k);
        let heading = |continued: bool| {
            blocks::section(&format!(
                "*{name} ({n})*{}: {about}",
                if continued { ", continued" } else { "" }
            ))
        };
        let items = match k {
            Kind::New | Kind::Rose => certificates
                .iter()
                .map(|g| needs_look(g, options.resend_button))
                .collect(),
            Kind::Resolved | Kind::Renewed | Kind::Gone => {
                packed(certificates.iter().map(|g| (news_line(g), g.changes.len())))
            }
        };
        thread.group(heading, items);
    }
    Some(thread.finish(title, &NAMES, tail))
}

/// A certificate with new or risen findings: its line (what changed, what to do, who decided if
/// it came back) and its buttons.
fn needs_look(group: &Group<'_>, resend_button: bool) -> Item {
    let first = group.first();
    let mut lines = Vec::new();
    let finding = |code: &Option<Code>| {
        let record = group.entry?.record;
        record
            .findings
            .iter()
            .find(|f| Some(&f.code) == code.as_ref())
    };
    let top = match &group.entry {
        Some(entry) => certificate_top(entry, false),
        None => place(first, first.urgency),
    };
    lines.push(top);
    for change in &group.changes {
        let what = match change.kind {
            ChangeKind::Rose { from } => format!(
                "{} {from} → {}",
                code(change.code.as_ref().map_or("", Code::as_str)),
                change.urgency.map_or("?", Urgency::as_str)
            ),
            _ => format!(
                "New {} ({})",
                code(change.code.as_ref().map_or("", Code::as_str)),
                change.urgency.map_or("?", Urgency::as_str)
            ),
        };
        match finding(&change.code) {
            Some(f) => lines.push(format!("{what}: {}", escape(&f.summary))),
            None => lines.push(what),
        }
    }
    // What to do about the most urgent of them (the changes come most urgent first).
    if let (Some(f), Some(entry)) = (finding(&first.code), &group.entry) {
        lines.push(format!(
            "*What to do:* {}",
            escape(mrkdwn::remedy_text(f, &entry.record.console_url))
        ));
    }
    if let Some((decision, visibility)) = group.entry.and_then(|e| e.decision) {
        if matches!(visibility, Visibility::Resurfaced(_)) {
            lines.push(decision_note(decision, Some(visibility), LINE_REASON_BYTES));
        }
    }
    let (text, shortened) = mrkdwn::shorten(&lines.join("\n"), MAX_SECTION);
    let mut blocks = vec![blocks::section(&text)];
    if let Some(entry) = &group.entry {
        let resend = resend_button && crate::resend::pending_email(entry.record);
        blocks.extend(interactive::buttons(&first.arn, resend));
    }
    Item {
        blocks,
        count: group.changes.len(),
        shortened,
    }
}

/// "*ACTION* · `api.example.com` · payments (222222222222) · us-east-1": a certificate the
/// inventory no longer has, from what the change carries.
fn place(change: &Change, urgency: Option<Urgency>) -> String {
    format!(
        "*{}* · {} · {} ({}) · {}",
        label(urgency),
        code(&change.domain),
        escape(&change.account_name),
        escape(&change.account_id),
        escape(&change.region)
    )
}

/// A resolution, renewal or deletion in one line.
fn news_line(group: &Group<'_>) -> String {
    let first = group.first();
    let where_ = format!(
        "{} · {} ({}) · {}",
        code(&first.domain),
        escape(&first.account_name),
        escape(&first.account_id),
        escape(&first.region)
    );
    let what = match &first.kind {
        ChangeKind::Renewed { from, to } => {
            let date = |at: &Option<DateTime<Utc>>| at.map_or_else(|| "none".to_owned(), day);
            format!("NotAfter {} → {}", date(from), date(to))
        }
        ChangeKind::Gone => format!(
            "no longer listed; it was {}",
            first.urgency.map_or("?", Urgency::as_str)
        ),
        _ => {
            let codes: Vec<String> = group
                .changes
                .iter()
                .map(|c| {
                    format!(
                        "{} (was {})",
                        code(c.code.as_ref().map_or("", Code::as_str)),
                        c.urgency.map_or("?", Urgency::as_str)
                    )
                })
                .collect();
            format!("{} resolved", codes.join(", "))
        }
    };
    let mut line = format!("{where_}: {what}");
    if let Some((decision, visibility @ Visibility::Resurfaced(_))) =
        group.entry.and_then(|e| e.decision)
    {
        line.push_str(&format!(
            " · {}",
            decision_note(decision, Some(visibility), LINE_REASON_BYTES)
        ));
    }
    if let Some(seen) = group.entry.and_then(|e| e.last_seen) {
        line.push_str(&format!(" · last seen {}", plain_date(seen)));
    }
    line
}

/// Lines (each with how many changes it shows) packed into sections of at most MAX_SECTION
/// bytes, each section an item.
fn packed(lines: impl Iterator<Item = (String, usize)>) -> Vec<Item> {
    let mut items = Vec::new();
    let mut text = String::new();
    let mut count = 0;
    let mut shortened = false;
    for (line, n) in lines {
        let (line, cut) = mrkdwn::shorten(&line, MAX_SECTION);
        if !text.is_empty() && text.len() + 1 + line.len() > MAX_SECTION {
            items.push(Item {
                blocks: vec![blocks::section(&text)],
                count,
                shortened,
            });
            text.clear();
            count = 0;
            shortened = false;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&line);
        count += n;
        shortened |= cut;
    }
    if !text.is_empty() {
        items.push(Item {
            blocks: vec![blocks::section(&text)],
            count,
            shortened,
        });
    }
    items
}

#[cfg(test)]
mod tests;

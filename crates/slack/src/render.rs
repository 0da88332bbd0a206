//! Block Kit replies to `/certs` commands, answered from the stored inventory.
//!
//! A [`Reply`] serializes to exactly the JSON Slack expects as a slash-command response
//! (`response_type`, fallback `text`, `blocks`). Every reply is one message, so a list longer
//! than a message can hold shows its first items and says how many more there are and how to
//! narrow the query; nothing is dropped silently. Lists are ordered so the first items are the
//! ones to act on first.

mod decisions;
mod history;

pub use decisions::{decided, decision_note, not_responder};
pub use history::show_with_history;

use crate::blocks::{self, Page, MAX_SECTION};
use crate::command::{Command, ParseError, Request, SLASH, SUBCOMMANDS};
use crate::index::{commonest, slot, CodeList, Prepared};
use crate::inventory::{entry, find_accounts, names, Entry};
use crate::mrkdwn::{self, code, escape, plural};
use certwatch_core::order::most_urgent_first;
use certwatch_core::{CertificateFacts, Code, DomainValidation, Finding, Inventory, Urgency};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Who sees a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    /// Only the user who asked.
    Ephemeral,
    /// Everyone in the channel.
    InChannel,
}

/// A slash-command response, serialized as Slack expects it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    pub response_type: ResponseType,
    /// Fallback for notifications and clients that cannot show blocks (mrkdwn, escaped).
    pub text: String,
    pub blocks: Vec<Value>,
}

/// Fallback text is kept short: it shows in notifications.
const MAX_TEXT: usize = 3000;

/// Room kept free for a closing note ("… and 37 more …", "shortened …").
const NOTE_BYTES: usize = 800;

const SHORTENED_NOTE: &str =
    "Some entries were shortened to fit Slack's limits: `/certs show ID` has the full text.";

impl Reply {
    fn new(public: bool, text: &str, blocks: Vec<Value>) -> Reply {
        Reply {
            response_type: if public {
                ResponseType::InChannel
            } else {
                ResponseType::Ephemeral
            },
            text: mrkdwn::shorten(text, MAX_TEXT).0,
            blocks,
        }
    }

    /// A one-paragraph ephemeral reply (mrkdwn).
    pub fn note(text: &str) -> Reply {
        Reply::new(false, text, vec![blocks::section(text)])
    }
}

/// The answer to a parsed `/certs` command, from `inv` at `now`; `scan_running` says whether a
/// scan is under way (answers mention it).
///
/// `Command::Scan` belongs to the transport: it decides who may scan, starts the scan and
/// answers with [`scan_started`], [`scan_denied`] or [`scan_already_running`]. Handed one
/// anyway, this fails closed: "already running" when one is, otherwise "not allowed". So do
/// snooze, ack and unsnooze, which `bot` turns into a `Decide` for the runtime to write:
/// handed one, this answers [`not_responder`] and nothing is written.
pub fn reply(request: &Request, inv: &Prepared, scan_running: bool, now: DateTime<Utc>) -> Reply {
    let status = scan_status(inv, scan_running);
    let (text, blocks) = match &request.command {
        Command::Summary => summary(inv, now, &status),
        Command::Help => help(),
        Command::Expiring { days } => expiring(inv, now, &status, *days),
        Command::Account(query) => account(inv, now, &status, query),
        Command::Domain(query) => domain(inv, now, &status, query),
        Command::Code(code) => with_code(inv, now, &status, code),
        Command::Show(query) => show(inv, now, &status, query),
        Command::Failures => failures(inv, &status),
        Command::Snoozed => decisions::snoozed(inv, now, &status),
        Command::Scan if scan_running => return scan_already_running(),
        Command::Scan => return scan_denied(),
        Command::Snooze { .. } | Command::Ack { .. } | Command::Unsnooze(_) => {
            return not_responder()
        }
        // `bot` checks a resend and the runtime carries it out; handed one, nothing is sent.
        Command::Resend(_) => return crate::bot::Refusal::NotResponderToResend.reply(),
    };
    Reply::new(request.public, &text, blocks)
}

/// The answer to a `/certs` text that did not parse (always ephemeral).
pub fn parse_error(error: &ParseError) -> Reply {
    let message = error.to_string();
    let stop = if message.ends_with(['?', '.']) {
        ""
    } else {
        "."
    };
    let text = format!("Sorry: {}{stop}", escape(&message));
    let blocks = vec![
        blocks::section(&text),
        blocks::context(&["`/certs help` lists every subcommand with an example.".to_owned()]),
    ];
    Reply::new(false, &text, blocks)
}

/// `/certs scan` accepted: the transport started a scan.
pub fn scan_started() -> Reply {
    Reply::note("Scan started. I will post the result here when it finishes.")
}

/// `/certs scan` from a user who may not start scans.
pub fn scan_denied() -> Reply {
    Reply::note(
        "Only certwatch admins (`slack.admin_user_ids`) may start a scan. Scans also run on a \
         schedule: `/certs` shows when the last one finished.",
    )
}

/// `/certs scan` while a scan is running.
pub fn scan_already_running() -> Reply {
    Reply::note("A scan is already running. I will post the result here when it finishes.")
}

/// A certificate in a list, with the finding to show for it.
#[derive(Clone, Copy)]
struct Item<'a> {
    entry: Entry<'a>,
    finding: Option<&'a Finding>,
}

impl<'a> Item<'a> {
    fn worst(entry: Entry<'a>) -> Self {
        Item {
            finding: entry.worst(),
            entry,
        }
    }
}

/// "Last scan <time> · a scan is running now": in replies and the digest's footer.
pub(crate) fn scan_status(inv: &Inventory, scan_running: bool) -> String {
    let mut status = match inv.last_scan {
        Some(at) => format!("Last scan {}", mrkdwn::date(at)),
        None => "No scan has finished yet".to_owned(),
    };
    if scan_running {
        status.push_str(" · a scan is running now");
    }
    status
}

/// A header, an intro, one section per item while they fit, then `after`. When not every item
/// fits, a note says how many more there are and how to narrow the query (`narrow` is told how
/// many were shown and looks at the rest). `items` yields the `total` items in order and is
/// read only as far as the message holds: a long list costs what is shown, not its length.
fn listing<'a>(
    title: &str,
    intro: Vec<String>,
    total: usize,
    items: impl Iterator<Item = Item<'a>>,
    empty: &str,
    after: Vec<Value>,
    narrow: impl FnOnce(usize) -> String,
) -> Vec<Value> {
    let mut page = Page::new();
    page.push(blocks::header(title));
    if !intro.is_empty() {
        page.push(blocks::context(&intro));
    }
    if total == 0 {
        page.push(blocks::section(empty));
    }
    let reserve_blocks = after.len() + 1;
    let reserve_bytes = blocks::size(&after) + NOTE_BYTES;
    let mut shown = 0;
    let mut shortened = false;
    for item in items {
        let (line, cut) = mrkdwn::certificate_line(&item.entry, item.finding, MAX_SECTION);
        let block = blocks::section(&line);
        if !page.fits(std::slice::from_ref(&block), reserve_blocks, reserve_bytes) {
            break;
        }
        page.push(block);
        shown += 1;
        shortened |= cut;
    }
    let mut notes = Vec::new();
    if shown < total {
        notes.push(format!(
            "… and {} more: narrow the query, e.g. {}",
            total - shown,
            narrow(shown)
        ));
    }
    if shortened {
        notes.push(SHORTENED_NOTE.to_owned());
    }
    if !notes.is_empty() {
        page.push(blocks::context(&notes));
    }
    for block in after {
        page.push(block);
    }
    page.blocks
}

/// The most common value among the items, first in order on ties.
pub(crate) fn most_common<'a>(values: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (position, value) in values.enumerate() {
        let entry = counts.entry(value).or_insert((0, position));
        entry.0 += 1;
    }
    commonest(
        counts
            .into_iter()
            .map(|(value, (count, first))| (value, count, first)),
    )
}

/// "narrow the query, e.g. `/certs code X`", or `/certs expiring 7` without a code.
fn code_hint(code: Option<&str>) -> String {
    match code {
        Some(code) => format!("`{SLASH} code {code}`"),
        None => format!("`{SLASH} expiring 7`"),
    }
}

/// "narrow the query, e.g. `/certs account NAME`", or `/certs expiring 7` without one.
fn account_hint(name: Option<&str>) -> String {
    match name {
        Some(name) => code(&format!("{SLASH} account {name}")),
        None => format!("`{SLASH} expiring 7`"),
    }
}

/// Narrow by the commonest finding code among what is left out.
fn narrow_by_code(rest: &[Item<'_>]) -> String {
    code_hint(most_common(
        rest.iter()
            .filter_map(|i| i.finding)
            .map(|f| f.code.as_str()),
    ))
}

/// Narrow by the commonest account among what is left out.
fn narrow_by_account(rest: &[Item<'_>]) -> String {
    account_hint(most_common(
        rest.iter().map(|i| i.entry.record.account_name.as_str()),
    ))
}

fn summary(inv: &Prepared, now: DateTime<Utc>, status: &str) -> (String, Vec<Value>) {
    let index = inv.index();
    let counts = index.urgency_counts(&inv.report.certificates, now);
    let count = |urgency: Option<Urgency>| counts[slot(urgency)];
    let title = format!(
        "ACM certificates: {} in {}",
        inv.report.certificates.len(),
        plural(index.summary.accounts, "account", "accounts")
    );
    let urgencies = [
        ("Expired", Some(Urgency::Expired)),
        ("Urgent", Some(Urgency::Urgent)),
        ("Action", Some(Urgency::Action)),
        ("Upcoming", Some(Urgency::Upcoming)),
        ("Renews by itself", None),
    ];
    let fields: Vec<String> = urgencies
        .iter()
        .map(|(name, urgency)| format!("*{name}*\n{}", count(*urgency)))
        .collect();
    // Every code present, known ones in declaration order, then codes this version does not
    // know (from a newer certwatch's store), as they are.
    let by_code: Vec<(&Code, usize)> = index.summary.codes.iter().map(|(c, n)| (c, *n)).collect();
    let codes = if by_code.is_empty() {
        "*By finding*\nNo findings: every certificate renews by itself.".to_owned()
    } else {
        let lines: Vec<String> = by_code.iter().map(|(c, n)| format!("`{c}` {n}")).collect();
        format!("*By finding* (certificates)\n{}", lines.join("\n"))
    };
    let failed = inv.failed_targets();
    let undescribed = inv
        .report
        .failures
        .iter()
        .filter(|f| f.certificate_arn.is_some())
        .count();
    let mut status = vec![status.to_owned()];
    status.push(if failed == 0 {
        "No failed targets".to_owned()
    } else {
        format!(
            "{} in the latest scan: `/certs failures`",
            plural(failed, "failed target", "failed targets")
        )
    });
    if undescribed > 0 {
        status.push(format!(
            "{} could not be described",
            plural(undescribed, "certificate", "certificates")
        ));
    }
    let stale = index.summary.stale;
    if stale > 0 {
        status.push(format!(
            "{} kept from an earlier scan (their target failed)",
            plural(stale, "certificate", "certificates")
        ));
    }
    let mut next = vec![format!("`{SLASH} expiring 30`")];
    if let Some((c, _)) = by_code.iter().max_by_key(|(_, n)| *n) {
        next.push(format!("`{SLASH} code {c}`"));
    }
    next.push(format!("`{SLASH} help`"));
    let blocks = vec![
        blocks::header(&title),
        blocks::fields(&fields),
        blocks::section(&codes),
        blocks::context(&status),
        blocks::context(&[format!("Next: {}", next.join(" · "))]),
    ];
    let text = format!(
        "{title}: {} expired, {} urgent, {} action, {} upcoming, {} renew by themselves",
        count(Some(Urgency::Expired)),
        count(Some(Urgency::Urgent)),
        count(Some(Urgency::Action)),
        count(Some(Urgency::Upcoming)),
        count(None),
    );
    (text, blocks)
}

fn help() -> (String, Vec<Value>) {
    let lines: Vec<String> = SUBCOMMANDS
        .iter()
        .map(|s| {
            let usage = match s.name {
                "summary" => SLASH.to_owned(),
                name => format!("{SLASH} {name} {}", s.argument)
                    .trim_end()
                    .to_owned(),
            };
            format!("`{usage}`: {}. e.g. `{}`", s.about, s.example)
        })
        .collect();
    let codes: Vec<String> = Code::ALL.iter().map(|c| format!("`{c}`")).collect();
    let mut blocks = vec![blocks::header(
        "/certs: ACM certificates that will not renew by themselves",
    )];
    blocks.extend(
        blocks::pack(&lines, "\n", MAX_SECTION)
            .iter()
            .map(|text| blocks::section(text)),
    );
    blocks.push(blocks::context(&[
        "Add `public` at the end to answer in the channel, e.g. `/certs expiring 7 public`; \
         otherwise only you see the answer."
            .to_owned(),
        format!("Finding codes: {}", codes.join(", ")),
        "Urgency: expired, urgent, action, upcoming. No finding: ACM renews the certificate by \
         itself."
            .to_owned(),
    ]));
    let names: Vec<&str> = SUBCOMMANDS.iter().map(|s| s.name).collect();
    (format!("/certs subcommands: {}", names.join(", ")), blocks)
}

/// `/certs expiring N`: the certificates expired at `now` or within N days, soonest first
/// (the index's [`Expiring`](crate::index::Expiring)).
fn expiring(inv: &Prepared, now: DateTime<Utc>, status: &str, days: u32) -> (String, Vec<Value>) {
    let records = &inv.report.certificates;
    let list = inv.index().expiring(records, now, days);
    let total = list.len();
    let items = list
        .records()
        .map(|r| Item::worst(entry(inv, inv.record(r), now)));
    let title = format!(
        "Expiring within {}: {}",
        plural(days as usize, "day", "days"),
        plural(total, "certificate", "certificates")
    );
    let intro = vec![
        "Expired or expiring, soonest first".to_owned(),
        status.to_owned(),
    ];
    let empty = format!(
        "No certificate expires within {}, and none has expired.",
        plural(days as usize, "day", "days")
    );
    let narrow = |shown: usize| code_hint(list.commonest_code(records, shown).map(Code::as_str));
    let blocks = listing(&title, intro, total, items, &empty, Vec::new(), narrow);
    (title, blocks)
}

fn account(inv: &Prepared, now: DateTime<Utc>, status: &str, query: &str) -> (String, Vec<Value>) {
    let matches = find_accounts(inv, query);
    let Some((first_id, first_name)) = matches.first().copied() else {
        let known: Vec<String> = inv
            .index()
            .accounts
            .iter()
            .map(|(id, name)| format!("{} ({})", escape(name), escape(id)))
            .collect();
        let text = if known.is_empty() {
            format!(
                "No account matches {}: the inventory is empty.",
                code(query)
            )
        } else {
            format!(
                "No account matches {}. Known accounts: {}.",
                code(query),
                known.join(", ")
            )
        };
        return (text.clone(), vec![blocks::section(&text)]);
    };
    let ids: BTreeSet<&str> = matches.iter().map(|(id, _)| *id).collect();
    let title = if matches.len() == 1 {
        format!("Account {first_name} ({first_id})")
    } else {
        format!("{} accounts named {first_name}", matches.len())
    };
    let mut records: Vec<u32> = ids
        .iter()
        .flat_map(|id| inv.index().of_account(&inv.report.certificates, id))
        .collect();
    records.sort_unstable();
    let entries: Vec<Entry<'_>> = records
        .into_iter()
        .map(|r| entry(inv, inv.record(r), now))
        .collect();
    let (mut needing, mut healthy): (Vec<Entry<'_>>, Vec<Entry<'_>>) =
        entries.iter().copied().partition(|e| e.urgency.is_some());
    needing.sort_by_key(|e| most_urgent_first(e.record, e.urgency));
    healthy.sort_by_key(|e| most_urgent_first(e.record, e.urgency));
    let mut intro = Vec::new();
    if !entries.is_empty() {
        intro.push(format!(
            "{}: {} with findings, {} renewing by themselves",
            plural(entries.len(), "certificate", "certificates"),
            needing.len(),
            healthy.len()
        ));
    }
    intro.push(status.to_owned());
    let failed: Vec<String> = inv
        .report
        .failures
        .iter()
        .filter(|f| ids.contains(f.account_id.as_str()))
        .map(|f| {
            format!(
                "{} ({}): {}",
                f.region.as_deref().map_or("all regions".to_owned(), escape),
                f.stage,
                mrkdwn::shorten(&escape(&mrkdwn::one_line(&f.error)), 300).0
            )
        })
        .collect();
    if !failed.is_empty() {
        intro.push(format!(
            "Not read in the latest scan: {}",
            failed.join("; ")
        ));
    }
    let mut after = Vec::new();
    if !healthy.is_empty() {
        let mut text = format!("*Renewing by themselves ({}):* ", healthy.len());
        let mut listed = 0;
        for (i, e) in healthy.iter().enumerate() {
            let item = format!(
                "{}{} {} ({})",
                if i == 0 { "" } else { ", " },
                code(e.record.facts.display_name()),
                escape(&e.record.facts.region),
                e.expiry_phrase()
            );
            // Keep room for "… and N more".
            if text.len() + item.len() > MAX_SECTION - 40 {
                break;
            }
            text.push_str(&item);
            listed += 1;
        }
        if listed < healthy.len() {
            text.push_str(&format!(" … and {} more", healthy.len() - listed));
        }
        after.push(blocks::section(&text));
    }
    let items: Vec<Item<'_>> = needing.into_iter().map(Item::worst).collect();
    let empty = if healthy.is_empty() {
        "No certificates known in this account."
    } else {
        "No findings: every certificate of this account renews by itself."
    };
    let blocks = listing(
        &title,
        intro,
        items.len(),
        items.iter().copied(),
        empty,
        after,
        |shown| narrow_by_code(&items[shown..]),
    );
    (escape(&title), blocks)
}

fn domain(inv: &Prepared, now: DateTime<Utc>, status: &str, query: &str) -> (String, Vec<Value>) {
    let query = query.trim();
    let mut matching: Vec<Entry<'_>> = inv
        .covering(query)
        .map(|record| entry(inv, record, now))
        .collect();
    matching.sort_by_key(|e| most_urgent_first(e.record, e.urgency));
    let items: Vec<Item<'_>> = matching.into_iter().map(Item::worst).collect();
    let title = format!(
        "Certificates for {query}: {}",
        plural(items.len(), "certificate", "certificates")
    );
    let mut empty = format!("No certificate covers {}.", code(query));
    if items.is_empty() {
        // Help someone who asked for the parent domain of what they meant.
        // Walks every name: only when nothing matched.
        let suffix = format!(".{}", query.trim_start_matches("*.").to_ascii_lowercase());
        let ends_with = |n: &str| {
            n.len() >= suffix.len()
                && n.as_bytes()[n.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
        };
        let under: BTreeSet<String> = inv
            .report
            .certificates
            .iter()
            .flat_map(names)
            .filter(|n| ends_with(n))
            .cloned()
            .collect();
        if !under.is_empty() {
            let shown: Vec<String> = under.iter().take(10).map(|n| code(n)).collect();
            empty.push_str(&format!(
                " Names under it: {}{}.",
                shown.join(", "),
                if under.len() > 10 { ", …" } else { "" }
            ));
        }
    }
    let intro = vec![
        "Matched against each certificate's domain and SANs, wildcards included".to_owned(),
        status.to_owned(),
    ];
    let blocks = listing(
        &title,
        intro,
        items.len(),
        items.iter().copied(),
        &empty,
        Vec::new(),
        |shown| narrow_by_account(&items[shown..]),
    );
    (escape(&title), blocks)
}

/// `/certs code X`: the certificates with finding X, most urgent first at that finding's
/// urgency (the index keeps each code's list in that order).
fn with_code(
    inv: &Prepared,
    now: DateTime<Utc>,
    status: &str,
    wanted: &Code,
) -> (String, Vec<Value>) {
    let empty_list = CodeList::default();
    let list = inv.index().by_code.get(wanted).unwrap_or(&empty_list);
    let total = list.items.len();
    let items = list.items.iter().map(|&(r, f)| {
        let record = inv.record(r);
        Item {
            entry: entry(inv, record, now),
            finding: Some(&record.findings[f as usize]),
        }
    });
    let title = format!("{wanted}: {}", plural(total, "certificate", "certificates"));
    let intro = vec!["Most urgent first".to_owned(), status.to_owned()];
    let empty = format!("No certificate has the finding `{wanted}`.");
    let narrow =
        |shown: usize| account_hint(list.commonest_account(&inv.report.certificates, shown));
    let blocks = listing(&title, intro, total, items, &empty, Vec::new(), narrow);
    (title, blocks)
}

fn show(inv: &Prepared, now: DateTime<Utc>, status: &str, query: &str) -> (String, Vec<Value>) {
    show_with(inv, now, status, query, Vec::new())
}

/// `/certs show`, with `more` (the certificate's history) after its findings.
fn show_with(
    inv: &Prepared,
    now: DateTime<Utc>,
    status: &str,
    query: &str,
    more: Vec<Value>,
) -> (String, Vec<Value>) {
    let query = query.trim();
    let found: Vec<Entry<'_>> = inv
        .with_arn_or_id(query)
        .map(|record| entry(inv, record, now))
        .collect();
    let Some(entry) = found.first() else {
        let text = format!(
            "No certificate with ARN or id {} in the inventory. `/certs domain NAME` finds \
             certificates by name.",
            code(query)
        );
        return (text.clone(), vec![blocks::section(&text)]);
    };
    let record = entry.record;
    let facts = &record.facts;
    let dash = || "—".to_owned();
    let fields = vec![
        format!(
            "*Account*\n{} ({})",
            escape(&record.account_name),
            escape(&facts.account_id)
        ),
        format!("*Region*\n{}", escape(&facts.region)),
        format!("*Type*\n{}", escape(facts.cert_type.as_str())),
        format!("*Status*\n{}", escape(facts.status.as_str())),
        format!(
            "*Key algorithm*\n{}",
            facts.key_algorithm.as_deref().map_or_else(dash, escape)
        ),
        format!(
            "*Expires*\n{}",
            match facts.not_after {
                Some(at) => format!("{} ({})", mrkdwn::day(at), entry.expiry_phrase()),
                None => entry.expiry_phrase(),
            }
        ),
        format!(
            "*Validation method*\n{}",
            record
                .validation_method
                .as_ref()
                .map_or_else(dash, |m| escape(m.as_str()))
        ),
        format!("*Renewal status*\n{}", renewal(facts)),
        format!(
            "*Renewal eligibility*\n{}",
            facts
                .renewal_eligibility
                .as_ref()
                .map_or_else(dash, |r| escape(r.as_str()))
        ),
        format!("*In use*\n{}", in_use(facts)),
    ];
    let mut details = vec![match entry.urgency {
        Some(urgency) => format!(
            "*Verdict:* *{}*, {} below, most urgent first",
            mrkdwn::label(Some(urgency)),
            plural(record.findings.len(), "finding", "findings")
        ),
        None => "*Verdict:* *OK*, no finding: ACM renews it by itself.".to_owned(),
    }];
    if let Some((decision, visibility)) = entry.decision {
        let effect = match visibility {
            certwatch_core::Visibility::Hidden => "left out of the digest and the alerts",
            _ => "shown again",
        };
        details.push(format!(
            "*Decision ({effect}):* {}",
            mrkdwn::decision_note(decision, Some(visibility), 1000)
        ));
    }
    details.extend(facts_lines(facts));
    let mut body = vec![blocks::fields(&fields)];
    body.extend(
        blocks::pack(&details, "\n", MAX_SECTION)
            .iter()
            .map(|text| blocks::section(text)),
    );
    for finding in &record.findings {
        let text = format!(
            "*{} · `{}`*\n{}\n*What to do:* {}",
            mrkdwn::label(Some(finding.urgency)),
            finding.code,
            escape(&finding.summary),
            escape(mrkdwn::remedy_text(finding, &record.console_url))
        );
        // Shown whole, over several sections if need be: this is where the full text lives.
        body.extend(
            mrkdwn::split(&text, MAX_SECTION)
                .iter()
                .map(|text| blocks::section(text)),
        );
    }
    body.extend(more);
    let mut closing = vec![mrkdwn::link(&record.console_url, "Open in the ACM console")];
    match entry.last_seen {
        Some(seen) => closing.push(format!(
            "Last seen {} (target failed in the latest scan)",
            mrkdwn::date(seen)
        )),
        None => closing.push(status.to_owned()),
    }
    if found.len() > 1 {
        closing.push(format!(
            "{} certificates match {}; this is the first: use the full ARN.",
            found.len(),
            code(query)
        ));
    }
    let tail = vec![blocks::context(&closing)];
    let mut page = Page::new();
    page.push(blocks::header(facts.display_name()));
    let total = body.len();
    let mut shown = 0;
    for block in body {
        if !page.fits(
            std::slice::from_ref(&block),
            2,
            blocks::size(&tail) + NOTE_BYTES,
        ) {
            break;
        }
        page.push(block);
        shown += 1;
    }
    if shown < total {
        page.push(blocks::context(&[format!(
            "… and {} more sections: more than one message can hold; the console has the rest.",
            total - shown
        )]));
    }
    for block in tail {
        page.push(block);
    }
    let text = format!(
        "{}: {}, {}",
        escape(facts.display_name()),
        mrkdwn::label(entry.urgency),
        plural(record.findings.len(), "finding", "findings")
    );
    (text, page.blocks)
}

/// The renewal summary in one line.
fn renewal(facts: &CertificateFacts) -> String {
    let Some(renewal) = &facts.renewal_summary else {
        return "— (no renewal yet)".to_owned();
    };
    let mut text = escape(renewal.renewal_status.as_str());
    if let Some(reason) = &renewal.renewal_status_reason {
        text.push_str(&format!(" ({})", escape(reason.as_str())));
    }
    if let Some(at) = renewal.updated_at {
        text.push_str(&format!(", updated {}", mrkdwn::day(at)));
    }
    text
}

fn in_use(facts: &CertificateFacts) -> String {
    let mut text = match facts.in_use_by.len() {
        0 if facts.in_use => "yes".to_owned(),
        0 => "no".to_owned(),
        n => format!("yes, by {}", plural(n, "resource", "resources")),
    };
    if facts.exported {
        text.push_str(" · exported");
    }
    text
}

/// Every other fact of a certificate, one mrkdwn line each.
fn facts_lines(facts: &CertificateFacts) -> Vec<String> {
    let codes = |values: &[String]| {
        values
            .iter()
            .map(|v| code(v))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = vec![format!("*ARN:* {}", code(&facts.arn))];
    if !facts.subject_alternative_names.is_empty() {
        lines.push(format!(
            "*Names:* {}",
            codes(&facts.subject_alternative_names)
        ));
    }
    if facts.not_before.is_some() || facts.not_after.is_some() {
        let at = |t: Option<DateTime<Utc>>| t.map_or_else(|| "?".to_owned(), mrkdwn::plain_date);
        lines.push(format!(
            "*Valid:* {} → {}",
            at(facts.not_before),
            at(facts.not_after)
        ));
    }
    let dates: Vec<String> = [
        ("Created", facts.created_at),
        ("Issued", facts.issued_at),
        ("Imported", facts.imported_at),
    ]
    .iter()
    .filter_map(|(what, at)| at.map(|at| format!("*{what}:* {}", mrkdwn::plain_date(at))))
    .collect();
    if !dates.is_empty() {
        lines.push(dates.join(" · "));
    }
    if !facts.in_use_by.is_empty() {
        lines.push(format!("*In use by:* {}", codes(&facts.in_use_by)));
    }
    if let Some(by) = &facts.managed_by {
        lines.push(format!("*Managed by:* {}", escape(by)));
    }
    if let Some(reason) = &facts.failure_reason {
        lines.push(format!("*Failure reason:* {}", escape(reason.as_str())));
    }
    if let Some(ca) = &facts.certificate_authority_arn {
        lines.push(format!("*Private CA:* {}", code(ca)));
    }
    // The renewal's validation state is the current one when a renewal is under way.
    let validations = match &facts.renewal_summary {
        Some(r) if !r.domain_validation_options.is_empty() => &r.domain_validation_options,
        _ => &facts.domain_validation_options,
    };
    lines.extend(validations.iter().map(validation_line));
    if !facts.described {
        lines
            .push("_Judged from the list summary: DescribeCertificate was not needed._".to_owned());
    }
    lines
}

fn validation_line(dv: &DomainValidation) -> String {
    let mut line = format!("*Validation of* {}:", code(&dv.domain_name));
    if let Some(method) = &dv.validation_method {
        line.push_str(&format!(" {}", escape(method.as_str())));
    }
    if let Some(status) = &dv.validation_status {
        line.push_str(&format!(" {}", escape(status.as_str())));
    }
    if let Some(record) = &dv.resource_record {
        line.push_str(&format!(
            ", {} {} {}",
            code(&record.name),
            escape(&record.record_type),
            code(&record.value)
        ));
    }
    if !dv.validation_emails.is_empty() {
        let emails: Vec<String> = dv.validation_emails.iter().map(|e| escape(e)).collect();
        line.push_str(&format!(", emails to {}", emails.join(", ")));
    }
    if let Some(redirect) = &dv.http_redirect {
        line.push_str(&format!(
            ", {} must serve {}",
            code(&redirect.redirect_from),
            code(&redirect.redirect_to)
        ));
    }
    line
}

/// Account-regions the latest scan listed without SearchCertificates: member roles deployed
/// from a template that predates it. Nothing was missed, but those targets cost more calls.
fn search_fallback_note(inv: &Inventory) -> Option<String> {
    let count = inv.report.stats.search_fallbacks as usize;
    (count > 0).then(|| {
        format!(
            "{} listed without `acm:SearchCertificates`, every certificate described (nothing \
             missed, more AWS calls): update the member-role StackSet to grant it.",
            plural(count, "account-region was", "account-regions were")
        )
    })
}

fn failures(inv: &Prepared, status: &str) -> (String, Vec<Value>) {
    let failures = &inv.report.failures;
    let fallback = search_fallback_note(inv);
    if failures.is_empty() {
        let mut context = vec![status.to_owned()];
        context.extend(fallback);
        let blocks = vec![
            blocks::header("Failed targets: none"),
            blocks::section("The latest scan read every account and region it was asked to."),
            blocks::context(&context),
        ];
        return ("No failed targets".to_owned(), blocks);
    }
    let title = format!(
        "Failed in the latest scan: {}",
        plural(failures.len(), "failure", "failures")
    );
    let stale = inv.index().summary.stale;
    let lines: Vec<String> = failures
        .iter()
        .map(|f| {
            let mut line = format!(
                "*{}* ({}) · {} · `{}`",
                escape(&f.account_name),
                escape(&f.account_id),
                f.region.as_deref().map_or("all regions".to_owned(), escape),
                f.stage
            );
            if let Some(arn) = &f.certificate_arn {
                line.push_str(&format!(" · {}", code(arn)));
            }
            // One quoted line: a multi-line error would leave the quote after its first line.
            line.push_str(&format!(
                "\n> {}",
                mrkdwn::shorten(&escape(&mrkdwn::one_line(&f.error)), 600).0
            ));
            line
        })
        .collect();
    let mut page = Page::new();
    page.push(blocks::header(&title));
    let mut context = vec![
        format!(
            "{} · {} affected",
            status,
            plural(inv.failed_targets(), "target", "targets")
        ),
        format!(
            "Certificates of a failed target stay in the inventory from the last scan that read \
             them, marked _last seen_ ({} now).",
            stale
        ),
    ];
    context.extend(fallback);
    page.push(blocks::context(&context));
    // Several failures per section: an organization-wide problem fails many targets at once.
    let mut shown = 0;
    let mut chunk: Vec<String> = Vec::new();
    let mut chunk_len = 0;
    let mut flushed = true;
    for (i, line) in lines.iter().enumerate() {
        if !chunk.is_empty() && chunk_len + 2 + line.len() > MAX_SECTION {
            let block = blocks::section(&chunk.join("\n\n"));
            if !page.fits(std::slice::from_ref(&block), 1, NOTE_BYTES) {
                flushed = false;
                break;
            }
            page.push(block);
            shown = i;
            chunk.clear();
            chunk_len = 0;
        }
        chunk_len += line.len() + 2;
        chunk.push(line.clone());
    }
    if flushed && !chunk.is_empty() {
        let block = blocks::section(&chunk.join("\n\n"));
        if page.fits(std::slice::from_ref(&block), 1, NOTE_BYTES) {
            page.push(block);
            shown = lines.len();
        }
    }
    if shown < lines.len() {
        page.push(blocks::context(&[format!(
            "… and {} more: `/certs account NAME` shows one account's",
            lines.len() - shown
        )]));
    }
    (title, page.blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::parse;
    use crate::fixtures::{self, Fixture};
    use crate::{blocks_to_text, check_limits};

    fn answer(fixture: &Fixture, text: &str) -> Reply {
        let request = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let reply = reply(&request, &fixture.prepared(), false, fixture.now);
        check(&reply, text);
        reply
    }

    /// Every reply: within Slack's limits, with fallback text.
    fn check(reply: &Reply, what: &str) {
        check_limits(&reply.blocks).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            !reply.text.is_empty() && reply.text.len() <= MAX_TEXT,
            "{what}"
        );
    }

    /// The commands snapshotted for every fixture.
    const COMMANDS: &[(&str, &str)] = &[
        ("summary", ""),
        ("help", "help"),
        ("expiring", "expiring 30 public"),
        ("failures", "failures"),
    ];

    #[test]
    fn small_inventory_snapshots() {
        let fixture = fixtures::small();
        let cases: &[(&str, &str)] = &[
            ("expiring_7", "expiring 7"),
            ("account_by_name", "account R&amp;D &lt;lab&gt;"),
            ("account_with_failures", "account 333333333333"),
            ("account_failed_whole", "account SANDBOX"),
            ("account_unknown", "account nobody"),
            ("domain_wildcard_covers", "domain API.example.org"),
            ("domain_wildcard_exact", "domain *.example.org"),
            ("domain_none_suggests", "domain example.net"),
            ("code", "code not-in-use"),
            ("code_none", "code CAA_BLOCKED"),
            ("show_two_findings", "show 5eed0000-0000-4000-8000-000000000005"),
            ("show_stale", "show arn:aws:acm:ap-northeast-1:333333333333:certificate/5eed0000-0000-4000-8000-000000000009"),
            ("show_lapsed_since_scan", "show 5eed0000-0000-4000-8000-000000000006"),
            ("show_unknown", "show 0000"),
        ];
        for (name, text) in COMMANDS.iter().chain(cases) {
            insta::assert_json_snapshot!(format!("small_{name}"), answer(&fixture, text));
        }
    }

    #[test]
    fn demo_inventory_snapshots() {
        let fixture = fixtures::demo();
        let cases: &[(&str, &str)] = &[
            ("account", "account marketing-web"),
            ("code", "code IMPORTED"),
            ("domain", "domain www.example.org"),
            ("show", "show 1e4807ea-4182-09bf-6407-eec96c1774dc"),
        ];
        for (name, text) in COMMANDS.iter().chain(cases) {
            insta::assert_json_snapshot!(format!("demo_{name}"), answer(&fixture, text));
        }
    }

    #[test]
    fn fixed_replies_snapshots() {
        let errors = ["expirng 7", "code BOGUS", "account", "<b>&amp;"];
        for text in errors {
            let reply = parse_error(&parse(text).expect_err(text));
            check(&reply, text);
            insta::assert_json_snapshot!(
                format!(
                    "parse_error_{}",
                    text.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                ),
                reply
            );
        }
        for (name, reply) in [
            ("scan_started", scan_started()),
            ("scan_denied", scan_denied()),
            ("scan_already_running", scan_already_running()),
        ] {
            check(&reply, name);
            insta::assert_json_snapshot!(name, reply);
        }
    }

    #[test]
    fn response_type_follows_the_public_flag() {
        let fixture = fixtures::small();
        let json = serde_json::to_value(answer(&fixture, "expiring 7 public")).expect("json");
        assert_eq!(json["response_type"], "in_channel");
        let json = serde_json::to_value(answer(&fixture, "expiring 7")).expect("json");
        assert_eq!(json["response_type"], "ephemeral");
        let mut keys: Vec<String> = json
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        assert_eq!(
            Some(keys),
            Some(vec![
                "blocks".to_owned(),
                "response_type".to_owned(),
                "text".to_owned()
            ])
        );
    }

    #[test]
    fn scan_command_fails_closed() {
        let fixture = fixtures::small();
        let inv = &fixture.prepared();
        let request = parse("scan").expect("scan");
        assert_eq!(reply(&request, inv, false, fixture.now), scan_denied());
        assert_eq!(
            reply(&request, inv, true, fixture.now),
            scan_already_running()
        );
    }

    #[test]
    fn user_text_is_escaped() {
        let fixture = fixtures::small();
        // mrkdwn texts only: header blocks are plain text, which Slack shows as it is.
        fn mrkdwn_texts(value: &Value, out: &mut String) {
            match value {
                Value::Object(map) if map.get("type") == Some(&Value::from("mrkdwn")) => {
                    out.push_str(map["text"].as_str().unwrap_or_default());
                    out.push('\n');
                }
                Value::Object(map) => map.values().for_each(|v| mrkdwn_texts(v, out)),
                Value::Array(values) => values.iter().for_each(|v| mrkdwn_texts(v, out)),
                _ => {}
            }
        }
        let mut all = String::new();
        for text in [
            "account R&amp;D &lt;lab&gt;",
            "expiring 90",
            "domain <x>&amp;",
            "show <!channel>",
        ] {
            let reply = answer(&fixture, text);
            mrkdwn_texts(&Value::from(reply.blocks), &mut all);
            all.push_str(&reply.text);
        }
        for raw in [
            "R&D",
            "<lab>",
            "<admin@example.org>",
            "<x>",
            "<!channel>",
            "& <h",
        ] {
            assert!(!all.contains(raw), "{raw} unescaped");
        }
        assert!(all.contains("R&amp;D &lt;lab&gt;"));
    }

    #[test]
    fn stale_and_lapsed_certificates_say_so() {
        let fixture = fixtures::small();
        let text = blocks_to_text(&answer(&fixture, "expiring 40").blocks);
        assert!(text.contains("*ACTION* · `legacy.example.net`"), "{text}");
        assert!(
            text.contains("_Last seen 2026-02-27 06:00 UTC (target failed in the latest scan)_"),
            "{text}"
        );
        // Urgent at scan time, past NotAfter at `now`.
        assert!(text.contains("*EXPIRED* · `lapsed.example.com` · payments (222222222222) · eu-west-1 · expired less than a day ago"), "{text}");
        // The console link replaces the remedy's trailing "Console: <url>".
        assert!(!text.contains("Console: https://"), "{text}");
    }

    #[test]
    fn failures_name_accounts_listed_without_search() {
        let fixtures = [fixtures::small(), fixtures::large(10)];
        assert!(
            !fixtures[0].inventory.report.failures.is_empty()
                && fixtures[1].inventory.report.failures.is_empty(),
            "both replies: with failures and without"
        );
        for mut fixture in fixtures {
            let before = blocks_to_text(&answer(&fixture, "failures").blocks);
            assert!(!before.contains("SearchCertificates"), "{before}");
            fixture.inventory.report_mut().stats.search_fallbacks = 3;
            let text = blocks_to_text(&answer(&fixture, "failures").blocks);
            assert!(
                text.contains("3 account-regions were listed without `acm:SearchCertificates`"),
                "{text}"
            );
        }
    }

    #[test]
    fn long_lists_say_how_many_more() {
        let fixture = fixtures::large(600);
        for text in [
            "expiring 3650",
            "code IMPORTED",
            "account team-01",
            "domain svc1.team1.example.com",
            "failures",
            "",
        ] {
            let reply = answer(&fixture, text);
            let shown = reply.blocks.len();
            assert!(shown <= 50, "{text}");
        }
        let reply = answer(&fixture, "expiring 3650");
        let text = blocks_to_text(&reply.blocks);
        let listed = text.matches("|console>").count() + text.matches("console (https://").count();
        let more: usize = text
            .split("… and ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("a '… and N more' note");
        assert_eq!(listed + more, 600, "{text}");
        assert!(
            text.contains("more: narrow the query, e.g. `/certs code "),
            "{text}"
        );
    }

    /// Every list is in core's order (`certwatch_core::order`), replies and digest alike: an
    /// EXPIRED certificate without a NotAfter comes first among the expired.
    #[test]
    fn lists_follow_cores_order() {
        use certwatch_core::{CertStatus, CertificateRecord, Policy};
        let mut fixture = fixtures::small();
        let now = fixture.now;
        let mut facts = CertificateFacts::new(
            "222222222222",
            "us-east-1",
            "arn:aws:acm:us-east-1:222222222222:certificate/5eed0000-0000-4000-8000-000000000010",
        );
        facts.domain_name = Some("undated.example.com".into());
        facts.status = CertStatus::Expired;
        let findings = certwatch_core::classify(&facts, now, &Policy::default());
        let report = fixture.inventory.report_mut();
        report
            .certificates
            .push(CertificateRecord::new("payments", facts, findings, now));
        report.sort();
        let mut records: Vec<&CertificateRecord> = fixture
            .inventory
            .report
            .certificates
            .iter()
            .filter(|r| r.facts.account_id == "222222222222" && r.urgency_at(now).is_some())
            .collect();
        records.sort_by_key(|r| most_urgent_first(r, r.urgency_at(now)));
        let wanted: Vec<&str> = records.iter().map(|r| r.facts.display_name()).collect();
        assert_eq!(
            wanted,
            [
                "undated.example.com",
                "old.example.com",
                "lapsed.example.com",
                "api.example.com",
                "pay.example.com"
            ]
        );
        let in_order = |text: &str, names: &[&str]| {
            let positions: Vec<usize> = names
                .iter()
                .map(|name| text.find(&format!("`{name}`")).expect(name))
                .collect();
            assert!(
                positions.windows(2).all(|w| w[0] < w[1]),
                "{names:?}\n{text}"
            );
        };
        in_order(
            &blocks_to_text(&answer(&fixture, "account payments").blocks),
            &wanted,
        );
        let options = crate::DigestOptions {
            post_when_clear: false,
            time_zone_label: "UTC".to_owned(),
            ..crate::DigestOptions::default()
        };
        let digest = crate::digest(&fixture.prepared(), false, now, &options).expect("a digest");
        in_order(&blocks_to_text(&digest.parent.blocks), &wanted);
        let expiring = blocks_to_text(&answer(&fixture, "expiring 30").blocks);
        in_order(&expiring, &wanted[..3]);
    }

    #[test]
    fn expiring_lists_soonest_first_and_includes_expired() {
        let fixture = fixtures::demo();
        let reply = answer(&fixture, "expiring 20");
        let text = blocks_to_text(&reply.blocks);
        let order: Vec<&str> = [
            "legacy-pay.example.com",
            "hackathon.sandbox.example.com",
            "promo.example.net",
            "campaign.example.org",
            "media.example.com",
        ]
        .iter()
        .map(|d| {
            text.find(&format!("`{d}`"))
                .unwrap_or_else(|| panic!("{d} missing"));
            *d
        })
        .collect();
        let positions: Vec<usize> = order
            .iter()
            .map(|d| text.find(&format!("`{d}`")).unwrap_or(0))
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{order:?} {positions:?}"
        );
        assert!(!text.contains("`vpn.example.com`"), "29 days is beyond 20");
    }
}

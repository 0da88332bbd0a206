//! Slack mrkdwn: escaping, shortening without breaking markup, dates, and the one-certificate
//! line that every list (replies and digest) is made of.
//!
//! Everything that comes from AWS or from a user (account names, domains, finding texts,
//! errors, query words) goes through [`escape`]: Slack reads `&`, `<` and `>` as markup, so an
//! account called `<!channel>` would otherwise ping a whole channel.

use crate::inventory::Entry;
use certwatch_core::{Decision, DecisionKind, Finding, Resurfaced, Urgency, Visibility};
use chrono::{DateTime, Utc};

const ELLIPSIS: &str = "…";

/// Escapes the three characters Slack treats as markup in mrkdwn text, and shows other ASCII
/// control characters than line breaks and tabs as U+FFFD: Slack shows them as nothing, and
/// JSON writes most as six bytes (`\u0000`), so a text of them within a block's byte budget
/// would still break the message's ([`crate::check_limits`]).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' | '\t' => out.push(c),
            c if c.is_ascii_control() => out.push(char::REPLACEMENT_CHARACTER),
            c => out.push(c),
        }
    }
    out
}

/// Inline code: no formatting inside, so `*.example.org` does not start bold text. A backtick
/// inside would end the span early; AWS names never contain one, but user text might.
pub(crate) fn code(text: &str) -> String {
    format!("`{}`", escape(&text.replace('`', "'")))
}

/// A link. `|` and `>` end a Slack link, so they are percent-encoded in the URL.
pub(crate) fn link(url: &str, label: &str) -> String {
    let url = escape(url).replace('|', "%7C");
    format!("<{url}|{}>", escape(label))
}

/// A time Slack shows in each reader's own time zone, with a UTC fallback for clients (and
/// notifications) that cannot.
pub(crate) fn date(at: DateTime<Utc>) -> String {
    format!(
        "<!date^{}^{{date_short_pretty}} {{time}}|{}>",
        at.timestamp(),
        plain_date(at)
    )
}

/// `2026-11-28 15:10 UTC`: for plain text, where Slack's date tokens do not work.
pub(crate) fn plain_date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `2026-11-28`.
pub(crate) fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// A time people chose: the day alone when it is midnight UTC (`/certs snooze … 2026-12-13`),
/// otherwise a [`date`] token (`7d` from a moment).
pub(crate) fn moment(at: DateTime<Utc>) -> String {
    if at.time() == chrono::NaiveTime::MIN {
        day(at)
    } else {
        date(at)
    }
}

/// Whether `id` looks like a Slack id (`U0123ABCD`, `C0123ABCD`): letters and digits only, so
/// that it can go into a mention without escaping.
fn slack_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A user mention, `<@U0123ABCD>`; anything that is not a Slack id is shown as code.
pub(crate) fn user(id: &str) -> String {
    if slack_id(id) {
        format!("<@{id}>")
    } else {
        code(id)
    }
}

/// A channel mention, `<#C0123ABCD>`; anything that is not a Slack id is shown as code.
pub(crate) fn channel(id: &str) -> String {
    if slack_id(id) {
        format!("<#{id}>")
    } else {
        code(id)
    }
}

/// Why a decided certificate is shown again, after "back because".
pub(crate) fn resurfaced(why: Resurfaced) -> &'static str {
    match why {
        Resurfaced::BecameUrgent => "it became urgent",
        Resurfaced::FindingsChanged => "its findings changed",
        Resurfaced::Renewed => "it was renewed",
    }
}

/// A decision in one line: "*Snoozed* by <@U1> until 2026-12-13: reason", "*Acknowledged* by
/// <@U1> on 2026-03-02, back because it became urgent: reason". The reason is cut to
/// `reason_max` bytes.
pub(crate) fn decision_note(
    decision: &Decision,
    visibility: Option<Visibility>,
    reason_max: usize,
) -> String {
    let mut note = match decision.kind {
        DecisionKind::Snooze { until } => {
            format!(
                "*Snoozed* by {} until {}",
                user(&decision.by),
                moment(until)
            )
        }
        DecisionKind::Acknowledge => format!(
            "*Acknowledged* by {} on {}",
            user(&decision.by),
            day(decision.at)
        ),
    };
    match visibility {
        Some(Visibility::Resurfaced(why)) => {
            note.push_str(&format!(", back because {}", resurfaced(why)));
        }
        Some(Visibility::Lapsed) => note.push_str(", ran out"),
        Some(Visibility::Hidden) | None => {}
    }
    let reason = decision.reason.trim();
    if !reason.is_empty() {
        note.push_str(": ");
        note.push_str(&shorten(&escape(&one_line(reason)), reason_max).0);
    }
    note
}

/// Text on one line: whitespace runs (line breaks included) become one space.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "1 certificate", "3 certificates".
pub(crate) fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

/// The label of an urgency; `None` is a certificate that renews by itself.
pub(crate) fn label(urgency: Option<Urgency>) -> &'static str {
    match urgency {
        Some(Urgency::Expired) => "EXPIRED",
        Some(Urgency::Urgent) => "URGENT",
        Some(Urgency::Action) => "ACTION",
        Some(Urgency::Upcoming) => "UPCOMING",
        None => "OK",
    }
}

/// Cuts escaped mrkdwn to at most `max` bytes, ending with "…". Never cuts inside a character,
/// an entity (`&amp;`), a link or date token (`<…>`) or a code span, which Slack would show as
/// garbage. Returns whether it cut.
pub(crate) fn shorten(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_owned(), false);
    }
    let end = safe_end(text, max.saturating_sub(ELLIPSIS.len()));
    let mut out = text[..end].trim_end().to_owned();
    out.push_str(ELLIPSIS);
    (out, true)
}

/// Splits escaped mrkdwn into pieces of at most `max` bytes, at a line break or space where it
/// can and never inside markup: for long texts that must be shown whole over several blocks.
pub(crate) fn split(text: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut end = safe_end(rest, max);
        if let Some(space) = rest[..end].rfind(['\n', ' ']).filter(|i| *i > max / 2) {
            end = space;
        }
        if end == 0 {
            // A single token longer than `max`: cut it anyway, at a character boundary.
            end = floor_char_boundary(rest, max);
        }
        pieces.push(rest[..end].trim_end().to_owned());
        rest = rest[end..].trim_start();
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(rest.to_owned());
    }
    pieces
}

/// The largest end ≤ `max` at which `text` can be cut without breaking a character, an entity,
/// a `<…>` token or a code span.
fn safe_end(text: &str, max: usize) -> usize {
    let mut end = floor_char_boundary(text, max);
    let cut = &text[..end];
    if let Some(open) = cut.rfind('<') {
        if !cut[open..].contains('>') {
            end = open;
        }
    }
    let cut = &text[..end];
    if let Some(amp) = cut.rfind('&') {
        if !cut[amp..].contains(';') {
            end = amp;
        }
    }
    let cut = &text[..end];
    if cut.matches('`').count() % 2 == 1 {
        end = cut.rfind('`').unwrap_or(end);
    }
    end
}

/// Cuts plain text (a header) to at most `max` bytes, ending with "…".
pub(crate) fn shorten_plain(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_owned(), false);
    }
    let end = floor_char_boundary(text, max.saturating_sub(ELLIPSIS.len()));
    (format!("{}{ELLIPSIS}", text[..end].trim_end()), true)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// mrkdwn as plain text: `<url|label>` → `label (url)`, date tokens → their fallback, entities
/// decoded. Formatting marks (`*`, `_`, `` ` ``) are kept: they read fine in a terminal.
pub(crate) fn to_plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(len) = rest[open..].find('>') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let inner = &rest[open + 1..open + len];
        if inner.starts_with("!date^") {
            out.push_str(inner.rsplit('|').next().unwrap_or(inner));
        } else if let Some((url, label)) = inner.split_once('|') {
            out.push_str(&format!("{label} ({url})"));
        } else {
            out.push_str(inner);
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A finding's remedy without its trailing "Console: <url>": the line links the console itself.
pub(crate) fn remedy_text<'a>(finding: &'a Finding, console_url: &str) -> &'a str {
    finding
        .remedy
        .strip_suffix(console_url)
        .and_then(|r| r.strip_suffix("Console: "))
        .map_or(finding.remedy.as_str(), str::trim_end)
}

/// One certificate, in at most `max` bytes of mrkdwn:
///
/// ```text
/// *URGENT* · `promo.example.net` · marketing-web (567890123456) · us-east-1 · expires in 4 days · <url|console>
/// <summary of `finding`>
/// *What to do:* <its remedy>
/// Also: `EMAIL_VALIDATION` (action)
/// _Last seen <time> (target failed in the latest scan)_
/// ```
///
/// `finding` is the one to show (the worst, or the one a query asked for); without one the
/// certificate renews by itself. When the whole does not fit, the summary and remedy are
/// shortened (never the first line, which holds the link) and the second value is true.
pub(crate) fn certificate_line(
    entry: &Entry<'_>,
    finding: Option<&Finding>,
    max: usize,
) -> (String, bool) {
    certificate_line_marked(entry, finding, false, max)
}

/// A certificate line's first line: "*URGENT* · `promo.example.net` · marketing-web
/// (567890123456) · us-east-1 · expires in 4 days · <url|console>", with "*NEW*" after the
/// urgency when `new`.
pub(crate) fn certificate_top(entry: &Entry<'_>, new: bool) -> String {
    let record = entry.record;
    let facts = &record.facts;
    format!(
        "*{}*{} · {} · {} ({}) · {} · {} · {}",
        label(entry.urgency),
        if new { " · *NEW*" } else { "" },
        code(facts.display_name()),
        escape(&record.account_name),
        escape(&facts.account_id),
        escape(&facts.region),
        entry.expiry_phrase(),
        link(&record.console_url, "console"),
    )
}

/// The bytes of a decision's reason in a certificate line.
pub(crate) const LINE_REASON_BYTES: usize = 300;

/// [`certificate_line`], with "*NEW*" after the urgency when `new` (the digest marks what is new
/// since the previous one).
pub(crate) fn certificate_line_marked(
    entry: &Entry<'_>,
    finding: Option<&Finding>,
    new: bool,
    max: usize,
) -> (String, bool) {
    let record = entry.record;
    let top = certificate_top(entry, new);
    let mut tail: Vec<String> = Vec::new();
    let others: Vec<String> = record
        .findings
        .iter()
        .filter(|f| finding.is_none_or(|shown| !std::ptr::eq(*f, shown)))
        .map(|f| format!("{} ({})", code(f.code.as_str()), f.urgency))
        .collect();
    if !others.is_empty() {
        tail.push(format!("Also: {}", others.join(", ")));
    }
    if let Some(seen) = entry.last_seen {
        tail.push(format!(
            "_Last seen {} (target failed in the latest scan)_",
            date(seen)
        ));
    }
    if let Some((decision, visibility)) = entry.decision {
        tail.push(decision_note(decision, Some(visibility), LINE_REASON_BYTES));
    }
    let (summary, remedy) = match finding {
        Some(f) => (
            escape(&f.summary),
            Some(escape(remedy_text(f, &record.console_url))),
        ),
        None => ("Renews by itself: no finding.".to_owned(), None),
    };
    const DO: &str = "\n*What to do:* ";
    let fixed = top.len() + tail.iter().map(|t| t.len() + 1).sum::<usize>() + 1;
    let body_len = summary.len() + remedy.as_ref().map_or(0, |r| DO.len() + r.len());
    let (summary, remedy, shortened) = if fixed + body_len <= max {
        (summary, remedy, false)
    } else {
        let available = max.saturating_sub(fixed);
        let summary_max = if remedy.is_some() {
            summary.len().min(available / 2)
        } else {
            available
        };
        let summary = shorten(&summary, summary_max).0;
        let remedy =
            remedy.map(|r| shorten(&r, available.saturating_sub(summary.len() + DO.len())).0);
        (summary, remedy, true)
    };
    let mut line = format!("{top}\n{summary}");
    if let Some(remedy) = remedy {
        line.push_str(DO);
        line.push_str(&remedy);
    }
    for t in tail {
        line.push('\n');
        line.push_str(&t);
    }
    // Only a pathological first line (an account name of thousands of characters) gets here.
    let (line, cut) = shorten(&line, max);
    (line, shortened || cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("a & <!channel> > b"),
            "a &amp; &lt;!channel&gt; &gt; b"
        );
        assert_eq!(code("*.example.org"), "`*.example.org`");
        assert_eq!(code("a`b<c"), "`a'b&lt;c`");
        assert_eq!(escape("a\0b\u{1b}[1m\tc\nd"), "a\u{fffd}b\u{fffd}[1m\tc\nd");
        assert_eq!(
            link("https://x/?a=1&b=2|3", "console"),
            "<https://x/?a=1&amp;b=2%7C3|console>"
        );
    }

    #[test]
    fn shortening_keeps_markup_whole() {
        // Data-driven: (text, max, expected).
        let cases = [
            ("short", 10, "short"),
            ("abcdefghij", 8, "abcde…"),
            ("aaaa &amp; bbbb", 12, "aaaa…"),
            ("see <https://example.com|console> now", 20, "see…"),
            ("x `code span` y", 12, "x…"),
            ("ééééé", 7, "éé…"),
        ];
        for (text, max, expected) in cases {
            let (out, cut) = shorten(text, max);
            assert_eq!(out, expected, "shorten({text:?}, {max})");
            assert!(out.len() <= max);
            assert_eq!(cut, text != expected);
        }
    }

    #[test]
    fn splitting_keeps_everything_and_markup_whole() {
        let text = format!(
            "{} <https://example.com/a|console> {} &amp; `code span` end",
            "word ".repeat(30),
            "more ".repeat(30)
        );
        for max in [40, 64, 100, 1000] {
            let pieces = split(&text, max);
            assert!(pieces.iter().all(|p| p.len() <= max), "{pieces:?}");
            assert_eq!(
                pieces.join(" ").split_whitespace().collect::<Vec<_>>(),
                text.split_whitespace().collect::<Vec<_>>()
            );
            for piece in &pieces {
                assert_eq!(
                    piece.matches('<').count(),
                    piece.matches('>').count(),
                    "{piece}"
                );
                assert_eq!(piece.matches('`').count() % 2, 0, "{piece}");
            }
        }
        assert_eq!(split("", 10), vec![String::new()]);
        assert_eq!(
            split(&"x".repeat(25), 10),
            vec!["x".repeat(10), "x".repeat(10), "x".repeat(5)]
        );
    }

    /// A line says what core says of the certificate's expiry at `now` (one day arithmetic for
    /// every surface), recomputed from NotAfter: the count stored at scan time is never read.
    #[test]
    fn lines_read_expiry_in_cores_words() {
        use certwatch_core::CertStatus;
        let fixture = crate::fixtures::small();
        let now = fixture.now;
        let record = &fixture.inventory.report.certificates[0];
        let (s, d) = (chrono::Duration::seconds, chrono::Duration::days);
        // (NotAfter − now, Status, expected)
        let cases = [
            (None, CertStatus::Issued, "has no expiry date yet"),
            (None, CertStatus::Expired, "has expired"),
            (
                Some(-d(12) - s(1)),
                CertStatus::Issued,
                "expired 12 days ago",
            ),
            (Some(-d(1)), CertStatus::Issued, "expired 1 day ago"),
            (
                Some(-s(10)),
                CertStatus::Issued,
                "expired less than a day ago",
            ),
            (
                Some(s(10)),
                CertStatus::Issued,
                "expires in less than a day",
            ),
            (Some(d(1)), CertStatus::Issued, "expires in 1 day"),
            (Some(d(30) + s(1)), CertStatus::Issued, "expires in 30 days"),
        ];
        for (offset, status, expected) in cases {
            let mut record = record.clone();
            record.facts.not_after = offset.map(|o| now + o);
            record.facts.status = status;
            record.days_to_expiry = Some(-2);
            let entry = Entry::new(&record, now, None);
            assert_eq!(entry.expiry_phrase(), expected, "{offset:?}");
            let (line, _) = certificate_line(&entry, entry.worst(), 3000);
            assert!(line.contains(&format!(" · {expected} · ")), "{line}");
        }
    }

    #[test]
    fn plain_text_decodes_links_dates_and_entities() {
        assert_eq!(
            to_plain("a &lt;b&gt; &amp;amp; <https://x|console> <!date^1^{time}|1970-01-01 00:00 UTC> <https://y>"),
            "a <b> &amp; console (https://x) 1970-01-01 00:00 UTC https://y"
        );
    }
}

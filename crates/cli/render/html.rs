//! The report as one self-contained HTML page (`--format html`, `certwatch report --format
//! html`): inline CSS and JS, nothing fetched, so it works offline and as an email attachment.
//!
//! What a person reads first is written here, in Rust, as plain HTML (the header's counts, the
//! coverage, the expiry timeline, the per-account table and one `<tr class="cert">` per
//! certificate in core's order, [`certwatch_core::order`]); the script only sorts, filters and
//! expands rows. The page also carries its data as JSON (`<script type="application/json"
//! id="certwatch-data">`) in the rows' order, for the script and for whoever wants to check it.
//!
//! Every piece of data goes through [`escape`] (HTML text and attribute values) or, in the
//! JSON, has its `</` and `<!--` escaped so that no value can end the script element.
//!
//! The initial filter comes from the URL fragment too (`report.html#code=IMPORTED&account=…`,
//! keys `account`, `region`, `code`, `q`): filtered-out rows get the `hidden` attribute.

use certwatch_core::order::most_urgent_first;
use certwatch_core::{CertificateFacts, CertificateRecord, Report, Urgency};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// Weeks of the expiry timeline after the scan (the expired ones are a group of their own).
pub const WEEKS: usize = 26;

/// Where a certificate falls on the expiry timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Past NotAfter at `now` (or EXPIRED without a NotAfter).
    Expired,
    /// NotAfter in week `n` after `now`: `n * 7 <= days < (n + 1) * 7`, `n < WEEKS`.
    Week(usize),
    /// NotAfter after the last week of the timeline.
    Later,
    /// No NotAfter yet (a request not issued).
    Undated,
}

/// The timeline's bucket of `facts` at `now`: expired as [`CertificateFacts::is_expired`] says
/// (NotAfter at or before `now`), else the whole weeks from `now` to NotAfter.
pub fn bucket(facts: &CertificateFacts, now: DateTime<Utc>) -> Bucket {
    if facts.is_expired(now) {
        return Bucket::Expired;
    }
    let Some(not_after) = facts.not_after else {
        return Bucket::Undated;
    };
    let week = (not_after - now).num_seconds() / Duration::weeks(1).num_seconds();
    match usize::try_from(week) {
        Ok(week) if week < WEEKS => Bucket::Week(week),
        _ => Bucket::Later,
    }
}

/// `text` safe as HTML text and as a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON text safe inside `<script type="application/json">`: a `</` could end the element
/// (`</script>`) and a `<!--` could change how the parser reads the rest, so both are
/// escaped, as JSON allows (`\/`, `\u003c`). `JSON.parse` gives back the same value.
fn script_json(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace("</", "<\\/")
        .replace("<!--", "\\u003c!--")
}

/// The classes of the timeline's stacks and the counts, most urgent first, then the
/// certificates that renew by themselves.
const LEVELS: [&str; 5] = ["expired", "urgent", "action", "upcoming", "ok"];

fn level(urgency: Option<Urgency>) -> usize {
    match urgency {
        Some(Urgency::Expired) => 0,
        Some(Urgency::Urgent) => 1,
        Some(Urgency::Action) => 2,
        Some(Urgency::Upcoming) => 3,
        None => 4,
    }
}

fn level_label(level: usize) -> &'static str {
    match level {
        4 => "renew by themselves",
        l => LEVELS[l],
    }
}

/// One certificate as the page shows it, at the scan's time.
struct Row<'a> {
    record: &'a CertificateRecord,
    urgency: Option<Urgency>,
    bucket: Bucket,
    stale_since: Option<DateTime<Utc>>,
}

/// Writes the page of `report`; `stale` (ARN → last seen) marks the certificates a stored
/// inventory carried over from an earlier scan. Urgencies and weeks are at the report's time
/// (`generated_at`), not the clock's, so the same report gives the same page.
pub fn write(
    report: &Report,
    stale: &BTreeMap<String, DateTime<Utc>>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let now = report.generated_at;
    let mut rows: Vec<Row> = report
        .certificates
        .iter()
        .map(|record| Row {
            record,
            urgency: record.urgency_at(now),
            bucket: bucket(&record.facts, now),
            stale_since: stale.get(&record.facts.arn).copied(),
        })
        .collect();
    rows.sort_by_key(|r| most_urgent_first(r.record, r.urgency));

    let title = format!("certwatch report, {}", now.format("%Y-%m-%d %H:%M UTC"));
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n<title>{}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n",
        escape(&title)
    )?;
    header(report, &rows, stale, out)?;
    timeline(&rows, now, out)?;
    accounts(report, &rows, out)?;
    certificates(&rows, out)?;
    let data = json!({
        "generated_at": now,
        "certificates": rows.iter().map(|r| {
            let c = r.record;
            json!({
                "arn": c.facts.arn,
                "account_id": c.facts.account_id,
                "account_name": c.account_name,
                "region": c.facts.region,
                "name": c.facts.display_name(),
                "not_after": c.facts.not_after,
                "days_to_expiry": c.days_to_expiry,
                "urgency": r.urgency.map(Urgency::as_str),
                "codes": c.findings.iter().map(|f| f.code.to_string()).collect::<Vec<_>>(),
                "stale_since": r.stale_since,
            })
        }).collect::<Vec<_>>(),
    });
    writeln!(
        out,
        "<script type=\"application/json\" id=\"certwatch-data\">{}</script>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>",
        script_json(&data)
    )
}

fn account_label(id: &str, name: &str) -> String {
    if name.is_empty() {
        id.to_owned()
    } else {
        format!("{name} ({id})")
    }
}

fn header(
    report: &Report,
    rows: &[Row],
    stale: &BTreeMap<String, DateTime<Utc>>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let s = &report.stats;
    writeln!(
        out,
        "<header id=\"summary\">\n<h1>certwatch report</h1>\n<p class=\"lede\">Scan of {}: \
         <b id=\"certificate-count\">{}</b> certificates in {} accounts, {} account-regions.</p>",
        escape(&report.generated_at.format("%Y-%m-%d %H:%M UTC").to_string()),
        rows.len(),
        s.accounts,
        s.targets
    )?;
    let mut counts = [0usize; 5];
    for r in rows {
        counts[level(r.urgency)] += 1;
    }
    writeln!(out, "<ul class=\"counts\">")?;
    for (l, n) in counts.iter().enumerate() {
        writeln!(
            out,
            "<li class=\"count u-{0}\" data-urgency=\"{0}\"><b>{n}</b> {1}</li>",
            LEVELS[l],
            level_label(l)
        )?;
    }
    writeln!(out, "</ul>\n<section id=\"coverage\">")?;
    if report.failures.is_empty() {
        writeln!(
            out,
            "<p class=\"ok\">Every account-region was scanned: no failures.</p>"
        )?;
    } else {
        writeln!(
            out,
            "<details class=\"failures\" open><summary><b id=\"failure-count\">{}</b> {}: not \
             scanned or not checked (the rest of the scan went on)</summary>\n<ul>",
            report.failures.len(),
            if report.failures.len() == 1 {
                "failure"
            } else {
                "failures"
            }
        )?;
        for f in &report.failures {
            let what = match &f.certificate_arn {
                Some(arn) => format!("{arn}: {}", f.error),
                None => f.error.clone(),
            };
            writeln!(
                out,
                "<li class=\"failure\">{} · {} · {}: {}</li>",
                escape(&account_label(&f.account_id, &f.account_name)),
                escape(f.region.as_deref().unwrap_or("(all regions)")),
                escape(f.stage.as_str()),
                escape(&what)
            )?;
        }
        writeln!(out, "</ul></details>")?;
    }
    if !stale.is_empty() {
        writeln!(
            out,
            "<details class=\"stale\"><summary><b>{}</b> certificates carried over from an \
             earlier scan (their part of the organization failed in the latest)</summary>\n<ul>",
            stale.len()
        )?;
        for (arn, seen) in stale {
            writeln!(
                out,
                "<li>{}: last seen {}</li>",
                escape(arn),
                escape(&seen.format("%Y-%m-%d %H:%M UTC").to_string())
            )?;
        }
        writeln!(out, "</ul></details>")?;
    }
    writeln!(out, "</section>\n</header>")
}

/// Certificates per week until NotAfter, stacked by urgency: the expired group, then one
/// group per week (`data-week="expired"`, `"0"` … `"25"`).
fn timeline(rows: &[Row], now: DateTime<Utc>, out: &mut dyn Write) -> io::Result<()> {
    let mut groups = [[0usize; 5]; WEEKS + 1];
    let (mut later, mut undated) = (0, 0);
    for r in rows {
        let group = match r.bucket {
            Bucket::Expired => 0,
            Bucket::Week(w) => w + 1,
            Bucket::Later => {
                later += 1;
                continue;
            }
            Bucket::Undated => {
                undated += 1;
                continue;
            }
        };
        groups[group][level(r.urgency)] += 1;
    }
    let tallest = groups
        .iter()
        .map(|g| g.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    writeln!(
        out,
        "<section id=\"timeline\">\n<h2>Expiry timeline</h2>\n<p class=\"note\">Certificates \
         by week until NotAfter, for the {WEEKS} weeks after the scan, coloured by urgency; \
         the expired ones at the left. Later: {later}; no NotAfter: {undated}.</p>\n\
         <div class=\"bars\">"
    )?;
    for (i, group) in groups.iter().enumerate() {
        let total: usize = group.iter().sum();
        let (week, label) = if i == 0 {
            ("expired".to_owned(), "expired".to_owned())
        } else {
            let start = now + Duration::weeks(i as i64 - 1);
            ((i - 1).to_string(), start.format("%b %d").to_string())
        };
        writeln!(
            out,
            "<div class=\"week\" data-week=\"{week}\" data-count=\"{total}\" title=\"{}: {total} \
             certificates\">\n<div class=\"stack\">",
            escape(&label)
        )?;
        // Bottom to top: least urgent first, so the most urgent sit on top where the eye lands.
        for l in (0..LEVELS.len()).rev().filter(|&l| group[l] > 0) {
            writeln!(
                out,
                "<div class=\"seg u-{}\" style=\"height:{}px\" title=\"{} {}\"></div>",
                LEVELS[l],
                group[l] * 160 / tallest,
                group[l],
                level_label(l)
            )?;
        }
        writeln!(
            out,
            "</div>\n<span class=\"n\">{}</span><span class=\"label\">{}</span>\n</div>",
            if total > 0 {
                total.to_string()
            } else {
                String::new()
            },
            escape(&label)
        )?;
    }
    write!(out, "</div>\n<p class=\"legend\">")?;
    for (l, name) in LEVELS.iter().enumerate() {
        write!(
            out,
            "<span><i class=\"u-{name}\"></i>{}</span> ",
            level_label(l)
        )?;
    }
    writeln!(out, "</p>\n</section>")
}

/// Per account: certificates, and certificates by urgency.
fn accounts(report: &Report, rows: &[Row], out: &mut dyn Write) -> io::Result<()> {
    let mut by_account: BTreeMap<&str, (&str, usize, [usize; 4])> = BTreeMap::new();
    for f in &report.failures {
        by_account
            .entry(f.account_id.as_str())
            .or_insert((f.account_name.as_str(), 0, [0; 4]));
    }
    for r in rows {
        let entry = by_account
            .entry(r.record.facts.account_id.as_str())
            .or_insert((r.record.account_name.as_str(), 0, [0; 4]));
        entry.0 = r.record.account_name.as_str();
        entry.1 += 1;
        for f in &r.record.findings {
            entry.2[level(Some(f.urgency))] += 1;
        }
    }
    writeln!(
        out,
        "<section id=\"accounts\">\n<h2>Accounts</h2>\n<table id=\"account-table\">\n<thead><tr>\
         <th>Account</th><th>Certificates</th><th>Expired</th><th>Urgent</th><th>Action</th>\
         <th>Upcoming</th></tr></thead>\n<tbody>"
    )?;
    for (id, (name, certificates, findings)) in &by_account {
        write!(
            out,
            "<tr class=\"account\" data-account=\"{}\"><td>{}</td><td class=\"num\">{certificates}</td>",
            escape(id),
            escape(&account_label(id, name))
        )?;
        for (l, n) in findings.iter().enumerate() {
            let class = if *n > 0 { LEVELS[l] } else { "zero" };
            write!(out, "<td class=\"num u-text-{class}\">{n}</td>")?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(
        out,
        "</tbody>\n</table>\n<p class=\"note\">Findings by urgency (a certificate can have \
         several).</p>\n</section>"
    )
}

/// The filters and the certificate table: one `<tr class="cert">` per certificate, followed by
/// its `<tr class="detail" hidden>` (findings and remedies).
fn certificates(rows: &[Row], out: &mut dyn Write) -> io::Result<()> {
    let accounts: BTreeMap<&str, &str> = rows
        .iter()
        .map(|r| {
            (
                r.record.facts.account_id.as_str(),
                r.record.account_name.as_str(),
            )
        })
        .collect();
    let regions: BTreeSet<&str> = rows
        .iter()
        .map(|r| r.record.facts.region.as_str())
        .collect();
    let codes: BTreeSet<String> = rows
        .iter()
        .flat_map(|r| r.record.findings.iter().map(|f| f.code.to_string()))
        .collect();
    writeln!(
        out,
        "<section id=\"certificates\">\n<h2>Certificates</h2>\n<form id=\"filters\" \
         onsubmit=\"return false\">"
    )?;
    let select = |out: &mut dyn Write,
                  id: &str,
                  all: &str,
                  options: &mut dyn Iterator<Item = (String, String)>|
     -> io::Result<()> {
        write!(
            out,
            "<label>{all}<select id=\"f-{id}\" data-key=\"{id}\"><option value=\"\">all</option>"
        )?;
        for (value, label) in options {
            write!(
                out,
                "<option value=\"{}\">{}</option>",
                escape(&value),
                escape(&label)
            )?;
        }
        writeln!(out, "</select></label>")
    };
    select(
        out,
        "account",
        "Account ",
        &mut accounts
            .iter()
            .map(|(id, name)| (id.to_string(), account_label(id, name))),
    )?;
    select(
        out,
        "region",
        "Region ",
        &mut regions.iter().map(|r| (r.to_string(), r.to_string())),
    )?;
    select(
        out,
        "code",
        "Finding ",
        &mut codes.iter().map(|c| (c.clone(), c.clone())),
    )?;
    writeln!(
        out,
        "<label>Text <input id=\"f-q\" data-key=\"q\" type=\"search\" \
         placeholder=\"domain, ARN, finding…\"></label>\n<span id=\"shown\"></span>\n</form>\n\
         <table id=\"cert-table\">\n<thead><tr><th data-sort=\"rank\" class=\"sorted\">#</th>\
         <th data-sort=\"urgency\">Urgency</th><th data-sort=\"account\">Account</th>\
         <th data-sort=\"region\">Region</th><th data-sort=\"name\">Certificate</th>\
         <th data-sort=\"type\">Type</th><th data-sort=\"days\">Days left</th>\
         <th data-sort=\"codes\">Findings</th></tr></thead>\n<tbody>"
    )?;
    for (i, r) in rows.iter().enumerate() {
        let c = r.record;
        let urgency = LEVELS[level(r.urgency)];
        let codes: Vec<String> = c.findings.iter().map(|f| f.code.to_string()).collect();
        let days = c
            .days_to_expiry
            .map_or_else(|| "-".to_owned(), |d| d.to_string());
        let stale = r.stale_since.map_or_else(String::new, |t| {
            format!(
                " <span class=\"tag\">stale: last seen {}</span>",
                t.format("%Y-%m-%d")
            )
        });
        writeln!(
            out,
            "<tr class=\"cert\" tabindex=\"0\" aria-expanded=\"false\" data-rank=\"{i}\" \
             data-urgency=\"{urgency}\" data-level=\"{}\" data-account=\"{}\" \
             data-region=\"{}\" data-name=\"{}\" data-type=\"{}\" data-days=\"{}\" \
             data-codes=\"{}\" data-arn=\"{}\"><td class=\"num\">{}</td>\
             <td><span class=\"badge u-{urgency}\">{}</span></td><td>{}</td><td>{}</td>\
             <td class=\"name\">{}{stale}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            level(r.urgency),
            escape(&c.facts.account_id),
            escape(&c.facts.region),
            escape(c.facts.display_name()),
            escape(c.facts.cert_type.as_str()),
            c.days_to_expiry.map_or(i64::MAX, |d| d),
            escape(&codes.join(" ")),
            escape(&c.facts.arn),
            i + 1,
            level_label(level(r.urgency)),
            escape(&account_label(&c.facts.account_id, &c.account_name)),
            escape(&c.facts.region),
            escape(c.facts.display_name()),
            escape(c.facts.cert_type.as_str()),
            escape(&days),
            escape(&codes.join(", "))
        )?;
        write!(
            out,
            "<tr class=\"detail\" hidden><td colspan=\"8\"><p class=\"arn\">{} · NotAfter {} · \
             status {} · <a href=\"{}\" rel=\"noreferrer\">open in the ACM console</a></p>",
            escape(&c.facts.arn),
            escape(
                &c.facts
                    .not_after
                    .map_or_else(|| "none".to_owned(), |t| t.to_rfc3339())
            ),
            escape(c.facts.status.as_str()),
            escape(&c.console_url)
        )?;
        if c.findings.is_empty() {
            write!(out, "<p>No finding: it renews by itself.</p>")?;
        } else {
            write!(out, "<ol class=\"findings\">")?;
            for f in &c.findings {
                write!(
                    out,
                    "<li><span class=\"badge u-{0}\">{0}</span> <b>{1}</b> {2}\
                     <p class=\"remedy\">What to do: {3}</p></li>",
                    f.urgency.as_str(),
                    escape(&f.code.to_string()),
                    escape(&f.summary),
                    escape(&f.remedy)
                )?;
            }
            write!(out, "</ol>")?;
        }
        writeln!(out, "</td></tr>")?;
    }
    writeln!(out, "</tbody>\n</table>\n</section>")
}

const STYLE: &str = r##"
:root{--expired:#7f1d1d;--urgent:#dc2626;--action:#f59e0b;--upcoming:#3b82f6;--ok:#22c55e;
--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#ffffff;--panel:#f9fafb}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
h1{margin:0 0 4px;font-size:24px}h2{font-size:18px;margin:28px 0 8px}
.lede{margin:0 0 12px;color:var(--muted)}.note{color:var(--muted);margin:4px 0 8px}
.counts{display:flex;gap:12px;list-style:none;padding:0;margin:0 0 12px;flex-wrap:wrap}
.count{padding:10px 16px;border-radius:8px;background:var(--panel);border-left:6px solid;min-width:150px}
.count b{display:block;font-size:26px}
.count.u-expired{border-color:var(--expired)}.count.u-urgent{border-color:var(--urgent)}
.count.u-action{border-color:var(--action)}.count.u-upcoming{border-color:var(--upcoming)}
.count.u-ok{border-color:var(--ok)}
#coverage details{margin:4px 0}#coverage summary{cursor:pointer}
.failure{font-family:ui-monospace,monospace;font-size:12px}
.bars{display:flex;align-items:flex-end;gap:4px;height:220px;padding:8px;background:var(--panel);border:1px solid var(--line);border-radius:8px}
.week{flex:1;display:flex;flex-direction:column;align-items:center;justify-content:flex-end;height:100%;min-width:0}
.week[data-week="expired"]{margin-right:12px;border-right:2px dashed var(--line);padding-right:8px}
.stack{width:100%;display:flex;flex-direction:column-reverse}
.seg{width:100%;min-height:3px}
.week .n{font-size:11px;font-weight:600;height:14px}.week .label{font-size:10px;color:var(--muted);white-space:nowrap}
.u-expired{background:var(--expired);color:#fff}.u-urgent{background:var(--urgent);color:#fff}
.u-action{background:var(--action)}.u-upcoming{background:var(--upcoming);color:#fff}.u-ok{background:var(--ok)}
.stack .seg:first-child{border-radius:0 0 2px 2px}.stack .seg:last-child{border-radius:2px 2px 0 0}
.legend span{margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border-radius:2px}
table{border-collapse:collapse;width:100%}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--panel);position:sticky;top:0}
#cert-table th{cursor:pointer;user-select:none}#cert-table th.sorted::after{content:" \25B2"}
#cert-table th.sorted.desc::after{content:" \25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.u-text-zero{color:var(--muted)}.u-text-expired,.u-text-urgent{color:var(--urgent);font-weight:600}
.u-text-action{color:#b45309;font-weight:600}.u-text-upcoming{color:var(--upcoming)}
#account-table{width:auto;min-width:50%}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;white-space:nowrap}
tr.cert{cursor:pointer}tr.cert:hover{background:#f3f4f6}tr.cert[aria-expanded="true"]{background:#eef2ff}
tr.detail td{background:#fafafa;padding:8px 16px 12px}
.arn{font-family:ui-monospace,monospace;font-size:12px;color:var(--muted);margin:0 0 6px;word-break:break-all}
.findings{margin:0;padding-left:20px}.findings li{margin:4px 0}.remedy{margin:2px 0 0;color:#374151}
.tag{font-size:11px;color:#92400e;background:#fef3c7;padding:0 5px;border-radius:4px}
#filters{display:flex;gap:16px;flex-wrap:wrap;align-items:center;margin:0 0 10px}
#filters select,#filters input{margin-left:6px;padding:3px 6px;font:inherit}#shown{color:var(--muted)}
td.name{overflow-wrap:anywhere}
th{white-space:nowrap}
@media print{#filters{display:none}tr.detail[hidden]{display:none}}
"##;

const SCRIPT: &str = r##"
(function () {
  "use strict";
  var table = document.getElementById("cert-table");
  var body = table.tBodies[0];
  var keys = ["account", "region", "code", "q"];
  var state = { account: "", region: "", code: "", q: "" };
  var control = function (k) { return document.getElementById("f-" + k); };

  function readHash() {
    var hash = window.location.hash.replace(/^#/, "");
    hash.split("&").forEach(function (part) {
      if (!part) { return; }
      var i = part.indexOf("=");
      var k = decodeURIComponent(i < 0 ? part : part.slice(0, i));
      var v = i < 0 ? "" : decodeURIComponent(part.slice(i + 1).replace(/\+/g, " "));
      if (k === "text") { k = "q"; }
      if (keys.indexOf(k) >= 0) { state[k] = v; }
    });
    keys.forEach(function (k) {
      var c = control(k);
      if (c.tagName === "SELECT" && state[k] && !Array.prototype.some.call(c.options, function (o) { return o.value === state[k]; })) {
        var o = document.createElement("option");
        o.value = state[k];
        o.textContent = state[k];
        c.appendChild(o);
      }
      c.value = state[k];
    });
  }

  function writeHash() {
    var parts = keys.filter(function (k) { return state[k]; }).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(state[k]);
    });
    try {
      history.replaceState(null, "", parts.length ? "#" + parts.join("&") : window.location.pathname + window.location.search);
    } catch (e) { /* a page opened where history cannot be written: the filter still applies */ }
  }

  function rows() {
    return Array.prototype.filter.call(body.rows, function (r) { return r.classList.contains("cert"); });
  }
  function detailOf(row) {
    var next = row.nextElementSibling;
    return next && next.classList.contains("detail") ? next : null;
  }

  function apply() {
    var q = state.q.toLowerCase();
    var shown = 0;
    var all = rows();
    all.forEach(function (row) {
      var d = row.dataset;
      var detail = detailOf(row);
      var ok = (!state.account || d.account === state.account) &&
        (!state.region || d.region === state.region) &&
        (!state.code || d.codes.split(" ").indexOf(state.code) >= 0) &&
        (!q || (row.textContent + " " + (detail ? detail.textContent : "")).toLowerCase().indexOf(q) >= 0);
      row.hidden = !ok;
      if (detail) { detail.hidden = !ok || row.getAttribute("aria-expanded") !== "true"; }
      if (ok) { shown += 1; }
    });
    document.getElementById("shown").textContent = shown + " of " + all.length + " certificates shown";
  }

  var sortKey = "rank", descending = false;
  function value(row, key) {
    var v = row.dataset[key === "urgency" ? "level" : key];
    return key === "rank" || key === "urgency" || key === "days" ? Number(v) : (v || "").toLowerCase();
  }
  function sortBy(key) {
    descending = key === sortKey ? !descending : false;
    sortKey = key;
    var pairs = rows().map(function (r) { return [r, detailOf(r)]; });
    pairs.sort(function (a, b) {
      var x = value(a[0], key), y = value(b[0], key);
      var c = x < y ? -1 : x > y ? 1 : 0;
      if (descending) { c = -c; }
      return c || value(a[0], "rank") - value(b[0], "rank");
    });
    pairs.forEach(function (p) { body.appendChild(p[0]); if (p[1]) { body.appendChild(p[1]); } });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.classList.toggle("sorted", th.dataset.sort === key);
      th.classList.toggle("desc", th.dataset.sort === key && descending);
    });
  }

  function toggle(row) {
    var open = row.getAttribute("aria-expanded") !== "true";
    row.setAttribute("aria-expanded", open ? "true" : "false");
    var detail = detailOf(row);
    if (detail) { detail.hidden = !open; }
  }

  table.tHead.addEventListener("click", function (e) {
    var th = e.target.closest("th");
    if (th && th.dataset.sort) { sortBy(th.dataset.sort); }
  });
  body.addEventListener("click", function (e) {
    var row = e.target.closest("tr.cert");
    if (row && !e.target.closest("a")) { toggle(row); }
  });
  body.addEventListener("keydown", function (e) {
    var row = e.target.closest("tr.cert");
    if (row && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); toggle(row); }
  });
  keys.forEach(function (k) {
    control(k).addEventListener(k === "q" ? "input" : "change", function (e) {
      state[k] = e.target.value;
      writeHash();
      apply();
    });
  });
  window.addEventListener("hashchange", function () {
    keys.forEach(function (k) { state[k] = ""; });
    readHash();
    apply();
  });
  readHash();
  apply();
})();
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use certwatch_core::{CertStatus, Stats};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
    }

    fn facts(not_after: Option<Duration>, status: CertStatus) -> CertificateFacts {
        let mut facts = CertificateFacts::new(
            "111111111111",
            "eu-west-1",
            "arn:aws:acm:eu-west-1:111111111111:certificate/x",
        );
        facts.status = status;
        facts.not_after = not_after.map(|d| now() + d);
        facts
    }

    #[test]
    fn escape_covers_text_and_attributes() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&amp;</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
        );
        assert_eq!(escape("plain.example.com"), "plain.example.com");
        assert_eq!(escape("überprüfung ✓"), "überprüfung ✓");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn json_in_a_script_cannot_end_it() {
        let value = json!({"s": "</script><script>alert(1)</script><!-- x"});
        let text = script_json(&value);
        assert!(!text.contains("</"), "{text}");
        assert!(!text.contains("<!--"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn weeks_count_from_now_and_expired_is_at_or_before_now() {
        let (d, s) = (Duration::days, Duration::seconds);
        let issued = || CertStatus::Issued;
        let cases = [
            (Some(-d(30)), issued(), Bucket::Expired),
            (Some(s(0)), issued(), Bucket::Expired),
            (None, CertStatus::Expired, Bucket::Expired),
            (None, CertStatus::PendingValidation, Bucket::Undated),
            (Some(s(1)), issued(), Bucket::Week(0)),
            (Some(d(7) - s(1)), issued(), Bucket::Week(0)),
            (Some(d(7)), issued(), Bucket::Week(1)),
            (Some(d(13)), issued(), Bucket::Week(1)),
            (Some(d(7 * 25)), issued(), Bucket::Week(25)),
            (Some(d(7 * 26) - s(1)), issued(), Bucket::Week(25)),
            (Some(d(7 * 26)), issued(), Bucket::Later),
            (Some(d(400)), issued(), Bucket::Later),
        ];
        for (not_after, status, expected) in cases {
            let f = facts(not_after, status.clone());
            assert_eq!(bucket(&f, now()), expected, "{not_after:?} {status:?}");
        }
    }

    /// Data that looks like markup comes out as text, in the table and in the embedded JSON, and
    /// the page has one bar group per week plus the expired group.
    #[test]
    fn hostile_names_are_escaped_everywhere() {
        let mut f = facts(Some(Duration::days(3)), CertStatus::Issued);
        f.domain_name = Some("<img src=x onerror=alert(1)>.example.com".to_owned());
        let mut record = CertificateRecord::new("Acme \"<b>\" & Co", f, Vec::new(), now());
        record.findings.push(certwatch_core::Finding {
            code: certwatch_core::Code::Imported,
            urgency: Urgency::Urgent,
            summary: "</script><script>alert(2)</script>".to_owned(),
            remedy: "do <this>".to_owned(),
        });
        let report = Report {
            generated_at: now(),
            certificates: vec![record],
            failures: Vec::new(),
            accounts: Vec::new(),
            stats: Stats::default(),
        };
        let mut out = Vec::new();
        write(&report, &BTreeMap::new(), &mut out).expect("a page");
        let page = String::from_utf8(out).expect("utf-8");
        // In the markup, no tag of the data's; in the JSON, no `</` that could end the script.
        let (markup, data) = page
            .split_once("<script type=\"application/json\"")
            .expect("the data");
        assert!(!markup.contains("<img"), "{page}");
        assert!(
            markup.contains("Acme &quot;&lt;b&gt;&quot; &amp; Co"),
            "{page}"
        );
        assert!(!data.contains("alert(2)</script>"), "{page}");
        assert_eq!(
            data.matches("</script>").count(),
            2,
            "its own and the script's"
        );
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;.example.com"));
        assert_eq!(page.matches("<tr class=\"cert\"").count(), 1);
        assert_eq!(page.matches("class=\"week\" data-week=").count(), WEEKS + 1);
        assert!(page.contains("data-week=\"expired\""));
        assert!(page.contains("data-week=\"25\""));
        assert!(
            !page.contains("http://") && !page.contains("src=\""),
            "nothing fetched"
        );
    }
}

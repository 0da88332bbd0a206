//! `certwatch routes`: which channel each account's certificates go to and which rule sent them
//! there, from a fresh scan or the store, so that a routing config can be checked before
//! `serve` posts anything.

use crate::render::Format;
use certwatch_core::Account;
use certwatch_slack::routes::{Routes, Rule};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// One account and where it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub account_id: String,
    pub account_name: String,
    /// `Root/Payments/Cards`; `None` when not learned.
    pub ou_path: Option<String>,
    pub channel: String,
    /// `tag certwatch-channel`, a route's name, or `default`.
    pub rule: String,
    /// What was not known, a tag value that was ignored.
    pub notes: Vec<String>,
}

/// Each of `accounts` with its channel and rule, by account id.
pub fn rows(routes: &Routes, accounts: &[Account]) -> Vec<Row> {
    let mut rows: Vec<Row> = routes
        .assign(accounts)
        .into_iter()
        .map(|(account, destination)| Row {
            account_id: account.id.clone(),
            account_name: account.name.clone(),
            ou_path: account.ou_path_string(),
            channel: destination.channel.clone(),
            rule: match destination.rule {
                Rule::Default => "default".to_owned(),
                rule => routes.rule_name(rule),
            },
            notes: routes.explain(account),
        })
        .collect();
    rows.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    rows
}

pub fn write(rows: &[Row], format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Html => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the routes have no html format: use table, json or csv",
        )),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, rows)?;
            writeln!(out)
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "account_id",
                "account",
                "ou_path",
                "channel",
                "rule",
                "notes",
            ])?;
            for r in rows {
                w.write_record([
                    r.account_id.as_str(),
                    &r.account_name,
                    r.ou_path.as_deref().unwrap_or(""),
                    &r.channel,
                    &r.rule,
                    &r.notes.join("; "),
                ])?;
            }
            w.flush()
        }
        Format::Table => {
            let mut per_channel: BTreeMap<(&str, &str), usize> = BTreeMap::new();
            for r in rows {
                *per_channel.entry((&r.channel, &r.rule)).or_insert(0) += 1;
            }
            let mut t = Table::new();
            t.load_style(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header(["ACCOUNT", "NAME", "OU PATH", "CHANNEL", "RULE", "NOTES"]);
            for r in rows {
                t.add_row([
                    r.account_id.clone(),
                    r.account_name.clone(),
                    r.ou_path.clone().unwrap_or_else(|| "?".to_owned()),
                    if r.channel.is_empty() {
                        "(none)".to_owned()
                    } else {
                        r.channel.clone()
                    },
                    r.rule.clone(),
                    r.notes.join("; "),
                ]);
            }
            writeln!(out, "{t}\n")?;
            for ((channel, rule), n) in per_channel {
                let channel = if channel.is_empty() {
                    "(none)"
                } else {
                    channel
                };
                writeln!(
                    out,
                    "{channel}: {n} account{} ({rule})",
                    if n == 1 { "" } else { "s" }
                )?;
            }
            Ok(())
        }
    }
}

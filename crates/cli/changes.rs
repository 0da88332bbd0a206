//! `certwatch scan --store PATH [--changes]`: the cron path into the store `serve` keeps. The
//! scan is merged as `serve` merges it (stale data kept where a target failed, the findings'
//! history updated), and `--changes` prints what changed instead of the whole report, so a cron
//! job can alert on changes only.

use crate::render::Format;
use anyhow::{Context, Result};
use certwatch_core::{ChangeKind, Changes, Report, Urgency};
use std::io::{self, Write};
use std::path::PathBuf;

/// The store at `path`, opened (and so held) now, with the inventory it holds (whose
/// certificates' detail and accounts' OU paths and tags the scan may reuse).
pub async fn open(
    path: PathBuf,
) -> Result<((certwatch_store::Store, PathBuf), certwatch_core::Inventory)> {
    tokio::task::spawn_blocking(move || -> Result<_> {
        let store = certwatch_store::Store::open(&path)?;
        let inventory = store
            .inventory()
            .with_context(|| format!("reading the inventory in {}", path.display()))?;
        Ok(((store, path), inventory))
    })
    .await?
}

/// Merges `report` into the held store and returns what changed.
pub async fn merge(held: (certwatch_store::Store, PathBuf), report: Report) -> Result<Changes> {
    tokio::task::spawn_blocking(move || -> Result<Changes> {
        let (mut store, path) = held;
        let merged = store
            .merge_scan(report)
            .with_context(|| format!("merging the scan into {}", path.display()))?;
        Ok(merged.changes)
    })
    .await?
}

/// Prints `changes`: one line each (table), the JSON contract, or CSV.
pub fn write(changes: &Changes, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        // Refused before the scan (`certwatch scan --changes --format html`).
        Format::Html => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the changes have no html format: use table, json or csv",
        )),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, changes)?;
            writeln!(out)
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "change",
                "urgency",
                "code",
                "account_id",
                "account",
                "region",
                "domain",
                "arn",
            ])?;
            for c in &changes.changes {
                w.write_record([
                    kind(&c.kind),
                    &c.urgency.map(|u| u.to_string()).unwrap_or_default(),
                    &c.code.as_ref().map(|c| c.to_string()).unwrap_or_default(),
                    &c.account_id,
                    &c.account_name,
                    &c.region,
                    &c.domain,
                    &c.arn,
                ])?;
            }
            w.flush()
        }
        Format::Table => {
            if changes.is_empty() {
                return writeln!(out, "No changes since the last scan in the store.");
            }
            writeln!(
                out,
                "{} changes since the last scan in the store:",
                changes.changes.len()
            )?;
            for c in &changes.changes {
                let what = match &c.kind {
                    ChangeKind::Rose { from } => format!("rose from {from}"),
                    ChangeKind::Renewed { to: Some(to), .. } => {
                        format!("renewed, now until {}", to.format("%Y-%m-%d"))
                    }
                    other => kind(other).to_owned(),
                };
                writeln!(
                    out,
                    "  {:<9} {:<8} {:<26} {} ({}) {} {}",
                    what,
                    c.urgency.map(|u| u.to_string()).unwrap_or_default(),
                    c.code.as_ref().map(|c| c.to_string()).unwrap_or_default(),
                    c.account_name,
                    c.account_id,
                    c.region,
                    c.domain
                )?;
            }
            Ok(())
        }
    }
}

fn kind(kind: &ChangeKind) -> &'static str {
    match kind {
        ChangeKind::New => "new",
        ChangeKind::Rose { .. } => "rose",
        ChangeKind::Resolved => "resolved",
        ChangeKind::Renewed { .. } => "renewed",
        ChangeKind::Gone => "gone",
    }
}

/// With `--changes --fail-on U`: a new finding or a rise at or above `U` fails the run.
pub fn fails(changes: &Changes, threshold: Option<Urgency>) -> bool {
    threshold.is_some_and(|t| {
        changes.changes.iter().any(|c| {
            matches!(c.kind, ChangeKind::New | ChangeKind::Rose { .. })
                && c.urgency.is_some_and(|u| u >= t)
        })
    })
}

//! Findings with a memory: per finding (certificate ARN + code) when a scan first and last
//! reported it, how its urgency moved and when it was resolved; per certificate each NotAfter
//! found. Written by every merge, in its transaction, certificate by certificate as the scan's
//! records are written (so no inventory is held for it); read by `/certs show`
//! ([`Store::history`]) and the digest ([`Store::new_findings_since`]).
//!
//! Only what a scan saw is touched: a stale certificate (its account or region failed) keeps
//! its rows as they were. A finding that a certificate seen again no longer reports is resolved
//! by [`certwatch_core::changes::resolves`], the rule `diff` uses: not when a terminal finding
//! hides it, nor a network finding whose checks could not be made. A certificate the merge drops
//! (deleted) has its open findings resolved at that scan. A resolved finding that comes back
//! opens a new row, so a row is one episode and at most one per finding is open.
//!
//! A resolved episode is pruned [`HISTORY_KEPT_DAYS`] after it was resolved, and a certificate
//! no longer stored loses its NotAfter rows older than that (a stored one keeps them all: a few
//! a year).

use crate::{parse_timestamp, sortable_timestamp, Store, StoreError};
use certwatch_core::changes::resolves;
use certwatch_core::{CertificateHistory, CertificateRecord, Code, FindingHistory, Urgency};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension, Statement};
use serde::Deserialize;
use std::collections::BTreeSet;

/// How long a resolved finding, and the NotAfter history of a certificate no longer stored, are
/// kept: a little over a year, so last year's renewal is still in `/certs show`.
pub(crate) const HISTORY_KEPT_DAYS: i64 = 400;

/// An open episode of a finding, as [`Writer::seen`] reads it.
struct Open {
    id: i64,
    code: Code,
    urgency: Urgency,
    urgencies: String,
}

/// The history statements of one merge, prepared once.
pub(crate) struct Writer<'c> {
    at: DateTime<Utc>,
    at_text: String,
    open: Statement<'c>,
    insert: Statement<'c>,
    touch: Statement<'c>,
    change: Statement<'c>,
    resolve: Statement<'c>,
    resolve_all: Statement<'c>,
    latest_not_after: Statement<'c>,
    push_not_after: Statement<'c>,
}

impl<'c> Writer<'c> {
    /// The writer for the scan that ran at `at`.
    pub(crate) fn new(conn: &'c Connection, at: DateTime<Utc>) -> Result<Writer<'c>, StoreError> {
        Ok(Writer {
            at,
            at_text: sortable_timestamp(at),
            open: conn.prepare(
                "SELECT id, code, urgency, urgencies FROM finding_history
                 WHERE arn = ?1 AND resolved_at IS NULL",
            )?,
            insert: conn.prepare(
                "INSERT INTO finding_history (arn, code, first_seen, last_seen, urgency, urgencies)
                 VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
            )?,
            touch: conn.prepare("UPDATE finding_history SET last_seen = ?2 WHERE id = ?1")?,
            change: conn.prepare(
                "UPDATE finding_history SET last_seen = ?2, urgency = ?3, urgencies = ?4
                 WHERE id = ?1",
            )?,
            resolve: conn.prepare("UPDATE finding_history SET resolved_at = ?2 WHERE id = ?1")?,
            resolve_all: conn.prepare(
                "UPDATE finding_history SET resolved_at = ?2
                 WHERE arn = ?1 AND resolved_at IS NULL",
            )?,
            latest_not_after: conn.prepare(
                "SELECT not_after FROM not_after_history WHERE arn = ?1
                 ORDER BY seen_at DESC LIMIT 1",
            )?,
            push_not_after: conn.prepare(
                "INSERT INTO not_after_history (arn, seen_at, not_after) VALUES (?1, ?2, ?3)
                 ON CONFLICT (arn, seen_at) DO UPDATE SET not_after = excluded.not_after",
            )?,
        })
    }

    /// The scan saw `record`; `checks_failed`: some of its network checks could not be made.
    pub(crate) fn seen(
        &mut self,
        record: &CertificateRecord,
        checks_failed: bool,
    ) -> Result<(), StoreError> {
        let arn = record.facts.arn.as_str();
        let mut open = self
            .open
            .query_map([arn], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })?
            .map(|row| {
                let (id, code, urgency, urgencies) = row?;
                Ok(Open {
                    id,
                    code: Code::parse(&code),
                    urgency: parse_urgency(&urgency)?,
                    urgencies,
                })
            })
            .collect::<Result<Vec<Open>, StoreError>>()?;

        for finding in &record.findings {
            match open.iter_mut().find(|o| o.code == finding.code) {
                Some(o) if o.urgency == finding.urgency => {
                    self.touch.execute(params![o.id, self.at_text])?;
                }
                Some(o) => {
                    let mut urgencies: Vec<(DateTime<Utc>, Urgency)> =
                        crate::from_json(&o.urgencies, "a finding's urgency history")?;
                    urgencies.push((self.at, finding.urgency));
                    let json = crate::to_json(&urgencies, "a finding's urgency history")?;
                    self.change.execute(params![
                        o.id,
                        self.at_text,
                        finding.urgency.as_str(),
                        json
                    ])?;
                    o.urgency = finding.urgency;
                    o.urgencies = json;
                }
                None => {
                    let urgencies = vec![(self.at, finding.urgency)];
                    let json = crate::to_json(&urgencies, "a finding's urgency history")?;
                    let id = self.insert.insert(params![
                        arn,
                        finding.code.as_str(),
                        self.at_text,
                        finding.urgency.as_str(),
                        json
                    ])?;
                    // A second finding with the same code (core makes none) updates this one.
                    open.push(Open {
                        id,
                        code: finding.code.clone(),
                        urgency: finding.urgency,
                        urgencies: json,
                    });
                }
            }
        }
        for o in &open {
            if resolves(record, &o.code, checks_failed) {
                self.resolve.execute(params![o.id, self.at_text])?;
            }
        }

        let latest: Option<Option<String>> = self
            .latest_not_after
            .query_row([arn], |row| row.get(0))
            .optional()?;
        let latest = match latest {
            None => None,
            Some(text) => Some(
                text.map(|t| parse_timestamp(&t, "not_after_history.not_after"))
                    .transpose()?,
            ),
        };
        if latest != Some(record.facts.not_after) {
            self.push_not_after.execute(params![
                arn,
                self.at_text,
                record.facts.not_after.map(sortable_timestamp)
            ])?;
        }
        Ok(())
    }

    /// The merge dropped the certificate `arn` (deleted): its open findings are resolved.
    pub(crate) fn gone(&mut self, arn: &str) -> Result<(), StoreError> {
        self.resolve_all.execute(params![arn, self.at_text])?;
        Ok(())
    }
}

/// Deletes what [`HISTORY_KEPT_DAYS`] no longer keeps, as of the scan at `at`.
pub(crate) fn prune(conn: &Connection, at: DateTime<Utc>) -> Result<(), StoreError> {
    let cutoff = sortable_timestamp(at - Duration::days(HISTORY_KEPT_DAYS));
    conn.execute(
        "DELETE FROM finding_history WHERE resolved_at IS NOT NULL AND resolved_at < ?1",
        [&cutoff],
    )?;
    conn.execute(
        "DELETE FROM not_after_history WHERE seen_at < ?1
           AND arn NOT IN (SELECT arn FROM certificates)",
        [&cutoff],
    )?;
    Ok(())
}

/// What the history needs of a stored record (the rest of it is not read).
#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    not_after: Option<DateTime<Utc>>,
    #[serde(default)]
    findings: Vec<StoredFinding>,
}

#[derive(Deserialize)]
struct StoredFinding {
    code: Code,
    urgency: Urgency,
}

/// Starts the history of a store written before schema 3 (part of that migration): each stored
/// finding is open, first seen at the earliest scan the file remembers (when it appeared is not
/// known, and it is no news to the next digest) and last seen when its certificate was; each
/// certificate's NotAfter is its first NotAfter row, at that same earliest scan.
pub(crate) fn seed(conn: &Connection) -> Result<(), StoreError> {
    let earliest: Option<String> = conn
        .query_row(
            "SELECT generated_at FROM scans ORDER BY id LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    let Some(earliest) = earliest else {
        return Ok(());
    };
    let since = parse_timestamp(&earliest, "scans.generated_at")?;
    let mut insert = conn.prepare(
        "INSERT OR IGNORE INTO finding_history
             (arn, code, first_seen, last_seen, urgency, urgencies)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut not_after = conn.prepare(
        "INSERT OR IGNORE INTO not_after_history (arn, seen_at, not_after) VALUES (?1, ?2, ?3)",
    )?;
    let mut rows = conn.prepare("SELECT arn, last_seen, record FROM certificates")?;
    let mut rows = rows.query([])?;
    while let Some(row) = rows.next()? {
        let arn: String = row.get(0)?;
        let last_seen = parse_timestamp(&row.get::<_, String>(1)?, "certificates.last_seen")?;
        let stored: Stored =
            crate::from_json(&row.get::<_, String>(2)?, &format!("certificate {arn}"))?;
        // The earliest scan kept is never after a scan a stored certificate points to.
        let first_seen = since.min(last_seen);
        for finding in &stored.findings {
            let urgencies = vec![(first_seen, finding.urgency)];
            insert.execute(params![
                arn,
                finding.code.as_str(),
                sortable_timestamp(first_seen),
                sortable_timestamp(last_seen),
                finding.urgency.as_str(),
                crate::to_json(&urgencies, "a finding's urgency history")?
            ])?;
        }
        not_after.execute(params![
            arn,
            sortable_timestamp(first_seen),
            stored.not_after.map(sortable_timestamp)
        ])?;
    }
    Ok(())
}

fn parse_urgency(text: &str) -> Result<Urgency, StoreError> {
    text.parse().map_err(|_| StoreError::Value {
        what: "finding_history.urgency",
        value: text.to_owned(),
    })
}

fn parse_optional(
    text: Option<String>,
    what: &'static str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.map(|t| parse_timestamp(&t, what)).transpose()
}

impl Store {
    /// What the store remembers of the certificate `arn`: its findings' episodes (oldest first),
    /// its NotAfter history and every decision people made about it (oldest first). Empty for a
    /// certificate the store does not know.
    pub fn history(&self, arn: &str) -> Result<CertificateHistory, StoreError> {
        let mut history = CertificateHistory::empty(arn);
        let mut findings = self.conn.prepare(
            "SELECT code, first_seen, last_seen, urgency, urgencies, resolved_at
             FROM finding_history WHERE arn = ?1 ORDER BY first_seen, code, id",
        )?;
        let mut rows = findings.query([arn])?;
        while let Some(row) = rows.next()? {
            history.findings.push(FindingHistory {
                code: Code::parse(&row.get::<_, String>(0)?),
                first_seen: parse_timestamp(
                    &row.get::<_, String>(1)?,
                    "finding_history.first_seen",
                )?,
                last_seen: parse_timestamp(&row.get::<_, String>(2)?, "finding_history.last_seen")?,
                urgency: parse_urgency(&row.get::<_, String>(3)?)?,
                urgencies: crate::from_json(
                    &row.get::<_, String>(4)?,
                    "a finding's urgency history",
                )?,
                resolved_at: parse_optional(row.get(5)?, "finding_history.resolved_at")?,
            });
        }
        let mut not_after = self.conn.prepare(
            "SELECT seen_at, not_after FROM not_after_history WHERE arn = ?1 ORDER BY seen_at",
        )?;
        let mut rows = not_after.query([arn])?;
        while let Some(row) = rows.next()? {
            history.not_after.push((
                parse_timestamp(&row.get::<_, String>(0)?, "not_after_history.seen_at")?,
                parse_optional(row.get(1)?, "not_after_history.not_after")?,
            ));
        }
        history.audit = crate::decisions::audit_of(&self.conn, arn)?;
        Ok(history)
    }

    /// The findings first seen after `at` (by a scan that ran after it) and not resolved since:
    /// the digest's "new since yesterday's digest", with `at` from
    /// [`Store::last_digest_posted_at`].
    pub fn new_findings_since(
        &self,
        at: DateTime<Utc>,
    ) -> Result<BTreeSet<(String, Code)>, StoreError> {
        let mut query = self.conn.prepare(
            "SELECT arn, code FROM finding_history
             WHERE resolved_at IS NULL AND first_seen > ?1",
        )?;
        let rows = query.query_map([sortable_timestamp(at)], |row| {
            Ok((
                row.get::<_, String>(0)?,
                Code::parse(&row.get::<_, String>(1)?),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

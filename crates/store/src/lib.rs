//! certwatch-store: the latest certificate inventory of the organization, kept in an embedded
//! SQLite file so that `certwatch serve` answers Slack commands from stored data in milliseconds
//! and a restart loses nothing.
//!
//! Each finished scan is merged into the inventory by [`Store::record_scan`]: what the scan saw
//! replaces what was stored, and what it could not see (an account whose role was denied, a region
//! that failed) keeps its last good certificates, marked stale with the time they were last seen.
//! The merge rules are documented on [`Store::record_scan`] and implemented in `coverage.rs`.
//! Every merge also keeps the findings' memory (`history.rs`: first and last seen, urgency
//! history, resolved at, NotAfter history), and [`Store::merge_scan`] returns what changed
//! ([`certwatch_core::changes::diff`]). People's decisions (snooze, acknowledge) are kept in
//! force and in an append-only audit trail (`decisions.rs`).
//!
//! The API is synchronous and [`Store`] is `Send` but not `Sync`: an async caller owns it from
//! one thread, either a dedicated database thread fed by a channel or an `Arc<Mutex<Store>>`
//! locked inside `tokio::task::spawn_blocking`. Never call it directly on an async worker: a
//! write waits for the disk.
//!
//! Architecture invariant: the store reads no clock (every time comes from a report or from the
//! caller) and names no AWS or Slack type; it knows certificates only as `certwatch-core` types.

mod accounts;
mod coverage;
mod decisions;
mod digests;
mod history;
mod schema;

pub use digests::DigestMark;

use certwatch_core::{CertificateRecord, Changes, Failure, Inventory, Report, Stats};
use chrono::{DateTime, SecondsFormat, Utc};
use coverage::Coverage;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// How many recent scans (their stats and failures; the latest included) are kept, besides
/// older ones that stale certificates still point to. Only the latest one is read; the others help a human debugging
/// the file.
const SCANS_KEPT: i64 = 30;

/// How long opening waits for another process that holds the file: long enough for a
/// predecessor that is shutting down to let go, short enough that a second `serve` fails fast
/// with [`StoreError::Locked`].
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("cannot open the certwatch store {location}: {source}")]
    Open {
        location: String,
        source: rusqlite::Error,
    },
    #[error(
        "the certwatch store {location} has schema version {found}, but this certwatch understands \
         only up to version {supported}: it was written by a newer certwatch; upgrade certwatch, \
         or point it at a new file"
    )]
    NewerSchema {
        location: String,
        found: i64,
        supported: i64,
    },
    #[error("{location} is not a certwatch store (it is another program's SQLite database)")]
    NotAStore { location: String },
    #[error(
        "the certwatch store {location} is in use: another certwatch holds it (a `serve`, or a \
         `digest --from-store`); one process at a time opens a store, so stop the other one or \
         point this one at another file"
    )]
    Locked { location: String },
    #[error("certwatch store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("certwatch store: cannot encode or decode {what}: {source}")]
    Json {
        what: String,
        source: serde_json::Error,
    },
    #[error("certwatch store: {what} holds {value:?}, which is not an RFC 3339 time")]
    Timestamp { what: &'static str, value: String },
    #[error("certwatch store: {what} holds {value:?}, which this certwatch does not know")]
    Value { what: &'static str, value: String },
    #[error(
        "certwatch store: a decision on {decision} cannot be recorded under an audit entry for \
         {entry}"
    )]
    DecisionMismatch { entry: String, decision: String },
}

/// A scan merged by [`Store::merge_scan`]: the merged inventory and what changed from the one
/// before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub inventory: Inventory,
    pub changes: Changes,
}

/// The inventory and the digest bookkeeping in one SQLite file (or in memory, for tests).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens the store at `path`, creating the file and its schema if needed, and holds it
    /// exclusively until the value is dropped: a second opener (another `serve`, which would
    /// post every digest twice) gets [`StoreError::Locked`].
    ///
    /// The file is in WAL mode with `locking_mode = EXCLUSIVE`, set before the first access.
    /// WAL's usual wal-index lives in shared memory (a `-shm` file mapped by every reader), which
    /// a network file system such as EFS does not provide; in exclusive locking mode SQLite keeps
    /// the wal-index in the process's heap instead and never creates the `-shm` file, which is
    /// the configuration SQLite documents as safe without shared memory. The exclusive lock is an
    /// ordinary POSIX file lock, which NFSv4 (EFS) enforces between clients. `synchronous =
    /// NORMAL`: a crash of the process loses nothing committed; a power cut may lose the last
    /// scan, never corrupt it. A file written by a newer certwatch ([`StoreError::NewerSchema`])
    /// or by another program ([`StoreError::NotAStore`]) is refused.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let location = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            location: location.clone(),
            source,
        })?;
        Store::init(conn, &location, true)
    }

    /// A store that lives as long as the value: for tests and one-off runs.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let location = ":memory:";
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            location: location.to_owned(),
            source,
        })?;
        Store::init(conn, location, false)
    }

    fn init(mut conn: Connection, location: &str, on_disk: bool) -> Result<Store, StoreError> {
        let opened = |source: rusqlite::Error| match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
                location: location.to_owned(),
            },
            _ => StoreError::Open {
                location: location.to_owned(),
                source,
            },
        };
        conn.busy_timeout(BUSY_TIMEOUT).map_err(opened)?;
        if on_disk {
            // Before anything reads the file: see `open` for why.
            let _mode: String = conn
                .pragma_update_and_check(None, "locking_mode", "EXCLUSIVE", |row| row.get(0))
                .map_err(opened)?;
            // Takes the exclusive lock now (and keeps it): a second opener fails here, not at
            // its first write.
            conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;")
                .map_err(opened)?;
        }
        // Checks the version before anything writes to the file.
        schema::migrate(&mut conn, location).map_err(|e| match e {
            StoreError::Sqlite(source) => opened(source),
            other => other,
        })?;
        if on_disk {
            let _mode: String = conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
                .map_err(opened)?;
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(opened)?;
        Ok(Store { conn })
    }

    /// Makes every later write fail (SQLite's `query_only`) while reads go on, or allows writes
    /// again: the state of a store on a full disk or a file system remounted read-only, which
    /// `serve` must survive without posting a digest twice.
    pub fn set_read_only(&mut self, read_only: bool) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "query_only", read_only)?;
        Ok(())
    }

    /// Merges a finished scan into the inventory, in one transaction, and returns the merged
    /// view (the same as [`Store::inventory`] right after).
    ///
    /// A target is (account, region). Every certificate in `report` is stored as seen now. A
    /// stored certificate that `report` does not contain is kept, stale, if the report's
    /// failures cover where it lives, and dropped otherwise:
    /// - a target the scan listed without failure holds exactly the new certificates (a
    ///   certificate deleted in AWS disappears);
    /// - a target whose listing failed keeps its stored certificates, besides whatever the scan
    ///   did list there (the scanner reports a partial listing);
    /// - an account that failed as a whole (`assume_role`) keeps every stored region;
    /// - an account whose region list failed (`list_regions`) was still scanned in
    ///   [`certwatch_core::regions::ALWAYS_SCANNED`]: it keeps its other stored regions, except
    ///   those that have certificates in the report;
    /// - a certificate that could not be described keeps its stored version;
    /// - if the organization could not be listed (`list_accounts`), every account that does not
    ///   appear in the report keeps its certificates;
    /// - an account or target that neither appears in the report nor failed (it left the
    ///   organization, was excluded, or its last certificates were deleted) is dropped.
    ///
    /// A stale certificate keeps the record (and findings) of the scan that last saw it and that
    /// scan's time as `last_seen`; it becomes fresh as soon as a scan sees it again. Scans are
    /// taken to arrive in the order they ran: the last one recorded is the latest.
    ///
    /// The findings' history and the NotAfter history are updated in the same transaction, for
    /// what the scan saw and what it dropped (see [`Store::history`]); a stale certificate's
    /// history is left as it was. [`Store::merge_scan`] also returns what changed.
    pub fn record_scan(&mut self, report: &Report) -> Result<Inventory, StoreError> {
        self.merge(Cow::Borrowed(report))
    }

    /// [`Store::record_scan`], taking the report: its certificates are let go once written and
    /// before the merged inventory is read back, so a large organization's records are not held
    /// twice (at 510,501 certificates a report holds about 1 GiB).
    pub fn record_scan_owned(&mut self, report: Report) -> Result<Inventory, StoreError> {
        self.merge(Cow::Owned(report))
    }

    /// Merges a finished scan as [`Store::record_scan_owned`] does (same merge, same history,
    /// one transaction) and returns, besides the merged inventory, what changed from the
    /// inventory before ([`certwatch_core::changes::diff`]: new findings, rises, resolutions,
    /// renewals, deletions; nothing for a certificate the scan could not see). The first scan
    /// into a store is all `New`.
    ///
    /// Memory: the inventory before is read without what the diff does not look at (checks,
    /// validation records, the findings' texts), the report's certificates are let go once
    /// written, and the inventory before once diffed.
    pub fn merge_scan(&mut self, report: Report) -> Result<Merged, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let previous = read_inventory(&tx, Detail::ForDiff)?;
        write_scan(&tx, &report)?;
        // Its records are stored: let them go before the merged inventory is read.
        drop(report);
        let inventory = read_inventory(&tx, Detail::Full)?;
        let changes = certwatch_core::changes::diff(&previous, &inventory);
        drop(previous);
        tx.commit()?;
        Ok(Merged { inventory, changes })
    }

    fn merge(&mut self, mut report: Cow<'_, Report>) -> Result<Inventory, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_scan(&tx, &report)?;
        if let Cow::Owned(report) = &mut report {
            report.certificates = Vec::new();
        }
        let inventory = read_inventory(&tx, Detail::Full)?;
        tx.commit()?;
        Ok(inventory)
    }

    /// The current merged inventory: every certificate stored (fresh and stale, sorted as
    /// [`Report::sort`] sorts), the latest scan's failures, stats and time, and every decision
    /// in force (see [`Inventory`]). Decisions are returned as stored, lapsed snoozes and those
    /// on certificates no longer listed included: the renderers judge their visibility.
    pub fn inventory(&self) -> Result<Inventory, StoreError> {
        read_inventory(&self.conn, Detail::Full)
    }

    /// The accounts the scans described (`Report.accounts` merged), by id: what a rescan may
    /// reuse of their OU paths and tags.
    pub fn accounts(&self) -> Result<Vec<certwatch_core::Account>, StoreError> {
        accounts::read_all(&self.conn)
    }
}

/// Writes a scan into the open transaction: its stats and failures, its certificates, and the
/// merge of what it did not see (see [`Store::record_scan`]).
fn write_scan(tx: &rusqlite::Transaction<'_>, report: &Report) -> Result<(), StoreError> {
    let coverage = Coverage::of(report);
    let checks_failed = certwatch_core::changes::checks_failed(&report.failures);
    let mut history = history::Writer::new(tx, report.generated_at)?;
    let seen_at = timestamp(report.generated_at);
    tx.execute(
        "INSERT INTO scans (generated_at, stats, failures) VALUES (?1, ?2, ?3)",
        params![
            seen_at,
            to_json(&report.stats, "the scan stats")?,
            to_json(&report.failures, "the scan failures")?
        ],
    )?;
    let scan_id = tx.last_insert_rowid();
    accounts::write(tx, report)?;

    {
        let mut upsert = tx.prepare(
            "INSERT INTO certificates (arn, account_id, region, last_seen, scan_id, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (arn) DO UPDATE SET
                     account_id = excluded.account_id, region = excluded.region,
                     last_seen = excluded.last_seen, scan_id = excluded.scan_id,
                     record = excluded.record",
        )?;
        for record in &report.certificates {
            let facts = &record.facts;
            let json = serde_json::to_string(record).map_err(|source| StoreError::Json {
                what: format!("certificate {}", facts.arn),
                source,
            })?;
            upsert.execute(params![
                facts.arn,
                facts.account_id,
                facts.region,
                seen_at,
                scan_id,
                json
            ])?;
            history.seen(record, checks_failed.contains(facts.arn.as_str()))?;
        }

        // What this scan did not see: keep what its failures cover, drop the rest.
        let mut unseen =
            tx.prepare("SELECT arn, account_id, region FROM certificates WHERE scan_id <> ?1")?;
        let gone = unseen
            .query_map([scan_id], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })?
            .filter_map(|row| match row {
                Ok((arn, account, region)) if coverage.keeps(&account, &region, &arn) => None,
                Ok((arn, _, _)) => Some(Ok(arn)),
                Err(error) => Some(Err(error)),
            })
            .collect::<Result<Vec<String>, _>>()?;
        let mut delete = tx.prepare("DELETE FROM certificates WHERE arn = ?1")?;
        for arn in gone {
            delete.execute([&arn])?;
            history.gone(&arn)?;
        }
    }
    drop(history);
    history::prune(tx, report.generated_at)?;

    tx.execute(
        "DELETE FROM scans WHERE id <= ?1
               AND id NOT IN (SELECT DISTINCT scan_id FROM certificates)",
        [scan_id - SCANS_KEPT],
    )?;
    Ok(())
}

/// How much of each certificate [`read_inventory`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// Everything, decisions included: what callers get.
    Full,
    /// What [`certwatch_core::changes::diff`] reads of the inventory before a merge (the
    /// certificate's place and name, NotAfter, status, its findings' codes and urgencies): the
    /// bulk of a record (checks, validation records, texts) is let go as each is read.
    ForDiff,
}

/// Lets go of what [`Detail::ForDiff`] does not keep.
fn lighten(record: &mut CertificateRecord) {
    let facts = &mut record.facts;
    facts.subject_alternative_names.truncate(1);
    facts.subject_alternative_names.shrink_to_fit();
    facts.in_use_by = Vec::new();
    facts.domain_validation_options = Vec::new();
    facts.renewal_summary = None;
    facts.checks = None;
    record.console_url = String::new();
    for finding in &mut record.findings {
        finding.summary = String::new();
        finding.remedy = String::new();
    }
}

/// Reads the merged inventory; `conn` may be inside a transaction.
fn read_inventory(conn: &Connection, detail: Detail) -> Result<Inventory, StoreError> {
    let latest = conn
        .query_row(
            "SELECT id, generated_at, stats, failures FROM scans ORDER BY id DESC LIMIT 1",
            [],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            },
        )
        .optional()?;
    let decisions = match detail {
        Detail::Full => decisions::read_all(conn)?,
        Detail::ForDiff => BTreeMap::new(),
    };
    let Some((scan_id, generated_at, stats, failures)) = latest else {
        // A decision can be made before the first scan is merged.
        return Ok(Inventory {
            decisions,
            ..Inventory::empty()
        });
    };
    let generated_at = parse_timestamp(&generated_at, "scans.generated_at")?;
    let stats: Stats = from_json(&stats, "the latest scan's stats")?;
    let failures: Vec<Failure> = from_json(&failures, "the latest scan's failures")?;

    let mut certificates = Vec::new();
    let mut stale = BTreeMap::new();
    let mut rows = conn.prepare("SELECT arn, last_seen, scan_id, record FROM certificates")?;
    let mut rows = rows.query([])?;
    while let Some(row) = rows.next()? {
        let arn: String = row.get(0)?;
        let json: String = row.get(3)?;
        let mut record: CertificateRecord =
            serde_json::from_str(&json).map_err(|source| StoreError::Json {
                what: format!("certificate {arn} (was the store written by a newer certwatch?)"),
                source,
            })?;
        if row.get::<_, i64>(2)? != scan_id {
            let last_seen: String = row.get(1)?;
            record.days_to_expiry = record.facts.days_to_expiry(generated_at);
            stale.insert(arn, parse_timestamp(&last_seen, "certificates.last_seen")?);
        }
        if detail == Detail::ForDiff {
            lighten(&mut record);
        }
        certificates.push(record);
    }

    let mut report = Report {
        generated_at,
        certificates,
        failures,
        stats,
        accounts: accounts::read_all(conn)?,
    };
    report.sort();
    Ok(Inventory {
        report: report.into(),
        stale,
        last_scan: Some(generated_at),
        decisions,
    })
}

/// Times are stored as RFC 3339 in UTC, with as many fractional digits as they have.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Times in the tables of schema 3 (history, decisions, audit): RFC 3339 in UTC with nine
/// fractional digits, so that SQL compares and sorts them as text (with
/// [`timestamp`]'s "…:00Z" and "…:00.5Z", text order is not time order).
fn sortable_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn parse_timestamp(value: &str, what: &'static str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| StoreError::Timestamp {
            what,
            value: value.to_owned(),
        })
}

fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Json {
        what: what.to_owned(),
        source,
    })
}

fn from_json<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|source| StoreError::Json {
        what: what.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests;

//! The file format: tables, indexes and migrations, versioned with `PRAGMA user_version`.
//!
//! A file is recognised as a certwatch store by `PRAGMA application_id`. Version 0 is a new, empty
//! file; each migration step runs in the same transaction as the version bump, so a crash leaves
//! the file at the old version or the new one, never in between. A file whose version is newer
//! than [`VERSION`] was written by a newer certwatch and is refused rather than misread.

use crate::StoreError;
use rusqlite::{Connection, TransactionBehavior};

/// The schema version this build writes and understands.
pub(crate) const VERSION: i64 = 4;

/// `PRAGMA application_id` of a certwatch store: "cwst".
const APPLICATION_ID: i64 = 0x6377_7374;

/// Version 1. Certificates are kept as the JSON the scan produced (`record`), so fields added to
/// the report by a later certwatch survive a round trip; the other columns are copies of the
/// fields the store selects on.
const V1: &str = "
CREATE TABLE scans (
    id           INTEGER PRIMARY KEY,
    generated_at TEXT NOT NULL,    -- RFC 3339, UTC
    stats        TEXT NOT NULL,    -- JSON of core::Stats
    failures     TEXT NOT NULL     -- JSON array of core::Failure
);

CREATE TABLE certificates (
    arn        TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    last_seen  TEXT NOT NULL,      -- generated_at of the scan that last saw it (RFC 3339, UTC)
    scan_id    INTEGER NOT NULL,   -- that scan's id
    record     TEXT NOT NULL       -- JSON of core::CertificateRecord as that scan wrote it
);
CREATE INDEX certificates_target ON certificates (account_id, region);
CREATE INDEX certificates_scan ON certificates (scan_id);
CREATE INDEX certificates_last_seen ON certificates (last_seen);

CREATE TABLE digests (
    local_date TEXT PRIMARY KEY,   -- YYYY-MM-DD in the digest's time zone
    channel    TEXT NOT NULL,
    ts         TEXT NOT NULL,      -- Slack message timestamp
    posted_at  TEXT NOT NULL       -- RFC 3339, UTC
);
";

/// Version 2: the intent to post a digest, written before the post (see `digests.rs`).
const V2: &str = "
CREATE TABLE digest_intents (
    local_date  TEXT PRIMARY KEY,  -- YYYY-MM-DD in the digest's time zone
    channel     TEXT NOT NULL,
    intended_at TEXT NOT NULL      -- RFC 3339, UTC
);
";

/// Version 3: findings with a memory (see `history.rs`) and people's decisions (see
/// `decisions.rs`). Times in these tables are RFC 3339 UTC with nine fractional digits, so that
/// they compare and sort as text.
const V3: &str = "
-- One row per finding (certificate ARN + code) from the scan that first reported it to the scan
-- that resolved it; a finding that comes back gets a new row. At most one open row per finding.
CREATE TABLE finding_history (
    id          INTEGER PRIMARY KEY,
    arn         TEXT NOT NULL,
    code        TEXT NOT NULL,     -- core::Code, verbatim
    first_seen  TEXT NOT NULL,     -- time of the scan that first reported it
    last_seen   TEXT NOT NULL,     -- time of the latest scan that reported it
    urgency     TEXT NOT NULL,     -- core::Urgency in that scan
    urgencies   TEXT NOT NULL,     -- JSON [[time, urgency], ...]: the first, then each change
    resolved_at TEXT               -- NULL while reported
);
CREATE UNIQUE INDEX finding_history_open ON finding_history (arn, code) WHERE resolved_at IS NULL;
CREATE INDEX finding_history_arn ON finding_history (arn, first_seen);

-- The NotAfter of each certificate when first seen and each time a scan found another one.
CREATE TABLE not_after_history (
    arn       TEXT NOT NULL,
    seen_at   TEXT NOT NULL,       -- time of the scan
    not_after TEXT,                -- NULL: none yet (a request not issued)
    PRIMARY KEY (arn, seen_at)
);

-- The snooze or acknowledgement in force on a certificate.
CREATE TABLE decisions (
    arn      TEXT PRIMARY KEY,
    decision TEXT NOT NULL         -- JSON of core::Decision
);

-- Every decision people made, as they made it: appended, never rewritten, never deleted.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,   -- AUTOINCREMENT: an id is never reused
    at      TEXT NOT NULL,
    by      TEXT NOT NULL,         -- Slack user id
    channel TEXT NOT NULL,         -- Slack channel id
    arn     TEXT NOT NULL,
    action  TEXT NOT NULL,         -- JSON of core::AuditAction
    reason  TEXT NOT NULL
);
CREATE INDEX audit_arn ON audit (arn, id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: no UPDATE'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: no DELETE'); END;
-- INSERT OR REPLACE deletes the row it replaces without firing the delete trigger.
CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit
WHEN EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: no REPLACE'); END;
";

/// Version 4: routing. The accounts the scans described (their OU path and tags, which the
/// routes match on; see `accounts.rs`), and one digest per local date *and channel*: each
/// routed channel gets its own.
const V4: &str = "
CREATE TABLE accounts (
    id        TEXT PRIMARY KEY,    -- 12-digit account id
    account   TEXT NOT NULL        -- JSON of core::Account as the latest scan that described it wrote it
);

CREATE TABLE digests_v4 (
    local_date TEXT NOT NULL,      -- YYYY-MM-DD in the digest's time zone
    channel    TEXT NOT NULL,
    ts         TEXT NOT NULL,      -- Slack message timestamp
    posted_at  TEXT NOT NULL,      -- RFC 3339, UTC
    PRIMARY KEY (local_date, channel)
);
INSERT INTO digests_v4 (local_date, channel, ts, posted_at)
    SELECT local_date, channel, ts, posted_at FROM digests;
DROP TABLE digests;
ALTER TABLE digests_v4 RENAME TO digests;

CREATE TABLE digest_intents_v4 (
    local_date  TEXT NOT NULL,     -- YYYY-MM-DD in the digest's time zone
    channel     TEXT NOT NULL,
    intended_at TEXT NOT NULL,     -- RFC 3339, UTC
    PRIMARY KEY (local_date, channel)
);
INSERT INTO digest_intents_v4 (local_date, channel, intended_at)
    SELECT local_date, channel, intended_at FROM digest_intents;
DROP TABLE digest_intents;
ALTER TABLE digest_intents_v4 RENAME TO digest_intents;
";

/// Brings the file at `location` (a path, or `:memory:`) up to [`VERSION`].
pub(crate) fn migrate(conn: &mut Connection, location: &str) -> Result<(), StoreError> {
    // IMMEDIATE: two processes opening a new file at once must not both create the tables.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let application_id: i64 = tx.pragma_query_value(None, "application_id", |row| row.get(0))?;
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(StoreError::NotAStore {
            location: location.to_owned(),
        });
    }
    if version > VERSION {
        return Err(StoreError::NewerSchema {
            location: location.to_owned(),
            found: version,
            supported: VERSION,
        });
    }
    if version == VERSION {
        return Ok(());
    }
    if version == 0 {
        // A file with tables but no version is someone else's database: do not write into it.
        let tables: i64 = tx.query_row(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
            [],
            |row| row.get(0),
        )?;
        if tables > 0 {
            return Err(StoreError::NotAStore {
                location: location.to_owned(),
            });
        }
        tx.execute_batch(V1)?;
    }
    if version < 2 {
        tx.execute_batch(V2)?;
    }
    if version < 3 {
        tx.execute_batch(V3)?;
        crate::history::seed(&tx)?;
    }
    if version < 4 {
        tx.execute_batch(V4)?;
    }
    // Later versions: `if version < 5 { tx.execute_batch(V5)?; }` and so on, in order.
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

//! People's decisions: the snooze or acknowledgement in force on each certificate (set and
//! cleared by [`Store::decide`], read into [`Inventory::decisions`](certwatch_core::Inventory))
//! and the audit trail of every decision, appended in the same transaction and never rewritten:
//! the schema's triggers refuse any UPDATE or DELETE of an `audit` row (and an INSERT OR
//! REPLACE of one), so not even a bug here can rewrite it. The trail also records each resend of
//! ACM's validation email ([`Store::record_resend`]), which decides nothing and is only appended;
//! [`Store::last_resend_at`] reads the latest one back for the 12-hour rule.

use crate::{parse_timestamp, sortable_timestamp, Store, StoreError};
use certwatch_core::{AuditAction, AuditEntry, Decision};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use std::collections::BTreeMap;

impl Store {
    /// Records what a person did, in one transaction: appends `entry` to the audit trail and
    /// sets the decision in force on `entry.arn` to `decision`, or clears it (`None`: an
    /// unsnooze). A decision on another ARN than the entry's is refused
    /// ([`StoreError::DecisionMismatch`]) and nothing is written.
    pub fn decide(
        &mut self,
        entry: &AuditEntry,
        decision: Option<&Decision>,
    ) -> Result<(), StoreError> {
        if let Some(decision) = decision {
            if decision.arn != entry.arn {
                return Err(StoreError::DecisionMismatch {
                    entry: entry.arn.clone(),
                    decision: decision.arn.clone(),
                });
            }
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        append(&tx, entry)?;
        match decision {
            Some(decision) => tx.execute(
                "INSERT INTO decisions (arn, decision) VALUES (?1, ?2)
                 ON CONFLICT (arn) DO UPDATE SET decision = excluded.decision",
                params![
                    entry.arn,
                    crate::to_json(decision, &format!("the decision on {}", entry.arn))?
                ],
            )?,
            None => tx.execute("DELETE FROM decisions WHERE arn = ?1", [&entry.arn])?,
        };
        tx.commit()?;
        Ok(())
    }

    /// Records that ACM was asked to send a certificate's validation email again: appends
    /// `entry`, whose action must be [`AuditAction::ResendValidationEmail`], to the audit trail.
    /// The decision in force is left alone. Another action is refused ([`StoreError::Value`])
    /// and nothing is written.
    pub fn record_resend(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        if !matches!(entry.action, AuditAction::ResendValidationEmail { .. }) {
            return Err(StoreError::Value {
                what: "the audit action of a resend",
                value: crate::to_json(&entry.action, "an audit action")?,
            });
        }
        append(&self.conn, entry)
    }

    /// When the validation email of `arn` was last resent through certwatch (the latest resend
    /// in the audit trail), or `None` if it never was: what `decisions::resend_allowed` of
    /// certwatch-core needs.
    pub fn last_resend_at(&self, arn: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<String> = self
            .conn
            .query_row(
                "SELECT at FROM audit
                 WHERE arn = ?1 AND json_extract(action, '$.action') = ?2
                 ORDER BY at DESC LIMIT 1",
                params![arn, RESEND_ACTION],
                |row| row.get(0),
            )
            .optional()?;
        at.map(|at| parse_timestamp(&at, "audit.at")).transpose()
    }

    /// The latest `limit` entries of the audit trail, newest first.
    pub fn audit(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut query = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM audit ORDER BY id DESC LIMIT ?1"
        ))?;
        let mut rows = query.query([limit])?;
        let mut entries = Vec::new();
        while let Some(row) = rows.next()? {
            entries.push(entry(row)?);
        }
        Ok(entries)
    }
}

const COLUMNS: &str = "at, by, channel, arn, action, reason";

/// The `action` tag of [`AuditAction::ResendValidationEmail`] in the audit trail's JSON.
const RESEND_ACTION: &str = "resend_validation_email";

/// Appends `entry` to the audit trail.
fn append(conn: &Connection, entry: &AuditEntry) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit (at, by, channel, arn, action, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            sortable_timestamp(entry.at),
            entry.by,
            entry.channel,
            entry.arn,
            crate::to_json(&entry.action, "an audit action")?,
            entry.reason
        ],
    )?;
    Ok(())
}

/// The audit trail of one certificate, oldest first.
pub(crate) fn audit_of(conn: &Connection, arn: &str) -> Result<Vec<AuditEntry>, StoreError> {
    let mut query = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit WHERE arn = ?1 ORDER BY id"
    ))?;
    let mut rows = query.query([arn])?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
        entries.push(entry(row)?);
    }
    Ok(entries)
}

fn entry(row: &Row<'_>) -> Result<AuditEntry, StoreError> {
    let action: AuditAction = crate::from_json(
        &row.get::<_, String>(4)?,
        "an audit action (was the store written by a newer certwatch?)",
    )?;
    Ok(AuditEntry {
        at: parse_timestamp(&row.get::<_, String>(0)?, "audit.at")?,
        by: row.get(1)?,
        channel: row.get(2)?,
        arn: row.get(3)?,
        action,
        reason: row.get(5)?,
    })
}

/// Every decision in force, by ARN.
pub(crate) fn read_all(conn: &Connection) -> Result<BTreeMap<String, Decision>, StoreError> {
    let mut query = conn.prepare("SELECT arn, decision FROM decisions")?;
    let mut rows = query.query([])?;
    let mut decisions = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let arn: String = row.get(0)?;
        let decision: Decision = crate::from_json(
            &row.get::<_, String>(1)?,
            &format!("the decision on {arn} (was the store written by a newer certwatch?)"),
        )?;
        decisions.insert(arn, decision);
    }
    Ok(decisions)
}

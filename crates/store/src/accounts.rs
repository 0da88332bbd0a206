//! The accounts the scans described: id, name, and the OU path and tags the routes match on
//! (`core::Account`). A scan that did not learn an account's OU path or tags (not asked, or the
//! lookup failed) keeps what an earlier scan learned; an account that left the organization is
//! dropped once a scan listed the organization without it.

use crate::{from_json, to_json, StoreError};
use certwatch_core::{Account, Report, Stage};
use rusqlite::{params, Connection, OptionalExtension};

/// Merges `report.accounts` into the open transaction.
pub(crate) fn write(tx: &rusqlite::Transaction<'_>, report: &Report) -> Result<(), StoreError> {
    if report.accounts.is_empty() {
        // A report without account descriptions (an older scanner, or nothing listed): it
        // says nothing about the accounts.
        return Ok(());
    }
    {
        let mut read = tx.prepare("SELECT account FROM accounts WHERE id = ?1")?;
        let mut upsert = tx.prepare(
            "INSERT INTO accounts (id, account) VALUES (?1, ?2)
             ON CONFLICT (id) DO UPDATE SET account = excluded.account",
        )?;
        for account in &report.accounts {
            let mut merged = account.clone();
            if merged.ou_path.is_none() || merged.tags.is_none() {
                let stored: Option<String> =
                    read.query_row([&account.id], |row| row.get(0)).optional()?;
                if let Some(json) = stored {
                    let stored: Account = from_json(&json, "a stored account")?;
                    merged.ou_path = merged.ou_path.or(stored.ou_path);
                    merged.tags = merged.tags.or(stored.tags);
                    merged.learned_at = merged.learned_at.or(stored.learned_at);
                }
            }
            upsert.execute(params![merged.id, to_json(&merged, "an account")?])?;
        }
    }
    let listed = !report
        .failures
        .iter()
        .any(|f| f.stage == Stage::ListAccounts);
    if listed {
        let ids: Vec<&str> = report.accounts.iter().map(|a| a.id.as_str()).collect();
        let mut stored = tx.prepare("SELECT id FROM accounts")?;
        let gone: Vec<String> = stored
            .query_map([], |row| row.get::<_, String>(0))?
            .filter(|id| id.as_ref().map_or(true, |id| !ids.contains(&id.as_str())))
            .collect::<Result<_, _>>()?;
        let mut delete = tx.prepare("DELETE FROM accounts WHERE id = ?1")?;
        for id in gone {
            delete.execute([id])?;
        }
    }
    Ok(())
}

/// Every stored account, by id.
pub(crate) fn read_all(conn: &Connection) -> Result<Vec<Account>, StoreError> {
    let mut query = conn.prepare("SELECT account FROM accounts ORDER BY id")?;
    let rows = query.query_map([], |row| row.get::<_, String>(0))?;
    rows.map(|json| from_json(&json?, "a stored account"))
        .collect()
}

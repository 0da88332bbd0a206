//! What an earlier scan learned that a rescan may reuse: the network checks of unchanged
//! certificates ([`PreviousChecks`]) and the accounts' OU paths and tags, which Organizations
//! answers slowly (its quota is about 2 calls a second, shared by the whole management account)
//! and which rarely change. `serve` builds it from its stored inventory.

use crate::checks::PreviousChecks;
use crate::AccountMetadata;
use certwatch_core::Account;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// An earlier scan's results, for a rescan ([`crate::scan_after`]).
#[derive(Debug, Clone, Default)]
pub struct Previous {
    pub(crate) checks: PreviousChecks,
    /// Accounts whose OU path or tags were learned, by id.
    accounts: HashMap<String, Account>,
}

impl From<PreviousChecks> for Previous {
    fn from(checks: PreviousChecks) -> Previous {
        Previous {
            checks,
            accounts: HashMap::new(),
        }
    }
}

impl Previous {
    /// Adds the accounts an earlier scan described (`Report.accounts`): their OU paths and
    /// tags stand until they are `ScanConfig::relearn_accounts_after` old.
    pub fn with_accounts<'a>(mut self, accounts: impl IntoIterator<Item = &'a Account>) -> Self {
        self.accounts = accounts
            .into_iter()
            .filter(|a| a.learned_at.is_some())
            .map(|a| (a.id.clone(), a.clone()))
            .collect();
        self
    }

    /// The account as learned earlier, if what `wanted` asks for was learned within `max_age`
    /// before `now`.
    pub(crate) fn account(
        &self,
        id: &str,
        wanted: AccountMetadata,
        now: DateTime<Utc>,
        max_age: std::time::Duration,
    ) -> Option<&Account> {
        let max_age = chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
        self.accounts
            .get(id)
            .filter(|a| a.learned_since(wanted.ou_path, wanted.tags, now, max_age))
    }
}

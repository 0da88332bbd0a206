//! What an earlier scan learned that a rescan may reuse: the network checks of unchanged
//! certificates ([`PreviousChecks`]), the certificates' detail (DescribeCertificate: most of it
//! never changes, and what does moves a field the listing shows; `certwatch_core::reuse`
//! decides), and the accounts' OU paths and tags, which Organizations answers slowly (its quota
//! is about 2 calls a second, shared by the whole management account) and which rarely change.
//! `serve` and `scan --store` build it from the stored inventory ([`Previous::of`]).

use crate::checks::PreviousChecks;
use crate::{AccountMetadata, ScanConfig};
use certwatch_core::{reuse, Account, CertificateFacts, Inventory};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// An earlier scan's results, for a rescan ([`crate::scan_after`]).
#[derive(Debug, Clone, Default)]
pub struct Previous {
    pub(crate) checks: PreviousChecks,
    /// Accounts whose OU path or tags were learned, by id.
    accounts: HashMap<String, Account>,
    /// The inventory the details come from, and its described certificates by ARN (an index:
    /// the records are not copied).
    details: Option<(Arc<Inventory>, HashMap<String, usize>)>,
}

impl From<PreviousChecks> for Previous {
    fn from(checks: PreviousChecks) -> Previous {
        Previous {
            checks,
            ..Previous::default()
        }
    }
}

impl Previous {
    /// What `inventory` (the store's: the merged earlier scans) lets a scan with `config`
    /// reuse: checks for `recheck_after`, details for `detail_max_age`, accounts' OU paths and
    /// tags for `relearn_accounts_after`.
    pub fn of(inventory: Arc<Inventory>, config: &ScanConfig) -> Previous {
        let certificates = &inventory.report.certificates;
        let checks =
            PreviousChecks::new(config.recheck_after, certificates.iter().map(|c| &c.facts));
        let described: HashMap<String, usize> = certificates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.facts.described && c.facts.described_at.is_some())
            .map(|(i, c)| (c.facts.arn.clone(), i))
            .collect();
        let previous = Previous::from(checks).with_accounts(&inventory.report.accounts);
        Previous {
            details: Some((inventory, described)),
            ..previous
        }
    }

    /// `listing` completed with its earlier detail, when that still stands at `now`
    /// (`certwatch_core::reuse::reusable_detail`); `None`: describe it.
    pub(crate) fn detail(
        &self,
        listing: &CertificateFacts,
        now: DateTime<Utc>,
        max_age: std::time::Duration,
    ) -> Option<CertificateFacts> {
        let (inventory, index) = self.details.as_ref()?;
        let cached = &inventory
            .report
            .certificates
            .get(*index.get(&listing.arn)?)?
            .facts;
        let max_age = chrono::Duration::from_std(max_age).ok()?;
        reuse::reusable_detail(listing, cached, now, max_age)
    }

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

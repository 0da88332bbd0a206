//! The inventory: the latest merged view of the organization's certificates, which the bot
//! answers from (the store keeps it, the Slack renderers read it, `certwatch digest` builds one).

use crate::decisions::Decision;
use crate::report::{Report, Stage, Stats};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The latest merged inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// Every certificate known (fresh and stale), sorted as [`Report::sort`] sorts; the failures
    /// and stats of the latest scan as it reported them (so `stats.certificates` counts what that
    /// scan saw, not the stale ones carried over); `generated_at` is the latest scan's time. With
    /// no scan yet: empty, and `generated_at` is the Unix epoch.
    ///
    /// Shared, so that a copy of the inventory (the bot records a decision while answers read
    /// it) copies the decisions, not every certificate: change it with `Arc::make_mut`.
    pub report: Arc<Report>,
    /// ARN → when it was last seen, for the certificates carried over from an earlier scan
    /// because the part of the organization holding them failed in the latest one. A stale
    /// certificate's findings are those of the scan that last saw it; its `days_to_expiry` is
    /// recomputed against the latest scan's time so that the days stay true.
    pub stale: BTreeMap<String, DateTime<Utc>>,
    /// When the latest scan ran; `None` until there is one.
    pub last_scan: Option<DateTime<Utc>>,
    /// ARN → the snooze or acknowledgement in force on it (the audit trail keeps every one).
    pub decisions: BTreeMap<String, Decision>,
}

impl Inventory {
    /// The inventory before any scan.
    pub fn empty() -> Inventory {
        Inventory {
            report: Arc::new(Report {
                generated_at: DateTime::UNIX_EPOCH,
                certificates: Vec::new(),
                failures: Vec::new(),
                accounts: Vec::new(),
                stats: Stats::default(),
            }),
            stale: BTreeMap::new(),
            last_scan: None,
            decisions: BTreeMap::new(),
        }
    }

    /// The inventory of one scan on its own: nothing stale, the scan's time as the last scan's.
    pub fn of_scan(report: Report) -> Inventory {
        Inventory {
            last_scan: Some(report.generated_at),
            report: Arc::new(report),
            stale: BTreeMap::new(),
            decisions: BTreeMap::new(),
        }
    }

    /// The report to change: copied first if another copy of the inventory shares it.
    pub fn report_mut(&mut self) -> &mut Report {
        Arc::make_mut(&mut self.report)
    }

    /// When a stale certificate was last seen; `None` for a fresh one (or an unknown ARN).
    pub fn last_seen(&self, arn: &str) -> Option<DateTime<Utc>> {
        self.stale.get(arn).copied()
    }

    /// The accounts the inventory knows (from certificates and failures): id → name.
    pub fn accounts(&self) -> BTreeMap<&str, &str> {
        let mut accounts = BTreeMap::new();
        for failure in &self.report.failures {
            accounts.insert(failure.account_id.as_str(), failure.account_name.as_str());
        }
        for record in &self.report.certificates {
            accounts.insert(
                record.facts.account_id.as_str(),
                record.account_name.as_str(),
            );
        }
        accounts
    }

    /// Account-regions (or whole accounts) that failed in the latest scan.
    pub fn failed_targets(&self) -> usize {
        let mut targets: Vec<(&str, Option<&str>)> = self
            .report
            .failures
            .iter()
            .filter(|f| f.certificate_arn.is_none() && f.stage != Stage::AccountMetadata)
            .map(|f| (f.account_id.as_str(), f.region.as_deref()))
            .collect();
        targets.sort_unstable();
        targets.dedup();
        targets.len()
    }
}

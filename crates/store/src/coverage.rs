//! Which stored certificates a scan could not see: the part of the organization its failures
//! cover. A stored certificate that the new report does not contain is kept (stale) when it is
//! covered, and dropped otherwise, because then the scan looked where it lives and it was gone.
//!
//! How each failure maps onto stored certificates (see `Report` and the scanner for where each
//! failure comes from):
//!
//! | failure                                | covers                                                       |
//! |----------------------------------------|--------------------------------------------------------------|
//! | `list_accounts`                        | every account that does not appear in the report at all      |
//! | `list_regions` (no region)             | the account's regions, except `core::regions::ALWAYS_SCANNED` (us-east-1) and regions that have certificates in the report |
//! | `describe_certificate` with an ARN     | that certificate                                             |
//! | `dns`, `tls` (a network check)         | nothing: the certificate itself is in the report             |
//! | any other failure with a region        | that target (account, region)                                |
//! | any other failure without a region     | the whole account (e.g. `assume_role`)                       |
//!
//! An account "appears in the report" when it has a certificate or a failure in it; the
//! `list_accounts` failure itself names the account certwatch runs in, which is scanned anyway.

use certwatch_core::regions::ALWAYS_SCANNED;
use certwatch_core::{Report, Stage};
use std::collections::HashSet;

/// The failures of one report, indexed for [`Coverage::keeps`].
#[derive(Debug, Default)]
pub(crate) struct Coverage<'a> {
    /// The organization could not be listed: accounts not in `seen_accounts` were not scanned.
    org_unlisted: bool,
    /// Accounts with a certificate or a failure in the report.
    seen_accounts: HashSet<&'a str>,
    /// Targets with at least one certificate in the report.
    seen_targets: HashSet<(&'a str, &'a str)>,
    /// Accounts that could not be scanned at all.
    accounts: HashSet<&'a str>,
    /// Accounts whose region list failed (only [`ALWAYS_SCANNED`] was scanned).
    regions_unlisted: HashSet<&'a str>,
    /// Targets that could not be listed (completely or partly).
    targets: HashSet<(&'a str, &'a str)>,
    /// Certificates that could not be described.
    certificates: HashSet<&'a str>,
}

impl<'a> Coverage<'a> {
    pub(crate) fn of(report: &'a Report) -> Self {
        let mut coverage = Coverage::default();
        for record in &report.certificates {
            let facts = &record.facts;
            coverage.seen_accounts.insert(&facts.account_id);
            coverage
                .seen_targets
                .insert((&facts.account_id, &facts.region));
        }
        for failure in &report.failures {
            let account = failure.account_id.as_str();
            coverage.seen_accounts.insert(account);
            match (failure.stage, &failure.region, &failure.certificate_arn) {
                (Stage::ListAccounts, _, _) => coverage.org_unlisted = true,
                // A check that could not be made leaves its certificate in the report; an
                // account whose OU path or tags could not be learned was scanned all the same.
                (Stage::Dns | Stage::Tls | Stage::AccountMetadata, _, _) => {}
                (Stage::DescribeCertificate, _, Some(arn)) => {
                    coverage.certificates.insert(arn);
                }
                (Stage::ListRegions, None, _) => {
                    coverage.regions_unlisted.insert(account);
                }
                (_, Some(region), _) => {
                    coverage.targets.insert((account, region));
                }
                (_, None, _) => {
                    coverage.accounts.insert(account);
                }
            }
        }
        coverage
    }

    /// Whether a stored certificate that this report does not contain must be kept.
    pub(crate) fn keeps(&self, account: &str, region: &str, arn: &str) -> bool {
        (self.org_unlisted && !self.seen_accounts.contains(account))
            || self.accounts.contains(account)
            || (self.regions_unlisted.contains(account)
                && region != ALWAYS_SCANNED
                && !self.seen_targets.contains(&(account, region)))
            || self.targets.contains(&(account, region))
            || self.certificates.contains(arn)
    }
}

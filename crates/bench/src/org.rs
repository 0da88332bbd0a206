//! The generated organization the benches scan: its shape on the command line, and the
//! generator's spec from it.

use anyhow::{bail, Result};
use certwatch_sim::GeneratorSpec;

/// The organization's shape, besides its number of accounts (whose default each bench picks).
#[derive(clap::Args, Debug, Clone)]
pub struct OrgArgs {
    /// Regions scanned in every account (the first N of the 17 enabled by default).
    #[arg(long, default_value_t = 17)]
    pub regions: usize,
    /// Mean certificates in an occupied account-region.
    #[arg(long, default_value_t = 5)]
    pub certs_per_region: usize,
    /// Percent of account-regions that hold certificates.
    #[arg(long, default_value_t = 60)]
    pub occupied_percent: u8,
    /// Account-regions with `large_certs` certificates (paging, describe quota).
    #[arg(long, default_value_t = 3)]
    pub large_targets: usize,
    #[arg(long, default_value_t = 1200)]
    pub large_certs: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl OrgArgs {
    /// The spec of an organization of `accounts` accounts (the management account included),
    /// every member active: the first `regions` default-enabled regions, us-east-1 first (the
    /// scanner always scans it, so a smaller run keeps the count exact).
    pub fn spec(&self, accounts: usize) -> Result<GeneratorSpec> {
        let catalogue = certwatch_sim::region_catalogue::DEFAULT_ENABLED;
        if self.regions == 0 || self.regions > catalogue.len() {
            bail!("--regions must be 1..={}", catalogue.len());
        }
        let mut regions: Vec<String> = vec!["us-east-1".to_owned()];
        regions.extend(
            catalogue
                .iter()
                .filter(|r| **r != "us-east-1")
                .map(|r| (*r).to_owned()),
        );
        regions.truncate(self.regions);
        Ok(GeneratorSpec {
            members: accounts.saturating_sub(1),
            regions,
            certificates_per_region: self.certs_per_region,
            seed: self.seed,
            denied_percent: 0,
            suspended_percent: 0,
            occupied_percent: self.occupied_percent,
            large_targets: self.large_targets,
            large_target_certificates: self.large_certs,
        })
    }
}

//! What to scan: which accounts of the organization, and which regions in each.

use certwatch_core::regions::ALWAYS_SCANNED;
use serde::{Deserialize, Serialize};

/// An account as organizations:ListAccounts reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// `State` (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED), or the legacy `Status` when absent.
    pub state: String,
}

/// Which regions to scan in each account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionSelection {
    /// Exactly these ([`ALWAYS_SCANNED`] is added if missing).
    List(Vec<String>),
    /// Each account's enabled regions, discovered with account:ListRegions from inside the account.
    Enabled,
}

/// Account ids to keep. `include` empty means every account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Scan the account certwatch runs in (normally the management account).
    pub include_own_account: bool,
}

impl AccountFilter {
    /// Whether to scan `account`, listed by organizations:ListAccounts: ACTIVE accounts that
    /// pass the include/exclude lists. The account certwatch runs in (`own_id`) is kept or
    /// dropped by `include_own_account` alone (and scanned even if the organization could not
    /// be listed: see the scan).
    pub fn keeps(&self, account: &OrgAccount, own_id: &str) -> bool {
        if account.id == own_id {
            return self.keeps_own(own_id);
        }
        account.state == "ACTIVE"
            && (self.include.is_empty() || self.include.contains(&account.id))
            && !self.exclude.contains(&account.id)
    }

    /// Whether to scan the account certwatch runs in.
    pub fn keeps_own(&self, own_id: &str) -> bool {
        self.include_own_account && !self.exclude.iter().any(|id| id == own_id)
    }
}

/// The regions to scan: the given ones, de-duplicated, with [`ALWAYS_SCANNED`] (us-east-1) first.
pub fn with_required_region(regions: &[String]) -> Vec<String> {
    let mut out = vec![ALWAYS_SCANNED.to_owned()];
    for region in regions {
        if !out.contains(region) {
            out.push(region.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(id: &str, state: &str) -> OrgAccount {
        OrgAccount {
            id: id.into(),
            name: format!("name-{id}"),
            state: state.into(),
        }
    }

    fn select(listed: &[OrgAccount], filter: &AccountFilter, own: &str) -> Vec<String> {
        listed
            .iter()
            .filter(|a| filter.keeps(a, own))
            .map(|a| a.id.clone())
            .collect()
    }

    #[test]
    fn keeps_active_accounts_and_honours_filters() {
        let own = "111111111111";
        let listed = vec![
            acct(own, "ACTIVE"),
            acct("222222222222", "ACTIVE"),
            acct("333333333333", "SUSPENDED"),
            acct("444444444444", "PENDING_CLOSURE"),
            acct("555555555555", "ACTIVE"),
        ];
        let all = AccountFilter {
            include_own_account: true,
            ..AccountFilter::default()
        };
        assert_eq!(
            select(&listed, &all, own),
            [own, "222222222222", "555555555555"]
        );
        let some = AccountFilter {
            include: vec!["222222222222".into(), "333333333333".into()],
            exclude: vec![],
            include_own_account: false,
        };
        assert_eq!(select(&listed, &some, own), ["222222222222"]);
        assert!(!some.keeps_own(own));
        let excluded = AccountFilter {
            exclude: vec!["111111111111".into(), "555555555555".into()],
            include_own_account: true,
            ..AccountFilter::default()
        };
        assert_eq!(select(&listed, &excluded, own), ["222222222222"]);
        assert!(!excluded.keeps_own(own));
    }

    #[test]
    fn own_account_is_kept_by_its_own_switch_alone() {
        let own = "111111111111";
        let only = AccountFilter {
            include: vec!["222222222222".into()],
            exclude: vec![],
            include_own_account: true,
        };
        assert!(only.keeps_own(own), "include lists member accounts");
        assert!(only.keeps(&acct(own, "ACTIVE"), own));
    }

    #[test]
    fn us_east_1_always_first_and_once() {
        assert_eq!(
            with_required_region(&["eu-west-1".into(), "us-east-1".into(), "eu-west-1".into()]),
            ["us-east-1", "eu-west-1"]
        );
        // Also when the account's regions could not be listed: core's rule, which the store's
        // merge relies on.
        assert_eq!(with_required_region(&[]), [ALWAYS_SCANNED]);
        assert_eq!(ALWAYS_SCANNED, "us-east-1");
    }
}

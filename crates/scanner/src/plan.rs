//! What to scan: which accounts of the organization, and which regions in each.

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
    /// Exactly these (us-east-1 is added if missing).
    List(Vec<String>),
    /// Each account's enabled regions, discovered with account:ListRegions from inside the account.
    Enabled,
}

/// CloudFront's certificates live in us-east-1, so it is scanned whatever the configuration says.
pub const ALWAYS_SCANNED_REGION: &str = "us-east-1";

/// Account ids to keep. `include` empty means every account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Scan the account certwatch runs in (normally the management account).
    pub include_own_account: bool,
}

/// The accounts to scan, in organization order: ACTIVE ones that pass the filter. The account
/// certwatch runs in is kept (or dropped) by `include_own_account` alone, and added if the
/// organization could not be listed.
pub fn select_accounts(
    listed: Vec<OrgAccount>,
    filter: &AccountFilter,
    own: &OrgAccount,
) -> Vec<OrgAccount> {
    let mut out: Vec<OrgAccount> = listed
        .into_iter()
        .filter(|a| a.state == "ACTIVE")
        .filter(|a| a.id != own.id)
        .filter(|a| filter.include.is_empty() || filter.include.contains(&a.id))
        .filter(|a| !filter.exclude.contains(&a.id))
        .collect();
    if filter.include_own_account && !filter.exclude.contains(&own.id) {
        out.insert(0, own.clone());
    }
    out
}

/// The regions to scan: the given ones, de-duplicated, with us-east-1 first.
pub fn with_required_region(regions: &[String]) -> Vec<String> {
    let mut out = vec![ALWAYS_SCANNED_REGION.to_owned()];
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

    #[test]
    fn keeps_active_accounts_and_honours_filters() {
        let own = acct("111111111111", "ACTIVE");
        let listed = vec![
            own.clone(),
            acct("222222222222", "ACTIVE"),
            acct("333333333333", "SUSPENDED"),
            acct("444444444444", "PENDING_CLOSURE"),
            acct("555555555555", "ACTIVE"),
        ];
        let all = AccountFilter {
            include_own_account: true,
            ..AccountFilter::default()
        };
        let ids = |v: Vec<OrgAccount>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
        assert_eq!(
            ids(select_accounts(listed.clone(), &all, &own)),
            ["111111111111", "222222222222", "555555555555"]
        );
        let some = AccountFilter {
            include: vec!["222222222222".into(), "333333333333".into()],
            exclude: vec![],
            include_own_account: false,
        };
        assert_eq!(
            ids(select_accounts(listed.clone(), &some, &own)),
            ["222222222222"]
        );
        let excluded = AccountFilter {
            exclude: vec!["111111111111".into(), "555555555555".into()],
            include_own_account: true,
            ..AccountFilter::default()
        };
        assert_eq!(
            ids(select_accounts(listed, &excluded, &own)),
            ["222222222222"]
        );
    }

    #[test]
    fn own_account_is_scanned_even_when_the_org_cannot_be_listed() {
        let own = acct("111111111111", "ACTIVE");
        let all = AccountFilter {
            include_own_account: true,
            ..AccountFilter::default()
        };
        assert_eq!(select_accounts(vec![], &all, &own), vec![own]);
    }

    #[test]
    fn us_east_1_always_first_and_once() {
        assert_eq!(
            with_required_region(&["eu-west-1".into(), "us-east-1".into(), "eu-west-1".into()]),
            ["us-east-1", "eu-west-1"]
        );
    }
}

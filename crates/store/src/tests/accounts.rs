//! The accounts the scans described: what a scan did not learn is kept from an earlier one, an
//! account that left the organization goes, and a store of schema 3 gains the table and keeps
//! its digests, now per channel.

use super::*;
use certwatch_core::{Account, OrgUnit};

fn described(id: &str, ou: Option<&str>, team: Option<&str>) -> Account {
    Account {
        learned_at: Some(day(0)),
        ou_path: ou.map(|name| {
            vec![
                OrgUnit {
                    id: "r-ab12".to_owned(),
                    name: "Root".to_owned(),
                },
                OrgUnit {
                    id: format!("ou-ab12-{:0>8}", name.to_lowercase()),
                    name: name.to_owned(),
                },
            ]
        }),
        tags: team.map(|t| [("team".to_owned(), t.to_owned())].into()),
        ..Account::new(id, format!("acct-{id}"))
    }
}

fn with_accounts(mut report: Report, accounts: Vec<Account>) -> Report {
    report.accounts = accounts;
    report
}

#[test]
fn accounts_round_trip_and_keep_what_a_later_scan_did_not_learn() {
    let mut store = store();
    let first = with_accounts(
        report(day(0), vec![cert(A, EU, "x", day(0))], vec![]),
        vec![
            described(A, Some("payments"), Some("pay")),
            described(B, Some("web"), Some("web")),
        ],
    );
    let inventory = store.record_scan(&first).expect("record");
    assert_eq!(inventory.report.accounts, first.accounts);

    // The second scan's lookups for A failed (nothing learned) and B moved OU.
    let second = with_accounts(
        report(day(1), vec![cert(A, EU, "x", day(1))], vec![]),
        vec![
            Account::new(A, "acct-A renamed"),
            described(B, Some("shop"), Some("web")),
        ],
    );
    let inventory = store.record_scan(&second).expect("record");
    let a = &inventory.report.accounts[0];
    assert_eq!(a.name, "acct-A renamed", "the name is the latest scan's");
    assert_eq!(
        a.ou_path, first.accounts[0].ou_path,
        "kept from the first scan"
    );
    assert_eq!(a.tags, first.accounts[0].tags);
    assert_eq!(inventory.report.accounts[1], second.accounts[1]);
}

#[test]
fn an_account_that_left_goes_unless_the_organization_could_not_be_listed() {
    let mut store = store();
    let both = vec![
        described(A, Some("payments"), None),
        described(B, Some("web"), None),
    ];
    store
        .record_scan(&with_accounts(report(day(0), vec![], vec![]), both.clone()))
        .expect("record");
    // ListAccounts failed: the scan covered only its own account; B is kept.
    let unlisted = with_accounts(
        report(
            day(1),
            vec![],
            vec![fail(OWN, None, Stage::ListAccounts, None)],
        ),
        vec![described(A, Some("payments"), None)],
    );
    let inventory = store.record_scan(&unlisted).expect("record");
    assert_eq!(inventory.report.accounts, both);
    // Listed without B: B left.
    let listed = with_accounts(
        report(day(2), vec![], vec![]),
        vec![described(A, Some("payments"), None)],
    );
    let inventory = store.record_scan(&listed).expect("record");
    assert_eq!(inventory.report.accounts, vec![both[0].clone()]);
    // A report without account descriptions says nothing about them.
    let inventory = store
        .record_scan(&report(day(3), vec![], vec![]))
        .expect("record");
    assert_eq!(inventory.report.accounts, vec![both[0].clone()]);
}

/// A failed OU or tag lookup is not a failed account: its certificates deleted in AWS go.
#[test]
fn a_failed_metadata_lookup_keeps_nothing_stale() {
    let mut store = store();
    store
        .record_scan(&report(day(0), vec![cert(A, EU, "x", day(0))], vec![]))
        .expect("record");
    let failed_lookup = Failure {
        region: None,
        ..fail(A, None, Stage::AccountMetadata, None)
    };
    let inventory = store
        .record_scan(&report(day(1), vec![], vec![failed_lookup]))
        .expect("record");
    assert!(inventory.report.certificates.is_empty(), "x was deleted");
    assert!(inventory.stale.is_empty());
    assert_eq!(inventory.failed_targets(), 0, "no target failed");
}

//! Each account's OU path and tags (`ScanConfig::account_metadata`), learned by the real
//! scanner in process from the simulator's Organizations: exact paths and tags, each OU looked
//! up once per scan, nothing called unless asked, and a failed lookup that is a failure row
//! while the account is scanned as usual.

use crate::support::sim::{organization_with_units, organizations_calls, scan, scan_config, start};
use certwatch_core::{Account, OrgUnit, Report, Stage};
use certwatch_scanner::{AccountMetadata, ScanConfig};
use certwatch_sim::{Behaviour, Fault, FaultKind};
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const CARDS_PROD: &str = "222222222222";
const PLATFORM: &str = "ou-ab12-platform";

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// Both kinds of metadata, and an Organizations rate that keeps the test short (the simulator
/// has no quota here).
fn with_metadata() -> ScanConfig {
    let mut config = scan_config(&REGIONS, Duration::from_secs(5));
    config.account_metadata = AccountMetadata {
        ou_path: true,
        tags: true,
    };
    config.rates.organizations = 200.0;
    config
}

fn path(units: &[(&str, &str)]) -> Option<Vec<OrgUnit>> {
    Some(
        units
            .iter()
            .map(|(id, name)| OrgUnit {
                id: (*id).to_owned(),
                name: (*name).to_owned(),
            })
            .collect(),
    )
}

fn tags(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

/// `accounts` as learned by a scan at `at` (what it was asked for, complete).
fn learned_at(accounts: Vec<Account>, at: DateTime<Utc>) -> Vec<Account> {
    accounts
        .into_iter()
        .map(|a| Account {
            learned_at: Some(at),
            ..a
        })
        .collect()
}

/// The accounts of [`organization_with_units`] as a scan that learned everything sees them.
fn expected_accounts() -> Vec<Account> {
    let root = ("r-ab12", "Root");
    let payments = ("ou-ab12-payments", "Payments");
    let cards = ("ou-ab12-cards000", "Cards");
    let platform = (PLATFORM, "Platform");
    let mut core = vec![("team", "payments")];
    let numbered: Vec<(String, String)> = (1..=11)
        .map(|i| (format!("k{i:02}"), format!("v{i}")))
        .collect();
    core.extend(numbered.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let account = |id: &str, name: &str, units: &[(&str, &str)], t: &[(&str, &str)]| Account {
        ou_path: path(units),
        tags: tags(t),
        ..Account::new(id, name)
    };
    vec![
        account(
            "111111111111",
            "management",
            &[root],
            &[("team", "platform")],
        ),
        account(
            CARDS_PROD,
            "cards-prod",
            &[root, payments, cards],
            &[("team", "cards"), ("env", "prod")],
        ),
        account(
            "333333333333",
            "cards-dev",
            &[root, payments, cards],
            &[("team", "cards"), ("env", "dev")],
        ),
        account("444444444444", "payments-core", &[root, payments], &core),
        account("555555555555", "networking", &[root, platform], &[]),
        account(
            "666666666666",
            "shared-services",
            &[root, platform],
            &[("team", "platform")],
        ),
    ]
}

fn scanned_domains(report: &Report) -> BTreeSet<&str> {
    report
        .certificates
        .iter()
        .filter_map(|r| r.facts.domain_name.as_deref())
        .collect()
}

const EVERY_DOMAIN: [&str; 6] = [
    "cards-dev.example.com",
    "cards-prod.example.com",
    "management.example.com",
    "networking.example.com",
    "payments-core.example.com",
    "shared-services.example.com",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_carry_their_ou_path_and_tags_and_each_ou_is_looked_up_once() {
    let now = now();
    let server = start(organization_with_units(), now, Behaviour::default()).await;
    let report = scan(&server, &with_metadata(), now).await;
    server.shutdown().await;

    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.accounts, learned_at(expected_accounts(), now));
    assert_eq!(report.stats.accounts, report.accounts.len() as u64);
    assert_eq!(
        report.accounts[1].ou_path_string().as_deref(),
        Some("Root/Payments/Cards")
    );
    assert_eq!(
        scanned_domains(&report),
        BTreeSet::from(EVERY_DOMAIN),
        "every account's certificates, the suspended one's aside"
    );
    // One ListParents per account (6) and per OU (Cards, Payments, Platform); one
    // DescribeOrganizationalUnit per OU however many accounts sit below it; one
    // ListTagsForResource per account, two for the one with 12 tags (10 a page).
    assert_eq!(
        organizations_calls(&report),
        BTreeMap::from([
            ("organizations:DescribeOrganizationalUnit", 3),
            ("organizations:ListAccounts", 1),
            ("organizations:ListParents", 9),
            ("organizations:ListTagsForResource", 7),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_what_is_asked_for_is_looked_up() {
    let now = now();
    let server = start(organization_with_units(), now, Behaviour::default()).await;
    let off = scan(&server, &scan_config(&REGIONS, Duration::from_secs(5)), now).await;
    let mut tags_only = with_metadata();
    tags_only.account_metadata.ou_path = false;
    let tagged = scan(&server, &tags_only, now).await;
    server.shutdown().await;

    // Off (the default): no Organizations call beyond ListAccounts, every account still listed.
    assert_eq!(
        organizations_calls(&off),
        BTreeMap::from([("organizations:ListAccounts", 1)])
    );
    let bare: Vec<Account> = expected_accounts()
        .into_iter()
        .map(|a| Account::new(a.id, a.name))
        .collect();
    assert_eq!(off.accounts, bare);
    assert_eq!(scanned_domains(&off), BTreeSet::from(EVERY_DOMAIN));

    assert_eq!(
        organizations_calls(&tagged),
        BTreeMap::from([
            ("organizations:ListAccounts", 1),
            ("organizations:ListTagsForResource", 7),
        ])
    );
    let expected: Vec<Account> = learned_at(expected_accounts(), now)
        .into_iter()
        .map(|a| Account { ou_path: None, ..a })
        .collect();
    assert_eq!(tagged.accounts, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_lookup_is_a_failure_row_and_the_account_is_still_scanned() {
    // Every ListParents of cards-prod fails with HTTP 500, and so does every
    // DescribeOrganizationalUnit of Platform (two accounts sit in it).
    let fault = |operation: &str, subject: &str| Fault {
        operations: Some(vec![operation.to_owned()]),
        ..Fault::at(FaultKind::ServerError, subject, None)
    };
    let behaviour = Behaviour {
        faults: vec![
            fault("ListParents", CARDS_PROD),
            fault("DescribeOrganizationalUnit", PLATFORM),
        ],
        ..Behaviour::default()
    };
    let now = now();
    let server = start(organization_with_units(), now, behaviour).await;
    let report = scan(&server, &with_metadata(), now).await;
    server.shutdown().await;

    let failures: Vec<(&str, Option<&str>, Stage)> = report
        .failures
        .iter()
        .map(|f| (f.account_id.as_str(), f.region.as_deref(), f.stage))
        .collect();
    assert_eq!(
        failures,
        [
            (CARDS_PROD, None, Stage::AccountMetadata),
            ("555555555555", None, Stage::AccountMetadata),
            ("666666666666", None, Stage::AccountMetadata),
        ]
    );
    let errors: Vec<&str> = report.failures.iter().map(|f| f.error.as_str()).collect();
    assert!(
        errors[0].starts_with(&format!(
            "organizations:ListParents {CARDS_PROD}: InternalFailure"
        )),
        "{errors:?}"
    );
    for error in &errors[1..] {
        assert!(
            error.starts_with(&format!(
                "organizations:DescribeOrganizationalUnit {PLATFORM}: InternalFailure"
            )),
            "{errors:?}"
        );
    }
    assert_eq!(report.failures[0].account_name, "cards-prod");

    // What failed stays unknown (and undated: the next scan asks again); everything else is
    // learned, and every account is scanned.
    let mut expected = learned_at(expected_accounts(), now);
    for account in &mut expected {
        if [CARDS_PROD, "555555555555", "666666666666"].contains(&account.id.as_str()) {
            account.ou_path = None;
            account.learned_at = None;
        }
    }
    assert_eq!(report.accounts, expected);
    assert_eq!(scanned_domains(&report), BTreeSet::from(EVERY_DOMAIN));

    // Platform's failed name is looked up once for both accounts below it: one lookup, sent
    // three times by the SDK (aws::SDK_MAX_ATTEMPTS); cards-prod's ListParents likewise.
    let calls = organizations_calls(&report);
    assert_eq!(calls["organizations:DescribeOrganizationalUnit"], 2 + 3);
    assert_eq!(calls["organizations:ListParents"], (9 - 1) + 3);
}

/// A rescan given the accounts of an earlier one asks Organizations nothing about those learned
/// within `relearn_accounts_after`, asks again once they are older, and always asks about an
/// account it has not learned (here: one whose earlier lookup failed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rescan_reuses_what_it_learned_until_it_is_a_day_old() {
    let now = now();
    let server = start(organization_with_units(), now, Behaviour::default()).await;
    let config = with_metadata();
    let first = scan(&server, &config, now).await;
    assert_eq!(first.accounts, learned_at(expected_accounts(), now));

    let rescan = |at: DateTime<Utc>, accounts: Vec<Account>| {
        let (server, config) = (&server, &config);
        async move {
            let base = crate::support::sim::sdk_config(server).await;
            let previous = certwatch_scanner::Previous::default().with_accounts(&accounts);
            certwatch_scanner::scan_after(
                &base,
                config,
                at,
                &certwatch_scanner::NoProgress,
                std::sync::Arc::new(previous),
            )
            .await
            .expect("the rescan runs")
        }
    };
    // An hour later: everything reused, nothing asked.
    let later = now + chrono::Duration::hours(1);
    let reused = rescan(later, first.accounts.clone()).await;
    assert_eq!(
        organizations_calls(&reused),
        BTreeMap::from([("organizations:ListAccounts", 1)])
    );
    assert_eq!(reused.accounts, first.accounts, "dated when first learned");

    // One account's earlier lookup failed (unknown, undated): only it is asked about.
    let mut partly = first.accounts.clone();
    partly[0].ou_path = None;
    partly[0].learned_at = None;
    let one = rescan(later, partly).await;
    assert_eq!(
        organizations_calls(&one),
        BTreeMap::from([
            ("organizations:ListAccounts", 1),
            ("organizations:ListParents", 1),
            ("organizations:ListTagsForResource", 1),
        ])
    );
    assert_eq!(one.accounts[0], learned_at(expected_accounts(), later)[0]);
    assert_eq!(one.accounts[1..], first.accounts[1..]);

    // A day after they were learned: asked again, and dated anew.
    let next_day = now + chrono::Duration::hours(24);
    let relearned = rescan(next_day, first.accounts.clone()).await;
    assert_eq!(organizations_calls(&relearned), organizations_calls(&first));
    assert_eq!(
        relearned.accounts,
        learned_at(expected_accounts(), next_day)
    );
    server.shutdown().await;
}

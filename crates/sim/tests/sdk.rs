//! The simulator driven by the real AWS SDK clients: every wire shape the scanner
//! relies on is checked by the SDK's own (de)serialisers here.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_acm::error::ProvideErrorMetadata;
use aws_sdk_acm::types::{
    AcmCertificateMetadata, CertificateFilter, CertificateFilterStatement,
    CertificateKeyPairOrigin, CertificateSearchResult, CertificateStatus, CertificateType,
    DomainStatus, FailureReason, Filters, KeyAlgorithm, RenewalEligibility, RenewalStatus,
    SearchCertificatesSortBy, SearchCertificatesSortOrder, ValidationMethod,
};
use aws_sdk_organizations::types::{AccountState, AccountStatus};
use certwatch_sim::{
    serve, serve_with, AccountSpec, Behaviour, CertificateSpec, Fault, FaultKind, GeneratorSpec,
    OrganizationSpec, Quotas, Scenario, SimServer, GENERATED_MANAGEMENT,
};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeSet;

const MANAGEMENT: &str = "210987654321";
const NETWORKING: &str = "345678901234";
const PAYMENTS: &str = "456789012345";
const MARKETING: &str = "567890123456";
const STAGING: &str = "678901234567";
const SANDBOX: &str = "789012345678";
const ROLE: &str = "certwatch-read-only";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
        .single()
        .expect("valid date")
}

async fn start(scenario: Scenario) -> SimServer {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    serve(scenario, now()).await.expect("simulator starts")
}

async fn config(server: &SimServer, region: &str, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .endpoint_url(server.endpoint())
        // Errors are asserted, not retried.
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

fn ambient() -> Credentials {
    Credentials::new("sim", "sim", None, None, "test")
}

async fn ambient_config(server: &SimServer, region: &str) -> SdkConfig {
    config(server, region, ambient()).await
}

/// Assumes `role` in `account` with the ambient credentials and returns a config
/// acting in that account in `region`. STS is called in us-east-1: the management
/// account has not enabled the demo's opt-in region, so STS there rejects it.
async fn assumed(server: &SimServer, account: &str, region: &str) -> SdkConfig {
    let sts = aws_sdk_sts::Client::new(&ambient_config(server, "us-east-1").await);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{ROLE}"))
        .role_session_name("certwatch")
        .send()
        .await
        .expect("assume role");
    let c = out.credentials().expect("credentials");
    let credentials = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    );
    config(server, region, credentials).await
}

fn all_key_types() -> Filters {
    Filters::builder()
        .set_key_types(Some(
            KeyAlgorithm::values()
                .iter()
                .map(|v| KeyAlgorithm::from(*v))
                .collect(),
        ))
        .build()
}

async fn list_domains(acm: &aws_sdk_acm::Client, includes: Option<Filters>) -> Vec<String> {
    let items: Vec<_> = acm
        .list_certificates()
        .set_includes(includes)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("list certificates");
    items
        .iter()
        .map(|s| s.domain_name().unwrap_or_default().to_owned())
        .collect()
}

async fn arn_of(acm: &aws_sdk_acm::Client, domain: &str) -> String {
    let out = acm
        .list_certificates()
        .includes(all_key_types())
        .send()
        .await
        .expect("list certificates");
    out.certificate_summary_list()
        .iter()
        .find(|s| s.domain_name() == Some(domain))
        .and_then(|s| s.certificate_arn())
        .unwrap_or_else(|| panic!("{domain} is listed"))
        .to_owned()
}

fn many_accounts(n: usize) -> Scenario {
    let mut text = format!(
        "[organization]\nmanagement_account_id = \"{MANAGEMENT}\"\nregions = [\"us-east-1\"]\n"
    );
    for i in 0..n {
        let state = if i % 7 == 3 { "CLOSED" } else { "ACTIVE" };
        let id = if i == 0 {
            MANAGEMENT.to_owned()
        } else {
            format!("{:012}", 100_000_000_000u64 + i as u64)
        };
        text.push_str(&format!(
            "[[accounts]]\nid = \"{id}\"\nname = \"acct-{i}\"\nstate = \"{state}\"\n"
        ));
    }
    Scenario::from_toml(&text).expect("generated scenario")
}

#[tokio::test]
async fn list_accounts_pages_at_twenty_with_state() {
    let server = start(many_accounts(45)).await;
    let org = aws_sdk_organizations::Client::new(&ambient_config(&server, "us-east-1").await);

    let mut pages = org.list_accounts().max_results(20).into_paginator().send();
    let mut accounts = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.next().await {
        let page = page.expect("page");
        assert!(page.accounts().len() <= 20);
        page_count += 1;
        accounts.extend(page.accounts().to_vec());
    }
    assert_eq!(page_count, 3);
    assert_eq!(accounts.len(), 45);
    let ids: BTreeSet<_> = accounts
        .iter()
        .map(|a| a.id().unwrap_or_default())
        .collect();
    assert_eq!(ids.len(), 45, "every account exactly once");
    let closed = accounts
        .iter()
        .find(|a| a.name() == Some("acct-3"))
        .expect("acct-3");
    assert_eq!(closed.state(), Some(&AccountState::Closed));
    assert_eq!(closed.status(), Some(&AccountStatus::Suspended));
    let first = &accounts[0];
    assert_eq!(first.id(), Some(MANAGEMENT));
    assert_eq!(first.state(), Some(&AccountState::Active));
    assert!(first
        .arn()
        .unwrap_or_default()
        .starts_with("arn:aws:organizations::"));
    assert!(first.joined_timestamp().is_some());
    assert!(first.email().unwrap_or_default().contains('@'));

    let err = org
        .list_accounts()
        .max_results(21)
        .send()
        .await
        .expect_err("MaxResults above 20");
    assert_eq!(err.code(), Some("InvalidInputException"));
    server.shutdown().await;
}

#[tokio::test]
async fn generated_organizations_serve() {
    let spec = GeneratorSpec {
        members: 30,
        certificates_per_region: 4,
        ..GeneratorSpec::default()
    };
    let server = start(Scenario::generate(&spec)).await;
    let org = aws_sdk_organizations::Client::new(&ambient_config(&server, "us-east-1").await);
    let mut pages = org.list_accounts().into_paginator().send();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        ids.extend(
            page.expect("page")
                .accounts()
                .iter()
                .filter_map(|a| a.id().map(str::to_owned)),
        );
    }
    assert_eq!(ids.len(), 31);
    assert_eq!(ids[0], GENERATED_MANAGEMENT);
    // Any member that is onboarded (not deny_assume_role) and ACTIVE.
    let scenario = Scenario::generate(&spec);
    let member = scenario
        .accounts
        .iter()
        .skip(1)
        .find(|a| !a.deny_assume_role && a.state.is_none())
        .map(|a| a.id.as_str())
        .expect("an onboarded member");
    let acm = aws_sdk_acm::Client::new(&assumed(&server, member, "eu-west-1").await);
    assert_eq!(list_domains(&acm, Some(all_key_types())).await.len(), 4);
    server.shutdown().await;
}

#[tokio::test]
async fn organization_calls_need_the_management_account() {
    let server = start(Scenario::demo()).await;
    let org = aws_sdk_organizations::Client::new(&ambient_config(&server, "us-east-1").await);
    let out = org.describe_organization().send().await.expect("describe");
    let o = out.organization().expect("organization");
    assert_eq!(o.master_account_id(), Some(MANAGEMENT));
    assert_eq!(o.id(), Some("o-exmplcorp42"));

    let accounts = org.list_accounts().send().await.expect("list");
    let suspended = accounts
        .accounts()
        .iter()
        .find(|a| a.name() == Some("legacy-intranet"))
        .expect("legacy-intranet");
    assert_eq!(suspended.state(), Some(&AccountState::Suspended));

    let member = aws_sdk_organizations::Client::new(&assumed(&server, PAYMENTS, "us-east-1").await);
    let err = member.list_accounts().send().await.expect_err("member");
    assert_eq!(err.code(), Some("AccessDeniedException"));
    server.shutdown().await;

    let standalone = Scenario::from_toml(&format!(
        "[organization]\nmanagement_account_id = \"{MANAGEMENT}\"\nenabled = false\n[[accounts]]\nid = \"{MANAGEMENT}\"\nname = \"solo\"\n"
    ))
    .expect("standalone scenario");
    let server = start(standalone).await;
    let org = aws_sdk_organizations::Client::new(&ambient_config(&server, "us-east-1").await);
    let err = org
        .list_accounts()
        .send()
        .await
        .expect_err("no organization");
    assert_eq!(err.code(), Some("AWSOrganizationsNotInUseException"));
    server.shutdown().await;
}

#[tokio::test]
async fn caller_identity_follows_the_credentials() {
    let server = start(Scenario::demo()).await;
    let sts = aws_sdk_sts::Client::new(&ambient_config(&server, "eu-west-1").await);
    let me = sts.get_caller_identity().send().await.expect("identity");
    assert_eq!(me.account(), Some(MANAGEMENT));
    assert!(me
        .arn()
        .unwrap_or_default()
        .starts_with("arn:aws:iam::210987654321:"));
    assert!(me.user_id().is_some());

    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{PAYMENTS}:role/{ROLE}"))
        .role_session_name("certwatch-scan")
        .send()
        .await
        .expect("assume role");
    let c = out.credentials().expect("credentials");
    assert!(c.access_key_id().starts_with("ASIA"));
    let lifetime = c.expiration().secs() - Utc::now().timestamp();
    assert!(
        (3500..=3700).contains(&lifetime),
        "default 1 h, got {lifetime} s"
    );
    let user = out.assumed_role_user().expect("assumed role user");
    assert_eq!(
        user.arn(),
        format!("arn:aws:sts::{PAYMENTS}:assumed-role/{ROLE}/certwatch-scan")
    );

    let session = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    );
    let member = aws_sdk_sts::Client::new(&config(&server, "eu-west-1", session).await);
    let me = member.get_caller_identity().send().await.expect("identity");
    assert_eq!(me.account(), Some(PAYMENTS));
    assert_eq!(me.arn(), Some(user.arn()));

    // An issued key without its session token is not a valid credential.
    let tokenless = Credentials::new(c.access_key_id(), c.secret_access_key(), None, None, "bad");
    let broken = aws_sdk_sts::Client::new(&config(&server, "eu-west-1", tokenless).await);
    let err = broken
        .get_caller_identity()
        .send()
        .await
        .expect_err("no token");
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    server.shutdown().await;
}

#[tokio::test]
async fn assume_role_is_denied_like_aws() {
    let scenario = Scenario::from_toml(&format!(
        r#"
[organization]
management_account_id = "{MANAGEMENT}"
regions = ["us-east-1"]
[[accounts]]
id = "{MANAGEMENT}"
name = "management"
[[accounts]]
id = "{PAYMENTS}"
name = "payments"
external_id = "secret-ext"
[[accounts]]
id = "{STAGING}"
name = "staging"
deny_assume_role = true
[[accounts]]
id = "{SANDBOX}"
name = "sandbox"
roles = ["OnlyThisRole"]
"#
    ))
    .expect("scenario");
    let server = start(scenario).await;
    let sts = aws_sdk_sts::Client::new(&ambient_config(&server, "us-east-1").await);
    let assume = |account: &str, role: &str, external_id: Option<&str>, duration: Option<i32>| {
        sts.assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/{role}"))
            .role_session_name("certwatch")
            .set_external_id(external_id.map(str::to_owned))
            .set_duration_seconds(duration)
            .send()
    };

    for (account, role, external_id, why) in [
        (STAGING, ROLE, None, "deny_assume_role"),
        (SANDBOX, ROLE, None, "role not in the account"),
        ("999988887777", ROLE, None, "unknown account"),
        (PAYMENTS, ROLE, None, "missing external id"),
        (PAYMENTS, ROLE, Some("wrong"), "wrong external id"),
    ] {
        let err = assume(account, role, external_id, None)
            .await
            .expect_err(why);
        assert_eq!(err.code(), Some("AccessDenied"), "{why}");
        let raw = err.raw_response().expect("raw response");
        assert_eq!(raw.status().as_u16(), 403, "{why}");
    }
    assume(PAYMENTS, ROLE, Some("secret-ext"), None)
        .await
        .expect("right external id");
    assume(SANDBOX, "OnlyThisRole", None, None)
        .await
        .expect("custom role");

    let err = assume(SANDBOX, "OnlyThisRole", None, Some(7200))
        .await
        .expect_err("longer than MaxSessionDuration");
    assert_eq!(err.code(), Some("ValidationError"));
    server.shutdown().await;
}

#[tokio::test]
async fn list_regions_shows_opt_in_status() {
    let server = start(Scenario::demo()).await;
    let statuses = |config: SdkConfig| async move {
        let account = aws_sdk_account::Client::new(&config);
        let regions: Vec<_> = account
            .list_regions()
            .max_results(2)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("list regions");
        regions
            .iter()
            .map(|r| {
                (
                    r.region_name().unwrap_or_default().to_owned(),
                    r.region_opt_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>()
    };
    let payments = statuses(assumed(&server, PAYMENTS, "us-east-1").await).await;
    assert_eq!(
        payments,
        vec![
            ("ap-northeast-1".to_owned(), "ENABLED_BY_DEFAULT".to_owned()),
            ("eu-south-1".to_owned(), "ENABLED".to_owned()),
            ("eu-west-1".to_owned(), "ENABLED_BY_DEFAULT".to_owned()),
            ("us-east-1".to_owned(), "ENABLED_BY_DEFAULT".to_owned()),
        ]
    );
    let sandbox = statuses(assumed(&server, SANDBOX, "us-east-1").await).await;
    assert!(sandbox.contains(&("eu-south-1".to_owned(), "DISABLED".to_owned())));

    // The management account can look into a member, and filter.
    let account = aws_sdk_account::Client::new(&ambient_config(&server, "us-east-1").await);
    let out = account
        .list_regions()
        .account_id(SANDBOX)
        .region_opt_status_contains(aws_sdk_account::types::RegionOptStatus::Disabled)
        .send()
        .await
        .expect("list regions for a member");
    let names: Vec<_> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name())
        .collect();
    assert_eq!(names, vec!["eu-south-1"]);

    let member = aws_sdk_account::Client::new(&assumed(&server, SANDBOX, "us-east-1").await);
    let err = member
        .list_regions()
        .account_id(PAYMENTS)
        .send()
        .await
        .expect_err("a member cannot look into another");
    assert_eq!(err.code(), Some("AccessDeniedException"));
    server.shutdown().await;
}

#[tokio::test]
async fn disabled_region_rejects_the_credentials() {
    let server = start(Scenario::demo()).await;
    let acm = aws_sdk_acm::Client::new(&assumed(&server, SANDBOX, "eu-south-1").await);
    let err = acm
        .list_certificates()
        .send()
        .await
        .expect_err("disabled region");
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
    assert_eq!(
        err.message(),
        Some("The security token included in the request is invalid.")
    );

    // Regional STS in an opt-in region the management account has not enabled
    // rejects the management account's own credentials too.
    let sts = aws_sdk_sts::Client::new(&ambient_config(&server, "eu-south-1").await);
    let err = sts
        .get_caller_identity()
        .send()
        .await
        .expect_err("disabled for management");
    assert_eq!(err.code(), Some("InvalidClientTokenId"));

    // The same call where the region is enabled works.
    let acm = aws_sdk_acm::Client::new(&assumed(&server, PAYMENTS, "eu-south-1").await);
    let domains = list_domains(&acm, Some(all_key_types())).await;
    assert_eq!(domains, vec!["pay.example.it", "pay.eu.example.com"]);
    server.shutdown().await;
}

#[tokio::test]
async fn accounts_see_only_their_own_certificates() {
    let server = start(Scenario::demo()).await;
    let payments = aws_sdk_acm::Client::new(&assumed(&server, PAYMENTS, "us-east-1").await);
    let marketing = aws_sdk_acm::Client::new(&assumed(&server, MARKETING, "us-east-1").await);
    let management = aws_sdk_acm::Client::new(&ambient_config(&server, "us-east-1").await);

    let p = list_domains(&payments, Some(all_key_types())).await;
    let m = list_domains(&marketing, Some(all_key_types())).await;
    let g = list_domains(&management, Some(all_key_types())).await;
    assert!(p.contains(&"billing.example.com".to_owned()), "{p:?}");
    assert!(m.contains(&"promo.example.net".to_owned()), "{m:?}");
    assert!(g.contains(&"api.example.com".to_owned()), "{g:?}");
    assert!(p.iter().all(|d| !m.contains(d) && !g.contains(d)));

    // Another account's ARN, or the caller's own ARN asked in another region, is
    // not found.
    let foreign = arn_of(&marketing, "promo.example.net").await;
    let err = payments
        .describe_certificate()
        .certificate_arn(&foreign)
        .send()
        .await
        .expect_err("cross-account");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let own = arn_of(&payments, "billing.example.com").await;
    let payments_eu = aws_sdk_acm::Client::new(&assumed(&server, PAYMENTS, "eu-west-1").await);
    let err = payments_eu
        .describe_certificate()
        .certificate_arn(&own)
        .send()
        .await
        .expect_err("cross-region");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let err = payments
        .describe_certificate()
        .certificate_arn("not-an-arn")
        .send()
        .await
        .expect_err("bad arn");
    assert_eq!(err.code(), Some("InvalidArnException"));
    server.shutdown().await;
}

#[tokio::test]
async fn default_listing_hides_non_rsa_2048_keys() {
    let server = start(Scenario::demo()).await;
    let acm = aws_sdk_acm::Client::new(&assumed(&server, MARKETING, "eu-west-1").await);
    let default = list_domains(&acm, None).await;
    assert!(default.contains(&"events.example.net".to_owned()));
    assert!(
        !default.contains(&"brand.example.net".to_owned()),
        "EC hidden by default"
    );
    let everything = list_domains(&acm, Some(all_key_types())).await;
    assert!(everything.contains(&"brand.example.net".to_owned()));

    let acm_jp = aws_sdk_acm::Client::new(&assumed(&server, MARKETING, "ap-northeast-1").await);
    assert!(!list_domains(&acm_jp, None)
        .await
        .contains(&"partners.example.net".to_owned()));
    assert!(list_domains(&acm_jp, Some(all_key_types()))
        .await
        .contains(&"partners.example.net".to_owned()));

    // Includes without keyTypes keeps the default key filter.
    let only_disabled_export = Filters::builder()
        .export_option(aws_sdk_acm::types::CertificateExport::Disabled)
        .build();
    let listed = list_domains(&acm, Some(only_disabled_export)).await;
    assert!(!listed.contains(&"brand.example.net".to_owned()));
    server.shutdown().await;
}

#[tokio::test]
async fn paging_returns_every_certificate_once() {
    let server = start(Scenario::demo()).await;
    let acm = aws_sdk_acm::Client::new(&assumed(&server, PAYMENTS, "us-east-1").await);
    let mut all = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let out = acm
            .list_certificates()
            .includes(all_key_types())
            .max_items(2)
            .set_next_token(token)
            .send()
            .await
            .expect("page");
        assert!(out.certificate_summary_list().len() <= 2);
        all.extend(
            out.certificate_summary_list()
                .iter()
                .filter_map(|s| s.certificate_arn().map(str::to_owned)),
        );
        pages += 1;
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let unique: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len(), "no duplicates");
    let one_call = acm
        .list_certificates()
        .includes(all_key_types())
        .send()
        .await
        .expect("one call");
    let expected: BTreeSet<_> = one_call
        .certificate_summary_list()
        .iter()
        .filter_map(|s| s.certificate_arn().map(str::to_owned))
        .collect();
    assert_eq!(unique, expected);
    assert_eq!(all.len(), 7);
    assert_eq!(pages, 4);

    let err = acm
        .list_certificates()
        .max_items(1001)
        .send()
        .await
        .expect_err("MaxItems above 1000");
    assert_eq!(err.code(), Some("ValidationException"));

    // Status filter.
    let expired = acm
        .list_certificates()
        .certificate_statuses(CertificateStatus::Expired)
        .send()
        .await
        .expect("filtered");
    let domains: Vec<_> = expired
        .certificate_summary_list()
        .iter()
        .filter_map(|s| s.domain_name())
        .collect();
    assert_eq!(domains, vec!["legacy-pay.example.com"]);
    server.shutdown().await;
}

#[tokio::test]
async fn describe_certificate_round_trips_every_field() {
    let server = start(Scenario::demo()).await;
    let acm = aws_sdk_acm::Client::new(&assumed(&server, PAYMENTS, "us-east-1").await);
    let arn = arn_of(&acm, "merchant-api.example.com").await;
    assert!(arn.starts_with(&format!("arn:aws:acm:us-east-1:{PAYMENTS}:certificate/")));
    let out = acm
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .expect("describe");
    let c = out.certificate().expect("certificate");
    assert_eq!(c.certificate_arn(), Some(arn.as_str()));
    assert_eq!(c.r#type(), Some(&CertificateType::AmazonIssued));
    assert_eq!(c.status(), Some(&CertificateStatus::Issued));
    assert_eq!(c.key_algorithm(), Some(&KeyAlgorithm::Rsa2048));
    assert_eq!(
        c.subject_alternative_names(),
        ["merchant-api.example.com", "merchant.example.com"]
    );
    assert_eq!(c.in_use_by().len(), 1);
    let not_after = c.not_after().expect("NotAfter").secs();
    assert_eq!(not_after, now().timestamp() + 20 * 86_400);
    let not_before = c.not_before().expect("NotBefore").secs();
    assert_eq!(not_after - not_before, 198 * 86_400);
    assert!(c.serial().is_some() && c.issuer().is_some() && c.signature_algorithm().is_some());
    assert_eq!(c.domain_validation_options().len(), 2);
    for dv in c.domain_validation_options() {
        assert_eq!(dv.validation_method(), Some(&ValidationMethod::Dns));
        assert_eq!(dv.validation_status(), Some(&DomainStatus::Success));
        let record = dv.resource_record().expect("resource record");
        assert!(record.name().starts_with('_') && record.name().ends_with('.'));
        assert!(record.value().ends_with(".acm-validations.aws."));
    }
    let renewal = c.renewal_summary().expect("renewal summary");
    assert_eq!(renewal.renewal_status(), &RenewalStatus::PendingValidation);
    let pending: Vec<_> = renewal
        .domain_validation_options()
        .iter()
        .filter(|dv| dv.validation_status() == Some(&DomainStatus::PendingValidation))
        .map(|dv| dv.domain_name())
        .collect();
    assert_eq!(pending, vec!["merchant.example.com"]);
    assert_eq!(renewal.updated_at().secs(), now().timestamp() - 26 * 3600);
    assert!(!c.key_usages().is_empty() && !c.extended_key_usages().is_empty());
    assert!(c.options().is_some());

    // An enum value this SDK does not know arrives as Unknown with its raw text.
    let arn = arn_of(&acm, "tokens.example.com").await;
    let out = acm
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .expect("describe");
    let reason = out
        .certificate()
        .and_then(|c| c.renewal_summary())
        .and_then(|r| r.renewal_status_reason())
        .expect("reason");
    assert!(
        !FailureReason::values().contains(&reason.as_str()),
        "not a known variant"
    );
    assert_eq!(reason.as_str(), "PENDING_DOMAIN_VALIDATION");
    server.shutdown().await;
}

#[tokio::test]
async fn email_http_private_and_imported_details() {
    let server = start(Scenario::demo()).await;
    let marketing = aws_sdk_acm::Client::new(&assumed(&server, MARKETING, "us-east-1").await);
    let describe = |client: aws_sdk_acm::Client, arn: String| async move {
        client
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .expect("describe")
            .certificate
            .expect("certificate")
    };

    let arn = arn_of(&marketing, "*.example.org").await;
    let c = describe(marketing.clone(), arn).await;
    let dv = &c.domain_validation_options()[0];
    assert_eq!(dv.validation_method(), Some(&ValidationMethod::Email));
    assert_eq!(dv.validation_domain(), Some("example.org"));
    assert_eq!(dv.validation_emails().len(), 5);
    assert!(dv
        .validation_emails()
        .contains(&"hostmaster@example.org".to_owned()));
    assert!(c.renewal_summary().is_none());

    let arn = arn_of(&marketing, "promo.example.net").await;
    let c = describe(marketing.clone(), arn).await;
    assert_eq!(c.r#type(), Some(&CertificateType::Imported));
    assert!(c.imported_at().is_some() && c.issued_at().is_none());
    assert!(c.domain_validation_options().is_empty());
    assert_eq!(
        c.not_after().expect("NotAfter").secs(),
        now().timestamp() + 5 * 86_400
    );

    let networking = aws_sdk_acm::Client::new(&assumed(&server, NETWORKING, "us-east-1").await);
    let arn = arn_of(&networking, "media.example.com").await;
    let c = describe(networking.clone(), arn).await;
    let renewal = c.renewal_summary().expect("renewal");
    let redirect = renewal.domain_validation_options()[0]
        .http_redirect()
        .expect("http redirect");
    assert!(redirect
        .redirect_from()
        .unwrap_or_default()
        .starts_with("http://media.example.com/"));
    assert!(redirect
        .redirect_to()
        .unwrap_or_default()
        .contains("acm-validations.aws"));

    let arn = arn_of(&networking, "shop.example.net").await;
    let c = describe(networking.clone(), arn).await;
    assert_eq!(c.managed_by().map(|m| m.as_str()), Some("CLOUDFRONT"));

    let networking_eu = aws_sdk_acm::Client::new(&assumed(&server, NETWORKING, "eu-west-1").await);
    let arn = arn_of(&networking_eu, "mtls.internal.example.com").await;
    let c = describe(networking_eu.clone(), arn).await;
    assert_eq!(c.r#type(), Some(&CertificateType::Private));
    assert!(c.certificate_authority_arn().is_some());
    assert_eq!(
        c.renewal_summary().and_then(|r| r.renewal_status_reason()),
        Some(&FailureReason::PcaInvalidState)
    );

    // Summaries carry what the scanner triages on.
    let out = networking_eu
        .list_certificates()
        .includes(all_key_types())
        .send()
        .await
        .expect("list");
    let vpn = out
        .certificate_summary_list()
        .iter()
        .find(|s| s.domain_name() == Some("vpn.internal.example.com"))
        .expect("vpn");
    assert_eq!(vpn.exported(), Some(true));
    assert_eq!(vpn.in_use(), Some(false));
    assert_eq!(vpn.r#type(), Some(&CertificateType::Private));
    assert!(vpn.not_after().is_some() && vpn.created_at().is_some());
    assert_eq!(
        vpn.renewal_eligibility().map(|r| r.as_str()),
        Some("ELIGIBLE")
    );

    let tags = marketing
        .list_tags_for_certificate()
        .certificate_arn(arn_of(&marketing, "*.example.org").await)
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags()[0].key(), "team");
    assert_eq!(tags.tags()[0].value(), Some("marketing"));
    server.shutdown().await;
}

#[tokio::test]
async fn pending_requests_have_no_validity_dates() {
    let server = start(Scenario::demo()).await;
    let acm = aws_sdk_acm::Client::new(&assumed(&server, SANDBOX, "us-east-1").await);
    let arn = arn_of(&acm, "test.sandbox.example.com").await;
    let c = acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .expect("describe")
        .certificate
        .expect("certificate");
    assert_eq!(c.status(), Some(&CertificateStatus::PendingValidation));
    assert!(c.not_after().is_none() && c.not_before().is_none());
    assert_eq!(
        c.created_at().expect("CreatedAt").secs(),
        now().timestamp() - 4 * 86_400
    );
    assert_eq!(
        c.domain_validation_options()[0].validation_status(),
        Some(&DomainStatus::PendingValidation)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn injected_acm_faults() {
    let scenario = Scenario::from_toml(&format!(
        r#"
[organization]
management_account_id = "{MANAGEMENT}"
regions = ["us-east-1", "eu-west-1"]
[[accounts]]
id = "{MANAGEMENT}"
name = "management"
[accounts.faults.us-east-1]
acm_error = "InternalFailure"
[accounts.faults.eu-west-1]
acm_error = "AccessDeniedException"
"#
    ))
    .expect("scenario");
    let server = start(scenario).await;
    let acm = aws_sdk_acm::Client::new(&ambient_config(&server, "us-east-1").await);
    let err = acm.list_certificates().send().await.expect_err("fault");
    assert_eq!(err.code(), Some("InternalFailure"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    let acm = aws_sdk_acm::Client::new(&ambient_config(&server, "eu-west-1").await);
    let err = acm.list_certificates().send().await.expect_err("fault");
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_operations_and_request_count() {
    let server = start(Scenario::demo()).await;
    let config = ambient_config(&server, "us-east-1").await;
    assert_eq!(server.request_count(), 0);
    let acm = aws_sdk_acm::Client::new(&config);
    let err = acm
        .get_account_configuration()
        .send()
        .await
        .expect_err("not simulated");
    assert_eq!(err.code(), Some("UnknownOperationException"));
    let sts = aws_sdk_sts::Client::new(&config);
    let err = sts
        .get_session_token()
        .send()
        .await
        .expect_err("not simulated");
    assert_eq!(err.code(), Some("InvalidAction"));
    let org = aws_sdk_organizations::Client::new(&config);
    let err = org.list_roots().send().await.expect_err("not simulated");
    assert_eq!(err.code(), Some("UnknownOperationException"));
    assert_eq!(server.request_count(), 3);
    server.shutdown().await;
}

/// Every page of an unfiltered SearchCertificates, with the page count.
async fn search_all(
    acm: &aws_sdk_acm::Client,
    max_results: Option<i32>,
) -> (Vec<CertificateSearchResult>, usize) {
    let mut results = Vec::new();
    let mut pages = 0;
    let mut token = None;
    loop {
        let out = acm
            .search_certificates()
            .set_max_results(max_results)
            .set_next_token(token)
            .send()
            .await
            .expect("search certificates");
        pages += 1;
        assert!(
            out.results().len() <= max_results.unwrap_or(100) as usize,
            "page larger than MaxResults"
        );
        results.extend(out.results().to_vec());
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return (results, pages);
        }
    }
}

fn metadata(r: &CertificateSearchResult) -> &AcmCertificateMetadata {
    r.certificate_metadata()
        .and_then(|m| m.as_acm_certificate_metadata().ok())
        .expect("AcmCertificateMetadata")
}

fn common_name(r: &CertificateSearchResult) -> &str {
    r.x509_attributes()
        .and_then(|x| x.subject())
        .and_then(|s| s.common_name())
        .expect("subject common name")
}

fn certificate(region: &str, domain: &str) -> CertificateSpec {
    CertificateSpec {
        region: region.into(),
        domain: domain.into(),
        expires_in_days: Some(90.0),
        ..CertificateSpec::default()
    }
}

fn one_account(regions: &[&str], certificates: Vec<CertificateSpec>) -> Scenario {
    Scenario {
        organization: OrganizationSpec {
            management_account_id: MANAGEMENT.into(),
            regions: Some(regions.iter().map(|r| (*r).to_owned()).collect()),
            ..OrganizationSpec::default()
        },
        network: None,
        organizational_units: Vec::new(),
        accounts: vec![AccountSpec {
            id: MANAGEMENT.into(),
            name: "management".into(),
            certificates,
            ..AccountSpec::default()
        }],
    }
}

#[tokio::test]
async fn search_pages_through_a_large_account_region_once() {
    let mut certificates: Vec<CertificateSpec> = (0..2_500)
        .map(|i| CertificateSpec {
            // Every seventh has a key ListCertificates hides by default.
            key_algorithm: (i % 7 == 0).then(|| "EC_prime256v1".to_owned()),
            ..certificate("us-east-1", &format!("host-{i}.example.com"))
        })
        .collect();
    certificates.extend((0..3).map(|i| certificate("eu-west-1", &format!("eu-{i}.example.com"))));
    let server = start(one_account(&["us-east-1", "eu-west-1"], certificates)).await;
    let acm = aws_sdk_acm::Client::new(&ambient_config(&server, "us-east-1").await);

    let (results, pages) = search_all(&acm, Some(500)).await;
    assert_eq!(pages, 5);
    let arns: Vec<&str> = results
        .iter()
        .map(|r| r.certificate_arn().expect("arn"))
        .collect();
    let unique: BTreeSet<&str> = arns.iter().copied().collect();
    assert_eq!(arns.len(), 2_500);
    assert_eq!(unique.len(), 2_500, "every ARN once");
    let listed: BTreeSet<String> = acm
        .list_certificates()
        .includes(all_key_types())
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("list certificates")
        .iter()
        .filter_map(|s| s.certificate_arn().map(str::to_owned))
        .collect();
    assert_eq!(
        unique,
        listed.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        "the same certificates as a ListCertificates of every key type, no other region's"
    );

    let (results, pages) = search_all(&acm, None).await;
    assert_eq!(pages, 25, "100 per page by default");
    let unique: BTreeSet<_> = results.iter().filter_map(|r| r.certificate_arn()).collect();
    assert_eq!((results.len(), unique.len()), (2_500, 2_500));

    // The SDK's paginator gets the same.
    let items = acm
        .search_certificates()
        .max_results(500)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginator");
    assert_eq!(items.len(), 2_500);
    server.shutdown().await;
}

#[tokio::test]
async fn search_has_no_default_key_or_origin_filter() {
    let server = start(one_account(
        &["us-east-1"],
        vec![
            certificate("us-east-1", "rsa2048.example.com"),
            CertificateSpec {
                key_algorithm: Some("EC_prime256v1".into()),
                ..certificate("us-east-1", "ec.example.com")
            },
            CertificateSpec {
                key_algorithm: Some("RSA_4096".into()),
                cert_type: Some("IMPORTED".into()),
                ..certificate("us-east-1", "rsa4096.example.com")
            },
            CertificateSpec {
                key_pair_origin: Some("ACME".into()),
                ..certificate("us-east-1", "acme.example.com")
            },
            CertificateSpec {
                status: Some("EXPIRED".into()),
                expires_in_days: Some(-3.0),
                ..certificate("us-east-1", "expired.example.com")
            },
        ],
    ))
    .await;
    let acm = aws_sdk_acm::Client::new(&ambient_config(&server, "us-east-1").await);
    assert_eq!(
        list_domains(&acm, None).await,
        vec!["rsa2048.example.com", "expired.example.com"],
        "ListCertificates hides the EC, RSA_4096 and ACME ones by default"
    );
    let (results, _) = search_all(&acm, None).await;
    let names: Vec<&str> = results.iter().map(common_name).collect();
    assert_eq!(
        names,
        vec![
            "rsa2048.example.com",
            "ec.example.com",
            "rsa4096.example.com",
            "acme.example.com",
            "expired.example.com"
        ]
    );
    let x509 = |i: usize| results[i].x509_attributes().expect("X509Attributes");
    assert_eq!(x509(1).key_algorithm(), Some(&KeyAlgorithm::EcPrime256v1));
    assert_eq!(x509(2).key_algorithm(), Some(&KeyAlgorithm::Rsa4096));
    assert_eq!(
        metadata(&results[3]).certificate_key_pair_origin(),
        Some(&CertificateKeyPairOrigin::Acme)
    );
    assert_eq!(
        metadata(&results[4]).status(),
        Some(&CertificateStatus::Expired)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn search_results_carry_what_the_scenario_says() {
    let scenario = Scenario::from_toml(&format!(
        r#"
[organization]
management_account_id = "{MANAGEMENT}"
regions = ["us-east-1"]
[[accounts]]
id = "{MANAGEMENT}"
name = "management"

[[accounts.certificates]]
region = "us-east-1"
domain = "*.example.org"
sans = ["example.org"]
validation = "EMAIL"
expires_in_days = 150
in_use_by = ["arn:aws:cloudfront::{MANAGEMENT}:distribution/E5ORGEXAMPLE11"]

[[accounts.certificates]]
region = "us-east-1"
domain = "billing.example.com"
expires_in_days = 35
in_use_by = ["arn:aws:elasticloadbalancing:us-east-1:{MANAGEMENT}:loadbalancer/app/billing/1"]
[accounts.certificates.renewal]
status = "FAILED"
reason = "OTHER"

[[accounts.certificates]]
region = "us-east-1"
domain = "promo.example.net"
type = "IMPORTED"
expires_in_days = 5
lifetime_days = 90
imported_days_ago = 85

[[accounts.certificates]]
region = "us-east-1"
domain = "test.example.com"
status = "PENDING_VALIDATION"
created_days_ago = 4
"#
    ))
    .expect("scenario");
    let server = start(scenario).await;
    let acm = aws_sdk_acm::Client::new(&ambient_config(&server, "us-east-1").await);
    let (results, _) = search_all(&acm, None).await;
    assert_eq!(results.len(), 4);
    let find = |name: &str| {
        results
            .iter()
            .find(|r| common_name(r) == name)
            .unwrap_or_else(|| panic!("{name} found"))
    };
    let sans = |r: &CertificateSearchResult| -> Vec<String> {
        r.x509_attributes()
            .expect("X509Attributes")
            .subject_alternative_names()
            .iter()
            .map(|g| g.as_dns_name().expect("DnsName").clone())
            .collect()
    };
    let not_after = |r: &CertificateSearchResult| {
        r.x509_attributes()
            .and_then(|x| x.not_after())
            .map(|t| t.secs())
    };
    let day = 86_400;

    let email = find("*.example.org");
    let m = metadata(email);
    assert_eq!(m.r#type(), Some(&CertificateType::AmazonIssued));
    assert_eq!(m.status(), Some(&CertificateStatus::Issued));
    assert_eq!(m.validation_method(), Some(&ValidationMethod::Email));
    assert_eq!(
        m.renewal_status(),
        None,
        "no RenewalSummary, no RenewalStatus"
    );
    assert_eq!(m.in_use(), Some(true));
    assert_eq!(m.renewal_eligibility(), Some(&RenewalEligibility::Eligible));
    assert_eq!(sans(email), vec!["*.example.org", "example.org"]);
    assert_eq!(not_after(email), Some(now().timestamp() + 150 * day));
    let x = email.x509_attributes().expect("X509Attributes");
    assert_eq!(x.key_algorithm(), Some(&KeyAlgorithm::Rsa2048));
    assert_eq!(
        x.not_before().map(|t| t.secs()),
        Some(now().timestamp() - 48 * day)
    );
    assert!(x.serial_number().is_some_and(|s| !s.is_empty()));
    assert!(x.issuer().and_then(|i| i.common_name()).is_some());
    assert!(!x.key_usages().is_empty() && !x.extended_key_usages().is_empty());
    assert!(email.certificate_arn().is_some_and(
        |a| a.starts_with(&format!("arn:aws:acm:us-east-1:{MANAGEMENT}:certificate/"))
    ));

    let failed = metadata(find("billing.example.com"));
    assert_eq!(failed.renewal_status(), Some(&RenewalStatus::Failed));
    assert_eq!(failed.validation_method(), Some(&ValidationMethod::Dns));
    assert_eq!(failed.in_use(), Some(true));
    assert_eq!(
        not_after(find("billing.example.com")),
        Some(now().timestamp() + 35 * day)
    );

    let imported = find("promo.example.net");
    let m = metadata(imported);
    assert_eq!(m.r#type(), Some(&CertificateType::Imported));
    assert_eq!(
        m.validation_method(),
        None,
        "IMPORTED: no validation method"
    );
    assert_eq!(m.renewal_status(), None);
    assert_eq!(m.in_use(), Some(false));
    assert_eq!(
        m.certificate_key_pair_origin(),
        Some(&CertificateKeyPairOrigin::CustomerProvided)
    );
    assert_eq!(
        m.imported_at().map(|t| t.secs()),
        Some(now().timestamp() - 85 * day)
    );
    assert!(m.issued_at().is_none());
    assert_eq!(not_after(imported), Some(now().timestamp() + 5 * day));

    let pending = find("test.example.com");
    let m = metadata(pending);
    assert_eq!(m.status(), Some(&CertificateStatus::PendingValidation));
    assert_eq!(m.validation_method(), Some(&ValidationMethod::Dns));
    assert_eq!(
        m.created_at().map(|t| t.secs()),
        Some(now().timestamp() - 4 * day)
    );
    assert!(m.issued_at().is_none());
    let x = pending.x509_attributes().expect("X509Attributes");
    assert!(x.not_after().is_none() && x.not_before().is_none());
    assert!(x.serial_number().is_none() && x.issuer().is_none());
    assert_eq!(sans(pending), vec!["test.example.com"]);
    server.shutdown().await;
}

#[tokio::test]
async fn search_validates_its_input() {
    let server = start(one_account(
        &["us-east-1"],
        vec![
            CertificateSpec {
                expires_in_days: Some(30.0),
                ..certificate("us-east-1", "b.example.com")
            },
            CertificateSpec {
                expires_in_days: Some(10.0),
                ..certificate("us-east-1", "a.example.com")
            },
            CertificateSpec {
                expires_in_days: Some(30.0),
                ..certificate("us-east-1", "c.example.com")
            },
            CertificateSpec {
                status: Some("PENDING_VALIDATION".into()),
                expires_in_days: None,
                ..certificate("us-east-1", "d.example.com")
            },
        ],
    ))
    .await;
    let acm = aws_sdk_acm::Client::new(&ambient_config(&server, "us-east-1").await);
    for size in [501, 0] {
        let err = acm
            .search_certificates()
            .max_results(size)
            .send()
            .await
            .expect_err("MaxResults out of range");
        assert_eq!(err.code(), Some("ValidationException"), "{size}");
        assert!(err.message().is_some_and(|m| m.contains("maxResults")));
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    }
    let (results, _) = search_all(&acm, Some(500)).await;
    assert_eq!(results.len(), 4, "500 is allowed");

    let filter = CertificateFilterStatement::Filter(CertificateFilter::CertificateArn(
        results[0].certificate_arn().expect("arn").to_owned(),
    ));
    let err = acm
        .search_certificates()
        .filter_statement(filter)
        .send()
        .await
        .expect_err("filters are not simulated");
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(
        err.message().is_some_and(|m| m.contains("FilterStatement")),
        "{:?}",
        err.message()
    );

    let err = acm
        .search_certificates()
        .next_token("not-a-token")
        .send()
        .await
        .expect_err("bad token");
    assert_eq!(err.code(), Some("ValidationException"));

    // Sorting is stable both ways; the pending request has no NotAfter and sorts first.
    let sorted = |order: SearchCertificatesSortOrder| {
        let acm = acm.clone();
        async move {
            let out = acm
                .search_certificates()
                .sort_by(SearchCertificatesSortBy::NotAfter)
                .sort_order(order)
                .send()
                .await
                .expect("sorted");
            out.results()
                .iter()
                .map(|r| common_name(r).to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        sorted(SearchCertificatesSortOrder::Ascending).await,
        [
            "d.example.com",
            "a.example.com",
            "b.example.com",
            "c.example.com"
        ]
    );
    assert_eq!(
        sorted(SearchCertificatesSortOrder::Descending).await,
        [
            "b.example.com",
            "c.example.com",
            "a.example.com",
            "d.example.com"
        ]
    );
    let err = acm
        .search_certificates()
        .sort_by(SearchCertificatesSortBy::from("DOMAIN"))
        .send()
        .await
        .expect_err("unknown sort field");
    assert_eq!(err.code(), Some("ValidationException"));
    server.shutdown().await;
}

#[tokio::test]
async fn search_has_its_own_quota_per_account_region() {
    let mut scenario = one_account(
        &["us-east-1", "eu-west-1"],
        vec![certificate("us-east-1", "a.example.com")],
    );
    scenario.accounts.push(AccountSpec {
        id: PAYMENTS.into(),
        name: "payments".into(),
        ..AccountSpec::default()
    });
    // Slow enough that no token comes back during the test, however slow the machine.
    let behaviour = Behaviour {
        quotas: Quotas {
            enabled: true,
            list_certificates: 0.01,
            search_certificates: 0.01,
            ..Quotas::default()
        },
        ..Behaviour::default()
    };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let server = serve_with(scenario, now(), behaviour)
        .await
        .expect("simulator starts");
    let acm = aws_sdk_acm::Client::new(&ambient_config(&server, "us-east-1").await);

    acm.search_certificates()
        .send()
        .await
        .expect("first search");
    let err = acm
        .search_certificates()
        .send()
        .await
        .expect_err("bucket empty");
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    acm.list_certificates()
        .send()
        .await
        .expect("ListCertificates has its own bucket");
    let err = acm
        .list_certificates()
        .send()
        .await
        .expect_err("list empty");
    assert_eq!(err.code(), Some("ThrottlingException"));
    let err = acm
        .search_certificates()
        .send()
        .await
        .expect_err("a list did not refill search");
    assert_eq!(err.code(), Some("ThrottlingException"));

    let acm_eu = aws_sdk_acm::Client::new(&ambient_config(&server, "eu-west-1").await);
    acm_eu
        .search_certificates()
        .send()
        .await
        .expect("other region, other bucket");
    let payments = aws_sdk_acm::Client::new(&assumed(&server, PAYMENTS, "us-east-1").await);
    payments
        .search_certificates()
        .send()
        .await
        .expect("other account, other bucket");
    assert_eq!(server.throttled_count(), 3);
    server.shutdown().await;
}

#[tokio::test]
async fn denied_actions_refuse_search_in_that_account_only() {
    let demo = Scenario::demo();
    let denied: Vec<&AccountSpec> = demo
        .accounts
        .iter()
        .filter(|a| !a.denied_actions.is_empty())
        .collect();
    assert_eq!(denied.len(), 1, "exactly one demo account");
    let account = denied[0];
    assert_eq!(account.id, MARKETING);
    assert_eq!(account.denied_actions, vec!["acm:SearchCertificates"]);
    assert!(!account.deny_assume_role && account.state.is_none());
    assert_ne!(account.id, demo.management_account_id());

    let server = start(demo).await;
    for region in ["us-east-1", "eu-west-1"] {
        let marketing = aws_sdk_acm::Client::new(&assumed(&server, MARKETING, region).await);
        let err = marketing
            .search_certificates()
            .send()
            .await
            .expect_err("denied");
        assert_eq!(err.code(), Some("AccessDeniedException"));
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
        assert_eq!(
            err.message(),
            Some(format!(
                "User: arn:aws:sts::{MARKETING}:assumed-role/{ROLE}/certwatch is not authorized to perform: acm:SearchCertificates because no identity-based policy allows the acm:SearchCertificates action"
            ).as_str())
        );
        assert!(
            !list_domains(&marketing, Some(all_key_types()))
                .await
                .is_empty(),
            "ListCertificates still works in {region}"
        );
    }
    let payments = aws_sdk_acm::Client::new(&assumed(&server, PAYMENTS, "eu-west-1").await);
    let (results, _) = search_all(&payments, None).await;
    let names: Vec<&str> = results.iter().map(common_name).collect();
    assert!(names.contains(&"fraud-api.example.com"), "{names:?}");
    assert_eq!(
        names.len(),
        list_domains(&payments, Some(all_key_types())).await.len()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn search_gets_the_faults_of_every_acm_call() {
    let mut scenario = one_account(
        &[
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
            "eu-west-1",
            "eu-south-1",
        ],
        Vec::new(),
    );
    scenario.accounts[0].faults.insert(
        "us-east-1".into(),
        certwatch_sim::RegionFaults {
            acm_error: Some("InternalFailure".into()),
        },
    );
    let at = |kind: FaultKind, region: &str| Fault::at(kind, MANAGEMENT, Some(region));
    let behaviour = Behaviour {
        faults: vec![
            at(FaultKind::ServerError, "us-east-2"),
            at(FaultKind::DenyAcm, "us-west-1"),
            at(FaultKind::MalformedBody, "us-west-2"),
            at(FaultKind::ConnectionReset, "eu-west-1"),
        ],
        ..Behaviour::default()
    };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let server = serve_with(scenario, now(), behaviour)
        .await
        .expect("simulator starts");
    for (region, code) in [
        ("us-east-1", Some("InternalFailure")),
        ("us-east-2", Some("InternalFailure")),
        ("us-west-1", Some("AccessDeniedException")),
        ("us-west-2", None),
        ("eu-west-1", None),
        ("eu-south-1", Some("UnrecognizedClientException")),
    ] {
        let acm = aws_sdk_acm::Client::new(&ambient_config(&server, region).await);
        let list = acm.list_certificates().send().await.expect_err(region);
        let search = acm.search_certificates().send().await.expect_err(region);
        assert_eq!(list.code(), code, "{region}");
        assert_eq!(search.code(), code, "{region}");
    }
    assert_eq!(server.faulted_count(), 8);
    server.shutdown().await;
}

#[tokio::test]
async fn resend_validation_email_is_checked_like_acm_and_recorded() {
    let server = start(Scenario::demo()).await;
    let marketing = aws_sdk_acm::Client::new(&assumed(&server, MARKETING, "us-east-1").await);
    // PENDING_VALIDATION_EMAIL: a renewal waiting for the approval of campaign.example.org.
    let campaign = arn_of(&marketing, "campaign.example.org").await;
    // EMAIL_VALIDATION: email-validated, issued, nothing pending.
    let wildcard = arn_of(&marketing, "*.example.org").await;
    let resend = |arn: &str, domain: &str, validation_domain: &str| {
        marketing
            .resend_validation_email()
            .certificate_arn(arn)
            .domain(domain)
            .validation_domain(validation_domain)
            .send()
    };
    resend(&campaign, "campaign.example.org", "example.org")
        .await
        .expect("pending email validation: accepted");
    resend(&campaign, "campaign.example.org", "campaign.example.org")
        .await
        .expect("the domain itself is a validation domain too");
    for (arn, domain, validation_domain, expected) in [
        (
            wildcard.as_str(),
            "*.example.org",
            "example.org",
            "InvalidStateException",
        ),
        (
            campaign.as_str(),
            "other.example.org",
            "example.org",
            "InvalidDomainValidationOptionsException",
        ),
        (
            campaign.as_str(),
            "campaign.example.org",
            "ample.org",
            "InvalidDomainValidationOptionsException",
        ),
        (
            &campaign.replace(MARKETING, PAYMENTS),
            "campaign.example.org",
            "example.org",
            "ResourceNotFoundException",
        ),
        (
            "not-an-arn",
            "campaign.example.org",
            "example.org",
            "InvalidArnException",
        ),
    ] {
        let error = resend(arn, domain, validation_domain)
            .await
            .expect_err("refused");
        assert_eq!(
            error.code(),
            Some(expected),
            "{arn} {domain} {validation_domain}"
        );
    }
    assert_eq!(
        server.resends(),
        vec![
            (campaign.clone(), "campaign.example.org".to_owned()),
            (campaign.clone(), "campaign.example.org".to_owned()),
        ],
        "only accepted resends are recorded"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn resend_validation_email_of_a_request_and_denied_by_iam() {
    let mut request = certificate("us-east-1", "new.example.net");
    request.status = Some("PENDING_VALIDATION".into());
    request.validation = Some("EMAIL".into());
    request.expires_in_days = None;
    let mut scenario = one_account(&["us-east-1"], vec![request]);
    let mut denied = scenario.accounts[0].clone();
    denied.id = PAYMENTS.into();
    denied.name = "payments".into();
    denied.denied_actions = vec!["acm:ResendValidationEmail".into()];
    scenario.accounts.push(denied);
    let server = start(scenario).await;

    let own = aws_sdk_acm::Client::new(&ambient_config(&server, "us-east-1").await);
    let arn = arn_of(&own, "new.example.net").await;
    own.resend_validation_email()
        .certificate_arn(&arn)
        .domain("new.example.net")
        .validation_domain("example.net")
        .send()
        .await
        .expect("a request pending email validation");

    let payments = aws_sdk_acm::Client::new(&assumed(&server, PAYMENTS, "us-east-1").await);
    let theirs = arn_of(&payments, "new.example.net").await;
    let err = payments
        .resend_validation_email()
        .certificate_arn(&theirs)
        .domain("new.example.net")
        .validation_domain("example.net")
        .send()
        .await
        .expect_err("denied");
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(
        err.message()
            .is_some_and(|m| m.contains("acm:ResendValidationEmail")),
        "{err:?}"
    );
    assert_eq!(server.resends(), vec![(arn, "new.example.net".to_owned())]);
    server.shutdown().await;
}

/// Every page of ListTagsForResource, with the page count.
async fn all_tags(
    org: &aws_sdk_organizations::Client,
    resource: &str,
) -> (Vec<(String, String)>, usize) {
    let (mut tags, mut pages, mut token) = (Vec::new(), 0, None);
    loop {
        let out = org
            .list_tags_for_resource()
            .resource_id(resource)
            .set_next_token(token)
            .send()
            .await
            .expect("tags");
        pages += 1;
        tags.extend(
            out.tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned())),
        );
        match out.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => return (tags, pages),
        }
    }
}

#[tokio::test]
async fn organizational_units_and_account_tags() {
    use aws_sdk_organizations::types::ParentType;
    let server = start(Scenario::demo()).await;
    let org = aws_sdk_organizations::Client::new(&ambient_config(&server, "us-east-1").await);
    let parent = |child: &'static str| {
        let org = org.clone();
        async move {
            let out = org
                .list_parents()
                .child_id(child)
                .send()
                .await
                .expect("parents");
            assert!(out.next_token().is_none());
            let [p] = out.parents() else {
                panic!("{child}: one parent, got {:?}", out.parents())
            };
            (p.id().unwrap_or_default().to_owned(), p.r#type().cloned())
        }
    };
    let ou = Some(ParentType::OrganizationalUnit);
    let root = Some(ParentType::Root);
    assert_eq!(
        parent(PAYMENTS).await,
        ("ou-ex42-payments".into(), ou.clone())
    );
    assert_eq!(
        parent("ou-ex42-payments").await,
        ("ou-ex42-workloads".into(), ou.clone())
    );
    assert_eq!(
        parent("ou-ex42-workloads").await,
        ("r-ex42".into(), root.clone())
    );
    assert_eq!(
        parent("ou-ex42-platform").await,
        ("r-ex42".into(), root.clone())
    );
    assert_eq!(parent(SANDBOX).await, ("r-ex42".into(), root));

    let out = org
        .describe_organizational_unit()
        .organizational_unit_id("ou-ex42-payments")
        .send()
        .await
        .expect("describe OU");
    let unit = out.organizational_unit().expect("the OU");
    assert_eq!(unit.name(), Some("Payments"));
    assert_eq!(
        unit.arn(),
        Some("arn:aws:organizations::210987654321:ou/o-exmplcorp42/ou-ex42-payments")
    );

    let (tags, _) = all_tags(&org, PAYMENTS).await;
    assert_eq!(
        tags,
        [
            ("env".into(), "prod".into()),
            ("team".into(), "payments".into())
        ]
    );
    assert_eq!(all_tags(&org, SANDBOX).await, (Vec::new(), 1));
    assert_eq!(all_tags(&org, "r-ex42").await, (Vec::new(), 1));
    assert_eq!(all_tags(&org, "ou-ex42-platform").await, (Vec::new(), 1));

    // AWS's error shapes.
    let err = org
        .list_parents()
        .child_id("111111111111")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ChildNotFoundException"));
    let err = org
        .list_parents()
        .child_id("ou-ex42-nowhere1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ChildNotFoundException"));
    let err = org
        .list_parents()
        .child_id("r-ex42")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some("InvalidInputException"),
        "a root has no parent"
    );
    let err = org
        .list_parents()
        .child_id(PAYMENTS)
        .max_results(21)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidInputException"));
    let err = org
        .describe_organizational_unit()
        .organizational_unit_id("ou-ex42-nowhere1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("OrganizationalUnitNotFoundException"));
    let err = org
        .list_tags_for_resource()
        .resource_id("111111111111")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("TargetNotFoundException"));
    let err = org
        .list_tags_for_resource()
        .resource_id(PAYMENTS)
        .next_token("not-a-token")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidInputException"));
    // Only the management account reads the organization's structure.
    let member = aws_sdk_organizations::Client::new(&assumed(&server, PAYMENTS, "us-east-1").await);
    let err = member
        .list_parents()
        .child_id(PAYMENTS)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    server.shutdown().await;
}

#[tokio::test]
async fn account_tags_page_and_organizations_faults_hit_the_named_operation() {
    let mut text = format!(
        "[organization]\nmanagement_account_id = \"{MANAGEMENT}\"\nregions = [\"us-east-1\"]\n[[accounts]]\nid = \"{MANAGEMENT}\"\nname = \"m\"\n[[accounts]]\nid = \"{PAYMENTS}\"\nname = \"p\"\n[accounts.tags]\n"
    );
    for i in 0..23 {
        text.push_str(&format!("k{i:02} = \"v{i}\"\n"));
    }
    let scenario = Scenario::from_toml(&text).expect("scenario");
    let behaviour = Behaviour {
        faults: vec![Fault {
            operations: Some(vec!["ListParents".into()]),
            ..Fault::at(FaultKind::ServerError, PAYMENTS, None)
        }],
        ..Behaviour::default()
    };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let server = serve_with(scenario, now(), behaviour)
        .await
        .expect("simulator starts");
    let org = aws_sdk_organizations::Client::new(&ambient_config(&server, "us-east-1").await);
    let (tags, pages) = all_tags(&org, PAYMENTS).await;
    assert_eq!((tags.len(), pages), (23, 3), "10 a page");
    assert_eq!(tags[22], ("k22".into(), "v22".into()));

    let err = org
        .list_parents()
        .child_id(PAYMENTS)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InternalFailure"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    // Only the named operation, only about that account.
    let out = org
        .list_parents()
        .child_id(MANAGEMENT)
        .send()
        .await
        .expect("parents");
    assert_eq!(out.parents().len(), 1);
    let acm = aws_sdk_acm::Client::new(&ambient_config(&server, "us-east-1").await);
    acm.list_certificates()
        .send()
        .await
        .expect("ACM is not faulted");
    server.shutdown().await;
}

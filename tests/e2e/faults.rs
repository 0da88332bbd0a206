//! Fault injection: the real scanner (in-process, real SDK clients over loopback HTTP) against
//! the simulator with AWS's quotas, latency and injected faults. What must hold: every healthy
//! target's certificates exactly right, every faulty target reported once with its stage, retries
//! bounded, the scan always ends, throttling slows a scan down without losing anything, paging is
//! followed, hidden key types are asked for, and the store keeps a failed target's data.

use crate::support::http;
use crate::support::sim::{calls, scan, scan_config, start};
use certwatch_core::{Report, Stage};
use certwatch_scanner::Rates;
use certwatch_sim::{Behaviour, Fault, FaultKind, GeneratorSpec, Latency, Quotas, Scenario};
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-northeast-1"];

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

fn generated(members: usize, regions: &[&str], per_region: usize) -> Scenario {
    Scenario::generate(&GeneratorSpec {
        members,
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        certificates_per_region: per_region,
        seed: 4,
        denied_percent: 0,
        suspended_percent: 0,
        ..GeneratorSpec::default()
    })
}

/// AWS's quotas and a small log-normal latency.
fn realistic() -> Behaviour {
    Behaviour {
        quotas: Quotas {
            enabled: true,
            ..Quotas::default()
        },
        latency: Latency {
            median_ms: 2.0,
            p99_ms: 20.0,
        },
        ..Behaviour::default()
    }
}

type Target = (String, String);

/// (account, region) → domains, as the scenario holds them.
fn expected(scenario: &Scenario) -> BTreeMap<Target, BTreeSet<String>> {
    let mut out: BTreeMap<Target, BTreeSet<String>> = BTreeMap::new();
    for account in &scenario.accounts {
        for cert in &account.certificates {
            out.entry((account.id.clone(), cert.region.clone()))
                .or_default()
                .insert(cert.domain.clone());
        }
    }
    out
}

/// (account, region) → domains, as the report has them.
fn found(report: &Report) -> BTreeMap<Target, BTreeSet<String>> {
    let mut out: BTreeMap<Target, BTreeSet<String>> = BTreeMap::new();
    for record in &report.certificates {
        let facts = &record.facts;
        let fresh = out
            .entry((facts.account_id.clone(), facts.region.clone()))
            .or_default()
            .insert(facts.domain_name.clone().unwrap_or_default());
        assert!(fresh, "{} reported twice", facts.arn);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_faulty_targets_are_reported_once_and_the_rest_is_exact() {
    let scenario = generated(30, &REGIONS, 3);
    let member = GeneratorSpec::member_id;
    let at = |kind, i: usize, region: Option<&str>| Fault::at(kind, &member(i), region);
    // 93 targets (31 accounts × 3 regions); 9 of them faulty (3 through the denied role).
    let faults = vec![
        at(FaultKind::DenyAssumeRole, 0, None),
        at(FaultKind::ServerError, 1, Some("eu-west-1")),
        at(FaultKind::ConnectionReset, 2, Some("eu-west-1")),
        at(FaultKind::Slow { delay_ms: 2_500 }, 3, Some("eu-west-1")),
        at(FaultKind::MalformedBody, 4, Some("ap-northeast-1")),
        at(FaultKind::DenyAcm, 5, Some("us-east-1")),
        at(FaultKind::DisabledRegion, 6, Some("ap-northeast-1")),
    ];
    let behaviour = Behaviour {
        faults,
        ..realistic()
    };
    let now = now();
    let server = start(scenario.clone(), now, behaviour).await;
    let config = scan_config(&REGIONS, Duration::from_millis(800));
    let report = scan(&server, &config, now).await;
    server.shutdown().await;

    // Which targets fail, at which stage; member 6's disabled region is skipped, not failed.
    let failing: BTreeMap<(String, Option<String>), Stage> = [
        ((member(0), None), Stage::AssumeRole),
        (
            (member(1), Some("eu-west-1".to_owned())),
            Stage::ListCertificates,
        ),
        (
            (member(2), Some("eu-west-1".to_owned())),
            Stage::ListCertificates,
        ),
        (
            (member(3), Some("eu-west-1".to_owned())),
            Stage::ListCertificates,
        ),
        (
            (member(4), Some("ap-northeast-1".to_owned())),
            Stage::ListCertificates,
        ),
        (
            (member(5), Some("us-east-1".to_owned())),
            Stage::ListCertificates,
        ),
    ]
    .into_iter()
    .collect();
    let mut reported = BTreeMap::new();
    for failure in &report.failures {
        let key = (failure.account_id.clone(), failure.region.clone());
        assert!(
            reported.insert(key.clone(), failure.stage).is_none(),
            "{key:?} reported twice: {:#?}",
            report.failures
        );
        // Readable: the AWS code or the transport's cause, one line, no SDK Debug dump.
        assert!(!failure.error.is_empty() && !failure.error.contains('\n'));
        assert!(
            !failure.error.contains("Some(") && failure.error.len() < 600,
            "{}",
            failure.error
        );
    }
    assert_eq!(reported, failing, "{:#?}", report.failures);
    let error_of = |i: usize| {
        report
            .failures
            .iter()
            .find(|f| f.account_id == member(i))
            .map(|f| f.error.clone())
            .unwrap_or_default()
    };
    assert!(error_of(0).starts_with("AccessDenied"), "{}", error_of(0));
    assert!(error_of(1).contains("InternalFailure"), "{}", error_of(1));
    let slow = error_of(3).to_lowercase();
    assert!(
        slow.contains("timeout") || slow.contains("timed out"),
        "{slow}"
    );
    assert!(
        error_of(5).starts_with("AccessDeniedException"),
        "{}",
        error_of(5)
    );
    assert_eq!(report.stats.regions_skipped, 1);

    // Every other target: exactly the scenario's certificates.
    let mut want = expected(&scenario);
    want.retain(|(account, region), _| {
        let whole_account = failing.contains_key(&(account.clone(), None));
        let target = failing.contains_key(&(account.clone(), Some(region.clone())));
        let skipped = account == &member(6) && region == "ap-northeast-1";
        !(whole_account || target || skipped)
    });
    assert_eq!(found(&report), want);

    // Retries are bounded: 3 attempts for a retryable fault, 1 for the rest; no throttling.
    let targets_listed = 31 * 3 - 3; // the denied account's regions are never listed
    let list_calls = calls(&report, "acm:ListCertificates");
    assert!(
        list_calls <= targets_listed + 2 * 4,
        "{list_calls} ListCertificates calls"
    );
    assert_eq!(calls(&report, "sts:AssumeRole"), 30);
    assert_eq!(
        calls(&report, "acm:DescribeCertificate"),
        report
            .certificates
            .iter()
            .filter(|c| c.facts.described)
            .count() as u64
    );
    assert_eq!(report.stats.throttled, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_storm_slows_the_scan_and_loses_nothing() {
    let scenario = generated(4, &REGIONS[..2], 25);
    let storm = FaultKind::ThrottleStorm {
        start_seconds: 0.0,
        duration_seconds: 4.0,
        refill_factor: 0.05,
    };
    let behaviour = Behaviour {
        faults: vec![
            Fault::at(
                storm.clone(),
                &GeneratorSpec::member_id(0),
                Some("us-east-1"),
            ),
            Fault::at(storm, &GeneratorSpec::member_id(1), None),
        ],
        ..realistic()
    };
    let now = now();
    let server = start(scenario.clone(), now, behaviour).await;
    let report = scan(
        &server,
        &scan_config(&REGIONS[..2], Duration::from_secs(2)),
        now,
    )
    .await;
    let throttled_by_sim = server.throttled_count();
    server.shutdown().await;

    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    assert_eq!(found(&report), expected(&scenario));
    assert!(throttled_by_sim > 0, "the storm throttled nothing");
    assert_eq!(report.stats.throttled, throttled_by_sim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_region_with_2500_certificates_is_listed_completely() {
    let scenario = Scenario::generate(&GeneratorSpec {
        members: 2,
        regions: vec!["us-east-1".into()],
        certificates_per_region: 2,
        denied_percent: 0,
        suspended_percent: 0,
        large_targets: 1,
        large_target_certificates: 2_500,
        ..GeneratorSpec::default()
    });
    let now = now();
    // No quotas here: 2,500 describes at 10/s would take minutes; paging is the point.
    let server = start(scenario.clone(), now, Behaviour::default()).await;
    let mut config = scan_config(&["us-east-1"], Duration::from_secs(5));
    config.rates = Rates {
        describe_certificate: 5_000.0,
        list_certificates: 100.0,
        search_certificates: 100.0,
        ..Rates::default()
    };
    let searched = scan(&server, &config, now).await;
    config.search_certificates = false;
    let listed = scan(&server, &config, now).await;
    server.shutdown().await;

    let big = (GeneratorSpec::member_id(0), "us-east-1".to_owned());
    for report in [&searched, &listed] {
        assert!(report.failures.is_empty(), "{:#?}", report.failures);
        let found = found(report);
        assert_eq!(found[&big].len(), 2_500);
        assert_eq!(found, expected(&scenario));
    }
    // SearchCertificates pages of 500: five for the big target, one for each of the others.
    assert_eq!(calls(&searched, "acm:SearchCertificates"), 5 + 2);
    assert_eq!(calls(&searched, "acm:ListCertificates"), 0);
    // ListCertificates pages of 1,000: three for the big target, one for each of the others.
    assert_eq!(calls(&listed, "acm:ListCertificates"), 3 + 2);
}

const KEY_TYPES: &str = r#"
[organization]
management_account_id = "111122223333"
regions = ["us-east-1"]

[[accounts]]
id = "111122223333"
name = "management"

[[accounts.certificates]]
region = "us-east-1"
domain = "rsa2048.example.com"
expires_in_days = 100
in_use_by = ["arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/a/1"]

[[accounts.certificates]]
region = "us-east-1"
domain = "ec256.example.com"
key_algorithm = "EC_prime256v1"
expires_in_days = 100
in_use_by = ["arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/b/2"]

[[accounts.certificates]]
region = "us-east-1"
domain = "rsa4096.example.com"
key_algorithm = "RSA_4096"
expires_in_days = 100
in_use_by = ["arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/c/3"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec_and_rsa_4096_appear_only_when_asked_for() {
    let scenario = Scenario::from_toml(KEY_TYPES).expect("scenario");
    let now = now();
    let server = start(scenario, now, Behaviour::default()).await;

    // A ListCertificates without `Includes` (what a scanner that forgot the filter sends).
    let addr = server.endpoint().trim_start_matches("http://").to_owned();
    let auth = "AWS4-HMAC-SHA256 Credential=sim/20260101/us-east-1/acm/aws4_request, SignedHeaders=host, Signature=0".to_owned();
    let headers = [
        (
            "X-Amz-Target",
            "CertificateManager.ListCertificates".to_owned(),
        ),
        ("Content-Type", "application/x-amz-json-1.1".to_owned()),
        ("Authorization", auth),
    ];
    let unfiltered = http::request(&addr, "POST", "/", &headers, "{}")
        .await
        .expect("list");
    assert_eq!(unfiltered.status, 200, "{}", unfiltered.body);
    assert!(unfiltered.body.contains("rsa2048.example.com"));
    assert!(
        !unfiltered.body.contains("ec256.example.com"),
        "{}",
        unfiltered.body
    );
    assert!(!unfiltered.body.contains("rsa4096.example.com"));

    // The scanner sees all three: SearchCertificates hides nothing, and where it falls back to
    // ListCertificates (search off here) it asks for every key type.
    let mut config = scan_config(&["us-east-1"], Duration::from_secs(5));
    let searched = scan(&server, &config, now).await;
    config.search_certificates = false;
    let listed = scan(&server, &config, now).await;
    server.shutdown().await;
    assert_eq!(calls(&listed, "acm:ListCertificates"), 1);
    for report in [&searched, &listed] {
        let domains: BTreeSet<_> = report
            .certificates
            .iter()
            .filter_map(|c| c.facts.domain_name.as_deref())
            .collect();
        assert_eq!(
            domains,
            BTreeSet::from([
                "ec256.example.com",
                "rsa2048.example.com",
                "rsa4096.example.com"
            ])
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_failing_in_the_second_scan_keeps_its_data_marked_stale() {
    let scenario = generated(3, &REGIONS[..2], 2);
    let now = now();
    let config = scan_config(&REGIONS[..2], Duration::from_secs(2));
    let mut store = certwatch_store::Store::open_in_memory().expect("store");

    let server = start(scenario.clone(), now, realistic()).await;
    let first = scan(&server, &config, now).await;
    server.shutdown().await;
    assert!(first.failures.is_empty(), "{:#?}", first.failures);
    store.record_scan(&first).expect("record the first scan");

    let broken = GeneratorSpec::member_id(1);
    let behaviour = Behaviour {
        faults: vec![Fault::at(
            FaultKind::ServerError,
            &broken,
            Some("eu-west-1"),
        )],
        ..realistic()
    };
    let later = now + chrono::Duration::hours(6);
    let server = start(scenario.clone(), later, behaviour).await;
    let second = scan(&server, &config, later).await;
    server.shutdown().await;
    assert_eq!(second.failures.len(), 1, "{:#?}", second.failures);
    let inventory = store.record_scan(&second).expect("record the second scan");

    // Everything from the first scan is still there; only the failed target's is stale.
    assert_eq!(found(&inventory.report), expected(&scenario));
    for record in &inventory.report.certificates {
        let facts = &record.facts;
        let failed = facts.account_id == broken && facts.region == "eu-west-1";
        assert_eq!(
            inventory.last_seen(&facts.arn),
            failed.then_some(now),
            "{} {}",
            facts.account_id,
            facts.region
        );
    }
    assert_eq!(inventory.stale.len(), 2);
}

//! SearchCertificates, the scanner's main listing call, against the simulator: it must find
//! what ListCertificates + DescribeCertificate find, give every certificate the same verdict,
//! describe far fewer, and fall back to ListCertificates wherever it is refused.

use crate::support::sim::{calls, scan, scan_config, start};
use certwatch_core::{Finding, Report};
use certwatch_sim::{Behaviour, GeneratorSpec, Scenario};
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::BTreeMap;
use std::time::Duration;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-northeast-1"];

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// A realistic mix (mostly healthy and in use; some imported, email-validated, unused,
/// failing, expired), 41 accounts × 3 regions.
fn mixed() -> Scenario {
    Scenario::generate(&GeneratorSpec {
        members: 40,
        regions: REGIONS.iter().map(|r| (*r).to_owned()).collect(),
        certificates_per_region: 6,
        seed: 11,
        denied_percent: 0,
        suspended_percent: 0,
        occupied_percent: 100,
        ..GeneratorSpec::default()
    })
}

fn verdicts(report: &Report) -> BTreeMap<String, Vec<Finding>> {
    report
        .certificates
        .iter()
        .map(|r| (r.facts.arn.clone(), r.findings.clone()))
        .collect()
}

fn described(report: &Report) -> usize {
    report
        .certificates
        .iter()
        .filter(|r| r.facts.described)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_gives_every_certificate_the_verdict_of_a_full_describe() {
    let scenario = mixed();
    let now = now();
    let server = start(scenario, now, Behaviour::default()).await;
    let mut config = scan_config(&REGIONS, Duration::from_secs(5));
    config.rates.describe_certificate = 1_000.0;
    config.rates.list_certificates = 100.0;
    config.rates.search_certificates = 100.0;
    let searched = scan(&server, &config, now).await;
    config.search_certificates = false;
    let listed = scan(&server, &config, now).await;
    server.shutdown().await;

    for report in [&searched, &listed] {
        assert!(report.failures.is_empty(), "{:#?}", report.failures);
        assert_eq!(report.stats.search_fallbacks, 0);
    }
    // The same certificates, each with the same findings, word for word.
    assert_eq!(verdicts(&searched), verdicts(&listed));
    let certificates = searched.certificates.len();
    let needing_a_human = searched
        .certificates
        .iter()
        .filter(|r| !r.findings.is_empty())
        .count();
    assert!(
        certificates > 500 && needing_a_human > 20,
        "{certificates}, {needing_a_human}"
    );

    // The search scan lists with SearchCertificates only and describes a fraction.
    assert_eq!(calls(&searched, "acm:ListCertificates"), 0);
    assert_eq!(calls(&searched, "acm:SearchCertificates"), 41 * 3);
    assert_eq!(calls(&listed, "acm:SearchCertificates"), 0);
    let (few, all) = (described(&searched), described(&listed));
    assert_eq!(
        calls(&searched, "acm:DescribeCertificate"),
        few as u64,
        "one describe per described certificate"
    );
    assert!(
        few * 3 < all,
        "search described {few} of {certificates}, list {all}"
    );
    let per_cert = |r: &Report| r.stats.api_calls as f64 / r.certificates.len() as f64;
    eprintln!(
        "{certificates} certificates ({needing_a_human} need a human): search described {few} \
         with {:.2} calls per certificate; list described {all} with {:.2}",
        per_cert(&searched),
        per_cert(&listed)
    );
    assert!(
        per_cert(&searched) <= 1.2 && per_cert(&searched) < per_cert(&listed),
        "calls per certificate: search {:.2}, list {:.2}",
        per_cert(&searched),
        per_cert(&listed)
    );
    // Validation method and renewal status come from the search result where nothing was
    // described.
    let healthy = searched
        .certificates
        .iter()
        .find(|r| !r.facts.described && r.facts.cert_type == certwatch_core::CertType::AmazonIssued)
        .expect("an undescribed Amazon-issued certificate");
    assert!(healthy.validation_method.is_some(), "{healthy:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_refused_search_falls_back_and_loses_nothing() {
    let mut scenario = mixed();
    let refused = GeneratorSpec::member_id(7);
    scenario
        .accounts
        .iter_mut()
        .find(|a| a.id == refused)
        .expect("member 7")
        .denied_actions = vec!["acm:SearchCertificates".to_owned()];
    let now = now();
    let server = start(scenario.clone(), now, Behaviour::default()).await;
    let mut config = scan_config(&REGIONS, Duration::from_secs(5));
    config.rates.describe_certificate = 1_000.0;
    config.rates.search_certificates = 100.0;
    config.rates.list_certificates = 100.0;
    let report = scan(&server, &config, now).await;
    server.shutdown().await;

    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    // All three regions of that account, and only those, were listed the old way.
    assert_eq!(report.stats.search_fallbacks, 3);
    assert_eq!(calls(&report, "acm:ListCertificates"), 3);
    // IAM is global: one refusal is enough; the other regions did not ask again (concurrent
    // regions may each have asked once before the first refusal came back).
    assert!((1..=3).contains(&calls(&report, "acm:SearchCertificates").saturating_sub(40 * 3)));
    let expected = scenario
        .accounts
        .iter()
        .find(|a| a.id == refused)
        .map(|a| a.certificates.len())
        .unwrap();
    let theirs: Vec<_> = report
        .certificates
        .iter()
        .filter(|r| r.facts.account_id == refused)
        .collect();
    assert_eq!(theirs.len(), expected);
    for record in theirs {
        let imported_or_over = matches!(record.facts.cert_type, certwatch_core::CertType::Imported)
            || record.facts.is_expired(now)
            || record.facts.status == certwatch_core::CertStatus::Revoked;
        assert!(
            record.facts.described || imported_or_over,
            "listed without search, so described: {record:#?}"
        );
        assert!(record.facts.search.is_none());
    }
}

//! `certwatch demo`: the real scanner, through the real AWS SDK clients, against the built-in
//! simulated organization. The scenario file is the source of truth for what must be found.

use certwatch_core::{Code, Report, Stage};
use certwatch_sim::region_catalogue::DEFAULT_ENABLED;
use certwatch_sim::Scenario;
use std::collections::BTreeSet;
use std::process::{Command, Output};

fn certwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_certwatch"))
        .args(args)
        .env_remove("CERTWATCH_CONFIG")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("run certwatch")
}

fn demo_json(extra: &[&str]) -> (Output, Report) {
    let mut args = vec!["demo", "--format", "json"];
    args.extend_from_slice(extra);
    let out = certwatch(&args);
    let report: Report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, report)
}

#[test]
fn demo_finds_every_certificate_of_every_reachable_account() {
    let (out, report) = demo_json(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scenario = Scenario::demo();

    // What a correct scanner must see: ACTIVE accounts whose role can be assumed, in their
    // enabled regions (the management account with its own credentials).
    let mut expected = BTreeSet::new();
    let mut denied = BTreeSet::new();
    let mut inactive = BTreeSet::new();
    for account in &scenario.accounts {
        let state = account.state.as_deref().unwrap_or("ACTIVE");
        if state != "ACTIVE" {
            inactive.insert(account.id.clone());
            continue;
        }
        if account.deny_assume_role {
            denied.insert(account.id.clone());
            continue;
        }
        for cert in &account.certificates {
            let enabled = DEFAULT_ENABLED.contains(&cert.region.as_str())
                || account.opt_in_regions.contains(&cert.region);
            if enabled {
                expected.insert((account.id.clone(), cert.region.clone(), cert.domain.clone()));
            }
        }
    }
    let found: BTreeSet<(String, String, String)> = report
        .certificates
        .iter()
        .map(|c| {
            let f = &c.facts;
            (
                f.account_id.clone(),
                f.region.clone(),
                f.domain_name.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        found, expected,
        "reported vs scenario (account, region, domain)"
    );
    assert_eq!(
        report.certificates.len(),
        expected.len(),
        "no certificate twice"
    );
    for c in &report.certificates {
        assert!(
            c.facts
                .arn
                .contains(&format!(":{}:{}:", c.facts.region, c.facts.account_id)),
            "{} reported under {} {}",
            c.facts.arn,
            c.facts.account_id,
            c.facts.region
        );
    }
    assert!(
        !inactive.is_empty() && !denied.is_empty(),
        "the demo shows both cases"
    );
    assert!(report
        .certificates
        .iter()
        .all(|c| !inactive.contains(&c.facts.account_id)));

    // The denied account is a failure row, not a silent gap.
    let failed: BTreeSet<String> = report
        .failures
        .iter()
        .filter(|f| f.stage == Stage::AssumeRole && f.region.is_none())
        .map(|f| f.account_id.clone())
        .collect();
    assert_eq!(failed, denied);
    assert!(report
        .failures
        .iter()
        .all(|f| f.error.contains("AccessDenied")));
    assert_eq!(report.stats.throttled, 0);
    assert_eq!(
        report.stats.certificates as usize,
        report.certificates.len()
    );
}

#[test]
fn demo_shows_every_finding_code_and_healthy_certificates() {
    let (_, report) = demo_json(&[]);
    let codes: BTreeSet<Code> = report
        .certificates
        .iter()
        .flat_map(|c| c.findings.iter().map(|f| f.code.clone()))
        .collect();
    let missing: Vec<&Code> = Code::ALL.iter().filter(|c| !codes.contains(c)).collect();
    assert!(missing.is_empty(), "the demo lacks {missing:?}");
    assert!(report.certificates.iter().any(|c| c.findings.is_empty()));
    // Key types the default ListCertificates filter hides are still found.
    for key in ["EC_prime256v1", "RSA_4096"] {
        assert!(
            report
                .certificates
                .iter()
                .any(|c| c.facts.key_algorithm.as_deref() == Some(key)),
            "no {key} certificate: the key-type filter was not sent"
        );
    }
    // Expiry comes from NotAfter: an expired certificate whose Status still says ISSUED.
    assert!(report.certificates.iter().any(|c| {
        c.facts.status.as_str() == "ISSUED" && c.findings.iter().any(|f| f.code == Code::Expired)
    }));
}

#[test]
fn fail_on_sets_the_exit_code_and_still_prints() {
    let (out, report) = demo_json(&["--fail-on", "expired"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!report.certificates.is_empty());
    let out = certwatch(&["demo", "--format", "csv", "--fail-on", "upcoming"]);
    assert_eq!(out.status.code(), Some(1));
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("account_id,account_name,region,arn,"));
    assert!(
        csv.lines().any(|l| l.contains(",IMPORTED,urgent,")),
        "{csv}"
    );
}

#[test]
fn fail_on_failures_exits_1_when_something_was_not_scanned() {
    // The demo's data-staging account denies AssumeRole: one failure row.
    let (out, report) = demo_json(&["--fail-on-failures"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report.failures.len(), 1, "{:#?}", report.failures);
    assert!(
        !report.certificates.is_empty(),
        "the report is still printed"
    );
    // Without the flag, failures alone do not change the exit status.
    let (out, _) = demo_json(&[]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn table_output_reads_as_a_report() {
    let out = certwatch(&["demo", "--format", "table"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("need a human"), "{text}");
    assert!(text.contains("What to do:"));
    assert!(text.contains("Not scanned or not checked (1 failures"));
    assert!(text.contains("assume_role"));
}

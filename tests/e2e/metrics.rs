//! `/metrics` of a running `certwatch serve`, read by a real Prometheus parser (the Python
//! client's `text_string_to_metric_families`, from the test venv) and checked against
//! `/readyz` and against a scan of the same simulated organization made here.

use crate::support::fake_slack::FakeSlack;
use crate::support::http::request;
use crate::support::serve::{form, form_in, http_slack, Setup};
use certwatch_scanner::ScanConfig;
use certwatch_sim::Scenario;
use chrono::Utc;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every sample of the exposition as JSON: its family, the family's type, name, labels, value.
const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        samples.append({"family": family.name, "type": family.type, "name": s.name,
                        "labels": s.labels, "value": s.value})
json.dump(samples, sys.stdout)
"#;

fn parse(exposition: &str) -> Vec<Value> {
    let python = crate::support::moto::python();
    let mut child = Command::new(python)
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    // The script reads all of its input before it writes anything.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "prometheus_client could not parse the exposition: {}\n{exposition}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the parser's JSON")
}

fn named<'s>(samples: &'s [Value], name: &str) -> Vec<&'s Value> {
    samples.iter().filter(|s| s["name"] == name).collect()
}

/// The value of the one sample of `name` with these labels (and maybe others).
fn one(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Value> = named(samples, name)
        .into_iter()
        .filter(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    found[0]["value"].as_f64().unwrap()
}

fn label<'s>(sample: &'s Value, key: &str) -> &'s str {
    sample["labels"][key].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_and_match_the_inventory() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let sim = certwatch_sim::serve(Scenario::demo(), Utc::now())
        .await
        .unwrap();
    let slack = FakeSlack::start().await;
    let (_, tables) = http_slack(2);
    let setup = Setup::new(
        &slack.api_url,
        &format!("[scan]\nregions = \"enabled\"\n{tables}"),
    );
    let _serve = setup.start(&sim.endpoint());
    let ready = setup.wait_ready().await;

    // Something for the counters: the digest, a command answered and one refused.
    let deadline = Instant::now() + Duration::from_secs(40);
    while slack.parents().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no digest was posted; serve log:\n{}",
            setup.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Its replies follow the parent: counted once the last is posted.
    while !request(&setup.addr, "GET", "/metrics", &[], "")
        .await
        .unwrap()
        .body
        .contains("\ncertwatch_digests_posted_total 1\n")
    {
        assert!(Instant::now() < deadline, "the digest was not counted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = setup.signed(&form("U0000001", "summary", "")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = setup
        .signed(&form_in("C0999", "U0000001", "summary", ""))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("does not answer in this channel"), "{body}");

    let response = request(&setup.addr, "GET", "/metrics", &[], "")
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    let samples = parse(&response.body);
    eprintln!(
        "/metrics: {} samples, {} bytes",
        samples.len(),
        response.body.len()
    );

    // The same organization scanned here: what serve's inventory must hold.
    let reference = crate::support::sim::scan(&sim, &ScanConfig::default(), Utc::now()).await;
    let certificates = ready["certificates"].as_u64().unwrap() as usize;
    assert_eq!(certificates, reference.certificates.len());
    assert_eq!(certificates, 46);

    // One NotAfter per certificate that has one, each the certificate's, labelled as it is.
    let not_after = named(
        &samples,
        "certwatch_certificate_not_after_timestamp_seconds",
    );
    let expected: BTreeMap<&str, &certwatch_core::CertificateRecord> = reference
        .certificates
        .iter()
        .filter(|c| c.facts.not_after.is_some())
        .map(|c| (c.facts.arn.as_str(), c))
        .collect();
    assert!(expected.len() > 40, "{}", expected.len());
    assert_eq!(not_after.len(), expected.len());
    for sample in &not_after {
        assert_eq!(sample["type"], "gauge");
        let record = expected
            .get(label(sample, "arn"))
            .unwrap_or_else(|| panic!("an unknown certificate: {sample}"));
        assert_eq!(
            sample["value"].as_f64().unwrap(),
            record.facts.not_after.unwrap().timestamp() as f64,
            "{sample}"
        );
        assert_eq!(label(sample, "domain"), record.facts.display_name());
        assert_eq!(label(sample, "account_id"), record.facts.account_id);
        assert_eq!(label(sample, "account_name"), record.account_name);
        assert_eq!(label(sample, "region"), record.facts.region);
    }
    let billing = not_after
        .iter()
        .find(|s| label(s, "domain") == "billing.example.com")
        .expect("billing.example.com");
    assert_eq!(label(billing, "account_name"), "payments-prod");
    assert_eq!(label(billing, "account_id"), "456789012345");

    // One series per finding: exactly the scan's (ARN, code, urgency).
    let findings: BTreeSet<(String, String, String)> =
        named(&samples, "certwatch_certificate_findings")
            .into_iter()
            .map(|s| {
                assert_eq!(s["value"], 1.0, "{s}");
                let field = |k| label(s, k).to_owned();
                (field("arn"), field("code"), field("urgency"))
            })
            .collect();
    let expected: BTreeSet<(String, String, String)> = reference
        .certificates
        .iter()
        .flat_map(|c| {
            c.findings.iter().map(|f| {
                (
                    c.facts.arn.clone(),
                    f.code.as_str().to_owned(),
                    f.urgency.as_str().to_owned(),
                )
            })
        })
        .collect();
    assert_eq!(findings, expected);
    let billing_arn = label(billing, "arn").to_owned();
    assert!(findings
        .iter()
        .any(|(arn, code, _)| *arn == billing_arn && code == "RENEWAL_FAILED"));
    for (domain, code) in [
        ("legacy-pay.example.com", "EXPIRED"),
        ("promo.example.net", "IMPORTED"),
        ("pay.example.it", "CAA_BLOCKED"),
    ] {
        let arn = &reference
            .certificates
            .iter()
            .find(|c| c.facts.domain_name.as_deref() == Some(domain))
            .unwrap_or_else(|| panic!("the demo has {domain}"))
            .facts
            .arn;
        assert!(
            findings.iter().any(|(a, c, _)| a == arn && c == code),
            "{domain} {code}"
        );
    }

    // The scan's numbers, as /readyz and the scan here saw them.
    let single = |name: &str| one(&samples, name, &[]);
    assert_eq!(single("certwatch_scan_certificates"), certificates as f64);
    assert_eq!(
        single("certwatch_scan_failed_targets"),
        ready["failures"].as_u64().unwrap() as f64
    );
    assert!(single("certwatch_scan_duration_seconds") > 0.0);
    let last_scan: chrono::DateTime<Utc> = ready["last_scan"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        single("certwatch_last_successful_scan_timestamp_seconds"),
        last_scan.timestamp() as f64
    );
    let actions: BTreeSet<&str> = named(&samples, "certwatch_scan_api_calls")
        .into_iter()
        .map(|s| label(s, "action"))
        .collect();
    let expected: BTreeSet<&str> = reference
        .stats
        .calls_by_action
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(actions, expected);
    assert!(
        one(
            &samples,
            "certwatch_scan_api_calls",
            &[("action", "acm:SearchCertificates")]
        ) > 0.0
    );

    // The counters: `_total` samples of counter families.
    let scans = named(&samples, "certwatch_scans_total");
    assert!(scans.iter().all(|s| s["type"] == "counter"), "{scans:?}");
    let counter = |name: &str, labels: &[(&str, &str)]| one(&samples, name, labels);
    assert_eq!(
        counter("certwatch_scans_total", &[("outcome", "succeeded")]),
        1.0
    );
    assert_eq!(
        counter("certwatch_scans_total", &[("outcome", "failed")]),
        0.0
    );
    assert_eq!(counter("certwatch_digests_posted_total", &[]), 1.0);
    assert_eq!(counter("certwatch_alert_sets_posted_total", &[]), 0.0);
    for (outcome, n) in [("answered", 1.0), ("refused", 1.0), ("error", 0.0)] {
        assert_eq!(
            counter("certwatch_slack_commands_total", &[("outcome", outcome)]),
            n,
            "{outcome}"
        );
    }
}

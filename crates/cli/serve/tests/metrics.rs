//! `/metrics` in process: the exposition read back and checked against the inventory it was
//! built from, a deleted certificate's series gone after a scan, and the counters moving.
//! tests/e2e/metrics.rs reads the same exposition with Prometheus's own Python parser.

use super::*;
use std::collections::BTreeMap;

const NOT_AFTER: &str = "certwatch_certificate_not_after_timestamp_seconds";
const FINDINGS: &str = "certwatch_certificate_findings";

/// One line of the exposition.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a text exposition (version 0.0.4); panics on a line it cannot read.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let end = line.find(['{', ' ']).expect("a sample line");
        let name = line[..end].to_owned();
        let mut labels = BTreeMap::new();
        let mut rest = &line[end..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices();
            loop {
                let (key_start, c) = chars.next().expect("a label or '}'");
                if c == '}' {
                    rest = &inner[key_start + 1..];
                    break;
                }
                let key_start = if c == ',' {
                    chars.next().expect("a label").0
                } else {
                    key_start
                };
                let eq = key_start + inner[key_start..].find("=\"").expect("key=\"value\"");
                let key = inner[key_start..eq].to_owned();
                while chars.next().expect("key").0 < eq + 1 {}
                let mut value = String::new();
                loop {
                    match chars.next().expect("a closing quote").1 {
                        '"' => break,
                        '\\' => match chars.next().expect("an escape").1 {
                            'n' => value.push('\n'),
                            other => value.push(other),
                        },
                        other => value.push(other),
                    }
                }
                labels.insert(key, value);
            }
        }
        let value = rest.trim().parse().unwrap_or_else(|_| panic!("{line}"));
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    samples
}

fn series<'s>(samples: &'s [Sample], name: &str) -> Vec<&'s Sample> {
    samples.iter().filter(|s| s.name == name).collect()
}

/// The value of the one sample of `name` with these labels (and maybe others).
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = series(samples, name)
        .into_iter()
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    found[0].value
}

async fn scrape(app: &Arc<App>) -> Vec<Sample> {
    let (status, text) = get(app, "/metrics").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    parse(&text)
}

fn record<'r>(report: &'r Report, domain: &str) -> &'r certwatch_core::CertificateRecord {
    report
        .certificates
        .iter()
        .find(|c| c.facts.domain_name.as_deref() == Some(domain))
        .unwrap_or_else(|| panic!("the demo has {domain}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_the_inventory_and_what_the_runtime_did() {
    let report = demo_report().await;
    let start = report.generated_at;
    let rig = Rig::new(start, report.clone());
    let app = rig.app(config(&digest_at("09:00", "UTC")), scanned_store(&report));

    let response = http::router(app.clone())
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );

    // One NotAfter per certificate, with its labels and its date.
    let samples = scrape(&app).await;
    let inventory = app.inventory();
    let certificates = &inventory.report.certificates;
    assert_eq!(certificates.len(), 46);
    let with_expiry = certificates
        .iter()
        .filter(|c| c.facts.not_after.is_some())
        .count();
    assert!(with_expiry > 40, "{with_expiry}");
    assert_eq!(series(&samples, NOT_AFTER).len(), with_expiry);
    let billing = record(&report, "billing.example.com");
    let arn = billing.facts.arn.as_str();
    let not_after = series(&samples, NOT_AFTER)
        .into_iter()
        .find(|s| s.labels["arn"] == arn)
        .expect("billing.example.com's NotAfter");
    assert_eq!(
        not_after.value,
        billing.facts.not_after.unwrap().timestamp() as f64
    );
    let labels: Vec<(&str, &str)> = not_after
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("account_id", "456789012345"),
            ("account_name", "payments-prod"),
            ("arn", arn),
            ("domain", "billing.example.com"),
            ("region", billing.facts.region.as_str()),
        ]
    );

    // One series per finding, valued 1, with the finding's code and urgency.
    let findings: usize = certificates.iter().map(|c| c.findings.len()).sum();
    assert!(findings > 10, "{findings}");
    let finding_series = series(&samples, FINDINGS);
    assert_eq!(finding_series.len(), findings);
    assert!(finding_series.iter().all(|s| s.value == 1.0));
    assert!(!billing.findings.is_empty());
    for f in &billing.findings {
        let labels = [
            ("arn", arn),
            ("code", f.code.as_str()),
            ("urgency", f.urgency.as_str()),
            ("account_name", "payments-prod"),
        ];
        assert_eq!(value(&samples, FINDINGS, &labels), 1.0);
    }
    let healthy = record(&report, "fraud-api.example.com");
    assert!(healthy.findings.is_empty());
    assert!(!finding_series
        .iter()
        .any(|s| s.labels["arn"] == healthy.facts.arn));

    // Restored from the store: the last scan's time; nothing counted yet.
    assert_eq!(
        value(
            &samples,
            "certwatch_last_successful_scan_timestamp_seconds",
            &[]
        ),
        start.timestamp() as f64
    );
    for outcome in ["answered", "refused", "error"] {
        let labels = [("outcome", outcome)];
        assert_eq!(
            value(&samples, "certwatch_slack_commands_total", &labels),
            0.0
        );
    }

    // `/certs` by outcome: an answer, a refusal, and an apology (the store cannot record).
    certs(&app, "U0000001", "summary").await;
    certs(&app, "U0000001", &format!("show {arn}")).await;
    let (status, _) = signed(&app, &form("T0001", "C0999", ADMIN, "summary", "")).await;
    assert_eq!(status, StatusCode::OK);
    app.with_store(|s| s.set_read_only(true)).await.unwrap();
    let reply = certs(&app, RESPONDER, &format!("snooze {arn} 7d waiting for DNS")).await;
    assert!(reply.contains("Sorry"), "{reply}");
    app.with_store(|s| s.set_read_only(false)).await.unwrap();
    let samples = scrape(&app).await;
    let commands = |outcome| {
        value(
            &samples,
            "certwatch_slack_commands_total",
            &[("outcome", outcome)],
        )
    };
    assert_eq!(
        (commands("answered"), commands("refused"), commands("error")),
        (2.0, 1.0, 1.0)
    );

    // A certificate deleted: after the scan its series are gone, and the scan's numbers show.
    let gone = record(&report, "legacy-pay.example.com");
    assert!(!gone.findings.is_empty());
    let mut second = report.clone();
    second
        .certificates
        .retain(|c| c.facts.arn != gone.facts.arn);
    second.stats.describes_saved = 17;
    *rig.scanner.report.lock().unwrap() = second;
    let scanned_at = start + chrono::Duration::hours(6);
    rig.clock.set(scanned_at);
    scan_loop::scan_once(&app).await;
    let samples = scrape(&app).await;
    assert_eq!(series(&samples, NOT_AFTER).len(), with_expiry - 1);
    assert!(!samples
        .iter()
        .any(|s| s.labels.get("arn") == Some(&gone.facts.arn)));
    assert_eq!(
        series(&samples, FINDINGS).len(),
        findings - gone.findings.len()
    );
    let stats = &report.stats;
    let single = |name: &str| value(&samples, name, &[]);
    assert_eq!(
        single("certwatch_scan_duration_seconds"),
        stats.duration_ms as f64 / 1000.0
    );
    assert_eq!(
        single("certwatch_scan_certificates"),
        stats.certificates as f64
    );
    assert_eq!(single("certwatch_scan_throttles"), stats.throttled as f64);
    assert_eq!(single("certwatch_scan_describes_saved"), 17.0);
    assert_eq!(
        single("certwatch_scan_failed_targets"),
        report.failures.len() as f64
    );
    assert!(!report.failures.is_empty());
    assert_eq!(
        single("certwatch_last_successful_scan_timestamp_seconds"),
        scanned_at.timestamp() as f64
    );
    assert!(!stats.calls_by_action.is_empty());
    assert_eq!(
        series(&samples, "certwatch_scan_api_calls").len(),
        stats.calls_by_action.len()
    );
    for (action, calls) in &stats.calls_by_action {
        let labels = [("action", action.as_str())];
        assert_eq!(
            value(&samples, "certwatch_scan_api_calls", &labels),
            *calls as f64
        );
    }
    let scans = |samples: &[Sample], outcome| {
        value(samples, "certwatch_scans_total", &[("outcome", outcome)])
    };
    assert_eq!(scans(&samples, "succeeded"), 1.0);
    // The deletion of a certificate with a finding is an alert.
    assert_eq!(rig.slack.alerts.lock().unwrap().len(), 1);
    assert_eq!(single("certwatch_alert_sets_posted_total"), 1.0);

    // A scan that cannot be stored: counted, and the last good one's numbers stay.
    app.with_store(|s| s.set_read_only(true)).await.unwrap();
    rig.clock.set(scanned_at + chrono::Duration::hours(1));
    scan_loop::scan_once(&app).await;
    app.with_store(|s| s.set_read_only(false)).await.unwrap();
    let samples = scrape(&app).await;
    assert_eq!(scans(&samples, "failed"), 1.0);
    assert_eq!(scans(&samples, "succeeded"), 1.0);
    assert_eq!(
        value(
            &samples,
            "certwatch_last_successful_scan_timestamp_seconds",
            &[]
        ),
        scanned_at.timestamp() as f64
    );

    // The digest.
    assert_eq!(value(&samples, "certwatch_digests_posted_total", &[]), 0.0);
    let until = rig.clock.now() + chrono::Duration::days(2);
    run_digests(&app, &rig, until, |p| !p.is_empty()).await;
    assert_eq!(rig.slack.posts().len(), 1);
    let samples = scrape(&app).await;
    assert_eq!(value(&samples, "certwatch_digests_posted_total", &[]), 1.0);
}

#[test]
fn the_parser_reads_escaped_label_values() {
    let samples =
        parse("# HELP x y\nx{a=\"q\\\"uo,te\",b=\"back\\\\slash\\nline\"} 3\ny 1.5\nz{} 2\n");
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[0].labels["a"], "q\"uo,te");
    assert_eq!(samples[0].labels["b"], "back\\slash\nline");
    assert_eq!(samples[0].value, 3.0);
    assert_eq!((samples[1].name.as_str(), samples[1].value), ("y", 1.5));
    assert!(samples[2].labels.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_over_socket_mode_too_and_before_any_scan() {
    let now = utc("2026-11-02T08:00:00Z");
    let rig = Rig::new(now, empty_report(now));
    let socket = App::new(Parts {
        config: config(""),
        clock: rig.clock.clone(),
        scanner: rig.scanner.clone(),
        slack: None,
        resender: None,
        store: Store::open_in_memory().unwrap(),
        signing_secret: None,
        slack_status: SlackStatus {
            transport: "socket",
            ..SlackStatus::default()
        },
    })
    .unwrap();
    let samples = scrape(&socket).await;
    assert!(
        !samples
            .iter()
            .any(|s| s.name.starts_with("certwatch_certificate_")),
        "no inventory, no certificate series: {samples:?}"
    );
    assert_eq!(
        value(
            &samples,
            "certwatch_last_successful_scan_timestamp_seconds",
            &[]
        ),
        0.0
    );
    assert_eq!(
        value(
            &samples,
            "certwatch_scans_total",
            &[("outcome", "succeeded")]
        ),
        0.0
    );
}

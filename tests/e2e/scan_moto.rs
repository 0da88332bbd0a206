//! `certwatch scan` against moto: an organization of four active accounts and a suspended one,
//! two regions, certificates of every kind (see `tests/moto/seed_org.py`). The report must
//! hold each certificate exactly once, in its own account and region, with the verdict the
//! seed expects, and nothing from the suspended account.

use std::collections::BTreeSet;
use std::process::Output;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use serde_json::Value;

use crate::support::moto::{self, ExpectedFinding, Kind, Manifest, Moto, SeededCertificate};

/// The JSON contract of `certwatch scan --format json`, key by key.
const REPORT_KEYS: &[&str] = &[
    "generated_at",
    "certificates",
    "failures",
    "accounts",
    "stats",
];
const CERTIFICATE_KEYS: &[&str] = &[
    "account_id",
    "account_name",
    "region",
    "arn",
    "domain_name",
    "subject_alternative_names",
    "type",
    "status",
    "key_algorithm",
    "not_after",
    "days_to_expiry",
    "in_use",
    "in_use_by",
    "validation_method",
    "renewal_eligibility",
    "renewal_status",
    "findings",
];
const FINDING_KEYS: &[&str] = &["code", "urgency", "summary", "remedy"];
const FAILURE_KEYS: &[&str] = &["account_id", "region", "stage", "error"];
const STATS_KEYS: &[&str] = &[
    "accounts",
    "targets",
    "certificates",
    "api_calls",
    "throttled",
    "duration_ms",
];

#[derive(Debug, Deserialize)]
struct Report {
    generated_at: String,
    certificates: Vec<ReportedCertificate>,
    /// Kept as JSON: only printed.
    failures: Vec<Value>,
    stats: Stats,
}

#[derive(Debug, Deserialize)]
struct ReportedCertificate {
    account_id: String,
    account_name: String,
    region: String,
    arn: String,
    domain_name: String,
    subject_alternative_names: Vec<String>,
    #[serde(rename = "type")]
    certificate_type: String,
    status: String,
    key_algorithm: String,
    not_after: Option<String>,
    days_to_expiry: Option<i64>,
    in_use: bool,
    in_use_by: Vec<String>,
    validation_method: Option<String>,
    renewal_status: Option<String>,
    findings: Vec<Finding>,
}

#[derive(Debug, Deserialize)]
struct Finding {
    code: String,
    urgency: String,
    summary: String,
    remedy: String,
}

#[derive(Debug, Deserialize)]
struct Stats {
    accounts: usize,
    targets: usize,
    certificates: usize,
    api_calls: u64,
    throttled: u64,
    duration_ms: u64,
}

#[test]
fn scan_finds_every_certificate_in_its_account_and_region() {
    let moto = Moto::start();
    let manifest = moto::seed(&moto);
    assert_seed_covers_every_case(&manifest);
    let output = scan(&moto, &manifest, &[]);
    assert_exit_code(&output, 0);
    let report = parse_report(&output);
    // Shown with --nocapture: how long the scan of the moto organization took.
    eprintln!(
        "moto org: {} certificates in {} accounts, {} account-regions, {} API calls in {} ms",
        report.stats.certificates,
        report.stats.accounts,
        report.stats.targets,
        report.stats.api_calls,
        report.stats.duration_ms
    );

    assert!(
        report.failures.is_empty(),
        "the scan reported failures:\n{}",
        pretty(&report.failures)
    );
    assert_nothing_from_suspended(&manifest, &report);
    assert_same_certificates(&manifest, &report);

    let accounts = manifest.active_accounts().len();
    let stats = &report.stats;
    assert_eq!(
        stats.accounts, accounts,
        "stats.accounts: the management account and the ACTIVE members"
    );
    assert_eq!(
        stats.targets,
        accounts * manifest.regions.len(),
        "stats.targets: accounts × regions"
    );
    assert_eq!(
        stats.certificates,
        manifest.certificates.len(),
        "stats.certificates"
    );
    assert!(
        stats.api_calls >= stats.targets as u64,
        "stats.api_calls = {} but every target needs a ListCertificates",
        stats.api_calls
    );
    assert_eq!(
        stats.throttled, 0,
        "moto never throttles, yet stats.throttled > 0"
    );

    let generated_at = parse_time("generated_at", &report.generated_at);
    let problems: Vec<String> = manifest
        .certificates
        .iter()
        .flat_map(|seeded| {
            let reported = report
                .certificates
                .iter()
                .find(|c| c.arn == seeded.arn)
                .expect("checked by assert_same_certificates");
            certificate_problems(&manifest, seeded, reported, generated_at)
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{} problem(s) with reported certificates:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn scan_with_fail_on_exits_1() {
    let moto = Moto::start();
    let manifest = moto::seed(&moto);
    assert_seed_covers_every_case(&manifest);
    let output = scan(&moto, &manifest, &["--fail-on", "urgent"]);
    assert_exit_code(&output, 1);
    // The report is still printed: the exit code is for CI, the JSON for the human.
    let report = parse_report(&output);
    assert_eq!(
        report.certificates.len(),
        manifest.certificates.len(),
        "certificates in the report"
    );
}

/// The checks below are only as good as the seed: it must hold one certificate of each kind,
/// an urgent imported one, and a suspended account.
fn assert_seed_covers_every_case(manifest: &Manifest) {
    let has = |kind: Kind, urgency: Option<&str>| {
        manifest.certificates.iter().any(|c| {
            c.kind == kind && urgency.is_none_or(|u| c.expected.iter().any(|f| f.urgency == u))
        })
    };
    for (kind, urgency) in [
        (Kind::DnsInUse, None),
        (Kind::DnsUnused, None),
        (Kind::ImportedRsa, Some("urgent")),
        (Kind::ImportedEc, None),
        (Kind::ImportedExpired, Some("expired")),
    ] {
        assert!(
            has(kind, urgency),
            "the seed created no {kind:?} certificate{}",
            urgency
                .map(|u| format!(" with an {u} finding"))
                .unwrap_or_default()
        );
    }
    assert!(
        !manifest.suspended.is_empty(),
        "the seed created no suspended account"
    );
}

/// `certwatch scan` of the seeded organization, checks off: nothing here resolves in public DNS
/// (and no test reaches the internet); the checks have end-to-end tests of their own with a
/// loopback DNS server (checks_moto.rs).
fn scan(moto: &Moto, manifest: &Manifest, extra: &[&str]) -> Output {
    moto::scan(
        moto,
        manifest,
        "[checks]\ndns = false\ntls = false\n",
        extra,
    )
}

fn assert_exit_code(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "certwatch exited with {}, expected code {expected}\n\
         --- stderr ---\n{}\n--- stdout (start) ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
            .chars()
            .take(4000)
            .collect::<String>()
    );
}

/// Parses stdout, first checking that every key of the contract is there.
fn parse_report(output: &Output) -> Report {
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\n--- stderr ---\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut missing = missing_keys(&json, "report", REPORT_KEYS);
    missing.extend(missing_keys(&json["stats"], "stats", STATS_KEYS));
    for (i, certificate) in array(&json["certificates"]).iter().enumerate() {
        missing.extend(missing_keys(
            certificate,
            &format!("certificates[{i}]"),
            CERTIFICATE_KEYS,
        ));
        for (j, finding) in array(&certificate["findings"]).iter().enumerate() {
            let path = format!("certificates[{i}].findings[{j}]");
            missing.extend(missing_keys(finding, &path, FINDING_KEYS));
        }
    }
    for (i, failure) in array(&json["failures"]).iter().enumerate() {
        missing.extend(missing_keys(
            failure,
            &format!("failures[{i}]"),
            FAILURE_KEYS,
        ));
    }
    assert!(
        missing.is_empty(),
        "the report lacks keys of the JSON contract:\n{}",
        missing.join("\n")
    );
    serde_json::from_value(json)
        .unwrap_or_else(|e| panic!("the report does not fit the contract: {e}"))
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn missing_keys(value: &Value, path: &str, keys: &[&str]) -> Vec<String> {
    let Some(object) = value.as_object() else {
        return vec![format!("{path} is not an object: {value}")];
    };
    keys.iter()
        .filter(|key| !object.contains_key(**key))
        .map(|key| format!("{path}.{key}"))
        .collect()
}

/// The report holds exactly the seeded (account, region, ARN) triples, once each, and every
/// ARN names the account and region of its row.
fn assert_same_certificates(manifest: &Manifest, report: &Report) {
    let seeded: BTreeSet<(&str, &str, &str)> = manifest
        .certificates
        .iter()
        .map(|c| (c.account_id.as_str(), c.region.as_str(), c.arn.as_str()))
        .collect();
    let reported: BTreeSet<(&str, &str, &str)> = report
        .certificates
        .iter()
        .map(|c| (c.account_id.as_str(), c.region.as_str(), c.arn.as_str()))
        .collect();
    let missing: Vec<String> = manifest
        .certificates
        .iter()
        .filter(|c| !reported.contains(&(c.account_id.as_str(), c.region.as_str(), c.arn.as_str())))
        .map(|c| {
            format!(
                "  {} {} {} ({:?}, {})",
                c.account_id, c.region, c.arn, c.kind, c.domain
            )
        })
        .collect();
    let extra: Vec<String> = report
        .certificates
        .iter()
        .filter(|c| !seeded.contains(&(c.account_id.as_str(), c.region.as_str(), c.arn.as_str())))
        .map(|c| {
            format!(
                "  {} {} {} ({})",
                c.account_id, c.region, c.arn, c.domain_name
            )
        })
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "reported certificates differ from the seeded ones\n\
         missing from the report ({}):\n{}\nnot seeded there ({}):\n{}",
        missing.len(),
        missing.join("\n"),
        extra.len(),
        extra.join("\n")
    );
    assert_eq!(
        report.certificates.len(),
        reported.len(),
        "the report lists some certificate more than once"
    );
    let misplaced: Vec<String> = report
        .certificates
        .iter()
        .filter(|c| {
            let fields: Vec<&str> = c.arn.split(':').collect();
            fields.get(3) != Some(&c.region.as_str())
                || fields.get(4) != Some(&c.account_id.as_str())
        })
        .map(|c| format!("  {} in row {} {}", c.arn, c.account_id, c.region))
        .collect();
    assert!(
        misplaced.is_empty(),
        "ARNs whose region or account is not their row's:\n{}",
        misplaced.join("\n")
    );
}

fn assert_nothing_from_suspended(manifest: &Manifest, report: &Report) {
    for id in &manifest.suspended {
        let leaked: Vec<&str> = report
            .certificates
            .iter()
            .filter(|c| c.account_id == *id || c.arn.contains(id.as_str()))
            .map(|c| c.arn.as_str())
            .collect();
        assert!(
            leaked.is_empty(),
            "the suspended account {id} was scanned: {leaked:?}"
        );
    }
}

/// Everything wrong with one certificate's row, as lines naming the certificate.
fn certificate_problems(
    manifest: &Manifest,
    seeded: &SeededCertificate,
    reported: &ReportedCertificate,
    generated_at: DateTime<FixedOffset>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            problems.push(format!(
                "  {} ({:?}, {}): {what}",
                seeded.arn, seeded.kind, seeded.domain
            ));
        }
    };
    let is_dns = matches!(seeded.kind, Kind::DnsInUse | Kind::DnsUnused);

    let name = manifest.account_name(&seeded.account_id);
    check(
        name == Some(reported.account_name.as_str()),
        format!(
            "account_name {:?}, expected {name:?}",
            reported.account_name
        ),
    );
    check(
        reported.domain_name == seeded.domain,
        format!("domain_name {:?}", reported.domain_name),
    );
    check(
        reported.subject_alternative_names.contains(&seeded.domain),
        format!(
            "subject_alternative_names {:?} lack the domain",
            reported.subject_alternative_names
        ),
    );
    let certificate_type = if is_dns { "AMAZON_ISSUED" } else { "IMPORTED" };
    check(
        reported.certificate_type == certificate_type,
        format!(
            "type {:?}, expected {certificate_type:?}",
            reported.certificate_type
        ),
    );
    let status = if seeded.kind == Kind::ImportedExpired {
        "EXPIRED"
    } else {
        "ISSUED"
    };
    check(
        reported.status == status,
        format!("status {:?}, expected {status:?}", reported.status),
    );
    check(
        reported.key_algorithm == seeded.key_algorithm,
        format!(
            "key_algorithm {:?}, expected {:?}",
            reported.key_algorithm, seeded.key_algorithm
        ),
    );
    let validation_method = is_dns.then_some("DNS");
    check(
        reported.validation_method.as_deref() == validation_method,
        format!(
            "validation_method {:?}, expected {validation_method:?}",
            reported.validation_method
        ),
    );
    check(
        reported.renewal_status.is_none(),
        format!(
            "renewal_status {:?}, but moto has no RenewalSummary",
            reported.renewal_status
        ),
    );
    let in_use = !seeded.in_use_by.is_empty();
    check(
        reported.in_use == in_use && reported.in_use_by == seeded.in_use_by,
        format!(
            "in_use {} in_use_by {:?}, expected InUseBy {:?}",
            reported.in_use, reported.in_use_by, seeded.in_use_by
        ),
    );

    let not_after = parse_time("seeded not_after", &seeded.not_after);
    let reported_not_after = reported
        .not_after
        .as_deref()
        .map(|t| parse_time("not_after", t));
    check(
        reported_not_after == Some(not_after),
        format!(
            "not_after {:?}, expected {}",
            reported.not_after, seeded.not_after
        ),
    );
    // Whole days truncated toward zero (core's day arithmetic, `certwatch_core::expiry`).
    let days = (not_after - generated_at).num_days();
    check(
        reported.days_to_expiry == Some(days),
        format!(
            "days_to_expiry {:?}, expected whole days (not_after - generated_at), truncated = {days}",
            reported.days_to_expiry
        ),
    );

    let findings: BTreeSet<ExpectedFinding> = reported
        .findings
        .iter()
        .map(|f| ExpectedFinding {
            code: f.code.clone(),
            urgency: f.urgency.clone(),
        })
        .collect();
    let expected: BTreeSet<ExpectedFinding> = seeded.expected.iter().cloned().collect();
    check(
        findings == expected,
        format!("findings {}, expected {}", show(&findings), show(&expected)),
    );
    for finding in &reported.findings {
        check(
            !finding.summary.trim().is_empty() && !finding.remedy.trim().is_empty(),
            format!("{} has an empty summary or remedy", finding.code),
        );
    }

    if seeded.kind == Kind::ImportedRsa && expected.iter().any(|f| f.urgency == "urgent") {
        // The human must know what to do and by when: re-import before NotAfter.
        let date = not_after.format("%Y-%m-%d").to_string();
        for finding in reported.findings.iter().filter(|f| f.code == "IMPORTED") {
            let remedy = finding.remedy.to_lowercase();
            check(
                (remedy.contains("re-import") || remedy.contains("reimport"))
                    && remedy.contains(&date),
                format!(
                    "IMPORTED remedy {:?} should say to re-import before {date}",
                    finding.remedy
                ),
            );
        }
    }
    problems
}

fn parse_time(what: &str, text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{what} {text:?} is not RFC 3339: {e}"))
}

fn show(findings: &BTreeSet<ExpectedFinding>) -> String {
    let items: Vec<String> = findings
        .iter()
        .map(|f| format!("{}/{}", f.code, f.urgency))
        .collect();
    format!("[{}]", items.join(", "))
}

fn pretty(values: &[Value]) -> String {
    serde_json::to_string_pretty(values).unwrap_or_default()
}

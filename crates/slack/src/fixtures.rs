//! Inventories for tests, each with its fixed `now`:
//!
//! - [`small`]: hand-built, with every shape a reply must handle (markup in account names and
//!   finding texts, a wildcard, several findings on one certificate, a certificate whose NotAfter
//!   passed after the scan, stale certificates, account/region/describe failures, no dates).
//! - [`demo`]: the report `cargo run -- demo --format json` printed for the demo organization
//!   (`fixtures/demo.json`, captured as is), so the bot is tested on real wording and on the
//!   JSON contract it reads back from the store.
//! - [`large`]: a synthetic organization of any size, for splitting and limits.

use certwatch_core::{
    CertStatus, CertType, CertificateFacts, CertificateRecord, Code, DomainValidation, Failure,
    Finding, Inventory, Reason, RenewalEligibility, RenewalStatus, RenewalSummary, Report,
    ResourceRecord, Stage, Stats, Urgency, ValidationMethod, ValidationStatus,
};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// An inventory, and when it is asked about.
pub struct Fixture {
    pub inventory: Inventory,
    pub now: DateTime<Utc>,
}

impl Fixture {
    /// The inventory with its index, as `serve` holds it.
    pub fn prepared(&self) -> crate::Prepared {
        crate::Prepared::from(self.inventory.clone())
    }
}

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("a fixture time")
}

fn facts(
    account_id: &str,
    region: &str,
    n: u32,
    domain: &str,
    sans: &[&str],
    not_after: Option<DateTime<Utc>>,
) -> CertificateFacts {
    let arn =
        format!("arn:aws:acm:{region}:{account_id}:certificate/5eed0000-0000-4000-8000-{n:012}");
    let mut facts = CertificateFacts::new(account_id, region, &arn);
    facts.domain_name = Some(domain.to_owned());
    facts.subject_alternative_names = if sans.is_empty() {
        vec![domain.to_owned()]
    } else {
        sans.iter().map(|s| (*s).to_owned()).collect()
    };
    facts.key_algorithm = Some("RSA_2048".to_owned());
    facts.not_after = not_after;
    facts.not_before = not_after.map(|t| t - Duration::days(198));
    facts.issued_at = facts.not_before;
    facts.created_at = facts.not_before;
    facts.in_use = true;
    facts.in_use_by = vec![format!(
        "arn:aws:elasticloadbalancing:{region}:{account_id}:loadbalancer/app/lb-{n}/0123456789abcdef"
    )];
    facts.renewal_eligibility = Some(RenewalEligibility::Eligible);
    facts.described = true;
    facts.domain_validation_options = facts
        .subject_alternative_names
        .iter()
        .map(|name| DomainValidation {
            domain_name: name.clone(),
            validation_domain: Some(name.clone()),
            validation_method: Some(ValidationMethod::Dns),
            validation_status: Some(ValidationStatus::Success),
            resource_record: Some(ResourceRecord {
                name: format!("_0a1b2c.{name}."),
                record_type: "CNAME".to_owned(),
                value: "_3d4e5f.acm-validations.aws.".to_owned(),
            }),
            ..DomainValidation::default()
        })
        .collect();
    facts
}

fn finding(
    code: Code,
    urgency: Urgency,
    summary: &str,
    remedy: &str,
    facts: &CertificateFacts,
) -> Finding {
    Finding {
        code,
        urgency,
        summary: summary.to_owned(),
        remedy: format!("{remedy} Console: {}", facts.console_url()),
    }
}

/// The small hand-built inventory. Scanned at 06:00, asked about at 09:00.
pub fn small() -> Fixture {
    let scan = at("2026-03-02T06:00:00Z");
    let now = at("2026-03-02T09:00:00Z");
    let days = |d: i64| Some(scan + Duration::days(d));
    let mut records = Vec::new();
    let mut add = |name: &str, facts: CertificateFacts, findings: Vec<Finding>| {
        records.push(CertificateRecord::new(name, facts, findings, scan));
    };

    let mut f = facts(
        "111111111111",
        "us-east-1",
        1,
        "*.example.org",
        &["*.example.org", "example.org"],
        days(60),
    );
    for dv in &mut f.domain_validation_options {
        dv.validation_method = Some(ValidationMethod::Email);
        dv.resource_record = None;
        dv.validation_emails = vec!["admin@example.org".into(), "hostmaster@example.org".into()];
    }
    let email = finding(
        Code::EmailValidation,
        Urgency::Upcoming,
        "*.example.org is email-validated (a wildcard: it never renews without a human): each renewal needs someone to approve an email; it expires in 60 days (2026-05-01)",
        "Someone must approve the email ACM sends to <admin@example.org> & <hostmaster@example.org> from 2026-03-17; better, request a DNS-validated replacement.",
        &f,
    );
    add("R&D <lab>", f, vec![email]);

    let mut f = facts(
        "222222222222",
        "us-east-1",
        2,
        "api.example.com",
        &[],
        days(5),
    );
    f.cert_type = CertType::Imported;
    f.imported_at = f.not_before;
    f.issued_at = None;
    f.renewal_eligibility = Some(RenewalEligibility::Ineligible);
    f.domain_validation_options.clear();
    let imported = finding(
        Code::Imported,
        Urgency::Urgent,
        "Imported api.example.com expires in 5 days (2026-03-07); ACM never renews imported certificates",
        "Re-import a renewed certificate into the same ARN before 2026-03-07 (aws acm import-certificate --certificate fileb://cert.pem --private-key fileb://key.pem), or replace it with an ACM-issued certificate that renews by itself.",
        &f,
    );
    add("payments", f, vec![imported]);

    let mut f = facts(
        "222222222222",
        "eu-west-1",
        3,
        "old.example.com",
        &[],
        days(-3),
    );
    f.status = CertStatus::Expired;
    let expired = finding(
        Code::Expired,
        Urgency::Expired,
        "old.example.com expired 3 days ago (2026-02-27)",
        "ACM never renews an expired certificate: request a new one for old.example.com, validate it, switch the resources that use it to it, then delete this one.",
        &f,
    );
    add("payments", f, vec![expired]);

    add(
        "payments",
        facts(
            "222222222222",
            "us-east-1",
            4,
            "shop.example.com",
            &[],
            days(120),
        ),
        vec![],
    );

    let mut f = facts(
        "222222222222",
        "us-east-1",
        5,
        "pay.example.com",
        &["pay.example.com", "www.pay.example.com"],
        days(20),
    );
    f.in_use = false;
    f.in_use_by.clear();
    let mut pending = f.domain_validation_options.clone();
    pending[1].validation_status = Some(ValidationStatus::PendingValidation);
    f.renewal_summary = Some(RenewalSummary {
        renewal_status: RenewalStatus::PendingValidation,
        renewal_status_reason: Some(Reason::Unspecified),
        updated_at: Some(scan - Duration::days(2)),
        domain_validation_options: pending,
    });
    let dns = finding(
        Code::PendingValidationDns,
        Urgency::Action,
        "pay.example.com: renewal waits for DNS validation of www.pay.example.com (validation CNAME missing); it expires in 20 days (2026-03-22)",
        "Restore in public DNS before 2026-03-22 (ACM retries by itself once they resolve): _0a1b2c.www.pay.example.com. CNAME _3d4e5f.acm-validations.aws.",
        &f,
    );
    let unused = finding(
        Code::NotInUse,
        Urgency::Action,
        "pay.example.com is not in use and was never exported: ACM will not renew it; it expires in 20 days (2026-03-22)",
        "If it is needed, attach it to a load balancer, CloudFront distribution or API Gateway now; if not, delete it.",
        &f,
    );
    add("payments", f, vec![dns, unused]);

    // NotAfter passes between the scan (06:00) and `now` (09:00): urgent then, expired now.
    let mut f = facts(
        "222222222222",
        "eu-west-1",
        6,
        "lapsed.example.com",
        &[],
        Some(scan + Duration::hours(2)),
    );
    f.cert_type = CertType::Imported;
    f.domain_validation_options.clear();
    let lapsing = finding(
        Code::Imported,
        Urgency::Urgent,
        "Imported lapsed.example.com expires in 0 days (2026-03-02); ACM never renews imported certificates",
        "Re-import a renewed certificate into the same ARN before 2026-03-02.",
        &f,
    );
    add("payments", f, vec![lapsing]);

    add(
        "data-lake",
        facts(
            "333333333333",
            "ap-northeast-1",
            7,
            "etl.example.net",
            &[],
            days(200),
        ),
        vec![],
    );

    let mut f = facts(
        "333333333333",
        "us-east-1",
        8,
        "pending.example.net",
        &[],
        None,
    );
    f.status = CertStatus::PendingValidation;
    f.in_use = false;
    f.in_use_by.clear();
    f.renewal_eligibility = Some(RenewalEligibility::Ineligible);
    f.created_at = Some(scan - Duration::days(4));
    let stuck = finding(
        Code::RequestStuck,
        Urgency::Upcoming,
        "Request for pending.example.net pending validation since 2026-02-26",
        "To finish it, create the validation record _0a1b2c.pending.example.net. CNAME _3d4e5f.acm-validations.aws.; ACM gives up 72 hours after the request.",
        &f,
    );
    add("data-lake", f, vec![stuck]);

    let mut f = facts(
        "333333333333",
        "ap-northeast-1",
        9,
        "legacy.example.net",
        &[],
        days(30),
    );
    f.in_use = false;
    f.in_use_by.clear();
    let unused = finding(
        Code::NotInUse,
        Urgency::Action,
        "legacy.example.net is not in use and was never exported: ACM will not renew it; it expires in 30 days (2026-04-01)",
        "If it is needed, attach it now; if not, delete it.",
        &f,
    );
    add("data-lake", f, vec![unused]);

    let stale: BTreeMap<String, DateTime<Utc>> = records
        .iter()
        .filter(|r| r.facts.account_id == "333333333333" && r.facts.region == "ap-northeast-1")
        .map(|r| (r.facts.arn.clone(), scan - Duration::days(3)))
        .collect();
    let failures = vec![
        Failure {
            account_id: "222222222222".into(),
            account_name: "payments".into(),
            region: Some("us-east-1".into()),
            stage: Stage::DescribeCertificate,
            certificate_arn: Some("arn:aws:acm:us-east-1:222222222222:certificate/5eed0000-0000-4000-8000-000000000099".into()),
            error: "InternalFailure: try again".into(),
        },
        Failure {
            account_id: "333333333333".into(),
            account_name: "data-lake".into(),
            region: Some("ap-northeast-1".into()),
            stage: Stage::ListCertificates,
            certificate_arn: None,
            error: "ThrottlingException: Rate exceeded\n(after 3 attempts)".into(),
        },
        Failure {
            account_id: "444444444444".into(),
            account_name: "sandbox".into(),
            region: None,
            stage: Stage::AssumeRole,
            certificate_arn: None,
            error: "AccessDenied: not authorized to perform sts:AssumeRole on <OrganizationAccountAccessRole>".into(),
        },
    ];
    let mut report = Report {
        generated_at: scan,
        certificates: records,
        failures,
        accounts: Vec::new(),
        stats: Stats {
            accounts: 4,
            targets: 10,
            certificates: 9,
            api_calls: 42,
            duration_ms: 1234,
            ..Stats::default()
        },
    };
    report.sort();
    Fixture {
        inventory: Inventory {
            report: report.into(),
            stale,
            last_scan: Some(scan),
            decisions: Default::default(),
        },
        now,
    }
}

/// The demo organization's report, asked about the moment it was generated.
pub fn demo() -> Fixture {
    let report: Report =
        serde_json::from_str(include_str!("fixtures/demo.json")).expect("demo.json is a report");
    Fixture {
        now: report.generated_at,
        inventory: Inventory::of_scan(report),
    }
}

/// A synthetic organization of `count` certificates over 50 accounts and 3 regions: per six
/// certificates one expired, one urgent, two action, one upcoming, one healthy. Remedies are
/// long like the real ones; every 97th is far longer than a block.
pub fn large(count: usize) -> Fixture {
    let scan = at("2026-03-02T06:00:00Z");
    let now = at("2026-03-02T09:00:00Z");
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    let mut records = Vec::new();
    for i in 0..count {
        let account = i % 50;
        let account_id = format!("{:012}", 100_000_000_000u64 + account as u64);
        let name = if account % 7 == 0 {
            format!("R&D team-{account:02}")
        } else {
            format!("team-{account:02}")
        };
        let region = regions[i % 3];
        let domain = format!("svc{i}.team{account}.example.com");
        let (code, urgency, days) = match i % 6 {
            0 => (Some(Code::Expired), Urgency::Expired, -1 - (i as i64 % 20)),
            1 => (Some(Code::Imported), Urgency::Urgent, i as i64 % 7),
            2 => (
                Some(Code::PendingValidationDns),
                Urgency::Action,
                8 + i as i64 % 37,
            ),
            3 => (
                Some(Code::RenewalFailed),
                Urgency::Action,
                8 + i as i64 % 37,
            ),
            4 => (Some(Code::Imported), Urgency::Upcoming, 60 + i as i64 % 30),
            _ => (None, Urgency::Upcoming, 100 + i as i64 % 90),
        };
        let f = facts(
            &account_id,
            region,
            i as u32,
            &domain,
            &[],
            Some(scan + Duration::days(days) + Duration::hours(12)),
        );
        let findings = match code {
            None => Vec::new(),
            Some(code) => {
                let detail = if i.is_multiple_of(97) { 60 } else { 4 };
                let remedy = format!(
                    "Restore in public DNS before the deadline: {} and then wait for ACM to retry <by itself> & check again.",
                    (0..detail)
                        .map(|k| format!("_{k:02}a1b2c3d4e5f6.{domain}. CNAME _{k:02}f6e5d4c3b2a1.acm-validations.aws."))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                vec![finding(
                    code.clone(),
                    urgency,
                    &format!("{domain}: {code} ({urgency}), {days} days to NotAfter"),
                    &remedy,
                    &f,
                )]
            }
        };
        records.push(CertificateRecord::new(&name, f, findings, scan));
    }
    let mut report = Report {
        generated_at: scan,
        certificates: records,
        failures: Vec::new(),
        accounts: Vec::new(),
        stats: Stats {
            accounts: 50,
            targets: 150,
            certificates: count as u64,
            ..Stats::default()
        },
    };
    report.sort();
    Fixture {
        inventory: Inventory::of_scan(report),
        now,
    }
}

/// [`small`] with decisions of every kind in force, as `/certs snoozed` and the digest see them
/// at its `now` (2026-03-02 09:00):
///
/// - `pay.example.com` (action) snoozed until 2026-03-09: hidden;
/// - `legacy.example.net` (action) acknowledged with the findings it has: hidden;
/// - `api.example.com` (urgent) snoozed before it became urgent: back, it became urgent;
/// - `*.example.org` (upcoming) acknowledged before its finding appeared: back, findings changed;
/// - `etl.example.net` snoozed until 2026-03-01: ran out;
/// - a certificate no longer in the inventory, snoozed.
pub fn decided() -> Fixture {
    use certwatch_core::{Decision, DecisionKind};
    let mut fixture = small();
    let arn = |region: &str, account: &str, n: u32| {
        format!("arn:aws:acm:{region}:{account}:certificate/5eed0000-0000-4000-8000-{n:012}")
    };
    let decision = |arn: String, kind, by: &str, when: &str, reason: &str| {
        let record = fixture
            .inventory
            .report
            .certificates
            .iter()
            .find(|r| r.facts.arn == arn);
        Decision {
            kind,
            by: by.to_owned(),
            at: at(when),
            reason: reason.to_owned(),
            channel: "C0CERTS".to_owned(),
            findings_at: record
                .map(|r| {
                    r.findings
                        .iter()
                        .map(|f| (f.code.clone(), f.urgency))
                        .collect()
                })
                .unwrap_or_default(),
            not_after_at: record.and_then(|r| r.facts.not_after),
            arn,
        }
    };
    let snooze = |until: &str| DecisionKind::Snooze { until: at(until) };
    let mut api = decision(
        arn("us-east-1", "222222222222", 2),
        snooze("2026-03-06T00:00:00Z"),
        "U0SNOOZER",
        "2026-02-20T10:15:00Z",
        "waiting for the vendor's renewed certificate, <OPS-7> & co",
    );
    // Decided when it was an action finding; it became urgent since.
    api.findings_at = vec![(Code::Imported, Urgency::Action)];
    let mut wildcard = decision(
        arn("us-east-1", "111111111111", 1),
        DecisionKind::Acknowledge,
        "U0ACK",
        "2026-02-01T08:00:00Z",
        "R&D owns it",
    );
    wildcard.findings_at = Vec::new();
    let decisions = [
        decision(
            arn("us-east-1", "222222222222", 5),
            snooze("2026-03-09T09:00:00Z"),
            "U0SNOOZER",
            "2026-03-02T09:00:00Z",
            "moving to DNS validation, OPS-123",
        ),
        decision(
            arn("ap-northeast-1", "333333333333", 9),
            DecisionKind::Acknowledge,
            "U0ACK",
            "2026-02-28T16:30:00Z",
            "data-lake team deletes it this sprint",
        ),
        api,
        wildcard,
        decision(
            arn("ap-northeast-1", "333333333333", 7),
            snooze("2026-03-01T00:00:00Z"),
            "U0SNOOZER",
            "2026-02-22T12:00:00Z",
            "noise",
        ),
        decision(
            arn("us-east-1", "222222222222", 99),
            snooze("2026-04-01T00:00:00Z"),
            "U0SNOOZER",
            "2026-02-25T12:00:00Z",
            "deleted soon",
        ),
    ];
    fixture.inventory.decisions = decisions.into_iter().map(|d| (d.arn.clone(), d)).collect();
    fixture
}

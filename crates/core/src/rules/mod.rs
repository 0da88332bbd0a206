//! The renewal rules. One file per finding code; each is a pure function of the certificate's
//! facts, `now` and the policy. Adding a rule = one new file + one line in [`RULES`].

use crate::facts::{CertStatus, CertType, CertificateFacts, DomainValidation, Reason};
use crate::finding::{Code, Finding, Urgency};
use crate::policy::Policy;
use chrono::{DateTime, Duration, Utc};

mod caa_blocked;
mod domain_blocked;
mod email_validation;
mod expired;
mod imported;
mod not_in_use;
mod pending_validation;
mod private_ca_error;
mod renewal_failed;
mod renewal_not_started;
mod renewal_stalled;
mod request_stuck;
mod revoked;

type Rule = fn(&Ctx) -> Option<Finding>;

/// Rules that end the verdict: once a certificate is expired or revoked nothing else matters.
const TERMINAL: &[Rule] = &[expired::check, revoked::check];

/// The other rules, in the order their findings are listed at equal urgency.
const RULES: &[Rule] = &[
    imported::check,
    caa_blocked::check,
    private_ca_error::check,
    domain_blocked::check,
    renewal_failed::check,
    pending_validation::check_dns,
    pending_validation::check_email,
    pending_validation::check_http,
    renewal_stalled::check,
    renewal_not_started::check,
    not_in_use::check,
    email_validation::check,
    request_stuck::check,
];

/// The verdict for one certificate: no finding means ACM renews it by itself.
/// Findings come most urgent first.
pub fn classify(cert: &CertificateFacts, now: DateTime<Utc>, policy: &Policy) -> Vec<Finding> {
    let ctx = Ctx::new(cert, now, policy);
    if let Some(finding) = TERMINAL.iter().find_map(|rule| rule(&ctx)) {
        return vec![finding];
    }
    // CloudFront SaaS Manager renews its own certificates once DNS points at CloudFront.
    if cert.managed_by_cloudfront() {
        return Vec::new();
    }
    let mut findings: Vec<Finding> = RULES.iter().filter_map(|rule| rule(&ctx)).collect();
    // Stable sort: equal urgencies keep rule order.
    findings.sort_by_key(|f| std::cmp::Reverse(f.urgency));
    findings
}

/// Whether the list summary lacks something the verdict needs (validation method, renewal
/// summary, failure reason, in-use ARNs), so the scanner must call DescribeCertificate.
/// Imported, expired, revoked and CloudFront-managed certificates are judged from the summary.
pub fn needs_detail(summary: &CertificateFacts, now: DateTime<Utc>) -> bool {
    !(summary.is_expired(now)
        || summary.status == CertStatus::Revoked
        || summary.cert_type == CertType::Imported
        || summary.managed_by_cloudfront())
}

/// What every rule sees.
pub(crate) struct Ctx<'a> {
    pub cert: &'a CertificateFacts,
    pub now: DateTime<Utc>,
    pub policy: &'a Policy,
    pub days: Option<i64>,
}

impl<'a> Ctx<'a> {
    fn new(cert: &'a CertificateFacts, now: DateTime<Utc>, policy: &'a Policy) -> Self {
        Ctx {
            cert,
            now,
            policy,
            days: cert.days_to_expiry(now),
        }
    }

    /// Urgency from days to NotAfter alone; `upcoming` when there is no NotAfter yet.
    pub fn urgency_by_date(&self) -> Urgency {
        match self.days {
            None => Urgency::Upcoming,
            Some(_) if self.cert.is_expired(self.now) => Urgency::Expired,
            Some(d) if d <= self.policy.urgent_days => Urgency::Urgent,
            Some(d) if d <= self.policy.action_days => Urgency::Action,
            Some(_) => Urgency::Upcoming,
        }
    }

    /// A finding whose urgency is the date's, raised to `at_least`. The console link is appended
    /// to the remedy so every remedy leads somewhere clickable.
    pub fn finding(
        &self,
        code: Code,
        at_least: Urgency,
        summary: String,
        remedy: String,
    ) -> Finding {
        Finding {
            code,
            urgency: self.urgency_by_date().max(at_least),
            summary,
            remedy: format!("{remedy} Console: {}", self.cert.console_url()),
        }
    }

    pub fn name(&self) -> &str {
        self.cert.display_name()
    }

    /// "expires in 5 days (2026-06-06)", for summaries.
    pub fn expiry_phrase(&self) -> String {
        match (self.days, self.cert.not_after) {
            (Some(0), Some(at)) => format!("expires today ({})", date(at)),
            (Some(1), Some(at)) => format!("expires tomorrow ({})", date(at)),
            (Some(d), Some(at)) if d < 0 => format!("expired {} days ago ({})", -d, date(at)),
            (Some(d), Some(at)) => format!("expires in {d} days ({})", date(at)),
            _ => "has no expiry date yet".to_owned(),
        }
    }

    /// "before 2026-06-06", for remedies.
    pub fn deadline(&self) -> String {
        match self.cert.not_after {
            Some(at) => format!("before {}", date(at)),
            None => "as soon as possible".to_owned(),
        }
    }

    /// Days before NotAfter at which ACM starts its renewal of this certificate.
    pub fn renewal_window_days(&self) -> i64 {
        if self.cert.cert_type == CertType::Private {
            return self.policy.private_renewal_days;
        }
        let lifetime = match (self.cert.not_before, self.cert.not_after) {
            (Some(from), Some(to)) => Some((to - from).num_days()),
            _ => None,
        };
        self.policy.public_window_days(lifetime)
    }

    /// When ACM's renewal window opens (or opened).
    pub fn window_opens(&self) -> Option<DateTime<Utc>> {
        self.cert
            .not_after
            .map(|at| at - Duration::days(self.renewal_window_days()))
    }

    /// The failure reason of a failed renewal, or of a failed request.
    pub fn failure_reason(&self) -> Option<&'a Reason> {
        let cert = self.cert;
        match &cert.renewal_summary {
            Some(r) if r.renewal_status == crate::RenewalStatus::Failed => {
                r.renewal_status_reason.as_ref()
            }
            _ if cert.status == CertStatus::Failed => cert.failure_reason.as_ref(),
            _ => None,
        }
    }

    /// True when a renewal failed (as opposed to a first request failing).
    pub fn renewal_failed(&self) -> bool {
        self.cert
            .renewal_summary
            .as_ref()
            .is_some_and(|r| r.renewal_status == crate::RenewalStatus::Failed)
    }

    /// "renewal" or "request", for wording.
    pub fn what_failed(&self) -> &'static str {
        if self.renewal_failed() {
            "renewal"
        } else {
            "request"
        }
    }

    /// The domains of the certificate, comma-separated.
    pub fn domains(&self) -> String {
        let cert = self.cert;
        let mut names: Vec<&str> = cert.domain_name.iter().map(String::as_str).collect();
        for san in &cert.subject_alternative_names {
            if !names.contains(&san.as_str()) {
                names.push(san);
            }
        }
        if names.is_empty() {
            return self.name().to_owned();
        }
        names.join(", ")
    }

    /// Where the certificate is used, for remedies.
    pub fn users(&self) -> String {
        match self.cert.in_use_by.as_slice() {
            [] if self.cert.in_use => "the resources that use it".to_owned(),
            [] => "whatever uses it".to_owned(),
            [one] => one.clone(),
            [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
        }
    }
}

/// DNS records to (re)create, one per unique record, as "NAME CNAME VALUE".
pub(crate) fn cname_list<'a>(dvos: impl IntoIterator<Item = &'a DomainValidation>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for dv in dvos {
        if let Some(rr) = &dv.resource_record {
            let line = format!("{} {} {}", rr.name, rr.record_type, rr.value);
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
}

pub(crate) fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Data-driven rule tests: build facts from a healthy baseline, then `check` the verdict.

    use super::*;
    use crate::facts::{RenewalEligibility, ResourceRecord, ValidationMethod, ValidationStatus};
    use chrono::TimeZone;

    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    /// A healthy certificate: Amazon-issued, DNS-validated, in use, 150 of 198 days left.
    pub fn healthy() -> CertificateFacts {
        let mut c = CertificateFacts::new(
            "111122223333",
            "eu-west-1",
            "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-0000-4000-8000-000000000001",
        );
        c.domain_name = Some("shop.example.com".into());
        c.subject_alternative_names =
            vec!["shop.example.com".into(), "www.shop.example.com".into()];
        c.key_algorithm = Some("RSA_2048".into());
        c.not_after = Some(now() + Duration::days(150));
        c.not_before = Some(now() - Duration::days(48));
        c.in_use = true;
        c.in_use_by = vec![
            "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/shop/abc".into(),
        ];
        c.renewal_eligibility = Some(RenewalEligibility::Eligible);
        c.described = true;
        c.domain_validation_options = c
            .subject_alternative_names
            .iter()
            .map(|d| DomainValidation {
                domain_name: d.clone(),
                validation_domain: Some(d.clone()),
                validation_method: Some(ValidationMethod::Dns),
                validation_status: Some(ValidationStatus::Success),
                resource_record: Some(ResourceRecord {
                    name: format!("_x1.{d}."),
                    record_type: "CNAME".into(),
                    value: "_y1.acm-validations.aws.".into(),
                }),
                ..DomainValidation::default()
            })
            .collect();
        c
    }

    pub fn expires_in(mut c: CertificateFacts, days: i64) -> CertificateFacts {
        c.not_after = Some(now() + Duration::days(days) + Duration::hours(1));
        c
    }

    /// Classify with the default policy and compare (code, urgency) pairs.
    #[track_caller]
    pub fn check(cert: &CertificateFacts, expected: &[(Code, Urgency)]) -> Vec<Finding> {
        let findings = classify(cert, now(), &Policy::default());
        let got: Vec<(Code, Urgency)> = findings.iter().map(|f| (f.code, f.urgency)).collect();
        assert_eq!(got, expected, "findings: {findings:#?}");
        for f in &findings {
            assert!(!f.summary.is_empty() && !f.remedy.is_empty());
            assert!(f
                .remedy
                .contains("console.aws.amazon.com/acm/home?region=eu-west-1"));
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn healthy_certificate_has_no_finding() {
        check(&healthy(), &[]);
    }

    #[test]
    fn needs_detail_only_where_summary_is_not_enough() {
        let c = healthy();
        assert!(needs_detail(&c, now()));
        let mut imported = c.clone();
        imported.cert_type = CertType::Imported;
        assert!(!needs_detail(&imported, now()));
        assert!(!needs_detail(&expires_in(c.clone(), -3), now()));
        let mut unknown = c.clone();
        unknown.cert_type = CertType::parse("SOMETHING_NEW");
        assert!(needs_detail(&unknown, now()), "unknown types are described");
    }

    #[test]
    fn cloudfront_managed_gets_only_expiry() {
        let mut c = expires_in(healthy(), 10);
        c.managed_by = Some("CLOUDFRONT".into());
        c.in_use = false;
        c.in_use_by.clear();
        check(&c, &[]);
        check(&expires_in(c, -1), &[(Code::Expired, Urgency::Expired)]);
    }

    #[test]
    fn unknown_enum_values_do_not_crash() {
        let mut c = healthy();
        c.status = CertStatus::parse("QUANTUM_SAFE_PENDING");
        c.cert_type = CertType::parse("FUTURE_TYPE");
        c.renewal_summary = Some(crate::RenewalSummary {
            renewal_status: crate::RenewalStatus::parse("PENDING_DOMAIN_VALIDATION"),
            renewal_status_reason: Some(Reason::parse("NEW_REASON")),
            updated_at: None,
            domain_validation_options: vec![],
        });
        check(&c, &[]);
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["status"], "QUANTUM_SAFE_PENDING");
        assert_eq!(
            json["renewal_summary"]["renewal_status"],
            "PENDING_DOMAIN_VALIDATION"
        );
    }

    #[test]
    fn findings_come_most_urgent_first() {
        // Imported 100 days out (upcoming) but the renewal failed (action): action first.
        let mut c = expires_in(healthy(), 100);
        c.cert_type = CertType::Private;
        c.exported = false;
        c.in_use = false;
        c.in_use_by.clear();
        c.renewal_summary = Some(crate::RenewalSummary {
            renewal_status: crate::RenewalStatus::Failed,
            renewal_status_reason: Some(Reason::PcaInvalidState),
            updated_at: None,
            domain_validation_options: vec![],
        });
        check(
            &c,
            &[
                (Code::PrivateCaError, Urgency::Action),
                (Code::NotInUse, Urgency::Upcoming),
            ],
        );
    }
}

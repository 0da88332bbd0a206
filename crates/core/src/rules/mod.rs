//! The renewal rules. One file per finding code; each is a pure function of the certificate's
//! facts, `now` and the policy. Adding a rule = one new file + one line in [`RULES`].

use crate::facts::{
    CertStatus, CertType, CertificateFacts, DomainValidation, Reason, RenewalStatus,
    ValidationMethod,
};
use crate::finding::{Code, Finding, Urgency};
use crate::policy::Policy;
use chrono::{DateTime, Duration, Utc};

mod caa_blocked;
mod caa_forbids_amazon;
mod domain_blocked;
mod email_validation;
mod endpoint_unreachable;
mod expired;
mod imported;
mod name_unresolvable;
mod not_in_use;
mod pending_validation;
mod private_ca_error;
mod renewal_failed;
mod renewal_not_started;
mod renewal_stalled;
mod request_stuck;
mod revoked;
mod served_stale;
mod validation_record_missing;
mod validation_record_wrong;

pub use caa_forbids_amazon::{caa_allows_amazon, CaaVerdict, AMAZON_ISSUERS};

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
    validation_record_missing::check,
    validation_record_wrong::check,
    caa_forbids_amazon::check,
    served_stale::check,
    name_unresolvable::check,
    endpoint_unreachable::check,
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

/// Whether the verdict needs `DescribeCertificate`: whether a rule could fire on a field the
/// listing lacks (domain validation records and emails, the renewal's reason and age, the failure
/// reason, the in-use ARNs).
///
/// Imported, expired, revoked and CloudFront-managed certificates are judged from any listing.
/// After `ListCertificates` every other certificate is described. After `SearchCertificates`
/// (validation method and renewal status known) only the few that can carry a finding are:
/// a renewal under way or failed, a request not issued, an email-validated certificate (its
/// finding names the emails), a renewal that should have started, and any value this version
/// does not know. Invariant (tested below): for a certificate this returns `false` for, the
/// verdict from the listing equals the verdict after describing it.
pub fn needs_detail(summary: &CertificateFacts, now: DateTime<Utc>, policy: &Policy) -> bool {
    if summary.is_expired(now)
        || summary.status == CertStatus::Revoked
        || summary.cert_type == CertType::Imported
        || summary.managed_by_cloudfront()
    {
        return false;
    }
    let Some(search) = &summary.search else {
        return true;
    };
    if summary.status != CertStatus::Issued
        || !matches!(
            summary.cert_type,
            CertType::AmazonIssued | CertType::Private
        )
    {
        return true;
    }
    if summary.cert_type == CertType::AmazonIssued
        && !matches!(
            search.validation_method,
            Some(ValidationMethod::Dns | ValidationMethod::Http)
        )
    {
        return true;
    }
    match &search.renewal_status {
        None => {
            // RENEWAL_NOT_STARTED lists the validation records to check.
            let ctx = Ctx::new(summary, now, policy);
            summary.renewal_eligible_by_use()
                && ctx
                    .window_opens()
                    .is_some_and(|opened| now >= opened + Duration::days(policy.renewal_grace_days))
        }
        Some(RenewalStatus::Success) => false,
        Some(_) => true,
    }
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
            Some(d) => self.urgency_for_days(d),
        }
    }

    /// Urgency of something that breaks at `at` (a served copy's NotAfter, not ACM's).
    pub fn urgency_at(&self, at: DateTime<Utc>) -> Urgency {
        if at <= self.now {
            return Urgency::Expired;
        }
        self.urgency_for_days(crate::expiry::days_to(at, self.now))
    }

    fn urgency_for_days(&self, days: i64) -> Urgency {
        match days {
            d if d <= self.policy.urgent_days => Urgency::Urgent,
            d if d <= self.policy.action_days => Urgency::Action,
            _ => Urgency::Upcoming,
        }
    }

    /// What the network checks saw, if they ran.
    pub fn checks(&self) -> Option<&'a crate::checks::Checks> {
        self.cert.checks.as_ref()
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

    /// "expires in 5 days (2026-06-06)", for summaries: the certificate's
    /// [`CertificateFacts::expiry_phrase`] and its NotAfter date.
    pub fn expiry_phrase(&self) -> String {
        let phrase = self.cert.expiry_phrase(self.now);
        match self.cert.not_after {
            Some(at) => format!("{phrase} ({})", date(at)),
            None => phrase,
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

    /// What SearchCertificates returns for a described certificate: the summary fields plus the
    /// validation method and renewal status, without anything only DescribeCertificate has.
    pub fn searched(described: &CertificateFacts) -> CertificateFacts {
        let mut s = CertificateFacts::new(&described.account_id, &described.region, &described.arn);
        s.domain_name = described.domain_name.clone();
        s.subject_alternative_names = described.subject_alternative_names.clone();
        s.cert_type = described.cert_type.clone();
        s.status = described.status.clone();
        s.key_algorithm = described.key_algorithm.clone();
        s.not_before = described.not_before;
        s.not_after = described.not_after;
        s.created_at = described.created_at;
        s.issued_at = described.issued_at;
        s.imported_at = described.imported_at;
        s.in_use = described.in_use || !described.in_use_by.is_empty();
        s.exported = described.exported;
        s.renewal_eligibility = described.renewal_eligibility.clone();
        s.managed_by = described.managed_by.clone();
        s.search = Some(crate::SearchMetadata {
            validation_method: match described.cert_type {
                CertType::AmazonIssued => described.validation_method().cloned(),
                _ => None,
            },
            renewal_status: described
                .renewal_summary
                .as_ref()
                .map(|r| r.renewal_status.clone()),
        });
        s
    }

    /// Every combination of type, status, validation method, renewal state (and its age), use,
    /// export and days to NotAfter, described (what DescribeCertificate returns): the facts the
    /// listing-only verdict (`needs_detail`) and the reuse of a detail (`crate::reuse`) are
    /// tested over.
    pub fn described_combinations() -> Vec<CertificateFacts> {
        let types = [
            CertType::AmazonIssued,
            CertType::Private,
            CertType::Imported,
        ];
        let statuses = [
            CertStatus::Issued,
            CertStatus::PendingValidation,
            CertStatus::Failed,
            CertStatus::Inactive,
            CertStatus::ValidationTimedOut,
            CertStatus::Revoked,
        ];
        let methods = [
            ValidationMethod::Dns,
            ValidationMethod::Email,
            ValidationMethod::Http,
        ];
        let renewals = [
            None,
            Some((RenewalStatus::PendingAutoRenewal, 10)),
            Some((RenewalStatus::PendingAutoRenewal, 100)),
            Some((RenewalStatus::PendingValidation, 10)),
            Some((RenewalStatus::Success, 10)),
            Some((RenewalStatus::Failed, 10)),
        ];
        let mut all = Vec::new();
        for cert_type in &types {
            for status in &statuses {
                for method in &methods {
                    for renewal in &renewals {
                        for (in_use, exported) in [(true, false), (false, false), (false, true)] {
                            for days in [-2, 3, 20, 40, 44, 50, 58, 70, 150] {
                                let mut d = expires_in(healthy(), days);
                                d.cert_type = cert_type.clone();
                                d.status = status.clone();
                                d.in_use = in_use;
                                d.exported = exported;
                                if !in_use {
                                    d.in_use_by.clear();
                                }
                                d.renewal_eligibility = Some(if in_use || exported {
                                    RenewalEligibility::Eligible
                                } else {
                                    RenewalEligibility::Ineligible
                                });
                                for dv in &mut d.domain_validation_options {
                                    dv.validation_method = Some(method.clone());
                                    if *method == ValidationMethod::Email {
                                        dv.validation_emails =
                                            vec![format!("admin@{}", dv.domain_name)];
                                    }
                                }
                                d.renewal_summary =
                                    renewal.as_ref().map(|(st, hours)| crate::RenewalSummary {
                                        renewal_status: st.clone(),
                                        renewal_status_reason: (*st == RenewalStatus::Failed)
                                            .then_some(Reason::CaaError),
                                        updated_at: Some(now() - Duration::hours(*hours)),
                                        domain_validation_options: d
                                            .domain_validation_options
                                            .iter()
                                            .cloned()
                                            .map(|mut dv| {
                                                dv.validation_status =
                                                    Some(ValidationStatus::PendingValidation);
                                                dv
                                            })
                                            .collect(),
                                    });
                                if *status == CertStatus::Failed {
                                    d.failure_reason = Some(Reason::DomainNotAllowed);
                                }
                                all.push(d);
                            }
                        }
                    }
                }
            }
        }
        all
    }

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

    /// The healthy certificate as the network checks see it when all is well: both validation
    /// CNAMEs in place, CAA allowing Amazon, each name served by ACM's certificate.
    pub fn checked(mut c: CertificateFacts) -> CertificateFacts {
        use crate::checks::*;
        let validation_records = c
            .domain_validation_options
            .iter()
            .filter_map(|dv| {
                let rr = dv.resource_record.as_ref()?;
                Some(ValidationRecordCheck {
                    domain: dv.domain_name.clone(),
                    name: rr.name.clone(),
                    expected: rr.value.clone(),
                    answer: Answer::Records,
                    found: vec![rr.value.clone()],
                })
            })
            .collect();
        let not_after = c.not_after.expect("healthy has a NotAfter");
        let names = c
            .names()
            .iter()
            .map(|name| NameCheck {
                name: (*name).to_owned(),
                answer: Answer::Records,
                cnames: Vec::new(),
                addresses: vec!["192.0.2.10".into()],
                endpoints: vec![EndpointProbe {
                    address: "192.0.2.10".into(),
                    port: 443,
                    served: Some(ServedCertificate {
                        serial: "0a:0a".into(),
                        not_before: now() - Duration::days(48),
                        not_after,
                        subject: format!("CN={name}"),
                        issuer: "CN=Amazon RSA 2048 M03".into(),
                        names: vec!["shop.example.com".into(), "www.shop.example.com".into()],
                        verdict: "valid".into(),
                        chain_length: 2,
                        matches_acm: true,
                    }),
                    error: None,
                    local_failure: false,
                }],
            })
            .collect();
        let caa = c
            .names()
            .iter()
            .map(|name| CaaCheck {
                domain: (*name).to_owned(),
                answer: Answer::Records,
                found_at: Some("example.com".into()),
                records: vec![CaaRecord {
                    flags: 0,
                    tag: "issue".into(),
                    value: "amazon.com".into(),
                }],
            })
            .collect();
        c.checks = Some(Checks {
            validation_records,
            caa,
            names,
            checked_at: None,
        });
        c
    }

    /// Sets the DNS answer of the `index`th validation record.
    pub fn set_validation(
        c: &mut CertificateFacts,
        index: usize,
        answer: crate::checks::Answer,
        found: &[&str],
    ) {
        let record = &mut c.checks.as_mut().expect("checked").validation_records[index];
        record.answer = answer;
        record.found = found.iter().map(|s| (*s).to_owned()).collect();
    }

    /// Classify with the default policy and compare (code, urgency) pairs.
    #[track_caller]
    pub fn check(cert: &CertificateFacts, expected: &[(Code, Urgency)]) -> Vec<Finding> {
        let findings = classify(cert, now(), &Policy::default());
        let got: Vec<(Code, Urgency)> = findings
            .iter()
            .map(|f| (f.code.clone(), f.urgency))
            .collect();
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
        let p = Policy::default();
        let c = healthy();
        assert!(needs_detail(&c, now(), &p));
        let mut imported = c.clone();
        imported.cert_type = CertType::Imported;
        assert!(!needs_detail(&imported, now(), &p));
        assert!(!needs_detail(&expires_in(c.clone(), -3), now(), &p));
        let mut unknown = c.clone();
        unknown.cert_type = CertType::parse("SOMETHING_NEW");
        assert!(
            needs_detail(&unknown, now(), &p),
            "unknown types are described"
        );
    }

    #[test]
    fn search_metadata_spares_the_describe_of_healthy_certificates() {
        let p = Policy::default();
        let plain = searched(&healthy());
        assert!(!needs_detail(&plain, now(), &p));
        let mut email = plain.clone();
        email.search.as_mut().unwrap().validation_method = Some(ValidationMethod::Email);
        assert!(
            needs_detail(&email, now(), &p),
            "email findings name the emails"
        );
        let mut renewing = plain.clone();
        renewing.search.as_mut().unwrap().renewal_status = Some(RenewalStatus::PendingValidation);
        assert!(needs_detail(&renewing, now(), &p));
        let mut renewed = plain.clone();
        renewed.search.as_mut().unwrap().renewal_status = Some(RenewalStatus::Success);
        assert!(!needs_detail(&renewed, now(), &p));
        // Window open (45 days for a 198-day certificate) + 3 days' grace, no renewal yet.
        let late = searched(&expires_in(healthy(), 40));
        assert!(
            needs_detail(&late, now(), &p),
            "RENEWAL_NOT_STARTED lists the CNAMEs"
        );
        let mut unused = late.clone();
        unused.in_use = false;
        unused.in_use_by.clear();
        assert!(
            !needs_detail(&unused, now(), &p),
            "NOT_IN_USE needs no detail"
        );
        let mut unknown_method = plain.clone();
        unknown_method.search.as_mut().unwrap().validation_method = None;
        assert!(needs_detail(&unknown_method, now(), &p));
    }

    /// The invariant behind `needs_detail`: over every combination of type, status, validation
    /// method, renewal state, use and date, a certificate judged from its search result alone
    /// gets exactly the findings (codes, urgencies, words) it gets once described.
    #[test]
    fn undescribed_search_results_get_the_described_verdict() {
        let policy = Policy::default();
        let (mut judged, mut spared) = (0, 0);
        for d in described_combinations() {
            let s = searched(&d);
            let mut listed = s.clone();
            listed.search = None;
            if !needs_detail(&listed, now(), &policy) {
                // Judged from any listing, whichever API listed it.
                continue;
            }
            judged += 1;
            if needs_detail(&s, now(), &policy) {
                continue;
            }
            spared += 1;
            assert_eq!(
                classify(&s, now(), &policy),
                classify(&d, now(), &policy),
                "search result judged differently from its detail: {d:#?}"
            );
        }
        // Most combinations are not issued or have a renewal under way; the healthy ones remain.
        assert!(spared >= 150, "only {spared} of {judged} spared a describe");
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

//! What the world sees of a certificate's names: the facts the scan's network checks (DNS and
//! TLS, `certwatch-probe`) gather, and which checks a certificate calls for.
//!
//! Everything here is plain data or a pure decision. The probe performs the lookups and the
//! handshakes and fills these types in; the rules in `rules/` (VALIDATION_RECORD_MISSING,
//! VALIDATION_RECORD_WRONG, CAA_FORBIDS_AMAZON, NAME_UNRESOLVABLE, ENDPOINT_UNREACHABLE,
//! SERVED_STALE) judge them. A lookup or probe that could not be made (a timeout, a resolver
//! failure) is [`Answer::Failed`]: never a finding, always a `failures` row.

use crate::facts::{CertStatus, CertType, CertificateFacts, ValidationMethod};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the network checks found for one certificate (`CertificateFacts::checks`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checks {
    /// One per unique validation CNAME of `DomainValidationOptions` (DNS checks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_records: Vec<ValidationRecordCheck>,
    /// One per name of the certificate (DNS checks of Amazon-issued certificates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caa: Vec<CaaCheck>,
    /// One per non-wildcard name resolved (and, with TLS checks, its endpoints probed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<NameCheck>,
    /// When the lookups and probes were made (a rescan may reuse them, see
    /// [`CertificateFacts::reusable_checks`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
}

impl Checks {
    /// Whether every lookup was answered and every probe could be made.
    pub fn complete(&self) -> bool {
        self.validation_records
            .iter()
            .map(|r| r.answer)
            .chain(self.caa.iter().map(|c| c.answer))
            .chain(self.names.iter().map(|n| n.answer))
            .all(|a| a != Answer::Failed)
            && self
                .names
                .iter()
                .flat_map(|n| &n.endpoints)
                .all(|e| !e.local_failure)
    }
}

/// How a DNS question was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Records of the asked type (possibly after CNAMEs).
    Records,
    /// The name does not exist.
    NxDomain,
    /// The name exists but has no record of the asked type.
    NoData,
    /// No answer could be had (timeout, SERVFAIL, REFUSED, network error): not a finding; the
    /// failure is a `failures` row with stage `dns`.
    Failed,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Records => "records",
            Answer::NxDomain => "NXDOMAIN",
            Answer::NoData => "no records (NODATA)",
            Answer::Failed => "failed",
        }
    }
}

/// One validation CNAME, as ACM expects it and as public DNS has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationRecordCheck {
    /// The certificate domain the record validates.
    pub domain: String,
    /// `ResourceRecord.Name`, as ACM gives it.
    pub name: String,
    /// `ResourceRecord.Value`: what the CNAME must point to.
    pub expected: String,
    pub answer: Answer,
    /// The CNAME targets found at `name` (empty unless `answer` is `records`).
    #[serde(default)]
    pub found: Vec<String>,
}

impl ValidationRecordCheck {
    /// Whether DNS holds the record ACM expects (names compared without case and final dot).
    pub fn matches(&self) -> bool {
        self.found
            .iter()
            .any(|found| same_name(found, &self.expected))
    }
}

/// One CAA property as found in DNS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaaRecord {
    /// The flags octet; bit 7 (128) is the issuer-critical flag.
    pub flags: u8,
    /// `issue`, `issuewild`, `iodef`, or any other tag, lowercase.
    pub tag: String,
    /// The value as written, e.g. `amazon.com`, `;`, `amazon.com; accounturi=…`.
    pub value: String,
}

/// The relevant CAA set of one certificate name (RFC 8659 §3: the first non-empty set found
/// climbing from the name, or from X for `*.X`, towards the root; a CNAME's target counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaaCheck {
    /// The certificate name, as on the certificate (`*.example.com` for a wildcard).
    pub domain: String,
    /// `failed` when a query of the climb got no answer; otherwise `records` when a set was
    /// found and `no_data` when no name up to the top-level domain has one.
    pub answer: Answer,
    /// The name whose query returned the relevant set (None: no set anywhere).
    pub found_at: Option<String>,
    /// The relevant set.
    #[serde(default)]
    pub records: Vec<CaaRecord>,
}

/// One name of the certificate, as resolved, and its endpoints as probed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameCheck {
    pub name: String,
    /// The A/AAAA lookup: `records` when addresses were found.
    pub answer: Answer,
    /// CNAMEs followed on the way, in order.
    #[serde(default)]
    pub cnames: Vec<String>,
    /// Addresses found, IPv4 and IPv6.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// One TLS handshake per address (empty when TLS checks are off).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<EndpointProbe>,
}

/// One TLS handshake with `address:port`, SNI = the name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointProbe {
    pub address: String,
    pub port: u16,
    /// What the endpoint served; None when no handshake succeeded.
    pub served: Option<ServedCertificate>,
    /// Why no handshake succeeded (refused, reset, a TLS alert, timed out).
    pub error: Option<String>,
    /// True when the probe could not be made from here (e.g. no IPv6 route on this host): not
    /// the endpoint's fault, so not a finding; a `failures` row with stage `tls`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub local_failure: bool,
}

/// The leaf certificate an endpoint served, whether or not it is trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedCertificate {
    /// Lowercase colon-separated hex, as ACM writes `Serial`, without a leading `00` sign byte.
    pub serial: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub subject: String,
    pub issuer: String,
    /// The DNS names of its subjectAltName extension.
    #[serde(default)]
    pub names: Vec<String>,
    /// The WebPKI verdict for the probed name: `valid`, `expired`, `not_yet_valid`,
    /// `unknown_issuer`, `name_mismatch`, `revoked`, or another rustls error text. Recorded,
    /// never trusted: the handshake completes either way.
    pub verdict: String,
    /// Certificates in the served chain, leaf included.
    pub chain_length: usize,
    /// Whether this is ACM's current certificate ([`CertificateFacts::is_current`]).
    pub matches_acm: bool,
}

impl ServedCertificate {
    /// Whether the certificate covers `host` (a SAN equal to it, or a wildcard SAN one label
    /// above it).
    pub fn covers(&self, host: &str) -> bool {
        self.names.iter().any(|name| name_covers(name, host))
    }
}

/// Whether a certificate name (maybe `*.X`) covers `host` (RFC 6125: the wildcard stands for
/// exactly one left-most label).
pub fn name_covers(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.');
    let host = host.trim_end_matches('.');
    if pattern.eq_ignore_ascii_case(host) {
        return true;
    }
    match (pattern.strip_prefix("*."), host.split_once('.')) {
        (Some(parent), Some((label, rest))) => {
            !label.is_empty() && parent.eq_ignore_ascii_case(rest)
        }
        _ => false,
    }
}

/// DNS names compared without case and without the final dot.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// A serial number as an integer, from ACM's colon-separated hex (`0a:1b:…`), moto's decimal
/// (`123456789…`), or plain hex: the big-endian bytes with leading zero bytes dropped, so that
/// both notations of one serial compare equal. None for text that is neither.
pub fn serial_value(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let bytes = if text.contains(':') {
        text.split(':')
            .map(|part| u8::from_str_radix(part, 16).ok())
            .collect::<Option<Vec<u8>>>()?
    } else if text.bytes().all(|b| b.is_ascii_digit()) {
        decimal_to_bytes(text)
    } else if text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let padded = if text.len() % 2 == 1 {
            format!("0{text}")
        } else {
            text.to_owned()
        };
        (0..padded.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&padded[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?
    } else {
        return None;
    };
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    Some(bytes[first..].to_vec())
}

/// Big-endian bytes of a decimal number of any length.
fn decimal_to_bytes(digits: &str) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    for digit in digits.bytes().map(|b| u32::from(b - b'0')) {
        let mut carry = digit;
        for byte in out.iter_mut().rev() {
            let value = u32::from(*byte) * 10 + carry;
            *byte = (value & 0xff) as u8;
            carry = value >> 8;
        }
        while carry > 0 {
            out.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    out
}

/// The checks one certificate calls for: the plan the probe carries out. Pure: decided from
/// the certificate's facts alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckPlan {
    /// (domain, record name, expected value) of each unique validation CNAME.
    pub validation_records: Vec<(String, String, String)>,
    /// Certificate names whose relevant CAA set is looked up.
    pub caa: Vec<String>,
    /// Non-wildcard names resolved to addresses.
    pub resolve: Vec<String>,
    /// Whether the resolved names' endpoints get a TLS handshake.
    pub tls: bool,
}

impl CheckPlan {
    pub fn is_empty(&self) -> bool {
        self.validation_records.is_empty() && self.caa.is_empty() && self.resolve.is_empty()
    }
}

impl CertificateFacts {
    /// The certificate's names: `domain_name`, then each SAN, no duplicates (case-insensitive).
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for name in self
            .domain_name
            .iter()
            .chain(&self.subject_alternative_names)
        {
            if !names.iter().any(|n| same_name(n, name)) {
                names.push(name);
            }
        }
        names
    }

    /// Whether ACM will try to renew this DNS-validated certificate, so its validation CNAMEs
    /// must stay in DNS: Amazon-issued, issued, not expired, and in use, exported or eligible.
    pub fn acm_will_renew(&self, now: DateTime<Utc>) -> bool {
        self.cert_type == CertType::AmazonIssued
            && self.status == CertStatus::Issued
            && !self.is_expired(now)
            && (self.renewal_eligible_by_use()
                || self.renewal_eligibility == Some(crate::RenewalEligibility::Eligible))
    }

    /// Whether the DNS checks need `DescribeCertificate` to know the validation CNAMEs: a
    /// certificate ACM will renew that is (or may be) DNS-validated and was not described.
    pub fn checks_need_detail(&self, now: DateTime<Utc>) -> bool {
        !self.described
            && self.acm_will_renew(now)
            && !matches!(
                self.search
                    .as_ref()
                    .and_then(|s| s.validation_method.as_ref()),
                Some(ValidationMethod::Email | ValidationMethod::Http)
            )
    }

    /// Whether `served` is ACM's current copy of this certificate: the same serial (compared
    /// as integers: ACM writes hex, moto decimal) and the same NotAfter; with no serial known,
    /// the same NotAfter.
    pub fn is_current(&self, served_serial: &str, served_not_after: DateTime<Utc>) -> bool {
        // X.509 times have whole seconds; ACM's (and emulators') may carry a fraction.
        let same_date = self
            .not_after
            .is_some_and(|at| at.timestamp() == served_not_after.timestamp());
        match (
            self.serial.as_deref().and_then(serial_value),
            serial_value(served_serial),
        ) {
            (Some(ours), Some(theirs)) => ours == theirs && same_date,
            _ => same_date,
        }
    }

    /// The checks an earlier scan made of this certificate (`previous`: the same ARN as then
    /// stored), if they still stand: made less than `max_age` before `now`, complete (a failed
    /// lookup is always retried), and of the same plan, serial and NotAfter, so a renewal,
    /// a re-import, a new name or a change of use is checked afresh. This is what keeps a
    /// long-running `serve` from repeating every lookup at every scan.
    pub fn reusable_checks(
        &self,
        previous: &CertificateFacts,
        now: DateTime<Utc>,
        max_age: chrono::Duration,
        dns: bool,
        tls: bool,
    ) -> Option<Checks> {
        let checks = previous.checks.as_ref()?;
        let fresh = checks
            .checked_at
            .is_some_and(|at| at <= now && now - at < max_age);
        let plan = self.check_plan(now, dns, tls);
        // The earlier scan probed endpoints exactly when this plan wants them probed.
        let probed_alike = checks
            .names
            .iter()
            .filter(|n| n.answer == Answer::Records)
            .all(|n| n.endpoints.is_empty() != plan.tls);
        let same = self.serial == previous.serial
            && self.not_after == previous.not_after
            && plan == previous.check_plan(now, dns, tls)
            && probed_alike;
        (fresh && same && checks.complete()).then(|| checks.clone())
    }

    /// Which checks this certificate calls for, given which kinds are turned on.
    pub fn check_plan(&self, now: DateTime<Utc>, dns: bool, tls: bool) -> CheckPlan {
        let mut plan = CheckPlan::default();
        if (!dns && !tls)
            || self.is_expired(now)
            || matches!(
                self.status,
                CertStatus::Revoked | CertStatus::Failed | CertStatus::ValidationTimedOut
            )
            || self.managed_by_cloudfront()
        {
            return plan;
        }
        let names = self.names();
        let issued = self.status == CertStatus::Issued;
        if dns && self.acm_will_renew(now) {
            for dv in &self.domain_validation_options {
                let (Some(method), Some(rr)) = (&dv.validation_method, &dv.resource_record) else {
                    continue;
                };
                if *method != ValidationMethod::Dns {
                    continue;
                }
                if !plan
                    .validation_records
                    .iter()
                    .any(|(_, name, _)| same_name(name, &rr.name))
                {
                    plan.validation_records.push((
                        dv.domain_name.clone(),
                        rr.name.clone(),
                        rr.value.clone(),
                    ));
                }
            }
        }
        if dns && self.cert_type == CertType::AmazonIssued {
            plan.caa = names.iter().map(|n| (*n).to_owned()).collect();
        }
        let in_use = self.is_in_use();
        let served_somewhere = in_use || self.exported || self.cert_type == CertType::Imported;
        if issued && served_somewhere {
            let hosts = names.iter().filter(|n| !n.starts_with("*."));
            // Without TLS checks only names of certificates in use are resolved: they are the
            // ones NAME_UNRESOLVABLE judges.
            if tls || (dns && in_use) {
                plan.resolve = hosts.map(|n| (*n).to_owned()).collect();
                plan.tls = tls;
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{healthy, now};

    #[test]
    fn serials_compare_as_integers() {
        let hex = serial_value("00:0a:ff").unwrap();
        assert_eq!(hex, vec![0x0a, 0xff]);
        assert_eq!(serial_value("2815").unwrap(), hex, "decimal 2815 = 0x0aff");
        assert_eq!(serial_value("0aff").unwrap(), hex);
        assert_eq!(serial_value("aff").unwrap(), hex);
        let big = "340282366920938463463374607431768211455"; // 2^128 - 1
        assert_eq!(serial_value(big).unwrap(), vec![0xff; 16]);
        assert_eq!(serial_value("zz"), None);
        assert_eq!(serial_value(""), None);
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_covers("*.example.com", "www.example.com"));
        assert!(name_covers("*.Example.com.", "WWW.example.com"));
        assert!(!name_covers("*.example.com", "a.b.example.com"));
        assert!(!name_covers("*.example.com", "example.com"));
        assert!(name_covers("shop.example.com", "shop.example.com."));
    }

    #[test]
    fn plan_follows_use_type_and_method() {
        let c = healthy();
        let plan = c.check_plan(now(), true, true);
        assert_eq!(plan.validation_records.len(), 2);
        assert_eq!(plan.caa, ["shop.example.com", "www.shop.example.com"]);
        assert_eq!(plan.resolve, ["shop.example.com", "www.shop.example.com"]);
        assert!(plan.tls);

        let mut unused = c.clone();
        unused.in_use = false;
        unused.in_use_by.clear();
        unused.renewal_eligibility = Some(crate::RenewalEligibility::Ineligible);
        let plan = unused.check_plan(now(), true, true);
        assert!(plan.validation_records.is_empty(), "ACM will not renew it");
        assert!(plan.resolve.is_empty(), "nothing serves it");
        assert_eq!(plan.caa.len(), 2);

        let mut imported = c.clone();
        imported.cert_type = CertType::Imported;
        imported.in_use = false;
        imported.in_use_by.clear();
        let plan = imported.check_plan(now(), true, true);
        assert!(plan.caa.is_empty() && plan.validation_records.is_empty());
        assert_eq!(
            plan.resolve.len(),
            2,
            "an imported copy may be served anywhere"
        );
        assert!(imported.check_plan(now(), true, false).resolve.is_empty());

        let mut wildcard = c.clone();
        wildcard
            .subject_alternative_names
            .push("*.shop.example.com".into());
        let plan = wildcard.check_plan(now(), true, true);
        assert_eq!(plan.caa.len(), 3);
        assert_eq!(plan.resolve.len(), 2, "a wildcard is not a host");

        let mut expired = c.clone();
        expired.not_after = Some(now() - chrono::Duration::days(1));
        assert!(expired.check_plan(now(), true, true).is_empty());
        assert!(c.check_plan(now(), false, false).is_empty());
    }

    #[test]
    fn current_copy_by_serial_and_date() {
        let mut c = healthy();
        let at = c.not_after.unwrap();
        assert!(
            c.is_current("01:02", at),
            "no serial known: the date decides"
        );
        c.serial = Some("01:02".into());
        assert!(c.is_current("258", at), "decimal 258 = 0x0102");
        assert!(!c.is_current("01:03", at));
        assert!(!c.is_current("01:02", at - chrono::Duration::days(1)));
        c.not_after = Some(at + chrono::Duration::milliseconds(250));
        assert!(c.is_current("01:02", at), "X.509 has whole seconds");
    }

    #[test]
    fn checks_are_reused_while_fresh_complete_and_unchanged() {
        let mut before = crate::rules::test_support::checked(healthy());
        let checked_at = now() - chrono::Duration::hours(5);
        before.checks.as_mut().unwrap().checked_at = Some(checked_at);
        let day = chrono::Duration::hours(24);
        let again = before.clone();
        let reused = again.reusable_checks(&before, now(), day, true, true);
        assert_eq!(reused.unwrap().checked_at, Some(checked_at));
        assert!(
            again
                .reusable_checks(&before, now(), chrono::Duration::hours(4), true, true)
                .is_none(),
            "too old"
        );
        let mut renewed = again.clone();
        renewed.not_after = Some(renewed.not_after.unwrap() + chrono::Duration::days(198));
        assert!(renewed
            .reusable_checks(&before, now(), day, true, true)
            .is_none());
        let mut more_names = again.clone();
        more_names
            .subject_alternative_names
            .push("api.shop.example.com".into());
        assert!(more_names
            .reusable_checks(&before, now(), day, true, true)
            .is_none());
        let mut failed = before.clone();
        failed.checks.as_mut().unwrap().caa[0].answer = Answer::Failed;
        assert!(again
            .reusable_checks(&failed, now(), day, true, true)
            .is_none());
        assert!(
            again
                .reusable_checks(&before, now(), day, true, false)
                .is_none(),
            "TLS off now"
        );
    }

    #[test]
    fn detail_needed_only_for_renewing_dns_certificates() {
        let mut c = healthy();
        c.described = false;
        assert!(c.checks_need_detail(now()));
        c.search = Some(crate::SearchMetadata {
            validation_method: Some(ValidationMethod::Email),
            renewal_status: None,
        });
        assert!(!c.checks_need_detail(now()));
        let mut imported = healthy();
        imported.described = false;
        imported.cert_type = CertType::Imported;
        assert!(!imported.checks_need_detail(now()));
    }
}

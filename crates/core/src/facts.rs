//! Certificate facts as ACM reports them, in plain data.
//!
//! Every AWS enum is kept as a closed set of known values plus `Other(String)`: AWS adds values
//! without notice (EventBridge already sends `PENDING_DOMAIN_VALIDATION`), and an unknown value
//! must be shown as it came, never crash a scan.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! aws_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            /// A value this version does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            pub fn parse(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }

            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(text) => text,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Ok(Self::parse(&text))
            }
        }
    };
}

aws_enum!(
    /// `CertificateDetail.Type`.
    CertType {
        AmazonIssued = "AMAZON_ISSUED",
        Imported = "IMPORTED",
        Private = "PRIVATE",
    }
);

aws_enum!(
    /// `CertificateDetail.Status`. Expiry is read from here only when there is no `not_after`:
    /// see [`CertificateFacts::is_expired`].
    CertStatus {
        PendingValidation = "PENDING_VALIDATION",
        Issued = "ISSUED",
        Inactive = "INACTIVE",
        Expired = "EXPIRED",
        ValidationTimedOut = "VALIDATION_TIMED_OUT",
        Revoked = "REVOKED",
        Failed = "FAILED",
    }
);

aws_enum!(
    /// `RenewalSummary.RenewalStatus`.
    RenewalStatus {
        PendingAutoRenewal = "PENDING_AUTO_RENEWAL",
        PendingValidation = "PENDING_VALIDATION",
        Success = "SUCCESS",
        Failed = "FAILED",
    }
);

aws_enum!(
    /// `RenewalEligibility`.
    RenewalEligibility {
        Eligible = "ELIGIBLE",
        Ineligible = "INELIGIBLE",
    }
);

aws_enum!(
    /// `DomainValidation.ValidationMethod`.
    ValidationMethod {
        Dns = "DNS",
        Email = "EMAIL",
        Http = "HTTP",
    }
);

aws_enum!(
    /// `DomainValidation.ValidationStatus`.
    ValidationStatus {
        PendingValidation = "PENDING_VALIDATION",
        Success = "SUCCESS",
        Failed = "FAILED",
    }
);

aws_enum!(
    /// `FailureReason` and `RenewalStatusReason` share one value set.
    Reason {
        NoAvailableContacts = "NO_AVAILABLE_CONTACTS",
        AdditionalVerificationRequired = "ADDITIONAL_VERIFICATION_REQUIRED",
        DomainNotAllowed = "DOMAIN_NOT_ALLOWED",
        InvalidPublicDomain = "INVALID_PUBLIC_DOMAIN",
        DomainValidationDenied = "DOMAIN_VALIDATION_DENIED",
        CaaError = "CAA_ERROR",
        PcaLimitExceeded = "PCA_LIMIT_EXCEEDED",
        PcaInvalidArn = "PCA_INVALID_ARN",
        PcaInvalidState = "PCA_INVALID_STATE",
        PcaRequestFailed = "PCA_REQUEST_FAILED",
        PcaNameConstraintsValidation = "PCA_NAME_CONSTRAINTS_VALIDATION",
        PcaResourceNotFound = "PCA_RESOURCE_NOT_FOUND",
        PcaInvalidArgs = "PCA_INVALID_ARGS",
        PcaInvalidDuration = "PCA_INVALID_DURATION",
        PcaAccessDenied = "PCA_ACCESS_DENIED",
        SlrNotFound = "SLR_NOT_FOUND",
        Unspecified = "OTHER",
    }
);

impl Reason {
    /// Failures caused by AWS Private CA (or the service-linked role ACM uses to reach it).
    pub fn is_private_ca(&self) -> bool {
        self.as_str().starts_with("PCA_") || *self == Reason::SlrNotFound
    }

    /// Failures where the domain itself cannot be validated by Amazon.
    pub fn is_domain_blocked(&self) -> bool {
        matches!(
            self,
            Reason::NoAvailableContacts
                | Reason::AdditionalVerificationRequired
                | Reason::DomainNotAllowed
                | Reason::InvalidPublicDomain
                | Reason::DomainValidationDenied
        )
    }
}

/// The CNAME ACM looks up to validate a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    pub value: String,
}

/// For HTTP validation: `redirect_from` must serve what `redirect_to` serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRedirect {
    pub redirect_from: String,
    pub redirect_to: String,
}

/// One entry of `DomainValidationOptions` (of the certificate, or of its renewal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DomainValidation {
    pub domain_name: String,
    pub validation_domain: Option<String>,
    pub validation_method: Option<ValidationMethod>,
    pub validation_status: Option<ValidationStatus>,
    #[serde(default)]
    pub validation_emails: Vec<String>,
    pub resource_record: Option<ResourceRecord>,
    pub http_redirect: Option<HttpRedirect>,
}

/// `RenewalSummary`: present only once ACM has started (or finished) a renewal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalSummary {
    pub renewal_status: RenewalStatus,
    pub renewal_status_reason: Option<Reason>,
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub domain_validation_options: Vec<DomainValidation>,
}

/// What `SearchCertificates` says of a certificate beyond a `ListCertificates` summary. With it
/// most certificates are judged without `DescribeCertificate` (see `needs_detail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SearchMetadata {
    /// The certificate's validation method (Amazon-issued certificates only).
    pub validation_method: Option<ValidationMethod>,
    /// `RenewalSummary.RenewalStatus`; `None` when ACM has not started a renewal.
    pub renewal_status: Option<RenewalStatus>,
}

/// Everything the rules may look at for one certificate. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateFacts {
    pub account_id: String,
    pub region: String,
    pub arn: String,
    pub domain_name: Option<String>,
    #[serde(default)]
    pub subject_alternative_names: Vec<String>,
    #[serde(rename = "type")]
    pub cert_type: CertType,
    pub status: CertStatus,
    pub key_algorithm: Option<String>,
    /// `Serial`: colon-separated hex from ACM (decimal from some emulators); compare with
    /// `checks::serial_value`. From DescribeCertificate or SearchCertificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    pub not_before: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub issued_at: Option<DateTime<Utc>>,
    pub imported_at: Option<DateTime<Utc>>,
    pub in_use: bool,
    #[serde(default)]
    pub in_use_by: Vec<String>,
    pub exported: bool,
    pub renewal_eligibility: Option<RenewalEligibility>,
    pub managed_by: Option<String>,
    pub failure_reason: Option<Reason>,
    pub certificate_authority_arn: Option<String>,
    #[serde(default)]
    pub domain_validation_options: Vec<DomainValidation>,
    pub renewal_summary: Option<RenewalSummary>,
    /// Set when the certificate was found with `SearchCertificates`; `None` after
    /// `ListCertificates`, whose summary lacks these fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchMetadata>,
    /// True when DescribeCertificate was called; false when the list summary was enough.
    pub described: bool,
    /// When DescribeCertificate was called (the scan's time): a rescan may reuse the detail
    /// until it is `scan.detail_max_age_hours` old ([`crate::reuse`]). `None` for a detail
    /// written before certwatch recorded it, which is described again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub described_at: Option<DateTime<Utc>>,
    /// What the network checks (DNS, CAA, TLS) saw; None when none ran for this certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<crate::checks::Checks>,
}

impl CertificateFacts {
    /// A certificate with only the identifying fields set; the scanner fills in the rest.
    pub fn new(account_id: &str, region: &str, arn: &str) -> Self {
        CertificateFacts {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            arn: arn.to_owned(),
            domain_name: None,
            subject_alternative_names: Vec::new(),
            cert_type: CertType::AmazonIssued,
            status: CertStatus::Issued,
            key_algorithm: None,
            serial: None,
            not_before: None,
            not_after: None,
            created_at: None,
            issued_at: None,
            imported_at: None,
            in_use: false,
            in_use_by: Vec::new(),
            exported: false,
            renewal_eligibility: None,
            managed_by: None,
            failure_reason: None,
            certificate_authority_arn: None,
            domain_validation_options: Vec::new(),
            renewal_summary: None,
            search: None,
            described: false,
            described_at: None,
            checks: None,
        }
    }

    /// The certificate id: the last segment of the ARN.
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }

    /// The ACM console page of this certificate.
    pub fn console_url(&self) -> String {
        let region = &self.region;
        format!(
            "https://{region}.console.aws.amazon.com/acm/home?region={region}#/certificates/{}",
            self.id()
        )
    }

    /// The name people know the certificate by.
    pub fn display_name(&self) -> &str {
        self.domain_name
            .as_deref()
            .or_else(|| self.subject_alternative_names.first().map(String::as_str))
            .unwrap_or_else(|| self.id())
    }

    /// Whole days until `NotAfter`, truncated toward zero (negative once it passed by a whole
    /// day): [`crate::expiry::days_to`]. `None` without a NotAfter.
    pub fn days_to_expiry(&self, now: DateTime<Utc>) -> Option<i64> {
        self.not_after
            .map(|not_after| crate::expiry::days_to(not_after, now))
    }

    /// How the certificate's expiry reads at `now` ([`crate::expiry::phrase`]): "expires in 5
    /// days", "expired less than a day ago"; without a NotAfter, "has expired" when ACM says
    /// EXPIRED and "has no expiry date yet" otherwise (as [`Self::is_expired`] reads Status).
    pub fn expiry_phrase(&self, now: DateTime<Utc>) -> String {
        match self.not_after {
            Some(not_after) => crate::expiry::phrase(not_after, now),
            None if self.is_expired(now) => "has expired".to_owned(),
            None => "has no expiry date yet".to_owned(),
        }
    }

    /// Whether the certificate has expired: its `NotAfter` is not after `now`. Status can say
    /// ISSUED for a while after NotAfter, and EXPIRED before `now` reaches it (AWS's clock is not
    /// the caller's), so Status is read only for a certificate without a NotAfter, which is
    /// expired only if ACM says EXPIRED.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        match self.not_after {
            Some(not_after) => not_after <= now,
            None => self.status == CertStatus::Expired,
        }
    }

    /// The validation method of the certificate (the first domain's; ACM uses one per certificate).
    pub fn validation_method(&self) -> Option<&ValidationMethod> {
        self.domain_validation_options
            .iter()
            .find_map(|dv| dv.validation_method.as_ref())
    }

    /// The renewal's domains still waiting for validation with `method`: none unless the renewal
    /// is PENDING_VALIDATION. Some responses carry the renewal's options without statuses, or
    /// none at all: then every domain of the certificate is taken as pending. A domain without
    /// a method of its own has the certificate's.
    pub fn renewal_pending_validation(&self, method: &ValidationMethod) -> Vec<&DomainValidation> {
        let Some(renewal) = &self.renewal_summary else {
            return Vec::new();
        };
        if renewal.renewal_status != RenewalStatus::PendingValidation {
            return Vec::new();
        }
        if renewal.domain_validation_options.is_empty() {
            // The certificate's own statuses are those of its issuance, not of this renewal.
            return self.with_method(&self.domain_validation_options, method);
        }
        self.pending_among(&renewal.domain_validation_options, method)
    }

    /// The domains whose validation email ACM can send again: a renewal's domains waiting for
    /// email validation (PENDING_VALIDATION_EMAIL), else, for a request still
    /// PENDING_VALIDATION, its domains waiting for email validation. Empty for anything else.
    pub fn pending_email_validation(&self) -> Vec<&DomainValidation> {
        let renewal = self.renewal_pending_validation(&ValidationMethod::Email);
        if !renewal.is_empty() || self.status != CertStatus::PendingValidation {
            return renewal;
        }
        self.pending_among(&self.domain_validation_options, &ValidationMethod::Email)
    }

    /// The options pending validation with `method`: with that method, all of them when none
    /// carries a status.
    fn pending_among<'a>(
        &self,
        options: &'a [DomainValidation],
        method: &ValidationMethod,
    ) -> Vec<&'a DomainValidation> {
        let any_status = options.iter().any(|dv| dv.validation_status.is_some());
        self.with_method(options, method)
            .into_iter()
            .filter(|dv| {
                !any_status || dv.validation_status == Some(ValidationStatus::PendingValidation)
            })
            .collect()
    }

    /// The options validated with `method` (a domain without a method has the certificate's).
    fn with_method<'a>(
        &self,
        options: &'a [DomainValidation],
        method: &ValidationMethod,
    ) -> Vec<&'a DomainValidation> {
        let default_method = self.validation_method();
        options
            .iter()
            .filter(|dv| dv.validation_method.as_ref().or(default_method) == Some(method))
            .collect()
    }

    pub fn managed_by_cloudfront(&self) -> bool {
        self.managed_by.as_deref() == Some("CLOUDFRONT")
    }

    /// Used by an AWS service (InUse, or any InUseBy ARN).
    pub fn is_in_use(&self) -> bool {
        self.in_use || !self.in_use_by.is_empty()
    }

    /// ACM renews only certificates that are used by an AWS service or were exported.
    pub fn renewal_eligible_by_use(&self) -> bool {
        self.is_in_use() || self.exported
    }

    pub fn has_wildcard(&self) -> bool {
        self.domain_name
            .iter()
            .chain(&self.subject_alternative_names)
            .any(|d| d.starts_with("*."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn expiry_is_read_from_not_after_and_from_status_only_without_it() {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
        let cert = |status: CertStatus, not_after: Option<DateTime<Utc>>| {
            let mut c = CertificateFacts::new("111122223333", "eu-west-1", "arn:x/1");
            c.status = status;
            c.not_after = not_after;
            c
        };
        let past = Some(now - Duration::seconds(1));
        let future = Some(now + Duration::hours(1));
        for (status, not_after, expired) in [
            // Status still ISSUED after NotAfter: expired.
            (CertStatus::Issued, past, true),
            (CertStatus::Issued, Some(now), true),
            (CertStatus::Issued, future, false),
            // Status EXPIRED while NotAfter is still ahead: NotAfter decides.
            (CertStatus::Expired, future, false),
            (CertStatus::Expired, past, true),
            // No NotAfter: only Status can say, and only EXPIRED means expired.
            (CertStatus::Expired, None, true),
            (CertStatus::Issued, None, false),
            (CertStatus::PendingValidation, None, false),
        ] {
            let c = cert(status.clone(), not_after);
            assert_eq!(c.is_expired(now), expired, "{status} {not_after:?}");
        }
    }

    fn option(
        domain: &str,
        method: ValidationMethod,
        status: ValidationStatus,
    ) -> DomainValidation {
        DomainValidation {
            domain_name: domain.to_owned(),
            validation_domain: Some("example.org".to_owned()),
            validation_method: Some(method),
            validation_status: Some(status),
            validation_emails: vec!["admin@example.org".to_owned()],
            ..DomainValidation::default()
        }
    }

    fn names(options: Vec<&DomainValidation>) -> Vec<&str> {
        options.iter().map(|dv| dv.domain_name.as_str()).collect()
    }

    #[test]
    fn pending_email_validation_is_a_renewal_s_or_a_request_s() {
        use ValidationMethod::{Dns, Email};
        use ValidationStatus::{PendingValidation, Success};
        let mut c = CertificateFacts::new("111122223333", "us-east-1", "arn:x/1");
        c.domain_validation_options = vec![
            option("example.org", Email, Success),
            option("www.example.org", Email, Success),
        ];
        assert!(
            c.pending_email_validation().is_empty(),
            "issued, no renewal"
        );

        // A renewal waiting for one of the two domains.
        c.renewal_summary = Some(RenewalSummary {
            renewal_status: RenewalStatus::PendingValidation,
            renewal_status_reason: None,
            updated_at: None,
            domain_validation_options: vec![
                option("example.org", Email, Success),
                option("www.example.org", Email, PendingValidation),
            ],
        });
        assert_eq!(names(c.pending_email_validation()), ["www.example.org"]);
        // A renewal without options of its own: every domain of the certificate.
        if let Some(renewal) = c.renewal_summary.as_mut() {
            renewal.domain_validation_options.clear();
        }
        assert_eq!(
            names(c.pending_email_validation()),
            ["example.org", "www.example.org"]
        );
        // A renewal that is not waiting for validation.
        if let Some(renewal) = c.renewal_summary.as_mut() {
            renewal.renewal_status = RenewalStatus::PendingAutoRenewal;
        }
        assert!(c.pending_email_validation().is_empty());

        // A request still pending validation.
        c.renewal_summary = None;
        c.status = CertStatus::PendingValidation;
        c.domain_validation_options = vec![
            option("example.org", Email, Success),
            option("www.example.org", Email, PendingValidation),
        ];
        assert_eq!(names(c.pending_email_validation()), ["www.example.org"]);
        // DNS-validated: nothing to resend.
        c.domain_validation_options = vec![option("example.org", Dns, PendingValidation)];
        assert!(c.pending_email_validation().is_empty());
    }
}

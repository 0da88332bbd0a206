//! AWS Certificate Manager (awsJson1_1): `ListCertificates`, `SearchCertificates`,
//! `DescribeCertificate`, `ListTagsForCertificate`, and the one write, `ResendValidationEmail`.
//!
//! Calls land in the caller's account and the signed region; nothing crosses
//! account-regions. `ListCertificates` applies AWS's default filters (only
//! RSA_1024/RSA_2048 keys, no ACME key pairs) when the caller does not ask for
//! more, because a scanner that forgets `Includes.keyTypes` must miss certificates
//! here exactly as it would in AWS.
//!
//! `SearchCertificates` has no such default: it returns every certificate of the
//! account-region (any key, any origin, any status) as `X509Attributes` plus
//! `AcmCertificateMetadata`, which carries `ValidationMethod` and `RenewalStatus`.
//! Pages hold `MaxResults` (1..=500, default 100). Its `FilterStatement` is not
//! simulated: a request with one answers `ValidationException` rather than results
//! that might be wrong. `SortBy` (with an optional `SortOrder`) is honoured: stable,
//! so ties keep scenario order; absent values sort first in ascending order.
//!
//! An account's `denied_actions` (scenario) refuse those actions to every caller in
//! the account with IAM's `AccessDeniedException` (a role deployed before a
//! permission was added to it). IAM answers before the service does, so the denial
//! comes before the account-region's `acm_error` fault and before input validation.
//! The operations served are listed in `world::ACM_OPERATIONS` (the resolver checks
//! `denied_actions` against it); a test here keeps `call` and that list in step.
//!
//! `ResendValidationEmail` changes nothing in the world (ACM only mails the approvers again):
//! it is checked as ACM checks it and, when accepted, recorded in [`Resends`], which tests read
//! (`SimServer::resends`). ACM accepts it for a domain of the certificate whose validation is
//! EMAIL and still PENDING_VALIDATION, in a request that is PENDING_VALIDATION or in a renewal
//! that is; `ValidationDomain` must be the domain or one of its superdomains.
//! A domain the certificate does not have, or a `ValidationDomain` that is not the domain or a
//! superdomain, is `InvalidDomainValidationOptionsException`; a domain that is not waiting for
//! email validation is `InvalidStateException`. ACM's 72-hour window after the request or the
//! previous resend is not simulated.

use super::{json_input, validation_message, Ctx};
use crate::paging;
use crate::protocol::{epoch, ApiError, AuthFailure, Protocol, Reply};
use crate::world::{Certificate, DomainValidation};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::{Mutex, PoisonError};

const DEFAULT_KEY_TYPES: &[&str] = &["RSA_1024", "RSA_2048"];
const DEFAULT_KEY_PAIR_ORIGINS: &[&str] = &["AWS_MANAGED", "CUSTOMER_PROVIDED"];
const MAX_ITEMS: i64 = 1000;
const SEARCH_MAX_RESULTS: i64 = 500;
const SEARCH_DEFAULT_RESULTS: i64 = 100;
/// `SearchCertificatesSortBy` values.
const SEARCH_SORT_BY: &[&str] = &[
    "ACME_ACCOUNT_ID",
    "ACME_ENDPOINT_ARN",
    "CERTIFICATE_ARN",
    "CERTIFICATE_KEY_PAIR_ORIGIN",
    "COMMON_NAME",
    "CREATED_AT",
    "EXPORTED",
    "EXPORT_OPTION",
    "IMPORTED_AT",
    "IN_USE",
    "ISSUED_AT",
    "KEY_ALGORITHM",
    "MANAGED_BY",
    "NOT_AFTER",
    "NOT_BEFORE",
    "RENEWAL_ELIGIBILITY",
    "RENEWAL_STATUS",
    "REVOKED_AT",
    "STATUS",
    "TYPE",
    "VALIDATION_METHOD",
];

/// `ListCertificates` summaries carry at most this many SANs.
const SUMMARY_SANS: usize = 100;

pub fn call(ctx: &Ctx<'_>, operation: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let account = ctx
        .world
        .account(&ctx.caller.account)
        .ok_or_else(|| AuthFailure::Invalid.error(Protocol::AwsJson))?;
    // A disabled opt-in region does not know the account at all.
    if !account.region_enabled(ctx.region) {
        return Err(AuthFailure::Invalid.error(Protocol::AwsJson));
    }
    if account.denies(&format!("acm:{operation}")) {
        return Err(fault(ctx, "AccessDeniedException", operation));
    }
    if let Some(code) = account
        .region_faults(ctx.region)
        .and_then(|f| f.acm_error.as_deref())
    {
        return Err(fault(ctx, code, operation));
    }
    match operation {
        "ListCertificates" => list_certificates(ctx, json_input(Protocol::AwsJson, body)?),
        "SearchCertificates" => search_certificates(ctx, json_input(Protocol::AwsJson, body)?),
        "DescribeCertificate" => describe_certificate(ctx, json_input(Protocol::AwsJson, body)?),
        "ListTagsForCertificate" => list_tags(ctx, json_input(Protocol::AwsJson, body)?),
        "ResendValidationEmail" => {
            resend_validation_email(ctx, json_input(Protocol::AwsJson, body)?)
        }
        other => Err(ApiError::unknown_operation(
            Protocol::AwsJson,
            &format!("CertificateManager.{other}"),
        )),
    }
}

fn fault(ctx: &Ctx<'_>, code: &str, operation: &str) -> ApiError {
    let message = match code {
        "AccessDeniedException" => format!(
            "User: {} is not authorized to perform: acm:{operation} because no identity-based policy allows the acm:{operation} action",
            ctx.caller.arn
        ),
        "InternalFailure" | "InternalServerException" => {
            "The request processing has failed because of an unknown error, exception or failure.".to_owned()
        }
        "ThrottlingException" => "Rate exceeded".to_owned(),
        other => format!("Simulated fault: {other}"),
    };
    ApiError::from_code(code, message)
}

/// The certificates of the caller's account in the signed region, in scenario order.
fn local_certificates<'w>(ctx: &Ctx<'w>) -> impl Iterator<Item = &'w Certificate> + 'w {
    let region = ctx.region.to_owned();
    ctx.world
        .account(&ctx.caller.account)
        .into_iter()
        .flat_map(|a| a.certificates.iter())
        .filter(move |c| c.region == region)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListCertificatesInput {
    certificate_statuses: Option<Vec<String>>,
    certificate_key_pair_origins: Option<Vec<String>>,
    includes: Option<Filters>,
    next_token: Option<String>,
    max_items: Option<i64>,
    sort_by: Option<String>,
    sort_order: Option<String>,
}

/// `Includes`; its members are camelCase on the wire.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filters {
    extended_key_usage: Option<Vec<String>>,
    key_usage: Option<Vec<String>>,
    key_types: Option<Vec<String>>,
    export_option: Option<String>,
    managed_by: Option<String>,
}

fn non_empty(list: &Option<Vec<String>>) -> Option<&[String]> {
    list.as_deref().filter(|l| !l.is_empty())
}

fn list_certificates(ctx: &Ctx<'_>, input: ListCertificatesInput) -> Result<Reply, ApiError> {
    let size = input.max_items.unwrap_or(MAX_ITEMS);
    if !(1..=MAX_ITEMS).contains(&size) {
        return Err(ApiError::client(
            "ValidationException",
            validation_message(
                size,
                "maxItems",
                "Member must have value less than or equal to 1000",
            ),
        ));
    }
    let includes = input.includes.unwrap_or_default();
    let statuses = non_empty(&input.certificate_statuses);
    let origins = non_empty(&input.certificate_key_pair_origins);
    let key_types = non_empty(&includes.key_types);
    let key_usage = non_empty(&includes.key_usage);
    let extended_key_usage = non_empty(&includes.extended_key_usage);

    let keep = |c: &&Certificate| {
        let key_type_ok = match key_types {
            Some(types) => types.contains(&c.key_algorithm),
            None => DEFAULT_KEY_TYPES.contains(&c.key_algorithm.as_str()),
        };
        let origin_ok = match origins {
            Some(origins) => origins.contains(&c.key_pair_origin),
            None => DEFAULT_KEY_PAIR_ORIGINS.contains(&c.key_pair_origin.as_str()),
        };
        key_type_ok
            && origin_ok
            && statuses.is_none_or(|s| s.contains(&c.status))
            && includes
                .export_option
                .as_ref()
                .is_none_or(|e| e == &c.export_option)
            && includes
                .managed_by
                .as_ref()
                .is_none_or(|m| Some(m) == c.managed_by.as_ref())
            && key_usage.is_none_or(|ku| c.key_usages.iter().any(|k| ku.iter().any(|w| w == k)))
            && extended_key_usage.is_none_or(|eku| {
                c.extended_key_usages
                    .iter()
                    .any(|(name, _)| eku.iter().any(|w| w == name))
            })
    };
    let mut listed: Vec<&Certificate> = local_certificates(ctx).filter(keep).collect();
    match (input.sort_by.as_deref(), input.sort_order.as_deref()) {
        (None, None) => {}
        (Some("CREATED_AT"), order @ (None | Some("ASCENDING") | Some("DESCENDING"))) => {
            // Stable sort: ties keep scenario order, so paging stays consistent.
            listed.sort_by_key(|c| c.created_at);
            if order == Some("DESCENDING") {
                listed.reverse();
            }
        }
        (sort_by, sort_order) => {
            return Err(ApiError::client(
                "ValidationException",
                format!("Invalid sort: SortBy {sort_by:?} with SortOrder {sort_order:?}; SortBy must be CREATED_AT and SortOrder ASCENDING or DESCENDING"),
            ))
        }
    }

    let scope = format!("acm:ListCertificates:{}:{}", ctx.caller.account, ctx.region);
    let page = paging::page(
        &scope,
        listed.len(),
        input.next_token.as_deref(),
        usize::try_from(size).unwrap_or(1),
    )
    .map_err(|_| ApiError::client("InvalidArgsException", "The NextToken is invalid."))?;
    let summaries: Vec<Value> = listed[page.start..page.end]
        .iter()
        .map(|c| summary_json(c))
        .collect();
    let mut out = Map::new();
    out.insert("CertificateSummaryList".into(), Value::Array(summaries));
    if let Some(token) = page.next_token {
        out.insert("NextToken".into(), Value::from(token));
    }
    Ok(Reply::Json(Value::Object(out)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SearchCertificatesInput {
    filter_statement: Option<Value>,
    max_results: Option<i64>,
    next_token: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
}

fn search_certificates(ctx: &Ctx<'_>, input: SearchCertificatesInput) -> Result<Reply, ApiError> {
    let size = input.max_results.unwrap_or(SEARCH_DEFAULT_RESULTS);
    if size < 1 {
        return Err(ApiError::client(
            "ValidationException",
            validation_message(
                size,
                "maxResults",
                "Member must have value greater than or equal to 1",
            ),
        ));
    }
    if size > SEARCH_MAX_RESULTS {
        return Err(ApiError::client(
            "ValidationException",
            validation_message(
                size,
                "maxResults",
                "Member must have value less than or equal to 500",
            ),
        ));
    }
    if input.filter_statement.is_some() {
        return Err(ApiError::client(
            "ValidationException",
            "The simulator does not implement SearchCertificates filters (FilterStatement); search without one and filter the results",
        ));
    }
    let descending = match (input.sort_by.as_deref(), input.sort_order.as_deref()) {
        (None, None) => false,
        (Some(by), None | Some("ASCENDING")) if SEARCH_SORT_BY.contains(&by) => false,
        (Some(by), Some("DESCENDING")) if SEARCH_SORT_BY.contains(&by) => true,
        (sort_by, sort_order) => {
            return Err(ApiError::client(
                "ValidationException",
                format!(
                    "Invalid sort: SortBy {sort_by:?} with SortOrder {sort_order:?}; SortBy must be one of {} and SortOrder ASCENDING or DESCENDING",
                    SEARCH_SORT_BY.join(", ")
                ),
            ))
        }
    };

    let mut found: Vec<&Certificate> = local_certificates(ctx).collect();
    if let Some(by) = input.sort_by.as_deref() {
        // Stable in both directions: ties keep scenario order, so paging stays consistent.
        if descending {
            found.sort_by(|a, b| sort_key(b, by).cmp(&sort_key(a, by)));
        } else {
            found.sort_by(|a, b| sort_key(a, by).cmp(&sort_key(b, by)));
        }
    }

    // The sort is part of the listing: a token from one order is refused by another.
    let scope = format!(
        "acm:SearchCertificates:{}:{}:{}:{}",
        ctx.caller.account,
        ctx.region,
        input.sort_by.as_deref().unwrap_or(""),
        descending
    );
    let page = paging::page(
        &scope,
        found.len(),
        input.next_token.as_deref(),
        usize::try_from(size).unwrap_or(1),
    )
    .map_err(|_| ApiError::client("ValidationException", "The NextToken is invalid."))?;
    let results: Vec<Value> = found[page.start..page.end]
        .iter()
        .map(|c| search_result_json(c))
        .collect();
    let mut out = Map::new();
    out.insert("Results".into(), Value::Array(results));
    if let Some(token) = page.next_token {
        out.insert("NextToken".into(), Value::from(token));
    }
    Ok(Reply::Json(Value::Object(out)))
}

/// What one certificate sorts by; within a field every certificate has the same
/// variant or `Absent`, which sorts first.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortKey<'c> {
    Absent,
    Flag(bool),
    Time(chrono::DateTime<chrono::Utc>),
    Text(&'c str),
}

fn sort_key<'c>(c: &'c Certificate, by: &str) -> SortKey<'c> {
    let text = |t: Option<&'c str>| t.map_or(SortKey::Absent, SortKey::Text);
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or(SortKey::Absent, SortKey::Time);
    match by {
        "CERTIFICATE_ARN" => SortKey::Text(&c.arn),
        "CERTIFICATE_KEY_PAIR_ORIGIN" => SortKey::Text(&c.key_pair_origin),
        "COMMON_NAME" => SortKey::Text(&c.domain),
        "CREATED_AT" => SortKey::Time(c.created_at),
        "EXPORTED" => SortKey::Flag(c.exported),
        "EXPORT_OPTION" => SortKey::Text(&c.export_option),
        "IMPORTED_AT" => time(c.imported_at),
        "IN_USE" => SortKey::Flag(c.in_use()),
        "ISSUED_AT" => time(c.issued_at),
        "KEY_ALGORITHM" => SortKey::Text(&c.key_algorithm),
        "MANAGED_BY" => text(c.managed_by.as_deref()),
        "NOT_AFTER" => time(c.not_after),
        "NOT_BEFORE" => time(c.not_before),
        "RENEWAL_ELIGIBILITY" => SortKey::Text(&c.renewal_eligibility),
        "RENEWAL_STATUS" => text(c.renewal.as_ref().map(|r| r.status.as_str())),
        "REVOKED_AT" => time(c.revoked_at),
        "STATUS" => SortKey::Text(&c.status),
        "TYPE" => SortKey::Text(&c.cert_type),
        "VALIDATION_METHOD" => text(validation_method(c)),
        // The world has no ACME endpoints or accounts.
        _ => SortKey::Absent,
    }
}

/// The method ACM validated the certificate's domains with (every domain of a
/// certificate uses the same); IMPORTED and PRIVATE certificates have none.
fn validation_method(c: &Certificate) -> Option<&str> {
    c.validation.first().map(|dv| dv.method.as_str())
}

/// A JSON object builder that leaves out absent members, as AWS does.
#[derive(Default)]
struct Object(Map<String, Value>);

impl Object {
    fn put(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    fn opt<T: Into<Value>>(&mut self, key: &str, value: Option<T>) -> &mut Self {
        if let Some(value) = value {
            self.0.insert(key.to_owned(), value.into());
        }
        self
    }

    fn time(&mut self, key: &str, value: Option<chrono::DateTime<chrono::Utc>>) -> &mut Self {
        if let Some(value) = value {
            self.0.insert(key.to_owned(), epoch(value));
        }
        self
    }

    fn done(&mut self) -> Value {
        Value::Object(std::mem::take(&mut self.0))
    }
}

fn summary_json(c: &Certificate) -> Value {
    let mut o = Object::default();
    o.put("CertificateArn", c.arn.as_str())
        .put("DomainName", c.domain.as_str())
        .put(
            "SubjectAlternativeNameSummaries",
            c.sans
                .iter()
                .take(SUMMARY_SANS)
                .cloned()
                .collect::<Vec<_>>(),
        )
        .put(
            "HasAdditionalSubjectAlternativeNames",
            c.sans.len() > SUMMARY_SANS,
        )
        .put("Status", c.status.as_str())
        .put("Type", c.cert_type.as_str())
        .put("KeyAlgorithm", c.key_algorithm.as_str());
    if !c.key_usages.is_empty() {
        o.put("KeyUsages", c.key_usages.clone());
        o.put(
            "ExtendedKeyUsages",
            c.extended_key_usages
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>(),
        );
    }
    o.put("ExportOption", c.export_option.as_str())
        .put("InUse", c.in_use())
        .put("Exported", c.exported)
        .put("RenewalEligibility", c.renewal_eligibility.as_str())
        .time("NotBefore", c.not_before)
        .time("NotAfter", c.not_after)
        .time("CreatedAt", Some(c.created_at))
        .time("IssuedAt", c.issued_at)
        .time("ImportedAt", c.imported_at)
        .time("RevokedAt", c.revoked_at)
        .opt("ManagedBy", c.managed_by.as_deref())
        .put("CertificateKeyPairOrigin", c.key_pair_origin.as_str())
        .done()
}

/// One `CertificateSearchResult`. Only a certificate that was issued (or imported)
/// has the X.509 details of an actual certificate: issuer, serial, validity, key
/// usages; a request that never completed has only what was asked for.
fn search_result_json(c: &Certificate) -> Value {
    let issued = c.not_after.is_some();
    let mut x509 = Object::default();
    if issued {
        x509.put("Issuer", json!({ "CommonName": c.issuer }));
    }
    x509.put("Subject", json!({ "CommonName": c.domain }))
        .put(
            "SubjectAlternativeNames",
            c.sans
                .iter()
                .map(|san| json!({ "DnsName": san }))
                .collect::<Vec<_>>(),
        )
        .put("KeyAlgorithm", c.key_algorithm.as_str());
    if !c.key_usages.is_empty() {
        x509.put("KeyUsages", c.key_usages.clone());
    }
    if !c.extended_key_usages.is_empty() {
        x509.put(
            "ExtendedKeyUsages",
            c.extended_key_usages
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>(),
        );
    }
    if !c.serial.is_empty() {
        x509.put("SerialNumber", c.serial.as_str());
    }
    x509.time("NotBefore", c.not_before)
        .time("NotAfter", c.not_after);

    let mut metadata = Object::default();
    metadata
        .put("Type", c.cert_type.as_str())
        .put("Status", c.status.as_str())
        .put("InUse", c.in_use())
        .put("Exported", c.exported)
        .put("ExportOption", c.export_option.as_str())
        .put("RenewalEligibility", c.renewal_eligibility.as_str())
        .opt(
            "RenewalStatus",
            c.renewal.as_ref().map(|r| r.status.as_str()),
        )
        .opt("ValidationMethod", validation_method(c))
        .opt("ManagedBy", c.managed_by.as_deref())
        .put("CertificateKeyPairOrigin", c.key_pair_origin.as_str())
        .time("CreatedAt", Some(c.created_at))
        .time("IssuedAt", c.issued_at)
        .time("ImportedAt", c.imported_at)
        .time("RevokedAt", c.revoked_at);

    json!({
        "CertificateArn": c.arn,
        "X509Attributes": x509.done(),
        // A union: exactly one member.
        "CertificateMetadata": { "AcmCertificateMetadata": metadata.done() },
    })
}

fn domain_validation_json(dv: &DomainValidation) -> Value {
    let mut o = Object::default();
    o.put("DomainName", dv.domain.as_str())
        .put("ValidationDomain", dv.validation_domain.as_str())
        .put("ValidationStatus", dv.status.as_str())
        .put("ValidationMethod", dv.method.as_str());
    if !dv.emails.is_empty() {
        o.put("ValidationEmails", dv.emails.clone());
    }
    if let Some((name, value)) = &dv.record {
        o.put(
            "ResourceRecord",
            json!({"Name": name, "Type": "CNAME", "Value": value}),
        );
    }
    if let Some((from, to)) = &dv.redirect {
        o.put(
            "HttpRedirect",
            json!({"RedirectFrom": from, "RedirectTo": to}),
        );
    }
    o.done()
}

fn detail_json(c: &Certificate) -> Value {
    let mut o = Object::default();
    o.put("CertificateArn", c.arn.as_str())
        .put("DomainName", c.domain.as_str())
        .put("SubjectAlternativeNames", c.sans.clone())
        .opt("ManagedBy", c.managed_by.as_deref());
    if !c.validation.is_empty() {
        o.put(
            "DomainValidationOptions",
            c.validation
                .iter()
                .map(domain_validation_json)
                .collect::<Vec<_>>(),
        );
    }
    if !c.serial.is_empty() {
        o.put("Serial", c.serial.as_str());
    }
    o.put("Subject", c.subject.as_str())
        .put("Issuer", c.issuer.as_str())
        .time("CreatedAt", Some(c.created_at))
        .time("IssuedAt", c.issued_at)
        .time("ImportedAt", c.imported_at)
        .put("Status", c.status.as_str())
        .time("RevokedAt", c.revoked_at)
        .opt("RevocationReason", c.revocation_reason.as_deref())
        .time("NotBefore", c.not_before)
        .time("NotAfter", c.not_after)
        .put("KeyAlgorithm", c.key_algorithm.as_str())
        .put("SignatureAlgorithm", c.signature_algorithm.as_str())
        .put("InUseBy", c.in_use_by.clone())
        .opt("FailureReason", c.failure_reason.as_deref())
        .put("Type", c.cert_type.as_str());
    if let Some(renewal) = &c.renewal {
        let mut r = Object::default();
        r.put("RenewalStatus", renewal.status.as_str())
            .put(
                "DomainValidationOptions",
                renewal
                    .validation
                    .iter()
                    .map(domain_validation_json)
                    .collect::<Vec<_>>(),
            )
            .opt("RenewalStatusReason", renewal.reason.as_deref())
            .time("UpdatedAt", Some(renewal.updated_at));
        o.put("RenewalSummary", r.done());
    }
    if !c.key_usages.is_empty() {
        o.put(
            "KeyUsages",
            c.key_usages
                .iter()
                .map(|name| json!({"Name": name}))
                .collect::<Vec<_>>(),
        );
        o.put(
            "ExtendedKeyUsages",
            c.extended_key_usages
                .iter()
                .map(|(name, oid)| json!({"Name": name, "OID": oid}))
                .collect::<Vec<_>>(),
        );
    }
    o.opt(
        "CertificateAuthorityArn",
        c.certificate_authority_arn.as_deref(),
    )
    .put("RenewalEligibility", c.renewal_eligibility.as_str())
    .put(
        "Options",
        json!({
            "CertificateTransparencyLoggingPreference": c.transparency_logging,
            "Export": c.export_option,
        }),
    )
    .put("CertificateKeyPairOrigin", c.key_pair_origin.as_str())
    .done()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArnInput {
    certificate_arn: Option<String>,
}

/// The caller's certificate with this ARN; another account's or region's ARN is
/// "not found", never leaked.
fn find<'w>(ctx: &Ctx<'w>, input: &ArnInput) -> Result<&'w Certificate, ApiError> {
    let Some(arn) = input.certificate_arn.as_deref() else {
        return Err(ApiError::client(
            "ValidationException",
            validation_message("null", "certificateArn", "Member must not be null"),
        ));
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "acm" {
        return Err(ApiError::client(
            "InvalidArnException",
            format!("String '{arn}' is not a valid ARN."),
        ));
    }
    ctx.world
        .certificate(arn)
        .filter(|c| c.account == ctx.caller.account && c.region == ctx.region)
        .ok_or_else(|| {
            ApiError::client(
                "ResourceNotFoundException",
                format!("Could not find certificate {arn}."),
            )
        })
}

fn describe_certificate(ctx: &Ctx<'_>, input: ArnInput) -> Result<Reply, ApiError> {
    let certificate = find(ctx, &input)?;
    Ok(Reply::Json(
        json!({ "Certificate": detail_json(certificate) }),
    ))
}

fn list_tags(ctx: &Ctx<'_>, input: ArnInput) -> Result<Reply, ApiError> {
    let certificate = find(ctx, &input)?;
    let tags: Vec<Value> = certificate
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(Reply::Json(json!({ "Tags": tags })))
}

/// The resends ACM accepted, as (certificate ARN, domain), in order.
#[derive(Debug, Default)]
pub struct Resends(Mutex<Vec<(String, String)>>);

impl Resends {
    fn record(&self, arn: &str, domain: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((arn.to_owned(), domain.to_owned()));
    }

    pub fn accepted(&self) -> Vec<(String, String)> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResendInput {
    certificate_arn: Option<String>,
    domain: Option<String>,
    validation_domain: Option<String>,
}

fn resend_validation_email(ctx: &Ctx<'_>, input: ResendInput) -> Result<Reply, ApiError> {
    let required = |value: &Option<String>, member: &str| match value.as_deref() {
        Some(value) => Ok(value.to_owned()),
        None => Err(ApiError::client(
            "ValidationException",
            validation_message("null", member, "Member must not be null"),
        )),
    };
    let domain = required(&input.domain, "domain")?;
    let validation_domain = required(&input.validation_domain, "validationDomain")?;
    let certificate = find(
        ctx,
        &ArnInput {
            certificate_arn: input.certificate_arn,
        },
    )?;
    let invalid_options = || {
        ApiError::client(
            "InvalidDomainValidationOptionsException",
            "One or more values in the DomainValidationOption structure is incorrect.",
        )
    };
    if !certificate.validation.iter().any(|dv| dv.domain == domain) {
        return Err(invalid_options());
    }
    let base = domain.trim_start_matches("*.");
    let superdomain = base
        .strip_suffix(validation_domain.as_str())
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'));
    if !superdomain {
        return Err(invalid_options());
    }
    let waiting = |status: &str, options: &[DomainValidation]| {
        status == "PENDING_VALIDATION"
            && options.iter().any(|dv| {
                dv.domain == domain && dv.method == "EMAIL" && dv.status == "PENDING_VALIDATION"
            })
    };
    let pending = waiting(&certificate.status, &certificate.validation)
        || certificate
            .renewal
            .as_ref()
            .is_some_and(|r| waiting(&r.status, &r.validation));
    if !pending {
        return Err(ApiError::client(
            "InvalidStateException",
            format!(
                "Certificate {} is not pending email validation for {domain}.",
                certificate.arn
            ),
        ));
    }
    ctx.resends.record(&certificate.arn, &domain);
    Ok(Reply::Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Caller, Sessions};
    use crate::scenario::Scenario;
    use crate::world::{World, ACM_OPERATIONS};
    use chrono::{TimeZone, Utc};

    /// `call` serves exactly the operations `denied_actions` may name.
    #[test]
    fn serves_the_operations_world_lists() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let world = World::resolve(&Scenario::demo(), now).expect("resolves");
        let caller = Caller::ambient(&world.management);
        let sessions = Sessions::default();
        let resends = Resends::default();
        let ctx = Ctx {
            world: &world,
            caller: &caller,
            region: "us-east-1",
            sessions: &sessions,
            wall_now: now,
            request_id: "test",
            resends: &resends,
        };
        let code = |operation: &str| match call(&ctx, operation, b"") {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.code,
        };
        for operation in ACM_OPERATIONS {
            assert_ne!(code(operation), "UnknownOperationException", "{operation}");
        }
        assert_eq!(code("RequestCertificate"), "UnknownOperationException");
    }
}

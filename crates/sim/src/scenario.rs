//! The scenario file: a simulated AWS Organization as plain data.
//!
//! A scenario is TOML (see `scenarios/demo.toml`, which uses and comments every
//! key). The structs here mirror the file one to one and reject unknown keys, so a
//! typo is an error that names the key and line instead of a silently ignored value.
//!
//! Every date is **relative**: `expires_in_days = 20` means "20 days after the `now`
//! the simulator is started with", so a scenario never goes stale and a test with a
//! fixed `now` gets fixed dates. Every enum-like value (`state`, `type`, `status`,
//! `key_algorithm`, renewal `reason`, …) is a string passed to the wire verbatim:
//! values the SDK does not know (it maps them to `Unknown`) are how a scenario proves
//! the scanner survives AWS adding a value.
//!
//! Semantic checks (unknown region, duplicate account, dates that contradict the
//! status, …) happen when the scenario is resolved against a clock (module `world`,
//! which therefore defines [`Scenario::from_toml`], [`Scenario::demo`] and
//! [`Scenario::validate`]: this module uses no other); `from_toml` runs them once so a
//! bad file fails early, and the error names the key path
//! (`accounts[2].certificates[0].region`).
//!
//! ## Generating large scenarios
//! Benchmarks need thousands of accounts. [`Scenario::generate`] (module
//! `generate`) builds [`Scenario`] values in code (every struct here is `Default`
//! with public fields) rather than TOML text, with a seeded, deterministic mix:
//! mostly healthy DNS certificates, then a few of each failure mode, some
//! `deny_assume_role` and SUSPENDED members, opt-in regions enabled in every third
//! account. Because ARNs and validation records derive from (account, region,
//! index) and not from randomness, a generated scenario is as reproducible as a
//! hand-written one, and the same resolver serves both. To grow it, add kinds to
//! its mix table or knobs to `GeneratorSpec`.
//!
//! Fault knobs live in [`RegionFaults`] (per account-region) and on [`AccountSpec`]
//! (per account), so throttling, latency and error rates can be added as new
//! optional keys without changing existing files.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A simulated organization: its settings and its accounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// `[organization]`: the organization itself.
    pub organization: OrganizationSpec,
    /// `[network]`: what the world sees of the certificates (a DNS zone and TLS endpoints on
    /// loopback). Absent: disabled, and starting the simulator costs nothing more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkSpec>,
    /// `[[organizational_units]]`: the OUs accounts sit in, each under the root or an OU listed
    /// above it (`ListParents`, `DescribeOrganizationalUnit`). Default none: every account is
    /// directly under the root.
    #[serde(default)]
    pub organizational_units: Vec<OrganizationalUnitSpec>,
    /// `[[accounts]]`: every account, the management account included. Order is kept:
    /// `ListAccounts` answers in this order.
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
}

/// `[organization]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSpec {
    /// The management account (12 digits); must also appear in `[[accounts]]`.
    /// Credentials the simulator did not issue act as this account.
    pub management_account_id: String,
    /// Organization id (`o-` + 10 characters). Default: derived from the management
    /// account id.
    pub id: Option<String>,
    /// `FeatureSet` reported by `DescribeOrganization`. Default `ALL`.
    pub feature_set: Option<String>,
    /// `false` simulates a standalone account: every Organizations call answers
    /// `AWSOrganizationsNotInUseException`. Default `true`.
    pub enabled: Option<bool>,
    /// The regions that exist in this simulated partition (what `ListRegions`
    /// lists). Each must be a real commercial region; default-enabled ones are
    /// enabled in every account, opt-in ones only where an account lists them in
    /// `opt_in_regions`. Default: every region in the built-in catalogue
    /// (17 default-enabled + 17 opt-in).
    pub regions: Option<Vec<String>>,
    /// The organization's root id (`r-` + 4 to 32 lowercase letters or digits), the parent
    /// of every account and OU not placed elsewhere. Default: derived from the organization
    /// id. Its name is "Root", as AWS names it.
    pub root_id: Option<String>,
}

/// `[[organizational_units]]`: one organizational unit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationalUnitSpec {
    /// `ou-` + 4 to 32 lowercase letters or digits + `-` + 8 to 32 more, unique; what accounts'
    /// `ou` and other OUs' `parent` name it by.
    pub id: String,
    /// `Name`, as `DescribeOrganizationalUnit` answers it.
    pub name: String,
    /// The root's id or an OU listed above this one. Default: the root.
    pub parent: Option<String>,
}

/// `[network]`: the simulated world's DNS zone and TLS endpoints.
///
/// With `enabled`, `serve` also starts an authoritative DNS server and one TLS listener on
/// 127.0.0.1 (`SimServer::dns_addr`, `SimServer::tls_port`). The zone holds each certificate's
/// validation CNAMEs and its names' A records, and the listener serves each name's certificate
/// by SNI, as each certificate's `validation_record`, `resolves` and `endpoint` say; plus the
/// CAA records given here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Serve DNS and TLS. Default `false`: the table can stay in a file, switched off.
    #[serde(default)]
    pub enabled: bool,
    /// CAA records by name, each in zone-file text `flags tag "value"`, e.g.
    /// `{ "example.com" = ['0 issue "amazon.com"'] }`. Names without any are NODATA (so CAA
    /// allows every CA there, unless a parent has a set).
    #[serde(default)]
    pub caa: BTreeMap<String, Vec<String>>,
}

/// `[[accounts]]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// Account id, 12 digits, unique.
    pub id: String,
    /// Account name as `ListAccounts` shows it.
    pub name: String,
    /// Root email. Default: `aws-<name>@example.com` (name lowercased, non-alphanumerics → `-`).
    pub email: Option<String>,
    /// `State`: ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED, PENDING_ACTIVATION (or any
    /// string, kept raw). The legacy `Status` is derived (CLOSED → SUSPENDED).
    /// Default ACTIVE. The simulator still lets callers into a non-ACTIVE account, so a
    /// scanner that forgets to skip it shows that account's certificates.
    pub state: Option<String>,
    /// `JoinedMethod`: CREATED or INVITED. Default CREATED.
    pub joined_method: Option<String>,
    /// `JoinedTimestamp`, in days before `now`. Default 730.
    pub joined_days_ago: Option<f64>,
    /// Opt-in regions this account has enabled (`ENABLED` in `ListRegions`); must be
    /// opt-in regions of `organization.regions`. Every other opt-in region is
    /// `DISABLED`, and ACM/STS calls there answer `UnrecognizedClientException`.
    #[serde(default)]
    pub opt_in_regions: Vec<String>,
    /// IAM role names that can be assumed in this account. Default
    /// `["OrganizationAccountAccessRole", "certwatch-read-only"]` for members and
    /// `["certwatch-read-only"]` for the management account (which has no
    /// `OrganizationAccountAccessRole`).
    pub roles: Option<Vec<String>>,
    /// When set, `AssumeRole` must pass exactly this `ExternalId` (trust-policy
    /// condition `sts:ExternalId`).
    pub external_id: Option<String>,
    /// Accounts whose principals the roles trust. Default: the management account.
    pub trusted_accounts: Option<Vec<String>>,
    /// The roles' `MaxSessionDuration` in seconds (3600..=43200). Default 3600, IAM's
    /// default: a longer `DurationSeconds` is a `ValidationError`.
    pub max_session_seconds: Option<i64>,
    /// Fault: every `AssumeRole` into this account answers `AccessDenied`.
    #[serde(default)]
    pub deny_assume_role: bool,
    /// IAM actions this account's principals are refused, e.g.
    /// `["acm:SearchCertificates"]`: a role deployed before that permission was added
    /// to it. Such calls from this account answer `AccessDeniedException` (400) with
    /// IAM's message. Only ACM operations the simulator serves can be named
    /// (case-insensitive, as in IAM). Default none.
    #[serde(default)]
    pub denied_actions: Vec<String>,
    /// The OU the account is in (an `[[organizational_units]]` id, or the root's id), as
    /// `ListParents` answers. Default: directly under the root.
    pub ou: Option<String>,
    /// The account's tags, as Organizations' `ListTagsForResource` answers them (pages of 10),
    /// e.g. `{ team = "payments" }`. Default none.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Faults per region of this account: `[accounts.faults.eu-west-1]`.
    #[serde(default)]
    pub faults: BTreeMap<String, RegionFaults>,
    /// `[[accounts.certificates]]`: this account's ACM certificates.
    #[serde(default)]
    pub certificates: Vec<CertificateSpec>,
}

/// `[accounts.faults.<region>]`: faults injected into one account-region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionFaults {
    /// Every ACM call in this account-region fails with this error code.
    /// `InternalFailure`/`InternalServerException` → HTTP 500, `ServiceUnavailable` →
    /// 503, anything else (`AccessDeniedException`, `ThrottlingException`, …) → 400.
    pub acm_error: Option<String>,
}

/// `[[accounts.certificates]]`: one ACM certificate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateSpec {
    /// Region the certificate lives in; must be in `organization.regions`.
    pub region: String,
    /// `DomainName`, also the first subject alternative name.
    pub domain: String,
    /// Further subject alternative names (duplicates of `domain` are dropped).
    #[serde(default)]
    pub sans: Vec<String>,
    /// The id at the end of the ARN. Default: a UUID-shaped id derived from
    /// (account, region, index of the certificate among this account-region's).
    pub id: Option<String>,
    /// `Type`: AMAZON_ISSUED, IMPORTED, PRIVATE (or any string, kept raw). Default AMAZON_ISSUED.
    #[serde(rename = "type")]
    pub cert_type: Option<String>,
    /// `Status`: ISSUED, PENDING_VALIDATION, VALIDATION_TIMED_OUT, FAILED, EXPIRED,
    /// REVOKED, INACTIVE (or any string). Default ISSUED. PENDING_VALIDATION,
    /// VALIDATION_TIMED_OUT and FAILED certificates have no validity dates.
    pub status: Option<String>,
    /// `KeyAlgorithm`: RSA_1024, RSA_2048, RSA_3072, RSA_4096, EC_prime256v1,
    /// EC_secp384r1, EC_secp521r1 (or any string). Default RSA_2048. Only RSA_1024 and
    /// RSA_2048 are listed by a `ListCertificates` without `Includes.keyTypes`.
    pub key_algorithm: Option<String>,
    /// Validation method: DNS, EMAIL or HTTP (or any string). Default DNS for
    /// AMAZON_ISSUED; IMPORTED and PRIVATE certificates have no domain validation.
    pub validation: Option<String>,
    /// `ValidationDomain` of every domain. Default: the domain itself (for EMAIL,
    /// without a leading `*.`).
    pub validation_domain: Option<String>,
    /// `ValidationEmails` for EMAIL validation. Default: admin@, administrator@,
    /// hostmaster@, postmaster@ and webmaster@ the validation domain.
    pub validation_emails: Option<Vec<String>>,
    /// `NotAfter` = now + this many days (negative: already expired).
    /// Required for certificates that have validity dates, unless
    /// `created_days_ago` is given (then NotAfter = creation + lifetime).
    pub expires_in_days: Option<f64>,
    /// Validity period: `NotBefore` = NotAfter − this. Default 198 for AMAZON_ISSUED,
    /// 395 for PRIVATE, 365 otherwise.
    pub lifetime_days: Option<f64>,
    /// `CreatedAt`, days before now. Default: `NotBefore` (now for certificates
    /// without validity dates).
    pub created_days_ago: Option<f64>,
    /// `ImportedAt` of an IMPORTED certificate, days before now. Default: `CreatedAt`.
    pub imported_days_ago: Option<f64>,
    /// `RevokedAt` of a REVOKED certificate, days before now. Default 1.
    pub revoked_days_ago: Option<f64>,
    /// `RevocationReason` of a REVOKED certificate. Default UNSPECIFIED.
    pub revocation_reason: Option<String>,
    /// `InUseBy`: ARNs of the load balancers, distributions… using it. `InUse` is
    /// derived (non-empty).
    #[serde(default)]
    pub in_use_by: Vec<String>,
    /// `Exported`: the certificate was exported since issue or last renewal.
    #[serde(default)]
    pub exported: bool,
    /// `Options.Export` / `ExportOption`: ENABLED or DISABLED. Default ENABLED when
    /// `exported`, else DISABLED.
    pub export_option: Option<String>,
    /// `ManagedBy`, e.g. CLOUDFRONT. Default: absent.
    pub managed_by: Option<String>,
    /// `RenewalEligibility`. Default ELIGIBLE for an AMAZON_ISSUED or PRIVATE
    /// certificate that is ISSUED and in use or exported, else INELIGIBLE.
    pub renewal_eligibility: Option<String>,
    /// `[accounts.certificates.renewal]`: the `RenewalSummary`. Absent means ACM has
    /// not started a renewal.
    pub renewal: Option<RenewalSpec>,
    /// `FailureReason` (for Status FAILED), e.g. CAA_ERROR.
    pub failure_reason: Option<String>,
    /// `CertificateAuthorityArn` (PRIVATE certificates).
    pub certificate_authority_arn: Option<String>,
    /// `CertificateKeyPairOrigin`: AWS_MANAGED, ACME, CUSTOMER_PROVIDED. Default
    /// CUSTOMER_PROVIDED for IMPORTED, else AWS_MANAGED. ACME certificates are hidden
    /// by `ListCertificates` unless asked for.
    pub key_pair_origin: Option<String>,
    /// `Issuer`. Default: an Amazon intermediate for AMAZON_ISSUED ("Amazon RSA 2048
    /// M03"), "Example Corp Private CA" for PRIVATE, "Example External CA" otherwise.
    pub issuer: Option<String>,
    /// `Options.CertificateTransparencyLoggingPreference`. Default ENABLED.
    pub transparency_logging: Option<String>,
    /// Tags returned by `ListTagsForCertificate`, e.g. `{ team = "payments" }`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `[network]`: whether the DNS zone has the certificate's validation CNAMEs (those of
    /// `DomainValidationOptions` and of the renewal): `present` (ACM's value), `missing` (no
    /// record), `wrong` (a CNAME with another value, as an older request leaves behind).
    /// Default `present`; only DNS-validated certificates have any.
    pub validation_record: Option<String>,
    /// `[network]`: whether the certificate's non-wildcard names get A records. Default `true`.
    pub resolves: Option<bool>,
    /// `[network]`: what its names' endpoint serves. `current`: the names resolve to
    /// 127.0.0.1, where the TLS listener serves ACM's copy (SANs, serial, NotBefore, NotAfter).
    /// `stale`: an older copy there (another serial, NotAfter = now + `stale_expires_in_days`).
    /// `unreachable`: the names resolve to 127.0.0.2, where nothing listens. `none`: no A
    /// records. Default `current` for an ISSUED, unexpired certificate that is in use,
    /// exported or IMPORTED, else `none`.
    pub endpoint: Option<String>,
    /// `NotAfter` of the copy an `endpoint = "stale"` serves, days after now. Default 9.
    pub stale_expires_in_days: Option<f64>,
}

/// `[accounts.certificates.renewal]`: a managed renewal in progress or finished.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalSpec {
    /// `RenewalStatus`: PENDING_AUTO_RENEWAL, PENDING_VALIDATION, SUCCESS, FAILED (or any string).
    pub status: String,
    /// `RenewalStatusReason`, e.g. CAA_ERROR, PCA_INVALID_STATE, OTHER (or any string).
    pub reason: Option<String>,
    /// `UpdatedAt`, hours before now. Default: NotBefore for SUCCESS, else 1.
    pub updated_hours_ago: Option<f64>,
    /// Domains whose renewal validation is still PENDING_VALIDATION (the others are
    /// SUCCESS). Default: every domain when the status is PENDING_VALIDATION, none
    /// otherwise; with status FAILED every domain not listed here is FAILED.
    pub pending_domains: Option<Vec<String>>,
}

/// Why a scenario was rejected. The message names the key (and for syntax errors
/// the line and column).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not TOML, or a key or value that does not fit the format.
    #[error("invalid scenario: {0}")]
    Parse(#[from] toml::de::Error),
    /// Well-formed, but inconsistent; `key` is the path, e.g. `accounts[1].certificates[0].region`.
    #[error("invalid scenario: `{key}`: {message}")]
    Invalid { key: String, message: String },
}

impl ScenarioError {
    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// The text of the built-in demo organization ("Example Corp"); `Scenario::demo` parses it.
const DEMO: &str = include_str!("../scenarios/demo.toml");

// `from_toml`, `demo` and `validate` are in `world`: checking a scenario is resolving it.
impl Scenario {
    /// The text of the built-in demo scenario (to print or copy as a starting point).
    pub fn demo_toml() -> &'static str {
        DEMO
    }

    pub fn management_account_id(&self) -> &str {
        &self.organization.management_account_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of the format is used or documented in `scenarios/demo.toml`. The
    /// struct literals below name every field, so adding a field does not compile
    /// until it is added here, and then this test wants it documented.
    #[test]
    fn demo_documents_every_key() {
        let certificate = CertificateSpec {
            region: "us-east-1".into(),
            domain: "a.example".into(),
            sans: vec!["b.example".into()],
            id: Some("x".into()),
            cert_type: Some("AMAZON_ISSUED".into()),
            status: Some("ISSUED".into()),
            key_algorithm: Some("RSA_2048".into()),
            validation: Some("DNS".into()),
            validation_domain: Some("a.example".into()),
            validation_emails: Some(vec!["admin@a.example".into()]),
            expires_in_days: Some(1.0),
            lifetime_days: Some(1.0),
            created_days_ago: Some(1.0),
            imported_days_ago: Some(1.0),
            revoked_days_ago: Some(1.0),
            revocation_reason: Some("UNSPECIFIED".into()),
            in_use_by: vec!["arn".into()],
            exported: true,
            export_option: Some("ENABLED".into()),
            managed_by: Some("CLOUDFRONT".into()),
            renewal_eligibility: Some("ELIGIBLE".into()),
            renewal: Some(RenewalSpec {
                status: "SUCCESS".into(),
                reason: Some("OTHER".into()),
                updated_hours_ago: Some(1.0),
                pending_domains: Some(vec!["a.example".into()]),
            }),
            failure_reason: Some("OTHER".into()),
            certificate_authority_arn: Some("arn".into()),
            key_pair_origin: Some("AWS_MANAGED".into()),
            issuer: Some("CA".into()),
            transparency_logging: Some("ENABLED".into()),
            tags: BTreeMap::from([("team".into(), "web".into())]),
            validation_record: Some("present".into()),
            resolves: Some(true),
            endpoint: Some("stale".into()),
            stale_expires_in_days: Some(9.0),
        };
        let account = AccountSpec {
            id: "111122223333".into(),
            name: "m".into(),
            email: Some("m@example.com".into()),
            state: Some("ACTIVE".into()),
            joined_method: Some("CREATED".into()),
            joined_days_ago: Some(1.0),
            opt_in_regions: vec!["eu-south-1".into()],
            roles: Some(vec!["r".into()]),
            external_id: Some("xx".into()),
            trusted_accounts: Some(vec!["111122223333".into()]),
            max_session_seconds: Some(3600),
            deny_assume_role: true,
            denied_actions: vec!["acm:SearchCertificates".into()],
            ou: Some("ou-ab12-11111111".into()),
            tags: BTreeMap::from([("team".into(), "payments".into())]),
            faults: BTreeMap::from([(
                "us-east-1".into(),
                RegionFaults {
                    acm_error: Some("InternalFailure".into()),
                },
            )]),
            certificates: vec![certificate],
        };
        let scenario = Scenario {
            organization: OrganizationSpec {
                management_account_id: "111122223333".into(),
                id: Some("o-abcdefghij".into()),
                feature_set: Some("ALL".into()),
                enabled: Some(true),
                regions: Some(vec!["us-east-1".into()]),
                root_id: Some("r-ab12".into()),
            },
            network: Some(NetworkSpec {
                enabled: true,
                caa: BTreeMap::from([(
                    "example.com".into(),
                    vec!["0 issue \"amazon.com\"".into()],
                )]),
            }),
            organizational_units: vec![OrganizationalUnitSpec {
                id: "ou-ab12-11111111".into(),
                name: "Payments".into(),
                parent: Some("r-ab12".into()),
            }],
            accounts: vec![account],
        };
        let value = toml::Value::try_from(&scenario).expect("serialises");
        let mut keys = BTreeSet::new();
        collect_keys(&value, &mut keys);
        // Region names are map keys of `faults`, domains of `caa`, not format keys.
        keys.remove("us-east-1");
        keys.remove("team");
        keys.remove("example.com");

        let documented = |key: &str| {
            DEMO.lines().any(|line| {
                let line = line.trim_start_matches(['#', ' ']);
                line.starts_with(&format!("{key} "))
                    || line.starts_with(&format!("{key}="))
                    || line.contains(&format!(".{key}]"))
                    || line.contains(&format!(".{key}."))
                    || line.starts_with(&format!("[{key}]"))
                    || line.starts_with(&format!("[[{key}]]"))
            })
        };
        let missing: Vec<_> = keys.iter().filter(|k| !documented(k)).collect();
        assert!(
            missing.is_empty(),
            "keys missing from scenarios/demo.toml: {missing:?}"
        );
    }

    fn collect_keys(value: &toml::Value, keys: &mut BTreeSet<String>) {
        match value {
            toml::Value::Table(table) => {
                for (key, value) in table {
                    keys.insert(key.clone());
                    collect_keys(value, keys);
                }
            }
            toml::Value::Array(items) => items.iter().for_each(|v| collect_keys(v, keys)),
            _ => {}
        }
    }

    use std::collections::BTreeSet;
}

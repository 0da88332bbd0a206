//! The scan report: the JSON contract that the CLI prints and that later tooling (the Slack bot,
//! the store, people's scripts) reads. Adding a field is fine; renaming one is a breaking change.

use crate::account::Account;
use crate::facts::{CertificateFacts, RenewalEligibility, RenewalStatus, ValidationMethod};
use crate::finding::{Finding, Urgency};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub generated_at: DateTime<Utc>,
    pub certificates: Vec<CertificateRecord>,
    pub failures: Vec<Failure>,
    /// Every account the scan covered (ACTIVE, after include/exclude), by id, with its OU path
    /// and tags where the scan was asked to learn them (`ScanConfig::account_metadata`).
    #[serde(default)]
    pub accounts: Vec<Account>,
    pub stats: Stats,
}

impl Report {
    /// The highest urgency among all findings, if any.
    pub fn worst_urgency(&self) -> Option<Urgency> {
        self.certificates
            .iter()
            .flat_map(|c| c.findings.iter().map(|f| f.urgency))
            .max()
    }

    /// Stable order for output and storage: by [`CertificateRecord::place`] (account, region,
    /// name, ARN), accounts by id. Lists for people to act on use [`crate::order`] instead.
    pub fn sort(&mut self) {
        self.certificates.sort_by(|a, b| a.place().cmp(&b.place()));
        self.accounts.sort_by(|a, b| a.id.cmp(&b.id));
        self.failures.sort_by(|a, b| {
            (&a.account_id, &a.region, a.stage, &a.certificate_arn).cmp(&(
                &b.account_id,
                &b.region,
                b.stage,
                &b.certificate_arn,
            ))
        });
    }
}

/// One certificate with its verdict. `findings` empty means ACM renews it by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRecord {
    pub account_name: String,
    #[serde(flatten)]
    pub facts: CertificateFacts,
    pub days_to_expiry: Option<i64>,
    pub validation_method: Option<ValidationMethod>,
    pub renewal_status: Option<RenewalStatus>,
    pub console_url: String,
    pub findings: Vec<Finding>,
}

impl CertificateRecord {
    pub fn new(
        account_name: &str,
        facts: CertificateFacts,
        findings: Vec<Finding>,
        now: DateTime<Utc>,
    ) -> Self {
        CertificateRecord {
            account_name: account_name.to_owned(),
            days_to_expiry: facts.days_to_expiry(now),
            validation_method: facts
                .validation_method()
                .or_else(|| facts.search.as_ref()?.validation_method.as_ref())
                .cloned(),
            renewal_status: match (&facts.renewal_summary, &facts.search) {
                (Some(r), _) => Some(r.renewal_status.clone()),
                (None, Some(s)) => s.renewal_status.clone(),
                (None, None) => None,
            },
            console_url: facts.console_url(),
            facts,
            findings,
        }
    }

    pub fn worst_urgency(&self) -> Option<Urgency> {
        self.findings.iter().map(|f| f.urgency).max()
    }

    /// The urgency at `now` of a record judged earlier (a stored one): its worst finding's,
    /// raised to `expired` once the certificate has expired ([`CertificateFacts::is_expired`]),
    /// even before the next scan says so. `None`: it renews by itself.
    pub fn urgency_at(&self, now: DateTime<Utc>) -> Option<Urgency> {
        let lapsed = self.facts.is_expired(now).then_some(Urgency::Expired);
        self.worst_urgency().max(lapsed)
    }

    /// Where the certificate lives, the last tie-breaker of every order: account id, region,
    /// name ([`CertificateFacts::display_name`]), ARN.
    pub fn place(&self) -> (&str, &str, &str, &str) {
        let facts = &self.facts;
        (
            &facts.account_id,
            &facts.region,
            facts.display_name(),
            &facts.arn,
        )
    }

    pub fn renewal_eligibility(&self) -> Option<&RenewalEligibility> {
        self.facts.renewal_eligibility.as_ref()
    }
}

/// Where in the scan something failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    ListAccounts,
    AssumeRole,
    ListRegions,
    ListCertificates,
    DescribeCertificate,
    /// An account's OU path or tags could not be learned from Organizations (the error names
    /// the call); the account itself was scanned, and its `ou_path`/`tags` stay unknown.
    AccountMetadata,
    /// A DNS lookup of the network checks got no answer (timeout, SERVFAIL, REFUSED).
    Dns,
    /// A TLS probe could not be made from here (e.g. no route to an IPv6 address).
    Tls,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::ListAccounts => "list_accounts",
            Stage::AssumeRole => "assume_role",
            Stage::ListRegions => "list_regions",
            Stage::ListCertificates => "list_certificates",
            Stage::DescribeCertificate => "describe_certificate",
            Stage::AccountMetadata => "account_metadata",
            Stage::Dns => "dns",
            Stage::Tls => "tls",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that could not be scanned. The rest of the scan went on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub account_id: String,
    pub account_name: String,
    /// None when the whole account failed (e.g. its role could not be assumed).
    pub region: Option<String>,
    pub stage: Stage,
    /// Set when one certificate could not be described.
    pub certificate_arn: Option<String>,
    pub error: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Accounts scanned (ACTIVE, after include/exclude).
    pub accounts: u64,
    /// Account-region pairs scanned.
    pub targets: u64,
    pub certificates: u64,
    /// Regions skipped because they are not enabled in that account.
    pub regions_skipped: u64,
    /// HTTP requests sent to AWS, retries included.
    pub api_calls: u64,
    /// Throttling errors AWS answered (each was retried or reported as a failure).
    pub throttled: u64,
    /// HTTP requests per IAM action (`acm:ListCertificates` …): exactly what the scan needs
    /// permission for.
    #[serde(default)]
    pub calls_by_action: BTreeMap<String, u64>,
    /// Account-regions listed with ListCertificates (each certificate then described) because
    /// SearchCertificates was refused (a member role without `acm:SearchCertificates`) or not
    /// served (not counted when the config turns search off).
    #[serde(default)]
    pub search_fallbacks: u64,
    /// Certificates whose verdict needed their detail and got it from an earlier scan's
    /// describe ([`crate::reuse`]): the DescribeCertificate calls a repeat scan saved.
    #[serde(default)]
    pub describes_saved: u64,
    /// Where the calls' time went, summed over every call: why a scan took as long as it did.
    #[serde(default)]
    pub call_time: CallTime,
    /// The network checks (DNS, CAA, TLS) of this scan.
    #[serde(default)]
    pub checks: CheckStats,
    pub duration_ms: u64,
}

/// What the network checks cost and how many could not be made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStats {
    /// Certificates that had at least one check.
    pub certificates: u64,
    /// DNS queries sent (each name and type once per scan; a CAA climb is one per level).
    pub lookups: u64,
    /// TLS handshakes attempted (each address and name once per scan).
    pub probes: u64,
    /// Lookups and probes that could not be made (each is a `failures` row).
    pub failures: u64,
    /// Certificates whose checks of an earlier scan still stood and were reused (`serve`).
    #[serde(default)]
    pub reused: u64,
    /// Wall time of the checks, overlapping the AWS calls.
    pub duration_ms: u64,
}

/// Milliseconds summed over every AWS call of a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallTime {
    /// Waiting for the API's rate limiter: the quota.
    pub quota_wait_ms: u64,
    /// Waiting for one of the `max_concurrency` in-flight permits.
    pub concurrency_wait_ms: u64,
    /// On the wire, SDK retries included.
    pub in_flight_ms: u64,
}

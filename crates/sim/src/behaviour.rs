//! How the simulated AWS behaves beyond its data: quotas (token buckets keyed the
//! way AWS keys them), latency (a log-normal distribution) and injected faults.
//!
//! A [`Behaviour`] is part of what a run is configured with ([`crate::serve_with`]);
//! [`Behaviour::default`] is the demo's: no quotas, no latency, no faults. It is
//! serde (TOML or JSON), so a benchmark or a test can keep it next to a scenario.
//!
//! Quotas (ACM.md §4), enforced only when `quotas.enabled`:
//!
//! | API | default rate | bucket key |
//! |---|---|---|
//! | acm:ListCertificates | 1/s | (calling account, region) |
//! | acm:SearchCertificates | 1/s (undocumented; ListCertificates' rate) | (calling account, region) |
//! | acm:DescribeCertificate, acm:ListTagsForCertificate | 10/s | (calling account, region) |
//! | acm:ResendValidationEmail | 1/s | (calling account, region) |
//! | sts:AssumeRole, sts:GetCallerIdentity | 600/s | (calling account, STS region) |
//! | account:ListRegions | 5/s | calling account |
//! | organizations:* | 10/s (undocumented) | calling account |
//!
//! A bucket holds `max(1, rate × burst_seconds)` tokens and refills at `rate`. An
//! empty bucket answers the real throttling shape: `ThrottlingException` (ACM, JSON,
//! 400), `TooManyRequestsException` (Organizations and Account, 400/429), STS
//! `Throttling` in an XML `ErrorResponse` (400).

use crate::ids;
use crate::protocol::{ApiError, Protocol, Service};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Everything about a run that is not the organization's data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Behaviour {
    pub quotas: Quotas,
    pub latency: Latency,
    /// Seeds the latency samples and the `percent` choice of faults.
    pub seed: u64,
    pub faults: Vec<Fault>,
}

/// Requests per second per bucket; see the module docs for the keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quotas {
    pub enabled: bool,
    /// Bucket size in seconds of refill (at least one token).
    pub burst_seconds: f64,
    pub list_certificates: f64,
    /// AWS does not publish this quota; the default is ListCertificates' rate, the
    /// conservative guess.
    pub search_certificates: f64,
    pub describe_certificate: f64,
    pub resend_validation_email: f64,
    pub assume_role: f64,
    pub list_regions: f64,
    pub organizations: f64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            enabled: false,
            burst_seconds: 1.0,
            list_certificates: 1.0,
            search_certificates: 1.0,
            describe_certificate: 10.0,
            resend_validation_email: 1.0,
            assume_role: 600.0,
            list_regions: 5.0,
            organizations: 10.0,
        }
    }
}

/// Server time added to every answer: log-normal with this median and 99th
/// percentile (milliseconds). `median_ms = 0` means none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Latency {
    pub median_ms: f64,
    pub p99_ms: f64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            median_ms: 0.0,
            p99_ms: 0.0,
        }
    }
}

/// One injected fault and where it applies. `account` and `region` narrow it (both
/// absent: everywhere); `percent` picks that share of the (account, region) pairs
/// (of accounts, for `deny_assume_role`) by a hash of the seed, so the choice is
/// reproducible; `operations` narrows it to those operation names.
///
/// `server_error`, `connection_reset`, `slow` and `malformed_body` also reach an
/// Organizations operation that `operations` names (e.g. `["ListParents"]`); there `account`
/// is the account or OU the call is about (`ChildId`, `ResourceId`, `OrganizationalUnitId`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub percent: Option<f64>,
    #[serde(default)]
    pub operations: Option<Vec<String>>,
}

impl Fault {
    /// A fault on one account-region (`region = None`: every region of the account).
    pub fn at(kind: FaultKind, account: &str, region: Option<&str>) -> Fault {
        Fault {
            kind,
            account: Some(account.to_owned()),
            region: region.map(str::to_owned),
            percent: None,
            operations: None,
        }
    }
}

/// What goes wrong. ACM calls are affected unless the kind says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// From `start_seconds` after the server started, for `duration_seconds`, the
    /// target's ACM buckets refill at `refill_factor` × their rate (a bucket near
    /// empty). Enforced even when quotas are disabled.
    ThrottleStorm {
        start_seconds: f64,
        duration_seconds: f64,
        refill_factor: f64,
    },
    /// HTTP 500 `InternalFailure`.
    ServerError,
    /// The connection is cut before a response is complete.
    ConnectionReset,
    /// The correct answer, `delay_ms` late (set it above the client's timeout).
    Slow { delay_ms: u64 },
    /// HTTP 200 with a truncated body.
    MalformedBody,
    /// `AccessDenied` (403) on sts:AssumeRole into the account.
    DenyAssumeRole,
    /// `AccessDeniedException` on every ACM call.
    DenyAcm,
    /// The region answers `UnrecognizedClientException`, like a disabled opt-in region.
    DisabledRegion,
}

impl FaultKind {
    fn name(&self) -> &'static str {
        match self {
            FaultKind::ThrottleStorm { .. } => "throttle_storm",
            FaultKind::ServerError => "server_error",
            FaultKind::ConnectionReset => "connection_reset",
            FaultKind::Slow { .. } => "slow",
            FaultKind::MalformedBody => "malformed_body",
            FaultKind::DenyAssumeRole => "deny_assume_role",
            FaultKind::DenyAcm => "deny_acm",
            FaultKind::DisabledRegion => "disabled_region",
        }
    }
}

/// What the server does with a request once behaviour has been applied.
#[derive(Debug)]
pub enum Outcome {
    /// Answer normally (the service decides), after `delay`.
    Serve,
    /// Answer with this error.
    Error(ApiError),
    /// Cut the connection.
    Reset,
    /// A 200 with a body that does not parse.
    Malformed,
}

/// Which quota bucket: (api, account, region hash).
type BucketKey = (u8, u64, u64);

struct Bucket {
    tokens: f64,
    last: Instant,
}

const SHARDS: usize = 16;

/// The live state of a [`Behaviour`]: buckets, the latency sampler, counters.
pub(crate) struct Engine {
    pub behaviour: Behaviour,
    started: Instant,
    buckets: Vec<Mutex<HashMap<BucketKey, Bucket>>>,
    draws: AtomicU64,
    /// Requests answered with a throttling error.
    pub throttled: AtomicU64,
    /// Requests a fault was injected into.
    pub faulted: AtomicU64,
    mu: f64,
    sigma: f64,
}

/// The z-score of the 99th percentile of a standard normal distribution.
const Z99: f64 = 2.326_348;

impl Engine {
    pub fn new(behaviour: Behaviour) -> Engine {
        let lat = &behaviour.latency;
        let (mu, sigma) = if lat.median_ms > 0.0 {
            let p99 = lat.p99_ms.max(lat.median_ms);
            (lat.median_ms.ln(), (p99 / lat.median_ms).ln() / Z99)
        } else {
            (f64::NEG_INFINITY, 0.0)
        };
        Engine {
            behaviour,
            started: Instant::now(),
            buckets: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            draws: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            faulted: AtomicU64::new(0),
            mu,
            sigma,
        }
    }

    /// One latency sample (zero when latency is off).
    pub fn latency(&self) -> Duration {
        if self.mu == f64::NEG_INFINITY {
            return Duration::ZERO;
        }
        let n = self.draws.fetch_add(1, Ordering::Relaxed);
        let a = ids::hash64(self.behaviour.seed, &[]).wrapping_add(n.wrapping_mul(2));
        // Box-Muller from two uniform numbers in (0, 1].
        let u1 = unit(splitmix(a));
        let u2 = unit(splitmix(a.wrapping_add(1)));
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let ms = (self.mu + self.sigma * z).exp();
        // Cap at 100× the median so one sample cannot stall a benchmark.
        Duration::from_secs_f64(ms.min(self.behaviour.latency.median_ms * 100.0) / 1000.0)
    }

    /// Applies faults and quotas to a request. `subject` is the account the request
    /// is about (the role's account for AssumeRole, the account or OU an Organizations
    /// call names, else the caller's); `caller` is
    /// the calling account (the quota key); `region` the signed region.
    pub fn decide(
        &self,
        service: Service,
        operation: &str,
        caller: &str,
        subject: &str,
        region: &str,
    ) -> (Outcome, Duration) {
        let mut extra = Duration::ZERO;
        let mut storm = None;
        for fault in &self.behaviour.faults {
            if !self.matches(fault, service, operation, subject, region) {
                continue;
            }
            let outcome = match &fault.kind {
                FaultKind::ThrottleStorm {
                    start_seconds,
                    duration_seconds,
                    refill_factor,
                } => {
                    let t = self.started.elapsed().as_secs_f64();
                    if t >= *start_seconds && t < start_seconds + duration_seconds {
                        storm = Some(*refill_factor);
                    }
                    continue;
                }
                FaultKind::Slow { delay_ms } => {
                    extra += Duration::from_millis(*delay_ms);
                    self.faulted.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                FaultKind::ServerError => Outcome::Error(ApiError::from_code(
                    "InternalFailure",
                    "The request processing has failed because of an unknown error, exception or failure.",
                )),
                FaultKind::ConnectionReset => Outcome::Reset,
                FaultKind::MalformedBody => Outcome::Malformed,
                FaultKind::DenyAssumeRole => Outcome::Error(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "AccessDenied",
                    format!("User: arn:aws:iam::{caller}:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{subject}:role/*"),
                )),
                FaultKind::DenyAcm => Outcome::Error(ApiError::client(
                    "AccessDeniedException",
                    format!("User: arn:aws:sts::{subject}:assumed-role/certwatch is not authorized to perform: acm:{operation} because no identity-based policy allows the acm:{operation} action"),
                )),
                FaultKind::DisabledRegion => Outcome::Error(ApiError::client(
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                )),
            };
            self.faulted.fetch_add(1, Ordering::Relaxed);
            return (outcome, extra);
        }
        let quotas = &self.behaviour.quotas;
        if quotas.enabled || storm.is_some() {
            if let Some((api, rate)) = quota(quotas, service, operation) {
                let rate = rate * storm.unwrap_or(1.0);
                let key = (api, account_number(caller), ids::hash64(0, &[region]));
                if !self.take(key, rate, quotas.burst_seconds) {
                    self.throttled.fetch_add(1, Ordering::Relaxed);
                    return (Outcome::Error(throttling(service)), extra);
                }
            }
        }
        (Outcome::Serve, extra)
    }

    fn matches(
        &self,
        fault: &Fault,
        service: Service,
        operation: &str,
        subject: &str,
        region: &str,
    ) -> bool {
        let assume_role = service == Service::Sts && operation == "AssumeRole";
        let named = || {
            fault
                .operations
                .as_ref()
                .is_some_and(|ops| ops.iter().any(|o| o == operation))
        };
        let applies = match fault.kind {
            FaultKind::DenyAssumeRole => assume_role,
            FaultKind::ServerError
            | FaultKind::ConnectionReset
            | FaultKind::Slow { .. }
            | FaultKind::MalformedBody => {
                service == Service::Acm || (service == Service::Organizations && named())
            }
            _ => service == Service::Acm,
        };
        if !applies
            || fault.account.as_deref().is_some_and(|a| a != subject)
            || fault
                .operations
                .as_ref()
                .is_some_and(|ops| !ops.iter().any(|o| o == operation))
        {
            return false;
        }
        // AssumeRole is about an account, whatever region STS is called in.
        let region = if assume_role { "" } else { region };
        if !assume_role && fault.region.as_deref().is_some_and(|r| r != region) {
            return false;
        }
        match fault.percent {
            None => true,
            Some(percent) => {
                let roll = ids::hash64(self.behaviour.seed, &[fault.kind.name(), subject, region]);
                ((roll % 10_000) as f64) < percent * 100.0
            }
        }
    }

    /// Takes a token from the bucket; false when it is empty.
    fn take(&self, key: BucketKey, rate: f64, burst_seconds: f64) -> bool {
        let shard = (key.1 ^ key.2) as usize % SHARDS;
        let mut buckets = self.buckets[shard]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let capacity = (rate * burst_seconds).max(1.0);
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let refill = now.duration_since(bucket.last).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// (bucket id, rate) of the quota an operation is counted against.
fn quota(q: &Quotas, service: Service, operation: &str) -> Option<(u8, f64)> {
    match (service, operation) {
        (Service::Acm, "ListCertificates") => Some((0, q.list_certificates)),
        (Service::Acm, "SearchCertificates") => Some((5, q.search_certificates)),
        (Service::Acm, "ResendValidationEmail") => Some((6, q.resend_validation_email)),
        (Service::Acm, _) => Some((1, q.describe_certificate)),
        (Service::Sts, _) => Some((2, q.assume_role)),
        (Service::Account, _) => Some((3, q.list_regions)),
        (Service::Organizations, _) => Some((4, q.organizations)),
    }
}

/// The throttling error each service really answers with.
pub(crate) fn throttling(service: Service) -> ApiError {
    match service {
        Service::Acm => ApiError::client("ThrottlingException", "Rate exceeded"),
        Service::Sts => ApiError::client("Throttling", "Rate exceeded"),
        Service::Organizations => ApiError::client(
            "TooManyRequestsException",
            "AWS Organizations can't complete your request because another request is already in progress. Try again later.",
        ),
        Service::Account => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            "Rate exceeded",
        ),
    }
}

/// The body a malformed answer carries: the start of a valid one, cut off.
pub(crate) fn malformed_body(protocol: Protocol) -> (&'static str, &'static str) {
    match protocol {
        Protocol::AwsQuery => ("text/xml", "<AssumeRoleResponse xmlns=\"https://sts.amaz"),
        _ => (
            "application/x-amz-json-1.1",
            "{\"CertificateSummaryList\":[{\"CertificateArn\":\"arn:aws:acm:",
        ),
    }
}

fn account_number(id: &str) -> u64 {
    id.parse().unwrap_or_else(|_| ids::hash64(0, &[id]))
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform number in (0, 1].
fn unit(bits: u64) -> f64 {
    ((bits >> 11) as f64 + 1.0) / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_has_the_configured_median_and_tail() {
        let engine = Engine::new(Behaviour {
            latency: Latency {
                median_ms: 20.0,
                p99_ms: 200.0,
            },
            ..Behaviour::default()
        });
        let mut samples: Vec<f64> = (0..20_000)
            .map(|_| engine.latency().as_secs_f64() * 1000.0)
            .collect();
        samples.sort_by(f64::total_cmp);
        let median = samples[10_000];
        let p99 = samples[19_800];
        assert!((18.0..22.0).contains(&median), "{median}");
        assert!((170.0..235.0).contains(&p99), "{p99}");
    }

    #[test]
    fn buckets_are_keyed_per_account_and_region_and_refill() {
        let engine = Engine::new(Behaviour {
            quotas: Quotas {
                enabled: true,
                ..Quotas::default()
            },
            ..Behaviour::default()
        });
        let list = |account: &str, region: &str| {
            matches!(
                engine
                    .decide(Service::Acm, "ListCertificates", account, account, region)
                    .0,
                Outcome::Serve
            )
        };
        assert!(list("111111111111", "us-east-1"));
        assert!(
            !list("111111111111", "us-east-1"),
            "1/s: the second is throttled"
        );
        assert!(
            list("111111111111", "eu-west-1"),
            "other region, other bucket"
        );
        assert!(
            list("222222222222", "us-east-1"),
            "other account, other bucket"
        );
        assert_eq!(engine.throttled.load(Ordering::Relaxed), 1);
        // Describe has its own bucket of 10.
        let describes = (0..12)
            .filter(|_| {
                matches!(
                    engine
                        .decide(Service::Acm, "DescribeCertificate", "1", "1", "us-east-1")
                        .0,
                    Outcome::Serve
                )
            })
            .count();
        assert_eq!(describes, 10);
        // Search has its own bucket: the list throttled above does not drain it.
        let search = |account: &str, region: &str| {
            matches!(
                engine
                    .decide(Service::Acm, "SearchCertificates", account, account, region)
                    .0,
                Outcome::Serve
            )
        };
        assert!(search("111111111111", "us-east-1"));
        assert!(!search("111111111111", "us-east-1"), "1/s by default");
        assert!(search("111111111111", "eu-west-1"));
        assert!(!list("111111111111", "us-east-1"), "still throttled");
        match engine
            .decide(Service::Sts, "AssumeRole", "1", "2", "us-east-1")
            .0
        {
            Outcome::Serve => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn percent_faults_pick_a_reproducible_share() {
        let engine = Engine::new(Behaviour {
            seed: 7,
            faults: vec![Fault {
                kind: FaultKind::ServerError,
                account: None,
                region: None,
                percent: Some(10.0),
                operations: None,
            }],
            ..Behaviour::default()
        });
        let hit = (0..5_000)
            .filter(|i| {
                let account = format!("{:012}", i);
                matches!(
                    engine
                        .decide(
                            Service::Acm,
                            "ListCertificates",
                            &account,
                            &account,
                            "us-east-1"
                        )
                        .0,
                    Outcome::Error(_)
                )
            })
            .count();
        assert!((400..600).contains(&hit), "{hit}");
    }

    #[test]
    fn behaviour_reads_from_toml() {
        let text = r#"
            seed = 3
            [quotas]
            enabled = true
            list_certificates = 2.0
            [latency]
            median_ms = 5.0
            p99_ms = 50.0
            [[faults]]
            kind = "slow"
            delay_ms = 3000
            account = "111122223333"
            region = "eu-west-1"
            [[faults]]
            kind = "deny_assume_role"
            percent = 5.0
        "#;
        let b: Behaviour = toml::from_str(text).expect("parses");
        assert_eq!(b.faults.len(), 2);
        assert_eq!(b.faults[0].kind, FaultKind::Slow { delay_ms: 3000 });
        assert!(b.quotas.enabled);
        assert_eq!(b.quotas.describe_certificate, 10.0);
        assert_eq!(b.quotas.search_certificates, 1.0);
        let b: Behaviour = toml::from_str("[quotas]\nsearch_certificates = 0.5\n").expect("parses");
        assert_eq!(b.quotas.search_certificates, 0.5);
    }
}

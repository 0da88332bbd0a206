//! certwatch-probe: what the world sees of a certificate's names.
//!
//! Core decides what to check ([`CertificateFacts::check_plan`]); this crate makes the DNS
//! lookups and TLS handshakes and records what they saw as core's plain [`Checks`]. It judges
//! nothing: the verdicts are core's rules. A lookup or probe that could not be made is a failure
//! row (stage `dns` or `tls`), never a finding.
//!
//! One [`Prober`] serves one scan. It holds the per-scan caches (each name and record type is
//! asked once, each address and name probed once, however many certificates share them), one
//! rate limiter per nameserver, and one semaphore bounding the lookups and handshakes in flight.

mod caa;
mod cache;
mod leaf;
mod lookup;
mod resolver;
mod tls;
mod verifier;

use certwatch_core::{
    Answer, CertificateFacts, CheckStats, Checks, EndpointProbe, NameCheck, ServedCertificate,
    Stage, ValidationRecordCheck,
};
use chrono::{DateTime, Utc};
use futures::future::join_all;
use hickory_resolver::proto::rr::RecordType;
use lookup::{Data, Lookups, Resolved};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The network checks' settings (`[checks]` in the config file).
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeConfig {
    /// Validation records, CAA and name resolution.
    pub dns: bool,
    /// TLS handshakes with the resolved names.
    pub tls: bool,
    /// Nameservers to ask: at least one. (This crate reads no file: for a configuration that
    /// names none, the binary reads the system resolver's, /etc/resolv.conf, and passes them in.)
    pub nameservers: Vec<SocketAddr>,
    /// The port probed with TLS.
    pub tls_port: u16,
    /// Per lookup attempt, and per TLS connect and handshake.
    pub timeout: Duration,
    /// Lookups and handshakes in flight at once.
    pub max_concurrency: usize,
    /// Queries per second sent to each nameserver.
    pub queries_per_second: f64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            dns: true,
            tls: true,
            nameservers: Vec::new(),
            tls_port: 443,
            timeout: Duration::from_secs(5),
            max_concurrency: 64,
            queries_per_second: 200.0,
        }
    }
}

/// Why a prober cannot be set up (a scan cannot run its checks at all).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("invalid network-check settings: {0}")]
    Config(String),
    #[error("the TLS client cannot be set up: {0}")]
    Tls(String),
}

/// What the checks of one certificate saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// None when the certificate calls for no check.
    pub checks: Option<Checks>,
    /// One per lookup or probe that could not be made: (`Stage::Dns` or `Stage::Tls`, text
    /// naming the name or address and what happened).
    pub failures: Vec<(Stage, String)>,
}

/// The network checks of one scan. Send + Sync: share it (in an `Arc`) between the tasks that
/// check certificates.
pub struct Prober {
    dns: bool,
    tls_enabled: bool,
    tls_port: u16,
    lookups: Lookups,
    tls: tls::Tls,
    certificates: AtomicU64,
    failures: AtomicU64,
}

impl Prober {
    /// A prober for one scan: its nameservers (at least one), their rate limiters, empty
    /// caches, and TLS verdicts against the WebPKI roots.
    pub fn new(config: &ProbeConfig) -> Result<Prober, ProbeError> {
        Prober::with_trust_anchors(config, "")
    }

    /// A prober whose TLS verdicts also trust the CA certificates in `pem` (besides the WebPKI
    /// roots): endpoints of a private CA, or a simulator's, then get `valid` or their specific
    /// fault (`expired`, `name_mismatch`) rather than `unknown_issuer`.
    pub fn with_trust_anchors(config: &ProbeConfig, pem: &str) -> Result<Prober, ProbeError> {
        if config.max_concurrency == 0 {
            return Err(ProbeError::Config(
                "max_concurrency must be at least 1".to_owned(),
            ));
        }
        if config.timeout.is_zero() {
            return Err(ProbeError::Config(
                "the timeout must be longer than zero".to_owned(),
            ));
        }
        let permits = Arc::new(Semaphore::new(config.max_concurrency));
        let nameservers = resolver::Nameservers::new(config, permits.clone())?;
        Ok(Prober {
            dns: config.dns,
            tls_enabled: config.tls,
            tls_port: config.tls_port,
            lookups: Lookups::new(nameservers),
            tls: tls::Tls::new(config.timeout, permits, pem)?,
            certificates: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        })
    }

    /// Runs every check the certificate calls for, all at once (bounded by the prober's
    /// semaphore), and returns what they saw.
    pub async fn check(&self, facts: &CertificateFacts, now: DateTime<Utc>) -> Checked {
        let plan = facts.check_plan(now, self.dns, self.tls_enabled);
        if plan.is_empty() {
            return Checked {
                checks: None,
                failures: Vec::new(),
            };
        }
        self.certificates.fetch_add(1, Ordering::Relaxed);
        let validation = join_all(
            plan.validation_records
                .iter()
                .map(|(domain, name, expected)| self.validation_record(domain, name, expected)),
        );
        let caa = join_all(
            plan.caa
                .iter()
                .map(|domain| caa::relevant_set(&self.lookups, domain)),
        );
        let names = join_all(
            plan.resolve
                .iter()
                .map(|name| self.name(name, plan.tls, facts)),
        );
        let (validation, caa, names) = tokio::join!(validation, caa, names);

        let mut failures = Failures::default();
        let mut checks = Checks {
            checked_at: Some(now),
            ..Checks::default()
        };
        for (check, failure) in validation {
            failures.dns(failure);
            checks.validation_records.push(check);
        }
        for (check, failure) in caa {
            failures.dns(failure);
            checks.caa.push(check);
        }
        for (check, name_failures) in names {
            for failure in name_failures {
                failures.push(failure);
            }
            checks.names.push(check);
        }
        self.failures
            .fetch_add(failures.0.len() as u64, Ordering::Relaxed);
        Checked {
            checks: Some(checks),
            failures: failures.0,
        }
    }

    /// Counts so far: queries sent (after de-duplication; a fallback to a second nameserver is
    /// a second query), handshakes attempted, failure rows returned, certificates with a
    /// non-empty plan. `duration_ms` is left to the caller, who knows when the checks began.
    pub fn stats(&self) -> CheckStats {
        CheckStats {
            certificates: self.certificates.load(Ordering::Relaxed),
            lookups: self.lookups.sent(),
            probes: self.tls.attempted(),
            failures: self.failures.load(Ordering::Relaxed),
            ..CheckStats::default()
        }
    }

    /// The CNAME at a validation record's name, beside what ACM expects there.
    async fn validation_record(
        &self,
        domain: &str,
        name: &str,
        expected: &str,
    ) -> (ValidationRecordCheck, Option<String>) {
        let resolved = self.lookups.resolve(name, RecordType::CNAME).await;
        let (answer, found, failure) = match &*resolved {
            Resolved::Records {
                data: Data::Targets(targets),
                ..
            } => (
                Answer::Records,
                targets.iter().map(|t| t.to_string()).collect(),
                None,
            ),
            Resolved::Records { .. } | Resolved::NoData { .. } => {
                (Answer::NoData, Vec::new(), None)
            }
            Resolved::NxDomain { .. } => (Answer::NxDomain, Vec::new(), None),
            Resolved::Failed(error) => (Answer::Failed, Vec::new(), Some(error.to_string())),
        };
        let check = ValidationRecordCheck {
            domain: domain.to_owned(),
            name: name.to_owned(),
            expected: expected.to_owned(),
            answer,
            found,
        };
        (check, failure)
    }

    /// A name's addresses (A and AAAA, after CNAMEs) and, with `tls`, a handshake with each.
    async fn name(
        &self,
        name: &str,
        tls: bool,
        facts: &CertificateFacts,
    ) -> (NameCheck, Vec<(Stage, String)>) {
        let (v4, v6) = tokio::join!(
            self.lookups.resolve(name, RecordType::A),
            self.lookups.resolve(name, RecordType::AAAA)
        );
        let mut failures = Vec::new();
        let mut addresses: Vec<IpAddr> = Vec::new();
        for resolved in [&*v4, &*v6] {
            match resolved {
                Resolved::Records {
                    data: Data::Addresses(found),
                    ..
                } => {
                    for address in found.iter() {
                        if !addresses.contains(address) {
                            addresses.push(*address);
                        }
                    }
                }
                Resolved::Failed(error) => failures.push((Stage::Dns, error.to_string())),
                _ => {}
            }
        }
        let answer = name_answer(&v4, &v6, !addresses.is_empty());
        // The chain as the A lookup saw it, unless only the AAAA lookup was answered.
        let cnames = if matches!(*v4, Resolved::Failed(_)) {
            v6.chain()
        } else {
            v4.chain()
        };
        let mut check = NameCheck {
            name: name.to_owned(),
            answer,
            cnames: cnames.iter().map(|c| c.to_string()).collect(),
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
            endpoints: Vec::new(),
        };
        if tls && answer == Answer::Records {
            let probes = join_all(
                addresses
                    .iter()
                    .map(|address| self.endpoint(*address, name, facts)),
            );
            for (endpoint, failure) in probes.await {
                if let Some(failure) = failure {
                    failures.push((Stage::Tls, failure));
                }
                check.endpoints.push(endpoint);
            }
        }
        (check, failures)
    }

    /// One endpoint as probed, judged against this certificate's serial and NotAfter.
    async fn endpoint(
        &self,
        address: IpAddr,
        name: &str,
        facts: &CertificateFacts,
    ) -> (EndpointProbe, Option<String>) {
        let outcome = self.tls.probe(address, self.tls_port, name).await;
        let mut probe = EndpointProbe {
            address: address.to_string(),
            port: self.tls_port,
            served: None,
            error: None,
            local_failure: false,
        };
        match &*outcome {
            tls::Outcome::Served {
                leaf,
                verdict,
                chain_length,
            } => {
                probe.served = Some(ServedCertificate {
                    serial: leaf.serial.clone(),
                    not_before: leaf.not_before,
                    not_after: leaf.not_after,
                    subject: leaf.subject.clone(),
                    issuer: leaf.issuer.clone(),
                    names: leaf.names.clone(),
                    verdict: verdict.clone(),
                    chain_length: *chain_length,
                    matches_acm: facts.is_current(&leaf.serial, leaf.not_after),
                });
                (probe, None)
            }
            tls::Outcome::Failed { error, local } => {
                probe.error = Some(error.clone());
                probe.local_failure = *local;
                let failure = local.then(|| {
                    format!(
                        "TLS probe of {} for {name}: {error}",
                        SocketAddr::new(address, self.tls_port)
                    )
                });
                (probe, failure)
            }
        }
    }
}

/// A name's answer from its A and AAAA lookups: addresses from either make it resolved; with
/// none, a lookup that failed leaves it unknown; else NXDOMAIN or NODATA.
fn name_answer(v4: &Resolved, v6: &Resolved, any_address: bool) -> Answer {
    if any_address {
        Answer::Records
    } else if matches!(v4, Resolved::Failed(_)) || matches!(v6, Resolved::Failed(_)) {
        Answer::Failed
    } else if matches!(v4, Resolved::NxDomain { .. }) || matches!(v6, Resolved::NxDomain { .. }) {
        Answer::NxDomain
    } else {
        Answer::NoData
    }
}

/// A certificate's failure rows, each once (names may share a failed parent lookup).
#[derive(Default)]
struct Failures(Vec<(Stage, String)>);

impl Failures {
    fn dns(&mut self, failure: Option<String>) {
        if let Some(text) = failure {
            self.push((Stage::Dns, text));
        }
    }

    fn push(&mut self, failure: (Stage, String)) {
        if !self.0.contains(&failure) {
            self.0.push(failure);
        }
    }
}

/// A duration as people read a timeout: "5 s", "0.5 s".
pub(crate) fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = ProbeConfig::default();
        assert!(c.dns && c.tls && c.nameservers.is_empty());
        assert_eq!(c.tls_port, 443);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!((c.max_concurrency, c.queries_per_second), (64, 200.0));
    }

    #[test]
    fn bad_settings_are_refused() {
        let none = ProbeConfig::default();
        assert!(
            matches!(Prober::new(&none), Err(ProbeError::Config(e)) if e.contains("nameserver")),
            "no nameserver, and this crate reads no resolv.conf"
        );
        let ns = vec!["127.0.0.1:53".parse().unwrap()];
        let zero = ProbeConfig {
            nameservers: ns.clone(),
            max_concurrency: 0,
            ..ProbeConfig::default()
        };
        assert!(matches!(Prober::new(&zero), Err(ProbeError::Config(_))));
        let no_rate = ProbeConfig {
            nameservers: ns.clone(),
            queries_per_second: 0.0,
            ..ProbeConfig::default()
        };
        assert!(matches!(Prober::new(&no_rate), Err(ProbeError::Config(_))));
        let bad_pem = ProbeConfig {
            nameservers: ns,
            ..ProbeConfig::default()
        };
        let garbage = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            Prober::with_trust_anchors(&bad_pem, garbage),
            Err(ProbeError::Tls(_))
        ));
    }

    #[test]
    fn a_name_is_resolved_by_either_family() {
        let chain: Box<[Box<str>]> = Box::new([]);
        let some = Resolved::Records {
            chain: chain.clone(),
            data: Data::Addresses(Box::new([])),
        };
        let nx = Resolved::NxDomain {
            chain: chain.clone(),
        };
        let nodata = Resolved::NoData { chain };
        let failed = Resolved::Failed("x".into());
        assert_eq!(name_answer(&some, &failed, true), Answer::Records);
        assert_eq!(name_answer(&nodata, &failed, false), Answer::Failed);
        assert_eq!(name_answer(&nx, &nx, false), Answer::NxDomain);
        assert_eq!(name_answer(&nodata, &nodata, false), Answer::NoData);
    }

    #[test]
    fn timeouts_read_in_seconds() {
        assert_eq!(seconds(Duration::from_secs(5)), "5 s");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5 s");
    }

    #[test]
    fn the_prober_is_shared_between_tasks() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Prober>();
    }
}

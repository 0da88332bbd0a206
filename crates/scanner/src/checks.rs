//! The scan's network checks (DNS, CAA, TLS): each target's certificates go to the prober in a
//! task of their own as soon as the target is listed, so lookups and handshakes run beside the
//! AWS calls of the targets still being scanned instead of in their way. A checked
//! certificate is classified again with what the checks saw; a lookup or probe that could not
//! be made becomes a `Failure` row (stage `dns` or `tls`) and the rest goes on.

use crate::{propagate_panic, ScanConfig, ScanError};
use certwatch_core::{classify, CertificateFacts, CertificateRecord, CheckStats, Failure, Policy};
use certwatch_probe::Prober;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;

/// Targets whose certificates are being checked at once. The prober bounds the lookups and
/// handshakes in flight; this bounds the records waiting for them. When it is reached the scan's
/// events wait, which holds the scan back only if the checks cannot keep up at all. 256: as many
/// targets as the AWS side of a scan holds in flight at the default `max_concurrency` (64 ×
/// `TARGETS_PER_PERMIT`), so at the defaults the checks may fall a whole such round behind
/// before the scan waits for them.
const TARGETS_CHECKING: usize = 256;

/// The network checks of an earlier scan that a rescan may reuse, by certificate ARN
/// (`CertificateFacts::reusable_checks` decides, certificate by certificate). `serve` builds it
/// from its stored inventory, so a name is looked up again only when its certificate changed
/// or its last check is older than `max_age`.
#[derive(Debug, Clone, Default)]
pub struct PreviousChecks {
    by_arn: HashMap<String, CertificateFacts>,
    max_age: chrono::Duration,
}

impl PreviousChecks {
    /// Keeps the certificates that carry checks.
    pub fn new<'a>(
        max_age: std::time::Duration,
        certificates: impl IntoIterator<Item = &'a CertificateFacts>,
    ) -> PreviousChecks {
        PreviousChecks {
            by_arn: certificates
                .into_iter()
                .filter(|facts| facts.checks.is_some())
                .map(|facts| (facts.arn.clone(), facts.clone()))
                .collect(),
            max_age: chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX),
        }
    }

    pub fn len(&self) -> usize {
        self.by_arn.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_arn.is_empty()
    }

    fn reusable(
        &self,
        facts: &CertificateFacts,
        now: DateTime<Utc>,
        (dns, tls): (bool, bool),
    ) -> Option<certwatch_core::Checks> {
        let previous = self.by_arn.get(&facts.arn)?;
        facts.reusable_checks(previous, now, self.max_age, dns, tls)
    }
}

/// The checks of one scan.
pub(crate) struct CheckStage {
    prober: Option<Arc<Prober>>,
    /// (dns, tls): which kinds of check run.
    kinds: (bool, bool),
    previous: Arc<crate::Previous>,
    reused: Arc<AtomicU64>,
    now: DateTime<Utc>,
    policy: Arc<Policy>,
    tasks: JoinSet<Vec<(CertificateRecord, Vec<Failure>)>>,
    failures: Vec<Failure>,
    started: Option<Instant>,
    last_done: Option<Instant>,
}

impl CheckStage {
    /// The checks `config` asks for; none when it asks for none.
    pub(crate) fn start(
        config: &ScanConfig,
        now: DateTime<Utc>,
        previous: Arc<crate::Previous>,
    ) -> Result<CheckStage, ScanError> {
        let prober = match &config.checks {
            Some(probe) if probe.dns || probe.tls => {
                Some(Arc::new(Prober::new(probe).map_err(ScanError::Checks)?))
            }
            _ => None,
        };
        Ok(CheckStage {
            kinds: config
                .checks
                .as_ref()
                .map_or((false, false), |c| (c.dns, c.tls)),
            prober,
            previous,
            reused: Arc::default(),
            now,
            policy: Arc::new(config.policy.clone()),
            tasks: JoinSet::new(),
            failures: Vec::new(),
            started: None,
            last_done: None,
        })
    }

    /// Whether checked targets are still to come from [`CheckStage::next_done`].
    pub(crate) fn busy(&self) -> bool {
        !self.tasks.is_empty()
    }

    /// Whether no more targets should be submitted until one is done.
    pub(crate) fn full(&self) -> bool {
        self.tasks.len() >= TARGETS_CHECKING
    }

    /// Starts checking a target's certificates; gives them straight back when there is
    /// nothing to check.
    pub(crate) fn submit(
        &mut self,
        records: Vec<CertificateRecord>,
    ) -> Option<Vec<CertificateRecord>> {
        let Some(prober) = &self.prober else {
            return (!records.is_empty()).then_some(records);
        };
        if records.is_empty() {
            return None;
        }
        self.started.get_or_insert_with(Instant::now);
        let prober = prober.clone();
        let policy = self.policy.clone();
        let previous = self.previous.clone();
        let reused = self.reused.clone();
        let kinds = self.kinds;
        let now = self.now;
        self.tasks.spawn(async move {
            let checked = records.into_iter().map(|mut record| {
                let (prober, policy, previous, reused) = (&prober, &policy, &previous, &reused);
                async move {
                    if let Some(checks) = previous.checks.reusable(&record.facts, now, kinds) {
                        reused.fetch_add(1, Ordering::Relaxed);
                        record.facts.checks = Some(checks);
                        record.findings = classify(&record.facts, now, policy);
                        return (record, Vec::new());
                    }
                    check(prober, policy, now, record).await
                }
            });
            futures::future::join_all(checked).await
        });
        None
    }

    /// The next checked target's certificates, or None once nothing is being checked.
    pub(crate) async fn next_done(&mut self) -> Option<Vec<CertificateRecord>> {
        let done = propagate_panic(self.tasks.join_next().await?)?;
        self.last_done = Some(Instant::now());
        let mut records = Vec::with_capacity(done.len());
        for (record, failures) in done {
            self.failures.extend(failures);
            records.push(record);
        }
        Some(records)
    }

    /// The failure rows of the checks, added to the scan's, and what the checks cost.
    pub(crate) fn finish(self, failures: &mut Vec<Failure>) -> CheckStats {
        failures.extend(self.failures);
        let Some(prober) = self.prober else {
            return CheckStats::default();
        };
        let mut stats = prober.stats();
        stats.reused = self.reused.load(Ordering::Relaxed);
        if let (Some(started), Some(done)) = (self.started, self.last_done) {
            stats.duration_ms = done.duration_since(started).as_millis() as u64;
        }
        stats
    }
}

/// Checks one certificate and judges it again with what the checks saw.
async fn check(
    prober: &Prober,
    policy: &Policy,
    now: DateTime<Utc>,
    mut record: CertificateRecord,
) -> (CertificateRecord, Vec<Failure>) {
    let checked = prober.check(&record.facts, now).await;
    let failures = checked
        .failures
        .into_iter()
        .map(|(stage, error)| {
            tracing::warn!(certificate = %record.facts.arn, %stage, %error, "check failed");
            Failure {
                account_id: record.facts.account_id.clone(),
                account_name: record.account_name.clone(),
                region: Some(record.facts.region.clone()),
                stage,
                certificate_arn: Some(record.facts.arn.clone()),
                error,
            }
        })
        .collect();
    if let Some(checks) = checked.checks {
        record.facts.checks = Some(checks);
        record.findings = classify(&record.facts, now, policy);
    }
    (record, failures)
}

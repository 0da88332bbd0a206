//! certwatch-scanner: organization → accounts → regions → certificates, under AWS's quotas.
//!
//! Architecture invariants: only `aws` names `aws_sdk_*` types; every call goes through
//! `throttle`; a failing account, region or certificate becomes a [`Failure`] row and the scan
//! goes on. The only error that stops a scan is having no usable credentials at all.

mod aws;
mod plan;
mod throttle;

pub use aws::{http_client, AwsError};
pub use plan::{
    select_accounts, with_required_region, AccountFilter, OrgAccount, RegionSelection,
    ALWAYS_SCANNED_REGION,
};
pub use throttle::{Key, Rates};

use aws::{Acm, Aws, Counters};
use aws_config::SdkConfig;
use certwatch_core::{
    classify, needs_detail, CertificateFacts, CertificateRecord, Failure, Policy, Report, Stage,
    Stats,
};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use throttle::Limits;

/// Everything the scanner needs to know, already validated.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Role assumed in each member account.
    pub member_role_name: String,
    pub external_id: Option<String>,
    /// RoleSessionName, visible in the members' CloudTrail.
    pub session_name: String,
    pub accounts: AccountFilter,
    pub regions: RegionSelection,
    /// The one global bound on AWS calls in flight.
    pub max_concurrency: usize,
    /// Timeout of one attempt of one AWS call.
    pub call_timeout: Duration,
    pub rates: Rates,
    pub policy: Policy,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            member_role_name: "OrganizationAccountAccessRole".to_owned(),
            external_id: None,
            session_name: "certwatch".to_owned(),
            accounts: AccountFilter {
                include_own_account: true,
                ..AccountFilter::default()
            },
            regions: RegionSelection::Enabled,
            max_concurrency: 64,
            call_timeout: Duration::from_secs(10),
            rates: Rates::default(),
            policy: Policy::default(),
        }
    }
}

/// Progress callbacks, for a progress bar. All methods default to doing nothing.
pub trait Progress: Send + Sync {
    /// The accounts to scan are known.
    fn accounts_planned(&self, _accounts: u64) {}
    /// More account-region targets are known (called once per account).
    fn targets_planned(&self, _targets: u64) {}
    fn target_done(&self) {}
    fn account_done(&self) {}
}

/// A [`Progress`] that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("the AWS credentials do not work (sts:GetCallerIdentity failed): {0}")]
    Credentials(AwsError),
}

/// Certificates described at once within one account-region; the rate limiter paces them.
const DESCRIBES_IN_FLIGHT: usize = 10;

/// Pauses before re-sending an ACM call that is still throttled after the SDK's own 3 attempts.
/// A throttling storm (AWS's bucket for one account-region nearly empty for seconds) outlasts
/// the SDK's 200/400 ms backoff; without these rounds the target would be reported failed and
/// its certificates lost. Each round goes through the limiter again, so it is paced like any
/// other call, and the rounds are bounded (≤ 4 × 3 extra attempts, ≈ 15 s of waiting).
const THROTTLE_PAUSES: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// Runs `call` (one paced, SDK-retried AWS call) again after each pause while it is throttled.
async fn patient<T, F, Fut>(mut call: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    let mut pauses = THROTTLE_PAUSES.iter();
    loop {
        match call().await {
            Err(error) if error.is_throttling() => match pauses.next() {
                Some(pause) => tokio::time::sleep(*pause).await,
                None => return Err(error),
            },
            other => return other,
        }
    }
}

/// Account-regions scanned at once, in the whole scan. A target in flight holds an ACM client
/// (with its own retry partition) and its listed certificates, so this, not the number of
/// accounts, is what bounds the scanner's working memory; `max_concurrency` bounds the calls on
/// the wire. A target has one list or up to 10 describes in flight and spends most of its time
/// waiting for its own limiter (10 describes/s), so keeping the permits busy needs several times
/// more targets than permits.
///
/// (Measured with certwatch-bench at 10,000 accounts × 17 regions: bounding accounts instead
/// (each holding all 17 of its targets until its slowest one finished) left the machine idle
/// while accounts waited for their last target; bounding them at `max_concurrency` without this
/// held up to 64 × 17 ACM clients at once.)
fn targets_in_flight(max_concurrency: usize) -> usize {
    max_concurrency.saturating_mul(4).max(1)
}

/// Scans the organization the `base` credentials belong to.
pub async fn scan(
    base: &SdkConfig,
    config: &ScanConfig,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<Report, ScanError> {
    let started = Instant::now();
    let limits = Arc::new(Limits::new(&config.rates, config.max_concurrency.max(1)));
    let counters = Arc::new(Counters::default());
    let aws = Aws::new(base, config.call_timeout, limits.clone(), counters.clone());
    let (own_id, partition) = aws.caller().await.map_err(ScanError::Credentials)?;
    let run = Run {
        aws,
        limits,
        config,
        now,
        partition,
        progress,
        out: Mutex::new(Output::default()),
        targets: tokio::sync::Semaphore::new(targets_in_flight(config.max_concurrency)),
        regions: Mutex::new(HashMap::new()),
    };

    let listed = run.list_accounts(&own_id).await;
    let own = listed
        .iter()
        .find(|a| a.id == own_id)
        .cloned()
        .unwrap_or_else(|| OrgAccount {
            id: own_id.clone(),
            name: String::new(),
            state: "ACTIVE".to_owned(),
        });
    let accounts = select_accounts(listed, &config.accounts, &own);
    progress.accounts_planned(accounts.len() as u64);

    stream::iter(&accounts)
        .for_each_concurrent(config.max_concurrency.max(1), |account| async {
            run.scan_account(account, account.id == own_id).await;
            progress.account_done();
        })
        .await;
    run.limits.forget_idle_keys();

    let out = run.out.into_inner().unwrap_or_else(PoisonError::into_inner);
    let mut report = Report {
        generated_at: now,
        stats: Stats {
            accounts: accounts.len() as u64,
            targets: out.targets,
            certificates: out.certificates.len() as u64,
            regions_skipped: out.regions_skipped,
            api_calls: counters.api_calls.load(Ordering::Relaxed),
            throttled: counters.throttled.load(Ordering::Relaxed),
            calls_by_action: counters
                .by_action
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
            duration_ms: started.elapsed().as_millis() as u64,
        },
        certificates: out.certificates,
        failures: out.failures,
    };
    report.sort();
    Ok(report)
}

#[derive(Default)]
struct Output {
    certificates: Vec<CertificateRecord>,
    failures: Vec<Failure>,
    targets: u64,
    regions_skipped: u64,
}

/// One scan in progress.
struct Run<'a> {
    aws: Aws,
    limits: Arc<Limits>,
    config: &'a ScanConfig,
    now: DateTime<Utc>,
    partition: String,
    progress: &'a dyn Progress,
    out: Mutex<Output>,
    /// Region name → small index, for rate-limiter keys.
    regions: Mutex<HashMap<String, u16>>,
    /// Bounds the account-regions in flight ([`targets_in_flight`]).
    targets: tokio::sync::Semaphore,
}

/// Account ids are 12 digits; anything else (never seen from AWS) is hashed.
fn account_key(id: &str) -> u64 {
    id.parse().unwrap_or_else(|_| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut h);
        h.finish()
    })
}

impl Run<'_> {
    fn output(&self) -> std::sync::MutexGuard<'_, Output> {
        self.out.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fail(
        &self,
        account: &OrgAccount,
        region: Option<&str>,
        stage: Stage,
        certificate_arn: Option<&str>,
        error: &AwsError,
    ) {
        tracing::warn!(account = %account.id, region, %stage, %error, "scan step failed");
        self.output().failures.push(Failure {
            account_id: account.id.clone(),
            account_name: account.name.clone(),
            region: region.map(str::to_owned),
            stage,
            certificate_arn: certificate_arn.map(str::to_owned),
            error: error.message.clone(),
        });
    }

    fn key(&self, account: &OrgAccount, region: &str) -> throttle::Key {
        let mut regions = self.regions.lock().unwrap_or_else(PoisonError::into_inner);
        let next = regions.len() as u16;
        let index = *regions.entry(region.to_owned()).or_insert(next);
        (account_key(&account.id), index)
    }

    /// Every account of the organization; on failure, a failure row and an empty list (the
    /// account certwatch runs in is still scanned).
    async fn list_accounts(&self, own_id: &str) -> Vec<OrgAccount> {
        let mut accounts = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .limits
                .organizations(self.aws.list_accounts_page(token.take()))
                .await;
            match page {
                Ok((page, next)) => {
                    accounts.extend(page);
                    match next {
                        Some(next) => token = Some(next),
                        None => return accounts,
                    }
                }
                Err(error) => {
                    let own = OrgAccount {
                        id: own_id.to_owned(),
                        name: String::new(),
                        state: "ACTIVE".to_owned(),
                    };
                    self.fail(&own, None, Stage::ListAccounts, None, &error);
                    return Vec::new();
                }
            }
        }
    }

    async fn scan_account(&self, account: &OrgAccount, is_own: bool) {
        let config = if is_own {
            self.aws.own_config()
        } else {
            let role_arn = format!(
                "arn:{}:iam::{}:role/{}",
                self.partition, account.id, self.config.member_role_name
            );
            let member = self
                .aws
                .member_config(
                    role_arn,
                    &self.config.session_name,
                    self.config.external_id.as_deref(),
                )
                .await;
            match member {
                Ok(config) => config,
                Err(error) => {
                    self.fail(account, None, Stage::AssumeRole, None, &error);
                    return;
                }
            }
        };
        let regions = match &self.config.regions {
            RegionSelection::List(regions) => with_required_region(regions),
            RegionSelection::Enabled => match self.enabled_regions(account, &config).await {
                Ok(regions) => with_required_region(&regions),
                Err(error) => {
                    self.fail(account, None, Stage::ListRegions, None, &error);
                    with_required_region(&[])
                }
            },
        };
        self.progress.targets_planned(regions.len() as u64);
        futures::future::join_all(
            regions
                .iter()
                .map(|region| self.scan_target(account, &config, region)),
        )
        .await;
    }

    async fn enabled_regions(
        &self,
        account: &OrgAccount,
        config: &SdkConfig,
    ) -> Result<Vec<String>, AwsError> {
        // account:ListRegions is a global API; its quota is per calling account.
        let key = self.key(account, "global");
        let mut regions = Vec::new();
        let mut token = None;
        loop {
            let call = self.aws.enabled_regions_page(config, token.take());
            let (page, next) = self.limits.list_regions(key, call).await?;
            regions.extend(page);
            match next {
                Some(next) => token = Some(next),
                None => return Ok(regions),
            }
        }
    }

    async fn scan_target(&self, account: &OrgAccount, config: &SdkConfig, region: &str) {
        // Never closed, so acquire cannot fail; without a permit the target still runs.
        let _slot = self.targets.acquire().await.ok();
        let acm = self.aws.acm(config, &account.id, region);
        let key = self.key(account, region);
        let mut listed = Vec::new();
        let mut token = None;
        let mut list_error = None;
        loop {
            let page = patient(|| {
                self.limits
                    .list_certificates(key, acm.list_page(token.clone()))
            })
            .await;
            match page {
                Ok((page, next)) => {
                    listed.extend(page);
                    match next {
                        Some(next) => token = Some(next),
                        None => break,
                    }
                }
                Err(error) if error.is_region_disabled() && listed.is_empty() => {
                    tracing::debug!(account = %account.id, region, "region not enabled; skipped");
                    self.output().regions_skipped += 1;
                    self.progress.target_done();
                    return;
                }
                Err(error) => {
                    list_error = Some(error);
                    break;
                }
            }
        }
        if let Some(error) = &list_error {
            // What was listed before the failure is still reported: it is correct data.
            self.fail(account, Some(region), Stage::ListCertificates, None, error);
        }

        let records: Vec<CertificateRecord> = stream::iter(listed)
            .map(|facts| self.complete(account, &acm, key, facts))
            .buffer_unordered(DESCRIBES_IN_FLIGHT)
            .filter_map(|record| async { record })
            .collect()
            .await;
        let mut out = self.output();
        out.targets += 1;
        out.certificates.extend(records);
        drop(out);
        self.progress.target_done();
    }

    /// Describes the certificate if the verdict needs it, then classifies it.
    async fn complete(
        &self,
        account: &OrgAccount,
        acm: &Acm,
        key: throttle::Key,
        mut facts: CertificateFacts,
    ) -> Option<CertificateRecord> {
        if needs_detail(&facts, self.now) {
            let detail = patient(|| {
                self.limits
                    .describe_certificate(key, acm.describe(facts.clone()))
            })
            .await;
            let result = detail.map(|detail| facts = detail);
            match result {
                Ok(()) => {}
                // Deleted between list and describe: it no longer exists.
                Err(error) if error.is_not_found() => return None,
                Err(error) => {
                    let region = facts.region.clone();
                    let arn = facts.arn.clone();
                    self.fail(
                        account,
                        Some(&region),
                        Stage::DescribeCertificate,
                        Some(&arn),
                        &error,
                    );
                    return None;
                }
            }
        }
        let findings = classify(&facts, self.now, &self.config.policy);
        Some(CertificateRecord::new(
            &account.name,
            facts,
            findings,
            self.now,
        ))
    }
}

//! certwatch-scanner: organization → accounts → regions → certificates, under AWS's quotas.
//!
//! Architecture invariants: only `aws` names `aws_sdk_*` types, and `act`, the one write
//! (`acm:ResendValidationEmail`, which no scan makes); every call goes through `throttle`; a
//! failing account, region or certificate becomes a [`Failure`] row and the scan goes on. The
//! only error that stops a scan is having no usable credentials at all.

mod act;
mod aws;
mod checks;
mod org;
mod plan;
mod previous;
mod throttle;

pub use act::{NotSent, ResendError, Resender, Resent, SentTo};
pub use aws::{http_client, AwsError};
pub use certwatch_probe::ProbeConfig;
pub use checks::PreviousChecks;
pub use org::AccountMetadata;
pub use plan::{with_required_region, AccountFilter, OrgAccount, RegionSelection};
pub use previous::Previous;
pub use throttle::{Key, Rates};

use aws::{Acm, Aws, Counters};
use aws_config::SdkConfig;
use certwatch_core::{
    classify, needs_detail, Account, CertificateFacts, CertificateRecord, Failure, Policy, Report,
    Stage, Stats,
};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use throttle::{patient, Limits};
use tracing::Instrument;

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
    /// Timeout of one attempt of one AWS call (the SDK makes up to `aws::SDK_MAX_ATTEMPTS`).
    /// Default 10 s (the file's `scan.call_timeout_seconds`): AWS answers these calls in well
    /// under a second, so it only cuts off a connection that hangs, and the call's permit with it.
    pub call_timeout: Duration,
    pub rates: Rates,
    pub policy: Policy,
    /// List with SearchCertificates, which spares the describe of most certificates, falling
    /// back to ListCertificates where it is refused or not served. `false`: ListCertificates only.
    pub search_certificates: bool,
    /// The network checks (DNS, CAA, TLS) run on each target's certificates once they are
    /// known, beside the AWS calls of the targets still being scanned. None: no checks (the
    /// library's default; the configuration file's turns them on).
    pub checks: Option<ProbeConfig>,
    /// How long the network checks of an unchanged certificate stand: a rescan given an earlier
    /// scan's checks ([`scan_after`]) repeats them only once they are older than this.
    pub recheck_after: Duration,
    /// What to learn about each account from Organizations besides its id and name: its OU
    /// path, its tags (`Report.accounts`). Default: nothing, so no call beyond ListAccounts
    /// (Organizations' quota is low and shared by every caller in the management account).
    pub account_metadata: AccountMetadata,
    /// How long an account's OU path and tags stand: a rescan given an earlier scan's accounts
    /// ([`Previous::with_accounts`]) asks Organizations again only for accounts learned longer
    /// ago than this (and for accounts it has not seen).
    pub relearn_accounts_after: Duration,
    /// How long a certificate's detail (DescribeCertificate) stands: a rescan given an earlier
    /// scan's certificates ([`Previous::of`]) describes one again only when its listing shows a
    /// change, its verdict moves with time, or its detail is older than this
    /// (`certwatch_core::reuse`). Zero: always describe.
    pub detail_max_age: Duration,
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
            search_certificates: true,
            checks: None,
            recheck_after: Duration::from_secs(24 * 3600),
            account_metadata: AccountMetadata::default(),
            relearn_accounts_after: Duration::from_secs(24 * 3600),
            detail_max_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// Progress callbacks, for a progress bar. All methods default to doing nothing.
pub trait Progress: Send + Sync {
    /// More accounts to scan are known (called per page of ListAccounts).
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
    #[error("the network checks cannot start: {0} (set checks.nameservers, or turn checks.dns and checks.tls off)")]
    Checks(certwatch_probe::ProbeError),
}

/// Certificates described at once within one account-region; the rate limiter paces them. 10,
/// the describe quota's calls per second: enough in flight to keep a target at its rate while
/// answers take up to a second, and a bound on what a held-back target can send at once.
const DESCRIBES_IN_FLIGHT: usize = 10;

/// Account-regions in flight per in-flight permit (`max_concurrency`): the whole scan has at most
/// `TARGETS_PER_PERMIT × max_concurrency` targets at once ([`targets_in_flight`]). A target in
/// flight holds an ACM client (with its own retry partition) and its listed certificates, so
/// this, not the number of accounts, is what bounds the scanner's working memory;
/// `max_concurrency` bounds the calls on the wire. A target has one list or up to
/// [`DESCRIBES_IN_FLIGHT`] describes in flight and spends most of its time waiting for its own
/// limiter (8 describes/s by default), so keeping the permits busy needs several times more
/// targets than permits.
///
/// (Measured with certwatch-bench at 10,000 accounts × 17 regions: bounding accounts instead
/// (each holding all 17 of its targets until its slowest one finished) left the machine idle
/// while accounts waited for their last target; bounding them at `max_concurrency` without this
/// held up to 64 × 17 ACM clients at once.)
const TARGETS_PER_PERMIT: usize = 4;

/// Account-regions scanned at once, in the whole scan (see [`TARGETS_PER_PERMIT`]).
fn targets_in_flight(max_concurrency: usize) -> usize {
    max_concurrency.saturating_mul(TARGETS_PER_PERMIT).max(1)
}

/// Scans the organization the `base` credentials belong to, and returns every certificate.
pub async fn scan(
    base: &SdkConfig,
    config: &ScanConfig,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<Report, ScanError> {
    scan_after(base, config, now, progress, Arc::default()).await
}

/// Scans like [`scan`], but hands each account-region's certificates to `on_target` as soon as
/// it is scanned instead of keeping them: the scanner's memory is then bounded by the targets in
/// flight, not by the size of the organization. The report returned has the stats, the
/// failures and the accounts (one small entry per account, with its OU path and tags when
/// asked), and no certificates.
///
/// Accounts are scanned by tasks of their own (the runtime's worker threads share the SDK's
/// signing, parsing and bookkeeping) and start as soon as their page of ListAccounts arrives.
/// `progress` and `on_target` are called from this function's task only.
pub async fn scan_each(
    base: &SdkConfig,
    config: &ScanConfig,
    now: DateTime<Utc>,
    progress: &dyn Progress,
    on_target: &mut (dyn FnMut(Vec<CertificateRecord>) + Send),
) -> Result<Report, ScanError> {
    let previous = Arc::new(Previous::default());
    scan_each_after(base, config, now, progress, previous, on_target).await
}

/// Scans like [`scan`], reusing what an earlier scan learned where it still stands (see
/// [`Previous`]: network checks, the accounts' OU paths and tags): what a long-running `serve`
/// does.
pub async fn scan_after(
    base: &SdkConfig,
    config: &ScanConfig,
    now: DateTime<Utc>,
    progress: &dyn Progress,
    previous: Arc<Previous>,
) -> Result<Report, ScanError> {
    let mut certificates = Vec::new();
    let mut report = scan_each_after(base, config, now, progress, previous, &mut |records| {
        certificates.extend(records)
    })
    .await?;
    report.certificates = certificates;
    report.sort();
    Ok(report)
}

/// [`scan_each`] with what an earlier scan learned to reuse.
pub async fn scan_each_after(
    base: &SdkConfig,
    config: &ScanConfig,
    now: DateTime<Utc>,
    progress: &dyn Progress,
    previous: Arc<Previous>,
    on_target: &mut (dyn FnMut(Vec<CertificateRecord>) + Send),
) -> Result<Report, ScanError> {
    let started = Instant::now();
    let concurrency = config.max_concurrency.max(1);
    let limits = Arc::new(Limits::new(&config.rates, concurrency));
    let counters = Arc::new(Counters::default());
    let aws = Aws::new(base, config.call_timeout, limits.clone(), counters.clone());
    let (own_id, partition) = aws.caller().await.map_err(ScanError::Credentials)?;
    let run = Arc::new(Run {
        aws,
        limits,
        config: config.clone(),
        now,
        partition,
        out: Mutex::new(Output::default()),
        targets: tokio::sync::Semaphore::new(targets_in_flight(concurrency)),
        regions: Mutex::new(HashMap::new()),
        search_served: Mutex::new(HashMap::new()),
        directory: org::Directory::default(),
        previous: previous.clone(),
    });

    let mut checks = checks::CheckStage::start(config, now, previous)?;
    let (events, mut received) = tokio::sync::mpsc::channel(EVENTS_BUFFERED);
    // The channel closes once the driver and every account task it spawned have ended.
    let mut driver = AbortOnDrop(tokio::spawn(run.clone().scan_organization(own_id, events)));
    let mut certificates = 0u64;
    loop {
        // Checked targets leave first; a full checking queue holds the scan's events back.
        let event = tokio::select! {
            biased;
            Some(checked) = checks.next_done(), if checks.busy() => {
                on_target(checked);
                continue;
            }
            event = received.recv(), if !checks.full() => event,
        };
        let Some(event) = event else { break };
        match event {
            Event::AccountsPlanned(accounts) => progress.accounts_planned(accounts),
            Event::TargetsPlanned(targets) => progress.targets_planned(targets),
            Event::TargetDone(records) => {
                certificates += records.len() as u64;
                progress.target_done();
                if let Some(records) = checks.submit(records) {
                    on_target(records);
                }
            }
            Event::AccountDone => progress.account_done(),
        }
    }
    let accounts = propagate_panic((&mut driver.0).await).unwrap_or(0);
    run.limits.forget_idle_keys();
    while let Some(checked) = checks.next_done().await {
        on_target(checked);
    }

    let mut out = std::mem::take(&mut *run.output());
    let check_stats = checks.finish(&mut out.failures);
    out.fallbacks.log(out.search_fallbacks);
    out.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Report {
        generated_at: now,
        stats: Stats {
            accounts,
            targets: out.targets,
            certificates,
            regions_skipped: out.regions_skipped,
            search_fallbacks: out.search_fallbacks,
            describes_saved: out.describes_saved,
            api_calls: counters.api_calls.load(Ordering::Relaxed),
            throttled: counters.throttled.load(Ordering::Relaxed),
            calls_by_action: counters
                .by_action
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
            call_time: run.limits.timing.call_time(),
            checks: check_stats,
            duration_ms: started.elapsed().as_millis() as u64,
        },
        certificates: Vec::new(),
        failures: out.failures,
        accounts: out.accounts,
    })
}

/// Progress and results, from the scan's tasks to the caller's.
enum Event {
    AccountsPlanned(u64),
    TargetsPlanned(u64),
    TargetDone(Vec<CertificateRecord>),
    AccountDone,
}

/// Events waiting for the caller; when it falls behind, the scan's tasks wait for it.
const EVENTS_BUFFERED: usize = 1024;

/// Aborts the task when the scan is dropped half-way (its account tasks go with it: they live in
/// the driver's `JoinSet`).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Follows NextToken through every page of a listing. A region that refuses the first page as
/// not enabled is [`Listing::RegionDisabled`]; any other error ends the listing with what came
/// before it.
async fn all_pages<F, Fut>(mut page: F) -> Listing
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<CertificateFacts>, Option<String>), AwsError>>,
{
    let mut listed = Vec::new();
    let mut token = None;
    loop {
        match page(token.take()).await {
            Ok((page, next)) => {
                listed.extend(page);
                match next {
                    Some(next) => token = Some(next),
                    None => return Listing::Listed(listed, None),
                }
            }
            Err(error) if error.is_region_disabled() && listed.is_empty() => {
                return Listing::RegionDisabled
            }
            Err(error) => return Listing::Listed(listed, Some(error)),
        }
    }
}

/// What listing one target found.
enum Listing {
    /// The region is not enabled in the account: nothing to scan, nothing failed.
    RegionDisabled,
    /// The certificates, and the error that cut the listing short, if one did.
    Listed(Vec<CertificateFacts>, Option<AwsError>),
}

type Sender = tokio::sync::mpsc::Sender<Event>;

/// A panic in an account task is a bug: let it surface, as it would have without tasks.
/// The task's output; `None` if it was cancelled.
fn propagate_panic<T>(done: Result<T, tokio::task::JoinError>) -> Option<T> {
    match done {
        Ok(output) => Some(output),
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => None,
    }
}

/// What the scan's tasks accumulate besides certificates (those go out as events).
#[derive(Default)]
struct Output {
    failures: Vec<Failure>,
    /// Every account scanned, once its metadata (if asked for) is learned.
    accounts: Vec<Account>,
    targets: u64,
    regions_skipped: u64,
    search_fallbacks: u64,
    fallbacks: FallbackTally,
    describes_saved: u64,
}

/// Why SearchCertificates was not used for a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fallback {
    /// `search_certificates = false`: not a fallback, the configured path.
    Off,
    /// AccessDenied: the member role may not search (the whole account lists).
    Refused,
    /// The endpoint does not serve the operation (the whole region lists).
    NotServed,
    /// Any other failure (that target lists).
    Failed,
}

/// The fallbacks of one scan by reason, with the first error seen for each: logged as one line
/// when the scan ends (an emulator without SearchCertificates would otherwise give a line per
/// region, and a refusing organization one per account). Per target detail is at debug level.
#[derive(Default)]
struct FallbackTally {
    refused: (u64, Option<String>),
    not_served: (u64, Option<String>),
    failed: (u64, Option<String>),
}

impl FallbackTally {
    fn add(&mut self, reason: Fallback, error: Option<&AwsError>) {
        let slot = match reason {
            Fallback::Off => return,
            Fallback::Refused => &mut self.refused,
            Fallback::NotServed => &mut self.not_served,
            Fallback::Failed => &mut self.failed,
        };
        slot.0 += 1;
        if slot.1.is_none() {
            slot.1 = error.map(brief);
        }
    }

    /// One `info` line, if any account-region fell back.
    fn log(&self, fallbacks: u64) {
        if fallbacks == 0 {
            return;
        }
        let why: Vec<String> = [
            ("refused", &self.refused),
            ("not served", &self.not_served),
            ("failed", &self.failed),
        ]
        .into_iter()
        .filter(|(_, (count, _))| *count > 0)
        .map(|(what, (count, error))| match error {
            Some(error) => format!("{count} {what} ({error})"),
            None => format!("{count} {what}"),
        })
        .collect();
        tracing::info!(
            fallbacks,
            refused = self.refused.0,
            not_served = self.not_served.0,
            failed = self.failed.0,
            "SearchCertificates fell back to ListCertificates in {fallbacks} account-region(s): {}",
            why.join(", ")
        );
    }
}

/// An error in a few words for a summary line: AWS's code, else the HTTP status, else the
/// start of the message (the whole error is in the target's debug line).
fn brief(error: &AwsError) -> String {
    match (&error.code, error.status) {
        (Some(code), _) => code.clone(),
        (None, Some(status)) => format!("HTTP {status}"),
        (None, None) => {
            let first = error.message.split(": ").next().unwrap_or_default();
            first.chars().take(80).collect()
        }
    }
}

/// One scan in progress, shared by its tasks.
struct Run {
    aws: Aws,
    limits: Arc<Limits>,
    config: ScanConfig,
    now: DateTime<Utc>,
    partition: String,
    out: Mutex<Output>,
    /// Region name → small index, for rate-limiter keys.
    regions: Mutex<HashMap<String, u16>>,
    /// Bounds the account-regions in flight ([`targets_in_flight`]).
    targets: tokio::sync::Semaphore,
    /// Per region (by key index), whether its endpoint serves SearchCertificates, set by the
    /// region's first search (an API reaches regions one by one). Until it is known, the
    /// region's other targets wait for that first search instead of each paying the SDK's
    /// retries of an operation that is not there (moto answers HTTP 500); a region that does
    /// not serve it lists with ListCertificates straight away.
    search_served: Mutex<HashMap<u16, Arc<tokio::sync::OnceCell<bool>>>>,
    /// This scan's lookups of OUs, for the accounts' OU paths.
    directory: org::Directory,
    /// What an earlier scan learned: accounts whose OU path and tags still stand are not
    /// looked up again.
    previous: Arc<Previous>,
}

/// Accounts whose metadata (OU path, tags) is looked up at once. Those lookups wait for the
/// organizations limiter, which ListAccounts' pages wait for too: a few lookups in flight keep
/// the limiter busy (its rate, ~2/s, is below what even one lookup at a time sends) while
/// leaving the next page of accounts a fair turn.
const METADATA_IN_FLIGHT: usize = 2;

/// Account ids are 12 digits; anything else (never seen from AWS) is hashed.
fn account_key(id: &str) -> u64 {
    id.parse().unwrap_or_else(|_| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut h);
        h.finish()
    })
}

impl Run {
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

    /// Lists the organization page by page and starts each page's accounts at once, each in a
    /// task of its own; returns the number of accounts scanned once all of them are done. If the
    /// organization cannot be listed (a failure row), the account certwatch runs in is still
    /// scanned.
    async fn scan_organization(self: Arc<Self>, own_id: String, events: Sender) -> u64 {
        let mut tasks = tokio::task::JoinSet::new();
        // Bounds the accounts in flight.
        let slots = Arc::new(tokio::sync::Semaphore::new(
            self.config.max_concurrency.max(1),
        ));
        // The account certwatch runs in, as known before (or without) its page of ListAccounts.
        let unlisted_own = || OrgAccount {
            id: own_id.clone(),
            name: String::new(),
            state: "ACTIVE".to_owned(),
        };
        // Accounts whose OU path and tags are being looked up (in tasks of their own, beside
        // the accounts' ACM scans and holding no account slot).
        let metadata_slots = Arc::new(tokio::sync::Semaphore::new(METADATA_IN_FLIGHT));
        let mut started = 0u64;
        let mut own_seen = false;
        let mut own_unlisted = false;
        let mut token = None;
        loop {
            let page = self
                .limits
                .list_accounts(self.aws.list_accounts_page(token.take()))
                .await;
            let (page, next) = match page {
                Ok(page) => page,
                Err(error) => {
                    self.fail(&unlisted_own(), None, Stage::ListAccounts, None, &error);
                    (Vec::new(), None)
                }
            };
            let mut accounts: Vec<OrgAccount> = page
                .into_iter()
                .filter(|a| self.config.accounts.keeps(a, &own_id))
                .collect();
            let last = next.is_none();
            own_seen |= accounts.iter().any(|a| a.id == own_id);
            if last && !own_seen && self.config.accounts.keeps_own(&own_id) {
                accounts.push(unlisted_own());
                own_unlisted = true;
            }
            if !accounts.is_empty() {
                let _ = events
                    .send(Event::AccountsPlanned(accounts.len() as u64))
                    .await;
            }
            for account in accounts {
                // The organization did not list the account certwatch runs in: nothing to ask
                // Organizations about it.
                let unlisted = own_unlisted && account.id == own_id;
                let wanted = self.config.account_metadata;
                let known = self.previous.account(
                    &account.id,
                    wanted,
                    self.now,
                    self.config.relearn_accounts_after,
                );
                if let (true, Some(known)) = (wanted.any() && !unlisted, known) {
                    // Learned recently enough: no call; the name is today's.
                    let mut known = known.clone();
                    known.name.clone_from(&account.name);
                    self.output().accounts.push(known);
                } else if wanted.any() && !unlisted {
                    let run = self.clone();
                    let account = account.clone();
                    let metadata_slots = metadata_slots.clone();
                    let span = tracing::info_span!("account_metadata", account = %account.id);
                    tasks.spawn(
                        async move {
                            // Never closed, so acquire cannot fail.
                            let _slot = metadata_slots.acquire().await.ok();
                            run.learn_account(&account).await;
                        }
                        .instrument(span),
                    );
                } else {
                    let known = Account::new(account.id.clone(), account.name.clone());
                    self.output().accounts.push(known);
                }
                // Never closed, so acquire cannot fail; without a permit the account still runs.
                let slot = slots.clone().acquire_owned().await.ok();
                let run = self.clone();
                let events = events.clone();
                let is_own = account.id == own_id;
                // One span per account, at info: about one creation per account and an
                // enter/exit per poll of its task, small beside the account's AWS calls; the
                // warnings of its targets and the SDK's carry the account id with it.
                let span = tracing::info_span!("account", account = %account.id);
                tasks.spawn(
                    async move {
                        run.scan_account(&account, is_own, &events).await;
                        let _ = events.send(Event::AccountDone).await;
                        drop(slot);
                    }
                    .instrument(span),
                );
                started += 1;
                // Reap finished tasks as we go, so a large organization does not pile them up.
                while let Some(done) = tasks.try_join_next() {
                    propagate_panic(done);
                }
            }
            match next {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        while let Some(done) = tasks.join_next().await {
            propagate_panic(done);
        }
        started
    }

    /// The account's OU path and tags, as [`ScanConfig::account_metadata`] asks, into the
    /// report's accounts. A lookup that fails leaves that part unknown (`None`) and is a
    /// failure row (stage `account_metadata`); the account's certificates are scanned anyway.
    async fn learn_account(&self, account: &OrgAccount) {
        let wanted = self.config.account_metadata;
        let ou_path = async {
            if wanted.ou_path {
                let path = self.directory.ou_path(&self.aws, &self.limits, &account.id);
                Some(path.await)
            } else {
                None
            }
        };
        let tags = async {
            if wanted.tags {
                Some(org::tags(&self.aws, &self.limits, &account.id).await)
            } else {
                None
            }
        };
        let (ou_path, tags) = futures::join!(ou_path, tags);
        let mut learned = Account::new(account.id.clone(), account.name.clone());
        learned.ou_path = self.learned(account, ou_path);
        learned.tags = self.learned(account, tags);
        // Dated only when everything asked for was learned: a part that failed is asked again
        // at the next scan.
        let complete = (!wanted.ou_path || learned.ou_path.is_some())
            && (!wanted.tags || learned.tags.is_some());
        learned.learned_at = complete.then_some(self.now);
        self.output().accounts.push(learned);
    }

    fn learned<T>(&self, account: &OrgAccount, lookup: Option<Result<T, AwsError>>) -> Option<T> {
        match lookup? {
            Ok(value) => Some(value),
            Err(error) => {
                self.fail(account, None, Stage::AccountMetadata, None, &error);
                None
            }
        }
    }

    async fn scan_account(&self, account: &OrgAccount, is_own: bool, events: &Sender) {
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
        let _ = events
            .send(Event::TargetsPlanned(regions.len() as u64))
            .await;
        // IAM is global: once the role is refused SearchCertificates in one region, the
        // account's other regions list with ListCertificates straight away.
        let search_denied = AtomicBool::new(false);
        // A span per target at debug level only: 17 per account, disabled (one atomic load)
        // unless CERTWATCH_LOG asks for debug.
        futures::future::join_all(regions.iter().map(|region| {
            self.scan_target(account, &config, region, &search_denied, events)
                .instrument(tracing::debug_span!("target", region = region.as_str()))
        }))
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

    async fn scan_target(
        &self,
        account: &OrgAccount,
        config: &SdkConfig,
        region: &str,
        search_denied: &AtomicBool,
        events: &Sender,
    ) {
        // Never closed, so acquire cannot fail; without a permit the target still runs.
        let _slot = self.targets.acquire().await.ok();
        let acm = self.aws.acm(config, &account.id, region);
        let key = self.key(account, region);
        let listing = match self.search(account, &acm, key, search_denied).await {
            Ok(listing) => listing,
            Err((reason, error)) => {
                if reason != Fallback::Off {
                    let mut out = self.output();
                    out.search_fallbacks += 1;
                    out.fallbacks.add(reason, error.as_ref());
                }
                self.list(&acm, key).await
            }
        };
        let listed = match listing {
            Listing::RegionDisabled => {
                tracing::debug!(account = %account.id, region, "region not enabled; skipped");
                self.output().regions_skipped += 1;
                let _ = events.send(Event::TargetDone(Vec::new())).await;
                return;
            }
            Listing::Listed(listed, error) => {
                if let Some(error) = &error {
                    // What was listed before the failure is still reported: it is correct data.
                    self.fail(account, Some(region), Stage::ListCertificates, None, error);
                }
                listed
            }
        };

        let records: Vec<CertificateRecord> = stream::iter(listed)
            .map(|facts| self.complete(account, &acm, key, facts))
            .buffer_unordered(DESCRIBES_IN_FLIGHT)
            .filter_map(|record| async { record })
            .collect()
            .await;
        self.output().targets += 1;
        let _ = events.send(Event::TargetDone(records)).await;
    }

    /// Every certificate of the target through SearchCertificates, or why to fall back to
    /// ListCertificates (with the error, if this target's search failed): search is an
    /// optimisation, never the only path. A search that fails part-way is dropped whole, so the
    /// fallback's describes cover every certificate.
    async fn search(
        &self,
        account: &OrgAccount,
        acm: &Acm,
        key: throttle::Key,
        search_denied: &AtomicBool,
    ) -> Result<Listing, (Fallback, Option<AwsError>)> {
        if !self.config.search_certificates {
            return Err((Fallback::Off, None));
        }
        if search_denied.load(Ordering::Relaxed) {
            return Err((Fallback::Refused, None));
        }
        let served = self
            .search_served
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.1)
            .or_default()
            .clone();
        let mut first = None;
        let is_served = *served
            .get_or_init(|| async {
                let outcome = self
                    .search_target(account, acm, key, search_denied, false)
                    .await;
                // Any answer but "no such operation" shows the endpoint has it: an access
                // denied, a throttle or AWS's own fault are the target's, not the region's.
                let is_served = !matches!(outcome, Err((Fallback::NotServed, _)));
                first = Some(outcome);
                is_served
            })
            .await;
        match first {
            Some(outcome) => outcome,
            None if is_served => {
                self.search_target(account, acm, key, search_denied, true)
                    .await
            }
            None => Err((Fallback::NotServed, None)),
        }
    }

    /// One target's SearchCertificates, every page, or why to fall back. The region's first
    /// (`retried: false`) sends its first page without the SDK's retries: a fault there lists
    /// this one target with ListCertificates, as any failed search does.
    async fn search_target(
        &self,
        account: &OrgAccount,
        acm: &Acm,
        key: throttle::Key,
        search_denied: &AtomicBool,
        retried: bool,
    ) -> Result<Listing, (Fallback, Option<AwsError>)> {
        let listing = all_pages(|token| {
            let retried = retried || token.is_some();
            patient(move || {
                self.limits
                    .search_certificates(key, acm.search_page(token.clone(), retried))
            })
        })
        .await;
        let error = match listing {
            Listing::Listed(_, Some(error)) => error,
            complete => return Ok(complete),
        };
        // Per target at debug: the scan logs one summary line of its fallbacks when it ends.
        let (account, region) = (&account.id, acm.region());
        let reason = if error.is_access_denied() {
            search_denied.store(true, Ordering::Relaxed);
            tracing::debug!(%account, region, %error,
                "SearchCertificates refused; listing this account with ListCertificates");
            Fallback::Refused
        } else if error.is_unsupported_operation() {
            tracing::debug!(%account, region, %error,
                "SearchCertificates not served; listing the region with ListCertificates");
            Fallback::NotServed
        } else {
            tracing::debug!(%account, region, %error,
                "SearchCertificates failed; listing this target with ListCertificates");
            Fallback::Failed
        };
        Err((reason, Some(error)))
    }

    async fn list(&self, acm: &Acm, key: throttle::Key) -> Listing {
        all_pages(|token| {
            patient(move || {
                self.limits
                    .list_certificates(key, acm.list_page(token.clone()))
            })
        })
        .await
    }

    /// Describes the certificate if the verdict needs it, then classifies it.
    async fn complete(
        &self,
        account: &OrgAccount,
        acm: &Acm,
        key: throttle::Key,
        mut facts: CertificateFacts,
    ) -> Option<CertificateRecord> {
        let dns_checks = self.config.checks.as_ref().is_some_and(|c| c.dns);
        let needed = needs_detail(&facts, self.now, &self.config.policy)
            || (dns_checks && facts.checks_need_detail(self.now));
        let cached = needed
            .then(|| {
                self.previous
                    .detail(&facts, self.now, self.config.detail_max_age)
            })
            .flatten();
        if let Some(cached) = cached {
            facts = cached;
            self.output().describes_saved += 1;
        } else if needed {
            let detail = patient(|| {
                self.limits
                    .describe_certificate(key, acm.describe(facts.clone()))
            })
            .await;
            let now = self.now;
            let result = detail.map(|mut detail| {
                detail.described_at = Some(now);
                facts = detail;
            });
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

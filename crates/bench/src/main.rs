//! certwatch-bench: how close does a scan get to the physical limit, AWS's quotas?
//!
//! The parent process generates an organization ([`certwatch_sim::Scenario::generate`]),
//! serves it with AWS's quotas enforced and a log-normal latency, and runs the real
//! scanner (real SDK clients, loopback HTTP) in a **child process** (this binary again,
//! `child` subcommand) so the scanner's peak RSS (`VmHWM` of the child) is measured apart
//! from the simulator's. Then it prints the wall time, the lower bound and their ratio.
//!
//! Lower bound (every term is a quota, the scenario, or the simulator's median latency L):
//!
//! ```text
//! bound = L                                              (sts:GetCallerIdentity)
//!       + max( pages_org × max(L, 1/q_org),              (organizations:ListAccounts, 20 per page, sequential)
//!              assumes / q_assume,                       (sts:AssumeRole, one bucket: the management account)
//!              max over targets [ (pages_t − 1)/q_page   (acm:SearchCertificates 500 per page, or
//!                                                         acm:ListCertificates 1,000 per page; 1/s per account-region)
//!                               + describes_t/q_describe ] ) (acm:DescribeCertificate, 10/s per account-region)
//!       + 2L                                             (the last list and the last describe)
//! ```
//!
//! with q at the simulator's quotas (AWS's published ones; SearchCertificates' is unpublished and
//! simulated at ListCertificates' 1/s), and describes_t the describes the scanner made: the verdict
//! decides which certificates need one. Each term is a chain of calls that cannot go faster, so
//! no scanner can beat the largest; the scanner starts accounts as their page of ListAccounts
//! arrives, so the terms overlap.

use anyhow::{bail, Context, Result};

/// mimalloc, as the certwatch binary ships (the `mimalloc` feature, on by default; off, the bench
/// measures glibc's malloc).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use aws_config::{BehaviorVersion, Region};
use certwatch_bench::org::OrgArgs;
use certwatch_bench::process::{cpu_seconds, peak_rss_kib};
use certwatch_core::CertificateRecord;
use certwatch_scanner::{Rates, RegionSelection, ScanConfig};
use certwatch_sim::{Behaviour, Latency, Quotas, Scenario};
use clap::{Parser, Subcommand};
use serde::{Deserialize, Serialize};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    about = "Benchmark the scanner against the quota lower bound on a simulated organization"
)]
struct Args {
    #[command(subcommand)]
    child: Option<Child>,
    /// Accounts in the organization, the management account included.
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    #[command(flatten)]
    org: OrgArgs,
    /// Simulated server latency, log-normal: median and 99th percentile (ms).
    #[arg(long, default_value_t = 20.0)]
    latency_median_ms: f64,
    #[arg(long, default_value_t = 200.0)]
    latency_p99_ms: f64,
    /// The scanner's rates as a percent of AWS's quotas.
    #[arg(long, default_value_t = 95.0)]
    rate_percent: f64,
    /// The scanner's `max_concurrency` (calls in flight; a quarter of it is accounts in flight).
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// List with ListCertificates only (describe every certificate), as without the
    /// acm:SearchCertificates permission.
    #[arg(long)]
    no_search: bool,
    /// Keep every record until the scan ends, as `certwatch scan` and `serve` do, instead of
    /// dropping each account-region's records once counted (the scanner's own working set).
    #[arg(long)]
    keep_records: bool,
    /// Worker threads of the simulator's runtime (the scanner child uses the default).
    #[arg(long, default_value_t = 2)]
    sim_threads: usize,
}

#[derive(Subcommand, Debug)]
enum Child {
    /// Internal: run the scan against ENDPOINT and print a JSON summary.
    #[command(hide = true)]
    Child {
        endpoint: String,
        #[arg(long, value_delimiter = ',')]
        regions: Vec<String>,
        #[arg(long)]
        rate_percent: f64,
        #[arg(long)]
        concurrency: usize,
        #[arg(long)]
        no_search: bool,
        #[arg(long)]
        keep_records: bool,
    },
}

/// What the child reports back.
#[derive(Debug, Serialize, Deserialize)]
struct Summary {
    duration_ms: u64,
    accounts: u64,
    targets: u64,
    certificates: u64,
    api_calls: u64,
    throttled: u64,
    calls_by_action: std::collections::BTreeMap<String, u64>,
    failures: Vec<String>,
    regions_skipped: u64,
    /// max over targets of (pages − 1)/1 + describes/10, seconds at AWS's quotas.
    slowest_target_s: f64,
    slowest_target: String,
    peak_rss_kib: u64,
    /// CPU time (user + system) of the scanner process, seconds.
    cpu_s: f64,
    search_fallbacks: u64,
    call_time: certwatch_core::CallTime,
}

/// The scan's progress, printed to stderr every 10 s: where a slow scan spends its time.
#[derive(Default)]
struct Counts {
    accounts_planned: AtomicU64,
    accounts_done: AtomicU64,
    targets_planned: AtomicU64,
    targets_done: AtomicU64,
}

impl Counts {
    fn print(&self, elapsed: Duration) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        eprintln!(
            "  {:>6.0} s  accounts {} listed, {} done; account-regions {} planned, {} done; CPU {:.1} s",
            elapsed.as_secs_f64(),
            get(&self.accounts_planned),
            get(&self.accounts_done),
            get(&self.targets_planned),
            get(&self.targets_done),
            cpu_seconds()
        );
    }
}

impl certwatch_scanner::Progress for Counts {
    fn accounts_planned(&self, accounts: u64) {
        self.accounts_planned.fetch_add(accounts, Ordering::Relaxed);
    }
    fn targets_planned(&self, targets: u64) {
        self.targets_planned.fetch_add(targets, Ordering::Relaxed);
    }
    fn target_done(&self) {
        self.targets_done.fetch_add(1, Ordering::Relaxed);
    }
    fn account_done(&self) {
        self.accounts_done.fetch_add(1, Ordering::Relaxed);
    }
}

fn main() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let args = Args::parse();
    match &args.child {
        Some(Child::Child {
            endpoint,
            regions,
            rate_percent,
            concurrency,
            no_search,
            keep_records,
        }) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let summary = runtime.block_on(child(
                endpoint,
                regions.clone(),
                *rate_percent,
                *concurrency,
                !*no_search,
                *keep_records,
            ))?;
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
        None => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(args.sim_threads.max(1))
                .enable_all()
                .build()?;
            runtime.block_on(parent(&args))
        }
    }
}

async fn parent(args: &Args) -> Result<()> {
    let spec = args.org.spec(args.accounts)?;
    let regions = spec.regions.clone();
    let t = Instant::now();
    let scenario = Scenario::generate(&spec);
    let certificates: usize = scenario.accounts.iter().map(|a| a.certificates.len()).sum();
    let quotas = Quotas {
        enabled: true,
        ..Quotas::default()
    };
    let behaviour = Behaviour {
        quotas: quotas.clone(),
        latency: Latency {
            median_ms: args.latency_median_ms,
            p99_ms: args.latency_p99_ms,
        },
        seed: args.org.seed,
        faults: Vec::new(),
    };
    let server = certwatch_sim::serve_with(scenario, chrono::Utc::now(), behaviour)
        .await
        .context("starting the simulator")?;
    eprintln!(
        "scenario: {} accounts × {} regions, {certificates} certificates ({} large targets of {}), built and served in {:.1} s",
        args.accounts,
        args.org.regions,
        args.org.large_targets,
        args.org.large_certs,
        t.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let sim_cpu_before = cpu_seconds();
    let out = tokio::process::Command::new(std::env::current_exe()?)
        .arg("child")
        .arg(server.endpoint())
        .arg("--regions")
        .arg(regions.join(","))
        .arg("--rate-percent")
        .arg(args.rate_percent.to_string())
        .arg("--concurrency")
        .arg(args.concurrency.to_string())
        .args(args.no_search.then_some("--no-search"))
        .args(args.keep_records.then_some("--keep-records"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        // `output()` would pipe stderr too and hide the child's progress lines.
        .spawn()
        .context("starting the scanner child")?
        .wait_with_output()
        .await
        .context("running the scanner child")?;
    let wall = started.elapsed();
    let sim_cpu = cpu_seconds() - sim_cpu_before;
    if !out.status.success() {
        bail!("the scanner child failed: {}", out.status);
    }
    let summary: Summary =
        serde_json::from_slice(&out.stdout).context("reading the child's summary")?;
    let sim_throttled = server.throttled_count();
    let sim_requests = server.request_count();
    server.shutdown().await;

    let l = args.latency_median_ms / 1000.0;
    let assumes = summary
        .calls_by_action
        .get("sts:AssumeRole")
        .copied()
        .unwrap_or(0) as f64;
    let org_pages = args.accounts.div_ceil(20) as f64;
    let org_term = org_pages * l.max(1.0 / quotas.organizations);
    let assume_term = assumes / quotas.assume_role;
    let bound = l + org_term.max(assume_term).max(summary.slowest_target_s) + 2.0 * l;
    let wall_s = wall.as_secs_f64();

    println!(
        "certwatch-bench: {} accounts × {} regions, seed {}",
        args.accounts, args.org.regions, args.org.seed
    );
    println!(
        "  scenario              {certificates} certificates; latency median {} ms, p99 {} ms; quotas enforced (burst {} s)",
        args.latency_median_ms, args.latency_p99_ms, quotas.burst_seconds
    );
    println!(
        "  scanner               rates at {}% of the quotas, max_concurrency {}",
        args.rate_percent, args.concurrency
    );
    println!(
        "  wall time             {wall_s:.1} s (child process; scan itself {:.1} s)",
        summary.duration_ms as f64 / 1000.0
    );
    println!(
        "  lower bound           {bound:.1} s = L {l:.3} + max(org {org_term:.1}, AssumeRole {assumes}/{} = {assume_term:.1}, slowest target {} = {:.1}) + 2L",
        quotas.assume_role, summary.slowest_target, summary.slowest_target_s
    );
    println!("  ratio                 {:.3}", wall_s / bound);
    println!(
        "  API calls             {} for {} certificates = {:.3} per certificate ({:?})",
        summary.api_calls,
        summary.certificates,
        summary.api_calls as f64 / summary.certificates.max(1) as f64,
        summary.calls_by_action
    );
    println!(
        "  throttling            {} received by the scanner (simulator answered {sim_throttled} of {sim_requests} requests with a throttle)",
        summary.throttled
    );
    let per_call = |ms: u64| ms as f64 / summary.api_calls.max(1) as f64;
    println!(
        "  time per call         {:.1} ms waiting for its quota, {:.1} ms for a permit, {:.1} ms in flight (mean)",
        per_call(summary.call_time.quota_wait_ms),
        per_call(summary.call_time.concurrency_wait_ms),
        per_call(summary.call_time.in_flight_ms)
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!(
        "  CPU                   scanner {:.1} s ({:.0} µs per call), simulator {sim_cpu:.1} s: {:.0}% of {cores} cores over the wall time",
        summary.cpu_s,
        summary.cpu_s * 1e6 / summary.api_calls.max(1) as f64,
        (summary.cpu_s + sim_cpu) * 100.0 / (wall_s * cores)
    );
    println!(
        "  peak RSS              scanner {:.1} MiB; simulator + bench {:.1} MiB",
        summary.peak_rss_kib as f64 / 1024.0,
        peak_rss_kib() as f64 / 1024.0
    );
    println!(
        "  targets               {} scanned, {} skipped, {} failed, {} listed without SearchCertificates",
        summary.targets,
        summary.regions_skipped,
        summary.failures.len(),
        summary.search_fallbacks
    );
    for failure in summary.failures.iter().take(5) {
        println!("    {failure}");
    }
    Ok(())
}

async fn child(
    endpoint: &str,
    regions: Vec<String>,
    rate_percent: f64,
    concurrency: usize,
    search: bool,
    keep_records: bool,
) -> Result<Summary> {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::from_static("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "sim", "sim", None, None, "bench",
        ))
        .endpoint_url(endpoint)
        .http_client(certwatch_scanner::http_client())
        .load()
        .await;
    let share = rate_percent / 100.0;
    let config = ScanConfig {
        regions: RegionSelection::List(regions),
        max_concurrency: concurrency,
        call_timeout: Duration::from_secs(10),
        rates: Rates {
            list_certificates: share,
            describe_certificate: 10.0 * share,
            search_certificates: share,
            assume_role: 600.0 * share,
            organizations: 10.0 * share,
            list_regions: 5.0 * share,
        },
        search_certificates: search,
        ..ScanConfig::default()
    };
    // Certificates are counted per target as they arrive and then dropped, as a service that
    // writes them to its store would: the scanner's peak RSS is its own working set.
    let mut slowest = (String::new(), 0.0f64);
    let mut kept: Vec<CertificateRecord> = Vec::new();
    let mut scanned = |records: Vec<CertificateRecord>| {
        let Some(first) = records.first() else {
            return;
        };
        let certs = records.len();
        let described = records.iter().filter(|r| r.facts.described).count();
        let (per_page, api) = if first.facts.search.is_some() {
            (500, "search")
        } else {
            (1000, "list")
        };
        let pages = certs.div_ceil(per_page).max(1);
        let seconds = (pages - 1) as f64 / 1.0 + described as f64 / 10.0;
        if seconds > slowest.1 {
            slowest = (
                format!(
                    "{}/{} ({certs} certificates, {api}, {described} described)",
                    first.facts.account_id, first.facts.region
                ),
                seconds,
            );
        }
        if keep_records {
            kept.extend(records);
        }
    };
    let progress = std::sync::Arc::new(Counts::default());
    let ticker = tokio::spawn({
        let progress = progress.clone();
        let started = Instant::now();
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                progress.print(started.elapsed());
            }
        }
    });
    let report = certwatch_scanner::scan_each(
        &base,
        &config,
        chrono::Utc::now(),
        progress.as_ref(),
        &mut scanned,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    ticker.abort();
    let (slowest_target, slowest_target_s) = slowest;
    Ok(Summary {
        duration_ms: report.stats.duration_ms,
        accounts: report.stats.accounts,
        targets: report.stats.targets,
        certificates: report.stats.certificates,
        api_calls: report.stats.api_calls,
        throttled: report.stats.throttled,
        calls_by_action: report.stats.calls_by_action.clone(),
        failures: report
            .failures
            .iter()
            .map(|f| format!("{} {:?} {}: {}", f.account_id, f.region, f.stage, f.error))
            .collect(),
        regions_skipped: report.stats.regions_skipped,
        slowest_target_s,
        slowest_target,
        peak_rss_kib: peak_rss_kib(),
        cpu_s: cpu_seconds(),
        search_fallbacks: report.stats.search_fallbacks,
        call_time: report.stats.call_time,
    })
}

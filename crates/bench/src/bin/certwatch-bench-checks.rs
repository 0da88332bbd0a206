//! certwatch-bench-checks: how close do the network checks get to their physical limit, the
//! nameserver's rate?
//!
//! The parent process serves a zone on loopback (one simulated DNS server: an A record and a
//! validation CNAME per name, one CAA set at the zone's parent) and ONE TLS endpoint with a
//! wildcard default certificate, then runs the real prober in a **child process** (this binary
//! again, `child` subcommand), so the prober's peak RSS is measured apart from the servers'.
//! Certificates cover two names each; one in `names / endpoints` is in use, so its names are
//! resolved and their endpoint probed. Every certificate is Amazon-issued and eligible for
//! renewal: each name's validation CNAME and CAA set are checked.
//!
//! Lower bound: every query goes through the one nameserver's limiter, so no prober can send
//! them faster than `lookups / queries_per_second`; the handshakes are not rate-limited and
//! overlap the lookups.

use anyhow::{bail, Context, Result};
use certwatch_bench::process::{cpu_seconds, peak_rss_kib};
use certwatch_core::{
    Answer, CertificateFacts, DomainValidation, RenewalEligibility, ResourceRecord,
    ValidationMethod, ValidationStatus,
};
use certwatch_probe::{ProbeConfig, Prober};
use certwatch_sim::net::dns::{DnsServer, Record};
use certwatch_sim::net::tls::{sim_ca_pem, CertSpec, TlsServer};
use clap::{Parser, Subcommand};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Names per certificate.
const NAMES_PER_CERT: usize = 2;
/// The parent of every name; it holds the one CAA set, so each climb stops there.
const ZONE: &str = "bench.test";
/// The child reads the simulator CA's certificate from here (the CA is made per process).
const CA_ENV: &str = "CERTWATCH_BENCH_CA_PEM";

#[derive(Parser, Debug)]
#[command(about = "Benchmark the network checks against the nameserver's rate on loopback")]
struct Args {
    #[command(subcommand)]
    child: Option<Child>,
    #[command(flatten)]
    shape: Shape,
}

/// What is checked and how fast; the child is given the same.
#[derive(clap::Args, Debug, Clone, Copy)]
struct Shape {
    /// Names in the zone, two per certificate.
    #[arg(long, default_value_t = 50_000)]
    names: usize,
    /// Names of certificates in use: resolved, and their endpoint probed.
    #[arg(long, default_value_t = 5_000)]
    endpoints: usize,
    /// The prober's `queries_per_second` (per nameserver; there is one).
    #[arg(long, default_value_t = 200.0)]
    qps: f64,
    /// The prober's `max_concurrency` (lookups and handshakes in flight).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Certificates being checked at once.
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
    /// The prober's timeout, seconds.
    #[arg(long, default_value_t = 5)]
    timeout_s: u64,
}

#[derive(Subcommand, Debug)]
enum Child {
    /// Internal: check the certificates against DNS and TLS_PORT and print a JSON summary.
    #[command(hide = true)]
    Child {
        dns: SocketAddr,
        tls_port: u16,
        #[command(flatten)]
        shape: Shape,
    },
}

/// What the child reports back.
#[derive(Debug, Serialize, Deserialize)]
struct Summary {
    wall_ms: u64,
    certificates: u64,
    lookups: u64,
    probes: u64,
    failures: u64,
    sample_failures: Vec<String>,
    validation_matching: u64,
    caa_found: u64,
    names_resolved: u64,
    endpoints_valid: u64,
    peak_rss_kib: u64,
    cpu_s: f64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.child {
        Some(Child::Child {
            dns,
            tls_port,
            shape,
        }) => {
            let summary = runtime.block_on(child(dns, tls_port, shape))?;
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
        None => runtime.block_on(parent(args.shape)),
    }
}

fn name(i: usize) -> String {
    format!("n{i}.{ZONE}")
}

fn validation_name(i: usize) -> String {
    format!("_acm.n{i}.{ZONE}.")
}

fn validation_target(i: usize) -> String {
    format!("_t{i}.acm-validations.aws.")
}

fn certificates(shape: &Shape) -> usize {
    shape.names.div_ceil(NAMES_PER_CERT)
}

/// One certificate in this many is in use.
fn stride(shape: &Shape) -> usize {
    let in_use = shape.endpoints.div_ceil(NAMES_PER_CERT).max(1);
    (certificates(shape) / in_use).max(1)
}

fn in_use(shape: &Shape, cert: usize) -> bool {
    shape.endpoints > 0
        && cert.is_multiple_of(stride(shape))
        && cert / stride(shape) < shape.endpoints.div_ceil(NAMES_PER_CERT)
}

fn names_of(shape: &Shape, cert: usize) -> std::ops::Range<usize> {
    let first = cert * NAMES_PER_CERT;
    first..(first + NAMES_PER_CERT).min(shape.names)
}

fn zone(shape: &Shape) -> Vec<Record> {
    let mut records = Vec::with_capacity(2 * shape.names + 1);
    records.push(Record::Caa {
        name: ZONE.to_owned(),
        flags: 0,
        tag: "issue".to_owned(),
        value: "amazon.com".to_owned(),
    });
    for i in 0..shape.names {
        records.push(Record::A {
            name: name(i),
            addr: Ipv4Addr::LOCALHOST,
        });
        records.push(Record::Cname {
            name: validation_name(i),
            target: validation_target(i),
        });
    }
    records
}

async fn parent(shape: Shape) -> Result<()> {
    if shape.names == 0 || shape.endpoints > shape.names {
        bail!("--names must be at least 1 and --endpoints at most --names");
    }
    let t = Instant::now();
    let records = zone(&shape);
    let record_count = records.len();
    let dns = DnsServer::start(records)
        .await
        .context("starting the DNS server")?;
    let now = chrono::Utc::now();
    let wildcard = CertSpec {
        names: vec![format!("*.{ZONE}")],
        serial: vec![0x42, 0x01],
        not_before: now - chrono::Duration::days(30),
        not_after: now + chrono::Duration::days(150),
        self_signed: false,
    };
    let tls = TlsServer::start(IpAddr::V4(Ipv4Addr::LOCALHOST), 0, vec![], Some(wildcard))
        .await
        .context("starting the TLS endpoint")?;
    let certs = certificates(&shape);
    eprintln!(
        "zone: {record_count} records for {} names on {certs} certificates, served at {} in {:.1} s; TLS endpoint at {}",
        shape.names,
        dns.addr(),
        t.elapsed().as_secs_f64(),
        tls.addr()
    );

    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let out = tokio::process::Command::new(std::env::current_exe()?)
        .arg("child")
        .arg(dns.addr().to_string())
        .arg(tls.addr().port().to_string())
        .args(shape_args(&shape))
        .env(CA_ENV, sim_ca_pem())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the prober child")?
        .wait_with_output()
        .await
        .context("running the prober child")?;
    let wall = started.elapsed().as_secs_f64();
    let servers_cpu = cpu_seconds() - cpu_before;
    if !out.status.success() {
        bail!("the prober child failed: {}", out.status);
    }
    let summary: Summary =
        serde_json::from_slice(&out.stdout).context("reading the child's summary")?;
    tls.shutdown().await;
    dns.shutdown().await;

    // Per name a validation CNAME and a CAA query; per name in use A and AAAA; and the
    // zone's own CAA set, once.
    let expected = 2 * shape.names + 2 * shape.endpoints + 1;
    let checks_s = summary.wall_ms as f64 / 1000.0;
    let bound = summary.lookups as f64 / shape.qps;
    println!(
        "certwatch-bench-checks: {} names on {certs} certificates, {} endpoint names, one nameserver at {} queries/s",
        shape.names, shape.endpoints, shape.qps
    );
    println!(
        "  prober                max_concurrency {}, {} certificates in flight, timeout {} s",
        shape.concurrency, shape.in_flight, shape.timeout_s
    );
    println!(
        "  lookups               {} sent ({expected} distinct questions), {} TLS probes, {} failures",
        summary.lookups, summary.probes, summary.failures
    );
    for failure in summary.sample_failures.iter().take(5) {
        println!("    {failure}");
    }
    println!(
        "  wall time             {wall:.1} s (child process; checks themselves {checks_s:.1} s)"
    );
    println!(
        "  lower bound           {bound:.1} s = {} lookups / {} per s (one nameserver)",
        summary.lookups, shape.qps
    );
    println!(
        "  ratio                 {:.3}",
        checks_s / bound.max(f64::MIN_POSITIVE)
    );
    println!(
        "  throughput            {:.0} names/s, {:.0} lookups/s",
        shape.names as f64 / checks_s,
        summary.lookups as f64 / checks_s
    );
    println!(
        "  results               {} certificates checked; validation records matching {}/{}, CAA sets found {}/{}, names resolved {}/{}, endpoints valid {}/{}",
        summary.certificates,
        summary.validation_matching,
        shape.names,
        summary.caa_found,
        shape.names,
        summary.names_resolved,
        shape.endpoints,
        summary.endpoints_valid,
        shape.endpoints
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!(
        "  CPU                   prober {:.1} s, servers {servers_cpu:.1} s: {:.0}% of {cores} cores over the wall time",
        summary.cpu_s,
        (summary.cpu_s + servers_cpu) * 100.0 / (wall * cores)
    );
    println!(
        "  peak RSS              prober {:.1} MiB; servers + bench {:.1} MiB",
        summary.peak_rss_kib as f64 / 1024.0,
        peak_rss_kib() as f64 / 1024.0
    );
    Ok(())
}

fn shape_args(shape: &Shape) -> Vec<String> {
    [
        ("--names", shape.names.to_string()),
        ("--endpoints", shape.endpoints.to_string()),
        ("--qps", shape.qps.to_string()),
        ("--concurrency", shape.concurrency.to_string()),
        ("--in-flight", shape.in_flight.to_string()),
        ("--timeout-s", shape.timeout_s.to_string()),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value])
    .collect()
}

/// Certificate `i`, as ACM would describe it.
fn facts(shape: &Shape, i: usize, now: chrono::DateTime<chrono::Utc>) -> CertificateFacts {
    let mut c = CertificateFacts::new(
        "111122223333",
        "us-east-1",
        &format!("arn:aws:acm:us-east-1:111122223333:certificate/bench-{i:06}"),
    );
    let names: Vec<String> = names_of(shape, i).map(name).collect();
    c.domain_name = names.first().cloned();
    c.subject_alternative_names = names.clone();
    c.not_before = Some(now - chrono::Duration::days(30));
    c.not_after = Some(now + chrono::Duration::days(150));
    c.serial = Some("42:01".to_owned());
    c.renewal_eligibility = Some(RenewalEligibility::Eligible);
    c.described = true;
    if in_use(shape, i) {
        c.in_use = true;
        c.in_use_by = vec![
            "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/bench/1"
                .to_owned(),
        ];
    }
    c.domain_validation_options = names_of(shape, i)
        .map(|n| DomainValidation {
            domain_name: name(n),
            validation_domain: Some(name(n)),
            validation_method: Some(ValidationMethod::Dns),
            validation_status: Some(ValidationStatus::Success),
            resource_record: Some(ResourceRecord {
                name: validation_name(n),
                record_type: "CNAME".to_owned(),
                value: validation_target(n),
            }),
            ..DomainValidation::default()
        })
        .collect();
    c
}

/// What one certificate's checks found, counted.
#[derive(Default)]
struct Counts {
    validation_matching: u64,
    caa_found: u64,
    names_resolved: u64,
    endpoints_valid: u64,
    sample_failures: Vec<String>,
}

async fn child(dns: SocketAddr, tls_port: u16, shape: Shape) -> Result<Summary> {
    let config = ProbeConfig {
        nameservers: vec![dns],
        tls_port,
        timeout: Duration::from_secs(shape.timeout_s),
        max_concurrency: shape.concurrency,
        queries_per_second: shape.qps,
        ..ProbeConfig::default()
    };
    let ca = std::env::var(CA_ENV).unwrap_or_default();
    let prober = Arc::new(Prober::with_trust_anchors(&config, &ca)?);
    let now = chrono::Utc::now();
    let ticker = tokio::spawn({
        let prober = prober.clone();
        let started = Instant::now();
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                let stats = prober.stats();
                eprintln!(
                    "  {:>6.0} s  {} certificates, {} lookups, {} probes, {} failures; RSS peak {:.0} MiB",
                    started.elapsed().as_secs_f64(),
                    stats.certificates,
                    stats.lookups,
                    stats.probes,
                    stats.failures,
                    peak_rss_kib() as f64 / 1024.0
                );
            }
        }
    });
    let started = Instant::now();
    let mut counts = Counts::default();
    // Certificates are made as they are checked and dropped once counted, as the scanner's
    // records leave it: the child's memory is the prober's.
    let mut checked = futures::stream::iter(0..certificates(&shape))
        .map(|i| {
            let prober = prober.clone();
            async move {
                let facts = facts(&shape, i, now);
                prober.check(&facts, now).await
            }
        })
        .buffer_unordered(shape.in_flight.max(1));
    while let Some(result) = checked.next().await {
        for (stage, error) in result.failures {
            if counts.sample_failures.len() < 10 {
                counts.sample_failures.push(format!("{stage}: {error}"));
            }
        }
        let Some(checks) = result.checks else {
            continue;
        };
        counts.validation_matching += checks
            .validation_records
            .iter()
            .filter(|r| r.matches())
            .count() as u64;
        counts.caa_found += checks
            .caa
            .iter()
            .filter(|c| c.answer == Answer::Records)
            .count() as u64;
        counts.names_resolved += checks
            .names
            .iter()
            .filter(|n| n.answer == Answer::Records)
            .count() as u64;
        counts.endpoints_valid += checks
            .names
            .iter()
            .flat_map(|n| &n.endpoints)
            .filter(|e| e.served.as_ref().is_some_and(|s| s.verdict == "valid"))
            .count() as u64;
    }
    let wall_ms = started.elapsed().as_millis() as u64;
    ticker.abort();
    let stats = prober.stats();
    Ok(Summary {
        wall_ms,
        certificates: stats.certificates,
        lookups: stats.lookups,
        probes: stats.probes,
        failures: stats.failures,
        sample_failures: counts.sample_failures,
        validation_matching: counts.validation_matching,
        caa_found: counts.caa_found,
        names_resolved: counts.names_resolved,
        endpoints_valid: counts.endpoints_valid,
        peak_rss_kib: peak_rss_kib(),
        cpu_s: cpu_seconds(),
    })
}

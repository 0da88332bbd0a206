//! certwatch-bench-serve: how fast does `certwatch serve` answer `/certs` while a scan of a large
//! organization is merged into its store?
//!
//! The bench generates an organization ([`certwatch_sim::Scenario::generate`], the scan bench's
//! mix), serves it WITHOUT quotas or latency (the merge is measured, not the scan), and runs the
//! real `certwatch serve` release binary as a child process against it: HTTP transport, the store
//! in a temporary directory, checks off, no digest channel (so no bot token and no Slack at all).
//!
//! serve scans at start and merges that scan into an empty store; there is nothing to answer
//! from before it. The measurement is of the SECOND scan: once the first has finished (the log
//! says `scan finished`), `--clients` clients start posting signed `/certs` commands in a closed
//! loop (each sends its next request when the last is answered), an admin's signed `/certs scan`
//! starts the second scan, and its merge runs from the log line `scan done; merging it into the
//! store` to `scan finished` (the merge committed and the inventory swapped) while the clients
//! keep asking the first scan's inventory. Every request's latency is measured at the client,
//! from the first byte written to the last byte read, on a kept-alive loopback connection.
//! The clients pause from the `/certs scan` to the merge's start (unless `--load-during-scan`):
//! on a 2-core machine 50 of them would slow the scan itself many times over, and the scan is
//! not what is measured. With `--think-ms` each client pauses between requests (an open-ish
//! load spread over the pause) instead of asking again at once.
//!
//! The requests are put in four phases: idle (before the second scan), scanning (the second scan
//! before its merge), merging (every request that overlaps the merge window, so one held up by
//! the inventory swap at its end is in it) and after (the new inventory in force). Before the
//! clients start, each kind of request is sent once alone: its latency is the cost of one answer
//! with nothing else running.
//!
//! ```text
//! cargo build --release
//! cargo run --release -p certwatch-bench --bin certwatch-bench-serve -- --accounts 10000
//! ```

use anyhow::{bail, Context, Result};
use certwatch_bench::org::OrgArgs;
use certwatch_bench::process::{cpu_seconds, cpu_seconds_of_pid, peak_rss_kib_of, rss_kib_of};
use certwatch_sim::{Behaviour, Scenario};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, watch};

/// mimalloc, as the certwatch binary ships (the bench's own process: simulator and clients).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The signing secret serve is given; the clients sign with it.
const SECRET: &str = "certwatch-bench-serve-signing-secret";
/// The admin who starts the second scan.
const ADMIN: &str = "UBENCH0001";
/// The member role of generated scenarios (the simulator's default).
const MEMBER_ROLE: &str = "OrganizationAccountAccessRole";
const MERGING: &str = "scan done; merging it into the store";
const FINISHED: &str = "scan finished";

#[derive(Parser, Debug)]
#[command(
    about = "Benchmark /certs latency of certwatch serve while a large scan is merged into its store"
)]
struct Args {
    /// Accounts in the organization, the management account included.
    #[arg(long, default_value_t = 10_000)]
    accounts: usize,
    #[command(flatten)]
    org: OrgArgs,
    /// Concurrent clients, each in a closed loop over its own kept-alive connection.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Pause of a client between an answer and its next request, ms (0: closed loop).
    #[arg(long, default_value_t = 0)]
    think_ms: u64,
    /// Seconds the clients run before the second scan is started (the idle baseline).
    #[arg(long, default_value_t = 10)]
    idle_seconds: u64,
    /// Seconds the clients keep running after the merge (the new inventory in force).
    #[arg(long, default_value_t = 10)]
    after_seconds: u64,
    /// Keep the clients asking during the second scan too (by default they pause from the
    /// `/certs scan` to the merge's start: on 2 cores they would slow the scan many times over).
    #[arg(long)]
    load_during_scan: bool,
    /// serve's `scan.max_concurrency`.
    #[arg(long, default_value_t = 256)]
    scan_concurrency: usize,
    /// The certwatch binary; default: `certwatch` next to this bench's binary (target/release/
    /// when run with `cargo run --release`).
    #[arg(long)]
    certwatch: Option<PathBuf>,
    /// Minutes to wait for each scan and its merge before giving up.
    #[arg(long, default_value_t = 60)]
    timeout_minutes: u64,
    /// Keep the temporary directory (config, store, serve's log) instead of removing it.
    #[arg(long)]
    keep_dir: bool,
    /// Worker threads of the bench's runtime (simulator and clients).
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(run(&args))
}

/// What the clients ask, with a label for the per-kind figures.
#[derive(Debug, Clone)]
struct Ask {
    kind: &'static str,
    text: String,
}

/// One request as a client saw it: when it started and ended (µs since the bench's epoch),
/// its status (0: the connection failed) and which [`Ask`] it was.
#[derive(Debug, Clone, Copy)]
struct Sample {
    start_us: u64,
    end_us: u64,
    status: u16,
    ask: u8,
    body_bytes: u32,
}

impl Sample {
    fn latency_ms(&self) -> f64 {
        (self.end_us - self.start_us) as f64 / 1000.0
    }
}

/// What serve's log said, and when the bench read it.
#[derive(Debug)]
enum Event {
    Merging { at: Instant, certificates: u64 },
    Finished { at: Instant, line: String },
    Failed(String),
    Exited,
}

async fn run(args: &Args) -> Result<()> {
    let certwatch = match &args.certwatch {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the bench's directory")?
            .join("certwatch"),
    };
    if !certwatch.is_file() {
        bail!(
            "{} not found: build the binary first with `cargo build --release` (or pass --certwatch PATH)",
            certwatch.display()
        );
    }
    if args.accounts < 2 || args.clients == 0 {
        bail!("--accounts must be at least 2 and --clients at least 1");
    }

    // The organization, served without quotas or latency.
    let t = Instant::now();
    let spec = args.org.spec(args.accounts)?;
    let regions = spec.regions.clone();
    let scenario = Scenario::generate(&spec);
    let certificates: usize = scenario.accounts.iter().map(|a| a.certificates.len()).sum();
    let asks = asks(&scenario);
    let server = certwatch_sim::serve_with(scenario, chrono::Utc::now(), Behaviour::default())
        .await
        .context("starting the simulator")?;
    eprintln!(
        "scenario: {} accounts × {} regions, {certificates} certificates, built and served in {:.1} s (no quotas, no latency)",
        args.accounts,
        args.org.regions,
        t.elapsed().as_secs_f64()
    );

    // serve's files, its config and the process.
    let dir = std::env::temp_dir().join(format!(
        "certwatch-bench-serve-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let addr = format!("127.0.0.1:{}", free_port()?);
    let config = dir.join("certwatch.toml");
    std::fs::write(
        &config,
        config_text(&addr, &dir, &regions, args.scan_concurrency),
    )
    .context("writing serve's config")?;
    let log_path = dir.join("serve.log");
    let endpoint = server.endpoint();
    let result = measure(
        args,
        &certwatch,
        &config,
        &log_path,
        (&addr, &endpoint),
        &asks,
        certificates,
    )
    .await;
    server.shutdown().await;
    if args.keep_dir {
        eprintln!("kept {}", dir.display());
    } else if let Err(e) = std::fs::remove_dir_all(&dir) {
        eprintln!("could not remove {}: {e}", dir.display());
    }
    result
}

/// A mix of what people ask: the summary, what expires soon, a finding code, one account, one
/// domain (real accounts and domains of the scenario, spread over it).
fn asks(scenario: &Scenario) -> Vec<Ask> {
    let members: Vec<_> = scenario
        .accounts
        .iter()
        .filter(|a| !a.certificates.is_empty() && a.id != certwatch_sim::GENERATED_MANAGEMENT)
        .collect();
    let mut asks = vec![
        Ask {
            kind: "summary",
            text: String::new(),
        },
        Ask {
            kind: "expiring 30",
            text: "expiring 30".to_owned(),
        },
        Ask {
            kind: "code IMPORTED",
            text: "code IMPORTED".to_owned(),
        },
    ];
    for k in 0..4 {
        let Some(account) = members.get(k * members.len() / 4 + members.len() / 8) else {
            continue;
        };
        asks.push(Ask {
            kind: "account",
            text: format!("account {}", account.id),
        });
        asks.push(Ask {
            kind: "domain",
            text: format!("domain {}", account.certificates[0].domain),
        });
    }
    asks
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn config_text(addr: &str, dir: &Path, regions: &[String], concurrency: usize) -> String {
    let regions: Vec<String> = regions.iter().map(|r| format!("{r:?}")).collect();
    // Rates far above what the simulator (without quotas) needs: the scan is paced by CPU.
    format!(
        r#"[organization]
member_role_name = "{MEMBER_ROLE}"

[scan]
regions = [{regions}]
max_concurrency = {concurrency}

[scan.rates]
list_certificates = 10000.0
describe_certificate = 10000.0
search_certificates = 10000.0
assume_role = 10000.0
organizations = 10000.0
list_regions = 10000.0

[checks]
dns = false
tls = false

[serve]
listen = "{addr}"
store_path = {store:?}
scan_interval_minutes = 10080

[slack]
transport = "http"
signing_secret_env = "SLACK_SIGNING_SECRET"
admin_user_ids = ["{ADMIN}"]
"#,
        regions = regions.join(", "),
        store = dir.join("store.sqlite").display().to_string(),
    )
}

/// Runs serve, waits for its first scan, then measures the clients around the second one.
async fn measure(
    args: &Args,
    certwatch: &Path,
    config: &Path,
    log_path: &Path,
    (addr, endpoint): (&str, &str),
    asks: &[Ask],
    certificates: usize,
) -> Result<()> {
    let mut child = tokio::process::Command::new(certwatch)
        .args(["serve", "--config"])
        .arg(config)
        .env_remove("CERTWATCH_CONFIG_TOML")
        .env_remove("CERTWATCH_CONFIG")
        .env_remove("AWS_PROFILE")
        .env_remove("SLACK_BOT_TOKEN")
        .env_remove("SLACK_APP_TOKEN")
        .env_remove("CERTWATCH_LOG_FORMAT")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "sim")
        .env("AWS_SECRET_ACCESS_KEY", "sim")
        .env("AWS_REGION", "us-east-1")
        .env("CERTWATCH_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", certwatch.display()))?;
    let pid = child.id().context("serve's pid")?;
    let stderr = child.stderr.take().context("serve's stderr")?;
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let log_task = tokio::spawn(read_log(stderr, log_path.to_owned(), events_tx));
    let result: Result<()> = async {
        let started = Instant::now();
        let timeout = Duration::from_secs(args.timeout_minutes * 60);
        eprintln!(
            "serve (pid {pid}) started; waiting for its first scan and merge into an empty store"
        );
        let (m0, n0) = wait_merging(&mut events, timeout, log_path).await?;
        eprintln!(
            "  first scan done in {:.1} s ({n0} certificates); merging",
            (m0 - started).as_secs_f64()
        );
        let (f0, _) = wait_finished(&mut events, timeout, log_path).await?;
        eprintln!(
            "  first merge took {:.1} s; serve RSS {:.0} MiB",
            (f0 - m0).as_secs_f64(),
            rss_kib_of(pid) as f64 / 1024.0
        );
        wait_ready(addr).await?;
        // What each kind of request is answered (once, before the clients start).
        let mut seen: Vec<&str> = Vec::new();
        for ask in asks {
            if seen.contains(&ask.kind) {
                continue;
            }
            seen.push(ask.kind);
            let t = Instant::now();
            let (status, body) = post_command(addr, "UBENCH0999", &ask.text).await?;
            if status != 200 {
                bail!("`/certs {}` was answered {status}: {body}", ask.text);
            }
            let text = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["text"].as_str().map(str::to_owned))
                .unwrap_or(body);
            let text: String = text.chars().take(110).collect();
            eprintln!(
                "  /certs {:<48} {:>6.1} ms alone: {}",
                ask.text,
                t.elapsed().as_secs_f64() * 1000.0,
                text.replace('\n', " ")
            );
        }

        // The clients, from now to the end.
        let epoch = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let (asking, asking_rx) = watch::channel(true);
        let asks = Arc::new(asks.to_vec());
        let clients: Vec<_> = (0..args.clients)
            .map(|i| {
                tokio::spawn(client(
                    i,
                    addr.to_owned(),
                    asks.clone(),
                    stop.clone(),
                    asking_rx.clone(),
                    epoch,
                    (
                        Duration::from_millis(args.think_ms),
                        Duration::from_millis(args.think_ms * i as u64 / args.clients as u64),
                    ),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;

        // The second scan, as an admin asks for it; the clients pause during the scan itself
        // (unless --load-during-scan), so that it is not slowed down by them, and ask again
        // from the moment the merge starts.
        if !args.load_during_scan {
            asking.send_replace(false);
        }
        let trigger = Instant::now();
        let (status, body) = post_command(addr, ADMIN, "scan").await?;
        if status != 200 || !body.contains("Scan started") {
            bail!("`/certs scan` was not accepted: {status} {body}");
        }
        let cpu_trigger = cpu_seconds_of_pid(pid);
        let (m1, n1) = wait_merging(&mut events, timeout, log_path).await?;
        asking.send_replace(true);
        let cpu_m1 = cpu_seconds_of_pid(pid);
        let rss_m1 = rss_kib_of(pid);
        eprintln!(
            "  second scan done in {:.1} s ({n1} certificates); merging while {} clients ask",
            (m1 - trigger).as_secs_f64(),
            args.clients
        );
        let (f1, finished_line) = wait_finished(&mut events, timeout, log_path).await?;
        let cpu_f1 = cpu_seconds_of_pid(pid);
        eprintln!("  second merge took {:.1} s", (f1 - m1).as_secs_f64());
        tokio::time::sleep(Duration::from_secs(args.after_seconds)).await;
        stop.store(true, Ordering::Relaxed);
        asking.send_replace(true);
        let mut samples = Vec::new();
        let mut reconnects = 0;
        for c in clients {
            let (s, r) = c.await?;
            samples.extend(s);
            reconnects += r;
        }
        let end = Instant::now();
        let peak_rss = peak_rss_kib_of(pid);
        let serve_cpu = cpu_seconds_of_pid(pid);
        let us = |t: Instant| (t.saturating_duration_since(epoch)).as_micros() as u64;
        let report = Report {
            args,
            certificates,
            first_scan_certificates: n0,
            merged_certificates: n1,
            first_merge_s: (f0 - m0).as_secs_f64(),
            scan_s: (m1 - trigger).as_secs_f64(),
            merge_s: (f1 - m1).as_secs_f64(),
            windows: Windows {
                trigger: us(trigger),
                merge_start: us(m1),
                merge_end: us(f1),
                end: us(end),
            },
            samples,
            reconnects,
            asks: &asks,
            finished_line,
            serve_cpu_scan: cpu_m1 - cpu_trigger,
            serve_cpu_merge: cpu_f1 - cpu_m1,
            serve_cpu_total: serve_cpu,
            serve_rss_at_merge_kib: rss_m1,
            serve_peak_rss_kib: peak_rss,
        };
        report.print();
        Ok(())
    }
    .await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    log_task.abort();
    result
}

/// serve's stderr, line by line: into the log file, and the lines the bench waits for.
async fn read_log(
    stderr: tokio::process::ChildStderr,
    path: PathBuf,
    events: mpsc::UnboundedSender<Event>,
) {
    let mut file = match tokio::fs::File::create(&path).await {
        Ok(file) => Some(file),
        Err(e) => {
            eprintln!("cannot write serve's log to {}: {e}", path.display());
            None
        }
    };
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let at = Instant::now();
        if let Some(file) = file.as_mut() {
            let _ = file.write_all(line.as_bytes()).await;
            let _ = file.write_all(b"\n").await;
        }
        let event = if line.contains(MERGING) {
            Some(Event::Merging {
                at,
                certificates: field(&line, "certificates").unwrap_or(0),
            })
        } else if line.contains(FINISHED) {
            Some(Event::Finished {
                at,
                line: line.clone(),
            })
        } else if line.contains("scan failed") || line.contains("storing the scan failed") {
            Some(Event::Failed(line.clone()))
        } else {
            None
        };
        if let Some(event) = event {
            let _ = events.send(event);
        }
    }
    if let Some(file) = file.as_mut() {
        let _ = file.flush().await;
    }
    let _ = events.send(Event::Exited);
}

/// `key=N` in a text log line.
fn field(line: &str, key: &str) -> Option<u64> {
    let pattern = format!("{key}=");
    let at = line.find(&pattern)? + pattern.len();
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

async fn next_event(
    events: &mut mpsc::UnboundedReceiver<Event>,
    timeout: Duration,
    log: &Path,
) -> Result<Event> {
    match tokio::time::timeout(timeout, events.recv()).await {
        Err(_) => bail!(
            "serve's scan did not finish within {timeout:?}; its log: {}",
            log.display()
        ),
        Ok(None) | Ok(Some(Event::Exited)) => bail!(
            "serve exited (or closed its log) before the scan finished; its log: {} (use --keep-dir)\n{}",
            log.display(),
            tail(log)
        ),
        Ok(Some(Event::Failed(line))) => bail!("serve's scan failed: {line}"),
        Ok(Some(event)) => Ok(event),
    }
}

async fn wait_merging(
    events: &mut mpsc::UnboundedReceiver<Event>,
    timeout: Duration,
    log: &Path,
) -> Result<(Instant, u64)> {
    match next_event(events, timeout, log).await? {
        Event::Merging { at, certificates } => Ok((at, certificates)),
        other => bail!("serve's log: expected {MERGING:?}, got {other:?}"),
    }
}

async fn wait_finished(
    events: &mut mpsc::UnboundedReceiver<Event>,
    timeout: Duration,
    log: &Path,
) -> Result<(Instant, String)> {
    match next_event(events, timeout, log).await? {
        Event::Finished { at, line } => Ok((at, line)),
        other => bail!("serve's log: expected {FINISHED:?}, got {other:?}"),
    }
}

/// The last lines of serve's log, for an error.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

async fn wait_ready(addr: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut conn = Conn::default();
        if let Ok((200, _)) = conn.send(addr, "GET", "/readyz", &[], "").await {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("serve's /readyz did not answer 200 after its first scan");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Percent-encodes a form value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A slash command's form body, as Slack sends it.
fn form(user: &str, text: &str, n: u64) -> String {
    format!(
        "token=unused&team_id=T0BENCH&team_domain=bench&channel_id=C0BENCH&channel_name=ops\
         &user_id={user}&user_name=bench&command=%2Fcerts&text={}&response_url=&trigger_id={n}.bench",
        encode(text)
    )
}

/// The headers of a signed slash command (signed now).
fn signed_headers(body: &str) -> Vec<(&'static str, String)> {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = certwatch_slack::sign(SECRET.as_bytes(), &timestamp, body.as_bytes());
    vec![
        (
            "Content-Type",
            "application/x-www-form-urlencoded".to_owned(),
        ),
        ("X-Slack-Request-Timestamp", timestamp),
        ("X-Slack-Signature", signature),
    ]
}

async fn post_command(addr: &str, user: &str, text: &str) -> Result<(u16, String)> {
    let body = form(user, text, 0);
    let mut conn = Conn::default();
    let (status, body) = conn
        .send(
            addr,
            "POST",
            "/slack/commands",
            &signed_headers(&body),
            &body,
        )
        .await
        .context("posting a command to serve")?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// One client: signed commands in a loop over a kept-alive connection until `stop`.
async fn client(
    index: usize,
    addr: String,
    asks: Arc<Vec<Ask>>,
    stop: Arc<AtomicBool>,
    mut asking: watch::Receiver<bool>,
    epoch: Instant,
    (think, offset): (Duration, Duration),
) -> (Vec<Sample>, u64) {
    let mut samples = Vec::with_capacity(4096);
    let mut conn = Conn::default();
    let mut reconnects = 0;
    let mut n = index as u64;
    // With a pause between requests, the clients start (and resume) spread over one pause,
    // so the load is steady; in a closed loop they all start at once.
    let mut fresh = true;
    while !stop.load(Ordering::Relaxed) {
        if !*asking.borrow() {
            let _ = asking.wait_for(|a| *a).await;
            fresh = true;
            continue;
        }
        if std::mem::take(&mut fresh) && !offset.is_zero() {
            tokio::time::sleep(offset).await;
            continue;
        }
        // Each client walks the mix from its own offset, so every kind is always being asked.
        let ask = (n as usize) % asks.len();
        let user = format!("UBENCH{:04}", 1000 + index);
        let body = form(&user, &asks[ask].text, n);
        let headers = signed_headers(&body);
        let had_connection = conn.stream.is_some();
        let start = Instant::now();
        let result = conn
            .send(&addr, "POST", "/slack/commands", &headers, &body)
            .await;
        let end = Instant::now();
        let (status, bytes) = match result {
            Ok((status, body)) => (status, body.len() as u32),
            Err(_) => {
                conn.stream = None;
                (0, 0)
            }
        };
        if !had_connection && n != index as u64 {
            reconnects += 1;
        }
        samples.push(Sample {
            start_us: start.duration_since(epoch).as_micros() as u64,
            end_us: end.duration_since(epoch).as_micros() as u64,
            status,
            ask: ask as u8,
            body_bytes: bytes,
        });
        n += asks.len() as u64 + 1;
        if status == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        } else if !think.is_zero() {
            tokio::time::sleep(think).await;
        }
    }
    (samples, reconnects)
}

/// A minimal HTTP/1.1 client connection, kept alive between requests.
#[derive(Default)]
struct Conn {
    stream: Option<BufReader<tokio::net::TcpStream>>,
}

impl Conn {
    async fn send(
        &mut self,
        addr: &str,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        if self.stream.is_none() {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(BufReader::new(stream));
        }
        let stream = self.stream.as_mut().expect("connected");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        head.push_str(body);
        stream.get_mut().write_all(head.as_bytes()).await?;
        let mut line = String::new();
        stream.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP status line: {line:?}")))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            match name.as_str() {
                "content-length" => length = value.parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                stream.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.trim(), 16)
                    .map_err(|_| std::io::Error::other("bad chunk size"))?;
                let mut chunk = vec![0; size + 2];
                stream.read_exact(&mut chunk).await?;
                if size == 0 {
                    break;
                }
                out.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(length) = length {
            out.resize(length, 0);
            stream.read_exact(&mut out).await?;
        } else {
            stream.read_to_end(&mut out).await?;
            close = true;
        }
        if close {
            self.stream = None;
        }
        Ok((status, out))
    }
}

/// The moments that cut the run into phases, µs since the clients started.
struct Windows {
    trigger: u64,
    merge_start: u64,
    merge_end: u64,
    end: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Scanning,
    Merging,
    After,
}

impl Windows {
    fn phase(&self, s: &Sample) -> Phase {
        if s.start_us < self.merge_end && s.end_us > self.merge_start {
            Phase::Merging
        } else if s.start_us < self.trigger {
            Phase::Idle
        } else if s.start_us < self.merge_start {
            Phase::Scanning
        } else {
            Phase::After
        }
    }

    /// The phase's length, s (for the request rate).
    fn seconds(&self, phase: Phase) -> f64 {
        let (a, b) = match phase {
            Phase::Idle => (0, self.trigger),
            Phase::Scanning => (self.trigger, self.merge_start),
            Phase::Merging => (self.merge_start, self.merge_end),
            Phase::After => (self.merge_end, self.end),
        };
        b.saturating_sub(a) as f64 / 1e6
    }
}

struct Report<'a> {
    args: &'a Args,
    certificates: usize,
    first_scan_certificates: u64,
    merged_certificates: u64,
    first_merge_s: f64,
    scan_s: f64,
    merge_s: f64,
    windows: Windows,
    samples: Vec<Sample>,
    reconnects: u64,
    asks: &'a [Ask],
    finished_line: String,
    serve_cpu_scan: f64,
    serve_cpu_merge: f64,
    serve_cpu_total: f64,
    serve_rss_at_merge_kib: u64,
    serve_peak_rss_kib: u64,
}

/// Nearest-rank percentiles of sorted latencies.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn latencies(samples: &[&Sample]) -> Vec<f64> {
    let mut l: Vec<f64> = samples.iter().map(|s| s.latency_ms()).collect();
    l.sort_by(f64::total_cmp);
    l
}

fn line_of(samples: &[&Sample], seconds: f64) -> String {
    if samples.is_empty() {
        return format!("{:>7} requests", 0);
    }
    let l = latencies(samples);
    let errors = samples.iter().filter(|s| s.status != 200).count();
    format!(
        "{:>7} requests ({:>5.0}/s), p50 {:>7.1} ms, p90 {:>7.1}, p99 {:>7.1}, max {:>7.1}; {errors} not 200",
        samples.len(),
        samples.len() as f64 / seconds.max(1e-9),
        percentile(&l, 50.0),
        percentile(&l, 90.0),
        percentile(&l, 99.0),
        l.last().copied().unwrap_or(f64::NAN),
    )
}

impl Report<'_> {
    fn print(&self) {
        let a = self.args;
        let w = &self.windows;
        println!(
            "certwatch-bench-serve: {} accounts × {} regions, seed {}, {} clients{}",
            a.accounts,
            a.org.regions,
            a.org.seed,
            a.clients,
            if a.think_ms > 0 {
                format!(" (each pausing {} ms between requests)", a.think_ms)
            } else {
                " (closed loop)".to_owned()
            }
        );
        println!(
            "  scenario              {} certificates; first scan {} into an empty store in {:.1} s (nothing to answer from yet)",
            self.certificates, self.first_scan_certificates, self.first_merge_s
        );
        println!(
            "  second scan           {:.1} s (serve CPU {:.1} s), then {} certificates merged",
            self.scan_s, self.serve_cpu_scan, self.merged_certificates
        );
        println!(
            "  merge time            {:.2} s (log: {MERGING:?} → {FINISHED:?}), serve CPU {:.1} s in it",
            self.merge_s, self.serve_cpu_merge
        );
        println!(
            "  serve                 RSS {:.0} MiB at the merge's start, peak {:.0} MiB; CPU {:.1} s in all; bench (simulator + clients) CPU {:.1} s",
            self.serve_rss_at_merge_kib as f64 / 1024.0,
            self.serve_peak_rss_kib as f64 / 1024.0,
            self.serve_cpu_total,
            cpu_seconds()
        );
        println!("  latency of /certs (client side, signed, kept-alive loopback connections):");
        for (name, phase) in [
            ("idle", Phase::Idle),
            ("scanning", Phase::Scanning),
            ("MERGING", Phase::Merging),
            ("after", Phase::After),
        ] {
            let samples: Vec<&Sample> = self
                .samples
                .iter()
                .filter(|s| w.phase(s) == phase)
                .collect();
            println!(
                "    {name:<9}  {:>6.1} s {}",
                w.seconds(phase),
                line_of(&samples, w.seconds(phase))
            );
        }
        let merging: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| w.phase(s) == Phase::Merging)
            .collect();
        let outside: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| w.phase(s) != Phase::Merging)
            .collect();
        println!(
            "    {:<9}  {:>6} {}",
            "outside",
            "",
            line_of(
                &outside,
                w.seconds(Phase::Idle) + w.seconds(Phase::Scanning) + w.seconds(Phase::After)
            )
        );
        println!("  during the merge, by command:");
        let mut kinds: Vec<&str> = Vec::new();
        for ask in self.asks {
            if !kinds.contains(&ask.kind) {
                kinds.push(ask.kind);
            }
        }
        for kind in kinds {
            let of_kind: Vec<&Sample> = merging
                .iter()
                .copied()
                .filter(|s| self.asks[s.ask as usize].kind == kind)
                .collect();
            let bytes = of_kind.iter().map(|s| u64::from(s.body_bytes)).sum::<u64>()
                / of_kind.len().max(1) as u64;
            println!(
                "    {kind:<14} {} ({bytes} B a reply)",
                line_of(&of_kind, self.merge_s)
            );
        }
        // Where in the merge the slow requests were: twenty slices of the window, and the
        // slowest requests with their distance to the merge's start and end.
        if w.merge_end > w.merge_start {
            println!("  during the merge, by twentieth of the window (by request start):");
            let span = (w.merge_end - w.merge_start) as f64;
            for slice in 0..20 {
                let lo = w.merge_start + (span * slice as f64 / 20.0) as u64;
                let hi = w.merge_start + (span * (slice + 1) as f64 / 20.0) as u64;
                let in_slice: Vec<&Sample> = merging
                    .iter()
                    .copied()
                    .filter(|s| {
                        (slice == 0 && s.start_us < lo) || (s.start_us >= lo && s.start_us < hi)
                    })
                    .collect();
                let l = latencies(&in_slice);
                println!(
                    "    {:>5.1}–{:>5.1} s  {:>6} requests, p50 {:>7.1} ms, p99 {:>7.1}, max {:>7.1}",
                    (lo - w.merge_start) as f64 / 1e6,
                    (hi - w.merge_start) as f64 / 1e6,
                    in_slice.len(),
                    percentile(&l, 50.0),
                    percentile(&l, 99.0),
                    l.last().copied().unwrap_or(f64::NAN)
                );
            }
        }
        let mut slowest: Vec<&Sample> = self.samples.iter().collect();
        slowest.sort_by(|x, y| y.latency_ms().total_cmp(&x.latency_ms()));
        println!(
            "  the slowest requests of the run (times relative to the merge's start and end):"
        );
        for s in slowest.iter().take(8) {
            let rel = |t: u64, base: u64| (t as f64 - base as f64) / 1e6;
            println!(
                "    {:>8.1} ms  {:<14} status {}  started {:+.3} s from the merge's start, ended {:+.3} s from its end",
                s.latency_ms(),
                self.asks[s.ask as usize].kind,
                s.status,
                rel(s.start_us, w.merge_start),
                rel(s.end_us, w.merge_end)
            );
        }
        let errors = self.samples.iter().filter(|s| s.status != 200).count();
        println!(
            "  errors                {errors} of {} requests not answered 200; {} reconnections",
            self.samples.len(),
            self.reconnects
        );
        println!("  serve's log           {}", self.finished_line.trim());
    }
}

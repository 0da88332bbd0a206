//! `certwatch`: finds the ACM certificates of an AWS Organization that will not renew by
//! themselves, and says why, by when, and what to do.
//!
//! This binary is the only place that reads argv, the environment, files and the clock.

mod changes;
mod config;
mod demo;
mod render;
mod routes;
mod serve;

use anyhow::{Context, Result};

/// mimalloc instead of glibc's malloc: the scanner allocates and frees many small buffers per AWS
/// call from many threads; at 10,000 accounts × 17 regions this cut its CPU per call by about a
/// third (README, "Performance").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use certwatch_core::{Report, Urgency};
use certwatch_scanner::{Progress, ScanConfig};
use clap::{Parser, Subcommand};
use config::FileConfig;
use indicatif::{ProgressBar, ProgressStyle};
use render::Format;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "certwatch", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan every active account and region of the organization and print each certificate's
    /// renewal verdict.
    Scan {
        /// Configuration file (TOML). Without it, defaults apply (see config/example.toml).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Merge the scan into this store (the SQLite file `serve` keeps), as `serve` does:
        /// failed targets keep their last data, the findings' history is updated.
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
        /// With --store: print what changed since the store's last scan instead of the report
        /// (--fail-on then fails on a new finding or a rise at or above that urgency).
        #[arg(long, requires = "store")]
        changes: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run a scan against a simulated organization served on 127.0.0.1 (no AWS account needed).
    Demo {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Check a configuration file and print the effective settings.
    CheckConfig {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Run the Slack bot: scheduled scans, the stored inventory, `/certs`, the daily digest.
    Serve {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Watch the simulated organization of `certwatch demo` instead of AWS (no AWS account
        /// needed): the same scans, store, digest and commands, to try the Slack app. The
        /// config's `[serve]` and `[slack]` apply; its AWS scan settings do not.
        #[arg(long)]
        demo: bool,
    },
    /// Render the daily digest from a fresh scan (or the demo organization) without posting it.
    Digest {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Print the digest instead of posting it. (Posting happens in `certwatch serve`.)
        #[arg(long, required = true)]
        dry_run: bool,
        /// Use the simulated demo organization instead of AWS.
        #[arg(long)]
        demo: bool,
        /// Read the inventory from the store (serve.store_path) instead of scanning.
        #[arg(long, conflicts_with = "demo")]
        from_store: bool,
        /// `json`: the Block Kit messages as posted; `text`: readable text.
        #[arg(long, value_enum, default_value = "text")]
        format: DigestFormat,
    },
    /// Write a report of the stored inventory (what `serve` last merged) without scanning: by
    /// default the HTML page of `scan --format html`, with the certificates carried over from
    /// an earlier scan marked stale.
    Report {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Read the inventory from the store (serve.store_path). (The only source for now.)
        #[arg(long, required = true)]
        from_store: bool,
        #[arg(long, value_enum, default_value = "html")]
        format: Format,
    },
    /// Print which Slack channel each account's certificates go to (`[[slack.routes]]`,
    /// `slack.route_by_tag`, else `slack.digest.channel`) and which rule sent them there, from a
    /// fresh scan (which learns the OU paths and tags the routes need) or the store.
    Routes {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Read the accounts from the store (serve.store_path) instead of scanning.
        #[arg(long, conflicts_with = "demo")]
        from_store: bool,
        /// Use the simulated demo organization instead of AWS.
        #[arg(long)]
        demo: bool,
        /// Default: table on a terminal, json otherwise (html is not offered).
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Exit 0 if the URL answers 200 (a container health check that needs no curl).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
        url: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DigestFormat {
    Json,
    Text,
}

#[derive(clap::Args)]
struct OutputArgs {
    /// Output format. Default: table on a terminal, json otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Exit with status 1 if any finding is at or above this urgency.
    #[arg(long, value_name = "URGENCY", value_parser = parse_urgency)]
    fail_on: Option<Urgency>,
    /// Exit with status 1 if any account, region or certificate could not be scanned (a denied
    /// role, a failing region): the rows under "Not scanned".
    #[arg(long)]
    fail_on_failures: bool,
}

fn parse_urgency(text: &str) -> Result<Urgency, String> {
    text.parse()
        .map_err(|e: certwatch_core::ParseUrgencyError| e.to_string())
}

fn main() -> ExitCode {
    // The AWS SDK's HTTPS client and other rustls users must agree on one crypto provider.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // Parsed first: the log's default level depends on the command.
    let cli = Cli::parse();
    if let Err(e) = init_logging(&cli.command) {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The log on stderr. `CERTWATCH_LOG` is the filter (`info`, `certwatch_scanner=debug`, …); without
/// it `serve` logs at `info` (its log is what an operator reads: scans, digests, refused
/// requests) and the other commands at `error` (they print their own output).
/// `CERTWATCH_LOG_FORMAT` is `text` (the default) or `json` (one object per line, with the
/// spans). Colours only on a terminal: a log sent to a file or a pipe has no escape sequences.
fn init_logging(command: &Command) -> Result<()> {
    use tracing_subscriber::EnvFilter;
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let filter = match var("CERTWATCH_LOG") {
        Some(text) => EnvFilter::try_new(&text).with_context(|| {
            format!("CERTWATCH_LOG={text:?} is not a log filter (e.g. info, or certwatch_scanner=debug)")
        })?,
        None => EnvFilter::new(match command {
            Command::Serve { .. } => "info",
            _ => "error",
        }),
    };
    let json = match var("CERTWATCH_LOG_FORMAT").as_deref().map(str::trim) {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            anyhow::bail!("CERTWATCH_LOG_FORMAT={other:?}: the log format is \"text\" or \"json\"")
        }
    };
    let log = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter);
    if json {
        log.json().init();
    } else {
        log.init();
    }
    Ok(())
}

/// The configuration, first found of: `--config PATH`; the TOML text in
/// `CERTWATCH_CONFIG_TOML` (for deployments that build the config from a template: it wins over
/// a path baked into an image); a path in `CERTWATCH_CONFIG`; the defaults. Returns it with a
/// label for error messages.
fn load_config(path: Option<&PathBuf>) -> Result<(FileConfig, String)> {
    if let Some(path) = path {
        return Ok((FileConfig::load(path)?, path.display().to_string()));
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(text) = var("CERTWATCH_CONFIG_TOML") {
        let label = "CERTWATCH_CONFIG_TOML".to_owned();
        return Ok((FileConfig::parse(&text, &label)?, label));
    }
    if let Some(path) = var("CERTWATCH_CONFIG") {
        let path = PathBuf::from(path);
        return Ok((FileConfig::load(&path)?, path.display().to_string()));
    }
    Ok((FileConfig::default(), "(defaults)".to_owned()))
}

/// `config` with the system resolver's nameservers (/etc/resolv.conf, or the platform's
/// equivalent) when its network checks are on and `checks.nameservers` names none. Read here
/// because the binary is the only part of certwatch that reads files; certwatch-probe asks
/// exactly the nameservers it is given.
fn with_system_nameservers(mut config: ScanConfig) -> Result<ScanConfig> {
    let Some(checks) = config.checks.as_mut().filter(|c| c.nameservers.is_empty()) else {
        return Ok(config);
    };
    let why = "set checks.nameservers, or turn checks.dns and checks.tls off";
    let (system, _) = hickory_resolver::system_conf::read_system_conf().with_context(|| {
        format!("the system resolver configuration (/etc/resolv.conf) cannot be used ({why})")
    })?;
    checks.nameservers = system
        .name_servers()
        .iter()
        .map(|server| {
            let port = server.connections.first().map_or(53, |c| c.port);
            std::net::SocketAddr::new(server.ip, port)
        })
        .collect();
    if checks.nameservers.is_empty() {
        anyhow::bail!(
            "the system resolver configuration (/etc/resolv.conf) lists no nameserver ({why})"
        );
    }
    Ok(config)
}

/// The AWS config from the standard chain, with the process's one HTTP client.
async fn aws_from_environment() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(
            aws_config::meta::region::RegionProviderChain::default_provider()
                .or_else(Region::from_static("us-east-1")),
        )
        .http_client(certwatch_scanner::http_client())
        .load()
        .await
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan {
            config,
            store,
            changes: print_changes,
            output,
        } => {
            if print_changes && output.format == Some(Format::Html) {
                anyhow::bail!("--changes has no html format: use table, json or csv");
            }
            let (file, label) = load_config(config.as_ref())?;
            let scan_config = with_system_nameservers(file.scan_config(&label)?)?;
            // Opened and held before the scan: a store in use fails fast, before a long scan.
            // What it holds is reused while it stands: the certificates' detail for
            // `scan.detail_max_age_hours`, the accounts' OU paths and tags for
            // `scan.account_metadata_hours`, the checks for `checks.recheck_hours`.
            let (held, previous) = match store {
                Some(path) => {
                    let (held, inventory) = changes::open(path).await?;
                    let inventory = std::sync::Arc::new(inventory);
                    let previous = certwatch_scanner::Previous::of(inventory, &scan_config);
                    (Some(held), previous)
                }
                None => (None, certwatch_scanner::Previous::default()),
            };
            let base = aws_from_environment().await;
            let report = scan_after_with_progress(&base, &scan_config, previous).await?;
            let Some(held) = held else {
                return emit(&report, &output);
            };
            if print_changes {
                let changes = changes::merge(held, report).await?;
                return emit_changes(&changes, &output);
            }
            changes::merge(held, report.clone()).await?;
            emit(&report, &output)
        }
        Command::Demo { output } => {
            let report = demo().await?;
            emit(&report, &output)
        }
        Command::CheckConfig { config } => {
            let (file, label) = load_config(config.as_ref())?;
            let scan = file.scan_config(&label)?;
            let serve = file.serve_config(&label)?;
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{label}: valid\n\n{scan:#?}\n\n{serve:#?}") {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(ExitCode::SUCCESS),
            }
        }
        Command::Serve { config, demo } => {
            let (file, label) = load_config(config.as_ref())?;
            let serve_config = file.serve_config(&label)?;
            if demo {
                let mut world = demo::DemoWorld::start().await?;
                // The routes' OU paths and tags, learned from the simulated organization.
                world.scan.account_metadata = file.scan_config(&label)?.account_metadata;
                let served = serve::run(serve_config, world.scan.clone(), world.aws.clone()).await;
                world.shutdown().await;
                served?;
                return Ok(ExitCode::SUCCESS);
            }
            let scan_config = with_system_nameservers(file.scan_config(&label)?)?;
            let base = aws_from_environment().await;
            serve::run(serve_config, scan_config, base).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Digest {
            config,
            dry_run: _,
            demo: use_demo,
            from_store,
            format,
        } => {
            let (file, label) = load_config(config.as_ref())?;
            let serve_config = file.serve_config(&label)?;
            let inventory = if from_store {
                stored_inventory(serve_config.store_path.clone()).await?
            } else {
                let report = if use_demo {
                    demo_with(&file.scan_config(&label)?).await?
                } else {
                    let scan_config = with_system_nameservers(file.scan_config(&label)?)?;
                    scan_with_progress(&aws_from_environment().await, &scan_config).await?
                };
                certwatch_core::Inventory::of_scan(report)
            };
            let now = chrono::Utc::now();
            let inventory = std::sync::Arc::new(inventory);
            let routing = serve::routing::Routing::new(serve_config.routes.clone(), &inventory);
            let mut channels: Vec<String> = routing.destinations().into_iter().collect();
            if channels.is_empty() {
                channels.push(String::new());
            }
            for channel in &channels {
                if routing.is_routing() {
                    println!("══ digest for {channel} ══");
                }
                let options = certwatch_slack::DigestOptions {
                    post_when_clear: true,
                    time_zone_label: serve_config
                        .digest
                        .as_ref()
                        .map_or_else(|| "UTC".to_owned(), |d| d.time_zone.name().to_owned()),
                    new_since_last_digest: Default::default(),
                    routed: routing.summary(&inventory, channel, now),
                    resend_button: serve_config.actions.resend_validation_email,
                };
                let part = routing.scope(&inventory, channel);
                let digest = certwatch_slack::digest(&part, false, now, &options);
                print_digest(digest.as_ref(), format)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Routes {
            config,
            from_store,
            demo: use_demo,
            format,
        } => {
            if format == Some(Format::Html) {
                anyhow::bail!("the routes have no html format: use table, json or csv");
            }
            let (file, label) = load_config(config.as_ref())?;
            let serve_config = file.serve_config(&label)?;
            let accounts = if from_store {
                let report = stored_inventory(serve_config.store_path.clone())
                    .await?
                    .report;
                std::sync::Arc::unwrap_or_clone(report).accounts
            } else {
                let scan_config = file.scan_config(&label)?;
                let report = if use_demo {
                    demo_with(&scan_config).await?
                } else {
                    let scan_config = with_system_nameservers(scan_config)?;
                    scan_with_progress(&aws_from_environment().await, &scan_config).await?
                };
                report.accounts
            };
            let rows = routes::rows(&serve_config.routes, &accounts);
            let output = OutputArgs {
                format,
                fail_on: None,
                fail_on_failures: false,
            };
            write_out(&output, "the routes", |format, out| {
                routes::write(&rows, format, out)
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            config,
            from_store: _,
            format,
        } => {
            let (file, label) = load_config(config.as_ref())?;
            let inventory = stored_inventory(file.serve_config(&label)?.store_path).await?;
            print_out("the report", |out| match format {
                Format::Html => render::html::write(&inventory.report, &inventory.stale, out),
                other => render::write(&inventory.report, other, out),
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck { url } => Ok(healthcheck(&url).await),
    }
}

/// The inventory the store at `path` holds (what `serve` last merged).
async fn stored_inventory(path: PathBuf) -> Result<certwatch_core::Inventory> {
    tokio::task::spawn_blocking(move || certwatch_store::Store::open(&path)?.inventory())
        .await?
        .with_context(|| "reading the store")
}

fn print_digest(digest: Option<&certwatch_slack::Digest>, format: DigestFormat) -> Result<()> {
    let Some(digest) = digest else {
        println!("(nothing needs action and post_when_clear is false: no digest)");
        return Ok(());
    };
    let messages: Vec<&certwatch_slack::Message> = std::iter::once(&digest.parent)
        .chain(&digest.replies)
        .collect();
    match format {
        DigestFormat::Json => {
            let json: Vec<serde_json::Value> = messages
                .iter()
                .map(|m| serde_json::json!({"text": m.text, "blocks": m.blocks}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        DigestFormat::Text => {
            for (i, message) in messages.iter().enumerate() {
                if i > 0 {
                    println!("\n── threaded reply {i} ──");
                }
                println!("{}", certwatch_slack::blocks_to_text(&message.blocks));
            }
        }
    }
    Ok(())
}

/// A minimal HTTP/1.1 GET on loopback: 200 → success.
async fn healthcheck(url: &str) -> ExitCode {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(rest) = url.strip_prefix("http://") else {
        eprintln!("healthcheck: only http:// URLs are supported");
        return ExitCode::from(2);
    };
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(host).await?;
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..n]).into_owned())
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), attempt).await {
        Ok(Ok(head)) if head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200") => {
            ExitCode::SUCCESS
        }
        Ok(Ok(head)) => {
            eprintln!(
                "healthcheck: {}",
                head.lines().next().unwrap_or("no answer")
            );
            ExitCode::from(1)
        }
        Ok(Err(e)) => {
            eprintln!("healthcheck: {e}");
            ExitCode::from(1)
        }
        Err(_) => {
            eprintln!("healthcheck: timed out");
            ExitCode::from(1)
        }
    }
}

/// A progress bar on stderr, only when stderr is a terminal.
struct Bar(ProgressBar, std::sync::atomic::AtomicU64);

impl Bar {
    fn new() -> Bar {
        if !std::io::stderr().is_terminal() {
            return Bar(ProgressBar::hidden(), Default::default());
        }
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} account-regions ({elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar(bar, Default::default())
    }
}

impl Progress for Bar {
    fn accounts_planned(&self, accounts: u64) {
        let total = self
            .1
            .fetch_add(accounts, std::sync::atomic::Ordering::Relaxed)
            + accounts;
        self.0.set_message(format!("{total} accounts"));
    }
    fn targets_planned(&self, targets: u64) {
        self.0.inc_length(targets);
    }
    fn target_done(&self) {
        self.0.inc(1);
    }
}

async fn scan_with_progress(base: &SdkConfig, config: &ScanConfig) -> Result<Report> {
    scan_after_with_progress(base, config, certwatch_scanner::Previous::default()).await
}

/// [`scan_with_progress`], reusing what an earlier scan learned.
async fn scan_after_with_progress(
    base: &SdkConfig,
    config: &ScanConfig,
    previous: certwatch_scanner::Previous,
) -> Result<Report> {
    let bar = Bar::new();
    let now = chrono::Utc::now();
    let previous = std::sync::Arc::new(previous);
    let report = certwatch_scanner::scan_after(base, config, now, &bar, previous).await;
    bar.0.finish_and_clear();
    Ok(report?)
}

/// Serves the built-in simulated organization on loopback and scans it through the real AWS
/// SDK clients, exactly as a real scan would.
async fn demo() -> Result<Report> {
    let world = demo::DemoWorld::start().await?;
    let report = scan_with_progress(&world.aws, &world.scan).await;
    world.shutdown().await;
    report
}

/// [`demo`], learning the accounts' OU paths and tags when `config`'s routes need them.
async fn demo_with(config: &ScanConfig) -> Result<Report> {
    let mut world = demo::DemoWorld::start().await?;
    world.scan.account_metadata = config.account_metadata;
    let report = scan_with_progress(&world.aws, &world.scan).await;
    world.shutdown().await;
    report
}

fn emit_changes(changes: &certwatch_core::Changes, output: &OutputArgs) -> Result<ExitCode> {
    if !write_out(output, "the changes", |format, out| {
        changes::write(changes, format, out)
    })? {
        return Ok(ExitCode::SUCCESS);
    }
    Ok(if changes::fails(changes, output.fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes to stdout in `--format` (default: a table on a terminal, JSON otherwise). `false`:
/// the reader went away (`certwatch scan | head`), which is not an error worth a message.
fn write_out(
    output: &OutputArgs,
    what: &'static str,
    write: impl FnOnce(Format, &mut dyn Write) -> std::io::Result<()>,
) -> Result<bool> {
    let format = output.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Json
    });
    print_out(what, |out| write(format, out))
}

/// Writes to stdout; `false`: the reader went away (see [`write_out`]).
fn print_out(
    what: &'static str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<bool> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e).with_context(|| format!("writing {what}")),
    }
}

fn emit(report: &Report, output: &OutputArgs) -> Result<ExitCode> {
    if !write_out(output, "the report", |format, out| {
        render::write(report, format, out)
    })? {
        return Ok(ExitCode::SUCCESS);
    }
    let failed = match (output.fail_on, report.worst_urgency()) {
        (Some(threshold), Some(worst)) => worst >= threshold,
        _ => false,
    } || (output.fail_on_failures && !report.failures.is_empty());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use certwatch_scanner::ProbeConfig;

    /// The system resolver's nameservers fill only an empty list of checks that run; configured
    /// nameservers and checks turned off read nothing.
    #[test]
    fn system_nameservers_fill_only_an_empty_list() {
        let off = with_system_nameservers(ScanConfig::default()).expect("nothing read");
        assert!(off.checks.is_none());
        let ours: std::net::SocketAddr = "192.0.2.53:5353".parse().expect("an address");
        let given = ScanConfig {
            checks: Some(ProbeConfig {
                nameservers: vec![ours],
                ..ProbeConfig::default()
            }),
            ..ScanConfig::default()
        };
        let kept = with_system_nameservers(given).expect("nothing read");
        assert_eq!(kept.checks.expect("checks").nameservers, [ours]);
    }
}

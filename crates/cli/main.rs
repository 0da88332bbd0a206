//! `certwatch`: finds the ACM certificates of an AWS Organization that will not renew by
//! themselves, and says why, by when, and what to do.
//!
//! This binary is the only place that reads argv, the environment, files and the clock.

mod config;
mod render;

use anyhow::{Context, Result};
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
        #[arg(long, short, env = "CERTWATCH_CONFIG")]
        config: Option<PathBuf>,
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
        #[arg(long, short, env = "CERTWATCH_CONFIG")]
        config: PathBuf,
    },
}

#[derive(clap::Args)]
struct OutputArgs {
    /// Output format. Default: table on a terminal, json otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Exit with status 1 if any finding is at or above this urgency.
    #[arg(long, value_name = "URGENCY", value_parser = parse_urgency)]
    fail_on: Option<Urgency>,
}

fn parse_urgency(text: &str) -> Result<Urgency, String> {
    text.parse()
        .map_err(|e: certwatch_core::ParseUrgencyError| e.to_string())
}

fn main() -> ExitCode {
    // The AWS SDK's HTTPS client and other rustls users must agree on one crypto provider.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CERTWATCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .init();
    let cli = Cli::parse();
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

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan { config, output } => {
            let (file, shown) = match &config {
                Some(path) => (FileConfig::load(path)?, path.display().to_string()),
                None => (FileConfig::default(), "(defaults)".to_owned()),
            };
            let scan_config = file.scan_config(&shown)?;
            let base = aws_config::defaults(BehaviorVersion::latest())
                .region(
                    aws_config::meta::region::RegionProviderChain::default_provider()
                        .or_else(Region::from_static("us-east-1")),
                )
                .http_client(certwatch_scanner::http_client())
                .load()
                .await;
            let report = scan_with_progress(&base, &scan_config).await?;
            emit(&report, &output)
        }
        Command::Demo { output } => {
            let report = demo().await?;
            emit(&report, &output)
        }
        Command::CheckConfig { config } => {
            let file = FileConfig::load(&config)?;
            let checked = file.scan_config(&config.display().to_string())?;
            println!("{}: valid\n\n{checked:#?}", config.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A progress bar on stderr, only when stderr is a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Bar {
        if !std::io::stderr().is_terminal() {
            return Bar(ProgressBar::hidden());
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
        Bar(bar)
    }
}

impl Progress for Bar {
    fn accounts_planned(&self, accounts: u64) {
        self.0.set_message(format!("{accounts} accounts"));
    }
    fn targets_planned(&self, targets: u64) {
        self.0.inc_length(targets);
    }
    fn target_done(&self) {
        self.0.inc(1);
    }
}

async fn scan_with_progress(base: &SdkConfig, config: &ScanConfig) -> Result<Report> {
    let bar = Bar::new();
    let report = certwatch_scanner::scan(base, config, chrono::Utc::now(), &bar).await;
    bar.0.finish_and_clear();
    Ok(report?)
}

/// Serves the built-in simulated organization on loopback and scans it through the real AWS
/// SDK clients, exactly as a real scan would.
async fn demo() -> Result<Report> {
    let now = chrono::Utc::now();
    let server = certwatch_sim::serve(certwatch_sim::Scenario::demo(), now)
        .await
        .context("starting the simulated organization")?;
    eprintln!(
        "Demo: scanning a simulated AWS Organization served at {} (Organizations, STS, Account \
         and ACM over the AWS wire protocols).",
        server.endpoint()
    );
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::from_static("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "sim", "sim", None, None, "demo",
        ))
        .endpoint_url(server.endpoint())
        .http_client(certwatch_scanner::http_client())
        .load()
        .await;
    let report = scan_with_progress(&base, &ScanConfig::default()).await;
    server.shutdown().await;
    report
}

fn emit(report: &Report, output: &OutputArgs) -> Result<ExitCode> {
    let format = output.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Json
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match render::write(report, format, &mut out).and_then(|()| out.flush()) {
        Ok(()) => {}
        // `certwatch scan | head` closes the pipe early: not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context("writing the report"),
    }
    let failed = match (output.fail_on, report.worst_urgency()) {
        (Some(threshold), Some(worst)) => worst >= threshold,
        _ => false,
    };
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

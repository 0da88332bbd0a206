//! `certwatch serve`: scans on a schedule and on demand, keeps the inventory in the store,
//! answers `/certs` from memory (HTTP or Socket Mode), and posts the daily digest once per
//! local day.
//!
//! The bot's decisions are certwatch-slack's (`bot`, `schedule`, the renderers); here are the
//! runtime's parts: [`App`] (the state the tasks share), the scan loop and the digest loop
//! (the clock, the scanner and Slack's Web API injected through `ports`), and the transports
//! (`http`, `slack`). [`run`] reads the secrets, checks the tokens with Slack, opens the store
//! and wires the real ports in; on SIGTERM or SIGINT it stops taking commands, lets a running
//! merge finish, closes the Socket Mode connection and returns.

mod app;
mod digest_loop;
mod http;
mod interact;
mod metrics;
pub mod ports;
mod resend;
pub(crate) mod routing;
mod scan_loop;
mod slack;
#[cfg(test)]
mod tests;

pub use app::{App, Parts, SlackStatus};

use crate::config::{ServeConfig, Transport};
use anyhow::{Context, Result};
use aws_config::SdkConfig;
use certwatch_scanner::ScanConfig;
use certwatch_store::Store;
use ports::{AwsResender, AwsScanner, Resender, SlackApi, SystemClock};
use slack::{SlackIo, TokenCheck};
use std::sync::Arc;
use std::time::Duration;

/// How long the tasks get to finish after a stop signal before `run` returns anyway (ECS
/// sends SIGKILL 30 s after SIGTERM by default; certwatch aims to be gone within 10 s).
const STOP_GRACE: Duration = Duration::from_secs(8);

/// A secret from the environment variable the config names; the value is never logged.
fn secret(var: &str, key: &str, why: &str) -> Result<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => anyhow::bail!(
            "{key}: environment variable {var} is not set ({why}); secrets never go in the config file"
        ),
    }
}

/// The secrets the config's transport and digest need, from the environment.
struct Secrets {
    bot_token: Option<String>,
    app_token: Option<String>,
    signing_secret: Option<Vec<u8>>,
}

impl Secrets {
    fn from_env(config: &ServeConfig) -> Result<Secrets> {
        let needs_bot = config.digest.is_some() || config.transport == Transport::Socket;
        let bot_token = if needs_bot {
            Some(secret(
                &config.bot_token_env,
                "slack.bot_token_env",
                "the bot token posts the digest and replies",
            )?)
        } else {
            std::env::var(&config.bot_token_env)
                .ok()
                .filter(|t| !t.trim().is_empty())
        };
        let app_token = match config.transport {
            Transport::Socket => Some(secret(
                &config.app_token_env,
                "slack.app_token_env",
                "Socket Mode needs the app-level xapp- token",
            )?),
            Transport::Http => None,
        };
        let signing_secret = match config.transport {
            Transport::Http => Some(
                secret(
                    &config.signing_secret_env,
                    "slack.signing_secret_env",
                    "HTTP slash commands are verified with the signing secret",
                )?
                .into_bytes(),
            ),
            Transport::Socket => None,
        };
        Ok(Secrets {
            bot_token,
            app_token,
            signing_secret,
        })
    }
}

/// Asks Slack about the tokens at start: a token Slack rejects stops the run, naming its
/// environment variable; a Slack that does not answer is logged and does not.
async fn check_tokens(
    config: &ServeConfig,
    slack: &SlackIo,
    status: &mut SlackStatus,
) -> Result<()> {
    match slack.check_bot_token().await {
        TokenCheck::Accepted => status.bot_token_ok = Some(true),
        TokenCheck::Rejected(code) => anyhow::bail!(
            "slack.bot_token_env: Slack rejected the bot token in {} ({code}): check the \
             variable holds the app's current xoxb- token",
            config.bot_token_env
        ),
        TokenCheck::Unknown(e) => {
            tracing::warn!("could not check the bot token with Slack (auth.test): {e}");
        }
    }
    if config.transport == Transport::Socket {
        match slack.check_app_token().await {
            TokenCheck::Accepted => {}
            TokenCheck::Rejected(code) => anyhow::bail!(
                "slack.app_token_env: Slack rejected the app-level token in {} ({code}): Socket \
                 Mode needs an xapp- token with the connections:write scope",
                config.app_token_env
            ),
            TokenCheck::Unknown(e) => {
                tracing::warn!(
                    "could not check the app-level token with Slack (apps.connections.open): {e}"
                );
            }
        }
    }
    Ok(())
}

/// Runs until interrupted (SIGINT/SIGTERM).
pub async fn run(config: ServeConfig, scan_config: ScanConfig, aws: SdkConfig) -> Result<()> {
    let listen = config.listen;
    let transport = config.transport;
    let secrets = Secrets::from_env(&config)?;
    let slack = match secrets.bot_token {
        Some(bot) => Some(Arc::new(SlackIo::new(
            &config.api_url,
            bot,
            secrets.app_token,
        )?)),
        None => None,
    };
    let mut slack_status = SlackStatus {
        transport: match transport {
            Transport::Http => "http",
            Transport::Socket => "socket",
        },
        ..SlackStatus::default()
    };
    if let Some(slack) = &slack {
        check_tokens(&config, slack, &mut slack_status).await?;
    }

    let path = config.store_path.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&path)).await??;
    let resender = config.actions.resend_validation_email.then(|| {
        Arc::new(AwsResender {
            aws: aws.clone(),
            config: scan_config.clone(),
            resender: tokio::sync::OnceCell::new(),
        }) as Arc<dyn Resender>
    });
    let parts = Parts {
        config,
        clock: Arc::new(SystemClock),
        scanner: Arc::new(AwsScanner {
            aws,
            config: scan_config,
        }),
        resender,
        slack: slack.clone().map(|s| s as Arc<dyn SlackApi>),
        store,
        signing_secret: secrets.signing_secret,
        slack_status,
    };
    let app = tokio::task::spawn_blocking(move || App::new(parts))
        .await?
        .context("reading the store")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("serve.listen: cannot listen on {listen}"))?;
    // Through the log only (serve logs at info by default), so that a JSON log is all JSON.
    let listen = listener.local_addr()?;
    tracing::info!(%listen, ?transport, "certwatch serve started");

    let scans = tokio::spawn(scan_loop::scan_loop(app.clone()));
    let digests = tokio::spawn(digest_loop::digest_loop(app.clone()));
    if transport == Transport::Socket {
        if let Some(slack) = &slack {
            slack.start_socket_mode(app.clone()).await?;
        }
    }
    let signals = {
        let app = app.clone();
        tokio::spawn(async move {
            stop_signal().await;
            tracing::info!("stop signal received: stopping");
            app.stop();
        })
    };
    let router = http::router(app.clone());
    let stopped = {
        let app = app.clone();
        async move { app.stopped().await }
    };
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(stopped)
        .await
        .context("HTTP listener");
    app.stop();
    signals.abort();
    let finish = async {
        if let Some(slack) = &slack {
            slack.stop_socket_mode().await;
        }
        // A merge in progress finishes (or, if the process dies, SQLite rolls it back).
        let _ = scans.await;
        let _ = digests.await;
    };
    if tokio::time::timeout(STOP_GRACE, finish).await.is_err() {
        tracing::warn!("stopping took over {STOP_GRACE:?}; exiting anyway");
    }
    tracing::info!("certwatch serve stopped");
    served
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

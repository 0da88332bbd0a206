//! `certwatch serve`: scans on a schedule and on demand, keeps the inventory in the store,
//! answers `/certs` from memory (HTTP or Socket Mode), and posts the daily digest exactly once
//! per local day.
//!
//! Tasks: the scan loop, the digest loop, the HTTP listener, and (Socket Mode) the Slack
//! WebSocket listener. They share [`App`]. Commands never wait for AWS: they read the last
//! merged inventory held in memory; the store makes it survive restarts.

mod http;
pub mod schedule;
mod slack;

use crate::config::{ServeConfig, Transport};
use anyhow::{Context, Result};
use aws_config::SdkConfig;
use certwatch_scanner::{NoProgress, ScanConfig};
use certwatch_store::{Inventory, Store};
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// A slash command from either transport.
pub struct Incoming {
    pub team_id: String,
    pub channel_id: String,
    pub user_id: String,
    pub text: String,
    pub response_url: Option<String>,
}

/// What the Slack renderers read: the stored inventory, borrowed.
pub fn slack_view(inventory: &Inventory, scan_running: bool) -> certwatch_slack::Inventory<'_> {
    certwatch_slack::Inventory {
        report: &inventory.report,
        stale: &inventory.stale,
        last_scan: inventory.last_scan,
        scan_running,
    }
}

fn ephemeral(text: impl Into<String>) -> serde_json::Value {
    serde_json::json!({"response_type": "ephemeral", "text": text.into()})
}

/// Everything the serve tasks share.
pub struct App {
    pub config: ServeConfig,
    scan_config: ScanConfig,
    aws: SdkConfig,
    store: Arc<Mutex<Store>>,
    inventory: RwLock<Arc<Inventory>>,
    scan_now: Notify,
    scan_running: AtomicBool,
    /// Response URLs of `/certs scan` requests waiting for the scan to finish.
    scan_waiters: Mutex<Vec<String>>,
    ready: watch::Sender<bool>,
    slack: Option<slack::SlackIo>,
    signing_secret: Option<Vec<u8>>,
}

/// A secret from the environment variable the config names; the value is never logged.
fn secret(var: &str, key: &str, why: &str) -> Result<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => anyhow::bail!(
            "{key}: environment variable {var} is not set ({why}); secrets never go in the config file"
        ),
    }
}

impl App {
    /// Reads secrets, opens the store and loads the last inventory.
    pub async fn new(
        config: ServeConfig,
        scan_config: ScanConfig,
        aws: SdkConfig,
    ) -> Result<Arc<App>> {
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
                .filter(|t| !t.is_empty())
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
        let slack = match bot_token {
            Some(bot) => Some(slack::SlackIo::new(&config.api_url, bot, app_token)?),
            None => None,
        };

        let path = config.store_path.clone();
        let (store, inventory) = tokio::task::spawn_blocking(move || -> Result<_> {
            let store = Store::open(&path)
                .with_context(|| format!("opening the store {}", path.display()))?;
            let inventory = store.inventory().context("reading the store")?;
            Ok((store, inventory))
        })
        .await??;
        let (ready, _) = watch::channel(inventory.last_scan.is_some());
        Ok(Arc::new(App {
            config,
            scan_config,
            aws,
            store: Arc::new(Mutex::new(store)),
            inventory: RwLock::new(Arc::new(inventory)),
            scan_now: Notify::new(),
            scan_running: AtomicBool::new(false),
            scan_waiters: Mutex::new(Vec::new()),
            ready,
            slack,
            signing_secret,
        }))
    }

    /// The current merged inventory (a cheap clone of an Arc).
    pub fn inventory(&self) -> Arc<Inventory> {
        self.inventory
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    pub fn scan_running(&self) -> bool {
        self.scan_running.load(Ordering::SeqCst)
    }

    /// Asks the scan loop for a scan now. False if one is already running.
    pub fn request_scan(&self, response_url: Option<String>) -> bool {
        if let Some(url) = response_url {
            self.scan_waiters
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(url);
        }
        if self.scan_running() {
            return false;
        }
        self.scan_now.notify_one();
        true
    }

    /// Runs a closure on the store off the async threads.
    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, certwatch_store::StoreError> + Send + 'static,
    ) -> Result<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut store)
        })
        .await?
        .map_err(anyhow::Error::from)
    }

    async fn scan_once(&self) {
        self.scan_running.store(true, Ordering::SeqCst);
        tracing::info!("scan started");
        // The stored checks that still stand spare their lookups and handshakes.
        let previous = {
            let inventory = self
                .inventory
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            Arc::new(certwatch_scanner::PreviousChecks::new(
                self.scan_config.recheck_after,
                inventory.report.certificates.iter().map(|c| &c.facts),
            ))
        };
        let result = certwatch_scanner::scan_after(
            &self.aws,
            &self.scan_config,
            Utc::now(),
            &NoProgress,
            previous,
        )
        .await;
        let outcome = match result {
            Ok(report) => {
                let stats = report.stats.clone();
                match self
                    .with_store(move |store| store.record_scan_owned(report))
                    .await
                {
                    Ok(inventory) => {
                        *self
                            .inventory
                            .write()
                            .unwrap_or_else(PoisonError::into_inner) = Arc::new(inventory);
                        self.ready.send_replace(true);
                        tracing::info!(
                            accounts = stats.accounts,
                            targets = stats.targets,
                            certificates = stats.certificates,
                            duration_ms = stats.duration_ms,
                            "scan finished"
                        );
                        format!(
                            "Scan finished: {} certificates in {} accounts ({} account-regions) in {:.1} s.",
                            stats.certificates,
                            stats.accounts,
                            stats.targets,
                            stats.duration_ms as f64 / 1000.0
                        )
                    }
                    Err(e) => {
                        tracing::error!("storing the scan failed: {e:#}");
                        format!("The scan finished but could not be stored: {e}")
                    }
                }
            }
            Err(e) => {
                tracing::error!("scan failed: {e}");
                format!("The scan failed: {e}")
            }
        };
        self.scan_running.store(false, Ordering::SeqCst);
        let waiters = std::mem::take(
            &mut *self
                .scan_waiters
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if let Some(slack) = &self.slack {
            for url in waiters {
                slack.respond(&url, &outcome).await;
            }
        }
    }

    /// Scans now, then every interval, or sooner when asked.
    async fn scan_loop(self: Arc<Self>) {
        loop {
            self.scan_once().await;
            tokio::select! {
                _ = tokio::time::sleep(self.config.scan_interval) => {}
                _ = self.scan_now.notified() => {}
            }
        }
    }

    /// Posts the digest once per local day at the configured time.
    async fn digest_loop(self: Arc<Self>) {
        let (Some(digest), Some(slack)) = (self.config.digest.clone(), self.slack.as_ref()) else {
            return;
        };
        // No digest before the first scan has produced data.
        let mut ready = self.ready.subscribe();
        if ready.wait_for(|r| *r).await.is_err() {
            return;
        }
        loop {
            let now = Utc::now();
            let today = now.with_timezone(&digest.time_zone).date_naive();
            let posted_today = self
                .with_store(move |store| store.digest_posted(today))
                .await
                .unwrap_or_else(|e| {
                    tracing::error!("reading digest state: {e:#}");
                    // Unknown: assume posted, so a broken store never makes duplicates.
                    true
                });
            match schedule::due(now, digest.time, digest.time_zone, |d| {
                d == today && posted_today
            }) {
                schedule::Due::Now(date) => {
                    let inventory = self.inventory();
                    let view = slack_view(&inventory, self.scan_running());
                    let options = certwatch_slack::DigestOptions {
                        post_when_clear: digest.post_when_clear,
                        time_zone_label: digest.time_zone.name().to_owned(),
                    };
                    let rendered = certwatch_slack::digest(&view, now, &options);
                    let posted = match rendered {
                        None => Ok(String::new()),
                        Some(d) => slack.post_digest(&digest.channel, &d).await,
                    };
                    match posted {
                        Ok(ts) => {
                            let channel = digest.channel.clone();
                            let marked = self
                                .with_store(move |store| {
                                    store.mark_digest_posted(date, &channel, &ts, Utc::now())
                                })
                                .await;
                            if let Err(e) = marked {
                                tracing::error!("recording the digest of {date}: {e:#}");
                            }
                            tracing::info!(%date, "digest posted");
                        }
                        Err(e) => {
                            tracing::error!(
                                "posting the digest of {date} failed: {e:#}; retrying in a minute"
                            );
                            tokio::time::sleep(Duration::from_secs(60)).await;
                        }
                    }
                }
                schedule::Due::At(at) => {
                    // Wake up at least every 5 minutes: the wall clock can jump (suspend, NTP).
                    let wait = (at - now)
                        .to_std()
                        .unwrap_or_default()
                        .min(Duration::from_secs(300));
                    tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
                }
            }
        }
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// The reply to a slash command, as Slack's response JSON. Reads memory only.
    pub fn answer(&self, cmd: &Incoming) -> serde_json::Value {
        if let Some(team) = &self.config.team_id {
            if &cmd.team_id != team {
                return ephemeral("certwatch is not enabled for this workspace.");
            }
        }
        if !self.config.channel_ids.is_empty() && !self.config.channel_ids.contains(&cmd.channel_id)
        {
            let channels: Vec<String> = self
                .config
                .channel_ids
                .iter()
                .map(|c| format!("<#{c}>"))
                .collect();
            return ephemeral(format!(
                "certwatch answers in {} only.",
                channels.join(", ")
            ));
        }
        let request = match certwatch_slack::parse(&cmd.text) {
            Ok(request) => request,
            Err(e) => {
                return serde_json::to_value(certwatch_slack::render::parse_error(&e))
                    .unwrap_or_else(|_| ephemeral("Type `/certs help` for what I can answer."))
            }
        };
        let now = self.now();
        if request.command == certwatch_slack::Command::Scan {
            let reply = if !self.config.admin_user_ids.contains(&cmd.user_id) {
                tracing::info!(user = %cmd.user_id, "refused /certs scan: not an admin");
                certwatch_slack::render::scan_denied()
            } else if self.request_scan(cmd.response_url.clone()) {
                tracing::info!(user = %cmd.user_id, "scan requested from Slack");
                certwatch_slack::render::scan_started()
            } else {
                certwatch_slack::render::scan_already_running()
            };
            return serde_json::to_value(reply).unwrap_or_else(|_| ephemeral("error"));
        }
        let inventory = self.inventory();
        let view = slack_view(&inventory, self.scan_running());
        let reply = certwatch_slack::reply(&request, &view, now);
        serde_json::to_value(reply)
            .unwrap_or_else(|e| ephemeral(format!("certwatch could not render the reply: {e}")))
    }
}

/// Runs until interrupted (SIGINT/SIGTERM).
pub async fn run(config: ServeConfig, scan_config: ScanConfig, aws: SdkConfig) -> Result<()> {
    let listen = config.listen;
    let transport = config.transport;
    let app = App::new(config, scan_config, aws).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("serve.listen: cannot listen on {listen}"))?;
    tracing::info!(%listen, ?transport, "certwatch serve started");
    eprintln!(
        "certwatch serve: listening on {} ({transport:?} transport)",
        listener.local_addr()?
    );

    tokio::spawn(app.clone().scan_loop());
    tokio::spawn(app.clone().digest_loop());
    if transport == Transport::Socket {
        if let Some(slack) = &app.slack {
            slack.start_socket_mode(app.clone()).await?;
        }
    }
    let router = http::router(app.clone());
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("HTTP listener")?;
    Ok(())
}

async fn shutdown_signal() {
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

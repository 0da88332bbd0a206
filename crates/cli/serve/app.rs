//! The state the serve tasks share, and the answer to a slash command from it.

use super::metrics::{CommandOutcome, Metrics};
use super::ports::{Clock, Resender, Scanner, SlackApi};
use super::routing::Routing;
use crate::config::ServeConfig;
use anyhow::Result;
use certwatch_core::{Decision, Inventory};
use certwatch_slack::bot::{self, Answer};
use certwatch_slack::decide::Decide;
use certwatch_slack::Reply;
use certwatch_slack::{Access, Incoming, Prepared};
use certwatch_store::Store;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use tokio::sync::{watch, Notify};

/// A routed channel's part of the inventory, prepared once for every command that needs it.
#[derive(Clone)]
struct Scoped {
    whole: Arc<Prepared>,
    part: Arc<tokio::sync::OnceCell<Arc<Prepared>>>,
}

/// What the transports need to know of Slack's side, for `/readyz`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SlackStatus {
    /// "http" or "socket".
    pub transport: &'static str,
    /// Whether Slack accepted the bot token at start (`auth.test`); `None`: not checked.
    pub bot_token_ok: Option<bool>,
    /// Socket Mode: when Slack last said hello on the WebSocket.
    pub connected_at: Option<DateTime<Utc>>,
    /// Socket Mode: how many times the connection was (re)opened.
    pub connections: u64,
}

impl SlackStatus {
    /// Commands can reach us: HTTP needs nothing more; Socket Mode needs a connection.
    pub fn ready(&self) -> bool {
        self.transport != "socket" || self.connected_at.is_some()
    }
}

/// What the pieces of an [`App`] are: config, the injected ports, and the opened store.
pub struct Parts {
    pub config: ServeConfig,
    pub clock: Arc<dyn Clock>,
    pub scanner: Arc<dyn Scanner>,
    pub slack: Option<Arc<dyn SlackApi>>,
    /// Carries out `/certs resend` (`acm:ResendValidationEmail`); `None`: resends cannot be
    /// made here (the demo), and are refused.
    pub resender: Option<Arc<dyn Resender>>,
    pub store: Store,
    pub signing_secret: Option<Vec<u8>>,
    pub slack_status: SlackStatus,
}

/// Everything the serve tasks share.
pub struct App {
    pub config: ServeConfig,
    pub access: Access,
    pub clock: Arc<dyn Clock>,
    pub scanner: Arc<dyn Scanner>,
    pub slack: Option<Arc<dyn SlackApi>>,
    pub(super) resender: Option<Arc<dyn Resender>>,
    /// One resend at a time: the 12-hour check and the call to ACM must not interleave.
    pub(super) resend_lock: tokio::sync::Mutex<()>,
    pub signing_secret: Option<Vec<u8>>,
    /// What `/metrics` shows besides the inventory's certificates.
    pub metrics: Metrics,
    /// Each account's channel for the inventory in force.
    pub routing: Routing,
    /// Bumped each time a scan's inventory is set: the digest loop starts the loops of new
    /// channels.
    inventory_version: watch::Sender<u64>,
    store: Arc<Mutex<Store>>,
    /// The inventory with its index ([`Prepared`]): replaced whole by each scan, its decisions
    /// changed in place.
    inventory: RwLock<Arc<Prepared>>,
    /// Each routed channel's part of the inventory, prepared by its first command after a
    /// change, with the whole it was cut from.
    scoped: Mutex<HashMap<String, Scoped>>,
    pub(super) scan_now: Notify,
    scan_running: AtomicBool,
    /// Response URLs of `/certs scan` requests waiting for the scan to finish.
    scan_waiters: Mutex<Vec<String>>,
    ready: watch::Sender<bool>,
    slack_status: Mutex<SlackStatus>,
    /// The last digest problem that needs a human, for `/readyz` (the log has the detail).
    digest_problem: Mutex<Option<String>>,
    stopping: watch::Sender<bool>,
    error_ids: AtomicU64,
    error_seed: std::collections::hash_map::RandomState,
}

impl App {
    /// Loads the last inventory from the store (blocking: call from `spawn_blocking` or before
    /// the runtime is busy).
    pub fn new(parts: Parts) -> Result<Arc<App>> {
        let inventory = parts.store.inventory()?;
        let (ready, _) = watch::channel(inventory.last_scan.is_some());
        let access = Access {
            team_id: parts.config.team_id.clone(),
            channel_ids: parts.config.channel_ids.clone(),
            admin_user_ids: parts.config.admin_user_ids.clone(),
            responder_user_ids: parts.config.responder_user_ids.clone(),
            resend_validation_email: parts.config.actions.resend_validation_email,
        };
        let routing = Routing::new(parts.config.routes.clone(), &inventory);
        Ok(Arc::new(App {
            config: parts.config,
            access,
            clock: parts.clock,
            scanner: parts.scanner,
            slack: parts.slack,
            resender: parts.resender,
            resend_lock: tokio::sync::Mutex::new(()),
            signing_secret: parts.signing_secret,
            metrics: Metrics::new(&inventory),
            routing,
            inventory_version: watch::channel(0).0,
            store: Arc::new(Mutex::new(parts.store)),
            inventory: RwLock::new(Arc::new(Prepared::new(Arc::new(inventory)))),
            scoped: Mutex::new(HashMap::new()),
            scan_now: Notify::new(),
            scan_running: AtomicBool::new(false),
            scan_waiters: Mutex::new(Vec::new()),
            ready,
            slack_status: Mutex::new(parts.slack_status),
            digest_problem: Mutex::new(None),
            stopping: watch::channel(false).0,
            error_ids: AtomicU64::new(0),
            error_seed: std::collections::hash_map::RandomState::new(),
        }))
    }

    /// The current merged inventory (a cheap clone of an Arc).
    pub fn inventory(&self) -> Arc<Inventory> {
        self.prepared().inventory().clone()
    }

    /// The current merged inventory with its index, as commands read it.
    pub fn prepared(&self) -> Arc<Prepared> {
        self.inventory
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Holds a scan's merged inventory, indexed off the async workers first (about half a
    /// second at 510,501 certificates; commands read the previous one meanwhile).
    pub(super) async fn set_inventory(&self, inventory: Inventory) {
        let prepared = tokio::task::spawn_blocking(move || Prepared::new(Arc::new(inventory)))
            .await
            .expect("indexing an inventory does not panic");
        self.routing.update(&prepared);
        let old = std::mem::replace(
            &mut *self
                .inventory
                .write()
                .unwrap_or_else(PoisonError::into_inner),
            Arc::new(prepared),
        );
        let scoped =
            std::mem::take(&mut *self.scoped.lock().unwrap_or_else(PoisonError::into_inner));
        // Freeing a large inventory (510,501 records at 10,000 accounts) takes a while: not
        // under the lock every answer reads through, and not on an async worker.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(move || drop((old, scoped)))),
            Err(_) => drop((old, scoped)),
        }
        self.ready.send_replace(true);
        self.inventory_version.send_modify(|v| *v += 1);
    }

    /// Sees each scan's inventory being set (`changed()` resolves after the next one).
    pub(super) fn inventory_versions(&self) -> watch::Receiver<u64> {
        self.inventory_version.subscribe()
    }

    /// The access rules for something from `channel`: the configured ones, with a channel
    /// that routes send accounts to answered as well.
    pub(super) fn access_for(&self, channel: &str) -> std::borrow::Cow<'_, Access> {
        if self.access.channel_ids.is_empty()
            || self.access.channel_ids.iter().any(|c| c == channel)
            || !self.routing.is_routed_channel(channel)
        {
            return std::borrow::Cow::Borrowed(&self.access);
        }
        let mut access = self.access.clone();
        access.channel_ids.push(channel.to_owned());
        std::borrow::Cow::Owned(access)
    }

    /// What a command from `channel` answers about: in a routed channel, its accounts (unless
    /// the command starts with `all`), cut and indexed once per inventory (off the async
    /// workers); elsewhere the whole inventory.
    pub(super) async fn inventory_for(
        self: &Arc<Self>,
        channel: &str,
        text: &str,
    ) -> Arc<Prepared> {
        let whole = self.prepared();
        let all = certwatch_slack::parse(text).is_ok_and(|r| r.all);
        if all || !self.routing.is_routed_channel(channel) {
            return whole;
        }
        let scoped = {
            let mut scoped = self.scoped.lock().unwrap_or_else(PoisonError::into_inner);
            match scoped.get(channel) {
                Some(held) if Arc::ptr_eq(&held.whole, &whole) => held.clone(),
                _ => {
                    let fresh = Scoped {
                        whole: whole.clone(),
                        part: Arc::default(),
                    };
                    scoped.insert(channel.to_owned(), fresh.clone());
                    fresh
                }
            }
        };
        let part = scoped.part.get_or_init(|| {
            let (app, channel) = (self.clone(), channel.to_owned());
            async move {
                tokio::task::spawn_blocking(move || {
                    let part = app.routing.scope(whole.inventory(), &channel);
                    Arc::new(Prepared::new(part))
                })
                .await
                .expect("cutting an inventory does not panic")
            }
        });
        part.await.clone()
    }

    /// An inventory is held (from a scan of this run, or restored from the store).
    pub fn has_inventory(&self) -> bool {
        *self.ready.borrow()
    }

    /// Resolves once an inventory is held.
    pub(super) async fn wait_for_inventory(&self) {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
    }

    pub fn scan_running(&self) -> bool {
        self.scan_running.load(Ordering::SeqCst)
    }

    pub(super) fn set_scan_running(&self, running: bool) {
        self.scan_running.store(running, Ordering::SeqCst);
    }

    pub(super) fn take_scan_waiters(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .scan_waiters
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    pub fn slack_status(&self) -> SlackStatus {
        self.slack_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn update_slack_status(&self, f: impl FnOnce(&mut SlackStatus)) {
        f(&mut self
            .slack_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner));
    }

    pub fn digest_problem(&self) -> Option<String> {
        self.digest_problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn set_digest_problem(&self, problem: Option<String>) {
        *self
            .digest_problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = problem;
    }

    /// Ready for traffic: an inventory to answer from, and Slack can reach us.
    pub fn is_ready(&self) -> bool {
        self.has_inventory() && self.slack_status().ready()
    }

    /// Asks every task to stop (SIGTERM).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Resolves once [`App::stop`] was called.
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.subscribe();
        let _ = stopping.wait_for(|s| *s).await;
    }

    /// A short id for an internal error: the reply shows it, the log line with the detail
    /// carries it.
    pub fn error_id(&self) -> String {
        let n = self.error_ids.fetch_add(1, Ordering::Relaxed);
        let hash = self
            .error_seed
            .hash_one((n, self.clock.now().timestamp_micros()));
        format!("E{:08X}", hash as u32)
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
    pub(super) async fn with_store<T: Send + 'static>(
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

    /// Changes the decisions in memory (a decision recorded): in place when no answer is
    /// reading them, on a copy of the decisions otherwise (the certificates and the index are
    /// shared, not copied); the routed channels' parts are cut again on their next command.
    pub(super) fn update_decisions(&self, f: impl FnOnce(&mut BTreeMap<String, Decision>)) {
        let mut held = self
            .inventory
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        f(Arc::make_mut(&mut held).decisions_mut());
        self.scoped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The reply to a slash command, as Slack's response JSON. Reads memory, and the store for
    /// `/certs show` (a certificate's history) and the decisions it records.
    pub async fn answer(self: &Arc<Self>, cmd: &Incoming) -> serde_json::Value {
        if self.is_stopping() {
            self.metrics.command(CommandOutcome::Refused);
            return reply_json(&Reply::note(
                "certwatch is restarting; try again in a minute.",
            ));
        }
        let inventory = self.inventory_for(&cmd.channel_id, &cmd.text).await;
        let scan_running = self.scan_running();
        let answered = |reply| (reply, CommandOutcome::Answered);
        let (reply, outcome) = match bot::answer(
            &self.access_for(&cmd.channel_id),
            cmd,
            &inventory,
            scan_running,
            self.clock.now(),
        ) {
            Ok(Answer::Reply(reply)) => answered(reply),
            Ok(Answer::Resend(resend)) => {
                answered(self.start_resend(*resend, cmd.response_url.clone()).await)
            }
            Ok(Answer::Show { arn, public }) => outcome_of(self.try_show(&arn, public).await),
            Ok(Answer::Decide(decide)) => outcome_of(self.try_record_decision(&decide).await),
            Ok(Answer::Scan) => {
                if self.request_scan(cmd.response_url.clone()) {
                    tracing::info!(user = %cmd.user_id, "scan requested from Slack");
                    answered(certwatch_slack::scan_started())
                } else {
                    answered(certwatch_slack::scan_already_running())
                }
            }
            Err(refusal) => {
                tracing::info!(
                    user = %cmd.user_id,
                    team = %cmd.team_id,
                    channel = %cmd.channel_id,
                    ?refusal,
                    "refused a slash command"
                );
                (refusal.reply(), CommandOutcome::Refused)
            }
        };
        self.metrics.command(outcome);
        self.encode(&reply)
    }

    /// A reply as Slack's response JSON; one that cannot be encoded becomes an apology.
    pub(super) fn encode(&self, reply: &Reply) -> serde_json::Value {
        match serde_json::to_value(reply) {
            Ok(value) => value,
            Err(e) => {
                let id = self.error_id();
                tracing::error!(error_id = %id, "could not encode a reply: {e}");
                reply_json(&bot::apology(&id))
            }
        }
    }

    /// `/certs show` (and the *Details* button): the certificate with its history from the
    /// store.
    pub(super) async fn show(&self, arn: &str, public: bool) -> Reply {
        self.try_show(arn, public)
            .await
            .unwrap_or_else(|apology| apology)
    }

    /// [`App::show`], with the apology apart (`/metrics` counts it as an error).
    async fn try_show(&self, arn: &str, public: bool) -> Result<Reply, Reply> {
        let key = arn.to_owned();
        match self.with_store(move |store| store.history(&key)).await {
            Ok(history) => Ok(certwatch_slack::show_with_history(
                arn,
                &self.prepared(),
                &history,
                self.scan_running(),
                self.clock.now(),
                public,
            )),
            Err(e) => {
                let id = self.error_id();
                tracing::error!(error_id = %id, %arn, "reading a certificate's history: {e:#}");
                Err(bot::apology(&id))
            }
        }
    }

    /// Writes a snooze, an acknowledgement or an unsnooze (with its audit entry) and, once it
    /// is stored, holds it in memory; `Ok` confirms it, `Err` is the apology (nothing stored,
    /// nothing held; `/metrics` counts it as an error).
    pub(super) async fn try_record_decision(&self, decide: &Decide) -> Result<Reply, Reply> {
        let entry = decide.audit_entry();
        let decision = decide.decision.clone();
        let stored = {
            let (entry, decision) = (entry.clone(), decision.clone());
            self.with_store(move |store| store.decide(&entry, decision.as_ref()))
                .await
        };
        match stored {
            Ok(()) => {
                tracing::info!(
                    user = %entry.by,
                    channel = %entry.channel,
                    arn = %entry.arn,
                    action = ?entry.action,
                    "decision recorded"
                );
                self.update_decisions(|decisions| match decision {
                    Some(decision) => {
                        decisions.insert(entry.arn.clone(), decision);
                    }
                    None => {
                        decisions.remove(&entry.arn);
                    }
                });
                Ok(certwatch_slack::render::decided(decide))
            }
            Err(e) => {
                let id = self.error_id();
                tracing::error!(error_id = %id, arn = %entry.arn, "recording a decision: {e:#}");
                Err(bot::apology(&id))
            }
        }
    }
}

/// A reply, and whether it is an answer or an apology.
fn outcome_of(result: Result<Reply, Reply>) -> (Reply, CommandOutcome) {
    match result {
        Ok(reply) => (reply, CommandOutcome::Answered),
        Err(apology) => (apology, CommandOutcome::Error),
    }
}

/// A reply as JSON; the small fixed replies cannot fail to encode.
fn reply_json(reply: &certwatch_slack::Reply) -> serde_json::Value {
    serde_json::to_value(reply)
        .unwrap_or_else(|_| serde_json::json!({"response_type": "ephemeral", "text": reply.text}))
}

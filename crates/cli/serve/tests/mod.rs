//! The serve runtime in process: the router through tower's `oneshot`, the digest loop on a
//! clock that never sleeps, the scan loop with a scanner that hands back a prepared report, and
//! a Slack that records what it is sent. The end-to-end tests (tests/e2e/serve.rs) prove the
//! same wiring with the real binary, a real port and real signals.

use super::ports::{Clock, Resender, Scanner, SlackApi};

mod digest;
mod memory;
mod metrics;
mod resend;
mod router;
mod routing;
use super::{http, scan_loop, App, Parts, SlackStatus};
use crate::config::{FileConfig, ServeConfig};
use anyhow::Result;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use certwatch_core::{Inventory, Report, Stats};
use certwatch_slack::Digest;
use certwatch_store::{DigestMark, Store};
use chrono::{DateTime, NaiveDate, Utc};
use futures::future::BoxFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
const ADMIN: &str = "UADMIN0001";
const RESPONDER: &str = "URESPOND01";

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

/// A clock that jumps instead of sleeping: `sleep(d)` moves it forward by `d` at once.
struct FakeClock(Mutex<DateTime<Utc>>);

impl FakeClock {
    fn at(now: DateTime<Utc>) -> Arc<FakeClock> {
        Arc::new(FakeClock(Mutex::new(now)))
    }

    fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap() = now;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let step = chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::zero());
        *self.0.lock().unwrap() += step;
        Box::pin(tokio::task::yield_now())
    }
}

/// Hands back a prepared report (or an error) and counts the scans.
struct FakeScanner {
    report: Mutex<Report>,
    fail: bool,
    scans: AtomicUsize,
}

impl Scanner for FakeScanner {
    fn scan(&self, now: DateTime<Utc>, _previous: Arc<Inventory>) -> BoxFuture<'_, Result<Report>> {
        self.scans.fetch_add(1, Ordering::SeqCst);
        let mut report = self.report.lock().unwrap().clone();
        report.generated_at = now;
        let fail = self.fail;
        Box::pin(async move {
            if fail {
                anyhow::bail!("AccessDenied: secret-internal-detail");
            }
            Ok(report)
        })
    }
}

/// One digest as the fake Slack received it.
#[derive(Debug, Clone, PartialEq)]
struct Posted {
    channel: String,
    date: NaiveDate,
    at: DateTime<Utc>,
    ts: String,
}

/// Slack's Web API as the loops see it: records posts, finds them again by date, and can be told
/// to fail.
#[derive(Default)]
struct FakeSlack {
    clock: Mutex<Option<Arc<FakeClock>>>,
    posts: Mutex<Vec<Posted>>,
    responses: Mutex<Vec<(String, String)>>,
    /// `find_digest` fails (Slack unreachable).
    history_down: std::sync::atomic::AtomicBool,
    /// `post_digest` fails.
    post_down: std::sync::atomic::AtomicBool,
    finds: AtomicUsize,
    /// Message sets posted with `post_messages` (the alerts).
    alerts: Mutex<Vec<Digest>>,
    /// The channel of each of `alerts`.
    alert_channels: Mutex<Vec<String>>,
    /// Each digest posted, with its channel.
    digests: Mutex<Vec<(String, Digest)>>,
    /// `views.open` calls: (trigger_id, view).
    views: Mutex<Vec<(String, serde_json::Value)>>,
    /// Ephemeral replies through response URLs: (url, reply JSON).
    replies: Mutex<Vec<(String, serde_json::Value)>>,
    /// What `fetch_message` answers.
    message: Mutex<Option<serde_json::Value>>,
    /// `chat.update` calls: (channel, ts, message).
    updates: Mutex<Vec<(String, String, serde_json::Value)>>,
}

impl FakeSlack {
    fn posts(&self) -> Vec<Posted> {
        self.posts.lock().unwrap().clone()
    }

    /// A digest that reached Slack before the process could record it.
    fn already_has(&self, channel: &str, date: NaiveDate, at: DateTime<Utc>) {
        self.posts.lock().unwrap().push(Posted {
            channel: channel.to_owned(),
            date,
            at,
            ts: "1700000000.000001".to_owned(),
        });
    }
}

impl SlackApi for FakeSlack {
    fn post_digest<'a>(
        &'a self,
        channel: &'a str,
        digest: &'a Digest,
        date: NaiveDate,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            if self.post_down.load(Ordering::SeqCst) {
                anyhow::bail!("connection reset");
            }
            self.digests
                .lock()
                .unwrap()
                .push((channel.to_owned(), digest.clone()));
            let at = self.clock.lock().unwrap().as_ref().map(|c| c.now());
            let mut posts = self.posts.lock().unwrap();
            let ts = format!("1764300000.{:06}", posts.len() + 1);
            posts.push(Posted {
                channel: channel.to_owned(),
                date,
                at: at.unwrap_or(DateTime::UNIX_EPOCH),
                ts: ts.clone(),
            });
            Ok(ts)
        })
    }

    fn find_digest<'a>(
        &'a self,
        channel: &'a str,
        date: NaiveDate,
        since: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            self.finds.fetch_add(1, Ordering::SeqCst);
            if self.history_down.load(Ordering::SeqCst) {
                anyhow::bail!("conversations.history: connection refused");
            }
            Ok(self
                .posts()
                .into_iter()
                .find(|p| p.channel == channel && p.date == date && p.at >= since)
                .map(|p| p.ts))
        })
    }

    fn respond<'a>(&'a self, response_url: &'a str, text: &'a str) -> BoxFuture<'a, ()> {
        self.responses
            .lock()
            .unwrap()
            .push((response_url.to_owned(), text.to_owned()));
        Box::pin(async {})
    }

    fn post_messages<'a>(
        &'a self,
        channel: &'a str,
        messages: &'a Digest,
    ) -> BoxFuture<'a, Result<String>> {
        self.alert_channels.lock().unwrap().push(channel.to_owned());
        let mut alerts = self.alerts.lock().unwrap();
        alerts.push(messages.clone());
        let ts = format!("1764400000.{:06}", alerts.len());
        Box::pin(async move { Ok(ts) })
    }

    fn respond_reply<'a>(
        &'a self,
        response_url: &'a str,
        reply: &'a certwatch_slack::Reply,
    ) -> BoxFuture<'a, ()> {
        self.replies.lock().unwrap().push((
            response_url.to_owned(),
            serde_json::to_value(reply).unwrap(),
        ));
        Box::pin(async {})
    }

    fn open_view<'a>(
        &'a self,
        trigger_id: &'a str,
        view: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<()>> {
        self.views
            .lock()
            .unwrap()
            .push((trigger_id.to_owned(), view.clone()));
        Box::pin(async { Ok(()) })
    }

    fn fetch_message<'a>(
        &'a self,
        _channel: &'a str,
        _ts: &'a str,
    ) -> BoxFuture<'a, Result<Option<serde_json::Value>>> {
        let message = self.message.lock().unwrap().clone();
        Box::pin(async move { Ok(message) })
    }

    fn update_message<'a>(
        &'a self,
        channel: &'a str,
        ts: &'a str,
        message: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<()>> {
        self.updates
            .lock()
            .unwrap()
            .push((channel.to_owned(), ts.to_owned(), message.clone()));
        Box::pin(async { Ok(()) })
    }
}

/// ACM's side of `/certs resend`: counts the calls and answers `outcome`.
struct FakeResender {
    calls: Mutex<Vec<(String, String, String)>>,
    outcome: Mutex<certwatch_slack::resend::Outcome>,
}

impl FakeResender {
    fn calls(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}

impl Default for FakeResender {
    fn default() -> Self {
        FakeResender {
            calls: Mutex::default(),
            outcome: Mutex::new(certwatch_slack::resend::Outcome::Sent {
                sent: vec![certwatch_slack::resend::Sent {
                    domain: "campaign.example.org".to_owned(),
                    emails: vec![
                        "admin@example.org".to_owned(),
                        "hostmaster@example.org".to_owned(),
                    ],
                }],
                not_sent: None,
            }),
        }
    }
}

impl Resender for FakeResender {
    fn resend<'a>(
        &'a self,
        account_id: &'a str,
        region: &'a str,
        arn: &'a str,
    ) -> BoxFuture<'a, certwatch_slack::resend::Outcome> {
        self.calls
            .lock()
            .unwrap()
            .push((account_id.to_owned(), region.to_owned(), arn.to_owned()));
        let outcome = self.outcome.lock().unwrap().clone();
        Box::pin(async move { outcome })
    }
}

fn config(digest: &str) -> ServeConfig {
    let text = format!(
        r#"
[serve]
store_path = "unused.sqlite"
[slack]
transport = "http"
admin_user_ids = ["{ADMIN}"]
responder_user_ids = ["{RESPONDER}"]
team_id = "T0001"
channel_ids = ["C0001", "C0002"]
{digest}
"#
    );
    FileConfig::parse(&text, "test.toml")
        .and_then(|file| file.serve_config("test.toml"))
        .expect("a valid test config")
}

fn digest_at(time: &str, zone: &str) -> String {
    format!(
        "[slack.digest]\nchannel = \"CDIGEST01\"\ntime = \"{time}\"\ntime_zone = \"{zone}\"\n\
         post_when_clear = true"
    )
}

fn empty_report(at: DateTime<Utc>) -> Report {
    Report {
        generated_at: at,
        certificates: vec![],
        failures: vec![],
        accounts: Vec::new(),
        stats: Stats::default(),
    }
}

/// What a test builds an [`App`] from.
struct Rig {
    clock: Arc<FakeClock>,
    slack: Arc<FakeSlack>,
    scanner: Arc<FakeScanner>,
    resender: Arc<FakeResender>,
}

impl Rig {
    fn new(now: DateTime<Utc>, report: Report) -> Rig {
        let clock = FakeClock::at(now);
        let slack = Arc::new(FakeSlack::default());
        *slack.clock.lock().unwrap() = Some(clock.clone());
        Rig {
            clock,
            slack,
            scanner: Arc::new(FakeScanner {
                report: Mutex::new(report),
                fail: false,
                scans: AtomicUsize::new(0),
            }),
            resender: Arc::new(FakeResender::default()),
        }
    }

    fn app(&self, config: ServeConfig, store: Store) -> Arc<App> {
        App::new(Parts {
            config,
            clock: self.clock.clone(),
            scanner: self.scanner.clone(),
            slack: Some(self.slack.clone() as Arc<dyn SlackApi>),
            resender: Some(self.resender.clone() as Arc<dyn Resender>),
            store,
            signing_secret: Some(SECRET.to_vec()),
            slack_status: SlackStatus {
                transport: "http",
                ..SlackStatus::default()
            },
        })
        .expect("the app")
    }
}

/// A store that already holds one scan (the digest waits for an inventory).
fn scanned_store(report: &Report) -> Store {
    let mut store = Store::open_in_memory().expect("store");
    store.record_scan(report).expect("record");
    store
}

/// Runs the digest loop until `done` holds for the fake Slack's posts (or the clock passes
/// `until`), then stops the app and waits for the loop to end.
async fn run_digests(
    app: &Arc<App>,
    rig: &Rig,
    until: DateTime<Utc>,
    done: impl Fn(&[Posted]) -> bool,
) {
    let task = tokio::spawn(crate::serve::digest_loop::digest_loop(app.clone()));
    let started = std::time::Instant::now();
    while !done(&rig.slack.posts()) && rig.clock.now() < until {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the digest loop made no progress; posts: {:?}",
            rig.slack.posts()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    app.stop();
    task.await.expect("the digest loop ends when stopped");
}

// ── Requests to the router, in process ─────────────────────────────────────────────────────

async fn send(app: &Arc<App>, request: Request<Body>) -> (StatusCode, String) {
    let response = http::router(app.clone())
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn get(app: &Arc<App>, path: &str) -> (StatusCode, String) {
    send(app, Request::get(path).body(Body::empty()).unwrap()).await
}

fn form(team: &str, channel: &str, user: &str, text: &str, response_url: &str) -> String {
    let enc = |s: &str| -> String { form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    format!(
        "token=unused&team_id={team}&team_domain=example&channel_id={channel}&channel_name=ops\
         &user_id={user}&user_name=someone&command=%2Fcerts&text={}&response_url={}\
         &trigger_id=1.2.3",
        enc(text),
        enc(response_url)
    )
}

fn command_request(body: &str, timestamp: &str, signature: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/slack/commands")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", timestamp);
    if let Some(signature) = signature {
        request = request.header("x-slack-signature", signature);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

/// A command signed as Slack signs it, at the app's clock.
async fn signed(app: &Arc<App>, body: &str) -> (StatusCode, serde_json::Value) {
    let timestamp = app.clock.now().timestamp().to_string();
    let signature = certwatch_slack::verify::sign(SECRET, &timestamp, body.as_bytes());
    let (status, text) = send(app, command_request(body, &timestamp, Some(&signature))).await;
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, json)
}

/// `/certs <text>` from a user in an allowed channel.
async fn certs(app: &Arc<App>, user: &str, text: &str) -> String {
    let (status, reply) = signed(app, &form("T0001", "C0001", user, text, "")).await;
    assert_eq!(status, StatusCode::OK, "/certs {text}: {reply}");
    reply.to_string()
}

/// The demo organization's report, scanned in process (the same as `certwatch demo`).
async fn demo_report() -> Report {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    crate::demo().await.expect("the demo scan")
}

/// The demo's `domain`.
fn record_of<'r>(report: &'r Report, domain: &str) -> &'r certwatch_core::CertificateRecord {
    report
        .certificates
        .iter()
        .find(|c| c.facts.domain_name.as_deref() == Some(domain))
        .unwrap_or_else(|| panic!("the demo has {domain}"))
}

/// Everything the alert messages say, as one string.
fn alert_text(slack: &FakeSlack) -> Vec<String> {
    slack
        .alerts
        .lock()
        .unwrap()
        .iter()
        .map(|set| {
            std::iter::once(&set.parent)
                .chain(&set.replies)
                .map(|m| serde_json::to_string(&m.blocks).unwrap())
                .collect::<String>()
        })
        .collect()
}

/// A signed interaction request with `payload`.
fn interaction_request(app: &Arc<App>, payload: &serde_json::Value, sign: bool) -> Request<Body> {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    let timestamp = app.clock.now().timestamp().to_string();
    let signature = if sign {
        certwatch_slack::verify::sign(SECRET, &timestamp, body.as_bytes())
    } else {
        certwatch_slack::verify::sign(b"not the secret", &timestamp, body.as_bytes())
    };
    Request::post("/slack/interactions")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", timestamp)
        .header("x-slack-signature", signature)
        .body(Body::from(body))
        .unwrap()
}

/// A click on *Snooze 7 days*.
fn click(user: &str, arn: &str) -> serde_json::Value {
    button_click(user, arn, "certwatch_snooze_7d")
}

/// A click on one of our buttons (`action_id`) under a message in channel C0001.
fn button_click(user: &str, arn: &str, action_id: &str) -> serde_json::Value {
    button_click_in(user, arn, action_id, "C0001")
}

fn button_click_in(user: &str, arn: &str, action_id: &str, channel: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T0001"},
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": "1764400000.000001"},
        "trigger_id": "trigger-1",
        "response_url": "https://hooks.example/actions/1",
        "actions": [{"type": "button", "action_id": action_id, "value": arn,
                     "block_id": "b", "action_ts": "1"}]
    })
}

/// Whether a scan was asked for (and takes the request).
async fn scan_was_requested(app: &Arc<App>) -> bool {
    tokio::time::timeout(Duration::from_millis(50), app.scan_now.notified())
        .await
        .is_ok()
}

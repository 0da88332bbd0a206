//! The serve runtime in process: the router through tower's `oneshot`, the digest loop on a
//! clock that never sleeps, the scan loop with a scanner that hands back a prepared report, and
//! a Slack that records what it is sent. The end-to-end tests (tests/e2e/serve.rs) prove the
//! same wiring with the real binary, a real port and real signals.

use super::ports::{Clock, Scanner, SlackApi};

mod memory;
mod metrics;
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
        _digest: &'a Digest,
        date: NaiveDate,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            if self.post_down.load(Ordering::SeqCst) {
                anyhow::bail!("connection reset");
            }
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
        _channel: &'a str,
        messages: &'a Digest,
    ) -> BoxFuture<'a, Result<String>> {
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
        stats: Stats::default(),
    }
}

/// What a test builds an [`App`] from.
struct Rig {
    clock: Arc<FakeClock>,
    slack: Arc<FakeSlack>,
    scanner: Arc<FakeScanner>,
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
        }
    }

    fn app(&self, config: ServeConfig, store: Store) -> Arc<App> {
        App::new(Parts {
            config,
            clock: self.clock.clone(),
            scanner: self.scanner.clone(),
            slack: Some(self.slack.clone() as Arc<dyn SlackApi>),
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
    let task = tokio::spawn(super::digest_loop::digest_loop(app.clone()));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_keeps_its_local_time_across_dst_changes() {
    // (zone, local time, first instant, the UTC instants of four digests in a row)
    let cases = [
        (
            "America/New_York",
            "09:00",
            "2026-03-06T12:00:00Z",
            // Spring forward on 2026-03-08: 09:00 EST is 14:00 UTC, 09:00 EDT 13:00 UTC.
            [
                "2026-03-06T14:00:00Z",
                "2026-03-07T14:00:00Z",
                "2026-03-08T13:00:00Z",
                "2026-03-09T13:00:00Z",
            ],
        ),
        (
            "Europe/Berlin",
            "02:30",
            "2026-10-24T00:00:00Z",
            // Fall back on 2026-10-25: 02:30 happens twice, the digest goes out the first time
            // (CEST). 02:30 CEST is 00:30 UTC, 02:30 CET 01:30 UTC.
            [
                "2026-10-24T00:30:00Z",
                "2026-10-25T00:30:00Z",
                "2026-10-26T01:30:00Z",
                "2026-10-27T01:30:00Z",
            ],
        ),
        (
            "America/New_York",
            "02:30",
            "2026-03-07T05:00:00Z",
            // 02:30 does not exist on 2026-03-08: the digest goes out when the clocks resume
            // (03:00 EDT, 07:00 UTC).
            [
                "2026-03-07T07:30:00Z",
                "2026-03-08T07:00:00Z",
                "2026-03-09T06:30:00Z",
                "2026-03-10T06:30:00Z",
            ],
        ),
    ];
    for (zone, time, start, expected) in cases {
        let rig = Rig::new(utc(start), empty_report(utc(start)));
        let app = rig.app(
            config(&digest_at(time, zone)),
            scanned_store(&empty_report(utc(start))),
        );
        run_digests(
            &app,
            &rig,
            utc(expected[3]) + chrono::Duration::days(1),
            |p| p.len() >= 4,
        )
        .await;
        let posts = rig.slack.posts();
        let times: Vec<String> = posts
            .iter()
            .map(|p| p.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .collect();
        assert_eq!(times, expected, "{zone} {time}");
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        for post in &posts {
            assert_eq!(post.channel, "CDIGEST01");
            assert_eq!(post.date, post.at.with_timezone(&tz).date_naive());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_posts_neither_twice_nor_never() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    let start = utc("2026-11-02T07:00:00Z");
    let rig = Rig::new(start, empty_report(start));
    {
        let mut store = Store::open(&path).unwrap();
        store.record_scan(&empty_report(start)).unwrap();
        let app = rig.app(config(&digest_at("09:00", "UTC")), store);
        run_digests(&app, &rig, utc("2026-11-03T00:00:00Z"), |p| !p.is_empty()).await;
        assert_eq!(app.digest_problem(), None);
    }
    assert_eq!(rig.slack.posts().len(), 1);

    // The same day, later: a new process on the same store posts nothing.
    rig.clock.set(utc("2026-11-02T15:00:00Z"));
    let app = rig.app(
        config(&digest_at("09:00", "UTC")),
        Store::open(&path).unwrap(),
    );
    run_digests(&app, &rig, utc("2026-11-02T23:00:00Z"), |p| p.len() > 1).await;
    assert_eq!(rig.slack.posts().len(), 1, "posted again after a restart");
    drop(app);

    // Down over the next digest's time: posted late the same day, once.
    rig.clock.set(utc("2026-11-03T18:00:00Z"));
    let app = rig.app(
        config(&digest_at("09:00", "UTC")),
        Store::open(&path).unwrap(),
    );
    run_digests(&app, &rig, utc("2026-11-03T23:59:00Z"), |p| p.len() > 2).await;
    let posts = rig.slack.posts();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(posts[1].date, date("2026-11-03"));
    assert_eq!(posts[1].at, utc("2026-11-03T18:00:00Z"), "late, at once");
    drop(app);
    let store = Store::open(&path).unwrap();
    assert!(matches!(
        store.digest_mark(date("2026-11-03")).unwrap(),
        Some(DigestMark::Posted { ts, .. }) if ts == posts[1].ts
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intent_without_a_record_is_confirmed_with_slack_before_posting() {
    let start = utc("2026-11-02T09:00:30Z");
    let intended = utc("2026-11-02T09:00:00Z");

    // The post reached Slack, the process died before recording it: Slack has it, nothing is
    // posted again, and the store learns its ts.
    let rig = Rig::new(start, empty_report(start));
    let mut store = scanned_store(&empty_report(start));
    store
        .record_digest_intent(date("2026-11-02"), "CDIGEST01", intended)
        .unwrap();
    rig.slack
        .already_has("CDIGEST01", date("2026-11-02"), intended);
    let app = rig.app(config(&digest_at("09:00", "UTC")), store);
    run_digests(&app, &rig, utc("2026-11-02T12:00:00Z"), |_| false).await;
    assert_eq!(rig.slack.posts().len(), 1, "posted twice");
    assert_eq!(rig.slack.finds.load(Ordering::SeqCst), 1);
    let mark = app
        .with_store(|s| s.digest_mark(date("2026-11-02")))
        .await
        .unwrap();
    assert!(
        matches!(&mark, Some(DigestMark::Posted { ts, .. }) if ts == "1700000000.000001"),
        "{mark:?}"
    );

    // The process died before the post went out: Slack has nothing, so it is posted once.
    let rig = Rig::new(start, empty_report(start));
    let mut store = scanned_store(&empty_report(start));
    store
        .record_digest_intent(date("2026-11-02"), "CDIGEST01", intended)
        .unwrap();
    let app = rig.app(config(&digest_at("09:00", "UTC")), store);
    run_digests(&app, &rig, utc("2026-11-02T12:00:00Z"), |_| false).await;
    assert_eq!(rig.slack.posts().len(), 1);

    // Slack cannot be asked: nothing is posted (a double is worse than a late digest) and the
    // problem shows in /readyz; once Slack answers, the digest goes out.
    let rig = Rig::new(start, empty_report(start));
    let mut store = scanned_store(&empty_report(start));
    store
        .record_digest_intent(date("2026-11-02"), "CDIGEST01", intended)
        .unwrap();
    rig.slack.history_down.store(true, Ordering::SeqCst);
    let app = rig.app(config(&digest_at("09:00", "UTC")), store);
    let task = tokio::spawn(super::digest_loop::digest_loop(app.clone()));
    while rig.slack.finds.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(rig.slack.posts().is_empty());
    let problem = app.digest_problem().expect("a digest problem");
    assert!(problem.contains("cannot tell whether"), "{problem}");
    let ready = get(&app, "/readyz").await;
    assert!(ready.1.contains("cannot tell whether"), "{}", ready.1);
    rig.slack.history_down.store(false, Ordering::SeqCst);
    while rig.slack.posts().is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    app.stop();
    task.await.unwrap();
    assert_eq!(rig.slack.posts().len(), 1);
    assert_eq!(app.digest_problem(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_store_posts_once_then_reports_the_error() {
    let start = utc("2026-11-02T08:00:00Z");
    let rig = Rig::new(start, empty_report(start));
    let mut store = scanned_store(&empty_report(start));
    store.set_read_only(true).unwrap();
    let app = rig.app(config(&digest_at("09:00", "UTC")), store);
    // A whole day of turns after the digest's time.
    run_digests(&app, &rig, utc("2026-11-02T23:55:00Z"), |_| false).await;
    let posts = rig.slack.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].at, utc("2026-11-02T09:00:00Z"));
    let problem = app.digest_problem().expect("the error is reported");
    assert!(
        problem.contains("could not record") || problem.contains("cannot record"),
        "{problem}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_post_is_retried_without_doubling() {
    let start = utc("2026-11-02T09:00:00Z");
    let rig = Rig::new(start, empty_report(start));
    rig.slack.post_down.store(true, Ordering::SeqCst);
    let app = rig.app(
        config(&digest_at("09:00", "UTC")),
        scanned_store(&empty_report(start)),
    );
    let task = tokio::spawn(super::digest_loop::digest_loop(app.clone()));
    // The first post failed; the loop asks Slack before each new attempt.
    while rig.slack.finds.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    rig.slack.post_down.store(false, Ordering::SeqCst);
    while rig.slack.posts().is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // And the rest of the day passes without another.
    while rig.clock.now() < utc("2026-11-02T20:00:00Z") {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    app.stop();
    task.await.unwrap();
    assert_eq!(rig.slack.posts().len(), 1);
}

// ── The router, in process ──────────────────────────────────────────────────────────────────

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness() {
    let now = utc("2026-11-02T08:00:00Z");
    let rig = Rig::new(now, empty_report(now));
    let app = rig.app(config(""), Store::open_in_memory().unwrap());
    assert_eq!(get(&app, "/healthz").await, (StatusCode::OK, "ok\n".into()));
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "no inventory yet");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["ready"], false);
    assert_eq!(ready["slack"]["transport"], "http");

    scan_loop::scan_once(&app).await;
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(rig.scanner.scans.load(Ordering::SeqCst), 1);

    // Socket Mode is ready only once Slack said hello on the WebSocket.
    app.update_slack_status(|s| s.transport = "socket");
    assert_eq!(
        get(&app, "/readyz").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    app.update_slack_status(|s| s.connected_at = Some(now));
    assert_eq!(get(&app, "/readyz").await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_is_answered_from_the_inventory() {
    let report = demo_report().await;
    let now = report.generated_at;
    let rig = Rig::new(now, report.clone());
    let app = rig.app(config(""), scanned_store(&report));
    let arn = report
        .certificates
        .iter()
        .find(|c| c.facts.domain_name.as_deref() == Some("billing.example.com"))
        .expect("the demo has billing.example.com")
        .facts
        .arn
        .clone();
    let id = arn.rsplit('/').next().unwrap().to_owned();
    // (command, what its answer must say, what it must not)
    let cases: [(&str, &str, &str); 12] = [
        ("", "ACM certificates: 46 in 5 accounts", "Sorry"),
        ("summary", "ACM certificates: 46 in 5 accounts", "Sorry"),
        ("help", "/certs expiring", "Sorry"),
        ("expiring 30", "promo.example.net", "fraud-api.example.com"),
        (
            "account 456789012345",
            "billing.example.com",
            "promo.example.net",
        ),
        (
            "account payments-prod",
            "billing.example.com",
            "promo.example.net",
        ),
        (
            "domain billing.example.com",
            "billing.example.com",
            "promo.example.net",
        ),
        ("code IMPORTED", "IMPORTED", "billing.example.com"),
        ("failures", "data-staging", "Sorry"),
        ("show ARN", "billing.example.com", "promo.example.net"),
        ("show ID", "billing.example.com", "promo.example.net"),
        ("frobnicate", "Sorry", "billing.example.com"),
    ];
    for (text, must, must_not) in cases {
        let text = text.replace("ARN", &arn).replace("ID", &id);
        let reply = certs(&app, "U0000001", &text).await;
        assert!(reply.contains(must), "/certs {text}: {reply}");
        assert!(!reply.contains(must_not), "/certs {text}: {reply}");
        assert!(reply.contains("\"response_type\":\"ephemeral\""), "{reply}");
    }
    // `public` answers in the channel.
    let reply = certs(&app, "U0000001", "summary public").await;
    assert!(
        reply.contains("\"response_type\":\"in_channel\""),
        "{reply}"
    );

    // Scans: admins only, one at a time; nobody else reaches the scanner.
    let reply = certs(&app, "U0000001", "scan").await;
    assert!(reply.contains("Only certwatch admins"), "{reply}");
    assert!(!scan_was_requested(&app).await);
    let reply = certs(&app, ADMIN, "scan").await;
    assert!(reply.contains("Scan started"), "{reply}");
    assert!(scan_was_requested(&app).await);
    app.set_scan_running(true);
    let reply = certs(&app, ADMIN, "scan").await;
    assert!(reply.to_lowercase().contains("already running"), "{reply}");
    app.set_scan_running(false);
    assert_eq!(rig.scanner.scans.load(Ordering::SeqCst), 0);
}

/// Whether a scan was asked for (and takes the request).
async fn scan_was_requested(app: &Arc<App>) -> bool {
    tokio::time::timeout(Duration::from_millis(50), app.scan_now.notified())
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gating_refuses_without_revealing_anything() {
    let report = demo_report().await;
    let rig = Rig::new(report.generated_at, report.clone());
    let app = rig.app(config(""), scanned_store(&report));
    let cases = [
        ("T9999", "C0001", "not enabled for this workspace"),
        ("T0001", "C0999", "does not answer in this channel"),
    ];
    for (team, channel, refusal) in cases {
        let (status, reply) = signed(&app, &form(team, channel, ADMIN, "scan", "")).await;
        assert_eq!(status, StatusCode::OK);
        let reply = reply.to_string();
        assert!(reply.contains(refusal), "{reply}");
        for secret in ["C0001", "C0002", "T0001", "example.com"] {
            assert!(!reply.contains(secret), "{secret} in {reply}");
        }
        assert!(!scan_was_requested(&app).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_oversized_requests_change_nothing() {
    let now = utc("2026-11-02T08:00:00Z");
    let rig = Rig::new(now, empty_report(now));
    let app = rig.app(config(""), scanned_store(&empty_report(now)));
    let body = form(
        "T0001",
        "C0001",
        ADMIN,
        "scan",
        "http://127.0.0.1:9/response",
    );
    let ts = now.timestamp().to_string();
    let stale = (now.timestamp() - 600).to_string();
    let good = certwatch_slack::verify::sign(SECRET, &ts, body.as_bytes());
    let forged = [
        command_request(
            &body,
            &ts,
            Some(&certwatch_slack::verify::sign(SECRET, &ts, b"other")),
        ),
        command_request(&body, &ts, Some("v0=deadbeef")),
        command_request(
            &body,
            &stale,
            Some(&certwatch_slack::verify::sign(
                SECRET,
                &stale,
                body.as_bytes(),
            )),
        ),
        command_request(&body, &ts, None),
        command_request(&body, &(now.timestamp() + 1).to_string(), Some(&good)),
        command_request(
            &body,
            &ts,
            Some(&certwatch_slack::verify::sign(
                b"wrong secret",
                &ts,
                body.as_bytes(),
            )),
        ),
    ];
    for (i, request) in forged.into_iter().enumerate() {
        let (status, text) = send(&app, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "forgery {i}: {text}");
    }
    assert!(!scan_was_requested(&app).await, "a forged scan got through");
    assert!(app.take_scan_waiters().is_empty());

    let huge = "x".repeat(http::MAX_BODY + 1);
    let (status, text) = send(&app, command_request(&huge, &ts, Some(&good))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text.contains("not a Slack request"), "{text}");
    assert!(!scan_was_requested(&app).await);

    // Without a signing secret (Socket Mode) there is no command route at all.
    let socket = App::new(Parts {
        config: config(""),
        clock: rig.clock.clone(),
        scanner: rig.scanner.clone(),
        slack: None,
        store: Store::open_in_memory().unwrap(),
        signing_secret: None,
        slack_status: SlackStatus::default(),
    })
    .unwrap();
    let (status, _) = send(&socket, command_request(&body, &ts, Some(&good))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_reach_slack_as_an_apology_with_an_id_only() {
    let now = utc("2026-11-02T08:00:00Z");
    // The store cannot take the scan.
    let rig = Rig::new(now, empty_report(now));
    let mut store = Store::open_in_memory().unwrap();
    store.set_read_only(true).unwrap();
    let app = rig.app(config(""), store);
    assert!(app.request_scan(Some("https://hooks.example/1".to_owned())));
    scan_loop::scan_once(&app).await;
    // The scanner fails.
    let failing = Rig {
        scanner: Arc::new(FakeScanner {
            report: Mutex::new(empty_report(now)),
            fail: true,
            scans: AtomicUsize::new(0),
        }),
        clock: rig.clock.clone(),
        slack: rig.slack.clone(),
    };
    let app2 = failing.app(config(""), Store::open_in_memory().unwrap());
    assert!(app2.request_scan(Some("https://hooks.example/2".to_owned())));
    scan_loop::scan_once(&app2).await;

    let responses = rig.slack.responses.lock().unwrap().clone();
    assert_eq!(responses.len(), 2, "{responses:?}");
    let mut ids = Vec::new();
    for (url, text) in &responses {
        assert!(url.starts_with("https://hooks.example/"));
        assert!(text.contains("error `E"), "{text}");
        for internal in [
            "readonly",
            "read-only",
            "sqlite",
            "SQLITE",
            "AccessDenied",
            "secret",
        ] {
            assert!(!text.contains(internal), "{internal} leaked: {text}");
        }
        ids.push(text.split('`').nth(1).unwrap().to_owned());
    }
    assert_ne!(ids[0], ids[1], "each failure has its own id");
    assert!(!app.has_inventory(), "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_app_takes_no_commands_and_abandons_its_scan() {
    let now = utc("2026-11-02T08:00:00Z");
    let rig = Rig::new(now, empty_report(now));
    let app = rig.app(config(""), scanned_store(&empty_report(now)));
    app.stop();
    let reply = certs(&app, ADMIN, "scan").await;
    assert!(reply.contains("restarting"), "{reply}");
    assert!(!scan_was_requested(&app).await);
    // The scan loop returns at once.
    tokio::time::timeout(Duration::from_secs(5), scan_loop::scan_loop(app.clone()))
        .await
        .expect("the scan loop stops");
    assert_eq!(rig.scanner.scans.load(Ordering::SeqCst), 0);
}

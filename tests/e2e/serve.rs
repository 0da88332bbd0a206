//! `certwatch serve` end to end: the simulated organization as AWS, a fake Slack Web API that
//! records every post, and signed (and forged) slash-command requests over real HTTP.

use crate::support::fake_slack::FakeSlack;
use crate::support::http::request;
use certwatch_sim::Scenario;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const ADMIN: &str = "UADMIN0001";

fn sign(timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn form(user: &str, text: &str, response_url: &str) -> String {
    form_in("C0001", user, text, response_url)
}

fn form_in(channel: &str, user: &str, text: &str, response_url: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "token=unused&team_id=T0001&team_domain=example&channel_id={channel}&channel_name=ops\
         &user_id={user}&user_name=someone&command=%2Fcerts&text={}&response_url={}\
         &trigger_id=123.456.abc",
        enc(text),
        enc(response_url)
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Serve {
    child: Child,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_serve(config: &Path, aws: &str, log: &Path) -> Serve {
    let log = std::fs::File::create(log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_certwatch"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .env_remove("CERTWATCH_CONFIG_TOML")
        .env_remove("AWS_PROFILE")
        .env("AWS_ENDPOINT_URL", aws)
        .env("AWS_ACCESS_KEY_ID", "sim")
        .env("AWS_SECRET_ACCESS_KEY", "sim")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("SLACK_BOT_TOKEN", "xoxb-test-token")
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_APP_TOKEN", "xapp-test-token")
        .env("CERTWATCH_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start certwatch serve");
    Serve { child }
}

async fn wait_ready(addr: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = request(addr, "GET", "/readyz", &[], "").await {
            if r.status == 200 {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "serve never became ready; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn command(
    addr: &str,
    body: &str,
    timestamp: i64,
    signature: Option<String>,
) -> (u16, String) {
    let mut headers = vec![(
        "Content-Type",
        "application/x-www-form-urlencoded".to_owned(),
    )];
    headers.push(("X-Slack-Request-Timestamp", timestamp.to_string()));
    if let Some(sig) = signature {
        headers.push(("X-Slack-Signature", sig));
    }
    let r = request(addr, "POST", "/slack/commands", &headers, body)
        .await
        .expect("command request");
    (r.status, r.body)
}

async fn signed(addr: &str, body: &str) -> (u16, String) {
    let now = Utc::now().timestamp();
    command(addr, body, now, Some(sign(now, body))).await
}

fn text_of(post: &Value) -> String {
    post.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_posts_one_digest_and_answers_signed_commands() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let sim = certwatch_sim::serve(Scenario::demo(), Utc::now())
        .await
        .unwrap();
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    // Whole seconds: the configured time has no fraction.
    let digest_at =
        chrono::Timelike::with_nanosecond(&(Utc::now() + chrono::Duration::seconds(10)), 0)
            .unwrap();
    let config = dir.path().join("certwatch.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[organization]
member_role_name = "OrganizationAccountAccessRole"
[scan]
regions = "enabled"
[checks]
dns = false
tls = false
[serve]
listen = "{addr}"
store_path = "{store}"
[slack]
transport = "http"
api_url = "{api}"
admin_user_ids = ["{ADMIN}"]
team_id = "T0001"
channel_ids = ["C0001", "C0002"]
[slack.digest]
channel = "CDIGEST01"
time = "{time}"
time_zone = "UTC"
"#,
            store = dir.path().join("store.sqlite").display(),
            api = slack.api_url,
            time = digest_at.format("%H:%M:%S"),
        ),
    )
    .unwrap();
    let log = dir.path().join("serve.log");
    let serve = start_serve(&config, &sim.endpoint(), &log);
    wait_ready(&addr, &log).await;
    let health = request(&addr, "GET", "/healthz", &[], "").await.unwrap();
    assert_eq!(health.status, 200);

    // A signed `/certs account <id>`: payments-prod's certificates, nobody else's.
    let (status, body) = signed(&addr, &form("U0000001", "account 456789012345", "")).await;
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).expect("a JSON reply");
    assert_eq!(reply["response_type"], "ephemeral");
    let text = reply.to_string();
    for domain in [
        "billing.example.com",
        "legacy-pay.example.com",
        "old-checkout.example.com",
    ] {
        assert!(text.contains(domain), "{domain} missing from {text}");
    }
    for other in [
        "promo.example.net",
        "vpn.example.com",
        "hackathon.sandbox.example.com",
    ] {
        assert!(
            !text.contains(other),
            "{other} is not payments-prod's: {text}"
        );
    }

    // Outside the configured channels: a polite refusal, no data.
    let (status, body) = signed(
        &addr,
        &form_in("C0999", "U0000001", "account 456789012345", ""),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("does not answer in this channel"), "{body}");
    assert!(
        !body.contains("C0001") && !body.contains("C0002"),
        "a refusal names no allowed channel: {body}"
    );
    assert!(!body.contains("billing.example.com"));

    // Forged requests: 401 and no side effect.
    let body = form(ADMIN, "scan", "");
    let now = Utc::now().timestamp();
    let before = sim.request_count();
    let forged = [
        command(&addr, &body, now, Some(sign(now, "something else"))).await,
        command(&addr, &body, now, Some("v0=deadbeef".to_owned())).await,
        command(&addr, &body, now - 600, Some(sign(now - 600, &body))).await,
        command(&addr, &body, now, None).await,
        // A captured request replayed with a fresh timestamp.
        command(&addr, &body, now + 1, Some(sign(now, &body))).await,
    ];
    for (i, (status, text)) in forged.iter().enumerate() {
        assert_eq!(*status, 401, "forged request {i} got {status}: {text}");
        assert!(!text.contains("example.com"));
    }
    // Not an admin: refused, no scan.
    let (status, body) = signed(&addr, &form("U0000001", "scan", "")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Only certwatch admins"), "{body}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sim.request_count(),
        before,
        "a refused or forged scan reached AWS"
    );

    // Reply latency from the store: a few hundred signed requests, one after another.
    let mut samples = Vec::new();
    for _ in 0..300 {
        let body = form("U0000001", "", "");
        let start = Instant::now();
        let (status, _) = signed(&addr, &body).await;
        samples.push(start.elapsed());
        assert_eq!(status, 200);
    }
    samples.sort();
    eprintln!(
        "/certs reply latency over {} requests: p50 {:?}, p99 {:?}, max {:?}",
        samples.len(),
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
        samples[samples.len() - 1]
    );

    // The digest: posted once, at the scheduled time, to the channel, with the bot token.
    let deadline = Instant::now() + Duration::from_secs(40);
    while slack.posts().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no digest was posted; serve log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(Utc::now() >= digest_at, "posted before its time");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let posts = slack.posts();
    let parents: Vec<_> = posts
        .iter()
        .filter(|p| p.body["thread_ts"].is_null())
        .collect();
    assert_eq!(parents.len(), 1, "exactly one digest: {posts:#?}");
    let parent = parents[0];
    assert_eq!(parent.body["channel"], "CDIGEST01");
    assert_eq!(parent.authorization, "Bearer xoxb-test-token");
    let all: String = posts.iter().map(|p| text_of(&p.body)).collect();
    for needing in [
        "legacy-pay.example.com",
        "promo.example.net",
        "pay.example.it",
    ] {
        assert!(all.contains(needing), "digest lacks {needing}");
    }
    assert!(
        !all.contains("fraud-api.example.com"),
        "healthy certificates are not listed"
    );
    // The fake numbers its answers: the parent, posted first, got ts 1764300000.000001.
    assert!(
        std::ptr::eq(parent, &posts[0]),
        "the parent is posted first"
    );
    for reply in &posts[1..] {
        assert_eq!(reply.body["channel"], "CDIGEST01");
        assert_eq!(
            reply.body["thread_ts"], "1764300000.000001",
            "replies are threaded"
        );
    }

    // An admin's `/certs scan` reaches AWS, and the response_url hears when it is done.
    let response_url = format!("{}scan-1", slack.response_base);
    let before = sim.request_count();
    let (status, body) = signed(&addr, &form(ADMIN, "scan", &response_url)).await;
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !slack.calls().iter().any(|c| c.method == "response/scan-1") {
        assert!(Instant::now() < deadline, "no delayed reply after the scan");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(sim.request_count() > before, "the scan did not reach AWS");
    let done = slack
        .calls()
        .into_iter()
        .find(|c| c.method == "response/scan-1")
        .unwrap();
    assert!(
        done.body.to_string().contains("Scan finished"),
        "{:?}",
        done.body
    );

    // A restart the same day does not post the digest again.
    drop(serve);
    let serve = start_serve(&config, &sim.endpoint(), &log);
    wait_ready(&addr, &log).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let parents = slack
        .posts()
        .into_iter()
        .filter(|p| p.body["thread_ts"].is_null())
        .count();
    assert_eq!(parents, 1, "the digest was posted again after a restart");
    drop(serve);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_over_socket_mode() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let sim = certwatch_sim::serve(Scenario::demo(), Utc::now())
        .await
        .unwrap();
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("certwatch.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[serve]
listen = "{addr}"
store_path = "{store}"
[slack]
transport = "socket"
api_url = "{api}"
"#,
            store = dir.path().join("store.sqlite").display(),
            api = slack.api_url,
        ),
    )
    .unwrap();
    let log = dir.path().join("serve.log");
    let serve = start_serve(&config, &sim.endpoint(), &log);
    wait_ready(&addr, &log).await;

    // The Socket Mode connection was opened with the app-level token.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !slack.socket_command("env-1", "account 456789012345") {
        assert!(
            Instant::now() < deadline,
            "no Socket Mode connection; calls: {:#?}\nlog:\n{}",
            slack.calls(),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let open = slack
        .calls()
        .into_iter()
        .find(|c| c.method == "apps.connections.open")
        .expect("apps.connections.open was called");
    assert_eq!(open.authorization, "Bearer xapp-test-token");

    // The envelope is acknowledged with the answer as its payload.
    let ack = loop {
        let found = slack
            .calls()
            .into_iter()
            .find(|c| c.method == "socket" && c.body["envelope_id"] == "env-1");
        if let Some(ack) = found {
            break ack;
        }
        assert!(
            Instant::now() < deadline,
            "no acknowledgement; calls: {:#?}",
            slack.calls()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let payload = ack.body["payload"].to_string();
    assert!(payload.contains("billing.example.com"), "{payload}");
    assert!(!payload.contains("promo.example.net"), "{payload}");
    assert_eq!(ack.body["payload"]["response_type"], "ephemeral");
    drop(serve);
    sim.shutdown().await;
}

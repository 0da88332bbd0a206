//! `certwatch serve` end to end: the simulated organization as AWS, a fake Slack Web API that
//! records every post, signed (and forged) slash-command requests over real HTTP, and real
//! signals (SIGTERM as ECS sends it, SIGKILL between a post and its record).

use crate::support::fake_slack::FakeSlack;
use crate::support::http::request;
use crate::support::serve::{
    form, form_in, http_slack, run_to_exit, shown, sign, Setup, ADMIN, APP_TOKEN, BOT_TOKEN, SECRET,
};
use certwatch_sim::{Behaviour, Latency, Scenario};
use chrono::Utc;
use nix::sys::signal::Signal;
use serde_json::Value;
use std::time::{Duration, Instant};

fn text_of(post: &Value) -> String {
    post.to_string()
}

async fn demo_sim() -> certwatch_sim::SimServer {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    certwatch_sim::serve(Scenario::demo(), Utc::now())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_posts_one_digest_and_answers_signed_commands() {
    let sim = demo_sim().await;
    let slack = FakeSlack::start().await;
    let (digest_at, tables) = http_slack(10);
    let setup = Setup::new(
        &slack.api_url,
        &format!("[scan]\nregions = \"enabled\"\n{tables}"),
    );
    let addr = setup.addr.clone();
    let serve = setup.start(&sim.endpoint());
    setup.wait_ready().await;
    let health = request(&addr, "GET", "/healthz", &[], "").await.unwrap();
    assert_eq!(health.status, 200);

    // A signed `/certs account <id>`: payments-prod's certificates, nobody else's.
    let (status, body) = setup
        .signed(&form("U0000001", "account 456789012345", ""))
        .await;
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
    let (status, body) = setup
        .signed(&form_in("C0999", "U0000001", "account 456789012345", ""))
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
        setup
            .command(&body, now, Some(sign(now, "something else")))
            .await,
        setup
            .command(&body, now, Some("v0=deadbeef".to_owned()))
            .await,
        setup
            .command(&body, now - 600, Some(sign(now - 600, &body)))
            .await,
        setup.command(&body, now, None).await,
        // A captured request replayed with a fresh timestamp.
        setup.command(&body, now + 1, Some(sign(now, &body))).await,
    ];
    for (i, (status, text)) in forged.iter().enumerate() {
        assert_eq!(*status, 401, "forged request {i} got {status}: {text}");
        assert!(!text.contains("example.com"));
    }
    // Not an admin: refused, no scan.
    let (status, body) = setup.signed(&form("U0000001", "scan", "")).await;
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
        let (status, _) = setup.signed(&body).await;
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
            setup.log_text()
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
    assert_eq!(parent.authorization, format!("Bearer {BOT_TOKEN}"));
    assert_eq!(
        parent.body["metadata"]["event_payload"]["date"],
        digest_at.date_naive().to_string(),
        "the parent carries its date, so a restart can find it in Slack"
    );
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
    // The fake numbers its answers: the parent, posted first, got the first ts.
    assert!(
        std::ptr::eq(parent, &posts[0]),
        "the parent is posted first"
    );
    for reply in &posts[1..] {
        assert_eq!(reply.body["channel"], "CDIGEST01");
        assert_eq!(
            reply.body["thread_ts"],
            slack.ts(1).as_str(),
            "replies are threaded"
        );
    }

    // An admin's `/certs scan` reaches AWS, and the response_url hears when it is done.
    let response_url = format!("{}scan-1", slack.response_base);
    let before = sim.request_count();
    let (status, body) = setup.signed(&form(ADMIN, "scan", &response_url)).await;
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

    // A second serve on the same store is refused while the first holds it.
    let (status, log) = run_to_exit(&setup, &sim.endpoint());
    assert_eq!(status.code(), Some(2), "{log}");
    assert!(
        log.contains(&shown(&setup.store())) && log.contains("another certwatch holds it"),
        "{log}"
    );

    // So is a `digest --from-store`, which would read a store another process is writing.
    let digest = std::process::Command::new(env!("CARGO_BIN_EXE_certwatch"))
        .args(["digest", "--dry-run", "--from-store", "--config"])
        .arg(&setup.config)
        .env_remove("CERTWATCH_CONFIG_TOML")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&digest.stderr);
    assert_eq!(digest.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("another certwatch holds it"), "{stderr}");

    // A restart the same day does not post the digest again.
    drop(serve);
    let serve = setup.start(&sim.endpoint());
    setup.wait_ready().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        slack.parents().len(),
        1,
        "the digest was posted again after a restart"
    );
    drop(serve);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_over_socket_mode() {
    let sim = demo_sim().await;
    let slack = FakeSlack::start().await;
    let setup = Setup::new(
        &slack.api_url,
        "[slack]\ntransport = \"socket\"\napi_url = \"{api}\"\n",
    );
    let mut serve = setup.start(&sim.endpoint());
    let ready = setup.wait_ready().await;
    assert_eq!(ready["slack"]["transport"], "socket");
    assert!(ready["slack"]["connected_at"].is_string(), "{ready}");
    assert_eq!(ready["slack"]["bot_token_ok"], true, "{ready}");
    assert!(
        setup
            .log_text()
            .contains("connected to Slack (Socket Mode)"),
        "{}",
        setup.log_text()
    );

    // The Socket Mode connection was opened with the app-level token.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !slack.socket_command("env-1", "account 456789012345") {
        assert!(
            Instant::now() < deadline,
            "no Socket Mode connection; calls: {:#?}\nlog:\n{}",
            slack.calls(),
            setup.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let open = slack
        .calls()
        .into_iter()
        .find(|c| c.method == "apps.connections.open")
        .expect("apps.connections.open was called");
    assert_eq!(open.authorization, format!("Bearer {APP_TOKEN}"));

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

    // SIGTERM: the WebSocket is closed with a close frame and the process exits 0.
    serve.signal(Signal::SIGTERM);
    let status = serve.exit_within(Duration::from_secs(10)).await;
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "log:\n{}",
        setup.log_text()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !slack.calls().iter().any(|c| c.method == "socket.close") {
        assert!(
            Instant::now() < deadline,
            "no close frame; calls: {:#?}",
            slack.calls()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(serve);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_tokens_stop_the_start_naming_their_variable() {
    let sim = demo_sim().await;
    let slack = FakeSlack::start().await;

    // The bot token, over either transport.
    slack.reject_token(BOT_TOKEN);
    let (_, http) = http_slack(3600);
    let setup = Setup::new(&slack.api_url, &http);
    let (status, log) = run_to_exit(&setup, &sim.endpoint());
    assert_eq!(status.code(), Some(2), "{log}");
    assert!(
        log.contains("SLACK_BOT_TOKEN") && log.contains("invalid_auth"),
        "{log}"
    );
    assert!(
        !log.contains(BOT_TOKEN),
        "the token itself is never logged: {log}"
    );

    // The app-level token (Socket Mode).
    let slack = FakeSlack::start().await;
    slack.reject_token(APP_TOKEN);
    let setup = Setup::new(
        &slack.api_url,
        "[slack]\ntransport = \"socket\"\napi_url = \"{api}\"\n",
    );
    let (status, log) = run_to_exit(&setup, &sim.endpoint());
    assert_eq!(status.code(), Some(2), "{log}");
    assert!(
        log.contains("SLACK_APP_TOKEN") && log.contains("invalid_auth"),
        "{log}"
    );
    assert!(!log.contains(APP_TOKEN) && !log.contains(SECRET), "{log}");
    // Nothing was scanned with a bot that cannot talk to Slack.
    assert_eq!(sim.request_count(), 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_cut_off_by_a_kill_is_not_posted_again() {
    let sim = demo_sim().await;
    let slack = FakeSlack::start().await;
    let (digest_at, tables) = http_slack(4);
    let setup = Setup::new(&slack.api_url, &tables);
    slack.hold_parent_posts(true);
    let serve = setup.start(&sim.endpoint());
    setup.wait_ready().await;

    // Slack has the digest's parent message; certwatch is still waiting for the answer.
    let deadline = Instant::now() + Duration::from_secs(30);
    while slack.parents().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no digest; log:\n{}",
            setup.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    serve.signal(Signal::SIGKILL);
    drop(serve);
    slack.hold_parent_posts(false);

    // The next start finds the intent without a record, asks Slack, and posts nothing.
    let serve = setup.start(&sim.endpoint());
    setup.wait_ready().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !setup.log_text().contains("already in Slack") {
        assert!(
            Instant::now() < deadline,
            "the restart did not confirm the digest; log:\n{}",
            setup.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(slack.parents().len(), 1, "the digest was posted twice");
    let history = slack
        .calls()
        .into_iter()
        .find(|c| c.method == "conversations.history")
        .expect("Slack was asked");
    assert_eq!(history.body["channel"], "CDIGEST01");
    assert_eq!(history.authorization, format!("Bearer {BOT_TOKEN}"));
    assert!(Utc::now() >= digest_at);

    // And it is recorded now: a third start neither asks nor posts.
    drop(serve);
    let asked = slack
        .calls()
        .iter()
        .filter(|c| c.method == "conversations.history")
        .count();
    let serve = setup.start(&sim.endpoint());
    setup.wait_ready().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let asked_again = slack
        .calls()
        .iter()
        .filter(|c| c.method == "conversations.history")
        .count();
    assert_eq!(asked_again, asked);
    assert_eq!(slack.parents().len(), 1);
    drop(serve);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_scan_exits_cleanly_and_keeps_the_inventory() {
    // Every AWS call takes about 150 ms, so a scan of the demo organization takes seconds.
    let sim = crate::support::sim::start(
        Scenario::demo(),
        Utc::now(),
        Behaviour {
            latency: Latency {
                median_ms: 150.0,
                p99_ms: 300.0,
            },
            ..Behaviour::default()
        },
    )
    .await;
    let slack = FakeSlack::start().await;
    let (_, tables) = http_slack(3600);
    let setup = Setup::new(&slack.api_url, &tables);
    let mut serve = setup.start(&sim.endpoint());
    let first = setup.wait_ready().await;
    let certificates = first["certificates"].as_u64().unwrap();
    assert!(certificates > 0, "{first}");

    // An admin's scan, then SIGTERM while it runs.
    let (status, body) = setup.signed(&form(ADMIN, "scan", "")).await;
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while setup.readyz().await["scan_running"] != true {
        assert!(Instant::now() < deadline, "the scan did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopped_at = Instant::now();
    serve.signal(Signal::SIGTERM);
    let status = serve.exit_within(Duration::from_secs(10)).await;
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "not stopped with 0 within 10 s; log:\n{}",
        setup.log_text()
    );
    eprintln!("serve stopped {:?} after SIGTERM", stopped_at.elapsed());
    let log = setup.log_text();
    assert!(log.contains("stop signal received"), "{log}");
    drop(serve);

    // The store is intact: the next start answers from the first scan's inventory at once,
    // before its own first scan (seconds away) has finished.
    let serve = setup.start(&sim.endpoint());
    let again = setup.wait_ready().await;
    assert_eq!(again["certificates"].as_u64(), Some(certificates));
    assert_eq!(again["last_scan"], first["last_scan"], "{again}");
    let (status, body) = setup
        .signed(&form("U0000001", "account 456789012345", ""))
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("billing.example.com"), "{body}");
    drop(serve);
    sim.shutdown().await;
}

/// The ack payload of a Socket Mode envelope, once certwatch sent it.
async fn socket_ack(slack: &FakeSlack, envelope_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = slack
            .calls()
            .into_iter()
            .find(|c| c.method == "socket" && c.body["envelope_id"] == envelope_id);
        if let Some(ack) = found {
            return ack.body;
        }
        assert!(
            Instant::now() < deadline,
            "no acknowledgement of {envelope_id}; calls: {:#?}",
            slack.calls()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_clicks_open_the_modal_and_submissions_snooze() {
    let sim = demo_sim().await;
    let slack = FakeSlack::start().await;
    let setup = Setup::new(
        &slack.api_url,
        &format!(
            "[slack]\ntransport = \"socket\"\napi_url = \"{{api}}\"\nresponder_user_ids = [\"{ADMIN}\"]\n"
        ),
    );
    let _serve = setup.start(&sim.endpoint());
    setup.wait_ready().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !slack.socket_command("find", "domain billing.example.com") {
        assert!(Instant::now() < deadline, "no Socket Mode connection");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The certificate's ARN, from its console link.
    let found = socket_ack(&slack, "find").await.to_string();
    let link = found
        .split("https://")
        .find(|part| part.contains("#/certificates/"))
        .expect("a console link");
    let region = link.split('.').next().unwrap();
    let id: String = link
        .split("#/certificates/")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    let arn = format!("arn:aws:acm:{region}:456789012345:certificate/{id}");

    // A click on *Snooze 7 days*: the reason modal opens with its trigger_id.
    assert!(slack.socket_interaction(
        "click",
        serde_json::json!({
            "type": "block_actions",
            "team": {"id": "T0001"},
            "user": {"id": ADMIN, "team_id": "T0001"},
            "api_app_id": "A0FAKE",
            "container": {"type": "message", "message_ts": "1764300000.000009", "channel_id": "C0001"},
            "channel": {"id": "C0001"},
            "trigger_id": "trigger-socket-1",
            "actions": [{"type": "button", "action_id": "certwatch_snooze_7d", "value": arn,
                         "block_id": "b1", "action_ts": "1764300001.000001"}]
        })
    ));
    socket_ack(&slack, "click").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let opened = loop {
        if let Some(call) = slack.calls().into_iter().find(|c| c.method == "views.open") {
            break call;
        }
        assert!(
            Instant::now() < deadline,
            "no views.open; log:\n{}",
            setup.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(opened.body["trigger_id"], "trigger-socket-1");
    assert_eq!(opened.authorization, format!("Bearer {BOT_TOKEN}"));
    let view = &opened.body["view"];

    // The submission with a reason: the snooze is recorded.
    assert!(slack.socket_interaction(
        "submit",
        serde_json::json!({
            "type": "view_submission",
            "team": {"id": "T0001"},
            "user": {"id": ADMIN, "team_id": "T0001"},
            "api_app_id": "A0FAKE",
            "view": {
                "id": "V0000001", "team_id": "T0001", "hash": "1.abc", "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view["private_metadata"],
                "title": view["title"],
                "blocks": view["blocks"],
                "state": {"values": {"certwatch_reason": {"certwatch_reason_input":
                    {"type": "plain_text_input", "value": "certificate rotation on Friday"}}}}
            }
        })
    ));
    socket_ack(&slack, "submit").await;
    assert!(slack.socket_command_from("list", ADMIN, "snoozed"));
    let listed = socket_ack(&slack, "list").await.to_string();
    assert!(
        listed.contains("certificate rotation on Friday") && listed.contains("billing.example.com"),
        "{listed}\nlog:\n{}",
        setup.log_text()
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_watches_the_simulated_organization_without_aws() {
    let slack = FakeSlack::start().await;
    let (_, tables) = http_slack(3600);
    let setup = Setup::new(&slack.api_url, &tables);
    let serve = setup.start_demo();
    let ready = setup.wait_ready().await;
    assert_eq!(ready["certificates"], 46, "{ready}");
    let (status, body) = setup
        .signed(&form("U0000001", "code SERVED_STALE", ""))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("SERVED_STALE"), "{body}");
    assert!(!body.contains("Sorry"), "{body}");
    drop(serve);
}

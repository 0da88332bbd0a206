//! The router in process (tower's `oneshot`): health and readiness, every command, gating,
//! forged and oversized requests, apologies, a stopping app.

use super::*;

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
        resender: None,
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
        resender: rig.resender.clone(),
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

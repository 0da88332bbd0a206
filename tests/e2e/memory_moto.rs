//! `certwatch serve` with a memory, against moto and the fake Slack: after the first scan
//! (which alerts on nothing: the digest tells it), moto is changed (a certificate deleted, one
//! imported that expires in 3 days, one re-imported with a later NotAfter) and an admin's
//! `/certs scan` posts exactly one alert set with exactly those changes; a scan with no change
//! posts nothing; a snooze is recorded and listed; a forged interaction gets 401 and writes
//! nothing; the next digest leaves a snoozed certificate out and brings back one that turned
//! urgent.

use crate::support::fake_slack::FakeSlack;
use crate::support::http::request;
use crate::support::moto::{self, Kind, Moto};
use crate::support::serve::{form, http_slack, Setup, ADMIN};
use nix::sys::signal::Signal;
use serde_json::json;
use std::time::{Duration, Instant};

/// An admin's `/certs scan`, waited for until its response_url hears that it finished.
async fn scan_now(setup: &Setup, slack: &FakeSlack, n: usize) {
    let url = format!("{}scan-{n}", slack.response_base);
    let (status, body) = setup.signed(&form(ADMIN, "scan", &url)).await;
    assert_eq!(status, 200, "{body}");
    let method = format!("response/scan-{n}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !slack.calls().iter().any(|c| c.method == method) {
        assert!(
            Instant::now() < deadline,
            "scan {n} did not finish; log:\n{}",
            setup.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_alerts_once_on_what_changed_and_records_snoozes() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let moto = Moto::start();
    let manifest = moto::seed(&moto);
    let slack = FakeSlack::start().await;
    let (_, tables) = http_slack(3600);
    let regions: Vec<String> = manifest.regions.iter().map(|r| format!("{r:?}")).collect();
    let setup = Setup::new(
        &slack.api_url,
        // Every change, whatever its urgency (the default leaves out what is only upcoming).
        &format!(
            "[scan]\nregions = [{}]\n[policy]\nurgent_days = 7\naction_days = 45\n{tables}\
             [slack.alerts]\nmin_urgency = \"upcoming\"\n",
            regions.join(", ")
        ),
    );
    let mut serve = setup.start(moto.url());
    setup.wait_ready().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        slack.parents().is_empty(),
        "the first scan alerts on nothing"
    );

    let changed = moto::change_one_target(&moto, &manifest);
    let (delete, reimport, new_arn) = (changed.deleted, changed.reimported, &changed.new_arn);

    scan_now(&setup, &slack, 1).await;
    let parents = slack.parents();
    assert_eq!(parents.len(), 1, "exactly one alert set: {parents:#?}");
    assert_eq!(parents[0].body["channel"], "CDIGEST01");
    let all: String = slack.posts().iter().map(|p| p.body.to_string()).collect();
    for domain in [
        "soon.example.com",
        delete.domain.as_str(),
        reimport.domain.as_str(),
    ] {
        assert!(
            all.contains(domain),
            "{domain} missing from the alerts: {all}"
        );
    }
    // Nothing that did not change is in it.
    for other in manifest
        .certificates
        .iter()
        .filter(|c| c.arn != delete.arn && c.arn != reimport.arn && !c.expected.is_empty())
    {
        assert!(
            !all.contains(&other.arn),
            "{} did not change: {all}",
            other.domain
        );
    }

    // No change since: nothing posted.
    let posts = slack.posts().len();
    scan_now(&setup, &slack, 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(slack.posts().len(), posts, "a scan without changes posted");
    // serve's rescans reuse the stored detail: the last one described nothing again.
    let log = setup.log_text();
    let last = log
        .lines()
        .rfind(|l| l.contains("scan finished"))
        .expect("a finished scan in the log");
    let saved: u64 = last
        .split("describes_saved=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no describes_saved in {last}"));
    let requested = manifest
        .certificates
        .iter()
        .filter(|c| matches!(c.kind, moto::Kind::DnsInUse | moto::Kind::DnsUnused))
        .count() as u64;
    assert_eq!(saved, requested - 1, "all but the deleted one: {last}");

    // A forged click: 401, nothing written.
    let payload = json!({"type": "block_actions", "user": {"id": ADMIN}, "team": {"id": "T0001"},
        "container": {"channel_id": "C0001", "message_ts": "1.1"}, "trigger_id": "t",
        "actions": [{"action_id": "certwatch_ack", "value": new_arn}]});
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    let now = chrono::Utc::now().timestamp();
    let forged = request(
        &setup.addr,
        "POST",
        "/slack/interactions",
        &[
            (
                "Content-Type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("X-Slack-Request-Timestamp", now.to_string()),
            ("X-Slack-Signature", "v0=0000".to_owned()),
        ],
        &body,
    )
    .await
    .unwrap();
    assert_eq!(forged.status, 401);
    let (_, listed) = setup.signed(&form(ADMIN, "snoozed", "")).await;
    assert!(!listed.contains("soon.example.com"), "{listed}");

    // A signed snooze is recorded and listed.
    let id = id_of(&reimport.arn);
    let (status, reply) = setup
        .signed(&form(
            ADMIN,
            &format!("snooze {id} 2w renewal vendor is late"),
            "",
        ))
        .await;
    assert_eq!(status, 200, "{reply}");
    let (_, listed) = setup.signed(&form(ADMIN, "snoozed", "")).await;
    assert!(listed.contains("renewal vendor is late"), "{listed}");
    assert!(listed.contains(&reimport.domain), "{listed}");

    // Another imported certificate that needs action (30 days left): snoozed, it stays out of
    // the digest. The first one, re-imported to expire in 3 days, turns urgent and comes back.
    let hidden = manifest
        .certificates
        .iter()
        .find(|c| {
            c.kind == Kind::ImportedRsa
                && c.arn != reimport.arn
                && c.expected.iter().any(|f| f.urgency == "action")
        })
        .expect("another imported certificate that needs action");
    let (status, reply) = setup
        .signed(&form(
            ADMIN,
            &format!(
                "snooze {} 2w the vendor sends it next week",
                id_of(&hidden.arn)
            ),
            "",
        ))
        .await;
    assert_eq!(status, 200, "{reply}");
    moto::reimport(&moto, reimport, 3);
    scan_now(&setup, &slack, 3).await;
    serve.signal(Signal::SIGTERM);
    assert!(serve.exit_within(Duration::from_secs(10)).await.is_some());
    let digest = std::process::Command::new(env!("CARGO_BIN_EXE_certwatch"))
        .args([
            "digest",
            "--dry-run",
            "--from-store",
            "--format",
            "text",
            "--config",
        ])
        .arg(&setup.config)
        .env_remove("CERTWATCH_CONFIG_TOML")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&digest.stdout);
    assert!(
        digest.status.success(),
        "{}",
        String::from_utf8_lossy(&digest.stderr)
    );
    assert!(
        !text.contains(&hidden.domain),
        "a snoozed certificate is listed:\n{text}"
    );
    assert!(text.contains("1 snoozed"), "the footer counts it:\n{text}");
    assert!(
        text.contains(&reimport.domain),
        "the urgent one is back:\n{text}"
    );
    assert!(text.contains("back because it became urgent"), "{text}");
}

fn id_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap()
}

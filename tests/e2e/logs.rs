//! `certwatch serve`'s log as an operator reads it: `info` by default, JSON lines on request,
//! no colour codes in a file, and no secret in any line.

use crate::support::fake_slack::FakeSlack;
use crate::support::serve::{form, http_slack, sign, Setup, ADMIN, APP_TOKEN, BOT_TOKEN, SECRET};
use certwatch_sim::{Behaviour, Scenario};
use chrono::Utc;
use serde_json::Value;

/// A log must never show these, whatever its level or format.
fn assert_no_secret_or_colour(log: &str) {
    for (name, value) in [
        ("bot token", BOT_TOKEN),
        ("app token", APP_TOKEN),
        ("signing secret", SECRET),
    ] {
        assert!(!log.contains(value), "the {name} is in the log:\n{log}");
    }
    assert!(
        !log.contains("\x1b["),
        "an ANSI escape sequence in a log written to a file:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_has_one_object_per_line_spans_and_no_secrets() {
    let sim = crate::support::sim::start(Scenario::demo(), Utc::now(), Behaviour::default()).await;
    let slack = FakeSlack::start().await;
    let (_, tables) = http_slack(3600);
    let setup = Setup::new(
        &slack.api_url,
        &format!("[scan]\nregions = \"enabled\"\n{tables}"),
    );
    let serve = setup.start_with_env(
        &sim.endpoint(),
        &[
            ("CERTWATCH_LOG_FORMAT", Some("json")),
            ("CERTWATCH_LOG", None),
        ],
    );
    setup.wait_ready().await;

    for text in ["account 456789012345", "", "help"] {
        let (status, body) = setup.signed(&form("U0000001", text, "")).await;
        assert_eq!(status, 200, "/certs {text}: {body}");
    }
    // A forged request: refused, and logged with its reason.
    let body = form(ADMIN, "scan", "");
    let now = Utc::now().timestamp();
    let (status, _) = setup
        .command(&body, now, Some(sign(now, "something else")))
        .await;
    assert_eq!(status, 401);

    let status = serve.terminate(&setup).await;
    assert_eq!(status.code(), Some(0), "log:\n{}", setup.log_text());
    let log = setup.log_text();
    assert_no_secret_or_colour(&log);

    let lines: Vec<Value> = log
        .lines()
        .map(|line| {
            let object: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\nlog:\n{log}"));
            assert!(object.is_object(), "not an object: {line}");
            for key in ["timestamp", "level", "target"] {
                assert!(object[key].is_string(), "no {key}: {line}");
            }
            assert!(
                object["fields"]["message"].is_string(),
                "no message: {line}"
            );
            object
        })
        .collect();
    let message = |line: &Value| line["fields"]["message"].as_str().unwrap_or("").to_owned();
    let finished: Vec<&Value> = lines
        .iter()
        .filter(|l| message(l) == "scan finished")
        .collect();
    assert_eq!(finished.len(), 1, "one scan, one line:\n{log}");
    assert!(finished[0]["fields"]["certificates"].as_u64() > Some(0));
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "WARN" && message(l).starts_with("rejected a request")),
        "the forged request is not logged:\n{log}"
    );
    // data-staging refuses AssumeRole: its warning names the error, inside its account's span.
    let assume = lines
        .iter()
        .find(|l| message(l) == "scan step failed" && l["fields"]["stage"] == "assume_role")
        .unwrap_or_else(|| panic!("no AssumeRole failure:\n{log}"));
    assert!(
        assume["fields"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("AccessDenied")),
        "{assume}"
    );
    assert_eq!(assume["span"]["name"], "account", "{assume}");
    assert_eq!(assume["span"]["account"], assume["fields"]["account"]);
    // One account refuses SearchCertificates in every region: one summary line, not one a
    // region.
    let fallbacks: Vec<&Value> = lines
        .iter()
        .filter(|l| message(l).contains("SearchCertificates"))
        .collect();
    assert_eq!(fallbacks.len(), 1, "{fallbacks:?}");
    assert_eq!(fallbacks[0]["level"], "INFO");
    assert!(fallbacks[0]["fields"]["refused"].as_u64() > Some(0));
    assert!(
        message(fallbacks[0]).contains("refused (AccessDenied"),
        "{}",
        fallbacks[0]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_text_at_info_by_default_without_colour() {
    let sim = crate::support::sim::start(Scenario::demo(), Utc::now(), Behaviour::default()).await;
    let slack = FakeSlack::start().await;
    let (_, tables) = http_slack(3600);
    let setup = Setup::new(&slack.api_url, &tables);
    let serve = setup.start_with_env(&sim.endpoint(), &[("CERTWATCH_LOG", None)]);
    setup.wait_ready().await;
    let (status, _) = setup.signed(&form("U0000001", "", "")).await;
    assert_eq!(status, 200);
    let status = serve.terminate(&setup).await;
    assert_eq!(status.code(), Some(0), "log:\n{}", setup.log_text());
    let log = setup.log_text();
    assert_no_secret_or_colour(&log);
    for line in [
        "certwatch serve started",
        "scan finished",
        "certwatch serve stopped",
    ] {
        assert!(
            log.contains(line),
            "no {line:?} at the default level:\n{log}"
        );
    }
    assert!(
        log.lines().all(|l| !l.trim_start().starts_with('{')),
        "text, not JSON:\n{log}"
    );
    sim.shutdown().await;
}

#[test]
fn an_unknown_log_format_is_an_error_naming_the_variable() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_certwatch"))
        .arg("check-config")
        .env_remove("CERTWATCH_CONFIG_TOML")
        .env_remove("CERTWATCH_CONFIG")
        .env("CERTWATCH_LOG_FORMAT", "yaml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CERTWATCH_LOG_FORMAT") && stderr.contains("yaml"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing runs with a bad log format");
}

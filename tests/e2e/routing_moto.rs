//! Routing against moto: the seeded organization placed in OUs and tagged
//! (`tests/moto/place_org.py`), three `[[slack.routes]]` (by OU path, by account tag, by OU id)
//! and `slack.route_by_tag`. `certwatch routes` says where each account goes and why (and,
//! without `route_by_tag`, that marketing-web's OU id sends it to the workloads route); `certwatch
//! serve` posts each routed channel a digest of exactly its accounts, the default channel the
//! org-wide summary and the rest, and answers `/certs` in a routed channel about its accounts.
//!
//! | account | OU path | tags | channel | rule |
//! |---|---|---|---|---|
//! | master (management) | Root | none | CDIGEST01 | default |
//! | payments-prod | Root/Workloads/Payments | none | C0PAYMENT1 | payments (OU path) |
//! | marketing-web | Root/Workloads | certwatch-channel=C0MARKET01 | C0MARKET01 | its own tag, over workloads (OU id) |
//! | data-staging | Root | team=data | C0DATATEAM | data (account tag) |

use crate::support::fake_slack::{strings, FakeSlack};
use crate::support::moto::{self, Manifest, Moto, Placement, SeededCertificate};
use crate::support::serve::{form_in, http_slack_with, Setup};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const DEFAULT: &str = "CDIGEST01";
const PAYMENTS: &str = "C0PAYMENT1";
const DATA: &str = "C0DATATEAM";
const WORKLOADS: &str = "C0WORKLOAD";
const MARKETING: &str = "C0MARKET01";

/// Account name → (OU path, channel, rule), as the module's table says.
const WHERE: [(&str, &str, &str, &str); 4] = [
    ("master", "Root", DEFAULT, "default"),
    (
        "payments-prod",
        "Root/Workloads/Payments",
        PAYMENTS,
        "payments",
    ),
    (
        "marketing-web",
        "Root/Workloads",
        MARKETING,
        "tag certwatch-channel",
    ),
    ("data-staging", "Root", DATA, "data"),
];

/// What a digest lists: a finding that needs a human.
const NEEDS_ACTION: [&str; 3] = ["action", "urgent", "expired"];

/// A moto with the seeded organization, placed and tagged.
fn placed_organization() -> (Moto, Manifest, Placement) {
    let moto = Moto::start();
    let manifest = moto::seed(&moto);
    let placement = moto::place(&moto);
    (moto, manifest, placement)
}

/// `route_by_tag` (a `[slack]` key) and the three routes; the workloads route names its OU by
/// id, the payments route by path.
fn routes_toml(placement: &Placement) -> (&'static str, String) {
    let workloads = placement.ou_id("Root/Workloads");
    let routes = format!(
        r#"
[[slack.routes]]
name = "payments"
channel = "{PAYMENTS}"
ous = ["Root/Workloads/Payments"]

[[slack.routes]]
name = "data"
channel = "{DATA}"
account_tag = {{ key = "team", value = "data" }}

[[slack.routes]]
name = "workloads"
channel = "{WORKLOADS}"
ous = ["{workloads}"]
"#
    );
    ("route_by_tag = \"certwatch-channel\"", routes)
}

/// The channel each account id goes to, by [`WHERE`].
fn channels(manifest: &Manifest) -> BTreeMap<String, &'static str> {
    manifest
        .active_accounts()
        .into_iter()
        .map(|id| {
            let name = manifest.account_name(id).expect("a named account");
            let (_, _, channel, _) = WHERE
                .iter()
                .find(|(n, ..)| *n == name)
                .unwrap_or_else(|| panic!("{name} is not in the table"));
            (id.to_owned(), *channel)
        })
        .collect()
}

fn needs_action(certificate: &SeededCertificate) -> bool {
    certificate
        .expected
        .iter()
        .any(|f| NEEDS_ACTION.contains(&f.urgency.as_str()))
}

/// The seeded domains `text` names.
fn mentioned<'m>(text: &str, manifest: &'m Manifest) -> BTreeSet<&'m str> {
    manifest
        .certificates
        .iter()
        .filter(|c| text.contains(&c.domain))
        .map(|c| c.domain.as_str())
        .collect()
}

/// `certwatch routes --format json` against moto with `[slack]` keys and routes.
fn routes_json(moto: &Moto, manifest: &Manifest, slack_keys: &str, routes: &str) -> Value {
    let output = moto::certwatch(
        moto,
        manifest,
        "routes",
        &format!(
            "[checks]\ndns = false\ntls = false\n\n[slack]\n{slack_keys}\n\
             [slack.digest]\nchannel = \"{DEFAULT}\"\n{routes}"
        ),
        &["--format", "json"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}\n{stderr}", output.status);
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "routes printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The rows `certwatch routes` must print: [`WHERE`], with `changed` (account name, channel,
/// rule) instead, by account id.
fn expected_rows(manifest: &Manifest, changed: Option<(&str, &str, &str)>) -> Value {
    let mut rows: Vec<Value> = manifest
        .active_accounts()
        .into_iter()
        .map(|id| {
            let name = manifest.account_name(id).unwrap();
            let (_, ou_path, mut channel, mut rule) =
                *WHERE.iter().find(|(n, ..)| *n == name).unwrap();
            if let Some((_, c, r)) = changed.filter(|(n, ..)| *n == name) {
                (channel, rule) = (c, r);
            }
            json!({
                "account_id": id, "account_name": name, "ou_path": ou_path,
                "channel": channel, "rule": rule, "notes": [],
            })
        })
        .collect();
    rows.sort_by(|a, b| a["account_id"].as_str().cmp(&b["account_id"].as_str()));
    Value::Array(rows)
}

#[test]
fn routes_prints_each_accounts_channel_rule_and_ou_path() {
    let (moto, manifest, placement) = placed_organization();
    // The OU paths of the table are the ones moto has.
    for (name, ou_path, ..) in WHERE {
        let placed = placement.accounts.iter().find(|a| a.name == name).unwrap();
        assert_eq!(placed.ou_path, ou_path, "{name}");
    }

    let (slack_keys, routes) = routes_toml(&placement);
    let rows = routes_json(&moto, &manifest, slack_keys, &routes);
    let pretty = serde_json::to_string_pretty(&rows).unwrap();
    assert_eq!(rows, expected_rows(&manifest, None), "{pretty}");

    // Without route_by_tag, marketing-web goes by its OU's id; payments-prod, in an OU below
    // it, still goes by the first route that matches.
    let rows = routes_json(&moto, &manifest, "", &routes);
    let pretty = serde_json::to_string_pretty(&rows).unwrap();
    let by_id = ("marketing-web", WORKLOADS, "workloads");
    assert_eq!(rows, expected_rows(&manifest, Some(by_id)), "{pretty}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_posts_each_channel_a_digest_of_its_accounts_and_answers_there_about_them() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let (moto, manifest, placement) = placed_organization();
    let slack = FakeSlack::start().await;
    let (slack_keys, routes) = routes_toml(&placement);
    // Due a second after the start: the digests go out once the first scan is done.
    let (_, tables) = http_slack_with(1, slack_keys);
    let regions: Vec<String> = manifest.regions.iter().map(|r| format!("{r:?}")).collect();
    let setup = Setup::new(
        &slack.api_url,
        &format!(
            "[scan]\nregions = [{}]\n[policy]\nurgent_days = 7\naction_days = 45\n{tables}{routes}",
            regions.join(", ")
        ),
    );
    let serve = setup.start(moto.url());
    setup.wait_ready().await;

    // Each channel's digest is whole (parent and thread) once serve logs it posted.
    let digest_channels = [DEFAULT, PAYMENTS, DATA, MARKETING];
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let log = setup.log_text();
        let posted: BTreeSet<&str> = digest_channels
            .into_iter()
            .filter(|c| {
                log.lines()
                    .any(|l| l.contains("digest posted") && l.contains(&format!("channel={c}")))
            })
            .collect();
        if posted.len() == digest_channels.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "digests posted to {posted:?} only; parents: {:#?}\nlog:\n{log}",
            slack.parents()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let parents: BTreeSet<String> = slack
        .parents()
        .iter()
        .map(|p| p.body["channel"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        parents,
        digest_channels.iter().map(|c| (*c).to_owned()).collect(),
        "one digest per channel with accounts, none for {WORKLOADS}"
    );
    assert_eq!(slack.parents().len(), 4, "{:#?}", slack.parents());

    // Each digest names exactly its accounts' certificates that need action.
    let channel_of = channels(&manifest);
    let posts = slack.posts();
    for channel in digest_channels {
        let text: String = posts
            .iter()
            .filter(|p| p.body["channel"] == channel)
            .map(|p| strings(&p.body))
            .collect();
        let expected: BTreeSet<&str> = manifest
            .certificates
            .iter()
            .filter(|c| channel_of[&c.account_id] == channel && needs_action(c))
            .map(|c| c.domain.as_str())
            .collect();
        assert!(!expected.is_empty(), "{channel} has something to act on");
        assert_eq!(
            mentioned(&text, &manifest),
            expected,
            "the digest in {channel}:\n{text}"
        );
        assert!(!text.contains(WORKLOADS), "{channel}:\n{text}");
        let summary = text.contains("Routed to their owners' channels");
        assert_eq!(summary, channel == DEFAULT, "{channel}:\n{text}");
    }

    // The default digest's summary: one line per routed channel, with its rule and counts.
    let default: String = posts
        .iter()
        .filter(|p| p.body["channel"] == DEFAULT)
        .map(|p| strings(&p.body))
        .collect();
    for (name, _, channel, rule) in &WHERE[1..] {
        let mut counts = Vec::new();
        for urgency in ["expired", "urgent", "action"] {
            let n = manifest
                .certificates
                .iter()
                .filter(|c| channel_of[&c.account_id] == *channel)
                .filter(|c| c.expected.iter().any(|f| f.urgency == urgency))
                .count();
            if n > 0 {
                counts.push(format!("{n} {urgency}"));
            }
        }
        let line = format!("• <#{channel}> ({rule}): {} · 1 account", counts.join(", "));
        assert!(
            default.lines().any(|l| l == line),
            "{name}: no line {line:?} in the default digest:\n{default}"
        );
    }
    // (The blocks and the fallback text may both carry a line.)
    let summary_lines: BTreeSet<&str> = default.lines().filter(|l| l.starts_with("• <#")).collect();
    assert_eq!(summary_lines.len(), 3, "{default}");

    // `/certs` in payments' channel (not in channel_ids): payments-prod's certificates only;
    // `/certs all`: the organization's.
    let imported: Vec<&SeededCertificate> = manifest
        .certificates
        .iter()
        .filter(|c| c.expected.iter().any(|f| f.code == "IMPORTED"))
        .collect();
    let payments_id: &str = channel_of
        .iter()
        .find(|(_, c)| **c == PAYMENTS)
        .map(|(id, _)| id.as_str())
        .expect("an account routed to payments");
    let ask = |text: &'static str| {
        let setup = &setup;
        async move {
            let (status, body) = setup.signed(&form_in(PAYMENTS, "U0000001", text, "")).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let here = ask("code IMPORTED").await;
    let expected: BTreeSet<&str> = imported
        .iter()
        .filter(|c| c.account_id == payments_id)
        .map(|c| c.domain.as_str())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(mentioned(&here, &manifest), expected, "{here}");
    let all = ask("all code IMPORTED").await;
    let expected: BTreeSet<&str> = imported.iter().map(|c| c.domain.as_str()).collect();
    assert_eq!(mentioned(&all, &manifest), expected, "{all}");

    let status = serve.terminate(&setup).await;
    assert_eq!(status.code(), Some(0), "log:\n{}", setup.log_text());
}

//! Routing in process: each routed channel gets its own digest and alerts with only its
//! accounts, the default channel the org-wide summary and the rest, and `/certs` in a routed
//! channel answers about its accounts (`/certs all`: the organization), from a part that follows
//! the decisions recorded and each scan.

use super::*;
use certwatch_core::{Code, Finding, Urgency};

const PAYMENTS: &str = "C0PAYMENT1";
const NETWORK: &str = "C0NETWORK1";
const MARKETING: &str = "C0MARKET01";
const DEFAULT: &str = "CDIGEST01";

/// Payments by OU path, networking by tag, marketing by its own channel tag, the rest default.
fn routed_config() -> ServeConfig {
    config(&format!(
        "route_by_tag = \"certwatch-channel\"\n{}\n\
         [[slack.routes]]\nname = \"payments\"\nchannel = \"{PAYMENTS}\"\nous = [\"Root/Workloads/Payments\"]\n\
         [[slack.routes]]\nname = \"networking\"\nchannel = \"{NETWORK}\"\naccount_tag = {{ key = \"team\", value = \"networking\" }}\n",
        digest_at("09:00", "UTC")
    ))
}

/// The demo organization, its marketing account tagged with its own channel.
async fn routed_report() -> Report {
    let mut report = demo_report().await;
    let marketing = report
        .accounts
        .iter_mut()
        .find(|a| a.name == "marketing-web")
        .expect("the demo has marketing-web");
    marketing
        .tags
        .get_or_insert_with(Default::default)
        .insert("certwatch-channel".to_owned(), MARKETING.to_owned());
    assert!(
        report.accounts.iter().all(|a| a.ou_path.is_some()),
        "the demo scan learns OU paths"
    );
    report
}

/// The account names whose certificates a text mentions, by the demo's domains.
fn accounts_in(text: &str, report: &Report) -> std::collections::BTreeSet<String> {
    report
        .certificates
        .iter()
        .filter(|c| !c.findings.is_empty())
        .filter(|c| text.contains(&format!("`{}`", c.facts.display_name())))
        .map(|c| c.account_name.clone())
        .collect()
}

fn digest_text(digest: &Digest) -> String {
    std::iter::once(&digest.parent)
        .chain(&digest.replies)
        .map(|m| certwatch_slack::blocks_to_text(&m.blocks))
        .collect::<Vec<_>>()
        .join("\n")
}

fn set(names: &[&str]) -> std::collections::BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_channel_gets_a_digest_of_exactly_its_accounts_and_the_default_the_summary() {
    let report = routed_report().await;
    let start = report.generated_at;
    let rig = Rig::new(start, report.clone());
    let app = rig.app(routed_config(), scanned_store(&report));
    let until = start + chrono::Duration::days(1);
    run_digests(&app, &rig, until, |p| p.len() >= 4).await;

    let digests = rig.slack.digests.lock().unwrap().clone();
    let by_channel: std::collections::BTreeMap<&str, String> = digests
        .iter()
        .map(|(channel, d)| (channel.as_str(), digest_text(d)))
        .collect();
    assert_eq!(
        digests.len(),
        4,
        "one digest per channel: {:?}",
        by_channel.keys()
    );
    assert_eq!(
        accounts_in(&by_channel[PAYMENTS], &report),
        set(&["payments-prod"])
    );
    assert_eq!(
        accounts_in(&by_channel[NETWORK], &report),
        set(&["shared-networking"])
    );
    assert_eq!(
        accounts_in(&by_channel[MARKETING], &report),
        set(&["marketing-web"])
    );
    let default = &by_channel[DEFAULT];
    assert_eq!(
        accounts_in(default, &report),
        set(&["example-corp-management", "sandbox"]),
        "{default}"
    );
    // The summary: one line per routed channel, with the rule that sends accounts there.
    for (channel, rule) in [
        (PAYMENTS, "payments"),
        (NETWORK, "networking"),
        (MARKETING, "tag certwatch-channel"),
    ] {
        assert!(
            default.contains(&format!("#{channel} ({rule})")),
            "{channel}: {default}"
        );
    }
    assert!(
        default.contains("1 expired"),
        "payments' EXPIRED: {default}"
    );
    // Each digest is recorded per channel: a restart posts none again.
    let day = rig.slack.posts()[0].date;
    let store = app.with_store(move |s| {
        [DEFAULT, PAYMENTS, NETWORK, MARKETING]
            .iter()
            .map(|c| s.digest_posted(day, c))
            .collect::<Result<Vec<bool>, _>>()
    });
    assert_eq!(store.await.unwrap(), vec![true; 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_go_to_the_channel_of_the_account_that_changed() {
    let first = routed_report().await;
    let rig = Rig::new(first.generated_at, first.clone());
    let app = rig.app(routed_config(), Store::open_in_memory().unwrap());
    scan_loop::scan_once(&app).await;
    assert!(rig.slack.alerts.lock().unwrap().is_empty());

    // A new urgent finding in payments and one in sandbox (unrouted).
    let mut second = first.clone();
    for domain in ["sftp.example.com", "beta.example.com"] {
        let record = second
            .certificates
            .iter_mut()
            .find(|c| c.facts.domain_name.as_deref() == Some(domain))
            .unwrap();
        record.findings.push(Finding {
            code: Code::NotInUse,
            urgency: Urgency::Urgent,
            summary: format!("{domain} is used by nothing"),
            remedy: "Attach it or delete it.".to_owned(),
        });
    }
    *rig.scanner.report.lock().unwrap() = second;
    rig.clock
        .set(first.generated_at + chrono::Duration::hours(6));
    scan_loop::scan_once(&app).await;
    let channels = rig.slack.alert_channels.lock().unwrap().clone();
    let texts = alert_text(&rig.slack);
    assert_eq!(channels, [PAYMENTS, DEFAULT], "{texts:#?}");
    assert!(texts[0].contains("sftp.example.com") && !texts[0].contains("beta.example.com"));
    assert!(texts[1].contains("beta.example.com") && !texts[1].contains("sftp.example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certs_in_a_routed_channel_answers_about_its_accounts_and_all_about_the_organization() {
    let report = routed_report().await;
    let rig = Rig::new(report.generated_at, report.clone());
    let app = rig.app(routed_config(), scanned_store(&report));
    let ask = |channel: &'static str, text: &'static str| {
        let app = app.clone();
        async move {
            let (status, reply) = signed(&app, &form("T0001", channel, ADMIN, text, "")).await;
            assert_eq!(status, StatusCode::OK);
            reply.to_string()
        }
    };
    // Payments' channel is not in channel_ids, but routes send accounts there: answered, and
    // about payments only.
    let expired = ask(PAYMENTS, "code EXPIRED").await;
    assert!(expired.contains("legacy-pay.example.com"), "{expired}");
    assert!(
        !expired.contains("hackathon.sandbox.example.com"),
        "{expired}"
    );
    let all = ask(PAYMENTS, "all code EXPIRED").await;
    assert!(all.contains("legacy-pay.example.com"), "{all}");
    assert!(all.contains("hackathon.sandbox.example.com"), "{all}");
    // In a configured channel: the whole organization.
    let everywhere = ask("C0001", "code EXPIRED").await;
    assert!(
        everywhere.contains("hackathon.sandbox.example.com"),
        "{everywhere}"
    );
    // A channel nothing routes to and not configured: refused.
    let elsewhere = ask("C0999OTHER", "code EXPIRED").await;
    assert!(
        elsewhere.contains("does not answer in this channel"),
        "{elsewhere}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routed_channels_part_follows_decisions_and_scans() {
    let report = routed_report().await;
    let rig = Rig::new(report.generated_at, report.clone());
    let app = rig.app(routed_config(), scanned_store(&report));
    let ask = |text: String| {
        let app = app.clone();
        async move {
            let (status, reply) = signed(&app, &form("T0001", PAYMENTS, ADMIN, &text, "")).await;
            assert_eq!(status, StatusCode::OK);
            reply.to_string()
        }
    };
    // The part is cut on the first command, then held.
    let legacy = record_of(&report, "legacy-pay.example.com")
        .facts
        .arn
        .clone();
    let before = ask("code EXPIRED".to_owned()).await;
    assert!(before.contains("legacy-pay.example.com"), "{before}");
    let none = ask("snoozed".to_owned()).await;
    assert!(!none.contains("legacy-pay.example.com"), "{none}");

    // A decision from the channel shows in the channel's next answer.
    let acked = ask(format!("ack {legacy} replaced by the new payment gateway")).await;
    assert!(acked.contains("legacy-pay.example.com"), "{acked}");
    let snoozed = ask("snoozed".to_owned()).await;
    assert!(snoozed.contains("legacy-pay.example.com"), "{snoozed}");
    assert!(snoozed.contains("new payment gateway"), "{snoozed}");

    // A scan without the certificate: the channel's next answer is cut from the new inventory.
    let mut next = report.clone();
    next.certificates.retain(|c| c.facts.arn != legacy);
    next.generated_at += chrono::Duration::hours(6);
    *rig.scanner.report.lock().unwrap() = next;
    rig.clock
        .set(report.generated_at + chrono::Duration::hours(6));
    scan_loop::scan_once(&app).await;
    let after = ask("code EXPIRED".to_owned()).await;
    assert!(!after.contains("legacy-pay.example.com"), "{after}");
    let everywhere = ask("all code EXPIRED".to_owned()).await;
    assert!(
        everywhere.contains("hackathon.sandbox.example.com"),
        "{everywhere}"
    );
}

//! `/certs resend` end to end: `certwatch serve` against the simulator (whose ACM records every
//! `ResendValidationEmail` it accepts) and the fake Slack (which records the delayed replies
//! posted to a command's response_url). A responder's resend sends one email per name waiting for
//! validation and lands in the audit trail; a second within 12 hours, a stranger's, one while
//! the config has it off, and one the member role may not make reach ACM zero times.

use crate::support::fake_slack::FakeSlack;
use crate::support::serve::{form, http_slack_with, Setup, ADMIN};
use crate::support::sim::{self, demo_pending_email, PendingEmail};
use certwatch_core::AuditAction;
use certwatch_sim::{Behaviour, SimServer};
use chrono::Utc;
use std::time::Duration;

const RESPONDER: &str = "URESPOND01";
const STRANGER: &str = "USTRANGER1";

/// A delayed reply is one AssumeRole and a few ACM calls away: this only stops a hang.
const REPLY_WITHIN: Duration = Duration::from_secs(30);

/// A serve config with one responder and resends on or off (no digest in the test's time).
fn resend_setup(slack: &FakeSlack, enabled: bool) -> Setup {
    let (_, tables) = http_slack_with(3600, &format!("responder_user_ids = [\"{RESPONDER}\"]"));
    Setup::new(
        &slack.api_url,
        &format!("{tables}[slack.actions]\nresend_validation_email = {enabled}\n"),
    )
}

/// `/certs resend <target>` from `user`, its delayed reply going to `<response_base><hook>`;
/// the immediate reply's text.
async fn resend(setup: &Setup, slack: &FakeSlack, user: &str, target: &str, hook: &str) -> String {
    let url = format!("{}{hook}", slack.response_base);
    let (status, body) = setup
        .signed(&form(user, &format!("resend {target}"), &url))
        .await;
    assert_eq!(status, 200, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).expect("a JSON reply");
    reply["text"].as_str().unwrap_or_default().to_owned()
}

/// The delayed reply's text.
async fn delayed(slack: &FakeSlack, hook: &str) -> String {
    let posted = slack.response_to(hook, REPLY_WITHIN).await;
    posted.body["text"].as_str().unwrap_or_default().to_owned()
}

async fn start_sim(scenario: certwatch_sim::Scenario) -> SimServer {
    sim::start(scenario, Utc::now(), Behaviour::default()).await
}

/// What the simulated ACM accepted for one resend of `campaign`: each pending name once.
fn one_resend(campaign: &PendingEmail) -> Vec<(String, String)> {
    campaign
        .pending
        .iter()
        .map(|name| (campaign.arn.clone(), name.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_resends_each_pending_name_once_and_no_one_again_within_12_hours() {
    let (scenario, campaign) = demo_pending_email();
    assert_eq!(campaign.pending.len(), 2, "two names wait for an email");
    let sim = start_sim(scenario).await;
    let slack = FakeSlack::start().await;
    let setup = resend_setup(&slack, true);
    let serve = setup.start(&sim.endpoint());
    setup.wait_ready().await;

    // The responder, by the certificate's id: told at once that ACM is asked, then which names
    // were resent to whom.
    let now = resend(&setup, &slack, RESPONDER, &campaign.id, "first").await;
    assert!(
        now.contains("Asking ACM to resend the validation email for `campaign.example.org`"),
        "{now}"
    );
    let first = delayed(&slack, "first").await;
    let bullets: Vec<&str> = first.lines().filter(|l| l.starts_with("• ")).collect();
    let expected: Vec<String> = campaign
        .pending
        .iter()
        .map(|name| format!("• `{name}` → {}", campaign.emails.join(", ")))
        .collect();
    assert_eq!(bullets, expected, "{first}");
    for name in &campaign.validated {
        assert!(
            !first.contains(name.as_str()),
            "{name} was validated: {first}"
        );
    }
    assert_eq!(sim.resends(), one_resend(&campaign));

    // Again at once, by an admin and the full ARN: refused by the 12 hours, ACM not asked.
    let again = resend(&setup, &slack, ADMIN, &campaign.arn, "again").await;
    assert!(again.contains("at most once every 12 hours"), "{again}");
    assert!(!again.contains("Asking ACM"), "refused at once: {again}");
    assert!(again.contains("No email was sent"), "{again}");
    assert_eq!(sim.resends(), one_resend(&campaign));

    // Someone neither responder nor admin: refused at once, no delayed reply.
    let stranger = resend(&setup, &slack, STRANGER, &campaign.id, "stranger").await;
    assert!(stranger.contains("responder_user_ids"), "{stranger}");
    assert!(!stranger.contains("Asking ACM"), "{stranger}");

    let status = serve.terminate(&setup).await;
    assert_eq!(status.code(), Some(0), "log:\n{}", setup.log_text());
    assert_eq!(sim.resends(), one_resend(&campaign), "after the stop");
    assert_eq!(
        slack.responses(),
        ["first"],
        "a refusal has no delayed reply"
    );

    // The audit trail has the one resend ACM accepted, by whom, where, for which names.
    let store = certwatch_store::Store::open(&setup.store()).expect("the store opens");
    let audit = store.audit(10).expect("the audit trail");
    assert_eq!(audit.len(), 1, "{audit:#?}");
    assert_eq!(audit[0].by, RESPONDER);
    assert_eq!(audit[0].channel, "C0001");
    assert_eq!(audit[0].arn, campaign.arn);
    assert_eq!(
        audit[0].action,
        AuditAction::ResendValidationEmail {
            domains: campaign.pending.clone()
        }
    );
    drop(store);

    // The same store under a config with resends off: refused at once, for the responder too.
    let text = std::fs::read_to_string(&setup.config).unwrap();
    let off = text.replace(
        "resend_validation_email = true",
        "resend_validation_email = false",
    );
    assert_ne!(off, text);
    std::fs::write(&setup.config, off).unwrap();
    let serve = setup.start(&sim.endpoint());
    setup.wait_ready().await;
    let refused = resend(&setup, &slack, RESPONDER, &campaign.id, "off").await;
    assert!(refused.contains("turned off"), "{refused}");
    assert!(refused.contains("resend_validation_email"), "{refused}");
    let status = serve.terminate(&setup).await;
    assert_eq!(status.code(), Some(0), "log:\n{}", setup.log_text());
    assert_eq!(sim.resends(), one_resend(&campaign));
    assert_eq!(slack.responses(), ["first"]);
    let store = certwatch_store::Store::open(&setup.store()).expect("the store opens");
    assert_eq!(store.audit(10).expect("the audit trail").len(), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_role_without_the_permission_resends_nothing_and_says_which_parameter() {
    let (mut scenario, campaign) = demo_pending_email();
    let marketing = scenario
        .accounts
        .iter_mut()
        .find(|a| a.id == campaign.account_id)
        .expect("the certificate's account");
    marketing
        .denied_actions
        .push("acm:ResendValidationEmail".to_owned());
    let sim = start_sim(scenario).await;
    let slack = FakeSlack::start().await;
    let setup = resend_setup(&slack, true);
    let serve = setup.start(&sim.endpoint());
    setup.wait_ready().await;

    let now = resend(&setup, &slack, RESPONDER, &campaign.id, "denied").await;
    assert!(now.contains("Asking ACM"), "{now}");
    let denied = delayed(&slack, "denied").await;
    assert!(
        denied.contains("AllowResendValidationEmail=true"),
        "{denied}"
    );
    assert!(denied.contains(&campaign.account_id), "{denied}");
    assert!(sim.resends().is_empty(), "{:?}", sim.resends());

    let status = serve.terminate(&setup).await;
    assert_eq!(status.code(), Some(0), "log:\n{}", setup.log_text());
    assert!(sim.resends().is_empty(), "{:?}", sim.resends());
    assert_eq!(slack.responses(), ["denied"]);
    let store = certwatch_store::Store::open(&setup.store()).expect("the store opens");
    assert!(store.audit(10).expect("the audit trail").is_empty());
    sim.shutdown().await;
}

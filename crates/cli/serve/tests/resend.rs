//! `/certs resend` and the *Resend validation email* button in process: only when the config
//! allows it, only for responders and admins, at most once per certificate per 12 hours, each
//! resend in the audit trail; a refusal reaches ACM zero times.

use super::*;
use certwatch_core::AuditAction;
use certwatch_slack::resend::Outcome;

const HOOK: &str = "https://hooks.example/commands/1";

fn resend_config(enabled: bool) -> ServeConfig {
    config(&format!(
        "[slack.actions]\nresend_validation_email = {enabled}"
    ))
}

/// `/certs <text>` with a response URL, as `user`; the immediate reply.
async fn command(app: &Arc<App>, user: &str, text: &str) -> String {
    let (status, reply) = signed(app, &form("T0001", "C0001", user, text, HOOK)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply.to_string()
}

/// The delayed replies sent to `url` so far, waiting up to a second for `count` of them.
async fn replies_to(slack: &FakeSlack, url: &str, count: usize) -> Vec<String> {
    let started = std::time::Instant::now();
    loop {
        let replies: Vec<String> = slack
            .replies
            .lock()
            .unwrap()
            .iter()
            .filter(|(u, _)| u == url)
            .map(|(_, r)| r.to_string())
            .collect();
        if replies.len() >= count || started.elapsed() > Duration::from_secs(1) {
            return replies;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_resends_once_per_12_hours_and_each_resend_is_audited() {
    let report = demo_report().await;
    let rig = Rig::new(report.generated_at, report.clone());
    let app = rig.app(resend_config(true), scanned_store(&report));
    let campaign = record_of(&report, "campaign.example.org");
    let id = campaign.facts.arn.rsplit('/').next().unwrap().to_owned();

    let started = command(&app, RESPONDER, &format!("resend {id}")).await;
    assert!(started.contains("Asking ACM to resend"), "{started}");
    let replies = replies_to(&rig.slack, HOOK, 1).await;
    assert_eq!(replies.len(), 1);
    assert!(replies[0].contains("admin@example.org"), "{}", replies[0]);
    assert!(
        replies[0].contains("hostmaster@example.org"),
        "{}",
        replies[0]
    );
    assert_eq!(
        rig.resender.calls.lock().unwrap().clone(),
        [(
            campaign.facts.account_id.clone(),
            campaign.facts.region.clone(),
            campaign.facts.arn.clone()
        )]
    );
    let audit = app.with_store(|s| s.audit(10)).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].by, RESPONDER);
    assert_eq!(audit[0].arn, campaign.facts.arn);
    assert_eq!(
        audit[0].action,
        AuditAction::ResendValidationEmail {
            domains: vec!["campaign.example.org".to_owned()]
        }
    );

    // Within 12 hours, whoever asks: refused, ACM not called, nothing audited.
    rig.clock
        .set(report.generated_at + chrono::Duration::hours(11));
    let again = command(&app, ADMIN, &format!("resend {}", campaign.facts.arn)).await;
    assert!(again.contains("at most once every 12 hours"), "{again}");
    assert!(!again.contains("Asking ACM"), "refused at once: {again}");
    assert_eq!(
        replies_to(&rig.slack, HOOK, 2).await.len(),
        1,
        "no delayed reply"
    );
    assert_eq!(rig.resender.calls(), 1);
    assert_eq!(app.with_store(|s| s.audit(10)).await.unwrap().len(), 1);

    // 12 hours after the first: allowed again.
    rig.clock
        .set(report.generated_at + chrono::Duration::hours(12) + chrono::Duration::seconds(1));
    command(&app, ADMIN, &format!("resend {id}")).await;
    replies_to(&rig.slack, HOOK, 2).await;
    assert_eq!(rig.resender.calls(), 2);
    assert_eq!(app.with_store(|s| s.audit(10)).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_say_what_is_missing_and_reach_acm_zero_times() {
    let report = demo_report().await;
    let campaign = record_of(&report, "campaign.example.org").facts.arn.clone();

    // Off in the config: refused, for admins too.
    let rig = Rig::new(report.generated_at, report.clone());
    let app = rig.app(resend_config(false), scanned_store(&report));
    let off = command(&app, ADMIN, &format!("resend {campaign}")).await;
    assert!(off.contains("resend_validation_email"), "{off}");
    assert!(off.contains("turned off"), "{off}");

    // On, but not a responder or admin.
    let rig_on = Rig::new(report.generated_at, report.clone());
    let app = rig_on.app(resend_config(true), scanned_store(&report));
    let stranger = command(&app, "USTRANGER1", &format!("resend {campaign}")).await;
    assert!(stranger.contains("responder_user_ids"), "{stranger}");
    // A certificate that waits for no email.
    let legacy = record_of(&report, "legacy-pay.example.com")
        .facts
        .arn
        .clone();
    let not_pending = command(&app, RESPONDER, &format!("resend {legacy}")).await;
    assert!(
        not_pending.contains("not waiting for an approval email"),
        "{not_pending}"
    );
    // The member role does not allow it: ACM is asked (only it can say), nothing is audited,
    // and the reply names the parameter to deploy.
    *rig_on.resender.outcome.lock().unwrap() = Outcome::NotPermitted;
    command(&app, RESPONDER, &format!("resend {campaign}")).await;
    let replies = replies_to(&rig_on.slack, HOOK, 1).await;
    assert!(
        replies[0].contains("AllowResendValidationEmail=true"),
        "{}",
        replies[0]
    );
    assert!(app.with_store(|s| s.audit(10)).await.unwrap().is_empty());

    assert_eq!(rig.resender.calls(), 0);
    assert_eq!(
        rig_on.resender.calls(),
        1,
        "only the permitted ask reached ACM"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_button_resends_for_a_responder_and_refuses_others() {
    let report = demo_report().await;
    let rig = Rig::new(report.generated_at, report.clone());
    let app = rig.app(resend_config(true), scanned_store(&report));
    let arn = record_of(&report, "campaign.example.org").facts.arn.clone();
    let action = certwatch_slack::interactive::ACTION_RESEND;

    // Forged: 401, nothing sent.
    let forged = interaction_request(&app, &button_click(RESPONDER, &arn, action), false);
    assert_eq!(send(&app, forged).await.0, StatusCode::UNAUTHORIZED);
    // Someone else: refused to them only.
    let other = interaction_request(&app, &button_click("USTRANGER1", &arn, action), true);
    assert_eq!(send(&app, other).await.0, StatusCode::OK);
    let hook = "https://hooks.example/actions/1";
    let replies = replies_to(&rig.slack, hook, 1).await;
    assert!(replies[0].contains("responder_user_ids"), "{}", replies[0]);
    assert_eq!(rig.resender.calls(), 0);
    // A responder: sent, and the clicker hears where it went.
    let clicked = interaction_request(&app, &button_click(RESPONDER, &arn, action), true);
    assert_eq!(send(&app, clicked).await.0, StatusCode::OK);
    let replies = replies_to(&rig.slack, hook, 2).await;
    assert!(replies[1].contains("admin@example.org"), "{}", replies[1]);
    assert_eq!(rig.resender.calls(), 1);

    // The digest shows the button on the certificate pending email validation only.
    let digest = certwatch_slack::digest(
        &app.inventory(),
        false,
        report.generated_at,
        &certwatch_slack::DigestOptions {
            resend_button: true,
            ..Default::default()
        },
    )
    .expect("a digest");
    let json = serde_json::to_string(&digest).unwrap();
    assert_eq!(json.matches(action).count(), 1, "one resend button");
}

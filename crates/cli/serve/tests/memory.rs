//! Findings with a memory, in process: change alerts after a scan, snooze and acknowledge from
//! `/certs` and from the buttons (signed interaction payloads), the audit trail they leave.

use super::*;
use certwatch_core::{Code, Finding, Urgency};
use serde_json::json;

fn id_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_alerts_once_on_exactly_what_changed() {
    let first = demo_report().await;
    let rig = Rig::new(first.generated_at, first.clone());
    let app = rig.app(
        config(&digest_at("09:00", "UTC")),
        Store::open_in_memory().unwrap(),
    );
    // The first scan into a store is all new: no alert (the digest tells it).
    scan_loop::scan_once(&app).await;
    assert!(rig.slack.alerts.lock().unwrap().is_empty());

    // Then: a certificate with a finding deleted, a healthy one with a new urgent finding.
    let mut second = first.clone();
    second
        .certificates
        .retain(|c| c.facts.domain_name.as_deref() != Some("legacy-pay.example.com"));
    let healthy = second
        .certificates
        .iter_mut()
        .find(|c| c.facts.domain_name.as_deref() == Some("fraud-api.example.com"))
        .unwrap();
    assert!(healthy.findings.is_empty());
    healthy.findings.push(Finding {
        code: Code::NotInUse,
        urgency: Urgency::Urgent,
        summary: "fraud-api.example.com is used by nothing".to_owned(),
        remedy: "Attach it or delete it.".to_owned(),
    });
    *rig.scanner.report.lock().unwrap() = second;
    rig.clock
        .set(first.generated_at + chrono::Duration::hours(6));
    scan_loop::scan_once(&app).await;
    let texts = alert_text(&rig.slack);
    assert_eq!(texts.len(), 1, "one alert set: {texts:#?}");
    assert!(texts[0].contains("fraud-api.example.com"), "{}", texts[0]);
    assert!(texts[0].contains("legacy-pay.example.com"), "{}", texts[0]);
    // Nothing else changed: nothing else is in it.
    for unchanged in [
        "promo.example.net",
        "billing.example.com",
        "vpn.example.com",
    ] {
        assert!(!texts[0].contains(unchanged), "{unchanged}: {}", texts[0]);
    }

    // The same scan again: nothing changed, nothing posted.
    rig.clock
        .set(first.generated_at + chrono::Duration::hours(12));
    scan_loop::scan_once(&app).await;
    assert_eq!(rig.slack.alerts.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snooze_ack_and_unsnooze_are_recorded_and_audited() {
    let report = demo_report().await;
    let rig = Rig::new(report.generated_at, report.clone());
    let app = rig.app(config(""), scanned_store(&report));
    let campaign = record_of(&report, "campaign.example.org").facts.arn.clone();
    let id = id_of(&campaign).to_owned();

    // Someone who is neither responder nor admin: refused, nothing written.
    let reply = certs(&app, "U0000001", &format!("snooze {id} 7d not mine")).await;
    assert!(!reply.contains("Snoozed"), "{reply}");
    let audit = app.with_store(|s| s.audit(10)).await.unwrap();
    assert!(audit.is_empty(), "{audit:?}");
    assert!(app.inventory().decisions.is_empty());

    // A responder snoozes it: stored, audited, held in memory.
    let reply = certs(
        &app,
        RESPONDER,
        &format!("snooze {id} 7d waiting for the DNS team"),
    )
    .await;
    assert!(reply.contains("campaign.example.org"), "{reply}");
    let decision = app
        .inventory()
        .decisions
        .get(&campaign)
        .cloned()
        .expect("held");
    assert_eq!(decision.by, RESPONDER);
    assert_eq!(decision.reason, "waiting for the DNS team");
    assert_eq!(decision.channel, "C0001");
    let audit = app.with_store(|s| s.audit(10)).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].by, RESPONDER);
    assert_eq!(audit[0].arn, campaign);

    // `/certs snoozed` lists who, until when and why; `/certs show` has the decision.
    let listed = certs(&app, "U0000001", "snoozed").await;
    assert!(listed.contains("waiting for the DNS team"), "{listed}");
    assert!(listed.contains(RESPONDER), "{listed}");
    let shown = certs(&app, "U0000001", &format!("show {id}")).await;
    assert!(shown.contains("waiting for the DNS team"), "{shown}");

    // Acknowledge replaces it; unsnooze removes it; each step is in the audit trail.
    let reply = certs(&app, ADMIN, &format!("ack {id} we own it")).await;
    assert!(reply.contains("campaign.example.org"), "{reply}");
    assert_eq!(
        app.inventory().decisions[&campaign].kind,
        certwatch_core::DecisionKind::Acknowledge
    );
    certs(&app, RESPONDER, &format!("unsnooze {id}")).await;
    assert!(app.inventory().decisions.is_empty());
    let audit = app.with_store(|s| s.audit(10)).await.unwrap();
    assert_eq!(audit.len(), 3, "{audit:#?}");
    // A restart reads the same decisions back.
    let stored = app.with_store(|s| s.inventory()).await.unwrap();
    assert!(stored.decisions.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_open_a_modal_and_its_submission_records_and_marks_the_message() {
    let report = demo_report().await;
    let rig = Rig::new(report.generated_at, report.clone());
    let app = rig.app(config(""), scanned_store(&report));
    let arn = record_of(&report, "campaign.example.org").facts.arn.clone();

    // Forged: 401, no modal, nothing written.
    let (status, _) = send(
        &app,
        interaction_request(&app, &click(RESPONDER, &arn), false),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(rig.slack.views.lock().unwrap().is_empty());

    // Signed click: the reason modal opens with the click's trigger_id.
    let (status, _) = send(
        &app,
        interaction_request(&app, &click(RESPONDER, &arn), true),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (trigger, view) = rig.slack.views.lock().unwrap()[0].clone();
    assert_eq!(trigger, "trigger-1");
    assert_eq!(view["type"], "modal");

    // The clicked message, as Slack has it.
    *rig.slack.message.lock().unwrap() = Some(json!({
        "ts": "1764400000.000001",
        "text": "digest",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "campaign.example.org"}},
            {"type": "actions", "elements": [
                {"type": "button", "action_id": "certwatch_snooze_7d", "value": arn,
                 "text": {"type": "plain_text", "text": "Snooze 7 days"}}
            ]}
        ]
    }));
    let submission = |user: &str| {
        json!({
            "type": "view_submission",
            "user": {"id": user},
            "team": {"id": "T0001"},
            "view": {
                "callback_id": view["callback_id"],
                "private_metadata": view["private_metadata"],
                "state": {"values": {"certwatch_reason": {"certwatch_reason_input":
                    {"type": "plain_text_input", "value": "rotating on Friday"}}}}
            }
        })
    };
    // Someone else submits: the modal shows the refusal, nothing is written.
    let (status, body) = send(
        &app,
        interaction_request(&app, &submission("U0000001"), true),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"response_action\":\"errors\""), "{body}");
    assert!(app.inventory().decisions.is_empty());

    // The responder submits: recorded, audited, and the message says who snoozed it.
    let (status, body) = send(
        &app,
        interaction_request(&app, &submission(RESPONDER), true),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let decision = app
        .inventory()
        .decisions
        .get(&arn)
        .cloned()
        .expect("recorded");
    assert_eq!(decision.reason, "rotating on Friday");
    let audit = app.with_store(|s| s.audit(10)).await.unwrap();
    assert_eq!(audit.len(), 1);
    let started = std::time::Instant::now();
    while rig.slack.updates.lock().unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "message not updated"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (channel, ts, updated) = rig.slack.updates.lock().unwrap()[0].clone();
    assert_eq!(
        (channel.as_str(), ts.as_str()),
        ("C0001", "1764400000.000001")
    );
    let text = updated.to_string();
    assert!(
        text.contains(RESPONDER) && text.contains("rotating on Friday"),
        "{text}"
    );
    assert!(
        !text.contains("certwatch_snooze_7d"),
        "the buttons are gone: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_shows_the_history_to_the_clicker_only() {
    let report = demo_report().await;
    let rig = Rig::new(report.generated_at, report.clone());
    let app = rig.app(config(""), scanned_store(&report));
    let arn = record_of(&report, "campaign.example.org").facts.arn.clone();
    let mut payload = click("U0000001", &arn);
    payload["actions"][0]["action_id"] = json!("certwatch_details");
    let (status, _) = send(&app, interaction_request(&app, &payload, true)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        rig.slack.views.lock().unwrap().is_empty(),
        "no modal for details"
    );
    let replies = rig.slack.replies.lock().unwrap().clone();
    assert_eq!(replies.len(), 1, "{replies:#?}");
    let (url, reply) = &replies[0];
    assert_eq!(url, "https://hooks.example/actions/1");
    assert_eq!(reply["response_type"], "ephemeral");
    assert!(
        reply.to_string().contains("campaign.example.org"),
        "{reply}"
    );
    // Reading is not deciding: nothing was written.
    assert!(app.with_store(|s| s.audit(10)).await.unwrap().is_empty());
}

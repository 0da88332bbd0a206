//! The scan loop: a scan at start, then every `serve.scan_interval_minutes` or when an admin
//! asks; each finished scan is merged into the store and becomes the inventory commands read.

use super::App;
use certwatch_slack::bot::{self, ScanOutcome};
use std::sync::Arc;

/// Scans now, then every interval or sooner when asked, until the app stops.
pub async fn scan_loop(app: Arc<App>) {
    loop {
        if app.is_stopping() {
            return;
        }
        scan_once(&app).await;
        tokio::select! {
            _ = app.clock.sleep(app.config.scan_interval) => {}
            _ = app.scan_now.notified() => {}
            _ = app.stopped() => return,
        }
    }
}

/// One scan and its merge. A stop during the scan abandons the scan (nothing was written); a
/// stop during the merge waits for it: the merge is one transaction, committed or not at all.
pub async fn scan_once(app: &App) {
    app.set_scan_running(true);
    tracing::info!("scan started");
    let previous = app.inventory();
    let previous_scan = previous.last_scan;
    let now = app.clock.now();
    let result = tokio::select! {
        result = app.scanner.scan(now, previous) => result,
        _ = app.stopped() => {
            tracing::info!("scan abandoned: stopping");
            app.set_scan_running(false);
            return;
        }
    };
    let message = match result {
        Ok(report) => {
            let stats = report.stats.clone();
            let failures = report.failures.len();
            let first = previous_scan.is_none();
            tracing::info!(
                certificates = report.certificates.len(),
                "scan done; merging it into the store"
            );
            match app.with_store(move |store| store.merge_scan(report)).await {
                Ok(merged) => {
                    let at = merged.inventory.last_scan.unwrap_or(now);
                    app.metrics.scan_succeeded(&stats, failures, at);
                    app.set_inventory(merged.inventory).await;
                    if !first {
                        // The first scan into a store is all new: the digest says it.
                        post_alerts(app, &merged.changes).await;
                    }
                    tracing::info!(
                        accounts = stats.accounts,
                        targets = stats.targets,
                        certificates = stats.certificates,
                        describes_saved = stats.describes_saved,
                        failures,
                        duration_ms = stats.duration_ms,
                        "scan finished"
                    );
                    bot::scan_outcome(ScanOutcome::Finished(&stats))
                }
                Err(e) => {
                    app.metrics.scan_failed();
                    let id = app.error_id();
                    tracing::error!(error_id = %id, "storing the scan failed: {e:#}");
                    bot::scan_outcome(ScanOutcome::Failed { error_id: &id })
                }
            }
        }
        Err(e) => {
            app.metrics.scan_failed();
            let id = app.error_id();
            tracing::error!(error_id = %id, "scan failed: {e:#}");
            bot::scan_outcome(ScanOutcome::Failed { error_id: &id })
        }
    };
    app.set_scan_running(false);
    let waiters = app.take_scan_waiters();
    if let Some(slack) = &app.slack {
        for url in waiters {
            slack.respond(&url, &message).await;
        }
    }
}

/// Posts what changed (at or above `slack.alerts.min_urgency`) as one message set per channel:
/// each routed channel gets its accounts' changes, the alerts channel the rest. Nothing
/// changed, nothing posted. A failed post is logged: the next digest still has it.
async fn post_alerts(app: &App, changes: &certwatch_core::Changes) {
    let (Some(alerts), Some(slack)) = (&app.config.alerts, &app.slack) else {
        return;
    };
    let options = certwatch_slack::AlertOptions {
        min_urgency: alerts.min_urgency,
        resend_button: app.config.actions.resend_validation_email,
    };
    let whole = app.inventory();
    let mut posted = 0;
    for (channel, part) in app.routing.split(changes, &alerts.channel) {
        let inventory = if channel == alerts.channel {
            // The alerts channel takes what no route claims: answer from the whole inventory,
            // which holds those accounts (and, when it is also a routed channel, its own).
            whole.clone()
        } else {
            app.routing.scope(&whole, &channel)
        };
        let Some(messages) = certwatch_slack::alerts(&part, &inventory, app.clock.now(), &options)
        else {
            continue;
        };
        match slack.post_messages(&channel, &messages).await {
            Ok(ts) => {
                posted += 1;
                app.metrics.alerts_posted();
                tracing::info!(
                    %ts,
                    %channel,
                    changes = part.changes.len(),
                    "alerts posted"
                )
            }
            Err(e) => tracing::error!(%channel, "posting the alerts failed: {e:#}"),
        }
    }
    if posted == 0 {
        tracing::info!(changes = changes.changes.len(), "nothing to alert on");
    }
}

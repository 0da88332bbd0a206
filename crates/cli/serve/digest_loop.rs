//! The digest loop: the daily digest, once per local day and channel, neither doubled nor
//! silently skipped. Each channel has a loop of its own: the default channel
//! (`slack.digest.channel`, with the org-wide summary when accounts are routed), and each
//! channel routes send accounts to, started once a scan first routes an account there.
//!
//! Before posting, the intent is recorded in the store; after, the post. A day whose intent has
//! no post (the process died between the two, or the post failed in a way that leaves it
//! unknown) is confirmed with Slack first: the digest's parent message carries its date in its
//! metadata, and `conversations.history` finds it. If the store cannot record, the loop keeps
//! what it knows in memory, so this process still posts once, and says so in the log and in
//! `/readyz`.

use super::App;
use anyhow::Result;
use certwatch_slack::schedule::{self, Known, Step};
use certwatch_store::DigestMark;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The longest sleep: the wall clock can jump (suspend, NTP), so the loop looks again at least
/// this often.
const MAX_SLEEP: Duration = Duration::from_secs(300);

/// After a failed post or an unanswered check with Slack.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// How far before the recorded intent a digest found in Slack may be dated: Slack's clock and
/// ours differ.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// Posts each channel's digest once per local day at the configured time, until the app
/// stops.
pub async fn digest_loop(app: Arc<App>) {
    if app.config.digest.is_none() || app.slack.is_none() {
        return;
    }
    // No digest before a scan has produced data.
    tokio::select! {
        _ = app.wait_for_inventory() => {}
        _ = app.stopped() => return,
    }
    let mut versions = app.inventory_versions();
    let mut loops: BTreeMap<String, tokio::task::JoinHandle<()>> = BTreeMap::new();
    loop {
        for channel in app.routing.destinations() {
            if let std::collections::btree_map::Entry::Vacant(slot) = loops.entry(channel) {
                let channel = slot.key().clone();
                tracing::info!(%channel, "daily digest scheduled");
                slot.insert(tokio::spawn(channel_loop(app.clone(), channel)));
            }
        }
        tokio::select! {
            _ = versions.changed() => {}
            _ = app.stopped() => break,
        }
    }
    for (_, task) in loops {
        let _ = task.await;
    }
}

/// The digest of one channel.
async fn channel_loop(app: Arc<App>, channel: String) {
    let Some(digest) = app.config.digest.clone() else {
        return;
    };
    let Some(slack) = app.slack.clone() else {
        return;
    };
    // What this process knows, for when the store cannot say: (date, what is known).
    let mut memory: Option<(NaiveDate, Known)> = None;
    loop {
        if app.is_stopping() {
            return;
        }
        let now = app.clock.now();
        let today = now.with_timezone(&digest.time_zone).date_naive();
        let stored = {
            let channel = channel.clone();
            app.with_store(move |store| store.digest_mark(today, &channel))
                .await
        };
        let remembered = memory.filter(|(date, _)| *date == today).map(|(_, k)| k);
        let known = match (stored, remembered) {
            (_, Some(Known::Posted)) => Known::Posted,
            (Ok(Some(DigestMark::Posted { .. })), _) => Known::Posted,
            (Ok(Some(DigestMark::Intended { at, .. })), _) => Known::Intended { since: at },
            (Ok(None), Some(known)) => known,
            (Ok(None), None) => Known::Nothing,
            (Err(e), remembered) => {
                tracing::error!("reading the digest's state from the store: {e:#}");
                // Unknown: a digest may have been posted today; ask Slack before posting.
                remembered.unwrap_or(Known::Intended {
                    since: start_of_day(today, &digest.time_zone),
                })
            }
        };
        let wait = match schedule::step(now, digest.time, digest.time_zone, known) {
            Step::Wait(at) => (at - now).to_std().unwrap_or_default().min(MAX_SLEEP),
            Step::Confirm { date, since } => {
                match slack.find_digest(&channel, date, since - CLOCK_SKEW).await {
                    Ok(Some(ts)) => {
                        tracing::info!(%date, %ts, %channel, "the digest was already in Slack; recorded it");
                        memory = Some((date, Known::Posted));
                        record_post(&app, date, &channel, &ts).await;
                        Duration::ZERO
                    }
                    Ok(None) => {
                        memory = Some((date, Known::Intended { since }));
                        post(&app, &*slack, &digest, &channel, date, &mut memory).await
                    }
                    Err(e) => {
                        let problem = format!(
                            "cannot tell whether the digest of {date} reached {channel} ({e:#}); \
                             not posting it again until Slack can be asked"
                        );
                        tracing::error!("{problem}; asking again in a minute");
                        app.set_digest_problem(Some(problem));
                        memory = Some((date, Known::Intended { since }));
                        RETRY_AFTER
                    }
                }
            }
            Step::Post(date) => {
                let at = now;
                let intent = {
                    let channel = channel.clone();
                    app.with_store(move |store| store.record_digest_intent(date, &channel, at))
                        .await
                };
                if let Err(e) = intent {
                    let problem = format!(
                        "the store cannot record the digest of {date} ({e:#}); posting it once \
                         from memory, but a restart may not know it was posted"
                    );
                    tracing::error!("{problem}");
                    app.set_digest_problem(Some(problem));
                }
                memory = Some((date, Known::Intended { since: now }));
                post(&app, &*slack, &digest, &channel, date, &mut memory).await
            }
        };
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            _ = app.clock.sleep(wait) => {}
            _ = app.stopped() => return,
        }
    }
}

/// Renders and posts the digest of `date` in `channel` (the intent is already recorded), then
/// records the post. Returns how long to wait before the next turn.
async fn post(
    app: &App,
    slack: &dyn super::ports::SlackApi,
    digest: &crate::config::DigestConfig,
    channel: &str,
    date: NaiveDate,
    memory: &mut Option<(NaiveDate, Known)>,
) -> Duration {
    let whole = app.inventory();
    let inventory = app.routing.scope(&whole, channel);
    // What was first seen since this channel's last digest (none before its first one): the
    // store knows; if it cannot say, the digest goes out without the marks.
    let key = channel.to_owned();
    let new = app
        .with_store(move |store| match store.last_digest_posted_at(&key)? {
            Some(at) => store.new_findings_since(at),
            None => Ok(Default::default()),
        })
        .await
        .unwrap_or_else(|e| {
            tracing::warn!("reading what is new since the last digest: {e:#}");
            Default::default()
        });
    let options = certwatch_slack::DigestOptions {
        post_when_clear: digest.post_when_clear,
        time_zone_label: digest.time_zone.name().to_owned(),
        new_since_last_digest: new,
        routed: app.routing.summary(&whole, channel, app.clock.now()),
        resend_button: app.config.actions.resend_validation_email,
    };
    let Some(rendered) =
        certwatch_slack::digest(&inventory, app.scan_running(), app.clock.now(), &options)
    else {
        tracing::info!(%date, %channel, "nothing needs action: no digest today");
        *memory = Some((date, Known::Posted));
        record_post(app, date, channel, "").await;
        return Duration::ZERO;
    };
    match slack.post_digest(channel, &rendered, date).await {
        Ok(ts) => {
            app.metrics.digest_posted();
            tracing::info!(%date, %ts, %channel, "digest posted");
            *memory = Some((date, Known::Posted));
            record_post(app, date, channel, &ts).await;
            Duration::ZERO
        }
        Err(e) => {
            // It may have reached Slack all the same (a timeout after Slack took it): the
            // next turn asks Slack before posting again.
            tracing::error!(
                "posting the digest of {date} to {channel} failed: {e:#}; retrying in a minute"
            );
            RETRY_AFTER
        }
    }
}

/// Records a posted digest; a store that cannot is reported, and memory keeps it posted.
async fn record_post(app: &App, date: NaiveDate, channel: &str, ts: &str) {
    let (key, ts) = (channel.to_owned(), ts.to_owned());
    let at = app.clock.now();
    let marked: Result<bool> = app
        .with_store(move |store| store.mark_digest_posted(date, &key, &ts, at))
        .await;
    match marked {
        Ok(_) => app.set_digest_problem(None),
        Err(e) => {
            let problem = format!(
                "the digest of {date} was posted to {channel} but the store could not record it ({e:#}); \
                 this process will not post it again"
            );
            tracing::error!("{problem}");
            app.set_digest_problem(Some(problem));
        }
    }
}

/// Midnight of local `date` (or the first instant of it, where midnight falls in a DST gap).
fn start_of_day(date: NaiveDate, tz: &chrono_tz::Tz) -> DateTime<Utc> {
    schedule::local_instant(date, chrono::NaiveTime::MIN, *tz)
}

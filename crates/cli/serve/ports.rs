//! What the serve loops are given rather than reach for: the clock, the scanner and Slack's Web
//! API. `run` plugs in the real ones; the in-process tests plug in a clock that needs no
//! sleeping, a scanner that returns a prepared report and a Slack that records what it is sent.

use anyhow::Result;
use certwatch_core::{Inventory, Report};
use certwatch_scanner::{NoProgress, Previous, ScanConfig};
use certwatch_slack::Digest;
use chrono::{DateTime, NaiveDate, Utc};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// The time, and waiting for it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// Resolves once `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// The wall clock and tokio's timer.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// One scan of the organization.
pub trait Scanner: Send + Sync + 'static {
    /// Scans at `now`; `previous` is the inventory held before it (its network checks, its
    /// certificates' detail and its accounts' OU paths and tags that still stand are reused).
    fn scan(&self, now: DateTime<Utc>, previous: Arc<Inventory>) -> BoxFuture<'_, Result<Report>>;
}

/// The real scanner, against AWS (or whatever `AWS_ENDPOINT_URL` points at).
pub struct AwsScanner {
    pub aws: aws_config::SdkConfig,
    pub config: ScanConfig,
}

impl Scanner for AwsScanner {
    fn scan(&self, now: DateTime<Utc>, previous: Arc<Inventory>) -> BoxFuture<'_, Result<Report>> {
        Box::pin(async move {
            let previous = Arc::new(Previous::of(previous, &self.config));
            Ok(
                certwatch_scanner::scan_after(&self.aws, &self.config, now, &NoProgress, previous)
                    .await?,
            )
        })
    }
}

/// `acm:ResendValidationEmail` for one certificate (certwatch's one write to AWS): what ACM
/// said, as the bot words it.
pub trait Resender: Send + Sync + 'static {
    fn resend<'a>(
        &'a self,
        account_id: &'a str,
        region: &'a str,
        arn: &'a str,
    ) -> BoxFuture<'a, certwatch_slack::resend::Outcome>;
}

/// The real resender, through `certwatch_scanner::act` with the scan's credentials and role;
/// built at the first resend (it asks STS who it is).
pub struct AwsResender {
    pub aws: aws_config::SdkConfig,
    pub config: ScanConfig,
    pub resender: tokio::sync::OnceCell<certwatch_scanner::Resender>,
}

impl Resender for AwsResender {
    fn resend<'a>(
        &'a self,
        account_id: &'a str,
        region: &'a str,
        arn: &'a str,
    ) -> BoxFuture<'a, certwatch_slack::resend::Outcome> {
        use certwatch_scanner::ResendError;
        use certwatch_slack::resend::{Outcome, Sent};
        Box::pin(async move {
            let resender = match self
                .resender
                .get_or_try_init(|| certwatch_scanner::Resender::new(&self.aws, &self.config))
                .await
            {
                Ok(resender) => resender,
                Err(e) => {
                    tracing::error!("the resender cannot reach AWS: {e}");
                    return Outcome::Failed(
                        "certwatch's own AWS credentials do not work right now; see its log"
                            .to_owned(),
                    );
                }
            };
            match resender.resend(account_id, region, arn).await {
                Ok(resent) => Outcome::Sent {
                    sent: resent
                        .sent
                        .into_iter()
                        .map(|s| Sent {
                            domain: s.domain,
                            emails: s.emails,
                        })
                        .collect(),
                    not_sent: resent.not_sent.map(|n| n.error.to_string()),
                },
                Err(ResendError::NotPermitted { .. }) => Outcome::NotPermitted,
                Err(ResendError::NotPending) => Outcome::NotPending,
                Err(other) => Outcome::Failed(other.to_string()),
            }
        })
    }
}

/// The calls to Slack's Web API that the loops make.
pub trait SlackApi: Send + Sync + 'static {
    /// Posts the digest of local `date` (the parent carries `date` in its message metadata,
    /// the rest go in its thread) and returns the parent's ts.
    fn post_digest<'a>(
        &'a self,
        channel: &'a str,
        digest: &'a Digest,
        date: NaiveDate,
    ) -> BoxFuture<'a, Result<String>>;

    /// The ts of the digest of `date` if `channel` has one posted at or after `since`.
    fn find_digest<'a>(
        &'a self,
        channel: &'a str,
        date: NaiveDate,
        since: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Option<String>>>;

    /// A delayed reply through a slash command's response_url. Failures are logged, not
    /// returned: nobody is waiting for them.
    fn respond<'a>(&'a self, response_url: &'a str, text: &'a str) -> BoxFuture<'a, ()>;

    /// Posts a message set (the alerts after a scan): the parent, then the rest in its thread.
    /// Returns the parent's ts.
    fn post_messages<'a>(
        &'a self,
        channel: &'a str,
        messages: &'a Digest,
    ) -> BoxFuture<'a, Result<String>>;

    /// An ephemeral reply with blocks through an interaction's or a command's response_url.
    fn respond_reply<'a>(
        &'a self,
        response_url: &'a str,
        reply: &'a certwatch_slack::Reply,
    ) -> BoxFuture<'a, ()>;

    /// `views.open` with a click's trigger_id.
    fn open_view<'a>(
        &'a self,
        trigger_id: &'a str,
        view: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<()>>;

    /// One of the bot's messages as Slack has it (`conversations.history` at its ts), with its
    /// blocks; `None` if it is not there.
    fn fetch_message<'a>(
        &'a self,
        channel: &'a str,
        ts: &'a str,
    ) -> BoxFuture<'a, Result<Option<serde_json::Value>>>;

    /// `chat.update` of one of the bot's messages: new blocks, and text for notifications.
    fn update_message<'a>(
        &'a self,
        channel: &'a str,
        ts: &'a str,
        message: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<()>>;
}

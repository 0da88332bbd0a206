//! Talking to Slack: the Web API (token checks, digest posts and the check whether one is
//! there, delayed replies) and Socket Mode, through slack-morphism. The API base URL is
//! configurable so a proxy or a test double can stand in.

use super::ports::SlackApi;
use super::App;
use anyhow::{Context, Result};
use certwatch_slack::{Digest, Incoming, Message};
use chrono::{DateTime, NaiveDate, Utc};
use futures::future::BoxFuture;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use std::sync::Arc;
use std::time::Duration;

mod web;

type Connector = SlackClientHyperConnector<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
>;

/// How long a stop waits, after asking the Socket Mode connections to close, for their close
/// frames to go out (their tasks send them; nothing reports when they did).
const CLOSE_FRAME_GRACE: Duration = Duration::from_millis(500);

/// The Slack client has no HTTP timeout of its own.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// `event_type` of the metadata on a digest's parent message; its payload holds the local date.
const DIGEST_EVENT: &str = "certwatch_digest";

/// How many pages of `conversations.history` (200 messages each) are read to find a digest.
const HISTORY_PAGES: usize = 5;

/// What Slack answers for a token it will not take.
const REJECTED: [&str; 6] = [
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
];

/// Whether Slack refused a token (as opposed to not answering).
pub enum TokenCheck {
    Accepted,
    Rejected(String),
    /// Slack could not be asked (network, timeout, 5xx): not a verdict on the token.
    Unknown(String),
}

pub struct SlackIo {
    client: Arc<SlackClient<Connector>>,
    bot: SlackApiToken,
    app: Option<SlackApiToken>,
    socket: tokio::sync::Mutex<Option<Arc<SlackClientSocketModeListener<Connector>>>>,
}

impl SlackIo {
    pub fn new(api_url: &str, bot_token: String, app_token: Option<String>) -> Result<SlackIo> {
        // http or https: the base URL may point at a local proxy or test double.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .context("loading the system's CA certificates")?
            .https_or_http()
            .enable_http1()
            .build();
        // slack-morphism appends "/<method>" itself.
        let connector = SlackClientHyperConnector::with_connector(https)
            .with_slack_api_url(api_url.trim_end_matches('/'))
            // Honours 429 Retry-After and chat.postMessage's one message per second.
            .with_rate_control(SlackApiRateControlConfig::new());
        Ok(SlackIo {
            client: Arc::new(SlackClient::new(connector)),
            bot: SlackApiToken::new(bot_token.into()),
            app: app_token.map(|t| SlackApiToken::new(t.into())),
            socket: tokio::sync::Mutex::new(None),
        })
    }

    /// `auth.test` with the bot token.
    pub async fn check_bot_token(&self) -> TokenCheck {
        let session = self.client.open_session(&self.bot);
        classify(tokio::time::timeout(CALL_TIMEOUT, session.auth_test()).await)
    }

    /// `apps.connections.open` with the app-level token (Socket Mode).
    pub async fn check_app_token(&self) -> TokenCheck {
        let Some(token) = &self.app else {
            return TokenCheck::Rejected("no app-level token".to_owned());
        };
        let session = self.client.open_session(token);
        let request = SlackApiAppsConnectionOpenRequest::new();
        classify(tokio::time::timeout(CALL_TIMEOUT, session.apps_connections_open(&request)).await)
    }

    async fn post(
        &self,
        channel: &str,
        message: &Message,
        thread: Option<&SlackTs>,
        metadata: Option<serde_json::Value>,
    ) -> Result<SlackTs> {
        let mut content = serde_json::json!({
            "text": message.text,
            "blocks": message.blocks,
        });
        if let Some(metadata) = metadata {
            content["metadata"] = metadata;
        }
        let content: SlackMessageContent =
            serde_json::from_value(content).context("converting the digest to Slack blocks")?;
        let mut request = SlackApiChatPostMessageRequest::new(channel.to_owned().into(), content);
        if let Some(ts) = thread {
            request = request.with_thread_ts(ts.clone());
        }
        let session = self.client.open_session(&self.bot);
        let response = tokio::time::timeout(CALL_TIMEOUT, session.chat_post_message(&request))
            .await
            .context("chat.postMessage timed out")?
            .context("chat.postMessage")?;
        Ok(response.ts)
    }

    /// Posts a message set: the parent (with `metadata`), then the rest in its thread. Returns
    /// the parent's ts. A reply that fails is logged, not retried: the parent is out, and a
    /// gap in the thread is better than the whole set twice.
    async fn post_thread(
        &self,
        channel: &str,
        messages: &Digest,
        metadata: Option<serde_json::Value>,
        what: &str,
    ) -> Result<String> {
        let parent = self.post(channel, &messages.parent, None, metadata).await?;
        for reply in &messages.replies {
            if let Err(e) = self.post(channel, reply, Some(&parent), None).await {
                tracing::error!("posting a reply in {what}'s thread failed: {e:#}");
            }
        }
        Ok(parent.to_string())
    }

    async fn history_page(
        &self,
        channel: &str,
        since: DateTime<Utc>,
        cursor: Option<SlackCursorId>,
    ) -> Result<SlackApiConversationsHistoryResponse> {
        let oldest = format!("{}.000000", since.timestamp());
        let mut request = SlackApiConversationsHistoryRequest::new()
            .with_channel(channel.to_owned().into())
            .with_oldest(oldest.into())
            .with_limit(200)
            .with_include_all_metadata(true);
        if let Some(cursor) = cursor {
            request = request.with_cursor(cursor);
        }
        let session = self.client.open_session(&self.bot);
        tokio::time::timeout(CALL_TIMEOUT, session.conversations_history(&request))
            .await
            .context("conversations.history timed out")?
            .context("conversations.history (the bot needs the channels:history scope, and groups:history for a private channel)")
    }

    /// Connects Socket Mode and answers slash commands over it.
    pub async fn start_socket_mode(&self, app: Arc<App>) -> Result<()> {
        let Some(token) = &self.app else {
            anyhow::bail!("Socket Mode needs the app-level token");
        };
        let environment = Arc::new(
            SlackClientEventsListenerEnvironment::new(self.client.clone())
                .with_error_handler(|err, _client, _state| {
                    tracing::warn!("Slack Socket Mode error: {err}");
                    axum::http::StatusCode::OK
                })
                .with_user_state(app),
        );
        let callbacks = SlackSocketModeListenerCallbacks::new()
            .with_command_events(on_command)
            .with_interaction_events(on_interaction)
            .with_hello_events(|_hello, _client, state| on_hello(state));
        let listener = Arc::new(SlackClientSocketModeListener::new(
            &SlackClientSocketModeConfig::new(),
            environment,
            callbacks,
        ));
        tracing::info!("connecting to Slack (Socket Mode)");
        listener
            .listen_for(token)
            .await
            .context("opening the Socket Mode connection (apps.connections.open)")?;
        listener.start().await;
        *self.socket.lock().await = Some(listener);
        Ok(())
    }

    /// Closes the Socket Mode connections with a close frame.
    pub async fn stop_socket_mode(&self) {
        if let Some(listener) = self.socket.lock().await.take() {
            listener.shutdown().await;
            // slack-morphism only asks each connection's task to close; the close frame goes
            // out when that task next runs. Give it that moment before the process exits.
            tokio::time::sleep(CLOSE_FRAME_GRACE).await;
            tracing::info!("Slack Socket Mode connection closed");
        }
    }
}

fn classify<T>(
    answer: Result<Result<T, SlackClientError>, tokio::time::error::Elapsed>,
) -> TokenCheck {
    match answer {
        Ok(Ok(_)) => TokenCheck::Accepted,
        Ok(Err(SlackClientError::ApiError(e))) if REJECTED.contains(&e.code.as_str()) => {
            TokenCheck::Rejected(e.code)
        }
        Ok(Err(e)) => TokenCheck::Unknown(e.to_string()),
        Err(_) => TokenCheck::Unknown(format!("no answer within {CALL_TIMEOUT:?}")),
    }
}

impl SlackApi for SlackIo {
    fn post_messages<'a>(
        &'a self,
        channel: &'a str,
        messages: &'a Digest,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(self.post_thread(channel, messages, None, "an alert"))
    }

    fn respond_reply<'a>(
        &'a self,
        response_url: &'a str,
        reply: &'a certwatch_slack::Reply,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.respond_with(response_url, reply))
    }

    fn open_view<'a>(
        &'a self,
        trigger_id: &'a str,
        view: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.views_open(trigger_id, view))
    }

    fn fetch_message<'a>(
        &'a self,
        channel: &'a str,
        ts: &'a str,
    ) -> BoxFuture<'a, Result<Option<serde_json::Value>>> {
        Box::pin(self.message_at(channel, ts))
    }

    fn update_message<'a>(
        &'a self,
        channel: &'a str,
        ts: &'a str,
        message: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.chat_update(channel, ts, message))
    }

    fn post_digest<'a>(
        &'a self,
        channel: &'a str,
        digest: &'a Digest,
        date: NaiveDate,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let metadata = serde_json::json!({
                "event_type": DIGEST_EVENT,
                "event_payload": {"date": date.to_string()},
            });
            self.post_thread(channel, digest, Some(metadata), "the digest")
                .await
        })
    }

    fn find_digest<'a>(
        &'a self,
        channel: &'a str,
        date: NaiveDate,
        since: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            let date = date.to_string();
            let mut cursor = None;
            for _ in 0..HISTORY_PAGES {
                let page = self.history_page(channel, since, cursor).await?;
                let found = page.messages.iter().find(|m| {
                    m.content.metadata.as_ref().is_some_and(|meta| {
                        meta.event_type == DIGEST_EVENT
                            && meta
                                .event_payload
                                .as_ref()
                                .and_then(|p| p.get("date"))
                                .is_some_and(|d| *d == date)
                    })
                });
                if let Some(message) = found {
                    return Ok(Some(message.origin.ts.to_string()));
                }
                cursor = page
                    .response_metadata
                    .and_then(|m| m.next_cursor)
                    .filter(|c| !c.0.is_empty());
                if cursor.is_none() {
                    return Ok(None);
                }
            }
            anyhow::bail!("more than {HISTORY_PAGES} pages of messages since the digest's intent")
        })
    }

    fn respond<'a>(&'a self, response_url: &'a str, text: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.respond_with(response_url, &certwatch_slack::Reply::note(text))
                .await
        })
    }
}

fn app_of(state: &SlackClientEventsUserStateStorage) -> Option<Arc<App>> {
    state.get_user_state::<Arc<App>>().cloned()
}

/// Socket Mode slash command: answered from memory, so well within Slack's 3 seconds.
async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SlackClient<Connector>>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let app = app_of(&*state.read().await).ok_or("certwatch state missing")?;
    let reply = app
        .answer(&Incoming {
            team_id: event.team_id.to_string(),
            channel_id: event.channel_id.to_string(),
            user_id: event.user_id.to_string(),
            text: event.text.unwrap_or_default(),
            response_url: Some(event.response_url.0.to_string()),
        })
        .await;
    Ok(serde_json::from_value(reply)?)
}

/// Socket Mode click or modal submission: carried out like one over HTTP; a refused submission
/// travels back in the acknowledgement and keeps the modal open.
async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<SlackClient<Connector>>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackInteractionResponse> {
    let app = app_of(&*state.read().await).ok_or("certwatch state missing")?;
    let payload = serde_json::to_value(&event)?;
    let interaction = match certwatch_slack::parse_value(&payload) {
        Ok(interaction) => interaction,
        Err(e) => {
            tracing::warn!("an interaction payload certwatch cannot read: {e}");
            return Ok(SlackInteractionResponse::Empty);
        }
    };
    Ok(match super::interact::handle(&app, interaction).await {
        super::interact::Ack::Empty => SlackInteractionResponse::Empty,
        super::interact::Ack::ModalError(body) => {
            serde_json::from_value::<SlackViewSubmissionResponse>(body)
                .map(SlackInteractionResponse::from)
                .unwrap_or(SlackInteractionResponse::Empty)
        }
    })
}

/// Slack's hello on a new WebSocket: connected (again).
async fn on_hello(state: SlackClientEventsUserState) {
    let Some(app) = app_of(&*state.read().await) else {
        return;
    };
    let now = app.clock.now();
    let mut connections = 0;
    app.update_slack_status(|status| {
        status.connected_at = Some(now);
        status.connections += 1;
        connections = status.connections;
    });
    if connections == 1 {
        tracing::info!("connected to Slack (Socket Mode)");
    } else {
        tracing::info!(connections, "reconnected to Slack (Socket Mode)");
    }
}

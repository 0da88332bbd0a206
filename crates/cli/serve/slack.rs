//! Talking to Slack: the Web API (digest posts, delayed replies) and Socket Mode, through
//! slack-morphism. The API base URL is configurable so a proxy or a test double can stand in.

use super::{App, Incoming};
use anyhow::{Context, Result};
use certwatch_slack::{Digest, Message};
use slack_morphism::prelude::*;
use std::sync::Arc;
use std::time::Duration;

type Connector = SlackClientHyperConnector<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
>;

/// The Slack client has no HTTP timeout of its own.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

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

    async fn post(
        &self,
        channel: &str,
        message: &Message,
        thread: Option<&SlackTs>,
    ) -> Result<SlackTs> {
        let content: SlackMessageContent = serde_json::from_value(serde_json::json!({
            "text": message.text,
            "blocks": message.blocks,
        }))
        .context("converting the digest to Slack blocks")?;
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

    /// Posts the parent message, then the rest as threaded replies. Returns the parent's ts.
    pub async fn post_digest(&self, channel: &str, digest: &Digest) -> Result<String> {
        let parent = self.post(channel, &digest.parent, None).await?;
        for reply in &digest.replies {
            if let Err(e) = self.post(channel, reply, Some(&parent)).await {
                // The parent is out: report the gap rather than post the digest twice.
                tracing::error!("posting a digest reply failed: {e:#}");
            }
        }
        Ok(parent.to_string())
    }

    /// A delayed, ephemeral reply through a slash command's response_url.
    pub async fn respond(&self, response_url: &str, text: &str) {
        let Ok(url) = response_url.parse() else {
            return;
        };
        let request = SlackApiPostWebhookMessageRequest::new(
            SlackMessageContent::new().with_text(text.to_owned()),
        );
        let sent = tokio::time::timeout(
            CALL_TIMEOUT,
            self.client
                .respond_to_event(&SlackResponseUrl::new(url), &request),
        )
        .await;
        if !matches!(sent, Ok(Ok(_))) {
            tracing::warn!("could not send a delayed reply to the response_url");
        }
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
        let callbacks = SlackSocketModeListenerCallbacks::new().with_command_events(on_command);
        let listener = Arc::new(SlackClientSocketModeListener::new(
            &SlackClientSocketModeConfig::new(),
            environment,
            callbacks,
        ));
        listener
            .listen_for(token)
            .await
            .context("opening the Socket Mode connection (apps.connections.open)")?;
        listener.start().await;
        *self.socket.lock().await = Some(listener);
        Ok(())
    }
}

/// Socket Mode slash command: answered from memory, so well within Slack's 3 seconds.
async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SlackClient<Connector>>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let app = state
        .read()
        .await
        .get_user_state::<Arc<App>>()
        .cloned()
        .ok_or("certwatch state missing")?;
    let reply = app.answer(&Incoming {
        team_id: event.team_id.to_string(),
        channel_id: event.channel_id.to_string(),
        user_id: event.user_id.to_string(),
        text: event.text.unwrap_or_default(),
        response_url: Some(event.response_url.0.to_string()),
    });
    Ok(serde_json::from_value(reply)?)
}

//! The Web API calls of interactivity: `views.open` for a click's modal, one of the bot's
//! messages read back (`conversations.history` at its ts) and rewritten (`chat.update`), and an
//! ephemeral reply with blocks through a response_url.

use super::{SlackIo, CALL_TIMEOUT};
use anyhow::{Context, Result};
use certwatch_slack::Reply;
use slack_morphism::prelude::*;

impl SlackIo {
    pub(super) async fn views_open(
        &self,
        trigger_id: &str,
        view: &serde_json::Value,
    ) -> Result<()> {
        let view: SlackView =
            serde_json::from_value(view.clone()).context("converting the modal to a Slack view")?;
        let request = SlackApiViewsOpenRequest::new(trigger_id.to_owned().into(), view);
        let session = self.client.open_session(&self.bot);
        tokio::time::timeout(CALL_TIMEOUT, session.views_open(&request))
            .await
            .context("views.open timed out")?
            .context("views.open")?;
        Ok(())
    }

    pub(super) async fn message_at(
        &self,
        channel: &str,
        ts: &str,
    ) -> Result<Option<serde_json::Value>> {
        let request = SlackApiConversationsHistoryRequest::new()
            .with_channel(channel.to_owned().into())
            .with_latest(ts.to_owned().into())
            .with_oldest(ts.to_owned().into())
            .with_inclusive(true)
            .with_limit(1);
        let session = self.client.open_session(&self.bot);
        let page = tokio::time::timeout(CALL_TIMEOUT, session.conversations_history(&request))
            .await
            .context("conversations.history timed out")?
            .context("conversations.history")?;
        page.messages
            .into_iter()
            .find(|m| m.origin.ts.0 == ts)
            .map(|m| serde_json::to_value(m).context("reading the message's blocks"))
            .transpose()
    }

    pub(super) async fn chat_update(
        &self,
        channel: &str,
        ts: &str,
        message: &serde_json::Value,
    ) -> Result<()> {
        let content: SlackMessageContent = serde_json::from_value(serde_json::json!({
            "text": message["text"],
            "blocks": message["blocks"],
        }))
        .context("converting the updated message to Slack blocks")?;
        let request = SlackApiChatUpdateRequest::new(
            channel.to_owned().into(),
            content,
            ts.to_owned().into(),
        );
        let session = self.client.open_session(&self.bot);
        tokio::time::timeout(CALL_TIMEOUT, session.chat_update(&request))
            .await
            .context("chat.update timed out")?
            .context("chat.update")?;
        Ok(())
    }

    pub(super) async fn respond_with(&self, response_url: &str, reply: &Reply) {
        let url = match response_url.parse() {
            Ok(url) => url,
            Err(e) => {
                tracing::warn!("not a response_url ({e}): no reply sent");
                return;
            }
        };
        let content: SlackMessageContent = match serde_json::to_value(reply).and_then(|json| {
            serde_json::from_value(serde_json::json!({
                "text": json["text"],
                "blocks": json["blocks"],
            }))
        }) {
            Ok(content) => content,
            Err(e) => {
                tracing::error!("could not convert a reply to Slack blocks: {e}");
                return;
            }
        };
        let request = SlackApiPostWebhookMessageRequest::new(content);
        let sent = tokio::time::timeout(
            CALL_TIMEOUT,
            self.client
                .respond_to_event(&SlackResponseUrl::new(url), &request),
        )
        .await;
        match sent {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("could not reply through the response_url: {e}"),
            Err(_) => tracing::warn!(
                "could not reply through the response_url: no answer within {CALL_TIMEOUT:?}"
            ),
        }
    }
}

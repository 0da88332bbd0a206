//! The HTTP listener: health, readiness and metrics for orchestrators and Prometheus, and
//! (HTTP transport) Slack slash commands, verified with the signing secret before anything else happens.

use super::App;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use certwatch_slack::Incoming;
use std::sync::Arc;

/// Slash-command bodies are a few hundred bytes; anything much larger is not from Slack.
pub const MAX_BODY: usize = 64 * 1024;

pub fn router(app: Arc<App>) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    if app.signing_secret.is_some() {
        router = router
            .route("/slack/commands", post(command))
            .route("/slack/interactions", post(interaction));
    }
    router
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready once there is an inventory to answer from (from this run or restored from the store)
/// and Slack can reach us (Socket Mode: connected).
async fn readyz(State(app): State<Arc<App>>) -> Response {
    let inventory = app.inventory();
    let slack = app.slack_status();
    let ready = app.is_ready();
    let body = serde_json::json!({
        "ready": ready,
        "last_scan": inventory.last_scan,
        "certificates": inventory.report.certificates.len(),
        "failures": inventory.report.failures.len(),
        "scan_running": app.scan_running(),
        "slack": slack,
        "digest_problem": app.digest_problem(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Prometheus's scrape: the inventory's certificates as they are now, and the runtime's series.
async fn metrics(State(app): State<Arc<App>>) -> Response {
    match app.metrics.encode(app.inventory()) {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                super::metrics::CONTENT_TYPE,
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            let id = app.error_id();
            tracing::error!(error_id = %id, "encoding the metrics: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("internal error {id}\n"),
            )
                .into_response()
        }
    }
}

/// 401 with a fixed body: nothing about why (which would help a forger) and no side effect.
fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, "invalid request signature\n").into_response()
}

/// The body of a request from Slack, once its signature is verified; otherwise the answer
/// (413, 400, 404 without a signing secret, 401), and nothing else happens.
fn verified(
    app: &App,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, Box<Response>> {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            tracing::warn!("refused a request body over {MAX_BODY} bytes");
            return Err(Box::new(
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body over {MAX_BODY} bytes: not a Slack request\n"),
                )
                    .into_response(),
            ));
        }
        Err(rejection) => {
            tracing::warn!("refused an unreadable request body: {rejection}");
            return Err(Box::new(
                (StatusCode::BAD_REQUEST, "unreadable request body\n").into_response(),
            ));
        }
    };
    let Some(secret) = app.signing_secret.as_deref() else {
        return Err(Box::new(StatusCode::NOT_FOUND.into_response()));
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let checked = certwatch_slack::verify(
        secret,
        header("x-slack-request-timestamp"),
        &body,
        header("x-slack-signature"),
        app.clock.now().timestamp(),
    );
    match checked {
        Ok(()) => Ok(body),
        Err(e) => {
            tracing::warn!("rejected a request that claims to come from Slack: {e}");
            Err(Box::new(unauthorized()))
        }
    }
}

async fn command(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match verified(&app, &headers, body) {
        Ok(body) => body,
        Err(refused) => return *refused,
    };
    let form = certwatch_slack::parse_form(&body);
    let reply = app
        .answer(&Incoming {
            team_id: form.team_id,
            channel_id: form.channel_id,
            user_id: form.user_id,
            text: form.text,
            response_url: Some(form.response_url).filter(|u| !u.is_empty()),
        })
        .await;
    Json(reply).into_response()
}

/// A click or a modal submission (the `payload` form field), verified like a command.
async fn interaction(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match verified(&app, &headers, body) {
        Ok(body) => body,
        Err(refused) => return *refused,
    };
    let interaction = match certwatch_slack::parse_form_payload(&body) {
        Ok(interaction) => interaction,
        Err(e) => {
            tracing::warn!("an interaction payload certwatch cannot read: {e}");
            return (StatusCode::BAD_REQUEST, "unreadable interaction payload\n").into_response();
        }
    };
    match super::interact::handle(&app, interaction).await {
        super::interact::Ack::Empty => StatusCode::OK.into_response(),
        super::interact::Ack::ModalError(body) => Json(body).into_response(),
    }
}

//! A fake Slack on 127.0.0.1 that records what certwatch sends: `chat.postMessage` (answered the
//! way Slack answers), anything POSTed to a response_url under `/response/`, and Socket Mode:
//! `apps.connections.open` hands out a WebSocket URL on which the fake says hello, delivers
//! slash-command envelopes on demand, and records the acknowledgements.

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{any, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `chat.postMessage`, or `response/<id>`.
    pub method: String,
    pub authorization: String,
    pub body: Value,
}

struct Inner {
    calls: Mutex<Vec<Recorded>>,
    next_ts: Mutex<u64>,
    /// `ws://…/socket`, what apps.connections.open answers.
    socket_url: Mutex<String>,
    /// Slash-command texts to deliver over every open Socket Mode connection.
    envelopes: tokio::sync::broadcast::Sender<(String, String)>,
}

pub struct FakeSlack {
    /// Base URL for `slack.api_url`, e.g. `http://127.0.0.1:PORT/api`.
    pub api_url: String,
    /// Base for response URLs: `http://127.0.0.1:PORT/response/`.
    pub response_base: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

/// slack-morphism sends JSON; Slack also accepts forms. Keep whichever came.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Value {
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if json {
        serde_json::from_slice(body).unwrap_or(Value::Null)
    } else {
        Value::String(String::from_utf8_lossy(body).into_owned())
    }
}

fn record(inner: &Inner, method: String, headers: &HeaderMap, body: &[u8]) {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    inner.calls.lock().unwrap().push(Recorded {
        method,
        authorization,
        body: parse_body(headers, body),
    });
}

async fn api(
    State(inner): State<Arc<Inner>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Json<Value> {
    record(&inner, method.clone(), &headers, &body);
    if method == "apps.connections.open" {
        let url = inner.socket_url.lock().unwrap().clone();
        return Json(json!({"ok": true, "url": url}));
    }
    if method != "chat.postMessage" {
        return Json(json!({"ok": false, "error": "unknown_method"}));
    }
    let ts = {
        let mut next = inner.next_ts.lock().unwrap();
        *next += 1;
        format!("1764300000.{:06}", *next)
    };
    let channel = parse_body(&headers, &body)["channel"]
        .as_str()
        .unwrap_or("C0")
        .to_owned();
    Json(json!({"ok": true, "channel": channel, "ts": ts, "message": {"ts": ts}}))
}

async fn response_url(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    record(&inner, format!("response/{id}"), &headers, &body);
    "ok"
}

async fn socket(State(inner): State<Arc<Inner>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |ws| socket_session(inner, ws))
}

/// One Socket Mode connection: hello, then envelopes as the test asks, recording every frame.
async fn socket_session(inner: Arc<Inner>, mut ws: WebSocket) {
    let hello = json!({
        "type": "hello",
        "num_connections": 1,
        "connection_info": {"app_id": "A0FAKE"},
        "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600}
    });
    if ws
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    let mut envelopes = inner.envelopes.subscribe();
    loop {
        tokio::select! {
            frame = ws.recv() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let body = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    inner.calls.lock().unwrap().push(Recorded {
                        method: "socket".to_owned(),
                        authorization: String::new(),
                        body,
                    });
                }
                Some(Ok(_)) => {}
                _ => return,
            },
            envelope = envelopes.recv() => {
                let Ok((id, text)) = envelope else { return };
                let frame = json!({
                    "envelope_id": id,
                    "type": "slash_commands",
                    "accepts_response_payload": true,
                    "payload": {
                        "token": "unused", "team_id": "T0001", "team_domain": "example",
                        "channel_id": "C0001", "channel_name": "ops", "user_id": "U0000001",
                        "user_name": "someone", "command": "/certs", "text": text,
                        "api_app_id": "A0FAKE", "is_enterprise_install": "false",
                        "response_url": "https://hooks.slack.invalid/commands/1/2/3",
                        "trigger_id": "1.2.3"
                    }
                });
                if ws.send(Message::Text(frame.to_string().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let inner = Arc::new(Inner {
            calls: Mutex::default(),
            next_ts: Mutex::default(),
            socket_url: Mutex::default(),
            envelopes: tokio::sync::broadcast::channel(16).0,
        });
        let app = Router::new()
            .route("/api/{method}", post(api))
            .route("/response/{id}", post(response_url))
            .route("/socket", any(socket))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        *inner.socket_url.lock().unwrap() = format!("ws://{addr}/socket");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeSlack {
            api_url: format!("http://{addr}/api"),
            response_base: format!("http://{addr}/response/"),
            inner,
            task,
        }
    }

    pub fn calls(&self) -> Vec<Recorded> {
        self.inner.calls.lock().unwrap().clone()
    }

    /// Delivers a `/certs <text>` envelope over the open Socket Mode connections; false if
    /// none is open.
    pub fn socket_command(&self, envelope_id: &str, text: &str) -> bool {
        self.inner
            .envelopes
            .send((envelope_id.to_owned(), text.to_owned()))
            .is_ok()
    }

    pub fn posts(&self) -> Vec<Recorded> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "chat.postMessage")
            .collect()
    }
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.task.abort();
    }
}

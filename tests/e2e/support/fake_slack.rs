//! A fake Slack on 127.0.0.1 that records what certwatch sends: `chat.postMessage` (answered the
//! way Slack answers, and kept with its metadata so that `conversations.history` finds it again),
//! `auth.test`, anything POSTed to a response_url under `/response/`, and Socket Mode:
//! `apps.connections.open` hands out a WebSocket URL on which the fake says hello, delivers
//! slash-command envelopes on demand, and records the acknowledgements and the close frame.
//! A test can make it reject a token (`invalid_auth`), or hold the answer to a digest's parent
//! post (Slack has the message, certwatch has no answer yet) to kill certwatch in between.

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::{any, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
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
    /// Envelopes (whole frames) to deliver over every open Socket Mode connection.
    envelopes: tokio::sync::broadcast::Sender<Value>,
    /// Tokens answered with `invalid_auth`.
    rejected: Mutex<Vec<String>>,
    /// While set, a post without `thread_ts` is kept (it is in the channel) but not answered.
    hold_parents: Mutex<bool>,
    released: tokio::sync::Notify,
    /// Whole seconds of the message timestamps: the time the fake started, as Slack's `ts` is
    /// the time of posting (`conversations.history`'s `oldest` compares with it).
    ts_base: i64,
    /// Every message posted, oldest first: (channel, ts, the posted body).
    messages: Mutex<Vec<(String, String, Value)>>,
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

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned()
}

async fn api(
    State(inner): State<Arc<Inner>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Json<Value> {
    record(&inner, method.clone(), &headers, &body);
    dispatch(&inner, &method, &headers, parse_body(&headers, &body)).await
}

/// Web API methods called with GET and query parameters (slack-morphism reads that way).
async fn api_get(
    State(inner): State<Arc<Inner>>,
    Path(method): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Json<Value> {
    let query: HashMap<String, String> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let query = json!(query);
    inner.calls.lock().unwrap().push(Recorded {
        method: method.clone(),
        authorization: format!("Bearer {}", bearer(&headers)),
        body: query.clone(),
    });
    dispatch(&inner, &method, &headers, query).await
}

async fn dispatch(inner: &Inner, method: &str, headers: &HeaderMap, body: Value) -> Json<Value> {
    if inner.rejected.lock().unwrap().contains(&bearer(headers)) {
        return Json(json!({"ok": false, "error": "invalid_auth"}));
    }
    match method {
        "auth.test" => Json(json!({
            "ok": true, "url": "https://example.slack.com/", "team": "Example",
            "user": "certwatch", "team_id": "T0001", "user_id": "UBOT0001", "bot_id": "BBOT0001"
        })),
        "apps.connections.open" => {
            let url = inner.socket_url.lock().unwrap().clone();
            Json(json!({"ok": true, "url": url}))
        }
        "chat.postMessage" => post_message(inner, body).await,
        "conversations.history" => history(inner, &body),
        "views.open" => {
            let mut view = body["view"].clone();
            view["id"] = json!("V0000001");
            view["team_id"] = json!("T0001");
            view["hash"] = json!("1.abc");
            Json(json!({"ok": true, "view": view}))
        }
        "chat.update" => Json(json!({
            "ok": true, "channel": body["channel"], "ts": body["ts"], "text": body["text"]
        })),
        _ => Json(json!({"ok": false, "error": "unknown_method"})),
    }
}

async fn post_message(inner: &Inner, body: Value) -> Json<Value> {
    let channel = body["channel"].as_str().unwrap_or("C0").to_owned();
    let ts = {
        let mut next = inner.next_ts.lock().unwrap();
        *next += 1;
        format!("{}.{:06}", inner.ts_base, *next)
    };
    let parent = body["thread_ts"].is_null();
    inner
        .messages
        .lock()
        .unwrap()
        .push((channel.clone(), ts.clone(), body));
    if parent {
        loop {
            let released = inner.released.notified();
            if !*inner.hold_parents.lock().unwrap() {
                break;
            }
            released.await;
        }
    }
    Json(json!({"ok": true, "channel": channel, "ts": ts, "message": {"ts": ts}}))
}

/// `conversations.history`: the channel's messages newer than `oldest`, newest first, with
/// their metadata, in pages of `limit`.
fn history(inner: &Inner, query: &Value) -> Json<Value> {
    let field = |key: &str| query[key].as_str().map(str::to_owned);
    let channel = field("channel").unwrap_or_default();
    let oldest: f64 = field("oldest").and_then(|o| o.parse().ok()).unwrap_or(0.0);
    let limit: usize = field("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
    let skip: usize = field("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let all: Vec<Value> = inner
        .messages
        .lock()
        .unwrap()
        .iter()
        .rev()
        .filter(|(c, ts, body)| {
            *c == channel
                && body["thread_ts"].is_null()
                && ts.parse::<f64>().unwrap_or(0.0) > oldest
        })
        .map(|(_, ts, body)| {
            let mut message = json!({"type": "message", "ts": ts, "text": body["text"]});
            if !body["metadata"].is_null() {
                message["metadata"] = body["metadata"].clone();
            }
            message
        })
        .collect();
    let page: Vec<Value> = all.iter().skip(skip).take(limit).cloned().collect();
    let more = skip + limit < all.len();
    let next = if more {
        (skip + limit).to_string()
    } else {
        String::new()
    };
    Json(json!({
        "ok": true, "messages": page, "has_more": more,
        "response_metadata": {"next_cursor": next}
    }))
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
                Some(Ok(Message::Close(frame))) => {
                    inner.calls.lock().unwrap().push(Recorded {
                        method: "socket.close".to_owned(),
                        authorization: String::new(),
                        body: json!({"code": frame.map(|f| f.code)}),
                    });
                    return;
                }
                Some(Ok(_)) => {}
                _ => return,
            },
            envelope = envelopes.recv() => {
                let Ok(frame) = envelope else { return };
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
            rejected: Mutex::default(),
            hold_parents: Mutex::new(false),
            released: tokio::sync::Notify::new(),
            messages: Mutex::default(),
            ts_base: chrono::Utc::now().timestamp(),
        });
        let app = Router::new()
            .route("/api/{method}", post(api).get(api_get))
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

    /// Delivers a `/certs <text>` envelope (from U0000001 in C0001) over the open Socket Mode
    /// connections; false if none is open.
    pub fn socket_command(&self, envelope_id: &str, text: &str) -> bool {
        self.socket_command_from(envelope_id, "U0000001", text)
    }

    /// [`FakeSlack::socket_command`] from `user`.
    pub fn socket_command_from(&self, envelope_id: &str, user: &str, text: &str) -> bool {
        let frame = json!({
            "envelope_id": envelope_id,
            "type": "slash_commands",
            "accepts_response_payload": true,
            "payload": {
                "token": "unused", "team_id": "T0001", "team_domain": "example",
                "channel_id": "C0001", "channel_name": "ops", "user_id": user,
                "user_name": "someone", "command": "/certs", "text": text,
                "api_app_id": "A0FAKE", "is_enterprise_install": "false",
                "response_url": "https://hooks.slack.invalid/commands/1/2/3",
                "trigger_id": "1.2.3"
            }
        });
        self.inner.envelopes.send(frame).is_ok()
    }

    /// Delivers an interactive envelope (a click, a modal submission) with `payload`.
    pub fn socket_interaction(&self, envelope_id: &str, payload: Value) -> bool {
        let frame = json!({
            "envelope_id": envelope_id,
            "type": "interactive",
            "accepts_response_payload": true,
            "payload": payload,
        });
        self.inner.envelopes.send(frame).is_ok()
    }

    /// The `ts` the `n`th message posted got (from 1).
    pub fn ts(&self, n: u64) -> String {
        format!("{}.{n:06}", self.inner.ts_base)
    }

    /// Answers `invalid_auth` to every call made with `token`.
    pub fn reject_token(&self, token: &str) {
        self.inner.rejected.lock().unwrap().push(token.to_owned());
    }

    /// Holds (or releases) the answers to posts that start a thread: the message is in the
    /// channel, the poster has not heard so.
    pub fn hold_parent_posts(&self, hold: bool) {
        *self.inner.hold_parents.lock().unwrap() = hold;
        if !hold {
            self.inner.released.notify_waiters();
        }
    }

    /// The digests' parent messages posted so far.
    pub fn parents(&self) -> Vec<Recorded> {
        self.posts()
            .into_iter()
            .filter(|p| p.body["thread_ts"].is_null())
            .collect()
    }

    /// What certwatch POSTed to the response URL `<response_base><id>`, waiting up to `within`
    /// for it; panics if nothing came.
    pub async fn response_to(&self, id: &str, within: std::time::Duration) -> Recorded {
        let method = format!("response/{id}");
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(found) = self.calls().into_iter().find(|c| c.method == method) {
                return found;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "nothing was posted to the response URL {id} within {within:?}; calls: {:#?}",
                self.calls()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The ids of the response URLs posted to so far, in order.
    pub fn responses(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| c.method.strip_prefix("response/").map(str::to_owned))
            .collect()
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

/// Every string in a JSON value (a message's text, its blocks' texts), one per line: what a
/// reader of the message sees, for `contains` checks.
pub fn strings(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s}\n"),
        Value::Array(items) => items.iter().map(strings).collect(),
        Value::Object(fields) => fields.values().map(strings).collect(),
        _ => String::new(),
    }
}

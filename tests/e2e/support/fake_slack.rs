//! A fake Slack Web API on 127.0.0.1 that records what certwatch posts: `chat.postMessage`
//! (answered the way Slack answers) and anything POSTed to a response_url under `/response/`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
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

#[derive(Default)]
struct Inner {
    calls: Mutex<Vec<Recorded>>,
    next_ts: Mutex<u64>,
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

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/api/{method}", post(api))
            .route("/response/{id}", post(response_url))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
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

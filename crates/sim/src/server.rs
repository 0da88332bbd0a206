//! The HTTP edge: one axum fallback handler that routes by protocol markers,
//! resolves the caller, calls a service and renders the answer.

use crate::behaviour::{self, Behaviour, Engine, Outcome};
use crate::identity::{Caller, Sessions};
use crate::ids;
use crate::protocol::{self, ApiError, AuthFailure, Protocol, Reply, Service};
use crate::regions::{self, RegionKind};
use crate::scenario::Scenario;
use crate::services::{self, Ctx};
use crate::world::World;
use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::{DateTime, SubsecRound, Utc};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Requests are small JSON or form bodies; anything bigger is a client bug.
const BODY_LIMIT: usize = 1 << 20;
/// How long `shutdown` waits for in-flight connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

struct Shared {
    world: World,
    engine: Engine,
    sessions: Sessions,
    requests: AtomicU64,
}

/// A running simulator. Dropping it stops the server too (without waiting).
pub struct SimServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimServer {
    /// `http://127.0.0.1:PORT`, for `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests served so far, every API and every outcome (errors included).
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Requests answered with a throttling error (quotas and storms).
    pub fn throttled_count(&self) -> u64 {
        self.shared.engine.throttled.load(Ordering::Relaxed)
    }

    /// Requests a fault was injected into.
    pub fn faulted_count(&self) -> u64 {
        self.shared.engine.faulted.load(Ordering::Relaxed)
    }

    /// Role sessions issued by `AssumeRole` so far.
    pub fn sessions_issued(&self) -> usize {
        self.shared.sessions.len()
    }

    /// Stops accepting connections and waits (briefly) for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                // Idle keep-alive connections from SDK pools can hold a graceful
                // shutdown open; a simulator has nothing to lose by cutting them.
                task.abort();
            }
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds 127.0.0.1:0 and serves the scenario; relative dates in the scenario are
/// resolved against `now`. An inconsistent scenario is an `InvalidInput` error.
pub async fn serve(scenario: Scenario, now: DateTime<Utc>) -> std::io::Result<SimServer> {
    serve_with(scenario, now, Behaviour::default()).await
}

/// [`serve`] with quotas, latency and faults ([`Behaviour`]).
pub async fn serve_with(
    scenario: Scenario,
    now: DateTime<Utc>,
    behaviour: Behaviour,
) -> std::io::Result<SimServer> {
    // Whole seconds: the wire carries epoch seconds, so sub-second parts would make
    // the same instant compare differently on either side.
    let world = World::resolve(&scenario, now.trunc_subsecs(0))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let shared = Arc::new(Shared {
        world,
        engine: Engine::new(behaviour),
        sessions: Sessions::default(),
        requests: AtomicU64::new(0),
    });
    let app = Router::new()
        .fallback(handle)
        .with_state(Arc::clone(&shared));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(error) = server.await {
            tracing::warn!(%error, "simulator stopped with an error");
        }
    });
    tracing::debug!(%addr, "simulator listening");
    Ok(SimServer {
        addr,
        shared,
        stop: Some(stop),
        task: Some(task),
    })
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request<Body>) -> Response {
    let n = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let request_id = ids::request_id(n);
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, BODY_LIMIT).await {
        Ok(body) => body,
        Err(_) => {
            let error =
                ApiError::malformed(Protocol::AwsJson, "Request body too large or unreadable");
            return protocol::render(Protocol::AwsJson, Err(error), &request_id);
        }
    };
    let route = match protocol::route(parts.uri.path(), &parts.headers, &body) {
        Ok(route) => route,
        Err((protocol, what)) => {
            tracing::debug!(what, "unknown operation");
            let error = ApiError::unknown_operation(protocol, &what);
            return protocol::render(protocol, Err(error), &request_id);
        }
    };
    let protocol = route.service.protocol();
    let (result, wire, extra) = dispatch(
        &shared,
        &route.service,
        &route.operation,
        &parts.headers,
        &body,
        &request_id,
    );
    let delay = shared.engine.latency() + extra;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match &result {
        Ok(_) => {
            tracing::debug!(service = route.service.name(), operation = %route.operation, "ok")
        }
        Err(e) => tracing::debug!(
            service = route.service.name(),
            operation = %route.operation,
            code = %e.code,
            "error"
        ),
    }
    match wire {
        Wire::Normal => protocol::render(protocol, result, &request_id),
        Wire::Malformed => {
            let (content_type, text) = behaviour::malformed_body(protocol);
            ([(axum::http::header::CONTENT_TYPE, content_type)], text).into_response()
        }
        Wire::Reset => {
            // Headers promise a body that never comes: the connection is closed
            // mid-response, which the client sees as a reset / incomplete message.
            let failing = reset_body();
            Response::builder()
                .header(axum::http::header::CONTENT_LENGTH, "64")
                .body(Body::from_stream(failing))
                .unwrap_or_default()
        }
    }
}

/// A body stream whose first chunk is an I/O error.
fn reset_body(
) -> impl futures::Stream<Item = Result<axum::body::Bytes, std::io::Error>> + Send + 'static {
    futures::stream::once(async {
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated connection reset",
        ))
    })
}

/// How the answer goes on the wire.
enum Wire {
    Normal,
    Reset,
    Malformed,
}

/// Dispatches and applies the run's [`Behaviour`]: the result, how it is sent,
/// and any delay a fault adds.
fn dispatch(
    shared: &Shared,
    service: &Service,
    operation: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    request_id: &str,
) -> (Result<Reply, ApiError>, Wire, Duration) {
    let mut wire = Wire::Normal;
    let mut extra = Duration::ZERO;
    let result = dispatch_inner(
        shared, service, operation, headers, body, request_id, &mut wire, &mut extra,
    );
    (result, wire, extra)
}

#[allow(clippy::too_many_arguments)]
fn dispatch_inner(
    shared: &Shared,
    service: &Service,
    operation: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    request_id: &str,
    wire: &mut Wire,
    extra: &mut Duration,
) -> Result<Reply, ApiError> {
    let protocol = service.protocol();
    let world = &shared.world;
    let signature =
        protocol::signature(headers).ok_or_else(|| AuthFailure::Missing.error(protocol))?;
    if signature.service != service.name() {
        // A client signing for the wrong service is misconfigured; AWS refuses it.
        return Err(protocol::wrong_service_scope(protocol, service.name()));
    }
    let token = headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok());
    let wall_now = Utc::now();
    let caller: Caller = shared
        .sessions
        .caller(world, &signature.access_key_id, token, wall_now)
        .map_err(|failure| failure.error(protocol))?;

    // Regional STS in an opt-in region the calling account has not enabled rejects
    // the credentials outright (ACM does the same, checked in its module).
    if *service == Service::Sts && regions::kind(&signature.region) == Some(RegionKind::OptIn) {
        let enabled = world
            .account(&caller.account)
            .is_some_and(|a| a.region_enabled(&signature.region));
        if !enabled {
            return Err(AuthFailure::Invalid.error(protocol));
        }
    }

    // AssumeRole is about the role's account; everything else about the caller's.
    let subject = if *service == Service::Sts && operation == "AssumeRole" {
        protocol::form_params(body)
            .into_iter()
            .find(|(k, _)| k == "RoleArn")
            .and_then(|(_, arn)| arn.split(':').nth(4).map(str::to_owned))
            .unwrap_or_default()
    } else {
        caller.account.clone()
    };
    let (outcome, delay) = shared.engine.decide(
        *service,
        operation,
        &caller.account,
        &subject,
        &signature.region,
    );
    *extra = delay;
    match outcome {
        Outcome::Serve => {}
        Outcome::Error(error) => return Err(error),
        Outcome::Reset => {
            *wire = Wire::Reset;
            return Err(ApiError::from_code("InternalFailure", "reset"));
        }
        Outcome::Malformed => *wire = Wire::Malformed,
    }

    let ctx = Ctx {
        world,
        caller: &caller,
        region: &signature.region,
        sessions: &shared.sessions,
        wall_now,
        request_id,
    };
    match service {
        Service::Organizations => services::organizations::call(&ctx, operation, body),
        Service::Acm => services::acm::call(&ctx, operation, body),
        Service::Account => services::account::call(&ctx, operation, body),
        Service::Sts => services::sts::call(&ctx, operation, body),
    }
}

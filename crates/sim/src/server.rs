//! The HTTP edge: one axum fallback handler that routes by protocol markers,
//! resolves the caller, calls a service and renders the answer. With `[network]` enabled it
//! also starts the world's DNS server and TLS listener (`crate::network`'s plan).

use crate::behaviour::{self, Behaviour, Engine, Outcome};
use crate::identity::{Caller, Sessions};
use crate::ids;
use crate::net::dns::DnsServer;
use crate::net::tls::TlsServer;
use crate::network;
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
use std::net::{IpAddr, SocketAddr};
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
    resends: services::acm::Resends,
}

/// A running simulator. Dropping it stops the server too (without waiting).
pub struct SimServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    world_view: Option<WorldView>,
}

/// The world's DNS server and TLS listener (`[network]`).
struct WorldView {
    dns: DnsServer,
    tls: TlsServer,
}

impl WorldView {
    async fn start(world: &World) -> std::io::Result<WorldView> {
        let started = std::time::Instant::now();
        let plan = network::plan(world);
        let (records, hosts) = (plan.records.len(), plan.by_sni.len());
        let dns = DnsServer::start(plan.records).await?;
        let tls = TlsServer::start(IpAddr::V4(network::SERVING), 0, plan.by_sni, None).await?;
        tracing::debug!(
            dns = %dns.addr(),
            tls = %tls.addr(),
            records,
            hosts,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "simulated world serving"
        );
        Ok(WorldView { dns, tls })
    }
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

    /// Every `ResendValidationEmail` ACM accepted so far, in order, as (certificate ARN,
    /// domain): the emails the simulated world would have sent again. Refused calls are not in
    /// it.
    pub fn resends(&self) -> Vec<(String, String)> {
        self.shared.resends.accepted()
    }

    /// Role sessions issued by `AssumeRole` so far.
    pub fn sessions_issued(&self) -> usize {
        self.shared.sessions.len()
    }

    /// The world's authoritative nameserver (UDP and TCP, `127.0.0.1:PORT`), when the
    /// scenario's `[network]` is enabled.
    pub fn dns_addr(&self) -> Option<SocketAddr> {
        self.world_view.as_ref().map(|w| w.dns.addr())
    }

    /// The port of the world's TLS endpoints, when `[network]` is enabled: names served by
    /// the simulator resolve to 127.0.0.1 and are served there; names of unreachable endpoints
    /// resolve to 127.0.0.2, where nothing listens on it.
    pub fn tls_port(&self) -> Option<u16> {
        self.world_view.as_ref().map(|w| w.tls.addr().port())
    }

    /// Stops accepting connections and waits (briefly) for in-flight requests; stops the
    /// world's DNS server and TLS listener too.
    pub async fn shutdown(mut self) {
        if let Some(world_view) = self.world_view.take() {
            world_view.tls.shutdown().await;
            world_view.dns.shutdown().await;
        }
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
    // Before the HTTP server, so a failure here leaves nothing running.
    let world_view = if world.network.enabled {
        Some(WorldView::start(&world).await?)
    } else {
        None
    };
    let shared = Arc::new(Shared {
        world,
        engine: Engine::new(behaviour),
        sessions: Sessions::default(),
        requests: AtomicU64::new(0),
        resends: services::acm::Resends::default(),
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
        world_view,
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
    let call = Call {
        service: route.service,
        operation: &route.operation,
        headers: &parts.headers,
        body: &body,
        request_id: &request_id,
    };
    let Answer {
        result,
        wire,
        delay: extra,
    } = dispatch(&shared, &call);
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

/// One request, as routed.
struct Call<'a> {
    service: Service,
    operation: &'a str,
    headers: &'a axum::http::HeaderMap,
    body: &'a [u8],
    request_id: &'a str,
}

/// What goes back: the service's result, how it is sent, and any delay a fault adds.
struct Answer {
    result: Result<Reply, ApiError>,
    wire: Wire,
    delay: Duration,
}

/// Authenticates the request, applies the run's [`Behaviour`], then lets the service answer.
fn dispatch(shared: &Shared, call: &Call<'_>) -> Answer {
    let plain = |result| Answer {
        result,
        wire: Wire::Normal,
        delay: Duration::ZERO,
    };
    let (caller, region, subject) = match authenticate(shared, call) {
        Ok(who) => who,
        Err(error) => return plain(Err(error)),
    };
    let (outcome, delay) = shared.engine.decide(
        call.service,
        call.operation,
        &caller.account,
        &subject,
        &region,
    );
    let wire = match outcome {
        Outcome::Serve => Wire::Normal,
        Outcome::Malformed => Wire::Malformed,
        Outcome::Error(error) => {
            return Answer {
                delay,
                ..plain(Err(error))
            }
        }
        Outcome::Reset => {
            return Answer {
                result: Err(ApiError::from_code("InternalFailure", "reset")),
                wire: Wire::Reset,
                delay,
            }
        }
    };
    let ctx = Ctx {
        world: &shared.world,
        caller: &caller,
        region: &region,
        sessions: &shared.sessions,
        wall_now: Utc::now(),
        request_id: call.request_id,
        resends: &shared.resends,
    };
    let (operation, body) = (call.operation, call.body);
    let result = match call.service {
        Service::Organizations => services::organizations::call(&ctx, operation, body),
        Service::Acm => services::acm::call(&ctx, operation, body),
        Service::Account => services::account::call(&ctx, operation, body),
        Service::Sts => services::sts::call(&ctx, operation, body),
    };
    Answer {
        result,
        wire,
        delay,
    }
}

/// The account or OU an Organizations call is about (`ChildId`, `ResourceId`,
/// `OrganizationalUnitId`), for faults aimed at one of them.
fn organizations_subject(body: &[u8]) -> Option<String> {
    let input: serde_json::Value = serde_json::from_slice(body).ok()?;
    ["ChildId", "ResourceId", "OrganizationalUnitId"]
        .iter()
        .find_map(|key| input.get(key)?.as_str().map(str::to_owned))
}

/// Who is calling, in which signed region, and which account the call is about (the role's
/// account for AssumeRole, the account or OU an Organizations call names, the caller's
/// otherwise): AWS's checks before any quota or fault.
fn authenticate(shared: &Shared, call: &Call<'_>) -> Result<(Caller, String, String), ApiError> {
    let service = call.service;
    let protocol = service.protocol();
    let world = &shared.world;
    let signature =
        protocol::signature(call.headers).ok_or_else(|| AuthFailure::Missing.error(protocol))?;
    if signature.service != service.name() {
        // A client signing for the wrong service is misconfigured; AWS refuses it.
        return Err(protocol::wrong_service_scope(protocol, service.name()));
    }
    let token = call
        .headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok());
    let caller: Caller = shared
        .sessions
        .caller(world, &signature.access_key_id, token, Utc::now())
        .map_err(|failure| failure.error(protocol))?;

    // Regional STS in an opt-in region the calling account has not enabled rejects
    // the credentials outright (ACM does the same, checked in its module).
    if service == Service::Sts && regions::kind(&signature.region) == Some(RegionKind::OptIn) {
        let enabled = world
            .account(&caller.account)
            .is_some_and(|a| a.region_enabled(&signature.region));
        if !enabled {
            return Err(AuthFailure::Invalid.error(protocol));
        }
    }

    let subject = if service == Service::Sts && call.operation == "AssumeRole" {
        protocol::form_params(call.body)
            .into_iter()
            .find(|(k, _)| k == "RoleArn")
            .and_then(|(_, arn)| arn.split(':').nth(4).map(str::to_owned))
            .unwrap_or_default()
    } else if service == Service::Organizations {
        organizations_subject(call.body).unwrap_or_else(|| caller.account.clone())
    } else {
        caller.account.clone()
    };
    Ok((caller, signature.region, subject))
}

//! One simulated cluster's HTTP API on 127.0.0.1: the listener, and what every request
//! goes through before its handler: a slow link's latency, token authentication and the
//! request log. [`routes`] leads each path to its handler: [`resources`] for the verbs on
//! resource kinds, [`handlers`] for the rest (version, health, metrics, discovery, access
//! reviews).

mod handlers;
mod query;
mod resources;
mod routes;
mod watch_options;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::access::{RecordedRequest, RequestLog, User};
use crate::api_error::ApiError;
use crate::bearer;
use crate::clock::SimClock;
use crate::store::Store;
use query::Query;

type Body = BoxBody<Bytes, Infallible>;

/// Requests larger than this are refused: no legitimate object comes close.
const MAX_BODY: usize = 8 << 20;

/// What a cluster's API server shares with the rest of the simulated cluster.
pub struct ApiState {
    pub store: Arc<Store>,
    pub requests: Arc<RequestLog>,
    /// Woken after every write a client makes, so the controller reacts at once.
    pub client_wrote: Arc<Notify>,
    pub clock: SimClock,
    /// Renders `/metrics` in Prometheus text format.
    pub metrics: Box<dyn Fn() -> String + Send + Sync>,
    /// How long every request waits before it is answered (a slow link).
    pub latency: Option<Duration>,
    /// Whether watches serve streamed lists (`sendInitialEvents`), as Kubernetes with
    /// the WatchList feature does; without, they are refused with 422.
    pub streamed_lists: bool,
}

/// Who a listener serves.
#[derive(Debug, Clone, Copy)]
pub struct Listener {
    pub user: &'static User,
    /// Only requests with a bearer token that [`bearer::accepts`] are served; the others
    /// get `401 Unauthorized`.
    pub checks_tokens: bool,
}

/// Listen on 127.0.0.1 (port chosen by the OS) and serve the listener's user until the
/// returned task is aborted.
pub async fn start(
    state: Arc<ApiState>,
    listener_of: Listener,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let state = state.clone();
            connections.spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let state = state.clone();
                    async move {
                        Ok::<_, Infallible>(handle(&state, listener_of, address, req).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
            while connections.try_join_next().is_some() {}
        }
    });
    Ok((address, task))
}

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()).boxed())
        .expect("a response from valid parts")
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    full(
        status,
        "application/json",
        serde_json::to_vec(value).expect("JSON values serialize"),
    )
}

fn error_response(error: &ApiError) -> Response<Body> {
    let status = StatusCode::from_u16(error.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, &error.to_status())
}

/// A request as read, for its handler.
struct Received<'a> {
    state: &'a ApiState,
    user: &'static User,
    /// Where the listener serves, for discovery documents.
    address: SocketAddr,
    method: Method,
    path: String,
    query: Query,
    content_type: String,
    body: Bytes,
}

async fn handle(
    state: &ApiState,
    listener: Listener,
    address: SocketAddr,
    request: Request<Incoming>,
) -> Response<Body> {
    if let Some(latency) = state.latency {
        tokio::time::sleep(latency).await;
    }
    let user = listener.user;
    let method = request.method().clone();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let path = request.uri().path().to_string();
    let query = Query::parse(request.uri().query());
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type");
    let authorization = header("authorization");
    let bearer_token = bearer::bearer_token(authorization.as_deref()).map(str::to_string);
    let body = match http_body_util::Limited::new(request.into_body(), MAX_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return error_response(&ApiError::bad_request(format!(
                "reading the request body: {e}"
            )));
        }
    };
    let recorded = RecordedRequest {
        user: user.name.to_string(),
        method: method.to_string(),
        path: path_and_query,
        content_type: content_type.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
        bearer_token: bearer_token.clone(),
    };
    // Authentication comes before everything, discovery and unknown paths included.
    if listener.checks_tokens
        && !bearer_token
            .as_deref()
            .is_some_and(|t| bearer::accepts(t, std::time::SystemTime::now()))
    {
        state.requests.record(recorded);
        return error_response(&ApiError::unauthorized());
    }
    let Some(route) = routes::route(&path) else {
        return error_response(&ApiError::no_route(&path));
    };
    state.requests.record(recorded);
    let received = Received {
        state,
        user,
        address,
        method,
        path,
        query,
        content_type: content_type.unwrap_or_default(),
        body,
    };
    routes::dispatch(route, &received).unwrap_or_else(|e| error_response(&e))
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    Ok(value)
}

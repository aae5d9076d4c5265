//! One simulated cluster's HTTP API on 127.0.0.1: routing, the verbs (get, list, watch,
//! create, replace, patch, delete), permissions, and the request log.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::access::{self, Attributes, RecordedRequest, RequestLog, User};
use super::api_error::ApiError;
use super::bearer;
use super::clock::SimClock;
use super::discovery::{
    self, NAMESPACES, RESOURCES, ResourceId, SELF_SUBJECT_ACCESS_REVIEW, SELF_SUBJECT_RULES_REVIEW,
};
use super::patch::{self, PatchType, Target};
use super::selector::{FieldSelector, LabelSelector};
use super::store::{ObjectKey, Store};
use super::watch::{self, WatchRequest};

type Body = BoxBody<Bytes, Infallible>;

/// Requests larger than this are refused: no legitimate object comes close.
const MAX_BODY: usize = 8 << 20;
/// A watch without `timeoutSeconds` ends after this long, as the API server's do.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(30 * 60);

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

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push(high << 4 | low);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Self {
        Query(
            raw.unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("1" | "true"))
    }

    fn number(&self, key: &str) -> Result<Option<u64>, ApiError> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::bad_request(format!("invalid {key} {v:?}: not a number"))
                })
            })
            .transpose()
    }
}

/// A request for a served resource kind.
struct ResourcePath {
    resource: ResourceId,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

enum Route {
    Version,
    Health,
    Metrics,
    CoreVersions,
    GroupList,
    Group(String),
    ResourceList(String, String),
    AccessReview,
    RulesReview,
    Resource(ResourcePath),
}

fn route(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["version"] => Some(Route::Version),
        ["healthz" | "readyz" | "livez"] => Some(Route::Health),
        ["metrics"] => Some(Route::Metrics),
        ["api"] => Some(Route::CoreVersions),
        ["api", "v1"] => Some(Route::ResourceList(String::new(), "v1".into())),
        ["api", "v1", rest @ ..] => resource_route("", "v1", rest),
        ["apis"] => Some(Route::GroupList),
        ["apis", group] => Some(Route::Group(group.to_string())),
        ["apis", group, version] => {
            Some(Route::ResourceList(group.to_string(), version.to_string()))
        }
        ["apis", g, v, plural] if (*g, *v, *plural) == SELF_SUBJECT_ACCESS_REVIEW => {
            Some(Route::AccessReview)
        }
        ["apis", g, v, plural] if (*g, *v, *plural) == SELF_SUBJECT_RULES_REVIEW => {
            Some(Route::RulesReview)
        }
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest),
        _ => None,
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Option<Route> {
    let namespaced =
        |plural: &str| discovery::find(group, version, plural).filter(|&r| RESOURCES[r].namespaced);
    let (resource, namespace, tail) = match rest {
        ["namespaces", ns, plural, tail @ ..] if namespaced(plural).is_some() => {
            (namespaced(plural)?, Some(ns.to_string()), tail)
        }
        [plural, tail @ ..] => (discovery::find(group, version, plural)?, None, tail),
        [] => return None,
    };
    let (name, subresource) = match tail {
        [] => (None, None),
        [name] => (Some(name.to_string()), None),
        [name, sub] => (Some(name.to_string()), Some(sub.to_string())),
        _ => return None,
    };
    Some(Route::Resource(ResourcePath {
        resource,
        namespace,
        name,
        subresource,
    }))
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
    let Some(route) = route(&path) else {
        return error_response(&ApiError::no_route(&path));
    };
    state.requests.record(recorded);
    let result = match route {
        Route::Version => Ok(json_response(
            StatusCode::OK,
            &json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-flightdeck-sim", "platform": "linux/amd64"}),
        )),
        Route::Health => Ok(full(StatusCode::OK, "text/plain", "ok")),
        Route::Metrics => Ok(full(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            (state.metrics)(),
        )),
        Route::CoreVersions => Ok(json_response(
            StatusCode::OK,
            &discovery::core_versions(&address.to_string()),
        )),
        Route::GroupList => Ok(json_response(StatusCode::OK, &discovery::group_list())),
        Route::Group(group) => discovery::group(&group)
            .map(|doc| json_response(StatusCode::OK, &doc))
            .ok_or_else(|| ApiError::no_route(&path)),
        Route::ResourceList(group, version) => discovery::resource_list(&group, &version)
            .map(|doc| json_response(StatusCode::OK, &doc))
            .ok_or_else(|| ApiError::no_route(&path)),
        Route::AccessReview if method == Method::POST => parse_json(&body)
            .and_then(|review| access::review(user, review))
            .map(|answer| json_response(StatusCode::CREATED, &answer)),
        Route::RulesReview if method == Method::POST => parse_json(&body)
            .and_then(|review| access::rules_review(user, &review))
            .map(|answer| json_response(StatusCode::CREATED, &answer)),
        Route::AccessReview | Route::RulesReview => {
            Err(ApiError::method_not_allowed(method.as_str(), &path))
        }
        Route::Resource(target) => {
            let call = Call {
                state,
                user,
                method: &method,
                path: &path,
                target,
                query: &query,
                body: &body,
            };
            call.run(content_type.as_deref().unwrap_or(""))
        }
    };
    result.unwrap_or_else(|e| error_response(&e))
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

fn continue_token(revision: u64, key: &ObjectKey) -> String {
    format!("{revision}/{}/{}", key.namespace, key.name)
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn parse_continue(token: &str) -> Option<(u64, ObjectKey)> {
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let mut parts = text.splitn(3, '/');
    let revision = parts.next()?.parse().ok()?;
    Some((revision, ObjectKey::new(parts.next()?, parts.next()?)))
}

/// One request on a resource kind.
struct Call<'a> {
    state: &'a ApiState,
    user: &'static User,
    method: &'a Method,
    path: &'a str,
    target: ResourcePath,
    query: &'a Query,
    body: &'a Bytes,
}

impl Call<'_> {
    fn run(self, content_type: &str) -> Result<Response<Body>, ApiError> {
        let r = &RESOURCES[self.target.resource];
        if r.namespaced != self.target.namespace.is_some() && self.target.name.is_some() {
            return Err(ApiError::no_route(self.path));
        }
        let target = match self.target.subresource.as_deref() {
            None => Target::Main,
            Some("status") if r.status_subresource => Target::Status,
            Some(_) => return Err(ApiError::no_route(self.path)),
        };
        let verb = match (self.method, &self.target.name) {
            (&Method::GET, None) if self.query.flag("watch") => "watch",
            (&Method::GET, None) => "list",
            (&Method::GET, Some(_)) => "get",
            (&Method::POST, None) => "create",
            (&Method::PUT, Some(_)) => "update",
            (&Method::PATCH, Some(_)) => "patch",
            (&Method::DELETE, Some(_)) => "delete",
            _ => {
                return Err(ApiError::method_not_allowed(
                    self.method.as_str(),
                    self.path,
                ));
            }
        };
        // A Namespace's own name is the namespace of requests for it, as the API server has it.
        let namespace = match (&self.target.namespace, &self.target.name) {
            (None, Some(name)) if self.target.resource == NAMESPACES => Some(name.as_str()),
            (namespace, _) => namespace.as_deref(),
        };
        let attributes = Attributes {
            verb,
            group: r.group,
            resource: r.plural,
            subresource: self.target.subresource.as_deref(),
            namespace,
        };
        if !access::authorize(self.user, &attributes) {
            return Err(ApiError::forbidden(
                r,
                self.target.subresource.as_deref(),
                self.target.name.as_deref().unwrap_or(""),
                namespace,
                self.user.name,
                verb,
            ));
        }
        let response = match verb {
            "watch" => self.watch()?,
            "list" => self.list()?,
            "get" => json_response(StatusCode::OK, &self.existing()?.value()),
            "create" => self.create()?,
            "update" => self.write(target, |_| parse_json(self.body))?,
            "patch" => {
                let patch_type = PatchType::from_content_type(content_type, r)?;
                self.write(target, |current| {
                    patch::apply_patch(current, patch_type, self.body)
                })?
            }
            _ => self.delete()?,
        };
        if matches!(verb, "create" | "update" | "patch" | "delete") {
            self.state.client_wrote.notify_one();
        }
        Ok(response)
    }

    fn key(&self) -> ObjectKey {
        ObjectKey::new(
            self.target.namespace.as_deref().unwrap_or(""),
            self.target.name.as_deref().unwrap_or(""),
        )
    }

    fn existing(&self) -> Result<Arc<super::store::Stored>, ApiError> {
        let r = &RESOURCES[self.target.resource];
        self.state
            .store
            .get(self.target.resource, &self.key())
            .ok_or_else(|| ApiError::not_found(r, self.target.name.as_deref().unwrap_or("")))
    }

    fn selectors(&self) -> Result<(LabelSelector, FieldSelector), ApiError> {
        Ok((
            LabelSelector::parse(self.query.get("labelSelector").unwrap_or(""))?,
            FieldSelector::parse(self.query.get("fieldSelector").unwrap_or(""))?,
        ))
    }

    fn list(&self) -> Result<Response<Body>, ApiError> {
        let r = &RESOURCES[self.target.resource];
        let (labels, fields) = self.selectors()?;
        let (first_revision, start_after) = match self
            .query
            .get("continue")
            .filter(|c| !c.is_empty())
        {
            Some(token) => {
                let (revision, key) = parse_continue(token).ok_or_else(|| {
                    ApiError::bad_request(format!("continue key is not valid: {token:?}"))
                })?;
                if self.state.store.expired(revision).is_some() {
                    // Simplified: the API server also offers a token to go on inconsistently.
                    return Err(ApiError::expired(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                    ));
                }
                (Some(revision), Some(key))
            }
            None => (None, None),
        };
        let limit = self.query.number("limit")?.unwrap_or(0) as usize;
        let page = self.state.store.list(
            self.target.resource,
            self.target.namespace.as_deref(),
            start_after.as_ref(),
            limit,
            &|s| labels.matches(&s.labels) && fields.matches(&s.key.namespace, &s.key.name),
        );
        // Pages after the first report the first page's revision, so that a watch started from
        // it replays everything that changed while the client paged.
        let revision = first_revision.unwrap_or(page.revision);
        let mut metadata = json!({"resourceVersion": revision.to_string()});
        if let Some(next) = &page.next {
            metadata["continue"] = json!(continue_token(revision, next));
            metadata["remainingItemCount"] = json!(page.remaining);
        }
        let head = json!({"kind": format!("{}List", r.kind), "apiVersion": r.api_version(), "metadata": metadata});
        let mut body = serde_json::to_vec(&head).expect("JSON values serialize");
        body.pop();
        body.extend_from_slice(b",\"items\":[");
        for (i, item) in page.items.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&item.json);
        }
        body.extend_from_slice(b"]}");
        Ok(full(StatusCode::OK, "application/json", body))
    }

    fn watch(&self) -> Result<Response<Body>, ApiError> {
        let (labels, fields) = self.selectors()?;
        let request = WatchRequest {
            resource: self.target.resource,
            namespace: self.target.namespace.clone(),
            labels,
            fields,
            resource_version: self.query.number("resourceVersion")?,
            bookmarks: self.query.flag("allowWatchBookmarks"),
            send_initial_events: self.query.flag("sendInitialEvents"),
            timeout: self
                .query
                .number("timeoutSeconds")?
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_WATCH_TIMEOUT),
        };
        let lines = watch::start(self.state.store.clone(), request);
        let stream =
            tokio_stream::wrappers::ReceiverStream::new(lines).map(|line| Ok(Frame::data(line)));
        Ok(Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("transfer-encoding", "chunked")
            .body(BodyExt::boxed(StreamBody::new(stream)))
            .expect("a response from valid parts"))
    }

    fn create(&self) -> Result<Response<Body>, ApiError> {
        let r = &RESOURCES[self.target.resource];
        let mut object = parse_json(self.body)?;
        if let Some(ns) = &self.target.namespace {
            match object["metadata"]["namespace"].as_str() {
                None => object["metadata"]["namespace"] = json!(ns),
                Some(given) if given != ns => {
                    return Err(ApiError::bad_request(format!(
                        "the namespace of the provided object ({given}) does not match the namespace sent on the request ({ns})"
                    )));
                }
                Some(_) => {}
            }
            if self
                .state
                .store
                .get(NAMESPACES, &ObjectKey::new("", ns))
                .is_none()
            {
                return Err(ApiError::not_found(&RESOURCES[NAMESPACES], ns));
            }
        }
        if object["metadata"]["name"]
            .as_str()
            .is_none_or(str::is_empty)
            && let Some(prefix) = object["metadata"]["generateName"].as_str()
        {
            object["metadata"]["name"] =
                json!(format!("{prefix}{:05x}", self.state.store.revision() + 1));
        }
        if let Some(meta) = object["metadata"].as_object_mut() {
            for server_owned in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
                meta.shift_remove(server_owned);
            }
        }
        if r.status_subresource {
            object.as_object_mut().map(|m| m.shift_remove("status"));
        }
        let stored =
            self.state
                .store
                .create(self.target.resource, object, self.state.clock.now())?;
        Ok(full(
            StatusCode::CREATED,
            "application/json",
            stored.json.clone(),
        ))
    }

    /// Replace or patch: `intend` turns the current object into what the client asks for.
    fn write(
        &self,
        target: Target,
        intend: impl FnOnce(&Value) -> Result<Value, ApiError>,
    ) -> Result<Response<Body>, ApiError> {
        let r = &RESOURCES[self.target.resource];
        let stored = self
            .state
            .store
            .update(self.target.resource, &self.key(), |current| {
                let intended = intend(current)?;
                *current = patch::admit(r, target, current, intended)?;
                Ok(())
            })?;
        Ok(full(
            StatusCode::OK,
            "application/json",
            stored.json.clone(),
        ))
    }

    fn delete(&self) -> Result<Response<Body>, ApiError> {
        let stored = self.state.store.delete(self.target.resource, &self.key())?;
        Ok(full(
            StatusCode::OK,
            "application/json",
            stored.json.clone(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_name_kind_namespace_object_and_subresource() {
        let Some(Route::Resource(p)) =
            route("/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout/status")
        else {
            panic!("not a resource route")
        };
        assert_eq!(RESOURCES[p.resource].plural, "rollouts");
        assert_eq!(
            (
                p.namespace.as_deref(),
                p.name.as_deref(),
                p.subresource.as_deref()
            ),
            (Some("shop"), Some("checkout"), Some("status"))
        );
        let Some(Route::Resource(p)) = route("/api/v1/namespaces/shop") else {
            panic!("not a resource route")
        };
        assert_eq!(
            (RESOURCES[p.resource].plural, p.name.as_deref()),
            ("namespaces", Some("shop"))
        );
        let Some(Route::Resource(p)) = route("/apis/apps/v1/replicasets") else {
            panic!("not a resource route")
        };
        assert_eq!(
            (RESOURCES[p.resource].plural, p.namespace),
            ("replicasets", None)
        );
        assert!(route("/apis/argoproj.io/v1alpha1/widgets").is_none());
    }

    #[test]
    fn continue_tokens_round_trip_and_queries_decode() {
        let key = ObjectKey::new("shop", "checkout");
        assert_eq!(parse_continue(&continue_token(42, &key)), Some((42, key)));
        assert_eq!(parse_continue("zz"), None);
        let q = Query::parse(Some(
            "labelSelector=app%3Dcheckout%2Ctier+in+%28web%29&watch=1",
        ));
        assert_eq!(q.get("labelSelector"), Some("app=checkout,tier in (web)"));
        assert!(q.flag("watch"));
    }
}

//! The verbs on resource kinds (get, list, watch, create, replace, patch, delete), as the
//! API server serves them: permissions, paging, selectors, watches, and writes.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::query::Query;
use super::routes::ResourcePath;
use super::watch_options;
use super::{ApiState, Body, Received, full, json_response, parse_json};
use crate::access::{self, Attributes, User};
use crate::api_error::ApiError;
use crate::discovery::{NAMESPACES, RESOURCES};
use crate::patch::{self, PatchType, Target};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{ObjectKey, Stored};
use crate::watch::{self, WatchRequest};

/// A watch without `timeoutSeconds` ends after this long, as the API server's do.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(30 * 60);

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

/// Serve a request on a resource kind: the verb its method and path make, if the user may.
pub(super) fn serve(request: &Received, target: ResourcePath) -> Result<Response<Body>, ApiError> {
    let call = Call {
        state: request.state,
        user: request.user,
        method: &request.method,
        path: &request.path,
        target,
        query: &request.query,
        body: &request.body,
    };
    call.run(&request.content_type)
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

    fn existing(&self) -> Result<Arc<Stored>, ApiError> {
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
        if let Some(invalid) = watch_options::check(self.query, self.state.streamed_lists) {
            return Err(invalid);
        }
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
        // Lines waiting together go out in one chunk, as the API server flushes only
        // when its queue of events is empty.
        let stream = tokio_stream::wrappers::ReceiverStream::new(lines)
            .ready_chunks(64)
            .map(|lines| Ok(Frame::data(Bytes::from(lines.concat()))));
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
                meta.remove(server_owned);
            }
        }
        if r.status_subresource {
            object.as_object_mut().map(|m| m.remove("status"));
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
    fn continue_tokens_round_trip() {
        let key = ObjectKey::new("shop", "checkout");
        assert_eq!(parse_continue(&continue_token(42, &key)), Some((42, key)));
        assert_eq!(parse_continue("zz"), None);
    }
}

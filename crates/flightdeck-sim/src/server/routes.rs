//! The HTTP routing: which handler a path (and method) leads to.

use hyper::{Method, Response};

use super::{Body, Received, handlers, resources};
use crate::api_error::ApiError;
use crate::discovery::{
    self, RESOURCES, ResourceId, SELF_SUBJECT_ACCESS_REVIEW, SELF_SUBJECT_RULES_REVIEW,
};

/// A request for a served resource kind.
pub(super) struct ResourcePath {
    pub resource: ResourceId,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Where a path leads.
pub(super) enum Route {
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
    /// `/api/v1/namespaces/{ns}/services/{service}/proxy/{path}`: the simulated Flagger
    /// load tester answers every service's gate paths.
    ServiceProxy {
        path: String,
    },
}

pub(super) fn route(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["version"] => Some(Route::Version),
        ["healthz" | "readyz" | "livez"] => Some(Route::Health),
        ["metrics"] => Some(Route::Metrics),
        ["api"] => Some(Route::CoreVersions),
        ["api", "v1"] => Some(Route::ResourceList(String::new(), "v1".into())),
        [
            "api",
            "v1",
            "namespaces",
            _,
            "services",
            _,
            "proxy",
            rest @ ..,
        ] => Some(Route::ServiceProxy {
            path: format!("/{}", rest.join("/")),
        }),
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

/// Serve a routed request with its handler.
pub(super) fn dispatch(route: Route, request: &Received) -> Result<Response<Body>, ApiError> {
    let path = request.path.as_str();
    let post = request.method == Method::POST;
    match route {
        Route::Version => Ok(handlers::version()),
        Route::Health => Ok(handlers::health()),
        Route::Metrics => Ok(handlers::metrics(request.state)),
        Route::CoreVersions => Ok(handlers::core_versions(request.address)),
        Route::GroupList => Ok(handlers::group_list()),
        Route::Group(group) => handlers::group(&group, path),
        Route::ResourceList(group, version) => handlers::resource_list(&group, &version, path),
        Route::AccessReview if post => handlers::access_review(request.user, &request.body),
        Route::RulesReview if post => handlers::rules_review(request.user, &request.body),
        Route::AccessReview | Route::RulesReview => {
            Err(ApiError::method_not_allowed(request.method.as_str(), path))
        }
        Route::Resource(target) => resources::serve(request, target),
        Route::ServiceProxy { path: gate } if post => {
            handlers::load_tester(request.state, &gate, &request.body)
        }
        Route::ServiceProxy { .. } => {
            Err(ApiError::method_not_allowed(request.method.as_str(), path))
        }
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
}

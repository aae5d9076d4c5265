//! The API server's checks of a watch's list options (apimachinery's
//! `ValidateListOptions`): a streamed list (`sendInitialEvents`) needs
//! `resourceVersionMatch=NotOlderThan` and bookmarks, and is refused outright by a
//! server without the WatchList feature (the default of Kubernetes before 1.27 and
//! again in 1.33), so clients must be able to fall back to lists in pages.

use super::query::Query;
use crate::api_error::ApiError;

/// 422 Invalid with every cause, worded as the API server words them; `None` when fine.
pub fn check(query: &Query, streamed_lists: bool) -> Option<ApiError> {
    let initial_events = query.get("sendInitialEvents").is_some();
    let matching = query.get("resourceVersionMatch").filter(|m| !m.is_empty());
    let mut causes: Vec<(&str, String)> = Vec::new();
    if initial_events {
        if matching != Some("NotOlderThan") {
            causes.push((
                "resourceVersionMatch",
                "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan".into(),
            ));
        }
        if !streamed_lists {
            causes.push((
                "sendInitialEvents",
                "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"
                    .into(),
            ));
        }
    }
    if let Some(matching) = matching {
        if !initial_events {
            causes.push((
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"
                    .into(),
            ));
        }
        if matching != "NotOlderThan" {
            causes.push((
                "resourceVersionMatch",
                format!("Unsupported value: \"{matching}\": supported values: \"NotOlderThan\""),
            ));
        }
        if !query.flag("allowWatchBookmarks") {
            causes.push((
                "allowWatchBookmarks",
                "Forbidden: allowWatchBookmarks must be true when sendInitialEvents is set".into(),
            ));
        }
    }
    (!causes.is_empty()).then(|| ApiError::invalid_options(&causes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_query(query: &str, streamed_lists: bool) -> Option<String> {
        check(&Query::parse(Some(query)), streamed_lists).map(|e| e.message)
    }

    /// What kube-rs' watcher sends for a streamed list.
    const STREAMED: &str = "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0&allowWatchBookmarks=true";

    #[test]
    fn a_streamed_list_is_served_where_the_feature_is_on_and_refused_where_off() {
        assert_eq!(check_query(STREAMED, true), None);
        let refused = check_query(STREAMED, false).unwrap();
        assert_eq!(
            refused,
            "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: \
             sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"
        );
    }

    #[test]
    fn a_plain_watch_is_fine_and_half_a_streamed_list_is_not() {
        assert_eq!(check_query("watch=true&resourceVersion=7", false), None);
        let half = check_query("watch=true&sendInitialEvents=true", true).unwrap();
        assert!(
            half.contains("requires setting resourceVersionMatch"),
            "{half}"
        );
        let no_bookmarks = check_query(
            "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
            true,
        )
        .unwrap();
        assert!(
            no_bookmarks.contains("allowWatchBookmarks"),
            "{no_bookmarks}"
        );
        let matching_alone = check_query("watch=true&resourceVersionMatch=Exact", true).unwrap();
        assert!(matching_alone.starts_with("ListOptions.meta.k8s.io \"\" is invalid: ["));
        assert!(matching_alone.contains("Unsupported value: \"Exact\""));
    }
}

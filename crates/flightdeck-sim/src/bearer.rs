//! Credentials of the `<cluster>-token` contexts: their kubeconfig user runs an exec
//! credential plugin that issues `fd-<issued unix seconds>` tokens, and their listener
//! accepts a token for a few seconds of wall time after it was issued, so a client has to
//! run the plugin again, as with short-lived cloud tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long after it was issued a token is accepted (wall time, whatever `--speed`).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(7);

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(authorization: Option<&str>) -> Option<&str> {
    let (scheme, token) = authorization?.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Whether the listener accepts `token` at `now`.
pub fn accepts(token: &str, now: SystemTime) -> bool {
    let Some(issued) = token
        .strip_prefix("fd-")
        .and_then(|seconds| seconds.parse::<u64>().ok())
    else {
        return false;
    };
    let Ok(now) = now.duration_since(UNIX_EPOCH) else {
        return false;
    };
    let issued = Duration::from_secs(issued);
    issued <= now && now < issued + TOKEN_LIFETIME
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_accepted_for_their_lifetime_only() {
        let at = |s: f64| UNIX_EPOCH + Duration::from_secs_f64(s);
        assert!(accepts("fd-1000", at(1000.0)));
        assert!(accepts("fd-1000", at(1006.9)));
        assert!(!accepts("fd-1000", at(1007.0)));
        assert!(!accepts("fd-1000", at(999.5)), "issued in the future");
        assert!(!accepts("1000", at(1000.0)));
        assert!(!accepts("fd-soon", at(1000.0)));
        assert_eq!(bearer_token(Some("Bearer fd-1")), Some("fd-1"));
        assert_eq!(bearer_token(Some("bearer  fd-1 ")), Some("fd-1"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(None), None);
    }
}

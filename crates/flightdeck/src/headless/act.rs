//! `flightdeck promote|pause|resume|abort|retry|undo|restart
//! [CONTEXT/]NAMESPACE/NAME`: look at the rollout, say whether the action
//! applies and is allowed, show its blast radius, confirm, write the audit
//! entry, act, and say how it ended. A failure is one line (the caller
//! prints it and exits non-zero).

use std::io::{IsTerminal, Write};

use jiff::Timestamp;

use super::snapshot;
use crate::app::{Policy, State};
use crate::audit::Audit;
use crate::audited;
use crate::cluster::{self, Scope};
use crate::model::{
    BlastRadius, ObjectKey, Role, RolloutAction, TrafficBasis, availability, blast_radius,
    undo_target, unusual,
};

/// `[CONTEXT/]NAMESPACE/NAME` → (context, namespace, name).
fn parse_target(text: &str) -> Result<(Option<&str>, &str, &str), String> {
    let parts: Vec<&str> = text.split('/').collect();
    match parts[..] {
        [namespace, name] if !namespace.is_empty() && !name.is_empty() => {
            Ok((None, namespace, name))
        }
        [context, namespace, name] if ![context, namespace, name].contains(&"") => {
            Ok((Some(context), namespace, name))
        }
        _ => Err(format!(
            "{text:?} is not [CONTEXT/]NAMESPACE/NAME (e.g. shop/checkout or prod-eu/shop/checkout)"
        )),
    }
}

/// Whether to ask before acting; refused when no one could answer.
fn must_ask(yes: bool, stdin_is_terminal: bool, what: &str) -> Result<bool, String> {
    match (yes, stdin_is_terminal) {
        (true, _) => Ok(false),
        (false, true) => Ok(true),
        (false, false) => Err(format!(
            "not sending {what}: stdin is not a terminal to confirm on; add --yes"
        )),
    }
}

/// What the action does to live traffic, version by version, before →
/// after, where it runs in plain sight, and what makes it unusual.
fn describe(
    key: &ObjectKey,
    action: RolloutAction,
    blast: &BlastRadius,
    warnings: &[String],
) -> String {
    let rate = match (blast.basis, blast.moved_rps) {
        (TrafficBasis::Measured { .. }, Some(rps)) => format!("about {rps:.0} req/s"),
        _ => "rps unknown: no metrics".to_string(),
    };
    let mut text = format!(
        "{action} {key}\n  context    {}\n  namespace  {}\n",
        key.context, key.namespace
    );
    for v in &blast.versions {
        let role = match v.role {
            Role::Old => "undo to",
            role => role.label(),
        };
        let revision = v.revision.map_or("r?".into(), |r| format!("r{r}"));
        let delay = v
            .scale_down_after
            .map_or(String::new(), |d| format!(" in {d}s"));
        text += &format!(
            "  {role:<9}  {revision} {} · traffic {}% → {}% · pods {} → {}{delay}\n",
            v.image.as_deref().unwrap_or("(image unknown)"),
            v.share_before,
            v.share_after,
            v.pods_before,
            v.pods_after,
        );
    }
    text += &format!(
        "  moves      {}% of traffic · {rate}\n  pods       {} started · {} stopped\n",
        blast.moved_percent,
        blast.pods_started(),
        blast.pods_stopped(),
    );
    if let Some(note) = blast.note {
        text += &format!("  note       {note}\n");
    }
    for warning in warnings {
        text += &format!("  warning    {warning}\n");
    }
    text
}

/// Ask on the terminal; `Ok` with the line typed.
async fn ask(question: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        eprint!("{question} ");
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| format!("cannot read the answer: {e}"))?;
        Ok(answer.trim().to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Connect to the target's context and take one look at its rollout.
async fn look_up(
    scope: &Scope,
    target: &str,
    action: RolloutAction,
) -> Result<(cluster::Connection, State, ObjectKey), String> {
    let (context, namespace, name) = parse_target(target)?;
    let scope = Scope {
        contexts: context.map_or_else(|| scope.contexts.clone(), |c| vec![c.to_string()]),
        all_contexts: false,
        namespace: Some(namespace.to_string()),
        ..scope.clone()
    };
    let connection = cluster::connect(&scope).await.map_err(|e| e.to_string())?;
    let [context] = connection.selected() else {
        return Err(format!(
            "{action} acts on one context; name it: CONTEXT/{namespace}/{name}"
        ));
    };
    let context = context.clone();
    let state = snapshot::take(&connection, Some(namespace)).await;
    // Whatever kind of workload bears the name; two kinds of one name are refused.
    let mut named = state
        .rollouts
        .keys()
        .filter(|k| k.context == context && k.namespace == namespace && k.name == name);
    let key = match (named.next().cloned(), named.next()) {
        (Some(key), None) => key,
        (Some(_), Some(_)) => {
            return Err(format!(
                "{namespace}/{name} in {context} names more than one kind of workload; \
                 act on it from the cockpit"
            ));
        }
        (None, _) => {
            return Err(match state.health(&context).and_then(|h| h.error()) {
                Some(error) => format!("{context}: {error}"),
                None => format!("rollout {namespace}/{name} not found in {context}"),
            });
        }
    };
    Ok((connection, state, key))
}

/// One action on one rollout, as the command line asks for it.
#[derive(Debug, Clone)]
pub struct ActRequest {
    pub action: RolloutAction,
    /// `[CONTEXT/]NAMESPACE/NAME`.
    pub rollout: String,
    /// Act without asking.
    pub yes: bool,
    /// The rollout's name, where a production context asks for it.
    pub confirm: Option<String>,
}

pub async fn act(scope: &Scope, target: &ActRequest, policy: &Policy) -> Result<(), String> {
    let action = target.action;
    if policy.readonly {
        return Err(format!("read-only: {action} not sent (--readonly)"));
    }
    let (connection, state, key) = look_up(scope, &target.rollout, action).await?;
    if policy.readonly(&key.context) {
        return Err(format!(
            "read-only: {action} not sent ({} is read-only in config.toml)",
            key.context
        ));
    }
    let rollout = &state.rollouts[&key];
    let replica_sets = state.replica_sets_of(&key);
    let undo_to = match action {
        RolloutAction::Undo { revision } => undo_target(replica_sets, revision),
        _ => None,
    };
    if let (RolloutAction::Undo { revision: Some(n) }, None) = (action, undo_to) {
        return Err(format!(
            "undo: revision {n} is not in the rollout's history"
        ));
    }
    availability(rollout, action, undo_to.is_some())?;

    let user = connection
        .user(&key.context)
        .unwrap_or("unknown user")
        .to_string();
    let audit = Audit::open_default().map_err(|e| e.to_string());
    let mut request = audited::Request {
        key: key.clone(),
        action,
        user: user.clone(),
        before: rollout.clone(),
        typed_name: None,
        time: Timestamp::now(),
    };
    match connection.access(&key.context, &key.namespace).await {
        // Refused before asking: the trail keeps the attempt and why.
        Ok(access) => {
            if let Err(e) = access.check(action, rollout, &user) {
                return Err(match &audit {
                    Ok(audit) => audited::record_refusal(audit, &request, e.to_string()).await,
                    Err(_) => e.to_string(),
                });
            }
        }
        Err(e) => eprintln!("could not check access ({e}); the API server will decide"),
    }

    let blast = blast_radius(rollout, replica_sets, action, None);
    let warnings: Vec<String> = unusual(rollout, action).into_iter().collect();
    print!("{}", describe(&key, action, &blast, &warnings));
    let what = format!("{action} to {key}");
    let needs_name = policy.production(&key.context) && action.needs_typed_confirmation();
    let typed_name = match (&target.confirm, std::io::stdin().is_terminal()) {
        (Some(name), _) => Some(name.clone()),
        (None, true) if needs_name => Some(
            ask(format!(
                "{} is production: type the rollout's name ({}) to confirm {action}:",
                key.context, key.name
            ))
            .await?,
        ),
        (None, interactive) => {
            if needs_name {
                return Err(format!(
                    "not sending {what}: {} is production; confirm with --confirm {}",
                    key.context, key.name
                ));
            }
            if must_ask(target.yes, interactive, &what)? {
                let answer = ask(format!(
                    "{action} {}/{} in {}? [y/N]",
                    key.namespace, key.name, key.context
                ))
                .await?;
                if !matches!(answer.to_lowercase().as_str(), "y" | "yes") {
                    return Err("not confirmed: nothing sent".into());
                }
            }
            None
        }
    };

    request.typed_name = typed_name;
    request.time = Timestamp::now();
    let call = connection.act_as(&key, rollout.workload, action);
    // On disk before anything is sent: a crash from here on leaves the entry.
    let recorded = audited::record(audit, policy, request).await?;
    println!("sending {what} (audit entry {})", recorded.id);
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let report = recorded.send(call).await?;
    if let Some(e) = &report.event_error {
        eprintln!("{e}");
    }
    println!("done: {}", report.summary());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Phase;
    use crate::model::testing::{canary, replica_set};

    #[test]
    fn targets_name_the_rollout_with_or_without_a_context() {
        assert_eq!(
            parse_target("shop/checkout"),
            Ok((None, "shop", "checkout"))
        );
        assert_eq!(
            parse_target("prod-eu/shop/checkout"),
            Ok((Some("prod-eu"), "shop", "checkout"))
        );
        assert!(parse_target("checkout").is_err());
        assert!(parse_target("shop/").is_err());
        assert!(parse_target("a/b/c/d").is_err());
    }

    #[test]
    fn without_a_terminal_only_yes_acts() {
        assert_eq!(must_ask(true, false, "abort"), Ok(false));
        assert_eq!(must_ask(false, true, "abort"), Ok(true));
        assert_eq!(
            must_ask(false, false, "abort to eu/shop/checkout"),
            Err("not sending abort to eu/shop/checkout: stdin is not a terminal to confirm on; add --yes".into())
        );
    }

    #[test]
    fn the_blast_radius_shows_where_and_how_much_before_and_after() {
        let rollout = canary("prod-eu", "shop", "checkout", Phase::Paused, 1);
        let sets = [
            replica_set(&rollout, "checkout-stable", 1, 8),
            replica_set(&rollout, "checkout-canary", 2, 2),
        ];
        let blast = blast_radius(&rollout, &sets, RolloutAction::Abort, None);
        assert_eq!(
            describe(&rollout.key, RolloutAction::Abort, &blast, &[]),
            "abort prod-eu/shop/checkout\n  context    prod-eu\n  namespace  shop\n  \
             stable     r1 registry.example.com/shop/checkout:v1.1.0 · traffic 80% → 100% · pods 8 → 10\n  \
             canary     r2 registry.example.com/shop/checkout:v1.2.0 · traffic 20% → 0% · pods 2 → 0\n  \
             moves      20% of traffic · rps unknown: no metrics\n  pods       2 started · 2 stopped\n"
        );
        let blast = blast_radius(
            &rollout,
            &sets,
            RolloutAction::Promote,
            Some((800.0, 200.0)),
        );
        let text = describe(
            &rollout.key,
            RolloutAction::Promote,
            &blast,
            &["odd".into()],
        );
        assert!(
            text.contains("moves      30% of traffic · about 300 req/s"),
            "{text}"
        );
        assert!(text.ends_with("  warning    odd\n"), "{text}");
    }
}

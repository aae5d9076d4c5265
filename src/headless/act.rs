//! `flightdeck promote|pause|resume|abort|retry|undo|restart
//! [CONTEXT/]NAMESPACE/NAME`: look at the rollout, say whether the action
//! applies and is allowed, show its blast radius, confirm, write the audit
//! entry, act, and say how it ended. A failure is one line (the caller
//! prints it and exits non-zero).

use std::io::{IsTerminal, Write};

use jiff::Timestamp;

use super::snapshot;
use crate::app::{Policy, State};
use crate::audit::{Audit, Entry, Outcome};
use crate::cli::{ActCommand, Scope};
use crate::cluster;
use crate::model::{
    BlastRadius, ObjectKey, ReplicaSet, Role, Rollout, RolloutAction, Strategy, TrafficBasis,
    availability, blast_radius,
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

/// The ReplicaSet an undo goes back to: revision `n`, or the one before
/// the newest.
fn undo_target(replica_sets: &[ReplicaSet], revision: Option<u64>) -> Option<&ReplicaSet> {
    match revision {
        Some(n) => replica_sets.iter().find(|rs| rs.revision == Some(n)),
        None => {
            let mut by_revision: Vec<&ReplicaSet> = replica_sets
                .iter()
                .filter(|rs| rs.revision.is_some())
                .collect();
            by_revision.sort_by_key(|rs| std::cmp::Reverse(rs.revision));
            by_revision.get(1).copied()
        }
    }
}

/// What the action does to live traffic, before → after, where it runs in
/// plain sight.
fn describe(rollout: &Rollout, action: RolloutAction, blast: &BlastRadius) -> String {
    let key = &rollout.key;
    let new = match rollout.strategy {
        Strategy::BlueGreen => "preview",
        _ => "canary",
    };
    let rate = match (blast.basis, blast.moved_rps) {
        (TrafficBasis::Measured { .. }, Some(rps)) => format!("about {rps:.0} req/s"),
        _ => "rps unknown: no metrics".to_string(),
    };
    let mut text = format!(
        "{action} {key}\n  context    {}\n  namespace  {}\n  traffic    stable {}% → {}% · {new} {}% → {}%\n  moves      {}% of traffic · {rate}\n  pods       {} started · {} stopped\n",
        key.context,
        key.namespace,
        100 - blast.new_before,
        100 - blast.new_after,
        blast.new_before,
        blast.new_after,
        blast.moved_percent,
        blast.pods_started,
        blast.pods_stopped,
    );
    if let Some(note) = blast.note {
        text += &format!("  note       {note}\n");
    }
    text
}

/// Ask on the terminal; only `y` or `yes` goes ahead.
async fn confirmed(question: String) -> Result<bool, String> {
    tokio::task::spawn_blocking(move || {
        eprint!("{question} [y/N] ");
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| format!("cannot read the answer: {e}"))?;
        Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
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
    let mut scope = Scope {
        kubeconfig: scope.kubeconfig.clone(),
        contexts: context.map_or_else(|| scope.contexts.clone(), |c| vec![c.to_string()]),
        all_contexts: false,
        namespace: Some(namespace.to_string()),
        readonly: scope.readonly,
    };
    let connection = cluster::connect(&scope).await.map_err(|e| e.to_string())?;
    let [context] = connection.selected() else {
        return Err(format!(
            "{action} acts on one context; name it: CONTEXT/{namespace}/{name}"
        ));
    };
    scope.contexts = vec![context.clone()];
    let state = snapshot::take(&scope).await.map_err(|e| e.to_string())?;
    let key = ObjectKey::new(context.as_str(), namespace, name);
    if !state.rollouts.contains_key(&key) {
        return Err(match state.health(context).and_then(|h| h.error()) {
            Some(error) => format!("{context}: {error}"),
            None => format!("rollout {namespace}/{name} not found in {context}"),
        });
    }
    Ok((connection, state, key))
}

pub async fn act(scope: &Scope, command: &ActCommand, policy: &Policy) -> Result<(), String> {
    let (action, target) = command.action();
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
    let undo_to = match action {
        RolloutAction::Undo { revision } => undo_target(state.replica_sets_of(&key), revision),
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
    let intent = Entry::intent(&user, rollout, action, Timestamp::now());
    let audit = Audit::open_default().map_err(|e| e.to_string())?;
    match connection.access(&key.context, &key.namespace).await {
        // Refused before asking: the trail keeps the attempt and why.
        Ok(access) => access.check(action, rollout, &user).map_err(|e| {
            let reason = e.to_string();
            let recorded = audit
                .record_intent(&intent)
                .and_then(|id| audit.record_outcome(id, &Outcome::Failed(reason.clone())));
            match recorded {
                Ok(()) => reason,
                Err(audit_error) => format!("{reason} (and {audit_error})"),
            }
        })?,
        Err(e) => eprintln!("could not check access ({e}); the API server will decide"),
    }

    let undo_to_stable = undo_to.is_some_and(|rs| rs.roles(rollout).contains(&Role::Stable));
    let blast = blast_radius(rollout, action, undo_to_stable, None);
    print!("{}", describe(rollout, action, &blast));
    let what = format!("{action} to {key}");
    let question = format!(
        "{action} {}/{} in {}?",
        key.namespace, key.name, key.context
    );
    if must_ask(target.yes, std::io::stdin().is_terminal(), &what)? && !confirmed(question).await? {
        return Err("not confirmed: nothing sent".into());
    }

    // On disk before anything is sent: a crash from here on leaves the entry.
    let id = audit
        .record_intent(&Entry {
            time: Timestamp::now(),
            ..intent
        })
        .map_err(|e| e.to_string())?;
    println!("sending {what} (audit entry {id})");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let result = connection.act(&key, action).await;
    let outcome = match &result {
        Ok(report) => Outcome::Done(report.summary()),
        Err(e) => Outcome::Failed(e.to_string()),
    };
    if let Err(e) = audit.record_outcome(id, &outcome) {
        eprintln!("the outcome was not recorded in the audit trail: {e}");
    }
    let report = result.map_err(|e| e.to_string())?;
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
    use crate::model::testing::canary;

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
        let blast = blast_radius(&rollout, RolloutAction::Abort, false, None);
        assert_eq!(
            describe(&rollout, RolloutAction::Abort, &blast),
            "abort prod-eu/shop/checkout\n  context    prod-eu\n  namespace  shop\n  traffic    stable 80% → 100% · canary 20% → 0%\n  moves      20% of traffic · rps unknown: no metrics\n  pods       0 started · 2 stopped\n"
        );
        let blast = blast_radius(&rollout, RolloutAction::Promote, false, Some(1000.0));
        assert!(
            describe(&rollout, RolloutAction::Promote, &blast)
                .contains("moves      30% of traffic · about 300 req/s")
        );
    }

    #[test]
    fn undo_goes_to_the_revision_asked_or_the_one_before_the_newest() {
        let rs = |revision: u64| ReplicaSet {
            key: ObjectKey::new("eu", "shop", format!("checkout-{revision}")),
            owner: Some("checkout".into()),
            hash: format!("h{revision}"),
            revision: Some(revision),
            images: Vec::new(),
            replicas: Default::default(),
            created: None,
        };
        let history = [rs(3), rs(5), rs(4)];
        assert_eq!(undo_target(&history, None).unwrap().revision, Some(4));
        assert_eq!(undo_target(&history, Some(3)).unwrap().revision, Some(3));
        assert!(undo_target(&history, Some(9)).is_none());
        assert!(undo_target(&history[..1], None).is_none());
    }
}

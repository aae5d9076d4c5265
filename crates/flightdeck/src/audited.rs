//! One executor for every action, from the cockpit and the command line
//! alike: the context's policy is checked (read-only, production), the
//! intent goes to the audit trail durably before anything is sent, the
//! calls are sent, and the outcome is recorded. The trail is SQLite with
//! `synchronous=FULL`, so its writes run on the blocking pool, never on the
//! async workers that carry the watches and the screen.

use crate::app::Policy;
use crate::audit::{Audit, Entry, EntryState};
use crate::cluster::{ActionError, ActionReport, Connection};
use crate::model::{ObjectKey, Rollout, RolloutAction};

/// One action, as a person asked for it.
#[derive(Debug, Clone)]
pub struct Request {
    pub key: ObjectKey,
    pub action: RolloutAction,
    /// The kubeconfig user it is taken as, for the trail.
    pub user: String,
    /// The rollout as the person saw it when they asked.
    pub before: Box<Rollout>,
    /// What the person typed to confirm, where the policy asks for the
    /// rollout's name (a production context).
    pub typed_name: Option<String>,
    pub time: jiff::Timestamp,
}

/// Why the policy refuses `action` on `key` with what was typed, if it does.
pub fn refusal(
    policy: &Policy,
    key: &ObjectKey,
    action: RolloutAction,
    typed_name: Option<&str>,
) -> Option<String> {
    if policy.readonly(&key.context) {
        return Some(format!(
            "read-only: no actions are sent to {} (config.toml or --readonly)",
            key.context
        ));
    }
    let needs_name = policy.production(&key.context) && action.needs_typed_confirmation();
    if needs_name && typed_name != Some(key.name.as_str()) {
        return Some(format!(
            "production: {action} of {}/{} in {} needs the rollout's name typed to confirm",
            key.namespace, key.name, key.context
        ));
    }
    None
}

/// Take the action: refuse by policy, else write the intent, send, and
/// record how it ended. `Err` says in one line why it did not (fully) go
/// through; no trail, no action. The future owns what it needs, so that
/// the cockpit can spawn it.
pub fn take(
    audit: Result<Audit, String>,
    policy: &Policy,
    connection: &Connection,
    request: Request,
) -> impl Future<Output = Result<ActionReport, String>> + Send + 'static {
    // Not sent until awaited, after the intent is on disk.
    let call = connection.act_as(&request.key, request.before.workload, request.action);
    let recording = record(audit, policy, request);
    async move { recording.await?.send(call).await }
}

/// The intent, on disk: the action may now be sent.
pub struct Recorded {
    audit: Audit,
    /// The entry's id in the trail.
    pub id: i64,
}

/// Check the policy and write the intent, durably. A refusal is written
/// too, as failed, so the trail keeps the attempt and why.
pub fn record(
    audit: Result<Audit, String>,
    policy: &Policy,
    request: Request,
) -> impl Future<Output = Result<Recorded, String>> + Send + 'static {
    let refused = refusal(
        policy,
        &request.key,
        request.action,
        request.typed_name.as_deref(),
    );
    async move {
        let audit =
            audit.map_err(|e| format!("not sent: the audit trail cannot be written: {e}"))?;
        if let Some(reason) = refused {
            return Err(record_refusal(&audit, &request, reason).await);
        }
        let intent = intent(&request);
        let id = write(&audit, move |a| a.record_intent(&intent))
            .await
            .map_err(|e| format!("not sent: the audit trail cannot be written: {e}"))?;
        Ok(Recorded { audit, id })
    }
}

/// Write an attempt that was refused before anything was sent (by the
/// policy, or by RBAC), and return the reason to report.
pub async fn record_refusal(audit: &Audit, request: &Request, reason: String) -> String {
    let intent = intent(request);
    let recorded = write(audit, move |a| {
        let id = a.record_intent(&intent)?;
        a.record_outcome(id, &EntryState::Failed(reason.clone()))?;
        Ok(reason)
    })
    .await;
    match recorded {
        Ok(reason) => reason,
        Err(e) => format!("refused (and the audit trail: {e})"),
    }
}

impl Recorded {
    /// Send the calls and record how they ended.
    pub async fn send(
        self,
        call: impl Future<Output = Result<ActionReport, ActionError>>,
    ) -> Result<ActionReport, String> {
        let result = call.await.map_err(|e| e.to_string());
        let outcome = match &result {
            Ok(report) => EntryState::Done(report.summary()),
            Err(error) => EntryState::Failed(error.clone()),
        };
        let id = self.id;
        match write(&self.audit, move |a| a.record_outcome(id, &outcome)).await {
            Ok(()) => result,
            Err(e) => result.map_err(|error| format!("{error} (and the audit trail: {e})")),
        }
    }
}

fn intent(request: &Request) -> Entry {
    Entry::intent(&request.user, &request.before, request.action, request.time)
}

/// One write to the trail, on the blocking pool.
async fn write<T: Send + 'static>(
    audit: &Audit,
    f: impl FnOnce(&Audit) -> Result<T, crate::audit::AuditError> + Send + 'static,
) -> Result<T, String> {
    let audit = audit.clone();
    tokio::task::spawn_blocking(move || f(&audit).map_err(|e| e.to_string()))
        .await
        .map_err(|e| format!("the audit writer stopped: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            readonly: false,
            readonly_contexts: vec!["lab".into()],
            production_contexts: vec!["prod-eu".into()],
        }
    }

    #[test]
    fn production_needs_the_name_typed_for_the_costly_actions() {
        let key = ObjectKey::new("prod-eu", "shop", "checkout");
        assert_eq!(
            refusal(&policy(), &key, RolloutAction::Abort, None).as_deref(),
            Some(
                "production: abort of shop/checkout in prod-eu needs the rollout's name typed to confirm"
            )
        );
        assert!(refusal(&policy(), &key, RolloutAction::Abort, Some("checkou")).is_some());
        assert_eq!(
            refusal(&policy(), &key, RolloutAction::Abort, Some("checkout")),
            None
        );
        // Pause and promote are not among the costly ones.
        assert_eq!(refusal(&policy(), &key, RolloutAction::Pause, None), None);
        let elsewhere = ObjectKey::new("staging", "shop", "checkout");
        assert_eq!(
            refusal(&policy(), &elsewhere, RolloutAction::Abort, None),
            None
        );
    }

    #[test]
    fn read_only_contexts_refuse_everything() {
        let key = ObjectKey::new("lab", "shop", "checkout");
        let refused = refusal(&policy(), &key, RolloutAction::Pause, None).unwrap();
        assert!(refused.starts_with("read-only: no actions are sent to lab"));
        let everywhere = Policy {
            readonly: true,
            ..policy()
        };
        let key = ObjectKey::new("staging", "shop", "checkout");
        assert!(refusal(&everywhere, &key, RolloutAction::Restart, None).is_some());
    }
}

//! Sending a plan: read what the plugin reads, plan, send the calls in
//! order (a status patch falls back to the main resource on 404), start
//! over from a fresh read on a 409 conflict, and when a later call fails
//! after an earlier one applied, say exactly which did and which did not.

use std::future::Future;

use jiff::Timestamp;
use serde_json::Value;

use super::errors::{ActionError, ApiRequest, Site, is_conflict, is_not_found, words};
use super::plan::{self, Call, Reads};
use super::undo;
use crate::model::RolloutAction;

/// How often a call that meets a 409 conflict is tried in all.
pub const TRIES: u32 = 3;

/// The requests a plan needs, on one rollout. `KubeRollout` sends them to
/// an API server; the tests script the answers.
pub trait RolloutApi {
    fn get(&self) -> impl Future<Output = Result<Value, kube::Error>> + Send;
    fn list_replica_sets(
        &self,
        selector: &str,
    ) -> impl Future<Output = Result<Vec<Value>, kube::Error>> + Send;
    /// `status`: to the status subresource. Answers the object as patched.
    fn patch(
        &self,
        call: &Call,
        status: bool,
    ) -> impl Future<Output = Result<Value, kube::Error>> + Send;
}

/// What went through.
#[derive(Debug)]
pub struct Sent {
    /// One line per call, in order.
    pub calls: Vec<String>,
    /// Why there were no calls, when there were none.
    pub note: Option<String>,
    /// The rollout as last seen (the last patch's answer, or the read).
    pub rollout: Value,
}

pub async fn run(
    api: &impl RolloutApi,
    action: RolloutAction,
    site: &Site,
    now: Timestamp,
) -> Result<Sent, ActionError> {
    let mut tries = 0;
    'fresh_read: loop {
        tries += 1;
        let needs = plan::reads(action);
        let rollout = match needs {
            Reads::Nothing => Value::Null,
            _ => api
                .get()
                .await
                .map_err(|e| words(&e, ApiRequest::GetRollout, site))?,
        };
        let replica_sets = match needs {
            Reads::RolloutAndReplicaSets => {
                let selector =
                    undo::replica_set_selector(&rollout).map_err(ActionError::NotApplicable)?;
                api.list_replica_sets(&selector)
                    .await
                    .map_err(|e| words(&e, ApiRequest::ListReplicaSets, site))?
            }
            _ => Vec::new(),
        };
        let plan =
            plan::plan(action, &rollout, &replica_sets, now).map_err(ActionError::NotApplicable)?;
        let mut sent = Sent {
            calls: Vec::new(),
            note: plan.note,
            rollout,
        };
        for (index, call) in plan.calls.iter().enumerate() {
            let mut call_tries = 0;
            let answer = loop {
                call_tries += 1;
                let answer = send(api, call).await;
                if let Err((e, _)) = &answer
                    && is_conflict(e)
                {
                    if sent.calls.is_empty() {
                        if tries < TRIES {
                            continue 'fresh_read;
                        }
                    } else if call_tries < TRIES {
                        // Once something applied, planning again could differ
                        // from what half went through: send the same call again.
                        continue;
                    }
                }
                break answer;
            };
            match answer {
                Ok(object) => {
                    sent.calls.push(call.describe());
                    sent.rollout = object;
                }
                Err((e, request)) => {
                    let cause = if is_conflict(&e) {
                        ActionError::Conflict { tries: TRIES }
                    } else {
                        words(&e, request, site)
                    };
                    if sent.calls.is_empty() {
                        return Err(cause);
                    }
                    return Err(ActionError::Partial {
                        applied: sent.calls,
                        not_applied: plan.calls[index..].iter().map(Call::describe).collect(),
                        cause: Box::new(cause),
                    });
                }
            }
        }
        return Ok(sent);
    }
}

/// One call; a status patch goes to the main resource when the status
/// subresource answers 404. The error comes with the request that failed.
async fn send(api: &impl RolloutApi, call: &Call) -> Result<Value, (kube::Error, ApiRequest)> {
    match call {
        Call::Status(_) => match api.patch(call, true).await {
            Err(e) if is_not_found(&e) => api
                .patch(call, false)
                .await
                .map_err(|e| (e, ApiRequest::PatchRollout)),
            other => other.map_err(|e| (e, ApiRequest::PatchStatus)),
        },
        Call::Spec(_) | Call::Template { .. } => api
            .patch(call, false)
            .await
            .map_err(|e| (e, ApiRequest::PatchRollout)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use kube::core::Status;
    use serde_json::json;

    use super::super::errors::test_site;
    use super::*;

    /// Answers in the order scripted; records what was asked.
    #[derive(Default)]
    struct Script {
        rollout: Value,
        answers: Mutex<VecDeque<Result<(), u16>>>,
        log: Mutex<Vec<String>>,
    }

    impl Script {
        fn new(rollout: Value, answers: &[Result<(), u16>]) -> Self {
            Script {
                rollout,
                answers: Mutex::new(answers.iter().copied().collect()),
                log: Mutex::default(),
            }
        }

        fn log(&self) -> Vec<String> {
            self.log.lock().unwrap().clone()
        }
    }

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(
            Status::failure("from the script", "")
                .with_code(code)
                .boxed(),
        )
    }

    impl RolloutApi for Script {
        async fn get(&self) -> Result<Value, kube::Error> {
            self.log.lock().unwrap().push("get".into());
            Ok(self.rollout.clone())
        }

        async fn list_replica_sets(&self, selector: &str) -> Result<Vec<Value>, kube::Error> {
            self.log.lock().unwrap().push(format!("list {selector}"));
            Ok(Vec::new())
        }

        async fn patch(&self, call: &Call, status: bool) -> Result<Value, kube::Error> {
            let to = if status { "status" } else { "main" };
            self.log
                .lock()
                .unwrap()
                .push(format!("{to}: {}", call.describe()));
            let answer = self.answers.lock().unwrap().pop_front().unwrap_or(Ok(()));
            answer.map(|()| self.rollout.clone()).map_err(api_error)
        }
    }

    fn paused_at_step() -> Value {
        json!({
            "spec": {"paused": true, "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}},
            "status": {"currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep"}]}
        })
    }

    async fn run_script(script: &Script, action: RolloutAction) -> Result<Sent, ActionError> {
        run(script, action, &test_site(), Timestamp::UNIX_EPOCH).await
    }

    #[tokio::test]
    async fn a_status_patch_falls_back_to_the_rollout_on_404() {
        let script = Script::new(Value::Null, &[Err(404), Ok(())]);
        let sent = run_script(&script, RolloutAction::Abort).await.unwrap();
        assert_eq!(
            script.log(),
            [
                r#"status: status patch {"status":{"abort":true}}"#,
                r#"main: status patch {"status":{"abort":true}}"#,
            ]
        );
        assert_eq!(sent.calls, [r#"status patch {"status":{"abort":true}}"#]);
    }

    #[tokio::test]
    async fn a_conflict_before_anything_applied_starts_over_from_a_fresh_read() {
        let script = Script::new(paused_at_step(), &[Err(409), Ok(()), Ok(())]);
        let sent = run_script(&script, RolloutAction::Promote).await.unwrap();
        assert_eq!(
            script.log(),
            [
                "get",
                r#"status: status patch {"status":{"pauseConditions":null}}"#,
                "get",
                r#"status: status patch {"status":{"pauseConditions":null}}"#,
                r#"main: spec patch {"spec":{"paused":false}}"#,
            ]
        );
        assert_eq!(sent.calls.len(), 2);
    }

    #[tokio::test]
    async fn conflicts_that_never_end_give_up_after_a_few_tries() {
        let script = Script::new(Value::Null, &[Err(409); 5]);
        let error = run_script(&script, RolloutAction::Pause).await.unwrap_err();
        assert_eq!(error, ActionError::Conflict { tries: TRIES });
        assert_eq!(script.log().len(), TRIES as usize);
    }

    #[tokio::test]
    async fn when_the_second_patch_fails_the_error_says_which_applied() {
        let script = Script::new(paused_at_step(), &[Ok(()), Err(403)]);
        let error = run_script(&script, RolloutAction::Promote)
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"only part of the action applied: status patch {"status":{"pauseConditions":null}} applied; spec patch {"spec":{"paused":false}} NOT applied: RBAC: user alice cannot patch rollouts in namespace shop"#
        );
        // A conflict on the second patch retries that patch, not the plan.
        let script = Script::new(paused_at_step(), &[Ok(()), Err(409), Ok(())]);
        run_script(&script, RolloutAction::Promote).await.unwrap();
        assert_eq!(script.log().iter().filter(|l| *l == "get").count(), 1);
        assert_eq!(script.log().len(), 4);
    }

    #[tokio::test]
    async fn a_plan_that_does_not_apply_sends_nothing() {
        let running =
            json!({"spec": {"strategy": {"canary": {"steps": [{"setWeight": 20}]}}}, "status": {}});
        let script = Script::new(running, &[]);
        let error = run_script(&script, RolloutAction::Resume)
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), "resume: the rollout is not paused");
        assert_eq!(script.log(), ["get"]);
    }

    #[tokio::test]
    async fn undo_lists_the_replica_sets_by_the_rollouts_selector() {
        let rollout = json!({"metadata": {"uid": "u1"}, "spec": {"selector": {"matchLabels": {"app": "checkout"}}}});
        let script = Script::new(rollout, &[]);
        let error = run_script(&script, RolloutAction::Undo { revision: None })
            .await
            .unwrap_err();
        assert_eq!(script.log(), ["get", "list app=checkout"]);
        assert_eq!(error.to_string(), "undo: there is no previous revision");
    }
}

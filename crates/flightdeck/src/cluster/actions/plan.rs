//! From an action and the rollout as read to the exact calls, as the
//! `kubectl argo rollouts` plugin makes them (DESIGN.md, "Action semantics").
//! Pure: the rollout and its ReplicaSets come in as the API server's JSON.
//!
//! Order follows the plugin: a status patch goes first and the spec patch
//! (unpausing) second, so that a cluster without the status subresource is
//! found out before anything is changed. Where DESIGN.md and the plugin
//! differ, DESIGN.md wins: `promote --full` also unpauses a paused rollout
//! (else it would not move), and a status patch answered 404 is sent as it
//! is to the rollout (the plugin sends one combined spec+status patch then).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::undo;
use crate::model::RolloutAction;

/// One call: a patch of the rollout.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `application/merge-patch+json` to the rollout.
    Spec(Value),
    /// `application/merge-patch+json` to `rollouts/status`; to the rollout
    /// itself when the status subresource answers 404 (Rollouts < v0.10).
    Status(Value),
    /// `application/json-patch+json` to the rollout: put back the pod
    /// template of `revision`.
    Template { revision: u64, patch: Value },
}

impl Call {
    /// One line for reports and the audit trail: what was sent.
    pub fn describe(&self) -> String {
        match self {
            Call::Spec(body) => format!("spec patch {body}"),
            Call::Status(body) => format!("status patch {body}"),
            Call::Template { revision, .. } => {
                format!("JSON patch of /spec/template back to revision {revision}")
            }
        }
    }
}

/// The calls for one action, and why there are none when there are none.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub calls: Vec<Call>,
    pub note: Option<String>,
}

impl Plan {
    fn of(calls: Vec<Call>) -> Self {
        Plan { calls, note: None }
    }
}

/// What must be read before planning, as the plugin reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    Nothing,
    Rollout,
    RolloutAndReplicaSets,
}

pub fn reads(action: RolloutAction) -> Reads {
    match action {
        RolloutAction::Pause | RolloutAction::Abort | RolloutAction::Retry => Reads::Nothing,
        RolloutAction::Undo { .. } => Reads::RolloutAndReplicaSets,
        // Resume reads whether a person paused it; restart reads first as
        // the plugin does.
        RolloutAction::Promote
        | RolloutAction::PromoteFull
        | RolloutAction::Resume
        | RolloutAction::Restart => Reads::Rollout,
    }
}

/// The calls for `action`. `rollout` is `Null` and `replica_sets` empty
/// when `reads(action)` asks for nothing; `now` stamps a restart. An error
/// says in plain words why the action does not apply.
pub fn plan(
    action: RolloutAction,
    rollout: &Value,
    replica_sets: &[Value],
    now: Timestamp,
) -> Result<Plan, String> {
    Ok(match action {
        RolloutAction::Pause => Plan::of(vec![Call::Spec(json!({"spec": {"paused": true}}))]),
        RolloutAction::Abort => Plan::of(vec![Call::Status(json!({"status": {"abort": true}}))]),
        RolloutAction::Retry => Plan::of(vec![Call::Status(json!({"status": {"abort": false}}))]),
        RolloutAction::Restart => Plan::of(vec![Call::Spec(json!({
            "spec": {"restartAt": now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()}
        }))]),
        RolloutAction::Promote => promote(rollout),
        RolloutAction::PromoteFull => promote_full(rollout),
        // Resume lifts a person's pause and nothing else: clearing a step's
        // pause or a blue-green's wait is a promotion, which switches traffic.
        RolloutAction::Resume if spec_paused(rollout) => Plan::of(vec![unpause()]),
        RolloutAction::Resume if has_pause_conditions(rollout) => {
            return Err(
                "resume: the rollout is held by its controller; resume only lifts a person's pause, promote moves it on"
                    .into(),
            );
        }
        RolloutAction::Resume => return Err("resume: the rollout is not paused".into()),
        RolloutAction::Undo { revision } => undo::plan(rollout, replica_sets, revision)?,
    })
}

fn unpause() -> Call {
    Call::Spec(json!({"spec": {"paused": false}}))
}

fn spec_paused(rollout: &Value) -> bool {
    rollout["spec"]["paused"] == json!(true)
}

fn has_pause_conditions(rollout: &Value) -> bool {
    rollout["status"]["pauseConditions"]
        .as_array()
        .is_some_and(|c| !c.is_empty())
}

/// The step after the current one, capped at the number of steps (Argo's
/// `GetCurrentCanaryStep` + 1); `None` for a rollout without canary steps.
fn next_step_index(rollout: &Value) -> Option<u64> {
    let steps = rollout["spec"]["strategy"]["canary"]["steps"]
        .as_array()
        .map_or(0, Vec::len) as u64;
    if steps == 0 {
        return None;
    }
    let index = rollout["status"]["currentStepIndex"].as_u64().unwrap_or(0);
    Some(if index < steps { index + 1 } else { index })
}

/// The plugin's `promote`: clear what holds the rollout (an inconclusive
/// analysis, pause conditions, or the current canary step), then unpause.
fn promote(rollout: &Value) -> Plan {
    let status = &rollout["status"];
    let canary = rollout["spec"]["strategy"]["canary"].is_object();
    let inconclusive =
        canary && status["canary"]["currentStepAnalysisRunStatus"]["status"] == "Inconclusive";
    let status_patch = if inconclusive
        && has_pause_conditions(rollout)
        && status["controllerPause"] == json!(true)
    {
        next_step_index(rollout).map(|next| {
            json!({"status": {"pauseConditions": null, "controllerPause": false, "currentStepIndex": next}})
        })
    } else if has_pause_conditions(rollout) {
        Some(json!({"status": {"pauseConditions": null}}))
    } else if canary {
        next_step_index(rollout)
            .map(|next| json!({"status": {"pauseConditions": null, "currentStepIndex": next}}))
    } else {
        None
    };
    let mut calls: Vec<Call> = status_patch.into_iter().map(Call::Status).collect();
    if spec_paused(rollout) {
        calls.push(unpause());
    }
    let mut plan = Plan::of(calls);
    if plan.calls.is_empty() {
        plan.note = Some("nothing holds the rollout: no pause, no step to move past".into());
    }
    plan
}

/// `promote --full`: skip the remaining steps, pauses and analysis.
fn promote_full(rollout: &Value) -> Plan {
    let status = &rollout["status"];
    let mut calls = Vec::new();
    if status["currentPodHash"] != status["stableRS"] {
        calls.push(Call::Status(json!({"status": {"promoteFull": true}})));
    }
    if spec_paused(rollout) {
        calls.push(unpause());
    }
    let mut plan = Plan::of(calls);
    if plan.calls.is_empty() {
        plan.note = Some("the new version is already stable".into());
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary(step: u64, pause_conditions: Value, spec_paused: bool) -> Value {
        json!({
            "spec": {"paused": spec_paused, "strategy": {"canary": {"steps": [
                {"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "1m"}}
            ]}}},
            "status": {"currentStepIndex": step, "pauseConditions": pause_conditions,
                       "currentPodHash": "new", "stableRS": "old"}
        })
    }

    fn calls(action: RolloutAction, rollout: &Value) -> Vec<Call> {
        plan(action, rollout, &[], Timestamp::UNIX_EPOCH)
            .unwrap()
            .calls
    }

    fn step_pause() -> Value {
        json!([{"reason": "CanaryPauseStep", "startTime": "2024-05-01T10:00:00Z"}])
    }

    #[test]
    fn pause_abort_retry_and_restart_are_single_fixed_patches() {
        let none = Value::Null;
        assert_eq!(
            calls(RolloutAction::Pause, &none),
            [Call::Spec(json!({"spec": {"paused": true}}))]
        );
        assert_eq!(
            calls(RolloutAction::Abort, &none),
            [Call::Status(json!({"status": {"abort": true}}))]
        );
        assert_eq!(
            calls(RolloutAction::Retry, &none),
            [Call::Status(json!({"status": {"abort": false}}))]
        );
        let now: Timestamp = "2024-05-01T10:11:12.345Z".parse().unwrap();
        let restart = plan(RolloutAction::Restart, &none, &[], now).unwrap();
        assert_eq!(
            restart.calls,
            [Call::Spec(
                json!({"spec": {"restartAt": "2024-05-01T10:11:12Z"}})
            )]
        );
        assert_eq!(reads(RolloutAction::Abort), Reads::Nothing);
        assert_eq!(reads(RolloutAction::Promote), Reads::Rollout);
    }

    #[test]
    fn promote_clears_pause_conditions_without_moving_the_step() {
        let r = canary(1, step_pause(), false);
        assert_eq!(
            calls(RolloutAction::Promote, &r),
            [Call::Status(json!({"status": {"pauseConditions": null}}))]
        );
    }

    #[test]
    fn promote_of_a_running_canary_moves_to_the_next_step_capped_at_the_end() {
        let r = canary(2, Value::Null, false);
        assert_eq!(
            calls(RolloutAction::Promote, &r),
            [Call::Status(
                json!({"status": {"pauseConditions": null, "currentStepIndex": 3}})
            )]
        );
        let done = canary(4, Value::Null, false);
        assert_eq!(
            calls(RolloutAction::Promote, &done),
            [Call::Status(
                json!({"status": {"pauseConditions": null, "currentStepIndex": 4}})
            )]
        );
        // No currentStepIndex yet counts as step 0.
        let mut fresh = canary(0, Value::Null, false);
        fresh["status"]
            .as_object_mut()
            .unwrap()
            .remove("currentStepIndex");
        assert_eq!(
            calls(RolloutAction::Promote, &fresh),
            [Call::Status(
                json!({"status": {"pauseConditions": null, "currentStepIndex": 1}})
            )]
        );
    }

    #[test]
    fn promote_of_a_paused_rollout_sends_the_status_patch_then_unpauses() {
        let r = canary(1, step_pause(), true);
        assert_eq!(
            calls(RolloutAction::Promote, &r),
            [
                Call::Status(json!({"status": {"pauseConditions": null}})),
                Call::Spec(json!({"spec": {"paused": false}})),
            ]
        );
    }

    #[test]
    fn promote_past_an_inconclusive_analysis_clears_the_controller_pause() {
        let mut r = canary(2, json!([{"reason": "InconclusiveAnalysisRun"}]), false);
        r["status"]["controllerPause"] = json!(true);
        r["status"]["canary"] = json!({"currentStepAnalysisRunStatus": {"status": "Inconclusive"}});
        assert_eq!(
            calls(RolloutAction::Promote, &r),
            [Call::Status(json!({"status": {
                "pauseConditions": null, "controllerPause": false, "currentStepIndex": 3
            }}))]
        );
    }

    #[test]
    fn promote_of_a_blue_green_clears_its_pause_and_nothing_else() {
        let bg = json!({
            "spec": {"strategy": {"blueGreen": {"activeService": "a"}}},
            "status": {"pauseConditions": [{"reason": "BlueGreenPause"}]}
        });
        assert_eq!(
            calls(RolloutAction::Promote, &bg),
            [Call::Status(json!({"status": {"pauseConditions": null}}))]
        );
        let settled = json!({"spec": {"strategy": {"blueGreen": {}}}, "status": {}});
        let p = plan(RolloutAction::Promote, &settled, &[], Timestamp::UNIX_EPOCH).unwrap();
        assert!(p.calls.is_empty());
        assert!(p.note.is_some());
    }

    #[test]
    fn promote_full_skips_to_the_end_unless_already_stable() {
        let r = canary(1, step_pause(), true);
        assert_eq!(
            calls(RolloutAction::PromoteFull, &r),
            [
                Call::Status(json!({"status": {"promoteFull": true}})),
                Call::Spec(json!({"spec": {"paused": false}})),
            ]
        );
        let mut stable = canary(4, Value::Null, false);
        stable["status"]["currentPodHash"] = json!("old");
        let p = plan(
            RolloutAction::PromoteFull,
            &stable,
            &[],
            Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(
            (p.calls, p.note.as_deref()),
            (vec![], Some("the new version is already stable"))
        );
    }

    #[test]
    fn resume_unpauses_a_persons_pause_and_nothing_else() {
        let by_person = canary(1, step_pause(), true);
        assert_eq!(
            calls(RolloutAction::Resume, &by_person),
            [Call::Spec(json!({"spec": {"paused": false}}))]
        );
        // A step's pause, or a blue-green waiting for promotion, is promote's.
        let by_step = canary(1, step_pause(), false);
        assert_eq!(
            plan(RolloutAction::Resume, &by_step, &[], Timestamp::UNIX_EPOCH),
            Err("resume: the rollout is held by its controller; resume only lifts a person's pause, promote moves it on".into())
        );
        let waiting = json!({
            "spec": {"strategy": {"blueGreen": {"activeService": "a"}}},
            "status": {"pauseConditions": [{"reason": "BlueGreenPause"}]}
        });
        assert!(plan(RolloutAction::Resume, &waiting, &[], Timestamp::UNIX_EPOCH).is_err());
        let running = canary(2, Value::Null, false);
        assert_eq!(
            plan(RolloutAction::Resume, &running, &[], Timestamp::UNIX_EPOCH),
            Err("resume: the rollout is not paused".into())
        );
    }

    #[test]
    fn calls_describe_themselves_in_one_line() {
        assert_eq!(
            Call::Status(json!({"status": {"abort": true}})).describe(),
            r#"status patch {"status":{"abort":true}}"#
        );
        assert_eq!(
            Call::Template {
                revision: 3,
                patch: json!([])
            }
            .describe(),
            "JSON patch of /spec/template back to revision 3"
        );
    }
}

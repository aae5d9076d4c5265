//! One scheduler round of a simulated Flagger on one Canary, pure: from the Canary's
//! analysis plan, its status and what the round sees (the target's spec hash, the gates,
//! the metric check), the next status and what to do to the Deployments. The states and
//! transitions are Flagger's (docs/gitbook/usage/how-it-works.md, deployment-strategies.md,
//! webhooks.md): a new spec of the target starts an analysis (after `confirm-rollout`);
//! each interval a passing check moves the weight by `stepWeight` (or to the next of
//! `stepWeights`) up to `maxWeight`, or counts an iteration of an A/B test or blue/green;
//! a failing check counts against `threshold`, and at the threshold (or an opened rollback
//! gate) the canary is rolled back and scaled to zero; at the end, `confirm-promotion`,
//! then the canary's spec is copied to the primary (Promoting), traffic goes back to the
//! primary (Finalising), and the canary is scaled to zero (Succeeded). `suspend` holds the
//! analysis; `skipAnalysis` promotes without checks.

use serde_json::Value;

/// The analysis plan, from `spec.analysis`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub step_weight: u32,
    pub step_weights: Vec<u32>,
    pub max_weight: u32,
    /// A/B tests and blue/green: checks to pass before promotion.
    pub iterations: u32,
    pub threshold: u32,
    /// `analysis.interval`, seconds.
    pub interval: u64,
    /// `thresholdRange.min` of `request-success-rate`, percent.
    pub min_success: f64,
    pub rollout_gate: bool,
    pub promotion_gate: bool,
    pub suspend: bool,
    pub skip_analysis: bool,
}

impl Plan {
    pub fn read(canary: &Value) -> Plan {
        let spec = &canary["spec"];
        let a = &spec["analysis"];
        let n = |v: &Value| v.as_u64().unwrap_or(0) as u32;
        let hook = |kind: &str| {
            a["webhooks"]
                .as_array()
                .is_some_and(|hooks| hooks.iter().any(|h| h["type"] == kind))
        };
        let min_success = a["metrics"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["name"] == "request-success-rate"))
            .and_then(|m| m["thresholdRange"]["min"].as_f64())
            .unwrap_or(99.0);
        Plan {
            step_weight: n(&a["stepWeight"]),
            step_weights: a["stepWeights"]
                .as_array()
                .map(|ws| ws.iter().map(n).collect())
                .unwrap_or_default(),
            max_weight: a["maxWeight"].as_u64().map_or(100, |w| w as u32),
            iterations: n(&a["iterations"]),
            threshold: a["threshold"].as_u64().map_or(1, |t| t.max(1) as u32),
            interval: crate::objects::duration_seconds(&a["interval"])
                .map_or(60, |s| s.max(1.0) as u64),
            min_success,
            rollout_gate: hook("confirm-rollout"),
            promotion_gate: hook("confirm-promotion"),
            suspend: spec["suspend"] == true,
            skip_analysis: spec["skipAnalysis"] == true,
        }
    }

    fn weighted(&self) -> bool {
        self.step_weight > 0 || !self.step_weights.is_empty()
    }

    /// The weight after `weight` on a passing check; `None` when the last is reached.
    fn next_weight(&self, weight: u32) -> Option<u32> {
        if !self.step_weights.is_empty() {
            return self.step_weights.iter().copied().find(|w| *w > weight);
        }
        (weight < self.max_weight).then(|| (weight + self.step_weight).min(self.max_weight))
    }
}

/// What Flagger keeps in `status`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    /// "" before the first round.
    pub phase: String,
    pub canary_weight: u32,
    pub iterations: u32,
    pub failed_checks: u32,
    pub last_applied: String,
    pub last_promoted: String,
}

impl Status {
    pub fn read(canary: &Value) -> Status {
        let s = &canary["status"];
        let n = |v: &Value| v.as_u64().unwrap_or(0) as u32;
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        Status {
            phase: text(&s["phase"]),
            canary_weight: n(&s["canaryWeight"]),
            iterations: n(&s["iterations"]),
            failed_checks: n(&s["failedChecks"]),
            last_applied: text(&s["lastAppliedSpec"]),
            last_promoted: text(&s["lastPromotedSpec"]),
        }
    }
}

/// What a round sees beyond the Canary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Seen {
    /// The hash of the target Deployment's pod template.
    pub target_hash: String,
    /// The metric check of this round, when one is due: passed or not.
    pub check: Option<bool>,
    pub rollout_gate_open: bool,
    pub promotion_gate_open: bool,
    pub rollback_gate_open: bool,
}

/// What to do to the Deployments (and gates) after the round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Scale the target (canary) to the primary's replicas.
    ScaleCanaryUp,
    /// Scale the target to zero.
    ScaleCanaryDown,
    /// Copy the target's pod template to the primary.
    Promote,
    /// The gate was used: close it again, as the load tester's `/close` does.
    CloseRollbackGate,
    ClosePromotionGate,
}

/// One round. Returns the next status, the effects and the Event's message (if the round
/// changed something worth one).
pub fn step(plan: &Plan, status: &Status, seen: &Seen) -> (Status, Vec<Effect>, Option<String>) {
    let mut next = status.clone();
    let mut effects = Vec::new();
    let say = |s: &str| Some(s.to_string());
    let message = match status.phase.as_str() {
        "" | "Initializing" => {
            next.phase = "Initialized".into();
            next.last_applied = seen.target_hash.clone();
            next.last_promoted = seen.target_hash.clone();
            effects.extend([Effect::Promote, Effect::ScaleCanaryDown]);
            say("Initialization done!")
        }
        "Initialized" | "Succeeded" | "Failed" if seen.target_hash != status.last_applied => {
            next = Status {
                phase: if plan.rollout_gate && !seen.rollout_gate_open && !plan.skip_analysis {
                    "Waiting".into()
                } else {
                    "Progressing".into()
                },
                last_applied: seen.target_hash.clone(),
                last_promoted: status.last_promoted.clone(),
                ..Status::default()
            };
            effects.push(Effect::ScaleCanaryUp);
            say("New revision detected! Scaling up the canary")
        }
        _ if plan.suspend => None,
        "Waiting" if seen.rollout_gate_open => {
            next.phase = "Progressing".into();
            say("Confirm-rollout gate opened: starting the analysis")
        }
        "Progressing" | "WaitingPromotion" if plan.skip_analysis => {
            next.phase = "Promoting".into();
            next.canary_weight = 0;
            effects.push(Effect::Promote);
            say("skipAnalysis set: promoting without checks")
        }
        "Progressing" | "WaitingPromotion" if seen.rollback_gate_open => {
            effects.extend([Effect::CloseRollbackGate, Effect::ScaleCanaryDown]);
            fail(&mut next);
            say("Rollback gate opened: canary rolled back")
        }
        "Progressing" => match seen.check {
            None => None,
            Some(false) => {
                next.failed_checks += 1;
                if next.failed_checks >= plan.threshold {
                    fail(&mut next);
                    effects.push(Effect::ScaleCanaryDown);
                    say("Canary failed! Scaling down; rolled back to the primary")
                } else {
                    say("Halt advancement: the success rate is below its threshold")
                }
            }
            Some(true) => {
                let done = if plan.weighted() {
                    match plan.next_weight(status.canary_weight) {
                        Some(w) => {
                            next.canary_weight = w;
                            false
                        }
                        None => true,
                    }
                } else {
                    next.iterations += 1;
                    next.iterations >= plan.iterations
                };
                if !done {
                    say("Advance canary")
                } else if plan.promotion_gate && !seen.promotion_gate_open {
                    next.phase = "WaitingPromotion".into();
                    say("Halt: waiting for the confirm-promotion gate")
                } else {
                    promote(&mut next, &mut effects);
                    say("Copying the canary's spec to the primary")
                }
            }
        },
        "WaitingPromotion" if seen.promotion_gate_open => {
            effects.push(Effect::ClosePromotionGate);
            promote(&mut next, &mut effects);
            say("Confirm-promotion gate opened: promoting")
        }
        "Promoting" => {
            next.phase = "Finalising".into();
            next.canary_weight = 0;
            say("Routing all traffic to the primary")
        }
        "Finalising" => {
            next.phase = "Succeeded".into();
            next.last_promoted = status.last_applied.clone();
            effects.push(Effect::ScaleCanaryDown);
            say("Promotion completed! Scaling down the canary")
        }
        _ => None,
    };
    (next, effects, message)
}

fn fail(status: &mut Status) {
    status.phase = "Failed".into();
    status.canary_weight = 0;
}

fn promote(status: &mut Status, effects: &mut Vec<Effect>) {
    status.phase = "Promoting".into();
    effects.push(Effect::Promote);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weighted() -> Plan {
        Plan {
            step_weight: 20,
            max_weight: 40,
            threshold: 2,
            interval: 10,
            min_success: 99.0,
            ..Plan::default()
        }
    }

    fn progressing(weight: u32) -> Status {
        Status {
            phase: "Progressing".into(),
            canary_weight: weight,
            last_applied: "new".into(),
            last_promoted: "old".into(),
            ..Status::default()
        }
    }

    fn seen(check: Option<bool>) -> Seen {
        Seen {
            target_hash: "new".into(),
            check,
            ..Seen::default()
        }
    }

    #[test]
    fn a_new_spec_starts_an_analysis_and_passing_checks_step_the_weight_to_promotion() {
        let settled = Status {
            phase: "Succeeded".into(),
            last_applied: "old".into(),
            last_promoted: "old".into(),
            ..Status::default()
        };
        let (s, effects, _) = step(&weighted(), &settled, &seen(None));
        assert_eq!((s.phase.as_str(), s.canary_weight), ("Progressing", 0));
        assert_eq!(s.last_applied, "new");
        assert_eq!(effects, [Effect::ScaleCanaryUp]);
        let (s, _, _) = step(&weighted(), &s, &seen(None));
        assert_eq!(s.canary_weight, 0, "no check due: nothing moves");
        let (s, _, _) = step(&weighted(), &s, &seen(Some(true)));
        assert_eq!(s.canary_weight, 20);
        let (s, _, _) = step(&weighted(), &s, &seen(Some(true)));
        assert_eq!(s.canary_weight, 40);
        let (s, effects, _) = step(&weighted(), &s, &seen(Some(true)));
        assert_eq!(
            (s.phase.as_str(), effects),
            ("Promoting", vec![Effect::Promote])
        );
        let (s, _, _) = step(&weighted(), &s, &seen(None));
        assert_eq!((s.phase.as_str(), s.canary_weight), ("Finalising", 0));
        let (s, effects, _) = step(&weighted(), &s, &seen(None));
        assert_eq!(s.phase, "Succeeded");
        assert_eq!(s.last_promoted, "new");
        assert_eq!(effects, [Effect::ScaleCanaryDown]);
    }

    #[test]
    fn failed_checks_at_the_threshold_roll_back_and_scale_the_canary_to_zero() {
        let (s, effects, _) = step(&weighted(), &progressing(20), &seen(Some(false)));
        assert_eq!(
            (s.phase.as_str(), s.failed_checks, s.canary_weight),
            ("Progressing", 1, 20)
        );
        assert!(effects.is_empty());
        let (s, effects, message) = step(&weighted(), &s, &seen(Some(false)));
        assert_eq!((s.phase.as_str(), s.canary_weight), ("Failed", 0));
        assert_eq!(effects, [Effect::ScaleCanaryDown]);
        assert!(message.unwrap().starts_with("Canary failed"));
        // The same spec again does not restart it; a new one does.
        let (again, _, _) = step(&weighted(), &s, &seen(None));
        assert_eq!(again.phase, "Failed");
    }

    #[test]
    fn gates_hold_the_rollout_and_the_promotion_until_opened() {
        let plan = Plan {
            promotion_gate: true,
            rollout_gate: true,
            ..weighted()
        };
        let initialized = Status {
            phase: "Initialized".into(),
            last_applied: "old".into(),
            last_promoted: "old".into(),
            ..Status::default()
        };
        let (s, _, _) = step(&plan, &initialized, &seen(None));
        assert_eq!(s.phase, "Waiting");
        let open = Seen {
            rollout_gate_open: true,
            ..seen(None)
        };
        let (s, _, _) = step(&plan, &s, &open);
        assert_eq!(s.phase, "Progressing");
        let (s, _, _) = step(&plan, &progressing(40), &seen(Some(true)));
        assert_eq!(s.phase, "WaitingPromotion");
        let (held, _, _) = step(&plan, &s, &seen(Some(true)));
        assert_eq!(held.phase, "WaitingPromotion");
        let opened = Seen {
            promotion_gate_open: true,
            ..seen(None)
        };
        let (s, effects, _) = step(&plan, &s, &opened);
        assert_eq!(s.phase, "Promoting");
        assert_eq!(effects, [Effect::ClosePromotionGate, Effect::Promote]);
    }

    #[test]
    fn a_rollback_gate_suspend_and_skip_analysis_act_as_flagger_reads_them() {
        let rollback = Seen {
            rollback_gate_open: true,
            ..seen(Some(true))
        };
        let (s, effects, _) = step(&weighted(), &progressing(20), &rollback);
        assert_eq!(s.phase, "Failed");
        assert_eq!(
            effects,
            [Effect::CloseRollbackGate, Effect::ScaleCanaryDown]
        );
        let suspended = Plan {
            suspend: true,
            ..weighted()
        };
        let (s, _, _) = step(&suspended, &progressing(20), &seen(Some(true)));
        assert_eq!(s, progressing(20));
        let skip = Plan {
            skip_analysis: true,
            ..weighted()
        };
        let (s, effects, _) = step(&skip, &progressing(20), &seen(None));
        assert_eq!(
            (s.phase.as_str(), effects),
            ("Promoting", vec![Effect::Promote])
        );
    }

    #[test]
    fn an_ab_test_counts_iterations_and_step_weights_are_followed() {
        let ab = Plan {
            iterations: 2,
            threshold: 2,
            ..Plan::default()
        };
        let (s, _, _) = step(&ab, &progressing(0), &seen(Some(true)));
        assert_eq!(
            (s.iterations, s.canary_weight, s.phase.as_str()),
            (1, 0, "Progressing")
        );
        let (s, _, _) = step(&ab, &s, &seen(Some(true)));
        assert_eq!(s.phase, "Promoting");
        let listed = Plan {
            step_weights: vec![5, 25, 60],
            ..weighted()
        };
        let (s, _, _) = step(&listed, &progressing(5), &seen(Some(true)));
        assert_eq!(s.canary_weight, 25);
        let (s, _, _) = step(&listed, &progressing(60), &seen(Some(true)));
        assert_eq!(s.phase, "Promoting");
    }
}

//! What changed: every deploy and every action on one, newest first, as the on-call
//! engineer reads it in an incident.

use jiff::Timestamp;
use serde::Serialize;

use super::deploy::{Deploy, Exposure, VerdictMark, WorkloadKind};
use super::history::History;
use crate::model::ObjectKey;

/// A deploy, or an action taken on one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub at: Timestamp,
    #[serde(serialize_with = "key_text")]
    pub key: ObjectKey,
    pub kind: WorkloadKind,
    pub revision: u64,
    /// `shop:v1 → shop:v2` for a deploy, the action (`abort`) for an action.
    pub what: String,
    pub who: String,
    /// A deploy's outcome so far (empty for an action).
    pub outcome: String,
    pub verdict: String,
    /// Every verdict the deploy had, oldest first (none for an action).
    pub verdicts: Vec<VerdictMark>,
    pub exposure: Option<Exposure>,
    pub action: bool,
}

impl Change {
    /// The verdicts a deploy had, `PASS → FAIL score 12/100`: each transition's
    /// outcome, the latest with its score; `short`, the earlier ones by their first
    /// letter (`P→M→FAIL score 40/100`).
    pub fn verdict_trail(&self, short: bool) -> String {
        let Some((_, earlier)) = self.verdicts.split_last() else {
            return self.verdict.clone();
        };
        let mut trail: Vec<&str> = earlier
            .iter()
            .map(|v| match short {
                true => v.outcome.get(..1).unwrap_or_default(),
                false => v.outcome.as_str(),
            })
            .collect();
        trail.push(&self.verdict);
        trail.join(if short { "→" } else { " → " })
    }
}

fn key_text<S: serde::Serializer>(key: &ObjectKey, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&key.to_string())
}

fn images(d: &Deploy) -> String {
    d.images.joined()
}

/// The deploys started since `since` and their actions, newest first, at most `limit`.
pub fn changes(history: &History, since: Timestamp, limit: usize) -> Vec<Change> {
    let mut rows = Vec::new();
    for (deploy, previous) in history.newest_since(since, limit) {
        let key = deploy.id.workload();
        let what = match previous {
            Some(p) if images(p) != images(deploy) => format!("{} → {}", images(p), images(deploy)),
            _ => format!("{} (rev {})", images(deploy), deploy.id.revision),
        };
        let mut who: Vec<&str> = deploy.actions().iter().map(|a| a.user.as_str()).collect();
        who.sort_unstable();
        who.dedup();
        for action in deploy.actions().iter().filter(|a| a.at >= since) {
            rows.push(Change {
                at: action.at,
                key: key.clone(),
                kind: deploy.id.kind,
                revision: deploy.id.revision,
                what: action.action.clone(),
                who: action.user.clone(),
                outcome: String::new(),
                verdict: String::new(),
                verdicts: Vec::new(),
                exposure: None,
                action: true,
            });
        }
        rows.push(Change {
            at: deploy.started,
            key,
            kind: deploy.id.kind,
            revision: deploy.id.revision,
            what,
            who: if who.is_empty() {
                "—".into()
            } else {
                who.join(", ")
            },
            outcome: deploy.outcome().label().to_string(),
            verdict: deploy.verdict().unwrap_or_default().to_string(),
            verdicts: deploy.verdicts().to_vec(),
            exposure: deploy.exposure(),
            action: false,
        });
    }
    rows.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.action.cmp(&a.action)));
    rows.truncate(limit);
    rows
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::dora::{DeployId, Failure};

    #[test]
    fn a_change_says_its_kind_and_every_verdict_for_scripts() {
        let at = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        let id = DeployId {
            context: "eu".into(),
            namespace: "shop".into(),
            kind: WorkloadKind::Canary,
            name: "basket".into(),
            hash: "5d2a".into(),
            revision: 4,
        };
        let mut d = Deploy::new(id, at(0));
        d.details_mut().failed = Some((Failure::RolledBack, at(600)));
        d.details_mut().verdict = Some("FAIL score 40/100".into());
        let mark = |s, outcome: &str, deciding: &str| VerdictMark {
            at: at(s),
            outcome: outcome.into(),
            deciding: deciding.into(),
        };
        d.details_mut().verdicts =
            vec![mark(60, "PASS", ""), mark(300, "FAIL", "error rate")].into();
        let rows = changes(&History::from_deploys([d]), at(-60), 10);
        assert_eq!(rows[0].verdict_trail(false), "PASS → FAIL score 40/100");
        assert_eq!(rows[0].verdict_trail(true), "P→FAIL score 40/100");
        let json = serde_json::to_value(&rows[0]).unwrap();
        assert_eq!(json["kind"], "Canary");
        assert_eq!(json["key"], "eu/shop/basket");
        assert_eq!(json["verdicts"][1]["outcome"], "FAIL");
        assert_eq!(json["verdicts"][1]["deciding"], "error rate");
        assert_eq!(json["verdicts"][1]["at"], "2027-01-15T08:05:00Z");
    }
}

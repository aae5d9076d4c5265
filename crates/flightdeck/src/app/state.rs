//! What the cockpit knows and shows.

use std::collections::HashMap;

use jiff::Timestamp;

use super::Keymap;
use super::view::{Reorder, Rows};
use crate::cluster::{Access, Kind};
use crate::metrics::{BackendNames, RolloutMetricsReport, Target};
use crate::model::{
    AnalysisRun, BlastRadius, Experiment, ObjectKey, ReplicaSet, Rollout, RolloutAction, Text,
};

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    /// Typing a filter; the view narrows with each key.
    Filter,
    /// Typing a `:` command.
    Command(String),
    /// The help overlay, scrolled this many lines.
    Help(u16),
    /// The messages of this session (`:messages`), scrolled this many lines.
    Messages(u16),
    /// Asking before an action, with its blast radius.
    Confirm(Confirm),
    /// Choosing the revision to undo to.
    Undo(UndoPicker),
    /// The DORA view (`:dora`): each workload's figures.
    Dora(super::dora::HistoryView),
    /// The changes view (`:changes`): every deploy and action, newest first.
    Changes(super::dora::HistoryView),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub key: ObjectKey,
    pub action: RolloutAction,
    /// What the action would do now; kept current while the dialog is open.
    pub radius: BlastRadius,
    /// What a person should know before confirming: an unusual state, a
    /// failing verdict, data that is not current.
    pub warnings: Vec<String>,
    /// On a production context, what the person has typed of the rollout's
    /// name (they must type all of it); `None` where a key suffices.
    pub typed: Option<String>,
    /// Whether the action may still be sent, kept current: why not, when the rollout
    /// has moved on while the dialog was open.
    pub allowed: Result<(), String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UndoPicker {
    pub key: ObjectKey,
    pub choices: Vec<RevisionChoice>,
    pub cursor: usize,
}

/// A revision one can undo to, as the picker lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionChoice {
    pub revision: u64,
    pub image: String,
    pub created: Option<Timestamp>,
    /// The stable revision now: undoing to it is immediate.
    pub stable: bool,
}

/// An action sent (or being sent) on a rollout, until the watch shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionState {
    /// Sent or being sent; `before` is the rollout as it was, to tell when
    /// the watch shows the effect.
    Pending {
        action: RolloutAction,
        since: Timestamp,
        acknowledged: bool,
        before: Box<Rollout>,
    },
    Failed {
        action: RolloutAction,
        error: String,
    },
}

/// What the config allows per context.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// `--readonly`: no action at all.
    pub readonly: bool,
    pub readonly_contexts: Vec<String>,
    /// Contexts where abort, undo and promote --full need the name typed.
    pub production_contexts: Vec<String>,
}

impl Policy {
    pub fn readonly(&self, context: &str) -> bool {
        self.readonly || self.readonly_contexts.iter().any(|c| c == context)
    }

    pub fn production(&self, context: &str) -> bool {
        self.production_contexts.iter().any(|c| c == context)
    }
}

/// What a SelfSubjectAccessReview said of patching rollouts in a namespace.
#[derive(Debug, Clone, PartialEq)]
pub enum AccessState {
    Checking,
    /// `access`: `None` when the review could not be asked (then the API
    /// server judges each action).
    Known {
        at: Timestamp,
        user: String,
        access: Option<Access>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Fleet,
    Rollout,
}

/// How one context's watches are doing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContextHealth {
    /// Kinds whose watch is down, with the error in plain words.
    pub down: Vec<(Kind, String)>,
    /// Kinds whose watch has listed at least once.
    pub listed: Vec<Kind>,
    /// Since when the rollouts shown are not current (their watch went down).
    pub stale_since: Option<Timestamp>,
    /// TLS is not verified for this context (`insecure-skip-tls-verify`).
    pub insecure: bool,
    /// Watched namespace by namespace (the user may not list across all of
    /// them): which, and why.
    pub scoped: Option<String>,
}

impl ContextHealth {
    /// The rollouts are listed and their watch is up. (ReplicaSets or
    /// AnalysisRuns that cannot be read do not make the rollouts stale.)
    pub fn is_live(&self) -> bool {
        self.listed.contains(&Kind::Rollout) && self.error().is_none()
    }

    /// Why the rollouts' watch is down, if it is.
    pub fn error(&self) -> Option<&str> {
        self.problem(Kind::Rollout)
    }

    /// Why the watch of `kind` is down, if it is.
    pub fn problem(&self, kind: Kind) -> Option<&str> {
        self.down
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, e)| e.as_str())
    }
}

/// A one-line message at the bottom, until the next key or for a few
/// seconds; every one is kept for `:messages`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flash {
    Info(String),
    Error(String),
}

impl Flash {
    pub fn text(&self) -> &str {
        match self {
            Flash::Info(text) | Flash::Error(text) => text,
        }
    }
}

/// How many messages `:messages` keeps.
const MESSAGES_KEPT: usize = 200;

#[derive(Debug, Clone)]
pub struct State {
    /// Boxed: a rollout is large, and the table of ten thousand grows by copying.
    pub rollouts: HashMap<ObjectKey, Box<Rollout>>,
    /// ReplicaSets by the key of the Rollout that owns them.
    pub replica_sets: HashMap<ObjectKey, Vec<ReplicaSet>>,
    /// AnalysisRuns by the key of the Rollout (or Experiment) that owns them.
    pub analysis_runs: HashMap<ObjectKey, Vec<AnalysisRun>>,
    /// Every Deployment watched, plain or owned; the plain ones are rows of `rollouts` too.
    pub deployments: HashMap<ObjectKey, Box<Rollout>>,
    /// Deployments that a Canary or a Rollout owns, by the key of their owner.
    pub claims: HashMap<ObjectKey, ObjectKey>,
    /// Experiments by the key of the Rollout that owns them.
    pub experiments: HashMap<ObjectKey, Vec<Experiment>>,
    /// Objects that could not be read, with the error naming the field; the
    /// last good version of each (if any) stays shown.
    pub unreadable: HashMap<ObjectKey, (Kind, String)>,
    /// Every watched context, in the order given.
    pub contexts: Vec<(String, ContextHealth)>,
    /// Contexts the kubeconfig knows (for `:ctx`).
    pub known_contexts: Vec<String>,
    /// The namespace the watches cover (`None`: all).
    pub watched_namespace: Option<String>,
    /// View narrowing by `:ctx` and `:ns`.
    pub context_scope: Option<String>,
    pub namespace_scope: Option<String>,
    /// View narrowing by `:kind` to one kind of workload.
    pub kind_scope: Option<crate::model::Workload>,
    pub filter: String,
    /// The rows of the fleet pane, sorted by urgency; rebuilt by `settle`.
    pub view: Rows,
    /// Rollouts per phase (in `Phase::ALL` order) within the `:ctx`/`:ns`
    /// scope; rebuilt with the view.
    pub phase_counts: [usize; 5],
    pub(super) view_dirty: bool,
    /// Rollouts that came, went or changed urgency since the rows were built.
    pub(super) reorder: Reorder,
    /// The lists in progress: at each one's end, what it did not show is gone.
    pub(super) listing: super::listing::Listing,
    pub cursor: usize,
    /// A person has moved the cursor: from then on it follows its rollout.
    pub cursor_moved: bool,
    /// The rollout under the cursor: the cursor follows it when rows move.
    pub selected: Option<ObjectKey>,
    /// First fleet row on screen.
    pub offset: usize,
    pub focus: Focus,
    /// Lines scrolled in the rollout pane.
    pub detail_scroll: u16,
    pub mode: Mode,
    /// The message in the footer, and when it was said.
    pub flash: Option<(Flash, Timestamp)>,
    /// Every message of this session, oldest first (the last few hundred).
    pub messages: std::collections::VecDeque<(Timestamp, Flash)>,
    /// Where the log is, for what the messages do not hold.
    pub log_path: Option<String>,
    pub actions: HashMap<ObjectKey, ActionState>,
    /// The action keys the selected rollout offers now; refreshed by `settle`.
    pub offers: Vec<super::Offer>,
    pub policy: Policy,
    /// Why the audit trail cannot be written, found at start: then no
    /// action is sent, and every action key says so.
    pub audit_unwritable: Option<String>,
    /// RBAC answers by (context, namespace).
    pub access: HashMap<(Text, Text), AccessState>,
    /// Which metrics backend each context reads, by name ("simulated traffic",
    /// "eu: Datadog (datadoghq.eu)"); a context that reads none has no verdicts.
    pub metrics_sources: BackendNames,
    /// The latest metrics report per canary, or why there is none.
    pub metrics: HashMap<ObjectKey, Result<RolloutMetricsReport, String>>,
    /// The canaries the metrics poller was last asked to follow.
    pub(super) metrics_targets: Vec<Target>,
    pub(super) targets_dirty: bool,
    pub keymap: Keymap,
    pub now: Timestamp,
    pub size: (u16, u16),
    /// What the last frame showed, as the ui reported it.
    pub viewport: Viewport,
    /// The deploys seen and their DORA figures.
    pub dora: super::dora::DoraState,
}

/// What a frame showed, reported by the ui after drawing it: how many
/// fleet rows fit, how long the rollout pane's text is and how much of it
/// shows (so that the keys scroll within them), and when the next text that
/// moves with the clock (an age, a countdown) changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Viewport {
    pub fleet_rows: usize,
    pub detail_lines: usize,
    pub detail_rows: usize,
    /// `None`: nothing on screen moves with the clock.
    pub next_change: Option<Timestamp>,
    /// The help or messages overlay: its lines and how many show.
    pub overlay_lines: usize,
    pub overlay_rows: usize,
}

impl Viewport {
    pub fn overlay_scroll_max(&self) -> u16 {
        u16::try_from(self.overlay_lines.saturating_sub(self.overlay_rows)).unwrap_or(u16::MAX)
    }

    /// How far the rollout pane can scroll: to its last line, no further.
    pub fn detail_scroll_max(&self) -> u16 {
        u16::try_from(self.detail_lines.saturating_sub(self.detail_rows)).unwrap_or(u16::MAX)
    }
}

impl State {
    pub fn new(
        contexts: Vec<String>,
        known_contexts: Vec<String>,
        namespace: Option<String>,
        keymap: Keymap,
        now: Timestamp,
    ) -> State {
        State {
            rollouts: HashMap::new(),
            replica_sets: HashMap::new(),
            analysis_runs: HashMap::new(),
            experiments: HashMap::new(),
            deployments: HashMap::new(),
            claims: HashMap::new(),
            unreadable: HashMap::new(),
            contexts: contexts
                .into_iter()
                .map(|c| (c, ContextHealth::default()))
                .collect(),
            known_contexts,
            watched_namespace: namespace,
            context_scope: None,
            namespace_scope: None,
            kind_scope: None,
            filter: String::new(),
            view: Rows::default(),
            phase_counts: [0; 5],
            view_dirty: false,
            reorder: Reorder::Kept,
            listing: Default::default(),
            cursor: 0,
            cursor_moved: false,
            selected: None,
            offset: 0,
            focus: Focus::Fleet,
            detail_scroll: 0,
            mode: Mode::Normal,
            flash: None,
            messages: std::collections::VecDeque::new(),
            log_path: None,
            actions: HashMap::new(),
            offers: Vec::new(),
            policy: Policy::default(),
            audit_unwritable: None,
            access: HashMap::new(),
            metrics_sources: BackendNames::default(),
            metrics: HashMap::new(),
            metrics_targets: Vec::new(),
            targets_dirty: false,
            keymap,
            now,
            size: (80, 24),
            viewport: Viewport::default(),
            dora: Default::default(),
        }
    }

    /// Show `message` in the footer and keep it for `:messages`.
    pub fn say(&mut self, message: Flash) {
        if self.messages.len() == MESSAGES_KEPT {
            self.messages.pop_front();
        }
        self.messages.push_back((self.now, message.clone()));
        self.flash = Some((message, self.now));
    }

    /// The footer's message, if any.
    pub fn flash(&self) -> Option<&Flash> {
        self.flash.as_ref().map(|(f, _)| f)
    }

    pub fn selected_rollout(&self) -> Option<&Rollout> {
        self.selected
            .as_ref()
            .and_then(|k| self.rollouts.get(k))
            .map(|r| &**r)
    }

    pub fn replica_sets_of(&self, key: &ObjectKey) -> &[ReplicaSet] {
        self.replica_sets.get(key).map_or(&[], Vec::as_slice)
    }

    pub fn experiments_of(&self, key: &ObjectKey) -> &[Experiment] {
        self.experiments.get(key).map_or(&[], Vec::as_slice)
    }

    pub fn analysis_runs_of(&self, key: &ObjectKey) -> &[AnalysisRun] {
        self.analysis_runs.get(key).map_or(&[], Vec::as_slice)
    }

    pub fn report(&self, key: &ObjectKey) -> Option<&RolloutMetricsReport> {
        self.metrics.get(key).and_then(|r| r.as_ref().ok())
    }

    pub fn health(&self, context: &str) -> Option<&ContextHealth> {
        self.contexts
            .iter()
            .find(|(c, _)| c == context)
            .map(|(_, h)| h)
    }
}

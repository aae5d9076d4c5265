//! The interactive cockpit: the one place where the terminal, the clock,
//! the watches and `app::update` meet. Everything else it calls is pure.

use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{self, WrapErr};
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::app::{self, Effect, Event, State};
use crate::audit::Audit;
use crate::audited;
use crate::cluster::{self, ClusterEvent, Scope};
use crate::config::{Config, LedgerSettings};
use crate::ledger;
use crate::metrics::{self, Backends};
use crate::term::{self, Session};
use crate::ui;

/// Events taken from the watch channel before a frame is drawn, so that a
/// flood of changes (a relist of thousands) costs one frame, not thousands.
const BATCH: usize = 4096;

/// What time it is on the clusters: the wall clock, or the demo's
/// simulated clock (`--speed`), so that ages and countdowns read as the
/// objects' timestamps mean them.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    pub fn wall() -> Clock {
        Clock(Arc::new(Timestamp::now))
    }

    pub fn from_fn(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    fn now(&self) -> Timestamp {
        (self.0)()
    }
}

pub async fn run(
    scope: Scope,
    config: Config,
    metrics: Option<Backends>,
    time: Clock,
) -> eyre::Result<Exit> {
    let connection = cluster::connect(&scope).await?;
    let (tx, mut changes) = mpsc::channel::<ClusterEvent>(BATCH);
    let namespace = scope.namespace.clone();
    let watches = connection.watch(connection.selected(), namespace.as_deref(), tx.clone());

    let mut state = State::new(
        connection.selected().to_vec(),
        connection.known().to_vec(),
        namespace,
        config.keymap,
        time.now(),
    );
    state.policy = config.policy;
    state.metrics_sources = metrics.as_ref().map(Backends::names).unwrap_or_default();
    state.log_path = crate::logging::path().map(|p| p.display().to_string());
    // Found now, not after a person has confirmed an action.
    let audit = Audit::open_default().map_err(|e| e.to_string());
    state.audit_unwritable = audit.as_ref().err().cloned();
    state.dora.settings = config.dora.figures;
    state.dora.commit_annotations = config.dora.commit_annotations.clone();
    let theme = config.theme;
    let (replies, mut answers) = mpsc::unbounded_channel::<Event>();
    let ledger = open_ledger(&config.ledger, &mut state, &replies);
    let mut session = Session::enter(config.colours).wrap_err("cannot open the terminal")?;
    let size = session.terminal.size()?;
    app::update(
        &mut state,
        Event::Resize {
            width: size.width,
            height: size.height,
        },
    );

    let (metrics_tx, mut readings) = mpsc::channel(64);
    // A poller per backend, each at its own pace.
    let pollers = metrics.map(|backends| {
        let pollers = backends
            .all()
            .iter()
            .map(|b| metrics::spawn_poller(b.source.clone(), b.poll_every, metrics_tx.clone()))
            .collect();
        (backends, pollers)
    });
    let mut executors = Executors {
        connection,
        changes: tx,
        watches,
        replies,
        pollers,
        audit,
        policy: state.policy.clone(),
        ledger,
    };

    let mut keys = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // On a task of its own: a draw blocked on a stalled terminal must not
    // keep the signal from being seen (see `term::terminate_signal`).
    let mut terminate = tokio::spawn(term::terminate_signal());
    let mut signalled = None;
    let mut redraw = true;
    loop {
        if redraw {
            for effect in app::settle(&mut state) {
                match executors.carry_out(effect) {
                    Flow::Quit => return Ok(Exit::of(signalled)),
                    Flow::Suspend => session.suspend()?,
                    Flow::Continue => {}
                }
            }
            let shown = session.draw(|frame| ui::draw(frame, &state, &theme))?;
            // What the frame showed can ask for another (a resize moved the
            // rows): it is drawn on the next turn of the loop, at once.
            if app::update(&mut state, Event::Drawn(shown)).redraw {
                continue;
            }
        }
        let event = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(key))) => Event::Key(key),
                Some(Ok(TermEvent::Resize(width, height))) => Event::Resize { width, height },
                Some(Ok(_)) => continue,
                // The terminal is gone (SSH dropped): leave, as on SIGHUP.
                Some(Err(_)) | None => {
                    signalled = Some(1);
                    Event::Terminate
                }
            },
            Some(change) = changes.recv() => Event::Cluster(change),
            Some(answer) = answers.recv() => answer,
            Some(reading) = readings.recv() => Event::Metrics(reading),
            _ = clock.tick() => Event::Tick(time.now()),
            number = &mut terminate, if signalled.is_none() => {
                // A signal handler that could not be set up is no reason to stop.
                match number {
                    Ok(Ok(number)) => {
                        signalled = Some(number);
                        Event::Terminate
                    }
                    _ => {
                        signalled = Some(0);
                        continue;
                    }
                }
            }
        };
        let mut outcome = app::update(&mut state, event);
        for _ in 0..BATCH {
            let Ok(change) = changes.try_recv() else {
                break;
            };
            let more = app::update(&mut state, Event::Cluster(change));
            outcome.redraw |= more.redraw;
            outcome.effects.extend(more.effects);
        }
        redraw = outcome.redraw;
        for effect in outcome.effects {
            match executors.carry_out(effect) {
                Flow::Quit => return Ok(Exit::of(signalled)),
                Flow::Suspend => {
                    session.suspend()?;
                    redraw = true;
                }
                Flow::Continue => {}
            }
        }
    }
}

/// How far back the ledger is read at start: two of the longest window, for its trend.
const LEDGER_DAYS: i64 = 180;

/// Open the ledger on its own thread: its answer comes as an event, after the
/// first frame.
pub fn open_ledger(
    settings: &LedgerSettings,
    state: &mut State,
    replies: &mpsc::UnboundedSender<Event>,
) -> Option<ledger::Writer> {
    let location = ledger::Location::from_settings(
        settings.path.as_deref(),
        settings.url.as_deref(),
        settings.password_env.as_deref(),
    );
    let location = match location {
        Ok(location) => location,
        Err(error) => {
            state.dora.ledger = app::LedgerState::Unavailable(error.to_string());
            return None;
        }
    };
    state.dora.ledger = app::LedgerState::Opening;
    let since = crate::dora::Period::days_before(state.now, LEDGER_DAYS).from;
    let replies = replies.clone();
    Some(ledger::Writer::spawn(location, since, move |event| {
        let _ = replies.send(Event::Ledger(event));
    }))
}

/// How the cockpit ended: by a person, or by a signal (SIGTERM, SIGHUP,
/// SIGINT, or the terminal going away).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Signal(i32),
}

impl Exit {
    fn of(signalled: Option<i32>) -> Exit {
        match signalled {
            Some(number) if number > 0 => Exit::Signal(number),
            _ => Exit::Quit,
        }
    }

    /// The process's exit status: 0, or 128 + the signal, as shells expect.
    pub fn code(self) -> u8 {
        match self {
            Exit::Quit => 0,
            Exit::Signal(number) => u8::try_from(128 + number).unwrap_or(1),
        }
    }
}

#[derive(PartialEq)]
enum Flow {
    Continue,
    Suspend,
    Quit,
}

/// Where effects are carried out; answers come back as events on `replies`.
struct Executors {
    connection: cluster::Connection,
    changes: mpsc::Sender<ClusterEvent>,
    /// Dropping a `Watches` stops its tasks.
    watches: cluster::Watches,
    replies: mpsc::UnboundedSender<Event>,
    /// The backends, and a poller for each.
    pollers: Option<(Backends, Vec<metrics::Poller>)>,
    /// The audit trail, or why it cannot be written (then no action is sent).
    audit: Result<Audit, String>,
    policy: app::Policy,
    /// The ledger's writer (`None`: no ledger can be named, and the strip says why).
    ledger: Option<ledger::Writer>,
}

impl Executors {
    fn user(&self, context: &str) -> String {
        self.connection
            .user(context)
            .unwrap_or("unknown user")
            .to_string()
    }

    fn carry_out(&mut self, effect: Effect) -> Flow {
        match effect {
            Effect::Quit => return Flow::Quit,
            Effect::Suspend => return Flow::Suspend,
            Effect::Watch {
                contexts,
                namespace,
            } => {
                self.watches =
                    self.connection
                        .watch(&contexts, namespace.as_deref(), self.changes.clone());
            }
            Effect::Act {
                key,
                action,
                before,
                typed_name,
            } => {
                let request = audited::Request {
                    user: self.user(&key.context),
                    key: key.clone(),
                    action,
                    before,
                    typed_name,
                    time: Timestamp::now(),
                };
                let call =
                    audited::take(self.audit.clone(), &self.policy, &self.connection, request);
                let replies = self.replies.clone();
                tokio::spawn(async move {
                    let result = call.await.map(|report| report.summary());
                    let _ = replies.send(Event::ActionSent {
                        key,
                        action,
                        result,
                    });
                });
            }
            Effect::CheckAccess { context, namespace } => {
                let user = self.user(&context);
                let call = self.connection.access(&context, &namespace);
                let replies = self.replies.clone();
                tokio::spawn(async move {
                    let result = call.await.map_err(|e| e.to_string());
                    let _ = replies.send(Event::Access {
                        context,
                        namespace,
                        user,
                        result,
                    });
                });
            }
            Effect::Record(facts) => {
                if let Some(writer) = &self.ledger {
                    writer.record(facts);
                }
            }
            Effect::PollMetrics(targets) => {
                if let Some((backends, pollers)) = &self.pollers {
                    for (poller, targets) in pollers.iter().zip(backends.split(targets)) {
                        poller.set_targets(targets);
                    }
                }
            }
        }
        Flow::Continue
    }
}

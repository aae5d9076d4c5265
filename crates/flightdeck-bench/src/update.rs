//! Update: watch events through `app::update` on a large fleet, and the
//! keystrokes of a filter typed and erased.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use flightdeck::app::{self, Event, State};
use flightdeck::cluster::{Change, ClusterEvent};

/// Every rollout and ReplicaSet of the fleet, changed once each (as a
/// controller's status writes arrive).
pub fn changes(state: &State) -> Vec<Event> {
    let rollouts = state.rollouts.values().map(|r| {
        let mut r = r.clone();
        r.observed_generation += 1;
        ClusterEvent::Rollout(Change::Applied(r))
    });
    let sets = state.replica_sets.values().flatten().map(|rs| {
        let mut rs = rs.clone();
        rs.replicas.ready = rs.replicas.ready.saturating_sub(1);
        ClusterEvent::ReplicaSet(Change::Applied(Box::new(rs)))
    });
    rollouts.chain(sets).map(Event::Cluster).collect()
}

/// Events per second through `app::update`, the view settled after each
/// `batch` of them, as the cockpit settles the events it took before each
/// frame: a flood comes as one batch, a trickle in batches of one.
pub fn rate(state: &mut State, events: Vec<Event>, batch: usize) -> f64 {
    let count = events.len();
    let started = Instant::now();
    let mut events = events.into_iter();
    while events.len() > 0 {
        events.by_ref().take(batch.max(1)).for_each(|event| {
            app::update(state, event);
        });
        app::settle(state);
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// The time of each keystroke of `filter` typed after `/`, then erased,
/// `rounds` times.
pub fn keystrokes(state: &mut State, filter: &str, rounds: usize) -> Vec<Duration> {
    let key = |code| Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
    let mut times = Vec::new();
    let mut timed = |state: &mut State, event| {
        let started = Instant::now();
        app::update(state, event);
        times.push(started.elapsed());
    };
    for _ in 0..rounds {
        app::update(state, key(KeyCode::Char('/')));
        for c in filter.chars() {
            timed(state, key(KeyCode::Char(c)));
        }
        for _ in filter.chars() {
            timed(state, key(KeyCode::Backspace));
        }
        app::update(state, key(KeyCode::Esc));
    }
    times
}

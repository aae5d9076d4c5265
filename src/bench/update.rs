//! Update: watch events through `app::update` on a large fleet, and the
//! keystrokes of a filter typed and erased.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::{self, Event, State};
use crate::cluster::{Change, ClusterEvent};

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

/// Events per second when they come in a flood: all applied, then the
/// view settled once, as the cockpit does with a batch before a frame.
pub fn flood(state: &mut State, events: Vec<Event>) -> f64 {
    let count = events.len();
    let started = Instant::now();
    for event in events {
        app::update(state, event);
    }
    app::settle(state);
    count as f64 / started.elapsed().as_secs_f64()
}

/// Events per second when they come one at a time: each applied and the
/// view settled, as the cockpit does before each frame.
pub fn trickle(state: &mut State, events: Vec<Event>) -> f64 {
    let count = events.len();
    let started = Instant::now();
    for event in events {
        app::update(state, event);
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

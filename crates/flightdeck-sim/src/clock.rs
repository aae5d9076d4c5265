//! Simulated time: starts at a given instant and runs `speed` times as fast as the wall clock.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    origin: Timestamp,
    started: Instant,
    speed: f64,
}

impl SimClock {
    pub fn new(origin: Timestamp, speed: f64) -> Self {
        SimClock {
            origin,
            started: Instant::now(),
            speed,
        }
    }

    pub fn origin(&self) -> Timestamp {
        self.origin
    }

    /// Simulated seconds since the origin.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * self.speed
    }

    pub fn now(&self) -> Timestamp {
        self.at(self.elapsed())
    }

    /// The simulated instant `seconds` after the origin.
    pub fn at(&self, seconds: f64) -> Timestamp {
        self.origin + SignedDuration::from_secs_f64(seconds)
    }

    /// The wall-clock instant at which simulated time reaches `seconds` after the origin.
    pub fn wall_deadline(&self, seconds: f64) -> Instant {
        self.started + Duration::from_secs_f64((seconds / self.speed).max(0.0))
    }
}

/// RFC 3339 with seconds, UTC, as Kubernetes writes timestamps.
pub fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

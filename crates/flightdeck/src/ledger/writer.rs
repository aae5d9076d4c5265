//! The ledger's executor: a thread of its own that opens the ledger (never delaying
//! the first frame), loads its recent deploys, then merges what it is sent. A ledger
//! that cannot be reached or written (a PostgreSQL down, a disk full) is tried again
//! with backoff while the facts sent meanwhile wait in memory, merged per deploy and
//! bounded; what it has to say comes back as `app::LedgerEvent`s.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::{Ledger, LedgerError, Location};
use crate::app::{LedgerEvent, Retry};
use crate::dora::{Deploy, DeployId};

/// Facts taken in one transaction at most: what waits meanwhile stays in the queue,
/// as sent, rather than copied into the map (a fleet's first start sends its whole
/// history at once).
const BATCH: usize = 2_000;
/// Deploys kept in memory while the ledger is away; facts about others are dropped
/// (and counted): a few tens of MB at most.
pub const KEPT_MAX: usize = 50_000;
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Where the cockpit sends facts; dropping it waits for the last write, then ends
/// the thread.
pub struct Writer {
    facts: Option<mpsc::Sender<Vec<Deploy>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    /// Open the ledger at `location` on a thread, load the deploys started since
    /// `since`, and tell `say` how it went.
    pub fn spawn(
        location: Location,
        since: Timestamp,
        say: impl Fn(LedgerEvent) + Send + 'static,
    ) -> Writer {
        let (facts, queue) = mpsc::channel::<Vec<Deploy>>();
        let thread = std::thread::Builder::new()
            .name("ledger".into())
            .spawn(move || run(location, since, queue, say))
            .ok();
        Writer {
            facts: Some(facts),
            thread,
        }
    }

    pub fn record(&self, facts: Vec<Deploy>) {
        if let Some(sender) = &self.facts {
            let _ = sender.send(facts);
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.facts = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The facts not yet written, merged per deploy.
#[derive(Default)]
struct Kept {
    deploys: HashMap<DeployId, Deploy>,
    dropped: usize,
}

impl Kept {
    fn add(&mut self, facts: Vec<Deploy>) {
        for fact in facts {
            let room = self.deploys.len() < KEPT_MAX;
            match self.deploys.get_mut(&fact.id) {
                Some(kept) => {
                    kept.merge(&fact);
                }
                None if room => {
                    self.deploys.insert(fact.id.clone(), fact);
                }
                None => self.dropped += 1,
            }
        }
    }

    /// The facts, and the map's room with them: kept, it would hold the largest
    /// burst's size for the life of the cockpit.
    fn take(&mut self) -> Vec<Deploy> {
        std::mem::take(&mut self.deploys).into_values().collect()
    }
}

/// Whether facts can still come.
enum Queue {
    Open,
    Closed,
}

/// Take what is sent until `until` (or, with `None`, until a pause of 5 ms once
/// something came), into `kept`.
fn gather(queue: &mpsc::Receiver<Vec<Deploy>>, kept: &mut Kept, until: Option<Instant>) -> Queue {
    loop {
        let wait = match until {
            Some(at) => at.saturating_duration_since(Instant::now()),
            None if kept.deploys.is_empty() => Duration::MAX,
            None if kept.deploys.len() >= BATCH => return Queue::Open,
            None => Duration::from_millis(5),
        };
        if until.is_some() && wait.is_zero() {
            return Queue::Open;
        }
        let next = if wait == Duration::MAX {
            queue
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected)
        } else {
            queue.recv_timeout(wait)
        };
        match next {
            Ok(facts) => kept.add(facts),
            Err(mpsc::RecvTimeoutError::Timeout) if until.is_none() => return Queue::Open,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return Queue::Closed,
        }
    }
}

fn run(
    location: Location,
    since: Timestamp,
    queue: mpsc::Receiver<Vec<Deploy>>,
    say: impl Fn(LedgerEvent),
) {
    let mut kept = Kept::default();
    let mut backoff = BACKOFF_FIRST;
    // The deploys are loaded once: after a reconnection the cockpit has them.
    let mut load_since = Some(since);
    // Try again after `backoff`, saying why; false: the cockpit is gone.
    let wait = |kept: &mut Kept, error: &LedgerError, backoff: &mut Duration| {
        tracing::warn!("ledger: {error}; trying again in {}s", backoff.as_secs());
        say(LedgerEvent::Retrying(Retry {
            why: error.to_string(),
            after: *backoff,
            kept: kept.deploys.len(),
            dropped: kept.dropped,
        }));
        let until = Instant::now() + *backoff;
        *backoff = (*backoff * 2).min(BACKOFF_MAX);
        matches!(gather(&queue, kept, Some(until)), Queue::Open)
    };
    loop {
        let opened = Ledger::open(&location).and_then(|mut ledger| {
            let deploys = match load_since {
                Some(since) => ledger.load(since)?,
                None => Vec::new(),
            };
            Ok((ledger, deploys))
        });
        let mut ledger = match opened {
            Ok((ledger, deploys)) => {
                load_since = None;
                backoff = BACKOFF_FIRST;
                say(LedgerEvent::Opened {
                    at: ledger.at().to_string(),
                    deploys: crate::dora::History::from_deploys(deploys),
                });
                ledger
            }
            Err(error) if error.is_unreachable() => {
                if !wait(&mut kept, &error, &mut backoff) {
                    return lost(&kept);
                }
                continue;
            }
            Err(error) => {
                // Corrupt, or of a newer schema: left as it is, and not tried again.
                tracing::warn!("ledger: {error}");
                say(LedgerEvent::Unavailable(error.to_string()));
                // Keep taking facts so that senders never block; they are not kept.
                while queue.recv().is_ok() {}
                return;
            }
        };
        loop {
            let open = matches!(gather(&queue, &mut kept, None), Queue::Open);
            let batch = kept.take();
            if let Err(error) = ledger.record(&batch) {
                kept.add(batch);
                say(LedgerEvent::WriteFailed(error.to_string()));
                if !open || !wait(&mut kept, &error, &mut backoff) {
                    return lost(&kept);
                }
                // Open it again: a server may have gone and come back.
                break;
            }
            if !open {
                return;
            }
        }
    }
}

/// The cockpit ended with facts that could not be written.
fn lost(kept: &Kept) {
    let lost = kept.deploys.len() + kept.dropped;
    if lost > 0 {
        tracing::warn!("ledger: {lost} deploys' facts could not be written before the end");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dora::WorkloadKind;

    fn fact(revision: u64, weight: u32) -> Deploy {
        let id = DeployId {
            context: "eu".into(),
            namespace: "shop".into(),
            kind: WorkloadKind::Deployment,
            name: "web".into(),
            hash: format!("h{revision}").into(),
            revision,
        };
        let mut d = Deploy::new(id, Timestamp::from_second(1_800_000_000).unwrap());
        d.peak_weight = weight;
        d
    }

    #[test]
    fn what_waits_for_the_ledger_is_merged_per_deploy_and_bounded() {
        let mut kept = Kept::default();
        kept.add(vec![fact(1, 10), fact(1, 40), fact(2, 5)]);
        assert_eq!((kept.deploys.len(), kept.dropped), (2, 0));
        assert_eq!(kept.deploys[&fact(1, 0).id].peak_weight, 40);
        kept.add((3..KEPT_MAX as u64 + 3).map(|r| fact(r, 1)).collect());
        assert_eq!((kept.deploys.len(), kept.dropped), (KEPT_MAX, 2));
        // A deploy already kept still takes its facts.
        kept.add(vec![fact(2, 90)]);
        assert_eq!(kept.deploys[&fact(2, 0).id].peak_weight, 90);
        assert_eq!(kept.take().len(), KEPT_MAX);
        assert_eq!(
            kept.deploys.capacity(),
            0,
            "the room of {KEPT_MAX} deploys kept"
        );
        assert!(kept.deploys.is_empty());
    }
}

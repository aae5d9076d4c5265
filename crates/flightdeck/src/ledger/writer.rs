//! The ledger's executor: a thread of its own that opens the ledger (never delaying
//! the first frame), loads its recent deploys, then merges what it is sent. What it
//! has to say comes back as `app::LedgerEvent`s.

use std::sync::mpsc;
use std::time::Duration;

use jiff::Timestamp;

use super::{Ledger, Location};
use crate::app::LedgerEvent;
use crate::dora::Deploy;

/// Facts taken in one transaction at most.
const BATCH: usize = 10_000;

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

fn run(
    location: Location,
    since: Timestamp,
    queue: mpsc::Receiver<Vec<Deploy>>,
    say: impl Fn(LedgerEvent),
) {
    let opened = Ledger::open(&location).and_then(|mut ledger| {
        let deploys = ledger.load(since)?;
        Ok((ledger, deploys))
    });
    let mut ledger = match opened {
        Ok((ledger, deploys)) => {
            say(LedgerEvent::Opened {
                at: ledger.at().to_string(),
                deploys: crate::dora::History::from_deploys(deploys),
            });
            ledger
        }
        Err(error) => {
            tracing::warn!("ledger: {error}");
            say(LedgerEvent::Unavailable(error.to_string()));
            // Keep taking facts so that senders never block; they are not kept.
            while queue.recv().is_ok() {}
            return;
        }
    };
    let mut failing = false;
    while let Ok(mut batch) = queue.recv() {
        while batch.len() < BATCH {
            match queue.recv_timeout(Duration::from_millis(5)) {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        match ledger.record(&batch) {
            Ok(_) => failing = false,
            Err(error) => {
                tracing::warn!("ledger: {error}");
                if !failing {
                    say(LedgerEvent::WriteFailed(error.to_string()));
                }
                failing = true;
            }
        }
    }
}

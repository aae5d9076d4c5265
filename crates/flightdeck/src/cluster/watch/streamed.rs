//! Whether a streamed list is going well. A server that serves streamed lists ends the
//! initial objects with a bookmark marked `k8s.io/initial-events-end`; one that ignores
//! `sendInitialEvents` (an aggregated API, an old or home-made server), or a link that
//! cuts the stream, never sends it, and the watcher would start the list again and
//! again in silence. Like client-go's reflector, flightdeck gives up on streaming then
//! and lists in pages, where a fault is seen and said.

use std::time::Duration;

use kube::runtime::watcher::Event;

/// How long a streamed list may go without a word before it is given up: client-go's
/// reflector waits about as long for the end marker.
pub(super) const STALL: Duration = Duration::from_secs(10);

/// The initial part of one kind's streamed list.
#[derive(Debug, Default)]
pub(super) struct InitialStream {
    /// The watch started (`Init`) and its end marker (`InitDone`) has not come yet.
    pending: bool,
}

impl InitialStream {
    /// Follows the watcher's events; says why the streamed list failed, if it did.
    pub(super) fn on_event<T>(&mut self, event: &Event<T>) -> Option<&'static str> {
        match event {
            // A second start before the end marker: the stream ended without it.
            Event::Init if self.pending => {
                return Some("the streamed list ended before its end marker");
            }
            Event::Init => self.pending = true,
            Event::InitDone => self.pending = false,
            Event::InitApply(_) | Event::Apply(_) | Event::Delete(_) => {}
        }
        None
    }

    /// A 410 Gone: after the list, the watch's history is gone (list again); during a
    /// streamed list from resourceVersion 0 no server says it, so the link is at fault.
    pub(super) fn on_gone(&self) -> Option<&'static str> {
        self.pending
            .then_some("410 Gone in the middle of a streamed list")
    }

    /// How long to wait for the next event before giving up, while the list streams.
    pub(super) fn deadline(&self) -> Option<Duration> {
        self.pending.then_some(STALL)
    }

    /// Waiting on the stream timed out.
    pub(super) fn on_stall(&self) -> &'static str {
        "no end marker and no object for 10 s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str) -> Event<()> {
        match name {
            "init" => Event::Init,
            "apply" => Event::InitApply(()),
            "done" => Event::InitDone,
            "live" => Event::Apply(()),
            _ => unreachable!(),
        }
    }

    fn follow(events: &[&str]) -> (InitialStream, Vec<Option<&'static str>>) {
        let mut stream = InitialStream::default();
        let said = events.iter().map(|e| stream.on_event(&event(e))).collect();
        (stream, said)
    }

    #[test]
    fn a_list_that_ends_with_its_marker_is_fine_and_waits_no_longer() {
        let (stream, said) = follow(&["init", "apply", "apply", "done", "live", "init", "done"]);
        assert!(said.iter().all(Option::is_none), "{said:?}");
        assert_eq!(stream.deadline(), None);
        assert_eq!(
            stream.on_gone(),
            None,
            "a 410 after the list is the usual relist"
        );
    }

    #[test]
    fn a_list_that_starts_again_before_its_marker_failed() {
        let (_, said) = follow(&["init", "apply", "init"]);
        assert_eq!(
            said[2],
            Some("the streamed list ended before its end marker")
        );
    }

    #[test]
    fn while_the_list_streams_a_gone_is_a_fault_and_silence_has_a_limit() {
        let (stream, _) = follow(&["init", "apply"]);
        assert!(stream.on_gone().is_some());
        assert_eq!(stream.deadline(), Some(STALL));
    }
}

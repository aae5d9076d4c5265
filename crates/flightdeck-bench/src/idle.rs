//! Idle: what the cockpit writes to its terminal while nothing changes.

use std::time::Duration;

use super::pty::Cockpit;

/// Frames drawn and bytes written over `period`, and the screen rows that
/// differ at its end (to tell a clock's tick from a redraw for nothing).
pub struct Idle {
    pub frames: usize,
    /// Frames that changed nothing on screen.
    pub empty: usize,
    pub bytes: usize,
    pub changed: Vec<String>,
}

pub fn measure(cockpit: &mut Cockpit, period: Duration) -> Idle {
    // A frame drawn before the period but not yet read is not one of its frames: a
    // 1 Hz clock read 11 frames in 10 s.
    cockpit.drain();
    let (frames, empty, bytes) = (cockpit.frames, cockpit.empty_frames, cockpit.bytes);
    let before: Vec<String> = cockpit.screen().rows(0, u16::MAX).collect();
    cockpit.watch_for(period);
    let changed = cockpit
        .screen()
        .rows(0, u16::MAX)
        .zip(before)
        .filter(|(after, before)| after != before)
        .map(|(after, _)| after.trim_end().to_string())
        .collect();
    Idle {
        frames: cockpit.frames - frames,
        empty: cockpit.empty_frames - empty,
        bytes: cockpit.bytes - bytes,
        changed,
    }
}

//! Idle: what the cockpit writes to its terminal while nothing changes.

use std::time::Duration;

use super::pty::Cockpit;

/// Frames drawn and bytes written over `period`.
pub struct Idle {
    pub frames: usize,
    pub bytes: usize,
}

pub fn measure(cockpit: &mut Cockpit, period: Duration) -> Idle {
    let (frames, bytes) = (cockpit.frames, cockpit.bytes);
    cockpit.watch_for(period);
    Idle {
        frames: cockpit.frames - frames,
        bytes: cockpit.bytes - bytes,
    }
}

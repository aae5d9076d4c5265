//! The cockpit as users run it: the built binary in a real terminal (tmux).

mod broken_prometheus;
mod flagger;
mod terminal;

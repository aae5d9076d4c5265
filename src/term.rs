//! The terminal: enter and leave raw mode and the alternate screen, restore on every exit.

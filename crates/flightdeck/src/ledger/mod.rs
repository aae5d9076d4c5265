//! The ledger: every deploy flightdeck has seen, kept durably.

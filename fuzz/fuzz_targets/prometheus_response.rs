//! A Prometheus HTTP API answer: the status code, a newline, the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| flightdeck_fuzz::prometheus_response(data));

//! Raw Kubernetes objects as bytes: libFuzzer's own mutations of JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| flightdeck_fuzz::cluster_object(data));

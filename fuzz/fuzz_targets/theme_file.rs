//! A theme file (`themes/NAME.toml`) as text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| flightdeck_fuzz::theme_file(data));

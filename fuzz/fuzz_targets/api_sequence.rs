//! cargo-fuzz target `api_sequence`: see fuzz/src/targets.rs.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nbtls_fuzz::targets::api_sequence(data));

//! cargo-fuzz target `client_hello`: see fuzz/src/targets.rs.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nbtls_fuzz::targets::client_hello(data));

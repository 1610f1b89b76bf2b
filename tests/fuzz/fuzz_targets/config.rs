//! Fuzz target `config`: see `cattackle_harness::fuzzing::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cattackle_harness::fuzzing::config(data));

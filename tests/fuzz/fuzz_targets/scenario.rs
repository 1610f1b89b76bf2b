//! Fuzz target `scenario`: see `cattackle_harness::fuzzing::scenario`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cattackle_harness::fuzzing::scenario(data));

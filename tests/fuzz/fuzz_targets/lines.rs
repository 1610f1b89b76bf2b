//! Fuzz target `lines`: see `cattackle_harness::fuzzing::lines`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cattackle_harness::fuzzing::lines(data));

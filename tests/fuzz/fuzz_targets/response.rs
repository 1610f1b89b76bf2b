//! Fuzz target `response`: see `cattackle_harness::fuzzing::response`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cattackle_harness::fuzzing::response(data));

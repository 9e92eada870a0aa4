#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| simdedup_fuzz::checks::index(data));

#![no_main]

// libfuzzer-sys's panic hook aborts on every panic, even one the library catches: the
// Parquet reader turns panics of the parquet crate on corrupt metadata into errors, so the
// default hook comes back. A panic that escapes still aborts (fuzz_target! checks).
libfuzzer_sys::fuzz_target!(
    init: {
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| simdedup_fuzz::checks::records_parquet(data)
);

//! Coverage-guided fuzzing of the States Language checker: any text, no panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sfnlite::asl::check(text, sfnlite::asl::Flavor::default());
    }
});

//! Coverage-guided fuzzing of the ARN parser: any text, no panic, and every accepted ARN
//! prints back to a string that parses to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sfnlite::domain::arn::parse_state_machine_arn;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(parsed) = parse_state_machine_arn(text) {
            let machine = parsed.machine().to_string();
            assert_eq!(parse_state_machine_arn(&machine).unwrap().machine(), parsed.machine());
        }
    }
});

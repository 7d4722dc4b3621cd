//! Pure AWS domain types: ARNs, names, the caller's scope, pagination tokens, the records the
//! store hands out and the Amazon States Language checker. Knows nothing about HTTP or SQL
//! and does no I/O.

pub mod arn;
pub mod config;
pub mod names;
pub mod records;
pub mod scope;
pub mod token;

/// Milliseconds since the Unix epoch: the resolution sfnlite stores and answers with
/// (AWS JSON 1.0 timestamps are epoch seconds with up to three decimals).
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Whether JSON text nests objects and arrays deeper than `max` levels. A linear scan that
/// skips strings, run before any parser so hostile nesting never reaches a recursive one.
pub fn json_depth_exceeds(text: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings_only() {
        assert!(!json_depth_exceeds(br#"{"a":[{"b":"[[[[[[["}]}"#, 3));
        assert!(json_depth_exceeds(br#"{"a":[{"b":[1]}]}"#, 3));
        assert!(!json_depth_exceeds(br#"{"a":"\"[[[["}"#, 1));
    }
}

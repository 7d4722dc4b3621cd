//! Pure AWS domain types: ARNs, names, the caller's scope, pagination tokens and the
//! Amazon States Language checker. Knows nothing about HTTP or SQL; needs only std and serde.

pub mod arn;
pub mod asl;
pub mod config;
pub mod names;
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

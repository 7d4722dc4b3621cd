//! Stateless keyset pagination tokens (aws-behavior.md §13.3 item 15). A token names the
//! operation, the listing it belongs to (a scope or a machine) and the last key served, so
//! it survives restarts and deletions between pages; any other string is `InvalidToken`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

const VERSION: &str = "sfn1";

/// Encodes the position after `last_key` in the listing `(operation, owner)`. Keys are
/// numbers or names, neither of which holds a line break.
pub fn encode(operation: &str, owner: &str, last_key: &impl std::fmt::Display) -> String {
    URL_SAFE_NO_PAD.encode(format!("{VERSION}\n{operation}\n{owner}\n{last_key}"))
}

/// The last key served, if `token` was minted for exactly this listing.
pub fn decode<K: std::str::FromStr>(token: &str, operation: &str, owner: &str) -> Option<K> {
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split('\n');
    if parts.next()? != VERSION || parts.next()? != operation || parts.next()? != owner {
        return None;
    }
    let key = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_for_its_own_listing_only() {
        let t = encode("ListStateMachineVersions", "arn:m", &42);
        assert_eq!(decode(&t, "ListStateMachineVersions", "arn:m"), Some(42));
        assert_eq!(
            decode::<i64>(&t, "ListStateMachineVersions", "arn:other"),
            None
        );
        assert_eq!(decode::<i64>(&t, "ListStateMachineAliases", "arn:m"), None);
        assert_eq!(
            decode::<i64>("InvalidToken", "ListStateMachineVersions", "arn:m"),
            None
        );
        let named = encode("ListStateMachines", "scope", &"statemachine_10");
        assert_eq!(
            decode::<String>(&named, "ListStateMachines", "scope").as_deref(),
            Some("statemachine_10")
        );
    }
}

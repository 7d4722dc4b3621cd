//! Name rules: state machine names (documentation-only charset, enforced here) and alias
//! names (the model's `CharacterRestrictedName` pattern).

/// The alias-name pattern exactly as the service model spells it; it appears verbatim in
/// AWS's ValidationException text.
pub const ALIAS_NAME_PATTERN: &str = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$";

/// A state machine name that AWS accepts: no whitespace, none of
/// ``< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /``, no control characters, no surrogates or
/// U+FFFE/U+FFFF. Length is checked separately (it is a model constraint, reported as a
/// ValidationException rather than InvalidName).
pub fn is_valid_machine_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| {
            !c.is_whitespace()
                && !"<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
                && !matches!(c as u32, 0x00..=0x1f | 0x7f..=0x9f | 0xfffe | 0xffff)
        })
}

/// `^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$`: only letters, digits, `_`, `-`, `.`, with at least
/// one non-digit so an alias ARN can never look like a version ARN.
pub fn is_valid_alias_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && name.bytes().any(|b| !b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_names_reject_documented_characters() {
        assert!(is_valid_machine_name("Hello-World_1.x"));
        assert!(is_valid_machine_name("ünïcode"));
        for bad in ["a b", "a:b", "a/b", "a\u{7}", "a#", "a\u{85}", ""] {
            assert!(!is_valid_machine_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn alias_names_need_a_non_digit() {
        assert!(is_valid_alias_name("prod"));
        assert!(is_valid_alias_name("v1.2-beta_3"));
        assert!(is_valid_alias_name("1-"));
        for bad in ["123", "INVALID ALIAS", "!INVALID", "ALIAS@", ""] {
            assert!(!is_valid_alias_name(bad), "{bad:?}");
        }
    }
}

//! Login names: what is accepted, how it is shown, and which names are the same voter.
//!
//! A login is a name, with no password (as in the original demo): anyone who types a name is
//! that voter, so "one vote per user" means one vote per name. What this module prevents is a
//! name that *looks* like another: a name is NFKC-normalised (fullwidth `Ａｎｎ` is `Ann`),
//! refused if it holds control, format (bidi overrides, zero-width, BOM, soft hyphen), line or
//! paragraph separator or private-use characters, and two names that differ only by case or
//! compatibility form are the same voter ([`voter_key`]).

use unicode_normalization::UnicodeNormalization;

/// Longest name in characters (after normalisation).
pub const MAX_NAME_CHARS: usize = 64;

/// Why a name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// Empty (after trimming) or longer than [`MAX_NAME_CHARS`].
    Length,
    /// Holds an invisible or control character.
    Invisible,
}

/// The name as it is shown: NFKC, trimmed; or why it is refused.
pub fn normalise(input: &str) -> Result<String, NameError> {
    let name: String = input.nfkc().collect();
    let name = name.trim();
    if name.chars().any(is_invisible) {
        return Err(NameError::Invisible);
    }
    let n = name.chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        return Err(NameError::Length);
    }
    Ok(name.to_owned())
}

/// The voter a (normalised) name is: NFKC of its lower case (so `Ann`, `ANN` and `Ａｎｎ` are one).
pub fn voter_key(name: &str) -> String {
    name.nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect()
}

/// Control (Cc), format (Cf), line/paragraph separator (Zl, Zp) and private-use (Co) characters,
/// and the Hangul fillers (blank letters, also what NFKC makes of U+3164). Cf is listed from Unicode 15.1's
/// DerivedGeneralCategory (std has no general-category query).
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{115F}'..='\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
                | '\u{E000}'..='\u{F8FF}'
                | '\u{F0000}'..='\u{FFFFD}'
                | '\u{100000}'..='\u{10FFFD}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses() {
        assert_eq!(normalise("  \u{FF21}nn "), Ok("Ann".into()));
        assert_eq!(normalise("小明"), Ok("小明".into()));
        assert_eq!(normalise("e\u{0301}"), Ok("\u{00E9}".into()));
        assert_eq!(normalise(" "), Err(NameError::Length));
        assert_eq!(normalise(&"x".repeat(65)), Err(NameError::Length));
        for bad in [
            "a\u{202E}b",
            "a\u{200D}b",
            "\u{FEFF}a",
            "a\u{0000}b",
            "a\u{2029}b",
            "\u{F8FF}",
        ] {
            assert_eq!(normalise(bad), Err(NameError::Invisible), "{bad:?}");
        }
        // U+3164 HANGUL FILLER (Lo, renders blank) is refused too.
        assert_eq!(normalise("a\u{3164}"), Err(NameError::Invisible));
    }

    #[test]
    fn case_and_compatibility_variants_are_one_voter() {
        let k = voter_key("Ann");
        assert_eq!(voter_key("ANN"), k);
        assert_eq!(
            voter_key(&normalise("\u{FF21}\u{FF4E}\u{FF4E}").unwrap()),
            k
        );
        assert_ne!(voter_key("Anne"), k);
    }
}

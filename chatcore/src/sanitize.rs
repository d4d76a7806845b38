//! Text is data: normalizing user text on the way in.
//!
//! Every piece of user text passes through here before it is stored: control and bidi-override
//! characters are removed, the text is NFC-normalized and trimmed, and length limits (counted in
//! Unicode scalar values after cleaning) are enforced. Names (display names, room names) also
//! lose every character that renders as nothing, so two names that look the same are the same.
//! Nothing is HTML-escaped: escaping belongs to whoever renders the text.

use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};

mod emoji;

pub use emoji::{MAX_EMOJI_CHARS, emoji};

/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 4000;
/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 40;
/// Longest room name, in characters.
pub const MAX_ROOM_NAME_CHARS: usize = 80;

/// True for characters that never survive cleaning: C0/C1 controls (except `\n` and `\t`),
/// DEL, and the bidi embedding/override/isolate controls U+202A–U+202E and U+2066–U+2069.
fn is_stripped(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

/// True for characters that render as nothing (or as blank space that is not whitespace):
/// zero-width spaces and joiners, directional marks, the word joiner and invisible operators,
/// the byte-order mark, the soft hyphen, the Arabic letter mark, fillers and other
/// default-ignorable format characters. In a name they only serve to make two different names
/// look identical, so names never keep them (an emoji sequence joined with U+200D falls apart
/// into its parts, which is the price). Message bodies keep them: there they shape scripts and
/// emoji.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{61c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206a}'..='\u{206f}'
            | '\u{3164}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{1d173}'..='\u{1d17a}'
    )
}

/// Strips forbidden characters, normalizes to NFC and trims surrounding whitespace.
pub fn clean(text: &str) -> String {
    let normalized = untrimmed(text);
    match normalized.trim() {
        trimmed if trimmed.len() == normalized.len() => normalized,
        trimmed => trimmed.to_owned(),
    }
}

/// Strips forbidden characters and normalizes to NFC, keeping surrounding whitespace.
pub fn untrimmed(text: &str) -> String {
    let stripped: String = text.chars().filter(|&c| !is_stripped(c)).collect();
    if stripped.is_ascii() {
        // ASCII is already in NFC: skip the normalizer (most chat messages take this path).
        return stripped;
    }
    stripped.nfc().collect()
}

/// Cleans a message body: newlines and tabs allowed, 1–4,000 characters.
pub fn message_body(text: &str) -> Result<String> {
    bounded("body", clean(text), 1, MAX_BODY_CHARS)
}

/// Cleans a message body that may be empty because media is attached.
pub fn caption(text: &str) -> Result<String> {
    bounded("body", clean(text), 0, MAX_BODY_CHARS)
}

/// Cleans a draft for the assistant like a message body, but keeps surrounding whitespace, so
/// that offsets into the result match what the user typed: 1–4,000 characters, not blank.
pub fn draft(text: &str) -> Result<String> {
    let cleaned = untrimmed(text);
    if cleaned.trim().is_empty() {
        return Err(Error::invalid("draft", "draft must not be empty"));
    }
    bounded("draft", cleaned, 1, MAX_BODY_CHARS)
}

/// Cleans a display name: one line, 1–40 characters.
pub fn display_name(text: &str) -> Result<String> {
    one_line("display_name", text, MAX_DISPLAY_NAME_CHARS)
}

/// Cleans a room name: one line, 1–80 characters.
pub fn room_name(text: &str) -> Result<String> {
    one_line("name", text, MAX_ROOM_NAME_CHARS)
}

/// Checks and normalizes a username: 3–32 characters of `[a-z0-9_.-]`, compared
/// case-insensitively (returned lowercase).
pub fn username(text: &str) -> Result<String> {
    let lower = text.to_ascii_lowercase();
    let len = lower.chars().count();
    if !(3..=32).contains(&len) {
        return Err(Error::invalid(
            "username",
            "username must be 3–32 characters",
        ));
    }
    if !lower
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
    {
        return Err(Error::invalid(
            "username",
            "username may only contain letters, digits, '_', '.' and '-'",
        ));
    }
    Ok(lower)
}

/// Cleans a name someone could be mistaken by: [`clean`], then no invisible characters.
pub fn name(text: &str) -> String {
    let visible: String = text.chars().filter(|&c| !is_invisible(c)).collect();
    clean(&visible)
}

fn one_line(field: &'static str, text: &str, max: usize) -> Result<String> {
    // Newlines and tabs inside a name become spaces, then runs of whitespace collapse to one.
    let cleaned = name(text);
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    bounded(field, collapsed, 1, max)
}

fn bounded(field: &'static str, text: String, min: usize, max: usize) -> Result<String> {
    let len = text.chars().count();
    if len < min {
        return Err(Error::invalid(field, format!("{field} must not be empty")));
    }
    if len > max {
        return Err(Error::invalid(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controls_but_keeps_newline_and_tab() {
        assert_eq!(
            clean("a\u{0}b\u{7}c\u{1b}[31m\u{85}d\te\nf\u{7f}"),
            "abc[31md\te\nf"
        );
    }

    #[test]
    fn strips_bidi_overrides_and_isolates() {
        let evil =
            "\u{202a}a\u{202b}b\u{202c}c\u{202d}d\u{202e}e\u{2066}f\u{2067}g\u{2068}h\u{2069}";
        assert_eq!(clean(evil), "abcdefgh");
    }

    #[test]
    fn normalizes_to_nfc_and_trims() {
        // "e" + combining acute accent becomes the single precomposed character.
        assert_eq!(clean("  e\u{301}  \n"), "\u{e9}");
    }

    #[test]
    fn html_is_kept_as_plain_text() {
        let payload = "<img src=x onerror=alert(1)> & \"quotes\"";
        assert_eq!(message_body(payload).unwrap(), payload);
    }

    #[test]
    fn body_limits() {
        assert!(message_body(&"x".repeat(MAX_BODY_CHARS)).is_ok());
        // Limits count characters, not bytes: 4,000 emoji are fine.
        assert!(message_body(&"😀".repeat(MAX_BODY_CHARS)).is_ok());
        let err = message_body(&"x".repeat(MAX_BODY_CHARS + 1)).unwrap_err();
        assert_eq!(err.field(), Some("body"));
        assert!(
            message_body("   \n\t ").is_err(),
            "whitespace-only body is empty"
        );
        assert!(
            message_body("\u{202e}\u{0}").is_err(),
            "a body of stripped characters is empty"
        );
        assert_eq!(caption("").unwrap(), "");
    }

    #[test]
    fn drafts_keep_their_surrounding_whitespace() {
        assert_eq!(draft("  teh cat\n").unwrap(), "  teh cat\n");
        assert_eq!(draft("a\u{202e}b").unwrap(), "ab");
        assert_eq!(draft(" \n ").unwrap_err().field(), Some("draft"));
        assert!(draft(&"x".repeat(MAX_BODY_CHARS)).is_ok());
        assert!(draft(&"x".repeat(MAX_BODY_CHARS + 1)).is_err());
    }

    #[test]
    fn display_name_limits_and_single_line() {
        assert_eq!(display_name(" Ann\nLee\t ").unwrap(), "Ann Lee");
        assert!(display_name(&"n".repeat(40)).is_ok());
        assert_eq!(
            display_name(&"n".repeat(41)).unwrap_err().field(),
            Some("display_name")
        );
        assert!(display_name(" \u{202e} ").is_err());
    }

    #[test]
    fn names_lose_invisible_characters() {
        let spoof = "\u{200b}Al\u{200c}i\u{200d}c\u{200e}e\u{200f}\u{2060}\u{feff}\u{61c}\u{ad}";
        assert_eq!(display_name(spoof).unwrap(), "Alice");
        assert_eq!(room_name("Team\u{2063}s").unwrap(), "Teams");
        assert!(
            display_name("\u{3164}\u{200b}\u{115f}").is_err(),
            "a name of fillers is empty"
        );
        assert_eq!(name(" Bob\u{200b} "), "Bob");
        assert_eq!(name("\u{200b} Bob"), "Bob");
        assert_eq!(
            message_body("a\u{200d}b").unwrap(),
            "a\u{200d}b",
            "message bodies keep joiners"
        );
    }

    #[test]
    fn room_name_limits() {
        assert!(room_name(&"r".repeat(80)).is_ok());
        assert_eq!(
            room_name(&"r".repeat(81)).unwrap_err().field(),
            Some("name")
        );
        assert!(room_name("").is_err());
        assert_eq!(room_name("Team\r\nChat").unwrap(), "Team Chat");
    }

    #[test]
    fn usernames() {
        assert_eq!(username("Alice_1.x-y").unwrap(), "alice_1.x-y");
        for bad in [
            "ab",
            &"a".repeat(33),
            "al ice",
            "alice!",
            "ålice",
            "al'ice",
            "<b>",
        ] {
            assert!(username(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(username(&"a".repeat(32)).is_ok());
    }
}

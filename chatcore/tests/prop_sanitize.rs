//! Property tests of the text sanitizer (`chatcore::sanitize`): whatever a client sends, what is
//! stored is clean, within its limit, and cleaning it again changes nothing.
//!
//! A failing input is saved by proptest in `chatcore/tests/prop_sanitize.proptest-regressions`
//! and replayed first on every later run; commit that file with the fix.

#![allow(clippy::unwrap_used)]

use chatcore::sanitize::{self, MAX_BODY_CHARS, MAX_DISPLAY_NAME_CHARS, MAX_ROOM_NAME_CHARS};
use proptest::prelude::*;

/// Characters that must never be stored: controls other than newline and tab (C0, DEL, C1) and
/// the bidi embedding, override and isolate controls. Written out here, independently of the
/// sanitizer's own list, so a change there cannot quietly weaken the test.
fn forbidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Text a hostile client might send: mostly ordinary letters and spaces, salted with controls,
/// bidi controls, combining marks (which NFC rewrites), emoji and any other code point.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range('a', 'z'),
        2 => Just(' '),
        1 => prop::sample::select(vec!['\n', '\t', '\r', '\u{0}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}']),
        2 => prop::char::range('\u{202a}', '\u{202e}'),
        1 => prop::char::range('\u{2066}', '\u{2069}'),
        1 => prop::sample::select(vec!['\u{200e}', '\u{200f}', '\u{61c}', '\u{feff}', '\u{200b}']),
        2 => prop::char::range('\u{300}', '\u{36f}'),
        1 => prop::sample::select(vec!['e', 'A', '\u{3131}', '\u{1100}', '\u{1161}']),
        1 => prop::char::range('\u{1f600}', '\u{1f64f}'),
        2 => any::<char>(),
    ]
}

fn hostile_text(max_chars: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_char(), 0..max_chars).prop_map(|cs| cs.into_iter().collect())
}

/// Checks what every cleaner promises for one accepted output.
fn check_output(out: &str, max: usize) -> Result<(), TestCaseError> {
    prop_assert!(
        out.chars().count() <= max,
        "{} chars > {max}",
        out.chars().count()
    );
    prop_assert!(
        !out.chars().any(forbidden),
        "forbidden character left in {out:?}"
    );
    prop_assert_eq!(out.trim(), out, "surrounding whitespace left");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn clean_is_idempotent_and_leaves_nothing_forbidden(text in hostile_text(64)) {
        let once = sanitize::clean(&text);
        prop_assert!(!once.chars().any(forbidden), "forbidden character left in {once:?}");
        prop_assert_eq!(sanitize::clean(&once), once.clone(), "cleaning twice changed {:?}", text);
    }

    #[test]
    fn message_bodies_are_clean_bounded_and_stable(text in hostile_text(64), pad in 0usize..4) {
        // Some inputs sit right at the limit, so "never longer than the limit" is exercised.
        let text = if pad == 0 { format!("{}{text}", "x".repeat(MAX_BODY_CHARS - 8)) } else { text };
        if let Ok(body) = sanitize::message_body(&text) {
            check_output(&body, MAX_BODY_CHARS)?;
            prop_assert!(!body.is_empty());
            prop_assert_eq!(sanitize::message_body(&body).unwrap(), body);
        }
        if let Ok(caption) = sanitize::caption(&text) {
            check_output(&caption, MAX_BODY_CHARS)?;
            prop_assert_eq!(sanitize::caption(&caption).unwrap(), caption);
        }
    }

    #[test]
    fn names_are_one_clean_line_within_their_limits(text in hostile_text(96)) {
        type Cleaner = fn(&str) -> chatcore::Result<String>;
        let cleaners: [(Cleaner, usize); 2] = [
            (sanitize::display_name, MAX_DISPLAY_NAME_CHARS),
            (sanitize::room_name, MAX_ROOM_NAME_CHARS),
        ];
        for (cleaner, max) in cleaners {
            if let Ok(name) = cleaner(&text) {
                check_output(&name, max)?;
                prop_assert!(!name.is_empty());
                prop_assert!(!name.contains(['\n', '\t']), "{name:?} is not one line");
                prop_assert!(!name.contains("  "), "{name:?} has a run of spaces");
                prop_assert_eq!(cleaner(&name).unwrap(), name);
            }
        }
    }

    #[test]
    fn usernames_are_lowercase_ascii_and_stable(text in hostile_text(40)) {
        if let Ok(name) = sanitize::username(&text) {
            prop_assert!((3..=32).contains(&name.len()));
            prop_assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b)));
            prop_assert_eq!(sanitize::username(&name).unwrap(), name);
        }
    }
}

/// The bidi override that flips a file name ("invoice\u{202e}fdp.exe") is the classic attack;
/// one fixed case keeps it in every run whatever the generator draws.
#[test]
fn the_right_to_left_override_never_survives() {
    let body = sanitize::message_body("invoice\u{202e}fdp.exe").unwrap();
    assert_eq!(body, "invoicefdp.exe");
    assert!(sanitize::display_name("\u{202e}evil").unwrap() == "evil");
}

//! What counts as a reaction emoji: a short sequence of emoji characters and the characters that
//! join or modify them, nothing else, so a reaction can never carry words, markup or invisible
//! text.

use crate::error::{Error, Result};

/// Most Unicode scalar values in one reaction (a family or a kiss with skin tones is ≤ 10).
pub const MAX_EMOJI_CHARS: usize = 16;

/// Checks a reaction emoji and returns it unchanged: 1–16 characters, each one an emoji
/// (pictographs, symbols with an emoji presentation, regional-indicator flags) or a part of an
/// emoji sequence (zero-width joiner, variation selectors, skin tones, keycap, tag characters;
/// `0-9 # *` only in a keycap sequence), with at least one emoji among them. Surrounding whitespace
/// is refused, not trimmed: the same emoji is always the same text.
pub fn emoji(text: &str) -> Result<String> {
    let chars = text.chars().count();
    let keycap = text.contains('\u{20e3}');
    let has_emoji = text.chars().any(is_pictograph) || (keycap && text.chars().any(is_keycap_base));
    let ok = (1..=MAX_EMOJI_CHARS).contains(&chars)
        && has_emoji
        && text
            .chars()
            .all(|c| is_pictograph(c) || is_joiner(c) || (keycap && is_keycap_base(c)));
    if ok {
        Ok(text.to_owned())
    } else {
        Err(Error::invalid(
            "emoji",
            format!("emoji must be one emoji (at most {MAX_EMOJI_CHARS} characters)"),
        ))
    }
}

/// Characters that are emoji on their own.
fn is_pictograph(c: char) -> bool {
    matches!(
        c,
        '\u{a9}'
            | '\u{ae}'
            | '\u{203c}'
            | '\u{2049}'
            | '\u{2122}'
            | '\u{2139}'
            | '\u{2194}'..='\u{2199}'
            | '\u{21a9}'..='\u{21aa}'
            | '\u{231a}'..='\u{231b}'
            | '\u{2328}'
            | '\u{23cf}'
            | '\u{23e9}'..='\u{23f3}'
            | '\u{23f8}'..='\u{23fa}'
            | '\u{24c2}'
            | '\u{25aa}'..='\u{25ab}'
            | '\u{25b6}'
            | '\u{25c0}'
            | '\u{25fb}'..='\u{25fe}'
            | '\u{2600}'..='\u{27bf}'
            | '\u{2934}'..='\u{2935}'
            | '\u{2b05}'..='\u{2b07}'
            | '\u{2b1b}'..='\u{2b1c}'
            | '\u{2b50}'
            | '\u{2b55}'
            | '\u{3030}'
            | '\u{303d}'
            | '\u{3297}'
            | '\u{3299}'
            | '\u{1f000}'..='\u{1faff}'
    )
}

/// Characters that only join or modify emoji: ZWJ, variation selectors 15/16, the keycap and
/// the tag characters of subdivision flags (skin tones and regional indicators are in the
/// pictograph range).
fn is_joiner(c: char) -> bool {
    matches!(
        c,
        '\u{200d}' | '\u{fe0e}' | '\u{fe0f}' | '\u{20e3}' | '\u{e0020}'..='\u{e007f}'
    )
}

fn is_keycap_base(c: char) -> bool {
    c.is_ascii_digit() || c == '#' || c == '*'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_and_sequences_are_accepted_unchanged() {
        for ok in [
            "👍",
            "❤️",
            "❤",
            "👍🏽",
            "👨‍👩‍👧‍👦",
            "🧑🏻‍❤️‍💋‍🧑🏼",
            "🇮🇱",
            "🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}",
            "1️⃣",
            "©️",
            "🫠",
        ] {
            assert_eq!(emoji(ok).unwrap(), ok, "{ok:?}");
        }
    }

    #[test]
    fn words_markup_whitespace_and_lone_modifiers_are_refused() {
        for bad in [
            "",
            "a",
            "ok",
            "<b>",
            " 👍",
            "👍 ",
            "👍\n",
            "\u{200d}",
            "\u{fe0f}",
            "\u{20e3}",
            "1",
            "#",
            "👍a",
            "\u{202e}👍",
            "\u{200b}👍",
            &"👍".repeat(MAX_EMOJI_CHARS + 1),
        ] {
            let err = emoji(bad).unwrap_err();
            assert_eq!(
                (err.code(), err.field()),
                ("invalid", Some("emoji")),
                "{bad:?}"
            );
        }
    }
}

//! Full-text search over messages: what a hit is and how its matched parts are found.
//!
//! The text searched for is data, never a query language: `%`, `_`, quotes, `*`, `NEAR`,
//! `AND` and `-` are the characters and words they are. A message matches when its body
//! contains the text, compared case-insensitively (each character folded to its first
//! lowercase character, the same rule [`matches()`] marks hits with).

use serde::{Deserialize, Serialize};

use crate::model::{Message, MessageId};

/// Fewest characters a search text has: shorter texts would match nearly everything, and the
/// SQLite index (trigrams) cannot look them up.
pub const MIN_TEXT_CHARS: usize = 3;
/// Most characters a search text has.
pub const MAX_TEXT_CHARS: usize = 200;
/// Most hits one page holds.
pub const MAX_PAGE: u32 = 50;

/// One part of a message body that matched the search text: UTF-8 byte offsets into
/// [`Message::body`], on character boundaries (`&body[start..end]` is the matched text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextRange {
    /// The first byte of the match.
    pub start: usize,
    /// The byte after the match.
    pub end: usize,
}

/// A message that matched, with where it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    /// The message, as history shows it.
    pub message: Message,
    /// Every non-overlapping occurrence of the search text in the body, in order. Empty only
    /// if the database folds case differently from [`matches()`] for some character.
    pub matches: Vec<TextRange>,
}

/// One page of search results, newest message first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchPage {
    /// The hits, newest first.
    pub hits: Vec<SearchHit>,
    /// Pass it as `before` to get the next (older) page; `None` when this page is the last.
    pub next_before: Option<MessageId>,
}

/// Every non-overlapping occurrence of `text` in `body`, compared case-insensitively, as byte
/// ranges of `body`. An empty `text` matches nothing.
pub fn matches(body: &str, text: &str) -> Vec<TextRange> {
    let needle: Vec<char> = text.chars().map(fold).collect();
    if needle.is_empty() {
        return Vec::new();
    }
    let hay: Vec<(usize, char)> = body.char_indices().map(|(i, c)| (i, fold(c))).collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let window = &hay[i..i + needle.len()];
        if window.iter().map(|&(_, c)| c).eq(needle.iter().copied()) {
            let end = hay.get(i + needle.len()).map_or(body.len(), |&(at, _)| at);
            found.push(TextRange {
                start: hay[i].0,
                end,
            });
            i += needle.len();
        } else {
            i += 1;
        }
    }
    found
}

/// Whether `body` contains `text`, compared as [`matches()`] does.
pub fn contains(body: &str, text: &str) -> bool {
    !matches(body, text).is_empty()
}

/// A character's case-folded form for comparison: its first lowercase character (so every
/// character stays one character, and offsets stay the original's).
fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(body: &'a str, text: &str) -> Vec<&'a str> {
        matches(body, text)
            .into_iter()
            .map(|r| &body[r.start..r.end])
            .collect()
    }

    #[test]
    fn finds_every_occurrence_ignoring_case() {
        assert_eq!(
            parts("Hello hello HELLO", "hello"),
            ["Hello", "hello", "HELLO"]
        );
        assert_eq!(parts("aaaa", "aa"), ["aa", "aa"]);
        assert!(matches("hello", "world").is_empty());
        assert!(matches("hello", "").is_empty());
    }

    #[test]
    fn offsets_are_bytes_of_the_original_text() {
        assert_eq!(parts("Été à Paris, ÉTÉ", "été"), ["Été", "ÉTÉ"]);
        assert_eq!(parts("👍 50% 👍", "50%"), ["50%"]);
        assert_eq!(parts("İstanbul", "istan"), ["İstan"]);
    }

    #[test]
    fn operators_are_plain_characters() {
        assert_eq!(parts(r#"say "hi" NEAR a*b -x"#, r#""hi""#), [r#""hi""#]);
        assert_eq!(parts("a_b a%b", "a_b"), ["a_b"]);
        assert!(matches("axb", "a_b").is_empty());
        assert!(matches("ab", "a*b").is_empty());
    }
}

//! Is a draft English? The checker only knows English: a draft in another language gets no
//! suggestions rather than "corrections" of every word.

use harper_core::spell::{Dictionary, FstDictionary};
use harper_core::{Document, TokenKind};

/// Share of a draft's words that must be known English words (or chat words) for the draft to
/// be checked. Typos lower the share, so this stays well below 1; French or German text scores
/// far under it (the English dictionary knows a few of their words: "pipe", "Tag").
const MIN_KNOWN_SHARE: f64 = 0.6;

/// Words of informal chat that are fine as they are, though a dictionary flags them.
pub const CHAT_WORDS: &[&str] = &[
    "afaik", "asap", "brb", "btw", "dm", "dms", "emoji", "emojis", "fyi", "gonna", "gotta", "haha",
    "hahaha", "hehe", "hmm", "idk", "ikr", "imho", "imo", "irl", "lmao", "lol", "np", "ok", "omg",
    "pls", "plz", "ppl", "tbh", "thx", "tmrw", "ty", "u", "ugh", "ur", "wanna", "ya", "yay", "yep",
    "xd",
];

/// Whether `word` is a chat word (case-insensitive).
pub fn is_chat_word(word: &str) -> bool {
    CHAT_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// Whether enough of the document's words (outside `skip`, which says which char offsets to
/// ignore) are English for suggestions to make sense.
pub fn is_english(doc: &Document, dict: &FstDictionary, skip: impl Fn(usize) -> bool) -> bool {
    let source = doc.get_source();
    let (mut words, mut known) = (0usize, 0usize);
    for token in doc.get_tokens() {
        if !matches!(token.kind, TokenKind::Word(_)) || skip(token.span.start) {
            continue;
        }
        words += 1;
        let chars = token.get_ch(source);
        let text: String = chars.iter().collect();
        if dict.contains_word(chars) || is_chat_word(&text) {
            known += 1;
        }
    }
    words > 0 && known as f64 >= MIN_KNOWN_SHARE * words as f64
}

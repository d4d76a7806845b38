//! The parts of a draft a checker must leave alone: code in backticks, URLs, e-mail
//! addresses, @mentions, identifiers and paths, and emoji.

use std::ops::Range;

/// Byte ranges of `draft` that no suggestion may touch, sorted, possibly overlapping.
pub fn protected_ranges(draft: &str) -> Vec<Range<usize>> {
    let mut ranges = code_spans(draft);
    ranges.extend(machine_words(draft));
    ranges.extend(emoji(draft));
    ranges.sort_by_key(|r| (r.start, r.end));
    ranges
}

/// Whether `range` overlaps any of `protected`.
pub fn touches(range: &Range<usize>, protected: &[Range<usize>]) -> bool {
    protected.iter().any(|p| {
        // An insertion (empty range) touching the edge of protected text is refused too.
        range.start < p.end && p.start < range.end.max(range.start + 1)
    })
}

/// `code`, ``code with ` inside``, and ``` fenced blocks ```: a run of backticks up to the
/// next run of the same length. An unclosed run protects the rest of the draft (code being
/// typed).
fn code_spans(draft: &str) -> Vec<Range<usize>> {
    let bytes = draft.as_bytes();
    let run_at = |i: usize| bytes[i..].iter().take_while(|&&b| b == b'`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open = run_at(i);
        let mut j = i + open;
        let close = loop {
            match bytes[j..].iter().position(|&b| b == b'`') {
                None => break None,
                Some(k) => {
                    let run = run_at(j + k);
                    if run == open {
                        break Some(j + k + run);
                    }
                    j += k + run;
                }
            }
        };
        let end = close.unwrap_or(bytes.len());
        spans.push(i..end);
        i = end;
    }
    spans
}

/// Whitespace-separated words that are for machines, not prose: URLs (`scheme://…`,
/// `www.…`), e-mail addresses and @mentions (anything with `@`), identifiers and paths
/// (anything with `_`, `/` or `\`).
fn machine_words(draft: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    words(draft)
        .filter(|(_, word)| {
            word.contains("://") || word.starts_with("www.") || word.contains(['@', '_', '/', '\\'])
        })
        .map(|(range, _)| range)
}

fn words(draft: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    draft.split_whitespace().map(move |word| {
        let start = word.as_ptr() as usize - draft.as_ptr() as usize;
        (start..start + word.len(), word)
    })
}

/// Each emoji character (with its joiners and variation selectors).
fn emoji(draft: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    draft
        .char_indices()
        .filter(|&(_, c)| is_emoji(c))
        .map(|(at, c)| at..at + c.len_utf8())
}

fn is_emoji(c: char) -> bool {
    matches!(c,
        '\u{1F000}'..='\u{1FAFF}'   // pictographs, emoticons, transport, flags, …
        | '\u{2190}'..='\u{21FF}'   // arrows
        | '\u{2300}'..='\u{23FF}'   // technical (⌚, ⏰)
        | '\u{2600}'..='\u{27BF}'   // symbols and dingbats (☀, ✨, ✅)
        | '\u{2B00}'..='\u{2BFF}'   // arrows and stars (⭐)
        | '\u{200D}' | '\u{FE0F}'   // zero-width joiner, emoji presentation
        | '\u{E0020}'..='\u{E007F}' // tag characters of subdivision flags
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protected(draft: &str) -> Vec<&str> {
        protected_ranges(draft)
            .into_iter()
            .map(|r| &draft[r])
            .collect()
    }

    #[test]
    fn finds_code_urls_mentions_paths_and_emoji() {
        assert_eq!(
            protected(
                "see `teh x` at https://ex.com/teh and www.teh.org, ask @bob_s or me@x.io 😀!"
            ),
            vec![
                "`teh x`",
                "https://ex.com/teh",
                "www.teh.org,",
                "@bob_s",
                "me@x.io",
                "😀"
            ]
        );
        assert_eq!(protected("a ``x ` y`` b"), vec!["``x ` y``"]);
        assert_eq!(
            protected("```\nfn teh()\n``` ok"),
            vec!["```\nfn teh()\n```"]
        );
        assert_eq!(protected("open `teh"), vec!["`teh"]);
        assert_eq!(
            protected("src/teh.rs and snake_case"),
            vec!["src/teh.rs", "snake_case"]
        );
    }

    #[test]
    fn touching_includes_edges_of_insertions() {
        let p = [4..8, 20..22];
        assert!(touches(&(5..6), &p));
        assert!(touches(&(4..4), &p));
        assert!(!touches(&(8..8), &p));
        assert!(!touches(&(0..4), &p));
    }
}

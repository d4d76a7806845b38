//! One check of one draft: harper's lints, filtered for chat and mapped to byte-range edits.

use std::ops::Range;
use std::sync::Arc;

use chatcore::assistant::{Edit, Suggestion, SuggestionKind};
use harper_core::linting::{Lint, LintGroup, LintKind, Linter, Suggestion as Fix};
use harper_core::spell::FstDictionary;
use harper_core::{Dialect, Document};

use super::english::{is_chat_word, is_english};
use super::protect::{protected_ranges, touches};

/// Most alternatives offered for one problem.
const MAX_ALTERNATIVES: usize = 3;

/// A harper lint group with its dictionary. Building one takes a while (hundreds of rules),
/// checking is fast; `check` needs `&mut self` because the rules cache between runs.
pub struct Checker {
    dict: Arc<FstDictionary>,
    linter: LintGroup,
}

/// A problem found, before it becomes suggestions.
struct Problem {
    kind: SuggestionKind,
    range: Range<usize>,
    label: String,
    fixes: Vec<Edit>,
    priority: u8,
}

impl Checker {
    /// A checker for American English with harper's curated rules and dictionary.
    pub fn new() -> Self {
        let dict = FstDictionary::curated();
        let linter = LintGroup::new_curated(dict.clone(), Dialect::American);
        Checker { dict, linter }
    }

    /// Spelling and grammar suggestions for `draft`, ordered by position, one per alternative
    /// fix (problems never overlap). None for a draft that is not English.
    pub fn check(&mut self, draft: &str) -> Vec<Suggestion> {
        let protected = protected_ranges(draft);
        // Harper counts in chars; the API speaks bytes.
        let offsets: Vec<usize> = draft
            .char_indices()
            .map(|(at, _)| at)
            .chain(std::iter::once(draft.len()))
            .collect();
        let doc = Document::new_plain_english(draft, &*self.dict);
        let skip = |c: usize| touches(&(offsets[c]..offsets[c] + 1), &protected);
        if !is_english(&doc, &self.dict, skip) {
            return Vec::new();
        }
        let problems = self
            .linter
            .lint(&doc)
            .into_iter()
            .filter_map(|lint| problem(lint, &offsets, draft))
            .filter(|p| !touches(&p.range, &protected));
        without_overlaps(problems.collect())
            .into_iter()
            .flat_map(|p| {
                p.fixes
                    .into_iter()
                    .map(move |edit| Suggestion::edits(p.kind, p.label.clone(), vec![edit]))
            })
            .collect()
    }
}

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

/// The lint as a problem worth showing in a chat, or `None` (a style opinion, a chat word, a
/// lint with no fix).
fn problem(lint: Lint, offsets: &[usize], draft: &str) -> Option<Problem> {
    let kind = chat_kind(lint.lint_kind)?;
    let range = *offsets.get(lint.span.start)?..*offsets.get(lint.span.end)?;
    let text = draft.get(range.clone())?;
    if is_chat_word(text) {
        return None;
    }
    let mut fixes: Vec<Edit> = Vec::new();
    for fix in &lint.suggestions {
        let edit = edit_for(fix, range.clone(), draft);
        let changes = draft.get(edit.start..edit.end) != Some(edit.replacement.as_str());
        // Harper sometimes offers a word twice, once with a trailing space.
        let seen = fixes
            .iter()
            .any(|f| f.replacement.trim() == edit.replacement.trim());
        if changes && !seen {
            fixes.push(edit);
        }
        if fixes.len() == MAX_ALTERNATIVES {
            break;
        }
    }
    (!fixes.is_empty()).then(|| Problem {
        kind,
        range,
        label: readable(&lint.message),
        fixes,
        priority: lint.priority,
    })
}

fn edit_for(fix: &Fix, range: Range<usize>, draft: &str) -> Edit {
    let (start, end, replacement) = match fix {
        Fix::ReplaceWith(chars) => (range.start, range.end, chars.iter().collect()),
        Fix::InsertAfter(chars) => (range.end, range.end, chars.iter().collect()),
        // Removing words also removes the spaces before them ("is is" → "is").
        Fix::Remove => (
            draft[..range.start].trim_end_matches(' ').len(),
            range.end,
            String::new(),
        ),
    };
    Edit {
        start,
        end,
        replacement,
    }
}

/// Which lints a chat user wants, and as what. Style opinions ("okay" over "ok", wordiness,
/// regional spellings) are left out: a chat message is not an essay.
fn chat_kind(kind: LintKind) -> Option<SuggestionKind> {
    use LintKind as K;
    match kind {
        K::Spelling | K::Typo => Some(SuggestionKind::Spelling),
        K::Agreement
        | K::BoundaryError
        | K::Capitalization
        | K::Eggcorn
        | K::Grammar
        | K::Malapropism
        | K::Miscellaneous
        | K::Punctuation
        | K::Repetition
        | K::Usage
        | K::WordChoice
        | K::WordOrder => Some(SuggestionKind::Grammar),
        _ => None,
    }
}

/// The most important problem wins where several overlap; problems on the same words merge
/// their alternatives. Sorted by position.
fn without_overlaps(mut problems: Vec<Problem>) -> Vec<Problem> {
    problems.sort_by_key(|p| (p.priority, p.range.start, std::cmp::Reverse(p.range.end)));
    let mut kept: Vec<Problem> = Vec::new();
    for p in problems {
        if let Some(same) = kept.iter_mut().find(|k| k.range == p.range) {
            for fix in p.fixes {
                let seen = same
                    .fixes
                    .iter()
                    .any(|f| f.replacement.trim() == fix.replacement.trim());
                if same.fixes.len() < MAX_ALTERNATIVES && !seen {
                    same.fixes.push(fix);
                }
            }
        } else if !kept
            .iter()
            .any(|k| k.range.start < p.range.end && p.range.start < k.range.end)
        {
            kept.push(p);
        }
    }
    kept.sort_by_key(|p| p.range.start);
    kept
}

/// Harper's messages quote words in Markdown backticks; people read curly quotes.
fn readable(message: &str) -> String {
    let mut open = true;
    message
        .chars()
        .map(|c| match c {
            '`' => {
                open = !open;
                if open { '”' } else { '“' }
            }
            c => c,
        })
        .collect()
}

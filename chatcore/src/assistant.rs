//! Draft assistance: the [`Assistant`] seam and the values that cross it.
//!
//! An assistant looks at a draft the user has not sent yet and proposes changes: spelling and
//! grammar fixes as byte-range [`Edit`]s (so a client can underline them), or a whole rewritten
//! text (rephrase, shorter, more polite, translate). It only proposes: the user decides what is
//! sent, through the ordinary send path.
//!
//! [`Chat::assist`](crate::Chat::assist) applies the rules around it (membership, the opt-in room
//! context, the rate limit, sanitizing); implementations only answer. `chatcore-assistant`
//! provides an offline spelling and grammar checker and an adapter for OpenAI-compatible LLM
//! endpoints; embedders may plug in their own.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What a suggestion helps with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    /// A misspelled word.
    Spelling,
    /// A grammar, capitalization or punctuation slip.
    Grammar,
    /// The same message, phrased differently.
    Rephrase,
    /// The same message, shorter.
    Shorter,
    /// The same message, more polite.
    MorePolite,
    /// The message in another language (see [`AssistRequest::translate_to`]).
    Translate,
}

impl SuggestionKind {
    /// Every kind, in the order clients list them.
    pub const ALL: [SuggestionKind; 6] = [
        SuggestionKind::Spelling,
        SuggestionKind::Grammar,
        SuggestionKind::Rephrase,
        SuggestionKind::Shorter,
        SuggestionKind::MorePolite,
        SuggestionKind::Translate,
    ];

    /// The wire name, e.g. `"more_polite"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionKind::Spelling => "spelling",
            SuggestionKind::Grammar => "grammar",
            SuggestionKind::Rephrase => "rephrase",
            SuggestionKind::Shorter => "shorter",
            SuggestionKind::MorePolite => "more_polite",
            SuggestionKind::Translate => "translate",
        }
    }

    /// True for the kinds answered with [`Edit`]s to the draft (spelling, grammar); the others
    /// are answered with a whole rewritten text.
    pub fn is_check(self) -> bool {
        matches!(self, SuggestionKind::Spelling | SuggestionKind::Grammar)
    }
}

/// Replace the bytes `start..end` of the draft with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// First byte replaced (UTF-8 offset into the draft, on a character boundary).
    pub start: usize,
    /// One past the last byte replaced (`start == end` inserts).
    pub end: usize,
    /// The text put in their place.
    pub replacement: String,
}

/// What accepting a suggestion does to the draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// These edits, applied together; sorted by `start`, never overlapping.
    Edits(Vec<Edit>),
    /// The whole draft replaced by this text.
    Text(String),
}

/// One proposed change to a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// What it helps with.
    pub kind: SuggestionKind,
    /// A short human explanation, e.g. "Did you mean “there”?".
    pub label: String,
    /// The change itself; serialized as an `edits` or a `text` field beside `kind` and `label`.
    #[serde(flatten)]
    pub change: Change,
}

impl Suggestion {
    /// A suggestion made of edits to the draft.
    pub fn edits(kind: SuggestionKind, label: impl Into<String>, edits: Vec<Edit>) -> Self {
        Suggestion {
            kind,
            label: label.into(),
            change: Change::Edits(edits),
        }
    }

    /// A suggestion that replaces the whole draft.
    pub fn text(kind: SuggestionKind, label: impl Into<String>, text: impl Into<String>) -> Self {
        Suggestion {
            kind,
            label: label.into(),
            change: Change::Text(text.into()),
        }
    }
}

/// One message of the room, sent along with a draft only when the user asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextMessage {
    /// The sender's display name.
    pub sender: String,
    /// Whether the drafting user sent it.
    pub mine: bool,
    /// The message text.
    pub body: String,
}

/// What an assistant is asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssistRequest {
    /// The draft, sanitized (no control or bidi-override characters, NFC), 1–4,000 characters.
    pub draft: String,
    /// The kinds wanted, each one the assistant offers; sorted, no duplicates.
    pub kinds: Vec<SuggestionKind>,
    /// The target language (one of [`Offer::translate_to`]) when `kinds` has `Translate`.
    pub translate_to: Option<String>,
    /// The last messages of the room the user can see, oldest first; empty unless the user
    /// asked for context.
    pub context: Vec<ContextMessage>,
}

/// What an assistant can do, as shown to clients (`GET /api/v1/assist`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Offer {
    /// The kinds it answers; empty means no assistant.
    pub kinds: Vec<SuggestionKind>,
    /// Languages checked for spelling and grammar (e.g. `["en"]`); drafts in other languages
    /// get no such suggestions.
    pub languages: Vec<String>,
    /// Language codes it can translate into (empty without `Translate`).
    pub translate_to: Vec<String>,
    /// Whether suggestions come from a language model (drafts leave this server).
    pub llm: bool,
}

/// Why an assistant could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssistantError {
    /// The engine is down, slow or answered nonsense; the request may be retried later. The
    /// reason is logged and shown, so it must never contain the draft or the context.
    #[error("assistant unavailable: {0}")]
    Unavailable(String),
}

/// Suggests changes to drafts. Implementations must not store, log or forward the draft
/// anywhere but to the engine that answers (and, for remote engines, say so in [`Offer::llm`]).
#[async_trait]
pub trait Assistant: Send + Sync + 'static {
    /// What this assistant can do; asked once per client visit, so keep it cheap.
    fn offer(&self) -> Offer;

    /// Suggestions for one draft, for the kinds in `request.kinds`. No suggestion is a fine
    /// answer (a correct draft, a language it does not know).
    async fn suggest(&self, request: &AssistRequest) -> Result<Vec<Suggestion>, AssistantError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_serialize_as_edits_or_text() {
        let fix = Suggestion::edits(
            SuggestionKind::Spelling,
            "Did you mean “the”?",
            vec![Edit {
                start: 0,
                end: 3,
                replacement: "the".into(),
            }],
        );
        assert_eq!(
            serde_json::to_value(&fix).unwrap_or_default(),
            serde_json::json!({"kind": "spelling", "label": "Did you mean “the”?",
                "edits": [{"start": 0, "end": 3, "replacement": "the"}]})
        );
        let polite = Suggestion::text(SuggestionKind::MorePolite, "More polite", "Please do.");
        assert_eq!(
            serde_json::to_value(&polite).unwrap_or_default(),
            serde_json::json!({"kind": "more_polite", "label": "More polite", "text": "Please do."})
        );
    }
}

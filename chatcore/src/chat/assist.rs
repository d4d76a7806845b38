//! Draft assistance: the rules around the pluggable [`Assistant`].
//!
//! The draft is only read: it is never stored, published or logged, and the answer is checked
//! before the user sees it (edits inside the draft, texts sanitized and within the message
//! limit), so a misbehaving engine cannot hand a client anything a message could not hold.

use serde::Serialize;

use super::{Actor, Chat};
use crate::assistant::{
    AssistRequest, AssistantError, Change, ContextMessage, Edit, Offer, Suggestion, SuggestionKind,
};
use crate::error::{Error, Result};
use crate::model::RoomId;
use crate::sanitize::{self, MAX_BODY_CHARS};

/// Most room messages sent along as context when the user asks for it.
pub const ASSIST_CONTEXT_MESSAGES: u32 = 10;

/// Most suggestions one answer carries.
const MAX_SUGGESTIONS: usize = 50;

/// Longest suggestion label, in characters.
const MAX_LABEL_CHARS: usize = 200;

/// A draft the user wants help with.
#[derive(Debug, Clone, Default)]
pub struct AssistDraft {
    /// The text in the composer (not sent, not stored).
    pub draft: String,
    /// The kinds wanted; `None` means every offered kind but `Translate`.
    pub kinds: Option<Vec<SuggestionKind>>,
    /// Target language for `Translate`, one of [`Offer::translate_to`].
    pub translate_to: Option<String>,
    /// The room the draft is for; the actor must be a member.
    pub room_id: Option<RoomId>,
    /// Send the room's last messages along (needs `room_id`). Off unless the user ticks it.
    pub include_context: bool,
}

/// The assistant's answer, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assistance {
    /// The draft as checked (sanitized; surrounding whitespace kept): edit offsets point into
    /// this text, so a client whose composer no longer holds it drops the suggestions.
    pub draft: String,
    /// The suggestions, possibly none.
    pub suggestions: Vec<Suggestion>,
}

impl Chat {
    /// What the configured assistant offers; empty (no kinds) when there is none.
    pub fn assist_offer(&self) -> Offer {
        self.inner
            .assistant
            .as_ref()
            .map(|a| a.offer())
            .unwrap_or_default()
    }

    /// Suggestions for the actor's draft.
    ///
    /// Checks, in order: the draft (1–4,000 characters after sanitizing), the kinds (each one
    /// offered), the target language, membership of `room_id` if given (not a member:
    /// `NotFound("room")`), then takes one unit of the actor's assist budget
    /// ([`ChatConfig::assist_per_minute`](super::ChatConfig::assist_per_minute)). Only then are
    /// the room's last [`ASSIST_CONTEXT_MESSAGES`] messages read, and only if asked for.
    /// An engine that fails gives `AssistantUnavailable`.
    pub async fn assist(&self, actor: &Actor, req: AssistDraft) -> Result<Assistance> {
        let offer = self.assist_offer();
        let Some(assistant) = self
            .inner
            .assistant
            .as_ref()
            .filter(|_| !offer.kinds.is_empty())
        else {
            return Err(Error::invalid("kinds", "this server offers no assistant"));
        };
        let draft = sanitize::draft(&req.draft)?;
        let kinds = requested_kinds(&offer, req.kinds)?;
        let translate_to = target_language(&offer, &kinds, req.translate_to)?;
        if req.include_context && req.room_id.is_none() {
            return Err(Error::invalid("include_context", "context needs a room_id"));
        }
        if let Some(room) = req.room_id {
            self.membership(actor, room).await?;
        }
        // Kept whatever the engine answers: asking costs the engine's time either way.
        let _attempt = self
            .inner
            .assist_budget
            .acquire(actor.id(), self.now())
            .await
            .map_err(|retry_after| Error::RateLimited { retry_after })?;
        let context = match req.room_id {
            Some(room) if req.include_context => self.assist_context(actor, room).await?,
            _ => Vec::new(),
        };
        let request = AssistRequest {
            draft,
            kinds,
            translate_to,
            context,
        };
        let suggestions = assistant
            .suggest(&request)
            .await
            .map_err(|AssistantError::Unavailable(reason)| Error::AssistantUnavailable(reason))?;
        Ok(Assistance {
            suggestions: checked(suggestions, &request),
            draft: request.draft,
        })
    }

    /// The room's last messages the actor can see, oldest first, without deleted ones.
    async fn assist_context(&self, actor: &Actor, room: RoomId) -> Result<Vec<ContextMessage>> {
        let page = self
            .history(actor, room, None, ASSIST_CONTEXT_MESSAGES)
            .await?;
        Ok(page
            .messages
            .into_iter()
            .filter(|m| !m.deleted && !m.body.is_empty())
            .map(|m| ContextMessage {
                mine: m.sender.id == actor.id(),
                sender: m.sender.display_name,
                body: m.body,
            })
            .collect())
    }
}

/// The kinds asked for, sorted and deduplicated; each must be offered.
fn requested_kinds(
    offer: &Offer,
    asked: Option<Vec<SuggestionKind>>,
) -> Result<Vec<SuggestionKind>> {
    let mut kinds = match asked {
        Some(kinds) => kinds,
        None => offer
            .kinds
            .iter()
            .copied()
            .filter(|&k| k != SuggestionKind::Translate)
            .collect(),
    };
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        return Err(Error::invalid("kinds", "ask for at least one kind"));
    }
    if let Some(missing) = kinds.iter().find(|k| !offer.kinds.contains(k)) {
        return Err(Error::invalid(
            "kinds",
            format!("this server does not offer {}", missing.as_str()),
        ));
    }
    Ok(kinds)
}

/// The target language: required with `Translate`, refused without it, one of the offered.
fn target_language(
    offer: &Offer,
    kinds: &[SuggestionKind],
    asked: Option<String>,
) -> Result<Option<String>> {
    let translating = kinds.contains(&SuggestionKind::Translate);
    match asked {
        None if translating => Err(Error::invalid(
            "translate_to",
            "say which language to translate to",
        )),
        None => Ok(None),
        Some(_) if !translating => Err(Error::invalid(
            "translate_to",
            "translate_to needs the translate kind",
        )),
        Some(lang) if offer.translate_to.contains(&lang) => Ok(Some(lang)),
        Some(_) => Err(Error::invalid(
            "translate_to",
            "this server does not translate to that language",
        )),
    }
}

/// The engine's suggestions that are safe to show: of a requested kind, with edits inside the
/// draft on character boundaries, texts sanitized, non-empty, different from the draft and
/// within the message limit; duplicates dropped; at most [`MAX_SUGGESTIONS`].
fn checked(suggestions: Vec<Suggestion>, request: &AssistRequest) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = Vec::new();
    for s in suggestions {
        if out.len() == MAX_SUGGESTIONS {
            break;
        }
        if !request.kinds.contains(&s.kind) {
            continue;
        }
        let change = match s.change {
            Change::Edits(edits) => checked_edits(edits, &request.draft).map(Change::Edits),
            Change::Text(text) => checked_text(&text, &request.draft).map(Change::Text),
        };
        let Some(change) = change else { continue };
        let label: String = sanitize::clean(&s.label)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(MAX_LABEL_CHARS)
            .collect();
        let suggestion = Suggestion {
            kind: s.kind,
            label,
            change,
        };
        if !out.contains(&suggestion) {
            out.push(suggestion);
        }
    }
    out
}

fn checked_edits(mut edits: Vec<Edit>, draft: &str) -> Option<Vec<Edit>> {
    edits.sort_by_key(|e| (e.start, e.end));
    let mut previous_end = 0;
    for edit in &mut edits {
        let inside = edit.start >= previous_end
            && edit.start <= edit.end
            && draft.is_char_boundary(edit.start)
            && draft.is_char_boundary(edit.end);
        if !inside {
            return None;
        }
        previous_end = edit.end;
        edit.replacement = sanitize::untrimmed(&edit.replacement);
    }
    let changes = edits
        .iter()
        .any(|e| draft.get(e.start..e.end) != Some(e.replacement.as_str()));
    (!edits.is_empty() && changes).then_some(edits)
}

fn checked_text(text: &str, draft: &str) -> Option<String> {
    let text = sanitize::clean(text);
    let fits = !text.is_empty() && text.chars().count() <= MAX_BODY_CHARS;
    (fits && text != draft.trim()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(draft: &str) -> AssistRequest {
        AssistRequest {
            draft: draft.into(),
            kinds: vec![SuggestionKind::Spelling, SuggestionKind::Rephrase],
            ..Default::default()
        }
    }

    fn edit(start: usize, end: usize, replacement: &str) -> Edit {
        Edit {
            start,
            end,
            replacement: replacement.into(),
        }
    }

    #[test]
    fn edits_outside_the_draft_or_inside_a_character_are_dropped() {
        let draft = "héllo teh";
        let s = |edits| Suggestion::edits(SuggestionKind::Spelling, "fix", edits);
        let kept = checked(
            vec![
                s(vec![edit(7, 10, "the")]),
                s(vec![edit(7, 11, "the")]),
                s(vec![edit(2, 3, "e")]),
                s(vec![edit(0, 2, "x"), edit(1, 3, "y")]),
                s(vec![edit(7, 10, "teh")]),
                s(vec![]),
            ],
            &request(draft),
        );
        assert_eq!(kept, vec![s(vec![edit(7, 10, "the")])]);
    }

    #[test]
    fn texts_are_sanitized_and_must_change_something() {
        let r = request("hi there");
        let t = |text: &str| Suggestion::text(SuggestionKind::Rephrase, "Rephrased", text);
        let kept = checked(
            vec![
                t("  Hello\u{202e} there\u{0} "),
                t("hi there"),
                t("   "),
                t(&"x".repeat(MAX_BODY_CHARS + 1)),
                Suggestion::text(SuggestionKind::Shorter, "not asked for", "hi"),
                t("Hello there"),
            ],
            &r,
        );
        assert_eq!(kept, vec![t("Hello there")]);
    }

    #[test]
    fn labels_are_one_short_line() {
        let r = request("hi there");
        let long = format!("line\none\u{7}{}", "x".repeat(500));
        let kept = checked(
            vec![Suggestion::text(SuggestionKind::Rephrase, long, "Hello")],
            &r,
        );
        assert_eq!(kept[0].label.chars().count(), MAX_LABEL_CHARS);
        assert!(kept[0].label.starts_with("line onex"));
    }
}

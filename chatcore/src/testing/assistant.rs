//! [`FakeAssistant`]: a predictable [`Assistant`] for tests of code around the seam.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::assistant::{
    AssistRequest, Assistant, AssistantError, Edit, Offer, Suggestion, SuggestionKind,
};

/// Offers every kind and answers by rule, so tests can predict each suggestion:
///
/// - spelling: each word `teh` → `the`, labelled "Did you mean “the”?";
/// - grammar: nothing;
/// - rephrase, shorter, more polite: `"<kind>: <draft>"` (e.g. `"shorter: hi"`);
/// - translate: `"[<language>] <draft>"`.
///
/// It records every request it gets (to check what context was sent) and can be switched to
/// fail like an engine that is down.
#[derive(Debug, Default)]
pub struct FakeAssistant {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<AssistRequest>,
    unavailable: bool,
}

impl FakeAssistant {
    /// A working fake assistant.
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on, every request fails with [`AssistantError::Unavailable`] (or works again).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.lock().unavailable = unavailable;
    }

    /// Every request answered or refused so far, oldest first.
    pub fn requests(&self) -> Vec<AssistRequest> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Assistant for FakeAssistant {
    fn offer(&self) -> Offer {
        Offer {
            kinds: SuggestionKind::ALL.to_vec(),
            languages: vec!["en".into()],
            translate_to: vec!["fr".into(), "he".into()],
            llm: false,
        }
    }

    async fn suggest(&self, request: &AssistRequest) -> Result<Vec<Suggestion>, AssistantError> {
        let unavailable = {
            let mut state = self.lock();
            state.requests.push(request.clone());
            state.unavailable
        };
        if unavailable {
            return Err(AssistantError::Unavailable(
                "the fake is switched off".into(),
            ));
        }
        let draft = &request.draft;
        Ok(request
            .kinds
            .iter()
            .flat_map(|&kind| match kind {
                SuggestionKind::Spelling => teh_fixes(draft),
                SuggestionKind::Grammar => Vec::new(),
                SuggestionKind::Translate => {
                    let lang = request.translate_to.as_deref().unwrap_or("?");
                    vec![Suggestion::text(
                        kind,
                        "Translated",
                        format!("[{lang}] {draft}"),
                    )]
                }
                _ => vec![Suggestion::text(
                    kind,
                    kind.as_str(),
                    format!("{}: {draft}", kind.as_str()),
                )],
            })
            .collect())
    }
}

fn teh_fixes(draft: &str) -> Vec<Suggestion> {
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    draft
        .match_indices("teh")
        .filter(|&(at, _)| {
            !is_word(draft[..at].chars().next_back()) && !is_word(draft[at + 3..].chars().next())
        })
        .map(|(at, _)| {
            let edit = Edit {
                start: at,
                end: at + 3,
                replacement: "the".into(),
            };
            Suggestion::edits(SuggestionKind::Spelling, "Did you mean “the”?", vec![edit])
        })
        .collect()
}

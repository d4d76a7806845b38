//! The offline assistant: English spelling and grammar with harper, on this machine, no network
//! and no model download (the dictionary is compiled in).
//!
//! Why harper-core: it is the one maintained Rust checker that ships its own dictionary *and*
//! grammar rules (Apache-2.0, actively released by Automattic). The alternatives were weaker
//! for this job: `nlprule` (LanguageTool rules) is unmaintained since 2021 and downloads its
//! rule binaries at build time; `spellbook`/`zspell` (Hunspell) and `symspell` only spell-check
//! and need dictionary files shipped beside the binary; LanguageTool itself is a Java server.
//! Most of the slips people make in chat (their/there, a/an, "could of", agreement, doubled
//! words, missing capitals) are grammar, which only harper covers offline.
//!
//! Its price, paid knowingly: harper-core 3 has 208 crates in its tree, burn (a deep-learning
//! framework, run on the CPU for its phrase chunker) among them, which makes a cold build of
//! this crate several minutes longer; `deny.toml` lists the licence and advisory exceptions it
//! needs. In use it is cheap: a 500-character draft takes a few milliseconds
//! (docs/performance.md). Harper misses a few slips a human would catch ("Your going",
//! "Thanks for you're help"); it never guesses in other languages.

mod check;
mod english;
mod protect;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chatcore::assistant::{
    AssistRequest, Assistant, AssistantError, Offer, Suggestion, SuggestionKind,
};
use tokio::sync::Semaphore;

pub use check::Checker;
pub use english::CHAT_WORDS;

/// Spelling and grammar suggestions for English drafts, computed locally.
///
/// Deterministic (the same draft gets the same suggestions), leaves code in backticks, URLs,
/// e-mail addresses, @mentions, identifiers, paths and emoji alone, ignores chat words such
/// as "lol", and answers nothing for drafts that are not English.
///
/// Checks run on the blocking thread pool, at most `max_concurrent` at once, each on its own
/// [`Checker`] (created on first need, then reused; each holds harper's rule set).
#[derive(Clone)]
pub struct OfflineAssistant {
    inner: Arc<Inner>,
}

struct Inner {
    idle: Mutex<Vec<Checker>>,
    permits: Semaphore,
}

impl OfflineAssistant {
    /// An assistant running at most `max_concurrent` checks at once (at least one).
    pub fn new(max_concurrent: usize) -> Self {
        OfflineAssistant {
            inner: Arc::new(Inner {
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(max_concurrent.max(1)),
            }),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Checker>> {
        self.inner.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for OfflineAssistant {
    /// One check at a time per CPU.
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }
}

impl std::fmt::Debug for OfflineAssistant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineAssistant").finish_non_exhaustive()
    }
}

#[async_trait]
impl Assistant for OfflineAssistant {
    fn offer(&self) -> Offer {
        Offer {
            kinds: vec![SuggestionKind::Spelling, SuggestionKind::Grammar],
            languages: vec!["en".into()],
            translate_to: Vec::new(),
            llm: false,
        }
    }

    async fn suggest(&self, request: &AssistRequest) -> Result<Vec<Suggestion>, AssistantError> {
        if !request.kinds.iter().any(|k| k.is_check()) {
            return Ok(Vec::new());
        }
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| AssistantError::Unavailable("the checker is shutting down".into()))?;
        let mut checker = self.idle().pop().unwrap_or_default();
        let draft = request.draft.clone();
        let (checker, found) = tokio::task::spawn_blocking(move || {
            let found = checker.check(&draft);
            (checker, found)
        })
        .await
        .map_err(|_| AssistantError::Unavailable("the checker failed".into()))?;
        self.idle().push(checker);
        Ok(found
            .into_iter()
            .filter(|s| request.kinds.contains(&s.kind))
            .collect())
    }
}

//! [`Combined`]: several engines behind one [`Assistant`].

use std::sync::Arc;

use async_trait::async_trait;
use chatcore::assistant::{AssistRequest, Assistant, AssistantError, Offer, Suggestion};

/// Asks each engine for the kinds it offers (the first engine offering a kind answers it),
/// all at once, and returns their suggestions together. If any engine asked fails, the whole
/// request fails: a client asks for checks and rewrites separately when it wants them apart.
pub struct Combined {
    engines: Vec<Arc<dyn Assistant>>,
}

impl Combined {
    /// The engines, in order of preference.
    pub fn new(engines: Vec<Arc<dyn Assistant>>) -> Self {
        Combined { engines }
    }
}

impl std::fmt::Debug for Combined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Combined")
            .field("offer", &self.offer())
            .finish()
    }
}

#[async_trait]
impl Assistant for Combined {
    fn offer(&self) -> Offer {
        let mut offer = Offer::default();
        for engine in &self.engines {
            let theirs = engine.offer();
            offer.kinds.extend(theirs.kinds);
            offer.languages.extend(theirs.languages);
            offer.translate_to.extend(theirs.translate_to);
            offer.llm |= theirs.llm;
        }
        for list in [&mut offer.languages, &mut offer.translate_to] {
            list.sort();
            list.dedup();
        }
        offer.kinds.sort();
        offer.kinds.dedup();
        offer
    }

    async fn suggest(&self, request: &AssistRequest) -> Result<Vec<Suggestion>, AssistantError> {
        let mut left = request.kinds.clone();
        let mut asks = Vec::new();
        for engine in &self.engines {
            let offered = engine.offer().kinds;
            let (mine, rest): (Vec<_>, Vec<_>) =
                left.into_iter().partition(|k| offered.contains(k));
            left = rest;
            if !mine.is_empty() {
                let sub = AssistRequest {
                    kinds: mine,
                    ..request.clone()
                };
                asks.push(async move { engine.suggest(&sub).await });
            }
        }
        let answers = futures::future::try_join_all(asks).await?;
        Ok(answers.into_iter().flatten().collect())
    }
}

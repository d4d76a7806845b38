//! `Combined` sends each kind to the engine that offers it and merges what they offer.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chatcore::assistant::{AssistRequest, Assistant, Change, SuggestionKind};
use chatcore::testing::FakeAssistant;
use chatcore_assistant::{Combined, OfflineAssistant};

#[tokio::test]
async fn checks_go_offline_and_rewrites_to_the_other_engine() {
    let rewriter = Arc::new(FakeAssistant::new());
    let both = Combined::new(vec![Arc::new(OfflineAssistant::new(1)), rewriter.clone()]);
    let offer = both.offer();
    assert_eq!(offer.kinds, SuggestionKind::ALL.to_vec());
    assert_eq!(offer.languages, vec!["en"]);

    let request = AssistRequest {
        draft: "I recieve mail.".into(),
        kinds: vec![SuggestionKind::Spelling, SuggestionKind::Shorter],
        ..Default::default()
    };
    let suggestions = both.suggest(&request).await.unwrap();
    let Change::Edits(edits) = &suggestions[0].change else {
        panic!("{suggestions:?}")
    };
    assert_eq!(
        edits[0].replacement, "receive",
        "the offline checker answered spelling"
    );
    assert_eq!(
        suggestions.last().unwrap().change,
        Change::Text("shorter: I recieve mail.".into())
    );
    assert_eq!(
        rewriter.requests()[0].kinds,
        vec![SuggestionKind::Shorter],
        "the fake got only the rewrite"
    );
}

//! The rules around the draft assistant, with the fake assistant of the test kit: membership,
//! opt-in context, the per-user budget, validation, and that a draft is never stored or sent.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use chatcore::assistant::{Change, ContextMessage};
use chatcore::testing::FakeAssistant;
use chatcore::{
    Actor, AssistDraft, Chat, ChatConfig, EventKind, ManualClock, MemoryMediaStore, MemoryStore,
    RoomId, SendMessage, SuggestionKind, Timestamp,
};

const PASSWORD: &str = "correct horse battery";

struct World {
    chat: Chat,
    fake: Arc<FakeAssistant>,
    clock: Arc<ManualClock>,
}

fn world(assist_per_minute: usize) -> World {
    let fake = Arc::new(FakeAssistant::new());
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let mut config = ChatConfig::default();
    config.assist_per_minute = assist_per_minute;
    let chat = Chat::builder(
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryMediaStore::new()),
    )
    .config(config)
    .clock(clock.clone())
    .assistant(fake.clone())
    .start(&tokio::runtime::Handle::current())
    .unwrap();
    World { chat, fake, clock }
}

impl World {
    async fn user(&self, name: &str) -> Actor {
        self.chat.register(name, PASSWORD, None).await.unwrap().0
    }

    async fn room(&self, admin: &Actor, member: &Actor) -> RoomId {
        self.chat
            .create_group(admin, "Team", &[member.id()])
            .await
            .unwrap()
            .id
    }

    async fn say(&self, actor: &Actor, room: RoomId, body: &str) {
        let msg = SendMessage {
            room_id: room,
            body: body.into(),
            ..Default::default()
        };
        self.chat.send(actor, msg).await.unwrap();
    }
}

fn draft(text: &str) -> AssistDraft {
    AssistDraft {
        draft: text.into(),
        ..Default::default()
    }
}

fn code<T: std::fmt::Debug>(r: chatcore::Result<T>) -> &'static str {
    r.unwrap_err().code()
}

#[tokio::test]
async fn suggestions_come_back_and_the_draft_is_neither_stored_nor_published() {
    let w = world(60);
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.room(&alice, &bob).await;
    let (mut bobs_feed, _) = w.chat.connect(&bob).await.unwrap();
    let asked = AssistDraft {
        room_id: Some(room),
        ..draft("  see teh plan ")
    };
    let answer = w.chat.assist(&alice, asked).await.unwrap();
    assert_eq!(
        answer.draft, "  see teh plan ",
        "offsets point into the draft as typed"
    );
    let fix = &answer.suggestions[0];
    assert_eq!(fix.kind, SuggestionKind::Spelling);
    let Change::Edits(edits) = &fix.change else {
        panic!("a spelling fix is an edit: {fix:?}")
    };
    assert_eq!(&answer.draft[edits[0].start..edits[0].end], "teh");
    let kinds: Vec<_> = answer.suggestions.iter().map(|s| s.kind).collect();
    assert!(
        !kinds.contains(&SuggestionKind::Translate),
        "translate only when asked: {kinds:?}"
    );

    w.say(&alice, room, "the real message").await;
    loop {
        let event = bobs_feed.recv().await.unwrap();
        assert!(
            !format!("{event:?}").contains("teh plan"),
            "the draft was published: {event:?}"
        );
        if let EventKind::Message(first) = event.kind() {
            assert_eq!(first.body, "the real message");
            break;
        }
    }
    let history = w.chat.history(&alice, room, None, 100).await.unwrap();
    assert_eq!(history.messages.len(), 1, "the draft was never stored");
}

#[tokio::test]
async fn room_context_is_sent_only_when_asked_and_only_to_members() {
    let w = world(60);
    let (alice, bob, eve) = (
        w.user("alice").await,
        w.user("bob").await,
        w.user("eve").await,
    );
    let room = w.room(&alice, &bob).await;
    w.say(&bob, room, "lunch at noon?").await;
    w.say(&alice, room, "sure").await;

    let without = AssistDraft {
        room_id: Some(room),
        ..draft("see you")
    };
    w.chat.assist(&alice, without.clone()).await.unwrap();
    let with = AssistDraft {
        include_context: true,
        ..without
    };
    w.chat.assist(&alice, with.clone()).await.unwrap();
    let requests = w.fake.requests();
    assert!(requests[0].context.is_empty(), "no context unless ticked");
    assert_eq!(
        requests[1].context,
        vec![
            ContextMessage {
                sender: "bob".into(),
                mine: false,
                body: "lunch at noon?".into()
            },
            ContextMessage {
                sender: "alice".into(),
                mine: true,
                body: "sure".into()
            },
        ]
    );

    assert_eq!(code(w.chat.assist(&eve, with).await), "not_found");
    let no_room = AssistDraft {
        include_context: true,
        ..draft("hi")
    };
    assert_eq!(code(w.chat.assist(&alice, no_room).await), "invalid");
    assert_eq!(
        w.fake.requests().len(),
        2,
        "refused requests reach no engine"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_has_a_budget_that_concurrent_requests_share() {
    let w = world(3);
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let tries: Vec<_> = (0..10)
        .map(|_| {
            let (chat, alice) = (w.chat.clone(), alice.clone());
            tokio::spawn(async move { chat.assist(&alice, draft("hello")).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tries {
        results.push(task.await.unwrap());
    }
    let passed = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(passed, 3, "ten at once, three allowed");
    let refused = results.into_iter().find(|r| r.is_err()).unwrap();
    assert_eq!(code(refused), "rate_limited");
    assert!(
        w.chat.assist(&bob, draft("hello")).await.is_ok(),
        "budgets are per user"
    );

    w.clock.advance(Duration::from_secs(61));
    assert!(w.chat.assist(&alice, draft("hello")).await.is_ok());
}

#[tokio::test]
async fn bad_requests_are_refused_before_any_work() {
    let w = world(60);
    let alice = w.user("alice").await;
    let too_long = draft(&"x".repeat(4001));
    assert_eq!(code(w.chat.assist(&alice, too_long).await), "invalid");
    assert_eq!(code(w.chat.assist(&alice, draft(" \n ")).await), "invalid");
    let none = AssistDraft {
        kinds: Some(vec![]),
        ..draft("hi")
    };
    assert_eq!(code(w.chat.assist(&alice, none).await), "invalid");
    let translate = |lang: Option<&str>| AssistDraft {
        kinds: Some(vec![SuggestionKind::Translate]),
        translate_to: lang.map(str::to_owned),
        ..draft("hi")
    };
    assert_eq!(
        code(w.chat.assist(&alice, translate(None)).await),
        "invalid"
    );
    assert_eq!(
        code(w.chat.assist(&alice, translate(Some("tlh"))).await),
        "invalid"
    );
    assert!(w.fake.requests().is_empty());

    let answer = w.chat.assist(&alice, translate(Some("fr"))).await.unwrap();
    assert_eq!(answer.suggestions[0].change, Change::Text("[fr] hi".into()));
}

#[tokio::test]
async fn an_engine_that_is_down_gives_assistant_unavailable() {
    let w = world(60);
    let alice = w.user("alice").await;
    w.fake.set_unavailable(true);
    assert_eq!(
        code(w.chat.assist(&alice, draft("hello")).await),
        "assistant_unavailable"
    );
}

#[tokio::test]
async fn a_chat_without_an_assistant_offers_nothing() {
    let chat = Chat::in_memory();
    let (alice, _) = chat.register("alice", PASSWORD, None).await.unwrap();
    assert!(chat.assist_offer().kinds.is_empty());
    assert_eq!(code(chat.assist(&alice, draft("hello")).await), "invalid");
}

//! The host's policy hooks: what they see, what they can refuse or change, and what they never
//! get to see.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use chatcore::policy::{Draft, Policy, Verdict};
use chatcore::{
    Actor, Chat, ChatConfig, EventKind, MemoryMediaStore, MemoryStore, RoomId, SendMessage, User,
};

/// Rejects "spam", rewrites "darn" to "d**n", hides users named "hidden", lets nobody open a
/// direct chat with "private"; and records every draft it was shown.
#[derive(Default)]
struct House {
    seen: Mutex<Vec<(String, Option<i64>)>>,
}

#[chatcore::async_trait]
impl Policy for House {
    async fn before_send(&self, draft: &Draft<'_>) -> Verdict {
        self.seen
            .lock()
            .unwrap()
            .push((draft.body.to_owned(), draft.editing));
        if draft.body.contains("spam") {
            Verdict::Reject("links to shops are not allowed here".into())
        } else if draft.body.contains("darn") {
            Verdict::Rewrite(draft.body.replace("darn", "d**n\u{202e}"))
        } else if draft.body == "erase me" {
            Verdict::Rewrite("   ".into())
        } else {
            Verdict::Allow
        }
    }

    async fn can_open_direct(&self, _actor: &User, other: &User) -> bool {
        other.display_name != "private"
    }

    async fn visible_users(&self, _actor: &User, found: Vec<User>) -> Vec<User> {
        found
            .into_iter()
            .filter(|u| u.display_name != "hidden")
            .collect()
    }
}

struct Fixture {
    chat: Chat,
    policy: Arc<House>,
}

fn fixture() -> Fixture {
    let policy = Arc::new(House::default());
    let mut config = ChatConfig::default();
    config.guests_can_create_groups = true;
    let chat = Chat::builder(
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryMediaStore::new()),
    )
    .config(config)
    .policy(policy.clone())
    .start(&tokio::runtime::Handle::current())
    .unwrap();
    Fixture { chat, policy }
}

impl Fixture {
    async fn guest(&self, name: &str) -> Actor {
        self.chat.guest(Some(name)).await.unwrap().0
    }

    async fn send(&self, actor: &Actor, room: RoomId, body: &str) -> chatcore::Result<String> {
        let message = SendMessage {
            room_id: room,
            body: body.into(),
            ..Default::default()
        };
        Ok(self.chat.send(actor, message).await?.body)
    }

    fn seen(&self) -> Vec<(String, Option<i64>)> {
        self.policy.seen.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn a_rejected_message_is_refused_with_the_reason_and_nothing_is_stored_or_delivered() {
    let f = fixture();
    let (alice, bob) = (f.guest("alice").await, f.guest("bob").await);
    let room = f.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let (mut bobs_feed, _) = f.chat.connect(&bob).await.unwrap();

    let err = f.send(&alice, room, "cheap spam here").await.unwrap_err();
    assert_eq!(err.code(), "rejected");
    assert_eq!(err.to_string(), "links to shops are not allowed here");
    assert_eq!(f.send(&alice, room, "hello").await.unwrap(), "hello");

    let history = f.chat.history(&bob, room, None, 10).await.unwrap().messages;
    let bodies: Vec<&str> = history.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["hello"], "the rejected message left no trace");
    assert_eq!(history[0].seq, 1, "and used no seq");
    loop {
        let event = bobs_feed.try_recv().expect("hello was delivered");
        if let EventKind::Message(m) = event.kind() {
            assert_eq!(m.body, "hello");
            break;
        }
    }
}

#[tokio::test]
async fn a_rewrite_is_stored_and_cleaned_like_any_text() {
    let f = fixture();
    let (alice, bob) = (f.guest("alice").await, f.guest("bob").await);
    let room = f.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    // The rewrite's right-to-left override is stripped like a user's would be.
    assert_eq!(f.send(&alice, room, "darn it").await.unwrap(), "d**n it");
    // A rewrite to nothing is refused like an empty message, and nothing is stored.
    let err = f.send(&alice, room, "erase me").await.unwrap_err();
    assert_eq!((err.code(), err.field()), ("invalid", Some("body")));
    let stored = f.chat.history(&bob, room, None, 10).await.unwrap().messages;
    assert_eq!(stored.len(), 1);
}

#[tokio::test]
async fn edits_pass_the_same_policy() {
    let f = fixture();
    let (alice, bob) = (f.guest("alice").await, f.guest("bob").await);
    let room = f.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    f.send(&alice, room, "hello").await.unwrap();
    let err = f.chat.edit(&alice, room, 1, "now spam").await.unwrap_err();
    assert_eq!(err.code(), "rejected");
    let edited = f.chat.edit(&alice, room, 1, "darn").await.unwrap();
    assert_eq!(edited.body, "d**n");
    assert_eq!(
        f.seen(),
        [
            ("hello".to_owned(), None),
            ("now spam".to_owned(), Some(1)),
            ("darn".to_owned(), Some(1)),
        ]
    );
    let stored = f.chat.history(&bob, room, None, 10).await.unwrap().messages;
    assert_eq!(stored[0].body, "d**n");
}

#[tokio::test]
async fn the_policy_never_sees_what_chatcore_refuses_first() {
    let f = fixture();
    let (alice, bob, mallory) = (
        f.guest("alice").await,
        f.guest("bob").await,
        f.guest("mallory").await,
    );
    let room = f.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    // Not a member: not_found, and the policy is not asked (it would learn of the room).
    let err = f.send(&mallory, room, "let me in").await.unwrap_err();
    assert_eq!(err.code(), "not_found");
    // Invalid text is refused before the policy too.
    assert_eq!(
        f.send(&alice, room, "").await.unwrap_err().code(),
        "invalid"
    );
    assert!(f.seen().is_empty(), "{:?}", f.seen());
}

#[tokio::test]
async fn direct_chats_and_search_follow_the_policy() {
    let f = fixture();
    let alice = f.guest("alice").await;
    let private = f.guest("private").await;
    let err = f.chat.open_direct(&alice, private.id()).await.unwrap_err();
    assert_eq!(err.code(), "not_found");
    assert!(f.chat.rooms(&alice).await.unwrap().is_empty());
    // The other way round is the policy's call too, and it allows it; then the room exists
    // and both sides reach it.
    let room = f.chat.open_direct(&private, alice.id()).await.unwrap().id;
    assert_eq!(
        f.chat.open_direct(&alice, private.id()).await.unwrap().id,
        room
    );

    let reg = |name: &'static str| {
        let chat = f.chat.clone();
        async move {
            chat.register(name, "correct horse battery", Some(name))
                .await
                .unwrap()
        }
    };
    reg("hidden").await;
    reg("hilda").await;
    let found = f.chat.search_users(&alice, "hi", 10).await.unwrap();
    let names: Vec<&str> = found.iter().map(|u| u.display_name.as_str()).collect();
    assert_eq!(names, ["hilda"]);
}

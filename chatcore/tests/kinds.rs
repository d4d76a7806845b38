//! Custom message kinds through `Chat`: refused unless the host registered them, checked
//! before anything is stored, delivered live, kept in history and on the commit feed, shown to
//! the host's policy, kept by edits and dropped by deletes.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatcore::commits::Cursor;
use chatcore::kinds::MAX_PAYLOAD_BYTES;
use chatcore::policy::{Draft, Policy, Verdict};
use chatcore::testing::World;
use chatcore::{Actor, Custom, EventKind, Message, RoomId, SendMessage};
use serde_json::{Value, json};

/// A poll needs a question and two to ten options.
fn check_poll(payload: &Value) -> Result<(), String> {
    let options = payload["options"].as_array().map_or(0, Vec::len);
    if payload["question"].is_string() && (2..=10).contains(&options) {
        Ok(())
    } else {
        Err("a poll needs a question and 2–10 options".into())
    }
}

fn poll_world() -> World {
    World::builder().message_kind("poll", check_poll).start()
}

fn poll(room: RoomId, client_id: &str, payload: Value) -> SendMessage {
    SendMessage {
        room_id: room,
        client_id: Some(client_id.into()),
        kind: Some("poll".into()),
        payload: Some(payload),
        ..Default::default()
    }
}

fn lunch() -> Value {
    json!({"question": "Lunch <b>now</b>?", "options": ["yes", "no"]})
}

async fn stored(w: &World, room: RoomId) -> Vec<Message> {
    use chatcore::Store as _;
    w.store.messages_after(room, 0, 100).await.unwrap()
}

async fn setup(w: &World) -> (Actor, Actor, RoomId) {
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    let room = w.group(&alice, &[&bob]).await;
    (alice, bob, room)
}

#[tokio::test]
async fn a_chat_accepts_no_kind_the_host_did_not_register() {
    let w = World::new();
    let (alice, _, room) = setup(&w).await;
    let err = w
        .chat
        .send(&alice, poll(room, "c1", lunch()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unknown_kind");
    let w2 = poll_world();
    let (alice2, _, room2) = setup(&w2).await;
    let mut other = poll(room2, "c1", json!({"lat": 1}));
    other.kind = Some("location".into());
    assert_eq!(
        w2.chat.send(&alice2, other).await.unwrap_err().code(),
        "unknown_kind"
    );
    assert!(stored(&w, room).await.is_empty() && stored(&w2, room2).await.is_empty());
}

#[tokio::test]
async fn bad_kinds_and_payloads_are_refused_and_nothing_is_stored() {
    let w = poll_world();
    let (alice, _, room) = setup(&w).await;
    let cases: Vec<(SendMessage, &str, Option<&str>)> = vec![
        (
            SendMessage {
                kind: Some("Poll<script>".into()),
                ..poll(room, "c1", lunch())
            },
            "invalid",
            Some("kind"),
        ),
        (
            SendMessage {
                kind: None,
                ..poll(room, "c2", lunch())
            },
            "invalid",
            Some("payload"),
        ),
        (
            poll(
                room,
                "c3",
                json!({"question": "?", "options": ["only one"]}),
            ),
            "invalid",
            Some("payload"),
        ),
        (
            poll(
                room,
                "c4",
                json!({"question": "x".repeat(MAX_PAYLOAD_BYTES), "options": [1, 2]}),
            ),
            "too_large",
            None,
        ),
        (
            SendMessage {
                body: "x".repeat(4001),
                ..poll(room, "c5", lunch())
            },
            "invalid",
            Some("body"),
        ),
    ];
    for (msg, code, field) in cases {
        let err = w.chat.send(&alice, msg).await.unwrap_err();
        assert_eq!((err.code(), err.field()), (code, field), "{err}");
    }
    let err = w
        .chat
        .send(&alice, poll(room, "c6", json!({"options": []})))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("a poll needs a question"),
        "the validator's reason reaches the sender: {err}"
    );
    assert!(stored(&w, room).await.is_empty());
}

#[tokio::test]
async fn a_registered_kind_is_delivered_kept_and_fed_to_consumers() {
    let w = poll_world();
    let (alice, bob, room) = setup(&w).await;
    let eve = w.user("eve").await;
    let (mut bobs_feed, _) = w.chat.connect(&bob).await.unwrap();
    let mut commits = w.chat.commits(Cursor::default());

    let sent = w
        .chat
        .send(&alice, poll(room, "c1", lunch()))
        .await
        .unwrap();
    let expected = Custom {
        kind: "poll".into(),
        payload: lunch(),
    };
    assert_eq!(sent.custom.as_deref(), Some(&expected));
    assert_eq!(sent.body, "", "no text needed next to a kind");

    let live = loop {
        let event = tokio::time::timeout(Duration::from_secs(5), bobs_feed.recv())
            .await
            .unwrap()
            .unwrap();
        if let EventKind::Message(m) = event.kind() {
            break m.clone();
        }
    };
    assert_eq!(live, sent);
    let page = w.chat.history(&bob, room, None, 10).await.unwrap();
    assert_eq!(page.messages, vec![sent.clone()]);
    assert_eq!(commits.next().await.unwrap(), sent);

    let retry = poll(room, "c1", json!({"question": "other", "options": [1, 2]}));
    assert_eq!(
        w.chat.send(&alice, retry).await.unwrap(),
        sent,
        "a retried send returns the first"
    );
    assert_eq!(
        w.chat
            .send(&eve, poll(room, "c2", lunch()))
            .await
            .unwrap_err()
            .code(),
        "not_found",
        "a non-member learns nothing about the room"
    );
    assert_eq!(stored(&w, room).await.len(), 1);
}

#[tokio::test]
async fn edits_change_the_text_and_keep_the_kind_deletes_drop_both() {
    let w = poll_world();
    let (alice, _, room) = setup(&w).await;
    let sent = w
        .chat
        .send(&alice, poll(room, "c1", lunch()))
        .await
        .unwrap();
    let edited = w.chat.edit(&alice, room, sent.seq, "vote!").await.unwrap();
    assert_eq!(edited.body, "vote!");
    assert_eq!(edited.custom, sent.custom);
    let cleared = w.chat.edit(&alice, room, sent.seq, "").await.unwrap();
    assert_eq!(cleared.body, "", "the text next to a kind may be empty");
    let tomb = w.chat.delete(&alice, room, sent.seq).await.unwrap();
    assert!(tomb.deleted && tomb.custom.is_none());
}

/// Records what the policy was shown, and refuses polls about Mondays.
#[derive(Default)]
struct Watch(Mutex<Vec<Option<Custom>>>);

#[chatcore::async_trait]
impl Policy for Watch {
    async fn before_send(&self, draft: &Draft<'_>) -> Verdict {
        self.0.lock().unwrap().push(draft.custom.cloned());
        match draft.custom {
            Some(c) if c.payload["question"].as_str() == Some("Monday?") => {
                Verdict::Reject("no polls about Mondays".into())
            }
            _ => Verdict::Allow,
        }
    }
}

#[tokio::test]
async fn the_policy_sees_the_kind_and_payload() {
    let watch = Arc::new(Watch::default());
    let w = World::builder()
        .message_kind("poll", check_poll)
        .policy(watch.clone())
        .start();
    let (alice, _, room) = setup(&w).await;
    w.chat
        .send(&alice, poll(room, "c1", lunch()))
        .await
        .unwrap();
    let monday = json!({"question": "Monday?", "options": [1, 2]});
    let err = w
        .chat
        .send(&alice, poll(room, "c2", monday))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "rejected");
    w.send(&alice, room, "plain").await.unwrap();
    let seen = watch.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].as_ref().unwrap().payload, lunch());
    assert_eq!(seen[2], None);
    assert_eq!(stored(&w, room).await.len(), 2);
}

#[tokio::test]
async fn a_bad_kind_name_fails_at_start() {
    let err = chatcore::Chat::builder(
        Arc::new(chatcore::MemoryStore::new()),
        Arc::new(chatcore::MemoryMediaStore::new()),
    )
    .message_kind("Not A Name", |_| Ok(()))
    .start(&tokio::runtime::Handle::current())
    .unwrap_err();
    assert_eq!(err.field(), Some("kind"));
}

//! Embedding chatcore in thirty lines: two users, a direct chat, and a message arriving live.
//!
//! Run it with:
//!
//! ```text
//! cargo run -p chat-examples --example in_memory_dm
//! ```
//!
//! It uses the in-memory backends; swap `Chat::in_memory()` for
//! `Chat::builder(store, media).start(&runtime)` with `chatcore-sqlite` or `chatcore-mysql` to
//! keep the history.

use chatcore::{Chat, EventKind, SendMessage};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let chat = Chat::in_memory();

    // Two accounts: one with a password, one guest. Each gets an `Actor` that proves who acts.
    let (alice, _alice_token) = chat
        .register("alice", "correct horse battery", Some("Alice"))
        .await?;
    let (bob, _bob_token) = chat.guest(Some("Bob")).await?;

    // Bob goes live: his connection receives every event of his rooms.
    let (mut bobs_feed, _rooms) = chat.connect(&bob).await?;

    // Alice opens a direct chat with Bob and writes to him.
    let room = chat.open_direct(&alice, bob.id()).await?;
    let sent = chat
        .send(
            &alice,
            SendMessage {
                room_id: room.id,
                body: "Hi Bob! 👋".into(),
                ..Default::default()
            },
        )
        .await?;
    println!(
        "alice sent  #{} in room {}: {}",
        sent.seq, sent.room_id, sent.body
    );

    // Bob's feed shows the room appearing, then the message.
    loop {
        let event = bobs_feed
            .recv()
            .await
            .map_err(|reason| format!("feed closed: {reason:?}"))?;
        if let EventKind::Message(m) = event.kind() {
            println!(
                "bob received #{} from {}: {}",
                m.seq, m.sender.display_name, m.body
            );
            break;
        }
    }
    Ok(())
}

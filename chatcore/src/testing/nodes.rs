//! Several nodes of one chat in one test: each a [`Chat`] on the same store, linked by a
//! [`Broker`] (an in-memory one that misbehaves on purpose, or `chatcore-redis` on a real
//! Redis), and what such tests ask of them.

use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;

use crate::throttle::Rate;
use crate::{
    Actor, Broker, Chat, ChatConfig, Clock, EventKind, MemoryMediaStore, RoomId, SendMessage, Seq,
    Store, Subscription,
};

/// Starts a node of a chat on `store`, linked to the others through `broker`, reading the time
/// from `clock`, on the current runtime. Its send budget is large enough for a test to send as
/// fast as it likes. Panics when the chat cannot start.
pub fn start_node(store: Arc<dyn Store>, broker: Arc<dyn Broker>, clock: Arc<dyn Clock>) -> Chat {
    let config = ChatConfig {
        send_rate: Rate::per_second(10_000.0, 10_000, Duration::ZERO),
        ..ChatConfig::default()
    };
    #[allow(clippy::expect_used)] // test support: a panic is the report
    Chat::builder(store, Arc::new(MemoryMediaStore::new()))
        .config(config)
        .clock(clock)
        .broker(broker)
        .start(&Handle::current())
        .expect("the node starts")
}

/// Sends `body` to `room` as `actor` on `chat`, and returns its seq. Panics when refused.
pub async fn send_text(chat: &Chat, actor: &Actor, room: RoomId, body: &str) -> Seq {
    let msg = SendMessage {
        room_id: room,
        body: body.into(),
        ..Default::default()
    };
    #[allow(clippy::expect_used)] // test support: a panic is the report
    chat.send(actor, msg)
        .await
        .expect("the message is sent")
        .seq
}

/// The message seqs `feed` receives until it has seen `last`, other events skipped. Panics
/// when the next event takes longer than `patience`, or the feed closes first.
pub async fn seqs_through(feed: &mut Subscription, last: Seq, patience: Duration) -> Vec<Seq> {
    let mut seqs = Vec::new();
    while seqs.last() != Some(&last) {
        let event = tokio::time::timeout(patience, feed.recv())
            .await
            .unwrap_or_else(|_| panic!("no message after {seqs:?} within {patience:?}"))
            .unwrap_or_else(|err| panic!("the feed closed after {seqs:?}: {err:?}"));
        if let EventKind::Message(m) = event.kind() {
            seqs.push(m.seq);
        }
    }
    seqs
}

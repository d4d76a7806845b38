//! The after-commit feed: every committed message once, in seq order per room, live and after
//! a restart, however far behind the consumer is and whatever the store does.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::testing::World;
use crate::{Actor, Chat, MemoryMediaStore};

/// Reads from `feed` until it has `n` messages; each room's seqs must follow 1, 2, 3, …
/// from where the cursor started.
async fn take(feed: &mut CommitFeed, n: usize) -> Vec<Message> {
    let mut next_seq: HashMap<RoomId, Seq> = HashMap::new();
    let mut got = Vec::new();
    while got.len() < n {
        let m = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("a committed message")
            .unwrap();
        let expected = next_seq.entry(m.room_id).or_insert_with(|| m.seq);
        assert_eq!(m.seq, *expected, "room {} in seq order, no gap", m.room_id);
        *expected += 1;
        got.push(m);
    }
    got
}

async fn send_many(w: &World, actor: &Actor, room: RoomId, n: usize) {
    for i in 0..n {
        w.send(actor, room, &format!("message {i}")).await.unwrap();
    }
}

fn relaxed_world() -> World {
    let config = crate::ChatConfig {
        send_rate: crate::throttle::Rate::per_second(1_000.0, 10_000, Duration::ZERO),
        ..Default::default()
    };
    World::builder().config(config).faulty(7).start()
}

#[tokio::test]
async fn a_feed_gets_every_commit_once_live_and_from_before_it_started() {
    let w = relaxed_world();
    let ann = w.chat.external_user("app:1", "Ann").await.unwrap();
    let a = w.group(&ann, &[]).await;
    let b = w.group(&ann, &[]).await;
    send_many(&w, &ann, a, 3).await;

    let mut feed = w.chat.commits(Cursor::default());
    let before = take(&mut feed, 3).await;
    assert_eq!(before.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3]);

    let waiting = tokio::spawn(async move {
        let got = take(&mut feed, 4).await;
        (feed, got)
    });
    send_many(&w, &ann, b, 2).await;
    send_many(&w, &ann, a, 2).await;
    let (mut feed, live) = waiting.await.unwrap();
    let mut by_room: Vec<(RoomId, Seq)> = live.iter().map(|m| (m.room_id, m.seq)).collect();
    by_room.sort();
    assert_eq!(by_room, [(a, 4), (a, 5), (b, 1), (b, 2)]);
    assert_eq!((feed.cursor().get(a), feed.cursor().get(b)), (5, 2));
    let marker = w.send(&ann, b, "last").await.unwrap();
    assert_eq!(
        feed.next().await.unwrap(),
        marker,
        "nothing more, nothing twice"
    );
}

#[tokio::test]
async fn a_consumer_resumes_from_its_saved_cursor_after_a_restart() {
    let w = relaxed_world();
    let ann = w.chat.external_user("app:1", "Ann").await.unwrap();
    let a = w.group(&ann, &[]).await;
    let b = w.group(&ann, &[]).await;
    send_many(&w, &ann, a, 5).await;
    send_many(&w, &ann, b, 5).await;

    let mut feed = w.chat.commits(Cursor::default());
    let first = take(&mut feed, 6).await;
    let saved = serde_json::to_string(feed.cursor()).unwrap();
    drop(feed);
    w.chat.shutdown().await;

    // A new process over the same store; more was sent while the consumer was away.
    let chat = Chat::builder(w.store.clone(), Arc::new(MemoryMediaStore::new()))
        .start(&tokio::runtime::Handle::current())
        .unwrap();
    let ann = chat.external_user("app:1", "Ann").await.unwrap();
    let c = chat.create_group(&ann, "New", &[]).await.unwrap().id;
    for room in [a, c] {
        let msg = crate::SendMessage {
            room_id: room,
            body: "while away".into(),
            ..Default::default()
        };
        chat.send(&ann, msg).await.unwrap();
    }
    let mut feed = chat.commits(serde_json::from_str(&saved).unwrap());
    let rest = take(&mut feed, 6).await;

    let mut all: Vec<(RoomId, Seq)> = first
        .iter()
        .chain(&rest)
        .map(|m| (m.room_id, m.seq))
        .collect();
    all.sort();
    let mut expected: Vec<(RoomId, Seq)> = (1..=6).map(|s| (a, s)).collect();
    expected.extend((1..=5).map(|s| (b, s)));
    expected.push((c, 1));
    expected.sort();
    assert_eq!(all, expected, "every commit once across the restart");
}

#[tokio::test]
async fn a_consumer_far_behind_reads_everything_and_store_failures_lose_nothing() {
    let w = relaxed_world();
    let ann = w.chat.external_user("app:1", "Ann").await.unwrap();
    let a = w.group(&ann, &[]).await;
    let mut feed = w.chat.commits(Cursor::default());
    // More than a page and more than any connection queue, with nobody reading.
    send_many(&w, &ann, a, 1_500).await;

    let faults = w.faults.clone().unwrap();
    let mut got = take(&mut feed, 10).await;
    faults.fail_call(1);
    while got.len() < 1_500 {
        match feed.next().await {
            Ok(m) => got.push(m),
            Err(err) => assert_eq!(err.code(), "storage"),
        }
    }
    assert!(faults.failures() >= 1, "the injected failure happened");
    assert!(
        got.iter().enumerate().all(|(i, m)| m.seq == i as Seq + 1),
        "1..=1500 in order, none skipped or repeated"
    );
}

//! Two nodes on one store, linked through the real Redis (see `chatcore_redis::testing`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use chatcore::testing::{send_text, start_node};
use chatcore::{Chat, MemoryStore, Seq, Subscription, SystemClock};
use chatcore_redis::RedisBroker;
use chatcore_redis::testing::{CutProxy, host_port, needs, require, unique_prefix};

fn main() {
    chatcore::testing::harness::run_groups(vec![
        (
            vec![needs()],
            chatcore::harness_tests![
                two_nodes_deliver_each_others_messages_once_in_order,
                a_node_cut_off_from_redis_reconnects_and_catches_up_by_itself,
            ],
        ),
        (
            Vec::new(),
            chatcore::harness_tests![an_invalid_url_is_refused_at_once],
        ),
    ]);
}

fn node(store: &Arc<MemoryStore>, url: &str, prefix: &str) -> Chat {
    let broker = Arc::new(RedisBroker::with_prefix(url, prefix).unwrap());
    start_node(store.clone(), broker, Arc::new(SystemClock))
}

/// The message seqs `feed` receives until it has seen `last` (other events skipped).
async fn seqs_through(feed: &mut Subscription, last: Seq) -> Vec<Seq> {
    chatcore::testing::seqs_through(feed, last, Duration::from_secs(20)).await
}

async fn two_nodes_deliver_each_others_messages_once_in_order() {
    let url = require().await.expect("the test Redis answers");
    let prefix = unique_prefix("exchange");
    let store = Arc::new(MemoryStore::new());
    let (a, b) = (node(&store, &url, &prefix), node(&store, &url, &prefix));
    let alice = a.guest(Some("Alice")).await.unwrap().0;
    let bob = b.guest(Some("Bob")).await.unwrap().0;
    let room = a.open_direct(&alice, bob.id()).await.unwrap().id;
    let (mut on_a, _) = a.connect(&alice).await.unwrap();
    let (mut on_b, _) = b.connect(&bob).await.unwrap();

    let mut last = 0;
    for i in 0..60 {
        let (chat, who) = if i % 2 == 0 { (&a, &alice) } else { (&b, &bob) };
        last = send_text(chat, who, room, &format!("m{i}")).await;
    }
    let every: Vec<Seq> = (1..=last).collect();
    assert_eq!(seqs_through(&mut on_a, last).await, every);
    assert_eq!(seqs_through(&mut on_b, last).await, every);
    a.shutdown().await;
    b.shutdown().await;
}

async fn a_node_cut_off_from_redis_reconnects_and_catches_up_by_itself() {
    let url = require().await.expect("the test Redis answers");
    let proxy = CutProxy::start(host_port(&url)).await.unwrap();
    let prefix = unique_prefix("cut");
    let store = Arc::new(MemoryStore::new());
    let a = node(&store, &url, &prefix);
    let b = node(&store, &proxy.url(), &prefix);
    let alice = a.guest(Some("Alice")).await.unwrap().0;
    let bob = b.guest(Some("Bob")).await.unwrap().0;
    let room = a.open_direct(&alice, bob.id()).await.unwrap().id;
    let (mut on_b, _) = b.connect(&bob).await.unwrap();

    let before = send_text(&a, &alice, room, "before").await;
    assert_eq!(seqs_through(&mut on_b, before).await, vec![before]);

    // Redis unreachable for node B: node A keeps committing, node B keeps serving its own.
    proxy.set_down(true);
    for i in 0..5 {
        send_text(&a, &alice, room, &format!("while cut {i}")).await;
    }
    let own = send_text(&b, &bob, room, "bob while cut").await;
    proxy.set_down(false);
    let after = send_text(&a, &alice, room, "after").await;

    let every: Vec<Seq> = (before + 1..=after).collect();
    assert!(every.contains(&own));
    assert_eq!(seqs_through(&mut on_b, after).await, every);
    a.shutdown().await;
    b.shutdown().await;
}

async fn an_invalid_url_is_refused_at_once() {
    let err = RedisBroker::new("http://example.com").unwrap_err();
    assert!(err.to_string().starts_with("invalid Redis URL"), "{err}");
}

//! Limits counted in the real Redis (see `chatcore_redis::testing`): a client hopping between
//! the nodes of one chat meets one limit, not one per node; without Redis a node counts alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use chatcore::throttle::{Rate, SharedAttempts, SharedBudgets};
use chatcore::{Chat, ChatConfig, MemoryMediaStore, MemoryStore, SendMessage, Store};
use chatcore_redis::testing::{needs, require, unique_prefix};
use chatcore_redis::{RedisAttempts, RedisBudgets};

fn main() {
    chatcore::testing::harness::run_groups(vec![
        (
            vec![needs()],
            chatcore::harness_tests![
                five_wrong_logins_on_one_node_lock_the_username_on_the_other,
                a_user_hopping_between_nodes_spends_one_send_budget,
            ],
        ),
        (
            Vec::new(),
            chatcore::harness_tests![without_redis_a_node_counts_alone_instead_of_refusing],
        ),
    ]);
}

/// A node on `store` counting in the Redis at `url` under `prefix`, sending at most 3
/// messages (then 1 per 100 s).
fn node(store: &Arc<MemoryStore>, url: &str, prefix: &str) -> Chat {
    let mut config = ChatConfig::default();
    config.send_rate = Rate::per_second(0.01, 3, Duration::ZERO);
    config.budgets = SharedBudgets::new(Arc::new(RedisBudgets::with_prefix(url, prefix).unwrap()));
    config.attempts = Some(SharedAttempts::new(Arc::new(
        RedisAttempts::with_prefix(url, prefix).unwrap(),
    )));
    let store: Arc<dyn Store> = store.clone();
    Chat::builder(store, Arc::new(MemoryMediaStore::new()))
        .config(config)
        .start(&tokio::runtime::Handle::current())
        .unwrap()
}

async fn five_wrong_logins_on_one_node_lock_the_username_on_the_other() {
    let url = require().await.expect("the test Redis answers");
    let prefix = unique_prefix("logins");
    let store = Arc::new(MemoryStore::new());
    let (a, b) = (node(&store, &url, &prefix), node(&store, &url, &prefix));
    a.register("mallory_target", "correct horse battery", None)
        .await
        .unwrap();
    for _ in 0..5 {
        let err = a
            .login("mallory_target", "wrong password!")
            .await
            .unwrap_err();
        assert_eq!(err.code(), "unauthenticated");
    }
    let err = b
        .login("mallory_target", "correct horse battery")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "rate_limited",
        "the sixth, on node B, is refused"
    );
    let other = b
        .login("someone_else", "wrong password!")
        .await
        .unwrap_err();
    assert_eq!(
        other.code(),
        "unauthenticated",
        "other usernames are not locked"
    );
    a.shutdown().await;
    b.shutdown().await;
}

async fn a_user_hopping_between_nodes_spends_one_send_budget() {
    let url = require().await.expect("the test Redis answers");
    let prefix = unique_prefix("budgets");
    let store = Arc::new(MemoryStore::new());
    let (a, b) = (node(&store, &url, &prefix), node(&store, &url, &prefix));
    let alice = a.guest(Some("Alice")).await.unwrap().0;
    let bob = a.guest(Some("Bob")).await.unwrap().0;
    let room = a.open_direct(&alice, bob.id()).await.unwrap().id;
    let msg = |body: &str| SendMessage {
        room_id: room,
        body: body.into(),
        ..Default::default()
    };

    for i in 0..3 {
        let chat = if i % 2 == 0 { &a } else { &b };
        chat.send(&alice, msg(&format!("m{i}"))).await.unwrap();
    }
    let refused = b.send(&alice, msg("one too many")).await.unwrap_err();
    assert_eq!(refused.code(), "rate_limited");
    let refused = a.send(&alice, msg("still too many")).await.unwrap_err();
    assert_eq!(refused.code(), "rate_limited");
    b.send(&bob, msg("hi")).await.unwrap();
    a.shutdown().await;
    b.shutdown().await;
}

async fn without_redis_a_node_counts_alone_instead_of_refusing() {
    // Nothing listens on port 1: every call falls back to this node's own table and budget.
    let store = Arc::new(MemoryStore::new());
    let chat = node(&store, "redis://127.0.0.1:1", "chatcore:test:unreachable");
    chat.register("trudy_target", "correct horse battery", None)
        .await
        .unwrap();
    for _ in 0..5 {
        let err = chat
            .login("trudy_target", "wrong password!")
            .await
            .unwrap_err();
        assert_eq!(err.code(), "unauthenticated");
    }
    let err = chat
        .login("trudy_target", "wrong password!")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "rate_limited", "the local window counts");

    let alice = chat.guest(Some("Alice")).await.unwrap().0;
    let bob = chat.guest(Some("Bob")).await.unwrap().0;
    let room = chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let msg = SendMessage {
        room_id: room,
        body: "hi".into(),
        ..Default::default()
    };
    for _ in 0..3 {
        chat.send(&alice, msg.clone()).await.unwrap();
    }
    let refused = chat.send(&alice, msg).await.unwrap_err();
    assert_eq!(refused.code(), "rate_limited", "the local budget counts");
    chat.shutdown().await;
}

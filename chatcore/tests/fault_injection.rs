//! The delivery promises under faults: with 5% of store calls failing (half before they reach
//! the store, half after committing with the answer lost) and a network that drops,
//! duplicates, reorders frames and breaks connections, 8 clients sending 250 messages each
//! into one room end with every acked message delivered to every member once, in seq order,
//! and stored once.
//!
//! Time is paused: the clients' retry timers cost no real time, and a seed fixes every fault,
//! so a failure replays exactly.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::Duration;

use chatcore::testing::{Faults, SimClient, SimNetwork, World};
use chatcore::throttle::Rate;
use chatcore::{ChatConfig, Message, SendMessage, Store};

const CLIENTS: usize = 8;
const MESSAGES: usize = 250;
const SEED: u64 = 18;

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn every_acked_message_is_delivered_once_in_order_despite_store_and_network_faults() {
    let mut config = ChatConfig::default();
    // The test is about faults, not pacing: the budget covers every retry at once.
    config.send_rate = Rate::per_second(1_000.0, 100_000, Duration::ZERO);
    let w = World::builder().config(config).faulty(SEED).start();
    let mut actors = Vec::new();
    for i in 0..CLIENTS {
        let name = format!("member {i}");
        actors.push(
            w.chat
                .external_user(&format!("app:{i}"), &name)
                .await
                .unwrap(),
        );
    }
    let others: Vec<&_> = actors[1..].iter().collect();
    let room = w.group(&actors[0], &others).await;

    let faults = w.faults.clone().unwrap();
    faults.fail_ratio(0.05);
    let net = SimNetwork::new(
        Faults {
            drop: 0.03,
            duplicate: 0.03,
            reorder: 0.05,
            disconnect: 0.005,
        },
        SEED,
    );
    let mut tasks = tokio::task::JoinSet::new();
    for (i, actor) in actors.into_iter().enumerate() {
        let mut client = SimClient::new(&net, &w.chat, actor);
        tasks.spawn(async move {
            let mut acked = Vec::new();
            for n in 0..MESSAGES {
                let msg = SendMessage {
                    room_id: room,
                    body: format!("message {n} from client {i}"),
                    client_id: Some(format!("c{i}-{n}")),
                    ..Default::default()
                };
                acked.push(client.send(msg).await.unwrap());
            }
            (client, acked)
        });
    }
    let mut clients = Vec::new();
    let mut acked: Vec<Message> = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (client, sent) = done.unwrap();
        clients.push(client);
        acked.extend(sent);
    }
    // The last messages may have been lost on the way to a client with nothing after them to
    // reveal the gap: a client finds them when it next reads the room, as after a reconnect.
    for client in &mut clients {
        client.catch_up(room).await;
    }
    faults.fail_ratio(0.0);

    let stored = w.store.messages_after(room, 0, u32::MAX).await.unwrap();
    assert_eq!(stored.len(), CLIENTS * MESSAGES, "each send stored once");
    let client_ids: HashSet<&str> = stored.iter().map(|m| m.client_id.as_str()).collect();
    assert_eq!(client_ids.len(), stored.len(), "no client_id stored twice");
    assert!(
        stored
            .iter()
            .enumerate()
            .all(|(i, m)| m.seq == i as i64 + 1),
        "seqs 1..=N without a gap"
    );
    assert_eq!(acked.len(), CLIENTS * MESSAGES);
    for m in &acked {
        assert_eq!(
            &stored[(m.seq - 1) as usize],
            m,
            "an ack names what was stored"
        );
    }
    for client in &clients {
        assert_eq!(
            client.delivered(room),
            &stored[..],
            "every member got every message once, in order"
        );
    }

    // The faults did happen (else this proved nothing).
    assert!(
        faults.failures() > 50,
        "store failures: {}",
        faults.failures()
    );
    let reconnects: u64 = clients.iter().map(|c| c.connections() - 1).sum();
    assert!(reconnects > 0, "no connection broke");
}

//! Delivery over real TCP sockets: exactly once, in order, acked after commit, resumable.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::BTreeMap;

use chatcore::SendMessage;
use chatcore_ws::client::ClientEvent;
use chatcore_ws::frames::ServerFrame;
use common::*;

#[tokio::test]
async fn dm_and_group_members_get_every_message_exactly_once_in_seq_order() {
    let server = Server::start().await;
    let (alice, at) = server.user("Alice").await;
    let (bob, bt) = server.user("Bob").await;
    let dm = server.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let mut group_users = Vec::new();
    for name in ["G1", "G2", "G3", "G4", "G5"] {
        group_users.push(server.user(name).await);
    }
    let ids: Vec<_> = group_users.iter().map(|(a, _)| a.id()).collect();
    let group = server
        .chat
        .create_group(&group_users[0].0, "five", &ids)
        .await
        .unwrap()
        .id;

    let mut dm_clients = vec![server.client(&at).await, server.client(&bt).await];
    let mut group_clients = Vec::new();
    for (_, token) in &group_users {
        group_clients.push(server.client(token).await);
    }

    // Everyone sends at once: 2 × 10 in the DM, 5 × 6 in the group.
    let mut sends = Vec::new();
    for (i, client) in dm_clients.iter().chain(group_clients.iter()).enumerate() {
        let (room, n) = if i < 2 { (dm, 10) } else { (group, 6) };
        sends.push(async move {
            for k in 0..n {
                client.send(room, &format!("{i}-{k}")).await.unwrap();
            }
        });
    }
    within("all sends", futures::future::join_all(sends)).await;

    for (clients, room, total) in [(&mut dm_clients, dm, 20), (&mut group_clients, group, 30)] {
        for client in clients.iter_mut() {
            let got = messages(client, total).await;
            assert_eq!(
                seqs(&got),
                (1..=total as i64).collect::<Vec<_>>(),
                "room {room}"
            );
            assert!(got.iter().all(|m| m.room_id == room));
            assert!(
                messages_until_pong(client).await.is_empty(),
                "no duplicate after the last one"
            );
        }
    }
}

#[tokio::test]
async fn the_ack_comes_after_the_message_is_in_the_store() {
    let server = Server::start().await;
    let (alice, at) = server.user("Alice").await;
    let (bob, _) = server.user("Bob").await;
    let dm = server.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let client = server.client(&at).await;
    for i in 0..5 {
        let acked = client.send(dm, &format!("hello {i}")).await.unwrap();
        assert_eq!(acked.body, format!("hello {i}"));
        assert!(
            server.history(&alice, dm).await.contains(&acked),
            "acked means stored"
        );
    }
}

#[tokio::test]
async fn a_retried_client_id_is_stored_once() {
    let server = Server::start().await;
    let (alice, at) = server.user("Alice").await;
    let (bob, _) = server.user("Bob").await;
    let dm = server.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let client = server.client(&at).await;
    let send = || chatcore_ws::client::SendRequest {
        room_id: dm,
        body: "once".into(),
        client_id: Some("c-retry-1".into()),
        ..Default::default()
    };
    let first = client.send_message(send()).await.unwrap();
    let second = client.send_message(send()).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(server.history(&alice, dm).await.len(), 1);
}

#[tokio::test]
async fn a_client_that_drops_mid_stream_and_syncs_gets_exactly_what_it_missed() {
    let server = Server::start().await;
    let (alice, _) = server.user("Alice").await;
    let (bob, bt) = server.user("Bob").await;
    let dm = server.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let say = |i: i64| SendMessage {
        room_id: dm,
        body: format!("m{i}"),
        ..Default::default()
    };

    let mut first = server.raw(&bt).await;
    for i in 1..=5 {
        server.chat.send(&alice, say(i)).await.unwrap();
    }
    for seq in 1..=3 {
        assert_eq!(first.message().await.seq, seq);
    }
    drop(first); // gone mid-stream: 4 and 5 were sent but never read
    for i in 6..=12 {
        server.chat.send(&alice, say(i)).await.unwrap();
    }

    let mut resumed = server.raw(&bt).await;
    resumed
        .send_text(format!(r#"{{"type":"sync","rooms":{{"{dm}":3}}}}"#))
        .await;
    let mut got = Vec::new();
    let synced = loop {
        match resumed.frame().await {
            ServerFrame::Message { message } => got.push(message.seq),
            ServerFrame::Synced { rooms } => break rooms,
            ServerFrame::Presence { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(got, (4..=12).collect::<Vec<_>>());
    assert_eq!(synced, BTreeMap::from([(dm, 12)]));
    server.chat.send(&alice, say(13)).await.unwrap();
    assert_eq!(
        resumed.message().await.seq,
        13,
        "live continues without a gap"
    );
}

#[tokio::test]
async fn a_gap_larger_than_the_limit_gets_resync() {
    let mut ws = chatcore_ws::WsConfig::default();
    ws.max_backfill = 5;
    let server = Server::with(chat_config(), ws).await;
    let (alice, _) = server.user("Alice").await;
    let (bob, bt) = server.user("Bob").await;
    let dm = server.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    for i in 0..20 {
        server
            .chat
            .send(
                &alice,
                SendMessage {
                    room_id: dm,
                    body: format!("{i}"),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let mut raw = server.raw(&bt).await;
    raw.send_text(format!(r#"{{"type":"sync","rooms":{{"{dm}":2}}}}"#))
        .await;
    let mut frames = Vec::new();
    while !matches!(frames.last(), Some(ServerFrame::Synced { .. })) {
        match raw.frame().await {
            ServerFrame::Presence { .. } => {}
            frame => frames.push(frame),
        }
    }
    assert_eq!(
        frames[0],
        ServerFrame::Resync {
            room_id: dm,
            last_seq: 20
        }
    );
    assert_eq!(
        frames[1],
        ServerFrame::Synced {
            rooms: BTreeMap::from([(dm, 20)])
        }
    );
}

#[tokio::test]
async fn the_client_reconnects_by_itself_and_resumes_without_gap_or_duplicate() {
    let server = Server::start().await;
    let (alice, _) = server.user("Alice").await;
    let (bob, bt) = server.user("Bob").await;
    let dm = server.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let say = |i: i64| SendMessage {
        room_id: dm,
        body: format!("m{i}"),
        ..Default::default()
    };
    let mut client = server.client(&bt).await;
    for i in 1..=5 {
        server.chat.send(&alice, say(i)).await.unwrap();
    }
    assert_eq!(seqs(&messages(&mut client, 5).await), vec![1, 2, 3, 4, 5]);

    server.kick_all();
    let code = wait_for(&mut client, "the close", |e| match e {
        ClientEvent::Closed {
            code, reconnecting, ..
        } => Some((code, reconnecting)),
        _ => None,
    })
    .await;
    assert_eq!(code, (Some(1001), true));
    for i in 6..=10 {
        server.chat.send(&alice, say(i)).await.unwrap();
    }
    assert_eq!(seqs(&messages(&mut client, 5).await), vec![6, 7, 8, 9, 10]);
    // The reconnected client still sends.
    let mine = client.send(dm, "back").await.unwrap();
    assert_eq!(mine.seq, 11);
}

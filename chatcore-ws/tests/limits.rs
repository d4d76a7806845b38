//! Abuse and failure over real TCP: non-members, oversized frames, slow readers, removal,
//! revocation, rate limits and garbage.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chatcore::SendMessage;
use chatcore_ws::client::ClientEvent;
use chatcore_ws::frames::ServerFrame;
use chatcore_ws::{ClientError, Connect, WsConfig};
use common::*;
use futures::SinkExt;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test]
async fn a_non_member_send_is_an_error_and_stores_nothing() {
    let server = Server::start().await;
    let (alice, _) = server.user("Alice").await;
    let (bob, _) = server.user("Bob").await;
    let (_, mallory_token) = server.user("Mallory").await;
    let dm = server.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let mallory = server.client(&mallory_token).await;

    let err = mallory.send(dm, "let me in").await.unwrap_err();
    // chatcore answers not_found so a non-member cannot tell whether the room exists.
    assert_eq!(err.code(), Some("not_found"), "{err}");
    assert!(server.history(&alice, dm).await.is_empty());
}

#[tokio::test]
async fn a_bad_token_is_refused_before_the_upgrade() {
    let server = Server::start().await;
    let result = Connect::bearer(&server.url, "not-a-token").connect().await;
    assert!(
        matches!(result, Err(ClientError::Refused(401))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_oversized_frame_closes_with_1009_and_others_keep_working() {
    let server = Server::start().await;
    let (alice, at) = server.user("Alice").await;
    let (bob, bt) = server.user("Bob").await;
    let dm = server.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let alice_client = server.client(&at).await;
    let mut bob_client = server.client(&bt).await;
    let mut big = server.raw(&bt).await;

    big.send_text("x".repeat(70 * 1024)).await;
    assert_eq!(big.close_code().await, Some(1009));

    alice_client.send(dm, "still here").await.unwrap();
    assert_eq!(messages(&mut bob_client, 1).await[0].body, "still here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_with_4000_without_slowing_the_room() {
    let mut chat_config = chat_config();
    chat_config.subscriber_queue = 16;
    // Alice publishes as fast as she can: her send budget is not what this test is about.
    chat_config.send_rate = chatcore::throttle::Rate::per_second(1e9, u32::MAX, Duration::ZERO);
    let mut ws = WsConfig::default();
    ws.outbound_queue = 4;
    let mut server = Server::with(chat_config, ws).await;
    let (alice, _) = server.user("Alice").await;
    let (bob, bt) = server.user("Bob").await;
    let (slow, st) = server.user("Slow").await;
    let room = server
        .chat
        .create_group(&alice, "busy", &[bob.id(), slow.id()])
        .await
        .unwrap()
        .id;

    let mut stalled = server.raw(&st).await; // connected, then never reads
    let mut bob_client = server.client(&bt).await;
    let received = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&received);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let mut expected = 0usize;
    let reader = tokio::spawn(async move {
        let mut last = 0;
        let mut done_rx = done_rx;
        let mut target: Option<usize> = None;
        loop {
            if target.is_some_and(|t| counter.load(Ordering::SeqCst) >= t) {
                return last;
            }
            tokio::select! {
                t = &mut done_rx, if target.is_none() => target = Some(t.unwrap()),
                event = bob_client.next_event() => {
                    if let Some(ClientEvent::Frame(ServerFrame::Message { message })) = event {
                        assert_eq!(message.seq, last + 1, "bob sees every message in order");
                        last = message.seq;
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }
    });

    // Publish until the hub has dropped the stalled connection; socket buffers absorb a few
    // megabytes first, so the bodies are large.
    let body = "y".repeat(3000);
    while server.chat.is_online(slow.id()) {
        let msg = SendMessage {
            room_id: room,
            body: body.clone(),
            ..Default::default()
        };
        server.chat.send(&alice, msg).await.unwrap();
        expected += 1;
        // The in-memory store never really waits: let the connections run.
        tokio::task::yield_now().await;
        assert!(expected < 200_000, "the stalled reader was never dropped");
    }
    // Reading again unblocks the socket: the stalled client then learns why it was dropped.
    assert_eq!(
        stalled.close_code().await,
        Some(4000),
        "the stalled client learns why"
    );
    assert_eq!(server.closed_for_code(slow.id()).await, Some(4000));
    done_tx.send(expected).unwrap();
    let last = within("bob's messages", reader).await.unwrap();
    assert_eq!(last as usize, expected, "bob got everything, in order");
}

#[tokio::test]
async fn a_removed_member_stops_receiving_at_once() {
    let server = Server::start().await;
    // Guests never hold an admin role: the group's admin is a password account.
    let (alice, at) = server
        .chat
        .register("alice", "correct horse battery", None)
        .await
        .unwrap();
    let (bob, bt) = server.user("Bob").await;
    let (carol, ct) = server.user("Carol").await;
    let room = server
        .chat
        .create_group(&alice, "trio", &[bob.id(), carol.id()])
        .await
        .unwrap()
        .id;
    let alice_client = server.client(&at).await;
    let mut bob_client = server.client(&bt).await;
    let mut carol_client = server.client(&ct).await;

    alice_client.send(room, "before").await.unwrap();
    assert_eq!(messages(&mut carol_client, 1).await[0].body, "before");
    server
        .chat
        .remove_member(&alice, room, carol.id())
        .await
        .unwrap();
    wait_for(&mut carol_client, "the removal", |e| match e {
        ClientEvent::Frame(ServerFrame::Room { event, user_id, .. }) if user_id == carol.id() => {
            assert_eq!(event, "removed");
            Some(())
        }
        _ => None,
    })
    .await;
    alice_client.send(room, "after").await.unwrap();
    let bob_got = messages(&mut bob_client, 2).await;
    assert_eq!(bob_got[1].body, "after");
    assert!(
        messages_until_pong(&mut carol_client).await.is_empty(),
        "carol sees nothing after removal"
    );
    let err = carol_client.send(room, "hey").await.unwrap_err();
    assert_eq!(err.code(), Some("not_found"));
}

#[tokio::test]
async fn logout_closes_the_sessions_sockets_with_4001() {
    let mut server = Server::start().await;
    let (alice, at) = server.user("Alice").await;
    let mut client = server.client(&at).await;
    server.chat.logout(&at).await.unwrap();
    let closed = wait_for(&mut client, "the close", |e| match e {
        ClientEvent::Closed {
            code, reconnecting, ..
        } => Some((code, reconnecting)),
        _ => None,
    })
    .await;
    assert_eq!(closed, (Some(4001), false));
    assert_eq!(server.closed_for(alice.id()).await.code, Some(4001));
}

#[tokio::test]
async fn a_socket_closes_with_4001_when_its_session_expires() {
    let mut config = chat_config();
    config.session_idle_timeout = std::time::Duration::from_millis(700);
    let mut server = Server::with(config, WsConfig::default()).await;
    let (alice, at) = server.user("Alice").await;
    let mut client = server.client(&at).await;
    let closed = wait_for(&mut client, "the close", |e| match e {
        ClientEvent::Closed {
            code, reconnecting, ..
        } => Some((code, reconnecting)),
        _ => None,
    })
    .await;
    assert_eq!(closed, (Some(4001), false));
    assert_eq!(server.closed_for(alice.id()).await.code, Some(4001));
}

/// Issue #11, item 7: a client that waits for each ack and sends the next at once (here
/// trying for 100 messages a second) is slowed to the rate, never refused and never closed.
#[tokio::test]
async fn an_ack_paced_sender_is_slowed_but_never_closed() {
    let server = Server::start().await;
    let (alice, at) = server.user("Alice").await;
    let (bob, _) = server.user("Bob").await;
    let dm = server.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let client = server.client(&at).await;
    let ws = WsConfig::default();
    let started = tokio::time::Instant::now();
    for i in 0..100 {
        let acked = client.send(dm, &format!("message {i}")).await;
        assert!(acked.is_ok(), "message {i}: {acked:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The rate is a floor on the time taken, whatever the machine: 60 messages beyond the
    // burst at 20 a second.
    let floor = (100.0 - ws.rate_burst) / ws.rate_per_sec;
    assert!(
        started.elapsed().as_secs_f64() >= floor * 0.95,
        "not slowed: {:?}",
        started.elapsed()
    );
    assert_eq!(server.history(&alice, dm).await.len(), 100);
}

/// Issue #11, items 6 and 7: every frame costs a token (pings, WebSocket pings and typing
/// alike); a client that keeps sending without reading is paced, then closed with 4002 once
/// its read-ahead stayed full, and is never answered with a flood of errors.
#[tokio::test]
async fn a_client_that_keeps_flooding_is_closed_with_4002() {
    let mut ws = WsConfig::default();
    ws.backlog_timeout = Duration::from_millis(300);
    // The frames' pace is what this test is about, not the typing budget behind them.
    let mut chat_config = chat_config();
    chat_config.typing_rate = chatcore::throttle::Rate::per_second(1e9, u32::MAX, Duration::ZERO);
    let server = Server::with(chat_config, ws).await;
    let (alice, at) = server.user("Alice").await;
    let (bob, _) = server.user("Bob").await;
    let dm = server.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let typing = WsMessage::text(format!(r#"{{"type":"typing","room_id":{dm}}}"#));
    let floods = [
        ("typing", typing),
        ("ping", WsMessage::text(r#"{"type":"ping"}"#)),
        ("websocket ping", WsMessage::Ping(Vec::new().into())),
    ];
    for (what, frame) in floods {
        let mut raw = server.raw(&at).await;
        for _ in 0..300 {
            raw.ws.send(frame.clone()).await.unwrap();
        }
        let code = loop {
            match raw.next().await {
                Ok(ServerFrame::Error { code, .. }) => panic!("{what}: error frame {code}"),
                Ok(_) => {}
                Err(code) => break code,
            }
        };
        assert_eq!(code, Some(4002), "{what}");
    }
}

/// Issue #11, item 6: `sync` is answered for the caller's rooms only, from one membership
/// read, and a `sync` listing more rooms than allowed is refused.
#[tokio::test]
async fn a_sync_covers_only_the_callers_rooms_and_is_capped() {
    let mut ws = WsConfig::default();
    ws.max_sync_rooms = 100;
    let server = Server::with(chat_config(), ws).await;
    let (alice, at) = server.user("Alice").await;
    let (bob, _) = server.user("Bob").await;
    let (carol, _) = server.user("Carol").await;
    let dm = server.chat.open_direct(&alice, bob.id()).await.unwrap().id;
    let theirs = server.chat.open_direct(&bob, carol.id()).await.unwrap().id;
    for i in 0..3 {
        let msg = SendMessage {
            room_id: dm,
            body: format!("m{i}"),
            ..Default::default()
        };
        server.chat.send(&bob, msg).await.unwrap();
        let msg = SendMessage {
            room_id: theirs,
            body: format!("secret {i}"),
            ..Default::default()
        };
        server.chat.send(&bob, msg).await.unwrap();
    }
    let mut raw = server.raw(&at).await;
    let mut rooms: Vec<String> = (1000..1098).map(|id| format!("\"{id}\":0")).collect();
    rooms.push(format!("\"{dm}\":0"));
    rooms.push(format!("\"{theirs}\":0"));
    raw.send_text(format!(
        r#"{{"type":"sync","rooms":{{{}}}}}"#,
        rooms.join(",")
    ))
    .await;
    let mut got = Vec::new();
    let synced = loop {
        match raw.frame().await {
            ServerFrame::Message { message } => got.push(message.body),
            ServerFrame::Synced { rooms } => break rooms,
            _ => {}
        }
    };
    assert_eq!(got, ["m0", "m1", "m2"]);
    assert_eq!(synced.into_iter().collect::<Vec<_>>(), [(dm, 3)]);

    rooms.push("\"999999\":0".into());
    raw.send_text(format!(
        r#"{{"type":"sync","rooms":{{{}}}}}"#,
        rooms.join(",")
    ))
    .await;
    match raw.frame().await {
        ServerFrame::Error { code, field, .. } => {
            assert_eq!(
                (code.as_str(), field.as_deref()),
                ("invalid", Some("rooms"))
            );
        }
        other => panic!("{other:?}"),
    }
}

/// Issue #11, item 6: a `ping` no longer ends a row of invalid frames.
#[tokio::test]
async fn pings_do_not_excuse_invalid_frames() {
    let server = Server::start().await;
    let (_, at) = server.user("Alice").await;
    let mut raw = server.raw(&at).await;
    for _ in 0..9 {
        raw.send_text("]]]").await;
        assert!(matches!(raw.frame().await, ServerFrame::Error { code, .. } if code == "invalid"));
        raw.send_text(r#"{"type":"ping"}"#).await;
        assert_eq!(raw.frame().await, ServerFrame::Pong);
    }
    raw.send_text("]]]").await;
    assert_eq!(raw.close_code().await, Some(1008));
}

#[tokio::test]
async fn garbage_gets_an_error_and_repeated_garbage_closes_with_1008() {
    let server = Server::start().await;
    let (_, at) = server.user("Alice").await;
    let mut raw = server.raw(&at).await;
    raw.send_text("{not json").await;
    assert!(matches!(raw.frame().await, ServerFrame::Error { code, .. } if code == "invalid"));
    raw.send_text(r#"{"type":"launch_missiles"}"#).await;
    assert!(matches!(raw.frame().await, ServerFrame::Error { code, .. } if code == "invalid"));
    raw.send_text(r#"{"type":"send","room_id":1,"client_id":"c-7"}"#)
        .await;
    let reference = match raw.frame().await {
        ServerFrame::Error { reference, .. } => reference,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reference.as_deref(),
        Some("c-7"),
        "a failed send echoes its client_id"
    );
    raw.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(
        raw.frame().await,
        ServerFrame::Pong,
        "still connected after bad frames"
    );
    for _ in 0..10 {
        raw.send_text("]]]").await;
    }
    assert_eq!(raw.close_code().await, Some(1008));
}

/// Issue #11, item 9: a client that connects and sends nothing, or trickles its request, does
/// not hold a task for ever: `accept` gives up after the handshake timeout.
#[tokio::test]
async fn a_silent_or_trickling_client_is_dropped_during_accept() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut ws = WsConfig::default();
    ws.handshake_timeout = Duration::from_millis(300);
    let server = Server::with(chat_config(), ws).await;
    let addr = server
        .url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws");
    for opening in ["", "GET /ws HTTP/1.1\r\nHost: x\r\n"] {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(opening.as_bytes()).await.unwrap();
        let mut buf = [0u8; 64];
        let read = within("the server to hang up", tcp.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(0) | Err(_)),
            "{opening:?}: expected the socket closed, got {read:?}"
        );
    }
}

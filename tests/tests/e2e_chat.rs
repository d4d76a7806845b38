//! The happy paths a user walks through, over real HTTP and WebSocket: direct chats, groups,
//! live delivery, history (from the newest, and around an old message), unread counts, read
//! markers, media, guests, and a restart.
//! Each scenario runs on SQLite, MariaDB and PostgreSQL (the server databases skipped with a
//! reason when no server answers, outside CI).

#![allow(clippy::unwrap_used)] // scenarios are test code run by the generated tests: a panic is the report

use chat_tests::on_every_backend;

fn main() {
    chatcore::testing::harness::run_groups(on_every_backend!(
            direct_chat_over_websocket_and_rest,
            group_of_three_history_unread_and_read_markers,
            history_opens_around_an_old_message_and_reads_forward,
            media_round_trip_raw_and_multipart,
            guest_joins_then_upgrades_keeping_rooms,
            logout_ends_the_session_and_clears_the_cookie,
            shutdown_closes_live_sockets_with_1001;
            durable: everything_is_still_there_after_a_restart
    ));
}

use chat_tests::{Backend, PASSWORD, PNG, Server, wait_for};
use chatcore_ws::frames::ServerFrame;
use serde_json::json;

async fn history_opens_around_an_old_message_and_reads_forward(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let mallory = server.register("mallory").await;
    let room = server.group(&alice, "Long", &[]).await;
    for i in 1..=40 {
        server.say(&alice, room, &format!("m{i}")).await;
    }
    server
        .delete(Some(&alice), &format!("/api/v1/rooms/{room}/messages/20"))
        .await;
    let (server_ref, alice_ref) = (&server, &alice);
    let page = |query: &str| {
        let path = format!("/api/v1/rooms/{room}/messages?{query}");
        async move { server_ref.get(Some(alice_ref), &path).await }
    };
    let seqs = |body: &serde_json::Value| -> Vec<i64> {
        body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect()
    };

    let around = page("around=20&limit=6").await.json();
    assert_eq!(seqs(&around), [18, 19, 20, 21, 22, 23]);
    assert_eq!(
        around["messages"][2]["deleted"], true,
        "a tombstone in place"
    );
    assert_eq!(
        (&around["has_more"], &around["has_newer"]),
        (&json!(true), &json!(true))
    );
    let mut after = 23;
    let mut read = Vec::new();
    loop {
        let next = page(&format!("after={after}&limit=7")).await.json();
        read.extend(seqs(&next));
        after = *read.last().unwrap();
        if next["has_newer"] == false {
            break;
        }
    }
    assert_eq!(read, (24..=40).collect::<Vec<_>>(), "forward without a gap");

    // Bad requests name their parameter; an outsider learns nothing.
    for (query, field) in [
        ("around=0", "around"),
        ("around=x", "around"),
        ("around=5&before=9", "around"),
        ("after=3&around=5", "around"),
        ("after=-1", "after"),
        ("around=5&limit=101", "limit"),
    ] {
        let reply = page(query).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "invalid".into()),
            "{query}"
        );
        assert_eq!(reply.json()["error"]["field"], field, "{query}");
    }
    let outsider = server
        .get(
            Some(&mallory),
            &format!("/api/v1/rooms/{room}/messages?around=5"),
        )
        .await;
    assert_eq!(outsider.status, 404);
    server.stop().await;
}

async fn direct_chat_over_websocket_and_rest(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;

    let found = server.get(Some(&alice), "/api/v1/users?q=bo").await.json();
    assert_eq!(found["users"][0]["username"], "bob");
    assert!(
        found["users"][0].get("admin").is_none(),
        "other users' admin flag is private"
    );

    let room = server.direct(&alice, &bob).await;
    assert_eq!(
        server.direct(&bob, &alice).await,
        room,
        "the same room from either side"
    );

    let mut bob_ws = server.connect(&bob).await;
    let alice_ws = server.connect(&alice).await;
    let acked = alice_ws
        .send(chatcore::RoomId(room), "hi Bob <b>bold</b>")
        .await
        .expect("send");
    assert_eq!(acked.seq, 1);
    let got = wait_for(&mut bob_ws, |f| match f {
        ServerFrame::Message { message } => Some(message.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        got.body, "hi Bob <b>bold</b>",
        "text is data, delivered as sent"
    );
    assert_eq!(got.sender.id.0, alice.id);

    // A REST send reaches the live socket too.
    let sent = server.say(&bob, room, "hello over REST").await;
    assert_eq!(sent["seq"], 2);
    let view = server.room(&alice, room).await;
    assert_eq!(view["kind"], "direct");
    assert_eq!(view["name"], serde_json::Value::Null);
    assert_eq!(view["last_seq"], 2);
    assert_eq!(view["unread"], 1, "bob's REST message is unread for alice");
    assert_eq!(view["last_message"]["body"], "hello over REST");
    server.stop().await;
}

async fn group_of_three_history_unread_and_read_markers(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let room = server.group(&alice, "Weekend", &[&bob, &carol]).await;

    let view = server.room(&carol, room).await;
    assert_eq!(view["name"], "Weekend");
    assert_eq!(view["role"], "member");
    assert_eq!(view["members"].as_array().map(Vec::len), Some(3));
    assert_eq!(server.room(&alice, room).await["role"], "admin");

    let mut carol_ws = server.connect(&carol).await;
    for i in 1..=5 {
        server.say(&alice, room, &format!("message {i}")).await;
    }
    let last = wait_for(&mut carol_ws, |f| match f {
        ServerFrame::Message { message } if message.seq == 5 => Some(message.seq),
        _ => None,
    })
    .await;
    assert_eq!(last, 5);

    // History pages, oldest first within a page.
    let page = server
        .get(
            Some(&bob),
            &format!("/api/v1/rooms/{room}/messages?limit=2"),
        )
        .await
        .json();
    let seqs = |p: &serde_json::Value| -> Vec<i64> {
        p["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&page), [4, 5]);
    assert_eq!(page["has_more"], true);
    let page = server
        .get(
            Some(&bob),
            &format!("/api/v1/rooms/{room}/messages?before=4&limit=2"),
        )
        .await
        .json();
    assert_eq!(seqs(&page), [2, 3]);
    let page = server
        .get(
            Some(&bob),
            &format!("/api/v1/rooms/{room}/messages?before=2&limit=2"),
        )
        .await
        .json();
    assert_eq!(seqs(&page), [1]);
    assert_eq!(page["has_more"], false);

    // Unread counts and read markers.
    assert_eq!(server.room(&bob, room).await["unread"], 5);
    let read = server
        .post(
            Some(&bob),
            &format!("/api/v1/rooms/{room}/read"),
            json!({"seq": 3}),
        )
        .await;
    assert_eq!(read.status, 204);
    let view = server.room(&bob, room).await;
    assert_eq!(view["unread"], 2);
    assert_eq!(view["read_markers"][bob.id.to_string()], 3);
    let marker = wait_for(&mut carol_ws, |f| match f {
        ServerFrame::Read { user_id, seq, .. } if user_id.0 == bob.id => Some(*seq),
        _ => None,
    })
    .await;
    assert_eq!(marker, 3, "other members see the read receipt live");

    // The room list is sorted by activity and carries the same counts.
    let rooms = server.get(Some(&bob), "/api/v1/rooms").await.json();
    assert_eq!(rooms["rooms"][0]["id"], room);
    assert_eq!(rooms["rooms"][0]["unread"], 2);

    // Admin operations: rename, role, remove; a member leaves.
    let renamed = server
        .patch(
            Some(&alice),
            &format!("/api/v1/rooms/{room}"),
            json!({"name": "Long weekend"}),
        )
        .await;
    assert_eq!(renamed.json()["name"], "Long weekend");
    let path = format!("/api/v1/rooms/{room}/members/{}", bob.id);
    assert_eq!(
        server
            .patch(Some(&alice), &path, json!({"role": "admin"}))
            .await
            .status,
        204
    );
    assert_eq!(server.room(&bob, room).await["role"], "admin");
    let leave = server
        .delete(
            Some(&carol),
            &format!("/api/v1/rooms/{room}/members/{}", carol.id),
        )
        .await;
    assert_eq!(leave.status, 204);
    assert_eq!(
        server
            .get(Some(&carol), &format!("/api/v1/rooms/{room}"))
            .await
            .status,
        404
    );
    let dave = server.register("dave").await;
    let add = server
        .post(
            Some(&bob),
            &format!("/api/v1/rooms/{room}/members"),
            json!({"user_id": dave.id}),
        )
        .await;
    assert_eq!(add.status, 204);
    assert_eq!(server.room(&dave, room).await["last_seq"], 5);
    server.stop().await;
}

async fn media_round_trip_raw_and_multipart(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.direct(&alice, &bob).await;

    let upload = server.request(
        reqwest::Method::POST,
        &format!("/api/v1/rooms/{room}/media"),
        Some(&alice),
    );
    let reply = server
        .send(
            upload
                .header("content-type", "image/png")
                .body(PNG.to_vec()),
        )
        .await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let media = reply.json();
    assert_eq!(media["mime"], "image/png");
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(1), Some(1))
    );
    let media_id = media["id"].as_str().unwrap().to_owned();

    let sent = server
        .post(
            Some(&alice),
            &format!("/api/v1/rooms/{room}/messages"),
            json!({"body": "look", "media_id": media_id}),
        )
        .await;
    assert_eq!(sent.json()["media"]["id"], media_id);

    let got = server
        .get(Some(&bob), &format!("/api/v1/media/{media_id}"))
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body.len() as u64, media["size"].as_u64().unwrap());
    assert!(
        got.body.starts_with(b"\x89PNG"),
        "stored re-encoded, still a PNG"
    );
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(got.header("content-security-policy"), Some("sandbox"));
    assert_eq!(
        got.header("content-disposition"),
        Some(format!("inline; filename=\"media-{media_id}.png\"").as_str())
    );
    assert_eq!(
        got.header("cache-control"),
        Some("private, max-age=31536000, immutable")
    );

    let part = reqwest::multipart::Part::bytes(PNG.to_vec())
        .file_name("dot.png")
        .mime_str("image/png")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("note", "ignored")
        .part("file", part);
    let upload = server.request(
        reqwest::Method::POST,
        &format!("/api/v1/rooms/{room}/media"),
        Some(&bob),
    );
    let reply = server.send(upload.multipart(form)).await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["mime"], "image/png");
    server.stop().await;
}

async fn guest_joins_then_upgrades_keeping_rooms(backend: Backend) {
    // (A guest writes to a stranger only when everyone may contact everyone.)
    let Some(server) =
        Server::on_with(backend, |c| c.discovery = chatcore::Discovery::Everyone).await
    else {
        return;
    };
    let alice = server.register("alice").await;
    let guest = server.guest("Visitor").await;
    assert_eq!(guest.username, None);
    let me = server.get(Some(&guest), "/api/v1/me").await.json();
    assert_eq!(me["guest"], true);
    assert_eq!(me["display_name"], "Visitor");

    let room = server.direct(&guest, &alice).await;
    server.say(&guest, room, "hi, just looking").await;
    let refused = server
        .post(
            Some(&guest),
            "/api/v1/rooms",
            json!({"name": "Mine", "members": []}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (403, "forbidden")
    );

    let up = server
        .post(
            Some(&guest),
            "/api/v1/auth/upgrade",
            json!({"username": "visitor", "password": PASSWORD}),
        )
        .await;
    assert_eq!(up.status, 200, "{}", String::from_utf8_lossy(&up.body));
    assert_eq!(up.json()["user"]["guest"], false);
    assert_eq!(up.json()["user"]["username"], "visitor");
    let token = up.json()["token"].as_str().unwrap().to_owned();
    assert!(
        up.header("set-cookie")
            .is_some_and(|c| c.contains(&format!("chat_session={token}"))),
        "the new session comes as a cookie too"
    );
    let upgraded = chat_tests::TestUser {
        id: guest.id,
        username: Some("visitor".into()),
        token,
    };
    assert_eq!(server.login("visitor", PASSWORD).await.status, 200);
    let rooms = server.get(Some(&upgraded), "/api/v1/rooms").await.json();
    assert_eq!(rooms["rooms"][0]["id"], room);
    assert_eq!(
        rooms["rooms"][0]["last_message"]["body"],
        "hi, just looking"
    );
    assert_eq!(
        server
            .post(
                Some(&upgraded),
                "/api/v1/rooms",
                json!({"name": "Mine", "members": []})
            )
            .await
            .status,
        201
    );
    server.stop().await;
}

async fn logout_ends_the_session_and_clears_the_cookie(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let out = server
        .post(Some(&alice), "/api/v1/auth/logout", json!({}))
        .await;
    assert_eq!(out.status, 204);
    let cookie = out.header("set-cookie").unwrap_or_default();
    assert!(
        cookie.starts_with("chat_session=;") && cookie.contains("Max-Age=0"),
        "{cookie}"
    );
    assert_eq!(server.get(Some(&alice), "/api/v1/me").await.status, 401);
    server.stop().await;
}

async fn everything_is_still_there_after_a_restart(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.group(&alice, "Persistent", &[&bob]).await;
    for i in 1..=3 {
        server.say(&bob, room, &format!("kept {i}")).await;
    }
    let upload = server.request(
        reqwest::Method::POST,
        &format!("/api/v1/rooms/{room}/media"),
        Some(&alice),
    );
    let media_id = server.send(upload.body(PNG.to_vec())).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored = server
        .get(Some(&alice), &format!("/api/v1/media/{media_id}"))
        .await
        .body;
    server
        .post(
            Some(&alice),
            &format!("/api/v1/rooms/{room}/read"),
            json!({"seq": 2}),
        )
        .await;

    let server = server.restart().await;
    // Sessions survive: the old token still works.
    let view = server.room(&alice, room).await;
    assert_eq!(view["name"], "Persistent");
    assert_eq!(view["last_seq"], 3);
    assert_eq!(view["unread"], 1);
    let history = server
        .get(Some(&bob), &format!("/api/v1/rooms/{room}/messages"))
        .await
        .json();
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["kept 1", "kept 2", "kept 3"]);
    assert_eq!(
        server
            .get(Some(&alice), &format!("/api/v1/media/{media_id}"))
            .await
            .body,
        stored,
        "the uploader still gets the upload (not sent yet, so only they may)"
    );
    assert_eq!(server.login("bob", PASSWORD).await.status, 200);
    // New messages continue the sequence.
    assert_eq!(server.say(&alice, room, "after restart").await["seq"], 4);
    server.stop().await;
}

async fn shutdown_closes_live_sockets_with_1001(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let mut ws = server.connect(&alice).await;
    server.stop().await;
    let wait = async {
        loop {
            match ws.next_event().await {
                Some(chatcore_ws::client::ClientEvent::Closed { code, .. }) => return code,
                Some(_) => {}
                None => return None,
            }
        }
    };
    let code = tokio::time::timeout(chat_tests::PATIENCE, wait)
        .await
        .expect("no close");
    assert_eq!(code, Some(1001));
}

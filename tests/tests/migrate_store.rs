//! Moving a chat to another database with `migrate-store` (the function the reference server's
//! `migrate-store` command runs): a chat populated through the API on SQLite — accounts, a
//! group and a direct chat, 10,000 messages, media, an edit and a delete, read markers — is
//! copied to MariaDB and to PostgreSQL. A server started on each copy lets people in with their
//! old passwords and sessions, shows the same rooms, and resumes a client from its old per-room
//! seqs with no gap and no duplicate. An interrupted copy continues where it stopped; a
//! database that is not empty is refused. Without MariaDB or PostgreSQL, outside CI, the tests
//! that need them are reported ignored.

#![allow(clippy::unwrap_used)] // scenarios are test code: a panic is the report

use chat_tests::{
    Backend, PASSWORD, PNG, Server, Stopped, TestDatabase, TestUser, no_service, raw_frame,
    raw_send,
};
use chatcore::RoomId;
use chatcore_ws::client::Connect;
use futures::{StreamExt, stream};
use reference_server::migrate_store::migrate_store;
use reference_server::storage::{Backend as StoreBackend, open_store};
use serde_json::{Value, json};

fn main() {
    chatcore::testing::harness::run_groups(vec![
        (
            [Backend::MySql.needs(), Backend::Postgres.needs()].concat(),
            chatcore::harness_tests![a_chat_moves_from_sqlite_to_mariadb_and_to_postgres],
        ),
        (
            Backend::Postgres.needs(),
            chatcore::harness_tests![an_interrupted_copy_resumes_where_it_stopped],
        ),
        no_service(chatcore::harness_tests![
            a_database_in_use_is_refused_and_left_alone
        ]),
    ]);
}

/// Sends in flight at once on the populating socket.
const IN_FLIGHT: usize = 256;

/// A stopped chat on SQLite and what its users saw before it stopped.
struct Chat {
    stopped: Stopped,
    alice: TestUser,
    bob: TestUser,
    group: i64,
    direct: i64,
    media_id: String,
    /// The stored (re-encoded) bytes of the media.
    media_bytes: Vec<u8>,
    /// `GET /api/v1/rooms` as Bob saw it (without the `online` flags, which are live state).
    bobs_rooms: Value,
    /// A page from the middle of the group's history.
    page: Value,
    /// The token of an invite link to the group.
    invite: String,
    /// Alice's profile picture: its path and its bytes.
    avatar: (String, Vec<u8>),
}

/// A chat on SQLite with `messages` text messages from Alice over one socket (one in five in
/// the direct chat), plus one with media, an edit, a delete, a reaction, read markers and an
/// invite link; Alice has a picture, and Bob hides when he was last seen (so nobody's "last
/// seen", which moves with every login, shows in the rooms compared).
async fn chat_on_sqlite(messages: usize) -> Chat {
    let server = Server::start_with(|c| {
        c.send_rate_per_sec = 1e9;
        c.send_burst = 1_000_000;
        c.ws_rate_per_sec = 1e9;
        c.ws_rate_burst = 1e9;
    })
    .await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let group = server.group(&alice, "Team", &[&bob, &carol]).await;
    let direct = server.direct(&alice, &bob).await;

    let upload = server.request(
        reqwest::Method::POST,
        &format!("/api/v1/rooms/{group}/media"),
        Some(&alice),
    );
    let media_id = server.send(upload.body(PNG.to_vec())).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let media_bytes = server
        .get(Some(&alice), &format!("/api/v1/media/{media_id}"))
        .await
        .body;
    let with_media = server
        .post(
            Some(&alice),
            &format!("/api/v1/rooms/{group}/messages"),
            json!({"body": "the picture", "media_id": media_id}),
        )
        .await;
    assert_eq!(with_media.status, 201);

    let socket = Connect::bearer(server.ws_url(), &alice.token)
        .events(false)
        .connect()
        .await
        .unwrap();
    stream::iter(1..=messages)
        .map(|i| {
            let room = if i % 5 == 0 { direct } else { group };
            let socket = &socket;
            async move { socket.send(RoomId(room), &format!("message {i}")).await }
        })
        .buffer_unordered(IN_FLIGHT)
        .for_each(|sent| async move {
            sent.unwrap();
        })
        .await;
    socket.close().await;

    let mut raw = server.raw_socket(&alice).await;
    raw_send(
        &mut raw,
        json!({"type": "edit", "room_id": group, "seq": 2, "body": "edited"}).to_string(),
    )
    .await;
    assert_eq!(raw_frame(&mut raw).await["type"], "edited");
    raw_send(
        &mut raw,
        json!({"type": "delete", "room_id": group, "seq": 3}).to_string(),
    )
    .await;
    assert_eq!(raw_frame(&mut raw).await["type"], "deleted");
    drop(raw);
    let react = server.request(
        reqwest::Method::PUT,
        &format!("/api/v1/rooms/{group}/messages/2/reactions/%F0%9F%91%8D"),
        Some(&bob),
    );
    assert_eq!(server.send(react).await.status, 200);
    let invite = server
        .post(
            Some(&alice),
            &format!("/api/v1/rooms/{group}/invites"),
            json!({"max_uses": 5}),
        )
        .await;
    assert_eq!(invite.status, 201);
    let invite = invite.json()["token"].as_str().unwrap().to_owned();
    for (user, room, seq) in [
        (&bob, group, 4000),
        (&carol, group, 100),
        (&bob, direct, 1500),
    ] {
        let read = server
            .post(
                Some(user),
                &format!("/api/v1/rooms/{room}/read"),
                json!({"seq": seq}),
            )
            .await;
        assert_eq!(read.status, 204);
    }

    let set = server.request(reqwest::Method::PUT, "/api/v1/me/avatar", Some(&alice));
    let set = server.send(set.body(PNG.to_vec())).await;
    assert_eq!(set.status, 200);
    let avatar = format!(
        "/api/v1/users/{}/avatar/{}",
        alice.id,
        set.json()["avatar"].as_str().unwrap()
    );
    let avatar = (avatar.clone(), server.get(Some(&bob), &avatar).await.body);
    let hidden = server
        .patch(Some(&bob), "/api/v1/me", json!({"hide_last_seen": true}))
        .await;
    assert_eq!(hidden.status, 200);

    let bobs_rooms = without_online(server.get(Some(&bob), "/api/v1/rooms").await.json());
    let page = history(&server, &bob, group, "before=3000&limit=100").await;
    let stopped = server.stop_keeping_data().await;
    Chat {
        stopped,
        alice,
        bob,
        group,
        direct,
        media_id,
        media_bytes,
        bobs_rooms,
        page,
        invite,
        avatar,
    }
}

/// Bob's room list is as it was (avatars and hidden last seen included) and Alice's picture is
/// found; returns the list.
async fn rooms_and_picture_survive(server: &Server, chat: &Chat) -> Value {
    let rooms = without_online(server.get(Some(&chat.bob), "/api/v1/rooms").await.json());
    assert_eq!(rooms, chat.bobs_rooms, "with avatars and hidden last seen");
    let (path, bytes) = &chat.avatar;
    let avatar = server.get(Some(&chat.bob), path).await;
    assert_eq!(
        (avatar.status, &avatar.body),
        (200, bytes),
        "the picture is found"
    );
    rooms
}

/// `rooms` with every `online` flag removed.
fn without_online(mut rooms: Value) -> Value {
    for room in rooms["rooms"].as_array_mut().unwrap() {
        for member in room["members"].as_array_mut().unwrap() {
            member.as_object_mut().unwrap().remove("online");
        }
    }
    rooms
}

/// The room with id `room` in a `GET /api/v1/rooms` answer.
fn room_in(rooms: &Value, room: i64) -> &Value {
    rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room)
        .unwrap()
}

async fn history(server: &Server, user: &TestUser, room: i64, query: &str) -> Value {
    let page = server
        .get(
            Some(user),
            &format!("/api/v1/rooms/{room}/messages?{query}"),
        )
        .await;
    assert_eq!(page.status, 200);
    page.json()
}

/// Copies `chat`'s database into `target` with `migrate-store`, returning what it printed.
async fn migrate(chat: &Chat, target: &str) -> anyhow::Result<String> {
    let mut out = Vec::new();
    migrate_store(&chat.stopped.config.database_url(), target, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

async fn a_chat_moves_from_sqlite_to_mariadb_and_to_postgres() {
    let chat = chat_on_sqlite(10_000).await;
    for backend in [Backend::MySql, Backend::Postgres] {
        let target = TestDatabase::create(backend)
            .await
            .expect("a test database");
        let printed = migrate(&chat, &target.url).await.unwrap();
        assert!(
            printed.contains("messages: 10001 of 10001 rows"),
            "{printed}"
        );
        assert!(
            printed.contains(
                "copied: users 3, rooms 2, members 5, sessions 3, media 1, messages 10001, \
                 reactions 1, invites 1"
            ),
            "{printed}"
        );
        assert!(
            printed.contains("last seq of all 2 rooms match"),
            "{printed}"
        );
        assert!(!printed.contains(PASSWORD), "{printed}");

        let server = chat.stopped.start_on(&target).await;
        sessions_passwords_and_rooms_survive(&server, &chat).await;
        a_client_resumes_from_its_old_seqs(&server, &chat).await;
        new_rows_get_new_ids(&server, &chat).await;
        server.stop().await;
    }
}

async fn sessions_passwords_and_rooms_survive(server: &Server, chat: &Chat) {
    let me = server.get(Some(&chat.bob), "/api/v1/me").await;
    assert_eq!(me.status, 200, "Bob's session was copied");
    assert_eq!(server.login("alice", PASSWORD).await.status, 200);
    assert_eq!(server.login("alice", "not the password").await.status, 401);
    let rooms = rooms_and_picture_survive(server, chat).await;
    assert_eq!(
        room_in(&rooms, chat.group)["unread"],
        4001,
        "read markers were copied"
    );
    let page = history(server, &chat.bob, chat.group, "before=3000&limit=100").await;
    assert_eq!(page, chat.page);
    let first = history(server, &chat.bob, chat.group, "before=4&limit=3").await;
    assert_eq!(first["messages"][0]["media"]["id"], chat.media_id);
    assert_eq!(first["messages"][1]["body"], "edited");
    assert_eq!(
        first["messages"][1]["reactions"],
        json!([{"emoji": "👍", "users": [chat.bob.id]}])
    );
    assert_eq!(first["messages"][2]["deleted"], true);
    let media = server
        .get(Some(&chat.bob), &format!("/api/v1/media/{}", chat.media_id))
        .await;
    assert_eq!(
        media.body, chat.media_bytes,
        "the bytes stayed in the data directory"
    );
    let invite = server
        .get(None, &format!("/api/v1/invites/{}", chat.invite))
        .await;
    assert_eq!(invite.status, 200, "the invite link still works");
    assert_eq!(invite.json()["member_count"], 3);
}

/// Bob's client had seen the group up to 500 before its end and the direct chat up to 300
/// before its end: `sync` with those seqs brings exactly the rest, then live messages follow.
async fn a_client_resumes_from_its_old_seqs(server: &Server, chat: &Chat) {
    let last = |room: i64| {
        room_in(&chat.bobs_rooms, room)["last_seq"]
            .as_i64()
            .unwrap()
    };
    let (group_last, direct_last) = (last(chat.group), last(chat.direct));
    let seen = [
        (chat.group, group_last - 500),
        (chat.direct, direct_last - 300),
    ];
    let mut socket = server.raw_socket(&chat.bob).await;
    raw_send(
        &mut socket,
        json!({"type": "sync", "rooms": {
            chat.group.to_string(): seen[0].1,
            chat.direct.to_string(): seen[1].1,
        }})
        .to_string(),
    )
    .await;
    let mut next = seen;
    loop {
        let frame = raw_frame(&mut socket).await;
        if frame["type"] == "synced" {
            break;
        }
        assert_eq!(frame["type"], "message", "{frame}");
        let room = frame["message"]["room_id"].as_i64().unwrap();
        let expected = next.iter_mut().find(|(r, _)| *r == room).unwrap();
        expected.1 += 1;
        assert_eq!(frame["message"]["seq"], expected.1, "no gap, no duplicate");
    }
    assert_eq!(next, [(chat.group, group_last), (chat.direct, direct_last)]);
    let said = server.say(&chat.alice, chat.group, "after the move").await;
    assert_eq!(said["seq"], group_last + 1);
    let live = raw_frame(&mut socket).await;
    assert_eq!(live["type"], "message", "{live}");
    assert_eq!(live["message"]["seq"], group_last + 1);
}

/// Users, rooms, members and media made after the move get ids of their own (the copy moved
/// the target's id generators past the copied rows).
async fn new_rows_get_new_ids(server: &Server, chat: &Chat) {
    let dave = server.register("dave").await;
    assert!(dave.id > chat.bob.id);
    let room = server.group(&dave, "New", &[&chat.bob]).await;
    assert!(room > chat.group.max(chat.direct));
    let upload = server.request(
        reqwest::Method::POST,
        &format!("/api/v1/rooms/{room}/media"),
        Some(&dave),
    );
    let media = server.send(upload.body(PNG.to_vec())).await;
    assert_eq!(media.status, 201);
    assert_ne!(media.json()["id"].as_str(), Some(chat.media_id.as_str()));
}

async fn an_interrupted_copy_resumes_where_it_stopped() {
    let chat = chat_on_sqlite(2_000).await;
    let target = TestDatabase::create(Backend::Postgres)
        .await
        .expect("a test database");
    let (StoreBackend::Sqlite(from), StoreBackend::Postgres(to)) = (
        open_store(&chat.stopped.config.database_url())
            .await
            .unwrap()
            .1,
        open_store(&target.url).await.unwrap().1,
    ) else {
        panic!("SQLite and PostgreSQL stores");
    };
    let (copied, mut watch) = tokio::sync::watch::channel(0);
    let copy = chatcore_sql::transfer::copy_store(&from, &to, |p| {
        if p.table == "messages" {
            copied.send_replace(p.copied);
        }
    });
    tokio::select! {
        done = copy => panic!("the copy finished before it was interrupted: {done:?}"),
        reached = watch.wait_for(|&n| n >= 500) => { reached.unwrap(); }
    }
    from.close().await;
    to.close().await;

    let printed = migrate(&chat, &target.url).await.unwrap();
    assert!(printed.contains("resumed an interrupted copy"), "{printed}");
    assert!(printed.contains("messages: 2001 of 2001 rows"), "{printed}");
    assert!(
        printed.contains("last seq of all 2 rooms match"),
        "{printed}"
    );
    // A finished copy is checked again and copies nothing.
    let again = migrate(&chat, &target.url).await.unwrap();
    assert!(again.contains("messages 2001"), "{again}");

    let server = chat.stopped.start_on(&target).await;
    rooms_and_picture_survive(&server, &chat).await;
    server.stop().await;
}

async fn a_database_in_use_is_refused_and_left_alone() {
    let chat = chat_on_sqlite(10).await;
    let other = Server::start().await;
    other.register("someone").await;
    let other = other.stop_keeping_data().await;
    let target = other.config.database_url();

    let refused = migrate(&chat, &target).await.unwrap_err();
    assert!(format!("{refused:#}").contains("not empty"), "{refused:#}");
    let (_, store) = open_store(&target).await.unwrap();
    let StoreBackend::Sqlite(store) = store else {
        panic!("a SQLite store")
    };
    assert!(
        chatcore::Store::user_by_username(&store, "alice")
            .await
            .unwrap()
            .is_none(),
        "nothing was written"
    );
    store.close().await;

    let same = migrate(&chat, &chat.stopped.config.database_url())
        .await
        .unwrap_err();
    assert!(format!("{same:#}").contains("same database"), "{same:#}");
    let memory = migrate(&chat, "memory:").await.unwrap_err();
    assert!(format!("{memory:#}").contains("target"), "{memory:#}");
}

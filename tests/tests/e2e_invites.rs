//! Invite links over real HTTP and WebSocket, with their access rules: only a group's admins
//! create, list and revoke its links; a link admits to its own group only, as a guest or an
//! account; used-up, revoked, expired and unknown links get one answer; dead links are
//! rate-limited per address and per user, as far as the server's flags say. The server runs on
//! the wall clock, so the expired link is written to its store directly; expiry itself is
//! proved with a paused clock in `chatcore`. Each scenario runs on every backend (the server
//! databases skipped with a reason when no server answers, outside CI).

#![allow(clippy::unwrap_used)] // scenarios are test code run by the generated tests: a panic is the report

use chat_tests::on_every_backend;

fn main() {
    chatcore::testing::harness::run_groups(on_every_backend!(
        a_guest_follows_a_link_into_the_group,
        only_admins_manage_links_and_a_link_admits_to_its_own_group,
        dead_links_get_one_answer,
        the_dead_link_throttles_follow_their_flags
    ));
}

use chat_tests::{Backend, Reply, Server, TestUser, wait_for};
use chatcore::{NewInvite, RoomId, Store, Timestamp, UserId};
use chatcore_ws::frames::ServerFrame;
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};

async fn create(server: &Server, admin: &TestUser, room: i64, body: Value) -> Reply {
    server
        .post(Some(admin), &format!("/api/v1/rooms/{room}/invites"), body)
        .await
}

async fn link(server: &Server, admin: &TestUser, room: i64, body: Value) -> Value {
    let reply = create(server, admin, room, body).await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

/// `POST /api/v1/invites/{token}/join` as `user` (or without a session).
async fn join(server: &Server, user: Option<&TestUser>, token: &str) -> Reply {
    server
        .post(user, &format!("/api/v1/invites/{token}/join"), json!({}))
        .await
}

async fn a_guest_follows_a_link_into_the_group(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.group(&alice, "Book club", &[&bob]).await;
    let created = link(&server, &alice, room, json!({"max_uses": 5})).await;
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 43);
    assert_eq!(created["room_id"], room);
    assert_eq!(created["state"], "active");
    assert_eq!(
        (created["uses"].clone(), created["max_uses"].clone()),
        (json!(0), json!(5))
    );
    assert!(token.starts_with(created["token_prefix"].as_str().unwrap()));

    // The preview needs no session.
    let preview = server.get(None, &format!("/api/v1/invites/{token}")).await;
    assert_eq!(preview.status, 200);
    assert_eq!(preview.json()["room_name"], "Book club");
    assert_eq!(preview.json()["member_count"], 2);
    assert_eq!(preview.json()["expires_at"], created["expires_at"]);

    // Joining does.
    let nobody = join(&server, None, &token).await;
    assert_eq!(
        (nobody.status, nobody.code()),
        (401, "unauthenticated".into())
    );

    let mut alice_ws = server.connect(&alice).await;
    let guest = server.guest("Gus").await;
    let joined = join(&server, Some(&guest), &token).await;
    assert_eq!(
        joined.status,
        200,
        "{}",
        String::from_utf8_lossy(&joined.body)
    );
    assert_eq!(joined.json()["id"], room);
    assert_eq!(joined.json()["name"], "Book club");
    let joiner = wait_for(&mut alice_ws, |f| match f {
        ServerFrame::Room {
            room_id, user_id, ..
        } if room_id.0 == room => Some(user_id.0),
        _ => None,
    })
    .await;
    assert_eq!(joiner, guest.id);
    // The guest now reads and writes like any member.
    server.say(&guest, room, "hello, club").await;
    let again = join(&server, Some(&guest), &token).await;
    assert_eq!(again.status, 200, "joining twice changes nothing");
    let listed = server
        .get(Some(&alice), &format!("/api/v1/rooms/{room}/invites"))
        .await
        .json();
    assert_eq!(
        listed["invites"][0]["uses"], 1,
        "an existing member counts no use"
    );
    assert!(
        listed["invites"][0].get("token").is_none(),
        "the token is shown once"
    );
    server.stop().await;
}

async fn only_admins_manage_links_and_a_link_admits_to_its_own_group(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let mallory = server.register("mallory").await;
    let room = server.group(&alice, "Private", &[&bob]).await;
    let mine = server.group(&mallory, "Mallory's", &[]).await;
    let created = link(&server, &alice, room, json!({})).await;
    let id = created["id"].as_i64().unwrap();

    // A member is refused; an outsider learns nothing.
    let member = create(&server, &bob, room, json!({})).await;
    assert_eq!((member.status, member.code()), (403, "forbidden".into()));
    let listed = server
        .get(Some(&bob), &format!("/api/v1/rooms/{room}/invites"))
        .await;
    assert_eq!((listed.status, listed.code()), (403, "forbidden".into()));
    let revoked = server
        .delete(Some(&bob), &format!("/api/v1/rooms/{room}/invites/{id}"))
        .await;
    assert_eq!((revoked.status, revoked.code()), (403, "forbidden".into()));
    for reply in [
        create(&server, &mallory, room, json!({})).await,
        server
            .get(Some(&mallory), &format!("/api/v1/rooms/{room}/invites"))
            .await,
        server
            .delete(
                Some(&mallory),
                &format!("/api/v1/rooms/{room}/invites/{id}"),
            )
            .await,
    ] {
        assert_eq!((reply.status, reply.code()), (404, "not_found".into()));
    }
    // Another group's admin cannot reach the link through their own group.
    let through_mine = server
        .delete(
            Some(&mallory),
            &format!("/api/v1/rooms/{mine}/invites/{id}"),
        )
        .await;
    assert_eq!(
        (through_mine.status, through_mine.code()),
        (404, "not_found".into())
    );
    let direct = server.direct(&alice, &bob).await;
    let on_direct = create(&server, &alice, direct, json!({})).await;
    assert_eq!(
        (on_direct.status, on_direct.code()),
        (403, "forbidden".into())
    );

    // Bad options are refused, named by the body key sent, and store nothing.
    for (body, field) in [
        (json!({"expires_in_secs": 0}), "expires_in_secs"),
        (json!({"expires_in_secs": 59}), "expires_in_secs"),
        (
            json!({"expires_in_secs": 30 * 24 * 3600 + 1}),
            "expires_in_secs",
        ),
        (json!({"max_uses": 0}), "max_uses"),
        (json!({"max_uses": 100_001}), "max_uses"),
        (
            json!({"expires_in_secs": 5, "max_uses": 10}),
            "expires_in_secs",
        ),
    ] {
        let reply = create(&server, &alice, room, body).await;
        assert_eq!((reply.status, reply.code()), (400, "invalid".into()));
        assert_eq!(reply.json()["error"]["field"], field);
    }
    for body in [
        json!({"room_id": mine}),
        json!({"expires_in_secs": -1}),
        json!({"expires_in_secs": "7d"}),
        json!({"max_uses": 1.5}),
    ] {
        let reply = create(&server, &alice, room, body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "bad_json".into()),
            "unknown fields and wrong types are refused: {body}"
        );
    }
    let listed = server
        .get(Some(&alice), &format!("/api/v1/rooms/{room}/invites"))
        .await
        .json();
    assert_eq!(listed["invites"].as_array().unwrap().len(), 1);

    // The link admits to its own group, and nowhere else.
    let token = created["token"].as_str().unwrap();
    let joined = join(&server, Some(&mallory), token).await;
    assert_eq!(joined.json()["id"], room);
    let rooms = server.get(Some(&mallory), "/api/v1/rooms").await.json();
    let ids: Vec<i64> = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&room) && ids.contains(&mine));
    server.stop().await;
}

/// A link of `room` by `admin` that expired a day ago, written to the server's store directly
/// (the server runs on the wall clock, and a link lives at least a minute); returns its token.
async fn expired_link(store: &dyn Store, admin: &TestUser, room: i64) -> String {
    use sha2::Digest as _;
    let token = "expired-link-0123456789-abcdefghijklmnopqrs".to_owned();
    let now = Timestamp::now();
    let day = std::time::Duration::from_secs(24 * 60 * 60);
    store
        .create_invite(
            NewInvite {
                room_id: RoomId(room),
                token_hash: sha2::Sha256::digest(token.as_bytes()).into(),
                token_prefix: token[..6].to_owned(),
                created_by: UserId(admin.id),
                created_at: now.minus(2 * day),
                expires_at: now.minus(day),
                max_uses: None,
            },
            100,
        )
        .await
        .unwrap();
    token
}

async fn dead_links_get_one_answer(backend: Backend) {
    let store = Arc::new(OnceLock::new());
    let keep = store.clone();
    let wrap = move |inner: Arc<dyn Store>| {
        keep.set(inner.clone()).ok();
        inner
    };
    let Some(server) = Server::on_wrapped(backend, |_| {}, wrap).await else {
        return;
    };
    let store = store.get().unwrap().clone();
    let alice = server.register("alice").await;
    let room = server.group(&alice, "Once", &[]).await;
    let once = link(&server, &alice, room, json!({"max_uses": 1})).await;
    let revoked = link(&server, &alice, room, json!({})).await;
    let gone = server
        .delete(
            Some(&alice),
            &format!("/api/v1/rooms/{room}/invites/{}", revoked["id"]),
        )
        .await;
    assert_eq!(gone.status, 204);
    let expired = expired_link(&*store, &alice, room).await;
    let first = server.register("first").await;
    assert_eq!(
        join(&server, Some(&first), once["token"].as_str().unwrap())
            .await
            .status,
        200
    );

    let late = server.register("late").await;
    let mut answers = Vec::new();
    let unknown = "A".repeat(43);
    for token in [
        once["token"].as_str().unwrap(),
        revoked["token"].as_str().unwrap(),
        expired.as_str(),
        unknown.as_str(),
        "short",
    ] {
        let preview = server.get(None, &format!("/api/v1/invites/{token}")).await;
        let joined = join(&server, Some(&late), token).await;
        for reply in [&preview, &joined] {
            assert_eq!(
                (reply.status, reply.code()),
                (404, "not_found".into()),
                "{token}"
            );
        }
        answers.push((preview.json(), joined.json()));
    }
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "one answer whatever the reason: {answers:?}"
    );
    let rooms = server.get(Some(&late), "/api/v1/rooms").await.json();
    assert_eq!(rooms["rooms"], json!([]), "nothing was joined");
    let listed = server
        .get(Some(&alice), &format!("/api/v1/rooms/{room}/invites"))
        .await
        .json();
    let states: Vec<&str> = listed["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.len(), 2, "revoked links are gone: {states:?}");
    assert!(
        states.contains(&"used_up") && states.contains(&"expired"),
        "{states:?}"
    );

    // Guessing is slowed per address: 30 dead links per 15 minutes
    // (`chatcore_http::app::INVITE_FAILURES_PER_15_MIN`), then 429 even for a live link.
    for i in answers.len() * 2..30 {
        let guess = format!("{i:0>43}");
        let reply = server.get(None, &format!("/api/v1/invites/{guess}")).await;
        assert_eq!(reply.status, 404);
    }
    let live = link(&server, &alice, room, json!({})).await;
    let over = server
        .get(
            None,
            &format!("/api/v1/invites/{}", live["token"].as_str().unwrap()),
        )
        .await;
    assert_eq!((over.status, over.code()), (429, "rate_limited".into()));
    server.stop().await;
}

async fn the_dead_link_throttles_follow_their_flags(backend: Backend) {
    let Some(server) = Server::on_with(backend, |c| {
        c.invite_failures_per_ip = 40;
        c.invite_failures_per_user = 2;
    })
    .await
    else {
        return;
    };
    let mallory = server.register("mallory").await;
    let guess = |i: usize| format!("{i:0>43}");
    // Per user: the third dead link a user tries to join by is refused unchecked.
    for i in 0..2 {
        let reply = join(&server, Some(&mallory), &guess(i)).await;
        assert_eq!(reply.status, 404);
    }
    let over = join(&server, Some(&mallory), &guess(2)).await;
    assert_eq!((over.status, over.code()), (429, "rate_limited".into()));
    // Per address: 40 dead links, not the default 30 (the two dead joins count; the refused
    // one does not), then 429.
    for i in 3..41 {
        let reply = server
            .get(None, &format!("/api/v1/invites/{}", guess(i)))
            .await;
        assert_eq!(reply.status, 404, "dead link {i}");
    }
    let over = server
        .get(None, &format!("/api/v1/invites/{}", guess(41)))
        .await;
    assert_eq!((over.status, over.code()), (429, "rate_limited".into()));
    server.stop().await;
}

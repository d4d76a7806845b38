//! Attacks on the running server, each the way an attacker would run it: many requests at
//! once, clients that hang up mid-request, operations racing each other, floods. Scenarios
//! that touch storage run on SQLite, MariaDB and PostgreSQL.

#![allow(clippy::unwrap_used)] // scenarios are test code run by the generated tests: a panic is the report

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chat_tests::{
    Backend, PASSWORD, Reply, Server, TestUser, closed_with, no_service, on_every_backend,
    raw_frame, raw_send, wait_until,
};
use chatcore::Discovery;
use chatcore::testing::GatedStore;
use futures::future::join_all;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

fn main() {
    let mut groups = on_every_backend!(
            parallel_attempts_share_one_budget,
            a_refused_registration_does_not_use_up_the_address,
            invisible_characters_never_reach_a_name,
            an_upgrade_ends_every_guest_session,
            of_concurrent_upgrades_exactly_one_wins,
            a_member_removed_while_connecting_never_receives_the_room,
            concurrent_adds_never_pass_the_group_cap,
            admins_demoting_each_other_leave_an_admin,
            admins_leaving_at_once_leave_an_admin,
            a_rest_send_flood_is_paced_then_refused,
            rest_and_websocket_sends_share_one_budget,
            group_and_member_add_floods_are_refused,
            an_ack_paced_sender_is_slowed_never_closed,
            an_oversized_sync_is_refused;
            durable: an_open_socket_closes_when_its_session_expires
    );
    groups.push(no_service(chatcore::harness_tests![
        clients_that_reset_mid_login_cannot_multiply_hashing,
        a_full_hashing_line_answers_503_busy_at_once,
        an_oversized_username_is_refused_without_a_hash,
        silent_clients_are_dropped_and_one_address_cannot_take_every_socket,
    ]));
    chatcore::testing::harness::run_groups(groups);
}

/// How many replies had each (status, code).
fn tally(replies: &[Reply]) -> BTreeMap<(u16, String), usize> {
    let mut counts = BTreeMap::new();
    for reply in replies {
        *counts.entry((reply.status, reply.code())).or_insert(0) += 1;
    }
    counts
}

fn count(replies: &[Reply], status: u16) -> usize {
    replies.iter().filter(|r| r.status == status).count()
}

/// Every 429 says when to come back.
fn assert_retry_after(replies: &[Reply]) {
    for reply in replies.iter().filter(|r| r.status == 429) {
        assert_eq!(reply.code(), "rate_limited");
        let secs: u64 = reply
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!(secs >= 1);
    }
}

/// Issue #11, item 1: limits are reserved before the work, so sixty requests in flight at once
/// get no more than the limit allows: per username, per address, for registrations and guests.
async fn parallel_attempts_share_one_budget(backend: Backend) {
    let Some(server) = Server::on_with(backend, |c| {
        c.login_failures_per_ip = 8;
        c.registrations_per_hour = 4;
        c.guests_per_hour = 3;
    })
    .await
    else {
        return;
    };
    server.register("alice").await;

    // Sixty wrong passwords for one username at once: five are checked, the rest refused.
    let logins = join_all((0..60).map(|_| server.login("alice", "wrong password!"))).await;
    assert_eq!(count(&logins, 401), 5, "{:?}", tally(&logins));
    assert_eq!(count(&logins, 429), 55, "{:?}", tally(&logins));
    assert_retry_after(&logins);
    assert_eq!(
        server.login("alice", PASSWORD).await.status,
        429,
        "the right password waits too"
    );

    // Sixty wrong logins for different names from one address: the address has 8 in total,
    // five of which were spent above.
    let names: Vec<String> = (0..60).map(|i| format!("nobody{i}")).collect();
    let spray = join_all(names.iter().map(|n| server.login(n, "wrong password!"))).await;
    assert_eq!(count(&spray, 401), 3, "{:?}", tally(&spray));
    assert_eq!(count(&spray, 429), 57, "{:?}", tally(&spray));
    assert_retry_after(&spray);

    // Registrations and guests per address, all at once (alice used one registration).
    let names: Vec<String> = (0..30).map(|i| format!("user{i}")).collect();
    let registrations = join_all(names.iter().map(|n| {
        server.post(
            None,
            "/api/v1/auth/register",
            json!({"username": n, "password": PASSWORD}),
        )
    }))
    .await;
    assert_eq!(count(&registrations, 201), 3, "{:?}", tally(&registrations));
    assert_eq!(count(&registrations, 429), 27);
    assert_retry_after(&registrations);
    let guests =
        join_all((0..30).map(|_| server.post(None, "/api/v1/auth/guest", json!({})))).await;
    assert_eq!(count(&guests, 201), 3, "{:?}", tally(&guests));
    assert_eq!(count(&guests, 429), 27);
    assert_retry_after(&guests);

    // What was refused left nothing behind: only the accepted accounts exist.
    let ops = server.chat.external_user("ops", "Ops").await.unwrap();
    let users = server.chat.search_users(&ops, "user", 50).await.unwrap();
    assert_eq!(users.len(), 3);
    server.stop().await;
}

/// Issue #11, item 1 again: a refused registration (a taken name) gives its place back.
async fn a_refused_registration_does_not_use_up_the_address(backend: Backend) {
    let Some(server) = Server::on_with(backend, |c| c.registrations_per_hour = 2).await else {
        return;
    };
    server.register("alice").await;
    for _ in 0..5 {
        let taken = server
            .post(
                None,
                "/api/v1/auth/register",
                json!({"username": "alice", "password": PASSWORD}),
            )
            .await;
        assert_eq!((taken.status, taken.code().as_str()), (409, "conflict"));
    }
    server.register("bob").await;
    server.stop().await;
}

/// A login request written completely, for clients that hang up before the answer.
fn raw_login(username: &str) -> String {
    let body = json!({"username": username, "password": "wrong password!"}).to_string();
    format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Issue #11, item 2: "send, then reset". Each client sends a login and resets the connection
/// while its password is being hashed. The server must not start a new hash for the next one
/// while the abandoned one still runs: never more than `--max-concurrent-hashes` at once.
async fn clients_that_reset_mid_login_cannot_multiply_hashing() {
    let server = Server::start_with(|c| c.max_concurrent_hashes = 1).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let chat = server.chat.clone();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(async move {
        let mut peak = 0;
        loop {
            peak = peak.max(chat.password_hashing().running);
            tokio::select! {
                _ = &mut stopped => return peak,
                () = tokio::time::sleep(Duration::from_millis(1)) => {}
            }
        }
    });
    for i in 0..8 {
        let asked = server.chat.password_hashing().asked;
        let mut tcp = TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(raw_login(&format!("someone{i}")).as_bytes())
            .await
            .unwrap();
        // Hang up as soon as the server asked for this login's hash.
        let chat = &server.chat;
        wait_until("the hash to be asked for", || async move {
            chat.password_hashing().asked > asked
        })
        .await;
        tcp.set_zero_linger().unwrap();
        drop(tcp);
    }
    let chat = &server.chat;
    wait_until("the hashes to finish", || async move {
        let load = chat.password_hashing();
        load.running == 0 && load.waiting == 0
    })
    .await;
    stop.send(()).unwrap();
    assert_eq!(watcher.await.unwrap(), 1, "one hash at a time, always");
    // The server still answers logins.
    assert_eq!(server.login("someone", "wrong password!").await.status, 401);
    server.stop().await;
}

/// Issue #11, item 2: a full hashing line answers at once with 503 `busy` and `Retry-After`
/// instead of queueing without bound.
async fn a_full_hashing_line_answers_503_busy_at_once() {
    let server = Server::start_with(|c| {
        c.max_concurrent_hashes = 1;
        c.max_queued_hashes = 0;
    })
    .await;
    let names: Vec<String> = (0..30).map(|i| format!("someone{i}")).collect();
    let replies = join_all(names.iter().map(|n| server.login(n, "wrong password!"))).await;
    for reply in &replies {
        match reply.status {
            401 => assert_eq!(reply.code(), "unauthenticated"),
            503 => {
                assert_eq!(reply.code(), "busy");
                assert_eq!(reply.header("retry-after"), Some("1"));
            }
            other => panic!("unexpected {other}: {:?}", tally(&replies)),
        }
    }
    assert!(count(&replies, 503) > 0, "{:?}", tally(&replies));
    server.stop().await;
}

/// Issue #11, item 10: the login throttle is keyed by valid usernames only, so 64 KiB of
/// garbage as a username costs nothing and fills no table.
async fn an_oversized_username_is_refused_without_a_hash() {
    let server = Server::start().await;
    let huge = "x".repeat(60 * 1024);
    let replies = join_all((0..10).map(|_| server.login(&huge, "wrong password!"))).await;
    for reply in &replies {
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (401, "unauthenticated")
        );
    }
    server.stop().await;
}

/// Issue #11, item 12: a guest cannot take a registered user's name with invisible characters,
/// and room members say who is a guest.
async fn invisible_characters_never_reach_a_name(backend: Backend) {
    // (Everyone may add a guest to a group, so alice can put the impostor next to herself.)
    let Some(server) = Server::on_with(backend, |c| c.discovery = Discovery::Everyone).await else {
        return;
    };
    let alice = server.register("alice").await;
    let spoof = "\u{200b}Al\u{200d}ice\u{2060}\u{feff}\u{61c}";
    let reply = server
        .post(None, "/api/v1/auth/guest", json!({"display_name": spoof}))
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.json()["user"]["display_name"], "Alice");
    let fake = TestUser {
        id: reply.json()["user"]["id"].as_i64().unwrap(),
        username: None,
        token: reply.json()["token"].as_str().unwrap().to_owned(),
    };
    let room = server.group(&alice, "Te\u{200b}am", &[&fake]).await;
    let seen = server.room(&fake, room).await;
    assert_eq!(seen["name"], "Team");
    let members = seen["members"].as_array().unwrap();
    let guest_flags: Vec<(&str, bool)> = members
        .iter()
        .map(|m| {
            (
                m["display_name"].as_str().unwrap(),
                m["guest"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(guest_flags, [("Alice", false), ("Alice", true)]);
    let only_invisible = server
        .post(
            None,
            "/api/v1/auth/guest",
            json!({"display_name": "\u{200b}\u{3164}"}),
        )
        .await;
    assert_eq!(
        (only_invisible.status, only_invisible.code().as_str()),
        (400, "invalid")
    );
    server.stop().await;
}

/// Issue #11, item 3: after an upgrade, no token handed out to the guest works any more (no
/// session fixation); the upgraded account gets a new session and cookie, and the guest's open
/// socket is closed with 4001.
async fn an_upgrade_ends_every_guest_session(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let visitor = server.guest("Visitor").await;
    let mut socket = server.connect(&visitor).await;
    let up = server
        .post(
            Some(&visitor),
            "/api/v1/auth/upgrade",
            json!({"username": "visitor", "password": PASSWORD}),
        )
        .await;
    assert_eq!(up.status, 200, "{}", String::from_utf8_lossy(&up.body));
    let token = up.json()["token"].as_str().unwrap().to_owned();
    assert_ne!(token, visitor.token);
    assert!(up.header("set-cookie").unwrap().contains(&token));
    assert_eq!(closed_with(&mut socket).await, Some(4001));
    let old = server.get(Some(&visitor), "/api/v1/me").await;
    assert_eq!((old.status, old.code().as_str()), (401, "unauthenticated"));
    let upgraded = TestUser { token, ..visitor };
    let me = server.get(Some(&upgraded), "/api/v1/me").await.json();
    assert_eq!(
        (me["username"].as_str(), me["guest"].as_bool()),
        (Some("visitor"), Some(false))
    );
    // The new session is a full account's: upgrading again is refused.
    let again = server
        .post(
            Some(&upgraded),
            "/api/v1/auth/upgrade",
            json!({"username": "other", "password": PASSWORD}),
        )
        .await;
    assert_eq!((again.status, again.code().as_str()), (409, "conflict"));
    server.stop().await;
}

/// Issue #11, item 3: ten upgrades of one guest at once, each to another name: one wins, the
/// others are refused and leave nothing behind.
async fn of_concurrent_upgrades_exactly_one_wins(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let visitor = server.guest("Visitor").await;
    let names: Vec<String> = (0..10).map(|i| format!("name{i}")).collect();
    let replies = join_all(names.iter().map(|n| {
        server.post(
            Some(&visitor),
            "/api/v1/auth/upgrade",
            json!({"username": n, "password": PASSWORD}),
        )
    }))
    .await;
    assert_eq!(count(&replies, 200), 1, "{:?}", tally(&replies));
    for lost in replies.iter().filter(|r| r.status != 200) {
        // Refused as "not a guest any more", or because its session already ended.
        assert!(
            [(409, "conflict"), (401, "unauthenticated")]
                .contains(&(lost.status, lost.code().as_str())),
            "{:?}",
            tally(&replies)
        );
    }
    let winner = replies.iter().find(|r| r.status == 200).unwrap().json();
    let won = winner["user"]["username"].as_str().unwrap();
    for name in &names {
        let status = server.login(name, PASSWORD).await.status;
        assert_eq!(status, if name == won { 200 } else { 401 }, "{name}");
    }
    server.stop().await;
}

/// Issue #11, item 8: a socket whose session expires is closed with 4001 at that moment, and
/// expired sessions nobody presents again are deleted from the table.
async fn an_open_socket_closes_when_its_session_expires(backend: Backend) {
    let Some(server) = Server::on_with(backend, |c| {
        c.session_idle_timeout = 2;
        c.session_expiry_interval = 1;
    })
    .await
    else {
        return;
    };
    let alice = server.register("alice").await;
    let unused = server.login("alice", PASSWORD).await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let storage = server.open_store().await;
    let unused_hash = chatcore::SessionToken::from_presented(&unused).hash();
    assert!(storage.store.session(&unused_hash).await.unwrap().is_some());

    let mut socket = server.connect(&alice).await;
    assert_eq!(closed_with(&mut socket).await, Some(4001));
    let store = &storage.store;
    wait_until("the unused session to be pruned", || async move {
        store.session(&unused_hash).await.unwrap().is_none()
    })
    .await;
    assert_eq!(server.get(Some(&alice), "/api/v1/me").await.status, 401);
    storage.backend.close().await;
    server.stop().await;
}

/// Issue #11, item 4: a member removed while their socket connects never receives the room.
/// The store holds the connection's read of bob's rooms (it has read them, the group among
/// them) while alice removes bob; then the connection goes on. Bob's `hello` does not list
/// the group, and what alice writes there afterwards never reaches his socket.
async fn a_member_removed_while_connecting_never_receives_the_room(backend: Backend) {
    let gate: Arc<OnceLock<Arc<GatedStore>>> = Arc::default();
    let Some(server) = Server::on_wrapped(
        backend,
        |_| {},
        |store| {
            let gated = Arc::new(GatedStore::new(store));
            gate.set(gated.clone()).ok();
            gated
        },
    )
    .await
    else {
        return;
    };
    let gate = gate.get().unwrap();
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let team = server.group(&alice, "Team", &[&bob, &carol]).await;
    let dm = server.direct(&alice, &bob).await;

    let mut held = gate.hold_next_rooms_of_user();
    let path = format!("/api/v1/rooms/{team}/members/{}", bob.id);
    let remove = async {
        held.arrived().await;
        let removed = server.delete(Some(&alice), &path).await;
        held.release();
        removed
    };
    let ((mut socket, hello), removed) = tokio::join!(server.raw_connect(&bob), remove);
    assert_eq!(removed.status, 204);
    let listed: Vec<i64> = hello["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["room_id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, [dm], "the group is not in hello");

    server.say(&alice, team, "bob is gone").await;
    // Delivery to one socket keeps publishing order: once the direct message arrives, a
    // message of the group published before it would have arrived too.
    server.say(&alice, dm, "still here?").await;
    loop {
        let frame = raw_frame(&mut socket).await;
        let room = frame["message"]["room_id"]
            .as_i64()
            .or(frame["room_id"].as_i64());
        assert_ne!(room, Some(team), "bob received the group: {frame}");
        if frame["type"] == "message" && room == Some(dm) {
            break;
        }
    }
    server.stop().await;
}

/// Issue #11, item 5: twenty adds to a group at once never take it past its cap.
async fn concurrent_adds_never_pass_the_group_cap(backend: Backend) {
    // (Guests cost no password hash; everyone may add them.)
    let Some(server) = Server::on_with(backend, |c| {
        c.max_group_members = 5;
        c.discovery = Discovery::Everyone;
    })
    .await
    else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.group(&alice, "Small", &[&bob]).await;
    let mut others = Vec::new();
    for i in 0..20 {
        others.push(server.guest(&format!("Guest {i}")).await);
    }
    let path = format!("/api/v1/rooms/{room}/members");
    let replies = join_all(
        others
            .iter()
            .map(|u| server.post(Some(&alice), &path, json!({"user_id": u.id}))),
    )
    .await;
    assert_eq!(count(&replies, 204), 3, "{:?}", tally(&replies));
    for full in replies.iter().filter(|r| r.status != 204) {
        assert_eq!((full.status, full.code().as_str()), (400, "invalid"));
    }
    let members = server.room(&alice, room).await["members"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(members, 5);
    server.stop().await;
}

/// The admins of a room, by user id.
async fn admins(server: &Server, viewer: &TestUser, room: i64) -> Vec<i64> {
    let view = server.room(viewer, room).await;
    view["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "admin")
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

async fn set_role(server: &Server, by: &TestUser, room: i64, user: &TestUser, role: &str) -> Reply {
    server
        .patch(
            Some(by),
            &format!("/api/v1/rooms/{room}/members/{}", user.id),
            json!({"role": role}),
        )
        .await
}

/// Issue #11, item 5: two admins demoting each other at the same moment never leave the group
/// without an admin.
async fn admins_demoting_each_other_leave_an_admin(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.group(&alice, "Duel", &[&bob]).await;
    for round in 0..5 {
        // Both are admins again at the start of every round.
        let current = admins(&server, &alice, room).await;
        if !current.contains(&bob.id) {
            assert_eq!(
                set_role(&server, &alice, room, &bob, "admin").await.status,
                204
            );
        }
        if !current.contains(&alice.id) {
            assert_eq!(
                set_role(&server, &bob, room, &alice, "admin").await.status,
                204
            );
        }
        let (a, b) = tokio::join!(
            set_role(&server, &alice, room, &bob, "member"),
            set_role(&server, &bob, room, &alice, "member"),
        );
        // One demotion wins; the other is refused as the last admin's (409), or because its
        // author was no longer an admin when it was checked (403).
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert!(
            statuses == [204, 403] || statuses == [204, 409],
            "round {round}: {statuses:?}"
        );
        assert_eq!(
            admins(&server, &alice, room).await.len(),
            1,
            "round {round}"
        );
    }
    server.stop().await;
}

/// Issue #11, item 5: when both admins leave at once, the remaining full member becomes admin.
async fn admins_leaving_at_once_leave_an_admin(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let room = server.group(&alice, "Exodus", &[&bob, &carol]).await;
    assert_eq!(
        set_role(&server, &alice, room, &bob, "admin").await.status,
        204
    );
    let (alice_leaves, bob_leaves) = (
        format!("/api/v1/rooms/{room}/members/{}", alice.id),
        format!("/api/v1/rooms/{room}/members/{}", bob.id),
    );
    let (a, b) = tokio::join!(
        server.delete(Some(&alice), &alice_leaves),
        server.delete(Some(&bob), &bob_leaves),
    );
    assert_eq!((a.status, b.status), (204, 204));
    assert_eq!(admins(&server, &carol, room).await, [carol.id]);
    server.stop().await;
}

/// Issue #11, item 6: a hundred REST sends at once from one user: the burst goes through, a
/// few more are paced, the rest are refused with 429 and `Retry-After`, and exactly the
/// accepted ones are stored.
async fn a_rest_send_flood_is_paced_then_refused(backend: Backend) {
    let Some(server) = Server::on_with(backend, |c| {
        c.send_rate_per_sec = 1.0;
        c.send_burst = 5;
    })
    .await
    else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.direct(&alice, &bob).await;
    let path = format!("/api/v1/rooms/{room}/messages");
    let started = std::time::Instant::now();
    let replies = join_all(
        (0..100).map(|i| server.post(Some(&alice), &path, json!({"body": format!("flood {i}")}))),
    )
    .await;
    let accepted = count(&replies, 201);
    assert_eq!(
        accepted + count(&replies, 429),
        100,
        "{:?}",
        tally(&replies)
    );
    assert_retry_after(&replies);
    // Five at once, up to two more paced (2 s at 1/s), plus what refilled meanwhile.
    let refilled = started.elapsed().as_secs_f64().ceil() as usize;
    assert!(
        (5..=5 + 2 + refilled).contains(&accepted),
        "{accepted} accepted in {:?}",
        started.elapsed()
    );
    assert_eq!(server.room(&bob, room).await["last_seq"], accepted);
    server.stop().await;
}

/// Issue #11, item 6: REST and WebSocket sends draw on one budget per user.
async fn rest_and_websocket_sends_share_one_budget(backend: Backend) {
    let Some(server) = Server::on_with(backend, |c| {
        c.send_rate_per_sec = 0.2;
        c.send_burst = 5;
    })
    .await
    else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.direct(&alice, &bob).await;
    let socket = server.connect(&alice).await;
    for i in 0..5 {
        socket
            .send(chatcore::RoomId(room), &format!("over the socket {i}"))
            .await
            .unwrap();
    }
    // The burst is spent; the next unit is 5 s away, more than the 2 s a sender may wait.
    let path = format!("/api/v1/rooms/{room}/messages");
    let replies = join_all(
        (0..10).map(|i| server.post(Some(&alice), &path, json!({"body": format!("rest {i}")}))),
    )
    .await;
    assert_eq!(count(&replies, 429), 10, "{:?}", tally(&replies));
    assert_retry_after(&replies);
    let refused = socket
        .send(chatcore::RoomId(room), "and the socket again")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("rate_limited"));
    assert_eq!(server.room(&bob, room).await["last_seq"], 5);
    // Bob's budget is his own.
    server.say(&bob, room, "bob is fine").await;
    server.stop().await;
}

/// Issue #11, item 6: group creation and member adds have a budget per user.
async fn group_and_member_add_floods_are_refused(backend: Backend) {
    let Some(server) = Server::on_with(backend, |c| {
        c.groups_per_hour = 3;
        c.member_adds_per_hour = 4;
        c.discovery = Discovery::Everyone;
    })
    .await
    else {
        return;
    };
    let alice = server.register("alice").await;
    let groups = join_all((0..10).map(|i| {
        server.post(
            Some(&alice),
            "/api/v1/rooms",
            json!({"name": format!("spam {i}"), "members": []}),
        )
    }))
    .await;
    assert_eq!(count(&groups, 201), 3, "{:?}", tally(&groups));
    assert_eq!(count(&groups, 429), 7);
    assert_retry_after(&groups);
    let room = groups.iter().find(|r| r.status == 201).unwrap().json()["id"]
        .as_i64()
        .unwrap();
    let mut victims = Vec::new();
    for i in 0..10 {
        victims.push(server.guest(&format!("Victim {i}")).await);
    }
    let path = format!("/api/v1/rooms/{room}/members");
    let adds = join_all(
        victims
            .iter()
            .map(|v| server.post(Some(&alice), &path, json!({"user_id": v.id}))),
    )
    .await;
    assert_eq!(count(&adds, 204), 4, "{:?}", tally(&adds));
    assert_eq!(count(&adds, 429), 6);
    assert_retry_after(&adds);
    let members = server.room(&alice, room).await["members"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(members, 5);
    let listed = server.get(Some(&alice), "/api/v1/rooms").await.json();
    assert_eq!(listed["rooms"].as_array().unwrap().len(), 3);
    server.stop().await;
}

/// Issue #11, item 7: a bot that waits for each ack and sends the next right away, trying for
/// 100 messages a second, is slowed to the rate, and never refused or closed.
async fn an_ack_paced_sender_is_slowed_never_closed(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.direct(&alice, &bob).await;
    let mut bot = server.connect(&alice).await;
    let started = std::time::Instant::now();
    for i in 0..100 {
        bot.send(chatcore::RoomId(room), &format!("tick {i}"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The default rate (40 at once, then 20 a second) is a floor on the time taken.
    assert!(
        started.elapsed() >= Duration::from_millis(2900),
        "not slowed: {:?}",
        started.elapsed()
    );
    assert_eq!(server.room(&bob, room).await["last_seq"], 100);
    bot.ping().await.unwrap();
    let pong = chat_tests::wait_for(&mut bot, |f| {
        matches!(f, chatcore_ws::frames::ServerFrame::Pong).then_some(())
    });
    pong.await;
    server.stop().await;
}

/// Issue #11, item 6: a `sync` listing thousands of rooms is refused; one listing other
/// people's rooms gets nothing of them.
async fn an_oversized_sync_is_refused(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let theirs = server.direct(&bob, &carol).await;
    server.say(&bob, theirs, "not for alice").await;
    let mut raw = server.raw_socket(&alice).await;
    let many: Vec<String> = (1..=5000).map(|id| format!("\"{id}\":0")).collect();
    raw_send(
        &mut raw,
        format!(r#"{{"type":"sync","rooms":{{{}}}}}"#, many.join(",")),
    )
    .await;
    let refused = raw_frame(&mut raw).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        (refused["code"].as_str(), refused["field"].as_str()),
        (Some("invalid"), Some("rooms"))
    );
    raw_send(
        &mut raw,
        format!(r#"{{"type":"sync","rooms":{{"{theirs}":0}}}}"#),
    )
    .await;
    let synced = raw_frame(&mut raw).await;
    assert_eq!(synced, json!({"type": "synced", "rooms": {}}));
    server.stop().await;
}

/// Connects and reads whatever the server says before it hangs up.
async fn first_words(addr: &str, send: &[u8]) -> String {
    use tokio::io::AsyncReadExt;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(send).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(chat_tests::PATIENCE, tcp.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server never hung up");
    String::from_utf8_lossy(&answer).into_owned()
}

/// Issue #11, item 9: a client that connects and says nothing is dropped after the header
/// timeout, and one address cannot hold more than `--max-connections-per-ip` sockets
/// (WebSockets included): the next one gets 429 with `Retry-After`.
async fn silent_clients_are_dropped_and_one_address_cannot_take_every_socket() {
    let server = Server::start_with(|c| {
        c.request_header_timeout = 1;
        c.max_connections_per_ip = 4;
    })
    .await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    assert_eq!(first_words(&addr, b"").await, "", "silence is dropped");
    assert_eq!(
        first_words(&addr, b"GET / HTTP/1.1\r\nHost: x\r\n").await,
        "",
        "a trickled head is dropped"
    );

    // (No HTTP client here: its idle keep-alive connection would hold a place too.)
    let (actor, token) = server.chat.register("alice", PASSWORD, None).await.unwrap();
    let alice = TestUser {
        id: actor.id().0,
        username: Some("alice".into()),
        token: token.as_str().to_owned(),
    };
    let mut sockets = Vec::new();
    for _ in 0..4 {
        sockets.push(server.connect(&alice).await);
    }
    let refused = first_words(&addr, b"").await;
    assert!(refused.starts_with("HTTP/1.1 429 "), "{refused}");
    assert!(refused.contains("Retry-After: 5"), "{refused}");
    assert!(refused.contains(r#""code":"rate_limited""#), "{refused}");
    // A closed socket frees its place.
    sockets.pop().unwrap().close().await;
    let health = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let addr = &addr;
    wait_until("the place to be freed", || async move {
        first_words(addr, health).await.starts_with("HTTP/1.1 200 ")
    })
    .await;
    server.stop().await;
}

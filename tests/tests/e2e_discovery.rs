//! Who may find and contact whom (`--discovery`, issue #11 item 11), attacked from outside:
//! a guest listing the server's users, and strangers opening direct chats or pulling people
//! into groups. A user nobody may reach is answered exactly like a user that does not exist.

#![allow(clippy::unwrap_used)] // scenarios are test code run by the generated tests: a panic is the report

use chat_tests::{Backend, Reply, Server, TestUser, on_every_backend};
use chatcore::Discovery;
use serde_json::json;

fn main() {
    chatcore::testing::harness::run_groups(on_every_backend!(
        a_guest_lists_and_reaches_only_people_in_its_rooms,
        registered_users_reach_each_other_but_not_strangers_guests,
        with_everyone_a_guest_finds_and_writes_to_anyone,
        with_shared_rooms_strangers_cannot_be_found_or_contacted,
        the_scope_applies_before_the_search_limit,
    ));
}

/// The usernames (or display names, for guests) a search for `q` by `user` lists.
async fn search(server: &Server, user: &TestUser, q: &str) -> Vec<String> {
    let reply = server
        .get(Some(user), &format!("/api/v1/users?q={q}&limit=50"))
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            u["username"]
                .as_str()
                .or(u["display_name"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn open_direct(server: &Server, from: &TestUser, to: i64) -> Reply {
    server
        .post(Some(from), "/api/v1/rooms/direct", json!({"user_id": to}))
        .await
}

async fn create_group(server: &Server, owner: &TestUser, members: &[i64]) -> Reply {
    server
        .post(
            Some(owner),
            "/api/v1/rooms",
            json!({"name": "Pulled in", "members": members}),
        )
        .await
}

async fn add_member(server: &Server, admin: &TestUser, room: i64, user: i64) -> Reply {
    server
        .post(
            Some(admin),
            &format!("/api/v1/rooms/{room}/members"),
            json!({"user_id": user}),
        )
        .await
}

/// The reply for a user that does not exist; refusals must be indistinguishable from it.
async fn no_such_user(server: &Server, from: &TestUser) -> (u16, String) {
    let reply = open_direct(server, from, 987_654).await;
    assert_eq!((reply.status, reply.code().as_str()), (404, "not_found"));
    (
        reply.status,
        String::from_utf8_lossy(&reply.body).into_owned(),
    )
}

fn as_seen(reply: &Reply) -> (u16, String) {
    (
        reply.status,
        String::from_utf8_lossy(&reply.body).into_owned(),
    )
}

/// A registered user made server admin: the operator who introduces people.
async fn operator(server: &Server) -> TestUser {
    let ops = server.register("ops").await;
    server.chat.promote_server_admin("ops").await.unwrap();
    ops
}

async fn room_count(server: &Server, user: &TestUser) -> usize {
    let rooms = server.get(Some(user), "/api/v1/rooms").await.json();
    rooms["rooms"].as_array().unwrap().len()
}

/// The default (`registered`): a guest who lists users gets nobody but the people it shares a
/// room with, cannot open a direct chat with anyone else, and is listed to nobody else.
async fn a_guest_lists_and_reaches_only_people_in_its_rooms(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    assert_eq!(
        server.config.discovery,
        Discovery::Registered,
        "the default"
    );
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let mallory = server.guest("Mallory").await;
    let ops = operator(&server).await;

    // The attacker lists users: every prefix, the empty one too, finds nobody.
    for q in ["", "a", "b", "o", "g", "m"] {
        assert!(search(&server, &mallory, q).await.is_empty(), "q={q:?}");
    }
    let missing = no_such_user(&server, &mallory).await;
    for victim in [&alice, &bob, &ops] {
        let refused = open_direct(&server, &mallory, victim.id).await;
        assert_eq!(as_seen(&refused), missing, "no hint that the user exists");
    }
    assert_eq!(room_count(&server, &mallory).await, 0);
    // Nor is the guest listed to registered users.
    assert_eq!(search(&server, &alice, "").await, ["bob", "ops"]);

    // The operator puts alice and the guest in one group: now they may find and write to
    // each other, and nobody else changes.
    server.group(&ops, "Welcome", &[&alice, &mallory]).await;
    assert_eq!(search(&server, &mallory, "").await, ["alice", "ops"]);
    assert_eq!(search(&server, &alice, "").await, ["bob", "Mallory", "ops"]);
    assert_eq!(search(&server, &bob, "").await, ["alice", "ops"]);
    let dm = server.direct(&mallory, &alice).await;
    server.say(&mallory, dm, "hello from the group").await;
    assert_eq!(
        as_seen(&open_direct(&server, &mallory, bob.id).await),
        missing
    );
    server.stop().await;
}

/// The default (`registered`): registered users find, write to and add each other, but not a
/// guest they share no room with, neither in a direct chat nor by pulling it into a group.
async fn registered_users_reach_each_other_but_not_strangers_guests(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let stranger = server.guest("Stranger").await;
    server.direct(&alice, &bob).await;
    let missing = no_such_user(&server, &alice).await;
    assert_eq!(
        as_seen(&open_direct(&server, &alice, stranger.id).await),
        missing
    );
    let refused = create_group(&server, &alice, &[bob.id, stranger.id]).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (404, "not_found")
    );
    assert_eq!(room_count(&server, &alice).await, 1, "no group was created");
    let team = server.group(&alice, "Team", &[&bob]).await;
    let refused = add_member(&server, &alice, team, stranger.id).await;
    assert_eq!(as_seen(&refused), missing);
    assert_eq!(
        server.room(&alice, team).await["members"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(room_count(&server, &stranger).await, 0);
    server.stop().await;
}

/// `--discovery everyone`: everybody finds and writes to everybody, guests included.
async fn with_everyone_a_guest_finds_and_writes_to_anyone(backend: Backend) {
    let Some(server) = Server::on_with(backend, |c| c.discovery = Discovery::Everyone).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let guest = server.guest("Gus").await;
    assert_eq!(search(&server, &guest, "").await, ["alice", "bob"]);
    assert_eq!(search(&server, &alice, "").await, ["bob", "Gus"]);
    let dm = server.direct(&guest, &bob).await;
    server.say(&guest, dm, "hi bob").await;
    server.group(&alice, "Open", &[&guest]).await;
    server.stop().await;
}

/// `--discovery shared-rooms`: even registered users find and contact only the people they
/// share a room with; a group cannot be used to reach a stranger.
async fn with_shared_rooms_strangers_cannot_be_found_or_contacted(backend: Backend) {
    let Some(server) = Server::on_with(backend, |c| c.discovery = Discovery::SharedRooms).await
    else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let ops = operator(&server).await;
    assert!(search(&server, &alice, "").await.is_empty());
    let missing = no_such_user(&server, &alice).await;
    assert_eq!(
        as_seen(&open_direct(&server, &alice, bob.id).await),
        missing
    );
    let refused = create_group(&server, &alice, &[bob.id]).await;
    assert_eq!(as_seen(&refused), missing);
    assert_eq!(room_count(&server, &alice).await, 0);

    // The operator reaches everyone and introduces alice and carol.
    assert_eq!(search(&server, &ops, "").await, ["alice", "bob", "carol"]);
    let intro = server.group(&ops, "Intro", &[&alice, &carol]).await;
    assert_eq!(search(&server, &alice, "").await, ["carol", "ops"]);
    assert_eq!(search(&server, &bob, "").await, Vec::<String>::new());
    server.direct(&alice, &carol).await;
    let team = server.group(&alice, "Team", &[&carol]).await;
    assert_eq!(
        as_seen(&add_member(&server, &alice, team, bob.id).await),
        missing
    );
    // Carol leaves both groups; the direct chat they share keeps them in reach.
    for room in [intro, team] {
        let path = format!("/api/v1/rooms/{room}/members/{}", carol.id);
        assert_eq!(server.delete(Some(&carol), &path).await.status, 204);
    }
    assert_eq!(search(&server, &carol, "a").await, ["alice"]);
    server.stop().await;
}

/// The scope is part of the search, not a filter on its first page: one roommate among many
/// strangers with the same prefix is still found with a small limit.
async fn the_scope_applies_before_the_search_limit(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    for i in 0..12 {
        server.guest(&format!("Sam {i}")).await;
    }
    let ops = operator(&server).await;
    let sam = server.guest("Sam the roommate").await;
    let alice = server.register("alice").await;
    server.group(&ops, "Alice and Sam", &[&alice, &sam]).await;
    let reply = server
        .get(Some(&alice), "/api/v1/users?q=sam&limit=3")
        .await;
    let body = reply.json();
    let names: Vec<&str> = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Sam the roommate"]);
    server.stop().await;
}

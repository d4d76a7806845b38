//! Message search over REST, with its access rules: only the rooms one is a member of now,
//! the text taken literally (`%`, quotes, `*`, `NEAR`), edits and deletes followed. Each
//! scenario runs on memory, SQLite, MariaDB and PostgreSQL (the server databases skipped with a
//! reason when no server answers, outside CI).

#![allow(clippy::unwrap_used)] // scenarios are test code run by the generated tests: a panic is the report

use chat_tests::on_every_backend;

fn main() {
    chatcore::testing::harness::run_groups(on_every_backend!(
        search_finds_only_my_rooms_with_matches_marked,
        search_refuses_bad_requests,
        search_takes_operators_literally,
        search_follows_edits_and_deletes,
        search_has_a_budget_per_user
    ));
}

use chat_tests::{Server, TestUser};
use serde_json::{Value, json};

/// `GET /api/v1/search` for `q` (percent-encoded as a browser would) and `extra` parameters.
async fn search(server: &Server, user: &TestUser, q: &str, extra: &str) -> chat_tests::Reply {
    let encoded: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
    server
        .get(Some(user), &format!("/api/v1/search?q={encoded}{extra}"))
        .await
}

/// The bodies `user` finds for `q`, newest first.
async fn bodies(server: &Server, user: &TestUser, q: &str) -> Vec<String> {
    let reply = search(server, user, q, "").await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["message"]["body"].as_str().unwrap().to_owned())
        .collect()
}

/// The matched parts of a hit, cut out of its body by their byte offsets.
fn marked(hit: &Value) -> Vec<String> {
    let body = hit["message"]["body"].as_str().unwrap();
    hit["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let (start, end) = (m["start"].as_u64().unwrap(), m["end"].as_u64().unwrap());
            body[start as usize..end as usize].to_owned()
        })
        .collect()
}

async fn search_finds_only_my_rooms_with_matches_marked(backend: chat_tests::Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let mallory = server.register("mallory").await;
    let ours = server.group(&alice, "Plans", &[&bob]).await;
    let theirs = server.group(&mallory, "Elsewhere", &[]).await;
    server.say(&alice, ours, "Café at noon? café or tea").await;
    server.say(&mallory, theirs, "mallory's café secret").await;
    server.say(&bob, ours, "<b>café</b> it is").await;

    let reply = search(&server, &alice, "CAFÉ", "").await;
    assert_eq!(reply.status, 200);
    let page = reply.json();
    let hits = page["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2, "only rooms alice is in: {page}");
    assert_eq!(
        hits[0]["message"]["body"], "<b>café</b> it is",
        "newest first, text as data"
    );
    assert_eq!(hits[0]["message"]["room_id"], ours);
    assert_eq!(hits[0]["message"]["seq"], 2);
    assert_eq!(marked(&hits[0]), ["café"]);
    assert_eq!(marked(&hits[1]), ["Café", "café"]);
    assert_eq!(page["next_before"], Value::Null);

    // A non-member finds nothing of the room, however it is asked.
    assert_eq!(
        bodies(&server, &mallory, "café").await,
        ["mallory's café secret"]
    );
    assert!(bodies(&server, &mallory, "noon").await.is_empty());

    // Paging: newest first, `next_before` leads to the older page.
    let first = search(&server, &bob, "café", "&limit=1").await.json();
    assert_eq!(first["hits"][0]["message"]["seq"], 2);
    let before = first["next_before"].as_i64().unwrap();
    let second = search(&server, &bob, "café", &format!("&limit=1&before={before}"))
        .await
        .json();
    assert_eq!(second["hits"][0]["message"]["seq"], 1);
    assert_eq!(second["next_before"], Value::Null);

    // Leaving a room ends finding its text.
    let left = server
        .delete(
            Some(&bob),
            &format!("/api/v1/rooms/{ours}/members/{}", bob.id),
        )
        .await;
    assert_eq!(left.status, 204);
    assert!(bodies(&server, &bob, "café").await.is_empty());
    server.stop().await;
}

async fn search_refuses_bad_requests(backend: chat_tests::Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let unauthenticated = server.get(None, "/api/v1/search?q=hello").await;
    assert_eq!(unauthenticated.status, 401);

    let long = "x".repeat(201);
    for (q, extra, field) in [
        ("", "", "q"),
        ("ab", "", "q"),
        ("   ab   ", "", "q"),
        (long.as_str(), "", "q"),
        ("hello", "&limit=0", "limit"),
        ("hello", "&limit=51", "limit"),
        ("hello", "&limit=ten", "limit"),
        ("hello", "&before=yesterday", "before"),
    ] {
        let reply = search(&server, &alice, q, extra).await;
        assert_eq!(reply.status, 400, "{q:?} {extra}");
        assert_eq!(reply.code(), "invalid");
        assert_eq!(reply.json()["error"]["field"], field, "{q:?} {extra}");
    }
    server.stop().await;
}

async fn search_takes_operators_literally(backend: chat_tests::Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let room = server.group(&alice, "Notes", &[]).await;
    for body in [
        "sale: 50% off",
        "sale: 5000 off",
        "rename to old_name",
        "rename to oldxname",
        r#"he said "hello there" once"#,
        "he said hello there once",
        "glob star* here",
        "glob starlight here",
        "cats NEAR dogs",
        "cats near the dogs",
        "cats AND dogs",
        "cats and the dogs",
        "keep -minus",
        "keep minus",
    ] {
        server.say(&alice, room, body).await;
    }
    for (q, only) in [
        ("50%", "sale: 50% off"),
        ("old_name", "rename to old_name"),
        (r#""hello there""#, r#"he said "hello there" once"#),
        ("star*", "glob star* here"),
        ("cats NEAR dogs", "cats NEAR dogs"),
        ("cats AND dogs", "cats AND dogs"),
        ("keep -minus", "keep -minus"),
    ] {
        assert_eq!(bodies(&server, &alice, q).await, [only], "searching {q:?}");
    }
    assert!(bodies(&server, &alice, "%%%").await.is_empty());
    assert!(bodies(&server, &alice, r#""*""#).await.is_empty());
    server.stop().await;
}

async fn search_follows_edits_and_deletes(backend: chat_tests::Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.direct(&alice, &bob).await;
    server.say(&alice, room, "the meeting is on Monday").await;
    server.say(&alice, room, "bring the Monday slides").await;

    let path = format!("/api/v1/rooms/{room}/messages/1");
    let edited = server
        .patch(
            Some(&alice),
            &path,
            json!({"body": "the meeting is on Tuesday"}),
        )
        .await;
    assert_eq!(edited.status, 200);
    assert_eq!(
        bodies(&server, &bob, "monday").await,
        ["bring the Monday slides"]
    );
    assert_eq!(
        bodies(&server, &bob, "tuesday").await,
        ["the meeting is on Tuesday"]
    );

    let deleted = server
        .delete(Some(&alice), &format!("/api/v1/rooms/{room}/messages/2"))
        .await;
    assert_eq!(deleted.status, 200);
    assert!(bodies(&server, &bob, "monday").await.is_empty());
    assert!(bodies(&server, &bob, "slides").await.is_empty());
    server.stop().await;
}

async fn search_has_a_budget_per_user(backend: chat_tests::Backend) {
    let Some(server) = Server::on_with(backend, |c| c.searches_per_minute = 3).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    // Refused requests spend nothing.
    for _ in 0..3 {
        assert_eq!(search(&server, &alice, "ab", "").await.status, 400);
    }
    for _ in 0..3 {
        assert_eq!(search(&server, &alice, "lunch", "").await.status, 200);
    }
    let over = search(&server, &alice, "lunch", "").await;
    assert_eq!((over.status, over.code()), (429, "rate_limited".into()));
    let retry: u64 = over.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
    assert_eq!(over.json()["hits"], Value::Null, "nothing found is shown");
    // Another user's budget is their own.
    assert_eq!(search(&server, &bob, "lunch", "").await.status, 200);
    server.stop().await;
}

//! Messaging features over real HTTP and WebSocket, with their access rules: editing, deleting,
//! typing and read markers over REST (what an HTTP-only bot needs). Each scenario runs on
//! SQLite, MariaDB and PostgreSQL (the server databases skipped with a reason when no server
//! answers, outside CI).

#![allow(clippy::unwrap_used)] // scenarios are test code run by the generated tests: a panic is the report

use chat_tests::on_every_backend;

fn main() {
    chatcore::testing::harness::run_groups(on_every_backend!(
        edit_and_delete_over_rest_reach_live_members,
        edit_and_delete_over_rest_refuse_others_and_outsiders,
        typing_and_read_over_rest_reach_live_members
    ));
}

use chat_tests::{Backend, Server, wait_for};
use chatcore_ws::frames::ServerFrame;
use serde_json::json;

async fn edit_and_delete_over_rest_reach_live_members(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.direct(&alice, &bob).await;
    let mut bob_ws = server.connect(&bob).await;
    server.say(&alice, room, "helo").await;
    let path = format!("/api/v1/rooms/{room}/messages/1");

    let edited = server
        .patch(Some(&alice), &path, json!({"body": "hello <b>again</b>"}))
        .await;
    assert_eq!(edited.status, 200);
    let edited = edited.json();
    assert_eq!(edited["seq"], 1);
    assert_eq!(edited["body"], "hello <b>again</b>", "text is data");
    assert!(edited["edited_at"].is_string());
    let live = wait_for(&mut bob_ws, |f| match f {
        ServerFrame::Edited { message } => Some(message.body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(live, "hello <b>again</b>");

    let deleted = server.delete(Some(&alice), &path).await;
    assert_eq!(deleted.status, 200);
    let deleted = deleted.json();
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["body"], "");
    let live = wait_for(&mut bob_ws, |f| match f {
        ServerFrame::Deleted { message } => Some((message.seq, message.deleted)),
        _ => None,
    })
    .await;
    assert_eq!(live, (1, true));

    let history = server
        .get(Some(&bob), &format!("/api/v1/rooms/{room}/messages"))
        .await
        .json();
    assert_eq!(history["messages"][0]["deleted"], true);
    assert_eq!(history["messages"][0]["body"], "");
    server.stop().await;
}

async fn edit_and_delete_over_rest_refuse_others_and_outsiders(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let mallory = server.register("mallory").await;
    let room = server.group(&alice, "Weekend", &[&bob]).await;
    server.say(&alice, room, "original").await;
    let path = format!("/api/v1/rooms/{room}/messages/1");
    let edit = json!({"body": "changed"});

    let by_member = server.patch(Some(&bob), &path, edit.clone()).await;
    assert_eq!(
        (by_member.status, by_member.code()),
        (403, "forbidden".into())
    );
    let by_member = server.delete(Some(&bob), &path).await;
    assert_eq!(
        (by_member.status, by_member.code()),
        (403, "forbidden".into())
    );
    // An outsider learns nothing, not even whether the room or the message exists.
    for path in [&path, &format!("/api/v1/rooms/{room}/messages/99")] {
        let reply = server.patch(Some(&mallory), path, edit.clone()).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found".into()));
        let reply = server.delete(Some(&mallory), path).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found".into()));
    }
    let anonymous = server.patch(None, &path, edit.clone()).await;
    assert_eq!(anonymous.status, 401);

    // Bad input: a clear error each, nothing changed.
    let empty = server.patch(Some(&alice), &path, json!({"body": ""})).await;
    assert_eq!((empty.status, empty.code()), (400, "invalid".into()));
    assert_eq!(empty.json()["error"]["field"], "body");
    let no_body = server.patch(Some(&alice), &path, json!({})).await;
    assert_eq!((no_body.status, no_body.code()), (400, "bad_json".into()));
    let too_long = "x".repeat(5000);
    let long = server
        .patch(Some(&alice), &path, json!({"body": too_long}))
        .await;
    assert_eq!((long.status, long.code()), (400, "invalid".into()));
    for bad in ["0", "-1", "abc", "1.5", "99999999999999999999"] {
        let reply = server
            .patch(
                Some(&alice),
                &format!("/api/v1/rooms/{room}/messages/{bad}"),
                edit.clone(),
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (404, "not_found".into()),
            "{bad}"
        );
    }
    let missing = server
        .patch(
            Some(&alice),
            &format!("/api/v1/rooms/{room}/messages/2"),
            edit.clone(),
        )
        .await;
    assert_eq!((missing.status, missing.code()), (404, "not_found".into()));
    let history = server
        .get(Some(&bob), &format!("/api/v1/rooms/{room}/messages"))
        .await
        .json();
    assert_eq!(history["messages"][0]["body"], "original");
    assert!(history["messages"][0]["edited_at"].is_null());

    // A deleted message can be neither edited nor deleted again.
    assert_eq!(server.delete(Some(&alice), &path).await.status, 200);
    let again = server.delete(Some(&alice), &path).await;
    assert_eq!((again.status, again.code()), (404, "not_found".into()));
    let edit_dead = server.patch(Some(&alice), &path, edit).await;
    assert_eq!(
        (edit_dead.status, edit_dead.code()),
        (404, "not_found".into())
    );
    server.stop().await;
}

async fn typing_and_read_over_rest_reach_live_members(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let mallory = server.register("mallory").await;
    let room = server.direct(&alice, &bob).await;
    let mut bob_ws = server.connect(&bob).await;

    let typing = server
        .post(
            Some(&alice),
            &format!("/api/v1/rooms/{room}/typing"),
            json!({}),
        )
        .await;
    assert_eq!(typing.status, 204);
    let who = wait_for(&mut bob_ws, |f| match f {
        ServerFrame::Typing { room_id, user } => Some((room_id.0, user.id.0)),
        _ => None,
    })
    .await;
    assert_eq!(who, (room, alice.id));
    let outsider = server
        .post(
            Some(&mallory),
            &format!("/api/v1/rooms/{room}/typing"),
            json!({}),
        )
        .await;
    assert_eq!(
        (outsider.status, outsider.code()),
        (404, "not_found".into())
    );

    server.say(&bob, room, "one").await;
    server.say(&bob, room, "two").await;
    let read = server
        .post(
            Some(&alice),
            &format!("/api/v1/rooms/{room}/read"),
            json!({"seq": 2}),
        )
        .await;
    assert_eq!(read.status, 204);
    let marker = wait_for(&mut bob_ws, |f| match f {
        ServerFrame::Read { user_id, seq, .. } if user_id.0 == alice.id => Some(*seq),
        _ => None,
    })
    .await;
    assert_eq!(marker, 2);
    assert_eq!(server.room(&alice, room).await["unread"], 0);
    let outsider = server
        .post(
            Some(&mallory),
            &format!("/api/v1/rooms/{room}/read"),
            json!({"seq": 2}),
        )
        .await;
    assert_eq!(
        (outsider.status, outsider.code()),
        (404, "not_found".into())
    );
    server.stop().await;
}

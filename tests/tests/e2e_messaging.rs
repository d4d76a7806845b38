//! Messaging features over real HTTP and WebSocket, with their access rules: editing, deleting,
//! typing and read markers over REST (what an HTTP-only bot needs), reactions, and each member's
//! own room settings (mute, archive), and mentions. Each scenario runs on SQLite, MariaDB and PostgreSQL (the
//! server databases skipped with a reason when no server answers, outside CI).

#![allow(clippy::unwrap_used)] // scenarios are test code run by the generated tests: a panic is the report

use chat_tests::on_every_backend;

fn main() {
    chatcore::testing::harness::run_groups(on_every_backend!(
        edit_and_delete_over_rest_reach_live_members,
        edit_and_delete_over_rest_refuse_others_and_outsiders,
        typing_and_read_over_rest_reach_live_members,
        reactions_reach_members_live_and_in_history,
        reactions_refuse_outsiders_bad_emojis_and_too_many,
        room_settings_reach_own_devices_and_the_room_list,
        room_settings_refuse_outsiders_and_bad_bodies,
        mentions_are_spans_of_members_kept_through_edits
    ));
}

use chat_tests::{Backend, Server, TestUser, wait_for};
use chatcore::{Message, UserId};
use chatcore_ws::Client;
use chatcore_ws::frames::ServerFrame;
use reqwest::Method;
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
        ServerFrame::Edited { message, .. } => Some(message.body.clone()),
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

/// The path of `emoji`'s reaction to message `seq`, percent-encoded as a browser would.
fn reaction_path(room: i64, seq: i64, emoji: &str) -> String {
    let encoded: String = emoji.bytes().map(|b| format!("%{b:02X}")).collect();
    format!("/api/v1/rooms/{room}/messages/{seq}/reactions/{encoded}")
}

async fn reactions_reach_members_live_and_in_history(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.group(&alice, "Lunch", &[&bob]).await;
    server.say(&alice, room, "noon?").await;
    let mut bob_ws = server.connect(&bob).await;
    let alice_ws = server.connect(&alice).await;

    let put = server
        .send(server.request(Method::PUT, &reaction_path(room, 1, "👍"), Some(&bob)))
        .await;
    assert_eq!(put.status, 200);
    assert_eq!(
        put.json(),
        json!({"room_id": room, "seq": 1, "reactions": [{"emoji": "👍", "users": [bob.id]}]})
    );
    alice_ws
        .react(chatcore::RoomId(room), 1, "👍")
        .await
        .expect("react");
    let live = wait_for(&mut bob_ws, |f| match f {
        ServerFrame::Reactions { seq, reactions, .. } if reactions[0].users.len() == 2 => {
            Some((*seq, reactions.clone()))
        }
        _ => None,
    })
    .await;
    assert_eq!(live.0, 1);
    assert_eq!(live.1[0].emoji, "👍");
    assert_eq!(
        live.1[0].users.iter().map(|u| u.0).collect::<Vec<_>>(),
        [bob.id, alice.id],
        "who reacted, in order"
    );

    // Adding it again changes nothing; taking it back tells the room.
    let again = server
        .send(server.request(Method::PUT, &reaction_path(room, 1, "👍"), Some(&bob)))
        .await;
    assert_eq!(
        again.json()["reactions"][0]["users"],
        json!([bob.id, alice.id])
    );
    let removed = server
        .delete(Some(&bob), &reaction_path(room, 1, "👍"))
        .await;
    assert_eq!(removed.status, 200);
    assert_eq!(
        removed.json()["reactions"],
        json!([{"emoji": "👍", "users": [alice.id]}])
    );
    let history = server
        .get(Some(&bob), &format!("/api/v1/rooms/{room}/messages"))
        .await
        .json();
    assert_eq!(
        history["messages"][0]["reactions"],
        json!([{"emoji": "👍", "users": [alice.id]}])
    );

    // A deleted message loses its reactions and takes no new ones.
    server
        .delete(Some(&alice), &format!("/api/v1/rooms/{room}/messages/1"))
        .await;
    let history = server
        .get(Some(&bob), &format!("/api/v1/rooms/{room}/messages"))
        .await
        .json();
    assert_eq!(history["messages"][0]["reactions"], json!([]));
    let on_tomb = server
        .send(server.request(Method::PUT, &reaction_path(room, 1, "👍"), Some(&bob)))
        .await;
    assert_eq!((on_tomb.status, on_tomb.code()), (404, "not_found".into()));
    server.stop().await;
}

async fn reactions_refuse_outsiders_bad_emojis_and_too_many(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let mallory = server.register("mallory").await;
    let room = server.group(&alice, "Private", &[&bob]).await;
    server.say(&alice, room, "secret").await;
    let put =
        |user: &TestUser, path: String| server.send(server.request(Method::PUT, &path, Some(user)));

    // An outsider learns nothing, over REST or WebSocket.
    let paths = [
        reaction_path(room, 1, "👍"),
        reaction_path(room, 9, "👍"),
        reaction_path(room + 1000, 1, "👍"),
    ];
    let mut answers = Vec::new();
    for path in paths {
        let reply = put(&mallory, path.clone()).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found".into()));
        answers.push(reply.json());
        let reply = server.delete(Some(&mallory), &path).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found".into()));
        answers.push(reply.json());
    }
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "the same answer whether the room or message exists: {answers:?}"
    );
    let mut mallory_ws = server.connect(&mallory).await;
    mallory_ws
        .react(chatcore::RoomId(room), 1, "👍")
        .await
        .expect("frame sent");
    let refused = wait_for(&mut mallory_ws, |f| match f {
        ServerFrame::Error { code, .. } => Some(code.clone()),
        _ => None,
    })
    .await;
    assert_eq!(refused, "not_found");

    // Text, markup, whitespace and broken encodings are not emojis.
    let base = format!("/api/v1/rooms/{room}/messages/1/reactions/");
    for bad in [
        "ok",
        "%3Cb%3E",
        "%F0%9F%91%8D%20",
        "%FF",
        "%E2%80%AE%F0%9F%91%8D",
    ] {
        let reply = put(&alice, format!("{base}{bad}")).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "invalid".into()),
            "{bad}"
        );
        assert_eq!(reply.json()["error"]["field"], "emoji");
    }
    let empty = put(&alice, base.clone()).await;
    assert_eq!((empty.status, empty.code()), (400, "invalid".into()));

    // At most 20 different emojis per message; the 21st is refused and not stored.
    let emojis: Vec<String> = (0..21)
        .map(|i| char::from_u32(0x1F600 + i).unwrap().to_string())
        .collect();
    for emoji in &emojis[..20] {
        assert_eq!(put(&alice, reaction_path(room, 1, emoji)).await.status, 200);
    }
    let over = put(&alice, reaction_path(room, 1, &emojis[20])).await;
    assert_eq!((over.status, over.code()), (409, "conflict".into()));
    assert_eq!(over.json()["error"]["field"], "emoji");
    // Another member may still join an emoji that is there.
    assert_eq!(
        put(&bob, reaction_path(room, 1, &emojis[0])).await.status,
        200
    );
    let message = &server
        .get(Some(&alice), &format!("/api/v1/rooms/{room}/messages"))
        .await
        .json()["messages"][0];
    assert_eq!(message["reactions"].as_array().map(Vec::len), Some(20));
    server.stop().await;
}

/// The next `room_settings` frame on `ws` as (room, muted, archived), or `None` when a message
/// comes first.
async fn settings_before_a_message(ws: &mut chatcore_ws::Client) -> Option<(i64, bool, bool)> {
    wait_for(ws, |f| match f {
        ServerFrame::RoomSettings {
            room_id,
            muted,
            archived,
        } => Some(Some((room_id.0, *muted, *archived))),
        ServerFrame::Message { .. } => Some(None),
        _ => None,
    })
    .await
}

async fn room_settings_reach_own_devices_and_the_room_list(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.group(&alice, "Noisy", &[&bob]).await;
    let mut alice_phone = server.connect(&alice).await;
    let mut bob_ws = server.connect(&bob).await;
    let path = format!("/api/v1/rooms/{room}/settings");

    let muted = server
        .patch(Some(&alice), &path, json!({"muted": true}))
        .await;
    assert_eq!(muted.status, 200);
    assert_eq!(
        muted.json(),
        json!({"room_id": room, "muted": true, "archived": false})
    );
    server.say(&bob, room, "ping").await;
    assert_eq!(
        settings_before_a_message(&mut alice_phone).await,
        Some((room, true, false)),
        "the other device hears of it"
    );
    assert_eq!(
        settings_before_a_message(&mut bob_ws).await,
        None,
        "other members hear nothing"
    );

    let archived = server
        .patch(Some(&alice), &path, json!({"archived": true}))
        .await;
    assert_eq!(
        archived.json(),
        json!({"room_id": room, "muted": true, "archived": true}),
        "a field left out keeps its value"
    );
    server.say(&bob, room, "still there?").await;
    let list = server.get(Some(&alice), "/api/v1/rooms").await.json();
    let mine = &list["rooms"][0];
    assert_eq!(
        (&mine["muted"], &mine["archived"], &mine["unread"]),
        (&json!(true), &json!(true), &json!(2)),
        "muted keeps counting unread; a new message does not unarchive: {mine}"
    );
    let theirs = server.room(&bob, room).await;
    assert_eq!(
        (&theirs["muted"], &theirs["archived"]),
        (&json!(false), &json!(false))
    );

    let back = server
        .patch(
            Some(&alice),
            &path,
            json!({"muted": false, "archived": false}),
        )
        .await;
    assert_eq!(
        back.json(),
        json!({"room_id": room, "muted": false, "archived": false})
    );
    server.stop().await;
}

async fn room_settings_refuse_outsiders_and_bad_bodies(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let mallory = server.register("mallory").await;
    let room = server.group(&alice, "Private", &[]).await;
    let path = |room: i64| format!("/api/v1/rooms/{room}/settings");

    // An outsider learns nothing: the same answer whether the room exists or not.
    let mut answers = Vec::new();
    for target in [room, room + 1000] {
        let reply = server
            .patch(Some(&mallory), &path(target), json!({"muted": true}))
            .await;
        assert_eq!((reply.status, reply.code()), (404, "not_found".into()));
        answers.push(reply.json());
    }
    assert_eq!(answers[0], answers[1]);
    let anonymous = server
        .patch(None, &path(room), json!({"muted": true}))
        .await;
    assert_eq!(anonymous.status, 401);

    // A body that changes nothing, or is not the documented shape, is refused.
    let empty = server.patch(Some(&alice), &path(room), json!({})).await;
    assert_eq!((empty.status, empty.code()), (400, "invalid".into()));
    assert_eq!(empty.json()["error"]["field"], "settings");
    for bad in [
        json!({"muted": "yes"}),
        json!({"muted": true, "pinned": true}),
        json!(["muted"]),
    ] {
        let reply = server.patch(Some(&alice), &path(room), bad.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "bad_json".into()),
            "{bad}"
        );
    }
    let unchanged = server.room(&alice, room).await;
    assert_eq!(
        (&unchanged["muted"], &unchanged["archived"]),
        (&json!(false), &json!(false))
    );
    server.stop().await;
}

/// The next `edited` event on `ws`: the message and whom it newly mentions.
async fn next_edit(ws: &mut Client) -> (Message, Vec<UserId>) {
    wait_for(ws, |f| match f {
        ServerFrame::Edited {
            message,
            newly_mentioned,
        } => Some((message.clone(), newly_mentioned.clone())),
        _ => None,
    })
    .await
}

async fn mentions_are_spans_of_members_kept_through_edits(backend: Backend) {
    let Some(server) = Server::on(backend).await else {
        return;
    };
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let mallory = server.register("mallory").await;
    let room = server.group(&alice, "Team", &[&bob]).await;
    let aside = server.direct(&alice, &mallory).await;
    let mut bob_ws = server.connect(&bob).await;
    let mut mallory_ws = server.connect(&mallory).await;
    let bob_span = |start: usize| json!([{"start": start, "end": start + 4, "user_id": bob.id}]);

    // Only members are resolved; the text stays exactly as sent, markup included.
    let body = "@bob and @mallory: <b>look</b>";
    let sent = server
        .post(
            Some(&alice),
            &format!("/api/v1/rooms/{room}/messages"),
            json!({"body": body, "client_id": "m-1"}),
        )
        .await;
    assert_eq!(sent.status, 201);
    assert_eq!(sent.json()["body"], body);
    assert_eq!(sent.json()["mentions"], bob_span(0));
    let live = wait_for(&mut bob_ws, |f| match f {
        ServerFrame::Message { message } => Some(message.clone()),
        _ => None,
    })
    .await;
    assert_eq!(serde_json::to_value(&live.mentions).unwrap(), bob_span(0));

    // An edit resolves the new text again (any case), live and in history; the live event
    // names whom the edit mentions anew (Bob was named before: nobody).
    let first = format!("/api/v1/rooms/{room}/messages/1");
    let edited = server
        .patch(Some(&alice), &first, json!({"body": "now @mallory, @BOB"}))
        .await;
    assert_eq!(edited.json()["mentions"], bob_span(14));
    let (live, newly) = next_edit(&mut bob_ws).await;
    assert_eq!(serde_json::to_value(&live.mentions).unwrap(), bob_span(14));
    assert_eq!(newly, []);
    let history = server
        .get(Some(&bob), &format!("/api/v1/rooms/{room}/messages"))
        .await
        .json();
    assert_eq!(history["messages"][0]["mentions"], bob_span(14));
    // Dropped, then named again: that edit tells Bob as a new mention would.
    for (body, newly) in [("never mind", vec![]), ("@bob after all", vec![bob.id])] {
        let edited = server
            .patch(Some(&alice), &first, json!({ "body": body }))
            .await;
        assert_eq!(edited.status, 200);
        let (_, told) = next_edit(&mut bob_ws).await;
        assert_eq!(
            told.iter().map(|u| u.0).collect::<Vec<_>>(),
            newly,
            "{body}"
        );
    }

    // The outsider named in the text heard nothing of it: the first message they receive is
    // one of their own room's.
    server.say(&alice, aside, "hi mallory").await;
    let first = wait_for(&mut mallory_ws, |f| match f {
        ServerFrame::Message { message } | ServerFrame::Edited { message, .. } => {
            Some(message.room_id.0)
        }
        _ => None,
    })
    .await;
    assert_eq!(first, aside);
    // Nor may they mention anyone in a room they are not in.
    let refused = server
        .post(
            Some(&mallory),
            &format!("/api/v1/rooms/{room}/messages"),
            json!({"body": "@bob hello", "client_id": "m-2"}),
        )
        .await;
    assert_eq!((refused.status, refused.code()), (404, "not_found".into()));
    server.stop().await;
}

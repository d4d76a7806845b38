//! The search index's tail (migration 0013): messages above the mark are not in the FTS5 index
//! yet, and a search must still see every message exactly as it is now; edits, deletes and
//! room deletions must leave the index consistent whether they hit a row above or below the
//! mark; the mark survives a reopen.
//!
//! Indexing only happens before a batch (when the tail is due) or before a search, so between
//! the last append and the next search the rows appended are above the mark: the tests check
//! that precondition rather than assume it.

use chatcore::{
    Message, NewMessage, NewRoom, NewUser, Role, RoomId, RoomKind, Store, Timestamp, UserId,
};
use chatcore_sqlite::{SqliteOptions, SqliteStore};

/// A user who is admin of `rooms` fresh rooms.
async fn user_with_rooms(store: &SqliteStore, rooms: usize) -> (UserId, Vec<RoomId>) {
    let user = store
        .create_user(NewUser {
            username: Some("searcher".into()),
            display_name: "Searcher".into(),
            password_hash: None,
            is_guest: false,
            external_id: None,
            created_at: Timestamp::now(),
        })
        .await
        .expect("user")
        .id;
    let mut ids = Vec::new();
    for n in 0..rooms {
        let room = store
            .create_room(NewRoom {
                kind: RoomKind::Group,
                name: Some(format!("room {n}")),
                direct_key: None,
                members: vec![(user, Role::Admin)],
                created_at: Timestamp::now(),
            })
            .await
            .expect("room");
        ids.push(room.id);
    }
    (user, ids)
}

fn new_message(room: RoomId, sender: UserId, body: &str) -> NewMessage {
    NewMessage {
        room_id: room,
        sender_id: sender,
        body: body.into(),
        mentions: Vec::new(),
        media_id: None,
        reply_to: None,
        custom: None,
        client_id: format!("{}-{body}", room.0),
        created_at: Timestamp::now(),
    }
}

async fn send(store: &SqliteStore, room: RoomId, sender: UserId, body: &str) -> Message {
    store
        .append_message(new_message(room, sender, body))
        .await
        .expect("append")
        .0
}

/// The bodies found for `text` in `rooms`, newest first.
async fn found(store: &SqliteStore, rooms: &[RoomId], text: &str) -> Vec<String> {
    store
        .search_messages(rooms, text, None, 50)
        .await
        .expect("search")
        .into_iter()
        .map(|m| m.body)
        .collect()
}

async fn mark(store: &SqliteStore) -> i64 {
    sqlx::query_scalar("SELECT indexed_up_to FROM messages_fts_mark")
        .fetch_one(store.pool())
        .await
        .expect("mark")
}

/// FTS5's own check that the index is well formed: an external-content 'delete' of a row that
/// was never indexed (what the triggers' guard on the mark prevents) makes it fail.
async fn assert_index_intact(store: &SqliteStore) {
    sqlx::query("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
        .execute(store.pool())
        .await
        .expect("the FTS5 index passes its integrity check");
}

/// Edits `edited` ("alpha original") to "delta rewritten" and deletes `deleted` ("bravo
/// doomed"), then checks that search sees them as they are now: alpha and bravo gone, delta
/// found.
async fn edit_alpha_and_delete_bravo(store: &SqliteStore, edited: &Message, deleted: &Message) {
    let room = edited.room_id;
    store
        .edit_message(room, edited.seq, "delta rewritten", &[], Timestamp::now())
        .await
        .expect("edit");
    store
        .delete_message(room, deleted.seq, Timestamp::now())
        .await
        .expect("delete");
    let rooms = [room];
    assert_eq!(found(store, &rooms, "alpha").await, Vec::<String>::new());
    assert_eq!(found(store, &rooms, "delta").await, ["delta rewritten"]);
    assert_eq!(found(store, &rooms, "bravo").await, Vec::<String>::new());
}

#[tokio::test]
async fn a_message_in_the_tail_is_found_right_after_its_append() {
    let store = SqliteStore::in_memory().await.expect("open");
    let (user, rooms) = user_with_rooms(&store, 1).await;
    let hello = send(&store, rooms[0], user, "Hello Wörld").await;
    assert!(
        mark(&store).await < hello.id.0,
        "not indexed before the search"
    );

    assert_eq!(found(&store, &rooms, "wörld").await, ["Hello Wörld"]);
    assert_eq!(
        mark(&store).await,
        hello.id.0,
        "the search indexed the tail"
    );
    assert_index_intact(&store).await;
}

#[tokio::test]
async fn edits_and_deletes_above_the_mark_are_searched_as_they_are_now() {
    let store = SqliteStore::in_memory().await.expect("open");
    let (user, rooms) = user_with_rooms(&store, 1).await;
    let room = rooms[0];
    // One batch, so no indexing can run between the appends.
    let batch = ["alpha original", "bravo doomed", "charlie kept"]
        .map(|body| new_message(room, user, body))
        .to_vec();
    let sent: Vec<Message> = store
        .append_messages(batch)
        .await
        .into_iter()
        .map(|result| result.expect("append").0)
        .collect();
    let (edited, deleted) = (&sent[0], &sent[1]);
    assert!(
        mark(&store).await < edited.id.0,
        "all three are in the tail"
    );

    edit_alpha_and_delete_bravo(&store, edited, deleted).await;
    assert_eq!(found(&store, &rooms, "charlie").await, ["charlie kept"]);
    assert_index_intact(&store).await;
}

#[tokio::test]
async fn edits_and_deletes_below_the_mark_update_the_index() {
    let store = SqliteStore::in_memory().await.expect("open");
    let (user, rooms) = user_with_rooms(&store, 1).await;
    let room = rooms[0];
    let edited = send(&store, room, user, "alpha original").await;
    let deleted = send(&store, room, user, "bravo doomed").await;
    assert_eq!(found(&store, &rooms, "alpha").await, ["alpha original"]);
    assert_eq!(mark(&store).await, deleted.id.0, "both are indexed");

    edit_alpha_and_delete_bravo(&store, &edited, &deleted).await;
    assert_index_intact(&store).await;
}

/// The store has no room deletion of its own; rows go with their room by `ON DELETE CASCADE`
/// (an operator's `DELETE FROM rooms`), which fires the delete trigger for every message.
#[tokio::test]
async fn deleting_rooms_above_and_below_the_mark_keeps_the_index_intact() {
    let store = SqliteStore::in_memory().await.expect("open");
    let (user, rooms) = user_with_rooms(&store, 3).await;
    send(&store, rooms[0], user, "indexed echo").await;
    assert_eq!(found(&store, &rooms, "echo").await, ["indexed echo"]);
    let tail = send(&store, rooms[1], user, "tail echo").await;
    assert!(
        mark(&store).await < tail.id.0,
        "the second room's message is in the tail"
    );

    for room in &rooms[..2] {
        sqlx::query("DELETE FROM rooms WHERE id = ?")
            .bind(room.0)
            .execute(store.pool())
            .await
            .expect("delete room");
    }
    send(&store, rooms[2], user, "survivor echo").await;

    assert_eq!(found(&store, &rooms, "echo").await, ["survivor echo"]);
    assert_index_intact(&store).await;
}

#[tokio::test]
async fn a_long_tail_is_indexed_before_a_batch_without_a_search() {
    let store = SqliteStore::in_memory().await.expect("open");
    let (user, rooms) = user_with_rooms(&store, 1).await;
    let mut ids = Vec::new();
    // 17 batches of 256: the tail reaches 4096 after the 16th, so the 17th is preceded by an
    // indexing transaction (an earlier one may run too if a batch found the tail a second old).
    for batch in 0..17 {
        let msgs = (0..256)
            .map(|n| new_message(rooms[0], user, &format!("bulk {batch}/{n}")))
            .collect();
        for result in store.append_messages(msgs).await {
            ids.push(result.expect("append").0.id.0);
        }
    }
    let indexed = mark(&store).await;
    assert!(
        indexed >= ids[0],
        "part of the tail was indexed by the writer"
    );
    assert!(
        indexed < ids[ids.len() - 1],
        "the last batch is still in the tail"
    );

    assert_eq!(found(&store, &rooms, "bulk 16/255").await, ["bulk 16/255"]);
    assert_eq!(found(&store, &rooms, "bulk 0/0").await, ["bulk 0/0"]);
    assert_index_intact(&store).await;
}

#[tokio::test]
async fn the_mark_survives_a_reopen_and_the_tail_is_found_after_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chat.db");
    let path = path.to_str().expect("utf-8 temp path");
    let store = SqliteStore::open(path, SqliteOptions::default())
        .await
        .expect("open");
    let (user, rooms) = user_with_rooms(&store, 1).await;
    let first = send(&store, rooms[0], user, "before reopen").await;
    assert_eq!(found(&store, &rooms, "before").await, ["before reopen"]);
    let tail = send(&store, rooms[0], user, "tail across reopen").await;
    store.close().await;

    let store = SqliteStore::open(path, SqliteOptions::default())
        .await
        .expect("reopen");
    assert_eq!(mark(&store).await, first.id.0, "the mark was kept");
    assert_eq!(
        found(&store, &rooms, "reopen").await,
        ["tail across reopen", "before reopen"]
    );
    assert_eq!(mark(&store).await, tail.id.0);
    assert_index_intact(&store).await;
}

//! SQLite keeps the idempotency keys of the last [`IDEMPOTENCY_WINDOW`] in its writer's memory:
//! the map must come back when the store is reopened, and forget what is older than the window.

use std::time::Duration;

use chatcore::{NewMessage, NewRoom, NewUser, Role, RoomId, RoomKind, Store, Timestamp, UserId};
use chatcore_sqlite::{IDEMPOTENCY_WINDOW, SqliteOptions, SqliteStore};

const T0: Timestamp = Timestamp(1_700_000_000_000);

async fn open(path: &str) -> SqliteStore {
    SqliteStore::open(path, SqliteOptions::default())
        .await
        .expect("open")
}

/// A user alone in a new group.
async fn room_of_one(store: &SqliteStore) -> (UserId, RoomId) {
    let user = store
        .create_user(NewUser {
            username: None,
            display_name: "Guest".into(),
            password_hash: None,
            is_guest: true,
            external_id: None,
            created_at: T0,
        })
        .await
        .expect("user");
    let room = store
        .create_room(NewRoom {
            kind: RoomKind::Group,
            name: Some("g".into()),
            direct_key: None,
            members: vec![(user.id, Role::Admin)],
            created_at: T0,
        })
        .await
        .expect("room");
    (user.id, room.id)
}

fn send(room: RoomId, sender: UserId, client_id: &str, at: Timestamp) -> NewMessage {
    NewMessage {
        room_id: room,
        sender_id: sender,
        body: format!("sent as {client_id}"),
        mentions: Vec::new(),
        media_id: None,
        reply_to: None,
        custom: None,
        client_id: client_id.to_owned(),
        created_at: at,
    }
}

#[tokio::test]
async fn retries_after_reopening_return_the_first_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chat.db");
    let path = path.to_str().expect("utf-8 path");
    let store = open(path).await;
    let (user, room) = room_of_one(&store).await;
    let day = IDEMPOTENCY_WINDOW;
    let sends = [
        send(room, user, "3f1c9a7e-0b2d-4c55-9e61-7a0d2b8c4f10", T0),
        send(room, user, "a", T0.plus(day / 2)),
        send(room, user, "9b7e", T0.plus(day)),
    ];
    let mut first = Vec::new();
    for m in &sends {
        first.push(store.append_message(m.clone()).await.expect("append").0);
    }
    store.close().await;
    drop(store);

    let store = open(path).await;
    for (m, first) in sends.iter().zip(&first) {
        let (again, created) = store.append_message(m.clone()).await.expect("retry");
        assert!(!created, "{} was stored again after reopening", m.client_id);
        assert_eq!(&again, first);
    }
    assert_eq!(
        store
            .room(room)
            .await
            .expect("room")
            .expect("room")
            .last_seq,
        3
    );
}

#[tokio::test]
async fn keys_older_than_the_window_are_forgotten() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chat.db");
    let path = path.to_str().expect("utf-8 path");
    let store = open(path).await;
    let (user, room) = room_of_one(&store).await;
    let old = send(room, user, "old", T0);
    let later = T0.plus(IDEMPOTENCY_WINDOW + Duration::from_millis(1));
    let recent = send(room, user, "recent", later);
    store.append_message(old.clone()).await.expect("old");
    store.append_message(recent.clone()).await.expect("recent");
    store.close().await;
    drop(store);

    // Reopened, the map holds the window before the newest message only: "old" fell out of
    // it (so memory stays bounded by the window), "recent" did not.
    let store = open(path).await;
    let (_, created) = store.append_message(recent).await.expect("retry");
    assert!(!created);
    let (again, created) = store.append_message(old).await.expect("late retry");
    assert!(created, "a retry later than the window is a new send");
    assert_eq!(again.seq, 3);
}

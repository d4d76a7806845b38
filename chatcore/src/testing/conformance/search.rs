//! Conformance cases of [`Store::search_messages`].

use std::sync::atomic::{AtomicU64, Ordering};

use super::*;

/// Client ids unique in the whole test process.
static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(0);

/// Appends `bodies` to `room` from `sender`, returning their ids in order.
async fn post(store: &S, room: RoomId, sender: UserId, bodies: &[&str]) -> Vec<MessageId> {
    let mut ids = Vec::new();
    for body in bodies {
        let client_id = format!("search-{}", NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed));
        let (m, _) = store
            .append_message(msg(room, sender, &client_id, body))
            .await
            .unwrap();
        ids.push(m.id);
    }
    ids
}

async fn found(store: &S, rooms: &[RoomId], text: &str) -> Vec<String> {
    store
        .search_messages(rooms, text, None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect()
}

pub async fn search_finds_text_in_the_given_rooms_newest_first(store: S) {
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let ours = group(&store, &[a.id, b.id]).await;
    let mine = group(&store, &[a.id]).await;
    let theirs = group(&store, &[b.id]).await;
    let first = post(&store, ours.id, b.id, &["Hello there", "nothing here"]).await;
    let second = post(&store, mine.id, a.id, &["say hello again"]).await;
    post(
        &store,
        theirs.id,
        b.id,
        &["hello from a room alice is not in"],
    )
    .await;
    let third = post(&store, ours.id, a.id, &["HELLO, loudly"]).await;

    let rooms = [ours.id, mine.id];
    let page = store
        .search_messages(&rooms, "hello", None, 10)
        .await
        .unwrap();
    let ids: Vec<MessageId> = page.iter().map(|m| m.id).collect();
    assert_eq!(
        ids,
        [third[0], second[0], first[0]],
        "newest first, any case"
    );
    assert_eq!(page[0].room_id, ours.id);
    assert_eq!(page[0].seq, 3);
    assert_eq!(page[0].sender.id, a.id);
    assert_eq!(page[1].room_id, mine.id);

    let older = store
        .search_messages(&rooms, "hello", Some(third[0]), 1)
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].id, second[0], "`before` and `limit` page");
    let last = store
        .search_messages(&rooms, "hello", Some(first[0]), 10)
        .await
        .unwrap();
    assert!(last.is_empty());

    assert!(
        found(&store, &[mine.id], "there").await.is_empty(),
        "only the given rooms"
    );
    assert_eq!(found(&store, &[theirs.id], "alice is").await.len(), 1);
    assert!(found(&store, &rooms, "goodbye").await.is_empty());
    assert!(found(&store, &[], "hello").await.is_empty());
}

pub async fn search_takes_operators_literally(store: S) {
    let a = user(&store, "alice").await;
    let room = group(&store, &[a.id]).await;
    post(
        &store,
        room.id,
        a.id,
        &[
            "prices 50% lower",
            "prices 5000 lower",
            "file name_with_underscore",
            "file namexwithxunderscore",
            r#"she said "quoted words" today"#,
            "she said quoted words today",
            "wildcard star* here",
            "wildcard starlight here",
            "cats NEAR dogs",
            "cats near the dogs",
            "cats AND dogs",
            "cats and some dogs",
            "cats -dogs",
            "cats only",
            r"path C:\temp\new!",
            "path C:tempnew",
        ],
    )
    .await;
    let rooms = [room.id];
    for (text, only) in [
        ("50%", "prices 50% lower"),
        ("name_with", "file name_with_underscore"),
        (r#""quoted words""#, r#"she said "quoted words" today"#),
        ("star*", "wildcard star* here"),
        ("cats NEAR dogs", "cats NEAR dogs"),
        ("cats AND dogs", "cats AND dogs"),
        ("cats -dogs", "cats -dogs"),
        (r"C:\temp\new!", r"path C:\temp\new!"),
    ] {
        assert_eq!(
            found(&store, &rooms, text).await,
            [only],
            "searching {text:?}"
        );
    }
    // An operator-looking text with no match finds nothing rather than everything.
    assert!(found(&store, &rooms, "*\"%").await.is_empty());
    assert!(found(&store, &rooms, "OR NOT").await.is_empty());
}

pub async fn search_follows_edits_and_deletes(store: S) {
    let a = user(&store, "alice").await;
    let room = group(&store, &[a.id]).await;
    post(
        &store,
        room.id,
        a.id,
        &["meet at the station", "station closed", "Été à Paris"],
    )
    .await;
    let rooms = [room.id];
    assert_eq!(found(&store, &rooms, "station").await.len(), 2);

    store
        .edit_message(room.id, 1, "meet at the harbour", &[], T0)
        .await
        .unwrap();
    assert_eq!(found(&store, &rooms, "station").await, ["station closed"]);
    assert_eq!(
        found(&store, &rooms, "harbour").await,
        ["meet at the harbour"]
    );

    store.delete_message(room.id, 2, T0).await.unwrap();
    assert!(found(&store, &rooms, "station").await.is_empty());
    assert!(found(&store, &rooms, "closed").await.is_empty());

    assert_eq!(found(&store, &rooms, "été").await, ["Été à Paris"]);
    assert_eq!(found(&store, &rooms, "PARIS").await, ["Été à Paris"]);
}

//! The read measurements shared by the storage benches: the room list of a user in 200 rooms of
//! 100 members each, and a page of 50 from a room of 1,000,000 messages (bulk-loaded through
//! `Store::append_messages` in batches, not one call per message).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chatcore::{NewMessage, NewRoom, NewUser, Role, RoomId, RoomKind, Store, Timestamp, UserId};

/// Median of `runs` timings of `f`.
async fn median<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f().await;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    times[runs / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

async fn users(store: &Arc<dyn Store>, n: usize, prefix: &str) -> Vec<UserId> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let user = NewUser {
            username: Some(format!("{prefix}{i}")),
            display_name: format!("User {prefix}{i}"),
            password_hash: None,
            is_guest: false,
            external_id: None,
            created_at: Timestamp::now(),
        };
        ids.push(store.create_user(user).await.expect("create user").id);
    }
    ids
}

async fn group(store: &Arc<dyn Store>, members: &[UserId]) -> RoomId {
    let room = NewRoom {
        kind: RoomKind::Group,
        name: Some("bench".into()),
        direct_key: None,
        members: members.iter().map(|&u| (u, Role::Member)).collect(),
        created_at: Timestamp::now(),
    };
    store.create_room(room).await.expect("create room").id
}

/// `count` messages into `room` from `senders`, in batches of 256.
async fn fill(store: &Arc<dyn Store>, room: RoomId, senders: &[UserId], count: usize) {
    let mut sent = 0;
    while sent < count {
        let batch: Vec<NewMessage> = (sent..count.min(sent + 256))
            .map(|i| NewMessage {
                room_id: room,
                sender_id: senders[i % senders.len()],
                body: format!("message {i}, about as long as a chat line usually is"),
                mentions: Vec::new(),
                media_id: None,
                reply_to: None,
                custom: None,
                client_id: format!("{i:x}-{room}"),
                created_at: Timestamp::now(),
            })
            .collect();
        sent += batch.len();
        for result in store.append_messages(batch).await {
            result.expect("append");
        }
    }
}

/// The room list: `rooms` rooms of `members` members, a few messages in each; the list read in
/// one `room_list` call and, for comparison, room by room as the default does.
pub async fn room_list(store: &Arc<dyn Store>, rooms: usize, members: usize) {
    let people = users(store, members, "member").await;
    for _ in 0..rooms {
        let room = group(store, &people).await;
        fill(store, room, &people[1..4], 3).await;
    }
    let me = people[0];
    let listed = store.room_list(me).await.expect("room list");
    assert_eq!(listed.len(), rooms);
    assert!(
        listed
            .iter()
            .all(|e| e.members.len() == members && e.unread == 3)
    );
    let one_call = median(21, || async {
        store.room_list(me).await.expect("room list");
    })
    .await;
    let by_room = median(3, || async {
        for (room, member) in store.rooms_of_user(me).await.expect("rooms") {
            chatcore::room_list_entry(store.as_ref(), room, member)
                .await
                .expect("entry");
        }
    })
    .await;
    println!(
        "room list, {rooms} rooms x {members} members: {} in one room_list call (median of 21), \
         {} room by room (median of 3)",
        ms(one_call),
        ms(by_room)
    );
}

/// History pages of 50 from one room of `count` messages: the newest page and one from the
/// middle.
pub async fn history(store: &Arc<dyn Store>, count: usize) {
    let people = users(store, 4, "writer").await;
    let room = group(store, &people).await;
    let started = Instant::now();
    fill(store, room, &people, count).await;
    println!(
        "bulk load: {count} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let seq = i64::try_from(count / 2).expect("seq");
    let newest = median(101, || async {
        let page = store.messages_before(room, None, 50).await.expect("page");
        assert_eq!(page.len(), 50);
    })
    .await;
    let middle = median(101, || async {
        let page = store
            .messages_before(room, Some(seq), 50)
            .await
            .expect("page");
        assert_eq!(page.len(), 50);
    })
    .await;
    println!(
        "history page of 50 from {count} messages: newest {}, before seq {seq} {} (median of 101)",
        ms(newest),
        ms(middle)
    );
}

/// Sizes from the environment: `CHATCORE_BENCH_HISTORY` messages (default 1,000,000).
pub fn history_size() -> usize {
    std::env::var("CHATCORE_BENCH_HISTORY")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000)
}

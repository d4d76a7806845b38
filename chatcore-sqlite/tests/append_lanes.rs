//! A chat over a store that takes several batches at once (`Store::append_lanes` > 1, as every
//! SQL store does by default) still delivers each room's messages in seq order without gaps, and
//! answers every send with its own message.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chatcore::{Chat, ChatConfig, EventKind, MemoryMediaStore, RoomId, SendMessage, Seq, Store};
use chatcore_sqlite::{SqliteOptions, SqliteStore};

const ROOMS: usize = 8;
const SENDERS_PER_ROOM: usize = 3;
/// Within one sender's burst of the default send rate (40).
const SENDS_EACH: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_room_stays_in_order_across_lanes() {
    let options = SqliteOptions::default().append_lanes(4);
    let store = SqliteStore::open("sqlite::memory:", options)
        .await
        .expect("open");
    assert_eq!(store.append_lanes(), 4);
    let mut config = ChatConfig::default();
    config.guests_can_create_groups = true;
    let chat = Chat::builder(Arc::new(store), Arc::new(MemoryMediaStore::new()))
        .config(config)
        .start(&tokio::runtime::Handle::current())
        .expect("start");
    let (watcher, _) = chat.guest(None).await.expect("guest");

    let mut rooms = Vec::new();
    let mut senders = Vec::new();
    for _ in 0..ROOMS {
        let mut members = Vec::new();
        for _ in 0..SENDERS_PER_ROOM {
            members.push(chat.guest(None).await.expect("guest").0);
        }
        let mut ids: Vec<_> = members[1..].iter().map(|a| a.id()).collect();
        ids.push(watcher.id());
        let room = chat
            .create_group(&members[0], "Team", &ids)
            .await
            .expect("group")
            .id;
        rooms.push(room);
        senders.extend(members.into_iter().map(|member| (member, room)));
    }
    let (mut feed, _) = chat.connect(&watcher).await.expect("connect");

    let sends = senders.into_iter().map(|(sender, room)| {
        let chat = chat.clone();
        tokio::spawn(async move {
            let mut seqs = Vec::new();
            for n in 0..SENDS_EACH {
                let message = chat
                    .send(
                        &sender,
                        SendMessage {
                            room_id: room,
                            body: format!("message {n}"),
                            ..Default::default()
                        },
                    )
                    .await
                    .expect("send");
                assert_eq!(message.room_id, room);
                seqs.push(message.seq);
            }
            seqs
        })
    });
    let mut answered: HashMap<RoomId, Vec<Seq>> = HashMap::new();
    for (task, room) in futures::future::join_all(sends)
        .await
        .into_iter()
        .zip(rooms.iter().flat_map(|room| [*room; SENDERS_PER_ROOM]))
    {
        answered
            .entry(room)
            .or_default()
            .extend(task.expect("sender"));
    }

    let per_room = (SENDERS_PER_ROOM * SENDS_EACH) as Seq;
    let mut delivered: HashMap<RoomId, Vec<Seq>> = HashMap::new();
    let mut count = 0;
    while count < ROOMS * SENDERS_PER_ROOM * SENDS_EACH {
        let event = tokio::time::timeout(Duration::from_secs(10), feed.recv())
            .await
            .expect("every message delivered")
            .expect("feed open");
        if let EventKind::Message(m) = event.kind() {
            delivered.entry(m.room_id).or_default().push(m.seq);
            count += 1;
        }
    }
    for room in rooms {
        let expected: Vec<Seq> = (1..=per_room).collect();
        assert_eq!(
            delivered[&room], expected,
            "room {room:?} in order, no gaps"
        );
        let mut acked = answered.remove(&room).expect("answers");
        acked.sort_unstable();
        assert_eq!(acked, expected, "room {room:?}: one answer per send");
    }
}

//! The append-throughput measurement shared by the storage benches: `senders` tasks, each a
//! different user sending its share of `total` messages one after another into one group room
//! (so every append contends for the same room counter), on a fresh store per scenario.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use chatcore::{NewMessage, NewRoom, NewUser, Role, RoomKind, Store, Timestamp};

/// Runs per scenario; the median is reported.
const REPEATS: usize = 3;

/// Messages appended per second by `senders` concurrent senders, `total` messages in all.
pub async fn appends_per_second(store: Arc<dyn Store>, senders: usize, total: usize) -> f64 {
    let mut members = Vec::with_capacity(senders);
    for i in 0..senders {
        let user = NewUser {
            username: Some(format!("sender{i}")),
            display_name: format!("Sender {i}"),
            password_hash: None,
            is_guest: false,
            external_id: None,
            created_at: Timestamp::now(),
        };
        members.push((
            store.create_user(user).await.expect("create user").id,
            Role::Member,
        ));
    }
    let room = NewRoom {
        kind: RoomKind::Group,
        name: Some("bench".into()),
        direct_key: None,
        members: members.clone(),
        created_at: Timestamp::now(),
    };
    let room = store.create_room(room).await.expect("create room").id;
    let per_sender = total / senders;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(senders);
    for (sender, _) in members {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for i in 0..per_sender {
                let msg = NewMessage {
                    room_id: room,
                    sender_id: sender,
                    body: format!("message {i} from {sender}"),
                    mentions: Vec::new(),
                    media_id: None,
                    reply_to: None,
                    custom: None,
                    client_id: format!("c{i}"),
                    created_at: Timestamp::now(),
                };
                store.append_message(msg).await.expect("append");
            }
        }));
    }
    for task in tasks {
        task.await.expect("sender task");
    }
    (per_sender * senders) as f64 / started.elapsed().as_secs_f64()
}

/// Runs every scenario of `backends` (a label and a way to open a fresh store) for 1, 8 and 64
/// senders and prints a Markdown table row per backend: the median of `REPEATS` runs, each on
/// a fresh store, because a shared machine makes single runs noisy.
pub async fn run<F, Fut>(backends: Vec<(&str, F)>, total: usize)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    println!("| backend | 1 sender | 8 senders | 64 senders |");
    println!("|---|---:|---:|---:|");
    for (label, open) in backends {
        let mut row = format!("| {label} |");
        for senders in [1, 8, 64] {
            let mut rates = Vec::with_capacity(REPEATS);
            for _ in 0..REPEATS {
                rates.push(appends_per_second(open().await, senders, total).await);
            }
            rates.sort_by(f64::total_cmp);
            let rate = rates[REPEATS / 2];
            row.push_str(&format!(" {rate:.0} |"));
        }
        println!("{row}");
    }
}

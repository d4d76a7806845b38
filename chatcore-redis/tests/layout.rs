//! Which pub/sub channel layout to use, by measurement (ignored: it is a measurement, not a
//! check; it needs a quiet Redis and a release build to mean anything):
//!
//! ```sh
//! CHATCORE_TEST_REDIS_URL=redis://127.0.0.1:6379 LAYOUT_EVENTS=200000 LAYOUT_ROOMS=1000 \
//!   cargo nextest run --release -p chatcore-redis --run-ignored ignored-only \
//!   -E 'test(channel_layouts)' --no-capture
//! ```
//!
//! One publisher sends `LAYOUT_EVENTS` notices (shaped and sized like a node's "room R has
//! messages up to S") over `LAYOUT_ROOMS` rooms to two subscribing nodes, each serving a
//! pseudo-random `LAYOUT_SHARE` (default 0.5) of the rooms, as when clients are spread over two
//! nodes. For each layout it prints the notices each node received and how many of them were
//! for its rooms, the throughput (notices published per second, until both nodes have all
//! theirs) and the Redis CPU seconds spent (from `INFO cpu`, Redis-wide: keep it otherwise
//! idle). Layouts: every notice on one channel; on one of `LAYOUT_SHARDS` (default 16)
//! channels by room id, each node subscribed to the shards of its rooms; one channel per room.
//!
//! Publishing is pipelined (100 a round trip) so that Redis, not the round trip, is measured.
//! On one Redis, sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`) does the same work as `PUBLISH` on
//! the same channels; it spreads channels over the masters of a Redis Cluster only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chatcore_redis::testing::{require, unique_prefix};
use futures::StreamExt;

/// Notices published per round trip.
const PIPELINE: usize = 100;

/// How long the nodes may take to receive what they subscribed to.
const PATIENCE: Duration = Duration::from_secs(120);

/// How notices are spread over channels.
#[derive(Debug, Clone, Copy)]
enum Layout {
    OneChannel,
    Sharded(u64),
    PerRoom,
}

impl Layout {
    fn channel(self, prefix: &str, room: u64) -> String {
        match self {
            Layout::OneChannel => format!("{prefix}:events"),
            Layout::Sharded(shards) => format!("{prefix}:events:{}", room % shards),
            Layout::PerRoom => format!("{prefix}:room:{room}"),
        }
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect(name))
}

/// splitmix64: a fixed pseudo-random sequence, so every layout meets the same rooms.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The rooms node `node` serves: each room with probability `share`.
fn rooms_of(node: u64, rooms: u64, share: f64) -> HashSet<u64> {
    let cut = (share * u64::MAX as f64) as u64;
    (0..rooms)
        .filter(|&room| mix(node << 32 | room) <= cut)
        .collect()
}

/// A payload as large as a real "messages" notice.
fn notice(room: u64, seq: u64) -> String {
    format!(
        r#"{{"v":1,"node":12345678901234567890,"t":"messages","room":{room},"first":{seq},"last":{seq}}}"#
    )
}

async fn redis_cpu_seconds(conn: &mut redis::aio::MultiplexedConnection) -> f64 {
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .filter(|l| l.starts_with("used_cpu_user:") || l.starts_with("used_cpu_sys:"))
        .filter_map(|l| l.split_once(':')?.1.trim().parse::<f64>().ok())
        .sum()
}

/// One subscribing node: subscribes to `channels`, then counts in the background until it
/// has received `expected` notices; the task yields (received, for its `rooms`).
async fn node(
    client: &redis::Client,
    channels: HashSet<String>,
    rooms: HashSet<u64>,
    expected: usize,
) -> tokio::task::JoinHandle<(usize, usize)> {
    let (mut sink, mut stream) = client.get_async_pubsub().await.unwrap().split();
    let channels: Vec<String> = channels.into_iter().collect();
    for batch in channels.chunks(1000) {
        sink.subscribe(batch).await.unwrap();
    }
    tokio::spawn(async move {
        let (mut received, mut useful) = (0, 0);
        while received < expected {
            let message = tokio::time::timeout(PATIENCE, stream.next())
                .await
                .unwrap_or_else(|_| panic!("only {received} of {expected} notices arrived"))
                .expect("the subscription ended");
            received += 1;
            let payload: String = message.get_payload().unwrap();
            let room = payload
                .split(r#""room":"#)
                .nth(1)
                .and_then(|rest| rest.split(',').next())
                .and_then(|room| room.parse::<u64>().ok())
                .expect("a room");
            if rooms.contains(&room) {
                useful += 1;
            }
        }
        drop(sink);
        (received, useful)
    })
}

async fn measure(url: &str, layout: Layout, events: u64, rooms: u64, share: f64) {
    let client = redis::Client::open(url).unwrap();
    let prefix = unique_prefix("layout");
    let room_of = |i: u64| mix(i) % rooms;
    let mut nodes = Vec::new();
    for n in 1..=2 {
        let served = rooms_of(n, rooms, share);
        let channels: HashSet<String> = match layout {
            Layout::OneChannel => HashSet::from([layout.channel(&prefix, 0)]),
            _ => served.iter().map(|&r| layout.channel(&prefix, r)).collect(),
        };
        let expected = (0..events)
            .filter(|&i| channels.contains(&layout.channel(&prefix, room_of(i))))
            .count();
        nodes.push(node(&client, channels, served, expected).await);
    }
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let cpu_before = redis_cpu_seconds(&mut conn).await;
    let started = Instant::now();
    let receiving = tokio::spawn(futures::future::join_all(nodes));
    let mut i = 0;
    while i < events {
        let mut pipe = redis::pipe();
        for i in i..(i + PIPELINE as u64).min(events) {
            let room = room_of(i);
            pipe.cmd("PUBLISH")
                .arg(layout.channel(&prefix, room))
                .arg(notice(room, i))
                .ignore();
        }
        let () = pipe.query_async(&mut conn).await.unwrap();
        i += PIPELINE as u64;
    }
    let counts: Vec<(usize, usize)> = receiving
        .await
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = redis_cpu_seconds(&mut conn).await - cpu_before;
    println!(
        "{:<12} {:>10.0} notices/s  Redis CPU {:>6.2} s ({:>5.1} µs/notice)  \
         node 1 got {} ({} its own)  node 2 got {} ({} its own)",
        format!("{layout:?}"),
        events as f64 / elapsed,
        cpu,
        cpu * 1e6 / events as f64,
        counts[0].0,
        counts[0].1,
        counts[1].0,
        counts[1].1,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it on purpose, in release, with Redis otherwise idle"]
async fn channel_layouts() {
    let Some(url) = require().await else { return };
    let events = env("LAYOUT_EVENTS", 20_000);
    let rooms = env("LAYOUT_ROOMS", 1_000);
    let shards = env("LAYOUT_SHARDS", 16);
    let share = std::env::var("LAYOUT_SHARE").map_or(0.5, |v| v.parse().expect("LAYOUT_SHARE"));
    println!("{events} notices over {rooms} rooms; each of 2 nodes serves {share} of the rooms");
    for layout in [Layout::OneChannel, Layout::Sharded(shards), Layout::PerRoom] {
        measure(&url, layout, events, rooms, share).await;
    }
}

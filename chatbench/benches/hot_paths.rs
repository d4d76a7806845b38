//! Micro-benchmarks of the per-message hot paths: wire frame decode and encode, text
//! sanitizing, hub fan-out to 1,000 subscribers, a batch append on the in-memory store, and
//! the generator's own frame scan next to the full `ServerFrame` decode the Rust client does.
//!
//! Run: `cargo bench -p chatbench --bench hot_paths` (add `-- hub` to run one group).

// `criterion_group!` expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use chatbench::stamp::Stamp;
use chatcore::{
    Chat, ChatConfig, EventKind, MemoryStore, Message, MessageId, NewMessage, NewRoom, NewUser,
    Role, RoomId, RoomKind, Sender, Store, Subscription, Timestamp, UserId,
};
use chatcore_ws::frames::{ServerFrame, decode, encode_event};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// A stored message like the ones the end-to-end benchmarks send (64-byte body).
fn message(seq: i64) -> Message {
    let stamp = Stamp {
        t: 1_234_567_890,
        sender: 7,
        n: seq as u64,
    };
    Message {
        id: MessageId(seq),
        room_id: RoomId(3),
        seq,
        sender: Sender {
            id: UserId(12),
            display_name: "bench 12".into(),
        },
        body: stamp.body(64),
        mentions: Vec::new(),
        media: None,
        reply_to: None,
        custom: None,
        client_id: format!("b12-{seq}"),
        created_at: Timestamp(1_795_000_000_000),
        edited_at: None,
        deleted: false,
        reactions: Vec::new(),
    }
}

fn frames(c: &mut Criterion) {
    let mut g = c.benchmark_group("frames");
    let send = r#"{"type":"send","room_id":3,"body":"1234567890:7:42:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","client_id":"b12-42"}"#;
    g.bench_function("decode_send", |b| {
        b.iter(|| decode(black_box(send)).map(drop))
    });
    let kind = EventKind::Message(message(42));
    g.bench_function("encode_message_event", |b| {
        b.iter(|| encode_event(black_box(&kind)))
    });
    g.finish();
}

fn client_decode(c: &mut Criterion) {
    let frame = encode_event(&EventKind::Message(message(42)));
    let text = std::str::from_utf8(&frame).expect("utf-8");
    let mut g = c.benchmark_group("client_decode");
    g.bench_function("serverframe_full", |b| {
        b.iter(|| serde_json::from_str::<ServerFrame>(black_box(text)).map(drop))
    });
    g.bench_function("chatbench_scan", |b| {
        b.iter(|| chatbench::ours::classify(black_box(text)))
    });
    // The same frame as it arrives: WebSocket header, then the text (UTF-8 checked).
    let mut wire = vec![0x81, 126];
    wire.extend_from_slice(&(text.len() as u16).to_be_bytes());
    wire.extend_from_slice(text.as_bytes());
    g.bench_function("chatbench_frame_and_scan", |b| {
        b.iter(|| match chatbench::wire::parse_frame(black_box(&wire)) {
            Ok(Some((chatbench::wire::Frame::Text(t), _))) => chatbench::ours::classify(t),
            _ => unreachable!("a text frame"),
        })
    });
    g.finish();
}

fn sanitize(c: &mut Criterion) {
    let mut g = c.benchmark_group("sanitize");
    let ascii = "hello world, this is a perfectly ordinary chat message of 64 b!";
    g.bench_function("message_body_64B_ascii", |b| {
        b.iter(|| chatcore::sanitize::message_body(black_box(ascii)).map(drop))
    });
    let mixed = "Grüße aus Köln \u{202e}evil\u{202c} 👋 ".repeat(100);
    g.throughput(Throughput::Bytes(mixed.len() as u64));
    g.bench_function("message_body_4KiB_mixed", |b| {
        b.iter(|| chatcore::sanitize::message_body(black_box(&mixed)).map(drop))
    });
    g.finish();
}

/// Fan-out through the hub, reached the only way it can be: `Chat::typing` publishes one
/// unstored event (after a membership read on the in-memory store) to the room's 1,000 live
/// connections, which are then drained.
fn hub_fanout(c: &mut Criterion) {
    const SUBSCRIBERS: usize = 1000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (chat, typist, room, mut subs) = rt.block_on(async {
        let mut config = ChatConfig::default();
        config.guests_can_create_groups = true;
        config.max_group_members = SUBSCRIBERS + 1;
        // The bench sends a notice per iteration, far past a typist's budget.
        config.typing_rate =
            chatcore::throttle::Rate::per_second(1e9, u32::MAX, std::time::Duration::ZERO);
        let chat = Chat::in_memory_with(config);
        let mut members = Vec::with_capacity(SUBSCRIBERS);
        for i in 0..SUBSCRIBERS {
            members.push(
                chat.guest(Some(&format!("bench {i}")))
                    .await
                    .expect("guest")
                    .0,
            );
        }
        let (typist, _) = chat.guest(Some("typist")).await.expect("guest");
        let ids: Vec<UserId> = members.iter().map(|m| m.id()).collect();
        let room = chat
            .create_group(&typist, "bench", &ids)
            .await
            .expect("room")
            .id;
        let mut subs = Vec::with_capacity(SUBSCRIBERS);
        for member in &members {
            subs.push(chat.connect(member).await.expect("connect").0);
        }
        (chat, typist, room, subs)
    });
    let drain = |subs: &mut Vec<Subscription>| {
        for sub in subs.iter_mut() {
            while let Some(event) = sub.try_recv() {
                black_box(event);
            }
        }
    };
    drain(&mut subs);
    let mut g = c.benchmark_group("hub");
    g.throughput(Throughput::Elements(SUBSCRIBERS as u64));
    g.bench_function("fanout_1000_typing_and_drain", |b| {
        b.iter(|| {
            rt.block_on(chat.typing(&typist, room)).expect("typing");
            drain(&mut subs);
        })
    });
    g.finish();
}

fn store_append(c: &mut Criterion) {
    const BATCH: usize = 64;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = Arc::new(MemoryStore::new());
    let (room, sender) = rt.block_on(async {
        let user = NewUser {
            username: Some("bench".into()),
            display_name: "Bench".into(),
            password_hash: None,
            is_guest: false,
            external_id: None,
            created_at: Timestamp::now(),
        };
        let user = store.create_user(user).await.expect("user").id;
        let room = NewRoom {
            kind: RoomKind::Group,
            name: Some("bench".into()),
            direct_key: None,
            members: vec![(user, Role::Admin)],
            created_at: Timestamp::now(),
        };
        (store.create_room(room).await.expect("room").id, user)
    });
    let mut n = 0u64;
    let mut g = c.benchmark_group("store");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("memory_append_batch_64", |b| {
        b.iter_batched(
            || {
                (0..BATCH)
                    .map(|_| {
                        n += 1;
                        NewMessage {
                            room_id: room,
                            sender_id: sender,
                            body: Stamp { t: n, sender: 0, n }.body(64),
                            mentions: Vec::new(),
                            media_id: None,
                            reply_to: None,
                            custom: None,
                            client_id: format!("c{n}"),
                            created_at: Timestamp::now(),
                        }
                    })
                    .collect::<Vec<_>>()
            },
            |batch| rt.block_on(store.append_messages(batch)),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(
    benches,
    frames,
    client_decode,
    sanitize,
    hub_fanout,
    store_append
);
criterion_main!(benches);

//! "Acked means durable": a process killed with SIGKILL right after acks loses none of them.
//!
//! The test re-runs its own binary as a child that appends from several tasks and prints each
//! ack; the parent kills it mid-stream, reopens the file, and looks for every acked message.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use chatcore::{NewMessage, NewRoom, NewUser, Role, RoomId, RoomKind, Store, Timestamp};
use chatcore_sqlite::{Durability, SqliteOptions, SqliteStore};

const CHILD_ENV: &str = "CHATCORE_SQLITE_KILL_TEST_DB";
const TEST_NAME: &str = "acked_messages_survive_kill_9";
const ACKS_BEFORE_KILL: usize = 400;

/// `synchronous = NORMAL` is the weakest level, and it must still survive a killed process.
fn options() -> SqliteOptions {
    SqliteOptions::default().durability(Durability::Normal)
}

#[test]
fn acked_messages_survive_kill_9() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        return send_until_killed(&path);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chat.db");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("child output");
        if let Some(ack) = line.strip_prefix("acked ") {
            let (room, seq, client_id) = parse_ack(ack);
            acked.push((room, seq, client_id));
            if acked.len() == ACKS_BEFORE_KILL {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    assert_eq!(
        acked.len(),
        ACKS_BEFORE_KILL,
        "the child acked enough messages before dying"
    );

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = SqliteStore::open(path.to_str().expect("utf-8 path"), options())
            .await
            .expect("reopen");
        for (room, seq, client_id) in acked {
            let found = store
                .message(room, seq)
                .await
                .expect("read")
                .expect("acked message survived");
            assert_eq!(found.client_id, client_id);
        }
    });
}

fn parse_ack(ack: &str) -> (RoomId, i64, String) {
    let mut parts = ack.split(' ');
    let mut next = || parts.next().expect("ack has room, seq and client_id");
    let room = RoomId(next().parse().expect("room id"));
    let seq = next().parse().expect("seq");
    (room, seq, next().to_owned())
}

/// The child: 8 tasks append as fast as they can and print every ack, until killed.
fn send_until_killed(path: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open(path, options()).await.expect("open"));
        let user = NewUser {
            username: Some("writer".into()),
            display_name: "Writer".into(),
            password_hash: None,
            is_guest: false,
            external_id: None,
            created_at: Timestamp::now(),
        };
        let writer = store.create_user(user).await.expect("user").id;
        let room = NewRoom {
            kind: RoomKind::Group,
            name: Some("kill".into()),
            direct_key: None,
            members: vec![(writer, Role::Admin)],
            created_at: Timestamp::now(),
        };
        let room = store.create_room(room).await.expect("room").id;
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    for i in 0.. {
                        let msg = NewMessage {
                            room_id: room,
                            sender_id: writer,
                            body: format!("{t}/{i}"),
                            mentions: Vec::new(),
                            media_id: None,
                            reply_to: None,
                            custom: None,
                            client_id: format!("t{t}-{i}"),
                            created_at: Timestamp::now(),
                        };
                        let (m, _) = store.append_message(msg).await.expect("append");
                        println!("acked {} {} {}", room.0, m.seq, m.client_id);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("sender");
        }
    });
}

//! Scale-out as an operator runs it: two `reference-server` processes on one MariaDB database,
//! linked through the local Redis (`--broker`), with clients on both. Reported ignored when
//! MariaDB or Redis is absent, outside CI; failing under `CI=true`.
//!
//! The processes are the real binary (`target/debug/reference-server`, built with the
//! workspace; `CHAT_SERVER_BIN` names another). A TCP proxy in the test stands for the load
//! balancer in front of the nodes, and another one for the network between a node and Redis.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the report

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chat_tests::{PASSWORD, TestUser, wait_for};
use chatcore::{RoomId, Seq};
use chatcore_mysql::testing::TestDb;
use chatcore_redis::testing::{CutProxy, host_port, require, unique_prefix};
use chatcore_ws::client::{Client, ClientEvent, Connect};
use chatcore_ws::frames::ServerFrame;
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(30);

fn main() {
    chatcore::testing::harness::run(
        &[
            chatcore_mysql::testing::needs(),
            chatcore_redis::testing::needs(),
        ],
        chatcore::harness_tests![
            clients_on_two_nodes_exchange_messages_typing_and_removals,
            a_killed_nodes_clients_resume_on_the_other_without_gap_or_duplicate,
            delivery_resumes_by_itself_after_the_redis_connection_is_cut,
            five_wrong_logins_on_node_1_make_the_sixth_on_node_2_a_429,
        ],
    );
}

/// The server binary under test.
fn server_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("CHAT_SERVER_BIN") {
        return bin.into();
    }
    // This test runs as target/debug/deps/e2e_scaleout-…; the server is target/debug/….
    let exe = std::env::current_exe().expect("test executable path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory")
        .join("reference-server");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p reference-server` (or set CHAT_SERVER_BIN)",
        bin.display()
    );
    bin
}

/// One running `reference-server` process.
struct Node {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Node {
    /// Starts a node on `database` with `--broker broker` under `--broker-prefix prefix`, media
    /// in `data_dir`, on a free port; returns once it listens (migrations done).
    fn start(database: &str, broker: &str, prefix: &str, data_dir: &Path) -> Node {
        let mut child = Command::new(server_binary())
            .args([
                "--listen",
                "127.0.0.1:0",
                "--database",
                database,
                "--broker",
                broker,
                "--broker-prefix",
                prefix,
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .args([
                "--registrations-per-hour",
                "10000",
                "--guests-per-hour",
                "10000",
            ])
            .args(["--send-rate-per-sec", "1000", "--send-burst", "1000"])
            .args(["--offline-assistant", "false"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the server's first line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        Node {
            child,
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        user: Option<&TestUser>,
        body: Value,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(&body);
        if let Some(user) = user {
            req = req.bearer_auth(&user.token);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let body = res.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn register(&self, username: &str) -> TestUser {
        let body = json!({"username": username, "password": PASSWORD});
        let (status, body) = self
            .call(reqwest::Method::POST, "/api/v1/auth/register", None, body)
            .await;
        assert_eq!(status, 201, "register: {body}");
        TestUser {
            id: body["user"]["id"].as_i64().unwrap(),
            username: Some(username.to_owned()),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    async fn group(&self, owner: &TestUser, members: &[&TestUser]) -> RoomId {
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        let body = json!({"name": "Team", "members": ids});
        let (status, body) = self
            .call(reqwest::Method::POST, "/api/v1/rooms", Some(owner), body)
            .await;
        assert_eq!(status, 201, "create group: {body}");
        RoomId(body["id"].as_i64().unwrap())
    }

    /// A WebSocket client of `user` connected to this node directly.
    async fn connect(&self, user: &TestUser) -> Client {
        connect_to(self.port(), user, false).await
    }

    /// Ends the process at once, as a crash or `kill -9` would.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.kill();
        }
    }
}

async fn connect_to(port: u16, user: &TestUser, reconnect: bool) -> Client {
    let url = format!("ws://127.0.0.1:{port}/api/v1/ws");
    let connect = Connect::bearer(url, &user.token).reconnect(reconnect);
    tokio::time::timeout(PATIENCE, connect.connect())
        .await
        .expect("connect timed out")
        .expect("connect")
}

/// Two nodes on a fresh MariaDB database and the test Redis (node 2 reaches Redis through
/// `redis_proxy` when one is given), sharing one data directory for media.
struct Cluster {
    node1: Node,
    node2: Node,
    _data: tempfile::TempDir,
    _db: TestDb,
}

async fn cluster(redis_proxy: Option<&CutProxy>) -> Cluster {
    let db = TestDb::create().await.expect("a test database");
    let redis = require().await.expect("the test Redis answers");
    let data = tempfile::tempdir().unwrap();
    // This cluster's own channel and counters: clusters running at once do not hear each
    // other, and a run soon after another does not meet its throttle windows.
    let prefix = unique_prefix("e2e_scaleout");
    let node1 = Node::start(&db.url(), &redis, &prefix, data.path());
    let redis2 = redis_proxy.map_or(redis, CutProxy::url);
    let node2 = Node::start(&db.url(), &redis2, &prefix, data.path());
    Cluster {
        node1,
        node2,
        _data: data,
        _db: db,
    }
}

/// The message seqs of `room` that `client` receives until it has seen `last`.
async fn seqs_through(client: &mut Client, room: RoomId, last: Seq) -> Vec<Seq> {
    let mut seqs = Vec::new();
    while seqs.last() != Some(&last) {
        let seq = wait_for(client, |frame| match frame {
            ServerFrame::Message { message } if message.room_id == room => Some(message.seq),
            _ => None,
        })
        .await;
        seqs.push(seq);
    }
    seqs
}

/// The message frames `client` received before the answer to a ping: a frame queued for it
/// before the ping was handled comes before the pong.
async fn messages_before_pong(client: &mut Client) -> Vec<Seq> {
    client.ping().await.unwrap();
    let mut seqs = Vec::new();
    let wait = async {
        loop {
            match client.next_event().await {
                Some(ClientEvent::Frame(ServerFrame::Pong)) => return,
                Some(ClientEvent::Frame(ServerFrame::Message { message })) => {
                    seqs.push(message.seq)
                }
                Some(_) => {}
                None => panic!("the client stopped"),
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait).await.expect("pong");
    seqs
}

async fn clients_on_two_nodes_exchange_messages_typing_and_removals() {
    let c = cluster(None).await;
    let alice = c.node1.register("alice").await;
    let bob = c.node2.register("bob").await;
    let carol = c.node2.register("carol").await;
    let room = c.node1.group(&alice, &[&bob, &carol]).await;
    let mut alice_ws = c.node1.connect(&alice).await;
    let mut bob_ws = c.node2.connect(&bob).await;
    let mut carol_ws = c.node2.connect(&carol).await;

    // Presence crosses nodes: alice on node 1 sees bob come online on node 2, and node 1
    // lists him online.
    let online = wait_for(&mut alice_ws, |frame| match frame {
        ServerFrame::Presence { user_id, online } if user_id.0 == bob.id => Some(*online),
        _ => None,
    })
    .await;
    assert!(online, "bob online, told on node 1");
    let path = format!("/api/v1/rooms/{}", room.0);
    let (status, listed) = c
        .node1
        .call(reqwest::Method::GET, &path, Some(&alice), Value::Null)
        .await;
    assert_eq!(status, 200, "{listed}");
    let bob_listed = listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == bob.id)
        .cloned()
        .unwrap();
    assert_eq!(
        bob_listed["online"], true,
        "node 1 lists bob online: {listed}"
    );

    // Both ways, interleaved: each client sees every message once, in seq order.
    let mut last = 0;
    for i in 0..30 {
        let ws = if i % 2 == 0 { &alice_ws } else { &bob_ws };
        last = ws.send(room, &format!("m{i}")).await.unwrap().seq;
    }
    let every: Vec<Seq> = (1..=last).collect();
    assert_eq!(
        seqs_through(&mut alice_ws, room, last).await,
        every,
        "alice on node 1"
    );
    assert_eq!(
        seqs_through(&mut bob_ws, room, last).await,
        every,
        "bob on node 2"
    );
    assert_eq!(
        seqs_through(&mut carol_ws, room, last).await,
        every,
        "carol on node 2"
    );

    alice_ws.typing(room).await.unwrap();
    let typing = wait_for(&mut bob_ws, |frame| match frame {
        ServerFrame::Typing { user, .. } => Some(user.id),
        _ => None,
    })
    .await;
    assert_eq!(typing.0, alice.id, "typing crosses nodes");

    // Removing carol on node 1 stops delivery to her socket on node 2.
    let path = format!("/api/v1/rooms/{}/members/{}", room.0, carol.id);
    let (status, body) = c
        .node1
        .call(reqwest::Method::DELETE, &path, Some(&alice), Value::Null)
        .await;
    assert!(status == 200 || status == 204, "remove: {status} {body}");
    let removed = wait_for(&mut carol_ws, |frame| match frame {
        ServerFrame::Room { event, user_id, .. } if event == "removed" => Some(user_id.0),
        _ => None,
    })
    .await;
    assert_eq!(removed, carol.id);
    let after = alice_ws.send(room, "after carol left").await.unwrap().seq;
    assert_eq!(seqs_through(&mut bob_ws, room, after).await, vec![after]);
    assert_eq!(
        messages_before_pong(&mut carol_ws).await,
        Vec::<Seq>::new(),
        "nothing after the removal"
    );
}

async fn a_killed_nodes_clients_resume_on_the_other_without_gap_or_duplicate() {
    let mut c = cluster(None).await;
    let alice = c.node1.register("alice").await;
    let bob = c.node2.register("bob").await;
    let room = c.node1.group(&alice, &[&bob]).await;
    // Alice reaches the nodes through the "load balancer", on node 1 for now.
    let balancer = CutProxy::start(c.node1.addr()).await.unwrap();
    let mut alice_ws = connect_to(balancer.port(), &alice, true).await;
    let bob_ws = c.node2.connect(&bob).await;

    let mut acked = Vec::new();
    for i in 0..10 {
        acked.push(
            alice_ws
                .send(room, &format!("alice {i}"))
                .await
                .unwrap()
                .seq,
        );
        acked.push(bob_ws.send(room, &format!("bob {i}")).await.unwrap().seq);
    }
    c.node1.kill();
    balancer.set_upstream(c.node2.addr());
    balancer.cut();
    // Bob keeps talking while alice is away; she resumes on node 2 with `sync`.
    for i in 10..20 {
        acked.push(bob_ws.send(room, &format!("bob {i}")).await.unwrap().seq);
    }
    let last = *acked.iter().max().unwrap();
    let seen = seqs_through(&mut alice_ws, room, last).await;
    assert_eq!(seen, (1..=last).collect::<Vec<_>>(), "no gap, no duplicate");
    acked.sort_unstable();
    assert_eq!(acked, seen, "every acked message is there");
    let again = alice_ws.send(room, "back on node 2").await.unwrap().seq;
    assert_eq!(again, last + 1);
}

async fn delivery_resumes_by_itself_after_the_redis_connection_is_cut() {
    let redis = require().await.expect("the test Redis answers");
    let proxy = CutProxy::start(host_port(&redis)).await.unwrap();
    let c = cluster(Some(&proxy)).await;
    let alice = c.node1.register("alice").await;
    let bob = c.node2.register("bob").await;
    let room = c.node1.group(&alice, &[&bob]).await;
    let alice_ws = c.node1.connect(&alice).await;
    let mut bob_ws = c.node2.connect(&bob).await;

    let first = alice_ws.send(room, "before").await.unwrap().seq;
    assert_eq!(seqs_through(&mut bob_ws, room, first).await, vec![first]);
    proxy.set_down(true);
    let mut last = first;
    for i in 0..10 {
        last = alice_ws
            .send(room, &format!("while cut {i}"))
            .await
            .unwrap()
            .seq;
    }
    proxy.set_down(false);
    let every: Vec<Seq> = (first + 1..=last).collect();
    assert_eq!(
        seqs_through(&mut bob_ws, room, last).await,
        every,
        "caught up in order"
    );
    let after = alice_ws.send(room, "after").await.unwrap().seq;
    assert_eq!(
        seqs_through(&mut bob_ws, room, after).await,
        vec![after],
        "live again"
    );
}

async fn five_wrong_logins_on_node_1_make_the_sixth_on_node_2_a_429() {
    let c = cluster(None).await;
    let name = "target";
    c.node1.register(name).await;
    let login = |password: &str| json!({"username": name, "password": password});
    for _ in 0..5 {
        let (status, body) = c
            .node1
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                login("wrong password!"),
            )
            .await;
        assert_eq!(status, 401, "a wrong password on node 1: {body}");
    }
    let (status, body) = c
        .node2
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            login(PASSWORD),
        )
        .await;
    assert_eq!(status, 429, "the sixth attempt, on node 2: {body}");
    assert_eq!(body["error"]["code"], "rate_limited");
}

//! End-to-end test harness: starts the real reference server (the same `run` the binary uses)
//! on an ephemeral port over a temporary data directory, and talks to it over real HTTP and
//! WebSocket. The scenarios are in `tests/*.rs`.
//!
//! ```no_run
//! # async fn demo() {
//! let server = chat_tests::Server::start().await;
//! let alice = server.register("alice").await;
//! let me = server.get(Some(&alice), "/api/v1/me").await;
//! assert_eq!(me.status, 200);
//! # }
//! ```

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use chatcore::Store;
use chatcore_ws::client::{Client, ClientEvent, Connect};
use chatcore_ws::frames::ServerFrame;
use reference_server::{App, Config};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The password every test account uses (long enough for the password policy).
pub const PASSWORD: &str = "correct horse battery staple";

/// How long a test waits for something the server should do at once.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// A real 1×1 PNG (uploads are decoded and re-encoded, so a header alone is refused).
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde\0\0\0\x0cIDATx\x9cc\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef\0\0\0\0IEND\xaeB`\x82";

/// One test per scenario and backend, `memory::name`, `sqlite::name`, `mariadb::name` and
/// `postgres::name`, as groups for [`chatcore::testing::harness::run_groups`]: the MariaDB and
/// PostgreSQL tests are reported ignored (not passed) when their server is absent outside CI.
/// Each scenario is an `async fn name(backend: Backend)` in the calling file. Scenarios listed
/// after `durable:` need a store that exists apart from the server (a restart, or
/// [`Server::open_store`] to look at rows), so they run on every backend but the in-memory one.
///
/// ```ignore
/// fn main() {
///     let mut groups = on_every_backend!(sends_and_reads; durable: survives_a_restart);
///     groups.push(no_service(chatcore::harness_tests![a_test_on_one_server]));
///     chatcore::testing::harness::run_groups(groups);
/// }
/// ```
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)? $(; durable: $($durable:ident),* $(,)?)?) => {
        ::std::vec![
            $crate::on_every_backend!(@group memory Memory $($name),*),
            $crate::on_every_backend!(@group sqlite Sqlite $($name),* $($(, $durable)*)?),
            $crate::on_every_backend!(@group mariadb MySql $($name),* $($(, $durable)*)?),
            $crate::on_every_backend!(@group postgres Postgres $($name),* $($(, $durable)*)?),
        ]
    };
    (@group $module:ident $backend:ident $($name:ident),*) => {
        (
            $crate::Backend::$backend.needs(),
            ::std::vec![$(
                (
                    ::std::concat!(::std::stringify!($module), "::", ::std::stringify!($name)),
                    (|| ::std::boxed::Box::pin($name($crate::Backend::$backend))
                        as ::chatcore::testing::harness::TestFuture)
                        as fn() -> ::chatcore::testing::harness::TestFuture,
                )
            ),*],
        )
    };
}

/// A group of tests that need no service (the server runs in-process on SQLite or memory).
pub fn no_service(
    tests: Vec<chatcore::testing::harness::NamedTest>,
) -> chatcore::testing::harness::Group {
    (Vec::new(), tests)
}

/// Which store a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// chatcore's in-memory store (`--database memory:`): what an embedder's tests run on;
    /// nothing survives the server.
    Memory,
    /// SQLite in the temporary data directory (the default).
    Sqlite,
    /// A fresh database on the MariaDB/MySQL test server (`CHATCORE_TEST_MYSQL_URL`).
    MySql,
    /// A fresh database on the PostgreSQL test server (`CHATCORE_TEST_POSTGRES_URL`).
    Postgres,
}

impl Backend {
    /// The servers a test on this backend needs (none for SQLite and memory).
    pub fn needs(self) -> Vec<chatcore::testing::harness::Needs> {
        match self {
            Backend::Memory | Backend::Sqlite => Vec::new(),
            Backend::MySql => vec![chatcore_mysql::testing::needs()],
            Backend::Postgres => vec![chatcore_postgres::testing::needs()],
        }
    }
}

/// A running server, its data directory and an HTTP client for it.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The settings it runs with (reused by [`Server::restart`]).
    pub config: Config,
    /// The chat inside the server, for operator actions (e.g. promoting an admin).
    pub chat: chatcore::Chat,
    http: reqwest::Client,
    data_dir: Arc<TempDir>,
    /// The test database's guard (dropping the last one drops the database).
    database: Option<Arc<dyn Any + Send + Sync>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// A logged-in test account.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// The user id.
    pub id: i64,
    /// The username (`None` for guests).
    pub username: Option<String>,
    /// The bearer token (also the cookie value).
    pub token: String,
}

/// A response, read completely.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics with the body text if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// `error.code` of an error reply.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Server {
    /// A server on SQLite in a fresh temporary directory, with rate limits raised so tests can
    /// register freely.
    pub async fn start() -> Server {
        Self::start_with(|_| {}).await
    }

    /// A server on `backend`; `None` (with the reason printed) when the backend's test server
    /// is unreachable outside CI.
    pub async fn on(backend: Backend) -> Option<Server> {
        Self::on_with(backend, |_| {}).await
    }

    /// Like [`Server::on`], with settings adjusted by `tune` first.
    pub async fn on_with(backend: Backend, tune: impl FnOnce(&mut Config)) -> Option<Server> {
        Self::on_wrapped(backend, tune, |store| store).await
    }

    /// Like [`Server::on_with`], with the chat's store wrapped by `wrap` (e.g. in a
    /// `chatcore::testing::GatedStore`, to hold a call at the moment a race needs). A
    /// [`Server::restart`] runs on the unwrapped store.
    pub async fn on_wrapped(
        backend: Backend,
        tune: impl FnOnce(&mut Config),
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> Option<Server> {
        match backend {
            Backend::Sqlite => return Some(Self::start_wrapped(tune, wrap).await),
            Backend::Memory => {
                let server = Self::start_wrapped(
                    |c| {
                        c.database = Some("memory:".to_owned());
                        tune(c);
                    },
                    wrap,
                );
                return Some(server.await);
            }
            Backend::MySql | Backend::Postgres => {}
        }
        let database = TestDatabase::create(backend).await?;
        let mut server = Self::start_wrapped(
            |c| {
                c.database = Some(database.url.clone());
                tune(c);
            },
            wrap,
        )
        .await;
        server.database = Some(database.guard);
        Some(server)
    }

    /// Like [`Server::start`], with settings adjusted by `tune` first.
    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> Server {
        Self::start_wrapped(tune, |store| store).await
    }

    async fn start_wrapped(
        tune: impl FnOnce(&mut Config),
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> Server {
        let data_dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut config = Config::for_data_dir(data_dir.path());
        config.registrations_per_hour = 100_000;
        config.guests_per_hour = 100_000;
        config.login_failures_per_ip = 100_000;
        config.shutdown_grace = 5;
        tune(&mut config);
        Self::launch(config, data_dir, wrap).await
    }

    async fn launch(
        config: Config,
        data_dir: Arc<TempDir>,
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> Server {
        let mut storage = reference_server::storage::open(&config)
            .await
            .expect("open storage");
        storage.store = wrap(storage.store);
        let (chat, backend) =
            reference_server::storage::start_chat(&config, storage).expect("start the chat");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let app = App::from_config(chat.clone(), &config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                stopped.await.ok();
            };
            reference_server::run(listener, app, shutdown)
                .await
                .expect("server failed");
            backend.close().await;
        });
        let http = reqwest::Client::builder()
            .timeout(PATIENCE)
            .build()
            .expect("http client");
        Server {
            base,
            config,
            chat,
            http,
            data_dir,
            database: None,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Shuts the server down gracefully and waits until its storage is closed.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    /// Stops the server and starts a new one on the same data directory (a different port).
    pub async fn restart(mut self) -> Server {
        self.shutdown().await;
        let (config, data_dir) = (self.config.clone(), self.data_dir.clone());
        let mut server = Self::launch(config, data_dir, |store| store).await;
        server.database = self.database.take();
        server
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task panicked");
        }
    }

    /// Stops the server and keeps its settings and data directory, to start a server on them
    /// again, possibly on another database ([`Stopped::start_on`]).
    pub async fn stop_keeping_data(mut self) -> Stopped {
        self.shutdown().await;
        Stopped {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
        }
    }

    /// A WebSocket of `user` with no client logic, past its `hello`, for frames the Rust client
    /// never sends.
    pub async fn raw_socket(&self, user: &TestUser) -> RawSocket {
        self.raw_connect(user).await.0
    }

    /// Like [`Server::raw_socket`], also returning the `hello` frame.
    pub async fn raw_connect(&self, user: &TestUser) -> (RawSocket, Value) {
        use chatcore_ws::tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = self
            .ws_url()
            .into_client_request()
            .expect("a WebSocket request");
        let bearer = format!("Bearer {}", user.token)
            .parse()
            .expect("a header value");
        request.headers_mut().insert("authorization", bearer);
        let (mut ws, _) = chatcore_ws::tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket connect");
        let hello = raw_frame(&mut ws).await;
        assert_eq!(hello["type"], "hello");
        (ws, hello)
    }

    /// A second handle on the server's database, to look at rows no API shows (close it with
    /// `backend.close()`).
    pub async fn open_store(&self) -> reference_server::storage::Storage {
        reference_server::storage::open(&self.config)
            .await
            .expect("open the store")
    }

    /// The WebSocket URL.
    pub fn ws_url(&self) -> String {
        format!("{}/api/v1/ws", self.base.replacen("http://", "ws://", 1))
    }

    /// A request to `path` with the user's bearer token, if any.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        user: Option<&TestUser>,
    ) -> reqwest::RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match user {
            Some(u) => req.bearer_auth(&u.token),
            None => req,
        }
    }

    /// Sends a request and reads the whole reply.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request failed");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.bytes().await.expect("body").to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub async fn get(&self, user: Option<&TestUser>, path: &str) -> Reply {
        self.send(self.request(Method::GET, path, user)).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, user: Option<&TestUser>, path: &str, body: Value) -> Reply {
        self.send(self.request(Method::POST, path, user).json(&body))
            .await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, user: Option<&TestUser>, path: &str, body: Value) -> Reply {
        self.send(self.request(Method::PATCH, path, user).json(&body))
            .await
    }

    /// `DELETE path`.
    pub async fn delete(&self, user: Option<&TestUser>, path: &str) -> Reply {
        self.send(self.request(Method::DELETE, path, user)).await
    }

    /// Registers `username` and returns the logged-in account.
    pub async fn register(&self, username: &str) -> TestUser {
        let body = json!({"username": username, "password": PASSWORD, "display_name": capitalized(username)});
        let reply = self.post(None, "/api/v1/auth/register", body).await;
        assert_eq!(
            reply.status,
            201,
            "register {username}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        user_of(&reply.json())
    }

    /// Logs in and returns the account with a new token.
    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.post(
            None,
            "/api/v1/auth/login",
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// Enters as a guest.
    pub async fn guest(&self, display_name: &str) -> TestUser {
        let reply = self
            .post(
                None,
                "/api/v1/auth/guest",
                json!({"display_name": display_name}),
            )
            .await;
        assert_eq!(
            reply.status,
            201,
            "guest: {}",
            String::from_utf8_lossy(&reply.body)
        );
        user_of(&reply.json())
    }

    /// Creates a group owned by `owner` and returns its id.
    pub async fn group(&self, owner: &TestUser, name: &str, members: &[&TestUser]) -> i64 {
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        let reply = self
            .post(
                Some(owner),
                "/api/v1/rooms",
                json!({"name": name, "members": ids}),
            )
            .await;
        assert_eq!(
            reply.status,
            201,
            "create group: {}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()["id"].as_i64().expect("room id")
    }

    /// Opens (or finds) the direct room between `a` and `b`.
    pub async fn direct(&self, a: &TestUser, b: &TestUser) -> i64 {
        let reply = self
            .post(Some(a), "/api/v1/rooms/direct", json!({"user_id": b.id}))
            .await;
        assert_eq!(
            reply.status,
            200,
            "open direct: {}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()["id"].as_i64().expect("room id")
    }

    /// Sends a message over REST and returns it.
    pub async fn say(&self, user: &TestUser, room: i64, body: &str) -> Value {
        let reply = self
            .post(
                Some(user),
                &format!("/api/v1/rooms/{room}/messages"),
                json!({"body": body}),
            )
            .await;
        assert_eq!(
            reply.status,
            201,
            "send: {}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()
    }

    /// The room as `user` sees it.
    pub async fn room(&self, user: &TestUser, room: i64) -> Value {
        let reply = self.get(Some(user), &format!("/api/v1/rooms/{room}")).await;
        assert_eq!(
            reply.status,
            200,
            "room: {}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()
    }

    /// A WebSocket client for `user` (bearer token).
    pub async fn connect(&self, user: &TestUser) -> Client {
        let connect = Connect::bearer(self.ws_url(), &user.token).reconnect(false);
        tokio::time::timeout(PATIENCE, connect.connect())
            .await
            .expect("connect timed out")
            .expect("connect")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }
}

/// Waits (at most [`PATIENCE`]) until `done` holds, checking every few milliseconds.
pub async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    mut done: impl FnMut() -> F,
) {
    let wait = async {
        while !done().await {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

/// Waits (at most [`PATIENCE`]) for the client to be closed and returns the close code.
pub async fn closed_with(client: &mut Client) -> Option<u16> {
    let wait = async {
        loop {
            match client.next_event().await {
                Some(ClientEvent::Closed { code, .. }) => return code,
                Some(_) => {}
                None => return None,
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .expect("timed out waiting for the close")
}

/// Waits (at most [`PATIENCE`]) for a frame `pick` accepts, skipping others.
pub async fn wait_for<T>(
    client: &mut Client,
    mut pick: impl FnMut(&ServerFrame) -> Option<T>,
) -> T {
    let wait = async {
        loop {
            match client.next_event().await {
                Some(ClientEvent::Frame(frame)) => {
                    if let Some(found) = pick(&frame) {
                        return found;
                    }
                }
                Some(_) => {}
                None => panic!("the client stopped while waiting for a frame"),
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .expect("timed out waiting for a frame")
}

fn user_of(body: &Value) -> TestUser {
    TestUser {
        id: body["user"]["id"].as_i64().expect("user id"),
        username: body["user"]["username"].as_str().map(str::to_owned),
        token: body["token"].as_str().expect("token").to_owned(),
    }
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A stopped server's settings and data directory (media files, the SQLite database).
pub struct Stopped {
    /// The settings it ran with; `config.database_url()` is the database it used.
    pub config: Config,
    data_dir: Arc<TempDir>,
}

impl Stopped {
    /// Starts a server with the same settings and data directory on `database` instead.
    pub async fn start_on(&self, database: &TestDatabase) -> Server {
        let mut config = self.config.clone();
        config.database = Some(database.url.clone());
        let mut server = Server::launch(config, self.data_dir.clone(), |store| store).await;
        server.database = Some(database.guard.clone());
        server
    }
}

/// A fresh empty database on a database server, for one test; dropped with the last server
/// or guard that uses it.
pub struct TestDatabase {
    /// Its URL, as `--database` takes it.
    pub url: String,
    guard: Arc<dyn Any + Send + Sync>,
}

impl TestDatabase {
    /// A fresh database on `backend`'s test server: MariaDB (`CHATCORE_TEST_MYSQL_URL`) or
    /// PostgreSQL (`CHATCORE_TEST_POSTGRES_URL`). `None` (with the reason printed) when the
    /// server is unreachable outside CI, and for SQLite and memory, which need no server.
    pub async fn create(backend: Backend) -> Option<TestDatabase> {
        let (url, guard): (String, Arc<dyn Any + Send + Sync>) = match backend {
            Backend::Sqlite | Backend::Memory => return None,
            Backend::MySql => {
                let db = chatcore_mysql::testing::TestDb::create().await?;
                (db.url(), Arc::new(db))
            }
            Backend::Postgres => {
                let db = chatcore_postgres::testing::TestDb::create().await?;
                (db.url(), Arc::new(db))
            }
        };
        Some(TestDatabase { url, guard })
    }
}

/// A WebSocket with no client logic (see [`Server::raw_socket`]).
pub type RawSocket = chatcore_ws::tokio_tungstenite::WebSocketStream<
    chatcore_ws::tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
>;

/// Sends one text frame.
pub async fn raw_send(ws: &mut RawSocket, text: String) {
    use futures::SinkExt;
    ws.send(chatcore_ws::tokio_tungstenite::tungstenite::Message::text(
        text,
    ))
    .await
    .expect("WebSocket send");
}

/// The next JSON frame (pongs and presence skipped), waiting at most [`PATIENCE`].
pub async fn raw_frame(ws: &mut RawSocket) -> Value {
    use chatcore_ws::tokio_tungstenite::tungstenite::Message;
    use futures::StreamExt;
    let next = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).expect("a JSON frame");
                    if frame["type"] != "pong" && frame["type"] != "presence" {
                        return frame;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("socket ended: {other:?}"),
            }
        }
    };
    tokio::time::timeout(PATIENCE, next)
        .await
        .expect("a frame in time")
}

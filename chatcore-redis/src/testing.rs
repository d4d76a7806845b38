//! Test support (feature `testing`): the Redis under test, and a TCP proxy that cuts the
//! connections through it, to prove that a node recovers by itself (the proxy also stands in
//! for a load balancer in front of several nodes: [`CutProxy::set_upstream`]).
//!
//! The Redis is named by `CHATCORE_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). Test
//! files run on `chatcore::testing::harness` with [`needs`]: without Redis their tests are
//! reported ignored, except under `CI=true`, where they fail.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The variable naming the test Redis.
pub const URL_VAR: &str = "CHATCORE_TEST_REDIS_URL";

/// The Redis under test, as given by the environment.
pub fn server_url() -> String {
    std::env::var(URL_VAR).unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// What tests on Redis need, for `chatcore::testing::harness::run_groups`: the test Redis
/// (without it, outside CI, they are reported ignored).
pub fn needs() -> chatcore::testing::harness::Needs {
    chatcore::testing::harness::Needs::service("Redis", URL_VAR, "redis://127.0.0.1:6379")
}

/// The test Redis's URL when it answers a ping. Outside CI, `None` (with the reason printed)
/// when it does not; under `CI=true`, a panic.
pub async fn require() -> Option<String> {
    let url = server_url();
    match ping(&url).await {
        Ok(()) => Some(url),
        Err(reason) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("Redis at {url} is required under CI=true: {reason}")
        }
        Err(reason) => {
            eprintln!("skipped: no Redis at {url} ({reason}); set {URL_VAR} or start redis-server");
            None
        }
    }
}

async fn ping(url: &str) -> Result<(), String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let connect = client.get_multiplexed_async_connection();
    let mut conn = tokio::time::timeout(std::time::Duration::from_secs(3), connect)
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A prefix (see [`RedisBroker::with_prefix`](crate::RedisBroker::with_prefix)) of this test
/// run only, `chatcore:test:{test}:{pid}:{nanos}`: tests running at once do not hear each
/// other, and a test run again within a throttle's window does not meet the last run's counts.
pub fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("chatcore:test:{test}:{}:{nanos}", std::process::id())
}

/// `host:port` of a `redis://[user@]host:port[/db]` URL.
pub fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// A TCP proxy in front of a server: [`CutProxy::cut`] closes every connection through it, and
/// while it is [`down`](CutProxy::set_down) new ones are closed at once, as if the server
/// were unreachable. Dropping it stops it.
#[derive(Debug)]
pub struct CutProxy {
    port: u16,
    generation: watch::Sender<u64>,
    down: Arc<AtomicBool>,
    upstream: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl CutProxy {
    /// A proxy on a free loopback port forwarding to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (generation, _) = watch::channel(0u64);
        let down = Arc::new(AtomicBool::new(false));
        let upstream = Arc::new(Mutex::new(upstream));
        let task = tokio::spawn(accept(
            listener,
            Arc::clone(&upstream),
            generation.clone(),
            Arc::clone(&down),
        ));
        Ok(CutProxy {
            port,
            generation,
            down,
            upstream,
            task,
        })
    }

    /// The proxy's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Forwards new connections to `upstream` (`host:port`) from now on, as a load balancer
    /// does when a node failed; open connections stay where they are.
    pub fn set_upstream(&self, upstream: String) {
        *self.upstream.lock().unwrap_or_else(|p| p.into_inner()) = upstream;
    }

    /// The proxy's URL for a Redis client.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Closes every connection open through the proxy now.
    pub fn cut(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// While down, connections are cut and new ones closed at once.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Release);
        if down {
            self.cut();
        }
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

async fn accept(
    listener: TcpListener,
    upstream: Arc<Mutex<String>>,
    generation: watch::Sender<u64>,
    down: Arc<AtomicBool>,
) {
    while let Ok((client, _)) = listener.accept().await {
        if down.load(Ordering::Acquire) {
            drop(client);
            continue;
        }
        let mut cut = generation.subscribe();
        let upstream = upstream.lock().unwrap_or_else(|p| p.into_inner()).clone();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(&upstream).await else {
                return;
            };
            let mut client = client;
            tokio::select! {
                _ = cut.changed() => {}
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
            }
        });
    }
}

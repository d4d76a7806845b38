//! [`ServerOptions`]: how a store connects to a database server (MySQL/MariaDB, PostgreSQL).

use std::time::Duration;

use sqlx::Database;
use sqlx::pool::PoolOptions;

/// Pool sizing and timeouts of a store on a database server. `ServerOptions::default()` suits
/// one server node; size `max_connections` so that all nodes together stay below the server's
/// own connection limit.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Most connections the pool opens (default 10).
    pub max_connections: u32,
    /// Connections kept open even when idle (default 0).
    pub min_connections: u32,
    /// How long an operation waits for a connection, including connecting to the server,
    /// before failing with `StoreError::Backend` (default 5 s). This bounds how long a call
    /// hangs while the database is unreachable.
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this long (default 10 min; `None`: never).
    pub idle_timeout: Option<Duration>,
    /// Connections are replaced after this long (default 30 min; `None`: never).
    pub max_lifetime: Option<Duration>,
    /// The most messages one group commit puts in a transaction (default 128).
    pub max_batch: usize,
    /// How many group-commit transactions a chat runs at once, each on its own rooms (default
    /// 4; see `chatcore::Store::append_lanes`). One batch's round trips and commit overlap the
    /// others'; each takes a connection of `max_connections` while it runs.
    pub append_lanes: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            max_batch: 128,
            append_lanes: 4,
        }
    }
}

impl ServerOptions {
    /// These options with `max_connections` instead (at least 1).
    pub fn max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = max_connections.max(1);
        self
    }

    /// These options with `min_connections` instead.
    pub fn min_connections(mut self, min_connections: u32) -> Self {
        self.min_connections = min_connections;
        self
    }

    /// These options with `acquire_timeout` instead.
    pub fn acquire_timeout(mut self, acquire_timeout: Duration) -> Self {
        self.acquire_timeout = acquire_timeout;
        self
    }

    /// These options with `idle_timeout` instead.
    pub fn idle_timeout(mut self, idle_timeout: Option<Duration>) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// These options with `max_lifetime` instead.
    pub fn max_lifetime(mut self, max_lifetime: Option<Duration>) -> Self {
        self.max_lifetime = max_lifetime;
        self
    }

    /// These options with `append_lanes` instead (at least 1).
    pub fn append_lanes(mut self, append_lanes: usize) -> Self {
        self.append_lanes = append_lanes.max(1);
        self
    }

    /// These options with `max_batch` instead (at least 1).
    pub fn max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self
    }

    /// The sqlx pool these options describe.
    pub fn pool<DB: Database>(&self) -> PoolOptions<DB> {
        PoolOptions::new()
            .max_connections(self.max_connections)
            .min_connections(self.min_connections)
            .acquire_timeout(self.acquire_timeout)
            .idle_timeout(self.idle_timeout)
            .max_lifetime(self.max_lifetime)
    }
}

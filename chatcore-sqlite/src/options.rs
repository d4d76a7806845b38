//! How a [`SqliteStore`](crate::SqliteStore) is opened.

use std::time::Duration;

use sqlx::sqlite::SqliteSynchronous;

/// How hard SQLite works to keep a committed transaction. Every level keeps chatcore's promise
/// "acked means durable" against a killed process (`kill -9`, a panic, an OOM kill); they differ
/// in what happens when the machine itself loses power or the OS crashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous = FULL`: the WAL is fsynced at every commit, so an acked message also
    /// survives power loss and OS crashes. The default; with group commit, concurrent senders
    /// share one fsync per batch, so the cost is paid per batch rather than per message.
    #[default]
    Full,
    /// `synchronous = NORMAL` (in WAL mode): the WAL is fsynced only at checkpoints. Acked
    /// messages survive a process crash, but the last commits before a power loss or OS crash
    /// may be lost (the database stays consistent). Several times faster for a lone sequential
    /// sender; choose it when the host can lose a few seconds of chat on power failure.
    Normal,
}

impl Durability {
    pub(crate) fn synchronous(self) -> SqliteSynchronous {
        match self {
            Durability::Full => SqliteSynchronous::Full,
            Durability::Normal => SqliteSynchronous::Normal,
        }
    }
}

/// Tuning of a [`SqliteStore`](crate::SqliteStore). `SqliteOptions::default()` is right for most
/// embedders.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// What a commit survives; see [`Durability`].
    pub durability: Durability,
    /// How long a write waits before failing with `StoreError::Backend` (default 5 s): for the
    /// store's writer connection, which every write of this process queues for, and for the
    /// write lock when another process holds it.
    pub busy_timeout: Duration,
    /// Connections in the pool (default 4). WAL lets readers run beside the one writer; an
    /// in-memory database always uses exactly one connection.
    pub max_connections: u32,
    /// The most messages one group commit puts in a transaction (default 256).
    pub max_batch: usize,
    /// How many batches a chat hands the store at once, each for its own rooms (default 4; see
    /// `chatcore::Store::append_lanes`). SQLite still commits one at a time, but while one
    /// lane's batch is published the next lane's is already committing: scenario B delivered
    /// 10–15 % more with 2–4 lanes than with 1 (docs/performance.md).
    pub append_lanes: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            durability: Durability::default(),
            busy_timeout: Duration::from_secs(5),
            max_connections: 4,
            max_batch: 256,
            append_lanes: 4,
        }
    }
}

impl SqliteOptions {
    /// These options with `durability` instead.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// These options with `busy_timeout` instead.
    pub fn busy_timeout(mut self, busy_timeout: Duration) -> Self {
        self.busy_timeout = busy_timeout;
        self
    }

    /// These options with `max_connections` instead (at least 1).
    pub fn max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = max_connections.max(1);
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
}

//! # chatcore-mysql
//!
//! MySQL 8 and MariaDB 10.11+ storage for [`chatcore`], for production and for several server
//! nodes sharing one database. Migrations (plain `.sql` files in `migrations/`) run when the
//! store connects. The queries are `chatcore-sql`'s, shared with the SQLite and PostgreSQL
//! stores; this crate holds the connection, the migrations and the [`MySql`] dialect.
//!
//! ```no_run
//! # async fn demo() -> Result<(), chatcore::StoreError> {
//! use std::time::Duration;
//! use chatcore_mysql::{MySqlOptions, MySqlStore};
//!
//! let options = MySqlOptions::default().max_connections(20).acquire_timeout(Duration::from_secs(2));
//! let store = MySqlStore::connect("mysql://chat:secret@127.0.0.1:3306/chat", options).await?;
//! # let _ = store; Ok(()) }
//! ```
//!
//! ## Promises and how they are kept
//!
//! - **Acked means durable.** `append_message` answers only after its transaction committed
//!   (InnoDB; durability against power loss is the server's `innodb_flush_log_at_trx_commit`).
//! - **Gapless per-room seq, across nodes.** An append locks its rooms' rows
//!   (`SELECT … FOR UPDATE`, in id order) before reading `last_seq`, and moves the counters in
//!   the same transaction. Sessions run at `READ COMMITTED`, so reads under that lock see every
//!   earlier commit.
//! - **Exactly once.** A unique key on `(client_id, sender_id, room_id)`; a retry finds and
//!   returns the first message, also when two retries race on different nodes.
//! - **Group commit.** Concurrent `append_message` calls are queued to one writer task that
//!   commits whatever is waiting in one transaction, in a fixed handful of statements whatever
//!   the batch size (lock the rooms, read members, media and retried `client_id`s, multi-row
//!   inserts, one counter update; see `chatcore_sql::append`). A message that breaks a rule is
//!   answered alone and takes no seq.
//! - **Text is data.** Everything is `utf8mb4` with binary collations; ids compared byte for
//!   byte (`client_id`, `external_id`) are `VARBINARY`, because binary collations pad spaces on
//!   MariaDB. Every query is parameterized.
//! - **Outages are errors, not panics.** While the server is unreachable, calls fail with
//!   `StoreError::Backend` after at most `acquire_timeout`; the pool reconnects
//!   by itself once the server is back.

mod dialect;
#[cfg(feature = "testing")]
pub mod testing;

pub use dialect::MySql;

/// A [`chatcore::Store`] in a MySQL 8 or MariaDB 10.11+ database:
/// `MySqlStore::connect(url, options)`.
///
/// Cloning is shallow: clones share the connection pool and the group-commit writer.
pub type MySqlStore = chatcore_sql::SqlStore<MySql>;

/// Pool sizing and timeouts of a [`MySqlStore`].
pub type MySqlOptions = chatcore_sql::ServerOptions;

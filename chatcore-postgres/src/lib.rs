//! # chatcore-postgres
//!
//! PostgreSQL 13+ storage for [`chatcore`], for production and for several server nodes
//! sharing one database. Migrations (plain `.sql` files in `migrations/`) run when the store
//! connects. The queries are `chatcore-sql`'s, shared with the SQLite and MySQL stores; this
//! crate holds the connection, the migrations and the [`Postgres`] dialect.
//!
//! ```no_run
//! # async fn demo() -> Result<(), chatcore::StoreError> {
//! use std::time::Duration;
//! use chatcore_postgres::{PostgresOptions, PostgresStore};
//!
//! let options = PostgresOptions::default().max_connections(20).acquire_timeout(Duration::from_secs(2));
//! let store = PostgresStore::connect("postgres://chat:secret@127.0.0.1:5432/chat", options).await?;
//! # let _ = store; Ok(()) }
//! ```
//!
//! ## Promises and how they are kept
//!
//! - **Acked means durable.** `append_message` answers only after its transaction committed
//!   (durability against power loss is the server's `synchronous_commit` and `fsync`).
//! - **Gapless per-room seq, across nodes.** An append locks its rooms' rows
//!   (`SELECT … FOR UPDATE`, in id order) before reading `last_seq`, and moves the counters in
//!   the same transaction; at PostgreSQL's default `READ COMMITTED`, reads under that lock see
//!   every earlier commit.
//! - **Exactly once.** A unique key on `(client_id, sender_id, room_id)`; a retry finds and
//!   returns the first message, also when two retries race on different nodes.
//! - **Group commit.** Concurrent `append_message` calls are queued to one writer task that
//!   commits whatever is waiting in one transaction, in a fixed handful of statements whatever
//!   the batch size (see `chatcore_sql::append`).
//! - **Text is data.** Every query is parameterized. PostgreSQL text cannot hold a NUL
//!   character; chatcore never stores one (its sanitizer removes control characters).
//! - **Outages are errors, not panics.** While the server is unreachable, calls fail with
//!   `StoreError::Backend` after at most `acquire_timeout`; the pool reconnects by itself once
//!   the server is back.

mod dialect;
#[cfg(feature = "testing")]
pub mod testing;

pub use dialect::Postgres;

/// A [`chatcore::Store`] in a PostgreSQL database: `PostgresStore::connect(url, options)`.
pub type PostgresStore = chatcore_sql::SqlStore<Postgres>;

/// Pool sizing and timeouts of a [`PostgresStore`].
pub type PostgresOptions = chatcore_sql::ServerOptions;

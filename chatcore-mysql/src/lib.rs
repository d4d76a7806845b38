//! # chatcore-mysql
//!
//! MySQL 8 and MariaDB 10.11+ storage for [`chatcore`], for production and for several server
//! nodes sharing one database. Migrations (plain `.sql` files in `migrations/`) run when the
//! store connects.
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
//! - **Gapless per-room seq, across nodes.** An append locks the room's row
//!   (`SELECT … FOR UPDATE`) before reading `last_seq`, inserts `last_seq + 1` and bumps it in
//!   the same transaction. Sessions run at `READ COMMITTED`, so reads under that lock see every
//!   earlier commit.
//! - **Exactly once.** A unique key on `(client_id, sender_id, room_id)`; a retry finds and
//!   returns the first message, also when two retries race on different nodes.
//! - **Group commit.** Concurrent `append_message` calls are queued to one writer task that
//!   commits whatever is waiting in one transaction, locking its rooms in id order (no
//!   deadlocks between batches), one savepoint per message so a failing message fails alone.
//! - **Text is data.** Everything is `utf8mb4` with binary collations; ids compared byte for
//!   byte (`client_id`, `external_id`) are `VARBINARY`, because binary collations pad spaces on
//!   MariaDB. Every query is parameterized.
//! - **Outages are errors, not panics.** While the server is unreachable, calls fail with
//!   `StoreError::Backend` after at most [`MySqlOptions::acquire_timeout`]; the pool reconnects
//!   by itself once the server is back.

mod error;
mod media;
mod messages;
mod options;
mod rooms;
mod sessions;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod users;

pub use options::MySqlOptions;
pub use store::MySqlStore;

//! # chatcore-sqlite
//!
//! SQLite storage for [`chatcore`], the embedded default: one file, nothing to install (SQLite
//! is compiled in), schema migrations applied on open. The queries are `chatcore-sql`'s, shared
//! with the MySQL and PostgreSQL stores; this crate holds the connection options, the
//! migrations, the [`Sqlite`] dialect and SQLite's own batch append plan.
//!
//! ```no_run
//! # async fn demo() -> Result<(), chatcore::StoreError> {
//! use chatcore_sqlite::{Durability, SqliteOptions, SqliteStore};
//!
//! let store = SqliteStore::open("./data/chat.db", SqliteOptions::default()).await?;
//! let fast = SqliteOptions::default().durability(Durability::Normal);
//! let scratch = SqliteStore::open("sqlite::memory:", fast).await?;
//! # let _ = (store, scratch); Ok(()) }
//! ```
//!
//! ## Promises and how they are kept
//!
//! - **Acked means durable.** `append_message` answers only after its transaction committed.
//!   The database runs in WAL mode; what a commit survives is chosen with [`Durability`]:
//!   `Full` (the default, `synchronous = FULL`) survives power loss, `Normal`
//!   (`synchronous = NORMAL`) survives a killed process but may lose the last commits on power
//!   loss. See `docs/performance.md` for what each costs.
//! - **Gapless per-room seq.** Every write transaction starts with `BEGIN IMMEDIATE`, taking
//!   SQLite's single write lock before reading the room's `last_seq`, so no two appends can
//!   read the same counter.
//! - **Exactly once within [`IDEMPOTENCY_WINDOW`] (24 hours).** The store's single writer keeps
//!   the idempotency keys `(room, sender, client_id)` of the window's messages in memory
//!   (10.3–20.6 bytes per message, rebuilt from the database when the store opens), so a retry
//!   finds and returns the first message whatever shape the client's ids have; a unique index would
//!   cost a random index page per message for random ids. One store per database file: two
//!   processes appending to the same file would not see each other's keys.
//! - **Group commit.** Concurrent `append_message` calls are queued to one writer task that
//!   commits whatever is waiting in one transaction (one fsync); `append_messages` commits a
//!   batch the same way. A batch takes about six statements whatever its size (one check of
//!   rooms, membership and media, multi-row inserts, one counter update), on a connection of its
//!   own; a message that breaks a rule is answered alone, and a retried `client_id` is answered
//!   with the first message and takes no seq.
//! - **Search is exact and immediate, off the append path.** The FTS5 trigram index is written
//!   by the same writer after the commit, thousands of messages per transaction, and a search
//!   first indexes whatever is not yet, so it finds a message as soon as its append was acked,
//!   an edited one by its new text only, a deleted one never (see `search_tail`).
//! - **One writer connection.** Every write (appends, session touches, read markers, admin
//!   changes) runs on the same connection, and writers queue for it in order, so none meets
//!   SQLite's write lock held by another and sleeps in its busy handler. The pool's other
//!   connections read, beside it (WAL).
//! - Foreign keys are on, a busy timeout makes writers from other processes wait instead of
//!   failing, and every query is parameterized.

mod append;
mod dialect;
mod options;
mod recent_keys;
mod search_tail;

pub use dialect::Sqlite;
pub use options::{Durability, SqliteOptions};
pub use recent_keys::IDEMPOTENCY_WINDOW;

/// A [`chatcore::Store`] in one SQLite database file (or in memory), the embedded default:
/// `SqliteStore::open(path, options)`, `SqliteStore::in_memory()`.
///
/// Cloning is shallow: clones share the connection pools and the group-commit writer.
pub type SqliteStore = chatcore_sql::SqlStore<Sqlite>;

//! # chatcore-sql
//!
//! The SQL of chatcore's stores, written once. `chatcore-sqlite`, `chatcore-mysql` and
//! `chatcore-postgres` each implement [`Dialect`] for their database and otherwise only connect,
//! migrate and tune; the [`Store`](chatcore::Store) they offer is [`SqlStore`], the same code
//! for all three.
//!
//! ## Where things are
//!
//! - [`queries`]: one module per table, one function per statement, generic over the dialect:
//!   `users::by_id::<D>(conn, id)`. Statements are plain SQL with `?` placeholders, built with
//!   [`Sql`], which binds values, names what a constraint violation means (`.unique(…)`,
//!   `.references(…)`) and maps rows with `row.get("column")`.
//! - [`store`]: [`SqlStore`] implements `Store` from those functions, choosing transactions and
//!   locks (a room's row is locked before its members or counter change).
//! - [`append`]: the batch append plan the server databases share (a backend may bring its own
//!   through [`BatchAppend`], as SQLite does).
//! - [`Dialect`]: what differs between databases, and nothing else: placeholder and function
//!   spelling ([`Dialect::render`]), how a write transaction begins, how new ids come back
//!   (`RETURNING` or `LAST_INSERT_ID`), and how text columns read.
//! - [`transfer`]: copying a whole chat from one database into another (the reference
//!   server's `migrate-store`), resumable and verified.
//! - [`SqlDb`]: the sqlx bounds the generic code needs, stated once (see [`db`]).
//!
//! ## Adding a query
//!
//! Write one function in the table's module of [`queries`]:
//!
//! ```ignore
//! pub async fn rename<D: Dialect>(conn: &mut Conn<D>, id: RoomId, name: &str) -> StoreResult<u64> {
//!     Sql::<D>::new("UPDATE rooms SET name = ? WHERE id = ?")
//!         .bind(name)
//!         .bind(id.0)
//!         .execute(conn)
//!         .await
//! }
//! ```
//!
//! and call it from [`SqlStore`]. A new table gets a numbered migration in each backend crate
//! (`migrations/NNNN_name.sql`), written in that database's DDL. Write SQL every database
//! understands (`TRUE`/`FALSE`, `COUNT`, row values in `IN`); when one spells it differently,
//! teach [`Dialect::render`] or add a [`Dialect`] method, never an `if` on the backend.

pub mod append;
pub mod db;
pub mod dialect;
mod options;
pub mod queries;
mod sql;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transfer;

pub use db::{Cols, Column, Param, Row, SqlDb};
pub use dialect::{Dialect, InMemory, NewIds, TextIndex};
pub use options::ServerOptions;
pub use sql::{Conn, Sql, backend};
pub use store::{BatchAppend, SqlStore};

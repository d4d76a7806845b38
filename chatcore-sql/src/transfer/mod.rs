//! Moving a chat from one database to another: [`copy_store`] copies every row of one
//! [`SqlStore`] into another, whatever the two databases are (SQLite to PostgreSQL, MariaDB to
//! SQLite, …). The reference server's `migrate-store` command is a thin shell around it.
//!
//! ## What is copied, and how
//!
//! Every table, row for row and with the same ids: users (password hashes as they are, avatar
//! ids and the "last seen" setting),
//! sessions (so signed-in users stay signed in), rooms with their sequence counters, members
//! with roles, join order, read markers and mute/archive settings, media metadata, messages
//! with their seqs and idempotency keys (`client_id`), reactions, and invite links (token
//! hashes and use counts, so links keep working). Media *bytes* are not in the database: they
//! stay in the [`MediaStore`](chatcore::MediaStore) (the reference server's `media/` directory), and the
//! copied rows find them there (avatars too: their keys derive from the copied avatar ids).
//!
//! Tables are copied parents first, each in key order, in pages of [`PAGE`] rows; each page is
//! one transaction on the target. The source must not change meanwhile: stop the servers that
//! use it first.
//!
//! ## Promises
//!
//! - **Refuses a non-empty target.** A target that holds rows is refused before anything is
//!   written ([`TransferError::TargetNotEmpty`]), unless it is an interrupted copy of this
//!   source (below).
//! - **Resumable.** An interrupted copy (killed, connection lost, the future dropped) leaves
//!   whole pages behind. Running it again checks, table by table, that the target holds exactly
//!   the source's first rows (same count up to the target's last key, same last row) and
//!   continues after them. A copy that completed is checked again and copies nothing.
//! - **Verified.** At the end every table has as many rows in the target as in the source, and
//!   every room has the same sequence counter, message count and last message seq; otherwise
//!   [`TransferError::Differs`] names the first difference.
//! - **Ids keep counting.** New rows in the target get ids after the copied ones (PostgreSQL's
//!   identities are moved on with [`Dialect::advance_ids`]).

mod tables;
mod verify;

use chatcore::StoreError;

use crate::dialect::Dialect;
use crate::sql::{Sql, backend};
use crate::store::SqlStore;
use tables::{TABLES, Table, Value};

pub use verify::{Difference, RoomState};

/// Rows copied per transaction.
pub const PAGE: u32 = 500;

/// How far the copy of one table is, reported after every page (and once when the table
/// starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The table, e.g. `"messages"`.
    pub table: &'static str,
    /// Rows of it the target holds now.
    pub copied: u64,
    /// Rows of it the source holds.
    pub total: u64,
}

/// What a finished copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Each table and its rows in the target (equal to the source's), parents first.
    pub rows: Vec<(&'static str, u64)>,
    /// Rooms whose sequence counter, message count and last seq were compared.
    pub rooms_verified: u64,
    /// Whether the target already held part (or all) of the copy when this run started.
    pub resumed: bool,
}

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The target holds rows that are not the beginning of the source's `table`: it is neither
    /// empty nor an interrupted copy of this source. Nothing was written.
    #[error(
        "the target database is not empty and does not hold an interrupted copy of this source \
         (table {table} differs); copy into an empty database"
    )]
    TargetNotEmpty {
        /// The first table that differs.
        table: &'static str,
    },
    /// After copying, the target does not match the source (did the source change during the
    /// copy?).
    #[error("verification failed: {0}")]
    Differs(Difference),
    /// A database failed.
    #[error("database error: {0}")]
    Store(#[from] StoreError),
}

/// Copies every row of `from` into `to` (see the [module docs](self)), calling `progress` as
/// pages commit, then verifies the copy. `to` must be empty or hold an interrupted copy of
/// `from`; nothing may write to either meanwhile.
pub async fn copy_store<S: Dialect, T: Dialect>(
    from: &SqlStore<S>,
    to: &SqlStore<T>,
    mut progress: impl FnMut(&Progress),
) -> Result<Summary, TransferError> {
    let mut resume_after = Vec::with_capacity(TABLES.len());
    for table in &TABLES {
        resume_after.push(resume_point(from, to, table).await?);
    }
    let resumed = resume_after.iter().any(Option::is_some);
    for (table, after) in TABLES.iter().zip(resume_after) {
        copy_table(from, to, table, after, &mut progress).await?;
    }
    let rows = verify::row_counts(from, to, &TABLES).await?;
    let rooms_verified = verify::rooms(from, to).await?;
    Ok(Summary {
        rows,
        rooms_verified,
        resumed,
    })
}

/// The key after which `table`'s copy continues: `None` when the target has none of its rows,
/// the target's last key when the target holds exactly the source's rows up to it.
async fn resume_point<S: Dialect, T: Dialect>(
    from: &SqlStore<S>,
    to: &SqlStore<T>,
    table: &Table,
) -> Result<Option<Value>, TransferError> {
    let mut target = to.pool().acquire().await.map_err(backend)?;
    let Some(last) = table.last::<T>(&mut target).await? else {
        return Ok(None);
    };
    let key = &last[0];
    let mut source = from.pool().acquire().await.map_err(backend)?;
    let same_row = table.at::<S>(&mut source, key).await?.as_ref() == Some(&last);
    let same_count = table.count::<S>(&mut source, Some(key)).await?
        == table.count::<T>(&mut target, None).await?;
    if same_row && same_count {
        Ok(Some(key.clone()))
    } else {
        Err(TransferError::TargetNotEmpty { table: table.name })
    }
}

/// Copies `table`'s rows with keys after `after`, one transaction per page.
async fn copy_table<S: Dialect, T: Dialect>(
    from: &SqlStore<S>,
    to: &SqlStore<T>,
    table: &Table,
    mut after: Option<Value>,
    progress: &mut impl FnMut(&Progress),
) -> Result<(), TransferError> {
    let mut source = from.pool().acquire().await.map_err(backend)?;
    let total = table.count::<S>(&mut source, None).await?;
    let mut copied = match &after {
        Some(key) => table.count::<S>(&mut source, Some(key)).await?,
        None => 0,
    };
    progress(&Progress {
        table: table.name,
        copied,
        total,
    });
    loop {
        let page = table.page::<S>(&mut source, after.as_ref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last[0].clone());
        let mut tx = T::begin_write(to.pool()).await.map_err(backend)?;
        table.insert::<T>(&mut tx, &page).await?;
        tx.commit().await.map_err(backend)?;
        copied += page.len() as u64;
        progress(&Progress {
            table: table.name,
            copied,
            total,
        });
    }
    if table.generated_ids
        && let Some(sql) = T::advance_ids(table.name)
    {
        let mut target = to.pool().acquire().await.map_err(backend)?;
        Sql::<T>::built(sql).execute(&mut target).await?;
    }
    Ok(())
}

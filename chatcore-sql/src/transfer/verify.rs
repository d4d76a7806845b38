//! The checks after a copy: every table's row count, and every room's counter and messages.

use std::fmt;

use chatcore::StoreResult;

use super::tables::Table;
use super::{PAGE, TransferError};
use crate::dialect::Dialect;
use crate::sql::{Conn, Sql, backend};
use crate::store::SqlStore;

/// What a room looks like in one database, as the verification compares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomState {
    /// The room's id.
    pub room_id: i64,
    /// Its sequence counter (`rooms.last_seq`).
    pub last_seq: i64,
    /// How many messages it holds.
    pub messages: u64,
    /// The largest seq among them (`None`: no messages).
    pub max_seq: Option<i64>,
}

/// The first way the target was found to differ from the source.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// A table has a different number of rows.
    RowCount {
        /// The table.
        table: &'static str,
        /// Rows in the source.
        source: u64,
        /// Rows in the target.
        target: u64,
    },
    /// A room differs, or exists on one side only (`None`).
    Room {
        /// The room as the source has it.
        source: Option<RoomState>,
        /// The room as the target has it.
        target: Option<RoomState>,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::RowCount {
                table,
                source,
                target,
            } => write!(
                f,
                "{table}: {source} rows in the source, {target} in the target"
            ),
            Difference::Room { source, target } => {
                write!(f, "room differs: source {source:?}, target {target:?}")
            }
        }
    }
}

/// Each table's row count, after checking that source and target agree on it.
pub(super) async fn row_counts<S: Dialect, T: Dialect>(
    from: &SqlStore<S>,
    to: &SqlStore<T>,
    tables: &[Table],
) -> Result<Vec<(&'static str, u64)>, TransferError> {
    let mut source = from.pool().acquire().await.map_err(backend)?;
    let mut target = to.pool().acquire().await.map_err(backend)?;
    let mut counts = Vec::with_capacity(tables.len());
    for table in tables {
        let (in_source, in_target) = (
            table.count::<S>(&mut source, None).await?,
            table.count::<T>(&mut target, None).await?,
        );
        if in_source != in_target {
            return Err(TransferError::Differs(Difference::RowCount {
                table: table.name,
                source: in_source,
                target: in_target,
            }));
        }
        counts.push((table.name, in_target));
    }
    Ok(counts)
}

/// Compares every room's state in the two databases, page by page; returns how many rooms
/// there are.
pub(super) async fn rooms<S: Dialect, T: Dialect>(
    from: &SqlStore<S>,
    to: &SqlStore<T>,
) -> Result<u64, TransferError> {
    let mut source = from.pool().acquire().await.map_err(backend)?;
    let mut target = to.pool().acquire().await.map_err(backend)?;
    let (mut after, mut checked) = (0, 0);
    loop {
        let ours = room_states::<S>(&mut source, after).await?;
        let theirs = room_states::<T>(&mut target, after).await?;
        let longest = ours.len().max(theirs.len());
        for i in 0..longest {
            let (source, target) = (ours.get(i).copied(), theirs.get(i).copied());
            if source != target {
                return Err(TransferError::Differs(Difference::Room { source, target }));
            }
        }
        let Some(last) = ours.last() else {
            return Ok(checked);
        };
        after = last.room_id;
        checked += ours.len() as u64;
    }
}

/// Up to [`PAGE`] rooms with ids after `after`, in id order.
async fn room_states<D: Dialect>(conn: &mut Conn<D>, after: i64) -> StoreResult<Vec<RoomState>> {
    Sql::<D>::new(
        "SELECT r.id, r.last_seq, COUNT(m.id) AS messages, MAX(m.seq) AS max_seq \
         FROM rooms r LEFT JOIN messages m ON m.room_id = r.id \
         WHERE r.id > ? GROUP BY r.id, r.last_seq ORDER BY r.id LIMIT ?",
    )
    .bind(after)
    .bind(i64::from(PAGE))
    .fetch_all(conn, |row| {
        Ok(RoomState {
            room_id: row.get("id")?,
            last_seq: row.get("last_seq")?,
            messages: u64::try_from(row.get::<i64>("messages")?).unwrap_or(0),
            max_seq: row.get("max_seq")?,
        })
    })
    .await
}

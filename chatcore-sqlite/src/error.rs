//! How sqlx errors become [`StoreError`]s.

use chatcore::{Entity, StoreError, Unique};
use sqlx::error::ErrorKind;

/// Any failure that is not a broken rule: I/O, a lost connection, a corrupt file, …
pub(crate) fn backend(err: sqlx::Error) -> StoreError {
    StoreError::backend(err)
}

/// Maps a failed write: a unique violation means `dup` is taken, a foreign-key violation means
/// `missing` does not exist, anything else is a backend failure.
pub(crate) fn conflict(dup: Unique, missing: Entity) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| match kind(&err) {
        Some(ErrorKind::UniqueViolation) => StoreError::Duplicate(dup),
        Some(ErrorKind::ForeignKeyViolation) => StoreError::Missing(missing),
        _ => backend(err),
    }
}

/// Maps a failed write that has no uniqueness rule of its own: a foreign-key violation means
/// `missing` does not exist, anything else is a backend failure.
pub(crate) fn missing_ref(missing: Entity) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| match kind(&err) {
        Some(ErrorKind::ForeignKeyViolation) => StoreError::Missing(missing),
        _ => backend(err),
    }
}

fn kind(err: &sqlx::Error) -> Option<ErrorKind> {
    err.as_database_error().map(|db| db.kind())
}

//! How sqlx errors become [`StoreError`]s.

use chatcore::{Entity, StoreError, Unique};
use sqlx::error::ErrorKind;

/// Any failure that is not a broken rule: a lost connection, a timeout, a deadlock, …
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

/// Whether `err` is a unique-key violation (e.g. a racing retry of the same send).
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    kind(err) == Some(ErrorKind::UniqueViolation)
}

fn kind(err: &sqlx::Error) -> Option<ErrorKind> {
    err.as_database_error().map(|db| db.kind())
}

/// Text stored in a `VARBINARY` column (byte-exact ids), which the driver hands over as bytes.
pub(crate) fn utf8(bytes: Vec<u8>) -> Result<String, sqlx::Error> {
    String::from_utf8(bytes).map_err(|e| sqlx::Error::Decode(e.into()))
}

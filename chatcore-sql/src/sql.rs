//! [`Sql`]: one statement, its bound values and what its constraint violations mean.

use std::borrow::Cow;

use chatcore::{Entity, StoreError, StoreResult, Unique};
use sqlx::Database;
use sqlx::error::{BoxDynError, ErrorKind};

use crate::db::{Cols, Param, SqlDb};
use crate::dialect::{Dialect, NewIds};

/// A connection of a dialect's database (a pooled connection or a transaction derefs to one).
pub type Conn<D> = <<D as Dialect>::DB as Database>::Connection;

/// One statement of the shared SQL with its bound values, run on a [`Conn`].
///
/// ```ignore
/// Sql::<D>::new("UPDATE rooms SET name = ? WHERE id = ?")
///     .bind(name)
///     .bind(room.0)
///     .execute(conn)
///     .await?
/// ```
///
/// Failures become [`StoreError::Backend`], except constraint violations the statement names
/// with [`Sql::unique`] and [`Sql::references`].
#[must_use = "a statement does nothing until it is run"]
pub struct Sql<D: Dialect> {
    text: Cow<'static, str>,
    args: <D::DB as Database>::Arguments,
    bind_error: Option<BoxDynError>,
    unique: Option<Unique>,
    references: Option<Entity>,
}

impl<D: Dialect> Sql<D> {
    /// A statement of the shared SQL (`?` placeholders; see [`Dialect::render`]).
    pub fn new(text: &'static str) -> Self {
        Self::with_text(Cow::Borrowed(text))
    }

    /// A statement whose text was built at run time, e.g. with one `?` per item of a list.
    /// Only ever build it from constant pieces: values are bound, never spliced in.
    pub fn built(text: String) -> Self {
        Self::with_text(Cow::Owned(text))
    }

    fn with_text(text: Cow<'static, str>) -> Self {
        Sql {
            text,
            args: Default::default(),
            bind_error: None,
            unique: None,
            references: None,
        }
    }

    /// Binds the next `?`.
    pub fn bind(mut self, value: impl Param) -> Self {
        if self.bind_error.is_none()
            && let Err(err) = value.add_to::<D::DB>(&mut self.args)
        {
            self.bind_error = Some(err);
        }
        self
    }

    /// A unique-key violation means `what` is taken: `StoreError::Duplicate(what)`.
    pub fn unique(mut self, what: Unique) -> Self {
        self.unique = Some(what);
        self
    }

    /// A foreign-key violation means `what` does not exist: `StoreError::Missing(what)`.
    pub fn references(mut self, what: Entity) -> Self {
        self.references = Some(what);
        self
    }

    /// Runs the statement and returns how many rows it matched.
    pub async fn execute(self, conn: &mut Conn<D>) -> StoreResult<u64> {
        let (text, args, errors) = self.parts()?;
        let done = D::DB::execute(conn, text, args)
            .await
            .map_err(|e| errors.map(e))?;
        Ok(D::rows_affected(&done))
    }

    /// Runs the query and maps its first row, if any.
    pub async fn fetch_optional<T>(
        self,
        conn: &mut Conn<D>,
        map: impl FnOnce(Cols<'_, D>) -> Result<T, sqlx::Error>,
    ) -> StoreResult<Option<T>> {
        let (text, args, errors) = self.parts()?;
        let row = D::DB::fetch_optional(conn, text, args)
            .await
            .map_err(|e| errors.map(e))?;
        row.as_ref()
            .map(|row| map(Cols::new(row)))
            .transpose()
            .map_err(backend)
    }

    /// Runs the query and maps its only row; no row is a backend error.
    pub async fn fetch_one<T>(
        self,
        conn: &mut Conn<D>,
        map: impl FnOnce(Cols<'_, D>) -> Result<T, sqlx::Error>,
    ) -> StoreResult<T> {
        self.fetch_optional(conn, map)
            .await?
            .ok_or_else(|| backend(sqlx::Error::RowNotFound))
    }

    /// Runs the query and maps every row.
    pub async fn fetch_all<T>(
        self,
        conn: &mut Conn<D>,
        mut map: impl FnMut(Cols<'_, D>) -> Result<T, sqlx::Error>,
    ) -> StoreResult<Vec<T>> {
        let (text, args, errors) = self.parts()?;
        let rows = D::DB::fetch_all(conn, text, args)
            .await
            .map_err(|e| errors.map(e))?;
        rows.iter()
            .map(|row| map(Cols::new(row)))
            .collect::<Result<_, _>>()
            .map_err(backend)
    }

    /// Runs an `INSERT` of one row into a table with an `id` key and returns the new id.
    pub async fn insert(self, conn: &mut Conn<D>) -> StoreResult<i64> {
        match D::NEW_IDS {
            NewIds::Returning => {
                let mut returning = self;
                returning.text = Cow::Owned(format!("{} RETURNING id", returning.text));
                returning.fetch_one(conn, |row| row.get("id")).await
            }
            NewIds::LastInsertId => {
                let (text, args, errors) = self.parts()?;
                let done = D::DB::execute(conn, text, args)
                    .await
                    .map_err(|e| errors.map(e))?;
                D::last_insert_id(&done).ok_or_else(|| StoreError::broken("INSERT gave no id"))
            }
        }
    }

    fn parts(
        self,
    ) -> StoreResult<(
        Cow<'static, str>,
        <D::DB as Database>::Arguments,
        Violations,
    )> {
        if let Some(err) = self.bind_error {
            return Err(StoreError::Backend(err));
        }
        let violations = Violations {
            unique: self.unique,
            references: self.references,
        };
        Ok((D::render(self.text), self.args, violations))
    }
}

/// What a statement's constraint violations mean.
#[derive(Debug, Clone, Copy)]
struct Violations {
    unique: Option<Unique>,
    references: Option<Entity>,
}

impl Violations {
    fn map(self, err: sqlx::Error) -> StoreError {
        match (kind(&err), self.unique, self.references) {
            (Some(ErrorKind::UniqueViolation), Some(what), _) => StoreError::Duplicate(what),
            (Some(ErrorKind::ForeignKeyViolation), _, Some(what)) => StoreError::Missing(what),
            _ => backend(err),
        }
    }
}

fn kind(err: &sqlx::Error) -> Option<ErrorKind> {
    err.as_database_error().map(|db| db.kind())
}

/// Any failure that is not a broken rule: I/O, a lost connection, a deadlock, …
pub fn backend(err: sqlx::Error) -> StoreError {
    StoreError::backend(err)
}

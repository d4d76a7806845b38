//! The tables a transfer copies, their columns, and reading and writing them page by page as
//! plain values, whatever the two databases are.

use chatcore::StoreResult;
use sqlx::error::BoxDynError;

use crate::db::{Cols, Param, SqlDb};
use crate::dialect::Dialect;
use crate::sql::{Conn, Sql};

/// The Rust type a column is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Int,
    OptInt,
    Bool,
    Text,
    OptText,
    Bytes,
}

/// One column's value, as read from the source and bound into the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    Text(String),
    OptText(Option<String>),
    Bytes(Vec<u8>),
}

impl Param for &Value {
    fn add_to<DB: SqlDb>(self, args: &mut DB::Arguments) -> Result<(), BoxDynError> {
        match self {
            Value::Int(v) => DB::add_i64(args, *v),
            Value::OptInt(v) => DB::add_opt_i64(args, *v),
            Value::Bool(v) => DB::add_bool(args, *v),
            Value::Text(v) => DB::add_str(args, v),
            Value::OptText(v) => DB::add_opt_str(args, v.as_deref()),
            Value::Bytes(v) => DB::add_bytes(args, v),
        }
    }
}

/// A row: its values in the order of [`Table::columns`] (the key first).
pub(super) type Values = Vec<Value>;

/// A table the transfer copies. Its first column is its key: unique, and the order rows are
/// copied in, so a copy can continue after the last key the target holds.
#[derive(Debug)]
pub(super) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// Whether the key is an id the database generates (every table but `sessions`).
    pub generated_ids: bool,
}

impl Table {
    fn key(&self) -> &'static str {
        self.columns[0].0
    }

    fn column_list(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        names.join(", ")
    }

    fn read<D: Dialect>(&self, row: Cols<'_, D>) -> Result<Values, sqlx::Error> {
        self.columns
            .iter()
            .map(|&(name, kind)| {
                Ok(match kind {
                    Kind::Int => Value::Int(row.get(name)?),
                    Kind::OptInt => Value::OptInt(row.get(name)?),
                    Kind::Bool => Value::Bool(row.get(name)?),
                    Kind::Text => Value::Text(row.get(name)?),
                    Kind::OptText => Value::OptText(row.get(name)?),
                    Kind::Bytes => Value::Bytes(row.get(name)?),
                })
            })
            .collect()
    }

    /// Up to `limit` rows with a key after `after` (from the first row when `None`), in key
    /// order.
    pub async fn page<D: Dialect>(
        &self,
        conn: &mut Conn<D>,
        after: Option<&Value>,
        limit: u32,
    ) -> StoreResult<Vec<Values>> {
        let mut text = format!("SELECT {} FROM {}", self.column_list(), self.name);
        if after.is_some() {
            text.push_str(&format!(" WHERE {} > ?", self.key()));
        }
        text.push_str(&format!(" ORDER BY {} LIMIT ?", self.key()));
        let mut sql = Sql::<D>::built(text);
        if let Some(after) = after {
            sql = sql.bind(after);
        }
        sql.bind(i64::from(limit))
            .fetch_all(conn, |row| self.read(row))
            .await
    }

    /// The row with the largest key, if the table has any.
    pub async fn last<D: Dialect>(&self, conn: &mut Conn<D>) -> StoreResult<Option<Values>> {
        let text = format!(
            "SELECT {} FROM {} ORDER BY {} DESC LIMIT 1",
            self.column_list(),
            self.name,
            self.key()
        );
        Sql::<D>::built(text)
            .fetch_optional(conn, |row| self.read(row))
            .await
    }

    /// The row with key `key`, if any.
    pub async fn at<D: Dialect>(
        &self,
        conn: &mut Conn<D>,
        key: &Value,
    ) -> StoreResult<Option<Values>> {
        let text = format!(
            "SELECT {} FROM {} WHERE {} = ?",
            self.column_list(),
            self.name,
            self.key()
        );
        Sql::<D>::built(text)
            .bind(key)
            .fetch_optional(conn, |row| self.read(row))
            .await
    }

    /// How many rows the table has, or only those with a key up to `through`.
    pub async fn count<D: Dialect>(
        &self,
        conn: &mut Conn<D>,
        through: Option<&Value>,
    ) -> StoreResult<u64> {
        let text = format!("SELECT COUNT(*) AS n FROM {}", self.name);
        let sql = match through {
            Some(key) => Sql::<D>::built(format!("{text} WHERE {} <= ?", self.key())).bind(key),
            None => Sql::<D>::built(text),
        };
        let n: i64 = sql.fetch_one(conn, |row| row.get("n")).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Inserts `rows` as they are, ids included, in one statement.
    pub async fn insert<D: Dialect>(&self, conn: &mut Conn<D>, rows: &[Values]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let placeholders = vec!["?"; self.columns.len()].join(", ");
        let tuples = vec![format!("({placeholders})"); rows.len()].join(", ");
        let text = format!(
            "INSERT INTO {} ({}) VALUES {tuples}",
            self.name,
            self.column_list()
        );
        let sql = rows
            .iter()
            .flatten()
            .fold(Sql::<D>::built(text), |sql, value| sql.bind(value));
        sql.execute(conn).await?;
        Ok(())
    }
}

use Kind::{Bool, Bytes, Int, OptInt, OptText, Text};

/// Every table of the schema, parents before the tables that refer to them.
pub(super) const TABLES: [Table; 8] = [
    Table {
        name: "users",
        columns: &[
            ("id", Int),
            ("username", OptText),
            ("display_name", Text),
            ("display_name_lower", Text),
            ("password_hash", OptText),
            ("is_guest", Bool),
            ("is_server_admin", Bool),
            ("disabled", Bool),
            ("external_id", OptText),
            ("created_at", Int),
            ("last_active_at", Int),
            ("avatar_id", OptText),
            ("avatar_mime", OptText),
            ("hide_last_seen", Bool),
        ],
        generated_ids: true,
    },
    Table {
        name: "rooms",
        columns: &[
            ("id", Int),
            ("kind", Text),
            ("name", OptText),
            ("direct_key", OptText),
            ("last_seq", Int),
            ("created_at", Int),
        ],
        generated_ids: true,
    },
    Table {
        name: "members",
        columns: &[
            ("id", Int),
            ("room_id", Int),
            ("user_id", Int),
            ("role", Text),
            ("joined_at", Int),
            ("last_read_seq", Int),
            ("muted", Bool),
            ("archived", Bool),
        ],
        generated_ids: true,
    },
    Table {
        name: "sessions",
        columns: &[
            ("token_hash", Bytes),
            ("user_id", Int),
            ("created_at", Int),
            ("last_seen_at", Int),
        ],
        generated_ids: false,
    },
    Table {
        name: "media",
        columns: &[
            ("id", Int),
            ("room_id", Int),
            ("uploader_id", Int),
            ("mime", Text),
            ("size", Int),
            ("sha256", Text),
            ("created_at", Int),
            ("public_id", Bytes),
            ("file_key", Text),
            ("width", OptInt),
            ("height", OptInt),
            ("duration_ms", OptInt),
            ("thumbnail_mime", OptText),
        ],
        generated_ids: true,
    },
    Table {
        name: "messages",
        columns: &[
            ("id", Int),
            ("room_id", Int),
            ("seq", Int),
            ("sender_id", Int),
            ("body", Text),
            ("mentions", OptText),
            ("media_id", OptInt),
            ("reply_to", OptInt),
            ("kind", OptText),
            ("payload", OptText),
            ("client_id", Text),
            ("created_at", Int),
            ("edited_at", OptInt),
            ("deleted", Bool),
        ],
        generated_ids: true,
    },
    Table {
        name: "reactions",
        columns: &[
            ("id", Int),
            ("message_id", Int),
            ("user_id", Int),
            ("emoji", Text),
            ("created_at", Int),
        ],
        generated_ids: true,
    },
    Table {
        name: "invites",
        columns: &[
            ("id", Int),
            ("room_id", Int),
            ("token_hash", Bytes),
            ("token_prefix", Text),
            ("created_by", Int),
            ("created_at", Int),
            ("expires_at", Int),
            ("max_uses", OptInt),
            ("uses", Int),
        ],
        generated_ids: true,
    },
];

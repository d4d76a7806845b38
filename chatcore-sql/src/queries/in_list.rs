//! `IN (…)` lists of bound values, padded to a power of two.
//!
//! Databases prepare (and sqlx caches) one statement per distinct text. A list of n values
//! would make a new text for every n; padding the list to the next power of two by repeating
//! its last value (which changes nothing an `IN` matches) keeps it to a handful.

use crate::dialect::Dialect;
use crate::sql::Sql;

/// The longest list one statement takes; longer lists are split into chunks of this size.
pub const MAX: usize = 256;

/// `?, ?, …` (or `(?, ?), (?, ?), …` when `arity` > 1) for a list of `len` items, padded.
pub fn placeholders(len: usize, arity: usize) -> String {
    let one = if arity == 1 {
        "?".to_owned()
    } else {
        format!("({})", vec!["?"; arity].join(", "))
    };
    vec![one; len.max(1).next_power_of_two()].join(", ")
}

/// Binds every item with `bind`, then the last one again until the list is padded.
pub fn bind<D: Dialect, T>(
    mut sql: Sql<D>,
    items: &[T],
    mut bind: impl FnMut(Sql<D>, &T) -> Sql<D>,
) -> Sql<D> {
    for item in items {
        sql = bind(sql, item);
    }
    if let Some(last) = items.last() {
        for _ in items.len()..items.len().next_power_of_two() {
            sql = bind(sql, last);
        }
    }
    sql
}

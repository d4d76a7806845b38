//! Searching message text, through each database's own index (see [`TextIndex`]).
//!
//! The text is data: it reaches the database as a bound value, quoted as one FTS5 phrase,
//! as a `LIKE` pattern with its wildcards escaped, or as FULLTEXT words made only of letters and
//! digits, so no operator a user types (`*`, `"`, `NEAR`, `-`, `%`, …) is ever one.

use chatcore::{Message, MessageId, RoomId, StoreResult};

use crate::dialect::{Dialect, TextIndex};
use crate::queries::messages::{from_row, select_message};
use crate::queries::{in_list, like};
use crate::sql::{Conn, Sql};

/// FULLTEXT words shorter than this are not in MariaDB's index (`innodb_ft_min_token_size`).
const MIN_WORD_CHARS: usize = 3;
/// Nor longer than this (`innodb_ft_max_token_size`).
const MAX_WORD_CHARS: usize = 84;

/// Up to `limit` undeleted messages of `rooms` containing `text` case-insensitively, with
/// an id below `before`, newest first. Rooms beyond one `IN` list are searched a list at a
/// time and the pages merged.
pub async fn search<D: Dialect>(
    conn: &mut Conn<D>,
    rooms: &[RoomId],
    text: &str,
    before: Option<MessageId>,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    let before = before.map_or(i64::MAX, |id| id.0);
    let mut found = Vec::new();
    for chunk in rooms.chunks(in_list::MAX) {
        found.extend(in_rooms::<D>(conn, chunk, text, before, limit).await?);
    }
    found.sort_by_key(|m: &Message| std::cmp::Reverse(m.id));
    found.dedup_by_key(|m| m.id);
    found.truncate(limit as usize);
    Ok(found)
}

/// One `IN` list's worth of [`search`].
async fn in_rooms<D: Dialect>(
    conn: &mut Conn<D>,
    rooms: &[RoomId],
    text: &str,
    before: i64,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    let (lookup, value) = match D::TEXT_INDEX {
        TextIndex::Fts5Trigram => (
            " JOIN messages_fts ON messages_fts.rowid = m.id WHERE messages_fts MATCH ?",
            Some(phrase(text)),
        ),
        TextIndex::Trigram => (
            " WHERE m.body ILIKE ? ESCAPE '!'",
            Some(format!("%{}%", like::escaped(text))),
        ),
        TextIndex::Fulltext => match fulltext_words(text) {
            Some(words) => (
                " WHERE MATCH (m.body) AGAINST (? IN BOOLEAN MODE) AND \
                 LOWER(m.body) COLLATE utf8mb4_bin LIKE ? ESCAPE '!'",
                Some(words),
            ),
            None => (
                " WHERE LOWER(m.body) COLLATE utf8mb4_bin LIKE ? ESCAPE '!'",
                None,
            ),
        },
    };
    let text_sql = format!(
        "{}{lookup} AND m.deleted = FALSE AND m.id < ? AND m.room_id IN ({}) \
         ORDER BY m.id DESC LIMIT ?",
        select_message!(),
        in_list::placeholders(rooms.len(), 1),
    );
    let mut sql = Sql::<D>::built(text_sql);
    if let Some(value) = &value {
        sql = sql.bind(value.as_str());
    }
    if D::TEXT_INDEX == TextIndex::Fulltext {
        let pattern = format!("%{}%", like::escaped(&text.to_lowercase()));
        sql = sql.bind(pattern.as_str());
    }
    sql = sql.bind(before);
    sql = in_list::bind(sql, rooms, |sql, room| sql.bind(room.0));
    sql.bind(i64::from(limit)).fetch_all(conn, from_row).await
}

/// `text` as one FTS5 phrase: in double quotes, its own double quotes doubled. Inside a
/// phrase nothing is an operator, and with the trigram tokenizer a phrase matches wherever
/// its characters occur in a row, in order.
fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// A boolean-mode FULLTEXT query requiring a word starting with each indexable run of word
/// characters in `text` (`+run*`), or `None` when there is none and only `LIKE` can decide.
/// Runs hold nothing but letters, digits and `_`, so they carry no operator. The words are
/// lowercased, like the `LIKE` side; the index itself ignores case.
fn fulltext_words(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !is_word_char(c))
        .filter(|run| run.chars().any(char::is_alphanumeric))
        .filter(|run| (MIN_WORD_CHARS..=MAX_WORD_CHARS).contains(&run.chars().count()))
        .map(|run| format!("+{}*", run.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Whether InnoDB's FULLTEXT parser keeps `c` inside a word: letters, digits and `_`
/// (`old_name` is one word there).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_quotes_its_quotes() {
        assert_eq!(phrase(r#"say "hi" NEAR"#), r#""say ""hi"" NEAR""#);
    }

    #[test]
    fn fulltext_words_are_letters_and_digits_only() {
        assert_eq!(
            fulltext_words(r#"Cats -dogs "NEAR" a*b x_yz ___"#).as_deref(),
            Some("+cats* +dogs* +near* +x_yz*")
        );
        assert_eq!(fulltext_words("50% ab"), None);
        assert_eq!(fulltext_words("Été").as_deref(), Some("+été*"));
    }
}

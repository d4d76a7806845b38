//! The `reactions` table: one row per (message, emoji, user), read back grouped per message.

use std::collections::HashMap;

use chatcore::{Message, MessageId, Reaction, StoreResult, Timestamp, UserId};

use crate::dialect::Dialect;
use crate::queries::in_list;
use crate::sql::{Conn, Sql};

/// Fills in the reactions of `messages` (which come back from the store without them).
pub async fn attach<D: Dialect>(conn: &mut Conn<D>, messages: &mut [Message]) -> StoreResult<()> {
    let ids: Vec<i64> = messages
        .iter()
        .filter(|m| !m.deleted)
        .map(|m| m.id.0)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut made: HashMap<MessageId, Vec<(String, UserId)>> = HashMap::new();
    for chunk in ids.chunks(in_list::MAX) {
        let text = format!(
            "SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN ({}) \
             ORDER BY message_id, created_at, id",
            in_list::placeholders(chunk.len(), 1)
        );
        let rows = in_list::bind(Sql::<D>::built(text), chunk, |sql, id| sql.bind(*id))
            .fetch_all(&mut *conn, |row| {
                Ok((
                    MessageId(row.get("message_id")?),
                    row.get("emoji")?,
                    UserId(row.get("user_id")?),
                ))
            })
            .await?;
        for (message, emoji, user) in rows {
            made.entry(message).or_default().push((emoji, user));
        }
    }
    for m in messages.iter_mut() {
        if let Some(rows) = made.remove(&m.id) {
            m.reactions = Reaction::group(rows);
        }
    }
    Ok(())
}

/// The reactions of one message.
pub async fn of_message<D: Dialect>(
    conn: &mut Conn<D>,
    message: MessageId,
) -> StoreResult<Vec<Reaction>> {
    let rows = Sql::<D>::new(
        "SELECT emoji, user_id FROM reactions WHERE message_id = ? \
         ORDER BY created_at, id",
    )
    .bind(message.0)
    .fetch_all(conn, |row| {
        Ok((row.get("emoji")?, UserId(row.get("user_id")?)))
    })
    .await?;
    Ok(Reaction::group(rows))
}

/// Records a reaction.
pub async fn insert<D: Dialect>(
    conn: &mut Conn<D>,
    message: MessageId,
    user: UserId,
    emoji: &str,
    at: Timestamp,
) -> StoreResult<()> {
    Sql::<D>::new(
        "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)",
    )
    .references(chatcore::Entity::User)
    .bind(message.0)
    .bind(user.0)
    .bind(emoji)
    .bind(at.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a reaction; whether there was one.
pub async fn delete<D: Dialect>(
    conn: &mut Conn<D>,
    message: MessageId,
    user: UserId,
    emoji: &str,
) -> StoreResult<bool> {
    Ok(
        Sql::<D>::new("DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?")
            .bind(message.0)
            .bind(user.0)
            .bind(emoji)
            .execute(conn)
            .await?
            > 0,
    )
}

/// Removes every reaction of a message (it became a tombstone).
pub async fn clear<D: Dialect>(conn: &mut Conn<D>, message: MessageId) -> StoreResult<()> {
    Sql::<D>::new("DELETE FROM reactions WHERE message_id = ?")
        .bind(message.0)
        .execute(conn)
        .await?;
    Ok(())
}

//! History that does not start at the newest message: the page around one message (a search
//! hit opened in its chat) and the pages after it, read forward until they meet the newest.
//! Each is composed of the store's `messages_before` and `messages_after` reads, with the same
//! access rule as any history page: members only.

use serde::Serialize;

use super::messages::check_limit;
use super::{Actor, Chat};
use crate::error::{Error, Result};
use crate::model::{Message, RoomId, Seq};

/// A stretch of a room's history, oldest first, with whether more lies on either side of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryWindow {
    /// The messages, oldest first, without a gap (deleted ones as tombstones).
    pub messages: Vec<Message>,
    /// Whether older messages exist before the first one (page back with `before`).
    pub has_more: bool,
    /// Whether newer messages exist after the last one (page forward with `after`); `false`
    /// once the window reaches the room's newest message.
    pub has_newer: bool,
}

impl Chat {
    /// Up to `limit` (1–100) messages centred on `seq`: `seq` itself, about half the page
    /// before it and the rest after it (fewer on a side near either end of the history). A
    /// `seq` past the newest message gives the newest messages. Not a member:
    /// `NotFound("room")`; `seq` below 1: `Invalid("around")`.
    pub async fn history_around(
        &self,
        actor: &Actor,
        room: RoomId,
        seq: Seq,
        limit: u32,
    ) -> Result<HistoryWindow> {
        self.membership(actor, room).await?;
        let limit = check_limit(limit)?;
        if seq < 1 {
            return Err(Error::invalid(
                "around",
                "around must be a seq of 1 or more",
            ));
        }
        // Up to and including `seq`: the older half, rounded up so `seq` always fits.
        let mut messages = self
            .store()
            .messages_before(room, Some(seq.saturating_add(1)), limit.div_ceil(2))
            .await?;
        let from = messages.last().map_or(seq, |m| m.seq.max(seq));
        let wanted = limit - messages.len() as u32;
        let newer = self.newer_than(room, from, wanted).await?;
        messages.extend(newer.messages);
        Ok(HistoryWindow {
            has_more: messages.first().is_some_and(|m| m.seq > 1),
            has_newer: newer.has_newer,
            messages,
        })
    }

    /// Up to `limit` (1–100) messages after `after`, oldest first, with whether newer ones
    /// remain: the next page down from a window opened with [`Chat::history_around`]. Not a
    /// member: `NotFound("room")`; `after` below 0: `Invalid("after")`.
    pub async fn history_after(
        &self,
        actor: &Actor,
        room: RoomId,
        after: Seq,
        limit: u32,
    ) -> Result<HistoryWindow> {
        self.membership(actor, room).await?;
        let limit = check_limit(limit)?;
        if after < 0 {
            return Err(Error::invalid("after", "after must not be negative"));
        }
        let newer = self.newer_than(room, after, limit).await?;
        Ok(HistoryWindow {
            has_more: after > 0,
            ..newer
        })
    }

    /// Up to `wanted` messages after `after` (one more is read to learn whether any remain).
    async fn newer_than(&self, room: RoomId, after: Seq, wanted: u32) -> Result<HistoryWindow> {
        let mut messages = self.store().messages_after(room, after, wanted + 1).await?;
        let has_newer = messages.len() > wanted as usize;
        messages.truncate(wanted as usize);
        Ok(HistoryWindow {
            messages,
            has_more: false,
            has_newer,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::RoomId;
    use crate::testing::World;

    fn seqs(window: &super::HistoryWindow) -> Vec<i64> {
        window.messages.iter().map(|m| m.seq).collect()
    }

    #[tokio::test]
    async fn a_window_centres_on_its_message_and_pages_forward_to_the_newest() {
        let w = World::new();
        let (alice, bob) = (w.user("alice").await, w.user("bob").await);
        let room = w.group(&alice, &[&bob]).await;
        for i in 1..=30 {
            w.send(&alice, room, &format!("m{i}")).await.unwrap();
        }
        w.chat.delete(&alice, room, 12).await.unwrap();

        let around = w.chat.history_around(&bob, room, 12, 5).await.unwrap();
        assert_eq!(seqs(&around), [10, 11, 12, 13, 14]);
        assert!(
            around.messages[2].deleted,
            "a deleted message is a tombstone"
        );
        assert!(around.has_more && around.has_newer);
        // Near either end the page fills from the other side; past the newest: the newest.
        let first = w.chat.history_around(&bob, room, 1, 4).await.unwrap();
        assert_eq!((seqs(&first), first.has_more), (vec![1, 2, 3, 4], false));
        let last = w.chat.history_around(&bob, room, 29, 6).await.unwrap();
        assert_eq!((seqs(&last), last.has_newer), (vec![27, 28, 29, 30], false));
        let past = w.chat.history_around(&bob, room, 99, 4).await.unwrap();
        assert_eq!((seqs(&past), past.has_newer), (vec![29, 30], false));

        // Forward from the window, without a gap, until nothing newer remains.
        let next = w.chat.history_after(&bob, room, 14, 10).await.unwrap();
        assert_eq!(seqs(&next), (15..=24).collect::<Vec<_>>());
        assert!(next.has_more && next.has_newer);
        let end = w.chat.history_after(&bob, room, 24, 10).await.unwrap();
        assert_eq!((seqs(&end), end.has_newer), ((25..=30).collect(), false));
        let beyond = w.chat.history_after(&bob, room, 30, 10).await.unwrap();
        assert!(beyond.messages.is_empty() && !beyond.has_newer);
    }

    #[tokio::test]
    async fn windows_follow_the_history_rules() {
        let w = World::new();
        let (alice, eve) = (w.user("alice").await, w.user("eve").await);
        let room = w.group(&alice, &[]).await;
        w.send(&alice, room, "hi").await.unwrap();
        for r in [room, RoomId(999)] {
            let err = w.chat.history_around(&eve, r, 1, 10).await.unwrap_err();
            assert_eq!(err.to_string(), "room not found");
            let err = w.chat.history_after(&eve, r, 0, 10).await.unwrap_err();
            assert_eq!(err.to_string(), "room not found");
        }
        for (seq, limit, field) in [(0, 10, "around"), (1, 0, "limit"), (1, 101, "limit")] {
            let err = w.chat.history_around(&alice, room, seq, limit).await;
            assert_eq!(err.unwrap_err().field(), Some(field), "{seq} {limit}");
        }
        let err = w
            .chat
            .history_after(&alice, room, -1, 10)
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("after"));
    }
}

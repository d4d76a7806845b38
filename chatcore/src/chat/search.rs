//! Searching the text of the rooms a user is in.

use super::{Actor, Chat};
use crate::error::{Error, Result};
use crate::model::{MessageId, RoomId};
use crate::sanitize;
use crate::search::{self, MAX_PAGE, MAX_TEXT_CHARS, MIN_TEXT_CHARS, SearchHit, SearchPage};
use crate::throttle::Budget;

impl Chat {
    /// Up to `limit` (1–[`MAX_PAGE`]) messages whose text contains `text`, newest first, from
    /// the rooms the actor is a member of now (never a room they left or were never in), each
    /// with its matched parts as byte offsets. `before` continues from a previous page's
    /// [`SearchPage::next_before`].
    ///
    /// `text` is cleaned like a message and taken literally, case-insensitively (see
    /// [`crate::search`]); it has [`MIN_TEXT_CHARS`]–[`MAX_TEXT_CHARS`] characters, else
    /// `Invalid("q")`. A bad `limit` is `Invalid("limit")`. A valid request spends one unit of
    /// the actor's [`search_rate`](super::ChatConfig::search_rate) budget before the store is
    /// asked anything: `RateLimited` beyond it (a refused request spends nothing).
    pub async fn search(
        &self,
        actor: &Actor,
        text: &str,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<SearchPage> {
        let text = check_text(text)?;
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("limit must be 1–{MAX_PAGE}"),
            ));
        }
        self.spend(actor, Budget::Searches, 1).await?;
        // Access control: the rooms searched are the actor's rooms now, read here, never
        // rooms a client names.
        let rooms: Vec<RoomId> = self
            .store()
            .rooms_of_user(actor.id())
            .await?
            .into_iter()
            .map(|(room, _)| room.id)
            .collect();
        if rooms.is_empty() {
            return Ok(SearchPage {
                hits: Vec::new(),
                next_before: None,
            });
        }
        // One more than asked tells whether there is a next page.
        let mut found = self
            .store()
            .search_messages(&rooms, &text, before, limit + 1)
            .await?;
        let more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next_before = more.then(|| found.last().map(|m| m.id)).flatten();
        let hits = found
            .into_iter()
            .map(|message| SearchHit {
                matches: search::matches(&message.body, &text),
                message,
            })
            .collect();
        Ok(SearchPage { hits, next_before })
    }
}

/// The search text, cleaned and within its length limits.
fn check_text(text: &str) -> Result<String> {
    let text = sanitize::clean(text);
    let chars = text.chars().count();
    if (MIN_TEXT_CHARS..=MAX_TEXT_CHARS).contains(&chars) {
        Ok(text)
    } else {
        Err(Error::invalid(
            "q",
            format!("search for {MIN_TEXT_CHARS}–{MAX_TEXT_CHARS} characters"),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::testing::World;

    #[tokio::test]
    async fn searches_only_the_rooms_the_actor_is_in_now() {
        let w = World::new();
        let (alice, bob, eve) = (
            w.user("alice").await,
            w.user("bob").await,
            w.user("eve").await,
        );
        let ours = w.group(&alice, &[&bob]).await;
        let theirs = w.group(&eve, &[]).await;
        w.send(&alice, ours, "Lunch at the café?").await.unwrap();
        w.send(&eve, theirs, "lunch plans of eve").await.unwrap();

        let page = w.chat.search(&bob, "LUNCH", None, 10).await.unwrap();
        assert_eq!(page.hits.len(), 1);
        let hit = &page.hits[0];
        assert_eq!(hit.message.room_id, ours);
        let marked: Vec<&str> = hit
            .matches
            .iter()
            .map(|r| &hit.message.body[r.start..r.end])
            .collect();
        assert_eq!(marked, ["Lunch"]);
        assert!(
            w.chat
                .search(&eve, "café", None, 10)
                .await
                .unwrap()
                .hits
                .is_empty()
        );

        w.chat.remove_member(&bob, ours, bob.id()).await.unwrap();
        let after = w.chat.search(&bob, "lunch", None, 10).await.unwrap();
        assert!(after.hits.is_empty(), "a room left is not searched");
    }

    #[tokio::test]
    async fn pages_newest_first_and_refuses_bad_input() {
        let w = World::new();
        let alice = w.user("alice").await;
        let room = w.group(&alice, &[]).await;
        for n in 1..=3 {
            w.send(&alice, room, &format!("note {n}")).await.unwrap();
        }
        let first = w.chat.search(&alice, "note", None, 2).await.unwrap();
        let seqs: Vec<_> = first.hits.iter().map(|h| h.message.seq).collect();
        assert_eq!(seqs, [3, 2]);
        let next = w
            .chat
            .search(&alice, "note", first.next_before, 2)
            .await
            .unwrap();
        assert_eq!(next.hits.len(), 1);
        assert_eq!(next.hits[0].message.seq, 1);
        assert_eq!(next.next_before, None);

        for (text, limit, field) in [
            ("no", 10, "q"),
            ("  \u{202e}ab ", 10, "q"),
            (&"x".repeat(201)[..], 10, "q"),
            ("note", 0, "limit"),
            ("note", 51, "limit"),
        ] {
            let err = w.chat.search(&alice, text, None, limit).await.unwrap_err();
            assert_eq!(
                (err.code(), err.field()),
                ("invalid", Some(field)),
                "{text:?}"
            );
        }
    }

    #[tokio::test]
    async fn searches_spend_a_budget_per_user_and_bad_queries_spend_nothing() {
        let config = crate::ChatConfig {
            search_rate: crate::throttle::Rate::per_minute(2),
            ..crate::ChatConfig::default()
        };
        let w = World::builder().config(config).start();
        let (alice, bob) = (w.user("alice").await, w.user("bob").await);
        w.group(&alice, &[&bob]).await;
        for _ in 0..3 {
            let err = w.chat.search(&alice, "no", None, 10).await.unwrap_err();
            assert_eq!(err.code(), "invalid");
        }
        for _ in 0..2 {
            w.chat.search(&alice, "lunch", None, 10).await.unwrap();
        }
        let err = w.chat.search(&alice, "lunch", None, 10).await.unwrap_err();
        assert_eq!(err.code(), "rate_limited");
        assert!(err.retry_after().unwrap() >= std::time::Duration::from_secs(1));
        w.chat.search(&bob, "lunch", None, 10).await.unwrap();
    }
}

//! Messages: sending, history, edits, deletes, typing and read markers.

use serde::Serialize;

use super::{Actor, Chat};
use crate::error::{Entity, Error, Result, StoreError};
use crate::hub::{Event, EventKind};
use crate::model::{MediaId, Mention, Message, NewMessage, RoomId, Sender, Seq, UserId};
use crate::policy::{Draft, Verdict};
use crate::sanitize;
use crate::throttle::Budget;

/// Most messages one history request returns.
pub const MAX_PAGE: u32 = 100;

/// A message to send.
#[derive(Debug, Clone, Default)]
pub struct SendMessage {
    /// Target room.
    pub room_id: RoomId,
    /// Text (may be empty when media is attached).
    pub body: String,
    /// Idempotency key (1–64 of `[A-Za-z0-9._:-]`); generated when `None`. Retrying with the
    /// same key returns the first message instead of storing a second.
    pub client_id: Option<String>,
    /// Media uploaded to the same room.
    pub media_id: Option<MediaId>,
    /// The seq of a message in the same room this one quotes.
    pub reply_to: Option<Seq>,
    /// A custom kind the host registered (see [`crate::kinds`]); `None` for a text or media
    /// message. With a kind, `body` is optional text shown next to it (a caption).
    pub kind: Option<String>,
    /// The custom kind's JSON payload (`null` when `None`); only with a `kind`.
    pub payload: Option<serde_json::Value>,
}

/// One page of history, in ascending seq.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryPage {
    /// The messages, oldest first.
    pub messages: Vec<Message>,
    /// Whether older messages exist before this page.
    pub has_more: bool,
}

impl Chat {
    /// Sends a message: sanitizes, appends to the store (which checks membership, assigns the
    /// seq and commits in one transaction), publishes to live members, and returns the stored
    /// message.
    ///
    /// A repeated `client_id` from the same sender in the same room returns the first message
    /// and publishes nothing. Not a member: `NotFound("room")`, nothing stored. A custom `kind`
    /// must be one the host registered (else `UnknownKind`), its payload at most
    /// [`MAX_PAYLOAD_BYTES`](crate::kinds::MAX_PAYLOAD_BYTES) (else `TooLarge`) and accepted
    /// by the kind's validator (else `Invalid` on `payload`). The host's
    /// [`Policy::before_send`](crate::policy::Policy::before_send) sees the sanitized text
    /// last: it may reject it (`Rejected`, nothing stored) or rewrite it.
    ///
    /// Each `@username` in the final text that names a member of the room becomes a
    /// [`Mention`](crate::Mention) of the message (a span of the text, never markup); any other
    /// `@name` stays plain text. Only text with an `@` costs the lookup.
    ///
    /// Every send that passes the input checks spends one unit of the sender's
    /// [`send_rate`](super::ChatConfig::send_rate) budget first, whether it then succeeds or
    /// not: a sender over it waits for its turn (up to the rate's `max_wait`), beyond that it
    /// gets `RateLimited` and nothing is stored.
    pub async fn send(&self, actor: &Actor, msg: SendMessage) -> Result<Message> {
        let client_id = match msg.client_id {
            Some(id) => check_client_id(id)?,
            None => generated_client_id(),
        };
        let custom = self.inner.kinds.check(msg.kind, msg.payload)?;
        let clean = text_rule(msg.media_id.is_some() || custom.is_some());
        let body = clean(&msg.body)?;
        self.spend(actor, Budget::Sends, 1).await?;
        if msg.media_id.is_some() || msg.reply_to.is_some() || self.inner.policy.is_some() {
            // The media and quote checks below would otherwise answer a non-member about the
            // room's contents, and a policy must only ever see members' drafts; the plain
            // text path without a policy leaves membership to the append.
            self.membership(actor, msg.room_id).await?;
        }
        if let Some(media_id) = msg.media_id {
            match self.store().media(media_id).await? {
                // Only one's own uploads to this room: nobody attaches (and so publishes) bytes
                // someone else uploaded but never sent.
                Some(m) if m.room_id == msg.room_id && m.uploader_id == actor.id() => {}
                _ => return Err(Error::NotFound("media")),
            }
        }
        if let Some(seq) = msg.reply_to
            && (seq < 1 || self.store().message(msg.room_id, seq).await?.is_none())
        {
            return Err(Error::invalid(
                "reply_to",
                "the quoted message does not exist",
            ));
        }
        let draft = Draft {
            sender: actor.user(),
            room_id: msg.room_id,
            body: &body,
            media_id: msg.media_id,
            reply_to: msg.reply_to,
            custom: custom.as_ref(),
            editing: None,
        };
        let body = self.screen(draft, clean).await?.unwrap_or(body);
        let mentions = self.resolve_mentions(msg.room_id, &body).await?;
        let new = NewMessage {
            room_id: msg.room_id,
            sender_id: actor.id(),
            body,
            mentions,
            media_id: msg.media_id,
            reply_to: msg.reply_to,
            custom,
            client_id,
            created_at: self.now(),
        };
        self.inner.lifecycle.check_running()?;
        match self.inner.appends.append(new).await {
            Ok((message, _created)) => Ok(message),
            Err(StoreError::Missing(Entity::Room | Entity::Member)) => Err(Error::NotFound("room")),
            // The pipeline closed under this send: nothing was stored.
            Err(_) if self.inner.lifecycle.is_stopping() => {
                Err(Error::Unavailable("the chat is shutting down"))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// A page of history before `before` (the newest page when `None`), at most `limit`
    /// (1–100) messages, oldest first.
    pub async fn history(
        &self,
        actor: &Actor,
        room: RoomId,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<HistoryPage> {
        self.membership(actor, room).await?;
        let limit = check_limit(limit)?;
        let messages = self.store().messages_before(room, before, limit).await?;
        let has_more = messages.first().is_some_and(|m| m.seq > 1);
        Ok(HistoryPage { messages, has_more })
    }

    /// Up to `limit` (1–100) messages after `after`, oldest first: what a resuming client missed.
    pub async fn messages_after(
        &self,
        actor: &Actor,
        room: RoomId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>> {
        self.membership(actor, room).await?;
        let limit = check_limit(limit)?;
        Ok(self.store().messages_after(room, after, limit).await?)
    }

    /// Edits the actor's own message and tells the room (`edited`). Only the text changes: a
    /// custom kind's payload stays as it was sent. Its mentions are resolved again from the new
    /// text (see [`Chat::send`]); the event names the members the new text mentions and the old
    /// one did not, so they are told as of a new message (those mentioned before are not told
    /// again). Not a member:
    /// `NotFound("room")`; no such (or a deleted) message: `NotFound("message")`; someone
    /// else's: `Forbidden`.
    ///
    /// An edit reaches every member like a send, so it spends one unit of the same
    /// [`send_rate`](super::ChatConfig::send_rate) budget.
    pub async fn edit(&self, actor: &Actor, room: RoomId, seq: Seq, body: &str) -> Result<Message> {
        let original = self.own_message(actor, room, seq).await?;
        let clean = text_rule(original.media.is_some() || original.custom.is_some());
        let body = clean(body)?;
        self.spend(actor, Budget::Sends, 1).await?;
        let draft = Draft {
            sender: actor.user(),
            room_id: room,
            body: &body,
            media_id: original.media.as_ref().map(|m| m.id),
            reply_to: original.reply_to,
            custom: original.custom.as_deref(),
            editing: Some(seq),
        };
        let body = self.screen(draft, clean).await?.unwrap_or(body);
        let mentions = self.resolve_mentions(room, &body).await?;
        let edited = self
            .store()
            .edit_message(room, seq, &body, &mentions, self.now())
            .await?;
        let newly_mentioned = newly_mentioned(&original.mentions, &edited.mentions);
        self.hub().publish(
            room,
            Event::new(EventKind::Edited {
                message: edited.clone(),
                newly_mentioned,
            }),
        );
        Ok(edited)
    }

    /// Deletes the actor's own message, leaving a tombstone so seqs stay gapless, and tells the
    /// room (`deleted`). Its media goes with it (row and bytes) unless another message still
    /// carries it. Refusals as for [`Chat::edit`]; spends one unit of the send budget.
    pub async fn delete(&self, actor: &Actor, room: RoomId, seq: Seq) -> Result<Message> {
        let message = self.own_message(actor, room, seq).await?;
        self.spend(actor, Budget::Sends, 1).await?;
        let tombstone = self.store().delete_message(room, seq, self.now()).await?;
        self.hub()
            .publish(room, Event::new(EventKind::Deleted(tombstone.clone())));
        if let Some(media) = message.media {
            self.release_media(media.id).await;
        }
        Ok(tombstone)
    }

    /// Tells the room's live members the actor is typing. Not stored. Every notice reaches
    /// every member, so it spends one unit of its own
    /// [`typing_rate`](super::ChatConfig::typing_rate) budget (clients send one every few
    /// seconds while the user types), never the budget messages need.
    pub async fn typing(&self, actor: &Actor, room: RoomId) -> Result<()> {
        self.membership(actor, room).await?;
        self.spend(actor, Budget::Typing, 1).await?;
        let user = Sender {
            id: actor.id(),
            display_name: actor.user().display_name.clone(),
        };
        self.hub().publish(
            room,
            Event::new(EventKind::Typing {
                room_id: room,
                user,
            }),
        );
        Ok(())
    }

    /// Moves the actor's read marker forward to `seq` (capped at the newest message; never
    /// backwards) and tells the room. Returns the marker now stored.
    pub async fn mark_read(&self, actor: &Actor, room: RoomId, seq: Seq) -> Result<Seq> {
        let me = self.membership(actor, room).await?;
        if seq < 0 {
            return Err(Error::invalid("seq", "seq must not be negative"));
        }
        let last = self.store().room(room).await?.map_or(0, |r| r.last_seq);
        let marker = self
            .store()
            .mark_read(room, actor.id(), seq.min(last))
            .await?;
        if marker > me.last_read_seq {
            let event = EventKind::Read {
                room_id: room,
                user_id: actor.id(),
                seq: marker,
            };
            self.hub().publish(room, Event::new(event));
        }
        Ok(marker)
    }

    /// Puts a draft before the host's policy: `None` to store it as it is, `Some(text)` for a
    /// rewrite (cleaned by `clean`, like the sender's own text), `Rejected` with the policy's
    /// reason.
    async fn screen(
        &self,
        draft: Draft<'_>,
        clean: fn(&str) -> Result<String>,
    ) -> Result<Option<String>> {
        let Some(policy) = &self.inner.policy else {
            return Ok(None);
        };
        match policy.before_send(&draft).await {
            Verdict::Allow => Ok(None),
            Verdict::Reject(reason) => Err(Error::Rejected(reason)),
            Verdict::Rewrite(text) => clean(&text).map(Some),
        }
    }

    async fn own_message(&self, actor: &Actor, room: RoomId, seq: Seq) -> Result<Message> {
        self.membership(actor, room).await?;
        let message = self
            .store()
            .message(room, seq)
            .await?
            .ok_or(Error::NotFound("message"))?;
        if message.deleted {
            return Err(Error::NotFound("message"));
        }
        if message.sender.id != actor.id() {
            return Err(Error::Forbidden("you can only change your own messages"));
        }
        Ok(message)
    }
}

/// The members `after` names that `before` did not, each once, in text order.
fn newly_mentioned(before: &[Mention], after: &[Mention]) -> Vec<UserId> {
    let mut new: Vec<UserId> = Vec::new();
    for user in after.iter().map(|m| m.user_id) {
        if !before.iter().any(|m| m.user_id == user) && !new.contains(&user) {
            new.push(user);
        }
    }
    new
}

/// How a message's text is cleaned: a caption (may be empty) next to media or a custom kind, a
/// body otherwise.
fn text_rule(with_content: bool) -> fn(&str) -> Result<String> {
    if with_content {
        sanitize::caption
    } else {
        sanitize::message_body
    }
}

pub(super) fn check_limit(limit: u32) -> Result<u32> {
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::invalid(
            "limit",
            format!("limit must be 1–{MAX_PAGE}"),
        ))
    }
}

fn check_client_id(id: String) -> Result<String> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    if ok {
        Ok(id)
    } else {
        Err(Error::invalid(
            "client_id",
            "client_id must be 1–64 of A-Z a-z 0-9 . _ : -",
        ))
    }
}

/// `srv-`, the time in fixed-width hex (ids that sort by time are cheap to index), random hex.
fn generated_client_id() -> String {
    let mut b = [0u8; 12];
    crate::token::fill_random(&mut b);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("srv-{millis:012x}-{}", crate::token::hex(&b))
}

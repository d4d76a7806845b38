//! Reactions: members mark a message with emojis; everyone in the room sees who did.

use super::{Actor, Chat};
use crate::error::{Entity, Error, Result, StoreError};
use crate::hub::{Event, EventKind};
use crate::model::{MessageReactions, RoomId, Seq};
use crate::sanitize;
use crate::throttle::Budget;

impl Chat {
    /// Adds the actor's `emoji` reaction to the message at `seq` and tells the room (a
    /// `Reactions` event with the message's reactions now, unless the actor had already
    /// reacted with it: then nothing changes and nothing is published).
    ///
    /// Refusals, each changing nothing: `emoji` is not one emoji (`Invalid("emoji")`, see
    /// [`sanitize::emoji`]); not a member (`NotFound("room")`); no message at `seq`, or it is
    /// deleted (`NotFound("message")`); the message already carries
    /// [`max_reaction_emojis`](super::ChatConfig::max_reaction_emojis) different emojis and this
    /// is another (`Conflict("emoji")`, code `conflict`). Like every change others see, it
    /// spends one unit of the send budget ([`send_rate`](super::ChatConfig::send_rate)).
    pub async fn react(
        &self,
        actor: &Actor,
        room: RoomId,
        seq: Seq,
        emoji: &str,
    ) -> Result<MessageReactions> {
        let emoji = self.admit_reaction(actor, room, emoji).await?;
        let max = self.config().max_reaction_emojis;
        let added = self
            .store()
            .add_reaction(room, seq, actor.id(), &emoji, self.now(), max)
            .await;
        let (reactions, changed) = added.map_err(|err| match err {
            StoreError::TooManyReactions => Error::Conflict {
                field: "emoji",
                reason: "the message already carries the most different reactions allowed",
            },
            other => refused(other),
        })?;
        Ok(self.publish_reactions(room, seq, reactions, changed))
    }

    /// Removes the actor's `emoji` reaction from the message at `seq` and tells the room when
    /// there was one. Refusals as for [`Chat::react`] (removing a reaction the actor never
    /// made is not one: nothing changes).
    pub async fn unreact(
        &self,
        actor: &Actor,
        room: RoomId,
        seq: Seq,
        emoji: &str,
    ) -> Result<MessageReactions> {
        let emoji = self.admit_reaction(actor, room, emoji).await?;
        let (reactions, changed) = self
            .store()
            .remove_reaction(room, seq, actor.id(), &emoji)
            .await
            .map_err(refused)?;
        Ok(self.publish_reactions(room, seq, reactions, changed))
    }

    /// The checks every reaction change passes, in this order so that a non-member learns
    /// nothing and a malformed emoji spends nothing: the emoji, the membership, the budget.
    async fn admit_reaction(&self, actor: &Actor, room: RoomId, emoji: &str) -> Result<String> {
        let emoji = sanitize::emoji(emoji)?;
        self.membership(actor, room).await?;
        self.spend(actor, Budget::Sends, 1).await?;
        Ok(emoji)
    }

    /// Tells the room's live members the message's reactions now, when they `changed`.
    fn publish_reactions(
        &self,
        room: RoomId,
        seq: Seq,
        reactions: Vec<crate::model::Reaction>,
        changed: bool,
    ) -> MessageReactions {
        let now = MessageReactions {
            room_id: room,
            seq,
            reactions,
        };
        if changed {
            self.hub()
                .publish(room, Event::new(EventKind::Reactions(now.clone())));
        }
        now
    }
}

/// A store refusal as the caller sees it: the message is missing (or a tombstone).
fn refused(err: StoreError) -> Error {
    match err {
        StoreError::Missing(Entity::Message | Entity::Room) => Error::NotFound("message"),
        other => other.into(),
    }
}

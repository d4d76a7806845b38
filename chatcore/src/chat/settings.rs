//! A member's own settings for a room: mute and archive. No one else sees them; the member's
//! other devices hear of a change live.

use super::{Actor, Chat};
use crate::error::{Entity, Error, Result, StoreError};
use crate::model::{MemberSettings, RoomId, SettingsChange};
use crate::throttle::Budget;

impl Chat {
    /// Applies `change` to the actor's own settings for `room` and returns them. When anything
    /// changed, every live connection of the actor, on every device and node, receives a
    /// `Settings` event; other members receive nothing. Fields `change` leaves `None` keep
    /// their value. Archiving is the member's choice alone: new messages never unarchive.
    ///
    /// Refusals, each changing nothing: a change that names no field (`Invalid("settings")`);
    /// not a member (`NotFound("room")`, whether or not the room exists). Like every write,
    /// it spends one unit of the send budget ([`send_rate`](super::ChatConfig::send_rate)).
    pub async fn set_room_settings(
        &self,
        actor: &Actor,
        room: RoomId,
        change: SettingsChange,
    ) -> Result<MemberSettings> {
        if change == SettingsChange::default() {
            return Err(Error::invalid(
                "settings",
                "name at least one setting to change: muted, archived",
            ));
        }
        self.membership(actor, room).await?;
        self.spend(actor, Budget::Sends, 1).await?;
        let (settings, changed) = self
            .store()
            .set_room_settings(room, actor.id(), change)
            .await
            .map_err(|err| match err {
                // Left the room since the check above.
                StoreError::Missing(Entity::Room | Entity::Member) => Error::NotFound("room"),
                other => other.into(),
            })?;
        let now = MemberSettings {
            room_id: room,
            settings,
        };
        if changed {
            self.hub().publish_settings(actor.id(), now);
        }
        Ok(now)
    }
}

//! A user's own profile: display name, picture (avatar) and the "last seen" setting.
//!
//! Who sees a picture: the user and everyone who shares a room with them, the same people who
//! see their name. A picture is decoded and encoded again like any uploaded image (see
//! [`reencode`](crate::media::reencode)), cropped to a square at its center; each new one gets
//! a new [`AvatarId`], and the bytes of the one it replaced are deleted once no row names them.
//! A change of name or picture reaches the live connections of everyone who shares a room with
//! the user, and of the user's own devices, as an [`EventKind::User`](crate::EventKind::User).

use bytes::Bytes;

use super::views::{UserView, last_seen};
use super::{Actor, Chat, PublicUser};
use crate::error::{Entity, Error, Result, StoreError};
use crate::media::reencode::{AVATAR_SIZE, square};
use crate::media::{Staged, classify};
use crate::model::{Avatar, AvatarId, ProfileChange, RoomId, User, UserId};
use crate::sanitize;
use crate::store::MediaFile;
use crate::throttle::Budget;

impl Chat {
    /// Applies `change` to the actor's own profile and returns the user after it. A new
    /// display name goes through [`sanitize::display_name`] (the same rules as at
    /// registration); others see it from then on, and their live connections (and the
    /// actor's other devices) hear of it at once (also when the name stays the same). `hide_last_seen` changes what
    /// [`MemberView::last_seen`](super::MemberView::last_seen) shows, both ways; nobody is
    /// told live.
    ///
    /// Refusals, each changing nothing: a change that names no field (`Invalid("profile")`),
    /// a bad display name (`Invalid("display_name")`). Like every write, it spends one unit of
    /// the send budget ([`send_rate`](super::ChatConfig::send_rate)). Guests may change theirs.
    pub async fn update_profile(&self, actor: &Actor, change: ProfileChange) -> Result<User> {
        if change == ProfileChange::default() {
            return Err(Error::invalid(
                "profile",
                "nothing to change: name display_name or hide_last_seen",
            ));
        }
        let display_name = change
            .display_name
            .as_deref()
            .map(sanitize::display_name)
            .transpose()?;
        self.spend(actor, Budget::Sends, 1).await?;
        let renamed = display_name.is_some();
        let change = ProfileChange {
            display_name,
            ..change
        };
        let user = self
            .store()
            .update_profile(actor.id(), &change)
            .await
            .map_err(missing_user)?;
        if renamed {
            self.announce_profile(&user).await;
        }
        Ok(user)
    }

    /// Checks what can be checked of a new picture before its bytes are read: `declared_len`
    /// (if known) is within `max_upload_bytes` (else `TooLarge`). Transports call it before
    /// reading the body; [`Chat::set_avatar_staged`] checks again.
    pub fn check_avatar_upload(&self, declared_len: Option<u64>) -> Result<()> {
        let limit = self.config().max_upload_bytes;
        if declared_len.is_some_and(|len| len > limit as u64) {
            return Err(Error::TooLarge {
                what: "upload",
                limit,
            });
        }
        Ok(())
    }

    /// [`Chat::set_avatar_staged`] for a picture whose bytes are all in memory.
    pub async fn set_avatar(
        &self,
        actor: &Actor,
        bytes: Bytes,
        declared: Option<&str>,
    ) -> Result<User> {
        self.check_avatar_upload(Some(bytes.len() as u64))?;
        let mut staging = self.stage_upload().await?;
        staging.write(&bytes).await?;
        let staged = staging.finish().await?;
        self.set_avatar_staged(actor, staged, declared).await
    }

    /// Makes a staged upload (see [`Chat::stage_upload`]) the actor's picture and returns the
    /// user with its new [`AvatarId`]. The upload passes the checks of any uploaded image (see
    /// [`Chat::upload_staged`]): sniffed type, a `declared` type that agrees, the size and
    /// pixel limits, no animation (`TooLarge`, `UnsupportedMedia`, `TooManyPixels`,
    /// `Invalid("file")`); audio is `UnsupportedMedia`. It is then cropped to the largest
    /// square at its center and shrunk to at most [`AVATAR_SIZE`] pixels a side (never
    /// enlarged). The previous picture's bytes are deleted after the user's row names the new
    /// one. A picture does not count against the upload quota (a user has one), but spends one
    /// unit of the send budget.
    pub async fn set_avatar_staged(
        &self,
        actor: &Actor,
        staged: Staged,
        declared: Option<&str>,
    ) -> Result<User> {
        self.check_avatar_upload(Some(staged.len()))?;
        let mime = classify(staged.head(), declared)?;
        if !mime.starts_with("image/") {
            return Err(Error::UnsupportedMedia);
        }
        self.spend(actor, Budget::Sends, 1).await?;
        let max_pixels = self.config().max_image_pixels;
        let picture = self
            .decode_image(staged, move |bytes| {
                square(bytes, mime, max_pixels, AVATAR_SIZE)
            })
            .await?;
        let avatar = Avatar {
            id: AvatarId::generate(),
            mime: picture.mime.to_owned(),
        };
        self.inner
            .media
            .put(&avatar.key(), Bytes::from(picture.bytes))
            .await?;
        match self.store().set_avatar(actor.id(), Some(&avatar)).await {
            Ok((user, replaced)) => self.replaced_avatar(user, replaced).await,
            Err(err) => {
                self.delete_avatar_bytes(&avatar).await;
                Err(missing_user(err))
            }
        }
    }

    /// Removes the actor's picture (its bytes are deleted) and returns the user without one.
    /// Removing a picture that is not there changes nothing and succeeds. Spends one unit of
    /// the send budget.
    pub async fn remove_avatar(&self, actor: &Actor) -> Result<User> {
        self.spend(actor, Budget::Sends, 1).await?;
        let (user, replaced) = self
            .store()
            .set_avatar(actor.id(), None)
            .await
            .map_err(missing_user)?;
        self.replaced_avatar(user, replaced).await
    }

    /// The picture `avatar` of `user` with its bytes opened for streaming, for the user and
    /// those who share a room with them. Anyone else, a picture `user` no longer has (or never
    /// had), and an unknown user all get the same `NotFound("avatar")`.
    pub async fn open_avatar(
        &self,
        actor: &Actor,
        user: UserId,
        avatar: AvatarId,
    ) -> Result<(Avatar, MediaFile)> {
        let not_found = || Error::NotFound("avatar");
        if user != actor.id() && !self.store().share_a_room(actor.id(), user).await? {
            return Err(not_found());
        }
        let current = self
            .store()
            .user(user)
            .await?
            .and_then(|u| u.avatar)
            .filter(|a| a.id == avatar)
            .ok_or_else(not_found)?;
        let file = self
            .inner
            .media
            .open(&current.key())
            .await?
            .ok_or_else(not_found)?;
        Ok((current, file))
    }

    /// What the actor may see of `user` on their own: the public profile and, when the two
    /// share a direct room and neither hides it, when `user` was last seen (the rule of
    /// [`MemberView::last_seen`](super::MemberView::last_seen)). Only for the actor themselves
    /// and those who share a room with them: anyone else gets `NotFound("user")`, as for a
    /// user who does not exist.
    pub async fn user_view(&self, actor: &Actor, user: UserId) -> Result<UserView> {
        let not_found = || Error::NotFound("user");
        if user != actor.id() && !self.store().share_a_room(actor.id(), user).await? {
            return Err(not_found());
        }
        let shown = self.store().user(user).await?.ok_or_else(not_found)?;
        // Fresh, not as of authentication: the viewer may have just hidden their own.
        let viewer = self.store().user(actor.id()).await?.ok_or_else(not_found)?;
        let key = super::direct_key(actor.id(), user);
        let direct = user != actor.id() && self.store().direct_room(&key).await?.is_some();
        Ok(UserView {
            user: PublicUser::from(&shown),
            last_seen: last_seen(direct, &viewer, &shown),
        })
    }

    /// After the user's row changed pictures: deletes the replaced one's bytes and tells
    /// everyone concerned, when the picture changed at all.
    async fn replaced_avatar(&self, user: User, replaced: Option<Avatar>) -> Result<User> {
        if let Some(old) = &replaced {
            self.delete_avatar_bytes(old).await;
        }
        if replaced.as_ref().map(|a| a.id) != user.avatar.as_ref().map(|a| a.id) {
            self.announce_profile(&user).await;
        }
        Ok(user)
    }

    /// Tells the live connections of everyone who shares a room with `user`, and `user`'s own,
    /// what others now see of them. The change is stored already: when the user's rooms cannot
    /// be read, only the live notice is lost (clients see the change on their next fetch).
    async fn announce_profile(&self, user: &User) {
        let rooms: Vec<RoomId> = match self.store().rooms_of_user(user.id).await {
            Ok(rooms) => rooms.into_iter().map(|(room, _)| room.id).collect(),
            Err(err) => {
                tracing::warn!(user = %user.id, error = %err, "profile change not announced");
                Vec::new()
            }
        };
        self.hub().publish_user(PublicUser::from(user), &rooms);
    }

    /// Deletes a picture's bytes, logging a failure: no row names them any more, so nothing
    /// can reach them.
    async fn delete_avatar_bytes(&self, avatar: &Avatar) {
        if let Err(err) = self.inner.media.delete(&avatar.key()).await {
            tracing::warn!(avatar = %avatar.id, error = %err, "avatar bytes could not be deleted");
        }
    }
}

/// The actor's own row is gone (only a host deleting users behind chat's back does that).
fn missing_user(err: StoreError) -> Error {
    match err {
        StoreError::Missing(Entity::User) => Error::NotFound("user"),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests;

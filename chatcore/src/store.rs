//! The storage traits every backend implements: [`Store`] for rows, [`MediaStore`] for bytes.
//!
//! Stores are dumb and atomic: each method is one consistent change or read, and rules (who may
//! do what, sanitizing, limits) live in [`Chat`](crate::Chat), never here. Backends prove they
//! honour this contract by running the conformance suite in `chatcore::testing`.

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::StoreError;
use crate::model::*;

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Whom a [`Store::search_users`] looks among (before the prefix and the enabled check).
/// Exhaustive on purpose: a store must answer every variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Among {
    /// Every user.
    Everyone,
    /// Registered users (not guests), and guests who share a room with this user.
    RegisteredOrRoommatesOf(UserId),
    /// Users who share a room with this user, never the user itself.
    RoommatesOf(UserId),
}

/// Rows of a chat: users, sessions, rooms, members, messages, read markers and media metadata.
///
/// Implementations must be safe to share across tasks (`Arc<dyn Store>`) and every method must
/// be atomic: a failure leaves nothing half-written. Text round-trips byte for byte; callers
/// never pass a NUL character (chatcore's sanitizer removes control characters, and some
/// databases cannot store it).
///
/// Refusals are [`StoreError`]s that name what was refused, and the methods below name them
/// short: `Missing(Room)` is `StoreError::Missing(Entity::Room)` ([`Entity`]),
/// `Duplicate(Username)` is `StoreError::Duplicate(Unique::Username)` ([`Unique`]).
///
/// [`Entity`]: crate::Entity
/// [`Unique`]: crate::Unique
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- users ----

    /// Creates a user. `Duplicate(Username)` or `Duplicate(ExternalId)` when taken
    /// (usernames compare case-insensitively; callers pass them lowercase).
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    /// The user with this id.
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// The user with this username and their password hash (`None` for password-less accounts).
    async fn user_by_username(&self, username: &str)
    -> StoreResult<Option<(User, Option<String>)>>;
    /// The user the host application knows by `external_id`.
    async fn user_by_external_id(&self, external_id: &str) -> StoreResult<Option<User>>;
    /// The password hash of a user, if they have one.
    async fn password_hash(&self, id: UserId) -> StoreResult<Option<String>>;
    /// Enabled users `among` those named, whose username or display name starts with `prefix`
    /// (case-insensitive), ordered by id, at most `limit`. Callers escape nothing: the prefix is
    /// data.
    async fn search_users(&self, prefix: &str, among: Among, limit: u32) -> StoreResult<Vec<User>>;
    /// Whether `a` and `b` are both members of at least one room (of any kind).
    async fn share_a_room(&self, a: UserId, b: UserId) -> StoreResult<bool>;
    /// All users with id greater than `after`, ordered by id, at most `limit`.
    async fn list_users(&self, after: UserId, limit: u32) -> StoreResult<Vec<User>>;
    /// Replaces the password hash. `Missing(User)` if there is no such user.
    async fn set_password_hash(&self, id: UserId, hash: &str) -> StoreResult<()>;
    /// Turns a guest into a full account with a username and password, keeping everything else,
    /// and in the same transaction deletes every session of the user. Returns the upgraded user
    /// and the token hashes of the sessions it ended (the caller closes their connections and
    /// issues a fresh session).
    ///
    /// Only a guest is upgraded: `NotAGuest` when the user is not (or no longer) one, so of two
    /// concurrent upgrades of the same guest exactly one wins. `Duplicate(Username)` when the
    /// username is taken, `Missing(User)` when absent. A refusal changes nothing.
    async fn upgrade_guest(
        &self,
        id: UserId,
        username: &str,
        hash: &str,
    ) -> StoreResult<(User, Vec<[u8; 32]>)>;
    /// Enables or disables a user. `Missing(User)` if absent.
    async fn set_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()>;
    /// Grants or revokes the server admin role. `Missing(User)` if absent.
    async fn set_server_admin(&self, id: UserId, admin: bool) -> StoreResult<()>;
    /// Replaces the user's display name (already sanitized). `Missing(User)` if absent.
    async fn set_display_name(&self, id: UserId, display_name: &str) -> StoreResult<()>;
    /// Applies `change` to the user's profile (the display name already sanitized; fields it
    /// leaves `None` keep their value) and returns the user after it. `Missing(User)` if absent.
    async fn update_profile(&self, id: UserId, change: &ProfileChange) -> StoreResult<User>;
    /// Points the user at `avatar` (`None`: no picture), in one atomic step, and returns the
    /// user after it with the avatar it replaced (whose bytes the caller may now delete: no row
    /// names them any more). `Missing(User)` if absent, and nothing is written.
    async fn set_avatar(
        &self,
        id: UserId,
        avatar: Option<&Avatar>,
    ) -> StoreResult<(User, Option<Avatar>)>;
    /// Records activity (guest expiry and "last seen" count from the last one); never moves
    /// it back.
    async fn touch_user(&self, id: UserId, at: Timestamp) -> StoreResult<()>;
    /// Disables every enabled guest whose last activity is before `inactive_since`, deletes
    /// their sessions, and returns their ids.
    async fn expire_guests(&self, inactive_since: Timestamp) -> StoreResult<Vec<UserId>>;

    // ---- sessions ----

    /// Stores a new session. `Duplicate(Session)` if the hash exists.
    async fn create_session(&self, session: Session) -> StoreResult<()>;
    /// The session with this token hash.
    async fn session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<Session>>;
    /// Records use of a session.
    async fn touch_session(&self, token_hash: &[u8; 32], at: Timestamp) -> StoreResult<()>;
    /// Deletes one session; `false` if it did not exist.
    async fn delete_session(&self, token_hash: &[u8; 32]) -> StoreResult<bool>;
    /// Deletes every session of a user except `keep`, returning the deleted hashes.
    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&[u8; 32]>,
    ) -> StoreResult<Vec<[u8; 32]>>;
    /// Deletes sessions idle since before `idle_before` (`last_seen_at < idle_before`) or
    /// created before `created_before` (`created_at < created_before`), at most `limit` per
    /// call, and returns the deleted sessions' token hashes with their users. Call it again
    /// until it returns fewer than `limit` to sweep them all.
    async fn delete_expired_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<([u8; 32], UserId)>>;

    // ---- rooms and members ----

    /// Creates a room with its members in one transaction. `Duplicate(DirectRoom)` if a
    /// direct room with the same `direct_key` exists.
    async fn create_room(&self, room: NewRoom) -> StoreResult<Room>;
    /// The room with this id.
    async fn room(&self, id: RoomId) -> StoreResult<Option<Room>>;
    /// The direct room with this key.
    async fn direct_room(&self, direct_key: &str) -> StoreResult<Option<Room>>;
    /// Rooms with id greater than `after`, ordered by id, at most `limit`, each with the seq
    /// of its newest message (0 when it has none): how a
    /// [`CommitFeed`](crate::commits::CommitFeed) finds the rooms that moved while it was away.
    async fn room_heads(&self, after: RoomId, limit: u32) -> StoreResult<Vec<(RoomId, Seq)>>;
    /// Renames a room. `Missing(Room)` if absent.
    async fn rename_room(&self, id: RoomId, name: &str) -> StoreResult<()>;
    /// The rooms a user is a member of, with their membership.
    async fn rooms_of_user(&self, user: UserId) -> StoreResult<Vec<(Room, Member)>>;
    /// Everything a room list shows for `user`: each of their rooms with their membership,
    /// members, newest message and unread count, in room id order. SQL backends answer in a
    /// fixed handful of queries however many rooms and members there are; the default asks
    /// room by room (see [`room_list_entry`]).
    async fn room_list(&self, user: UserId) -> StoreResult<Vec<RoomListEntry>> {
        let mut entries = Vec::new();
        for (room, me) in self.rooms_of_user(user).await? {
            entries.push(room_list_entry(self, room, me).await?);
        }
        Ok(entries)
    }
    /// Every member of a room, oldest first.
    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>>;
    /// One membership.
    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>>;
    /// Adds a member, unless the room already has `max_members` members: then `RoomFull` and
    /// nothing is written. The count and the insert are one atomic step, so concurrent adds never
    /// take a room past `max_members`. `Missing(User)`, then `Missing(Room)` when absent,
    /// `Duplicate(Member)` if already one (checked before the cap).
    async fn add_member(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        at: Timestamp,
        max_members: usize,
    ) -> StoreResult<()>;
    /// Removes a member; `None` if they were not one (or the room is absent).
    ///
    /// When the removed member was the room's last admin, the oldest remaining full member (by
    /// join order; not a guest, not disabled) becomes admin in the same transaction, and
    /// [`Removed::promoted`] names them. If no full member remains, the room is left without an
    /// admin. Concurrent removals are serialized per room, so two admins leaving at once still
    /// leave an admin behind when a full member remains.
    async fn remove_member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Removed>>;
    /// Changes a member's role. Refuses with `LastAdmin`, writing nothing, to demote the room's
    /// only admin; the check and the change are one atomic step, so two admins demoting each
    /// other at once leave one admin. `Missing(Room)` or `Missing(Member)` when absent.
    async fn set_role(&self, room: RoomId, user: UserId, role: Role) -> StoreResult<()>;
    /// Raises a member's read marker to `seq` (never lowers it) and returns the marker now
    /// stored. `Missing(Member)` if not a member.
    async fn mark_read(&self, room: RoomId, user: UserId, seq: Seq) -> StoreResult<Seq>;
    /// Applies `change` to `user`'s own settings for `room` (fields it leaves `None` keep
    /// their value, also under a concurrent change of another field) and returns the settings
    /// now, with whether anything changed. `Missing(Room)` when there is no such room,
    /// `Missing(Member)` when the user is not a member; nothing is written then.
    async fn set_room_settings(
        &self,
        room: RoomId,
        user: UserId,
        change: SettingsChange,
    ) -> StoreResult<(RoomSettings, bool)>;

    // ---- messages ----

    /// Appends a message with the room's next seq, atomically, and returns it with `true`.
    ///
    /// The sender must be a member of the room when the append commits: otherwise
    /// `Missing(Member)` and nothing is stored. The check is part of the append's
    /// transaction, so a member removed at the same moment cannot slip a message in after
    /// the removal. If (room, sender, client_id) was stored before, returns that first message
    /// with `false` and stores nothing, also when two identical sends race. Every backend
    /// remembers a key for at least 24 hours after its send (by `created_at`; the SQL server
    /// backends and the in-memory store keep keys forever, SQLite for
    /// `chatcore_sqlite::IDEMPOTENCY_WINDOW`).
    /// `Missing(Room)` if the room is absent, `Missing(Media)` if `media_id` names no
    /// stored media.
    async fn append_message(&self, msg: NewMessage) -> StoreResult<(Message, bool)>;
    /// How many batches of appends ([`Store::append_messages`] calls) the store commits well
    /// at the same time. [`Chat`](crate::Chat) runs that many group-commit writers, each
    /// owning the rooms whose id falls to it, so one room's appends never overlap and its
    /// order holds. A database server overlaps one batch's round trips and commit with
    /// another's; even a single writer (SQLite) gains a little, committing one lane's batch
    /// while another's is published. The default, 1, suits a store whose appends are plain
    /// memory writes (the in-memory store).
    fn append_lanes(&self) -> usize {
        1
    }
    /// Appends many messages; the result for each is what [`Store::append_message`] would
    /// return. Backends may commit the whole batch in one transaction; the default appends one
    /// by one.
    async fn append_messages(&self, msgs: Vec<NewMessage>) -> Vec<StoreResult<(Message, bool)>> {
        let mut out = Vec::with_capacity(msgs.len());
        for m in msgs {
            out.push(self.append_message(m).await);
        }
        out
    }
    /// The message at `seq` in `room`.
    async fn message(&self, room: RoomId, seq: Seq) -> StoreResult<Option<Message>>;
    /// Up to `limit` messages with seq < `before` (all when `None`), returned in ascending seq.
    async fn messages_before(
        &self,
        room: RoomId,
        before: Option<Seq>,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    /// Up to `limit` messages with seq > `after`, in ascending seq.
    async fn messages_after(
        &self,
        room: RoomId,
        after: Seq,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    /// Replaces the body of a message and its mentions (spans of the new body) and sets
    /// `edited_at`; its media and custom kind stay. `Missing(Message)` if absent.
    async fn edit_message(
        &self,
        room: RoomId,
        seq: Seq,
        body: &str,
        mentions: &[Mention],
        at: Timestamp,
    ) -> StoreResult<Message>;
    /// Turns a message into a tombstone (empty body, no mentions, no media, no custom kind, no
    /// reactions, `deleted`). `Missing(Message)`.
    async fn delete_message(&self, room: RoomId, seq: Seq, at: Timestamp) -> StoreResult<Message>;
    /// How many messages after `after_seq` were sent by someone other than `user` and not deleted.
    async fn count_unread(&self, room: RoomId, user: UserId, after_seq: Seq) -> StoreResult<u64>;

    // ---- reactions ----
    //
    // `message`, `messages_before`, `messages_after` and `edit_message` fill in the reactions
    // of the messages they return: emojis in the order each was first used, users in the order
    // they reacted (ties of `at` in the order the store took them). Appends answer without them,
    // and a room list's newest message may carry none (it is a preview).

    /// Adds `user`'s reaction `emoji` to the message at `seq` and returns the message's
    /// reactions after it, with whether anything changed (`false`: the user had already reacted
    /// with it).
    ///
    /// `Missing(Message)` when there is no message at `seq` (or no such room) or it is deleted.
    /// `TooManyReactions` when `emoji` is new on a message that already carries `max_emojis`
    /// different emojis; the count and the insert are one atomic step, as is the check against
    /// a concurrent delete. A refusal writes nothing.
    async fn add_reaction(
        &self,
        room: RoomId,
        seq: Seq,
        user: UserId,
        emoji: &str,
        at: Timestamp,
        max_emojis: usize,
    ) -> StoreResult<(Vec<Reaction>, bool)>;
    /// Removes `user`'s reaction `emoji` from the message at `seq` and returns the message's
    /// reactions after it, with whether there was one to remove. `Missing(Message)` as for
    /// [`Store::add_reaction`].
    async fn remove_reaction(
        &self,
        room: RoomId,
        seq: Seq,
        user: UserId,
        emoji: &str,
    ) -> StoreResult<(Vec<Reaction>, bool)>;

    // ---- search ----

    /// Up to `limit` messages of `rooms` whose body contains `text`, compared
    /// case-insensitively (see [`crate::search`]), newest (highest id) first, only ids below
    /// `before` when it is given. Deleted messages are never found, and an edited one only by
    /// its text now: the index changes in the same transaction as the message. `text` is data,
    /// never a query language (`%`, `_`, quotes, `*`, `NEAR`, `-` are themselves). Reactions are
    /// not filled in.
    ///
    /// A backend whose index is by word (MariaDB's FULLTEXT) may miss a text that begins inside
    /// a word of the body; callers pass texts of at least
    /// [`MIN_TEXT_CHARS`](crate::search::MIN_TEXT_CHARS) characters.
    async fn search_messages(
        &self,
        rooms: &[RoomId],
        text: &str,
        before: Option<MessageId>,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    // ---- invite links ----

    /// Records an invite link, first deleting the room's links that no longer admit anyone at
    /// `invite.created_at` (expired or used up), so a room never holds more than `max_invites`
    /// links. `TooManyInvites` when the room already has `max_invites` usable ones; the count
    /// and the insert are one atomic step per room. `Missing(Room)` when absent,
    /// `Duplicate(Invite)` for a token hash already stored. A refusal writes nothing.
    async fn create_invite(&self, invite: NewInvite, max_invites: usize) -> StoreResult<Invite>;
    /// Every invite link of a room, usable or not, oldest first.
    async fn invites(&self, room: RoomId) -> StoreResult<Vec<Invite>>;
    /// The invite link whose token has this SHA-256, usable or not.
    async fn invite_by_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<Invite>>;
    /// Deletes the invite link `id` of `room`; `false` when the room has no such link (a link
    /// of another room is never touched).
    async fn delete_invite(&self, room: RoomId, id: InviteId) -> StoreResult<bool>;
    /// Admits `user` to the room of the invite whose token has this SHA-256, in one atomic
    /// step: when `user` is already a member nothing changes (`joined: false`, whatever the
    /// link's state); otherwise the link must still admit someone at `at` (not expired, uses
    /// left), its use count goes up by one and `user` becomes a plain member, unless the room
    /// already has `max_members` members (`RoomFull`, nothing written).
    ///
    /// `Missing(Invite)` when no link has this hash, or it has expired or is used up: concurrent
    /// redemptions of a link with one use left admit exactly one user. `Missing(User)` when
    /// the user is absent.
    async fn redeem_invite(
        &self,
        token_hash: &[u8; 32],
        user: UserId,
        at: Timestamp,
        max_members: usize,
    ) -> StoreResult<Redeemed>;

    // ---- media ----

    /// Records uploaded media metadata under the id the caller generated, unless the uploader's
    /// uploads since `quota.since` (those that still exist) plus this one would pass
    /// `quota.limit`: then `QuotaExceeded` and nothing is written. The sum and the insert are one
    /// atomic step per uploader, so concurrent uploads never take a user past the quota.
    /// `Missing(Room)`, then `Missing(User)` when absent; `Duplicate(Media)` for a reused id.
    async fn create_media(&self, media: NewMedia, quota: UploadQuota) -> StoreResult<Media>;
    /// Media metadata by id.
    async fn media(&self, id: MediaId) -> StoreResult<Option<Media>>;
    /// Whether a message (not deleted) carries the media.
    async fn media_attached(&self, id: MediaId) -> StoreResult<bool>;
    /// Deletes the media's row if no message carries it, in one atomic step, and returns the
    /// key of its bytes when no other row uses that key, so the caller can delete them.
    /// `None` when the media is absent, still attached, or its bytes are shared.
    async fn release_media(&self, id: MediaId) -> StoreResult<Option<String>>;
    /// Up to `limit` media uploaded before `before` that no message carries (oldest first):
    /// the candidates for [`Store::release_media`] once their grace period is over.
    async fn unattached_media(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<MediaId>>;
    /// The total size of the media `user` uploaded at or after `since` that still exists.
    async fn uploaded_bytes_since(&self, user: UserId, since: Timestamp) -> StoreResult<u64>;

    // ---- health ----

    /// Succeeds when the backend answers.
    async fn ping(&self) -> StoreResult<()>;
}

/// One room of `me`'s room list read with the single-room methods of `store`: what
/// [`Store::room_list`] does by default for each room, and what a view of one room needs.
pub async fn room_list_entry<S: Store + ?Sized>(
    store: &S,
    room: Room,
    me: Member,
) -> StoreResult<RoomListEntry> {
    let mut members = Vec::new();
    for member in store.members(room.id).await? {
        if let Some(user) = store.user(member.user_id).await? {
            members.push((member, user));
        }
    }
    let last_message = store.messages_before(room.id, None, 1).await?.pop();
    let unread = store
        .count_unread(room.id, me.user_id, me.last_read_seq)
        .await?;
    Ok(RoomListEntry {
        room,
        me,
        members,
        last_message,
        unread,
    })
}

/// Bytes of uploaded media, under keys the chat chooses (URL-safe base64 characters, `-` and
/// `_`, 16 to 80 of them; anything else is refused, so a key can never name another path).
#[async_trait]
pub trait MediaStore: Send + Sync + 'static {
    /// Stores `bytes` under `key`, replacing what was there. A crash must never leave partial
    /// bytes under the real key.
    async fn put(&self, key: &str, bytes: Bytes) -> StoreResult<()>;
    /// Where uploads are written while they arrive (see [`Staging`](crate::media::Staging)).
    /// A store that keeps files should answer a directory on their filesystem, so that
    /// [`MediaStore::put_staged`] can keep an upload with a rename. The default is the system's
    /// temporary directory.
    fn staging_dir(&self) -> std::path::PathBuf {
        std::env::temp_dir()
    }
    /// Stores a staged upload under `key` as it is, like [`MediaStore::put`]. The default reads
    /// it into memory (on the blocking pool) and calls `put`; the staged file is removed
    /// either way.
    async fn put_staged(&self, key: &str, staged: crate::media::Staged) -> StoreResult<()> {
        let bytes = tokio::task::spawn_blocking(move || staged.read_all())
            .await
            .map_err(|e| StoreError::backend(std::io::Error::other(e)))?
            .map_err(StoreError::backend)?;
        self.put(key, Bytes::from(bytes)).await
    }
    /// Opens the bytes under `key` for reading (and seeking), without loading them whole.
    async fn open(&self, key: &str) -> StoreResult<Option<MediaFile>>;
    /// Deletes the bytes under `key`; deleting absent bytes succeeds.
    async fn delete(&self, key: &str) -> StoreResult<()>;
}

/// A reader over stored media bytes that can also seek (for HTTP Range requests).
pub trait MediaRead: tokio::io::AsyncRead + tokio::io::AsyncSeek + Send + Unpin {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncSeek + Send + Unpin> MediaRead for T {}

/// Stored media bytes opened for streaming.
pub struct MediaFile {
    /// How many bytes there are.
    pub len: u64,
    /// Reads them, from the start unless seeked.
    pub reader: Box<dyn MediaRead>,
}

impl std::fmt::Debug for MediaFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaFile")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

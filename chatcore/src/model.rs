//! The domain's data: ids, users, sessions, rooms, members, messages and media.
//!
//! These are plain values. They serialize to the JSON shapes documented in `docs/protocol.md`
//! and `docs/api.md`, so transports can put them on the wire unchanged.

use serde::{Deserialize, Serialize, Serializer};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// Identifies a user (password account, guest or host-app identity).
    UserId
);
id_type!(
    /// Identifies a room.
    RoomId
);
id_type!(
    /// Identifies a stored message, unique across rooms.
    MessageId
);

// After `id_type!`, which it uses.
mod invite;
pub use invite::{Invite, InviteId, NewInvite, Redeemed};

/// Defines an id of 128 random bits written as 22 characters of URL-safe base64, with the
/// error its parsing gives: ids that are never sequential and cannot be guessed or enumerated.
macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $(#[$err_doc:meta])* $bad:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; 16]);

        impl $name {
            /// A fresh id from the operating system's random source.
            pub fn generate() -> Self {
                let mut bytes = [0u8; 16];
                crate::token::fill_random(&mut bytes);
                $name(bytes)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                use base64::Engine as _;
                f.write_str(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0))
            }
        }

        $(#[$err_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $bad;

        impl std::fmt::Display for $bad {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!("a ", $what, " id is 22 characters of URL-safe base64"))
            }
        }

        impl std::error::Error for $bad {}

        impl std::str::FromStr for $name {
            type Err = $bad;

            fn from_str(text: &str) -> std::result::Result<Self, $bad> {
                use base64::Engine as _;
                if text.len() != 22 {
                    return Err($bad);
                }
                let mut bytes = [0u8; 16];
                match base64::engine::general_purpose::URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
                    Ok(16) => Ok($name(bytes)),
                    _ => Err($bad),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

random_id!(
    /// Identifies uploaded media: 128 random bits, written as 22 characters of URL-safe base64.
    ///
    /// Media ids are not the access control (membership is), but they are never sequential and
    /// cannot be guessed or enumerated. [`MediaId::generate`] is the only way a new one is made.
    MediaId,
    /// The text was not 22 characters of URL-safe base64 naming 16 bytes.
    BadMediaId,
    "media"
);

random_id!(
    /// Identifies one version of a user's avatar: 128 random bits, written as 22 characters of
    /// URL-safe base64. Every new picture gets a new id ([`AvatarId::generate`]), so the URL of
    /// a picture never shows another one and can be cached for good.
    AvatarId,
    /// The text was not 22 characters of URL-safe base64 naming 16 bytes.
    BadAvatarId,
    "avatar"
);

/// A user's profile picture as stored: which version it is and the type of its bytes (a
/// square image of at most [`AVATAR_SIZE`](crate::media::reencode::AVATAR_SIZE) pixels a side,
/// kept in the media store under [`Avatar::key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avatar {
    /// The version's id.
    pub id: AvatarId,
    /// The MIME type of the stored bytes: `image/jpeg` or `image/png`.
    pub mime: String,
}

impl Avatar {
    /// Where the picture's bytes are in the media store (derived from the id, so never stored).
    pub fn key(&self) -> String {
        format!("avatar-{}", self.id)
    }
}

/// A per-room message sequence number: 1, 2, 3, … with no gap and no duplicate.
pub type Seq = i64;

/// A point in time: milliseconds since the Unix epoch, UTC. Serializes as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(since_epoch.as_millis() as i64)
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This time plus `d`, saturating.
    pub fn plus(self, d: std::time::Duration) -> Self {
        Timestamp(self.0.saturating_add(d.as_millis() as i64))
    }

    /// This time minus `d`, saturating.
    pub fn minus(self, d: std::time::Duration) -> Self {
        Timestamp(self.0.saturating_sub(d.as_millis() as i64))
    }

    /// RFC 3339 text in UTC with millisecond precision, e.g. `2026-11-28T07:00:00.123Z`.
    pub fn to_rfc3339(self) -> String {
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

/// A chat user. Password accounts, guests and host-app identities are all `User`s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// Login name (lowercase), `None` for guests and host-app identities without one.
    pub username: Option<String>,
    /// The name shown to others.
    pub display_name: String,
    /// A guest account: no password, no admin role anywhere, expires when inactive.
    #[serde(rename = "guest")]
    pub is_guest: bool,
    /// Holds the server-level admin role (user management).
    #[serde(rename = "admin")]
    pub is_server_admin: bool,
    /// A disabled user cannot authenticate.
    pub disabled: bool,
    /// The id the host application vouches for, when the user came from one.
    #[serde(skip)]
    pub external_id: Option<String>,
    /// When the account was created.
    pub created_at: Timestamp,
    /// Last time the user authenticated or acted (drives guest expiry), or their last live
    /// connection closed: what "last seen" shows.
    #[serde(skip)]
    pub last_active_at: Timestamp,
    /// The profile picture, if the user set one; on the wire only its id (`"avatar"`).
    #[serde(serialize_with = "avatar_id")]
    pub avatar: Option<Avatar>,
    /// The user hides when they were last seen (and so sees nobody's, see
    /// [`MemberView::last_seen`](crate::MemberView::last_seen)).
    pub hide_last_seen: bool,
}

fn avatar_id<S: Serializer>(avatar: &Option<Avatar>, s: S) -> Result<S::Ok, S::Error> {
    avatar.as_ref().map(|a| a.id).serialize(s)
}

/// A change to a user's own profile: the fields to set; `None` keeps a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    /// The new display name (already sanitized, when it reaches a store).
    pub display_name: Option<String>,
    /// Hide (`true`) or show (`false`) when the user was last seen.
    pub hide_last_seen: Option<bool>,
}

/// What a store needs to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Normalized (lowercase) username, if any.
    pub username: Option<String>,
    /// Sanitized display name.
    pub display_name: String,
    /// Argon2id PHC string, `None` for accounts without a password.
    pub password_hash: Option<String>,
    /// Whether this is a guest account.
    pub is_guest: bool,
    /// The host application's id for this user, if it came from one.
    pub external_id: Option<String>,
    /// Creation time (also the first activity).
    pub created_at: Timestamp,
}

/// A stored login session. The token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the bearer token.
    pub token_hash: [u8; 32],
    /// Whose session this is.
    pub user_id: UserId,
    /// When the session was created (absolute lifetime counts from here).
    pub created_at: Timestamp,
    /// Last use (idle timeout counts from here).
    pub last_seen_at: Timestamp,
}

/// Direct (exactly two members) or group room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// A private conversation between exactly two users.
    Direct,
    /// A named group with admins and members.
    Group,
}

/// A member's role in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages members, roles and the room name.
    Admin,
    /// Reads and writes messages.
    Member,
}

/// A room as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Room {
    /// The room's id.
    pub id: RoomId,
    /// Direct or group.
    pub kind: RoomKind,
    /// Group name; `None` for direct rooms.
    pub name: Option<String>,
    /// The seq of the newest message, 0 when empty.
    pub last_seq: Seq,
    /// When the room was created.
    pub created_at: Timestamp,
}

/// What a store needs to create a room together with its first members, atomically.
#[derive(Debug, Clone)]
pub struct NewRoom {
    /// Direct or group.
    pub kind: RoomKind,
    /// Group name; `None` for direct rooms.
    pub name: Option<String>,
    /// For direct rooms, a key unique per pair of users (see [`direct_key`](crate::direct_key)).
    pub direct_key: Option<String>,
    /// The members and their roles.
    pub members: Vec<(UserId, Role)>,
    /// Creation time (also every initial member's join time).
    pub created_at: Timestamp,
}

/// A user's membership in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The room.
    pub room_id: RoomId,
    /// The member.
    pub user_id: UserId,
    /// Admin or member.
    pub role: Role,
    /// When the user joined (the oldest member is promoted when the last admin leaves).
    pub joined_at: Timestamp,
    /// The highest seq this member has read.
    pub last_read_seq: Seq,
    /// The member's own settings for the room (mute, archive), seen by no one else.
    pub settings: RoomSettings,
}

/// A member's own settings for one room, kept with the membership (a member who leaves and is
/// added again starts from the defaults). No one else sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSettings {
    /// Muted: the room's messages still count as unread, but clients do not notify of them
    /// (no desktop notification, no sound), except of a message that mentions the member.
    pub muted: bool,
    /// Archived: clients list the room apart, under "Archived". It stays archived when new
    /// messages arrive (as in WhatsApp with "keep chats archived") until the member unarchives it.
    pub archived: bool,
}

/// A change to a member's [`RoomSettings`]: the fields to set; `None` keeps a field as it is,
/// so two devices changing different fields at once do not undo each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// Mute (`true`) or unmute (`false`) the room.
    #[serde(default)]
    pub muted: Option<bool>,
    /// Archive (`true`) or unarchive (`false`) the room.
    #[serde(default)]
    pub archived: Option<bool>,
}

impl SettingsChange {
    /// The settings after applying this change to `settings`.
    pub fn apply(self, settings: RoomSettings) -> RoomSettings {
        RoomSettings {
            muted: self.muted.unwrap_or(settings.muted),
            archived: self.archived.unwrap_or(settings.archived),
        }
    }
}

/// A member's settings for a room after a change: what
/// [`Chat::set_room_settings`](crate::Chat::set_room_settings) returns and what the member's
/// own live connections receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSettings {
    /// The room.
    pub room_id: RoomId,
    /// The member's settings for it now.
    #[serde(flatten)]
    pub settings: RoomSettings,
}

/// One room of a user's room list, as [`Store::room_list`](crate::Store::room_list) reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomListEntry {
    /// The room.
    pub room: Room,
    /// The user's own membership.
    pub me: Member,
    /// Every member with their account, in join order.
    pub members: Vec<(Member, User)>,
    /// The newest message (the one at `room.last_seq`), if any.
    pub last_message: Option<Message>,
    /// Messages from others after `me.last_read_seq`, deleted ones excluded.
    pub unread: u64,
}

/// What [`Store::remove_member`](crate::Store::remove_member) did when the user was a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    /// The member who became admin because the removed one was the room's last admin.
    pub promoted: Option<UserId>,
}

/// Who sent a message, as shown next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sender {
    /// The sender's id.
    pub id: UserId,
    /// The sender's current display name.
    pub display_name: String,
}

/// Media attached to a message, as shown next to it: enough to lay out its bubble before any
/// byte is fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaRef {
    /// The media id (fetch the bytes with it).
    pub id: MediaId,
    /// The MIME type of the stored bytes.
    pub mime: String,
    /// Size of the stored bytes.
    pub size: u64,
    /// Image width in pixels, after orientation was applied; `None` for audio.
    pub width: Option<u32>,
    /// Image height in pixels, after orientation was applied; `None` for audio.
    pub height: Option<u32>,
    /// Playing time of audio in milliseconds, when its container says; `None` for images.
    pub duration_ms: Option<u64>,
    /// Whether a small preview exists (images: at most 320 px on the long side).
    pub thumbnail: bool,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Unique id.
    pub id: MessageId,
    /// The room it belongs to.
    pub room_id: RoomId,
    /// Its position in the room: 1, 2, 3, …
    pub seq: Seq,
    /// Who sent it.
    pub sender: Sender,
    /// Plain text (never HTML). Empty for deleted messages.
    pub body: String,
    /// The members the text names (`@username`), as spans of `body`, in text order; resolved
    /// when it was sent or last edited. None once deleted.
    pub mentions: Vec<Mention>,
    /// Attached media, if any (none once deleted). Boxed: most messages carry none, and every
    /// event and frame holding a message stays small.
    pub media: Option<Box<MediaRef>>,
    /// The seq of the message this one replies to, in the same room.
    pub reply_to: Option<Seq>,
    /// The host-defined kind and its payload, for a message of a custom kind (none for text
    /// and media messages, and none once deleted). On the wire its two fields sit next to the
    /// others (`"kind"`, `"payload"`), absent for built-in messages. Boxed like `media`.
    #[serde(flatten)]
    pub custom: Option<Box<Custom>>,
    /// The sender's idempotency key.
    pub client_id: String,
    /// When it was stored.
    pub created_at: Timestamp,
    /// When it was last edited.
    pub edited_at: Option<Timestamp>,
    /// A deleted message stays as a tombstone so seqs stay gapless.
    pub deleted: bool,
    /// Members' emoji reactions, one entry per emoji in the order each was first used; a
    /// deleted message has none.
    pub reactions: Vec<Reaction>,
}

/// A member named in a message's text: the `@username` at bytes `start..end` of the body
/// (UTF-8 offsets, on character boundaries, `start` at the `@`) is `user_id`. Never markup:
/// clients build the highlight from the span, over text they insert as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// Where the `@` is.
    pub start: u32,
    /// Just after the username's last byte.
    pub end: u32,
    /// The member named.
    pub user_id: UserId,
}

/// The reactions of one emoji on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The emoji, e.g. `👍` (see [`sanitize::emoji`](crate::sanitize::emoji)).
    pub emoji: String,
    /// Who reacted with it, earliest first; each user once.
    pub users: Vec<UserId>,
}

impl Reaction {
    /// Groups single reactions, given in the order they were made, into one entry per emoji
    /// in the order each emoji was first used (what stores return as [`Message::reactions`]).
    pub fn group(made: impl IntoIterator<Item = (String, UserId)>) -> Vec<Reaction> {
        let mut grouped: Vec<Reaction> = Vec::new();
        for (emoji, user) in made {
            match grouped.iter_mut().find(|r| r.emoji == emoji) {
                Some(r) => r.users.push(user),
                None => grouped.push(Reaction {
                    emoji,
                    users: vec![user],
                }),
            }
        }
        grouped
    }
}

/// A message's reactions after a change: what `react`/`unreact` return and what live members
/// receive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageReactions {
    /// The message's room.
    pub room_id: RoomId,
    /// The message's seq.
    pub seq: Seq,
    /// All its reactions now, as in [`Message::reactions`].
    pub reactions: Vec<Reaction>,
}

/// The content of a message of a custom kind: a kind the host registered (see
/// [`ChatBuilder::message_kind`](crate::ChatBuilder::message_kind)) and a JSON payload its
/// validator accepted. Stores keep both as they are (the payload as JSON text); clients that
/// do not know the kind show a placeholder, and never render the payload as markup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Custom {
    /// The kind: 1–32 of `a-z 0-9 _ . -`, starting with a letter (see
    /// [`kinds::check_name`](crate::kinds::check_name)).
    pub kind: String,
    /// The payload: any JSON value (`null` when the sender gave none), at most
    /// [`kinds::MAX_PAYLOAD_BYTES`](crate::kinds::MAX_PAYLOAD_BYTES) as JSON text.
    pub payload: serde_json::Value,
}

/// What a store needs to append a message.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Target room.
    pub room_id: RoomId,
    /// Sender; the store refuses the message unless they are a member of the room.
    pub sender_id: UserId,
    /// Sanitized body.
    pub body: String,
    /// The members `body` names (already resolved against the room's members), in text order.
    pub mentions: Vec<Mention>,
    /// Attached media (already checked to belong to the room).
    pub media_id: Option<MediaId>,
    /// Seq of the quoted message (already checked to exist).
    pub reply_to: Option<Seq>,
    /// The custom kind and its payload (already checked by the host's validator), if any.
    pub custom: Option<Custom>,
    /// Idempotency key, unique per (room, sender).
    pub client_id: String,
    /// Send time.
    pub created_at: Timestamp,
}

/// Metadata of an uploaded file. The bytes live in a [`MediaStore`](crate::MediaStore) under
/// `key`, the thumbnail (if any) under [`thumbnail_key`](crate::media::thumbnail_key)`(key)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Media {
    /// The media id.
    pub id: MediaId,
    /// The room it was uploaded to.
    pub room_id: RoomId,
    /// Who uploaded it.
    pub uploader_id: UserId,
    /// The MIME type of the stored bytes.
    pub mime: String,
    /// Size of the stored bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the stored bytes (an HTTP entity tag, for instance).
    pub sha256: String,
    /// Where the bytes are in the media store.
    #[serde(skip)]
    pub key: String,
    /// What was learned from the bytes: dimensions, duration, thumbnail.
    #[serde(flatten)]
    pub details: MediaDetails,
    /// Upload time.
    pub created_at: Timestamp,
}

/// What decoding an upload taught: shown with the message so clients can lay it out early.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MediaDetails {
    /// Image width in pixels (after orientation).
    pub width: Option<u32>,
    /// Image height in pixels (after orientation).
    pub height: Option<u32>,
    /// Audio playing time in milliseconds.
    pub duration_ms: Option<u64>,
    /// The MIME type of the thumbnail, when one was made.
    pub thumbnail_mime: Option<String>,
}

/// What a store needs to record an upload.
#[derive(Debug, Clone)]
pub struct NewMedia {
    /// The new, random id ([`MediaId::generate`]).
    pub id: MediaId,
    /// The room it belongs to.
    pub room_id: RoomId,
    /// The uploader.
    pub uploader_id: UserId,
    /// The MIME type of the stored bytes.
    pub mime: String,
    /// Size of the stored bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the stored bytes.
    pub sha256: String,
    /// Where the bytes are in the media store.
    pub key: String,
    /// Dimensions, duration, thumbnail.
    pub details: MediaDetails,
    /// Upload time.
    pub created_at: Timestamp,
}

/// How many bytes one user may upload within a window: [`Store::create_media`](crate::Store::create_media)
/// refuses an upload that would take the uploader's uploads since `since` past `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadQuota {
    /// Start of the window; uploads created at or after it count.
    pub since: Timestamp,
    /// The most bytes the window may hold, this upload included.
    pub limit: u64,
}

impl From<&Media> for MediaRef {
    fn from(m: &Media) -> Self {
        MediaRef {
            id: m.id,
            mime: m.mime.clone(),
            size: m.size,
            width: m.details.width,
            height: m.details.height,
            duration_ms: m.details.duration_ms,
            thumbnail: m.details.thumbnail_mime.is_some(),
        }
    }
}

//! The one error type every `chatcore` operation returns.

use std::time::Duration;

/// Why a chat operation failed.
///
/// Every variant maps to a stable, machine-readable [`Error::code`] that transports put on the
/// wire; the `Display` text is the human message. A failed operation changes nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input broke a rule; `field` names the offending input, `reason` says which rule.
    #[error("{field}: {reason}")]
    Invalid {
        /// The request field that was rejected, e.g. `"username"`.
        field: &'static str,
        /// What is wrong with it, in words a user can act on.
        reason: String,
    },
    /// No valid session or identity was presented, or the credentials were wrong.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The actor is known but may not do this (e.g. a non-admin removing a member).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The thing does not exist, or the actor may not know that it exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with existing state (e.g. a username that is taken).
    #[error("{reason}")]
    Conflict {
        /// The request field that conflicts, e.g. `"username"`.
        field: &'static str,
        /// What conflicts.
        reason: &'static str,
    },
    /// Too many attempts; retry after the given delay.
    #[error("too many attempts, retry in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long the caller should wait before trying again.
        retry_after: Duration,
    },
    /// The server is at capacity for this kind of work (e.g. every password-hashing slot is
    /// taken and the queue is full); retry after the given delay. Nothing was done.
    #[error("the server is busy, retry in {} s", retry_after.as_secs().max(1))]
    Busy {
        /// How long the caller should wait before trying again.
        retry_after: Duration,
    },
    /// The host's [`Policy`](crate::policy::Policy) refused the message; the text is its
    /// reason, written for the user.
    #[error("{0}")]
    Rejected(String),
    /// The message names a custom kind this chat does not accept: the host never registered
    /// it (see [`ChatBuilder::message_kind`](crate::ChatBuilder::message_kind)). Nothing was
    /// stored.
    #[error("unknown message kind {0:?}")]
    UnknownKind(String),
    /// The chat is shutting down (or otherwise not taking this kind of work); nothing was done.
    /// Retry later, or against another node.
    #[error("{0}")]
    Unavailable(&'static str),
    /// The payload is larger than the configured limit.
    #[error("{what} is larger than {limit} bytes")]
    TooLarge {
        /// What was too large, e.g. `"upload"`.
        what: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// Uploaded bytes are not one of the allowed media types.
    #[error(
        "unsupported media type: only PNG, JPEG, GIF, WebP images and WebM, Ogg, MP3, M4A, WAV audio are accepted"
    )]
    UnsupportedMedia,
    /// An image's header declares more pixels than the configured limit; it was not decoded.
    #[error("the image has more than {limit} pixels")]
    TooManyPixels {
        /// The limit in pixels (width × height).
        limit: u64,
    },
    /// Audio plays longer than the configured limit (measured from its packets).
    #[error("the audio plays longer than {limit_secs} s")]
    TooLong {
        /// The limit in seconds.
        limit_secs: u64,
    },
    /// The uploader's media quota for the day is used up; retry tomorrow or upload less.
    #[error("the daily upload quota of {limit} bytes is used up")]
    QuotaExceeded {
        /// The quota in bytes per day.
        limit: u64,
    },
    /// The draft assistant is down, slow or answered nonsense; the request may be retried
    /// later. The reason never contains the draft.
    #[error("the assistant is unavailable: {0}")]
    AssistantUnavailable(String),
    /// The storage backend failed; the operation may be retried.
    #[error("storage unavailable")]
    Storage(#[source] StoreError),
    /// A bug or an exhausted resource inside chatcore (e.g. a hashing task died).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable snake_case code for this error, e.g. `"forbidden"`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { .. } => "invalid",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::Conflict { .. } => "conflict",
            Error::RateLimited { .. } => "rate_limited",
            Error::Busy { .. } => "busy",
            Error::Unavailable(_) => "unavailable",
            Error::Rejected(_) => "rejected",
            Error::UnknownKind(_) => "unknown_kind",
            Error::TooLarge { .. } => "too_large",
            Error::UnsupportedMedia => "unsupported_media",
            Error::TooManyPixels { .. } => "too_many_pixels",
            Error::TooLong { .. } => "too_long",
            Error::QuotaExceeded { .. } => "quota_exceeded",
            Error::AssistantUnavailable(_) => "assistant_unavailable",
            Error::Storage(_) => "storage",
            Error::Internal(_) => "internal",
        }
    }

    /// The request field this error is about, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Invalid { field, .. } | Error::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }

    /// How long to wait before retrying, for `RateLimited` and `Busy`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after } | Error::Busy { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// A failure reported by a [`Store`](crate::Store) or [`MediaStore`](crate::MediaStore).
///
/// Match on the variants and their [`Entity`] or [`Unique`], never on the message text. Every
/// refusal leaves the store unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness rule was violated (e.g. the username or the direct room already exists).
    #[error("{0} is already taken")]
    Duplicate(Unique),
    /// The row the operation needs does not exist.
    #[error("{0} does not exist")]
    Missing(Entity),
    /// The room already has as many members as the caller allows.
    #[error("the room is full")]
    RoomFull,
    /// The upload would take its uploader past the quota the caller gave.
    #[error("the upload quota is used up")]
    QuotaExceeded,
    /// The change would leave the room without an admin.
    #[error("a room needs at least one admin")]
    LastAdmin,
    /// The user is not a guest (any more), so there is nothing to upgrade.
    #[error("the user is not a guest")]
    NotAGuest,
    /// The message already carries as many different emojis as the caller allows.
    #[error("the message has too many different reactions")]
    TooManyReactions,
    /// The room already has as many usable invite links as the caller allows.
    #[error("the room has too many invite links")]
    TooManyInvites,
    /// The backend itself failed (connection lost, disk full, …); the source says how.
    #[error("storage backend error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The kind of row a [`StoreError::Missing`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    /// A user account.
    User,
    /// A login session.
    Session,
    /// A room.
    Room,
    /// A user's membership in a room.
    Member,
    /// A message at a seq.
    Message,
    /// Uploaded media (metadata or bytes).
    Media,
    /// An invite link (also one that has expired or is used up, where a store says so).
    Invite,
}

/// The uniqueness rule a [`StoreError::Duplicate`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unique {
    /// Usernames are unique (case-insensitively; stores receive them lowercase).
    Username,
    /// A host application's id names one user.
    ExternalId,
    /// A session token hash is stored once.
    Session,
    /// One direct room per pair of users.
    DirectRoom,
    /// A user is a member of a room once.
    Member,
    /// A media id names one upload.
    Media,
    /// An invite token hash names one invite.
    Invite,
}

impl Entity {
    /// The entity's name in messages and logs, e.g. `"room"`.
    pub fn name(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Session => "session",
            Entity::Room => "room",
            Entity::Member => "member",
            Entity::Message => "message",
            Entity::Media => "media",
            Entity::Invite => "invite",
        }
    }
}

impl Unique {
    /// What is unique, in messages and logs, e.g. `"username"`.
    pub fn name(self) -> &'static str {
        match self {
            Unique::Username => "username",
            Unique::ExternalId => "external id",
            Unique::Session => "session",
            Unique::DirectRoom => "direct room",
            Unique::Member => "membership",
            Unique::Media => "media id",
            Unique::Invite => "invite token",
        }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for Unique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl StoreError {
    /// Wraps any backend error.
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(err))
    }

    /// A backend that broke its own contract (e.g. answered a batch with too few results): a
    /// bug, reported as a backend failure so the caller may retry.
    pub fn broken(what: &'static str) -> Self {
        StoreError::backend(std::io::Error::other(what))
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        Error::Storage(err)
    }
}

/// Shorthand for results of chat operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

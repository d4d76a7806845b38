//! The host's hooks into the rules: a [`Policy`] that [`Chat`](crate::Chat) consults.
//!
//! chatcore's own rules (membership, roles, sanitizing, limits) always apply first; a policy
//! can only narrow what they allow, and rewrite text within the same limits. It is the place
//! for what differs between hosts: moderation and spam filters (`before_send`), who may start
//! a conversation with whom (`can_open_direct`), and who may find whom (`visible_users`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> chatcore::Result<()> {
//! use std::sync::Arc;
//! use chatcore::policy::{Draft, Policy, Verdict};
//! use chatcore::{Chat, MemoryMediaStore, MemoryStore};
//!
//! /// Refuses messages that shout, and hides nobody.
//! struct NoShouting;
//!
//! #[chatcore::async_trait]
//! impl Policy for NoShouting {
//!     async fn before_send(&self, draft: &Draft<'_>) -> Verdict {
//!         let letters: Vec<char> = draft.body.chars().filter(|c| c.is_alphabetic()).collect();
//!         if letters.len() > 3 && letters.iter().all(|c| c.is_uppercase()) {
//!             Verdict::Reject("please don't shout".into())
//!         } else {
//!             Verdict::Allow
//!         }
//!     }
//! }
//!
//! let chat = Chat::builder(Arc::new(MemoryStore::new()), Arc::new(MemoryMediaStore::new()))
//!     .policy(Arc::new(NoShouting))
//!     .start(&tokio::runtime::Handle::current())?;
//! # chat.shutdown().await;
//! # Ok(()) }
//! ```

use async_trait::async_trait;

use crate::model::{Custom, MediaId, RoomId, Seq, User};

/// A message about to be stored, as the policy sees it: after chatcore's checks (the sender
/// is a member, the text is sanitized and within limits), before anything is written.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Draft<'a> {
    /// Who sends it.
    pub sender: &'a User,
    /// The room it goes to.
    pub room_id: RoomId,
    /// The sanitized text (a caption next to media or a custom kind; may then be empty).
    pub body: &'a str,
    /// Attached media, if any.
    pub media_id: Option<MediaId>,
    /// The message it quotes, if any.
    pub reply_to: Option<Seq>,
    /// The custom kind and its payload, already accepted by the kind's validator, if any.
    pub custom: Option<&'a Custom>,
    /// `Some(seq)` when this is an edit of the message at `seq`, `None` for a new message.
    pub editing: Option<Seq>,
}

/// What a policy decides about a [`Draft`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Store it as it is.
    Allow,
    /// Store nothing; the sender gets [`Error::Rejected`](crate::Error::Rejected) with this
    /// reason (code `rejected`), which clients show as it is, so write it for the user.
    Reject(String),
    /// Store this text instead. It is sanitized and limit-checked like any other text; text
    /// that fails those checks is refused as if the sender had written it.
    Rewrite(String),
}

/// The host's say in what users may do, consulted by [`Chat`](crate::Chat) on top of its own
/// rules. Every method has a default that allows everything, so a policy implements only what
/// it cares about. Methods are async so they may look things up; they run inside the request
/// that triggered them, so keep them quick (a slow policy is a slow chat).
#[async_trait]
pub trait Policy: Send + Sync + 'static {
    /// Called for every new message and every edit, after chatcore's checks and before the
    /// store: allow it, reject it with a reason, or rewrite its text. A retried send (same
    /// `client_id`) is checked again, like the first.
    async fn before_send(&self, draft: &Draft<'_>) -> Verdict {
        let _ = draft;
        Verdict::Allow
    }

    /// Whether `actor` may open a direct chat with `other` (both enabled users, not the same).
    /// Refused: `actor` gets `not_found` for `other`, as if the user were not there. An
    /// existing direct room stays usable.
    async fn can_open_direct(&self, actor: &User, other: &User) -> bool {
        let _ = (actor, other);
        true
    }

    /// Which of `found` (the matches of a user search by `actor`, at most the search's limit)
    /// `actor` may see; return them in the order given. Users left out are not found.
    async fn visible_users(&self, actor: &User, found: Vec<User>) -> Vec<User> {
        let _ = actor;
        found
    }
}

/// The policy of a chat built without one: chatcore's own rules and nothing more.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Policy for AllowAll {}

//! # chatcore
//!
//! The domain and rules of an embeddable, secure, real-time chat: users, sessions, direct and
//! group rooms, membership and roles, messages with gapless per-room sequence numbers, media,
//! sanitizing, password hashing, access control, and the in-process delivery hub.
//!
//! Everything goes through one façade, [`Chat`], built from a [`Store`] (rows), a [`MediaStore`]
//! (bytes) and a [`ChatConfig`]. In-memory implementations of both stores live here, for tests
//! and embedding; `chatcore-sqlite` and `chatcore-mysql` provide durable ones.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> chatcore::Result<()> {
//! use chatcore::{Chat, SendMessage};
//!
//! let chat = Chat::in_memory();
//! let (alice, _token) = chat.register("alice", "correct horse battery", None).await?;
//! let (bob, _) = chat.guest(Some("Bob")).await?;
//! let room = chat.open_direct(&alice, bob.id()).await?;
//! let (mut feed, _rooms) = chat.connect(&bob).await?;
//! chat.send(&alice, SendMessage { room_id: room.id, body: "hi Bob".into(), ..Default::default() }).await?;
//! # let _ = feed.recv().await;
//! # Ok(()) }
//! ```
//!
//! This crate never touches SQL, HTTP or sockets: storage and transport crates plug in around it.

pub mod assistant;
pub mod broker;
mod chat;
pub mod commits;
mod error;
mod group_commit;
mod hub;
pub mod kinds;
pub mod media;
mod memory;
mod model;
pub mod password;
pub mod policy;
pub mod sanitize;
pub mod search;
mod store;
pub mod throttle;
mod token;

#[cfg(feature = "testing")]
pub mod testing;

pub use assistant::{Assistant, AssistantError, Suggestion, SuggestionKind};
/// Re-exported so hosts implement [`Store`] and [`policy::Policy`] with the same macro.
pub use async_trait::async_trait;
pub use broker::{Broker, Inbox};
pub use chat::direct_key;
pub use chat::{
    ASSIST_CONTEXT_MESSAGES, Actor, AssistDraft, Assistance, Chat, ChatBuilder, ChatConfig, Clock,
    Discovery, HistoryPage, HistoryWindow, ManualClock, MediaVariant, MemberView, PublicUser,
    RoomView, SendMessage, SystemClock, UnknownDiscovery, UserView,
};
pub use chat::{
    CreatedInvite, DEFAULT_INVITE_LIFETIME, INVITE_LIFETIMES, InviteOptions, InvitePreview,
    InviteState, InviteView, MAX_INVITE_USES,
};
pub use error::{Entity, Error, Result, StoreError, Unique};
pub use group_commit::{AppendResult, GroupCommit, append_or_retry_each};
pub use hub::{CloseReason, Event, EventKind, RoomChange, Subscription};
pub use media::{FsMediaStore, MemoryMediaStore};
pub use memory::MemoryStore;
pub use model::*;
pub use search::{SearchHit, SearchPage, TextRange};
pub use store::{Among, MediaFile, MediaRead, MediaStore, Store, StoreResult, room_list_entry};
pub use token::SessionToken;

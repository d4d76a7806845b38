//! [`World`]: a started chat on the in-memory backends with a hand-driven clock, and the few
//! steps almost every scenario test begins with.

use std::sync::Arc;

use crate::chat::{Actor, Chat, ChatConfig, ManualClock, SendMessage};
use crate::error::Result;
use crate::kinds::Validator;
use crate::media::MemoryMediaStore;
use crate::memory::MemoryStore;
use crate::model::{Message, RoomId, Timestamp, UserId};
use crate::policy::Policy;
use crate::store::Store;

use super::FaultyStore;

/// The password [`World::user`] registers everyone with.
pub const PASSWORD: &str = "correct horse battery";

/// A chat to write a scenario against: started on the current runtime over a [`MemoryStore`]
/// (which the test may read directly, past every rule) with a [`ManualClock`] (which only
/// moves when the test advances it).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use chatcore::Store;
/// use chatcore::testing::World;
///
/// let w = World::new();
/// let ann = w.user("ann").await;
/// let bob = w.guest().await;
/// let room = w.group(&ann, &[&bob]).await;
/// w.send(&bob, room, "hello").await.unwrap();
/// assert_eq!(w.store.messages_after(room, 0, 10).await.unwrap().len(), 1);
/// # }
/// ```
pub struct World {
    /// The started chat.
    pub chat: Chat,
    /// Its rows, readable without going through the chat's rules.
    pub store: Arc<MemoryStore>,
    /// Its media bytes, readable (and countable) without going through the chat's rules.
    pub media: Arc<MemoryMediaStore>,
    /// Its clock.
    pub clock: Arc<ManualClock>,
    /// The fault injector between the chat and [`World::store`], when built with
    /// [`WorldBuilder::faulty`].
    pub faults: Option<Arc<FaultyStore>>,
}

/// Configures a [`World`] before it starts.
#[must_use = "a builder does nothing until start() is called"]
pub struct WorldBuilder {
    config: ChatConfig,
    policy: Option<Arc<dyn Policy>>,
    kinds: Vec<(String, Arc<Validator>)>,
    fault_seed: Option<u64>,
}

impl World {
    /// A world with the default [`ChatConfig`].
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn new() -> Self {
        Self::builder().start()
    }

    /// A world to configure first.
    pub fn builder() -> WorldBuilder {
        WorldBuilder {
            config: ChatConfig::default(),
            policy: None,
            kinds: Vec::new(),
            fault_seed: None,
        }
    }

    /// Registers a user named `name` with [`PASSWORD`].
    ///
    /// # Panics
    /// When the chat refuses (a taken or invalid name).
    pub async fn user(&self, name: &str) -> Actor {
        #[allow(clippy::expect_used)]
        self.chat
            .register(name, PASSWORD, None)
            .await
            .expect("register")
            .0
    }

    /// A new guest.
    ///
    /// # Panics
    /// When the chat refuses.
    pub async fn guest(&self) -> Actor {
        #[allow(clippy::expect_used)]
        self.chat.guest(None).await.expect("guest").0
    }

    /// A group named "Team" that `admin` creates with `members`.
    ///
    /// # Panics
    /// When the chat refuses.
    pub async fn group(&self, admin: &Actor, members: &[&Actor]) -> RoomId {
        let ids: Vec<UserId> = members.iter().map(|a| a.id()).collect();
        #[allow(clippy::expect_used)]
        self.chat
            .create_group(admin, "Team", &ids)
            .await
            .expect("create group")
            .id
    }

    /// `actor` sends `body` to `room`.
    pub async fn send(&self, actor: &Actor, room: RoomId, body: &str) -> Result<Message> {
        self.chat
            .send(
                actor,
                SendMessage {
                    room_id: room,
                    body: body.into(),
                    ..Default::default()
                },
            )
            .await
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl WorldBuilder {
    /// The chat's config.
    pub fn config(mut self, config: ChatConfig) -> Self {
        self.config = config;
        self
    }

    /// The host policy the chat consults.
    pub fn policy(mut self, policy: Arc<dyn Policy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// A custom message kind the chat accepts, as
    /// [`ChatBuilder::message_kind`](crate::ChatBuilder::message_kind) registers it.
    pub fn message_kind(
        mut self,
        kind: &str,
        validate: impl Fn(&serde_json::Value) -> std::result::Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.kinds.push((kind.to_owned(), Arc::new(validate)));
        self
    }

    /// Puts a [`FaultyStore`] (seeded with `seed`, failing nothing until told to) between the
    /// chat and its store; it is [`World::faults`].
    pub fn faulty(mut self, seed: u64) -> Self {
        self.fault_seed = Some(seed);
        self
    }

    /// Starts the chat on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime, with an invalid `password_cost` or a bad kind name.
    pub fn start(self) -> World {
        let store = Arc::new(MemoryStore::new());
        let faults = self
            .fault_seed
            .map(|seed| Arc::new(FaultyStore::new(store.clone(), seed)));
        let chat_store: Arc<dyn Store> = match &faults {
            Some(faults) => faults.clone(),
            None => store.clone(),
        };
        let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
        let media = Arc::new(MemoryMediaStore::new());
        let mut chat = Chat::builder(chat_store, media.clone())
            .config(self.config)
            .clock(clock.clone());
        if let Some(policy) = self.policy {
            chat = chat.policy(policy);
        }
        for (kind, validate) in self.kinds {
            chat = chat.message_kind(kind, move |payload| validate(payload));
        }
        #[allow(clippy::expect_used)]
        let chat = chat
            .start(&tokio::runtime::Handle::current())
            .expect("invalid password cost or kind name");
        World {
            chat,
            store,
            media,
            clock,
            faults,
        }
    }
}

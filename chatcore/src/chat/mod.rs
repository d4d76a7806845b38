//! [`Chat`]: the one façade through which every chat operation goes.
//!
//! Each operation takes the acting user ([`Actor`]) and enforces the rules itself: membership,
//! roles, sanitizing, limits. Transports (WebSocket, HTTP) parse requests, call these methods,
//! and map [`Error`](crate::Error)s to their wire format; they never decide who may do what.

mod accounts;
mod admin;
mod assist;
mod builder;
mod discovery;
mod invites;
mod lifecycle;
mod media;
mod mentions;
mod messages;
mod profile;
mod reactions;
mod rooms;
mod search;
pub use rooms::direct_key;
mod sessions;
mod settings;
mod views;
mod window;

pub use assist::{ASSIST_CONTEXT_MESSAGES, AssistDraft, Assistance};
pub use builder::ChatBuilder;
pub use discovery::{Discovery, UnknownDiscovery};
pub use invites::{
    CreatedInvite, DEFAULT_INVITE_LIFETIME, INVITE_LIFETIMES, InviteOptions, InvitePreview,
    InviteState, InviteView, MAX_INVITE_USES,
};
pub use media::MediaVariant;
pub use messages::{HistoryPage, SendMessage};
pub use views::{MemberView, PublicUser, RoomView, UserView};
pub use window::HistoryWindow;

use std::sync::Arc;
use std::time::Duration;

use crate::assistant::Assistant;
use crate::error::{Error, Result};
use crate::hub::Hub;
use crate::model::{Member, RoomId, Timestamp, User, UserId};
use crate::password::{HashCost, PasswordHasher};
use crate::store::{MediaStore, Store};
use crate::throttle::{Budget, BudgetKey, Rate, SharedAttempts, SharedBudgets, Throttle};

use lifecycle::Lifecycle;

/// Tunable policy of a chat. `ChatConfig::default()` is safe for production.
///
/// Start from the default and change the fields you need (new fields may be added, so the
/// struct cannot be built with a literal outside this crate):
///
/// ```
/// use std::time::Duration;
/// use chatcore::ChatConfig;
///
/// let mut config = ChatConfig::default();
/// config.guests_can_create_groups = true;
/// config.max_group_members = 256;
/// config.session_expiry_interval = Some(Duration::from_secs(600));
/// config.guest_expiry_interval = None; // the host expires guests itself
/// assert_eq!(config.max_upload_bytes, 10 * 1024 * 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ChatConfig {
    /// A session unused for this long stops working (default 14 days).
    pub session_idle_timeout: Duration,
    /// A session stops working this long after login, used or not (default 90 days).
    pub session_lifetime: Duration,
    /// A guest inactive for this long is expired by [`Chat::expire_inactive_guests`] (30 days).
    pub guest_ttl: Duration,
    /// Whether guests may create groups (default false).
    pub guests_can_create_groups: bool,
    /// Who may find and contact whom: user search, direct chats, group adds (default
    /// [`Discovery::Everyone`], for hosts whose users all come from their own accounts; a
    /// public server that admits guests wants [`Discovery::Registered`]).
    pub discovery: Discovery,
    /// Largest accepted upload in bytes (default 10 MiB).
    pub max_upload_bytes: usize,
    /// Images whose header declares more pixels than this are refused before decoding
    /// (default 40 megapixels).
    pub max_image_pixels: u64,
    /// Audio that plays longer than this is refused (default 30 minutes).
    pub max_audio_duration: Duration,
    /// Bytes one user may upload per day, counting uploads that still exist (default 1 GiB).
    pub upload_quota_per_day: u64,
    /// The same for guests (default 100 MiB).
    pub guest_upload_quota_per_day: u64,
    /// An upload no message carries is deleted after this long (default 24 hours).
    pub unattached_media_grace: Duration,
    /// How often a started chat runs [`Chat::sweep_unattached_media`] in the background
    /// (default every 10 minutes); `None` leaves it to the host.
    pub media_sweep_interval: Option<Duration>,
    /// Most members a group may have (default 1,024).
    pub max_group_members: usize,
    /// Events a live connection may have queued before it is dropped as lagged (default 1,024).
    /// Sends are appended and published in batches of at most half of this (and at most 256),
    /// so that one batch always fits a connection that keeps reading.
    pub subscriber_queue: usize,
    /// Argon2id cost (default: OWASP's m=19 MiB, t=2, p=1).
    pub password_cost: HashCost,
    /// Password hashes computed at once; more wait (default: the number of CPUs).
    pub max_concurrent_hashes: usize,
    /// Password hashes that may wait for a turn; one more is refused at once with
    /// [`Error::Busy`](crate::Error::Busy) (default 64).
    pub max_queued_hashes: usize,
    /// Failed logins allowed per username within `login_failure_window` (default 5).
    pub login_failures_per_username: usize,
    /// The window failed logins are counted in (default 15 minutes).
    pub login_failure_window: Duration,
    /// How fast one user may send messages, over REST and WebSocket together (default 20 per
    /// second in bursts of 40; a sender over it waits up to 2 s for its turn, then is refused
    /// with `RateLimited`). Edits and deletes reach every member like a message, so they spend
    /// the same budget.
    pub send_rate: Rate,
    /// How many typing notices one user may send, over REST and WebSocket together (default 1
    /// per second in bursts of 5, refused at once beyond that). Its own budget, so a typist
    /// never spends what their messages need.
    pub typing_rate: Rate,
    /// How many groups one user may create (default 20 per hour).
    pub group_rate: Rate,
    /// How many members one user may add to groups, at creation or later (default 1,024 per
    /// hour, so one full group can be created at once).
    pub member_add_rate: Rate,
    /// How many message searches one user may run (default 60 per minute, all at once, refused
    /// beyond that): each is a full-text query over every room the user is in.
    pub search_rate: Rate,
    /// Most different emojis one message may carry as reactions (default 20); each member
    /// reacts with each emoji at most once.
    pub max_reaction_emojis: usize,
    /// Most usable invite links one group may have at once (default 100); expired and used-up
    /// links are cleared when the next one is created.
    pub max_invites_per_room: usize,
    /// Invite links one user may present in vain (unknown, expired, used up, revoked) within
    /// `invite_failure_window` before further joins are refused with `RateLimited` unchecked
    /// (default 10), so tokens cannot be guessed.
    pub invite_failures_per_user: usize,
    /// The window failed invite joins are counted in (default 15 minutes).
    pub invite_failure_window: Duration,
    /// Where the per-user budgets above are kept (default: in this process).
    pub budgets: SharedBudgets,
    /// Where the login and assistant throttles keep their attempts: `None` (the default) in
    /// this process, or a store every node of the chat shares.
    pub attempts: Option<SharedAttempts>,
    /// How often a started chat runs [`Chat::expire_inactive_guests`] in the background
    /// (default every hour); `None` leaves it to the host.
    pub guest_expiry_interval: Option<Duration>,
    /// How often a started chat runs [`Chat::expire_sessions`] in the background (default
    /// every hour); `None` leaves it to the host.
    pub session_expiry_interval: Option<Duration>,
    /// Draft-assistant requests one user may make per minute (default 60, enough for
    /// check-as-you-type with a pause-triggered check).
    pub assist_per_minute: usize,
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            session_idle_timeout: Duration::from_secs(14 * 24 * 3600),
            session_lifetime: Duration::from_secs(90 * 24 * 3600),
            guest_ttl: Duration::from_secs(30 * 24 * 3600),
            guests_can_create_groups: false,
            discovery: Discovery::Everyone,
            max_upload_bytes: 10 * 1024 * 1024,
            max_image_pixels: 40_000_000,
            max_audio_duration: Duration::from_secs(30 * 60),
            upload_quota_per_day: 1024 * 1024 * 1024,
            guest_upload_quota_per_day: 100 * 1024 * 1024,
            unattached_media_grace: Duration::from_secs(24 * 3600),
            media_sweep_interval: Some(Duration::from_secs(600)),
            max_group_members: 1024,
            subscriber_queue: 1024,
            password_cost: HashCost::default(),
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_queued_hashes: 64,
            login_failures_per_username: 5,
            login_failure_window: Duration::from_secs(15 * 60),
            send_rate: Rate::per_second(20.0, 40, Duration::from_secs(2)),
            typing_rate: Rate::per_second(1.0, 5, Duration::ZERO),
            group_rate: Rate::per_hour(20),
            member_add_rate: Rate::per_hour(1024),
            search_rate: Rate::per_minute(60),
            max_reaction_emojis: 20,
            max_invites_per_room: 100,
            invite_failures_per_user: 10,
            invite_failure_window: Duration::from_secs(15 * 60),
            budgets: SharedBudgets::default(),
            attempts: None,
            guest_expiry_interval: Some(Duration::from_secs(3600)),
            session_expiry_interval: Some(Duration::from_secs(3600)),
            assist_per_minute: 60,
        }
    }
}

/// Where "now" comes from. Tests use [`ManualClock`] to move time without sleeping.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock(std::sync::atomic::AtomicI64::new(start.0))
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.0
            .fetch_add(d.as_millis() as i64, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// The acting user of an operation, obtained only from `Chat` (by session token, login,
/// registration, guest entry or a host-app identity), so holding one proves authentication.
#[derive(Debug, Clone)]
pub struct Actor {
    user: User,
    session: Option<ActorSession>,
}

/// The session an actor authenticated with, as of that moment.
#[derive(Debug, Clone)]
struct ActorSession {
    hash: [u8; 32],
    /// When it stops working unless it is used first.
    expires_at: Timestamp,
}

impl Actor {
    /// The authenticated user (as of authentication).
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The user's id.
    pub fn id(&self) -> UserId {
        self.user.id
    }

    /// The hash of the session this actor authenticated with, if any.
    pub fn session_hash(&self) -> Option<&[u8; 32]> {
        self.session.as_ref().map(|s| &s.hash)
    }
}

/// An embeddable chat: storage, media bytes and live delivery behind one façade.
///
/// Build and start one with [`Chat::builder`], stop it with [`Chat::shutdown`]. Cloning is
/// shallow (an `Arc`), so hand a clone to every task and connection.
#[derive(Clone)]
pub struct Chat {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    media: Arc<dyn MediaStore>,
    hub: Hub,
    hasher: PasswordHasher,
    clock: Arc<dyn Clock>,
    login_failures: Throttle<String>,
    /// Invite links presented in vain, per user.
    invite_failures: Throttle<UserId>,
    assistant: Option<Arc<dyn Assistant>>,
    assist_budget: Throttle<UserId>,
    config: ChatConfig,
    /// The host's policy; `None` skips the hooks (and the reads only they need).
    policy: Option<Arc<dyn crate::policy::Policy>>,
    /// The custom message kinds the host registered, with their validators.
    kinds: crate::kinds::Kinds,
    /// Images decoded at once (one per CPU), so decoding memory stays bounded: at most this
    /// many times [`MAX_DECODE_BYTES`](crate::media::reencode::MAX_DECODE_BYTES).
    image_slots: tokio::sync::Semaphore,
    /// The append pipeline (see [`Lifecycle::start`]).
    appends: lifecycle::Appends,
    /// The background tasks and the shutdown state.
    lifecycle: Lifecycle,
}

impl Chat {
    /// Starts building a chat over the given store and media store; see [`ChatBuilder`].
    pub fn builder(store: Arc<dyn Store>, media: Arc<dyn MediaStore>) -> ChatBuilder {
        ChatBuilder::new(store, media)
    }

    /// A started chat on the in-memory backends, for tests, examples and experiments; its
    /// background tasks run on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn in_memory() -> Self {
        Self::in_memory_with(ChatConfig::default())
    }

    /// Like [`Chat::in_memory`] with the given config.
    ///
    /// # Panics
    /// Outside a tokio runtime, or if `config.password_cost` is not a valid argon2 cost.
    pub fn in_memory_with(config: ChatConfig) -> Self {
        #[allow(clippy::expect_used)]
        Self::builder(
            Arc::new(crate::MemoryStore::new()),
            Arc::new(crate::MemoryMediaStore::new()),
        )
        .config(config)
        .start(&tokio::runtime::Handle::current())
        .expect("invalid password cost in ChatConfig")
    }

    /// The delivery hub: only the rules in this crate reach it; transports get
    /// [`Chat::connect`].
    pub(crate) fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    /// How many live connections `user` has (for per-user connection limits).
    pub fn connections_of(&self, user: UserId) -> usize {
        self.hub().connections_of(user)
    }

    /// Whether `user` has at least one live connection on this node.
    pub fn is_online(&self, user: UserId) -> bool {
        self.hub().is_online(user)
    }

    /// The policy this chat runs with.
    pub fn config(&self) -> &ChatConfig {
        &self.inner.config
    }

    /// How busy password hashing is right now (metrics, tests).
    pub fn password_hashing(&self) -> crate::password::HashingLoad {
        self.inner.hasher.load()
    }

    /// Succeeds when the store answers (health checks).
    pub async fn health(&self) -> Result<()> {
        Ok(self.inner.store.ping().await?)
    }

    fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// The store, for parts that outlive a call (the after-commit feeds).
    pub(crate) fn shared_store(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }

    fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The actor's membership in `room`. Not a member (or no such room): `NotFound`, so a
    /// non-member learns nothing about whether the room exists.
    async fn membership(&self, actor: &Actor, room: RoomId) -> Result<Member> {
        self.store()
            .member(room, actor.id())
            .await?
            .ok_or(Error::NotFound("room"))
    }

    /// Spends `cost` units of the actor's `budget` before the work they pay for: waits when
    /// the actor is paced, `RateLimited` (nothing spent) when over the rate.
    async fn spend(&self, actor: &Actor, budget: Budget, cost: u32) -> Result<()> {
        let key = BudgetKey {
            budget,
            user: actor.id(),
        };
        let rate = self.rate_of(budget);
        let wait = self
            .config()
            .budgets
            .get()
            .take(key, cost, rate, self.now())
            .await
            .map_err(|retry_after| Error::RateLimited { retry_after })?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// Gives back what [`Chat::spend`] took for work that was then refused.
    async fn refund(&self, actor: &Actor, budget: Budget, cost: u32) {
        let key = BudgetKey {
            budget,
            user: actor.id(),
        };
        let rate = self.rate_of(budget);
        let budgets = self.config().budgets.get();
        budgets.give_back(key, cost, rate, self.now()).await;
    }

    fn rate_of(&self, budget: Budget) -> Rate {
        let cfg = self.config();
        match budget {
            Budget::Sends => cfg.send_rate,
            Budget::Typing => cfg.typing_rate,
            Budget::Groups => cfg.group_rate,
            Budget::MemberAdds => cfg.member_add_rate,
            Budget::Searches => cfg.search_rate,
        }
    }

    /// An enabled user by id, or `NotFound`.
    async fn enabled_user(&self, id: UserId) -> Result<User> {
        match self.store().user(id).await? {
            Some(user) if !user.disabled => Ok(user),
            _ => Err(Error::NotFound("user")),
        }
    }
}

impl std::fmt::Debug for Chat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chat")
            .field("hub", &self.inner.hub)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;

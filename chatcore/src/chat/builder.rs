//! [`ChatBuilder`]: how a [`Chat`] is put together from its parts and started.

use std::sync::Arc;

use tokio::runtime::Handle;

use super::lifecycle::Lifecycle;
use super::{Chat, ChatConfig, Clock, Inner, SystemClock};
use crate::assistant::Assistant;
use crate::broker::{Broker, Outbox};
use crate::error::Result;
use crate::hub::Hub;
use crate::kinds::{Kinds, Validator};
use crate::password::PasswordHasher;
use crate::policy::Policy;
use crate::store::{MediaStore, Store};
use crate::throttle::Throttle;

/// Builds and starts a [`Chat`]: the stores are required, everything else has a default (the
/// default [`ChatConfig`], the system clock, no host [`Policy`]).
///
/// Starting is explicit: [`ChatBuilder::start`] spawns the chat's background tasks (the append
/// pipeline, housekeeping) on the runtime the host names, and [`Chat::shutdown`] stops them
/// again after draining. Nothing is spawned later on whichever runtime happens to call first.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> chatcore::Result<()> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use chatcore::{Chat, ChatConfig, MemoryMediaStore, MemoryStore};
///
/// let mut config = ChatConfig::default();
/// config.guests_can_create_groups = true;
/// config.session_idle_timeout = Duration::from_secs(7 * 24 * 3600);
///
/// let chat = Chat::builder(Arc::new(MemoryStore::new()), Arc::new(MemoryMediaStore::new()))
///     .config(config)
///     .start(&tokio::runtime::Handle::current())?;
/// // … serve …
/// chat.shutdown().await;
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until start() is called"]
pub struct ChatBuilder {
    store: Arc<dyn Store>,
    media: Arc<dyn MediaStore>,
    config: ChatConfig,
    clock: Arc<dyn Clock>,
    policy: Option<Arc<dyn Policy>>,
    assistant: Option<Arc<dyn Assistant>>,
    broker: Option<Arc<dyn Broker>>,
    kinds: Vec<(String, Arc<Validator>)>,
}

impl ChatBuilder {
    /// A builder over the given stores.
    pub fn new(store: Arc<dyn Store>, media: Arc<dyn MediaStore>) -> Self {
        ChatBuilder {
            store,
            media,
            config: ChatConfig::default(),
            clock: Arc::new(SystemClock),
            policy: None,
            assistant: None,
            broker: None,
            kinds: Vec::new(),
        }
    }

    /// The policy the chat runs with.
    pub fn config(mut self, config: ChatConfig) -> Self {
        self.config = config;
        self
    }

    /// Where "now" comes from (tests use a [`ManualClock`](super::ManualClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The host's hooks into the rules (see [`Policy`]); without one, chatcore's own rules
    /// are all there is.
    pub fn policy(mut self, policy: Arc<dyn Policy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The draft assistant behind [`Chat::assist`]; without one the chat offers none.
    pub fn assistant(mut self, assistant: Arc<dyn Assistant>) -> Self {
        self.assistant = Some(assistant);
        self
    }

    /// The broker that connects this node to the other nodes serving the same store (see
    /// [`Broker`]); without one, the chat delivers in this process only.
    pub fn broker(mut self, broker: Arc<dyn Broker>) -> Self {
        self.broker = Some(broker);
        self
    }

    /// Accepts messages of the custom `kind` (1–32 of `a-z 0-9 _ . -`, starting with a
    /// letter), whose payloads `validate` checks: `Ok(())` stores the message, `Err(reason)`
    /// refuses it (`invalid` on field `payload`, with the reason). A chat accepts no custom kind
    /// it was not told about here (see [`crate::kinds`]). Registering a name twice keeps the
    /// last validator; a bad name makes [`ChatBuilder::start`] fail.
    pub fn message_kind(
        mut self,
        kind: impl Into<String>,
        validate: impl Fn(&serde_json::Value) -> std::result::Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.kinds.push((kind.into(), Arc::new(validate)));
        self
    }

    /// Builds the chat and starts its background tasks on `runtime`, which must keep running
    /// until [`Chat::shutdown`] returns. Fails when `config.password_cost` is not a valid
    /// argon2 cost or a [message kind](ChatBuilder::message_kind) has a bad name; nothing is
    /// spawned then.
    pub fn start(self, runtime: &Handle) -> Result<Chat> {
        let mut kinds = Kinds::default();
        for (kind, validate) in self.kinds {
            kinds.register(kind, validate)?;
        }
        let config = self.config;
        let hasher = PasswordHasher::new(
            config.password_cost,
            config.max_concurrent_hashes,
            config.max_queued_hashes,
        )?;
        let login_failures = Throttle::new(
            "login",
            config.login_failures_per_username,
            config.login_failure_window,
            config.attempts.clone(),
        );
        let invite_failures = Throttle::new(
            "invite",
            config.invite_failures_per_user,
            config.invite_failure_window,
            config.attempts.clone(),
        );
        let assist_budget = Throttle::new(
            "assist",
            config.assist_per_minute,
            std::time::Duration::from_secs(60),
            config.attempts.clone(),
        );
        let outbox = self.broker.map(Outbox::new);
        let hub = Hub::clustered(config.subscriber_queue, runtime.clone(), outbox.clone());
        let (lifecycle, appends) = Lifecycle::start(runtime, &self.store, &hub, &config);
        if let Some(outbox) = &outbox {
            lifecycle.spawn_relay(&self.store, &hub, outbox);
        }
        let chat = Chat {
            inner: Arc::new(Inner {
                store: self.store,
                media: self.media,
                hub,
                hasher,
                clock: self.clock,
                login_failures,
                invite_failures,
                config,
                policy: self.policy,
                kinds,
                assistant: self.assistant,
                assist_budget,
                image_slots: tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get()),
                ),
                appends,
                lifecycle,
            }),
        };
        chat.inner.lifecycle.spawn_housekeeping(&chat);
        Ok(chat)
    }
}

impl std::fmt::Debug for ChatBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatBuilder")
            .field("config", &self.config)
            .field("policy", &self.policy.is_some())
            .field("assistant", &self.assistant.is_some())
            .field("broker", &self.broker.is_some())
            .field(
                "kinds",
                &self.kinds.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

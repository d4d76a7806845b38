//! A chat's background work: started on the host's runtime, stopped by a shutdown that drains.
//!
//! Two kinds of task run for a started [`Chat`]: the append pipeline (one writer that commits
//! the sends waiting at the same moment in one store call, then publishes them) and the
//! housekeeping jobs ([`ChatConfig::guest_expiry_interval`],
//! [`ChatConfig::session_expiry_interval`], [`ChatConfig::media_sweep_interval`]). All of them are spawned by
//! [`ChatBuilder::start`](super::ChatBuilder::start) on the runtime the host passes, and all of
//! them end on [`Chat::shutdown`].

use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::{OnceCell, watch};
use tokio::task::JoinHandle;

use super::{Chat, ChatConfig, Inner};
use crate::broker::{Inbox, Outbox, Relay};
use crate::error::{Error, Result};
use crate::group_commit::{AppendResult, GroupCommit};
use crate::hub::Hub;
use crate::model::NewMessage;
use crate::store::Store;

/// Most sends appended in one store call (one transaction); see also
/// [`ChatConfig::subscriber_queue`].
const APPEND_BATCH: usize = 256;

/// The running state of a chat's background work.
pub(super) struct Lifecycle {
    runtime: Handle,
    /// Flips to `true` once, when shutdown begins; every task watches it.
    stopping: watch::Sender<bool>,
    /// The tasks to wait for on shutdown (taken by the first one).
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Set when the drain is complete; later and concurrent shutdowns wait on it.
    drained: OnceCell<()>,
}

/// The append pipeline: one group-commit writer per lane of the store.
pub(super) struct Appends {
    lanes: Vec<GroupCommit>,
}

impl Appends {
    /// Appends `msg` through the writer that owns its room (see [`Lifecycle::start`]).
    pub(super) async fn append(&self, msg: NewMessage) -> AppendResult {
        let lane = msg.room_id.0.rem_euclid(self.lanes.len() as i64) as usize;
        self.lanes[lane].append(msg).await
    }
}

impl Lifecycle {
    /// Starts the append pipeline on `runtime`: sends waiting at the same moment go to the
    /// store in one [`Store::append_messages`] call (one transaction in the SQL backends), and
    /// the new messages are published together, in seq order, before any sender hears back.
    /// There are [`Store::append_lanes`] such writers, each owning the rooms whose id falls to
    /// it, so a room's messages are always committed and published by the same one, in order.
    pub(super) fn start(
        runtime: &Handle,
        store: &Arc<dyn Store>,
        hub: &Hub,
        config: &ChatConfig,
    ) -> (Self, Appends) {
        let (stopping, _) = watch::channel(false);
        let lanes = store.append_lanes().max(1);
        // A batch is published to each connection as one burst, all or nothing: the bursts of
        // every lane together must fit a queue that still holds some earlier events.
        let batch = (config.subscriber_queue / 2 / lanes).clamp(1, APPEND_BATCH);
        let (lanes, writers) = (0..lanes)
            .map(|_| {
                let (store, hub) = (Arc::clone(store), hub.clone());
                GroupCommit::start(runtime, batch, stopped(&stopping), move |msgs| {
                    let (store, hub) = (Arc::clone(&store), hub.clone());
                    async move {
                        let results = store.append_messages(msgs).await;
                        hub.publish_messages(
                            results
                                .iter()
                                .flatten()
                                .filter(|(_, created)| *created)
                                .map(|(message, _)| message.clone()),
                        );
                        results
                    }
                })
            })
            .unzip();
        let lifecycle = Lifecycle {
            runtime: runtime.clone(),
            stopping,
            tasks: Mutex::new(writers),
            drained: OnceCell::new(),
        };
        (lifecycle, Appends { lanes })
    }

    /// Starts receiving other nodes' notices through `outbox`'s broker and applying them to
    /// `hub`'s connections (see [`Relay`]), until shutdown.
    pub(super) fn spawn_relay(&self, store: &Arc<dyn Store>, hub: &Hub, outbox: &Outbox) {
        let (inbox, notices) = Inbox::new(outbox.node(), self.stopping.subscribe());
        hub.fill_gaps_with(inbox.clone());
        let relay = Relay::new(Arc::clone(store), hub.clone(), inbox.clone(), notices);
        let task = self.runtime.spawn(relay.run());
        outbox.broker().start(&self.runtime, inbox);
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task);
    }

    /// Starts the housekeeping jobs `chat`'s config asks for.
    pub(super) fn spawn_housekeeping(&self, chat: &Chat) {
        let config = chat.config();
        if let Some(every) = config.guest_expiry_interval {
            self.spawn_every(chat, every, |chat| async move {
                match chat.expire_inactive_guests().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(expired = n, "expired inactive guests"),
                    Err(e) => tracing::warn!(error = %e, "guest expiry failed"),
                }
            });
        }
        if let Some(every) = config.media_sweep_interval {
            self.spawn_every(chat, every, |chat| async move {
                match chat.sweep_unattached_media().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "deleted unattached uploads"),
                    Err(e) => tracing::warn!(error = %e, "media sweep failed"),
                }
            });
        }
        if let Some(every) = config.session_expiry_interval {
            self.spawn_every(chat, every, |chat| async move {
                match chat.expire_sessions().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(ended = n, "deleted expired sessions"),
                    Err(e) => tracing::warn!(error = %e, "session expiry failed"),
                }
            });
        }
    }

    /// Runs `job` every `interval` (the first run one interval from now; a run that overruns
    /// delays the next) until shutdown. The task holds the chat weakly, so a chat dropped
    /// without a shutdown still goes away, and its jobs with it.
    fn spawn_every<F, Fut>(&self, chat: &Chat, interval: Duration, job: F)
    where
        F: Fn(Chat) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let chat: Weak<Inner> = Arc::downgrade(&chat.inner);
        let stop = stopped(&self.stopping);
        let task = self.runtime.spawn(async move {
            let start = tokio::time::Instant::now() + interval;
            let mut ticks = tokio::time::interval_at(start, interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut stop = std::pin::pin!(stop);
            loop {
                tokio::select! {
                    () = &mut stop => return,
                    _ = ticks.tick() => {
                        let Some(inner) = chat.upgrade() else { return };
                        job(Chat { inner }).await;
                    }
                }
            }
        });
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task);
    }

    /// Whether shutdown has begun.
    pub(super) fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Refuses new work once shutdown has begun.
    pub(super) fn check_running(&self) -> Result<()> {
        if self.is_stopping() {
            Err(Error::Unavailable("the chat is shutting down"))
        } else {
            Ok(())
        }
    }
}

/// Completes when `stopping` flips to `true` (or its sender is gone).
fn stopped(stopping: &watch::Sender<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut watch = stopping.subscribe();
    async move {
        // An error means the chat is gone: stop as well.
        let _gone = watch.wait_for(|stopping| *stopping).await;
    }
}

impl Chat {
    /// Stops the chat after finishing what it accepted, and returns once everything stopped.
    ///
    /// In order: new sends and new live connections are refused with
    /// [`Error::Unavailable`](crate::Error::Unavailable); every send already accepted is
    /// committed, published and answered; then every live connection is closed with
    /// [`CloseReason::Shutdown`](crate::CloseReason::Shutdown) (transports close their sockets,
    /// `chatcore-ws` with 1001) and the background tasks end. Other operations keep working
    /// until the store is closed, which the host does after this returns.
    ///
    /// Calling it again, or from several tasks at once, waits for the same drain.
    pub async fn shutdown(&self) {
        let lifecycle = &self.inner.lifecycle;
        lifecycle
            .drained
            .get_or_init(|| async {
                lifecycle.stopping.send_replace(true);
                let tasks =
                    std::mem::take(&mut *lifecycle.tasks.lock().unwrap_or_else(|p| p.into_inner()));
                for task in tasks {
                    if let Err(err) = task.await {
                        tracing::warn!(%err, "a chat background task failed");
                    }
                }
                self.hub().close_everyone();
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::chat::{ManualClock, SendMessage};
    use crate::hub::CloseReason;
    use crate::model::{RoomId, Timestamp};
    use crate::throttle::Rate;
    use crate::{MemoryMediaStore, MemoryStore};

    fn text(room: RoomId, body: &str) -> SendMessage {
        SendMessage {
            room_id: room,
            body: body.into(),
            ..Default::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_answers_every_accepted_send_then_closes_connections() {
        let chat = Chat::in_memory_with(ChatConfig {
            send_rate: Rate::per_second(1000.0, 1000, Duration::ZERO),
            ..ChatConfig::default()
        });
        let (alice, _) = chat.guest(Some("Alice")).await.unwrap();
        let (bob, _) = chat.guest(Some("Bob")).await.unwrap();
        let room = chat.open_direct(&alice, bob.id()).await.unwrap().id;
        let (mut feed, _) = chat.connect(&bob).await.unwrap();

        let sends: Vec<_> = (0..200)
            .map(|i| {
                let (chat, alice) = (chat.clone(), alice.clone());
                tokio::spawn(async move { chat.send(&alice, text(room, &format!("m{i}"))).await })
            })
            .collect();
        chat.shutdown().await;

        let mut acked = Vec::new();
        for send in sends {
            match send.await.unwrap() {
                Ok(message) => acked.push(message.seq),
                Err(err) => assert_eq!(err.code(), "unavailable", "{err}"),
            }
        }
        acked.sort_unstable();
        let stored: Vec<_> = chat
            .messages_after(&bob, room, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .chain(chat.messages_after(&bob, room, 100, 100).await.unwrap())
            .map(|m| m.seq)
            .collect();
        assert_eq!(acked, stored, "acked exactly what is stored");
        // The live connection is closed (it resumes from the store, which has everything).
        let reason = loop {
            if let Err(reason) = feed.recv().await {
                break reason;
            }
        };
        assert_eq!(reason, CloseReason::Shutdown);

        let late = chat.send(&alice, text(room, "late")).await.unwrap_err();
        assert_eq!(late.code(), "unavailable");
        assert_eq!(chat.connect(&bob).await.unwrap_err().code(), "unavailable");
        assert_eq!(
            chat.history(&bob, room, None, 10)
                .await
                .unwrap()
                .messages
                .len(),
            10.min(stored.len())
        );
        chat.shutdown().await; // a second shutdown waits for the same, finished drain
    }

    /// A send the store has committed but not yet answered when shutdown begins is acked (and
    /// durable); a send that arrives after is refused; shutdown returns only after the ack.
    #[tokio::test]
    async fn shutdown_waits_for_the_send_inside_the_store() {
        let store = Arc::new(MemoryStore::new());
        let gated = Arc::new(crate::testing::GatedStore::new(store.clone()));
        let chat = Chat::builder(gated.clone(), Arc::new(MemoryMediaStore::new()))
            .start(&Handle::current())
            .unwrap();
        let (alice, _) = chat.guest(Some("Alice")).await.unwrap();
        let (bob, _) = chat.guest(Some("Bob")).await.unwrap();
        let room = chat.open_direct(&alice, bob.id()).await.unwrap().id;

        let mut held = gated.hold_next_append();
        let in_flight = tokio::spawn({
            let (chat, alice) = (chat.clone(), alice.clone());
            async move { chat.send(&alice, text(room, "in flight")).await }
        });
        held.arrived().await;
        let shutdown = tokio::spawn({
            let chat = chat.clone();
            async move { chat.shutdown().await }
        });
        // Shutdown has begun once new connections are refused (sends are held up behind the
        // gate until then, so they cannot tell).
        while chat.connect(&bob).await.is_ok() {
            tokio::task::yield_now().await;
        }
        let late = chat.send(&alice, text(room, "late")).await.unwrap_err();
        assert_eq!(late.code(), "unavailable");
        assert!(
            !shutdown.is_finished() && !in_flight.is_finished(),
            "shutdown cannot finish while a committed send is unanswered"
        );
        held.release();
        let acked = in_flight
            .await
            .unwrap()
            .expect("the in-flight send is acked");
        shutdown.await.unwrap();
        use crate::Store as _;
        let stored = store.messages_after(room, 0, 10).await.unwrap();
        assert_eq!(
            stored,
            vec![acked],
            "acked and stored; the late send is not"
        );
    }

    #[test]
    fn background_tasks_run_on_the_runtime_given_not_the_first_caller() {
        let host = tokio::runtime::Runtime::new().unwrap();
        let chat = host.block_on(async { Chat::in_memory() });
        let (alice, bob) = host.block_on(async {
            let alice = chat.guest(Some("Alice")).await.unwrap().0;
            let bob = chat.guest(Some("Bob")).await.unwrap().0;
            (alice, bob)
        });
        let room = host
            .block_on(chat.open_direct(&alice, bob.id()))
            .unwrap()
            .id;
        // The first send comes from a short-lived runtime of its own…
        let other = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        other
            .block_on(chat.send(&alice, text(room, "first")))
            .unwrap();
        drop(other);
        // …and sending keeps working after it is gone.
        let second = host.block_on(chat.send(&alice, text(room, "second")));
        assert_eq!(second.unwrap().seq, 2);
        host.block_on(chat.shutdown());
    }

    #[tokio::test(start_paused = true)]
    async fn housekeeping_expires_guests_on_its_interval() {
        let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
        let config = ChatConfig {
            guest_expiry_interval: Some(Duration::from_secs(60)),
            ..ChatConfig::default()
        };
        let chat = Chat::builder(
            Arc::new(MemoryStore::new()),
            Arc::new(MemoryMediaStore::new()),
        )
        .config(config.clone())
        .clock(clock.clone())
        .start(&Handle::current())
        .unwrap();
        let (guest, token) = chat.guest(None).await.unwrap();
        clock.advance(config.guest_ttl + Duration::from_secs(1));
        let mut feed = chat.connect(&guest).await.unwrap().0;
        // Paused time jumps to the job's next tick once everything else is idle.
        assert_eq!(feed.recv().await.unwrap_err(), CloseReason::SessionEnded);
        assert_eq!(
            chat.authenticate(&token).await.unwrap_err().code(),
            "unauthenticated"
        );
        chat.shutdown().await;
    }

    #[tokio::test]
    async fn a_chat_dropped_without_shutdown_is_freed_with_its_tasks() {
        let chat = Chat::in_memory();
        let inner = Arc::downgrade(&chat.inner);
        drop(chat);
        assert!(inner.upgrade().is_none(), "no task keeps the chat alive");
    }
}

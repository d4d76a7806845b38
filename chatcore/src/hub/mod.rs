//! The in-process delivery hub: fans room events out to live connections.
//!
//! Each live connection holds a [`Subscription`] with a **bounded** queue. Publishing never
//! waits: when a subscriber's queue is full, that subscriber is closed with
//! [`CloseReason::Lagged`] (its connection is dropped and resumes later), so one slow client can
//! never stall a room or grow memory without bound. Events are `Arc`-shared, never copied per
//! subscriber.
//!
//! Locking: one `RwLock` over the routing tables, held only for map work and queue pushes,
//! never across an `.await`. Publishing takes the read lock, so rooms publish in parallel.
//! A batch of messages ([`Hub::publish_messages`]) reaches each subscriber as one burst: one
//! short lock on its queue and one wake-up, however many messages the batch holds.
//!
//! On a node with a broker, the operations that concern every node (`cluster.rs`) also tell
//! the other nodes; the `*_here` ones act on this node's connections only.

mod cluster;
mod event;
mod presence;
mod queue;
mod sequencer;

pub use event::{Event, EventKind, RoomChange};
pub(crate) use presence::HEARTBEAT;
pub use sequencer::GAP_WAIT;

use presence::RemotePresence;

use queue::{EventQueue, Taken};
use sequencer::{Offer, Sequencer};

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use tokio::sync::Notify;

use crate::broker::{Inbox, Outbox};
use crate::commits::Watchers;
use crate::model::{Message, RoomId, Seq, UserId};

/// Why the hub closed a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The subscriber did not drain its queue fast enough.
    Lagged,
    /// The session was logged out, or the user disabled.
    SessionEnded,
    /// The hub is shutting down.
    Shutdown,
}

/// A cheap, cloneable handle to the delivery hub.
#[derive(Clone)]
pub struct Hub {
    shared: Arc<Shared>,
}

struct Shared {
    routes: RwLock<Routes>,
    /// Where gap timers run: the chat's runtime.
    runtime: tokio::runtime::Handle,
    sequencer: Sequencer,
    next_id: AtomicU64,
    queue_capacity: usize,
    /// Where changes are told to the other nodes; `None` on a single node.
    outbox: Option<Outbox>,
    /// Who fills gaps in a room's publication order from the store (the relay, on a node with
    /// a broker); without one, a gap is released as is after [`GAP_WAIT`].
    gap_filler: OnceLock<Inbox>,
    /// The after-commit feeds, told which rooms have new messages.
    commits: Watchers,
    /// Who is online on the other nodes (empty on a single node).
    remote: RemotePresence,
}

#[derive(Default)]
struct Routes {
    rooms: HashMap<RoomId, Vec<Arc<Subscriber>>>,
    users: HashMap<UserId, Vec<Arc<Subscriber>>>,
    joined: HashMap<u64, HashSet<RoomId>>,
    /// Subscriptions registered but not attached yet, with the rooms their user left in the
    /// meantime: the room list [`Hub::attach`] gets was read before, so it may still name them.
    unattached: HashMap<u64, HashSet<RoomId>>,
}

struct Subscriber {
    id: u64,
    user_id: UserId,
    session: Option<[u8; 32]>,
    queue: EventQueue,
    closed: OnceLock<CloseReason>,
    wake: Notify,
}

impl Subscriber {
    fn close(&self, reason: CloseReason) {
        if self.closed.set(reason).is_ok() {
            self.wake.notify_one();
        }
    }
}

/// A live connection's feed of events. Dropping it unsubscribes.
pub struct Subscription {
    sub: Arc<Subscriber>,
    taken: Taken,
    hub: Hub,
    /// The user had no other connection when this one subscribed.
    first: bool,
}

impl Subscription {
    /// The subscribed user.
    pub fn user_id(&self) -> UserId {
        self.sub.user_id
    }

    /// The next event, or why this subscription was closed. Once closed, queued events are not
    /// delivered: a lagged or ended connection must stop, not drain.
    pub async fn recv(&mut self) -> Result<Arc<Event>, CloseReason> {
        loop {
            if let Some(reason) = self.sub.closed.get() {
                return Err(*reason);
            }
            if let Some(event) = self.try_recv() {
                return Ok(event);
            }
            tokio::select! {
                biased;
                () = self.sub.wake.notified() => {}
                () = self.sub.queue.ready() => {}
            }
        }
    }

    /// The next event if one is queued right now (for batching writes).
    pub fn try_recv(&mut self) -> Option<Arc<Event>> {
        if self.sub.closed.get().is_some() {
            return None;
        }
        match self.taken.next(&self.sub.queue) {
            Some(event) => Some(event),
            None if self.sub.queue.take(&mut self.taken) => self.taken.next(&self.sub.queue),
            None => None,
        }
    }

    /// Why the subscription was closed, if it was.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.sub.closed.get().copied()
    }

    /// Waits until the subscription is closed, without taking any queued event. A transport
    /// races this against a blocked socket write, so a connection that stopped reading still
    /// learns at once that it lagged. Cancel-safe.
    pub async fn closed(&self) -> CloseReason {
        loop {
            if let Some(reason) = self.sub.closed.get() {
                return *reason;
            }
            // `close` uses `notify_one`, which stores a permit when nobody waits, so a close
            // between the check above and this wait is not missed.
            self.sub.wake.notified().await;
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(&self.sub);
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("user_id", &self.sub.user_id)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub whose subscribers each queue at most `queue_capacity` events, and whose gap
    /// timers run on `runtime`.
    #[cfg(test)]
    pub fn new(queue_capacity: usize, runtime: tokio::runtime::Handle) -> Self {
        Self::clustered(queue_capacity, runtime, None)
    }

    /// Like [`Hub::new`], telling every change that concerns other nodes through `outbox`.
    pub(crate) fn clustered(
        queue_capacity: usize,
        runtime: tokio::runtime::Handle,
        outbox: Option<Outbox>,
    ) -> Self {
        Hub {
            shared: Arc::new(Shared {
                routes: RwLock::new(Routes::default()),
                runtime,
                sequencer: Sequencer::default(),
                next_id: AtomicU64::new(1),
                queue_capacity: queue_capacity.max(1),
                outbox,
                gap_filler: OnceLock::new(),
                commits: Watchers::default(),
                remote: RemotePresence::default(),
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Routes> {
        // Routing tables stay consistent even if a holder panicked: every change is a single
        // insert or remove.
        self.shared.routes.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Routes> {
        self.shared
            .routes
            .write()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a live connection of `user` (on `session`, if any) with no rooms yet; give it
    /// its rooms with [`Hub::attach`]. Registering before looking up the user's rooms means a
    /// membership added in between (via [`Hub::join`]) is not missed.
    pub fn subscribe(&self, user: UserId, session: Option<[u8; 32]>) -> Subscription {
        let sub = Arc::new(Subscriber {
            id: self.shared.next_id.fetch_add(1, Ordering::Relaxed),
            user_id: user,
            session,
            queue: EventQueue::new(self.shared.queue_capacity),
            closed: OnceLock::new(),
            wake: Notify::new(),
        });
        let first = {
            let mut routes = self.write();
            routes.joined.insert(sub.id, HashSet::new());
            routes.unattached.insert(sub.id, HashSet::new());
            let subs = routes.users.entry(user).or_default();
            subs.push(Arc::clone(&sub));
            subs.len() == 1
        };
        Subscription {
            sub,
            taken: Taken::default(),
            hub: self.clone(),
            first,
        }
    }

    /// Starts delivering `rooms` (the user's rooms, read after [`Hub::subscribe`]) to a new
    /// subscription and, if it is the user's first live connection, tells the members of those
    /// rooms that the user is online. The user may have left some of `rooms` between the read
    /// and now ([`Hub::leave`]): those are left out, so a member removed while connecting never
    /// receives the room. Returns the rooms left out (usually none).
    pub fn attach(&self, subscription: &Subscription, rooms: &[RoomId]) -> HashSet<RoomId> {
        let (attached, left) = {
            let mut routes = self.write();
            let left = routes
                .unattached
                .remove(&subscription.sub.id)
                .unwrap_or_default();
            let attached: Vec<RoomId> = rooms
                .iter()
                .copied()
                .filter(|room| !left.contains(room))
                .collect();
            for &room in &attached {
                Self::add_route(&mut routes, &subscription.sub, room);
            }
            (attached, left)
        };
        if subscription.first {
            let user_id = subscription.sub.user_id;
            self.publish_to_rooms(
                &attached,
                Event::new(EventKind::Presence {
                    user_id,
                    online: true,
                }),
            );
        }
        left
    }

    /// Starts delivering `room` to every live connection of `user` on this node.
    pub(crate) fn join_here(&self, user: UserId, room: RoomId) {
        let mut routes = self.write();
        let subs = routes.users.get(&user).cloned().unwrap_or_default();
        for sub in &subs {
            if let Some(left) = routes.unattached.get_mut(&sub.id) {
                left.remove(&room);
            }
            Self::add_route(&mut routes, sub, room);
        }
    }

    fn add_route(routes: &mut Routes, sub: &Arc<Subscriber>, room: RoomId) {
        let Some(joined) = routes.joined.get_mut(&sub.id) else {
            return;
        };
        if joined.insert(room) {
            routes.rooms.entry(room).or_default().push(Arc::clone(sub));
        }
    }

    /// Stops delivering `room` to every live connection of `user` on this node, at once.
    pub(crate) fn leave_here(&self, user: UserId, room: RoomId) {
        let mut routes = self.write();
        let ids: Vec<u64> = routes
            .users
            .get(&user)
            .map(|s| s.iter().map(|s| s.id).collect())
            .unwrap_or_default();
        for id in ids {
            if let Some(joined) = routes.joined.get_mut(&id) {
                joined.remove(&room);
            }
            if let Some(left) = routes.unattached.get_mut(&id) {
                left.insert(room);
            }
        }
        if let Some(subs) = routes.rooms.get_mut(&room) {
            subs.retain(|s| s.user_id != user);
            if subs.is_empty() {
                routes.rooms.remove(&room);
            }
        }
    }

    /// Delivers an event to every live connection in `room` on this node. Never waits;
    /// subscribers whose queue is full are closed as lagged.
    fn publish_here(&self, room: RoomId, event: Event) {
        self.publish_burst(room, &[Arc::new(event)]);
    }

    /// Delivers `events` to every live connection in `room`, all or none per connection, with
    /// one queue operation and one wake-up each.
    fn publish_burst(&self, room: RoomId, events: &[Arc<Event>]) {
        if events.is_empty() {
            return;
        }
        let lagged: Vec<Arc<Subscriber>> = {
            let routes = self.read();
            let Some(subs) = routes.rooms.get(&room) else {
                return;
            };
            subs.iter()
                .filter(|s| !s.queue.offer(events))
                .cloned()
                .collect()
        };
        self.close_all(&lagged, CloseReason::Lagged);
    }

    /// Delivers newly stored messages on this node, such as one commit's batch, in seq order
    /// per room: a
    /// message that overtook an earlier one waits (at most [`GAP_WAIT`]) until that one is
    /// published. Each live connection of a room gets the room's messages as a single burst
    /// (one queue operation and one wake-up), and can send them in one socket write.
    /// Every commit feed hears of the batch's rooms first, whatever the order of publication.
    pub(crate) fn publish_messages_here(&self, messages: impl IntoIterator<Item = Message>) {
        let messages: Vec<Message> = messages.into_iter().collect();
        self.shared
            .commits
            .committed(messages.iter().map(|m| m.room_id));
        let mut bursts: Vec<(RoomId, Vec<Arc<Event>>)> = Vec::new();
        // Held until the bursts are in the queues (see the sequencer's module doc).
        let mut turn = self.shared.sequencer.turn();
        for message in messages {
            let (room, seq) = (message.room_id, message.seq);
            let offer = turn.offer(room, seq, Event::new(EventKind::Message(message)));
            match offer {
                Offer::Ready(events) => {
                    let i = match bursts.iter().position(|(r, _)| *r == room) {
                        Some(i) => i,
                        None => {
                            bursts.push((room, Vec::new()));
                            bursts.len() - 1
                        }
                    };
                    bursts[i].1.extend(events.into_iter().map(Arc::new));
                }
                Offer::Held => {
                    let hub = self.clone();
                    self.shared.runtime.spawn(async move {
                        tokio::time::sleep(GAP_WAIT).await;
                        match hub.shared.gap_filler.get() {
                            // Another node's message is missing: the relay reads it from the
                            // store, then releases what still waits.
                            Some(relay) => relay.fill_gap(room, seq),
                            None => hub.release_through(room, seq),
                        }
                    });
                }
            }
        }
        for (room, events) in bursts {
            self.publish_burst(room, &events);
        }
        drop(turn);
    }

    /// Publishes, as they are, the messages of `room` held back for a gap before `seq`, and
    /// what follows them without a gap; connections fill the gap from the store themselves.
    pub(crate) fn release_through(&self, room: RoomId, seq: Seq) {
        let mut turn = self.shared.sequencer.turn();
        let events: Vec<Arc<Event>> = turn.release(room, seq).into_iter().map(Arc::new).collect();
        self.publish_burst(room, &events);
        drop(turn);
    }

    /// A new after-commit feed's set of rooms with new messages (see [`crate::commits`]).
    pub(crate) fn watch_commits(&self) -> Arc<crate::commits::Dirty> {
        self.shared.commits.watch()
    }

    /// Hands gaps in publication order to `relay` (which fills them from the store) instead of
    /// releasing them as they are. Set once, when the relay starts.
    pub(crate) fn fill_gaps_with(&self, relay: Inbox) {
        // A second relay for the same hub is never started; keeping the first is harmless.
        let _first = self.shared.gap_filler.set(relay);
    }

    /// Delivers an event once to each live connection on this node that shares any of `rooms`
    /// (deduplicated), e.g. presence, which concerns a user rather than a room.
    fn publish_to_rooms_here(&self, rooms: &[RoomId], event: Event) {
        self.publish_once_here(rooms, None, event);
    }

    /// Delivers an event once to each live connection on this node that shares any of
    /// `rooms`, or belongs to `user` (when given).
    fn publish_once_here(&self, rooms: &[RoomId], user: Option<UserId>, event: Event) {
        let event = Arc::new(event);
        let lagged: Vec<Arc<Subscriber>> = {
            let routes = self.read();
            let mut seen = HashSet::new();
            rooms
                .iter()
                .filter_map(|r| routes.rooms.get(r))
                .chain(user.and_then(|u| routes.users.get(&u)))
                .flatten()
                .filter(|s| seen.insert(s.id))
                .filter(|s| !s.queue.offer(std::slice::from_ref(&event)))
                .cloned()
                .collect()
        };
        self.close_all(&lagged, CloseReason::Lagged);
    }

    /// Delivers a user's new public profile once to each live connection on this node that
    /// shares any of `rooms`, or belongs to the user.
    fn publish_user_here(&self, user: crate::chat::PublicUser, rooms: &[RoomId]) {
        let id = user.id;
        self.publish_once_here(rooms, Some(id), Event::new(EventKind::User(user)));
    }

    /// Delivers an event to every live connection of `user` on this node, whatever rooms it
    /// receives (the user's own settings).
    fn publish_to_user_here(&self, user: UserId, event: Event) {
        let event = Arc::new(event);
        let lagged: Vec<Arc<Subscriber>> = {
            let routes = self.read();
            routes
                .users
                .get(&user)
                .into_iter()
                .flatten()
                .filter(|s| !s.queue.offer(std::slice::from_ref(&event)))
                .cloned()
                .collect()
        };
        self.close_all(&lagged, CloseReason::Lagged);
    }

    fn close_all(&self, subs: &[Arc<Subscriber>], reason: CloseReason) {
        for sub in subs {
            tracing::debug!(user = %sub.user_id, ?reason, "closing subscriber");
            sub.close(reason);
        }
    }

    /// Closes every live connection of `session` on this node.
    fn close_session_here(&self, session: &[u8; 32]) {
        let subs: Vec<Arc<Subscriber>> = self
            .read()
            .users
            .values()
            .flatten()
            .filter(|s| s.session.as_ref() == Some(session))
            .cloned()
            .collect();
        self.close_all(&subs, CloseReason::SessionEnded);
    }

    /// Closes the live connections of `user` on `session` on this node; cheaper than
    /// [`Hub::close_session_here`] when the user is known.
    pub(crate) fn close_user_session_here(&self, user: UserId, session: &[u8; 32]) {
        let subs: Vec<Arc<Subscriber>> = self
            .read()
            .users
            .get(&user)
            .into_iter()
            .flatten()
            .filter(|s| s.session.as_ref() == Some(session))
            .cloned()
            .collect();
        self.close_all(&subs, CloseReason::SessionEnded);
    }

    /// Closes every live connection of `user` on this node.
    pub(crate) fn close_user_here(&self, user: UserId) {
        let subs = self.read().users.get(&user).cloned().unwrap_or_default();
        self.close_all(&subs, CloseReason::SessionEnded);
    }

    /// Closes every live connection (server shutdown).
    pub fn close_everyone(&self) {
        let subs: Vec<Arc<Subscriber>> = self.read().users.values().flatten().cloned().collect();
        self.close_all(&subs, CloseReason::Shutdown);
    }

    /// Whether `user` has at least one live connection, on this node or (with a broker) on
    /// another one.
    pub fn is_online(&self, user: UserId) -> bool {
        self.read().users.contains_key(&user) || self.online_elsewhere(user)
    }

    /// Whether another node said (within `PRESENCE_TTL`) that it serves `user`.
    fn online_elsewhere(&self, user: UserId) -> bool {
        self.shared
            .remote
            .is_online(user, tokio::time::Instant::now())
    }

    /// How many live connections `user` has (for per-user connection limits).
    pub fn connections_of(&self, user: UserId) -> usize {
        self.read().users.get(&user).map_or(0, Vec::len)
    }

    /// How many live connections the hub holds.
    pub fn connection_count(&self) -> usize {
        self.read().joined.len()
    }

    /// Whether any live connection on this node receives `room`.
    pub(crate) fn routes_room(&self, room: RoomId) -> bool {
        self.read().rooms.contains_key(&room)
    }

    /// The rooms that live connections on this node receive.
    pub(crate) fn routed_rooms(&self) -> Vec<RoomId> {
        self.read().rooms.keys().copied().collect()
    }

    /// The user and session of every live connection on this node, each pair once.
    pub(crate) fn local_sessions(&self) -> HashSet<(UserId, Option<[u8; 32]>)> {
        self.read()
            .users
            .values()
            .flatten()
            .map(|sub| (sub.user_id, sub.session))
            .collect()
    }

    /// The users with live connections on this node.
    pub(crate) fn local_users(&self) -> Vec<UserId> {
        self.read().users.keys().copied().collect()
    }

    /// The rooms `user`'s live connections on this node receive.
    pub(crate) fn rooms_routed_to(&self, user: UserId) -> HashSet<RoomId> {
        let routes = self.read();
        routes
            .users
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|sub| routes.joined.get(&sub.id))
            .flatten()
            .copied()
            .collect()
    }

    /// The seq of the next message this node publishes in `room`, if it published any since it
    /// started (or since [`Hub::forget_order`]).
    pub(crate) fn next_seq(&self, room: RoomId) -> Option<Seq> {
        self.shared.sequencer.next(room)
    }

    /// Sets where each room's publication order starts, for rooms whose order this node does
    /// not know yet: after the given seq, the newest a connection was just told about. A
    /// message of another node after it that this node never hears of is then noticed (and
    /// filled from the store) when a later one comes, instead of being skipped.
    pub(crate) fn start_order_after(&self, heads: &[(RoomId, Seq)]) {
        for &(room, head) in heads {
            self.shared.sequencer.start_after(room, head);
        }
    }

    /// Forgets where `room`'s publication order stands (no connection here receives it): the
    /// next message published starts it again, and the memory is given back.
    pub(crate) fn forget_order(&self, room: RoomId) {
        self.shared.sequencer.forget(room);
    }

    /// Removes a subscription; if it was the user's last connection, tells the members of its
    /// rooms that the user went offline.
    fn unsubscribe(&self, sub: &Arc<Subscriber>) {
        let (rooms, last) = {
            let mut routes = self.write();
            routes.unattached.remove(&sub.id);
            let rooms: Vec<RoomId> = routes
                .joined
                .remove(&sub.id)
                .unwrap_or_default()
                .into_iter()
                .collect();
            for room in &rooms {
                if let Some(subs) = routes.rooms.get_mut(room) {
                    subs.retain(|s| s.id != sub.id);
                    if subs.is_empty() {
                        routes.rooms.remove(room);
                    }
                }
            }
            let last = routes.users.get_mut(&sub.user_id).is_some_and(|subs| {
                subs.retain(|s| s.id != sub.id);
                subs.is_empty()
            });
            if last {
                routes.users.remove(&sub.user_id);
            }
            (rooms, last)
        };
        if last {
            self.went_offline_here(sub.user_id, &rooms);
        }
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("connections", &self.connection_count())
            .finish()
    }
}

#[cfg(test)]
mod tests;

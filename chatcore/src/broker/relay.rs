//! The relay: applies other nodes' notices to this node's connections, reading messages from
//! the store so that each room is delivered in seq order with no gap and no duplicate.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Inbox, Notice};
use crate::hub::{HEARTBEAT, Hub};
use crate::model::{Message, RoomId, Seq};
use crate::store::Store;

/// Messages read from the store per query.
const PAGE: u32 = 100;

/// The most messages one notice makes this node read for a room. A node further behind
/// publishes the newest ones only; its connections see the jump and each resumes by itself
/// (the transport fills or resyncs), so one far-behind room cannot stall the relay.
const MAX_FILL: Seq = 1_000;

/// One node's receiving side: a single task that applies notices in the order received.
pub(crate) struct Relay {
    store: Arc<dyn Store>,
    hub: Hub,
    inbox: Inbox,
    notices: mpsc::Receiver<(u64, Notice)>,
}

impl Relay {
    /// A relay applying what `inbox` receives (through `notices`) to `hub`'s connections.
    pub(crate) fn new(
        store: Arc<dyn Store>,
        hub: Hub,
        inbox: Inbox,
        notices: mpsc::Receiver<(u64, Notice)>,
    ) -> Self {
        Relay {
            store,
            hub,
            inbox,
            notices,
        }
    }

    /// Applies notices until the chat stops; catches up from the store whenever the inbox
    /// asks (the broker reconnected, or notices were dropped), and tells the other nodes which
    /// users this one serves every [`HEARTBEAT`].
    pub(crate) async fn run(mut self) {
        let inbox = self.inbox.clone();
        let mut stopped = std::pin::pin!(inbox.stopped());
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = &mut stopped => return,
                () = inbox.catch_up_requested() => {}
                _ = heartbeat.tick() => self.hub.heartbeat(),
                notice = self.notices.recv() => match notice {
                    Some((node, notice)) => self.handle(node, notice).await,
                    None => return,
                },
            }
            if inbox.take_catch_up() {
                self.catch_up().await;
            }
        }
    }

    async fn handle(&mut self, node: u64, notice: Notice) {
        match notice {
            Notice::Messages { room, first, last } => {
                self.deliver_through(room, first, last).await;
                // Anything still held up to `last` could not be filled (the store failed):
                // publish it as is; connections fill from the store themselves.
                self.hub.release_through(room, last);
            }
            Notice::Changed {
                room,
                seq,
                mentioned,
            } => {
                let publish = |hub: &Hub, message| hub.publish_change_here(message, mentioned);
                self.republish(room, seq, publish).await;
            }
            Notice::Reacted { room, seq } => {
                self.republish(room, seq, Hub::publish_reactions_here).await;
            }
            other => self.hub.apply(node, other),
        }
    }

    /// Reads message `seq` of `room`, changed on another node, and hands it to `publish` (when
    /// anyone here receives the room).
    async fn republish(&self, room: RoomId, seq: Seq, publish: impl FnOnce(&Hub, Message)) {
        if !self.hub.routes_room(room) {
            return;
        }
        match self.store.message(room, seq).await {
            Ok(Some(message)) => publish(&self.hub, message),
            Ok(None) => {}
            Err(err) => tracing::warn!(%err, %room, "could not read a changed message"),
        }
    }

    /// Publishes `room`'s messages up to `last` that this node has not published yet (from
    /// `first` if it has published none since it started), read from the store in seq order.
    async fn deliver_through(&self, room: RoomId, first: Seq, last: Seq) {
        if !self.hub.routes_room(room) {
            // Nobody here receives it: forget its order, so that a connection that comes later
            // starts from what it is told on connect instead of a stale point.
            self.hub.forget_order(room);
            return;
        }
        let from = self
            .hub
            .next_seq(room)
            .unwrap_or(first)
            .max(last - MAX_FILL + 1);
        let mut after = from - 1;
        while after < last {
            let page = match self.store.messages_after(room, after, PAGE).await {
                Ok(page) => page,
                Err(err) => {
                    // Connections fill the gap themselves once a later message arrives, and a
                    // catch-up (next reconnect) covers the room's tail.
                    tracing::warn!(%err, %room, "could not read messages another node stored");
                    return;
                }
            };
            let full = page.len() >= PAGE as usize;
            let batch: Vec<_> = page.into_iter().filter(|m| m.seq <= last).collect();
            let Some(newest) = batch.last().map(|m| m.seq) else {
                return;
            };
            after = newest;
            self.hub.publish_messages_here(batch);
            if !full {
                return;
            }
        }
    }

    /// After notices may have been missed: makes routes and connections agree with the store
    /// again (memberships changed, users disabled, sessions ended while this node was not
    /// listening), then delivers every routed room's messages up to the store's newest. In that
    /// order, so nothing is delivered to a member removed meanwhile.
    async fn catch_up(&self) {
        tracing::info!("catching up from the store after missed broker notices");
        self.reconcile().await;
        for room in self.hub.routed_rooms() {
            match self.store.room(room).await {
                Ok(Some(r)) if r.last_seq > 0 => {
                    self.deliver_through(room, r.last_seq, r.last_seq).await;
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(%err, %room, "catch-up could not read a room"),
            }
        }
    }

    /// Re-checks this node's live connections against the store.
    async fn reconcile(&self) {
        for (user, session) in self.hub.local_sessions() {
            if let Some(hash) = session {
                match self.store.session(&hash).await {
                    Ok(Some(_)) => {}
                    Ok(None) => self.hub.close_user_session_here(user, &hash),
                    Err(err) => tracing::warn!(%err, "catch-up could not read a session"),
                }
            }
        }
        for user in self.hub.local_users() {
            match self.store.user(user).await {
                Ok(Some(u)) if !u.disabled => {}
                Ok(_) => {
                    self.hub.close_user_here(user);
                    continue;
                }
                Err(err) => {
                    tracing::warn!(%err, "catch-up could not read a user");
                    continue;
                }
            }
            let member_of: HashSet<RoomId> = match self.store.rooms_of_user(user).await {
                Ok(rooms) => rooms.into_iter().map(|(room, _)| room.id).collect(),
                Err(err) => {
                    tracing::warn!(%err, "catch-up could not read a user's rooms");
                    continue;
                }
            };
            let routed = self.hub.rooms_routed_to(user);
            for &room in routed.difference(&member_of) {
                self.hub.leave_here(user, room);
            }
            for &room in member_of.difference(&routed) {
                self.hub.join_here(user, room);
            }
        }
    }
}

//! Two nodes on one store, linked by an in-memory broker that loses, duplicates, reorders and
//! echoes payloads: every live connection still sees each room's messages once, in seq order.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::runtime::Handle;

use super::{Broker, Inbox};
use crate::chat::{Clock, ManualClock, SystemClock};
use crate::hub::{CloseReason, EventKind, RoomChange};
use crate::testing::{send_text, start_node};
use crate::{Actor, Chat, MemoryStore, RoomId, Seq, Subscription, Timestamp};

/// What the wire does to the n-th payload published (counting from 1, across all nodes).
#[derive(Default, Clone, Copy)]
struct Faults {
    drop_every: Option<usize>,
    duplicate_every: Option<usize>,
    /// Holds the payload back and delivers it after the next one.
    swap_every: Option<usize>,
    /// Drops everything.
    cut: bool,
}

/// The in-memory "Redis": every payload goes to every node's inbox, the sender's included.
#[derive(Default)]
struct Wire {
    state: Mutex<WireState>,
}

#[derive(Default)]
struct WireState {
    inboxes: Vec<Inbox>,
    faults: Faults,
    published: usize,
    held: Option<Bytes>,
}

impl Wire {
    fn set_faults(&self, faults: Faults) {
        self.state.lock().unwrap().faults = faults;
    }

    /// What a broker does after its connection came back: every node catches up.
    fn reconnect_all(&self) {
        for inbox in &self.state.lock().unwrap().inboxes {
            inbox.reconnected();
        }
    }
}

struct WireEnd(Arc<Wire>);

impl Broker for WireEnd {
    fn publish(&self, payload: Bytes) {
        let mut state = self.0.state.lock().unwrap();
        state.published += 1;
        let n = state.published;
        let hits = |every: Option<usize>| every.is_some_and(|e| n.is_multiple_of(e));
        let faults = state.faults;
        if faults.cut || hits(faults.drop_every) {
            return;
        }
        let mut out = vec![payload.clone()];
        if hits(faults.duplicate_every) {
            out.push(payload.clone());
        }
        if hits(faults.swap_every) && state.held.is_none() {
            state.held = Some(payload);
            return;
        }
        out.extend(state.held.take());
        for inbox in &state.inboxes {
            for p in &out {
                inbox.deliver(p);
            }
        }
    }

    fn start(&self, _runtime: &Handle, inbox: Inbox) {
        self.0.state.lock().unwrap().inboxes.push(inbox);
    }
}

struct Cluster {
    wire: Arc<Wire>,
    a: Chat,
    b: Chat,
}

fn cluster() -> Cluster {
    cluster_with_clock(Arc::new(SystemClock))
}

/// Two nodes; node A reads the time from `clock_a`.
fn cluster_with_clock(clock_a: Arc<dyn Clock>) -> Cluster {
    let store = Arc::new(MemoryStore::new());
    let wire = Arc::new(Wire::default());
    let node =
        |clock: Arc<dyn Clock>| start_node(store.clone(), Arc::new(WireEnd(wire.clone())), clock);
    let (a, b) = (node(clock_a), node(Arc::new(SystemClock)));
    Cluster { wire, a, b }
}

async fn guest(chat: &Chat, name: &str) -> Actor {
    chat.guest(Some(name)).await.unwrap().0
}

/// A registered user: group admins cannot be guests.
async fn admin(chat: &Chat) -> Actor {
    chat.register("admin", "correct horse battery", None)
        .await
        .unwrap()
        .0
}

/// The message seqs `feed` receives until it has seen `last` (other events skipped).
async fn seqs_through(feed: &mut Subscription, last: Seq) -> Vec<Seq> {
    crate::testing::seqs_through(feed, last, Duration::from_secs(5)).await
}

/// A group created on node A by its admin, with two members connected on node B: one stays,
/// one goes.
struct Team {
    c: Cluster,
    admin: Actor,
    room: RoomId,
    goes: Actor,
    stays_feed: Subscription,
    goes_feed: Subscription,
}

async fn team() -> Team {
    let c = cluster();
    let admin = admin(&c.a).await;
    let (stays, goes) = (guest(&c.b, "Stays").await, guest(&c.b, "Goes").await);
    let room =
        c.a.create_group(&admin, "Team", &[stays.id(), goes.id()])
            .await;
    let room = room.unwrap().id;
    let (stays_feed, _) = c.b.connect(&stays).await.unwrap();
    let (goes_feed, _) = c.b.connect(&goes).await.unwrap();
    Team {
        c,
        admin,
        room,
        goes,
        stays_feed,
        goes_feed,
    }
}

/// Whether any message event is queued on `feed` right now.
fn has_message(feed: &mut Subscription) -> bool {
    std::iter::from_fn(|| feed.try_recv()).any(|e| matches!(e.kind(), EventKind::Message(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_node_delivers_every_message_once_in_order_over_a_lossy_broker() {
    let c = cluster();
    let alice = guest(&c.a, "Alice").await;
    let bob = guest(&c.b, "Bob").await;
    let room = c.a.open_direct(&alice, bob.id()).await.unwrap().id;
    let (mut on_a, _) = c.a.connect(&alice).await.unwrap();
    let (mut on_b, _) = c.b.connect(&bob).await.unwrap();
    c.wire.set_faults(Faults {
        drop_every: Some(3),
        duplicate_every: Some(5),
        swap_every: Some(7),
        cut: false,
    });

    // Both nodes commit, interleaved: each sees the other's messages only through the wire.
    let mut last = 0;
    for i in 0..120 {
        let (chat, who) = if i % 3 == 0 {
            (&c.b, &bob)
        } else {
            (&c.a, &alice)
        };
        last = send_text(chat, who, room, &format!("m{i}")).await;
    }
    // The wire may have lost the tail; the broker's next reconnect makes every node catch up.
    c.wire.reconnect_all();

    let every: Vec<Seq> = (1..=last).collect();
    assert_eq!(seqs_through(&mut on_a, last).await, every, "node A");
    assert_eq!(seqs_through(&mut on_b, last).await, every, "node B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_on_one_node_stops_delivery_on_the_other_and_typing_crosses() {
    let Team {
        c,
        admin,
        room,
        goes,
        mut stays_feed,
        mut goes_feed,
    } = team().await;

    c.a.typing(&admin, room).await.unwrap();
    let typing = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let event = stays_feed.recv().await.unwrap();
            if let EventKind::Typing { user, .. } = event.kind() {
                return user.id;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(typing, admin.id());

    c.a.remove_member(&admin, room, goes.id()).await.unwrap();
    let seq = send_text(&c.a, &admin, room, "after the removal").await;
    assert_eq!(seqs_through(&mut stays_feed, seq).await, vec![seq]);
    // The removed member's feed learnt why, and got nothing after it.
    let mut removed = false;
    while let Some(event) = goes_feed.try_recv() {
        match event.kind() {
            EventKind::Room {
                change: RoomChange::Removed,
                user_id,
                ..
            } if *user_id == goes.id() => removed = true,
            EventKind::Message(m) => panic!("delivered after removal: {m:?}"),
            _ => {}
        }
    }
    assert!(removed);
}

/// The next reactions event on `feed` whose reactions are `wanted` (emoji, users), within 5 s.
async fn reactions_until(feed: &mut Subscription, wanted: &[(&str, &[crate::UserId])]) {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let event = feed.recv().await.unwrap();
            if let EventKind::Reactions(now) = event.kind() {
                let seen: Vec<(&str, &[crate::UserId])> = now
                    .reactions
                    .iter()
                    .map(|r| (r.emoji.as_str(), r.users.as_slice()))
                    .collect();
                if seen == wanted {
                    return;
                }
            }
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_on_one_node_reach_the_other_as_the_store_has_them() {
    let Team {
        c,
        admin,
        room,
        goes,
        mut stays_feed,
        ..
    } = team().await;
    let seq = send_text(&c.a, &admin, room, "lunch?").await;

    c.a.react(&admin, room, seq, "👍").await.unwrap();
    reactions_until(&mut stays_feed, &[("👍", &[admin.id()])]).await;
    c.b.react(&goes, room, seq, "👍").await.unwrap();
    reactions_until(&mut stays_feed, &[("👍", &[admin.id(), goes.id()])]).await;
    // Only node A's notice can tell node B this state.
    c.a.unreact(&admin, room, seq, "👍").await.unwrap();
    reactions_until(&mut stays_feed, &[("👍", &[goes.id()])]).await;
}

/// Whom the next `edited` event on `feed` newly mentions, within 5 s.
async fn next_newly_mentioned(feed: &mut Subscription) -> Vec<crate::UserId> {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let event = feed.recv().await.unwrap();
            if let EventKind::Edited {
                newly_mentioned, ..
            } = event.kind()
            {
                return newly_mentioned.clone();
            }
        }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_on_one_node_tells_the_other_whom_it_mentions_anew() {
    let Team {
        c,
        admin,
        room,
        goes,
        ..
    } = team().await;
    let (mut admin_feed, _) = c.a.connect(&admin).await.unwrap();
    let seq = send_text(&c.b, &goes, room, "lunch?").await;

    // Only node B knows what the text named before: its notice carries it.
    c.b.edit(&goes, room, seq, "lunch, @admin?").await.unwrap();
    assert_eq!(next_newly_mentioned(&mut admin_feed).await, [admin.id()]);
    c.b.edit(&goes, room, seq, "lunch now, @admin?")
        .await
        .unwrap();
    assert_eq!(next_newly_mentioned(&mut admin_feed).await, []);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_missed_while_the_broker_was_cut_are_reconciled_on_reconnect() {
    let Team {
        c,
        admin,
        room,
        goes,
        mut stays_feed,
        mut goes_feed,
    } = team().await;

    c.wire.set_faults(Faults {
        cut: true,
        ..Faults::default()
    });
    c.a.remove_member(&admin, room, goes.id()).await.unwrap();
    let during = send_text(&c.a, &admin, room, "while cut").await;
    c.wire.set_faults(Faults::default());
    c.wire.reconnect_all();
    let after = send_text(&c.a, &admin, room, "after").await;

    assert_eq!(
        seqs_through(&mut stays_feed, after).await,
        vec![during, after]
    );
    assert!(
        !has_message(&mut goes_feed),
        "the removed member gets nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_on_one_node_closes_connections_on_the_other() {
    let c = cluster();
    let (alice, token) = c.a.guest(Some("Alice")).await.unwrap();
    let (feed, _) = c.b.connect(&alice).await.unwrap();
    c.a.logout(&token).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), feed.closed()).await;
    assert_eq!(closed.unwrap(), CloseReason::SessionEnded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_user_on_one_node_closes_their_connections_on_the_other() {
    let c = cluster();
    admin(&c.a).await;
    c.a.promote_server_admin("admin").await.unwrap();
    let (admin, _) = c.a.login("admin", "correct horse battery").await.unwrap();
    let alice = guest(&c.a, "Alice").await;
    let (feed, _) = c.b.connect(&alice).await.unwrap();
    c.a.admin_disable_user(&admin, alice.id()).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), feed.closed()).await;
    assert_eq!(closed.unwrap(), CloseReason::SessionEnded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_expired_on_one_node_closes_its_connections_on_the_other() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let c = cluster_with_clock(clock.clone());
    let alice = guest(&c.a, "Alice").await;
    let (feed, _) = c.b.connect(&alice).await.unwrap();
    // Node A's clock runs past the session's lifetime; its expiry sweep ends the session.
    clock.advance(c.a.config().session_lifetime + Duration::from_secs(1));
    assert_eq!(c.a.expire_sessions().await.unwrap(), 1);
    let closed = tokio::time::timeout(Duration::from_secs(5), feed.closed()).await;
    assert_eq!(closed.unwrap(), CloseReason::SessionEnded);
}

/// The presence changes of `user` that `feed` receives until `stop` says an event is the last
/// one to look at (other events skipped).
async fn presence_until(
    feed: &mut Subscription,
    user: crate::UserId,
    stop: impl Fn(&EventKind) -> bool,
) -> Vec<bool> {
    let wait = async {
        let mut seen = Vec::new();
        loop {
            let event = feed.recv().await.unwrap();
            if let EventKind::Presence { user_id, online } = event.kind()
                && *user_id == user
            {
                seen.push(*online);
            }
            if stop(event.kind()) {
                return seen;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .expect("the awaited event arrives")
}

/// The next presence change of `user` on `feed`.
async fn next_presence(feed: &mut Subscription, user: crate::UserId) -> bool {
    let of_user =
        |kind: &EventKind| matches!(kind, EventKind::Presence { user_id, .. } if *user_id == user);
    presence_until(feed, user, of_user).await[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_online_on_any_node_is_online_on_every_node() {
    let c = cluster();
    let alice = guest(&c.a, "Alice").await;
    let bob = guest(&c.a, "Bob").await;
    let room = c.a.open_direct(&alice, bob.id()).await.unwrap().id;
    let (mut bob_on_a, _) = c.a.connect(&bob).await.unwrap();
    assert!(!c.a.is_online(alice.id()));

    let (alice_on_b, _) = c.b.connect(&alice).await.unwrap();
    assert!(next_presence(&mut bob_on_a, alice.id()).await, "online");
    assert!(
        c.a.is_online(alice.id()),
        "online on node B counts on node A"
    );

    // Alice opens a connection on node A too, then closes the one on node B: still online.
    let (alice_on_a, _) = c.a.connect(&alice).await.unwrap();
    drop(alice_on_b);
    // Node B's typing notice comes after its offline notice: whatever node A announced in
    // answer to it comes before the typing.
    c.b.typing(&alice, room).await.unwrap();
    let typing = |kind: &EventKind| matches!(kind, EventKind::Typing { .. });
    let announced = presence_until(&mut bob_on_a, alice.id(), typing).await;
    assert!(
        !announced.contains(&false),
        "no offline while node A serves her"
    );
    assert!(c.a.is_online(alice.id()));

    drop(alice_on_a);
    assert!(!next_presence(&mut bob_on_a, alice.id()).await, "offline");
    assert!(!c.a.is_online(alice.id()));
}

#[tokio::test(start_paused = true)]
async fn the_users_of_a_node_that_went_silent_go_offline_everywhere() {
    let c = cluster();
    let alice = guest(&c.a, "Alice").await;
    let bob = guest(&c.a, "Bob").await;
    c.a.open_direct(&alice, bob.id()).await.unwrap();
    let (mut bob_on_a, _) = c.a.connect(&bob).await.unwrap();
    let (_alice_on_b, _) = c.b.connect(&alice).await.unwrap();
    assert!(next_presence(&mut bob_on_a, alice.id()).await, "online");

    // Node B falls silent (as if killed): no offline notice, no more heartbeats. Its word
    // expires on node A after PRESENCE_TTL (virtual time runs on while the test waits).
    c.wire.set_faults(Faults {
        cut: true,
        ..Faults::default()
    });
    assert!(!next_presence(&mut bob_on_a, alice.id()).await, "offline");
    assert!(!c.a.is_online(alice.id()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_room_settings_changed_on_one_node_reach_the_users_connections_on_the_other() {
    let c = cluster();
    let alice = guest(&c.a, "Alice").await;
    let bob = guest(&c.b, "Bob").await;
    let room = c.a.open_direct(&alice, bob.id()).await.unwrap().id;
    let (mut alice_on_b, _) = c.b.connect(&alice).await.unwrap();
    let (mut bob_on_b, _) = c.b.connect(&bob).await.unwrap();

    let mute = crate::SettingsChange {
        muted: Some(true),
        archived: None,
    };
    let now = c.a.set_room_settings(&alice, room, mute).await.unwrap();
    send_text(&c.a, &alice, room, "after the mute").await;
    // The notices travel in order: the settings before the message, to Alice's connection
    // only.
    for (feed, expected) in [(&mut alice_on_b, Some(now)), (&mut bob_on_b, None)] {
        let seen = tokio::time::timeout(Duration::from_secs(5), async {
            let mut seen = None;
            loop {
                let event = feed.recv().await.unwrap();
                match event.kind() {
                    EventKind::Settings { now, .. } => seen = Some(*now),
                    EventKind::Message(_) => return seen,
                    _ => {}
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(seen, expected);
    }
}

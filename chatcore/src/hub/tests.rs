use super::*;
use crate::model::Seq;

const ROOM: RoomId = RoomId(1);

fn read_event(seq: Seq) -> Event {
    Event::new(EventKind::Read {
        room_id: ROOM,
        user_id: UserId(99),
        seq,
    })
}

fn seq_of(event: &Event) -> Seq {
    match event.kind() {
        EventKind::Read { seq, .. } => *seq,
        other => panic!("unexpected event {other:?}"),
    }
}

fn subscribed(hub: &Hub, user: i64, rooms: &[RoomId]) -> Subscription {
    let sub = hub.subscribe(UserId(user), None);
    hub.attach(&sub, rooms);
    sub
}

/// Drains presence events so tests can look at what follows.
fn skip_presence(sub: &mut Subscription) {
    while let Some(event) = sub.try_recv() {
        assert!(
            matches!(event.kind(), EventKind::Presence { .. }),
            "unexpected {event:?}"
        );
    }
}

#[tokio::test]
async fn lagging_subscriber_is_dropped_while_others_keep_receiving() {
    let hub = Hub::new(4, tokio::runtime::Handle::current());
    let mut slow = subscribed(&hub, 1, &[ROOM]);
    let mut fast = subscribed(&hub, 2, &[ROOM]);
    skip_presence(&mut slow);
    skip_presence(&mut fast);

    for seq in 1..=20 {
        hub.publish(ROOM, read_event(seq));
        // The fast subscriber keeps up; the slow one never reads.
        assert_eq!(seq_of(&fast.recv().await.unwrap()), seq);
    }

    assert_eq!(slow.recv().await.unwrap_err(), CloseReason::Lagged);
    assert_eq!(slow.close_reason(), Some(CloseReason::Lagged));
    hub.publish(ROOM, read_event(21));
    assert_eq!(seq_of(&fast.recv().await.unwrap()), 21);
}

#[tokio::test]
async fn an_event_is_shared_not_copied_and_encoded_once() {
    let hub = Hub::new(8, tokio::runtime::Handle::current());
    let mut a = subscribed(&hub, 1, &[ROOM]);
    let mut b = subscribed(&hub, 2, &[ROOM]);
    skip_presence(&mut a);
    skip_presence(&mut b);
    hub.publish(ROOM, read_event(1));
    let (ea, eb) = (a.recv().await.unwrap(), b.recv().await.unwrap());
    assert!(Arc::ptr_eq(&ea, &eb));
    let mut calls = 0;
    let first = ea.encoded(|_| {
        calls += 1;
        bytes::Bytes::from_static(b"x")
    });
    let second = eb.encoded(|_| unreachable!("encoded twice"));
    assert_eq!(
        (first, second, calls),
        (
            bytes::Bytes::from_static(b"x"),
            bytes::Bytes::from_static(b"x"),
            1
        )
    );
}

#[tokio::test]
async fn leave_stops_delivery_at_once_and_join_starts_it() {
    let hub = Hub::new(8, tokio::runtime::Handle::current());
    let mut sub = subscribed(&hub, 1, &[]);
    hub.publish(ROOM, read_event(1));
    assert!(sub.try_recv().is_none(), "not a member yet");

    hub.join(UserId(1), ROOM);
    hub.publish(ROOM, read_event(2));
    assert_eq!(seq_of(&sub.recv().await.unwrap()), 2);

    hub.leave(UserId(1), ROOM);
    hub.publish(ROOM, read_event(3));
    assert!(sub.try_recv().is_none(), "removed members receive nothing");
}

#[tokio::test]
async fn closing_a_session_closes_only_its_connections() {
    let hub = Hub::new(8, tokio::runtime::Handle::current());
    let mut ended = hub.subscribe(UserId(1), Some([1; 32]));
    let mut other = hub.subscribe(UserId(1), Some([2; 32]));
    hub.attach(&ended, &[ROOM]);
    hub.attach(&other, &[ROOM]);
    hub.close_session(&[1; 32]);
    assert_eq!(ended.recv().await.unwrap_err(), CloseReason::SessionEnded);
    hub.publish(ROOM, read_event(1));
    assert_eq!(seq_of(&other.recv().await.unwrap()), 1);

    hub.close_user(UserId(1));
    assert_eq!(other.recv().await.unwrap_err(), CloseReason::SessionEnded);
}

#[tokio::test]
async fn presence_on_first_connect_and_last_disconnect() {
    let hub = Hub::new(8, tokio::runtime::Handle::current());
    let mut watcher = subscribed(&hub, 1, &[ROOM]);
    skip_presence(&mut watcher);
    let first = subscribed(&hub, 2, &[ROOM]);
    let second = subscribed(&hub, 2, &[ROOM]);
    let presence = |e: Arc<Event>| match e.kind() {
        EventKind::Presence { user_id, online } => (*user_id, *online),
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(presence(watcher.recv().await.unwrap()), (UserId(2), true));
    assert!(hub.is_online(UserId(2)));
    drop(first);
    assert!(
        watcher.try_recv().is_none(),
        "still online through the second connection"
    );
    drop(second);
    assert_eq!(presence(watcher.recv().await.unwrap()), (UserId(2), false));
    assert!(!hub.is_online(UserId(2)));
    assert_eq!(hub.connection_count(), 1);
}

#[tokio::test]
async fn closed_resolves_without_taking_events_and_connections_are_counted() {
    let hub = Hub::new(2, tokio::runtime::Handle::current());
    let mut sub = subscribed(&hub, 1, &[ROOM]);
    let _other = subscribed(&hub, 1, &[]);
    assert_eq!(hub.connections_of(UserId(1)), 2);
    assert_eq!(hub.connections_of(UserId(2)), 0);
    skip_presence(&mut sub);
    hub.publish(ROOM, read_event(1));
    let waiter = sub.closed();
    hub.close_user(UserId(1));
    assert_eq!(waiter.await, CloseReason::SessionEnded);
    assert_eq!(sub.recv().await.unwrap_err(), CloseReason::SessionEnded);
}

fn message(seq: Seq) -> crate::model::Message {
    crate::model::Message {
        id: crate::model::MessageId(seq),
        room_id: ROOM,
        seq,
        sender: crate::model::Sender {
            id: UserId(7),
            display_name: "S".into(),
        },
        body: format!("m{seq}"),
        mentions: Vec::new(),
        media: None,
        reply_to: None,
        custom: None,
        client_id: format!("c{seq}"),
        created_at: crate::model::Timestamp(0),
        edited_at: None,
        deleted: false,
        reactions: Vec::new(),
    }
}

async fn next_seq(sub: &mut Subscription) -> Seq {
    match sub.recv().await.unwrap().kind() {
        EventKind::Message(m) => m.seq,
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn messages_that_overtake_earlier_ones_are_published_in_seq_order() {
    let hub = Hub::new(16, tokio::runtime::Handle::current());
    let mut sub = subscribed(&hub, 1, &[ROOM]);
    skip_presence(&mut sub);
    hub.publish_messages([message(1)]);
    hub.publish_messages([message(3)]);
    hub.publish_messages([message(4)]);
    assert_eq!(next_seq(&mut sub).await, 1);
    assert!(sub.try_recv().is_none(), "3 and 4 wait for 2");
    hub.publish_messages([message(2)]);
    for expected in [2, 3, 4] {
        assert_eq!(next_seq(&mut sub).await, expected);
    }
}

#[tokio::test(start_paused = true)]
async fn a_gap_that_is_never_filled_is_released_after_a_short_wait() {
    let hub = Hub::new(16, tokio::runtime::Handle::current());
    let mut sub = subscribed(&hub, 1, &[ROOM]);
    skip_presence(&mut sub);
    hub.publish_messages([message(1)]);
    hub.publish_messages([message(3)]);
    assert_eq!(next_seq(&mut sub).await, 1);
    // Seq 2 never comes (its sender was cancelled after the commit, or another node stored it):
    // 3 goes out after GAP_WAIT (connections fill 2 from the store when they see the jump), and
    // a late 2 is not published behind it: out of order and already filled, it would only be
    // a duplicate.
    assert_eq!(next_seq(&mut sub).await, 3);
    hub.publish_messages([message(2)]);
    hub.publish_messages([message(4)]);
    assert_eq!(next_seq(&mut sub).await, 4);
}

fn message_in(room: RoomId, seq: Seq) -> crate::model::Message {
    crate::model::Message {
        room_id: room,
        ..message(seq)
    }
}

fn room_and_seq(event: &Event) -> (RoomId, Seq) {
    match event.kind() {
        EventKind::Message(m) => (m.room_id, m.seq),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_batch_reaches_each_connection_as_one_burst_in_seq_order_per_room() {
    const OTHER: RoomId = RoomId(2);
    let hub = Hub::new(16, tokio::runtime::Handle::current());
    let mut both = subscribed(&hub, 1, &[ROOM, OTHER]);
    let mut one = subscribed(&hub, 2, &[OTHER]);
    skip_presence(&mut both);
    skip_presence(&mut one);
    hub.publish_messages([
        message_in(ROOM, 1),
        message_in(OTHER, 1),
        message_in(ROOM, 2),
        message_in(OTHER, 2),
    ]);
    let mut got = Vec::new();
    while let Some(event) = both.try_recv() {
        got.push(room_and_seq(&event));
    }
    let in_room = |room| got.iter().filter(move |(r, _)| *r == room).map(|(_, s)| *s);
    assert_eq!(in_room(ROOM).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(in_room(OTHER).collect::<Vec<_>>(), [1, 2]);
    let mut other = Vec::new();
    while let Some(event) = one.try_recv() {
        other.push(room_and_seq(&event));
    }
    assert_eq!(other, [(OTHER, 1), (OTHER, 2)], "only its rooms, in order");
}

#[tokio::test]
async fn a_burst_that_does_not_fit_closes_the_subscriber_as_lagged() {
    let hub = Hub::new(4, tokio::runtime::Handle::current());
    let mut small = subscribed(&hub, 1, &[ROOM]);
    skip_presence(&mut small);
    hub.publish_messages((1..=5).map(|seq| message_in(ROOM, seq)));
    assert_eq!(small.recv().await.unwrap_err(), CloseReason::Lagged);
}

#[tokio::test]
async fn a_room_left_between_subscribe_and_attach_is_not_attached() {
    let hub = Hub::new(16, tokio::runtime::Handle::current());
    let other = RoomId(2);
    let mut sub = hub.subscribe(UserId(1), None);
    // The user's rooms were read (ROOM and `other`); then they were removed from ROOM, and
    // removed from and added back to `other`, before the connection attached.
    hub.leave(UserId(1), ROOM);
    hub.leave(UserId(1), other);
    hub.join(UserId(1), other);
    let left = hub.attach(&sub, &[ROOM, other]);
    assert_eq!(left, HashSet::from([ROOM]));
    skip_presence(&mut sub);
    hub.publish(ROOM, read_event(1));
    hub.publish(other, read_event(2));
    let got: Vec<Seq> = std::iter::from_fn(|| sub.try_recv())
        .map(|e| seq_of(&e))
        .collect();
    assert_eq!(got, [2], "only the room still joined is delivered");
}

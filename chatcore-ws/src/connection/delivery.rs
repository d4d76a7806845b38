//! Delivery: hub events, gap backfill and `sync` resume, all through the per-room cursors.

use std::collections::BTreeMap;

use chatcore::{Error, Event, EventKind, Message, RoomChange, RoomId, Seq};

use super::{Conn, Stop};
use crate::close;
use crate::frames::{Outgoing, encode_event};
use crate::resume::Live;

/// Messages read from the store per query while backfilling (chatcore's page limit).
const PAGE: u32 = 100;

/// What a backfill found out about the room.
enum Filled {
    /// The connection is caught up to (at least) the requested seq.
    Done,
    /// The user is not (or no longer) a member: nothing delivered, the cursor dropped.
    NotMember,
}

impl Conn {
    /// Delivers `first` and the events queued behind it, up to one writer queue's worth, so a
    /// burst (a group commit publishes many messages at once) reaches the writer as one.
    pub(super) async fn on_events(&mut self, first: &Event) -> Result<(), Stop> {
        self.on_event(first).await?;
        while self.out.staged() < self.config.outbound_queue {
            let Some(event) = self.sub.try_recv() else {
                break;
            };
            self.on_event(&event).await?;
        }
        Ok(())
    }

    /// Delivers one hub event, encoded once and shared with every other socket.
    async fn on_event(&mut self, event: &Event) -> Result<(), Stop> {
        match event.kind() {
            EventKind::Message(m) => match self.cursors.check(m.room_id, m.seq) {
                Live::Duplicate => return Ok(()),
                Live::Deliver => self.cursors.set(m.room_id, m.seq),
                Live::Gap { after } => {
                    // The store has everything up to `m.seq` (it was committed before it was
                    // published), so the backfill delivers `m` itself too.
                    self.fill_gap(m.room_id, after, m.seq).await?;
                    return Ok(());
                }
            },
            EventKind::Room {
                room_id,
                change: RoomChange::Left | RoomChange::Removed,
                user_id,
            } if *user_id == self.actor.id() => {
                self.cursors.remove(*room_id);
            }
            _ => {}
        }
        self.send_bytes(event.encoded(encode_event)).await
    }

    /// `sync`: re-checks the session, then per room sends what the client missed after its
    /// `last_seen`, oldest first (or `resync` when too much), then `synced`.
    ///
    /// The rooms are checked against the user's membership in one store read, so a `sync`
    /// listing thousands of rooms that are not the user's costs no more than one listing
    /// none; more than `max_sync_rooms` is refused outright.
    pub(super) async fn on_sync(&mut self, rooms: BTreeMap<RoomId, Seq>) -> Result<(), Stop> {
        if rooms.len() > self.config.max_sync_rooms {
            let message = format!(
                "sync lists at most {} rooms; send several",
                self.config.max_sync_rooms
            );
            return self
                .send(&Outgoing::Error {
                    code: "invalid",
                    message: &message,
                    reference: None,
                    field: Some("rooms"),
                })
                .await;
        }
        self.revalidate().await?;
        let heads = match self.chat.room_heads(&self.actor).await {
            Ok(heads) => heads,
            Err(err) => return Err(storage_failed(&err)),
        };
        let mut synced = BTreeMap::new();
        for (room, last_seen) in rooms {
            let Some(&head) = heads.get(&room) else {
                continue;
            };
            if let Filled::Done = self.fill_gap(room, last_seen.max(0), head).await? {
                synced.insert(room, self.cursors.get(room).unwrap_or(head));
            }
        }
        self.send(&Outgoing::Synced { rooms: &synced }).await
    }

    /// Brings `room` from `after` to at least `head`: from the store, oldest first, or with
    /// one `resync` when the gap is larger than the configured backfill.
    async fn fill_gap(&mut self, room: RoomId, after: Seq, head: Seq) -> Result<Filled, Stop> {
        if head - after > self.config.max_backfill {
            self.cursors.set(room, head);
            self.send(&Outgoing::Resync {
                room_id: room,
                last_seq: head,
            })
            .await?;
            return Ok(Filled::Done);
        }
        self.cursors.set(room, after);
        let mut cursor = after;
        loop {
            let page = match self
                .chat
                .messages_after(&self.actor, room, cursor, PAGE)
                .await
            {
                Ok(page) => page,
                Err(err) if not_member(&err) => {
                    self.cursors.remove(room);
                    return Ok(Filled::NotMember);
                }
                Err(err) => return Err(storage_failed(&err)),
            };
            let full = page.len() >= PAGE as usize;
            for message in &page {
                if message.seq <= cursor {
                    continue;
                }
                self.deliver_stored(message).await?;
                cursor = message.seq;
                self.cursors.set(room, cursor);
            }
            if !full || cursor >= head {
                return Ok(Filled::Done);
            }
        }
    }

    async fn deliver_stored(&mut self, message: &Message) -> Result<(), Stop> {
        self.send(&Outgoing::Message { message }).await
    }
}

/// chatcore answers `not_found` to non-members so they learn nothing; `forbidden` is treated
/// the same way here.
fn not_member(err: &Error) -> bool {
    matches!(err, Error::NotFound(_) | Error::Forbidden(_))
}

/// The delivery promise cannot be kept without the store: close, the client resumes later.
pub(super) fn storage_failed(err: &Error) -> Stop {
    tracing::warn!(%err, "store failed during delivery");
    Stop::Close(close::INTERNAL, "storage unavailable; reconnect and sync")
}

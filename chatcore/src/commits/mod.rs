//! The after-commit stream: every message the store has committed, room by room in seq order,
//! read from the store after a [`Cursor`] the consumer keeps. For webhooks, search indexing,
//! bots and audit logs.
//!
//! A [`CommitFeed`] never lags and never loses: it is told only *which* rooms have new
//! messages (a set bounded by the number of rooms, not a queue) and reads the messages
//! themselves from the store, after its cursor. A consumer that stores its cursor with what it
//! did (in the same transaction, for exactly once) resumes after a restart where it stopped;
//! rooms that moved while it was away are found by comparing every room's last seq with the
//! cursor when the feed starts.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> chatcore::Result<()> {
//! use chatcore::commits::Cursor;
//! use chatcore::{Chat, SendMessage};
//!
//! let chat = Chat::in_memory();
//! let ann = chat.external_user("app:1", "Ann").await?;
//! let room = chat.create_group(&ann, "Notes", &[]).await?.id;
//! chat.send(&ann, SendMessage { room_id: room, body: "one".into(), ..Default::default() }).await?;
//!
//! let saved = Cursor::default(); // e.g. loaded from the consumer's own database
//! let mut feed = chat.commits(saved);
//! let message = feed.next().await?;
//! assert_eq!((message.room_id, message.seq, message.body.as_str()), (room, 1, "one"));
//! let to_save = feed.cursor().clone(); // store it with the work done for `message`
//! assert_eq!(to_save.get(room), 1);
//! # Ok(()) }
//! ```
//!
//! Across several nodes, a feed sees this node's commits at once and other nodes' as the
//! broker tells this node of them; a restarted feed finds everything by its start-up scan.

mod watch;

pub(crate) use watch::{Dirty, Watchers};

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::chat::Chat;
use crate::error::Result;
use crate::model::{Message, RoomId, Seq};
use crate::store::Store;

/// Messages read from the store per round trip.
const PAGE: u32 = 100;
/// Rooms listed per round trip by the start-up scan.
const SCAN_PAGE: u32 = 500;

/// How far a consumer has got: per room, the seq of the last message it has handled (rooms
/// not named: nothing handled yet). Serializes to JSON as `{"<room id>": <seq>, …}`, to be
/// stored wherever the consumer keeps its state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor {
    rooms: BTreeMap<RoomId, Seq>,
}

impl Cursor {
    /// The seq of the last message handled in `room` (0: none).
    pub fn get(&self, room: RoomId) -> Seq {
        self.rooms.get(&room).copied().unwrap_or(0)
    }

    /// Marks everything in `room` up to `seq` as handled (never moves back).
    pub fn set(&mut self, room: RoomId, seq: Seq) {
        let at = self.rooms.entry(room).or_default();
        *at = (*at).max(seq);
    }

    /// Every room with something handled, and how far.
    pub fn rooms(&self) -> impl Iterator<Item = (RoomId, Seq)> + '_ {
        self.rooms.iter().map(|(r, s)| (*r, *s))
    }
}

/// The committed messages after a [`Cursor`], in seq order per room, each once; see the
/// [module docs](self). Made by [`Chat::commits`].
pub struct CommitFeed {
    store: Arc<dyn Store>,
    dirty: Arc<Dirty>,
    cursor: Cursor,
    /// Read from the store, not yet handed out.
    pending: VecDeque<Message>,
    /// Whether the start-up scan has found the rooms that moved past the cursor.
    scanned: bool,
}

impl Chat {
    /// A feed of every message committed after `from`, in every room, with no access checks:
    /// it is the host's own view of the chat, not a user's. It never lags behind and drops
    /// nothing; hold it as long as needed, drop it to stop.
    pub fn commits(&self, from: Cursor) -> CommitFeed {
        CommitFeed {
            store: self.shared_store(),
            // Watching before the scan: a commit during the scan is seen by one or the other.
            dirty: self.hub().watch_commits(),
            cursor: from,
            pending: VecDeque::new(),
            scanned: false,
        }
    }
}

impl CommitFeed {
    /// The next committed message past the cursor, waiting for one when there is none, and
    /// the cursor moved past it. Rooms come in no promised order relative to each other; each
    /// room's messages come in seq order without a gap.
    ///
    /// A store failure is returned as [`Error::Storage`](crate::Error::Storage) and loses
    /// nothing: call again. Cancel-safe: a call abandoned half way (in a `select!` or a
    /// timeout) skips nothing.
    pub async fn next(&mut self) -> Result<Message> {
        loop {
            if let Some(message) = self.pending.pop_front() {
                self.cursor.set(message.room_id, message.seq);
                return Ok(message);
            }
            if !self.scanned {
                self.scan().await?;
                self.scanned = true;
                continue;
            }
            match self.dirty.first() {
                Some((room, marks)) => self.read(room, marks).await?,
                None => self.dirty.marked().await,
            }
        }
    }

    /// How far the messages returned so far go: save it with the work done for them.
    pub fn cursor(&self) -> &Cursor {
        &self.cursor
    }

    /// Reads the next page of `room` past the cursor; unmarks the room once read to its end.
    async fn read(&mut self, room: RoomId, marks: u64) -> Result<()> {
        let after = self.cursor.get(room);
        let page = self.store.messages_after(room, after, PAGE).await?;
        if page.len() < PAGE as usize {
            self.dirty.clear(room, marks);
        }
        self.pending.extend(page);
        Ok(())
    }

    /// Marks every room whose last seq is past the cursor.
    async fn scan(&mut self) -> Result<()> {
        let mut after = RoomId(0);
        loop {
            let heads = self.store.room_heads(after, SCAN_PAGE).await?;
            for &(room, last_seq) in &heads {
                if last_seq > self.cursor.get(room) {
                    self.dirty.mark(room);
                }
            }
            match heads.last() {
                Some(&(room, _)) if heads.len() == SCAN_PAGE as usize => after = room,
                _ => return Ok(()),
            }
        }
    }
}

impl std::fmt::Debug for CommitFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitFeed")
            .field("cursor", &self.cursor)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;

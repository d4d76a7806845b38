//! In-memory, non-persistent [`Store`]: the default for tests, examples and embedding
//! experiments. Everything is lost when it is dropped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::{Entity, StoreError, Unique};
use crate::model::*;
use crate::store::{Among, Store, StoreResult};

/// In-memory, non-persistent implementation of [`Store`].
///
/// One `std::sync::Mutex` guards all state: every method is a short critical section with no
/// `.await` inside, which also makes each method trivially atomic.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_id: i64,
    users: BTreeMap<UserId, UserRow>,
    sessions: HashMap<[u8; 32], Session>,
    rooms: BTreeMap<RoomId, RoomRow>,
    media: HashMap<MediaId, Media>,
    /// Invite links with their token hashes, by id (so oldest first).
    invites: BTreeMap<InviteId, (Invite, [u8; 32])>,
}

#[derive(Debug)]
struct UserRow {
    user: User,
    password_hash: Option<String>,
}

#[derive(Debug)]
struct RoomRow {
    room: Room,
    direct_key: Option<String>,
    members: Vec<Member>,
    messages: Vec<StoredMessage>,
    client_ids: HashMap<(UserId, String), Seq>,
}

#[derive(Debug, Clone)]
struct StoredMessage {
    id: MessageId,
    seq: Seq,
    sender: UserId,
    body: String,
    mentions: Vec<Mention>,
    media: Option<MediaId>,
    reply_to: Option<Seq>,
    custom: Option<Box<Custom>>,
    client_id: String,
    created_at: Timestamp,
    edited_at: Option<Timestamp>,
    deleted: bool,
    /// (emoji, user, when), kept in the order of [`Store`]'s reaction contract.
    reactions: Vec<(String, UserId, Timestamp)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied change behind (methods
        // validate before mutating), so a poisoned lock is safe to keep using.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    fn user_mut(&mut self, id: UserId) -> StoreResult<&mut UserRow> {
        self.users
            .get_mut(&id)
            .ok_or(StoreError::Missing(Entity::User))
    }

    /// The total size of `user`'s media created at or after `since`.
    fn bytes_uploaded_since(&self, user: UserId, since: Timestamp) -> u64 {
        self.media
            .values()
            .filter(|m| m.uploader_id == user && m.created_at >= since)
            .map(|m| m.size)
            .sum()
    }

    fn room_mut(&mut self, id: RoomId) -> StoreResult<&mut RoomRow> {
        self.rooms
            .get_mut(&id)
            .ok_or(StoreError::Missing(Entity::Room))
    }

    fn username_taken(&self, username: &str) -> bool {
        self.users
            .values()
            .any(|u| u.user.username.as_deref() == Some(username))
    }

    /// Whether a message carries the media (messages only carry media of their own room).
    fn is_attached(&self, id: MediaId) -> bool {
        let room = self.media.get(&id).and_then(|m| self.rooms.get(&m.room_id));
        room.is_some_and(|r| r.messages.iter().any(|m| m.media == Some(id)))
    }

    fn to_message(&self, room: RoomId, m: &StoredMessage) -> Message {
        let display_name = self
            .users
            .get(&m.sender)
            .map(|u| u.user.display_name.clone())
            .unwrap_or_default();
        Message {
            id: m.id,
            room_id: room,
            seq: m.seq,
            sender: Sender {
                id: m.sender,
                display_name,
            },
            body: m.body.clone(),
            mentions: m.mentions.clone(),
            media: m
                .media
                .and_then(|id| self.media.get(&id))
                .map(|m| Box::new(MediaRef::from(m))),
            reply_to: m.reply_to,
            custom: m.custom.clone(),
            client_id: m.client_id.clone(),
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted: m.deleted,
            reactions: Reaction::group(m.reactions.iter().map(|(e, u, _)| (e.clone(), *u))),
        }
    }

    fn message_range(&self, room: RoomId, lo: Seq, hi: Seq) -> StoreResult<Vec<Message>> {
        let row = self
            .rooms
            .get(&room)
            .ok_or(StoreError::Missing(Entity::Room))?;
        // Seqs are 1-based and gapless, so seq n lives at index n - 1.
        let lo = lo.max(1) as usize;
        let hi = (hi.max(0) as usize).min(row.messages.len());
        Ok(row
            .messages
            .get(lo - 1..hi)
            .unwrap_or(&[])
            .iter()
            .map(|m| self.to_message(room, m))
            .collect())
    }

    fn append(&mut self, msg: NewMessage) -> StoreResult<(Message, bool)> {
        let media_known = msg.media_id.is_none_or(|id| self.media.contains_key(&id));
        let key = (msg.sender_id, msg.client_id.clone());
        let row = self.room_mut(msg.room_id)?;
        if !row.members.iter().any(|m| m.user_id == msg.sender_id) {
            return Err(StoreError::Missing(Entity::Member));
        }
        if !media_known {
            return Err(StoreError::Missing(Entity::Media));
        }
        if let Some(&seq) = row.client_ids.get(&key) {
            let first = row.messages[(seq - 1) as usize].clone();
            return Ok((self.to_message(msg.room_id, &first), false));
        }
        let id = MessageId(self.next_id());
        let row = self.room_mut(msg.room_id)?;
        let seq = row.room.last_seq + 1;
        let stored = StoredMessage {
            id,
            seq,
            sender: msg.sender_id,
            body: msg.body,
            mentions: msg.mentions,
            media: msg.media_id,
            reply_to: msg.reply_to,
            custom: msg.custom.map(Box::new),
            client_id: msg.client_id,
            created_at: msg.created_at,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
        };
        row.room.last_seq = seq;
        row.client_ids.insert(key, seq);
        row.messages.push(stored.clone());
        Ok((self.to_message(msg.room_id, &stored), true))
    }

    /// Deletes the sessions matching `doomed` and returns their hashes.
    fn delete_sessions_where(&mut self, doomed: impl Fn(&Session) -> bool) -> Vec<[u8; 32]> {
        let hashes: Vec<[u8; 32]> = self
            .sessions
            .values()
            .filter(|s| doomed(s))
            .map(|s| s.token_hash)
            .collect();
        for h in &hashes {
            self.sessions.remove(h);
        }
        hashes
    }

    fn stored_message_mut(&mut self, room: RoomId, seq: Seq) -> StoreResult<&mut StoredMessage> {
        let row = self.room_mut(room)?;
        usize::try_from(seq - 1)
            .ok()
            .and_then(|i| row.messages.get_mut(i))
            .ok_or(StoreError::Missing(Entity::Message))
    }

    /// Everyone who shares a room with `user` (`user` too, when they are in any room).
    fn roommates(&self, user: UserId) -> HashSet<UserId> {
        self.rooms
            .values()
            .filter(|r| r.members.iter().any(|m| m.user_id == user))
            .flat_map(|r| r.members.iter().map(|m| m.user_id))
            .collect()
    }

    /// A message that is not a tombstone; `Missing(Message)` otherwise.
    fn live_message_mut(&mut self, room: RoomId, seq: Seq) -> StoreResult<&mut StoredMessage> {
        match self.stored_message_mut(room, seq) {
            Ok(m) if !m.deleted => Ok(m),
            _ => Err(StoreError::Missing(Entity::Message)),
        }
    }

    fn member_mut(&mut self, room: RoomId, user: UserId) -> StoreResult<&mut Member> {
        self.room_mut(room)?
            .members
            .iter_mut()
            .find(|m| m.user_id == user)
            .ok_or(StoreError::Missing(Entity::Member))
    }
}

fn matches_prefix(user: &User, prefix: &str) -> bool {
    let prefix = prefix.to_lowercase();
    user.username
        .as_deref()
        .is_some_and(|u| u.starts_with(&prefix))
        || user.display_name.to_lowercase().starts_with(&prefix)
}

#[async_trait]
impl Store for MemoryStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        let mut st = self.lock();
        if new
            .username
            .as_deref()
            .is_some_and(|u| st.username_taken(u))
        {
            return Err(StoreError::Duplicate(Unique::Username));
        }
        if new.external_id.is_some()
            && st
                .users
                .values()
                .any(|u| u.user.external_id == new.external_id)
        {
            return Err(StoreError::Duplicate(Unique::ExternalId));
        }
        let user = User {
            id: UserId(st.next_id()),
            username: new.username,
            display_name: new.display_name,
            is_guest: new.is_guest,
            is_server_admin: false,
            disabled: false,
            external_id: new.external_id,
            created_at: new.created_at,
            last_active_at: new.created_at,
            avatar: None,
            hide_last_seen: false,
        };
        st.users.insert(
            user.id,
            UserRow {
                user: user.clone(),
                password_hash: new.password_hash,
            },
        );
        Ok(user)
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.lock().users.get(&id).map(|r| r.user.clone()))
    }

    async fn user_by_username(
        &self,
        username: &str,
    ) -> StoreResult<Option<(User, Option<String>)>> {
        let username = username.to_lowercase();
        Ok(self
            .lock()
            .users
            .values()
            .find(|r| r.user.username.as_deref() == Some(username.as_str()))
            .map(|r| (r.user.clone(), r.password_hash.clone())))
    }

    async fn user_by_external_id(&self, external_id: &str) -> StoreResult<Option<User>> {
        Ok(self
            .lock()
            .users
            .values()
            .find(|r| r.user.external_id.as_deref() == Some(external_id))
            .map(|r| r.user.clone()))
    }

    async fn password_hash(&self, id: UserId) -> StoreResult<Option<String>> {
        Ok(self
            .lock()
            .users
            .get(&id)
            .and_then(|r| r.password_hash.clone()))
    }

    async fn search_users(&self, prefix: &str, among: Among, limit: u32) -> StoreResult<Vec<User>> {
        let st = self.lock();
        let listed: Box<dyn Fn(&User) -> bool> = match among {
            Among::Everyone => Box::new(|_| true),
            Among::RegisteredOrRoommatesOf(me) => {
                let mates = st.roommates(me);
                Box::new(move |u| !u.is_guest || (u.id != me && mates.contains(&u.id)))
            }
            Among::RoommatesOf(me) => {
                let mates = st.roommates(me);
                Box::new(move |u| u.id != me && mates.contains(&u.id))
            }
        };
        Ok(st
            .users
            .values()
            .filter(|r| !r.user.disabled && listed(&r.user) && matches_prefix(&r.user, prefix))
            .take(limit as usize)
            .map(|r| r.user.clone())
            .collect())
    }

    async fn share_a_room(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        Ok(self.lock().rooms.values().any(|r| {
            r.members.iter().any(|m| m.user_id == a) && r.members.iter().any(|m| m.user_id == b)
        }))
    }

    async fn list_users(&self, after: UserId, limit: u32) -> StoreResult<Vec<User>> {
        Ok(self
            .lock()
            .users
            .range(UserId(after.0 + 1)..)
            .take(limit as usize)
            .map(|(_, r)| r.user.clone())
            .collect())
    }

    async fn set_password_hash(&self, id: UserId, hash: &str) -> StoreResult<()> {
        self.lock().user_mut(id)?.password_hash = Some(hash.to_owned());
        Ok(())
    }

    async fn upgrade_guest(
        &self,
        id: UserId,
        username: &str,
        hash: &str,
    ) -> StoreResult<(User, Vec<[u8; 32]>)> {
        let mut st = self.lock();
        if !st.user_mut(id)?.user.is_guest {
            return Err(StoreError::NotAGuest);
        }
        if st.username_taken(username) {
            return Err(StoreError::Duplicate(Unique::Username));
        }
        let row = st.user_mut(id)?;
        row.user.username = Some(username.to_owned());
        row.user.is_guest = false;
        row.password_hash = Some(hash.to_owned());
        let user = row.user.clone();
        Ok((user, st.delete_sessions_where(|s| s.user_id == id)))
    }

    async fn set_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
        self.lock().user_mut(id)?.user.disabled = disabled;
        Ok(())
    }

    async fn set_server_admin(&self, id: UserId, admin: bool) -> StoreResult<()> {
        self.lock().user_mut(id)?.user.is_server_admin = admin;
        Ok(())
    }

    async fn set_display_name(&self, id: UserId, display_name: &str) -> StoreResult<()> {
        display_name.clone_into(&mut self.lock().user_mut(id)?.user.display_name);
        Ok(())
    }

    async fn update_profile(&self, id: UserId, change: &ProfileChange) -> StoreResult<User> {
        let mut st = self.lock();
        let user = &mut st.user_mut(id)?.user;
        if let Some(name) = &change.display_name {
            name.clone_into(&mut user.display_name);
        }
        if let Some(hide) = change.hide_last_seen {
            user.hide_last_seen = hide;
        }
        Ok(user.clone())
    }

    async fn set_avatar(
        &self,
        id: UserId,
        avatar: Option<&Avatar>,
    ) -> StoreResult<(User, Option<Avatar>)> {
        let mut st = self.lock();
        let user = &mut st.user_mut(id)?.user;
        let before = std::mem::replace(&mut user.avatar, avatar.cloned());
        Ok((user.clone(), before))
    }

    async fn touch_user(&self, id: UserId, at: Timestamp) -> StoreResult<()> {
        let mut st = self.lock();
        let row = st.user_mut(id)?;
        row.user.last_active_at = row.user.last_active_at.max(at);
        Ok(())
    }

    async fn expire_guests(&self, inactive_since: Timestamp) -> StoreResult<Vec<UserId>> {
        let mut st = self.lock();
        let expired: Vec<UserId> = st
            .users
            .values_mut()
            .filter(|r| {
                r.user.is_guest && !r.user.disabled && r.user.last_active_at < inactive_since
            })
            .map(|r| {
                r.user.disabled = true;
                r.user.id
            })
            .collect();
        st.delete_sessions_where(|s| expired.contains(&s.user_id));
        Ok(expired)
    }

    async fn create_session(&self, session: Session) -> StoreResult<()> {
        let mut st = self.lock();
        if st.sessions.contains_key(&session.token_hash) {
            return Err(StoreError::Duplicate(Unique::Session));
        }
        st.user_mut(session.user_id)?;
        st.sessions.insert(session.token_hash, session);
        Ok(())
    }

    async fn session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<Session>> {
        Ok(self.lock().sessions.get(token_hash).cloned())
    }

    async fn touch_session(&self, token_hash: &[u8; 32], at: Timestamp) -> StoreResult<()> {
        if let Some(s) = self.lock().sessions.get_mut(token_hash) {
            s.last_seen_at = s.last_seen_at.max(at);
        }
        Ok(())
    }

    async fn delete_session(&self, token_hash: &[u8; 32]) -> StoreResult<bool> {
        Ok(self.lock().sessions.remove(token_hash).is_some())
    }

    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&[u8; 32]>,
    ) -> StoreResult<Vec<[u8; 32]>> {
        Ok(self
            .lock()
            .delete_sessions_where(|s| s.user_id == user && Some(&s.token_hash) != keep))
    }

    async fn delete_expired_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<([u8; 32], UserId)>> {
        let mut st = self.lock();
        let doomed: Vec<([u8; 32], UserId)> = st
            .sessions
            .values()
            .filter(|s| s.last_seen_at < idle_before || s.created_at < created_before)
            .take(limit as usize)
            .map(|s| (s.token_hash, s.user_id))
            .collect();
        for (hash, _) in &doomed {
            st.sessions.remove(hash);
        }
        Ok(doomed)
    }

    async fn create_room(&self, new: NewRoom) -> StoreResult<Room> {
        let mut st = self.lock();
        if new.direct_key.is_some() && st.rooms.values().any(|r| r.direct_key == new.direct_key) {
            return Err(StoreError::Duplicate(Unique::DirectRoom));
        }
        if new.members.iter().any(|(u, _)| !st.users.contains_key(u)) {
            return Err(StoreError::Missing(Entity::User));
        }
        let room = Room {
            id: RoomId(st.next_id()),
            kind: new.kind,
            name: new.name,
            last_seq: 0,
            created_at: new.created_at,
        };
        let members = new
            .members
            .iter()
            .map(|&(user_id, role)| Member {
                room_id: room.id,
                user_id,
                role,
                joined_at: new.created_at,
                last_read_seq: 0,
                settings: RoomSettings::default(),
            })
            .collect();
        st.rooms.insert(
            room.id,
            RoomRow {
                room: room.clone(),
                direct_key: new.direct_key,
                members,
                messages: Vec::new(),
                client_ids: HashMap::new(),
            },
        );
        Ok(room)
    }

    async fn room(&self, id: RoomId) -> StoreResult<Option<Room>> {
        Ok(self.lock().rooms.get(&id).map(|r| r.room.clone()))
    }

    async fn direct_room(&self, direct_key: &str) -> StoreResult<Option<Room>> {
        Ok(self
            .lock()
            .rooms
            .values()
            .find(|r| r.direct_key.as_deref() == Some(direct_key))
            .map(|r| r.room.clone()))
    }

    async fn room_heads(&self, after: RoomId, limit: u32) -> StoreResult<Vec<(RoomId, Seq)>> {
        Ok(self
            .lock()
            .rooms
            .range(RoomId(after.0.saturating_add(1))..)
            .take(limit as usize)
            .map(|(id, r)| (*id, r.room.last_seq))
            .collect())
    }

    async fn rename_room(&self, id: RoomId, name: &str) -> StoreResult<()> {
        self.lock().room_mut(id)?.room.name = Some(name.to_owned());
        Ok(())
    }

    async fn rooms_of_user(&self, user: UserId) -> StoreResult<Vec<(Room, Member)>> {
        Ok(self
            .lock()
            .rooms
            .values()
            .filter_map(|r| {
                let m = r.members.iter().find(|m| m.user_id == user)?;
                Some((r.room.clone(), m.clone()))
            })
            .collect())
    }

    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>> {
        Ok(self
            .lock()
            .rooms
            .get(&room)
            .map(|r| r.members.clone())
            .unwrap_or_default())
    }

    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>> {
        Ok(self
            .lock()
            .rooms
            .get(&room)
            .and_then(|r| r.members.iter().find(|m| m.user_id == user).cloned()))
    }

    async fn add_member(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        at: Timestamp,
        max_members: usize,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        if !st.users.contains_key(&user) {
            return Err(StoreError::Missing(Entity::User));
        }
        let row = st.room_mut(room)?;
        if row.members.iter().any(|m| m.user_id == user) {
            return Err(StoreError::Duplicate(Unique::Member));
        }
        if row.members.len() >= max_members {
            return Err(StoreError::RoomFull);
        }
        row.members.push(Member {
            room_id: room,
            user_id: user,
            role,
            joined_at: at,
            last_read_seq: 0,
            settings: RoomSettings::default(),
        });
        Ok(())
    }

    async fn remove_member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Removed>> {
        let mut guard = self.lock();
        let State { users, rooms, .. } = &mut *guard;
        let Some(row) = rooms.get_mut(&room) else {
            return Ok(None);
        };
        let Some(at) = row.members.iter().position(|m| m.user_id == user) else {
            return Ok(None);
        };
        let removed = row.members.remove(at);
        let last_admin_left =
            removed.role == Role::Admin && !row.members.iter().any(|m| m.role == Role::Admin);
        let promoted = if last_admin_left {
            let full = |m: &&mut Member| {
                users
                    .get(&m.user_id)
                    .is_some_and(|u| !u.user.is_guest && !u.user.disabled)
            };
            row.members.iter_mut().find(full).map(|heir| {
                heir.role = Role::Admin;
                heir.user_id
            })
        } else {
            None
        };
        Ok(Some(Removed { promoted }))
    }

    async fn set_role(&self, room: RoomId, user: UserId, role: Role) -> StoreResult<()> {
        let mut st = self.lock();
        let row = st.room_mut(room)?;
        let admins = row.members.iter().filter(|m| m.role == Role::Admin).count();
        let member = row
            .members
            .iter_mut()
            .find(|m| m.user_id == user)
            .ok_or(StoreError::Missing(Entity::Member))?;
        if member.role == Role::Admin && role != Role::Admin && admins == 1 {
            return Err(StoreError::LastAdmin);
        }
        member.role = role;
        Ok(())
    }

    async fn mark_read(&self, room: RoomId, user: UserId, seq: Seq) -> StoreResult<Seq> {
        let mut st = self.lock();
        let m = st.member_mut(room, user)?;
        m.last_read_seq = m.last_read_seq.max(seq);
        Ok(m.last_read_seq)
    }

    async fn set_room_settings(
        &self,
        room: RoomId,
        user: UserId,
        change: SettingsChange,
    ) -> StoreResult<(RoomSettings, bool)> {
        let mut st = self.lock();
        let m = st.member_mut(room, user)?;
        let before = m.settings;
        m.settings = change.apply(before);
        Ok((m.settings, m.settings != before))
    }

    async fn append_message(&self, msg: NewMessage) -> StoreResult<(Message, bool)> {
        self.lock().append(msg)
    }

    async fn append_messages(&self, msgs: Vec<NewMessage>) -> Vec<StoreResult<(Message, bool)>> {
        let mut st = self.lock();
        msgs.into_iter().map(|m| st.append(m)).collect()
    }

    async fn message(&self, room: RoomId, seq: Seq) -> StoreResult<Option<Message>> {
        let st = self.lock();
        Ok(st
            .message_range(room, seq, seq)
            .ok()
            .and_then(|mut v| v.pop()))
    }

    async fn messages_before(
        &self,
        room: RoomId,
        before: Option<Seq>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let st = self.lock();
        let last = st.rooms.get(&room).map_or(0, |r| r.room.last_seq);
        let hi = before.map_or(last, |b| (b - 1).min(last));
        st.message_range(room, hi - i64::from(limit) + 1, hi)
    }

    async fn messages_after(
        &self,
        room: RoomId,
        after: Seq,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let st = self.lock();
        let lo = after.max(0) + 1;
        st.message_range(room, lo, lo + i64::from(limit) - 1)
    }

    async fn edit_message(
        &self,
        room: RoomId,
        seq: Seq,
        body: &str,
        mentions: &[Mention],
        at: Timestamp,
    ) -> StoreResult<Message> {
        let mut st = self.lock();
        let m = st.stored_message_mut(room, seq)?;
        m.body = body.to_owned();
        m.mentions = mentions.to_vec();
        m.edited_at = Some(at);
        let m = m.clone();
        Ok(st.to_message(room, &m))
    }

    async fn delete_message(&self, room: RoomId, seq: Seq, at: Timestamp) -> StoreResult<Message> {
        let mut st = self.lock();
        let m = st.stored_message_mut(room, seq)?;
        m.body.clear();
        m.mentions.clear();
        m.media = None;
        m.custom = None;
        m.reactions.clear();
        m.deleted = true;
        m.edited_at = Some(at);
        let m = m.clone();
        Ok(st.to_message(room, &m))
    }

    async fn count_unread(&self, room: RoomId, user: UserId, after_seq: Seq) -> StoreResult<u64> {
        let st = self.lock();
        Ok(st.rooms.get(&room).map_or(0, |r| {
            r.messages
                .iter()
                .filter(|m| m.seq > after_seq && m.sender != user && !m.deleted)
                .count() as u64
        }))
    }

    async fn add_reaction(
        &self,
        room: RoomId,
        seq: Seq,
        user: UserId,
        emoji: &str,
        at: Timestamp,
        max_emojis: usize,
    ) -> StoreResult<(Vec<Reaction>, bool)> {
        let mut st = self.lock();
        let m = st.live_message_mut(room, seq)?;
        let changed = if m.reactions.iter().any(|(e, u, _)| e == emoji && *u == user) {
            false
        } else {
            let mut emojis: Vec<&str> = m.reactions.iter().map(|(e, _, _)| e.as_str()).collect();
            emojis.sort_unstable();
            emojis.dedup();
            if !emojis.contains(&emoji) && emojis.len() >= max_emojis {
                return Err(StoreError::TooManyReactions);
            }
            m.reactions.push((emoji.to_owned(), user, at));
            // The contract's order: by time, then as taken (the sort is stable).
            m.reactions.sort_by_key(|r| r.2);
            true
        };
        let m = m.clone();
        Ok((st.to_message(room, &m).reactions, changed))
    }

    async fn remove_reaction(
        &self,
        room: RoomId,
        seq: Seq,
        user: UserId,
        emoji: &str,
    ) -> StoreResult<(Vec<Reaction>, bool)> {
        let mut st = self.lock();
        let m = st.live_message_mut(room, seq)?;
        let before = m.reactions.len();
        m.reactions.retain(|(e, u, _)| !(e == emoji && *u == user));
        let changed = m.reactions.len() != before;
        let m = m.clone();
        Ok((st.to_message(room, &m).reactions, changed))
    }

    async fn search_messages(
        &self,
        rooms: &[RoomId],
        text: &str,
        before: Option<MessageId>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let st = self.lock();
        let mut found: Vec<(RoomId, &StoredMessage)> = rooms
            .iter()
            .filter_map(|id| st.rooms.get(id).map(|row| (*id, row)))
            .flat_map(|(id, row)| row.messages.iter().map(move |m| (id, m)))
            .filter(|(_, m)| before.is_none_or(|b| m.id < b))
            .filter(|(_, m)| !m.deleted && crate::search::contains(&m.body, text))
            .collect();
        found.sort_by_key(|(_, m)| std::cmp::Reverse(m.id));
        found.dedup_by_key(|(_, m)| m.id);
        Ok(found
            .into_iter()
            .take(limit as usize)
            .map(|(room, m)| {
                let mut msg = st.to_message(room, m);
                msg.reactions.clear();
                msg
            })
            .collect())
    }

    async fn create_invite(&self, new: NewInvite, max_invites: usize) -> StoreResult<Invite> {
        let mut st = self.lock();
        if !st.rooms.contains_key(&new.room_id) {
            return Err(StoreError::Missing(Entity::Room));
        }
        if st.invites.values().any(|(_, h)| *h == new.token_hash) {
            return Err(StoreError::Duplicate(Unique::Invite));
        }
        let in_room = |i: &Invite| i.room_id == new.room_id;
        let usable = st
            .invites
            .values()
            .filter(|(i, _)| in_room(i) && i.is_usable(new.created_at))
            .count();
        if usable >= max_invites {
            return Err(StoreError::TooManyInvites);
        }
        st.invites
            .retain(|_, (i, _)| !in_room(i) || i.is_usable(new.created_at));
        let invite = Invite {
            id: InviteId(st.next_id()),
            room_id: new.room_id,
            token_prefix: new.token_prefix,
            created_by: new.created_by,
            created_at: new.created_at,
            expires_at: new.expires_at,
            max_uses: new.max_uses,
            uses: 0,
        };
        st.invites
            .insert(invite.id, (invite.clone(), new.token_hash));
        Ok(invite)
    }

    async fn invites(&self, room: RoomId) -> StoreResult<Vec<Invite>> {
        let st = self.lock();
        let of_room = st.invites.values().filter(|(i, _)| i.room_id == room);
        Ok(of_room.map(|(i, _)| i.clone()).collect())
    }

    async fn invite_by_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<Invite>> {
        let st = self.lock();
        let found = st.invites.values().find(|(_, h)| h == token_hash);
        Ok(found.map(|(i, _)| i.clone()))
    }

    async fn delete_invite(&self, room: RoomId, id: InviteId) -> StoreResult<bool> {
        let mut st = self.lock();
        if st.invites.get(&id).is_none_or(|(i, _)| i.room_id != room) {
            return Ok(false);
        }
        Ok(st.invites.remove(&id).is_some())
    }

    async fn redeem_invite(
        &self,
        token_hash: &[u8; 32],
        user: UserId,
        at: Timestamp,
        max_members: usize,
    ) -> StoreResult<Redeemed> {
        let mut guard = self.lock();
        let State {
            users,
            rooms,
            invites,
            ..
        } = &mut *guard;
        let Some((invite, _)) = invites.values_mut().find(|(_, h)| h == token_hash) else {
            return Err(StoreError::Missing(Entity::Invite));
        };
        if !users.contains_key(&user) {
            return Err(StoreError::Missing(Entity::User));
        }
        let room_id = invite.room_id;
        let row = rooms
            .get_mut(&room_id)
            .ok_or(StoreError::Missing(Entity::Room))?;
        if row.members.iter().any(|m| m.user_id == user) {
            return Ok(Redeemed {
                room_id,
                joined: false,
            });
        }
        if !invite.is_usable(at) {
            return Err(StoreError::Missing(Entity::Invite));
        }
        if row.members.len() >= max_members {
            return Err(StoreError::RoomFull);
        }
        invite.uses += 1;
        row.members.push(Member {
            room_id,
            user_id: user,
            role: Role::Member,
            joined_at: at,
            last_read_seq: 0,
            settings: RoomSettings::default(),
        });
        Ok(Redeemed {
            room_id,
            joined: true,
        })
    }

    async fn create_media(&self, new: NewMedia, quota: UploadQuota) -> StoreResult<Media> {
        let mut st = self.lock();
        st.room_mut(new.room_id)?;
        st.user_mut(new.uploader_id)?;
        if st.media.contains_key(&new.id) {
            return Err(StoreError::Duplicate(Unique::Media));
        }
        if st
            .bytes_uploaded_since(new.uploader_id, quota.since)
            .saturating_add(new.size)
            > quota.limit
        {
            return Err(StoreError::QuotaExceeded);
        }
        let media = Media {
            id: new.id,
            room_id: new.room_id,
            uploader_id: new.uploader_id,
            mime: new.mime,
            size: new.size,
            sha256: new.sha256,
            key: new.key,
            details: new.details,
            created_at: new.created_at,
        };
        st.media.insert(media.id, media.clone());
        Ok(media)
    }

    async fn media(&self, id: MediaId) -> StoreResult<Option<Media>> {
        Ok(self.lock().media.get(&id).cloned())
    }

    async fn media_attached(&self, id: MediaId) -> StoreResult<bool> {
        Ok(self.lock().is_attached(id))
    }

    async fn release_media(&self, id: MediaId) -> StoreResult<Option<String>> {
        let mut st = self.lock();
        if !st.media.contains_key(&id) || st.is_attached(id) {
            return Ok(None);
        }
        let Some(gone) = st.media.remove(&id) else {
            return Ok(None);
        };
        let shared = st.media.values().any(|m| m.key == gone.key);
        Ok((!shared).then_some(gone.key))
    }

    async fn unattached_media(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<MediaId>> {
        let st = self.lock();
        let mut old: Vec<&Media> = st
            .media
            .values()
            .filter(|m| m.created_at < before && !st.is_attached(m.id))
            .collect();
        old.sort_by_key(|m| m.created_at);
        Ok(old.into_iter().take(limit as usize).map(|m| m.id).collect())
    }

    async fn uploaded_bytes_since(&self, user: UserId, since: Timestamp) -> StoreResult<u64> {
        Ok(self.lock().bytes_uploaded_since(user, since))
    }

    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}

//! A store that can hold one call at a gate, for tests of races between operations.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::oneshot;

use crate::model::*;
use crate::store::{Among, Store, StoreResult};

/// Passes every call through to the wrapped store, except that the next
/// [`Store::rooms_of_user`] can be held after it has read the rooms and before it returns them:
/// exactly the moment a [`Chat::connect`](crate::Chat::connect) is between looking up the
/// user's rooms and starting their delivery; and the next [`Store::append_messages`] after it
/// committed and before it answers: a send stored but not yet acknowledged. Tests run something
/// there and then release it.
pub struct GatedStore {
    inner: Arc<dyn Store>,
    gate: Mutex<Option<Gate>>,
    append_gate: Mutex<Option<Gate>>,
}

struct Gate {
    arrived: oneshot::Sender<()>,
    release: oneshot::Receiver<()>,
}

/// The test's side of a held call.
#[derive(Debug)]
pub struct Held {
    arrived: oneshot::Receiver<()>,
    release: oneshot::Sender<()>,
}

impl Held {
    /// Waits until the held call has read its answer and stopped at the gate.
    pub async fn arrived(&mut self) {
        (&mut self.arrived).await.ok();
    }

    /// Lets the held call return.
    pub fn release(self) {
        self.release.send(()).ok();
    }
}

impl GatedStore {
    /// A pass-through wrapper of `inner`.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        GatedStore {
            inner,
            gate: Mutex::new(None),
            append_gate: Mutex::new(None),
        }
    }

    /// Holds the next `rooms_of_user` call at the gate until the returned handle releases it.
    pub fn hold_next_rooms_of_user(&self) -> Held {
        arm(&self.gate)
    }

    /// Holds the next `append_messages` call, once the wrapped store has committed it, until
    /// the returned handle releases it.
    pub fn hold_next_append(&self) -> Held {
        arm(&self.append_gate)
    }
}

fn arm(slot: &Mutex<Option<Gate>>) -> Held {
    let (arrived_tx, arrived) = oneshot::channel();
    let (release, release_rx) = oneshot::channel();
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(Gate {
        arrived: arrived_tx,
        release: release_rx,
    });
    Held { arrived, release }
}

impl Gate {
    /// Says the call arrived and waits for its release.
    async fn pass(self) {
        self.arrived.send(()).ok();
        self.release.await.ok();
    }
}

#[async_trait]
impl Store for GatedStore {
    async fn rooms_of_user(&self, user: UserId) -> StoreResult<Vec<(Room, Member)>> {
        let gate = self.gate.lock().unwrap_or_else(|p| p.into_inner()).take();
        let rooms = self.inner.rooms_of_user(user).await;
        if let Some(gate) = gate {
            gate.pass().await;
        }
        rooms
    }

    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        self.inner.create_user(user).await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.inner.user(id).await
    }

    async fn user_by_username(
        &self,
        username: &str,
    ) -> StoreResult<Option<(User, Option<String>)>> {
        self.inner.user_by_username(username).await
    }

    async fn user_by_external_id(&self, external_id: &str) -> StoreResult<Option<User>> {
        self.inner.user_by_external_id(external_id).await
    }

    async fn password_hash(&self, id: UserId) -> StoreResult<Option<String>> {
        self.inner.password_hash(id).await
    }

    async fn search_users(&self, prefix: &str, among: Among, limit: u32) -> StoreResult<Vec<User>> {
        self.inner.search_users(prefix, among, limit).await
    }

    async fn share_a_room(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        self.inner.share_a_room(a, b).await
    }

    async fn list_users(&self, after: UserId, limit: u32) -> StoreResult<Vec<User>> {
        self.inner.list_users(after, limit).await
    }

    async fn set_password_hash(&self, id: UserId, hash: &str) -> StoreResult<()> {
        self.inner.set_password_hash(id, hash).await
    }

    async fn upgrade_guest(
        &self,
        id: UserId,
        username: &str,
        hash: &str,
    ) -> StoreResult<(User, Vec<[u8; 32]>)> {
        self.inner.upgrade_guest(id, username, hash).await
    }

    async fn set_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
        self.inner.set_disabled(id, disabled).await
    }

    async fn set_server_admin(&self, id: UserId, admin: bool) -> StoreResult<()> {
        self.inner.set_server_admin(id, admin).await
    }

    async fn set_display_name(&self, id: UserId, display_name: &str) -> StoreResult<()> {
        self.inner.set_display_name(id, display_name).await
    }

    async fn update_profile(&self, id: UserId, change: &ProfileChange) -> StoreResult<User> {
        self.inner.update_profile(id, change).await
    }

    async fn set_avatar(
        &self,
        id: UserId,
        avatar: Option<&Avatar>,
    ) -> StoreResult<(User, Option<Avatar>)> {
        self.inner.set_avatar(id, avatar).await
    }

    async fn touch_user(&self, id: UserId, at: Timestamp) -> StoreResult<()> {
        self.inner.touch_user(id, at).await
    }

    async fn expire_guests(&self, inactive_since: Timestamp) -> StoreResult<Vec<UserId>> {
        self.inner.expire_guests(inactive_since).await
    }

    async fn create_session(&self, session: Session) -> StoreResult<()> {
        self.inner.create_session(session).await
    }

    async fn session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<Session>> {
        self.inner.session(token_hash).await
    }

    async fn touch_session(&self, token_hash: &[u8; 32], at: Timestamp) -> StoreResult<()> {
        self.inner.touch_session(token_hash, at).await
    }

    async fn delete_session(&self, token_hash: &[u8; 32]) -> StoreResult<bool> {
        self.inner.delete_session(token_hash).await
    }

    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&[u8; 32]>,
    ) -> StoreResult<Vec<[u8; 32]>> {
        self.inner.delete_user_sessions(user, keep).await
    }

    async fn delete_expired_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<([u8; 32], UserId)>> {
        self.inner
            .delete_expired_sessions(idle_before, created_before, limit)
            .await
    }

    async fn create_room(&self, room: NewRoom) -> StoreResult<Room> {
        self.inner.create_room(room).await
    }

    async fn room(&self, id: RoomId) -> StoreResult<Option<Room>> {
        self.inner.room(id).await
    }

    async fn direct_room(&self, direct_key: &str) -> StoreResult<Option<Room>> {
        self.inner.direct_room(direct_key).await
    }

    async fn room_heads(&self, after: RoomId, limit: u32) -> StoreResult<Vec<(RoomId, Seq)>> {
        self.inner.room_heads(after, limit).await
    }

    async fn rename_room(&self, id: RoomId, name: &str) -> StoreResult<()> {
        self.inner.rename_room(id, name).await
    }

    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>> {
        self.inner.members(room).await
    }

    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>> {
        self.inner.member(room, user).await
    }

    async fn add_member(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        at: Timestamp,
        max_members: usize,
    ) -> StoreResult<()> {
        self.inner
            .add_member(room, user, role, at, max_members)
            .await
    }

    async fn remove_member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Removed>> {
        self.inner.remove_member(room, user).await
    }

    async fn set_role(&self, room: RoomId, user: UserId, role: Role) -> StoreResult<()> {
        self.inner.set_role(room, user, role).await
    }

    async fn mark_read(&self, room: RoomId, user: UserId, seq: Seq) -> StoreResult<Seq> {
        self.inner.mark_read(room, user, seq).await
    }

    async fn set_room_settings(
        &self,
        room: RoomId,
        user: UserId,
        change: SettingsChange,
    ) -> StoreResult<(RoomSettings, bool)> {
        self.inner.set_room_settings(room, user, change).await
    }

    async fn append_message(&self, msg: NewMessage) -> StoreResult<(Message, bool)> {
        self.inner.append_message(msg).await
    }

    async fn append_messages(&self, msgs: Vec<NewMessage>) -> Vec<StoreResult<(Message, bool)>> {
        let gate = self
            .append_gate
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let results = self.inner.append_messages(msgs).await;
        if let Some(gate) = gate {
            gate.pass().await;
        }
        results
    }

    async fn message(&self, room: RoomId, seq: Seq) -> StoreResult<Option<Message>> {
        self.inner.message(room, seq).await
    }

    async fn messages_before(
        &self,
        room: RoomId,
        before: Option<Seq>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.inner.messages_before(room, before, limit).await
    }

    async fn messages_after(
        &self,
        room: RoomId,
        after: Seq,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.inner.messages_after(room, after, limit).await
    }

    async fn edit_message(
        &self,
        room: RoomId,
        seq: Seq,
        body: &str,
        mentions: &[Mention],
        at: Timestamp,
    ) -> StoreResult<Message> {
        self.inner.edit_message(room, seq, body, mentions, at).await
    }

    async fn delete_message(&self, room: RoomId, seq: Seq, at: Timestamp) -> StoreResult<Message> {
        self.inner.delete_message(room, seq, at).await
    }

    async fn count_unread(&self, room: RoomId, user: UserId, after_seq: Seq) -> StoreResult<u64> {
        self.inner.count_unread(room, user, after_seq).await
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
        self.inner
            .add_reaction(room, seq, user, emoji, at, max_emojis)
            .await
    }

    async fn remove_reaction(
        &self,
        room: RoomId,
        seq: Seq,
        user: UserId,
        emoji: &str,
    ) -> StoreResult<(Vec<Reaction>, bool)> {
        self.inner.remove_reaction(room, seq, user, emoji).await
    }

    async fn search_messages(
        &self,
        rooms: &[RoomId],
        text: &str,
        before: Option<MessageId>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.inner.search_messages(rooms, text, before, limit).await
    }

    async fn create_invite(&self, invite: NewInvite, max_invites: usize) -> StoreResult<Invite> {
        self.inner.create_invite(invite, max_invites).await
    }

    async fn invites(&self, room: RoomId) -> StoreResult<Vec<Invite>> {
        self.inner.invites(room).await
    }

    async fn invite_by_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<Invite>> {
        self.inner.invite_by_hash(token_hash).await
    }

    async fn delete_invite(&self, room: RoomId, id: InviteId) -> StoreResult<bool> {
        self.inner.delete_invite(room, id).await
    }

    async fn redeem_invite(
        &self,
        token_hash: &[u8; 32],
        user: UserId,
        at: Timestamp,
        max_members: usize,
    ) -> StoreResult<Redeemed> {
        self.inner
            .redeem_invite(token_hash, user, at, max_members)
            .await
    }

    async fn create_media(&self, media: NewMedia, quota: UploadQuota) -> StoreResult<Media> {
        self.inner.create_media(media, quota).await
    }

    async fn media(&self, id: MediaId) -> StoreResult<Option<Media>> {
        self.inner.media(id).await
    }

    async fn media_attached(&self, id: MediaId) -> StoreResult<bool> {
        self.inner.media_attached(id).await
    }

    async fn release_media(&self, id: MediaId) -> StoreResult<Option<String>> {
        self.inner.release_media(id).await
    }

    async fn unattached_media(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<MediaId>> {
        self.inner.unattached_media(before, limit).await
    }

    async fn uploaded_bytes_since(&self, user: UserId, since: Timestamp) -> StoreResult<u64> {
        self.inner.uploaded_bytes_since(user, since).await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
}

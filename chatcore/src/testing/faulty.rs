//! A store that fails on purpose: the Nth call, a share of all calls, every call while
//! "disconnected", each after an optional delay. Tests run a chat on it to prove that a failed
//! store call never breaks a promise (nothing acked is lost, nothing is stored twice).

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use super::rng::Rng;
use crate::error::StoreError;
use crate::model::*;
use crate::store::{Among, Store, StoreResult};

/// Wraps a store and injects failures into its calls, as a flaky database or network would.
///
/// A failing call fails in one of two ways, chosen at random (seeded):
/// - **before** it reaches the wrapped store: nothing is read or written;
/// - **after** it ran: the change is committed but its answer is lost, the caller sees an
///   error. This is the hard case for a retry (the first attempt did happen), and the one that
///   `client_id` idempotency exists for.
///
/// Injected failures are [`StoreError::Backend`] errors whose source says `injected fault`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::Arc;
/// use chatcore::{MemoryStore, Store};
/// use chatcore::testing::FaultyStore;
///
/// let store = FaultyStore::new(Arc::new(MemoryStore::new()), 7);
/// store.fail_call(2);                       // the second call from now fails
/// assert!(store.ping().await.is_ok());
/// assert!(store.ping().await.is_err());
/// store.disconnect();                       // everything fails…
/// assert!(store.ping().await.is_err());
/// store.reconnect();                        // …until reconnected
/// assert!(store.ping().await.is_ok());
/// assert_eq!(store.failures(), 2);
/// # }
/// ```
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    plan: Mutex<Plan>,
}

struct Plan {
    rng: Rng,
    /// Calls made so far (the next call is number `calls + 1`).
    calls: u64,
    /// Call numbers that fail, whatever the ratio.
    doomed: Vec<u64>,
    ratio: f64,
    delay: Duration,
    disconnected: bool,
    failures: u64,
}

/// What happens to one call.
enum Fault {
    None,
    Before,
    After,
}

impl FaultyStore {
    /// A wrapper of `inner` that fails nothing until told to; `seed` fixes every random choice,
    /// so a run can be replayed.
    pub fn new(inner: Arc<dyn Store>, seed: u64) -> Self {
        FaultyStore {
            inner,
            plan: Mutex::new(Plan {
                rng: Rng::new(seed),
                calls: 0,
                doomed: Vec::new(),
                ratio: 0.0,
                delay: Duration::ZERO,
                disconnected: false,
                failures: 0,
            }),
        }
    }

    // The lock guards plain counters and is never held across an `.await`.
    fn plan(&self) -> MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the `n`th call from now fail (`1` is the very next call).
    pub fn fail_call(&self, n: u64) {
        let mut plan = self.plan();
        let at = plan.calls + n.max(1);
        plan.doomed.push(at);
    }

    /// Makes each call fail with probability `ratio` (0.05: one call in twenty); `0` stops it.
    pub fn fail_ratio(&self, ratio: f64) {
        self.plan().ratio = ratio.clamp(0.0, 1.0);
    }

    /// Makes every call wait `delay` before it runs (a slow database); `ZERO` stops it.
    pub fn delay(&self, delay: Duration) {
        self.plan().delay = delay;
    }

    /// Fails every call, before it reaches the store, until [`FaultyStore::reconnect`].
    pub fn disconnect(&self) {
        self.plan().disconnected = true;
    }

    /// Ends a [`FaultyStore::disconnect`].
    pub fn reconnect(&self) {
        self.plan().disconnected = false;
    }

    /// How many calls were made through this wrapper.
    pub fn calls(&self) -> u64 {
        self.plan().calls
    }

    /// How many of them were failed on purpose.
    pub fn failures(&self) -> u64 {
        self.plan().failures
    }

    fn decide(&self) -> (Fault, Duration) {
        let mut plan = self.plan();
        plan.calls += 1;
        let n = plan.calls;
        let doomed = match plan.doomed.iter().position(|&at| at == n) {
            Some(i) => {
                plan.doomed.swap_remove(i);
                true
            }
            None => false,
        };
        let ratio = plan.ratio;
        let fault = if plan.disconnected {
            Fault::Before
        } else if doomed || (ratio > 0.0 && plan.rng.chance(ratio)) {
            if plan.rng.chance(0.5) {
                Fault::Before
            } else {
                Fault::After
            }
        } else {
            Fault::None
        };
        if !matches!(fault, Fault::None) {
            plan.failures += 1;
        }
        (fault, plan.delay)
    }

    /// Runs one call under the plan. `call` is lazy: a call failed before it runs is never
    /// polled, so it never reaches the wrapped store.
    async fn around<T>(&self, call: impl Future<Output = StoreResult<T>> + Send) -> StoreResult<T> {
        let (fault, delay) = self.decide();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match fault {
            Fault::None => call.await,
            Fault::Before => Err(injected()),
            Fault::After => {
                // The change happened; only its answer is lost on the way back.
                drop(call.await);
                Err(injected())
            }
        }
    }
}

fn injected() -> StoreError {
    StoreError::broken("injected fault")
}

#[async_trait]
impl Store for FaultyStore {
    async fn rooms_of_user(&self, user: UserId) -> StoreResult<Vec<(Room, Member)>> {
        self.around(self.inner.rooms_of_user(user)).await
    }

    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        self.around(self.inner.create_user(user)).await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.around(self.inner.user(id)).await
    }

    async fn user_by_username(
        &self,
        username: &str,
    ) -> StoreResult<Option<(User, Option<String>)>> {
        self.around(self.inner.user_by_username(username)).await
    }

    async fn user_by_external_id(&self, external_id: &str) -> StoreResult<Option<User>> {
        self.around(self.inner.user_by_external_id(external_id))
            .await
    }

    async fn password_hash(&self, id: UserId) -> StoreResult<Option<String>> {
        self.around(self.inner.password_hash(id)).await
    }

    async fn search_users(&self, prefix: &str, among: Among, limit: u32) -> StoreResult<Vec<User>> {
        self.around(self.inner.search_users(prefix, among, limit))
            .await
    }

    async fn share_a_room(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        self.around(self.inner.share_a_room(a, b)).await
    }

    async fn list_users(&self, after: UserId, limit: u32) -> StoreResult<Vec<User>> {
        self.around(self.inner.list_users(after, limit)).await
    }

    async fn set_password_hash(&self, id: UserId, hash: &str) -> StoreResult<()> {
        self.around(self.inner.set_password_hash(id, hash)).await
    }

    async fn upgrade_guest(
        &self,
        id: UserId,
        username: &str,
        hash: &str,
    ) -> StoreResult<(User, Vec<[u8; 32]>)> {
        self.around(self.inner.upgrade_guest(id, username, hash))
            .await
    }

    async fn set_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
        self.around(self.inner.set_disabled(id, disabled)).await
    }

    async fn set_server_admin(&self, id: UserId, admin: bool) -> StoreResult<()> {
        self.around(self.inner.set_server_admin(id, admin)).await
    }

    async fn set_display_name(&self, id: UserId, display_name: &str) -> StoreResult<()> {
        self.around(self.inner.set_display_name(id, display_name))
            .await
    }

    async fn update_profile(&self, id: UserId, change: &ProfileChange) -> StoreResult<User> {
        self.around(self.inner.update_profile(id, change)).await
    }

    async fn set_avatar(
        &self,
        id: UserId,
        avatar: Option<&Avatar>,
    ) -> StoreResult<(User, Option<Avatar>)> {
        self.around(self.inner.set_avatar(id, avatar)).await
    }

    async fn touch_user(&self, id: UserId, at: Timestamp) -> StoreResult<()> {
        self.around(self.inner.touch_user(id, at)).await
    }

    async fn expire_guests(&self, inactive_since: Timestamp) -> StoreResult<Vec<UserId>> {
        self.around(self.inner.expire_guests(inactive_since)).await
    }

    async fn create_session(&self, session: Session) -> StoreResult<()> {
        self.around(self.inner.create_session(session)).await
    }

    async fn session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<Session>> {
        self.around(self.inner.session(token_hash)).await
    }

    async fn touch_session(&self, token_hash: &[u8; 32], at: Timestamp) -> StoreResult<()> {
        self.around(self.inner.touch_session(token_hash, at)).await
    }

    async fn delete_session(&self, token_hash: &[u8; 32]) -> StoreResult<bool> {
        self.around(self.inner.delete_session(token_hash)).await
    }

    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&[u8; 32]>,
    ) -> StoreResult<Vec<[u8; 32]>> {
        self.around(self.inner.delete_user_sessions(user, keep))
            .await
    }

    async fn delete_expired_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<([u8; 32], UserId)>> {
        self.around(
            self.inner
                .delete_expired_sessions(idle_before, created_before, limit),
        )
        .await
    }

    async fn create_room(&self, room: NewRoom) -> StoreResult<Room> {
        self.around(self.inner.create_room(room)).await
    }

    async fn room(&self, id: RoomId) -> StoreResult<Option<Room>> {
        self.around(self.inner.room(id)).await
    }

    async fn direct_room(&self, direct_key: &str) -> StoreResult<Option<Room>> {
        self.around(self.inner.direct_room(direct_key)).await
    }

    async fn room_heads(&self, after: RoomId, limit: u32) -> StoreResult<Vec<(RoomId, Seq)>> {
        self.around(self.inner.room_heads(after, limit)).await
    }

    async fn rename_room(&self, id: RoomId, name: &str) -> StoreResult<()> {
        self.around(self.inner.rename_room(id, name)).await
    }

    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>> {
        self.around(self.inner.members(room)).await
    }

    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>> {
        self.around(self.inner.member(room, user)).await
    }

    async fn add_member(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        at: Timestamp,
        max_members: usize,
    ) -> StoreResult<()> {
        self.around(self.inner.add_member(room, user, role, at, max_members))
            .await
    }

    async fn remove_member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Removed>> {
        self.around(self.inner.remove_member(room, user)).await
    }

    async fn set_role(&self, room: RoomId, user: UserId, role: Role) -> StoreResult<()> {
        self.around(self.inner.set_role(room, user, role)).await
    }

    async fn mark_read(&self, room: RoomId, user: UserId, seq: Seq) -> StoreResult<Seq> {
        self.around(self.inner.mark_read(room, user, seq)).await
    }

    async fn set_room_settings(
        &self,
        room: RoomId,
        user: UserId,
        change: SettingsChange,
    ) -> StoreResult<(RoomSettings, bool)> {
        self.around(self.inner.set_room_settings(room, user, change))
            .await
    }

    async fn append_message(&self, msg: NewMessage) -> StoreResult<(Message, bool)> {
        self.around(self.inner.append_message(msg)).await
    }

    async fn room_list(&self, user: UserId) -> StoreResult<Vec<RoomListEntry>> {
        self.around(self.inner.room_list(user)).await
    }

    fn append_lanes(&self) -> usize {
        self.inner.append_lanes()
    }

    async fn append_messages(&self, msgs: Vec<NewMessage>) -> Vec<StoreResult<(Message, bool)>> {
        let n = msgs.len();
        match self
            .around(async { Ok(self.inner.append_messages(msgs).await) })
            .await
        {
            Ok(results) => results,
            Err(_) => (0..n).map(|_| Err(injected())).collect(),
        }
    }

    async fn message(&self, room: RoomId, seq: Seq) -> StoreResult<Option<Message>> {
        self.around(self.inner.message(room, seq)).await
    }

    async fn messages_before(
        &self,
        room: RoomId,
        before: Option<Seq>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.around(self.inner.messages_before(room, before, limit))
            .await
    }

    async fn messages_after(
        &self,
        room: RoomId,
        after: Seq,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.around(self.inner.messages_after(room, after, limit))
            .await
    }

    async fn edit_message(
        &self,
        room: RoomId,
        seq: Seq,
        body: &str,
        mentions: &[Mention],
        at: Timestamp,
    ) -> StoreResult<Message> {
        self.around(self.inner.edit_message(room, seq, body, mentions, at))
            .await
    }

    async fn delete_message(&self, room: RoomId, seq: Seq, at: Timestamp) -> StoreResult<Message> {
        self.around(self.inner.delete_message(room, seq, at)).await
    }

    async fn count_unread(&self, room: RoomId, user: UserId, after_seq: Seq) -> StoreResult<u64> {
        self.around(self.inner.count_unread(room, user, after_seq))
            .await
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
        self.around(
            self.inner
                .add_reaction(room, seq, user, emoji, at, max_emojis),
        )
        .await
    }

    async fn remove_reaction(
        &self,
        room: RoomId,
        seq: Seq,
        user: UserId,
        emoji: &str,
    ) -> StoreResult<(Vec<Reaction>, bool)> {
        self.around(self.inner.remove_reaction(room, seq, user, emoji))
            .await
    }

    async fn search_messages(
        &self,
        rooms: &[RoomId],
        text: &str,
        before: Option<MessageId>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.around(self.inner.search_messages(rooms, text, before, limit))
            .await
    }

    async fn create_invite(&self, invite: NewInvite, max_invites: usize) -> StoreResult<Invite> {
        self.around(self.inner.create_invite(invite, max_invites))
            .await
    }

    async fn invites(&self, room: RoomId) -> StoreResult<Vec<Invite>> {
        self.around(self.inner.invites(room)).await
    }

    async fn invite_by_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<Invite>> {
        self.around(self.inner.invite_by_hash(token_hash)).await
    }

    async fn delete_invite(&self, room: RoomId, id: InviteId) -> StoreResult<bool> {
        self.around(self.inner.delete_invite(room, id)).await
    }

    async fn redeem_invite(
        &self,
        token_hash: &[u8; 32],
        user: UserId,
        at: Timestamp,
        max_members: usize,
    ) -> StoreResult<Redeemed> {
        self.around(self.inner.redeem_invite(token_hash, user, at, max_members))
            .await
    }

    async fn create_media(&self, media: NewMedia, quota: UploadQuota) -> StoreResult<Media> {
        self.around(self.inner.create_media(media, quota)).await
    }

    async fn media(&self, id: MediaId) -> StoreResult<Option<Media>> {
        self.around(self.inner.media(id)).await
    }

    async fn media_attached(&self, id: MediaId) -> StoreResult<bool> {
        self.around(self.inner.media_attached(id)).await
    }

    async fn release_media(&self, id: MediaId) -> StoreResult<Option<String>> {
        self.around(self.inner.release_media(id)).await
    }

    async fn unattached_media(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<MediaId>> {
        self.around(self.inner.unattached_media(before, limit))
            .await
    }

    async fn uploaded_bytes_since(&self, user: UserId, since: Timestamp) -> StoreResult<u64> {
        self.around(self.inner.uploaded_bytes_since(user, since))
            .await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.around(self.inner.ping()).await
    }
}

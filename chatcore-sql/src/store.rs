//! [`SqlStore`]: the [`Store`] implementation every SQL backend shares. Each method takes a
//! connection or a transaction and hands the statements to [`crate::queries`].

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chatcore::{
    Among, AppendResult, Avatar, Entity, GroupCommit, Invite, InviteId, Media, MediaId, Member,
    Mention, Message, MessageId, NewInvite, NewMedia, NewMessage, NewRoom, NewUser, ProfileChange,
    Reaction, Redeemed, Removed, Role, Room, RoomId, RoomListEntry, RoomSettings, Seq, Session,
    SettingsChange, Store, StoreError, StoreResult, Timestamp, UploadQuota, User, UserId,
};
use futures::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{Pool, Transaction};

use crate::dialect::{Dialect, InMemory};
use crate::queries::{invites, media, messages, reactions, rooms, search, sessions, users};
use crate::sql::{Sql, backend};

/// A [`Store`] in a SQL database; `D` says which (`chatcore_sqlite::SqliteStore` is
/// `SqlStore<chatcore_sqlite::Sqlite>`, and so on). Backend crates build it with
/// [`SqlStore::from_pools`] after connecting and migrating.
///
/// Cloning is shallow: clones share the connection pools and the group-commit writer.
pub struct SqlStore<D: Dialect> {
    pool: Pool<D::DB>,
    /// Where appends and every other write run: one connection of their own on SQLite, the
    /// pool itself elsewhere.
    appender: Pool<D::DB>,
    /// How a batch is appended: the shared plan, or the backend's own.
    batches: Arc<dyn BatchAppend>,
    appends: GroupCommit,
    /// What [`Store::append_lanes`] answers (see [`SqlStore::with_append_lanes`]).
    lanes: usize,
}

impl<D: Dialect> std::fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("pool", &self.pool)
            .field("appender", &self.appender)
            .finish_non_exhaustive()
    }
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
            appender: self.appender.clone(),
            batches: Arc::clone(&self.batches),
            appends: self.appends.clone(),
            lanes: self.lanes,
        }
    }
}

/// How a store appends a batch of messages in one transaction: the contract of
/// [`Store::append_messages`] (an answer per message, in order; one bad message never fails the
/// others). [`SqlStore::from_pools`] uses the shared plan of [`crate::append`]; a backend with
/// a better plan for its database passes its own to [`SqlStore::with_batch_append`].
pub trait BatchAppend: Send + Sync + 'static {
    /// Appends `msgs` and answers for each, in order.
    fn append_batch(&self, msgs: Vec<NewMessage>) -> BoxFuture<'_, Vec<AppendResult>>;

    /// Makes every committed message findable by the search that follows: a plan that indexes
    /// text after the commit (SQLite's) indexes what it has not yet. The default does nothing,
    /// for indexes kept inside the append's transaction.
    fn before_search(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The shared plan of [`crate::append`] on one pool.
struct SharedPlan<D: Dialect>(Pool<D::DB>);

impl<D: Dialect> BatchAppend for SharedPlan<D> {
    fn append_batch(&self, msgs: Vec<NewMessage>) -> BoxFuture<'_, Vec<AppendResult>> {
        Box::pin(crate::append::append_batch::<D>(&self.0, msgs))
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Connects to (or opens) the database `url` names, creating it where the backend can,
    /// and brings its schema up to date: a fresh database and an already-migrated one both
    /// work. Fails with `StoreError::Backend` if the database cannot be reached. Must be called
    /// inside a tokio runtime, which will run the group-commit writer.
    pub async fn connect(url: &str, options: D::Options) -> StoreResult<Self> {
        D::connect(url, options).await
    }

    /// The same as [`SqlStore::connect`], in the words of an embedded database: opens the file
    /// at `path_or_url` (a plain path or the backend's URL), creating it if needed.
    pub async fn open(path_or_url: &str, options: D::Options) -> StoreResult<Self> {
        D::connect(path_or_url, options).await
    }

    /// A store on `pool` whose appends and other writes run on `appender` (pass the pool
    /// again unless the backend wants writes on connections of their own; reads use `pool`).
    /// Concurrent `append_message` calls are committed together, up to `max_batch` per
    /// transaction, by a writer task spawned on the current tokio runtime. The schema must
    /// already be migrated.
    pub fn from_pools(pool: Pool<D::DB>, appender: Pool<D::DB>, max_batch: usize) -> Self {
        let plan = SharedPlan::<D>(appender.clone());
        Self::with_batch_append(pool, appender, max_batch, plan)
    }

    /// The same as [`SqlStore::from_pools`], with the backend's own way of appending a batch
    /// (`batches` runs its statements on `appender`, which the store closes on
    /// [`SqlStore::close`]).
    pub fn with_batch_append(
        pool: Pool<D::DB>,
        appender: Pool<D::DB>,
        max_batch: usize,
        batches: impl BatchAppend,
    ) -> Self {
        let batches: Arc<dyn BatchAppend> = Arc::new(batches);
        let writer = Arc::clone(&batches);
        let appends = GroupCommit::spawn(max_batch, move |msgs| {
            let writer = Arc::clone(&writer);
            async move { writer.append_batch(msgs).await }
        });
        SqlStore {
            pool,
            appender,
            batches,
            appends,
            lanes: 1,
        }
    }

    /// This store, telling [`Store::append_lanes`] that `lanes` batches may be appended at
    /// once (at least 1; 1 unless set). Each batch locks only its own rooms, so a server runs
    /// them side by side; SQLite's one writer takes them in turn.
    pub fn with_append_lanes(mut self, lanes: usize) -> Self {
        self.lanes = lanes.max(1);
        self
    }

    /// The connection pool, for backend-specific statements.
    pub fn pool(&self) -> &Pool<D::DB> {
        &self.pool
    }

    /// Closes every connection after the ones in use are returned; later calls fail with
    /// `StoreError::Backend`.
    pub async fn close(&self) {
        self.appender.close().await;
        self.pool.close().await;
    }

    async fn conn(&self) -> StoreResult<PoolConnection<D::DB>> {
        self.pool.acquire().await.map_err(backend)
    }

    /// A connection for one write statement. Every write runs on the appender's pool: on
    /// SQLite that is the store's one writer connection, so writers queue here, in order, and
    /// are woken the moment it is free, instead of meeting SQLite's write lock held by another
    /// connection and sleeping in its busy handler (1, 2, 5 … 100 ms steps: the session
    /// touches of 2,000 connections, 67 a second, stalled appends for up to 190 ms). Elsewhere
    /// the appender is the pool itself.
    async fn writer(&self) -> StoreResult<PoolConnection<D::DB>> {
        self.appender.acquire().await.map_err(backend)
    }

    /// A write transaction, on the appender's pool like [`SqlStore::writer`].
    async fn write(&self) -> StoreResult<Transaction<'static, D::DB>> {
        D::begin_write(&self.appender).await.map_err(backend)
    }

    /// `Missing(Room)` if the room is absent, else `Missing(otherwise)`.
    async fn missing_room_or(&self, room: RoomId, otherwise: Entity) -> StoreError {
        let exists = match self.conn().await {
            Ok(mut conn) => rooms::exists::<D>(&mut conn, room).await,
            Err(err) => Err(err),
        };
        match exists {
            Ok(false) => StoreError::Missing(Entity::Room),
            Ok(true) => StoreError::Missing(otherwise),
            Err(err) => err,
        }
    }
}

impl<D: InMemory> SqlStore<D> {
    /// A fresh private in-memory database, for tests and experiments.
    pub async fn in_memory() -> StoreResult<Self> {
        D::connect(D::IN_MEMORY_URL, D::Options::default()).await
    }
}

async fn commit<D: Dialect>(tx: Transaction<'static, D::DB>) -> StoreResult<()> {
    tx.commit().await.map_err(backend)
}

#[async_trait]
impl<D: Dialect> Store for SqlStore<D> {
    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        users::insert::<D>(&mut *self.writer().await?, user).await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        users::by_id::<D>(&mut *self.conn().await?, id).await
    }

    async fn user_by_username(
        &self,
        username: &str,
    ) -> StoreResult<Option<(User, Option<String>)>> {
        users::by_username::<D>(&mut *self.conn().await?, &username.to_lowercase()).await
    }

    async fn user_by_external_id(&self, external_id: &str) -> StoreResult<Option<User>> {
        users::by_external_id::<D>(&mut *self.conn().await?, external_id).await
    }

    async fn password_hash(&self, id: UserId) -> StoreResult<Option<String>> {
        users::password_hash::<D>(&mut *self.conn().await?, id).await
    }

    async fn search_users(&self, prefix: &str, among: Among, limit: u32) -> StoreResult<Vec<User>> {
        users::search::<D>(&mut *self.conn().await?, prefix, among, limit).await
    }

    async fn share_a_room(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        users::share_a_room::<D>(&mut *self.conn().await?, a, b).await
    }

    async fn list_users(&self, after: UserId, limit: u32) -> StoreResult<Vec<User>> {
        users::list::<D>(&mut *self.conn().await?, after, limit).await
    }

    async fn set_password_hash(&self, id: UserId, hash: &str) -> StoreResult<()> {
        users::set_password_hash::<D>(&mut *self.writer().await?, id, hash).await
    }

    async fn upgrade_guest(
        &self,
        id: UserId,
        username: &str,
        hash: &str,
    ) -> StoreResult<(User, Vec<[u8; 32]>)> {
        let mut tx = self.write().await?;
        if !users::upgrade_guest::<D>(&mut tx, id, username, hash).await? {
            return Err(if users::exists::<D>(&mut tx, id).await? {
                StoreError::NotAGuest
            } else {
                StoreError::Missing(Entity::User)
            });
        }
        let upgraded = users::by_id::<D>(&mut tx, id)
            .await?
            .ok_or(StoreError::Missing(Entity::User))?;
        let ended = sessions::delete_of_user::<D>(&mut tx, id, None).await?;
        commit::<D>(tx).await?;
        Ok((upgraded, ended))
    }

    async fn set_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
        users::set_disabled::<D>(&mut *self.writer().await?, id, disabled).await
    }

    async fn set_server_admin(&self, id: UserId, admin: bool) -> StoreResult<()> {
        users::set_server_admin::<D>(&mut *self.writer().await?, id, admin).await
    }

    async fn set_display_name(&self, id: UserId, display_name: &str) -> StoreResult<()> {
        users::set_display_name::<D>(&mut *self.writer().await?, id, display_name).await
    }

    async fn update_profile(&self, id: UserId, change: &ProfileChange) -> StoreResult<User> {
        let mut tx = self.write().await?;
        if let Some(name) = &change.display_name {
            users::set_display_name::<D>(&mut tx, id, name).await?;
        }
        if let Some(hide) = change.hide_last_seen {
            users::set_hide_last_seen::<D>(&mut tx, id, hide).await?;
        }
        let user = users::by_id::<D>(&mut tx, id)
            .await?
            .ok_or(StoreError::Missing(Entity::User))?;
        commit::<D>(tx).await?;
        Ok(user)
    }

    async fn set_avatar(
        &self,
        id: UserId,
        avatar: Option<&Avatar>,
    ) -> StoreResult<(User, Option<Avatar>)> {
        let mut tx = self.write().await?;
        // The row lock makes a concurrent change wait, so each one learns the avatar it
        // replaced and no picture's bytes are left without a row or deleted under one.
        let before = users::lock_avatar::<D>(&mut tx, id)
            .await?
            .ok_or(StoreError::Missing(Entity::User))?;
        users::set_avatar::<D>(&mut tx, id, avatar).await?;
        let user = users::by_id::<D>(&mut tx, id)
            .await?
            .ok_or(StoreError::Missing(Entity::User))?;
        commit::<D>(tx).await?;
        Ok((user, before))
    }

    async fn touch_user(&self, id: UserId, at: Timestamp) -> StoreResult<()> {
        users::touch::<D>(&mut *self.writer().await?, id, at).await
    }

    async fn expire_guests(&self, inactive_since: Timestamp) -> StoreResult<Vec<UserId>> {
        let mut tx = self.write().await?;
        let expired = users::lock_inactive_guests::<D>(&mut tx, inactive_since).await?;
        users::disable_all::<D>(&mut tx, &expired).await?;
        sessions::delete_of_users::<D>(&mut tx, &expired).await?;
        commit::<D>(tx).await?;
        Ok(expired)
    }

    async fn create_session(&self, session: Session) -> StoreResult<()> {
        sessions::insert::<D>(&mut *self.writer().await?, &session).await
    }

    async fn session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<Session>> {
        sessions::get::<D>(&mut *self.conn().await?, token_hash).await
    }

    async fn touch_session(&self, token_hash: &[u8; 32], at: Timestamp) -> StoreResult<()> {
        sessions::touch::<D>(&mut *self.writer().await?, token_hash, at).await
    }

    async fn delete_session(&self, token_hash: &[u8; 32]) -> StoreResult<bool> {
        sessions::delete::<D>(&mut *self.writer().await?, token_hash).await
    }

    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&[u8; 32]>,
    ) -> StoreResult<Vec<[u8; 32]>> {
        let mut tx = self.write().await?;
        let deleted = sessions::delete_of_user::<D>(&mut tx, user, keep).await?;
        commit::<D>(tx).await?;
        Ok(deleted)
    }

    async fn delete_expired_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<([u8; 32], UserId)>> {
        let mut tx = self.write().await?;
        let deleted =
            sessions::delete_expired::<D>(&mut tx, idle_before, created_before, limit).await?;
        commit::<D>(tx).await?;
        Ok(deleted)
    }

    async fn create_room(&self, room: NewRoom) -> StoreResult<Room> {
        let mut tx = self.write().await?;
        let room = rooms::insert::<D>(&mut tx, room).await?;
        commit::<D>(tx).await?;
        Ok(room)
    }

    async fn room(&self, id: RoomId) -> StoreResult<Option<Room>> {
        rooms::by_id::<D>(&mut *self.conn().await?, id).await
    }

    async fn direct_room(&self, direct_key: &str) -> StoreResult<Option<Room>> {
        rooms::by_direct_key::<D>(&mut *self.conn().await?, direct_key).await
    }

    async fn room_heads(&self, after: RoomId, limit: u32) -> StoreResult<Vec<(RoomId, Seq)>> {
        rooms::heads::<D>(&mut *self.conn().await?, after, limit).await
    }

    async fn rename_room(&self, id: RoomId, name: &str) -> StoreResult<()> {
        rooms::rename::<D>(&mut *self.writer().await?, id, name).await
    }

    async fn rooms_of_user(&self, user: UserId) -> StoreResult<Vec<(Room, Member)>> {
        rooms::of_user::<D>(&mut *self.conn().await?, user).await
    }

    /// Five queries whatever the number of rooms and members, none answering a member's
    /// account more than once: the rooms with the user's membership, everyone's account once,
    /// every room's members as small values (see [`Dialect::json_rows`]), the newest messages,
    /// the unread counts.
    async fn room_list(&self, user: UserId) -> StoreResult<Vec<RoomListEntry>> {
        let mut conn = self.conn().await?;
        let rooms = rooms::of_user::<D>(&mut conn, user).await?;
        // Accounts before memberships: whoever joins in between is read on its own below.
        let mut accounts: HashMap<UserId, User> = users::in_rooms_of::<D>(&mut conn, user)
            .await?
            .into_iter()
            .map(|account| (account.id, account))
            .collect();
        let mut members = HashMap::new();
        for (room, in_room) in rooms::members_of_rooms_of::<D>(&mut conn, user).await? {
            let mut with_accounts = Vec::with_capacity(in_room.len());
            for member in in_room {
                let account = match accounts.get(&member.user_id) {
                    Some(account) => account.clone(),
                    None => {
                        let account = users::by_id::<D>(&mut conn, member.user_id)
                            .await?
                            .ok_or(StoreError::Missing(Entity::User))?;
                        accounts.insert(account.id, account.clone());
                        account
                    }
                };
                with_accounts.push((member, account));
            }
            members.insert(room, with_accounts);
        }
        let mut newest: HashMap<RoomId, Message> =
            messages::newest_in_rooms_of::<D>(&mut conn, user)
                .await?
                .into_iter()
                .map(|m| (m.room_id, m))
                .collect();
        let unread: HashMap<RoomId, u64> = messages::unread_in_rooms_of::<D>(&mut conn, user)
            .await?
            .into_iter()
            .collect();
        Ok(rooms
            .into_iter()
            .map(|(room, me)| RoomListEntry {
                members: members.remove(&room.id).unwrap_or_default(),
                last_message: newest.remove(&room.id),
                unread: unread.get(&room.id).copied().unwrap_or(0),
                room,
                me,
            })
            .collect())
    }

    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>> {
        rooms::members::<D>(&mut *self.conn().await?, room).await
    }

    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>> {
        rooms::member::<D>(&mut *self.conn().await?, room, user).await
    }

    async fn add_member(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        at: Timestamp,
        max_members: usize,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        // Name the missing row the way chatcore does: the user first, then the room.
        if !users::exists::<D>(&mut tx, user).await? {
            return Err(StoreError::Missing(Entity::User));
        }
        // Membership changes lock the room's row first, so the count below stays true until
        // this transaction commits, whichever connection or node adds the next member.
        if rooms::lock::<D>(&mut tx, room).await?.is_none() {
            return Err(StoreError::Missing(Entity::Room));
        }
        if rooms::member::<D>(&mut tx, room, user).await?.is_some() {
            return Err(StoreError::Duplicate(chatcore::Unique::Member));
        }
        let (members, _) = rooms::head_count::<D>(&mut tx, room).await?;
        if usize::try_from(members).map_or(true, |n| n >= max_members) {
            return Err(StoreError::RoomFull);
        }
        rooms::insert_member::<D>(&mut tx, room, user, role, at).await?;
        commit::<D>(tx).await
    }

    async fn remove_member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Removed>> {
        let mut tx = self.write().await?;
        if rooms::lock::<D>(&mut tx, room).await?.is_none() {
            return Ok(None);
        }
        let Some(removed) = rooms::member::<D>(&mut tx, room, user).await? else {
            return Ok(None);
        };
        rooms::delete_member::<D>(&mut tx, room, user).await?;
        let last_admin_left =
            removed.role == Role::Admin && rooms::head_count::<D>(&mut tx, room).await?.1 == 0;
        let promoted = if last_admin_left {
            rooms::promote_heir::<D>(&mut tx, room).await?
        } else {
            None
        };
        commit::<D>(tx).await?;
        Ok(Some(Removed { promoted }))
    }

    async fn set_role(&self, room: RoomId, user: UserId, role: Role) -> StoreResult<()> {
        let mut tx = self.write().await?;
        if rooms::lock::<D>(&mut tx, room).await?.is_none() {
            return Err(StoreError::Missing(Entity::Room));
        }
        let current = rooms::member::<D>(&mut tx, room, user)
            .await?
            .ok_or(StoreError::Missing(Entity::Member))?;
        if current.role == Role::Admin
            && role != Role::Admin
            && rooms::head_count::<D>(&mut tx, room).await?.1 == 1
        {
            return Err(StoreError::LastAdmin);
        }
        rooms::set_role::<D>(&mut tx, room, user, role).await?;
        commit::<D>(tx).await
    }

    async fn mark_read(&self, room: RoomId, user: UserId, seq: Seq) -> StoreResult<Seq> {
        // The connection goes back to the pool before `missing_room_or` takes one (an
        // in-memory SQLite store has only one).
        let marker = rooms::mark_read::<D>(&mut *self.writer().await?, room, user, seq).await?;
        match marker {
            Some(marker) => Ok(marker),
            None => Err(self.missing_room_or(room, Entity::Member).await),
        }
    }

    async fn set_room_settings(
        &self,
        room: RoomId,
        user: UserId,
        change: SettingsChange,
    ) -> StoreResult<(RoomSettings, bool)> {
        let mut tx = self.write().await?;
        // The membership's row lock orders concurrent changes, so a field the change leaves
        // alone keeps what another change just wrote.
        let Some(before) = rooms::lock_settings::<D>(&mut tx, room, user).await? else {
            drop(tx);
            return Err(self.missing_room_or(room, Entity::Member).await);
        };
        let after = change.apply(before);
        if after == before {
            return Ok((before, false));
        }
        rooms::set_settings::<D>(&mut tx, room, user, after).await?;
        commit::<D>(tx).await?;
        Ok((after, true))
    }

    async fn append_message(&self, msg: NewMessage) -> AppendResult {
        self.appends.append(msg).await
    }

    fn append_lanes(&self) -> usize {
        self.lanes
    }

    async fn append_messages(&self, msgs: Vec<NewMessage>) -> Vec<AppendResult> {
        self.batches.append_batch(msgs).await
    }

    async fn message(&self, room: RoomId, seq: Seq) -> StoreResult<Option<Message>> {
        let mut conn = self.conn().await?;
        let mut found = messages::at_seq::<D>(&mut conn, room, seq).await?;
        if let Some(m) = found.as_mut() {
            reactions::attach::<D>(&mut conn, std::slice::from_mut(m)).await?;
        }
        Ok(found)
    }

    async fn messages_before(
        &self,
        room: RoomId,
        before: Option<Seq>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let mut conn = self.conn().await?;
        let before = before.unwrap_or(Seq::MAX);
        let mut page = messages::before::<D>(&mut conn, room, before, limit).await?;
        if page.is_empty() && !rooms::exists::<D>(&mut conn, room).await? {
            return Err(StoreError::Missing(Entity::Room));
        }
        page.reverse();
        reactions::attach::<D>(&mut conn, &mut page).await?;
        Ok(page)
    }

    async fn messages_after(
        &self,
        room: RoomId,
        after: Seq,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let mut conn = self.conn().await?;
        let mut page = messages::after::<D>(&mut conn, room, after, limit).await?;
        if page.is_empty() && !rooms::exists::<D>(&mut conn, room).await? {
            return Err(StoreError::Missing(Entity::Room));
        }
        reactions::attach::<D>(&mut conn, &mut page).await?;
        Ok(page)
    }

    async fn edit_message(
        &self,
        room: RoomId,
        seq: Seq,
        body: &str,
        mentions: &[Mention],
        at: Timestamp,
    ) -> StoreResult<Message> {
        let mut tx = self.write().await?;
        if !messages::edit::<D>(&mut tx, room, seq, body, mentions, at).await? {
            drop(tx);
            return Err(self.missing_room_or(room, Entity::Message).await);
        }
        let mut edited = messages::at_seq::<D>(&mut tx, room, seq)
            .await?
            .ok_or(StoreError::Missing(Entity::Message))?;
        reactions::attach::<D>(&mut tx, std::slice::from_mut(&mut edited)).await?;
        commit::<D>(tx).await?;
        Ok(edited)
    }

    async fn delete_message(&self, room: RoomId, seq: Seq, at: Timestamp) -> StoreResult<Message> {
        let mut tx = self.write().await?;
        if !messages::tombstone::<D>(&mut tx, room, seq, at).await? {
            drop(tx);
            return Err(self.missing_room_or(room, Entity::Message).await);
        }
        let deleted = messages::at_seq::<D>(&mut tx, room, seq)
            .await?
            .ok_or(StoreError::Missing(Entity::Message))?;
        reactions::clear::<D>(&mut tx, deleted.id).await?;
        commit::<D>(tx).await?;
        Ok(deleted)
    }

    async fn count_unread(&self, room: RoomId, user: UserId, after_seq: Seq) -> StoreResult<u64> {
        messages::count_unread::<D>(&mut *self.conn().await?, room, user, after_seq).await
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
        let mut tx = self.write().await?;
        // The message's row lock orders this change after (or before) a concurrent delete and
        // other reactions to the message, so the emoji count below stays true until commit.
        let message = messages::lock_live::<D>(&mut tx, room, seq)
            .await?
            .ok_or(StoreError::Missing(Entity::Message))?;
        let before = reactions::of_message::<D>(&mut tx, message).await?;
        let same = before.iter().find(|r| r.emoji == emoji);
        if same.is_some_and(|r| r.users.contains(&user)) {
            return Ok((before, false));
        }
        if same.is_none() && before.len() >= max_emojis {
            return Err(StoreError::TooManyReactions);
        }
        reactions::insert::<D>(&mut tx, message, user, emoji, at).await?;
        let after = reactions::of_message::<D>(&mut tx, message).await?;
        commit::<D>(tx).await?;
        Ok((after, true))
    }

    async fn remove_reaction(
        &self,
        room: RoomId,
        seq: Seq,
        user: UserId,
        emoji: &str,
    ) -> StoreResult<(Vec<Reaction>, bool)> {
        let mut tx = self.write().await?;
        let message = messages::lock_live::<D>(&mut tx, room, seq)
            .await?
            .ok_or(StoreError::Missing(Entity::Message))?;
        let removed = reactions::delete::<D>(&mut tx, message, user, emoji).await?;
        let after = reactions::of_message::<D>(&mut tx, message).await?;
        commit::<D>(tx).await?;
        Ok((after, removed))
    }

    async fn search_messages(
        &self,
        rooms: &[RoomId],
        text: &str,
        before: Option<MessageId>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.batches.before_search().await?;
        let mut conn = self.conn().await?;
        search::search::<D>(&mut conn, rooms, text, before, limit).await
    }

    async fn create_invite(&self, new: NewInvite, max_invites: usize) -> StoreResult<Invite> {
        let mut tx = self.write().await?;
        // The room's row lock orders invite changes of a room, so the count below stays true
        // until this transaction commits.
        if rooms::lock::<D>(&mut tx, new.room_id).await?.is_none() {
            return Err(StoreError::Missing(Entity::Room));
        }
        let usable = invites::count_usable::<D>(&mut tx, new.room_id, new.created_at).await?;
        if usize::try_from(usable).map_or(true, |n| n >= max_invites) {
            return Err(StoreError::TooManyInvites);
        }
        invites::delete_dead::<D>(&mut tx, new.room_id, new.created_at).await?;
        let invite = invites::insert::<D>(&mut tx, &new).await?;
        commit::<D>(tx).await?;
        Ok(invite)
    }

    async fn invites(&self, room: RoomId) -> StoreResult<Vec<Invite>> {
        invites::of_room::<D>(&mut *self.conn().await?, room).await
    }

    async fn invite_by_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<Invite>> {
        invites::by_hash::<D>(&mut *self.conn().await?, token_hash).await
    }

    async fn delete_invite(&self, room: RoomId, id: InviteId) -> StoreResult<bool> {
        invites::delete::<D>(&mut *self.writer().await?, room, id).await
    }

    async fn redeem_invite(
        &self,
        token_hash: &[u8; 32],
        user: UserId,
        at: Timestamp,
        max_members: usize,
    ) -> StoreResult<Redeemed> {
        let mut tx = self.write().await?;
        let invite = invites::by_hash::<D>(&mut tx, token_hash)
            .await?
            .ok_or(StoreError::Missing(Entity::Invite))?;
        if !users::exists::<D>(&mut tx, user).await? {
            return Err(StoreError::Missing(Entity::User));
        }
        let room_id = invite.room_id;
        // The room's row first, as every membership change does: the member count below stays
        // true until commit, and redemptions of one link queue here.
        if rooms::lock::<D>(&mut tx, room_id).await?.is_none() {
            return Err(StoreError::Missing(Entity::Invite));
        }
        if rooms::member::<D>(&mut tx, room_id, user).await?.is_some() {
            return Ok(Redeemed {
                room_id,
                joined: false,
            });
        }
        // Checked and counted in one statement: a link revoked, expired or used up since the
        // read above admits no one.
        if !invites::use_once::<D>(&mut tx, invite.id, at).await? {
            return Err(StoreError::Missing(Entity::Invite));
        }
        let (members, _) = rooms::head_count::<D>(&mut tx, room_id).await?;
        if usize::try_from(members).map_or(true, |n| n >= max_members) {
            return Err(StoreError::RoomFull);
        }
        rooms::insert_member::<D>(&mut tx, room_id, user, Role::Member, at).await?;
        commit::<D>(tx).await?;
        Ok(Redeemed {
            room_id,
            joined: true,
        })
    }

    async fn create_media(&self, new: NewMedia, quota: UploadQuota) -> StoreResult<Media> {
        let mut tx = self.write().await?;
        // The room's row first, as appends do, then the uploader's: holding the user's lock
        // while the insert waits on the room's (its foreign key) could deadlock with an append.
        if rooms::lock::<D>(&mut tx, new.room_id).await?.is_none() {
            return Err(StoreError::Missing(Entity::Room));
        }
        // Uploads lock their uploader's row, so the sum below stays true until this transaction
        // commits, whichever connection or node stores the user's next upload.
        if !users::lock::<D>(&mut tx, new.uploader_id).await? {
            return Err(StoreError::Missing(Entity::User));
        }
        let used = media::bytes_since::<D>(&mut tx, new.uploader_id, quota.since).await?;
        if used.saturating_add(new.size) > quota.limit {
            return Err(StoreError::QuotaExceeded);
        }
        let media = media::insert::<D>(&mut tx, new).await?;
        commit::<D>(tx).await?;
        Ok(media)
    }

    async fn media(&self, id: MediaId) -> StoreResult<Option<Media>> {
        media::by_id::<D>(&mut *self.conn().await?, id).await
    }

    async fn media_attached(&self, id: MediaId) -> StoreResult<bool> {
        media::attached::<D>(&mut *self.conn().await?, id).await
    }

    async fn release_media(&self, id: MediaId) -> StoreResult<Option<String>> {
        let mut tx = self.write().await?;
        let key = match media::delete_unattached::<D>(&mut tx, id).await? {
            Some(key) if !media::key_in_use::<D>(&mut tx, &key).await? => Some(key),
            _ => None,
        };
        commit::<D>(tx).await?;
        Ok(key)
    }

    async fn unattached_media(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<MediaId>> {
        media::unattached::<D>(&mut *self.conn().await?, before, limit).await
    }

    async fn uploaded_bytes_since(&self, user: UserId, since: Timestamp) -> StoreResult<u64> {
        media::bytes_since::<D>(&mut *self.conn().await?, user, since).await
    }

    async fn ping(&self) -> StoreResult<()> {
        Sql::<D>::new("SELECT 1 AS one")
            .fetch_one(&mut *self.conn().await?, |_| Ok(()))
            .await
    }
}

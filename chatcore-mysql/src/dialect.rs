//! [`MySqlStore`]: connecting, migrating, and the [`Store`] implementation, which hands each
//! call to the SQL module of its table.

use std::str::FromStr;

use async_trait::async_trait;
use chatcore::{
    AppendResult, Entity, GroupCommit, Media, MediaId, Member, Message, NewMedia, NewMessage,
    NewRoom, NewUser, Removed, Role, Room, RoomId, Seq, Session, Store, StoreError, StoreResult,
    Timestamp, Unique, User, UserId,
};
use sqlx::MySqlPool;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};

use crate::error::backend;
use crate::options::MySqlOptions;
use crate::{media, messages, rooms, sessions, users};

/// A [`Store`] in a MySQL 8 or MariaDB 10.11+ database, for production and for several server
/// nodes sharing one database.
///
/// Cloning is shallow: clones share the connection pool and the group-commit writer.
#[derive(Debug, Clone)]
pub struct MySqlStore {
    pool: MySqlPool,
    appends: GroupCommit,
}

impl MySqlStore {
    /// Connects to the database named in `url` (`mysql://user:password@host:3306/chat`) and
    /// brings its schema up to date: a fresh database and an already-migrated one both work,
    /// and nodes starting together take turns through the migrator's lock. Fails with
    /// `StoreError::Backend` if the server cannot be reached within `acquire_timeout`. Must be
    /// called inside a tokio runtime, which will run the group-commit writer.
    pub async fn connect(url: &str, options: MySqlOptions) -> Result<MySqlStore, StoreError> {
        let connect = MySqlConnectOptions::from_str(url).map_err(backend)?;
        let pool = MySqlPoolOptions::new()
            .max_connections(options.max_connections)
            .min_connections(options.min_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .max_lifetime(options.max_lifetime)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // Reads inside a transaction see the latest committed rows, not a snapshot
                    // from its start: an append holding a room's lock sees every send committed
                    // before it, and joins see media uploaded a moment ago.
                    sqlx::query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                        .execute(conn)
                        .await?;
                    Ok(())
                })
            })
            .connect_with(connect)
            .await
            .map_err(backend)?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(StoreError::backend)?;
        let writer_pool = pool.clone();
        let appends = GroupCommit::spawn(options.max_batch, move |msgs| {
            let pool = writer_pool.clone();
            async move { messages::append_batch(&pool, msgs).await }
        });
        Ok(MySqlStore { pool, appends })
    }

    /// Closes every connection after the ones in use are returned; later calls fail with
    /// `StoreError::Backend`.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn missing_room_or(&self, room: RoomId, otherwise: Entity) -> StoreError {
        match rooms::exists(&self.pool, room).await {
            Ok(false) => StoreError::Missing(Entity::Room),
            Ok(true) => StoreError::Missing(otherwise),
            Err(err) => err,
        }
    }
}

#[async_trait]
impl Store for MySqlStore {
    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        users::insert(&self.pool, user).await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        users::by_id(&self.pool, id).await
    }

    async fn user_by_username(
        &self,
        username: &str,
    ) -> StoreResult<Option<(User, Option<String>)>> {
        users::by_username(&self.pool, &username.to_lowercase()).await
    }

    async fn user_by_external_id(&self, external_id: &str) -> StoreResult<Option<User>> {
        users::by_external_id(&self.pool, external_id).await
    }

    async fn password_hash(&self, id: UserId) -> StoreResult<Option<String>> {
        users::password_hash(&self.pool, id).await
    }

    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
        users::search(&self.pool, prefix, limit).await
    }

    async fn list_users(&self, after: UserId, limit: u32) -> StoreResult<Vec<User>> {
        users::list(&self.pool, after, limit).await
    }

    async fn set_password_hash(&self, id: UserId, hash: &str) -> StoreResult<()> {
        users::set_password_hash(&self.pool, id, hash).await
    }

    async fn upgrade_guest(
        &self,
        id: UserId,
        username: &str,
        hash: &str,
    ) -> StoreResult<(User, Vec<[u8; 32]>)> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        if !users::upgrade_guest(&mut *tx, id, username, hash).await? {
            return Err(if users::exists(&mut *tx, id).await? {
                StoreError::NotAGuest
            } else {
                StoreError::Missing(Entity::User)
            });
        }
        let upgraded = users::by_id(&mut *tx, id)
            .await?
            .ok_or(StoreError::Missing(Entity::User))?;
        let ended = sessions::delete_of_user(&mut tx, id, None).await?;
        tx.commit().await.map_err(backend)?;
        Ok((upgraded, ended))
    }

    async fn set_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
        users::set_disabled(&self.pool, id, disabled).await
    }

    async fn set_server_admin(&self, id: UserId, admin: bool) -> StoreResult<()> {
        users::set_server_admin(&self.pool, id, admin).await
    }

    async fn touch_user(&self, id: UserId, at: Timestamp) -> StoreResult<()> {
        users::touch(&self.pool, id, at).await
    }

    async fn expire_guests(&self, inactive_since: Timestamp) -> StoreResult<Vec<UserId>> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let expired = users::lock_inactive_guests(&mut tx, inactive_since).await?;
        for &user in &expired {
            users::set_disabled(&mut *tx, user, true).await?;
            sessions::delete_of_user(&mut tx, user, None).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(expired)
    }

    async fn create_session(&self, session: Session) -> StoreResult<()> {
        sessions::insert(&self.pool, &session).await
    }

    async fn session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<Session>> {
        sessions::get(&self.pool, token_hash).await
    }

    async fn touch_session(&self, token_hash: &[u8; 32], at: Timestamp) -> StoreResult<()> {
        sessions::touch(&self.pool, token_hash, at).await
    }

    async fn delete_session(&self, token_hash: &[u8; 32]) -> StoreResult<bool> {
        sessions::delete(&self.pool, token_hash).await
    }

    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&[u8; 32]>,
    ) -> StoreResult<Vec<[u8; 32]>> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let deleted = sessions::delete_of_user(&mut tx, user, keep).await?;
        tx.commit().await.map_err(backend)?;
        Ok(deleted)
    }

    async fn delete_expired_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<([u8; 32], UserId)>> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let deleted = sessions::delete_expired(&mut tx, idle_before, created_before, limit).await?;
        tx.commit().await.map_err(backend)?;
        Ok(deleted)
    }

    async fn create_room(&self, room: NewRoom) -> StoreResult<Room> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let room = rooms::insert(&mut tx, room).await?;
        tx.commit().await.map_err(backend)?;
        Ok(room)
    }

    async fn room(&self, id: RoomId) -> StoreResult<Option<Room>> {
        rooms::by_id(&self.pool, id).await
    }

    async fn direct_room(&self, direct_key: &str) -> StoreResult<Option<Room>> {
        rooms::by_direct_key(&self.pool, direct_key).await
    }

    async fn rename_room(&self, id: RoomId, name: &str) -> StoreResult<()> {
        rooms::rename(&self.pool, id, name).await
    }

    async fn rooms_of_user(&self, user: UserId) -> StoreResult<Vec<(Room, Member)>> {
        rooms::of_user(&self.pool, user).await
    }

    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>> {
        rooms::members(&self.pool, room).await
    }

    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>> {
        rooms::member(&self.pool, room, user).await
    }

    async fn add_member(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        at: Timestamp,
        max_members: usize,
    ) -> StoreResult<()> {
        // Name the missing row the way chatcore does: the user first, then the room.
        if !users::exists(&self.pool, user).await? {
            return Err(StoreError::Missing(Entity::User));
        }
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Membership changes lock the room's row first, so the count below stays true until
        // this transaction commits, whichever node adds the next member.
        if rooms::lock_last_seq(&mut tx, room).await?.is_none() {
            return Err(StoreError::Missing(Entity::Room));
        }
        if rooms::member(&mut *tx, room, user).await?.is_some() {
            return Err(StoreError::Duplicate(Unique::Member));
        }
        let (members, _) = rooms::head_count(&mut *tx, room).await?;
        if usize::try_from(members).map_or(true, |n| n >= max_members) {
            return Err(StoreError::RoomFull);
        }
        rooms::insert_member(&mut *tx, room, user, role, at).await?;
        tx.commit().await.map_err(backend)
    }

    async fn remove_member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Removed>> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        if rooms::lock_last_seq(&mut tx, room).await?.is_none() {
            return Ok(None);
        }
        let Some(removed) = rooms::member(&mut *tx, room, user).await? else {
            return Ok(None);
        };
        rooms::delete_member(&mut *tx, room, user).await?;
        let promoted =
            if removed.role == Role::Admin && rooms::head_count(&mut *tx, room).await?.1 == 0 {
                rooms::promote_heir(&mut tx, room).await?
            } else {
                None
            };
        tx.commit().await.map_err(backend)?;
        Ok(Some(Removed { promoted }))
    }

    async fn set_role(&self, room: RoomId, user: UserId, role: Role) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        if rooms::lock_last_seq(&mut tx, room).await?.is_none() {
            return Err(StoreError::Missing(Entity::Room));
        }
        let current = rooms::member(&mut *tx, room, user)
            .await?
            .ok_or(StoreError::Missing(Entity::Member))?;
        if current.role == Role::Admin
            && role != Role::Admin
            && rooms::head_count(&mut *tx, room).await?.1 == 1
        {
            return Err(StoreError::LastAdmin);
        }
        rooms::set_role(&mut *tx, room, user, role).await?;
        tx.commit().await.map_err(backend)
    }

    async fn mark_read(&self, room: RoomId, user: UserId, seq: Seq) -> StoreResult<Seq> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        rooms::raise_read_marker(&mut *tx, room, user, seq).await?;
        let member = rooms::member(&mut *tx, room, user).await?;
        tx.commit().await.map_err(backend)?;
        match member {
            Some(member) => Ok(member.last_read_seq),
            None => Err(self.missing_room_or(room, Entity::Member).await),
        }
    }

    async fn append_message(&self, msg: NewMessage) -> AppendResult {
        self.appends.append(msg).await
    }

    async fn append_messages(&self, msgs: Vec<NewMessage>) -> Vec<AppendResult> {
        messages::append_batch(&self.pool, msgs).await
    }

    async fn message(&self, room: RoomId, seq: Seq) -> StoreResult<Option<Message>> {
        messages::at_seq(&self.pool, room, seq).await
    }

    async fn messages_before(
        &self,
        room: RoomId,
        before: Option<Seq>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let mut page =
            messages::before(&self.pool, room, before.unwrap_or(Seq::MAX), limit).await?;
        if page.is_empty() && !rooms::exists(&self.pool, room).await? {
            return Err(StoreError::Missing(Entity::Room));
        }
        page.reverse();
        Ok(page)
    }

    async fn messages_after(
        &self,
        room: RoomId,
        after: Seq,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let page = messages::after(&self.pool, room, after, limit).await?;
        if page.is_empty() && !rooms::exists(&self.pool, room).await? {
            return Err(StoreError::Missing(Entity::Room));
        }
        Ok(page)
    }

    async fn edit_message(
        &self,
        room: RoomId,
        seq: Seq,
        body: &str,
        at: Timestamp,
    ) -> StoreResult<Message> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        if !messages::edit(&mut *tx, room, seq, body, at).await? {
            drop(tx);
            return Err(self.missing_room_or(room, Entity::Message).await);
        }
        let edited = messages::at_seq(&mut *tx, room, seq)
            .await?
            .ok_or(StoreError::Missing(Entity::Message))?;
        tx.commit().await.map_err(backend)?;
        Ok(edited)
    }

    async fn delete_message(&self, room: RoomId, seq: Seq, at: Timestamp) -> StoreResult<Message> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        if !messages::tombstone(&mut *tx, room, seq, at).await? {
            drop(tx);
            return Err(self.missing_room_or(room, Entity::Message).await);
        }
        let deleted = messages::at_seq(&mut *tx, room, seq)
            .await?
            .ok_or(StoreError::Missing(Entity::Message))?;
        tx.commit().await.map_err(backend)?;
        Ok(deleted)
    }

    async fn count_unread(&self, room: RoomId, user: UserId, after_seq: Seq) -> StoreResult<u64> {
        messages::count_unread(&self.pool, room, user, after_seq).await
    }

    async fn create_media(&self, media: NewMedia) -> StoreResult<Media> {
        if !rooms::exists(&self.pool, media.room_id).await? {
            return Err(StoreError::Missing(Entity::Room));
        }
        media::insert(&self.pool, media).await
    }

    async fn media(&self, id: MediaId) -> StoreResult<Option<Media>> {
        media::by_id(&self.pool, id).await
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

//! Server administration: user management by server admins and by the operator.

use super::{Actor, Chat};
use crate::error::{Error, Result};
use crate::model::{User, UserId};
use crate::sanitize;

impl Chat {
    /// Users after `after` by id, at most `limit` (1–200). Server admins only.
    pub async fn admin_list_users(
        &self,
        actor: &Actor,
        after: UserId,
        limit: u32,
    ) -> Result<Vec<User>> {
        self.require_server_admin(actor).await?;
        Ok(self.store().list_users(after, limit.clamp(1, 200)).await?)
    }

    /// Disables a user: their sessions end and live connections close. Server admins only, and
    /// not on themselves.
    pub async fn admin_disable_user(&self, actor: &Actor, user: UserId) -> Result<()> {
        self.require_server_admin(actor).await?;
        if user == actor.id() {
            return Err(Error::invalid("user_id", "you cannot disable yourself"));
        }
        self.disable(user).await
    }

    /// Operator command: grants the server admin role to a full account. Guests cannot hold it.
    pub async fn promote_server_admin(&self, username: &str) -> Result<User> {
        let user = self.by_username(username).await?;
        if user.is_guest {
            return Err(Error::Forbidden("guests cannot be admins"));
        }
        self.store().set_server_admin(user.id, true).await?;
        self.user(user.id).await
    }

    /// Operator command: disables an account by username.
    pub async fn disable_username(&self, username: &str) -> Result<User> {
        let user = self.by_username(username).await?;
        self.disable(user.id).await?;
        self.user(user.id).await
    }

    /// Disables guests inactive for longer than the configured TTL, ending their sessions and
    /// connections. Returns how many expired. Run it periodically.
    pub async fn expire_inactive_guests(&self) -> Result<usize> {
        let cutoff = self.now().minus(self.config().guest_ttl);
        let expired = self.store().expire_guests(cutoff).await?;
        for &user in &expired {
            self.hub().close_user(user);
        }
        Ok(expired.len())
    }

    async fn disable(&self, user: UserId) -> Result<()> {
        self.user(user).await?;
        self.store().set_disabled(user, true).await?;
        self.store().delete_user_sessions(user, None).await?;
        self.hub().close_user(user);
        Ok(())
    }

    async fn by_username(&self, username: &str) -> Result<User> {
        let name = sanitize::username(username)?;
        Ok(self
            .store()
            .user_by_username(&name)
            .await?
            .ok_or(Error::NotFound("user"))?
            .0)
    }

    async fn require_server_admin(&self, actor: &Actor) -> Result<()> {
        // Checked against the store, not the actor snapshot, so a revoked role takes effect.
        match self.store().user(actor.id()).await? {
            Some(u) if u.is_server_admin && !u.disabled && !u.is_guest => Ok(()),
            _ => Err(Error::Forbidden("server admins only")),
        }
    }
}

//! Accounts: registration, login, guests, host-app identities, passwords.

use super::{Actor, Chat};
use crate::error::{Error, Result, StoreError};
use crate::model::{NewUser, User, UserId};
use crate::password::check_policy;
use crate::sanitize;
use crate::token::SessionToken;

const BAD_CREDENTIALS: &str = "wrong username or password";

impl Chat {
    /// Registers a password account and logs it in.
    ///
    /// `Invalid` for a malformed username, display name or a weak password; `Conflict` when the
    /// username is taken.
    pub async fn register(
        &self,
        username: &str,
        password: &str,
        display_name: Option<&str>,
    ) -> Result<(Actor, SessionToken)> {
        let username = sanitize::username(username)?;
        let display_name = sanitize::display_name(display_name.unwrap_or(&username))?;
        check_policy(password)?;
        if self.store().user_by_username(&username).await?.is_some() {
            return Err(username_taken());
        }
        let hash = self.inner.hasher.hash(password).await?;
        let user = self
            .create_user(NewUser {
                username: Some(username),
                display_name,
                password_hash: Some(hash),
                is_guest: false,
                external_id: None,
                created_at: self.now(),
            })
            .await?;
        self.start_session(user).await
    }

    /// Logs in with username and password; a new session token every time.
    ///
    /// A wrong password and an unknown user give the same `Unauthenticated` error and cost the
    /// same argon2 verification (a name that cannot be a username is refused without one).
    /// Each attempt is counted against the username *before* the password is checked, and
    /// counts as a failure until it succeeds: after `login_failures_per_username` attempts
    /// within `login_failure_window` (also when they arrive all at once), the username is
    /// refused with `RateLimited` without checking. A success forgets the failures; an attempt
    /// the server could not finish (`Busy`, storage) does not count.
    pub async fn login(&self, username: &str, password: &str) -> Result<(Actor, SessionToken)> {
        // Only a valid username becomes a throttle key: at most 32 bytes, whatever was sent.
        let username =
            sanitize::username(username).map_err(|_| Error::Unauthenticated(BAD_CREDENTIALS))?;
        let throttle = &self.inner.login_failures;
        let attempt = throttle
            .acquire(username.clone(), self.now())
            .await
            .map_err(|retry_after| Error::RateLimited { retry_after })?;
        let result = self.check_credentials(&username, password).await;
        match &result {
            Ok(_) => throttle.reset(&username).await,
            Err(Error::Unauthenticated(_)) => {}
            Err(_) => throttle.release(&username, attempt).await,
        }
        result
    }

    async fn check_credentials(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(Actor, SessionToken)> {
        let (user, hash) = match self.store().user_by_username(username).await? {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        let ok = self.inner.hasher.verify(password, hash.as_deref()).await?;
        match user {
            Some(user) if ok && !user.disabled => self.start_session(user).await,
            Some(user) if ok => {
                tracing::info!(user = %user.id, "login refused: account disabled");
                Err(Error::Forbidden("this account is disabled"))
            }
            _ => Err(Error::Unauthenticated(BAD_CREDENTIALS)),
        }
    }

    /// Enters as a guest: no password, a generated name ("Guest 4821") unless one is given.
    pub async fn guest(&self, display_name: Option<&str>) -> Result<(Actor, SessionToken)> {
        let display_name = match display_name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => sanitize::display_name(name)?,
            None => generated_guest_name(),
        };
        let user = self
            .create_user(NewUser {
                username: None,
                display_name,
                password_hash: None,
                is_guest: true,
                external_id: None,
                created_at: self.now(),
            })
            .await?;
        self.start_session(user).await
    }

    /// Turns the acting guest into a full account, keeping their rooms and history, and logs
    /// it in afresh: every session the guest had ends (their connections close with
    /// `SessionEnded`) and a new session is returned, so a token that was handed out while the
    /// account was an anonymous guest never speaks for the full account.
    ///
    /// The cheap checks (still a guest, valid username and password, name free) come before
    /// the password is hashed. Of two upgrades racing for the same guest exactly one wins; the
    /// other gets `Conflict` and changes nothing.
    pub async fn upgrade_guest(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
    ) -> Result<(Actor, SessionToken)> {
        let current = self.enabled_user(actor.id()).await?;
        if !current.is_guest {
            return Err(not_a_guest());
        }
        let username = sanitize::username(username)?;
        check_policy(password)?;
        if self.store().user_by_username(&username).await?.is_some() {
            return Err(username_taken());
        }
        let hash = self.inner.hasher.hash(password).await?;
        let (user, ended) = self
            .store()
            .upgrade_guest(actor.id(), &username, &hash)
            .await
            .map_err(|e| match e {
                StoreError::Duplicate(_) => username_taken(),
                StoreError::NotAGuest => not_a_guest(),
                other => other.into(),
            })?;
        for session in &ended {
            self.hub().close_user_session(user.id, session);
        }
        self.start_session(user).await
    }

    /// The chat user for a host application's already-authenticated user, created on first use.
    ///
    /// The host vouches for `external_id`; no password is involved. The host owns the user's
    /// name too: a `display_name` different from the stored one renames the user (others see
    /// the new name from then on). The same rules as for any other user apply (a disabled user
    /// is refused). Calling this on every request is cheap: it writes only to create, to
    /// rename, and to record activity at most once a minute.
    pub async fn external_user(&self, external_id: &str, display_name: &str) -> Result<Actor> {
        if external_id.is_empty() || external_id.len() > 255 {
            return Err(Error::invalid(
                "external_id",
                "external id must be 1–255 bytes",
            ));
        }
        if external_id.chars().any(char::is_control) {
            return Err(Error::invalid(
                "external_id",
                "external id must not contain control characters",
            ));
        }
        let display_name = sanitize::display_name(display_name)?;
        let mut user = match self.store().user_by_external_id(external_id).await? {
            Some(user) => user,
            None => {
                self.create_external_user(external_id, &display_name)
                    .await?
            }
        };
        if user.disabled {
            return Err(Error::Forbidden("this account is disabled"));
        }
        if user.display_name != display_name {
            self.store()
                .set_display_name(user.id, &display_name)
                .await?;
            user.display_name = display_name;
        }
        let now = self.now();
        if now >= user.last_active_at.plus(super::sessions::TOUCH_INTERVAL) {
            self.store().touch_user(user.id, now).await?;
            user.last_active_at = now;
        }
        Ok(Actor {
            user,
            session: None,
        })
    }

    async fn create_external_user(&self, external_id: &str, display_name: &str) -> Result<User> {
        let new = NewUser {
            username: None,
            display_name: display_name.to_owned(),
            password_hash: None,
            is_guest: false,
            external_id: Some(external_id.to_owned()),
            created_at: self.now(),
        };
        match self.store().create_user(new).await {
            Ok(user) => Ok(user),
            // Two first uses raced: the other one created it.
            Err(StoreError::Duplicate(_)) => self
                .store()
                .user_by_external_id(external_id)
                .await?
                .ok_or(Error::NotFound("user")),
            Err(e) => Err(e.into()),
        }
    }

    /// Changes the actor's password after checking the current one. With
    /// `end_other_sessions`, every other session of the user is revoked and disconnected.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        end_other_sessions: bool,
    ) -> Result<()> {
        let hash = self.store().password_hash(actor.id()).await?;
        if hash.is_none() {
            return Err(Error::Forbidden("this account has no password"));
        }
        if !self.inner.hasher.verify(current, hash.as_deref()).await? {
            return Err(Error::invalid(
                "current_password",
                "the current password is wrong",
            ));
        }
        check_policy(new)?;
        let new_hash = self.inner.hasher.hash(new).await?;
        self.store()
            .set_password_hash(actor.id(), &new_hash)
            .await?;
        if end_other_sessions {
            let ended = self
                .store()
                .delete_user_sessions(actor.id(), actor.session_hash())
                .await?;
            for session in &ended {
                self.hub().close_session(session);
            }
        }
        Ok(())
    }

    /// The current state of a user as others may see it (`NotFound` if absent).
    pub async fn user(&self, id: UserId) -> Result<User> {
        self.store().user(id).await?.ok_or(Error::NotFound("user"))
    }

    /// Enabled users whose username or display name starts with `prefix`, for starting chats:
    /// only users the actor may reach under [`ChatConfig::discovery`](super::ChatConfig::discovery)
    /// (never the actor), and of those the ones the host's
    /// [`Policy::visible_users`](crate::policy::Policy::visible_users) lets the actor see.
    pub async fn search_users(&self, actor: &Actor, prefix: &str, limit: u32) -> Result<Vec<User>> {
        let prefix = sanitize::name(prefix);
        if prefix.chars().count() > 64 {
            return Err(Error::invalid(
                "q",
                "search text must be at most 64 characters",
            ));
        }
        let found = self
            .find_reachable(actor.user(), &prefix, limit.clamp(1, 50))
            .await?;
        Ok(match &self.inner.policy {
            Some(policy) => policy.visible_users(actor.user(), found).await,
            None => found,
        })
    }

    async fn create_user(&self, new: NewUser) -> Result<User> {
        self.store().create_user(new).await.map_err(|e| match e {
            StoreError::Duplicate(_) => username_taken(),
            other => other.into(),
        })
    }
}

fn username_taken() -> Error {
    Error::Conflict {
        field: "username",
        reason: "this username is taken",
    }
}

fn not_a_guest() -> Error {
    Error::Conflict {
        field: "username",
        reason: "this account is not a guest",
    }
}

fn generated_guest_name() -> String {
    let mut b = [0u8; 2];
    crate::token::fill_random(&mut b);
    format!("Guest {:04}", u16::from_le_bytes(b) % 10_000)
}

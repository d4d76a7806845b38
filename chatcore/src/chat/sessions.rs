//! Sessions: starting them, authenticating with them, their expiry, ending them.
//!
//! A session stops working when it has been unused for `session_idle_timeout` or is older than
//! `session_lifetime`, whichever comes first. Requests check that when they authenticate; a
//! live connection knows the moment ([`Chat::session_time_left`]) and revalidates then; and
//! [`Chat::expire_sessions`], run periodically by the host, deletes the expired rows and closes
//! whatever connection is still open on them.

use std::time::Duration;

use super::{Actor, ActorSession, Chat};
use crate::error::{Error, Result};
use crate::model::{Session, Timestamp, User};
use crate::token::SessionToken;

/// Sessions (and host-app users) are touched at most this often, so authenticating is not a
/// write per request.
pub(super) const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// Expired sessions deleted per store call by [`Chat::expire_sessions`].
const EXPIRY_BATCH: u32 = 500;

impl Chat {
    /// The actor behind a session token. Expired (idle or absolute), revoked, unknown tokens and
    /// disabled users are all `Unauthenticated`.
    pub async fn authenticate(&self, token: &SessionToken) -> Result<Actor> {
        self.session_actor(token.hash()).await
    }

    /// Checks that an actor obtained earlier is still valid (its session not revoked or expired,
    /// the user not disabled) and returns a fresh copy; using it counts as using the session.
    /// Long-lived connections call this when they resume, when they are active, and when
    /// [`Chat::session_time_left`] runs out. `Unauthenticated` when it is no longer valid.
    pub async fn revalidate(&self, actor: &Actor) -> Result<Actor> {
        match &actor.session {
            Some(session) => self.session_actor(session.hash).await,
            None => match self.store().user(actor.id()).await? {
                Some(user) if !user.disabled => Ok(Actor {
                    user,
                    session: None,
                }),
                _ => Err(Error::Unauthenticated("this account is no longer active")),
            },
        }
    }

    /// How long the actor's session stays valid if nothing uses it, as of its authentication:
    /// when this runs out, [`Chat::revalidate`] says whether it was used (and extended)
    /// meanwhile. `None` for actors without a session (host-app identities).
    pub fn session_time_left(&self, actor: &Actor) -> Option<Duration> {
        let expires_at = actor.session.as_ref()?.expires_at;
        let left = expires_at.millis().saturating_sub(self.now().millis());
        Some(Duration::from_millis(left.max(0) as u64))
    }

    /// A new session for an actor the host has authenticated by its own means (e.g. a
    /// [`Chat::external_user`]), for hosts that hand chat tokens to their clients: the token
    /// works like a login's (bearer or cookie, same expiry rules) until it expires or
    /// [`Chat::logout`] ends it. `Forbidden` when the user has been disabled meanwhile.
    pub async fn issue_session(&self, actor: &Actor) -> Result<(Actor, SessionToken)> {
        match self.store().user(actor.id()).await? {
            Some(user) if !user.disabled => self.start_session(user).await,
            Some(_) => Err(Error::Forbidden("this account is disabled")),
            None => Err(Error::NotFound("user")),
        }
    }

    /// Ends a session: the token stops working and its live connections close.
    pub async fn logout(&self, token: &SessionToken) -> Result<()> {
        let hash = token.hash();
        self.store().delete_session(&hash).await?;
        self.hub().close_session(&hash);
        Ok(())
    }

    /// Deletes every expired session (idle or absolute) and closes the live connections still
    /// open on them. Returns how many ended. Run it periodically: it keeps the sessions table
    /// from growing with sessions nobody will present again.
    pub async fn expire_sessions(&self) -> Result<usize> {
        let now = self.now();
        let cfg = self.config();
        let idle_before = now.minus(cfg.session_idle_timeout);
        let created_before = now.minus(cfg.session_lifetime);
        let mut total = 0;
        loop {
            let ended = self
                .store()
                .delete_expired_sessions(idle_before, created_before, EXPIRY_BATCH)
                .await?;
            for (hash, user) in &ended {
                self.hub().close_user_session(*user, hash);
            }
            total += ended.len();
            if ended.len() < EXPIRY_BATCH as usize {
                return Ok(total);
            }
        }
    }

    pub(super) async fn start_session(&self, user: User) -> Result<(Actor, SessionToken)> {
        let token = SessionToken::generate();
        let now = self.now();
        let session = Session {
            token_hash: token.hash(),
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
        };
        let actor = Actor {
            user,
            session: Some(self.actor_session(&session)),
        };
        self.store().create_session(session).await?;
        self.store().touch_user(actor.id(), now).await?;
        Ok((actor, token))
    }

    async fn session_actor(&self, hash: [u8; 32]) -> Result<Actor> {
        let mut session = self
            .store()
            .session(&hash)
            .await?
            .ok_or(Error::Unauthenticated("not logged in"))?;
        let now = self.now();
        if now >= self.expiry(&session) {
            self.store().delete_session(&hash).await?;
            return Err(Error::Unauthenticated("session expired"));
        }
        let user = match self.store().user(session.user_id).await? {
            Some(user) if !user.disabled => user,
            _ => return Err(Error::Unauthenticated("not logged in")),
        };
        if now >= session.last_seen_at.plus(TOUCH_INTERVAL) {
            self.store().touch_session(&hash, now).await?;
            self.store().touch_user(user.id, now).await?;
            session.last_seen_at = now;
        }
        Ok(Actor {
            user,
            session: Some(self.actor_session(&session)),
        })
    }

    /// When `session` stops working unless it is used first.
    fn expiry(&self, session: &Session) -> Timestamp {
        let cfg = self.config();
        let absolute = session.created_at.plus(cfg.session_lifetime);
        let idle = session.last_seen_at.plus(cfg.session_idle_timeout);
        absolute.min(idle)
    }

    fn actor_session(&self, session: &Session) -> ActorSession {
        ActorSession {
            hash: session.token_hash,
            expires_at: self.expiry(session),
        }
    }
}

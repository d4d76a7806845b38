//! Who is making a request: the one hook REST and WebSocket share.
//!
//! A host with its own login implements [`Identify`] (or passes a closure) and maps its session
//! onto a chat user, typically with [`Chat::external_user`]. Without one, [`ChatSessions`]
//! accepts chat's own session tokens (bearer header or cookie), and the `auth` routes
//! (register, login, guest, logout) are served.

use std::future::Future;
use std::pin::Pin;

use chatcore::{Actor, Chat, SessionToken};
use http::request::Parts;

use crate::http::cookies::{self, Credential};

/// A boxed identity answer, so an [`Identify`] can sit behind `dyn`.
pub type IdentityFuture = Pin<Box<dyn Future<Output = chatcore::Result<Actor>> + Send>>;

/// Maps a request onto the chat user making it.
///
/// Answer `Err(chatcore::Error::Unauthenticated(..))` for a request without a valid login (the
/// client gets 401 `unauthenticated`); any other error is answered like the same error from
/// `Chat`. The hook runs before every REST call and every WebSocket upgrade, so keep it quick
/// ([`Chat::external_user`] writes only when something changed).
///
/// A closure works too; it gets the request's head and returns a `'static` future, so copy
/// what it needs first:
///
/// ```
/// # use chatcore::Chat;
/// # fn demo(chat: Chat) -> impl chatcore_http::Identify {
/// move |parts: &http::request::Parts| {
///     let chat = chat.clone();
///     let user = parts.headers.get("x-user").and_then(|v| v.to_str().ok()).map(str::to_owned);
///     async move {
///         let user = user.ok_or(chatcore::Error::Unauthenticated("log in first"))?;
///         chat.external_user(&format!("myapp:{user}"), &user).await
///     }
/// }
/// # }
/// ```
pub trait Identify: Send + Sync + 'static {
    /// The acting user of the request whose head is `parts`.
    fn identify(&self, parts: &Parts) -> IdentityFuture;

    /// Whether this is chat's own session scheme ([`ChatSessions`]): then the `auth` routes are
    /// served and cookie requests must come from an allowed origin.
    fn is_chat_sessions(&self) -> bool {
        false
    }
}

impl<F, Fut> Identify for F
where
    F: Fn(&Parts) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = chatcore::Result<Actor>> + Send + 'static,
{
    fn identify(&self, parts: &Parts) -> IdentityFuture {
        Box::pin(self(parts))
    }
}

/// Chat's own sessions: `Authorization: Bearer <token>` or the `chat_session` cookie, as
/// issued by the `auth` routes (or [`Chat::issue_session`]).
#[derive(Clone)]
pub struct ChatSessions {
    chat: Chat,
}

impl ChatSessions {
    /// Sessions of `chat`.
    pub fn new(chat: Chat) -> Self {
        ChatSessions { chat }
    }
}

impl Identify for ChatSessions {
    fn identify(&self, parts: &Parts) -> IdentityFuture {
        let chat = self.chat.clone();
        let token: Option<SessionToken> =
            cookies::credential(&parts.headers).map(|c: Credential| c.token().clone());
        Box::pin(async move {
            let token = token.ok_or(chatcore::Error::Unauthenticated("not logged in"))?;
            chat.authenticate(&token).await
        })
    }

    fn is_chat_sessions(&self) -> bool {
        true
    }
}

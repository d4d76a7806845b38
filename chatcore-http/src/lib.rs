//! # chatcore-http
//!
//! The chat's REST API (`docs/api.md`) and WebSocket (`docs/protocol.md`) as one HTTP service a
//! host mounts under any prefix: a [`tower_service::Service`] (so axum's `nest_service`, and
//! hyper through `hyper_util::service::TowerToHyperService`), or [`ChatHttp::handle`] from any
//! handler. Who makes a request is the host's call, through one [`Identify`] hook shared by REST
//! and WebSocket; without one, chat's own sessions and `auth` routes are used (the reference
//! server does this).
//!
//! ```no_run
//! # async fn demo(chat: chatcore::Chat) {
//! // The whole API under /chat of an axum app, users from the host's own login:
//! let api = chatcore_http::ChatHttp::builder(chat.clone())
//!     .identity(move |parts: &http::request::Parts| {
//!         let chat = chat.clone();
//!         let user = parts.headers.get("x-user").and_then(|v| v.to_str().ok()).map(str::to_owned);
//!         async move {
//!             let user = user.ok_or(chatcore::Error::Unauthenticated("log in first"))?;
//!             chat.external_user(&format!("myapp:{user}"), &user).await
//!         }
//!     })
//!     .build();
//! // axum::Router::new().nest_service("/chat", api)
//! # }
//! ```
//!
//! With feature `axum`, axum's connect info gives every request its client's address
//! (`chatcore_http::axum`).
//!
//! No chat rule lives here: handlers parse, call `chatcore`, and map its errors to HTTP.

pub mod app;
#[cfg(feature = "axum")]
pub mod axum;
pub mod http;
mod identity;
pub mod ratelimit;
pub mod router;
mod routes;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use chatcore::Chat;
use http_body_util::BodyExt;

pub use app::{App, Limits, Settings};
pub use identity::{ChatSessions, Identify, IdentityFuture};
pub use router::Conn;
pub use routes::invites::redacted as redacted_path;

/// The chat's HTTP API, ready to mount. Cloning is shallow.
#[derive(Clone)]
pub struct ChatHttp {
    app: App,
}

/// Builds a [`ChatHttp`]; see [`ChatHttp::builder`].
pub struct ChatHttpBuilder {
    chat: Chat,
    identity: Option<Arc<dyn Identify>>,
    settings: Settings,
    limits: Limits,
}

impl ChatHttp {
    /// Starts building the API of `chat`. Without [`identity`](ChatHttpBuilder::identity),
    /// users come from chat's own sessions ([`ChatSessions`]) and the `auth` routes are served.
    pub fn builder(chat: Chat) -> ChatHttpBuilder {
        ChatHttpBuilder {
            chat,
            identity: None,
            settings: Settings::default(),
            limits: Limits::default(),
        }
    }

    /// The shared state (the chat, settings, the WebSocket tasks for a draining shutdown).
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Answers one request whose path is relative to the mount point (`/api/v1/rooms`, …).
    /// Put a [`Conn`] in its extensions when the client's address is known.
    pub fn handle<B>(
        &self,
        req: ::http::Request<B>,
    ) -> impl Future<Output = http::Response> + Send + 'static
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<http::BoxError>,
    {
        let req = req.map(|body| body.map_err(http::BodyError::new).boxed_unsync());
        router::handle(self.app.clone(), req)
    }

    /// Closes every WebSocket this API serves (1001) and waits for them to finish; call it
    /// when the host shuts down, after [`Chat::shutdown`] or instead of waiting for it.
    pub async fn shutdown(&self) {
        self.app.stopping().cancel();
        self.app.sockets().close();
        self.app.sockets().wait().await;
    }
}

impl ChatHttpBuilder {
    /// Who makes each request: the host's [`Identify`] hook (or closure), for REST and
    /// WebSocket alike. The `auth` routes answer 404 then: the host logs its users in.
    pub fn identity(mut self, identity: impl Identify) -> Self {
        self.identity = Some(Arc::new(identity));
        self
    }

    /// HTTP settings (upload size, cookies, proxy, WebSocket limits and origins).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Per-address rate limits of the `auth` routes.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The API, ready to mount.
    pub fn build(self) -> ChatHttp {
        let identity = match self.identity {
            Some(identity) => identity,
            None => Arc::new(ChatSessions::new(self.chat.clone())),
        };
        ChatHttp {
            app: App::new(self.chat, identity, self.settings, self.limits),
        }
    }
}

impl<B> tower_service::Service<::http::Request<B>> for ChatHttp
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<http::BoxError>,
{
    type Response = http::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: ::http::Request<B>) -> Self::Future {
        let response = self.handle(req);
        Box::pin(async move { Ok(response.await) })
    }
}

//! axum glue (feature `axum`): the chat's WebSocket as an extractor, for a host that serves
//! the socket from a route of its own (to mount the whole REST API and WebSocket at once, use
//! `chatcore-http`'s `ChatHttp` instead).
//!
//! ```no_run
//! use axum::{Router, extract::State, http::StatusCode, response::{IntoResponse, Response}};
//! use chatcore::Chat;
//! use chatcore_ws::axum::ChatUpgrade;
//!
//! async fn chat_socket(upgrade: ChatUpgrade, State(chat): State<Chat>) -> Response {
//!     // Your login decides who is asking (an extractor of yours, a session lookup, …).
//!     match chat.external_user("myapp:42", "Ann").await {
//!         Ok(actor) => upgrade.serve(chat, actor),
//!         Err(_) => StatusCode::UNAUTHORIZED.into_response(),
//!     }
//! }
//!
//! # fn app(chat: Chat) -> Router {
//! Router::new().route("/ws", axum::routing::get(chat_socket)).with_state(chat)
//! # }
//! ```

use ::axum::extract::FromRequestParts;
use ::axum::http::request::Parts;
use ::axum::http::{HeaderValue, header::CONTENT_TYPE, header::COOKIE};
use ::axum::response::{IntoResponse, Response};
use chatcore::{Actor, Chat};

use crate::limits::WsConfig;
use crate::upgrade::{Upgrade, UpgradeError, check};

/// A checked WebSocket upgrade request: an extractor that refuses requests that are not
/// WebSocket upgrades (400 `invalid`) and browser pages from foreign origins (403
/// `bad_origin`; a request carrying cookies must name an allowed `Origin`), with the error
/// shape of `docs/api.md`.
///
/// Limits and allowed origins are [`WsConfig::default()`], or the `WsConfig` a layer put in
/// the request's extensions (`.layer(axum::Extension(config))`). Authenticate the user in the
/// same handler (or an extractor before this one), then [`serve`](Self::serve).
#[derive(Debug)]
pub struct ChatUpgrade(Upgrade);

impl<S: Send + Sync> FromRequestParts<S> for ChatUpgrade {
    type Rejection = UpgradeError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, UpgradeError> {
        let config = parts
            .extensions
            .get::<WsConfig>()
            .cloned()
            .unwrap_or_default();
        let cookie_auth = parts.headers.contains_key(COOKIE);
        let accept = check(&parts.headers, &config, None, cookie_auth)?;
        Upgrade::take(accept, &mut parts.extensions, &config).map(ChatUpgrade)
    }
}

impl ChatUpgrade {
    /// Answers 101 and serves `actor` on the socket in a task of its own (on the current
    /// runtime) until the client leaves or [`Chat::shutdown`] closes it.
    pub fn serve(self, chat: Chat, actor: Actor) -> Response {
        let (response, connection) = self.0.serve(chat, actor, std::future::pending());
        tokio::spawn(connection);
        response
    }

    /// The upgrade itself, to spawn the connection in the host's own task set or with a
    /// shutdown signal of its own ([`Upgrade::serve`]).
    pub fn into_inner(self) -> Upgrade {
        self.0
    }
}

impl IntoResponse for UpgradeError {
    /// `{"error": {"code", "message", "field"?}}` with [`status`](UpgradeError::status).
    fn into_response(self) -> Response {
        let mut error = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        if let Some(field) = self.field() {
            error["field"] = field.into();
        }
        let body = serde_json::json!({ "error": error }).to_string();
        let mut response = (self.status(), body).into_response();
        let json = HeaderValue::from_static("application/json");
        response.headers_mut().insert(CONTENT_TYPE, json);
        response
    }
}

//! `GET /api/v1/ws`: authenticate and check the origin, then hand the socket to `chatcore-ws`.

use std::net::SocketAddr;

use crate::app::App;
use crate::http::cookies::Credential;
use crate::http::{ApiError, HandlerResult, Request};

/// `GET /api/v1/ws` → 101 and the chat protocol of `docs/protocol.md`; 401/403 before upgrading.
pub async fn upgrade(app: &App, req: Request, local: SocketAddr) -> HandlerResult {
    let me = app.authenticate(req.headers()).await?;
    let cookie_auth = matches!(me.credential, Credential::Cookie(_));
    app.check_origin(req.headers(), local, cookie_auth)?;
    // Wired to chatcore-ws once it lands.
    Err(ApiError::not_found())
}

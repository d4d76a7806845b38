//! Which handler answers a request: one table of method and path.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use chatcore::{MediaId, MediaVariant, RoomId, UserId};
use hyper::Method;

use crate::app::App;
use crate::http::cookies::{self, Credential};
use crate::http::{ApiError, HandlerResult, Request, Response, headers};
use crate::routes::{admin, assist, auth, csp, health, media, messages, rooms, users, web, ws};

/// The two ends of the TCP connection a request came over.
#[derive(Debug, Clone)]
pub struct Conn {
    /// The client (or proxy).
    pub peer: SocketAddr,
    /// Our listening address as the client reached it.
    pub local: SocketAddr,
    /// The connection's place among its address's open connections: a WebSocket upgraded
    /// from it keeps the place until it closes.
    pub slot: Option<Arc<chatcore_ws::AddressSlot>>,
}

/// Answers one request: route, handle, turn errors into the JSON shape, add security headers.
pub async fn handle(app: App, conn: Conn, req: Request) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let res = dispatch(&app, conn, req)
        .await
        .unwrap_or_else(ApiError::into_response);
    let status = res.status().as_u16();
    tracing::debug!(%method, %path, status, elapsed_ms = started.elapsed().as_millis() as u64, "request");
    // `secure_cookie` is set exactly when the public URL is https: then HSTS too.
    headers::secure(res, app.settings().secure_cookie)
}

async fn dispatch(app: &App, conn: Conn, req: Request) -> HandlerResult {
    let path = req.uri().path().to_owned();
    if path != "/healthz" && !path.starts_with("/api/") {
        return web::serve(app, &req).await;
    }
    if is_state_changing(req.method()) {
        let cookie_only = matches!(
            cookies::credential(req.headers()),
            Some(Credential::Cookie(_))
        );
        app.check_origin(req.headers(), conn.local, cookie_only)?;
    }
    let ip = headers::client_ip(conn.peer, req.headers(), app.settings().trust_forwarded_for);
    let method = req.method().clone();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    api(app, conn, ip, method, &segments, req).await
}

async fn api(
    app: &App,
    conn: Conn,
    ip: IpAddr,
    method: Method,
    path: &[&str],
    req: Request,
) -> HandlerResult {
    use Method as M;
    match (method, path) {
        (M::GET, ["healthz"]) => health::get(app).await,

        (M::POST, ["api", "v1", "auth", "register"]) => auth::register(app, req, ip).await,
        (M::POST, ["api", "v1", "auth", "login"]) => auth::login(app, req, ip).await,
        (M::POST, ["api", "v1", "auth", "guest"]) => auth::guest(app, req, ip).await,
        (M::POST, ["api", "v1", "auth", "upgrade"]) => auth::upgrade(app, req, ip).await,
        (M::POST, ["api", "v1", "auth", "logout"]) => auth::logout(app, req).await,

        (M::GET, ["api", "v1", "me"]) => users::me(app, req).await,
        (M::GET, ["api", "v1", "users"]) => users::search(app, req).await,

        (M::GET, ["api", "v1", "rooms"]) => rooms::list(app, req).await,
        (M::POST, ["api", "v1", "rooms"]) => rooms::create_group(app, req).await,
        (M::POST, ["api", "v1", "rooms", "direct"]) => rooms::open_direct(app, req).await,
        (M::GET, ["api", "v1", "rooms", room]) => rooms::get(app, req, RoomId(id(room)?)).await,
        (M::PATCH, ["api", "v1", "rooms", room]) => {
            rooms::rename(app, req, RoomId(id(room)?)).await
        }
        (M::POST, ["api", "v1", "rooms", room, "members"]) => {
            rooms::add_member(app, req, RoomId(id(room)?)).await
        }
        (M::PATCH, ["api", "v1", "rooms", room, "members", user]) => {
            rooms::set_role(app, req, RoomId(id(room)?), UserId(id(user)?)).await
        }
        (M::DELETE, ["api", "v1", "rooms", room, "members", user]) => {
            rooms::remove_member(app, req, RoomId(id(room)?), UserId(id(user)?)).await
        }

        (M::GET, ["api", "v1", "rooms", room, "messages"]) => {
            messages::history(app, req, RoomId(id(room)?)).await
        }
        (M::POST, ["api", "v1", "rooms", room, "messages"]) => {
            messages::send(app, req, RoomId(id(room)?)).await
        }
        (M::PATCH, ["api", "v1", "rooms", room, "messages", seq]) => {
            messages::edit(app, req, RoomId(id(room)?), id(seq)?).await
        }
        (M::DELETE, ["api", "v1", "rooms", room, "messages", seq]) => {
            messages::delete(app, req, RoomId(id(room)?), id(seq)?).await
        }
        (M::POST, ["api", "v1", "rooms", room, "typing"]) => {
            messages::typing(app, req, RoomId(id(room)?)).await
        }
        (M::POST, ["api", "v1", "rooms", room, "read"]) => {
            messages::mark_read(app, req, RoomId(id(room)?)).await
        }

        (M::POST, ["api", "v1", "rooms", room, "media"]) => {
            media::upload(app, req, RoomId(id(room)?)).await
        }
        (M::GET, ["api", "v1", "media", media]) => {
            media::download(app, req, media_id(media)?, MediaVariant::Original).await
        }
        (M::GET, ["api", "v1", "media", media, "thumbnail"]) => {
            media::download(app, req, media_id(media)?, MediaVariant::Thumbnail).await
        }

        (M::GET, ["api", "v1", "admin", "users"]) => admin::list_users(app, req).await,
        (M::POST, ["api", "v1", "admin", "users", user, "disable"]) => {
            admin::disable_user(app, req, UserId(id(user)?)).await
        }

        (M::GET, ["api", "v1", "assist"]) => assist::offer(app, req).await,
        (M::POST, ["api", "v1", "assist"]) => assist::suggest(app, req).await,

        (M::GET, ["api", "v1", "ws"]) => ws::upgrade(app, req, conn).await,

        (M::POST, ["api", "v1", "csp-report"]) => csp::report(app, req, ip).await,

        _ => Err(ApiError::not_found()),
    }
}

/// A path id like `42`; anything else is a path that does not exist.
fn id(segment: &str) -> Result<i64, ApiError> {
    segment
        .parse::<i64>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(ApiError::not_found)
}

/// A media id segment; anything that is not one is a 404, like an id that names nothing.
fn media_id(segment: &str) -> Result<MediaId, ApiError> {
    segment.parse().map_err(|_| ApiError::not_found())
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

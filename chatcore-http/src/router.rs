//! Which handler answers a request: one table of method and path, relative to where the host
//! mounted the service.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use ::http::Method;
use ::http::header::{HeaderMap, HeaderName};
use chatcore::{InviteId, MediaId, MediaVariant, RoomId, UserId};

use crate::app::App;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::routes::{
    admin, assist, auth, csp, health, invites, media, messages, profile, reactions, rooms, search,
    settings, users, ws,
};

/// The two ends of the TCP connection a request came over. A host that knows them puts one in
/// the request's extensions; without it, every request counts as coming from one unknown
/// address (its per-address rate limits are shared by everyone).
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

/// Answers one request: route, handle, turn errors into the JSON shape.
pub async fn handle(app: App, req: Request) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = invites::redacted(req.uri().path()).into_owned();
    let res = dispatch(&app, req)
        .await
        .unwrap_or_else(ApiError::into_response);
    let status = res.status().as_u16();
    tracing::debug!(%method, %path, status, elapsed_ms = started.elapsed().as_millis() as u64, "request");
    res
}

async fn dispatch(app: &App, req: Request) -> HandlerResult {
    let conn = conn(req.extensions());
    let local = conn.as_ref().map(|c| c.local);
    if is_state_changing(req.method()) {
        app.check_origin(req.headers(), local, app.rides_on_cookie(req.headers()))?;
    }
    let ip = match &conn {
        Some(conn) => client_ip(conn.peer, req.headers(), app.settings().trust_forwarded_for),
        None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if segments.get(2) == Some(&"auth") && !app.uses_chat_sessions() {
        // The host logs its users in; chat's own accounts are not offered.
        return Err(ApiError::not_found());
    }
    api(app, conn, ip, method, &segments, req).await
}

async fn api(
    app: &App,
    conn: Option<Conn>,
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
        (M::PATCH, ["api", "v1", "me"]) => profile::update(app, req).await,
        (M::PUT, ["api", "v1", "me", "avatar"]) => profile::set_avatar(app, req).await,
        (M::DELETE, ["api", "v1", "me", "avatar"]) => profile::remove_avatar(app, req).await,
        (M::GET, ["api", "v1", "users"]) => users::search(app, req).await,
        (M::GET, ["api", "v1", "users", user]) => profile::user(app, req, UserId(id(user)?)).await,
        (M::GET, ["api", "v1", "users", user, "avatar", avatar]) => {
            profile::avatar(app, req, UserId(id(user)?), avatar).await
        }
        (M::GET, ["api", "v1", "search"]) => search::messages(app, req).await,

        (M::GET, ["api", "v1", "rooms"]) => rooms::list(app, req).await,
        (M::POST, ["api", "v1", "rooms"]) => rooms::create_group(app, req).await,
        (M::POST, ["api", "v1", "rooms", "direct"]) => rooms::open_direct(app, req).await,
        (M::GET, ["api", "v1", "rooms", room]) => rooms::get(app, req, RoomId(id(room)?)).await,
        (M::PATCH, ["api", "v1", "rooms", room]) => {
            rooms::rename(app, req, RoomId(id(room)?)).await
        }
        (M::PATCH, ["api", "v1", "rooms", room, "settings"]) => {
            settings::change(app, req, RoomId(id(room)?)).await
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

        (M::POST, ["api", "v1", "rooms", room, "invites"]) => {
            invites::create(app, req, RoomId(id(room)?)).await
        }
        (M::GET, ["api", "v1", "rooms", room, "invites"]) => {
            invites::list(app, req, RoomId(id(room)?)).await
        }
        (M::DELETE, ["api", "v1", "rooms", room, "invites", invite]) => {
            invites::revoke(app, req, RoomId(id(room)?), InviteId(id(invite)?)).await
        }
        (M::GET, ["api", "v1", "invites", token]) => invites::preview(app, token, ip).await,
        (M::POST, ["api", "v1", "invites", token, "join"]) => {
            invites::join(app, req, token, ip).await
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
        (
            M::PUT,
            [
                "api",
                "v1",
                "rooms",
                room,
                "messages",
                seq,
                "reactions",
                emoji,
            ],
        ) => reactions::add(app, req, RoomId(id(room)?), id(seq)?, emoji).await,
        (
            M::DELETE,
            [
                "api",
                "v1",
                "rooms",
                room,
                "messages",
                seq,
                "reactions",
                emoji,
            ],
        ) => reactions::remove(app, req, RoomId(id(room)?), id(seq)?, emoji).await,
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

/// The request's [`Conn`]: the host's, or (feature `axum`) the one axum's connect info holds.
fn conn(extensions: &::http::Extensions) -> Option<Conn> {
    let conn = extensions.get::<Conn>();
    #[cfg(feature = "axum")]
    let conn = conn.or_else(|| crate::axum::connect_info(extensions));
    conn.cloned()
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

/// The client's address for rate limits and logs: the TCP peer, or, behind a trusted proxy,
/// the last `X-Forwarded-For` entry (the one the proxy itself added).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trust_forwarded_for: bool) -> IpAddr {
    const XFF: HeaderName = HeaderName::from_static("x-forwarded-for");
    if trust_forwarded_for {
        // Only the proxy's own (last) entry is trusted; earlier ones are whatever the client sent.
        let last = headers
            .get_all(XFF)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
        if let Some(ip) = last {
            return ip;
        }
    }
    peer.ip()
}

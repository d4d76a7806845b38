//! The shared state every request sees: the chat, the identity hook, the HTTP settings and the
//! rate limiters.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ::http::header::{COOKIE, HeaderMap};
use ::http::request::Parts;
use chatcore::throttle::SharedAttempts;
use chatcore::{Actor, Chat};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::http::cookies::{self, Credential};
use crate::http::{ApiError, Request};
use crate::identity::{Identify, IdentityFuture};
use crate::ratelimit::Limiter;

/// The service's shared state. Cloning is shallow (an `Arc`).
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    chat: Chat,
    identity: Arc<dyn Identify>,
    settings: Settings,
    limits: Limits,
    sockets: TaskTracker,
    stopping: CancellationToken,
}

/// HTTP-level settings. `Settings::default()` is safe for production behind plain http; set
/// `secure_cookie` behind https.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// Largest accepted upload body (default 10 MiB).
    pub max_upload: usize,
    /// Mark the session cookie `Secure` (the public URL is https; default false).
    pub secure_cookie: bool,
    /// Take client IPs from `X-Forwarded-For` (default false: only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// The WebSocket's limits, and the origins allowed to use cookie sessions on REST and
    /// WebSocket alike ([`chatcore_ws::WsConfig::origins`]).
    pub ws: chatcore_ws::WsConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_upload: 10 * 1024 * 1024,
            secure_cookie: false,
            trust_forwarded_for: false,
            ws: chatcore_ws::WsConfig::default(),
        }
    }
}

/// Invite links one address may present in vain per 15 minutes by default (see
/// [`Limits::invite_failures`]).
pub const INVITE_FAILURES_PER_15_MIN: u32 = 30;

/// The per-address rate limits of the unauthenticated entry points.
#[derive(Debug)]
#[non_exhaustive]
pub struct Limits {
    /// Successful registrations per address per hour.
    pub register: Limiter,
    /// Guest sessions per address per hour.
    pub guest: Limiter,
    /// Failed logins per address per 15 minutes.
    pub login_failures: Limiter,
    /// Invite links presented in vain (unknown, expired, used up, revoked) per address per
    /// 15 minutes ([`INVITE_FAILURES_PER_15_MIN`] by default), kept where failed logins are.
    pub invite_failures: Limiter,
    /// CSP violation reports, per address and service-wide.
    pub csp_reports: crate::routes::csp::ReportLimits,
}

impl Limits {
    /// Limits with the given budgets; registrations, guests, failed logins and dead invite links
    /// are counted in `shared` (every node's store, see `ChatConfig::attempts`) when given.
    pub fn new(
        registrations_per_hour: u32,
        guests_per_hour: u32,
        login_failures_per_15_min: u32,
        invite_failures_per_15_min: u32,
        shared: Option<SharedAttempts>,
    ) -> Self {
        const HOUR: Duration = Duration::from_secs(3600);
        Limits {
            register: Limiter::shared("register_ip", registrations_per_hour, HOUR, shared.clone()),
            guest: Limiter::shared("guest_ip", guests_per_hour, HOUR, shared.clone()),
            login_failures: Limiter::shared(
                "login_ip",
                login_failures_per_15_min,
                Duration::from_secs(15 * 60),
                shared.clone(),
            ),
            invite_failures: Limiter::shared(
                "invite_ip",
                invite_failures_per_15_min,
                Duration::from_secs(15 * 60),
                shared,
            ),
            csp_reports: Default::default(),
        }
    }
}

impl Default for Limits {
    /// 10 registrations and 10 guests per hour, 20 failed logins and 30 dead invite links per
    /// 15 minutes, per address, counted in this process.
    fn default() -> Self {
        Limits::new(10, 10, 20, INVITE_FAILURES_PER_15_MIN, None)
    }
}

/// A request's authenticated user and how they proved it.
pub struct Authed {
    /// The acting user.
    pub actor: Actor,
    /// The chat session credential presented, if the request used chat's own sessions
    /// (logout needs the token).
    pub credential: Option<Credential>,
}

impl App {
    /// The app around an existing chat.
    pub fn new(
        chat: Chat,
        identity: Arc<dyn Identify>,
        settings: Settings,
        limits: Limits,
    ) -> Self {
        let inner = Inner {
            chat,
            identity,
            settings,
            limits,
            sockets: TaskTracker::new(),
            stopping: CancellationToken::new(),
        };
        App {
            inner: Arc::new(inner),
        }
    }

    /// The chat façade.
    pub fn chat(&self) -> &Chat {
        &self.inner.chat
    }

    /// HTTP settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Rate limiters.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Transport limits of WebSocket connections.
    pub fn ws_config(&self) -> &chatcore_ws::WsConfig {
        &self.inner.settings.ws
    }

    /// Whether users come from chat's own sessions (then the `auth` routes are served).
    pub fn uses_chat_sessions(&self) -> bool {
        self.inner.identity.is_chat_sessions()
    }

    /// Fires when the host shuts down: sockets close with 1001.
    pub fn stopping(&self) -> &CancellationToken {
        &self.inner.stopping
    }

    /// Live WebSocket tasks, so shutdown can wait for them to close.
    pub fn sockets(&self) -> &TaskTracker {
        &self.inner.sockets
    }

    /// The user behind the request, by the identity hook, or 401.
    pub async fn authenticate(&self, req: &mut Request) -> Result<Authed, ApiError> {
        // The hook sees the request's head; the body is put back untouched.
        let (parts, body) = std::mem::take(req).into_parts();
        let answer = self.identify(&parts);
        *req = Request::from_parts(parts, body);
        let actor = answer.await?;
        let credential = self
            .uses_chat_sessions()
            .then(|| cookies::credential(req.headers()))
            .flatten();
        Ok(Authed { actor, credential })
    }

    fn identify(&self, parts: &Parts) -> IdentityFuture {
        self.inner.identity.identify(parts)
    }

    /// Refuses browser requests from foreign pages with 403 `bad_origin`; see
    /// [`chatcore_ws::Origins::check`]. The WebSocket upgrade checks the same origins (they are
    /// [`chatcore_ws::WsConfig::origins`]).
    pub fn check_origin(
        &self,
        headers: &HeaderMap,
        local: Option<SocketAddr>,
        cookie_auth: bool,
    ) -> Result<(), ApiError> {
        let origins = &self.ws_config().origins;
        Ok(origins.check(headers, local, cookie_auth)?)
    }

    /// Whether a request rides on a cookie, so it must come from an allowed origin: the chat
    /// session cookie, or (with a host's identity hook, whose credential chat cannot see) any
    /// cookie at all.
    pub fn rides_on_cookie(&self, headers: &HeaderMap) -> bool {
        if self.uses_chat_sessions() {
            matches!(cookies::credential(headers), Some(Credential::Cookie(_)))
        } else {
            headers.contains_key(COOKIE)
        }
    }

    /// How long a browser keeps the session cookie: the chat's absolute session lifetime.
    pub fn cookie_max_age(&self) -> Duration {
        self.chat().config().session_lifetime
    }
}

//! The shared state every request sees: the chat, the HTTP settings and the rate limiters.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chatcore::throttle::SharedAttempts;
use chatcore::{Actor, Chat};
use hyper::header::HeaderMap;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::http::ApiError;
use crate::http::cookies::{self, Credential};
use crate::ratelimit::Limiter;

/// The server's shared state. Cloning is shallow (an `Arc`).
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    chat: Chat,
    settings: Settings,
    limits: Limits,
    sockets: TaskTracker,
    stopping: CancellationToken,
}

/// HTTP-level settings derived from the [`Config`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest accepted upload body.
    pub max_upload: usize,
    /// Mark the session cookie `Secure` (the public URL is https).
    pub secure_cookie: bool,
    /// Serve the web client from this folder instead of the embedded copy.
    pub web_dir: Option<PathBuf>,
    /// Take client IPs from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// How long shutdown waits for requests and sockets to finish.
    pub shutdown_grace: Duration,
    /// Most HTTP connections served at once.
    pub max_connections: usize,
    /// Most connections one client address holds open (`None`: no per-address cap).
    pub max_connections_per_ip: Option<usize>,
    /// How long a client may take to send a request's headers.
    pub request_header_timeout: Duration,
    /// How long a response may wait for a client that does not read.
    pub slow_reader_timeout: Duration,
    /// Limits of WebSocket connections (frame sizes, rates, queues).
    pub ws: chatcore_ws::WsConfig,
}

/// The per-IP rate limiters.
#[derive(Debug)]
pub struct Limits {
    /// Successful registrations per IP per hour.
    pub register: Limiter,
    /// Guest sessions per IP per hour.
    pub guest: Limiter,
    /// Failed logins per IP per 15 minutes.
    pub login_failures: Limiter,
    /// CSP violation reports, per IP and server-wide.
    pub csp_reports: crate::routes::csp::ReportLimits,
}

/// A request's authenticated user and how they proved it.
pub struct Authed {
    /// The acting user.
    pub actor: Actor,
    /// The credential presented (logout needs the token).
    pub credential: Credential,
}

impl Settings {
    /// The HTTP settings `config` asks for.
    pub fn from_config(config: &Config) -> Self {
        let public = config.public_url.as_deref();
        Settings {
            max_upload: config.max_upload,
            secure_cookie: public
                .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://")),
            web_dir: config.web_dir.clone(),
            trust_forwarded_for: config.trust_forwarded_for,
            shutdown_grace: Duration::from_secs(config.shutdown_grace),
            max_connections: config.max_connections.max(1),
            max_connections_per_ip: (!config.trust_forwarded_for)
                .then_some(config.max_connections_per_ip.max(1)),
            request_header_timeout: Duration::from_secs(config.request_header_timeout.max(1)),
            slow_reader_timeout: Duration::from_secs(config.slow_reader_timeout.max(1)),
            ws: config.ws_config(),
        }
    }
}

impl Limits {
    /// The limits `config` asks for; registrations, guests and failed logins are counted in
    /// `shared` (every node's store, see `--broker`) when given.
    pub fn from_config(config: &Config, shared: Option<SharedAttempts>) -> Self {
        const HOUR: Duration = Duration::from_secs(3600);
        Limits {
            register: Limiter::shared(
                "register_ip",
                config.registrations_per_hour,
                HOUR,
                shared.clone(),
            ),
            guest: Limiter::shared("guest_ip", config.guests_per_hour, HOUR, shared.clone()),
            login_failures: Limiter::shared(
                "login_ip",
                config.login_failures_per_ip,
                Duration::from_secs(15 * 60),
                shared,
            ),
            csp_reports: Default::default(),
        }
    }
}

impl App {
    /// The app around an existing chat.
    pub fn new(chat: Chat, settings: Settings, limits: Limits) -> Self {
        let inner = Inner {
            chat,
            settings,
            limits,
            sockets: TaskTracker::new(),
            stopping: CancellationToken::new(),
        };
        App {
            inner: Arc::new(inner),
        }
    }

    /// The app for `config` around an existing chat; the per-IP limits share the chat's
    /// attempt store (`ChatConfig::attempts`).
    pub fn from_config(chat: Chat, config: &Config) -> Self {
        let limits = Limits::from_config(config, chat.config().attempts.clone());
        Self::new(chat, Settings::from_config(config), limits)
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

    /// Fires when the server shuts down: sockets close with 1001.
    pub fn stopping(&self) -> &CancellationToken {
        &self.inner.stopping
    }

    /// Live WebSocket tasks, so shutdown can wait for them to close.
    pub fn sockets(&self) -> &TaskTracker {
        &self.inner.sockets
    }

    /// The user behind the request's bearer header or session cookie, or 401.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Authed, ApiError> {
        let credential = cookies::credential(headers).ok_or_else(ApiError::unauthenticated)?;
        let actor = self.chat().authenticate(credential.token()).await?;
        Ok(Authed { actor, credential })
    }

    /// Refuses browser requests from foreign pages with 403 `bad_origin`: the WebSocket
    /// transport's origin policy ([`chatcore_ws::Origins::check`]), one for REST and WebSocket.
    pub fn check_origin(
        &self,
        headers: &HeaderMap,
        local: SocketAddr,
        cookie_auth: bool,
    ) -> Result<(), ApiError> {
        let origins = &self.ws_config().origins;
        Ok(origins.check(headers, Some(local), cookie_auth)?)
    }

    /// How long a browser keeps the session cookie: the chat's absolute session lifetime.
    pub fn cookie_max_age(&self) -> Duration {
        self.chat().config().session_lifetime
    }
}

//! The server's shared state: the chat's HTTP API (`chatcore-http`) and the settings of the
//! server around it (web client, connections, shutdown).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chatcore::Chat;
use chatcore_http::ChatHttp;

use crate::config::Config;

/// The server's shared state. Cloning is shallow (an `Arc`).
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    api: ChatHttp,
    settings: Settings,
}

/// Server-level settings derived from the [`Config`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// The public URL is https: send HSTS.
    pub https: bool,
    /// Serve the web client from this folder instead of the embedded copy.
    pub web_dir: Option<PathBuf>,
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
}

impl Settings {
    /// The server settings `config` asks for.
    pub fn from_config(config: &Config) -> Self {
        Settings {
            https: config.is_https(),
            web_dir: config.web_dir.clone(),
            shutdown_grace: Duration::from_secs(config.shutdown_grace),
            max_connections: config.max_connections.max(1),
            max_connections_per_ip: (!config.trust_forwarded_for)
                .then_some(config.max_connections_per_ip.max(1)),
            request_header_timeout: Duration::from_secs(config.request_header_timeout.max(1)),
            slow_reader_timeout: Duration::from_secs(config.slow_reader_timeout.max(1)),
        }
    }
}

impl App {
    /// The server around a chat's HTTP API.
    pub fn new(api: ChatHttp, settings: Settings) -> Self {
        App {
            inner: Arc::new(Inner { api, settings }),
        }
    }

    /// The app for `config` around an existing chat: chat's own sessions and `auth` routes;
    /// the per-IP limits share the chat's attempt store (`ChatConfig::attempts`).
    pub fn from_config(chat: Chat, config: &Config) -> Self {
        let limits = config.http_limits(chat.config().attempts.clone());
        let api = ChatHttp::builder(chat)
            .settings(config.http_settings())
            .limits(limits)
            .build();
        Self::new(api, Settings::from_config(config))
    }

    /// The chat's REST API and WebSocket.
    pub fn api(&self) -> &ChatHttp {
        &self.inner.api
    }

    /// The chat façade.
    pub fn chat(&self) -> &Chat {
        self.api().app().chat()
    }

    /// Server settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }
}

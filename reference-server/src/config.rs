//! Command line and environment: every knob of the server, with `--help` listing them.

use std::net::SocketAddr;
use std::path::PathBuf;

use chatcore::Discovery;
use clap::{Args, Parser, Subcommand};

/// `reference-server [OPTIONS] [COMMAND]`: one binary for the REST API, the WebSocket and the
/// web client. Every option can also be set with the environment variable shown in `--help`.
#[derive(Debug, Parser)]
#[command(name = "reference-server", version, about, long_about = None)]
pub struct Cli {
    /// Server settings (shared by every subcommand).
    #[command(flatten)]
    pub config: Config,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Runs the server (the default).
    Serve,
    /// Creates or upgrades the database schema, then exits.
    Migrate,
    /// Copies the whole chat (users, sessions, rooms, members, messages, read markers, media
    /// rows) from one database into another, empty one, then verifies the copy. Stop the
    /// server first; run again to resume an interrupted copy. Media files stay in
    /// `<data-dir>/media`.
    MigrateStore {
        /// The database to copy from, e.g. `sqlite://data/chat.db`.
        #[arg(long)]
        from: String,
        /// The empty database to copy into, e.g. `postgres://chat:secret@db.internal/chat`.
        #[arg(long)]
        to: String,
    },
    /// Operator commands on user accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// `admin …` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Grants the server admin role (user management in the web client) to an account.
    Promote {
        /// The account's username.
        username: String,
    },
    /// Disables an account: its sessions end and it can no longer log in.
    Disable {
        /// The account's username.
        username: String,
    },
}

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Server settings. Defaults give a working server on a fresh machine with no flags.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the real one is printed).
    #[arg(
        long,
        env = "CHAT_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,

    /// Directory for everything the server keeps: `chat.db` (SQLite) and `media/`.
    #[arg(long, env = "CHAT_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite://PATH`, `mysql://USER:PASS@HOST/DB`,
    /// `postgres://USER:PASS@HOST/DB`, or `memory:` (nothing kept).
    /// Default: `sqlite://<data-dir>/chat.db`.
    #[arg(long, env = "CHAT_DATABASE", hide_env_values = true, global = true)]
    pub database: Option<String>,

    /// Redis URL (`redis://HOST:PORT`) of the broker that connects several nodes serving one
    /// database: each node delivers what the others commit. Needs a shared database (MySQL,
    /// MariaDB or PostgreSQL), a shared `--data-dir` for media, and one load balancer in
    /// front (docs/deployment.md). Default: none, one node.
    #[arg(long, env = "CHAT_BROKER", hide_env_values = true, global = true)]
    pub broker: Option<String>,

    /// The first part of every channel and key this chat uses in the `--broker` Redis
    /// (`PREFIX:events`, `PREFIX:attempts:…`, `PREFIX:budget:…`): give each chat sharing one
    /// Redis its own, and the same to every node of one chat. 1 to 64 ASCII letters, digits
    /// or `:` `_` `-` `.`.
    #[arg(
        long,
        env = "CHAT_BROKER_PREFIX",
        default_value = chatcore_redis::DEFAULT_PREFIX,
        global = true
    )]
    pub broker_prefix: String,

    /// The URL users reach the server at, e.g. `https://chat.example.com` behind a TLS proxy.
    /// Its origin is allowed, and `https` makes the session cookie `Secure`.
    #[arg(long, env = "CHAT_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Another origin allowed to use cookie sessions and the WebSocket (repeatable, or
    /// comma-separated in the environment variable).
    #[arg(
        long = "allowed-origin",
        env = "CHAT_ALLOWED_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub allowed_origins: Vec<String>,

    /// Largest accepted upload in bytes.
    #[arg(long, env = "CHAT_MAX_UPLOAD", default_value_t = 10 * 1024 * 1024, global = true)]
    pub max_upload: usize,

    /// Images whose header declares more pixels than this are refused before decoding.
    #[arg(
        long,
        env = "CHAT_MAX_IMAGE_PIXELS",
        default_value_t = 40_000_000,
        global = true
    )]
    pub max_image_pixels: u64,

    /// Audio that plays longer than this many seconds is refused (its length is read from the
    /// container's packets, not trusted from its header).
    #[arg(
        long,
        env = "CHAT_MAX_AUDIO_SECONDS",
        default_value_t = 30 * 60,
        global = true
    )]
    pub max_audio_seconds: u64,

    /// Megabytes (MiB) one account may upload per day.
    #[arg(
        long,
        env = "CHAT_UPLOAD_QUOTA_MB",
        default_value_t = 1024,
        global = true
    )]
    pub upload_quota_mb: u64,

    /// Megabytes (MiB) one guest may upload per day.
    #[arg(
        long,
        env = "CHAT_GUEST_UPLOAD_QUOTA_MB",
        default_value_t = 100,
        global = true
    )]
    pub guest_upload_quota_mb: u64,

    /// Seconds a response may wait for a client that does not read before the connection is
    /// closed (a download held open by a stalled reader, for instance).
    #[arg(
        long,
        env = "CHAT_SLOW_READER_TIMEOUT",
        default_value_t = 60,
        global = true
    )]
    pub slow_reader_timeout: u64,

    /// Serve the web client from this folder instead of the copy built into the binary
    /// (for working on the client without rebuilding).
    #[arg(long, env = "CHAT_WEB_DIR", global = true)]
    pub web_dir: Option<PathBuf>,

    /// Log filter in `tracing` EnvFilter syntax, e.g. `info` or `reference_server=debug,info`.
    #[arg(long, env = "RUST_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log line format: `text` for people, `json` (one object per line) for log collectors.
    #[arg(long, env = "CHAT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Let guests create groups.
    #[arg(long, env = "CHAT_GUESTS_CAN_CREATE_GROUPS", global = true)]
    pub guests_can_create_groups: bool,

    /// Who may find and contact whom (user search, direct chats, adding to groups):
    /// `everyone`; `registered` (guests find, and are found by, only people they share a room
    /// with); `shared-rooms` (everyone reaches only people they share a room with).
    #[arg(long, env = "CHAT_DISCOVERY", default_value_t = Discovery::Registered, global = true)]
    pub discovery: Discovery,

    /// Accounts one IP address may register per hour.
    #[arg(
        long,
        env = "CHAT_REGISTRATIONS_PER_HOUR",
        default_value_t = 10,
        global = true
    )]
    pub registrations_per_hour: u32,

    /// Guest sessions one IP address may start per hour.
    #[arg(
        long,
        env = "CHAT_GUESTS_PER_HOUR",
        default_value_t = 10,
        global = true
    )]
    pub guests_per_hour: u32,

    /// Failed logins from one IP address within 15 minutes before further logins get 429.
    #[arg(
        long,
        env = "CHAT_LOGIN_FAILURES_PER_IP",
        default_value_t = 20,
        global = true
    )]
    pub login_failures_per_ip: u32,

    /// Invite links one IP address may present in vain (unknown, expired, used up, revoked)
    /// within 15 minutes before the invite routes answer it 429 without a look-up. Raised only
    /// by the injection scan (`scripts/scan.sh`), which sends thousands of tokens.
    #[arg(
        long,
        env = "CHAT_INVITE_FAILURES_PER_IP",
        default_value_t = chatcore_http::app::INVITE_FAILURES_PER_15_MIN,
        global = true
    )]
    pub invite_failures_per_ip: u32,

    /// Invite links one user may present in vain within 15 minutes before their joins are
    /// refused 429 unchecked. Raised only by the injection scan (`scripts/scan.sh`).
    #[arg(
        long,
        env = "CHAT_INVITE_FAILURES_PER_USER",
        default_value_t = 10,
        global = true
    )]
    pub invite_failures_per_user: usize,

    /// Password hashes (argon2id, 19 MiB each) computed at once; 0 means one per CPU.
    #[arg(
        long,
        env = "CHAT_MAX_CONCURRENT_HASHES",
        default_value_t = 0,
        global = true
    )]
    pub max_concurrent_hashes: usize,

    /// Logins, registrations and upgrades that may wait for a hashing turn; more get 503 `busy`
    /// with `Retry-After` at once.
    #[arg(
        long,
        env = "CHAT_MAX_QUEUED_HASHES",
        default_value_t = 64,
        global = true
    )]
    pub max_queued_hashes: usize,

    /// Take the client IP (for rate limits and logs) from the last `X-Forwarded-For` entry.
    /// Only set this behind a reverse proxy that sets that header.
    #[arg(long, env = "CHAT_TRUST_FORWARDED_FOR", global = true)]
    pub trust_forwarded_for: bool,

    /// Seconds a session may go unused before it stops working.
    #[arg(
        long,
        env = "CHAT_SESSION_IDLE_TIMEOUT",
        default_value_t = 14 * 24 * 3600,
        global = true
    )]
    pub session_idle_timeout: u64,

    /// Seconds after login a session stops working, used or not.
    #[arg(
        long,
        env = "CHAT_SESSION_LIFETIME",
        default_value_t = 90 * 24 * 3600,
        global = true
    )]
    pub session_lifetime: u64,

    /// Seconds between sweeps that delete expired sessions (and close sockets still open on
    /// them; a socket also closes by itself when its session expires).
    #[arg(
        long,
        env = "CHAT_SESSION_EXPIRY_INTERVAL",
        default_value_t = 3600,
        global = true
    )]
    pub session_expiry_interval: u64,

    /// Most members a group may have.
    #[arg(
        long,
        env = "CHAT_MAX_GROUP_MEMBERS",
        default_value_t = 1024,
        global = true
    )]
    pub max_group_members: usize,

    /// Seconds between runs of the inactive-guest expiry.
    #[arg(
        long,
        env = "CHAT_GUEST_EXPIRY_INTERVAL",
        default_value_t = 3600,
        global = true
    )]
    pub guest_expiry_interval: u64,

    /// Most HTTP connections served at once (WebSockets, once upgraded, are limited per user
    /// by the WebSocket layer instead).
    #[arg(
        long,
        env = "CHAT_MAX_CONNECTIONS",
        default_value_t = 10_000,
        global = true
    )]
    pub max_connections: usize,

    /// Connections one client address (IPv6: /64) may hold open at once, WebSockets included;
    /// one more is answered 429 and closed. Not applied with `--trust-forwarded-for` (every
    /// connection then comes from the proxy; limit per client there).
    #[arg(
        long,
        env = "CHAT_MAX_CONNECTIONS_PER_IP",
        default_value_t = 256,
        global = true
    )]
    pub max_connections_per_ip: usize,

    /// Seconds a client may take to send a request's headers (also the first request of a new
    /// connection: a client that connects and says nothing is dropped).
    #[arg(
        long,
        env = "CHAT_REQUEST_HEADER_TIMEOUT",
        default_value_t = 30,
        global = true
    )]
    pub request_header_timeout: u64,

    /// Frames per second one WebSocket connection may send, sustained; a faster client is
    /// paced (the server stops reading until its next frame is due), and one that keeps 32
    /// frames waiting for 10 s is closed with 4002. Raise it for load tests, e.g. `chatbench`.
    #[arg(
        long,
        env = "CHAT_WS_RATE_PER_SEC",
        default_value_t = 20.0,
        global = true
    )]
    pub ws_rate_per_sec: f64,

    /// Frames one WebSocket connection may send in a burst above `--ws-rate-per-sec`.
    #[arg(
        long,
        env = "CHAT_WS_RATE_BURST",
        default_value_t = 40.0,
        global = true
    )]
    pub ws_rate_burst: f64,

    /// Messages per second one user may send, over REST and WebSocket together; a faster
    /// sender waits for its turn (up to `--send-max-wait-ms`), beyond that it gets 429 /
    /// `rate_limited`. Raise it for load tests.
    #[arg(
        long,
        env = "CHAT_SEND_RATE_PER_SEC",
        default_value_t = 20.0,
        global = true
    )]
    pub send_rate_per_sec: f64,

    /// Messages one user may send in a burst above `--send-rate-per-sec`.
    #[arg(long, env = "CHAT_SEND_BURST", default_value_t = 40, global = true)]
    pub send_burst: u32,

    /// Milliseconds a send over `--send-rate-per-sec` may be held for its turn before it is
    /// refused instead; 0 refuses at once.
    #[arg(
        long,
        env = "CHAT_SEND_MAX_WAIT_MS",
        default_value_t = 2000,
        global = true
    )]
    pub send_max_wait_ms: u64,

    /// Groups one user may create per hour.
    #[arg(
        long,
        env = "CHAT_GROUPS_PER_HOUR",
        default_value_t = 20,
        global = true
    )]
    pub groups_per_hour: u32,

    /// Members one user may add to groups per hour (at creation or later).
    #[arg(
        long,
        env = "CHAT_MEMBER_ADDS_PER_HOUR",
        default_value_t = 1024,
        global = true
    )]
    pub member_adds_per_hour: u32,

    /// Message searches one user may run per minute (all of them at once after a quiet
    /// minute); one more is answered 429 / `rate_limited` with `Retry-After`.
    #[arg(
        long,
        env = "CHAT_SEARCHES_PER_MINUTE",
        default_value_t = 60,
        global = true
    )]
    pub searches_per_minute: u32,

    /// Offer the offline English spelling and grammar checker in the composer (`false` turns
    /// it off). It runs on this machine; drafts go nowhere.
    #[arg(
        long,
        env = "CHAT_OFFLINE_ASSISTANT",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub offline_assistant: bool,

    /// Base URL of an OpenAI-compatible chat-completions API for rephrase / shorter / more
    /// polite / translate, e.g. `http://127.0.0.1:11434/v1` (Ollama). Plain http; drafts the
    /// user asks about are sent there. Its API key, if any, is read from the environment
    /// variable `CHAT_ASSISTANT_API_KEY`.
    #[arg(long, env = "CHAT_ASSISTANT_URL", global = true)]
    pub assistant_url: Option<String>,

    /// The model name to ask at `--assistant-url`, e.g. `llama3.2`.
    #[arg(long, env = "CHAT_ASSISTANT_MODEL", global = true)]
    pub assistant_model: Option<String>,

    /// Seconds one rewrite may take before the user gets `assistant_unavailable`.
    #[arg(
        long,
        env = "CHAT_ASSISTANT_TIMEOUT",
        default_value_t = 30,
        global = true
    )]
    pub assistant_timeout: u64,

    /// Requests sent to `--assistant-url` at once; more wait (within the timeout).
    #[arg(
        long,
        env = "CHAT_ASSISTANT_MAX_CONCURRENT",
        default_value_t = 4,
        global = true
    )]
    pub assistant_max_concurrent: usize,

    /// Assistant requests one user may make per minute.
    #[arg(
        long,
        env = "CHAT_ASSISTANT_PER_MINUTE",
        default_value_t = 60,
        global = true
    )]
    pub assistant_per_minute: usize,

    /// Seconds to let in-flight requests and sockets finish on shutdown.
    #[arg(long, env = "CHAT_SHUTDOWN_GRACE", default_value_t = 10, global = true)]
    pub shutdown_grace: u64,
}

impl Config {
    /// The settings `--help` documents as defaults, with `data_dir` replaced (tests).
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let mut cli = Cli::parse_from(["reference-server"]);
        cli.config.data_dir = data_dir.into();
        cli.config
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("chat.db").display()),
        }
    }

    /// The WebSocket transport limits these settings ask for (the rest are the defaults), and
    /// the origins allowed to use cookie sessions: the public URL's and `--allowed-origin`s.
    pub fn ws_config(&self) -> chatcore_ws::WsConfig {
        let mut ws = chatcore_ws::WsConfig::default();
        ws.rate_per_sec = self.ws_rate_per_sec;
        ws.rate_burst = self.ws_rate_burst;
        let urls = self.public_url.iter().chain(&self.allowed_origins);
        ws.origins = chatcore_ws::Origins::new(urls.map(String::as_str));
        ws
    }

    /// Whether the public URL is https (then the cookie is `Secure` and HSTS is sent).
    pub fn is_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://"))
    }

    /// The chat API's HTTP settings these settings ask for.
    pub fn http_settings(&self) -> chatcore_http::Settings {
        let mut settings = chatcore_http::Settings::default();
        settings.max_upload = self.max_upload;
        settings.secure_cookie = self.is_https();
        settings.trust_forwarded_for = self.trust_forwarded_for;
        settings.ws = self.ws_config();
        settings
    }

    /// The per-address limits of the chat API's `auth` routes, counted in `shared` (every
    /// node's store, see `--broker`) when given.
    pub fn http_limits(
        &self,
        shared: Option<chatcore::throttle::SharedAttempts>,
    ) -> chatcore_http::Limits {
        chatcore_http::Limits::new(
            self.registrations_per_hour,
            self.guests_per_hour,
            self.login_failures_per_ip,
            self.invite_failures_per_ip,
            shared,
        )
    }

    /// Refuses settings that would silently not work, e.g. a public URL without a scheme
    /// (whose origin could never match, locking every browser out).
    pub fn validate(&self) -> Result<(), String> {
        let urls = self.public_url.iter().chain(&self.allowed_origins);
        for url in urls {
            if chatcore_ws::normalize_origin(url).is_none() {
                return Err(format!(
                    "{url:?} is not an http(s) URL like https://chat.example.com"
                ));
            }
        }
        if self.assistant_url.is_some() != self.assistant_model.is_some() {
            return Err("--assistant-url and --assistant-model go together".into());
        }
        if let Some(broker) = &self.broker {
            chatcore_redis::RedisBroker::with_prefix(broker, &self.broker_prefix).map_err(|e| {
                match e {
                    chatcore_redis::RedisBrokerError::InvalidPrefix(_) => {
                        format!("--broker-prefix: {e}")
                    }
                    _ => format!("--broker: {e}"),
                }
            })?;
            let url = self.database_url();
            if url.starts_with("sqlite:") || url.starts_with("memory:") {
                return Err(
                    "--broker connects several nodes serving one database, and each \
                     node's SQLite or memory: database is its own: use --database mysql://… \
                     or postgres://…"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// The environment variable the LLM assistant's API key is read from.
    pub const ASSISTANT_KEY_VAR: &str = "CHAT_ASSISTANT_API_KEY";

    /// Where uploaded media bytes are kept.
    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }
}

//! Opening the chat's storage from `--database` and `--data-dir`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chatcore::throttle::{Rate, SharedAttempts, SharedBudgets};
use chatcore::{Chat, ChatConfig, FsMediaStore, MediaStore, MemoryMediaStore, MemoryStore, Store};
use chatcore_mysql::{MySqlOptions, MySqlStore};
use chatcore_postgres::{PostgresOptions, PostgresStore};
use chatcore_redis::{RedisAttempts, RedisBroker, RedisBudgets};
use chatcore_sqlite::{SqliteOptions, SqliteStore};

use crate::config::Config;

/// The row store and the media byte store the chat runs on.
pub struct Storage {
    /// Rows: users, rooms, messages, …
    pub store: Arc<dyn Store>,
    /// Media bytes.
    pub media: Arc<dyn MediaStore>,
    /// The concrete backend, to close it cleanly on shutdown.
    pub backend: Backend,
}

/// Which backend the store is, for the operations the `Store` trait does not have (closing).
#[derive(Debug, Clone)]
pub enum Backend {
    /// In memory: nothing to close.
    Memory,
    /// SQLite (the default).
    Sqlite(SqliteStore),
    /// MySQL or MariaDB.
    MySql(MySqlStore),
    /// PostgreSQL.
    Postgres(PostgresStore),
}

impl Backend {
    /// Closes the database connections after the ones in use are returned (checkpointing
    /// SQLite's WAL). Call once nothing uses the chat any more.
    pub async fn close(&self) {
        match self {
            Backend::Memory => {}
            Backend::Sqlite(store) => store.close().await,
            Backend::MySql(store) => store.close().await,
            Backend::Postgres(store) => store.close().await,
        }
    }
}

/// Opens (creating and migrating if needed) the storage `config` names.
pub async fn open(config: &Config) -> anyhow::Result<Storage> {
    let url = config.database_url();
    if url == "memory:" || url == "memory" {
        tracing::warn!("using the in-memory store: nothing is kept after exit");
        let (store, media) = (
            Arc::new(MemoryStore::new()),
            Arc::new(MemoryMediaStore::new()),
        );
        return Ok(Storage {
            store,
            media,
            backend: Backend::Memory,
        });
    }
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir.display()
            )
        })?;
    let media = FsMediaStore::open(config.media_dir())
        .await
        .with_context(|| {
            format!(
                "cannot open the media directory {}",
                config.media_dir().display()
            )
        })?;
    let media: Arc<dyn MediaStore> = Arc::new(media);
    let (store, backend) = open_store(&url).await?;
    Ok(Storage {
        store,
        media,
        backend,
    })
}

/// Opens (creating and migrating if needed) the SQL store `url` names: `sqlite:…`,
/// `mysql:…`/`mariadb:…` or `postgres:…`/`postgresql:…`.
pub async fn open_store(url: &str) -> anyhow::Result<(Arc<dyn Store>, Backend)> {
    if url.starts_with("sqlite:") {
        let sqlite = SqliteStore::open(url, SqliteOptions::default())
            .await
            .context("cannot open the SQLite database")?;
        Ok((Arc::new(sqlite.clone()), Backend::Sqlite(sqlite)))
    } else if let Some(rest) = url
        .strip_prefix("mysql:")
        .or_else(|| url.strip_prefix("mariadb:"))
    {
        let url = format!("mysql:{rest}");
        let mysql = MySqlStore::connect(&url, MySqlOptions::default())
            .await
            .context("cannot open the MySQL/MariaDB database")?;
        Ok((Arc::new(mysql.clone()), Backend::MySql(mysql)))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let postgres = PostgresStore::connect(url, PostgresOptions::default())
            .await
            .context("cannot open the PostgreSQL database")?;
        Ok((Arc::new(postgres.clone()), Backend::Postgres(postgres)))
    } else {
        bail!(
            "unsupported --database URL (expected sqlite://…, mysql://…, postgres://… or memory:)"
        );
    }
}

/// The chat policy `config` asks for.
pub fn chat_config(config: &Config) -> ChatConfig {
    let mut chat = ChatConfig::default();
    chat.guests_can_create_groups = config.guests_can_create_groups;
    chat.discovery = config.discovery;
    chat.max_upload_bytes = config.max_upload;
    chat.max_image_pixels = config.max_image_pixels;
    chat.max_audio_duration = std::time::Duration::from_secs(config.max_audio_seconds);
    chat.upload_quota_per_day = config.upload_quota_mb.saturating_mul(1024 * 1024);
    chat.guest_upload_quota_per_day = config.guest_upload_quota_mb.saturating_mul(1024 * 1024);
    if config.max_concurrent_hashes > 0 {
        chat.max_concurrent_hashes = config.max_concurrent_hashes;
    }
    chat.max_queued_hashes = config.max_queued_hashes;
    chat.session_idle_timeout = Duration::from_secs(config.session_idle_timeout.max(1));
    chat.session_lifetime = Duration::from_secs(config.session_lifetime.max(1));
    chat.max_group_members = config.max_group_members.max(2);
    chat.send_rate.per_second = config.send_rate_per_sec;
    chat.send_rate.burst = config.send_burst.max(1);
    chat.send_rate.max_wait = Duration::from_millis(config.send_max_wait_ms);
    chat.group_rate = Rate::per_hour(config.groups_per_hour);
    chat.member_add_rate = Rate::per_hour(config.member_adds_per_hour);
    chat.search_rate = Rate::per_minute(config.searches_per_minute);
    chat.invite_failures_per_user = config.invite_failures_per_user;
    chat.guest_expiry_interval = Some(Duration::from_secs(config.guest_expiry_interval.max(1)));
    chat.session_expiry_interval = Some(Duration::from_secs(config.session_expiry_interval.max(1)));
    chat.assist_per_minute = config.assistant_per_minute;
    chat
}

/// Opens the storage and starts the chat on it (on the current runtime), with the assistant
/// the config asks for; shut the chat down, then close the backend.
pub async fn open_chat(config: &Config) -> anyhow::Result<(Chat, Backend)> {
    start_chat(config, open(config).await?)
}

/// Starts the chat on `storage` (on the current runtime), with the policy and assistant the
/// config asks for: [`open_chat`] for storage opened, or wrapped, by the caller.
pub fn start_chat(config: &Config, storage: Storage) -> anyhow::Result<(Chat, Backend)> {
    let mut chat_config = chat_config(config);
    let broker = match &config.broker {
        Some(url) => {
            // Every node counts the same limits: throttle windows and budgets live in Redis.
            let prefix = &config.broker_prefix;
            let attempts =
                RedisAttempts::with_prefix(url, prefix).context("cannot use --broker")?;
            chat_config.attempts = Some(SharedAttempts::new(Arc::new(attempts)));
            let budgets = RedisBudgets::with_prefix(url, prefix).context("cannot use --broker")?;
            chat_config.budgets = SharedBudgets::new(Arc::new(budgets));
            Some(RedisBroker::with_prefix(url, prefix).context("cannot use --broker")?)
        }
        None => None,
    };
    let mut chat = Chat::builder(storage.store, storage.media).config(chat_config);
    if let Some(assistant) = crate::assistant::from_config(config)? {
        chat = chat.assistant(assistant);
    }
    if let Some(broker) = broker {
        chat = chat.broker(Arc::new(broker));
    }
    Ok((
        chat.start(&tokio::runtime::Handle::current())?,
        storage.backend,
    ))
}

/// The database URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

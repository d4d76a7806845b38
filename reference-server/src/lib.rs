//! # reference-server
//!
//! The reference chat server: the REST API of `docs/api.md` and the WebSocket of
//! `docs/protocol.md` (both `chatcore-http`, with chat's own sessions) and the web client, in
//! one hyper 1 binary.
//!
//! This crate is composition only: configuration, the accept loop, static files and security
//! headers. Every chat rule (who may read a room, what a message may contain) lives in
//! `chatcore`; the HTTP handlers are `chatcore-http`'s, the same a host app mounts.
//!
//! Run it in-process (tests do) with [`run`]:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use reference_server::{App, Config};
//!
//! let config = Config::for_data_dir("/tmp/chat-data");
//! let (chat, backend) = reference_server::storage::open_chat(&config).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let shutdown = async { tokio::signal::ctrl_c().await.ok(); };
//! reference_server::run(listener, App::from_config(chat, &config), shutdown).await?;
//! backend.close().await;
//! # Ok(()) }
//! ```

pub mod app;
pub mod assistant;
pub mod config;
pub mod headers;
pub mod migrate_store;
pub mod router;
mod routes;
pub mod server;
pub mod storage;
pub mod write_timeout;

pub use app::App;
pub use config::{Cli, Command, Config};
pub use server::run;

//! # chatcore-ws
//!
//! The WebSocket transport of chatcore, on tokio-tungstenite: wire frames, a connection driver
//! generic over any `AsyncRead + AsyncWrite` (hyper upgrades, raw TCP, tests), limits, and a
//! Rust [`Client`]. The protocol is `docs/protocol.md`. No chat rule lives here: frames are
//! decoded, handed to [`chatcore::Chat`], and what comes back is encoded.
//!
//! Serving a hyper upgrade (the reference server does this):
//!
//! ```ignore
//! let cfg = chatcore_ws::WsConfig::default();
//! let io = hyper_util::rt::TokioIo::new(hyper::upgrade::on(req).await?);
//! let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(chatcore_ws::websocket_config(&cfg))).await;
//! chatcore_ws::serve_connection(ws, chat, actor, cfg, shutdown).await;
//! ```
//!
//! Serving raw TCP (tests, embedding without HTTP): [`accept`] authenticates the request's
//! bearer token or cookie before the upgrade, then [`serve_connection`].

mod accept;
pub mod client;

pub mod close;
mod connection;
pub mod frames;
mod limits;
mod per_address;
mod resume;

pub use accept::{AcceptError, Rewind, accept};
pub use client::{Client, ClientError, Connect};

pub use connection::{Closed, serve_connection};
pub use limits::{WsConfig, websocket_config};
pub use per_address::{AddressSlot, ConnectionsPerAddress};
/// The tokio-tungstenite version this crate speaks, re-exported so servers build streams with
/// the same types.
pub use tokio_tungstenite;

//! # chatcore-ws
//!
//! The WebSocket transport of chatcore, on tokio-tungstenite: wire frames, a connection driver
//! generic over any `AsyncRead + AsyncWrite` (hyper upgrades, raw TCP, tests), limits, and a
//! Rust [`Client`]. The protocol is `docs/protocol.md`. No chat rule lives here: frames are
//! decoded, handed to [`chatcore::Chat`], and what comes back is encoded.
//!
//! Serving an upgrade request in a hyper service (the reference server does this; any
//! framework on hyper works the same way):
//!
//! ```no_run
//! # async fn handle(mut req: http::Request<()>, chat: chatcore::Chat, actor: chatcore::Actor)
//! # -> http::Response<String> {
//! let config = chatcore_ws::WsConfig::default();
//! match chatcore_ws::upgrade(&mut req, &config) {
//!     Ok(upgrade) => {
//!         let (response, connection) = upgrade.serve(chat, actor, std::future::pending());
//!         tokio::spawn(connection);
//!         response
//!     }
//!     Err(refused) => {
//!         let mut response = http::Response::new(refused.to_string());
//!         *response.status_mut() = refused.status();
//!         response
//!     }
//! }
//! # }
//! ```
//!
//! With feature `axum`, `chatcore_ws::axum::ChatUpgrade` is the same upgrade as an axum
//! extractor.
//!
//! Serving raw TCP (tests, embedding without HTTP): [`accept`] authenticates the request's
//! bearer token or cookie before the upgrade, then [`serve_connection`]. The driver itself
//! speaks through the small [`Socket`] trait, so another WebSocket implementation (or a
//! simulated one) can carry the protocol too.

mod accept;
#[cfg(feature = "axum")]
pub mod axum;
pub mod client;

pub mod close;
mod connection;
pub mod frames;
mod limits;
mod origin;
mod per_address;
mod resume;
mod socket;
mod upgrade;

pub use accept::{AcceptError, Rewind, accept};
pub use client::{Client, ClientError, ClientHandle, Connect};

pub use connection::{Closed, serve_connection};
pub use limits::{WsConfig, websocket_config};
pub use origin::{BadOrigin, Origins, normalize as normalize_origin};
pub use per_address::{AddressSlot, ConnectionsPerAddress};
pub use socket::{Inbound, Outbound, Socket, SocketError, SocketReader, SocketWriter};
/// The tokio-tungstenite version this crate speaks, re-exported so servers build streams with
/// the same types.
pub use tokio_tungstenite;
pub use upgrade::{Upgrade, UpgradeError, UpgradedSocket, upgrade, upgrade_at};

//! axum glue (feature `axum`). [`ChatHttp`](crate::ChatHttp) is a tower `Service`, so it
//! mounts as it is (`Router::nest_service("/chat", api)`); what axum does not hand it by
//! itself is the connection's two addresses. Serve the app with
//! `into_make_service_with_connect_info::<Conn>()` and every request carries a
//! [`Conn`]: per-address rate limits count each client on its own (without it, all clients
//! share one budget), and a page served from the listening address is one of the server's own
//! origins even behind a proxy that rewrites `Host`.
//!
//! ```no_run
//! # async fn demo(api: chatcore_http::ChatHttp) -> std::io::Result<()> {
//! use chatcore_http::Conn;
//! let app = axum::Router::new().nest_service("/chat", api);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<Conn>()).await
//! # }
//! ```

use std::net::{Ipv4Addr, SocketAddr};

use ::axum::extract::ConnectInfo;
use ::axum::extract::connect_info::Connected;
use ::axum::serve::IncomingStream;
use tokio::net::TcpListener;

use crate::router::Conn;

impl Connected<IncomingStream<'_, TcpListener>> for Conn {
    /// The peer's address and the listening address it reached; no connection cap slot.
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        let peer = *stream.remote_addr();
        // A socket that cannot say its own address: an origin no page has.
        let unknown = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        let local = stream.io().local_addr().unwrap_or(unknown);
        Conn {
            peer,
            local,
            slot: None,
        }
    }
}

/// The [`Conn`] axum put in the request's extensions, if the app was served with it.
pub(crate) fn connect_info(extensions: &::http::Extensions) -> Option<&Conn> {
    extensions.get::<ConnectInfo<Conn>>().map(|info| &info.0)
}

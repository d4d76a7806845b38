//! The accept loop: one task per connection, graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::app::App;
use crate::router;
use crate::write_timeout::WriteTimeout;
use chatcore_http::Conn;
use chatcore_ws::ConnectionsPerAddress;

/// What a client over `--max-connections-per-ip` gets before the server hangs up.
const TOO_MANY_CONNECTIONS: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\n\
Content-Type: application/json\r\nRetry-After: 5\r\nConnection: close\r\n\
Content-Length: 84\r\n\r\n\
{\"error\":{\"code\":\"rate_limited\",\"message\":\"too many connections from your address\"}}";

/// Serves `app` on `listener` until `shutdown` completes, then shuts down gracefully: stops
/// accepting, shuts the chat down (sends in flight are committed and answered, WebSockets
/// close with 1001), lets in-flight requests finish within the grace period, and returns.
pub async fn run(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let connections = TaskTracker::new();
    let stopping = CancellationToken::new();
    tokio::pin!(shutdown);
    // At most this many HTTP connections at once; past it the server stops accepting until one
    // closes (the kernel's backlog queues the rest) instead of running out of memory or fds.
    let slots = Arc::new(Semaphore::new(app.settings().max_connections));
    let per_address = app
        .settings()
        .max_connections_per_ip
        .map(ConnectionsPerAddress::new);
    let header_timeout = app.settings().request_header_timeout;
    let slow_reader = app.settings().slow_reader_timeout;
    loop {
        let accepting = async {
            let slot = slots.clone().acquire_owned().await;
            (listener.accept().await, slot)
        };
        tokio::select! {
            (accepted, slot) = accepting => match accepted {
                Ok((stream, peer)) => {
                    let Ok(slot) = slot else { break };
                    let address_slot = match &per_address {
                        Some(limit) => match limit.try_open(peer.ip()) {
                            Some(place) => Some(Arc::new(place)),
                            None => {
                                refuse(&stream, peer);
                                continue;
                            }
                        },
                        None => None,
                    };
                    // Chat frames are small and latency-bound: without this, Nagle's algorithm
                    // holds a frame back until the peer's delayed ACK (tens of milliseconds).
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(%peer, error = %e, "could not set TCP_NODELAY");
                    }
                    let local = stream.local_addr().unwrap_or(peer);
                    let conn = Conn { peer, local, slot: address_slot };
                    let app = app.clone();
                    let service = service_fn(move |req| {
                        let (app, conn) = (app.clone(), conn.clone());
                        async move { Ok::<_, Infallible>(router::handle(app, conn, req).await) }
                    });
                    let connection = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(header_timeout)
                        .serve_connection(
                            TokioIo::new(WriteTimeout::new(stream, slow_reader)),
                            service,
                        )
                        .with_upgrades();
                    let stopping = stopping.clone();
                    connections.spawn(async move {
                        serve_connection(connection, stopping, peer).await;
                        drop(slot);
                    });
                }
                // Out of file descriptors and the like: log, back off a little, keep serving.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: closing sockets and finishing requests");
    stopping.cancel();
    connections.close();
    let grace = app.settings().shutdown_grace;
    let finished = async {
        app.chat().shutdown().await;
        connections.wait().await;
        app.api().shutdown().await;
    };
    if tokio::time::timeout(grace, finished).await.is_err() {
        tracing::warn!(
            ?grace,
            "grace period over; abandoning the remaining connections"
        );
    }
    Ok(())
}

/// Answers a connection over its address's cap with a fixed 429 (one non-blocking write, so a
/// client that does not read cannot hold the accept loop) and hangs up.
fn refuse(stream: &tokio::net::TcpStream, peer: std::net::SocketAddr) {
    tracing::debug!(%peer, "too many connections from this address");
    if let Err(e) = stream.try_write(TOO_MANY_CONNECTIONS) {
        tracing::debug!(%peer, error = %e, "could not answer the refused connection");
    }
}

/// Drives one HTTP connection; when `stopping` fires, lets its current request finish and
/// closes it (keep-alive connections do not wait for another request).
async fn serve_connection<I, S>(
    connection: http1::UpgradeableConnection<I, S>,
    stopping: CancellationToken,
    peer: std::net::SocketAddr,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming>,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    tokio::pin!(connection);
    let result = tokio::select! {
        result = &mut connection => result,
        () = stopping.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

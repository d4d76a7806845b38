//! The writer half of a connection: one task draining a bounded queue into the socket.
//!
//! Policy: the queue holds at most `WsConfig::outbound_queue` frames. When it is full the
//! connection task waits, so the hub subscription behind it fills up and the hub closes it as
//! lagged; that wait is raced against [`Subscription::closed`], so the connection learns it
//! lagged at once even though the socket is stuck. Every socket write has a deadline
//! (`write_timeout`): a peer that never reads cannot pin the task forever.

use std::time::Duration;

use chatcore::Subscription;
use futures::SinkExt;
use futures::stream::SplitSink;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::Stop;

/// The sending side of the writer queue.
pub(crate) struct Outbox {
    tx: mpsc::Sender<WsMessage>,
}

impl Outbox {
    /// Queues a frame, waiting for room. Fails when the hub closed the subscription meanwhile
    /// (lagged, session ended, shutdown) or the writer is gone (socket failed).
    pub(crate) async fn push(&self, sub: &Subscription, msg: WsMessage) -> Result<(), Stop> {
        tokio::select! {
            biased;
            permit = self.tx.reserve() => match permit {
                Ok(permit) => {
                    permit.send(msg);
                    Ok(())
                }
                Err(_) => Err(Stop::Gone),
            },
            reason = sub.closed() => Err(Stop::hub(reason)),
        }
    }
}

/// Tells the writer to send a close frame and stop. Queued frames go first only when
/// [`close::sends_queued_first`](crate::close) says so.
pub(crate) struct Closer(oneshot::Sender<(u16, &'static str)>);

impl Closer {
    /// Sends `code` and `reason` as the close frame.
    pub(crate) fn close(self, code: u16, reason: &'static str) {
        if self.0.send((code, reason)).is_err() {
            tracing::debug!(code, "writer already gone; close frame not sent");
        }
    }
}

/// Starts the writer task for `sink`.
pub(crate) fn spawn<S>(
    sink: SplitSink<WebSocketStream<S>, WsMessage>,
    capacity: usize,
    write_timeout: Duration,
) -> (Outbox, Closer, JoinHandle<()>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let (close_tx, close_rx) = oneshot::channel();
    let task = tokio::spawn(run(sink, rx, close_rx, write_timeout));
    (Outbox { tx }, Closer(close_tx), task)
}

async fn run<S>(
    mut sink: SplitSink<WebSocketStream<S>, WsMessage>,
    mut rx: mpsc::Receiver<WsMessage>,
    mut close_rx: oneshot::Receiver<(u16, &'static str)>,
    write_timeout: Duration,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    loop {
        tokio::select! {
            biased;
            close = &mut close_rx => {
                if let Ok((code, _)) = close
                    && crate::close::sends_queued_first(code)
                {
                    while let Ok(msg) = rx.try_recv() {
                        if let Err(err) = write(&mut sink, msg, false, write_timeout).await {
                            tracing::debug!(%err, "socket write failed while closing");
                            return;
                        }
                    }
                }
                let frame = close.ok().map(|(code, reason)| CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                });
                match timeout(write_timeout, sink.send(WsMessage::Close(frame))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => tracing::debug!(%err, "close frame not sent"),
                    Err(_) => tracing::debug!("close frame timed out"),
                }
                return;
            }
            msg = rx.recv() => {
                let Some(msg) = msg else { return };
                if let Err(err) = write(&mut sink, msg, rx.is_empty(), write_timeout).await {
                    tracing::debug!(%err, "socket write failed; dropping connection");
                    return;
                }
            }
        }
    }
}

/// Buffers one frame, and flushes when nothing else is queued (so bursts become few writes).
async fn write<S>(
    sink: &mut SplitSink<WebSocketStream<S>, WsMessage>,
    msg: WsMessage,
    flush: bool,
    write_timeout: Duration,
) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let result = timeout(write_timeout, async {
        sink.feed(msg).await?;
        if flush {
            sink.flush().await?;
        }
        Ok::<(), tokio_tungstenite::tungstenite::Error>(())
    })
    .await;
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("write timed out".to_owned()),
    }
}

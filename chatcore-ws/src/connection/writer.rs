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

/// The sending side of the writer queue. Frames are staged first and handed to the writer
/// together ([`Outbox::flush`]): a burst of events costs one queue reservation and one wake-up
/// of the writer instead of one per frame.
pub(crate) struct Outbox {
    tx: mpsc::Sender<WsMessage>,
    staged: Vec<WsMessage>,
}

impl Outbox {
    /// Stages a frame; hands the staged frames to the writer once they fill the queue's
    /// capacity. Fails like [`Outbox::flush`].
    pub(crate) async fn push(&mut self, sub: &Subscription, msg: WsMessage) -> Result<(), Stop> {
        self.staged.push(msg);
        if self.staged.len() >= self.tx.max_capacity() {
            self.flush(sub).await?;
        }
        Ok(())
    }

    /// Frames staged and not yet handed to the writer.
    pub(crate) fn staged(&self) -> usize {
        self.staged.len()
    }

    /// Hands every staged frame to the writer, waiting for room in its queue. Fails when the
    /// hub closed the subscription meanwhile (lagged, session ended, shutdown) or the writer is
    /// gone (socket failed).
    pub(crate) async fn flush(&mut self, sub: &Subscription) -> Result<(), Stop> {
        if self.staged.is_empty() {
            return Ok(());
        }
        tokio::select! {
            biased;
            permits = self.tx.reserve_many(self.staged.len()) => match permits {
                Ok(permits) => {
                    for (permit, msg) in permits.zip(self.staged.drain(..)) {
                        permit.send(msg);
                    }
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
    let capacity = capacity.max(1);
    let (tx, rx) = mpsc::channel(capacity);
    let (close_tx, close_rx) = oneshot::channel();
    let task = tokio::spawn(run(sink, rx, close_rx, write_timeout));
    let outbox = Outbox {
        tx,
        staged: Vec::with_capacity(capacity),
    };
    (outbox, Closer(close_tx), task)
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
                    && let Ok(msg) = rx.try_recv()
                    && let Err(err) = write_burst(&mut sink, &mut rx, msg, write_timeout).await
                {
                    tracing::debug!(%err, "socket write failed while closing");
                    return;
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
                if let Err(err) = write_burst(&mut sink, &mut rx, msg, write_timeout).await {
                    tracing::debug!(%err, "socket write failed; dropping connection");
                    return;
                }
            }
        }
    }
}

/// Writes `first` and every frame queued behind it, then flushes once, so a burst becomes few
/// socket writes (tungstenite still writes whenever its buffer passes `write_buffer_size`).
///
/// Before flushing, the task lets every other ready task run once (`yield_now`): under load the
/// connection task queues more frames meanwhile (a group commit publishes many messages at once)
/// and they leave in the same write; on a quiet server nothing else is ready and the flush
/// follows at once.
async fn write_burst<S>(
    sink: &mut SplitSink<WebSocketStream<S>, WsMessage>,
    rx: &mut mpsc::Receiver<WsMessage>,
    first: WsMessage,
    write_timeout: Duration,
) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let result = timeout(write_timeout, async {
        sink.feed(first).await?;
        let mut yielded = false;
        loop {
            match rx.try_recv() {
                Ok(msg) => sink.feed(msg).await?,
                Err(_) if !yielded => {
                    yielded = true;
                    tokio::task::yield_now().await;
                }
                Err(_) => break,
            }
        }
        sink.flush().await
    })
    .await;
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("write timed out".to_owned()),
    }
}

//! The writer half of a connection: one task draining a bounded queue into the socket.
//!
//! Policy: the connection task hands over batches of at most `WsConfig::outbound_queue`
//! frames, and the queue holds one batch besides the one being written. When it is full the
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

/// The sending side of the writer queue. Frames are staged first and handed to the writer as
/// one batch ([`Outbox::flush`]): a burst of events costs one channel send and one wake-up of
/// the writer instead of one per frame.
pub(crate) struct Outbox {
    tx: mpsc::Sender<Vec<WsMessage>>,
    staged: Vec<WsMessage>,
    batch_size: usize,
}

impl Outbox {
    /// Stages a frame; hands the staged frames to the writer once there are `batch_size`.
    /// Fails like [`Outbox::flush`].
    pub(crate) async fn push(&mut self, sub: &Subscription, msg: WsMessage) -> Result<(), Stop> {
        self.staged.push(msg);
        if self.staged.len() >= self.batch_size {
            self.flush(sub).await?;
        }
        Ok(())
    }

    /// Frames staged and not yet handed to the writer.
    pub(crate) fn staged(&self) -> usize {
        self.staged.len()
    }

    /// Hands every staged frame to the writer, waiting while it still holds a batch it has not
    /// started on. Fails when the hub closed the subscription meanwhile (lagged, session ended,
    /// shutdown) or the writer is gone (socket failed).
    pub(crate) async fn flush(&mut self, sub: &Subscription) -> Result<(), Stop> {
        if self.staged.is_empty() {
            return Ok(());
        }
        tokio::select! {
            biased;
            permit = self.tx.reserve() => match permit {
                Ok(permit) => {
                    // Allocated on the next push, not now: an idle connection holds no buffer.
                    permit.send(std::mem::take(&mut self.staged));
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

/// Starts the writer task for `sink`; the outbox hands it batches of up to `batch_size` frames.
pub(crate) fn spawn<S>(
    sink: SplitSink<WebSocketStream<S>, WsMessage>,
    batch_size: usize,
    write_timeout: Duration,
) -> (Outbox, Closer, JoinHandle<()>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let batch_size = batch_size.max(1);
    // One batch waiting while the writer writes another: at most three batches' worth of
    // frames (staged, waiting, being written) per connection.
    let (tx, rx) = mpsc::channel(1);
    let (close_tx, close_rx) = oneshot::channel();
    let task = tokio::spawn(run(sink, rx, close_rx, write_timeout));
    let outbox = Outbox {
        tx,
        staged: Vec::new(),
        batch_size,
    };
    (outbox, Closer(close_tx), task)
}

async fn run<S>(
    mut sink: SplitSink<WebSocketStream<S>, WsMessage>,
    mut rx: mpsc::Receiver<Vec<WsMessage>>,
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
                    && let Ok(batch) = rx.try_recv()
                    && let Err(err) = write_burst(&mut sink, &mut rx, batch, write_timeout).await
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
            batch = rx.recv() => {
                let Some(batch) = batch else { return };
                if let Err(err) = write_burst(&mut sink, &mut rx, batch, write_timeout).await {
                    tracing::debug!(%err, "socket write failed; dropping connection");
                    return;
                }
            }
        }
    }
}

/// Writes `first` and every batch queued behind it, then flushes once, so a burst becomes few
/// socket writes (tungstenite still writes whenever its buffer passes `write_buffer_size`).
///
/// Before flushing, the task lets every other ready task run once (`yield_now`): under load the
/// connection task queues more frames meanwhile (a group commit publishes many messages at once)
/// and they leave in the same write; on a quiet server nothing else is ready and the flush
/// follows at once.
async fn write_burst<S>(
    sink: &mut SplitSink<WebSocketStream<S>, WsMessage>,
    rx: &mut mpsc::Receiver<Vec<WsMessage>>,
    first: Vec<WsMessage>,
    write_timeout: Duration,
) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let result = timeout(write_timeout, async {
        let mut batch = first;
        let mut yielded = false;
        loop {
            for msg in batch.drain(..) {
                sink.feed(msg).await?;
            }
            match rx.try_recv() {
                Ok(next) => batch = next,
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

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
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use super::Stop;
use crate::socket::{Outbound, SocketWriter};

/// The sending side of the writer queue. Frames are staged first and handed to the writer as
/// one batch ([`Outbox::flush`]): a burst of events costs one channel send and one wake-up of
/// the writer instead of one per frame.
pub(crate) struct Outbox {
    tx: mpsc::Sender<Vec<Outbound>>,
    staged: Vec<Outbound>,
    batch_size: usize,
}

impl Outbox {
    /// Stages a frame; hands the staged frames to the writer once there are `batch_size`.
    /// Fails like [`Outbox::flush`].
    pub(crate) async fn push(&mut self, sub: &Subscription, msg: Outbound) -> Result<(), Stop> {
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
pub(crate) fn spawn<W: SocketWriter>(
    sink: W,
    batch_size: usize,
    write_timeout: Duration,
) -> (Outbox, Closer, JoinHandle<()>) {
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

async fn run<W: SocketWriter>(
    mut sink: W,
    mut rx: mpsc::Receiver<Vec<Outbound>>,
    mut close_rx: oneshot::Receiver<(u16, &'static str)>,
    write_timeout: Duration,
) {
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
                match timeout(write_timeout, sink.close(close.ok())).await {
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

/// Writes `first` and every batch queued behind it as one batch, so a burst becomes few socket
/// writes.
///
/// Before writing, the task lets every other ready task run once (`yield_now`): under load the
/// connection task queues more frames meanwhile (a group commit publishes many messages at once)
/// and they leave in the same write; on a quiet server nothing else is ready and the write
/// follows at once.
async fn write_burst<W: SocketWriter>(
    sink: &mut W,
    rx: &mut mpsc::Receiver<Vec<Outbound>>,
    first: Vec<Outbound>,
    write_timeout: Duration,
) -> Result<(), String> {
    let mut burst = first;
    let mut yielded = false;
    loop {
        match rx.try_recv() {
            Ok(mut next) => burst.append(&mut next),
            Err(_) if !yielded => {
                yielded = true;
                tokio::task::yield_now().await;
            }
            Err(_) => break,
        }
    }
    match timeout(write_timeout, sink.send_batch(burst)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("write timed out".to_owned()),
    }
}

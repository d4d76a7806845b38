//! Group commit for storage backends: many concurrent appends, one transaction.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

use crate::error::StoreError;
use crate::model::{Message, NewMessage};
use crate::store::StoreResult;

/// What a batch commit answers for each message, in order (see [`Store::append_messages`]).
///
/// [`Store::append_messages`]: crate::Store::append_messages
pub type AppendResult = StoreResult<(Message, bool)>;

/// Coalesces concurrent single appends into batches, so that N senders waiting at the same
/// moment cost one transaction (and one fsync) instead of N.
///
/// A single writer task owns the backend's batch function (typically its
/// [`Store::append_messages`](crate::Store::append_messages)). Each caller queues its message
/// and waits for its own answer, which the writer sends only after the whole batch returned,
/// i.e. after it was committed: acked still means durable. The writer takes whatever is queued,
/// up to `max_batch` messages, so a lone sender is never delayed waiting for company.
///
/// The queue is bounded (`max_batch` waiting jobs): when it is full, callers wait for room
/// instead of piling up without limit. Cloning is shallow (one channel handle); when the last
/// clone is dropped, or the `stop` given to [`GroupCommit::start`] completes, the writer commits
/// what is queued and stops.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Job>,
}

#[derive(Debug)]
struct Job {
    msg: NewMessage,
    reply: oneshot::Sender<AppendResult>,
}

impl GroupCommit {
    /// Spawns the writer task on the current tokio runtime; it runs until the last clone is
    /// dropped. `commit` must return exactly one result per message, in order, and must not
    /// call back into this `GroupCommit`.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn spawn<F, Fut>(max_batch: usize, commit: F) -> Self
    where
        F: FnMut(Vec<NewMessage>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<AppendResult>> + Send + 'static,
    {
        let runtime = tokio::runtime::Handle::current();
        Self::start(&runtime, max_batch, std::future::pending(), commit).0
    }

    /// Spawns the writer task on `runtime`, to run until `stop` completes (or the last clone is
    /// dropped). Stopping drains: the queue closes, so further [`GroupCommit::append`]s fail,
    /// and every message already queued is committed and answered before the returned handle
    /// completes. `commit` is as for [`GroupCommit::spawn`].
    pub fn start<F, Fut, S>(
        runtime: &tokio::runtime::Handle,
        max_batch: usize,
        stop: S,
        commit: F,
    ) -> (Self, tokio::task::JoinHandle<()>)
    where
        F: FnMut(Vec<NewMessage>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<AppendResult>> + Send + 'static,
        S: Future<Output = ()> + Send + 'static,
    {
        let max_batch = max_batch.max(1);
        let (queue, jobs) = mpsc::channel(max_batch);
        let writer = runtime.spawn(write_batches(jobs, max_batch, stop, commit));
        (GroupCommit { queue }, writer)
    }

    /// Appends one message through the next batch and returns its result once committed.
    /// Fails with [`StoreError::Backend`] if the writer stopped (it was told to, the runtime is
    /// shutting down, or the batch function panicked).
    pub async fn append(&self, msg: NewMessage) -> AppendResult {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { msg, reply })
            .await
            .map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }
}

async fn write_batches<F, Fut>(
    mut jobs: mpsc::Receiver<Job>,
    max_batch: usize,
    stop: impl Future<Output = ()>,
    mut commit: F,
) where
    F: FnMut(Vec<NewMessage>) -> Fut,
    Fut: Future<Output = Vec<AppendResult>>,
{
    let mut stop = std::pin::pin!(stop);
    let mut stopping = false;
    let mut batch = Vec::with_capacity(max_batch);
    loop {
        let taken = if stopping {
            jobs.recv_many(&mut batch, max_batch).await
        } else {
            tokio::select! {
                biased;
                () = &mut stop => {
                    // Refuse new jobs; the ones already queued are drained below.
                    jobs.close();
                    stopping = true;
                    continue;
                }
                // `recv_many` is cancel-safe: a job is either in `batch` or still queued.
                taken = jobs.recv_many(&mut batch, max_batch) => taken,
            }
        };
        if taken == 0 {
            return;
        }
        let (msgs, replies): (Vec<_>, Vec<_>) = batch.drain(..).map(|j| (j.msg, j.reply)).unzip();
        let results = commit(msgs).await;
        for (reply, result) in replies.into_iter().zip(results) {
            if reply.send(result).is_err() {
                // The caller stopped waiting; its message is stored all the same, and a retry
                // with the same client_id will find it.
                tracing::debug!("append caller went away before its answer");
            }
        }
    }
}

/// Appends a batch with `transaction` (which commits all of `msgs` or fails as a whole) and, if
/// that transaction fails, retries each message in a transaction of its own, so one message
/// that breaks the batch never fails its neighbours. A building block for
/// [`Store::append_messages`](crate::Store::append_messages) implementations: each answer is
/// what [`Store::append_message`](crate::Store::append_message) would give, in order.
pub async fn append_or_retry_each<'m, F, Fut>(
    msgs: &'m [NewMessage],
    mut transaction: F,
) -> Vec<AppendResult>
where
    F: FnMut(&'m [NewMessage]) -> Fut,
    Fut: Future<Output = StoreResult<Vec<AppendResult>>>,
{
    match transaction(msgs).await {
        Ok(results) => results,
        Err(err) if msgs.len() == 1 => vec![Err(err)],
        Err(err) => {
            tracing::warn!(error = %err, batch = msgs.len(), "batch append failed, appending one by one");
            let mut results = Vec::with_capacity(msgs.len());
            for msg in msgs {
                let one = transaction(std::slice::from_ref(msg)).await;
                results.push(one.and_then(|mut r| r.pop().unwrap_or(Err(no_answer()))));
            }
            results
        }
    }
}

fn no_answer() -> StoreError {
    StoreError::broken("a batch append answered fewer messages than it was given")
}

fn writer_gone() -> StoreError {
    StoreError::backend(std::io::Error::other("group commit writer stopped"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Entity;
    use crate::model::*;
    use std::sync::{Arc, Mutex};

    fn msg(client_id: &str) -> NewMessage {
        NewMessage {
            room_id: RoomId(1),
            sender_id: UserId(1),
            body: client_id.to_owned(),
            mentions: Vec::new(),
            media_id: None,
            reply_to: None,
            custom: None,
            client_id: client_id.to_owned(),
            created_at: Timestamp(0),
        }
    }

    fn echo(m: NewMessage, seq: Seq) -> Message {
        Message {
            id: MessageId(seq),
            room_id: m.room_id,
            seq,
            sender: Sender {
                id: m.sender_id,
                display_name: String::new(),
            },
            body: m.body,
            mentions: m.mentions,
            media: None,
            reply_to: None,
            custom: None,
            client_id: m.client_id,
            created_at: m.created_at,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
        }
    }

    #[tokio::test]
    async fn concurrent_appends_share_batches_and_each_gets_its_own_answer() {
        let batch_sizes = Arc::new(Mutex::new(Vec::new()));
        let sizes = batch_sizes.clone();
        let mut next = 0;
        let gc = GroupCommit::spawn(16, move |msgs: Vec<NewMessage>| {
            sizes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(msgs.len());
            let out: Vec<AppendResult> = msgs
                .into_iter()
                .map(|m| {
                    next += 1;
                    Ok((echo(m, next), true))
                })
                .collect();
            async move {
                tokio::task::yield_now().await;
                out
            }
        });
        let sends = (0..40).map(|i| {
            let gc = gc.clone();
            tokio::spawn(async move { gc.append(msg(&format!("c{i}"))).await })
        });
        let mut seqs = Vec::new();
        for (i, send) in sends.enumerate() {
            let (m, fresh) = send.await.expect("task").expect("append");
            assert!(fresh);
            assert_eq!(m.client_id, format!("c{i}"));
            seqs.push(m.seq);
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
        let sizes = batch_sizes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        assert_eq!(sizes.iter().sum::<usize>(), 40);
        assert!(sizes.iter().all(|&n| n <= 16));
    }

    #[tokio::test]
    async fn a_failed_batch_is_retried_message_by_message() {
        let msgs = vec![msg("good"), msg("bad"), msg("also-good")];
        let calls = Mutex::new(Vec::new());
        let results = append_or_retry_each(&msgs, |batch: &[NewMessage]| {
            calls
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(batch.len());
            let poisoned = batch.iter().any(|m| m.client_id == "bad");
            let out: StoreResult<Vec<AppendResult>> = if poisoned {
                Err(StoreError::Missing(Entity::Room))
            } else {
                Ok(batch
                    .iter()
                    .map(|m| Ok((echo(m.clone(), 1), true)))
                    .collect())
            };
            async move { out }
        })
        .await;
        let kept: Vec<Option<String>> = results
            .iter()
            .map(|r| r.as_ref().ok().map(|(m, _)| m.client_id.clone()))
            .collect();
        assert_eq!(kept, [Some("good".into()), None, Some("also-good".into())]);
        assert!(matches!(results[1], Err(StoreError::Missing(Entity::Room))));
        let calls = calls.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(calls, [3, 1, 1, 1], "the batch, then each message alone");
    }

    #[tokio::test]
    async fn stopping_commits_what_is_queued_and_refuses_the_rest() {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (entered_tx, entered) = oneshot::channel::<()>();
        let (release_tx, release) = oneshot::channel::<()>();
        let gates = Arc::new(Mutex::new(Some((entered_tx, release))));
        let (gc, writer) = GroupCommit::start(
            &tokio::runtime::Handle::current(),
            4,
            async move {
                stop_rx.await.ok();
            },
            move |msgs: Vec<NewMessage>| {
                let gate = gates.lock().unwrap_or_else(|p| p.into_inner()).take();
                async move {
                    if let Some((entered, release)) = gate {
                        entered.send(()).ok();
                        release.await.ok();
                    }
                    msgs.into_iter()
                        .map(|m| Ok((echo(m, 1), true)))
                        .collect::<Vec<AppendResult>>()
                }
            },
        );
        // The first batch is held inside the commit; two more wait in the queue.
        let first = tokio::spawn({
            let gc = gc.clone();
            async move { gc.append(msg("first")).await }
        });
        entered.await.expect("the first batch reached the commit");
        let queued: Vec<_> = ["second", "third"]
            .into_iter()
            .map(|id| {
                let gc = gc.clone();
                tokio::spawn(async move { gc.append(msg(id)).await })
            })
            .collect();
        while gc.queue.capacity() > 2 {
            tokio::task::yield_now().await;
        }
        stop_tx.send(()).expect("writer listens");
        release_tx.send(()).expect("commit waits");
        writer.await.expect("writer ends after the drain");
        assert!(first.await.expect("task").is_ok());
        for send in queued {
            assert!(send.await.expect("task").is_ok(), "queued before the stop");
        }
        let late = gc
            .append(msg("late"))
            .await
            .expect_err("refused after the stop");
        assert!(matches!(late, StoreError::Backend(_)));
    }

    #[tokio::test]
    async fn a_missing_answer_is_a_backend_error() {
        let gc = GroupCommit::spawn(4, |_msgs: Vec<NewMessage>| async { Vec::new() });
        let err = gc.append(msg("x")).await.expect_err("no answer");
        assert!(matches!(err, StoreError::Backend(_)));
    }
}

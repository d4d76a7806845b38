//! The publishing side: one task sends the node's payloads in order over a connection that
//! reconnects by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use chatcore::Inbox;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;

use crate::{FIRST_BACKOFF, TIMEOUT, back_off};

pub(crate) struct Publisher {
    pub(crate) client: redis::Client,
    pub(crate) channel: String,
    pub(crate) queue: mpsc::Receiver<Bytes>,
    pub(crate) dropped: Arc<AtomicBool>,
    pub(crate) inbox: Inbox,
}

impl Publisher {
    /// Publishes queued payloads in order until the chat stops. A payload that cannot be sent
    /// is retried (with backoff) until Redis answers again, so a short outage loses nothing;
    /// a long one fills the queue, and after it the other nodes are asked to catch up.
    pub(crate) async fn run(mut self) {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1);
        let mut conn = match ConnectionManager::new_lazy_with_config(self.client.clone(), config) {
            Ok(conn) => conn,
            Err(err) => {
                tracing::error!(%err, "cannot set up the Redis publishing connection");
                return;
            }
        };
        loop {
            let payload = tokio::select! {
                () = self.inbox.stopped() => return,
                payload = self.queue.recv() => match payload {
                    Some(payload) => payload,
                    None => return,
                },
            };
            if !self.send(&mut conn, payload).await {
                return;
            }
            if self.queue.is_empty() && self.dropped.swap(false, Ordering::AcqRel) {
                let request = self.inbox.catch_up_request();
                if !self.send(&mut conn, request).await {
                    return;
                }
            }
        }
    }

    /// Sends one payload, retrying until Redis takes it; false when the chat stopped first.
    async fn send(&self, conn: &mut ConnectionManager, payload: Bytes) -> bool {
        let mut backoff = FIRST_BACKOFF;
        let mut failed = false;
        loop {
            let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                .arg(&self.channel)
                .arg(payload.as_ref())
                .query_async(conn)
                .await;
            match sent {
                Ok(_receivers) => {
                    if failed {
                        tracing::info!("publishing to Redis again");
                    }
                    return true;
                }
                Err(err) => {
                    if !failed {
                        tracing::warn!(%err, "cannot publish to Redis; retrying");
                        failed = true;
                    }
                    if !back_off(&mut backoff, &self.inbox).await {
                        return false;
                    }
                }
            }
        }
    }
}

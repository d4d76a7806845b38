//! The receiving side: one task subscribed to the chat's channel, reconnecting whenever the
//! connection is lost, and asking the node to catch up from the store each time it subscribed.

use std::time::Duration;

use chatcore::Inbox;
use futures::StreamExt;
use redis::aio::PubSubStream;

use crate::{FIRST_BACKOFF, TIMEOUT, back_off, timed_out};

/// How often a quiet subscription checks that Redis still answers: a connection that died
/// without closing (a cable pulled, a frozen proxy) is noticed within this plus [`TIMEOUT`].
const HEARTBEAT: Duration = Duration::from_secs(5);

/// Receives other nodes' payloads into `inbox` until the chat stops.
pub(crate) async fn run(client: redis::Client, channel: String, inbox: Inbox) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        match subscribe(&client, &channel).await {
            Ok((sink, stream)) => {
                backoff = FIRST_BACKOFF;
                tracing::info!(channel, "subscribed to Redis");
                // Whatever was published while not subscribed was missed: catch up.
                inbox.reconnected();
                if !receive(sink, stream, &inbox).await {
                    return;
                }
                tracing::warn!(channel, "lost the Redis subscription; reconnecting");
            }
            Err(err) => tracing::warn!(%err, channel, "cannot subscribe to Redis; retrying"),
        }
        if !back_off(&mut backoff, &inbox).await {
            return;
        }
    }
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> redis::RedisResult<(redis::aio::PubSubSink, PubSubStream)> {
    let pubsub = tokio::time::timeout(TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| timed_out())??;
    let (mut sink, stream) = pubsub.split();
    tokio::time::timeout(TIMEOUT, sink.subscribe(channel))
        .await
        .map_err(|_| timed_out())??;
    Ok((sink, stream))
}

/// Delivers payloads until the connection is lost (true) or the chat stops (false).
async fn receive(
    mut sink: redis::aio::PubSubSink,
    mut stream: PubSubStream,
    inbox: &Inbox,
) -> bool {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            () = inbox.stopped() => return false,
            message = stream.next() => match message {
                Some(message) => inbox.deliver(message.get_payload_bytes()),
                None => return true,
            },
            _ = heartbeat.tick() => {
                let pong: redis::RedisResult<redis::Value> =
                    match tokio::time::timeout(TIMEOUT, sink.ping()).await {
                        Ok(answer) => answer,
                        Err(_) => Err(timed_out()),
                    };
                if let Err(err) = pong {
                    tracing::warn!(%err, "Redis did not answer a ping");
                    return true;
                }
            }
        }
    }
}

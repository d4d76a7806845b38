//! One connection for the commands that count (throttles and budgets): it reconnects by itself,
//! and every call gives up after [`ANSWER_WITHIN`], so a Redis that is away slows no request
//! down by more than that (the caller then decides alone).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, ScriptInvocation};

use crate::RedisBrokerError;

/// How long a counting call waits for Redis before the node decides alone.
pub(crate) const ANSWER_WITHIN: Duration = Duration::from_millis(500);

/// A lazily connected, self-reconnecting connection and the prefix of every key it touches.
/// Cloning is shallow.
#[derive(Clone)]
pub(crate) struct Commands {
    conn: ConnectionManager,
    prefix: String,
}

impl Commands {
    /// Commands on the Redis at `url`, on keys under `prefix` (checked); connects on first use.
    pub(crate) fn new(url: &str, prefix: &str) -> Result<Self, RedisBrokerError> {
        crate::check_prefix(prefix)?;
        let client = redis::Client::open(url).map_err(RedisBrokerError::InvalidUrl)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(ANSWER_WITHIN))
            .set_response_timeout(Some(ANSWER_WITHIN))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(RedisBrokerError::InvalidUrl)?;
        Ok(Commands {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    /// `{prefix}:{kind}:{key}`.
    pub(crate) fn key(&self, kind: &str, key: &str) -> String {
        format!("{}:{kind}:{key}", self.prefix)
    }

    /// Runs a script (by digest, loading it on first use), within [`ANSWER_WITHIN`].
    pub(crate) async fn run<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> redis::RedisResult<T> {
        let mut conn = self.conn.clone();
        let call = invocation.invoke_async(&mut conn);
        tokio::time::timeout(ANSWER_WITHIN, call)
            .await
            .unwrap_or_else(|_| Err(crate::timed_out()))
    }

    /// Runs one command within [`ANSWER_WITHIN`].
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> redis::RedisResult<T> {
        let mut conn = self.conn.clone();
        let call = cmd.query_async(&mut conn);
        tokio::time::timeout(ANSWER_WITHIN, call)
            .await
            .unwrap_or_else(|_| Err(crate::timed_out()))
    }
}

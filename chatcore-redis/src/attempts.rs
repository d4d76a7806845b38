//! Throttle windows (failed logins, registrations, guests per address) kept in Redis, so that
//! every node of a chat counts one window per key.

use std::sync::LazyLock;
use std::time::Duration;

use chatcore::async_trait;
use chatcore::throttle::{Attempt, AttemptStore, Unreachable, Window};
use redis::Script;

use crate::commands::Commands;
use crate::{DEFAULT_PREFIX, RedisBrokerError};

/// One sorted set per key: each attempt's id scored by its time (ms). In one step: drop what
/// left the window, refuse with the wait until the oldest counted attempt leaves it, or record
/// the attempt and let the key expire with its window. ARGV: now, window (ms), max, attempt id.
/// Returns -1 when recorded, else the wait in ms.
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local now, within, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - within)
local n = redis.call('ZCARD', KEYS[1])
if n >= max then
  local oldest = redis.call('ZRANGE', KEYS[1], n - max, n - max, 'WITHSCORES')
  return math.max(tonumber(oldest[2]) + within - now, 0)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], within)
return -1
",
    )
});

/// Attempt windows in Redis, under `{prefix}:attempts:{throttle}:{key}`; each key expires when
/// its newest attempt leaves the window, so Redis holds only keys attempted within one window.
///
/// Times are the nodes' clocks (as in [`chatcore::throttle::FailureThrottle`]): keep them in
/// sync (NTP); a node a few seconds off shifts a window by as much.
#[derive(Clone)]
pub struct RedisAttempts {
    commands: Commands,
}

impl RedisAttempts {
    /// Windows in the Redis at `url` under [`DEFAULT_PREFIX`]; connects on first use, and
    /// reconnects by itself.
    pub fn new(url: &str) -> Result<Self, RedisBrokerError> {
        Self::with_prefix(url, DEFAULT_PREFIX)
    }

    /// Like [`RedisAttempts::new`], under `prefix`: chats that share one Redis need one each.
    pub fn with_prefix(url: &str, prefix: &str) -> Result<Self, RedisBrokerError> {
        Ok(RedisAttempts {
            commands: Commands::new(url, prefix)?,
        })
    }

    fn key(&self, key: &str) -> String {
        self.commands.key("attempts", key)
    }
}

fn unreachable(err: redis::RedisError) -> Unreachable {
    Unreachable(err.to_string())
}

#[async_trait]
impl AttemptStore for RedisAttempts {
    async fn acquire(
        &self,
        key: &str,
        window: Window,
        attempt: Attempt,
    ) -> Result<Option<Duration>, Unreachable> {
        let within = i64::try_from(window.within.as_millis()).unwrap_or(i64::MAX);
        let answer: i64 = self
            .commands
            .run(
                ACQUIRE
                    .key(self.key(key))
                    .arg(attempt.at().millis())
                    .arg(within)
                    .arg(window.max)
                    .arg(attempt.id()),
            )
            .await
            .map_err(unreachable)?;
        Ok(u64::try_from(answer).ok().map(Duration::from_millis))
    }

    async fn release(&self, key: &str, attempt: Attempt) -> Result<(), Unreachable> {
        let cmd = redis::cmd("ZREM")
            .arg(self.key(key))
            .arg(attempt.id())
            .clone();
        self.commands
            .query::<i64>(&cmd)
            .await
            .map_err(unreachable)?;
        Ok(())
    }

    async fn reset(&self, key: &str) -> Result<(), Unreachable> {
        let cmd = redis::cmd("DEL").arg(self.key(key)).clone();
        self.commands
            .query::<i64>(&cmd)
            .await
            .map_err(unreachable)?;
        Ok(())
    }
}

impl std::fmt::Debug for RedisAttempts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAttempts").finish_non_exhaustive()
    }
}

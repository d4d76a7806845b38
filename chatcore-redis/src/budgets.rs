//! Per-user budgets (sends, typing, groups, member adds) kept in Redis, so that a user who hops
//! between nodes spends one budget, not one per node.

use std::sync::LazyLock;
use std::time::Duration;

use chatcore::throttle::{BudgetKey, Budgets, LocalBudgets, Rate};
use chatcore::{Timestamp, async_trait};
use redis::Script;

use crate::commands::Commands;
use crate::{DEFAULT_PREFIX, RedisBrokerError};

/// GCRA, as [`LocalBudgets`] does it, in one atomic step: the key holds the moment the bucket
/// is full again, and expires then. ARGV: now, interval, burst, cost, max wait (ms). Returns
/// `{0, wait}` when the units were taken, `{1, retry_after}` when refused.
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local now, interval, burst, cost, max_wait =
  tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if cost > burst then return {1, 3600000} end
local full_at = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local next_full_at = full_at + cost * interval
local wait = next_full_at - burst * interval - now
if wait > max_wait then return {1, math.ceil(wait - max_wait)} end
redis.call('SET', KEYS[1], string.format('%.3f', next_full_at), 'PX', math.ceil(next_full_at - now) + 1)
return {0, math.ceil(math.max(wait, 0))}
",
    )
});

/// Gives `cost` units back. ARGV: now, interval, cost (ms).
static GIVE_BACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local now, interval, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local full_at = tonumber(redis.call('GET', KEYS[1]))
if not full_at then return 0 end
local back = math.max(full_at - cost * interval, now)
redis.call('SET', KEYS[1], string.format('%.3f', back), 'PX', math.ceil(back - now) + 1)
return 0
",
    )
});

/// Budgets shared by every node through Redis: one key per user and kind of action
/// (`{prefix}:budget:{budget}:{user}`), expiring when its bucket is full again.
///
/// When Redis does not answer within half a second, the node decides with a budget of its own
/// ([`LocalBudgets`]) rather than refusing everyone's sends while Redis is away.
pub struct RedisBudgets {
    commands: Commands,
    fallback: LocalBudgets,
}

impl RedisBudgets {
    /// Budgets in the Redis at `url` under [`DEFAULT_PREFIX`]; connects on first use, and
    /// reconnects by itself.
    pub fn new(url: &str) -> Result<Self, RedisBrokerError> {
        Self::with_prefix(url, DEFAULT_PREFIX)
    }

    /// Like [`RedisBudgets::new`], under `prefix`: chats that share one Redis need one each.
    pub fn with_prefix(url: &str, prefix: &str) -> Result<Self, RedisBrokerError> {
        Ok(RedisBudgets {
            commands: Commands::new(url, prefix)?,
            fallback: LocalBudgets::new(),
        })
    }

    fn key(&self, key: BudgetKey) -> String {
        self.commands
            .key("budget", &format!("{}:{}", key.budget.name(), key.user))
    }
}

fn interval_ms(rate: Rate) -> f64 {
    1000.0 / rate.per_second.max(1e-9)
}

#[async_trait]
impl Budgets for RedisBudgets {
    async fn take(
        &self,
        key: BudgetKey,
        cost: u32,
        rate: Rate,
        now: Timestamp,
    ) -> Result<Duration, Duration> {
        let answer: redis::RedisResult<(i64, i64)> = self
            .commands
            .run(
                TAKE.key(self.key(key))
                    .arg(now.millis())
                    .arg(interval_ms(rate))
                    .arg(rate.burst)
                    .arg(cost)
                    .arg(u64::try_from(rate.max_wait.as_millis()).unwrap_or(u64::MAX)),
            )
            .await;
        let millis = |ms: i64| Duration::from_millis(u64::try_from(ms).unwrap_or(0));
        match answer {
            Ok((0, wait)) => Ok(millis(wait)),
            Ok((_, retry)) => Err(millis(retry).max(Duration::from_secs(1))),
            Err(err) => {
                tracing::warn!(%err, "budgets unreachable in Redis; deciding locally");
                self.fallback.take(key, cost, rate, now).await
            }
        }
    }

    async fn give_back(&self, key: BudgetKey, cost: u32, rate: Rate, now: Timestamp) {
        let answer: redis::RedisResult<i64> = self
            .commands
            .run(
                GIVE_BACK
                    .key(self.key(key))
                    .arg(now.millis())
                    .arg(interval_ms(rate))
                    .arg(cost),
            )
            .await;
        if let Err(err) = answer {
            tracing::warn!(%err, "could not give budget back in Redis");
            self.fallback.give_back(key, cost, rate, now).await;
        }
    }
}

impl std::fmt::Debug for RedisBudgets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBudgets").finish_non_exhaustive()
    }
}

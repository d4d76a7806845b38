//! Per-user budgets: how fast someone may send, create groups, add members, search.
//!
//! Each budget is a token bucket kept as one number, the GCRA "theoretical arrival time": the
//! moment the bucket would be full again. Taking `n` units moves it `n` emission intervals
//! forward; the units are the caller's once it is no more than `burst` intervals ahead of now.
//! One number per key makes the state cheap to keep here and to share through a key-value
//! store (one compare-and-set per take) when several nodes must share a user's budget.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::model::{Timestamp, UserId};

/// How fast a budget refills, how much it saves up, and how long a caller may be paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Units added per second.
    pub per_second: f64,
    /// Most units saved up: what may be spent at once after a quiet spell.
    pub burst: u32,
    /// The longest a caller is asked to wait for its units; a caller that would have to wait
    /// longer is refused instead (nothing taken). Zero: never wait, refuse at once.
    pub max_wait: Duration,
}

impl Rate {
    /// `per_second` units per second, saving up at most `burst`, pacing callers up to
    /// `max_wait`.
    pub fn per_second(per_second: f64, burst: u32, max_wait: Duration) -> Self {
        Rate {
            per_second,
            burst,
            max_wait,
        }
    }

    /// `n` units per minute, all of which may be spent at once; callers are refused, not paced.
    pub fn per_minute(n: u32) -> Self {
        Rate {
            per_second: f64::from(n) / 60.0,
            burst: n,
            max_wait: Duration::ZERO,
        }
    }

    /// `n` units per hour, all of which may be spent at once; callers are refused, not paced.
    pub fn per_hour(n: u32) -> Self {
        Rate {
            per_second: f64::from(n) / 3600.0,
            burst: n,
            max_wait: Duration::ZERO,
        }
    }

    /// Milliseconds between two units.
    fn interval_ms(&self) -> f64 {
        1000.0 / self.per_second.max(1e-9)
    }
}

/// A kind of action with its own budget per user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Budget {
    /// Messages sent, edited or deleted, over REST and WebSocket together.
    Sends,
    /// Typing notices, over REST and WebSocket together.
    Typing,
    /// Groups created.
    Groups,
    /// Members added to groups (at creation or later).
    MemberAdds,
    /// Message searches (each a full-text query over the user's rooms).
    Searches,
}

impl Budget {
    /// A stable name, e.g. for keys in a shared store.
    pub fn name(self) -> &'static str {
        match self {
            Budget::Sends => "sends",
            Budget::Typing => "typing",
            Budget::Groups => "groups",
            Budget::MemberAdds => "member_adds",
            Budget::Searches => "searches",
        }
    }
}

/// One user's budget of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BudgetKey {
    /// Which budget.
    pub budget: Budget,
    /// Whose.
    pub user: UserId,
}

/// Where budgets are kept. [`LocalBudgets`] (this process) is the default; a backend shared by
/// several server nodes implements the same two calls.
#[async_trait]
pub trait Budgets: Send + Sync + 'static {
    /// Takes `cost` units of `key`'s budget at `now`, reserving them at once so that parallel
    /// callers share the budget. `Ok(wait)`: the units are the caller's after `wait` (zero
    /// when they are available now); the caller waits, then works. `Err(retry_after)`: getting
    /// them would take longer than `rate.max_wait` (or `cost` is more than `rate.burst`, which
    /// can never be had); nothing was taken.
    async fn take(
        &self,
        key: BudgetKey,
        cost: u32,
        rate: Rate,
        now: Timestamp,
    ) -> Result<Duration, Duration>;

    /// Gives back `cost` units taken for work that was then refused for another reason.
    async fn give_back(&self, key: BudgetKey, cost: u32, rate: Rate, now: Timestamp);
}

/// Budgets kept in this process: one number per key, in one map.
///
/// Memory: one entry per user who spent some budget recently; entries whose bucket has filled
/// up again are swept when the map grows, so it holds at most the users active within one
/// refill period.
#[derive(Debug, Default)]
pub struct LocalBudgets {
    // A std Mutex: each critical section is a map lookup and some arithmetic, never an await.
    full_at: Mutex<HashMap<BudgetKey, f64>>,
}

/// Above this many keys, full buckets are swept on the next take.
const SWEEP_ABOVE: usize = 10_000;

impl LocalBudgets {
    /// No budget spent yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BudgetKey, f64>> {
        self.full_at.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many keys are tracked (tests, metrics).
    pub fn keys(&self) -> usize {
        self.lock().len()
    }
}

#[async_trait]
impl Budgets for LocalBudgets {
    async fn take(
        &self,
        key: BudgetKey,
        cost: u32,
        rate: Rate,
        now: Timestamp,
    ) -> Result<Duration, Duration> {
        let now = now.millis() as f64;
        let interval = rate.interval_ms();
        let tolerance = f64::from(rate.burst) * interval;
        let mut map = self.lock();
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, full_at| *full_at > now);
        }
        let full_at = map.get(&key).copied().unwrap_or(now).max(now);
        let next_full_at = full_at + f64::from(cost) * interval;
        let wait = next_full_at - tolerance - now;
        let max_wait = rate.max_wait.as_millis() as f64;
        if f64::from(cost) > f64::from(rate.burst) || wait > max_wait {
            let retry = if f64::from(cost) > f64::from(rate.burst) {
                // Never possible: say "much later" rather than loop.
                3_600_000.0
            } else {
                wait - max_wait
            };
            return Err(millis(retry).max(Duration::from_secs(1)));
        }
        map.insert(key, next_full_at);
        Ok(millis(wait))
    }

    async fn give_back(&self, key: BudgetKey, cost: u32, rate: Rate, now: Timestamp) {
        let now = now.millis() as f64;
        let mut map = self.lock();
        if let Some(full_at) = map.get_mut(&key) {
            *full_at = (*full_at - f64::from(cost) * rate.interval_ms()).max(now);
        }
    }
}

fn millis(ms: f64) -> Duration {
    Duration::from_millis(ms.max(0.0).ceil() as u64)
}

/// The budgets backend a chat uses: a cheap, cloneable handle ([`LocalBudgets`] by default).
#[derive(Clone)]
pub struct SharedBudgets(Arc<dyn Budgets>);

impl SharedBudgets {
    /// Uses `budgets` (e.g. a backend shared between nodes).
    pub fn new(budgets: Arc<dyn Budgets>) -> Self {
        SharedBudgets(budgets)
    }

    /// The backend.
    pub fn get(&self) -> &dyn Budgets {
        self.0.as_ref()
    }
}

impl Default for SharedBudgets {
    fn default() -> Self {
        SharedBudgets(Arc::new(LocalBudgets::new()))
    }
}

impl fmt::Debug for SharedBudgets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedBudgets").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: BudgetKey = BudgetKey {
        budget: Budget::Sends,
        user: UserId(1),
    };

    fn at(secs: f64) -> Timestamp {
        Timestamp(1_000_000 + (secs * 1000.0) as i64)
    }

    #[tokio::test]
    async fn the_burst_is_free_then_callers_are_paced_then_refused() {
        let budgets = LocalBudgets::new();
        let rate = Rate::per_second(2.0, 3, Duration::from_secs(1));
        for _ in 0..3 {
            assert_eq!(
                budgets.take(ALICE, 1, rate, at(0.0)).await,
                Ok(Duration::ZERO)
            );
        }
        // Two units per second: the next ones are the caller's after 0.5 s and 1 s.
        assert_eq!(
            budgets.take(ALICE, 1, rate, at(0.0)).await,
            Ok(Duration::from_millis(500))
        );
        assert_eq!(
            budgets.take(ALICE, 1, rate, at(0.0)).await,
            Ok(Duration::from_secs(1))
        );
        // The next would wait 1.5 s, more than the 1 s allowed: refused, nothing taken.
        assert_eq!(
            budgets.take(ALICE, 1, rate, at(0.0)).await,
            Err(Duration::from_secs(1))
        );
        assert!(budgets.take(ALICE, 1, rate, at(0.5)).await.is_ok());
        let other = BudgetKey {
            user: UserId(2),
            ..ALICE
        };
        assert_eq!(
            budgets.take(other, 1, rate, at(0.0)).await,
            Ok(Duration::ZERO)
        );
        // After a quiet spell the whole burst is back.
        for _ in 0..3 {
            assert_eq!(
                budgets.take(ALICE, 1, rate, at(60.0)).await,
                Ok(Duration::ZERO)
            );
        }
    }

    #[tokio::test]
    async fn costs_and_refunds() {
        let budgets = LocalBudgets::new();
        let rate = Rate::per_hour(10);
        assert_eq!(
            budgets.take(ALICE, 8, rate, at(0.0)).await,
            Ok(Duration::ZERO)
        );
        let refused = budgets.take(ALICE, 3, rate, at(0.0)).await.unwrap_err();
        assert_eq!(
            refused,
            Duration::from_secs(360),
            "one unit refills in 6 minutes"
        );
        budgets.give_back(ALICE, 8, rate, at(0.0)).await;
        assert_eq!(
            budgets.take(ALICE, 10, rate, at(0.0)).await,
            Ok(Duration::ZERO)
        );
        assert!(
            budgets.take(ALICE, 11, rate, at(99_999.0)).await.is_err(),
            "more than the burst is never possible"
        );
    }

    #[test]
    fn full_buckets_are_swept() {
        let budgets = LocalBudgets::new();
        let rate = Rate::per_second(1000.0, 1, Duration::ZERO);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            for user in 0..=SWEEP_ABOVE as i64 {
                let key = BudgetKey {
                    user: UserId(user),
                    ..ALICE
                };
                budgets.take(key, 1, rate, at(0.0)).await.unwrap();
            }
            budgets.take(ALICE, 1, rate, at(10.0)).await.unwrap();
        });
        assert_eq!(budgets.keys(), 1);
    }
}

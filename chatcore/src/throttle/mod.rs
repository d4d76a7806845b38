//! Limits on how often someone may do something.
//!
//! Two shapes, both safe under concurrency (a request reserves before it works, so parallel
//! requests share one budget) and both bounded in memory:
//!
//! - [`FailureThrottle`]: at most N attempts per key (a username, an address) in a sliding
//!   window; for logins, registrations, guests.
//! - [`Budgets`]: a token-bucket budget per user and kind of action (sends, groups, member
//!   adds) with a [`Rate`]; a caller over its rate is *paced* (told to wait) up to the rate's
//!   `max_wait`, and refused beyond it. [`LocalBudgets`] keeps them in this process; a shared
//!   backend (so that several server nodes share one budget per user) implements the same trait.

mod budgets;
mod failures;

pub use budgets::{Budget, BudgetKey, Budgets, LocalBudgets, Rate, SharedBudgets};
pub use failures::{Attempt, DEFAULT_MAX_KEYS, FailureThrottle};

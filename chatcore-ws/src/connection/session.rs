//! The connection's session: revalidated on resume, when the client is active, and at the
//! moment it would expire; a session that ended closes the connection with 4001.

use std::time::Duration;

use chatcore::Error;
use tokio::time::Instant;

use super::delivery::storage_failed;
use super::{Conn, Stop};
use crate::close;

/// An active connection counts as use of its session at most this often.
const ACTIVITY_EVERY: Duration = Duration::from_secs(60);

/// When the store cannot answer at a session's deadline, ask again this much later.
const RETRY_EXPIRY_CHECK: Duration = Duration::from_secs(30);

/// A little past the deadline, so the check never lands a moment before the store agrees.
const DEADLINE_SLACK: Duration = Duration::from_millis(20);

impl Conn {
    /// Checks the session and user again (e.g. on `sync`), and counts as using the session.
    pub(super) async fn revalidate(&mut self) -> Result<(), Stop> {
        if let Some(reason) = self.sub.close_reason() {
            return Err(Stop::hub(reason));
        }
        match self.chat.revalidate(&self.actor).await {
            Ok(actor) => {
                self.actor = actor;
                self.revalidated = Instant::now();
                self.expiry = deadline(&self.chat, &self.actor);
                Ok(())
            }
            Err(Error::Unauthenticated(_)) => {
                Err(Stop::Close(close::SESSION_ENDED, "session ended"))
            }
            Err(err) => Err(storage_failed(&err)),
        }
    }

    /// The session's deadline came: it ends here unless it was used (and extended) meanwhile.
    /// A store that cannot answer is asked again later rather than dropping the connection.
    pub(super) async fn on_session_deadline(&mut self) -> Result<(), Stop> {
        match self.revalidate().await {
            Err(Stop::Close(close::INTERNAL, _)) => {
                self.expiry = Some(Instant::now() + RETRY_EXPIRY_CHECK);
                Ok(())
            }
            other => other,
        }
    }

    /// A client that does something (not just pings) is using its session: refresh it now and
    /// then, so an active connection keeps it alive as requests over HTTP would.
    pub(super) async fn on_activity(&mut self) -> Result<(), Stop> {
        if self.revalidated.elapsed() < ACTIVITY_EVERY {
            return Ok(());
        }
        self.revalidate().await
    }
}

/// When a new connection of `actor` counts as last revalidated: now, moved back by the user's
/// [`phase`]. An active connection revalidates (and touches its session and user, each a
/// write) once per [`ACTIVITY_EVERY`] from then on, so connections that started together, as
/// after a server restart, spread those writes over the period instead of queueing them all
/// in the same second every minute: 2,000 of them held SQLite's write lock for about a second
/// each minute, stalling every send meanwhile.
pub(super) fn spread(actor: &chatcore::Actor) -> Instant {
    let now = Instant::now();
    now.checked_sub(phase(actor.id())).unwrap_or(now)
}

/// A fixed share of [`ACTIVITY_EVERY`] for `user`, spread evenly over users by Fibonacci
/// hashing (consecutive ids land far apart).
fn phase(user: chatcore::UserId) -> Duration {
    let share = (user.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    ACTIVITY_EVERY.mul_f64(share as f64 / f64::from(u32::MAX))
}

/// The instant `actor`'s session expires, on the connection's clock.
pub(super) fn deadline(chat: &chatcore::Chat, actor: &chatcore::Actor) -> Option<Instant> {
    chat.session_time_left(actor)
        .map(|left| Instant::now() + left + DEADLINE_SLACK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_who_connected_together_revalidate_spread_over_the_period() {
        let mut per_tenth = [0u32; 10];
        for id in 1..=2000 {
            let phase = phase(chatcore::UserId(id));
            assert!(phase <= ACTIVITY_EVERY);
            per_tenth[(phase.as_secs_f64() / ACTIVITY_EVERY.as_secs_f64() * 10.0) as usize % 10] +=
                1;
        }
        for count in per_tenth {
            assert!((150..=250).contains(&count), "uneven: {per_tenth:?}");
        }
    }
}

//! Close codes and reasons the server sends (see `docs/protocol.md`).

use chatcore::CloseReason;

/// Normal closure (also used for an idle connection).
pub const NORMAL: u16 = 1000;
/// The server is shutting down; reconnect later.
pub const GOING_AWAY: u16 = 1001;
/// Policy violation: authentication, too many connections, or repeated protocol abuse.
pub const POLICY: u16 = 1008;
/// A frame or message was larger than the limit.
pub const TOO_BIG: u16 = 1009;
/// The server could not keep its delivery promise (e.g. the store failed); resume later.
pub const INTERNAL: u16 = 1011;
/// The client did not read fast enough; reconnect and `sync`.
pub const LAGGED: u16 = 4000;
/// The session ended (logout, account disabled).
pub const SESSION_ENDED: u16 = 4001;
/// The client kept sending faster than allowed.
pub const RATE_LIMITED: u16 = 4002;

/// The close code and reason for a subscription the hub closed.
pub fn for_hub(reason: CloseReason) -> (u16, &'static str) {
    match reason {
        CloseReason::Lagged => (LAGGED, "lagged: reconnect and sync"),
        CloseReason::SessionEnded => (SESSION_ENDED, "session ended"),
        CloseReason::Shutdown => (GOING_AWAY, "server shutting down"),
    }
}

/// Whether frames already queued are still sent before this close. They are when the client
/// caused the close (so it sees the `error` frames that led to it); they are not when the
/// connection must stop at once (lagged, session ended, shutdown, internal failure).
pub(crate) fn sends_queued_first(code: u16) -> bool {
    matches!(code, NORMAL | POLICY | TOO_BIG | RATE_LIMITED)
}

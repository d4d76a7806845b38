//! The session credential: `Authorization: Bearer …` or the `chat_session` cookie.

use std::time::Duration;

use ::http::header::{AUTHORIZATION, COOKIE, HeaderMap, HeaderValue};
use chatcore::SessionToken;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "chat_session";

/// How a request presented its session token.
#[derive(Debug, Clone)]
pub enum Credential {
    /// `Authorization: Bearer <token>` (bots, tests, non-browser clients).
    Bearer(SessionToken),
    /// The `chat_session` cookie (browsers): state changes need an allowed `Origin`.
    Cookie(SessionToken),
}

impl Credential {
    /// The token, however it came.
    pub fn token(&self) -> &SessionToken {
        match self {
            Credential::Bearer(t) | Credential::Cookie(t) => t,
        }
    }
}

/// The request's credential. A bearer header wins over a cookie.
pub fn credential(headers: &HeaderMap) -> Option<Credential> {
    bearer(headers)
        .map(Credential::Bearer)
        .or_else(|| session_cookie(headers).map(Credential::Cookie))
}

/// Whether the request carries the session cookie at all.
pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    session_cookie(headers).is_some()
}

fn bearer(headers: &HeaderMap) -> Option<SessionToken> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && plausible(token))
        .then(|| SessionToken::from_presented(token))
}

fn session_cookie(headers: &HeaderMap) -> Option<SessionToken> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && plausible(value))
        .map(|(_, value)| SessionToken::from_presented(value))
}

/// Tokens are 64 hex digits; anything else is not worth a store lookup.
fn plausible(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Lax, Path=/, Secure behind https.
pub fn set_session(token: &SessionToken, max_age: Duration, secure: bool) -> HeaderValue {
    cookie(token.as_str(), max_age.as_secs(), secure)
}

/// `Set-Cookie` that removes the session cookie (logout).
pub fn clear_session(secure: bool) -> HeaderValue {
    cookie("", 0, secure)
}

fn cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    );
    // The token is hex and the rest is fixed text, so this is always a valid header value.
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("chat_session=; Max-Age=0"))
}

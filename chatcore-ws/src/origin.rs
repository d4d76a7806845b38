//! Which browser pages may use cookie sessions: the `Origin` check against cross-site requests
//! (cross-site WebSocket hijacking, cross-site request forgery). One policy for every way in:
//! [`upgrade`](crate::upgrade), [`accept`](crate::accept) and a host's REST routes.

use std::net::SocketAddr;

use http::HeaderMap;
use http::header::{HOST, ORIGIN};

/// A request refused because of where it came from (answer it with 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("request from a foreign origin refused")]
pub struct BadOrigin;

/// The allowed origins: configured ones, the listen address's, and the origin matching the
/// request's own `Host` (so `127.0.0.1:0` listeners and proxies passing `Host` work).
#[derive(Debug, Clone, Default)]
pub struct Origins {
    allowed: Vec<String>,
}

impl Origins {
    /// Allowed origins from URLs like `https://chat.example.com/` (path ignored; entries that
    /// are not http(s) URLs are dropped: check them first with [`normalize`]).
    pub fn new<'a>(urls: impl IntoIterator<Item = &'a str>) -> Self {
        Origins {
            allowed: urls.into_iter().filter_map(normalize).collect(),
        }
    }

    /// Checks a browser request's headers. A foreign `Origin` is always refused; a missing one
    /// only when the request authenticates with a cookie (`cookie_auth` — browsers always send
    /// `Origin` on state-changing and WebSocket requests, so its absence with a cookie is
    /// suspicious). `local` is the listening address as the client reached it, when known.
    pub fn check(
        &self,
        headers: &HeaderMap,
        local: Option<SocketAddr>,
        cookie_auth: bool,
    ) -> Result<(), BadOrigin> {
        let text = |name| headers.get(name).map(|v| v.to_str().map_err(|_| BadOrigin));
        let origin = text(ORIGIN).transpose()?;
        let host = text(HOST).and_then(Result::ok);
        self.check_values(origin, host, local, cookie_auth)
    }

    /// [`check`](Self::check) on the header values themselves (`None`: header absent).
    pub fn check_values(
        &self,
        origin: Option<&str>,
        host: Option<&str>,
        local: Option<SocketAddr>,
        cookie_auth: bool,
    ) -> Result<(), BadOrigin> {
        let Some(origin) = origin else {
            return if cookie_auth { Err(BadOrigin) } else { Ok(()) };
        };
        let origin = normalize(origin).ok_or(BadOrigin)?;
        if self.allowed.contains(&origin)
            || local.is_some_and(|local| origin == format!("http://{local}"))
            || host.is_some_and(|host| host_matches(host, &origin))
        {
            Ok(())
        } else {
            tracing::info!(%origin, "refused request from a foreign origin");
            Err(BadOrigin)
        }
    }
}

fn host_matches(host: &str, origin: &str) -> bool {
    let host = host.to_ascii_lowercase();
    ["http", "https"]
        .iter()
        .any(|scheme| normalize(&format!("{scheme}://{host}")).as_deref() == Some(origin))
}

/// `HTTPS://Chat.Example.com:443/path` → `https://chat.example.com`; `None` for non-URLs
/// (including the literal `null` origin of sandboxed pages).
pub fn normalize(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn accepts_own_and_configured_origins_only() {
        let origins = Origins::new(["https://Chat.Example.com/"]);
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let ok = |o: Option<&str>, host: &str, require: bool| {
            origins
                .check(&headers(o, host), Some(local), require)
                .is_ok()
        };
        assert!(ok(Some("https://chat.example.com"), "internal:8080", true));
        assert!(ok(
            Some("https://chat.example.com:443"),
            "internal:8080",
            true
        ));
        assert!(ok(Some("http://127.0.0.1:8080"), "whatever", true));
        assert!(ok(Some("http://localhost:4321"), "localhost:4321", true));
        assert!(!ok(Some("http://evil.example"), "127.0.0.1:8080", true));
        assert!(!ok(Some("null"), "127.0.0.1:8080", false));
        assert!(!ok(None, "127.0.0.1:8080", true));
        assert!(ok(None, "127.0.0.1:8080", false));
    }

    #[test]
    fn an_origin_that_is_not_text_is_refused() {
        let mut h = headers(None, "x");
        h.insert(ORIGIN, HeaderValue::from_bytes(b"http://\xff").unwrap());
        assert_eq!(Origins::default().check(&h, None, false), Err(BadOrigin));
    }
}

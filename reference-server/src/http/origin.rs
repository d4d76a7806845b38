//! Which browser pages may use cookie sessions: the `Origin` check against cross-site requests.

use std::net::SocketAddr;

use hyper::header::{HOST, HeaderMap, ORIGIN};

use super::ApiError;

/// The allowed origins: configured ones, the public URL's, the listen address's, and the origin
/// matching the request's own `Host` (so `--listen 127.0.0.1:0` and proxies passing `Host` work).
#[derive(Debug, Clone, Default)]
pub struct Origins {
    allowed: Vec<String>,
}

impl Origins {
    /// Allowed origins from URLs like `https://chat.example.com/` (path ignored).
    pub fn new<'a>(urls: impl IntoIterator<Item = &'a str>) -> Self {
        Origins {
            allowed: urls.into_iter().filter_map(normalize).collect(),
        }
    }

    /// Checks a browser request. A foreign `Origin` is always refused; a missing one only when
    /// the request authenticates with the cookie (`require` — browsers always send `Origin` on
    /// state-changing and WebSocket requests, so its absence with a cookie is suspicious).
    pub fn check(
        &self,
        headers: &HeaderMap,
        local: SocketAddr,
        require: bool,
    ) -> Result<(), ApiError> {
        let Some(origin) = headers.get(ORIGIN) else {
            return if require {
                Err(ApiError::bad_origin())
            } else {
                Ok(())
            };
        };
        let origin = origin
            .to_str()
            .ok()
            .and_then(normalize)
            .ok_or_else(ApiError::bad_origin)?;
        if self.allowed.contains(&origin)
            || origin == format!("http://{local}")
            || host_matches(headers, &origin)
        {
            Ok(())
        } else {
            tracing::info!(%origin, "refused request from a foreign origin");
            Err(ApiError::bad_origin())
        }
    }
}

fn host_matches(headers: &HeaderMap, origin: &str) -> bool {
    let Some(host) = headers.get(HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    ["http", "https"]
        .iter()
        .any(|scheme| normalize(&format!("{scheme}://{host}")).as_deref() == Some(origin))
}

/// `HTTPS://Chat.Example.com:443/path` → `https://chat.example.com`; `None` for non-URLs
/// (including the literal `null` origin of sandboxed pages).
pub(crate) fn normalize(url: &str) -> Option<String> {
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
    use hyper::header::HeaderValue;

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
            origins.check(&headers(o, host), local, require).is_ok()
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
}

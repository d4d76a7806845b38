//! Security headers on every response, and the client address.

use std::net::{IpAddr, SocketAddr};

use hyper::header::{
    CONTENT_SECURITY_POLICY, HeaderMap, HeaderName, HeaderValue, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS,
};

use super::Response;

/// The page policy: only our own scripts, styles and media; blobs and data URLs for previews of
/// local recordings and pictures; no plugins, no framing, no `<base>` tricks.
pub const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; \
                       object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the headers every response carries, keeping any a route set itself (media sets a
/// stricter `Content-Security-Policy: sandbox`).
pub fn secure(mut res: Response) -> Response {
    let headers = res.headers_mut();
    headers
        .entry(CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    headers
        .entry(X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    res
}

/// The client's address for rate limits and logs: the TCP peer, or, behind a trusted proxy,
/// the last `X-Forwarded-For` entry (the one the proxy itself added).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trust_forwarded_for: bool) -> IpAddr {
    const XFF: HeaderName = HeaderName::from_static("x-forwarded-for");
    if trust_forwarded_for {
        // Only the proxy's own (last) entry is trusted; earlier ones are whatever the client sent.
        let last = headers
            .get_all(XFF)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
        if let Some(ip) = last {
            return ip;
        }
    }
    peer.ip()
}

//! Security headers on every response.

use hyper::header::{
    CONTENT_SECURITY_POLICY, HeaderName, HeaderValue, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS,
};

use chatcore_http::http::Response;

/// The page policy: only our own scripts, styles and media; blobs and data URLs for previews of
/// local recordings and pictures; no plugins, no framing, no `<base>` tricks. Violations are
/// reported to `POST /api/v1/csp-report` (see `chatcore_http`'s `routes::csp`): `report-to` names the `Reporting-Endpoints` entry (current
/// browsers), `report-uri` is the older form (browsers without the Reporting API).
pub const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; \
                       object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
                       report-to csp; report-uri /api/v1/csp-report";

/// The endpoint `report-to csp` refers to.
pub const REPORTING_ENDPOINTS: &str = "csp=\"/api/v1/csp-report\"";

/// Powerful browser features: the page may use the microphone (voice messages) and nothing
/// else; embedded frames get none of them.
pub const PERMISSIONS_POLICY: &str = "microphone=(self), camera=(), geolocation=(), \
    payment=(), usb=(), serial=(), hid=(), bluetooth=(), midi=(), display-capture=(), \
    accelerometer=(), gyroscope=(), magnetometer=(), fullscreen=(), screen-wake-lock=(), \
    publickey-credentials-get=(), xr-spatial-tracking=(), browsing-topics=()";

/// HSTS for a server whose public URL is https: browsers refuse plain http to this host for a
/// year. Subdomains are left alone (they may be other services, not ours).
pub const HSTS: &str = "max-age=31536000";

const COOP: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
const PERMISSIONS: HeaderName = HeaderName::from_static("permissions-policy");
const REPORTING: HeaderName = HeaderName::from_static("reporting-endpoints");

/// Adds the headers every response carries, keeping any a route set itself (media sets a
/// stricter `Content-Security-Policy: sandbox`). `https` (the public URL is https) adds HSTS;
/// over plain http the header would be ignored, and sent by mistake it would lock users out of
/// a server that has no TLS.
pub fn secure(mut res: Response, https: bool) -> Response {
    let headers = res.headers_mut();
    let defaults = [
        (CONTENT_SECURITY_POLICY, CSP),
        (REPORTING, REPORTING_ENDPOINTS),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (REFERRER_POLICY, "no-referrer"),
        // No other page that opens ours (or that ours opens) gets a handle on its window.
        (COOP, "same-origin"),
        (PERMISSIONS, PERMISSIONS_POLICY),
    ];
    for (name, value) in defaults {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if https {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    res
}

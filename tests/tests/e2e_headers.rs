//! Security headers (docs/security.md): what every response carries, what only https
//! deployments and media get, and the CSP report endpoint with its limits.

use chat_tests::{PNG, Server};
use reqwest::Method;
use serde_json::json;

const PERMISSIONS_POLICY: &str = "microphone=(self), camera=(), geolocation=(), payment=(), \
    usb=(), serial=(), hid=(), bluetooth=(), midi=(), display-capture=(), accelerometer=(), \
    gyroscope=(), magnetometer=(), fullscreen=(), screen-wake-lock=(), \
    publickey-credentials-get=(), xr-spatial-tracking=(), browsing-topics=()";

#[tokio::test]
async fn pages_and_api_isolate_their_window_and_allow_only_the_microphone() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    for reply in [
        server.get(None, "/").await,
        server.get(None, "/api/v1/nope").await,
        server.get(Some(&alice), "/api/v1/me").await,
    ] {
        assert_eq!(
            reply.header("cross-origin-opener-policy"),
            Some("same-origin")
        );
        assert_eq!(reply.header("permissions-policy"), Some(PERMISSIONS_POLICY));
        let csp = reply.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("report-to csp") && csp.contains("report-uri /api/v1/csp-report"),
            "{csp}"
        );
        assert_eq!(
            reply.header("reporting-endpoints"),
            Some("csp=\"/api/v1/csp-report\"")
        );
        assert_eq!(
            reply.header("strict-transport-security"),
            None,
            "no HSTS over plain http"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn an_https_public_url_turns_on_hsts() {
    let server = Server::start_with(|c| c.public_url = Some("https://chat.example".into())).await;
    for path in ["/", "/healthz", "/api/v1/nope"] {
        let reply = server.get(None, path).await;
        assert_eq!(
            reply.header("strict-transport-security"),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn media_may_only_be_embedded_by_our_own_pages() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let room = server.group(&alice, "Pictures", &[]).await;
    let upload = server
        .send(
            server
                .request(
                    Method::POST,
                    &format!("/api/v1/rooms/{room}/media"),
                    Some(&alice),
                )
                .header("content-type", "image/png")
                .body(PNG),
        )
        .await;
    assert_eq!(upload.status, 201);
    let id = upload.json()["id"].as_str().unwrap_or_default().to_owned();
    let got = server
        .get(Some(&alice), &format!("/api/v1/media/{id}"))
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.header("cross-origin-resource-policy"),
        Some("same-origin")
    );
    assert_eq!(got.header("content-security-policy"), Some("sandbox"));
    server.stop().await;
}

#[tokio::test]
async fn csp_reports_are_taken_in_both_formats_and_bounded() {
    let server = Server::start().await;
    let report = |content_type: &'static str, body: String| {
        server
            .request(Method::POST, "/api/v1/csp-report", None)
            .header("content-type", content_type)
            .body(body)
    };
    let old = json!({"csp-report": {"violated-directive": "script-src", "blocked-uri": "inline"}});
    let new = json!([{"type": "csp-violation", "body": {"effectiveDirective": "img-src"}}]);
    let reply = server
        .send(report("application/csp-report", old.to_string()))
        .await;
    assert_eq!(reply.status, 204);
    let reply = server
        .send(report("application/reports+json", new.to_string()))
        .await;
    assert_eq!(reply.status, 204);

    let reply = server.send(report("text/plain", old.to_string())).await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (415, "unsupported_media")
    );
    let reply = server
        .send(report("application/csp-report", "{".into()))
        .await;
    assert_eq!((reply.status, reply.code().as_str()), (400, "bad_json"));
    let huge = json!({"csp-report": {"blocked-uri": "x".repeat(10_000)}});
    let reply = server
        .send(report("application/csp-report", huge.to_string()))
        .await;
    assert_eq!((reply.status, reply.code().as_str()), (413, "too_large"));

    // Twenty reports a minute per address (the five above count): then 429, nothing logged.
    for _ in 5..20 {
        let reply = server
            .send(report("application/csp-report", old.to_string()))
            .await;
        assert_eq!(reply.status, 204);
    }
    let reply = server
        .send(report("application/csp-report", old.to_string()))
        .await;
    assert_eq!((reply.status, reply.code().as_str()), (429, "rate_limited"));
    assert!(reply.header("retry-after").is_some());
    server.stop().await;
}

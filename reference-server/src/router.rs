//! Which part answers a request: the chat API (`/api/…`, `/healthz`) or the web client.

use std::time::Instant;

use chatcore_http::Conn;
use chatcore_http::http::{ApiError, Response};
use hyper::body::Incoming;

use crate::app::App;
use crate::headers;
use crate::routes::web;

/// Answers one request and adds the security headers.
pub async fn handle(app: App, conn: Conn, mut req: hyper::Request<Incoming>) -> Response {
    let path = req.uri().path();
    let res = if path == "/healthz" || path.starts_with("/api/") {
        req.extensions_mut().insert(conn);
        app.api().handle(req).await
    } else {
        let started = Instant::now();
        let res = web::serve(&app, &req)
            .await
            .unwrap_or_else(ApiError::into_response);
        let path = chatcore_http::redacted_path(req.uri().path());
        let (method, status) = (req.method(), res.status().as_u16());
        tracing::debug!(%method, %path, status, elapsed_ms = started.elapsed().as_millis() as u64, "request");
        res
    };
    headers::secure(res, app.settings().https)
}

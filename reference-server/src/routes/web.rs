//! The web client at `/`: embedded into the binary, or read from `--web-dir` during development.

use std::borrow::Cow;
use std::path::Path;

use bytes::Bytes;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, HeaderValue, IF_NONE_MATCH};
use hyper::{Method, StatusCode};

use chatcore_http::http::{ApiError, HandlerResult, Response};
use hyper::body::Incoming;

use crate::app::App;

/// The files of `web/`, compiled into the binary (read from disk in debug builds).
#[derive(rust_embed::Embed)]
#[folder = "../web"]
struct Assets;

/// `GET /…` → a file of the web client. `/` and extensionless paths (client-side routes) get
/// `index.html`.
pub async fn serve(app: &App, req: &hyper::Request<Incoming>) -> HandlerResult {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::method_not_allowed());
    }
    let path = asset_path(req.uri().path()).ok_or_else(ApiError::not_found)?;
    let found = match &app.settings().web_dir {
        Some(dir) => from_dir(dir, &path).await,
        None => Assets::get(&path).map(|f| (f.data, Some(f.metadata.sha256_hash()))),
    };
    let (data, hash) = found.ok_or_else(ApiError::not_found)?;
    let etag = hash.map(|h| format!("\"{}\"", hex(&h[..16])));
    let cached = etag.as_deref().is_some_and(|tag| {
        req.headers()
            .get(IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains(tag))
    });
    let body = if cached || req.method() == Method::HEAD {
        Bytes::new()
    } else {
        to_bytes(data)
    };
    let mut res = Response::new(chatcore_http::http::full(body));
    if cached {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(&path)));
    // Revalidate every time: the client is small and must never run stale after an upgrade.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(value) = etag.and_then(|t: String| HeaderValue::from_str(&t).ok()) {
        headers.insert(ETAG, value);
    }
    Ok(res)
}

/// The asset path for a URL path, or `None` if it tries to leave the folder.
fn asset_path(url_path: &str) -> Option<String> {
    let trimmed = url_path.trim_start_matches('/');
    let segments: Vec<&str> = trimmed.split('/').collect();
    let safe = segments
        .iter()
        .all(|s| !s.starts_with('.') && !s.contains('\\') && !s.contains('%') && !s.contains(':'));
    if !safe {
        return None;
    }
    let last = segments.last().copied().unwrap_or("");
    if trimmed.is_empty() || !last.contains('.') {
        return Some("index.html".to_owned());
    }
    if segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    Some(trimmed.to_owned())
}

async fn from_dir(dir: &Path, path: &str) -> Option<(Cow<'static, [u8]>, Option<[u8; 32]>)> {
    let bytes = tokio::fs::read(dir.join(path)).await.ok()?;
    Some((Cow::Owned(bytes), None))
}

fn to_bytes(data: Cow<'static, [u8]>) -> Bytes {
    match data {
        Cow::Borrowed(b) => Bytes::from_static(b),
        Cow::Owned(v) => Bytes::from(v),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::asset_path;

    #[test]
    fn paths_stay_inside_the_folder() {
        assert_eq!(asset_path("/").as_deref(), Some("index.html"));
        assert_eq!(
            asset_path("/views/shell.js").as_deref(),
            Some("views/shell.js")
        );
        assert_eq!(asset_path("/chat/3").as_deref(), Some("index.html"));
        // An invite link: its token is URL-safe base64, never a dot.
        assert_eq!(
            asset_path("/join/Ab-_0123456789abcdefghijklmnopqrstuvwxyzABCDE").as_deref(),
            Some("index.html")
        );
        assert_eq!(asset_path("/../Cargo.toml"), None);
        assert_eq!(asset_path("/views/..%2f..%2fsecret.txt"), None);
        assert_eq!(asset_path("/.git/config"), None);
        assert_eq!(asset_path("/views//x.js"), None);
    }
}

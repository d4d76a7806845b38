//! Request bodies, read with a limit enforced while reading (never buffered unbounded).

use std::time::Duration;

use ::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use super::{ApiError, Request, RequestBody};

/// Largest JSON body any route accepts.
pub const MAX_JSON: usize = 64 * 1024;

/// Every body may take this long, plus [`MIN_RATE`]-paced time for its size limit: a client
/// trickling bytes cannot hold a connection and a buffer forever.
const BODY_GRACE: Duration = Duration::from_secs(30);

/// The slowest upload pace budgeted for, in bytes per second.
const MIN_RATE: u64 = 64 * 1024;

/// How long a body of at most `limit` bytes may take to arrive: 30 s of grace, plus the limit
/// at 64 KiB/s. Past that the request is answered 408 `timeout`.
pub fn time_allowed(limit: usize) -> Duration {
    BODY_GRACE + Duration::from_secs(limit as u64 / MIN_RATE)
}

/// Reads the whole body, refusing with 413 as soon as it passes `limit` bytes (or up front, when
/// `Content-Length` already says so), and with 408 when it arrives too slowly.
pub async fn read_limited(
    headers: &HeaderMap,
    body: RequestBody,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    let read = tokio::time::timeout(time_allowed(limit), Limited::new(body, limit).collect()).await;
    match read.map_err(|_| ApiError::timeout())? {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::too_large(limit)),
        Err(e) => Err(ApiError::bad_json(format!(
            "could not read the request body: {e}"
        ))),
    }
}

/// The body parsed as JSON. A non-empty body must be declared `application/json` (which also
/// keeps HTML forms, which cannot send that type, from posting here).
pub async fn json<T: DeserializeOwned>(req: Request) -> Result<T, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = read_limited(&parts.headers, body, MAX_JSON).await?;
    parse(&parts.headers, &bytes)
}

/// Like [`json`], but an empty body means `T::default()` (routes whose fields are all optional).
pub async fn json_or_default<T: DeserializeOwned + Default>(req: Request) -> Result<T, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = read_limited(&parts.headers, body, MAX_JSON).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse(&parts.headers, &bytes)
}

/// A complete body parsed as JSON: 415 `unsupported_media` unless `Content-Type` is
/// `application/json` (any case, any parameters), 400 `bad_json` when the bytes are not the
/// JSON `T` expects. Public so the parser can be property-tested on its own.
pub fn parse<T: DeserializeOwned>(headers: &HeaderMap, bytes: &[u8]) -> Result<T, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::unsupported_content_type(
            "Content-Type: application/json",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_json(format!("invalid JSON body: {e}")))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

//! `/api/v1/rooms/{id}/media` (upload) and `/api/v1/media/{id}` (download).
//!
//! What the bytes are is decided by `chatcore` (sniffing); here we only move them. Downloads are
//! served so a browser can never run them: the sniffed type, `nosniff`, and a sandbox CSP.

use bytes::Bytes;
use chatcore::{MediaId, MediaRef, RoomId};
use http_body_util::Full;
use hyper::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderName,
    HeaderValue,
};

use crate::app::App;
use crate::http::{self, ApiError, HandlerResult, Request, body};

const CORP: HeaderName = HeaderName::from_static("cross-origin-resource-policy");

/// Room for multipart boundaries and part headers on top of the file itself.
const MULTIPART_OVERHEAD: usize = 16 * 1024;

/// `POST /api/v1/rooms/{id}/media`: raw bytes with their `Content-Type`, or a multipart form
/// with a `file` field → 201 `{id, mime, size}`.
pub async fn upload(app: &App, req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(req.headers()).await?;
    let max = app.settings().max_upload;
    let (parts, incoming) = req.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (bytes, declared) = match declared
        .as_deref()
        .and_then(|ct| multer::parse_boundary(ct).ok())
    {
        Some(boundary) => {
            let raw =
                body::read_limited(&parts.headers, incoming, max + MULTIPART_OVERHEAD).await?;
            file_field(raw, boundary, max).await?
        }
        None => (
            body::read_limited(&parts.headers, incoming, max).await?,
            declared,
        ),
    };
    let media = app
        .chat()
        .upload(&me.actor, room, bytes, declared.as_deref())
        .await?;
    tracing::info!(user = %me.actor.id(), room = %room, media = %media.id, mime = %media.mime, size = media.size, "uploaded");
    Ok(http::created(&MediaRef::from(&media)))
}

/// The `file` field of a multipart body and its declared type.
async fn file_field(
    raw: Bytes,
    boundary: String,
    max: usize,
) -> Result<(Bytes, Option<String>), ApiError> {
    let limits = multer::SizeLimit::new().per_field(max as u64);
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(raw) });
    let mut form = multer::Multipart::with_constraints(
        stream,
        boundary,
        multer::Constraints::new().size_limit(limits),
    );
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(e, max))?
    {
        if field.name() == Some("file") {
            let declared = field.content_type().map(ToString::to_string);
            let bytes = field.bytes().await.map_err(|e| multipart_error(e, max))?;
            return Ok((bytes, declared));
        }
    }
    Err(ApiError::invalid("file", "the form has no `file` field"))
}

fn multipart_error(err: multer::Error, max: usize) -> ApiError {
    match err {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            ApiError::too_large(max)
        }
        other => ApiError::invalid("file", format!("malformed multipart body: {other}")),
    }
}

/// `GET /api/v1/media/{id}` → 200 the bytes, for members of the room only (others: 404).
pub async fn download(app: &App, req: Request, id: MediaId) -> HandlerResult {
    let me = app.authenticate(req.headers()).await?;
    let (media, bytes) = app.chat().download(&me.actor, id).await?;
    let mut res = hyper::Response::new(Full::new(bytes));
    let headers = res.headers_mut();
    // The mime comes from chatcore's sniffer (a fixed list), so it is always a valid value.
    let mime = HeaderValue::from_str(&media.mime)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(CONTENT_TYPE, mime);
    let disposition = format!(
        "inline; filename=\"media-{}.{}\"",
        media.id,
        extension(&media.mime)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    // Only our own pages may embed the bytes: another site cannot hotlink a private picture
    // with the viewer's cookie, nor read it through a side channel (Spectre).
    headers.insert(CORP, HeaderValue::from_static("same-origin"));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(res)
}

fn extension(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "audio/wav" => "wav",
        "audio/webm" => "webm",
        "audio/ogg" => "ogg",
        "audio/mpeg" => "mp3",
        "audio/mp4" => "m4a",
        "audio/aac" => "aac",
        _ => "bin",
    }
}

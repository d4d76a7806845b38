//! `/api/v1/rooms/{id}/media` (upload), `/api/v1/media/{id}` and `/api/v1/media/{id}/thumbnail`
//! (download).
//!
//! What the bytes are, who may send and fetch them, is decided by `chatcore`; here we only move
//! them. Uploads are refused before their body is read when the sender may not upload (not a
//! member, over the quota, too large). Downloads stream from the file with `Range` (206),
//! `ETag` and `Cache-Control: private, immutable`, and are served so a browser can never run
//! them: the stored type, `nosniff`, and a sandbox CSP.

use ::http::StatusCode;
use ::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONNECTION, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, HeaderMap, HeaderName, HeaderValue, IF_NONE_MATCH,
    RANGE,
};
use bytes::Bytes;
use chatcore::media::Staged;
use chatcore::{MediaFile, MediaId, MediaRef, MediaVariant, RoomId};
use futures::TryStreamExt;
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::app::App;
use crate::http::range::{Wanted, wanted};
use crate::http::{self, ApiError, HandlerResult, Request, RequestBody, Response, body};

const CORP: HeaderName = HeaderName::from_static("cross-origin-resource-policy");

/// Room for multipart boundaries and part headers on top of the file itself.
const MULTIPART_OVERHEAD: usize = 16 * 1024;

/// How much of a file is read at a time while streaming it.
const CHUNK: usize = 64 * 1024;

/// `POST /api/v1/rooms/{id}/media`: raw bytes with their `Content-Type`, or a multipart form
/// with a `file` field → 201 `{id, mime, size, width, height, duration_ms, thumbnail}`.
pub async fn upload(app: &App, mut req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let check = async |len| app.chat().check_upload(&me.actor, room, len).await;
    let (staged, declared) = match receive_upload(app, req, check).await? {
        Upload::Staged(staged, declared) => (staged, declared),
        Upload::Refused(res) => return Ok(res),
    };
    let media = app
        .chat()
        .upload_staged(&me.actor, room, staged, declared.as_deref())
        .await?;
    tracing::info!(user = %me.actor.id(), room = %room, media = %media.id, mime = %media.mime, size = media.size, "uploaded");
    Ok(http::created(&MediaRef::from(&media)))
}

/// An upload's body, staged with the type it declared, or the answer refusing it unread.
pub(crate) enum Upload {
    /// The file, staged, and its declared type.
    Staged(Staged, Option<String>),
    /// `check` refused the upload before its body was read.
    Refused(Response),
}

/// Receives an upload body: raw bytes with their `Content-Type`, or a multipart form with a
/// `file` field. `check` is asked first, with the file's length as far as the headers tell;
/// when it refuses, the answer goes out at once, while the client may still be sending, and
/// the connection is closed rather than read further. Otherwise the file is staged (see
/// [`receive`]) within the time its size allows.
pub(crate) async fn receive_upload(
    app: &App,
    req: Request,
    check: impl AsyncFnOnce(Option<u64>) -> chatcore::Result<()>,
) -> Result<Upload, ApiError> {
    let max = app.settings().max_upload;
    let (parts, incoming) = req.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let boundary = declared
        .as_deref()
        .and_then(|ct| multer::parse_boundary(ct).ok());
    // The file is at most the body: with a form around it, a little less.
    let declared_len = content_length(&parts.headers).map(|len| match boundary {
        Some(_) => len.saturating_sub(MULTIPART_OVERHEAD as u64),
        None => len,
    });
    if let Err(refused) = check(declared_len).await {
        let mut res = ApiError::from(refused).into_response();
        res.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        return Ok(Upload::Refused(res));
    }
    let read = tokio::time::timeout(
        body::time_allowed(max + MULTIPART_OVERHEAD),
        receive(app, incoming, boundary, declared, max),
    );
    let (staged, declared) = read.await.map_err(|_| ApiError::timeout())??;
    Ok(Upload::Staged(staged, declared))
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Streams the file of an upload body to a staging file as it arrives: the whole body, or the
/// `file` field of a multipart form (with its declared type), refused with 413 `too_large` as
/// soon as it passes `max` bytes. Nothing but the bytes in flight is held in memory; on any
/// error (including the client going away) the staging file is removed.
async fn receive(
    app: &App,
    incoming: RequestBody,
    boundary: Option<String>,
    declared: Option<String>,
    max: usize,
) -> Result<(Staged, Option<String>), ApiError> {
    let mut staging = app.chat().stage_upload().await?;
    let Some(boundary) = boundary else {
        let mut incoming = incoming;
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(|e| {
                ApiError::invalid("file", format!("could not read the upload: {e}"))
            })?;
            if let Ok(data) = frame.into_data() {
                staging.write(&data).await?;
            }
        }
        return Ok((staging.finish().await?, declared));
    };
    let limits = multer::SizeLimit::new()
        .whole_stream((max + MULTIPART_OVERHEAD) as u64)
        .per_field(max as u64);
    let mut form = multer::Multipart::with_constraints(
        incoming.into_data_stream(),
        boundary,
        multer::Constraints::new().size_limit(limits),
    );
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(e, max))?
    {
        if field.name() == Some("file") {
            let declared = field.content_type().map(ToString::to_string);
            while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, max))? {
                staging.write(&chunk).await?;
            }
            return Ok((staging.finish().await?, declared));
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

/// `GET /api/v1/media/{id}` (or `…/thumbnail`) → 200 the bytes, 206 a `Range` of them, 304 when
/// `If-None-Match` names them; 404 for anyone who may not see them.
pub async fn download(
    app: &App,
    mut req: Request,
    id: MediaId,
    variant: MediaVariant,
) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let (media, file) = app.chat().open_media(&me.actor, id, variant).await?;
    let (mime, etag) = match variant {
        MediaVariant::Original => (media.mime.as_str(), format!("\"{}\"", media.sha256)),
        MediaVariant::Thumbnail => (
            media
                .details
                .thumbnail_mime
                .as_deref()
                .unwrap_or("application/octet-stream"),
            format!("\"{}-thumbnail\"", media.sha256),
        ),
    };
    let name = format!("media-{}.{}", media.id, extension(mime));
    serve(req.headers(), file, mime, &etag, &name).await
}

/// The response for stored bytes of type `mime` (which comes from chatcore: a fixed list)
/// known by `etag`: 200 the bytes, 206 the `Range` the request `headers` ask for, 304 when
/// `If-None-Match` names them; with the headers that keep a browser from running them
/// (`nosniff` comes with every response) and let it cache them for good.
pub(crate) async fn serve(
    headers: &HeaderMap,
    file: MediaFile,
    mime: &str,
    etag: &str,
    file_name: &str,
) -> HandlerResult {
    let unchanged = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if unchanged {
        status_only(StatusCode::NOT_MODIFIED)
    } else {
        let range = headers.get(RANGE).and_then(|v| v.to_str().ok());
        match wanted(range, file.len) {
            Wanted::Whole => {
                let end = file_end(file.len);
                stream(file, 0, end).await?
            }
            Wanted::Part { start, end } => {
                let len = file.len;
                let mut res = stream(file, start, end).await?;
                *res.status_mut() = StatusCode::PARTIAL_CONTENT;
                insert(
                    &mut res,
                    CONTENT_RANGE,
                    &format!("bytes {start}-{end}/{len}"),
                );
                res
            }
            Wanted::Unsatisfiable => {
                let mut res = status_only(StatusCode::RANGE_NOT_SATISFIABLE);
                insert(&mut res, CONTENT_RANGE, &format!("bytes */{}", file.len));
                res
            }
        }
    };
    let headers = res.headers_mut();
    // The mime comes from chatcore (a fixed list), so it is always a valid value.
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    insert(
        &mut res,
        CONTENT_DISPOSITION,
        &format!("inline; filename=\"{file_name}\""),
    );
    insert(&mut res, ETAG, etag);
    let headers = res.headers_mut();
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
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

/// The last byte of a file of `len` bytes (an empty file streams nothing).
fn file_end(len: u64) -> u64 {
    len.saturating_sub(1)
}

/// A response streaming bytes `start..=end` of `file`, [`CHUNK`] at a time: at most one chunk
/// of it is in memory, however large the file and however slow the reader.
async fn stream(file: MediaFile, start: u64, end: u64) -> Result<Response, ApiError> {
    let MediaFile { len, mut reader } = file;
    let count = if len == 0 { 0 } else { end - start + 1 };
    reader
        .seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(|e| ApiError::internal(format!("cannot seek in media: {e}")))?;
    let chunks = tokio_util::io::ReaderStream::with_capacity(reader.take(count), CHUNK);
    let body = StreamBody::new(chunks.map_ok(Frame::data)).boxed_unsync();
    let mut res = ::http::Response::new(body);
    res.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(count));
    Ok(res)
}

fn status_only(status: StatusCode) -> Response {
    let mut res = ::http::Response::new(http::full(Bytes::new()));
    *res.status_mut() = status;
    res
}

fn insert(res: &mut Response, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        res.headers_mut().insert(name, value);
    }
}

/// The usual file name extension of a type chatcore stores.
pub(crate) fn extension(mime: &str) -> &'static str {
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
        _ => "bin",
    }
}

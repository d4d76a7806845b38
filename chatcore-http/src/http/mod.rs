//! HTTP plumbing shared by every route: bodies with limits, errors, cookies, headers. The
//! origin policy and the WebSocket handshake are `chatcore_ws`'s.

pub mod body;
pub mod cookies;
pub mod error;
pub mod query;
pub mod range;

use ::http::StatusCode;
use ::http::header::{CONTENT_TYPE, HeaderValue};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use serde::Serialize;

pub use error::ApiError;

/// The request type every handler receives.
pub type Request = ::http::Request<RequestBody>;

/// A request body of any type, boxed: what the host's server hands over (hyper's `Incoming`,
/// axum's `Body`, …) becomes this once, at the service's edge.
pub type RequestBody = UnsyncBoxBody<Bytes, BodyError>;

/// Any error, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why the host's server failed to deliver a request body (its own error inside). A concrete
/// type rather than [`BoxError`] itself, so the handlers' futures are provably `Send`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BodyError(BoxError);

impl BodyError {
    /// Wraps the server's error.
    pub fn new(err: impl Into<BoxError>) -> Self {
        BodyError(err.into())
    }
}

/// The response body: a complete buffer for every response but media downloads, which stream
/// from their file.
pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A body of `bytes`, complete.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// The response type every handler returns.
pub type Response = ::http::Response<Body>;

/// What a handler returns: a response, or an error that becomes the JSON error shape.
pub type HandlerResult = Result<Response, ApiError>;

/// A JSON response with the given status.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut res = ::http::Response::new(full(bytes));
            *res.status_mut() = status;
            res.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res
        }
        Err(e) => ApiError::internal(format!("could not encode the response: {e}")).into_response(),
    }
}

/// `200 OK` with a JSON body.
pub fn ok<T: Serialize + ?Sized>(value: &T) -> Response {
    json(StatusCode::OK, value)
}

/// `201 Created` with a JSON body.
pub fn created<T: Serialize + ?Sized>(value: &T) -> Response {
    json(StatusCode::CREATED, value)
}

/// `204 No Content`.
pub fn no_content() -> Response {
    let mut res = ::http::Response::new(full(Bytes::new()));
    *res.status_mut() = StatusCode::NO_CONTENT;
    res
}

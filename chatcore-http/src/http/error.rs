//! The one error shape of the API: `{"error":{"code","message","field"?}}` with its status.

use std::time::Duration;

use ::http::StatusCode;
use ::http::header::{HeaderValue, RETRY_AFTER};
use serde::Serialize;

use super::Response;

/// An error on its way to the client. Built from a [`chatcore::Error`] or by the HTTP layer
/// itself (bad JSON, body too large, foreign origin, …).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<&'static str>,
    retry_after: Option<Duration>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// 400 `bad_json`: the body is not the JSON this route expects.
    pub fn bad_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_json", message)
    }

    /// 400 `invalid` about one request field (query parameters, ids).
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid", message)
        }
    }

    /// 400 `invalid` about the request as a whole, no one field (e.g. a change of nothing).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    /// 401 `unauthenticated`.
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "not logged in")
    }

    /// 403 `bad_origin`: a browser request from a page the server does not trust.
    pub fn bad_origin() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "bad_origin",
            "request from a foreign origin refused",
        )
    }

    /// 404 `not_found`.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "not found")
    }

    /// 405 `method_not_allowed`: the path exists, the method does not.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed on this path",
        )
    }

    /// 408 `timeout`: the request body did not arrive in time.
    pub fn timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request body arrived too slowly",
        )
    }

    /// 413 `too_large`.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request body is larger than {limit} bytes"),
        )
    }

    /// 415 `unsupported_media`: the request body has a content type this route does not take.
    pub fn unsupported_content_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media",
            format!("expected {expected}"),
        )
    }

    /// 429 `rate_limited` with `Retry-After`.
    pub fn rate_limited(retry_after: Duration) -> Self {
        chatcore::Error::RateLimited { retry_after }.into()
    }

    /// 500 `internal`; the detail is logged, never sent.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable machine-readable code, e.g. `"bad_json"`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The JSON error response.
    pub fn into_response(self) -> Response {
        let envelope = Envelope {
            error: Body {
                code: self.code,
                message: &self.message,
                field: self.field,
            },
        };
        let mut res = super::json(self.status, &envelope);
        if let Some(after) = self.retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            res.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        res
    }
}

impl From<chatcore_ws::UpgradeError> for ApiError {
    fn from(err: chatcore_ws::UpgradeError) -> Self {
        if err.status().is_server_error() {
            return ApiError::internal(err);
        }
        ApiError {
            field: err.field(),
            ..Self::new(err.status(), err.code(), err.to_string())
        }
    }
}

impl From<chatcore_ws::BadOrigin> for ApiError {
    fn from(_: chatcore_ws::BadOrigin) -> Self {
        ApiError::bad_origin()
    }
}

impl From<chatcore::Error> for ApiError {
    fn from(err: chatcore::Error) -> Self {
        use chatcore::Error as E;
        let status = match &err {
            E::Invalid { .. } => StatusCode::BAD_REQUEST,
            E::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            E::Forbidden(_) => StatusCode::FORBIDDEN,
            E::NotFound(_) => StatusCode::NOT_FOUND,
            E::Conflict { .. } => StatusCode::CONFLICT,
            E::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            E::TooLarge { .. }
            | E::TooManyPixels { .. }
            | E::TooLong { .. }
            | E::QuotaExceeded { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            E::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            E::Rejected(_) | E::UnknownKind(_) => StatusCode::UNPROCESSABLE_ENTITY,
            E::AssistantUnavailable(_) | E::Storage(_) | E::Busy { .. } | E::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        // A busy refusal is load shedding and a shutdown refusal expected, not failures:
        // logging each would flood the log.
        if status.is_server_error() && !matches!(err, E::Busy { .. } | E::Unavailable(_)) {
            // The source chain (database errors) goes to the log only.
            tracing::error!(error = %err, source = ?std::error::Error::source(&err), "request failed");
        }
        let retry_after = err.retry_after();
        let message = match &err {
            E::Invalid { reason, .. } => reason.clone(),
            _ if status == StatusCode::INTERNAL_SERVER_ERROR => "internal error".to_owned(),
            other => other.to_string(),
        };
        ApiError {
            status,
            code: err.code(),
            message,
            field: err.field(),
            retry_after,
        }
    }
}

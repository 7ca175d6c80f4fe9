//! What the serve layer answers when a call fails, and the small helpers
//! every endpoint uses to answer JSON.
//!
//! Errors are OpenAI-shaped (`{"error": {"message", "type", "param",
//! "code"}}`); `anthropic` reshapes them for `/v1/messages`.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use super::Body;

/// An error answered to the client, OpenAI-shaped.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// OpenAI error type (`invalid_request_error`, `authentication_error`, …).
    pub kind: &'static str,
    /// Machine-readable code (`request_blocked`, `body_too_large`, …).
    pub code: &'static str,
    /// What happened, for a human.
    pub message: String,
    /// Headers to send with it (a quota's `Retry-After` and
    /// `x-ratelimit-*`).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    pub(super) fn new(
        status: StatusCode,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            kind,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub(super) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            message,
        )
    }

    pub(super) fn body(&self) -> Value {
        json!({"error": {"message": self.message, "type": self.kind, "param": null, "code": self.code}})
    }

    pub(super) fn response(&self) -> Response<Body> {
        let mut r = json_response(self.status, &self.body());
        if self.status == StatusCode::SERVICE_UNAVAILABLE
            || self.status == StatusCode::TOO_MANY_REQUESTS
        {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        add_headers(&mut r, &self.headers);
        r
    }
}

pub(super) fn add_headers(r: &mut Response<Body>, headers: &[(&'static str, String)]) {
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            r.headers_mut().insert(*name, v);
        }
    }
}

pub(super) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

pub(super) fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    json_bytes(status, value.to_string())
}

/// A JSON body already serialised (an upstream's answer passed on).
pub(super) fn json_bytes(status: StatusCode, bytes: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(full(bytes));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(super) fn audit_error(e: crate::audit::AuditError) -> ApiError {
    tracing::error!(error = %e, "audit log refused a record: the request fails");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "server_error",
        "audit_unavailable",
        format!(
            "the decision could not be recorded in the audit log, so the request is refused: {e}"
        ),
    )
}

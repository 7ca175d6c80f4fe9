//! Reading a request: its JSON body within the size and time limits, and
//! its request id.

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header;
use hyper::{Request, StatusCode};
use serde_json::Value;

use super::{ApiError, State};
use crate::payload::new_request_id;

/// The largest declared body read and dropped before a 413 is answered
/// (see `read_json`); a larger one is answered at once.
const DRAIN_MAX_BYTES: usize = 16 << 20;

/// Reads a JSON request body within the size and time limits.
pub(super) async fn read_json(state: &State, req: Request<Incoming>) -> Result<Value, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            "unsupported_media_type",
            format!(
                "the body must be JSON with `Content-Type: application/json` (got `{}`)",
                if content_type.is_empty() {
                    "none"
                } else {
                    content_type
                }
            ),
        ));
    }
    let limit = state.config.limits.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "body_too_large",
            format!(
                "the request body is larger than this server's limit of {limit} bytes ([limits] max-body-kib)"
            ),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = declared.filter(|n| *n > limit) {
        // Read the body and drop it before answering (bounded in bytes and
        // time): a server that answers and closes while the client is
        // still sending leaves unread bytes in its socket, the close turns
        // into a reset, and the client can lose the 413 for "server
        // disconnected" (seen with the openai client on a busy machine).
        if n <= DRAIN_MAX_BYTES {
            let mut body = req.into_body();
            let _ = tokio::time::timeout(state.config.limits.body_timeout, async {
                while let Some(Ok(_)) = body.frame().await {}
            })
            .await;
        }
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), limit);
    let collected = tokio::time::timeout(state.config.limits.body_timeout, body.collect()).await;
    let bytes = match collected {
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "invalid_request_error",
                "body_timeout",
                format!(
                    "the request body did not arrive within {} ms",
                    state.config.limits.body_timeout.as_millis()
                ),
            ));
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Ok(Err(e)) => {
            return Err(ApiError::bad_request(
                "body_unreadable",
                format!("the request body could not be read: {e}"),
            ));
        }
        Ok(Ok(c)) => c.to_bytes(),
    };
    if let Err(e) = std::str::from_utf8(&bytes) {
        return Err(ApiError::bad_request(
            "invalid_utf8",
            format!(
                "the request body is not valid UTF-8 (first bad byte at offset {})",
                e.valid_up_to()
            ),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("the request body is not valid JSON: {e}"),
        )
    })
}

/// The request id: the caller's `x-request-id` when it is sane, else new.
pub(super) fn request_id(req: &Request<Incoming>) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(new_request_id)
}

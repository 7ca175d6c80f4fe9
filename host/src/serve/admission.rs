//! Admission: whether a caller's call may start now. The server-wide and
//! per-caller concurrency limits (503 and 429 at once, never a queue), and
//! the quotas (`quota`: requests and tokens per minute).

use hyper::StatusCode;
use tokio::sync::OwnedSemaphorePermit;

use super::access::CallerId;
use super::{ApiError, State, quota};

/// The concurrency slots a call holds until its answer (or its stream)
/// ends: the server's, and the caller's when it has a limit of its own.
pub(super) type Permits = (OwnedSemaphorePermit, Option<OwnedSemaphorePermit>);

/// Takes the call's concurrency slots, or refuses it: 503 when the server
/// is at its limit, 429 when the caller is at its own.
pub(super) fn permits(state: &State, caller: &CallerId) -> Result<Permits, ApiError> {
    let permit = state.concurrency.clone().try_acquire_owned().map_err(|_| {
        state.metrics.refused("overloaded");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "overloaded",
            format!(
                "the server is handling its limit of {} requests; retry shortly",
                state.config.limits.max_concurrency
            ),
        )
    })?;
    let caller_permit = match state.per_caller.get(&caller.name) {
        Some(s) => Some(s.clone().try_acquire_owned().map_err(|_| {
            state.metrics.refused("caller_concurrency");
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "too_many_requests",
                format!("caller `{}` has too many requests in flight", caller.name),
            )
        })?),
        None => None,
    };
    Ok((permit, caller_permit))
}

/// The call's quotas (see `quota`): admitted with its standing, or 429
/// with `Retry-After` and the `x-ratelimit-*` headers.
pub(super) async fn admit(
    state: &State,
    caller: &CallerId,
    cost: quota::Cost,
) -> Result<quota::Standing, ApiError> {
    if !state.quotas.applies(&caller.name) {
        state.metrics.admitted(&caller.name, cost.tokens);
        return Ok(quota::Standing::default());
    }
    state
        .quotas
        .check(&caller.name, cost)
        .await
        .inspect(|_| state.metrics.admitted(&caller.name, cost.tokens))
        .map_err(|d| {
            let r = match d {
                quota::Denial::Over(r) => r,
                quota::Denial::Unavailable(why) => {
                    state.metrics.refused("quota_backend_unavailable");
                    return ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "server_error",
                        "quota_backend_unavailable",
                        format!("the quota backend cannot be reached ({why}); retry shortly"),
                    );
                }
            };
            state.metrics.refused(if r.what == "tokens" {
                "tokens_per_minute"
            } else {
                "requests_per_minute"
            });
            let whose = match r.scope {
                "caller" => format!("caller `{}`", caller.name),
                _ => "this server".to_string(),
            };
            let (message, retry) = match r.retry_after {
                Some(wait) => (
                    format!(
                        "{whose} is over its quota of {} {} per minute; retry in {:.1} s",
                        r.limit,
                        r.what,
                        wait.as_secs_f64()
                    ),
                    wait.as_secs_f64().ceil().max(1.0) as u64,
                ),
                None => (
                    format!(
                        "this call needs more {} than {whose}'s whole per-minute quota of {} (lower max_tokens or split the prompt)",
                        r.what, r.limit
                    ),
                    60,
                ),
            };
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                if r.what == "tokens" {
                    "tokens_per_minute_exceeded"
                } else {
                    "requests_per_minute_exceeded"
                },
                message,
            );
            e.headers = r.standing.headers();
            e.headers.push(("retry-after", retry.to_string()));
            e
        })
}

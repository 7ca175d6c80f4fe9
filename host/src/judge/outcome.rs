//! How a blocking judgement that gave no verdict shows in the router's
//! `decisions` row, and how the caller is told when the judge was
//! saturated rather than the request judged.
//!
//! The router plugin itself ran fine, but the decision it stands for (send
//! this to a judge, and let the verdict decide) did not happen: its row
//! gets an `outcome` naming why (`judge-timeout`, `judge-error`,
//! `judge-saturated`), the `failure_mode` that applied (`fail-open` or
//! `fail-closed`) and the judge's error, so the `decisions` table alone
//! says that a call passed (or was refused) without a verdict.

use super::{Ran, Status};
use crate::pipeline::{Evaluation, Outcome, PluginDecision};
use crate::policy::FailureMode;
use crate::verdict::Action;

/// The `outcome` of a router whose blocking judgement found the judge
/// over its budget (queue full, or no free slot within the budget).
pub const JUDGE_SATURATED: &str = "judge-saturated";
/// …whose judge gave no answer in time.
pub const JUDGE_TIMEOUT: &str = "judge-timeout";
/// …whose judge could not be asked or answered something unreadable.
pub const JUDGE_ERROR: &str = "judge-error";

/// Marks the router's decision `d` with the failed judgement `ran` and the
/// failure mode applied (`fail-open` or `fail-closed`; `disabled` is not a
/// judging failure mode and counts as closed).
pub(super) fn judge_failed(d: &mut PluginDecision, judge: &str, ran: &Ran, mode: FailureMode) {
    let handled = match mode {
        FailureMode::FailOpen => FailureMode::FailOpen,
        _ => FailureMode::FailClosed,
    };
    let fault = if ran.saturated {
        JUDGE_SATURATED
    } else if ran.status == Status::Timeout {
        JUDGE_TIMEOUT
    } else {
        JUDGE_ERROR
    };
    d.outcome = Outcome::Failed { fault, handled };
    d.failure_mode = Some(handled);
    let error = format!(
        "judge `{judge}`: {}: {}",
        ran.status.as_str(),
        ran.error.as_deref().unwrap_or("")
    );
    d.error = Some(match d.error.take() {
        Some(e) => format!("{e}; {error}"),
        None => error,
    });
    if handled == FailureMode::FailOpen {
        let said = format!(
            "judge `{judge}` gave no verdict ({}); fail-open: allowed",
            ran.status.as_str()
        );
        d.reason = if d.reason.is_empty() {
            said
        } else {
            format!("{}; {said}", d.reason)
        };
    }
}

/// Whether `e` blocks only because judges were saturated (every blocking
/// decision is a router whose judge was over its budget, fail-closed): the
/// caller is refused for capacity (`judge_saturated`, 503), not told the
/// request was judged and blocked.
pub fn blocked_for_saturation(e: &Evaluation) -> bool {
    e.action == Action::Block
        && e.decisions
            .iter()
            .filter(|d| d.action == Action::Block)
            .all(|d| {
                matches!(
                    d.outcome,
                    Outcome::Failed {
                        fault: JUDGE_SATURATED,
                        ..
                    }
                )
            })
}

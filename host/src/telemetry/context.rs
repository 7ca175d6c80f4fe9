//! The W3C `traceparent` header: read with the OpenTelemetry SDK's
//! TraceContext propagator (which validates version, lengths, hex and
//! non-zero ids), written in the version-00 form every tracer reads.

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry_sdk::propagation::TraceContextPropagator;

/// A caller's valid `traceparent`: the remote span this call continues.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceParent(SpanContext);

impl TraceParent {
    /// The remote span context.
    pub fn context(&self) -> SpanContext {
        self.0.clone()
    }
}

struct One<'a>(&'a str);

impl Extractor for One<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == "traceparent").then_some(self.0)
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent"]
    }
}

/// `value` as a trace context; `None` when it is not a valid
/// `traceparent` (then the call starts a trace of its own, as the W3C
/// recommendation says a receiver should).
pub fn parse_traceparent(value: &str) -> Option<TraceParent> {
    let value = value.trim();
    if !field_lengths_hold(value) {
        return None;
    }
    let cx = TraceContextPropagator::new().extract(&One(value));
    let sc = cx.span().span_context().clone();
    sc.is_valid().then_some(TraceParent(sc))
}

/// The W3C field widths (2-32-16-2 hex digits): the propagator reads
/// ids as numbers and would take a short one.
fn field_lengths_hold(value: &str) -> bool {
    let mut fields = value.split('-');
    [2, 32, 16, 2]
        .iter()
        .all(|&n| fields.next().is_some_and(|f| f.len() == n))
}

/// `00-<trace id>-<span id>-<flags>`.
pub fn format_traceparent(sc: &SpanContext) -> String {
    format!(
        "00-{}-{}-{:02x}",
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().to_u8()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_round_trips_and_bad_ones_are_ignored() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let p = parse_traceparent(tp).unwrap();
        assert_eq!(format_traceparent(&p.context()), tp);
        assert!(p.context().is_remote());
        for bad in [
            "",
            "garbage",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad}");
        }
    }
}

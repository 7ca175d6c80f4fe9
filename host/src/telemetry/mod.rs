//! Traces: every call is one W3C trace context, continued from the
//! caller's `traceparent` (or started here), handed on to the upstream and
//! to HTTP judges, written in the call's `inferences` row, and returned to
//! the caller. When an OTLP endpoint is configured, spans per call, per
//! stage, per plugin call, per upstream call and per judge call are
//! exported over OTLP/HTTP (protobuf) by the OpenTelemetry SDK's batch
//! processor, on its own thread.
//!
//! Without an endpoint nothing is exported and no span is built: a call
//! costs one header parse (or two random ids) and a formatted header.
//!
//! The span tree of one proxied call:
//!
//! ```text
//! railyard.call            server span, parent = the caller's traceparent
//! ├─ railyard.stage        request rails (evaluation time)
//! │  └─ railyard.plugin    one per plugin the stage ran
//! ├─ railyard.judge        one per judge call (its traceparent)
//! ├─ railyard.upstream     client span: sent → response headers (its traceparent)
//! └─ railyard.stage        response rails
//!    └─ railyard.plugin
//! ```
//!
//! Stage and plugin spans are placed after the evaluation from its
//! measured latencies (the stage ends when its evaluation returned; the
//! plugins of a stage run one after another from its start), so the hot
//! path carries no span bookkeeping. A streamed answer's response stage
//! lasts the guard's total time on the stream and ends with it.
//!
//! Layering: this module is a leaf (it uses only the payload and pipeline
//! types), so `judge` and `serve` both use it.

mod context;

pub use context::{TraceParent, format_traceparent, parse_traceparent};

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Span as _, SpanContext, SpanKind, Status, TraceContextExt, TraceFlags, TraceState, Tracer as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SdkTracer, SdkTracerProvider};

use crate::evaluation::Evaluation;

/// The exporter, once [`init`] configured one.
static EXPORT: OnceLock<(SdkTracerProvider, SdkTracer)> = OnceLock::new();

/// Where spans go: `[telemetry] otlp-endpoint` in serve.toml (a base
/// URL; `/v1/traces` is appended, as for `OTEL_EXPORTER_OTLP_ENDPOINT`),
/// else the standard `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` /
/// `OTEL_EXPORTER_OTLP_ENDPOINT` variables; none of them: no export.
/// Returns the endpoint in use. The batch processor honours the standard
/// `OTEL_BSP_*` variables (schedule delay, queue and batch sizes).
pub fn init(configured: Option<&str>) -> anyhow::Result<Option<String>> {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    let var = |v: &str| std::env::var(v).ok().filter(|s| !s.trim().is_empty());
    let traces_url = |base: &str| format!("{}/v1/traces", base.trim_end_matches('/'));
    // The SDK reads the variables itself; this says what it will use.
    let endpoint = match configured {
        Some(base) => Some(traces_url(base)),
        None => var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT").map(|b| traces_url(&b))),
    };
    let Some(endpoint) = endpoint else {
        return Ok(None);
    };
    let mut builder = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary);
    if configured.is_some() {
        builder = builder.with_endpoint(endpoint.clone());
    }
    let exporter = builder
        .build()
        .map_err(|e| anyhow::anyhow!("OTLP exporter for {endpoint}: {e}"))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name("railyard")
                .build(),
        )
        .build();
    let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "railyard");
    EXPORT
        .set((provider, tracer))
        .map_err(|_| anyhow::anyhow!("telemetry is already initialised"))?;
    Ok(Some(endpoint))
}

/// Exports what is batched and stops the exporter (server shutdown).
pub fn shutdown(timeout: Duration) -> Result<(), String> {
    match EXPORT.get() {
        Some((provider, _)) => provider
            .shutdown_with_timeout(timeout)
            .map_err(|e| format!("exporting the last spans: {e}")),
        None => Ok(()),
    }
}

fn tracer() -> Option<&'static SdkTracer> {
    EXPORT.get().map(|(_, t)| t)
}

fn random_ids() -> &'static RandomIdGenerator {
    static IDS: OnceLock<RandomIdGenerator> = OnceLock::new();
    IDS.get_or_init(RandomIdGenerator::default)
}

fn context_of(parent: &SpanContext) -> Context {
    Context::new().with_remote_span_context(parent.clone())
}

/// One call's trace: its own span context (the `traceparent` returned to
/// the caller) and, when exporting, its span, ended when the last holder
/// (the request handler, a streamed answer's task) lets go.
pub struct CallTrace {
    context: SpanContext,
    span: Mutex<Option<opentelemetry_sdk::trace::Span>>,
}

tokio::task_local! {
    static CALL: Arc<CallTrace>;
}

impl CallTrace {
    /// Starts the call `name` as a child of `caller` (a parsed
    /// `traceparent`), or as a new trace.
    pub fn begin(name: &'static str, caller: Option<TraceParent>, request_id: &str) -> CallTrace {
        let parent = caller.map(|p| p.context());
        if let Some(t) = tracer() {
            let cx = parent.as_ref().map(context_of).unwrap_or_default();
            let span = t
                .span_builder(name)
                .with_kind(SpanKind::Server)
                .with_attributes([KeyValue::new("railyard.request_id", request_id.to_string())])
                .start_with_context(t, &cx);
            return CallTrace {
                context: span.span_context().clone(),
                span: Mutex::new(Some(span)),
            };
        }
        let ids = random_ids();
        let (trace_id, flags) = match &parent {
            Some(p) => (p.trace_id(), p.trace_flags()),
            None => (ids.new_trace_id(), TraceFlags::SAMPLED),
        };
        CallTrace {
            context: SpanContext::new(
                trace_id,
                ids.new_span_id(),
                flags,
                false,
                TraceState::default(),
            ),
            span: Mutex::new(None),
        }
    }

    /// Runs `f` as this call: [`current`] sees it.
    pub async fn scope<F: Future>(self: Arc<Self>, f: F) -> F::Output {
        CALL.scope(self, f).await
    }

    /// The call's span context.
    pub fn context(&self) -> &SpanContext {
        &self.context
    }

    /// The trace id, 32 lowercase hex digits (the `inferences` row's).
    pub fn trace_id(&self) -> String {
        self.context.trace_id().to_string()
    }

    /// The `traceparent` naming this call's span.
    pub fn traceparent(&self) -> String {
        format_traceparent(&self.context)
    }

    /// Sets an attribute of the call span (when exporting).
    pub fn set_attribute(&self, kv: KeyValue) {
        if let Some(span) = self.span.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            span.set_attribute(kv);
        }
    }
}

impl Drop for CallTrace {
    fn drop(&mut self) {
        if let Some(mut span) = self
            .span
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            span.end();
        }
    }
}

/// The call the running task serves, if any.
pub fn current() -> Option<Arc<CallTrace>> {
    CALL.try_with(Arc::clone).ok()
}

/// A span under a call (an upstream or judge call): its context is the
/// `traceparent` sent with the request it stands for.
pub struct Child {
    context: SpanContext,
    span: Option<opentelemetry_sdk::trace::Span>,
}

impl Child {
    /// Starts `name` under `parent` (a call's span context).
    pub fn start(parent: &SpanContext, name: &'static str, kind: SpanKind) -> Child {
        if let Some(t) = tracer() {
            let span = t
                .span_builder(name)
                .with_kind(kind)
                .start_with_context(t, &context_of(parent));
            return Child {
                context: span.span_context().clone(),
                span: Some(span),
            };
        }
        Child {
            context: SpanContext::new(
                parent.trace_id(),
                random_ids().new_span_id(),
                parent.trace_flags(),
                false,
                TraceState::default(),
            ),
            span: None,
        }
    }

    /// The `traceparent` header value naming this span.
    pub fn traceparent(&self) -> String {
        format_traceparent(&self.context)
    }

    /// Ends the span with `attributes`, an error status when `error`.
    pub fn end(mut self, attributes: Vec<KeyValue>, error: Option<String>) {
        if let Some(mut span) = self.span.take() {
            span.set_attributes(attributes);
            if let Some(e) = error {
                span.set_status(Status::error(e));
            }
            span.end();
        }
    }
}

/// Records one evaluation that ended just now as a stage span under the
/// current call, with a child span per plugin it ran; nothing when not
/// exporting.
pub fn stage(evaluation: &Evaluation) {
    let (Some(t), Some(call)) = (tracer(), current()) else {
        return;
    };
    let end = SystemTime::now();
    let start = end
        .checked_sub(Duration::from_micros(evaluation.latency_us))
        .unwrap_or(end);
    let mut stage = t
        .span_builder("railyard.stage")
        .with_start_time(start)
        .with_attributes([
            KeyValue::new("railyard.stage", evaluation.stage.as_str()),
            KeyValue::new("railyard.policy", evaluation.policy.clone()),
            KeyValue::new("railyard.policy_digest", evaluation.policy_digest.clone()),
            KeyValue::new("railyard.action", evaluation.action.as_str()),
        ])
        .start_with_context(t, &context_of(call.context()));
    let stage_cx = context_of(stage.span_context());
    let mut at = start;
    for d in &evaluation.decisions {
        let done = at + Duration::from_micros(d.latency_us);
        let mut span = t
            .span_builder("railyard.plugin")
            .with_start_time(at)
            .with_attributes([
                KeyValue::new("railyard.plugin", d.plugin.clone()),
                KeyValue::new("railyard.plugin_name", d.plugin_name.clone()),
                KeyValue::new("railyard.plugin_version", d.plugin_version.clone()),
                KeyValue::new("railyard.plugin_digest", d.plugin_digest.to_string()),
                KeyValue::new("railyard.action", d.action.as_str()),
                KeyValue::new("railyard.outcome", format!("{:?}", d.outcome)),
            ])
            .start_with_context(t, &stage_cx);
        if let Some(e) = &d.error {
            span.set_status(Status::error(e.clone()));
        }
        span.end_with_timestamp(done.min(end));
        at = done;
    }
    stage.end_with_timestamp(end);
}

//! One bounded call of a plugin, and validation of what it returns.
//!
//! Every call gets a fresh store and instance (or, for a policy entry that
//! opts in with `reuse = true`, an instance kept from an earlier successful
//! call: see [`InstancePool`]), an epoch deadline, a memory cap and an
//! input-size check. Whatever goes wrong — a trap, a deadline, a
//! limit, an `Err` from the plugin, or output that breaks the contract — comes
//! back as a typed [`CallFault`]; the pipeline applies the failure mode.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::InstancePre;

use super::PluginLimits;
use super::bindings::{guardrail, judge_router, pii_detector, wit};
use super::{LoadError, LoadedPlugin, PluginInfo, PluginKind, PluginState};
use crate::engine::RailyardEngine;
use crate::payload::{Payload, Stage};
use crate::verdict::{Action, Finding, JudgeMode, JudgeRequest, Span, Verdict};

/// Findings one call may return; more is a runaway plugin.
const MAX_FINDINGS: usize = 10_000;
/// Judge requests one call may return.
const MAX_JUDGE_REQUESTS: usize = 64;
/// Longest identifier (rule id, category, judge, rubric name) accepted.
const MAX_IDENT: usize = 256;
/// Longest free text (reason, replacement) accepted.
const MAX_TEXT: usize = 16 * 1024;
/// Bytes of a fault message kept.
const MAX_FAULT: usize = 2048;
/// Deadline and memory for the `info()` call made at load.
const INFO_TIMEOUT: Duration = Duration::from_secs(1);
const INFO_MEMORY: u64 = 64 << 20;

pub(crate) enum KindPre {
    Guardrail(guardrail::GuardrailPre<PluginState>),
    PiiDetector(pii_detector::PiiDetectorPre<PluginState>),
    JudgeRouter(judge_router::JudgeRouterPre<PluginState>),
}

impl KindPre {
    pub(crate) fn new(kind: PluginKind, pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        Ok(match kind {
            PluginKind::Guardrail => KindPre::Guardrail(guardrail::GuardrailPre::new(pre)?),
            PluginKind::PiiDetector => {
                KindPre::PiiDetector(pii_detector::PiiDetectorPre::new(pre)?)
            }
            PluginKind::JudgeRouter => {
                KindPre::JudgeRouter(judge_router::JudgeRouterPre::new(pre)?)
            }
        })
    }
}

/// A payload converted once into the WIT types and shared by every plugin
/// of a stage (the payload does not change between them: redaction is
/// applied once, after the stage).
pub struct StageInput {
    wit: wit::Payload,
    input_bytes: usize,
}

impl AsRef<str> for wit::Message {
    fn as_ref(&self) -> &str {
        &self.content
    }
}

impl StageInput {
    /// The payload as the plugins see it.
    pub(crate) fn wit(&self) -> &wit::Payload {
        &self.wit
    }

    /// Converts `payload`.
    pub fn new(payload: &Payload) -> Self {
        StageInput {
            wit: wit::Payload {
                request_id: payload.request_id.clone(),
                stage: match payload.stage {
                    Stage::Request => wit::Stage::Request,
                    Stage::Response => wit::Stage::Response,
                    Stage::StreamChunk => wit::Stage::StreamChunk,
                },
                route: payload.route.clone(),
                caller: payload.caller.clone(),
                messages: payload
                    .messages
                    .iter()
                    .map(|m| wit::Message {
                        role: m.role.clone(),
                        content: m.content.clone(),
                    })
                    .collect(),
                attributes: payload.attributes.clone(),
            },
            input_bytes: payload.input_bytes(),
        }
    }

    /// Bytes compared against a plugin's input cap.
    pub fn input_bytes(&self) -> usize {
        self.input_bytes
    }
}

/// What a successful call returned, validated.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutput {
    /// From a guardrail.
    Verdict(Verdict),
    /// From a PII detector.
    Findings(Vec<Finding>),
    /// From a judge router.
    JudgeRequests(Vec<JudgeRequest>),
}

/// Why a call produced no usable output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFault {
    /// The payload is larger than the plugin's input cap; it was not called.
    #[error("payload is {bytes} bytes; this plugin's input limit is {limit} bytes")]
    InputTooLarge {
        /// Payload size.
        bytes: usize,
        /// The cap.
        limit: usize,
    },
    /// The epoch deadline passed.
    #[error("did not finish within {timeout_ms} ms")]
    TimedOut {
        /// The deadline.
        timeout_ms: u64,
    },
    /// The plugin tried to grow memory past its cap.
    #[error("{0}")]
    MemoryLimit(String),
    /// The plugin trapped (panic, abort, unreachable, out of bounds…), or
    /// could not be instantiated.
    #[error("trapped: {0}")]
    Trapped(String),
    /// The plugin returned `Err`.
    #[error("plugin returned an error: {0}")]
    PluginError(String),
    /// The plugin returned output that breaks the contract.
    #[error("invalid output: {0}")]
    InvalidOutput(String),
    /// No instance could be made: the engine's instance pool is in use to
    /// its limit (`RAILYARD_POOL_INSTANCES`). Nothing about the plugin is
    /// wrong; the host is at capacity.
    #[error("no free instance: {0}")]
    PoolExhausted(String),
    /// The plugin used up its fuel budget (only on a metered engine: the
    /// conformance harness).
    #[error("ran out of fuel: used more than its budget of {budget} units")]
    OutOfFuel {
        /// The budget.
        budget: u64,
    },
}

impl CallFault {
    /// The outcome name recorded for this fault.
    pub fn outcome(&self) -> &'static str {
        match self {
            CallFault::InputTooLarge { .. } => "input-too-large",
            CallFault::TimedOut { .. } => "timed-out",
            CallFault::MemoryLimit(_) => "memory-limit",
            CallFault::Trapped(_) => "trapped",
            CallFault::PluginError(_) => "plugin-error",
            CallFault::InvalidOutput(_) => "invalid-output",
            CallFault::OutOfFuel { .. } => "out-of-fuel",
            CallFault::PoolExhausted(_) => "pool-exhausted",
        }
    }
}

/// A live instance of one of the three worlds.
enum Bound {
    Guardrail(guardrail::Guardrail),
    PiiDetector(pii_detector::PiiDetector),
    JudgeRouter(judge_router::JudgeRouter),
}

struct Warm {
    store: Store<PluginState>,
    bound: Bound,
}

/// Instances of one policy entry kept between calls, for entries that opt
/// in with `reuse = true` (DESIGN: a fresh instance per call is the
/// default; reuse is opt-in per plugin, measured).
///
/// A call takes an idle instance (or instantiates one) and gives it back
/// only if the call succeeded: after a trap, a timeout, a memory-limit
/// hit, an `Err` or invalid output the instance is dropped, so a fault
/// never carries into the next call. What a plugin keeps in its own memory
/// between calls is visible to the next caller: opt in only for plugins
/// that keep no per-call state (the first-party detectors keep none).
#[derive(Default)]
pub struct InstancePool {
    idle: Mutex<Vec<Warm>>,
}

/// Idle instances kept per pool; more are dropped after their call.
const MAX_IDLE: usize = 16;

impl InstancePool {
    /// Instances currently idle.
    pub fn idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// What a metered call cost (see [`LoadedPlugin::call_metered`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallCost {
    /// Fuel burnt, instantiation included.
    pub fuel: u64,
    /// The largest linear memory the instance was granted, in bytes.
    pub peak_memory: u64,
}

impl LoadedPlugin {
    /// Calls the plugin once on `input`, in a fresh instance, within
    /// `limits`. `prior` are the findings of earlier plugins in the stage
    /// (shown to judge routers).
    pub fn call(
        &self,
        input: &StageInput,
        prior: &[Finding],
        config: &Arc<[(String, String)]>,
        limits: &PluginLimits,
    ) -> Result<CallOutput, CallFault> {
        if input.input_bytes > limits.max_input_bytes {
            return Err(CallFault::InputTooLarge {
                bytes: input.input_bytes,
                limit: limits.max_input_bytes,
            });
        }
        let mut store = self.new_store(config.clone(), limits.memory_bytes);
        self.run(&mut store, input, prior, limits, None)
    }

    /// [`LoadedPlugin::call`] with at most `fuel` units of fuel, reporting
    /// what the call cost. The plugin must have been loaded on a metered
    /// engine ([`RailyardEngine::metered`]); used by the conformance harness.
    pub fn call_metered(
        &self,
        input: &StageInput,
        prior: &[Finding],
        config: &Arc<[(String, String)]>,
        limits: &PluginLimits,
        fuel: u64,
    ) -> (Result<CallOutput, CallFault>, CallCost) {
        if input.input_bytes > limits.max_input_bytes {
            let fault = CallFault::InputTooLarge {
                bytes: input.input_bytes,
                limit: limits.max_input_bytes,
            };
            return (Err(fault), CallCost::default());
        }
        let mut store = self.new_store(config.clone(), limits.memory_bytes);
        let metered = self.engine.is_metered() && store.set_fuel(fuel).is_ok();
        let result = self.run(&mut store, input, prior, limits, metered.then_some(fuel));
        let cost = CallCost {
            fuel: if metered {
                fuel.saturating_sub(store.get_fuel().unwrap_or(0))
            } else {
                0
            },
            peak_memory: store.data().limiter.peak() as u64,
        };
        (result, cost)
    }

    /// [`LoadedPlugin::call`] on an instance from `pool` (see
    /// [`InstancePool`]).
    pub fn call_pooled(
        &self,
        pool: &InstancePool,
        input: &StageInput,
        prior: &[Finding],
        config: &Arc<[(String, String)]>,
        limits: &PluginLimits,
    ) -> Result<CallOutput, CallFault> {
        if input.input_bytes > limits.max_input_bytes {
            return Err(CallFault::InputTooLarge {
                bytes: input.input_bytes,
                limit: limits.max_input_bytes,
            });
        }
        let timeout_ms = limits.timeout.as_millis() as u64;
        let idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut warm = match idle {
            Some(w) => w,
            None => {
                let mut store = self.new_store(config.clone(), limits.memory_bytes);
                store.set_epoch_deadline(RailyardEngine::ticks_for(limits.timeout));
                store.epoch_deadline_trap();
                match self.pre.instantiate(&mut store) {
                    Ok(bound) => Warm { store, bound },
                    Err(e) => return Err(classify(&store, e, timeout_ms)),
                }
            }
        };
        let store = &mut warm.store;
        store.data_mut().begin_call();
        store.set_epoch_deadline(RailyardEngine::ticks_for(limits.timeout));
        store.epoch_deadline_trap();
        let result = invoke(store, &warm.bound, input, prior, |store, e| {
            classify(store, e, timeout_ms)
        });
        if result.is_ok() {
            let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(warm);
            }
        }
        result
    }

    fn run(
        &self,
        store: &mut Store<PluginState>,
        input: &StageInput,
        prior: &[Finding],
        limits: &PluginLimits,
        fuel: Option<u64>,
    ) -> Result<CallOutput, CallFault> {
        store.set_epoch_deadline(RailyardEngine::ticks_for(limits.timeout));
        store.epoch_deadline_trap();

        let timeout_ms = limits.timeout.as_millis() as u64;
        let classify = |store: &Store<PluginState>, e: wasmtime::Error| {
            classify_metered(store, e, timeout_ms, fuel)
        };
        let bound = self
            .pre
            .instantiate(&mut *store)
            .map_err(|e| classify(store, e))?;
        invoke(store, &bound, input, prior, classify)
    }
}

impl KindPre {
    /// A new instance in `store`.
    fn instantiate(&self, store: &mut Store<PluginState>) -> wasmtime::Result<Bound> {
        Ok(match self {
            KindPre::Guardrail(pre) => Bound::Guardrail(pre.instantiate(store)?),
            KindPre::PiiDetector(pre) => Bound::PiiDetector(pre.instantiate(store)?),
            KindPre::JudgeRouter(pre) => Bound::JudgeRouter(pre.instantiate(store)?),
        })
    }
}

/// Calls the world's export on a live instance and validates the output.
fn invoke(
    store: &mut Store<PluginState>,
    bound: &Bound,
    input: &StageInput,
    prior: &[Finding],
    classify: impl FnOnce(&Store<PluginState>, wasmtime::Error) -> CallFault,
) -> Result<CallOutput, CallFault> {
    let messages = &input.wit.messages;
    match bound {
        Bound::Guardrail(g) => {
            let r = g.call_check(&mut *store, &input.wit);
            let verdict = unwrap_call(&*store, r, classify)?;
            Ok(CallOutput::Verdict(validate_verdict(verdict, messages)?))
        }
        Bound::PiiDetector(d) => {
            let r = d.call_detect(&mut *store, &input.wit);
            let findings = unwrap_call(&*store, r, classify)?;
            Ok(CallOutput::Findings(validate_findings(findings, messages)?))
        }
        Bound::JudgeRouter(j) => {
            let prior: Vec<wit::Finding> = prior.iter().map(finding_to_wit).collect();
            let r = j.call_route(&mut *store, &input.wit, &prior);
            let requests = unwrap_call(&*store, r, classify)?;
            Ok(CallOutput::JudgeRequests(validate_judge_requests(
                requests,
            )?))
        }
    }
}

/// Calls `info()` once at load and validates it.
pub(crate) fn call_info(
    engine: &RailyardEngine,
    pre: &KindPre,
    plugin: &str,
) -> Result<PluginInfo, LoadError> {
    let mut store = Store::new(
        engine.wasmtime(),
        PluginState::new(Arc::from(plugin), Arc::from(Vec::new()), INFO_MEMORY),
    );
    store.limiter(|s| &mut s.limiter);
    if engine.is_metered() {
        // info() is bounded by its deadline; fuel is for calls under test.
        store.set_fuel(u64::MAX).map_err(|e| LoadError::Info {
            plugin: plugin.to_string(),
            detail: format!("cannot be given fuel: {e}"),
        })?;
    }
    store.set_epoch_deadline(RailyardEngine::ticks_for(INFO_TIMEOUT));
    store.epoch_deadline_trap();
    let result = match pre {
        KindPre::Guardrail(p) => p
            .instantiate(&mut store)
            .and_then(|g| g.call_info(&mut store)),
        KindPre::PiiDetector(p) => p
            .instantiate(&mut store)
            .and_then(|g| g.call_info(&mut store)),
        KindPre::JudgeRouter(p) => p
            .instantiate(&mut store)
            .and_then(|g| g.call_info(&mut store)),
    };
    let info = result.map_err(|e| LoadError::Info {
        plugin: plugin.to_string(),
        detail: format!(
            "failed: {}",
            classify(&store, e, INFO_TIMEOUT.as_millis() as u64)
        ),
    })?;
    let bad = |detail: String| LoadError::Info {
        plugin: plugin.to_string(),
        detail,
    };
    if info.name.trim().is_empty() || info.name.len() > MAX_IDENT {
        return Err(bad(format!(
            "returned an unusable name {:?}; expected 1 to {MAX_IDENT} bytes",
            info.name
        )));
    }
    if info.version.trim().is_empty() || info.version.len() > MAX_IDENT {
        return Err(bad(format!(
            "returned an unusable version {:?}; expected 1 to {MAX_IDENT} bytes",
            info.version
        )));
    }
    if info.stages.is_empty() {
        return Err(bad(
            "declares no stages; expected at least one of request, response, stream-chunk".into(),
        ));
    }
    let mut stages: Vec<Stage> = info.stages.iter().map(|s| stage_from_wit(*s)).collect();
    stages.sort();
    stages.dedup();
    Ok(PluginInfo {
        name: info.name,
        version: info.version,
        stages,
    })
}

/// Turns a wasmtime result (trap, or the plugin's own `Err`) into a fault.
pub(crate) fn unwrap_call<T>(
    store: &Store<PluginState>,
    result: wasmtime::Result<Result<T, String>>,
    classify: impl FnOnce(&Store<PluginState>, wasmtime::Error) -> CallFault,
) -> Result<T, CallFault> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(message)) => Err(CallFault::PluginError(clip(&message))),
        Err(e) => Err(classify(store, e)),
    }
}

/// [`classify`], where running out of a `fuel` budget is `OutOfFuel`.
pub(crate) fn classify_metered(
    store: &Store<PluginState>,
    error: wasmtime::Error,
    timeout_ms: u64,
    fuel: Option<u64>,
) -> CallFault {
    match fuel {
        Some(budget)
            if matches!(
                error.downcast_ref::<wasmtime::Trap>(),
                Some(wasmtime::Trap::OutOfFuel)
            ) =>
        {
            CallFault::OutOfFuel { budget }
        }
        _ => classify(store, error, timeout_ms),
    }
}

pub(crate) fn classify(
    store: &Store<PluginState>,
    error: wasmtime::Error,
    timeout_ms: u64,
) -> CallFault {
    if store.data().limiter.was_hit() {
        return CallFault::MemoryLimit(clip(&format!("{}", error.root_cause())));
    }
    if let Some(wasmtime::Trap::Interrupt) = error.downcast_ref::<wasmtime::Trap>() {
        return CallFault::TimedOut { timeout_ms };
    }
    if let Some(full) = error.downcast_ref::<wasmtime::PoolConcurrencyLimitError>() {
        return CallFault::PoolExhausted(clip(&format!(
            "{full} (RAILYARD_POOL_INSTANCES sizes the pool)"
        )));
    }
    let mut message = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{}", error.root_cause()),
    };
    if let Some(stderr) = store.data().stderr() {
        message.push_str("; plugin stderr: ");
        message.push_str(&stderr);
    }
    CallFault::Trapped(clip(&message))
}

pub(crate) fn clip(s: &str) -> String {
    if s.len() <= MAX_FAULT {
        return s.to_string();
    }
    let mut cut = MAX_FAULT;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

fn stage_from_wit(s: wit::Stage) -> Stage {
    match s {
        wit::Stage::Request => Stage::Request,
        wit::Stage::Response => Stage::Response,
        wit::Stage::StreamChunk => Stage::StreamChunk,
    }
}

pub(crate) fn action_from_wit(a: wit::Action) -> Action {
    match a {
        wit::Action::Allow => Action::Allow,
        wit::Action::Flag => Action::Flag,
        wit::Action::Redact => Action::Redact,
        wit::Action::Block => Action::Block,
    }
}

fn finding_to_wit(f: &Finding) -> wit::Finding {
    wit::Finding {
        rule_id: f.rule_id.clone(),
        category: f.category.clone(),
        score: f.score,
        span: f.span.map(|s| wit::Span {
            message: s.message,
            start: s.start,
            end: s.end,
        }),
        replacement: f.replacement.clone(),
    }
}

pub(crate) fn validate_verdict<S: AsRef<str>>(
    v: wit::Verdict,
    messages: &[S],
) -> Result<Verdict, CallFault> {
    if v.reason.len() > MAX_TEXT {
        return Err(CallFault::InvalidOutput(format!(
            "verdict reason is {} bytes; the limit is {MAX_TEXT}",
            v.reason.len()
        )));
    }
    Ok(Verdict {
        action: action_from_wit(v.action),
        reason: v.reason,
        findings: validate_findings(v.findings, messages)?,
    })
}

/// Checks every finding against the payload it was made on: a span must
/// name a real message and lie inside it on UTF-8 boundaries, a score must
/// be a number in 0..=1. One bad finding makes the whole output invalid —
/// a plugin that gets spans wrong cannot be trusted with the others.
pub(crate) fn validate_findings<S: AsRef<str>>(
    findings: Vec<wit::Finding>,
    messages: &[S],
) -> Result<Vec<Finding>, CallFault> {
    let invalid = |i: usize, what: String| CallFault::InvalidOutput(format!("finding {i}: {what}"));
    if findings.len() > MAX_FINDINGS {
        return Err(CallFault::InvalidOutput(format!(
            "{} findings; the limit is {MAX_FINDINGS}",
            findings.len()
        )));
    }
    let mut out = Vec::with_capacity(findings.len());
    for (i, f) in findings.into_iter().enumerate() {
        if f.rule_id.is_empty() || f.rule_id.len() > MAX_IDENT {
            return Err(invalid(
                i,
                format!(
                    "rule id must be 1 to {MAX_IDENT} bytes, got {}",
                    f.rule_id.len()
                ),
            ));
        }
        if f.category.is_empty() || f.category.len() > MAX_IDENT {
            return Err(invalid(
                i,
                format!(
                    "category must be 1 to {MAX_IDENT} bytes, got {}",
                    f.category.len()
                ),
            ));
        }
        if !(0.0..=1.0).contains(&f.score) {
            return Err(invalid(i, format!("score {} is outside 0..=1", f.score)));
        }
        if f.replacement.as_ref().is_some_and(|r| r.len() > MAX_TEXT) {
            return Err(invalid(
                i,
                format!("replacement is longer than {MAX_TEXT} bytes"),
            ));
        }
        let span = match f.span {
            None => None,
            Some(s) => {
                let Some(message) = messages.get(s.message as usize) else {
                    return Err(invalid(
                        i,
                        format!(
                            "span names message {} but the payload has {}",
                            s.message,
                            messages.len()
                        ),
                    ));
                };
                let content = message.as_ref();
                let (start, end) = (s.start as usize, s.end as usize);
                if start > end || end > content.len() {
                    return Err(invalid(
                        i,
                        format!(
                            "span {start}..{end} is out of bounds for message {} of {} bytes",
                            s.message,
                            content.len()
                        ),
                    ));
                }
                if !content.is_char_boundary(start) || !content.is_char_boundary(end) {
                    return Err(invalid(
                        i,
                        format!(
                            "span {start}..{end} splits a UTF-8 character in message {}",
                            s.message
                        ),
                    ));
                }
                Some(Span {
                    message: s.message,
                    start: s.start,
                    end: s.end,
                })
            }
        };
        out.push(Finding {
            rule_id: f.rule_id,
            category: f.category,
            score: f.score,
            span,
            replacement: f.replacement,
        });
    }
    Ok(out)
}

fn validate_judge_requests(
    requests: Vec<wit::JudgeRequest>,
) -> Result<Vec<JudgeRequest>, CallFault> {
    if requests.len() > MAX_JUDGE_REQUESTS {
        return Err(CallFault::InvalidOutput(format!(
            "{} judge requests; the limit is {MAX_JUDGE_REQUESTS}",
            requests.len()
        )));
    }
    requests
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let invalid =
                |what: String| CallFault::InvalidOutput(format!("judge request {i}: {what}"));
            if r.judge.is_empty() || r.judge.len() > MAX_IDENT {
                return Err(invalid(format!(
                    "judge name must be 1 to {MAX_IDENT} bytes"
                )));
            }
            if r.rubric.len() > MAX_IDENT {
                return Err(invalid(format!(
                    "rubric name is longer than {MAX_IDENT} bytes"
                )));
            }
            if !(0.0..=1.0).contains(&r.sample_rate) {
                return Err(invalid(format!(
                    "sample rate {} is outside 0..=1",
                    r.sample_rate
                )));
            }
            if r.reason.len() > MAX_TEXT {
                return Err(invalid(format!("reason is longer than {MAX_TEXT} bytes")));
            }
            Ok(JudgeRequest {
                judge: r.judge,
                rubric: r.rubric,
                mode: match r.mode {
                    wit::JudgeMode::Background => JudgeMode::Async,
                    wit::JudgeMode::Blocking => JudgeMode::Blocking,
                },
                priority: r.priority,
                sample_rate: r.sample_rate,
                reason: r.reason,
            })
        })
        .collect()
}

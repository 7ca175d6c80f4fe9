//! Running a payload through the plugins of one stage.
//!
//! A [`Pipeline`] is a validated policy with every plugin it names loaded
//! and linked. [`Pipeline::evaluate`] runs each plugin of the payload's
//! stage in a fresh instance, applies the plugin's failure mode to whatever
//! went wrong, merges the verdicts (block beats redact beats flag beats
//! allow) and applies redaction once. Every plugin evaluation becomes a
//! [`PluginDecision`], including the ones that failed or were disabled:
//! nothing is decided off the record.

pub mod fanout;
pub mod lanes;
mod redact;
pub mod stream;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use crate::payload::{Payload, Stage};
use crate::plugin::{
    CallFault, CallOutput, LoadError, LoadedPlugin, PluginKind, PluginLoader, StageInput, builtin,
};
use crate::policy::{FailureMode, PluginSource, PluginSpec, Policy};
use crate::verdict::{Action, Finding, JudgeRequest};

pub use crate::evaluation::{Evaluation, Outcome, PluginDecision, RoutedJudgeRequest};
use crate::evaluation::{redacting_findings, redacts, redacts_as};
pub use fanout::Fanout;
pub use redact::redact;

/// Why a policy's plugins could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A plugin did not load.
    #[error("policy {policy}: plugin `{name}`: {error}")]
    Load {
        /// The policy's origin.
        policy: String,
        /// The plugin's policy name.
        name: String,
        /// Why.
        error: LoadError,
    },
    /// The policy asks for something the plugin or engine cannot give.
    #[error("policy {policy}: plugin `{name}`: {problem}")]
    Mismatch {
        /// The policy's origin.
        policy: String,
        /// The plugin's policy name.
        name: String,
        /// What does not fit.
        problem: String,
    },
}

/// One plugin of one stage, ready to run.
struct StagePlugin {
    spec: PluginSpec,
    plugin: Arc<LoadedPlugin>,
    config: Arc<[(String, String)]>,
    /// Idle instances, for entries with `reuse = true`.
    pool: Option<crate::plugin::InstancePool>,
}

/// A policy with its plugins loaded.
pub struct Pipeline {
    policy: Policy,
    stages: BTreeMap<Stage, Arc<[StagePlugin]>>,
    loaded: BTreeMap<String, Arc<LoadedPlugin>>,
    /// Where a stage's independent plugins may run at once; `None` runs
    /// them in order.
    fanout: Option<Arc<Fanout>>,
}

impl Pipeline {
    /// Loads every plugin `policy` uses, checking each against its entry.
    pub fn load(loader: &PluginLoader, policy: Policy) -> Result<Pipeline, PipelineError> {
        Pipeline::assemble(loader, policy, &BTreeMap::new())
    }

    /// Like [`Pipeline::load`], but plugins found by policy name in `ready`
    /// are used as they are instead of being loaded (the reloader passes
    /// verified folder plugins and unchanged plugins of the running
    /// pipeline). They are checked against their policy entries all the same.
    pub fn assemble(
        loader: &PluginLoader,
        policy: Policy,
        ready: &BTreeMap<String, Arc<LoadedPlugin>>,
    ) -> Result<Pipeline, PipelineError> {
        let mut loaded: BTreeMap<String, Arc<LoadedPlugin>> = BTreeMap::new();
        let mut stages = BTreeMap::new();
        for (&stage, names) in &policy.stages {
            let mut list = Vec::with_capacity(names.len());
            for name in names {
                let spec = policy
                    .plugins
                    .get(name)
                    .expect("policy validation resolved every stage entry");
                let mismatch = |problem: String| PipelineError::Mismatch {
                    policy: policy.origin.clone(),
                    name: name.clone(),
                    problem,
                };
                let fresh = !loaded.contains_key(name);
                let plugin = match loaded.get(name) {
                    Some(p) => p.clone(),
                    None if ready.contains_key(name) => {
                        let plugin = ready[name].clone();
                        check_entry(loader, &policy, name, spec, &plugin)?;
                        loaded.insert(name.clone(), plugin.clone());
                        plugin
                    }
                    None => {
                        let result = match &spec.source {
                            PluginSource::Builtin(b) => loader.load(
                                name,
                                builtin::component(b)
                                    .expect("policy validation checked built-in names"),
                            ),
                            PluginSource::File(path) => loader.load_file(name, path),
                        };
                        let plugin = Arc::new(result.map_err(|source| PipelineError::Load {
                            policy: policy.origin.clone(),
                            name: name.clone(),
                            error: source,
                        })?);
                        check_entry(loader, &policy, name, spec, &plugin)?;
                        loaded.insert(name.clone(), plugin.clone());
                        plugin
                    }
                };
                if !plugin.info.stages.contains(&stage) {
                    return Err(mismatch(format!(
                        "the policy runs it at the {stage} stage, but the plugin declares only [{}]",
                        plugin
                            .info
                            .stages
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                let config: Arc<[(String, String)]> = Arc::from(spec.config.clone());
                // An invalid config is a policy mistake now, not a failed
                // call on every payload once the policy is live.
                if fresh
                    && spec.failure_mode != FailureMode::Disabled
                    && let Some(refusal) = plugin.config_refusal(stage, &config, &spec.limits)
                {
                    return Err(mismatch(format!(
                        "its config is refused (`plugins.{name}.config`): {refusal}"
                    )));
                }
                list.push(StagePlugin {
                    spec: spec.clone(),
                    config,
                    plugin,
                    pool: spec.reuse.then(crate::plugin::InstancePool::default),
                });
            }
            // Judge routers see the findings of everything else, so they
            // run last whatever their place in the list.
            list.sort_by_key(|p| p.plugin.kind == PluginKind::JudgeRouter);
            stages.insert(stage, Arc::from(list));
        }
        Ok(Pipeline {
            policy,
            stages,
            loaded,
            fanout: Fanout::shared(),
        })
    }

    /// This pipeline, running a stage's independent plugins through
    /// `fanout` (`None`: always one by one) instead of the process's
    /// ([`Fanout::shared`], `RAILYARD_FANOUT_WORKERS`).
    pub fn with_fanout(mut self, fanout: Option<Arc<Fanout>>) -> Self {
        self.fanout = fanout;
        self
    }

    /// The policy this pipeline runs.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Every loaded plugin, shared, by policy name.
    pub(crate) fn loaded(&self) -> &BTreeMap<String, Arc<LoadedPlugin>> {
        &self.loaded
    }

    /// Every loaded plugin, by policy name.
    pub fn plugins(&self) -> impl Iterator<Item = (&str, &LoadedPlugin)> {
        self.loaded.iter().map(|(n, p)| (n.as_str(), p.as_ref()))
    }

    /// Runs `payload` through the plugins of its stage.
    pub fn evaluate(&self, payload: &Payload) -> Evaluation {
        self.evaluate_given(payload, |_, _| Given::Run)
    }

    /// The plugins of `stage`, in the order they run.
    fn stage_plugins(&self, stage: Stage) -> &[StagePlugin] {
        self.stages.get(&stage).map(|p| &p[..]).unwrap_or(&[])
    }

    /// [`Pipeline::evaluate`], where `given(i, plugin)` may supply the
    /// result of the stage's `i`th plugin (a stream scanner's) or leave it
    /// out of the evaluation.
    ///
    /// Each maximal run of plugins that are not judge routers is called
    /// through the fan-out (at once when cores are idle, else in order);
    /// a router is called after everything before it, with its findings.
    /// Decisions are made in list order either way, so the evaluation does
    /// not depend on which ran first (latencies apart).
    fn evaluate_given(
        &self,
        payload: &Payload,
        mut given: impl FnMut(usize, &StagePlugin) -> Given,
    ) -> Evaluation {
        let started = Instant::now();
        let span = tracing::debug_span!("evaluate", request_id = %payload.request_id, stage = %payload.stage);
        let _enter = span.enter();
        let _in_flight = self.fanout.as_deref().map(Fanout::enter);

        let shared = self.stages.get(&payload.stage).cloned();
        let plugins = shared.as_deref().unwrap_or(&[]);
        let input = Arc::new(StageInput::new(payload));
        let mut decisions: Vec<PluginDecision> = Vec::with_capacity(plugins.len());
        let mut judge_requests = Vec::new();

        let mut start = 0;
        while start < plugins.len() {
            let is_router = |sp: &StagePlugin| sp.plugin.kind == PluginKind::JudgeRouter;
            let end = if is_router(&plugins[start]) {
                start + 1
            } else {
                start
                    + plugins[start..]
                        .iter()
                        .take_while(|sp| !is_router(sp))
                        .count()
            };
            let mut steps: Vec<Step> = (start..end)
                .map(|i| {
                    let sp = &plugins[i];
                    match given(i, sp) {
                        Given::Skip => Step::Skip,
                        _ if sp.spec.failure_mode == FailureMode::Disabled => Step::Disabled,
                        Given::Run => Step::Call,
                        Given::Result(result, latency_us) => Step::Done(result, latency_us),
                    }
                })
                .collect();
            let calls: Vec<usize> = (start..end)
                .filter(|&i| matches!(steps[i - start], Step::Call))
                .collect();
            if is_router(&plugins[start]) {
                if let Some(&i) = calls.first() {
                    let prior: Vec<Finding> = decisions
                        .iter()
                        .flat_map(|d| d.findings.iter().cloned())
                        .collect();
                    let (result, latency_us) = call(&plugins[i], &input, &prior);
                    steps[0] = Step::Done(result, latency_us);
                }
            } else {
                let (results, fanned) = match (&self.fanout, &shared) {
                    (Some(fanout), Some(shared))
                        if calls.len() > 1 && fanout.worth(payload.input_bytes()) =>
                    {
                        let (shared, input, calls) = (shared.clone(), input.clone(), calls.clone());
                        fanout.run(calls.len(), move |k| call(&shared[calls[k]], &input, &[]))
                    }
                    _ => (
                        calls
                            .iter()
                            .map(|&i| call(&plugins[i], &input, &[]))
                            .collect(),
                        false,
                    ),
                };
                for (&i, (mut result, mut latency_us)) in calls.iter().zip(results) {
                    // Out of instances while this evaluation held others:
                    // try again now that it holds none, as in sequence.
                    if fanned && matches!(result, Err(CallFault::PoolExhausted(_))) {
                        (result, latency_us) = call(&plugins[i], &input, &[]);
                    }
                    steps[i - start] = Step::Done(result, latency_us);
                }
            }
            for (sp, step) in plugins[start..end].iter().zip(steps) {
                let decision = match step {
                    Step::Skip => continue,
                    Step::Call => unreachable!("every call of the run was made"),
                    Step::Disabled => PluginDecision::new(
                        sp,
                        Action::Allow,
                        "disabled by policy".into(),
                        Vec::new(),
                        Outcome::Disabled,
                        None,
                        0,
                    ),
                    Step::Done(Ok(output), latency_us) => {
                        let (action, reason, findings, routed) = interpret(sp, output);
                        judge_requests.extend(routed.into_iter().map(|request| {
                            RoutedJudgeRequest {
                                router: sp.spec.name.clone(),
                                router_digest: sp.plugin.digest,
                                request,
                            }
                        }));
                        PluginDecision::new(
                            sp,
                            action,
                            reason,
                            findings,
                            Outcome::Ok,
                            None,
                            latency_us,
                        )
                    }
                    Step::Done(Err(fault), latency_us) => {
                        fail(sp, fault, &payload.request_id, latency_us)
                    }
                };
                decisions.push(decision);
            }
            start = end;
        }

        let redacted = redact(
            &payload.messages,
            redacting_findings(&decisions),
            &self.policy.redaction,
        );
        let mut evaluation = Evaluation {
            request_id: payload.request_id.clone(),
            stage: payload.stage,
            policy: self.policy.name.clone(),
            policy_digest: self.policy.digest.clone(),
            action: Action::Allow,
            reason: String::new(),
            decisions,
            redacted,
            judge_requests,
            latency_us: 0,
            arm: None,
        };
        evaluation.merge();
        evaluation.latency_us = started.elapsed().as_micros() as u64;
        evaluation
    }
}

/// Calls one plugin (on an instance from its pool when it reuses them),
/// timed.
fn call(
    sp: &StagePlugin,
    input: &StageInput,
    prior: &[Finding],
) -> (Result<CallOutput, CallFault>, u64) {
    let t = Instant::now();
    let result = match &sp.pool {
        Some(pool) => sp
            .plugin
            .call_pooled(pool, input, prior, &sp.config, &sp.spec.limits),
        None => sp.plugin.call(input, prior, &sp.config, &sp.spec.limits),
    };
    (result, t.elapsed().as_micros() as u64)
}

/// What becomes of one plugin of a run.
enum Step {
    /// Left out of the evaluation.
    Skip,
    /// Disabled by the policy: recorded, not called.
    Disabled,
    /// To be called.
    Call,
    /// Its result and latency.
    Done(Result<CallOutput, CallFault>, u64),
}

/// What [`Pipeline::evaluate_given`] does with one plugin.
enum Given {
    /// Call it on the payload.
    Run,
    /// Leave it out of the evaluation.
    Skip,
    /// Use this result (and latency) instead of calling it.
    Result(Result<CallOutput, CallFault>, u64),
}

/// Checks a loaded plugin against its policy entry: the kind the policy
/// expects, and a memory cap the engine can give.
fn check_entry(
    loader: &PluginLoader,
    policy: &Policy,
    name: &str,
    spec: &PluginSpec,
    plugin: &LoadedPlugin,
) -> Result<(), PipelineError> {
    let mismatch = |problem: String| PipelineError::Mismatch {
        policy: policy.origin.clone(),
        name: name.to_string(),
        problem,
    };
    if let Some(expected) = spec.expected_kind
        && expected != plugin.kind
    {
        return Err(mismatch(format!(
            "the policy says kind = \"{expected}\" but the component is a {}",
            plugin.kind
        )));
    }
    if spec.limits.memory_bytes > loader.engine().max_plugin_memory() {
        return Err(mismatch(format!(
            "memory-mib = {} is above this host's limit of {} MiB (RAILYARD_MAX_PLUGIN_MEMORY_MIB)",
            spec.limits.memory_bytes >> 20,
            loader.engine().max_plugin_memory() >> 20
        )));
    }
    Ok(())
}

/// Turns a plugin's output into its action, reason and findings, applying
/// the policy entry's `action` and `min-score`.
fn interpret(
    sp: &StagePlugin,
    output: CallOutput,
) -> (Action, String, Vec<Finding>, Vec<JudgeRequest>) {
    let keep = |f: &Finding| f.score >= sp.spec.min_score;
    match output {
        CallOutput::Verdict(v) => {
            let action = match (v.action, sp.spec.action) {
                (Action::Allow, _) => Action::Allow,
                (a, None) => a,
                (_, Some(override_action)) => override_action,
            };
            (
                action,
                v.reason,
                v.findings.into_iter().filter(keep).collect(),
                Vec::new(),
            )
        }
        CallOutput::Findings(findings) => {
            let findings: Vec<Finding> = findings.into_iter().filter(keep).collect();
            if findings.is_empty() {
                return (Action::Allow, String::new(), findings, Vec::new());
            }
            let mut categories: Vec<&str> = findings.iter().map(|f| f.category.as_str()).collect();
            categories.sort_unstable();
            categories.dedup();
            let reason = format!("found {}", categories.join(", "));
            (
                sp.spec.action.unwrap_or(Action::Redact),
                reason,
                findings,
                Vec::new(),
            )
        }
        CallOutput::JudgeRequests(requests) => {
            let reason = if requests.is_empty() {
                String::new()
            } else {
                // Each request with its rubric, mode and the router's own
                // reason (which names the rule and the finding that fired).
                format!(
                    "routed to {}",
                    requests
                        .iter()
                        .map(|r| if r.reason.is_empty() {
                            format!("{} (rubric {}, {})", r.judge, r.rubric, r.mode.as_str())
                        } else {
                            format!(
                                "{} (rubric {}, {}): {}",
                                r.judge,
                                r.rubric,
                                r.mode.as_str(),
                                r.reason
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            };
            (Action::Allow, reason, Vec::new(), requests)
        }
    }
}

/// Applies the failure mode to a failed call. Fail-open is logged at warn:
/// a guardrail that is not guarding must be visible.
fn fail(sp: &StagePlugin, fault: CallFault, request_id: &str, latency_us: u64) -> PluginDecision {
    let (action, mode) = match sp.spec.failure_mode {
        FailureMode::FailOpen => (Action::Allow, FailureMode::FailOpen),
        _ => (Action::Block, FailureMode::FailClosed),
    };
    tracing::warn!(
        plugin = %sp.spec.name,
        digest = %sp.plugin.digest,
        request_id,
        outcome = fault.outcome(),
        failure_mode = mode.as_str(),
        error = %fault,
        "plugin call failed; {} applies",
        mode.as_str()
    );
    PluginDecision::new(
        sp,
        action,
        format!("{}: {fault}", mode.as_str()),
        Vec::new(),
        Outcome::Failed {
            fault: fault.outcome(),
            handled: mode,
        },
        Some(fault.to_string()),
        latency_us,
    )
}

impl PluginDecision {
    fn new(
        sp: &StagePlugin,
        action: Action,
        reason: String,
        findings: Vec<Finding>,
        outcome: Outcome,
        error: Option<String>,
        latency_us: u64,
    ) -> Self {
        PluginDecision {
            plugin: sp.spec.name.clone(),
            plugin_name: sp.plugin.info.name.clone(),
            plugin_version: sp.plugin.info.version.clone(),
            plugin_digest: sp.plugin.digest,
            kind: sp.plugin.kind,
            failure_mode: match outcome {
                Outcome::Failed { handled, .. } => Some(handled),
                _ => None,
            },
            outcome,
            action,
            reason,
            findings,
            error,
            latency_us,
        }
    }
}

//! One bounded call of a plugin, and validation of what it returns.
//!
//! Every call gets a fresh store and instance (or, for a policy entry that
//! opts in with `reuse = true`, an instance kept from an earlier successful
//! call: see [`InstancePool`]), an epoch deadline, a memory cap and an
//! input-size check. Whatever goes wrong — a trap, a deadline, a
//! limit, an `Err` from the plugin, or output that breaks the contract — comes
//! back as a typed [`CallFault`]; the pipeline applies the failure mode.

pub(super) mod fault;
mod info;
mod input;
mod pool;
mod probe;
pub(super) mod validate;

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::InstancePre;

use super::PluginLimits;
use super::bindings::{guardrail, judge_router, pii_detector, wit};
use super::{LoadedPlugin, PluginKind, PluginState};
use crate::engine::RailyardEngine;
use crate::verdict::{Finding, JudgeRequest, Verdict};
use fault::{classify_metered, unwrap_call};
use input::finding_to_wit;
use validate::{validate_findings, validate_judge_requests, validate_verdict};

pub use fault::CallFault;
pub(super) use info::call_info;
pub use input::StageInput;
pub use pool::InstancePool;

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

/// A live instance of one of the three worlds.
enum Bound {
    Guardrail(guardrail::Guardrail),
    PiiDetector(pii_detector::PiiDetector),
    JudgeRouter(judge_router::JudgeRouter),
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
        input.within(limits.max_input_bytes)?;
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
        if let Err(fault) = input.within(limits.max_input_bytes) {
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

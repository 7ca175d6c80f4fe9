//! Streaming scans: one live instance of a plugin's `scanner` per streamed
//! answer.
//!
//! A plugin that exports `railyard:plugin/scanning` gets a store and an
//! instance for the whole answer (the scanner is state the plugin keeps
//! between pushes; it is dropped with the answer). Every push and the
//! finish run under the plugin's deadline and memory cap, and what they
//! return is validated against the answer so far like any call's output:
//! spans inside the text on character boundaries, a settled point that
//! lies on a boundary and never moves back.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{InstancePre, ResourceAny};

use super::PluginLimits;
use super::bindings::scanning;
use super::call::{CallFault, CallOutput, StageInput, fault, validate};
use super::{LoadedPlugin, PluginKind, PluginState};
use crate::engine::RailyardEngine;
use crate::verdict::{Action, Finding};

/// The exported interface a streaming plugin provides.
pub(crate) const SCANNING_EXPORT: &str = "railyard:plugin/scanning@0.1.0";

/// A component's `scanning` export, linked.
pub(crate) struct ScannerPre {
    pub(crate) pre: InstancePre<PluginState>,
    pub(crate) indices: scanning::GuestIndices,
}

/// What one push returned, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanProgress {
    /// Findings completed by the push (spans in the answer so far).
    pub findings: Vec<Finding>,
    /// The scanner's action: `block` stops the stream (guardrails only;
    /// a detector's is always `allow`).
    pub action: Action,
    /// Why.
    pub reason: String,
    /// No later finding of this scanner starts before this byte offset.
    pub settled: usize,
}

/// One streamed answer under one plugin's scanner.
pub struct ScanSession {
    store: Store<PluginState>,
    guest: scanning::Guest,
    scanner: ResourceAny,
    kind: PluginKind,
    limits: PluginLimits,
    settled: usize,
    /// Fuel per push or finish, on a metered engine (the harness).
    fuel: Option<u64>,
}

impl LoadedPlugin {
    /// Whether the plugin exports a streaming scanner.
    pub fn scans_streams(&self) -> bool {
        self.scanner.is_some()
    }

    /// Starts a scan of one streamed answer (`None` when the plugin has no
    /// scanner). `input` is the answer's context; its messages are not
    /// shown (the text comes through [`ScanSession::push`]).
    pub fn start_scan(
        &self,
        input: &StageInput,
        config: &Arc<[(String, String)]>,
        limits: &PluginLimits,
    ) -> Option<Result<ScanSession, CallFault>> {
        let sp = self.scanner.as_ref()?;
        let mut store = self.new_store(config.clone(), limits.memory_bytes);
        arm(&mut store, limits);
        let timeout_ms = limits.timeout.as_millis() as u64;
        let started = sp
            .pre
            .instantiate(&mut store)
            .and_then(|instance| sp.indices.load(&mut store, &instance))
            .and_then(|guest| {
                let mut payload = input.wit().clone();
                payload.messages.clear();
                let r = guest.call_start(&mut store, &payload)?;
                Ok((guest, r))
            });
        Some(match started {
            Err(e) => Err(fault::classify(&store, e, timeout_ms)),
            Ok((_, Err(message))) => Err(CallFault::PluginError(fault::clip(&message))),
            Ok((guest, Ok(scanner))) => Ok(ScanSession {
                store,
                guest,
                scanner,
                kind: self.kind,
                limits: *limits,
                settled: 0,
                fuel: None,
            }),
        })
    }
}

impl ScanSession {
    /// Gives every later push and finish at most `fuel` units (the plugin
    /// must have been loaded on a metered engine; the conformance harness
    /// meters scanners as it meters calls).
    pub(crate) fn meter(&mut self, fuel: u64) {
        self.fuel = Some(fuel);
    }

    fn arm(&mut self) {
        arm(&mut self.store, &self.limits);
        if let Some(fuel) = self.fuel {
            let _ = self.store.set_fuel(fuel);
        }
    }

    fn classify(&self, e: wasmtime::Error) -> CallFault {
        let timeout_ms = self.limits.timeout.as_millis() as u64;
        fault::classify_metered(&self.store, e, timeout_ms, self.fuel)
    }

    /// Pushes `chunk`; `text` is the whole answer so far, `chunk`
    /// included (spans are checked against it).
    pub fn push(&mut self, chunk: &str, text: &str) -> Result<ScanProgress, CallFault> {
        self.check_size(text)?;
        self.arm();
        let r = self
            .guest
            .scanner()
            .call_push(&mut self.store, self.scanner, chunk);
        let p = fault::unwrap_call(&self.store, r, |_, e| self.classify(e))?;
        let findings = validate::validate_findings(p.findings, &[text])?;
        let settled = p.settled as usize;
        if settled > text.len() || !text.is_char_boundary(settled) {
            return Err(CallFault::InvalidOutput(format!(
                "settled point {settled} is not a character boundary of the {}-byte answer so far",
                text.len()
            )));
        }
        if settled < self.settled {
            return Err(CallFault::InvalidOutput(format!(
                "settled point moved back from {} to {settled}",
                self.settled
            )));
        }
        if let Some(f) = findings
            .iter()
            .find(|f| f.span.is_some_and(|s| (s.start as usize) < self.settled))
        {
            return Err(CallFault::InvalidOutput(format!(
                "finding `{}` starts before the settled point {} of an earlier push",
                f.rule_id, self.settled
            )));
        }
        self.settled = settled;
        let action = match self.kind {
            PluginKind::Guardrail => validate::action_from_wit(p.action),
            _ => Action::Allow,
        };
        Ok(ScanProgress {
            findings,
            action,
            reason: fault::clip(&p.reason),
            settled,
        })
    }

    /// Ends the scan on the complete answer `text`: the plugin's verdict
    /// on all of it, as `check` (a verdict) or `detect` (its findings)
    /// would return it.
    pub fn finish(mut self, text: &str) -> Result<CallOutput, CallFault> {
        self.check_size(text)?;
        self.arm();
        let r = self
            .guest
            .scanner()
            .call_finish(&mut self.store, self.scanner);
        let v = fault::unwrap_call(&self.store, r, |_, e| self.classify(e))?;
        let verdict = validate::validate_verdict(v, &[text])?;
        Ok(match self.kind {
            PluginKind::Guardrail => CallOutput::Verdict(verdict),
            _ => CallOutput::Findings(verdict.findings),
        })
    }

    /// The scanner's settled point so far.
    pub fn settled(&self) -> usize {
        self.settled
    }

    fn check_size(&self, text: &str) -> Result<(), CallFault> {
        if text.len() > self.limits.max_input_bytes {
            return Err(CallFault::InputTooLarge {
                bytes: text.len(),
                limit: self.limits.max_input_bytes,
            });
        }
        Ok(())
    }
}

/// Instantiates the component once and looks its scanning functions up
/// with their types.
pub(crate) fn check_types(engine: &RailyardEngine, sp: &ScannerPre) -> wasmtime::Result<()> {
    let mut store = Store::new(
        engine.wasmtime(),
        PluginState::new(Arc::from("load"), Arc::from(Vec::new()), 64 << 20),
    );
    store.limiter(|s| &mut s.limiter);
    if engine.is_metered() {
        store.set_fuel(u64::MAX)?;
    }
    store.set_epoch_deadline(RailyardEngine::ticks_for(std::time::Duration::from_secs(1)));
    store.epoch_deadline_trap();
    let instance = sp.pre.instantiate(&mut store)?;
    sp.indices.load(&mut store, &instance).map(|_| ())
}

fn arm(store: &mut Store<PluginState>, limits: &PluginLimits) {
    store.data_mut().begin_call();
    store.set_epoch_deadline(RailyardEngine::ticks_for(limits.timeout));
    store.epoch_deadline_trap();
}

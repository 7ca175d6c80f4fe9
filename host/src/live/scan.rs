//! One reload's work on the plugins folder: verify, load and smoke-test
//! each manifest, then assemble the next pipeline from the policy and the
//! accepted folder plugins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Accepted, ReloadMetrics, ReloadReport, State};
use crate::conformance;
use crate::pipeline::{Pipeline, PipelineError};
use crate::plugin::manifest::Manifest;
use crate::plugin::registry::{self, RegistryError, Verified};
use crate::plugin::{LoadedPlugin, PluginDigest, PluginLoader, builtin};
use crate::policy::{PluginLimits, PluginSource, PluginSpec, Policy};

/// Verifies, loads and smoke-tests every manifest in the policy's folder,
/// updating `state.accepted` (last good per manifest) and `state.refused`.
pub(super) fn scan_folder(
    loader: &PluginLoader,
    policy: &Policy,
    state: &mut State,
    metrics: &ReloadMetrics,
    report: &mut ReloadReport,
) {
    let Some(settings) = &policy.registry else {
        state.accepted.clear();
        return;
    };
    let paths = match registry::manifests(&settings.dir) {
        Ok(p) => p,
        Err(e) => {
            // An unreadable folder changes nothing: what runs keeps running.
            tracing::error!(dir = %settings.dir.display(), error = %e, "cannot list the plugins folder; plugins stay as they are");
            return;
        }
    };
    // Manifests that disappeared take their plugin with them.
    state.accepted.retain(|p, _| paths.contains(p));
    state.refused.retain(|p, _| paths.contains(p));

    let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in &paths {
        let refuse = |state: &mut State,
                      report: &mut ReloadReport,
                      e: RegistryError,
                      key: (PluginDigest, Option<PluginDigest>)| {
            let step = e.step();
            if state.refused.get(path) != Some(&key) {
                tracing::error!(manifest = %path.display(), step, error = %e, "plugin version refused; the last good version (if any) keeps serving");
                metrics.refused(step);
                state.refused.insert(path.clone(), key);
            }
            report.refused.push((path.clone(), step, e.to_string()));
        };
        let manifest_digest = std::fs::read(path)
            .map(|b| PluginDigest::of(&b))
            .unwrap_or(PluginDigest([0; 32]));
        let verified = match registry::verify(path, settings) {
            Ok(v) => v,
            Err(e) => {
                let component = Manifest::from_file(path)
                    .ok()
                    .and_then(|m| std::fs::read(&m.component).ok())
                    .map(|w| PluginDigest::of(&w));
                refuse(state, report, e, (manifest_digest, component));
                keep_name(state, path, &mut names);
                continue;
            }
        };
        let identity = (
            verified.manifest_digest,
            verified.manifest.digest,
            verified.grants.clone(),
        );
        let key = (verified.manifest_digest, Some(verified.manifest.digest));
        if let Some(a) = state.accepted.get(path)
            && a.identity == identity
        {
            keep_name(state, path, &mut names);
            continue;
        }
        if state.refused.get(path) == Some(&key) {
            keep_name(state, path, &mut names);
            continue;
        }
        let name = verified.manifest.name.clone();
        let clash = names
            .get(&name)
            .map(|other| format!("the manifest {}", other.display()))
            .or_else(|| {
                policy
                    .plugins
                    .contains_key(&name)
                    .then(|| format!("the policy's plugin `{name}`"))
            });
        if let Some(other) = clash {
            let e = RegistryError::DuplicateName {
                manifest: path.display().to_string(),
                name,
                other,
            };
            refuse(state, report, e, key);
            keep_name(state, path, &mut names);
            continue;
        }
        match accept(loader, policy, &verified) {
            Ok(plugin) => {
                state.refused.remove(path);
                names.insert(name, path.clone());
                state.accepted.insert(
                    path.clone(),
                    Accepted {
                        manifest: verified.manifest,
                        identity,
                        plugin: Arc::new(plugin),
                    },
                );
            }
            Err(e) => {
                refuse(state, report, e, key);
                keep_name(state, path, &mut names);
            }
        }
    }
}

/// Records the name of the last good version at `path`, if there is one.
fn keep_name(state: &State, path: &Path, names: &mut BTreeMap<String, PathBuf>) {
    if let Some(a) = state.accepted.get(path) {
        names.insert(a.manifest.name.clone(), path.to_path_buf());
    }
}

/// Steps 5-6 of the registry and the smoke test.
fn accept(
    loader: &PluginLoader,
    policy: &Policy,
    v: &Verified,
) -> Result<LoadedPlugin, RegistryError> {
    let plugin = registry::load(loader, v)?;
    let spec = folder_spec(policy, &v.manifest);
    if spec.limits.memory_bytes > loader.engine().max_plugin_memory() {
        return Err(RegistryError::Mismatch {
            manifest: v.manifest.path.display().to_string(),
            problem: format!(
                "limits.memory-mib = {} is above this host's limit of {} MiB (RAILYARD_MAX_PLUGIN_MEMORY_MIB)",
                spec.limits.memory_bytes >> 20,
                loader.engine().max_plugin_memory() >> 20
            ),
        });
    }
    let config: Arc<[(String, String)]> = Arc::from(spec.config.clone());
    conformance::smoke_test(
        &plugin,
        Some(&v.manifest),
        &config,
        &spec.limits,
        &v.manifest.stages,
    )
    .map_err(|failures| RegistryError::SmokeTest {
        manifest: v.manifest.path.display().to_string(),
        component: v.manifest.component.display().to_string(),
        failures,
    })?;
    Ok(plugin)
}

/// The policy entry a folder plugin runs under: its manifest's limits over
/// the policy's `[defaults]`, the default failure mode, its manifest config.
fn folder_spec(policy: &Policy, m: &Manifest) -> PluginSpec {
    let d = policy.default_limits;
    PluginSpec {
        name: m.name.clone(),
        source: PluginSource::File(m.component.clone()),
        expected_kind: Some(m.kind),
        limits: PluginLimits {
            timeout: m.limits.timeout.unwrap_or(d.timeout),
            memory_bytes: m.limits.memory_bytes.unwrap_or(d.memory_bytes),
            max_input_bytes: m.limits.max_input_bytes.unwrap_or(d.max_input_bytes),
        },
        failure_mode: policy.default_failure_mode,
        action: None,
        min_score: 0.0,
        config: m.config.clone(),
        reuse: false,
        scanner: true,
    }
}

/// The pipeline for `policy` plus the accepted folder plugins, each placed
/// after the policy's own plugins at the stages its manifest names (in
/// name order). Plugins of `current` whose bytes are unchanged are reused.
pub(super) fn assemble(
    loader: &PluginLoader,
    policy: &Policy,
    state: &State,
    current: Option<&Pipeline>,
) -> Result<Pipeline, PipelineError> {
    let mut resolved = policy.clone();
    let mut ready: BTreeMap<String, Arc<LoadedPlugin>> = BTreeMap::new();
    let mut folder: Vec<&Accepted> = state.accepted.values().collect();
    folder.sort_by(|a, b| a.manifest.name.cmp(&b.manifest.name));
    for a in folder {
        let m = &a.manifest;
        resolved
            .plugins
            .insert(m.name.clone(), folder_spec(policy, m));
        for stage in &m.stages {
            resolved
                .stages
                .entry(*stage)
                .or_default()
                .push(m.name.clone());
        }
        ready.insert(m.name.clone(), a.plugin.clone());
    }
    if let Some(current) = current {
        for (name, spec) in &policy.plugins {
            let Some(old) = current.loaded().get(name) else {
                continue;
            };
            let same = match &spec.source {
                PluginSource::Builtin(b) => {
                    builtin::component(b).map(PluginDigest::of) == Some(old.digest)
                }
                PluginSource::File(path) => std::fs::read(path)
                    .map(|w| PluginDigest::of(&w) == old.digest)
                    .unwrap_or(false),
            };
            if same && !ready.contains_key(name) {
                ready.insert(name.clone(), old.clone());
            }
        }
    }
    Pipeline::assemble(loader, resolved, &ready)
}

//! Plugin manifests in a plugins folder: digests, signatures, capabilities
//! and identity are checked before a plugin may serve, and each refusal
//! names the manifest, the step and what to do.

use crate::common;

use std::path::Path;

use common::{loader, request, wasm};
use railyard::live::{ReloadReport, Reloader};
use railyard::plugin::capability::Denial;
use railyard::plugin::manifest::{TrustedKey, render, sign_digest};
use railyard::plugin::{Grants, LoadError, PluginDigest, PluginKind};
use railyard::{Policy, Stage};

const TRUSTED_SECRET: [u8; 32] = [11; 32];
const OTHER_SECRET: [u8; 32] = [22; 32];

/// A folder with `policy.toml` (whose `[registry]` gets `registry_extra`)
/// and a plugins folder holding the hostile fixture as `hostile.wasm` with a
/// manifest (`manifest_extra` appended, `signature` if given).
fn folder(
    registry_extra: &str,
    name: &str,
    signature: Option<String>,
    manifest_extra: &str,
) -> (tempfile::TempDir, ReloadReport, Reloader) {
    let root = tempfile::tempdir().unwrap();
    let plugins = root.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let bytes = std::fs::read(wasm("railyard_fixture_hostile")).unwrap();
    std::fs::write(plugins.join("hostile.wasm"), &bytes).unwrap();
    let manifest = render(
        name,
        "0.1.0",
        PluginKind::Guardrail,
        &[Stage::Request],
        &PluginDigest::of(&bytes),
        signature.as_deref(),
        None,
    ) + manifest_extra;
    std::fs::write(plugins.join("hostile.toml"), manifest).unwrap();
    let policy = root.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!("[registry]\ndir = \"plugins\"\n{registry_extra}\n"),
    )
    .unwrap();
    // Start empty, then load the folder through a reload to get its report.
    std::fs::rename(plugins.join("hostile.toml"), root.path().join("hold")).unwrap();
    let reloader = Reloader::from_file(loader().clone(), &policy).unwrap();
    std::fs::rename(root.path().join("hold"), plugins.join("hostile.toml")).unwrap();
    let report = reloader.reload();
    (root, report, reloader)
}

fn serves(reloader: &Reloader) -> bool {
    reloader
        .live()
        .evaluate(&request("a hostile word"))
        .decisions
        .iter()
        .any(|d| d.plugin == "hostile")
}

fn refused_step(report: &ReloadReport) -> (&'static str, &str) {
    assert_eq!(report.refused.len(), 1, "{report:?}");
    (report.refused[0].1, report.refused[0].2.as_str())
}

#[test]
fn a_valid_manifest_goes_live() {
    let (_root, report, reloader) = folder("", "hostile", None, "");
    assert!(report.refused.is_empty(), "{report:?}");
    assert_eq!(report.went_live.len(), 1);
    assert!(serves(&reloader));
}

#[test]
fn with_trusted_keys_an_unsigned_plugin_is_refused() {
    let key = TrustedKey::from_secret(&TRUSTED_SECRET);
    let (_root, report, reloader) =
        folder(&format!("trusted-keys = [\"{key}\"]"), "hostile", None, "");
    let (step, error) = refused_step(&report);
    assert_eq!(step, "signature");
    assert!(
        error.contains("unsigned") && error.contains("hostile.toml"),
        "{error}"
    );
    assert!(!serves(&reloader));
}

#[test]
fn a_plugin_signed_by_an_untrusted_key_is_refused_and_a_trusted_signature_is_accepted() {
    let bytes = std::fs::read(wasm("railyard_fixture_hostile")).unwrap();
    let digest = PluginDigest::of(&bytes);
    let key = TrustedKey::from_secret(&TRUSTED_SECRET);
    let registry = format!("trusted-keys = [\"{key}\"]");

    let (_root, report, reloader) = folder(
        &registry,
        "hostile",
        Some(sign_digest(&OTHER_SECRET, &digest)),
        "",
    );
    let (step, error) = refused_step(&report);
    assert_eq!(step, "signature");
    assert!(error.contains("does not verify"), "{error}");
    assert!(!serves(&reloader));

    let (_root, report, reloader) = folder(
        &registry,
        "hostile",
        Some(sign_digest(&TRUSTED_SECRET, &digest)),
        "",
    );
    assert!(report.refused.is_empty(), "{report:?}");
    assert!(serves(&reloader));
}

#[test]
fn a_capability_the_policy_does_not_allow_is_refused_naming_it() {
    let (_root, report, reloader) = folder("", "hostile", None, "[capabilities]\nclocks = true\n");
    let (step, error) = refused_step(&report);
    assert_eq!(step, "capabilities");
    assert!(
        error.contains("`clocks`") && error.contains("registry.allow"),
        "{error}"
    );
    assert!(!serves(&reloader));

    let (_root, report, reloader) = folder(
        "allow = [\"clocks\"]",
        "hostile",
        None,
        "[capabilities]\nclocks = true\n",
    );
    assert!(report.refused.is_empty(), "{report:?}");
    assert!(serves(&reloader));
}

#[test]
fn a_read_only_folder_must_be_listed_by_the_policy() {
    let (root, report, _reloader) = folder(
        "",
        "hostile",
        None,
        "[capabilities]\nread-only-dir = \"data\"\n",
    );
    let (step, error) = refused_step(&report);
    assert_eq!(step, "capabilities");
    assert!(error.contains("read-only-dirs"), "{error}");
    drop(root);

    // The folder must exist for the policy to list it: create it first.
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("plugins/data")).unwrap();
    let bytes = std::fs::read(wasm("railyard_fixture_hostile")).unwrap();
    std::fs::write(root.path().join("plugins/hostile.wasm"), &bytes).unwrap();
    std::fs::write(
        root.path().join("plugins/hostile.toml"),
        render(
            "hostile",
            "0.1.0",
            PluginKind::Guardrail,
            &[Stage::Request],
            &PluginDigest::of(&bytes),
            None,
            None,
        ) + "[capabilities]\nread-only-dir = \"data\"\n",
    )
    .unwrap();
    let policy = root.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[registry]\ndir = \"plugins\"\nread-only-dirs = [\"plugins/data\"]\n",
    )
    .unwrap();
    let reloader = Reloader::from_file(loader().clone(), &policy).unwrap();
    assert!(serves(&reloader));
    let (_, plugin) = reloader
        .live()
        .current()
        .plugins()
        .find(|(n, _)| *n == "hostile")
        .map(|(n, p)| (n.to_string(), p.grants.clone()))
        .unwrap();
    assert!(plugin.filesystem && plugin.read_only_dir.is_some());
}

#[test]
fn a_manifest_that_misnames_its_component_is_refused_at_the_info_step() {
    let (_root, report, reloader) = folder("", "friendly", None, "");
    let (step, error) = refused_step(&report);
    assert_eq!(step, "info");
    assert!(
        error.contains("\"friendly\"") && error.contains("\"hostile\""),
        "{error}"
    );
    assert!(!serves(&reloader));
}

#[test]
fn a_component_importing_sockets_is_refused_at_load_naming_the_import() {
    let root = tempfile::tempdir().unwrap();
    let plugins = root.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let bytes = std::fs::read(wasm("railyard_fixture_hostile_net")).unwrap();
    std::fs::write(plugins.join("net.wasm"), &bytes).unwrap();
    std::fs::write(
        plugins.join("net.toml"),
        render(
            "hostile-net",
            "0.1.0",
            PluginKind::Guardrail,
            &[Stage::Request],
            &PluginDigest::of(&bytes),
            None,
            None,
        ),
    )
    .unwrap();
    let policy = root.path().join("policy.toml");
    std::fs::write(&policy, "[registry]\ndir = \"plugins\"\n").unwrap();
    let reloader = Reloader::from_file(loader().clone(), &policy).unwrap();
    let report = reloader.reload();
    assert!(
        report.refused.is_empty(),
        "refused once at start, not retried"
    );
    assert_eq!(
        reloader.metrics().plugin_refused_total.get("load"),
        Some(&1)
    );
    // The start-up refusal is logged; a changed manifest is tried again.
    std::fs::write(
        plugins.join("net.toml"),
        render(
            "hostile-net",
            "0.1.0",
            PluginKind::Guardrail,
            &[Stage::Request],
            &PluginDigest::of(&bytes),
            None,
            None,
        ) + "# edited\n",
    )
    .unwrap();
    let report = reloader.reload();
    let (step, error) = refused_step(&report);
    assert_eq!(step, "load");
    assert!(error.contains("wasi:sockets/"), "{error}");
    assert!(error.contains("no capability grants it"), "{error}");
    assert_eq!(
        reloader.metrics().plugin_refused_total.get("load"),
        Some(&2)
    );
}

/// A component exporting `check`, importing `import`.
fn wat_with_import(import: &str) -> String {
    format!(
        r#"(component
  (import "{import}" (instance))
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (func $f (canon lift (core func $i "f")))
  (export "check" (func $f)))"#
    )
}

#[test]
fn an_import_outside_the_grants_is_refused_naming_the_import_and_the_capability() {
    let wat = wat_with_import("wasi:clocks/monotonic-clock@0.2.6");
    let err = loader()
        .load_granted("clock-user", wat.as_bytes(), &Grants::none())
        .expect_err("clocks are not granted");
    match &err {
        LoadError::ForbiddenImport {
            imports, reason, ..
        } => {
            assert_eq!(imports, &["wasi:clocks/monotonic-clock@0.2.6"]);
            assert_eq!(*reason, Denial::NotGranted("clocks"));
        }
        other => panic!("expected ForbiddenImport, got {other}"),
    }
    assert!(err.to_string().contains("`clocks` capability"), "{err}");

    // With the grant, the import check passes (this component then fails
    // to link for its wrong `check` signature, which is a different error).
    let clocks = Grants {
        clocks: true,
        ..Grants::none()
    };
    let err = loader()
        .load_granted("clock-user", wat.as_bytes(), &clocks)
        .expect_err("wrong signature");
    assert!(matches!(err, LoadError::Link { .. }), "{err}");
}

#[test]
fn registry_mistakes_in_the_policy_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    for (registry, key) in [
        (
            "trusted-keys = [\"ed25519:abcd\"]",
            "registry.trusted-keys[0]",
        ),
        ("allow = [\"sockets\"]", "registry.allow[0]"),
        (
            "read-only-dirs = [\"missing\"]",
            "registry.read-only-dirs[0]",
        ),
        ("poll-ms = 0", "registry.poll-ms"),
    ] {
        std::fs::write(
            &path,
            format!("[registry]\ndir = \"plugins\"\n{registry}\n"),
        )
        .unwrap();
        let err = Policy::from_file(&path).expect_err(registry).to_string();
        assert!(err.contains(key), "{registry}: {err}");
    }
    std::fs::write(&path, "[registry]\ndir = \"plugins\"\n").unwrap();
    let policy = Policy::from_file(&path).unwrap();
    assert_eq!(
        policy.registry.unwrap().dir,
        Path::new(dir.path()).join("plugins")
    );
}

//! A custom detector deploys through the plugins folder.
//!
//! An outside author's PII detector for their own entity (employee ids,
//! `tests/data/employee-ids/plugin.c`, built from the C template with its
//! own `build.sh`) finds no e-mail address or credential, so the built-in
//! golden vectors fail it. Its manifest declares what it finds
//! (`finds = ["EMPLOYEE_ID"]`) and points at its own vectors; then
//! `railyard conformance` and the plugins folder's smoke test use those,
//! keep the built-in goldens only where they fit, and it hot-deploys into
//! a serving folder. Its own vectors are really run: a vector it cannot
//! meet fails conformance and refuses the version in the folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{loader, request};
use crate::plugin_new::{build, plugin_new, printed, railyard, text};
use railyard::live::Reloader;

const PATIENCE: Duration = Duration::from_secs(120);

fn fixture(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/employee-ids")
        .join(file)
}

/// Scaffolds `employee-ids` with `railyard plugin new --lang c --kind
/// pii-detector`, puts the fixture's detector in, and builds it. Returns
/// the project folder (with `employee-ids.wasm` and `employee-ids.toml`).
fn build_employee_ids(root: &Path) -> PathBuf {
    let o = plugin_new(root, "c", "pii-detector", None, "employee-ids");
    assert_eq!(o.status.code(), Some(0), "plugin new: {}", printed(&o));
    let project = root.join("employee-ids");
    std::fs::copy(fixture("plugin.c"), project.join("src/plugin.c")).unwrap();
    let o = build(&project);
    assert!(o.status.success(), "./build.sh: {}", printed(&o));
    project
}

/// A vector file the detector cannot meet: it does not find 5-digit ids.
const UNMET_VECTORS: &str = r#"{
  "kind": "pii-detector",
  "vectors": [{
    "id": "five-digit-id",
    "payload": { "messages": [{ "role": "user", "content": "badge EMP-12345 please" }] },
    "expect": { "finds_one_of": [{ "text": "EMP-12345", "category": "EMPLOYEE_ID" }] }
  }]
}"#;

const DECLARATION: &str = "finds = [\"EMPLOYEE_ID\"]\nvectors = \"employee-ids-vectors.json\"\n";

#[test]
fn conformance_uses_the_manifests_vectors_and_fits_the_built_in_goldens() {
    let tmp = tempfile::tempdir().unwrap();
    let project = build_employee_ids(tmp.path());
    let manifest = project.join("employee-ids.toml");
    let as_built = std::fs::read_to_string(&manifest).unwrap();

    // As built, the manifest declares nothing: the built-in goldens expect
    // an e-mail address or a credential, and it finds neither.
    let o = railyard(&project, &["conformance", "employee-ids.wasm"]);
    assert_eq!(o.status.code(), Some(1), "{}", printed(&o));
    assert!(
        text(&o.stdout).contains("pii-detector.json#obvious-email-and-key"),
        "{}",
        printed(&o)
    );

    // Declared: the built-in goldens that cannot apply are dropped, its own
    // vectors are checked (golden, determinism, redaction) at every stage.
    std::fs::copy(
        fixture("employee-ids-vectors.json"),
        project.join("employee-ids-vectors.json"),
    )
    .unwrap();
    std::fs::write(&manifest, format!("{as_built}{DECLARATION}")).unwrap();
    let o = railyard(
        &project,
        &["conformance", "employee-ids.wasm", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", printed(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let checks = report["checks"].as_array().unwrap();
    let ran = |check: &str, case: &str| {
        checks
            .iter()
            .any(|c| c["check"] == check && c["case"] == case && c["passed"] == true)
    };
    for stage in ["request", "response"] {
        for id in ["id-in-prose", "id-among-multibyte-text"] {
            let case = format!("employee-ids-vectors.json#{id}@{stage}");
            assert!(ran("golden", &case), "no passing golden {case}: {report:#}");
            assert!(
                ran("redaction", &case),
                "no redaction check {case}: {report:#}"
            );
        }
    }
    assert!(
        !checks.iter().any(|c| c["check"] == "golden"
            && c["case"].as_str().unwrap().starts_with("pii-detector.json")),
        "a built-in e-mail golden was kept for a plugin that finds only EMPLOYEE_ID: {report:#}"
    );
    assert!(
        checks
            .iter()
            .any(|c| c["check"] == "manifest" && c["passed"] == true),
        "the manifest with `finds` and `vectors` is checked: {report:#}"
    );

    // Its own vectors really run: one it cannot meet fails it.
    std::fs::write(project.join("employee-ids-vectors.json"), UNMET_VECTORS).unwrap();
    let o = railyard(&project, &["conformance", "employee-ids.wasm"]);
    assert_eq!(o.status.code(), Some(1), "{}", printed(&o));
    assert!(
        text(&o.stdout).contains("employee-ids-vectors.json#five-digit-id"),
        "{}",
        printed(&o)
    );
}

/// Writes `bytes` under a name the registry ignores, then renames it.
fn write_atomic(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn wait_for(what: &str, reloader: &Reloader, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < PATIENCE,
            "waited {PATIENCE:?} for {what}; reload metrics: {:?}",
            reloader.metrics()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_custom_detector_with_its_own_vectors_is_hot_deployed() {
    let tmp = tempfile::tempdir().unwrap();
    let project = build_employee_ids(tmp.path());
    let as_built = std::fs::read_to_string(project.join("employee-ids.toml")).unwrap();

    let root = tmp.path().join("serving");
    let plugins = root.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let policy = root.join("policy.toml");
    std::fs::write(
        &policy,
        "name = \"custom-detector\"\n[registry]\ndir = \"plugins\"\npoll-ms = 20\n[stages]\nrequest = [\"pii\"]\n",
    )
    .unwrap();
    let reloader = Arc::new(Reloader::from_file(loader().clone(), &policy).unwrap());
    let _watcher = reloader.watch().unwrap();
    let refused = |n: u64| {
        let r = reloader.clone();
        move || r.metrics().plugin_refused_total.get("smoke-test").copied() == Some(n)
    };

    // 1. As built (nothing declared), the built-in goldens refuse it.
    write_atomic(
        &plugins.join("employee-ids.wasm"),
        &std::fs::read(project.join("employee-ids.wasm")).unwrap(),
    );
    write_atomic(&plugins.join("employee-ids.toml"), as_built.as_bytes());
    wait_for(
        "the undeclared detector to be refused",
        &reloader,
        refused(1),
    );

    // 2. Declared, with vectors it cannot meet: its own vectors refuse it.
    write_atomic(
        &plugins.join("employee-ids-vectors.json"),
        UNMET_VECTORS.as_bytes(),
    );
    write_atomic(
        &plugins.join("employee-ids.toml"),
        format!("{as_built}{DECLARATION}").as_bytes(),
    );
    wait_for(
        "the version failing its own vectors to be refused",
        &reloader,
        refused(2),
    );

    // 3. Declared, with its real vectors: it goes live and finds ids.
    write_atomic(
        &plugins.join("employee-ids-vectors.json"),
        &std::fs::read(fixture("employee-ids-vectors.json")).unwrap(),
    );
    // Same manifest bytes as in step 2 would be "already refused": a
    // comment makes it a new version, as a real redeploy would.
    write_atomic(
        &plugins.join("employee-ids.toml"),
        format!("{as_built}{DECLARATION}# vectors fixed\n").as_bytes(),
    );
    let started = Instant::now();
    let e = loop {
        let e = reloader
            .live()
            .evaluate(&request("badge EMP-004217, please"));
        if e.decisions.iter().any(|d| d.plugin == "employee-ids") {
            break e;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the detector never went live; metrics {:?}",
            reloader.metrics()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let d = e
        .decisions
        .iter()
        .find(|d| d.plugin == "employee-ids")
        .unwrap();
    assert!(
        d.findings.iter().any(|f| f.category == "EMPLOYEE_ID"),
        "{e:#?}"
    );
    assert_eq!(reloader.metrics().plugins_live_total, 1);
    assert_eq!(reloader.metrics().plugin_refused(), 2);
}

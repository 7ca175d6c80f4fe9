//! Hot reload: plugins dropped into the folder go live without a restart,
//! swaps happen under load without a failed evaluation, every decision is
//! attributed to the digest that made it, broken versions never serve, and
//! a bad policy never replaces a good one.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{loader, request, wasm};
use railyard::Action;
use railyard::live::Reloader;
use railyard::pipeline::Outcome;
use railyard::plugin::manifest::render;
use railyard::plugin::{PluginDigest, PluginKind};
use railyard::{Evaluation, Stage};

/// Generous bound for anything asynchronous: a loaded 2-core machine
/// compiling in the background is slow, but not this slow.
const PATIENCE: Duration = Duration::from_secs(120);

/// The hostile fixture (a well-behaved guardrail that flags "hostile" unless
/// its config says otherwise) with a custom section appended: same
/// behaviour, different bytes, so each `tag` is a distinct version.
fn hostile_version(tag: &str) -> Vec<u8> {
    let mut bytes = std::fs::read(wasm("railyard_fixture_hostile")).unwrap();
    let name = b"railyard-test-version";
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(tag.as_bytes());
    assert!(body.len() < 128, "one-byte LEB128 length");
    bytes.push(0); // custom section id
    bytes.push(body.len() as u8);
    bytes.extend_from_slice(&body);
    bytes
}

/// Writes `bytes` to `path` the way a careful deploy does: a temporary
/// name the registry ignores, then an atomic rename.
fn write_atomic(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Lands a version of the `hostile` plugin: its component under a
/// versioned name first, then the manifest pointing at it (so the folder
/// is never inconsistent). `extra` is appended to the manifest.
fn land(dir: &Path, tag: &str, wasm: &[u8], extra: &str) -> PluginDigest {
    let component = format!("hostile-{tag}.wasm");
    write_atomic(&dir.join(&component), wasm);
    let digest = PluginDigest::of(wasm);
    let manifest = render(
        "hostile",
        "0.1.0",
        PluginKind::Guardrail,
        &[Stage::Request],
        &digest,
        None,
        Some(&component),
    ) + extra;
    write_atomic(&dir.join("hostile.toml"), manifest.as_bytes());
    digest
}

/// A temp folder with `policy.toml` (running `pii` on requests, plus the
/// plugins folder) and an empty `plugins/`.
fn setup(poll_ms: u64) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let plugins = root.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let policy = root.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "name = \"reload-test\"\n[registry]\ndir = \"plugins\"\npoll-ms = {poll_ms}\n[stages]\nrequest = [\"pii\"]\n"
        ),
    )
    .unwrap();
    (root, policy, plugins)
}

fn hostile_digest(e: &Evaluation) -> Option<PluginDigest> {
    e.decisions
        .iter()
        .find(|d| d.plugin == "hostile")
        .map(|d| d.plugin_digest)
}

/// Evaluates until `done` holds, or panics after `PATIENCE` with `what`.
fn eventually(reloader: &Reloader, what: &str, done: impl Fn(&Evaluation) -> bool) {
    let started = Instant::now();
    loop {
        let e = reloader.live().evaluate(&request("a hostile word"));
        if done(&e) {
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "waited {PATIENCE:?} for {what}; last evaluation: {e:#?}; reload metrics: {:?}",
            reloader.metrics()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn plugin_dropped_in_the_folder_goes_live_without_a_restart() {
    let (_root, policy, plugins) = setup(20);
    let reloader = Arc::new(Reloader::from_file(loader().clone(), &policy).unwrap());
    let _watcher = reloader.watch().unwrap();

    let before = reloader.live().evaluate(&request("a hostile word"));
    assert!(hostile_digest(&before).is_none());
    assert_eq!(before.action, Action::Allow);

    let v1 = land(&plugins, "v1", &hostile_version("v1"), "");
    eventually(&reloader, "the dropped plugin to serve", |e| {
        hostile_digest(e) == Some(v1)
    });
    let e = reloader.live().evaluate(&request("a hostile word"));
    assert_eq!(e.action, Action::Flag, "the new guardrail decides: {e:#?}");
    assert_eq!(reloader.metrics().plugins_live_total, 1);

    // Removing the manifest removes the plugin.
    std::fs::remove_file(plugins.join("hostile.toml")).unwrap();
    eventually(&reloader, "the removed plugin to stop serving", |e| {
        hostile_digest(e).is_none()
    });
}

#[test]
fn plugin_landed_between_the_load_and_the_watcher_start_is_picked_up() {
    // The race that once made this suite flaky, made deterministic: the
    // plugin lands after the reloader read the folder and before the
    // watcher exists. The watcher compares against what the load read,
    // not against its own first look, so it still sees the change.
    let (_root, policy, plugins) = setup(20);
    let reloader = Arc::new(Reloader::from_file(loader().clone(), &policy).unwrap());
    let v1 = land(&plugins, "v1", &hostile_version("v1"), "");
    let _watcher = reloader.watch().unwrap();
    eventually(
        &reloader,
        "the plugin landed before watch() to serve",
        |e| hostile_digest(e) == Some(v1),
    );
}

#[test]
fn sighup_triggers_a_reload() {
    // A poll interval of an hour: only the signal can make this reload.
    let (_root, policy, plugins) = setup(3_600_000);
    let reloader = Arc::new(Reloader::from_file(loader().clone(), &policy).unwrap());
    let _watcher = reloader.watch().unwrap();
    let v1 = land(&plugins, "v1", &hostile_version("hup"), "");
    signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
    eventually(&reloader, "SIGHUP to load the plugin", |e| {
        hostile_digest(e) == Some(v1)
    });
}

/// Per client thread: the hostile digest each evaluation was made by,
/// compressed to runs.
#[derive(Default)]
struct Observed {
    runs: Vec<PluginDigest>,
    evaluations: usize,
}

#[test]
fn swaps_under_load_fail_no_evaluation_and_attribute_every_decision() {
    let (_root, policy, plugins) = setup(3_600_000);
    // A deadline no busy machine reaches: this test counts failed
    // evaluations, and a timeout on a loaded 2-core machine is not a swap
    // failing.
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, format!("{text}[defaults]\ntimeout-ms = 20000\n")).unwrap();
    let v1_bytes = hostile_version("load-v1");
    let v1 = land(&plugins, "v1", &v1_bytes, "");
    let reloader = Arc::new(Reloader::from_file(loader().clone(), &policy).unwrap());
    assert_eq!(
        hostile_digest(&reloader.live().evaluate(&request("x"))),
        Some(v1)
    );

    const CLIENTS: usize = 2;
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let observed: Arc<Vec<Mutex<Observed>>> =
        Arc::new((0..CLIENTS).map(|_| Mutex::default()).collect());
    let total = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (reloader, stop, failures, observed, total) = (
                reloader.clone(),
                stop.clone(),
                failures.clone(),
                observed.clone(),
                total.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let e = reloader.live().evaluate(&request("a hostile word"));
                    total.fetch_add(1, Ordering::Relaxed);
                    let failed: Vec<_> = e
                        .decisions
                        .iter()
                        .filter(|d| d.outcome != Outcome::Ok)
                        .map(|d| format!("{}: {} {:?}", d.plugin, d.outcome.as_str(), d.error))
                        .collect();
                    if !failed.is_empty() || e.action != Action::Flag {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("action {}: {failed:?}", e.action));
                    }
                    let mut o = observed[i].lock().unwrap();
                    o.evaluations += 1;
                    match hostile_digest(&e) {
                        Some(d) if o.runs.last() != Some(&d) => o.runs.push(d),
                        Some(_) => {}
                        None => failures
                            .lock()
                            .unwrap()
                            .push("an evaluation without the hostile plugin".into()),
                    }
                }
            })
        })
        .collect();

    // Waits until every client has evaluated at least twice since `mark`
    // and its latest evaluation was made by `digest`.
    let settle = |digest: PluginDigest, what: &str| {
        let mark: Vec<usize> = observed
            .iter()
            .map(|o| o.lock().unwrap().evaluations)
            .collect();
        let started = Instant::now();
        loop {
            let ok = observed.iter().zip(&mark).all(|(o, m)| {
                let o = o.lock().unwrap();
                o.evaluations >= m + 2 && o.runs.last() == Some(&digest)
            });
            if ok {
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "clients did not settle on {what} within {PATIENCE:?}; failures so far: {:?}",
                failures.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    settle(v1, "v1");

    // An evaluation that holds the old pipeline finishes on it.
    let in_flight = reloader.live().current();

    // Swap to v2.
    let v2 = land(&plugins, "v2", &hostile_version("load-v2"), "");
    let report = reloader.reload();
    assert_eq!(
        report.went_live,
        vec![("hostile".to_string(), v2)],
        "{report:?}"
    );
    settle(v2, "v2");
    assert_eq!(
        hostile_digest(&in_flight.evaluate(&request("a hostile word"))),
        Some(v1),
        "a pipeline taken before the swap keeps its version"
    );
    drop(in_flight);

    // A broken version: same plugin, but its config makes every call trap.
    // The smoke test refuses it; v2 keeps serving.
    let broken_bytes = hostile_version("load-broken");
    let broken = land(
        &plugins,
        "broken",
        &broken_bytes,
        "[config]\nbehave = \"trap\"\n",
    );
    let report = reloader.reload();
    assert!(report.went_live.is_empty(), "{report:?}");
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(report.refused[0].1, "smoke-test", "{report:?}");
    assert!(
        report.refused[0].2.contains("trapped"),
        "the refusal says why: {}",
        report.refused[0].2
    );
    settle(v2, "v2 after the broken version was refused");

    // A manifest whose digest does not match its component (a copy cut
    // short): refused at the digest step, before anything is compiled.
    write_atomic(
        &plugins.join("hostile-torn.wasm"),
        &broken_bytes[..broken_bytes.len() / 2],
    );
    let manifest = render(
        "hostile",
        "0.1.0",
        PluginKind::Guardrail,
        &[Stage::Request],
        &PluginDigest::of(&broken_bytes),
        None,
        Some("hostile-torn.wasm"),
    );
    write_atomic(&plugins.join("hostile.toml"), manifest.as_bytes());
    let report = reloader.reload();
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(report.refused[0].1, "digest", "{report:?}");
    settle(v2, "v2 after the torn copy was refused");

    // Back to v1 (its bytes are still in the compile cache).
    let back = land(&plugins, "v1", &v1_bytes, "");
    assert_eq!(back, v1);
    let report = reloader.reload();
    assert_eq!(
        report.went_live,
        vec![("hostile".to_string(), v1)],
        "{report:?}"
    );
    settle(v1, "v1 again");

    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }

    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed evaluations, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let evaluations = total.load(Ordering::Relaxed);
    assert!(evaluations > 0);
    for (i, o) in observed.iter().enumerate() {
        let o = o.lock().unwrap();
        assert!(
            !o.runs.contains(&broken),
            "client {i}: the broken version served"
        );
        assert_eq!(
            o.runs,
            vec![v1, v2, v1],
            "client {i}: decisions are attributed to v1, then v2, then v1 again, never interleaved"
        );
    }
    let m = reloader.metrics();
    assert_eq!(m.plugin_refused_total.get("smoke-test"), Some(&1), "{m:?}");
    assert_eq!(m.plugin_refused_total.get("digest"), Some(&1), "{m:?}");
    assert_eq!(m.swaps_total, 2, "{m:?}");
    assert!(
        m.prometheus()
            .contains("railyard_plugin_reload_refused_total{step=\"smoke-test\"} 1")
    );
}

#[test]
fn a_refused_version_is_not_retried_or_recounted_until_it_changes() {
    let (_root, policy, plugins) = setup(3_600_000);
    let reloader = Reloader::from_file(loader().clone(), &policy).unwrap();
    land(
        &plugins,
        "err",
        &hostile_version("refused-once"),
        "[config]\nbehave = \"error\"\n",
    );
    let first = reloader.reload();
    assert_eq!(first.refused.len(), 1, "{first:?}");
    assert!(
        first.refused[0].2.contains("refuses on purpose"),
        "{first:?}"
    );
    reloader.reload();
    reloader.reload();
    assert_eq!(reloader.metrics().plugin_refused(), 1);
    assert!(hostile_digest(&reloader.live().evaluate(&request("x"))).is_none());
}

#[test]
fn a_bad_policy_is_refused_whole_and_the_running_one_stays() {
    let (_root, policy, plugins) = setup(3_600_000);
    let v1 = land(&plugins, "v1", &hostile_version("policy"), "");
    let reloader = Reloader::from_file(loader().clone(), &policy).unwrap();
    let first = reloader
        .live()
        .evaluate(&request("mail bob@example.com, a hostile word"));
    assert_eq!(first.action, Action::Redact);
    assert_eq!(hostile_digest(&first), Some(v1));

    // A typo: refused, nothing changes.
    std::fs::write(
        &policy,
        "[registry]\ndir = \"plugins\"\n[stages]\nrequest = [\"piii\"]\n",
    )
    .unwrap();
    let report = reloader.reload();
    let error = report.policy_refused.expect("the bad policy is refused");
    assert!(
        error.contains("stages.request[0]") && error.contains("piii"),
        "{error}"
    );
    assert!(!report.swapped);
    let same = reloader.live().evaluate(&request("mail bob@example.com"));
    assert_eq!(same.policy_digest, first.policy_digest);
    assert_eq!(same.action, Action::Redact);
    assert_eq!(reloader.metrics().policy_refused_total, 1);

    // A valid change: replaced, and decisions carry the new policy digest.
    std::fs::write(
        &policy,
        "name = \"secrets-only\"\n[registry]\ndir = \"plugins\"\n[stages]\nrequest = [\"secrets\"]\n",
    )
    .unwrap();
    let report = reloader.reload();
    assert!(report.policy_replaced && report.swapped, "{report:?}");
    let after = reloader
        .live()
        .evaluate(&request("mail bob@example.com, a hostile word"));
    assert_ne!(after.policy_digest, first.policy_digest);
    assert_eq!(after.policy, "secrets-only");
    assert_eq!(after.action, Action::Flag, "pii no longer runs: {after:#?}");
    assert_eq!(
        hostile_digest(&after),
        Some(v1),
        "the folder plugin still runs"
    );
}

/// A policy whose plugin config the plugin refuses (found by the load-time
/// probe) is refused whole on reload: the running policy keeps serving.
#[test]
fn a_policy_with_a_plugin_config_the_plugin_refuses_never_goes_live() {
    let (_root, policy, _plugins) = setup(3_600_000);
    let reloader = Reloader::from_file(loader().clone(), &policy).unwrap();
    let first = reloader.live().evaluate(&request("mail bob@example.com"));
    assert_eq!(first.action, Action::Redact);

    std::fs::write(
        &policy,
        "[registry]\ndir = \"plugins\"\n[plugins.pii]\nbuiltin = \"pii\"\n[plugins.pii.config]\nentities = [\"EMAIL_ADRESS\"]\n[stages]\nrequest = [\"pii\"]\n",
    )
    .unwrap();
    let report = reloader.reload();
    let error = report.policy_refused.expect("the bad config is refused");
    assert!(
        error.contains("plugin `pii`") && error.contains("config key `entities`"),
        "{error}"
    );
    assert!(!report.swapped);
    let same = reloader.live().evaluate(&request("mail bob@example.com"));
    assert_eq!(same.policy_digest, first.policy_digest);
    assert_eq!(same.action, Action::Redact, "{same:#?}");
}

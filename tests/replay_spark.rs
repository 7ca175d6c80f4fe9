//! Replay at table scale: `scripts/replay/spark_replay.py` on PySpark in
//! local mode, over a table two `railyard serve` hosts wrote at once and
//! then compacted (so the folder holds files the Delta log no longer
//! lists). Its changed decisions must equal the single-machine
//! `railyard replay`'s, row for row.

use crate::common;
use crate::replay::{CANDIDATE_POLICY, LIVE_POLICY, chat, railyard, serve, write};

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::http::Upstream;
use serde_json::Value;

/// `(request_id, stage, plugin, live action, candidate action)` of each
/// changed decision.
type Change = (String, String, String, String, String);

fn change(v: &Value) -> Change {
    let s = |k: &str| {
        v[k].as_str()
            .unwrap_or_else(|| panic!("{k} in {v}"))
            .to_string()
    };
    (
        s("request_id"),
        s("stage"),
        s("plugin"),
        s("live_action"),
        s("candidate_action"),
    )
}

#[test]
fn spark_replay_of_a_two_host_table_equals_the_single_machine_replay() {
    let Some(py) = common::python() else { return };
    let java = Command::new("java").arg("-version").output();
    assert!(
        java.as_ref().is_ok_and(|o| o.status.success()),
        "PySpark needs Java 17 (`apt-get install openjdk-17-jre-headless`; ./scripts/test installs it): {java:?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let audit = dir.join("audit");
    let live = write(dir, "live.toml", LIVE_POLICY);
    let candidate = write(dir, "candidate.toml", CANDIDATE_POLICY);

    // Two hosts serve at once, into one table.
    let upstream = Upstream::start();
    let mut a = serve(dir, &audit, "a", &live, &upstream);
    let mut b = serve(dir, &audit, "b", &live, &upstream);
    let texts = |host: &str| -> Vec<String> {
        (0..6)
            .map(|i| {
                if i % 2 == 0 {
                    format!("host {host}: write to user{i}@example.org")
                } else {
                    format!("host {host}: plain question {i}")
                }
            })
            .collect()
    };
    let (ids_a, ids_b) = std::thread::scope(|s| {
        let ta = s.spawn(|| chat(&a, &texts("a")));
        let tb = s.spawn(|| chat(&b, &texts("b")));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    assert!(a.stop() && b.stop(), "the servers did not stop cleanly");
    // One call without its text: not replayable on either engine.
    let none = write(
        dir,
        "none.toml",
        &format!("{LIVE_POLICY}\n[audit]\ncapture = \"none\"\n"),
    );
    let out = railyard(
        dir,
        &[
            "check",
            "--policy",
            none.to_str().unwrap(),
            "--audit",
            audit.to_str().unwrap(),
            "mail carol@example.com",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Compaction leaves the replaced files in the folder until vacuum: a
    // reader that lists the folder would read every call twice.
    let out = Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["log", "optimize"])
        .env("RAILYARD_AUDIT_URL", &audit)
        .env("RAILYARD_STATE_DIR", dir.join("state-optimize"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for table in ["inferences", "decisions"] {
        let (active, on_disk) = common::delta_py::delta_file_counts(&py, &audit.join(table));
        assert!(
            active < on_disk,
            "{table}: compaction left no removed file behind ({active} active, {on_disk} on disk)"
        );
    }

    // The single-machine replay.
    let out = railyard(
        dir,
        &[
            "replay",
            "--json",
            "--audit",
            audit.to_str().unwrap(),
            "--policy",
            candidate.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let single: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: BTreeSet<Change> = single["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(change)
        .collect();
    // Each host's e-mail calls (3 each), at both stages.
    assert_eq!(expected.len(), 12, "{single:#}");
    let hosts: BTreeSet<&str> = single["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["host_id"].as_str().unwrap())
        .collect();
    assert_eq!(hosts.len(), 2, "changes from both hosts: {hosts:?}");
    for (i, id) in ids_a.iter().chain(&ids_b).enumerate() {
        let changed = expected.iter().any(|c| c.0 == *id);
        assert_eq!(changed, i % 6 % 2 == 0, "call {i} ({id})");
    }

    // The Spark job, local mode, over four partitions.
    let out_table = dir.join("spark-changes");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/replay/spark_replay.py");
    let out = Command::new(&py)
        .arg(&script)
        .args(["--audit", audit.to_str().unwrap()])
        .args(["--policy", candidate.to_str().unwrap()])
        .args(["--out-table", out_table.to_str().unwrap()])
        .args(["--railyard", env!("CARGO_BIN_EXE_railyard")])
        .args(["--master", "local[2]", "--partitions", "4"])
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .env("RAILYARD_STATE_DIR", dir.join("state-spark"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "spark_replay.py: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(
        out.stdout
            .split(|b| *b == b'\n')
            .rfind(|l| l.starts_with(b"{"))
            .expect("a JSON summary line"),
    )
    .unwrap();
    for k in [
        "calls",
        "replayed",
        "not_replayable",
        "changed_calls",
        "decisions_changed",
    ] {
        assert_eq!(
            summary[k], single[k],
            "{k}: spark {summary} vs single {single}"
        );
    }
    assert_eq!(summary["calls"], 13);
    assert_eq!(summary["not_replayable"], 1);
    let rows = common::delta_py::delta_rows(&py, &out_table);
    let got: BTreeSet<Change> = rows.iter().map(change).collect();
    assert_eq!(rows.len(), got.len(), "no change written twice");
    assert_eq!(
        got, expected,
        "spark's changed decisions vs railyard replay's"
    );
}

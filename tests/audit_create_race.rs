//! Several hosts creating the same tables at once: each table must get
//! exactly one CREATE (protocol + metaData at version 0, one table id),
//! and every host must go on to land its rows.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

const TABLES: [&str; 3] = ["decisions", "inferences", "judgements"];

fn writer(tmp: &Path, audit: &Path, state: &str, start_at_ms: u128) -> Child {
    Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args([
            "log",
            "soak",
            "--count",
            "1",
            "--caller",
            state,
            "--start-at-ms",
            &start_at_ms.to_string(),
        ])
        .env("RAILYARD_CACHE_DIR", tmp.join("cache"))
        .env("RAILYARD_AUDIT_URL", audit)
        .env("RAILYARD_STATE_DIR", tmp.join(state))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(tmp.join(format!("{state}.stderr"))).unwrap())
        .spawn()
        .expect("start a writer")
}

/// Every action of every commit file, as (version, action name, action).
fn log_actions(table: &Path) -> Vec<(u64, String, serde_json::Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(table.join("_delta_log")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(version) = name
            .strip_suffix(".json")
            .and_then(|v| v.parse::<u64>().ok())
        else {
            continue;
        };
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let (kind, action) = v.as_object().unwrap().iter().next().unwrap();
            out.push((version, kind.clone(), action.clone()));
        }
    }
    out.sort_by_key(|(v, _, _)| *v);
    out
}

#[test]
fn hosts_started_together_create_each_table_once() {
    let tmp = tempfile::tempdir().unwrap();
    // Warm the compile cache so every writer loads its plugins quickly and
    // the start instant below is reached by all of them.
    let mut warm = writer(tmp.path(), &tmp.path().join("warm-audit"), "warm", 0);
    assert!(warm.wait().unwrap().success());

    let writers = 4;
    let trials = 6;
    for trial in 0..trials {
        let audit = tmp.path().join(format!("audit-{trial}"));
        // Far enough ahead that every writer is waiting when it comes; if
        // one is late the race is just less likely, never a false failure.
        let start_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 3_000;
        let mut children: Vec<_> = (0..writers)
            .map(|w| {
                let name = format!("t{trial}-w{w}");
                (name.clone(), writer(tmp.path(), &audit, &name, start_at))
            })
            .collect();
        for (name, child) in &mut children {
            let status = child.wait().unwrap();
            let stderr = std::fs::read_to_string(tmp.path().join(format!("{name}.stderr")));
            assert!(status.success(), "{name} exited {status}: {stderr:?}");
        }
        for table in TABLES {
            let actions = log_actions(&audit.join(table));
            let creates: Vec<_> = actions
                .iter()
                .filter(|(_, kind, _)| kind == "metaData" || kind == "protocol")
                .map(|(v, kind, a)| (*v, kind.clone(), a.get("id").cloned()))
                .collect();
            assert_eq!(
                creates.len(),
                2,
                "trial {trial}, {table}: one protocol and one metaData expected, found {creates:?}"
            );
            assert!(
                creates.iter().all(|(v, _, _)| *v == 0),
                "trial {trial}, {table}: CREATE actions outside version 0: {creates:?}"
            );
            if table != "judgements" {
                // Every writer's rows landed (one payload each; the
                // judgements table gets none from the default policy).
                let adds = actions.iter().filter(|(_, k, _)| k == "add").count();
                assert_eq!(
                    adds, writers,
                    "trial {trial}, {table}: one data file per writer"
                );
            }
        }
    }
}

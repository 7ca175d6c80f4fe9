//! Retention, legal holds and erasure: rows leave the tables only by a
//! deliberate, chained deletion, and `railyard log verify` still passes.
//!
//! Retention runs in a real `railyard serve`'s maintenance over tables
//! holding days 40, 35 (held) and 1 day old; erasure runs as
//! `railyard log erase` over a table written by two hosts (two
//! processes). Rows are read back through the Delta log.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use railyard::audit::{self, DecisionRow, InferenceRow, TableKind, table};
use railyard::cli::log::{read_decisions, read_inferences};
use serde_json::Value;

const SEED: &str = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

fn railyard(tmp: &Path, host: &str, args: &[&str]) -> Output {
    let mut c = command(tmp, host, args);
    c.env("RAILYARD_AUDIT_SIGNING_KEY", SEED);
    c.output().expect("run railyard")
}

fn command(tmp: &Path, host: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_railyard"));
    c.args(args)
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .env("RAILYARD_AUDIT_URL", tmp.join("audit"))
        .env("RAILYARD_STATE_DIR", tmp.join(host))
        .env("RAILYARD_HOST_ID", host)
        .env("RAILYARD_AUDIT_SIGN_SECS", "0")
        .env("RAILYARD_AUDIT_SEGMENT_MS", "20")
        .env_remove("RAILYARD_AUDIT_SIGNING_KEY")
        .env_remove("RAILYARD_AUDIT_SIGNING_KEY_FILE")
        .env_remove("RAILYARD_AUDIT_KEY")
        .env_remove("RAILYARD_AUDIT_VERIFY_KEYS");
    c
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `railyard log verify --json`; `signed`: with the signing key trusted
/// (every chain must then start signed).
fn verify(tmp: &Path, signed: bool) -> Value {
    let o = if signed {
        railyard(tmp, "verifier", &["log", "verify", "--json"])
    } else {
        command(tmp, "verifier", &["log", "verify", "--json"])
            .output()
            .unwrap()
    };
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("verify output: {e}\n{}", String::from_utf8_lossy(&o.stderr)))
}

/// Chain entries of `op` over every table of a verify report.
fn ops(report: &Value, op: &str) -> u64 {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["chains"].as_array().unwrap().iter())
        .map(|c| c["ops"][op].as_u64().unwrap_or(0))
        .sum()
}

fn root(tmp: &Path) -> url::Url {
    audit::root_url(&tmp.join("audit").display().to_string()).unwrap()
}

fn rows(tmp: &Path) -> (Vec<DecisionRow>, Vec<InferenceRow>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let r = root(tmp);
    (
        rt.block_on(read_decisions(&r, &Default::default()))
            .unwrap(),
        rt.block_on(read_inferences(&r, &Default::default()))
            .unwrap(),
    )
}

fn append_only(tmp: &Path, kind: TableKind) -> Option<bool> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let t = table::open_existing(&root(tmp), kind, &Default::default())
            .await
            .unwrap()
            .unwrap();
        t.snapshot().unwrap().table_config().append_only
    })
}

#[test]
fn erasure_on_a_two_host_table_removes_exactly_the_selected_rows_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    for host in ["host-a", "host-b", "host-a"] {
        ok(railyard(
            tmp,
            host,
            &["log", "soak", "--count", "20", "--caller", host],
        ));
    }
    let (decisions, inferences) = rows(tmp);
    assert_eq!(inferences.len(), 60);
    let hosts: BTreeSet<&str> = inferences.iter().map(|r| r.host_id.as_str()).collect();
    assert_eq!(hosts, BTreeSet::from(["host-a", "host-b"]));
    let one = inferences
        .iter()
        .find(|r| r.caller == "host-b")
        .unwrap()
        .request_id
        .clone();

    let out = ok(railyard(
        tmp,
        "eraser",
        &[
            "log",
            "erase",
            "--request-id",
            &one,
            "--by",
            "dpo@example.org",
            "--json",
        ],
    ));
    let report: Value = serde_json::from_str(&out).unwrap();
    let erased = |t: &str| {
        report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["table"] == t)
            .unwrap()["rows"]
            .as_u64()
            .unwrap()
    };
    let expected_decisions = decisions.iter().filter(|d| d.request_id == one).count() as u64;
    assert!(expected_decisions > 0);
    assert_eq!(erased("decisions"), expected_decisions);
    assert_eq!(erased("inferences"), 1);
    ok(railyard(
        tmp,
        "eraser",
        &[
            "log",
            "erase",
            "--caller",
            "host-a",
            "--by",
            "dpo@example.org",
        ],
    ));

    let gone = |request_id: &str, caller: &str| request_id == one || caller == "host-a";
    let (after_d, after_i) = rows(tmp);
    let want_d: BTreeSet<String> = decisions
        .iter()
        .filter(|d| !gone(&d.request_id, &d.caller))
        .map(|d| d.decision_id.clone())
        .collect();
    let got_d: BTreeSet<String> = after_d.iter().map(|d| d.decision_id.clone()).collect();
    assert_eq!(got_d, want_d);
    assert_eq!(after_d.len(), want_d.len(), "no row twice");
    let want_i: BTreeSet<String> = inferences
        .iter()
        .filter(|r| !gone(&r.request_id, &r.caller))
        .map(|r| r.request_id.clone())
        .collect();
    let got_i: BTreeSet<String> = after_i.iter().map(|r| r.request_id.clone()).collect();
    assert_eq!(got_i, want_i);
    assert_eq!(got_i.len(), 19);
    // The remaining rows are the originals, untouched.
    for r in &after_i {
        let before = inferences
            .iter()
            .find(|b| b.request_id == r.request_id)
            .unwrap();
        assert_eq!(r, before);
    }

    let report = verify(tmp, true);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["signatures_checked"], true);
    assert_eq!(ops(&report, "erase"), 4, "two tables, two erasures");
    assert_eq!(
        ops(&report, "append-only-off"),
        ops(&report, "append-only-on")
    );
    for kind in [TableKind::Decisions, TableKind::Inferences] {
        assert_eq!(append_only(tmp, kind), Some(true));
    }
    // Who asked is in the chain entries; the erased identifier is not
    // (only its SHA-256).
    let notes: Vec<Value> = std::fs::read_dir(tmp.join("audit/inferences/_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .filter_map(|a| a.pointer("/commitInfo/railyardChain").cloned())
        .filter(|e| e["op"] == "erase")
        .map(|e| e["note"].clone())
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    for n in &notes {
        assert_eq!(n["by"], "dpo@example.org");
        assert!(!n.to_string().contains(&one), "{n}");
    }
    let selectors: BTreeSet<&str> = notes
        .iter()
        .map(|n| n["selector"].as_str().unwrap())
        .collect();
    assert_eq!(selectors, BTreeSet::from(["caller", "request_id"]));

    let none = railyard(tmp, "eraser", &["log", "erase"]);
    assert!(!none.status.success());
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("exactly one of"),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
}

/// Rows `days_ago` days before now, one per table.
fn old_rows(days_ago: i64, n: usize) -> (Vec<DecisionRow>, Vec<InferenceRow>) {
    let ts = chrono::Utc::now().timestamp_micros() - days_ago * 86_400_000_000;
    let d = (0..n)
        .map(|i| DecisionRow {
            decision_id: format!("d-{days_ago}-{i}"),
            request_id: format!("r-{days_ago}-{i}"),
            timestamp_us: ts,
            host_id: "old-host".into(),
            action: "allow".into(),
            outcome: "ok".into(),
            ..DecisionRow::default()
        })
        .collect();
    let r = (0..n)
        .map(|i| InferenceRow {
            request_id: format!("r-{days_ago}-{i}"),
            timestamp_us: ts,
            host_id: "old-host".into(),
            action: "allow".into(),
            capture: "none".into(),
            ..InferenceRow::default()
        })
        .collect();
    (d, r)
}

#[test]
fn retention_in_serve_drops_old_days_but_never_a_held_one_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let r = root(tmp);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut d = table::open_or_create(&r, TableKind::Decisions, &Default::default())
            .await
            .unwrap();
        let mut i = table::open_or_create(&r, TableKind::Inferences, &Default::default())
            .await
            .unwrap();
        for (seg, days) in [(1u64, 40i64), (2, 35), (3, 1)] {
            let (dr, ir) = old_rows(days, 3);
            let db = audit::schema::decisions_batch(&dr).unwrap();
            let ib = audit::schema::inferences_batch(&ir).unwrap();
            table::commit_segment(&mut d, "railyard:old-host:wal", seg, db, None)
                .await
                .unwrap();
            table::commit_segment(&mut i, "railyard:old-host:wal", seg, ib, None)
                .await
                .unwrap();
        }
    });
    let held = (chrono::Utc::now() - chrono::Duration::days(35))
        .date_naive()
        .to_string();
    let config = format!(
        "[audit]\nretention-days = {{ decisions = 30, inferences = 30 }}\nlegal-hold = [\"{held}\"]\n"
    );
    let cfg = tmp.join("serve.toml");
    std::fs::write(&cfg, config).unwrap();
    let (cache, state, audit_dir) = (common::cache_dir(), tmp.join("serve"), tmp.join("audit"));
    let secs = PathBuf::from("1");
    let key = PathBuf::from(SEED);
    let mut server = common::http::Server::start(
        &["--config", cfg.to_str().unwrap()],
        &[
            ("RAILYARD_CACHE_DIR", cache.as_path()),
            ("RAILYARD_STATE_DIR", state.as_path()),
            ("RAILYARD_AUDIT_URL", audit_dir.as_path()),
            ("RAILYARD_AUDIT_MAINTENANCE_SECS", secs.as_path()),
            ("RAILYARD_AUDIT_SIGNING_KEY", key.as_path()),
        ],
    );
    // Maintenance drops day 40 from both tables (observed in the tables).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (d, i) = rows(tmp);
        let old = |id: &str| id.starts_with("r-40-");
        if !d.iter().any(|x| old(&x.request_id)) && !i.iter().any(|x| old(&x.request_id)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "retention did not run within 120 s: {}",
            server.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(server.stop());
    let (d, i) = rows(tmp);
    let days = |ids: Vec<&str>| {
        ids.into_iter()
            .map(|x| x.split('-').nth(1).unwrap().to_string())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        days(i.iter().map(|x| x.request_id.as_str()).collect()),
        BTreeSet::from(["1".to_string(), "35".to_string()]),
        "day 35 is held, day 1 is young"
    );
    assert_eq!(d.len(), 6);
    assert_eq!(i.len(), 6);
    // Rows written in-process are unsigned: the chains are checked, not
    // the signatures.
    let report = verify(tmp, false);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(ops(&report, "retention"), 2);
    for kind in [TableKind::Decisions, TableKind::Inferences] {
        assert_eq!(append_only(tmp, kind), Some(true));
    }
}

#[test]
fn erasing_an_end_user_removes_their_calls_from_every_table() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let (cache, state, audit_dir) = (common::cache_dir(), tmp.join("serve"), tmp.join("audit"));
    let key = PathBuf::from(SEED);
    let mut server = common::http::Server::start(
        &[],
        &[
            ("RAILYARD_CACHE_DIR", cache.as_path()),
            ("RAILYARD_STATE_DIR", state.as_path()),
            ("RAILYARD_AUDIT_URL", audit_dir.as_path()),
            ("RAILYARD_AUDIT_SIGNING_KEY", key.as_path()),
        ],
    );
    let call = |user: &str| {
        let a = common::http::post(
            server.addr,
            "/v1/guard",
            &[],
            &serde_json::json!({"text": format!("hello from {user}"), "attributes": {"end_user": user}})
                .to_string(),
        );
        assert_eq!(a.status, 200, "{}", a.text());
        a.header("x-railyard-request-id").unwrap().to_string()
    };
    let eve: BTreeSet<String> = [call("eve"), call("eve")].into();
    let frank = call("frank");
    assert!(server.stop());

    ok(railyard(
        tmp,
        "eraser",
        &["log", "erase", "--end-user", "eve", "--by", "dpo"],
    ));
    let (d, i) = rows(tmp);
    let requests = |ids: Vec<&str>| ids.into_iter().map(String::from).collect::<BTreeSet<_>>();
    assert_eq!(
        requests(i.iter().map(|r| r.request_id.as_str()).collect()),
        BTreeSet::from([frank.clone()])
    );
    let left = requests(d.iter().map(|r| r.request_id.as_str()).collect());
    assert_eq!(left, BTreeSet::from([frank]));
    assert!(eve.iter().all(|e| !left.contains(e)));
    let report = verify(tmp, true);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(ops(&report, "erase"), 2);
}

//! The tables as others see them: an independent reader (pyarrow replaying
//! `_delta_log` by hand, and DuckDB's delta extension) finds every
//! decision, and the S3 path works against a local S3-compatible server
//! (moto) on 127.0.0.1.
//!
//! These need the Python tools `scripts/test` installs into `.venv` (and
//! exports as `RAILYARD_TEST_PYTHON`). Without them the tests fail, unless
//! `RAILYARD_SKIP_PYTHON_TESTS=1` asks to skip them.

use crate::common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::python;

fn railyard(envs: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_railyard"));
    c.args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run railyard")
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

fn reader(py: &Path, mode: &str, table: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/audit_reader.py");
    let o = Command::new(py)
        .arg(script)
        .args([mode, table.to_str().unwrap()])
        .output()
        .unwrap();
    serde_json::from_str(&ok(o)).expect("reader prints JSON")
}

#[test]
fn an_independent_reader_finds_every_decision_exactly_once() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    let (cache, state) = (tmp.path().join("cache"), tmp.path().join("state"));
    let envs = [
        ("RAILYARD_CACHE_DIR", cache.to_str().unwrap()),
        ("RAILYARD_AUDIT_URL", audit.to_str().unwrap()),
        ("RAILYARD_STATE_DIR", state.to_str().unwrap()),
    ];
    for i in 0..4 {
        ok(railyard(
            &envs,
            &["check", &format!("reader test {i}: frank@example.com")],
        ));
    }
    // A checkpoint and a compaction: the reader must replay both.
    ok(railyard(&envs, &["log", "checkpoint"]));
    ok(railyard(&envs, &["log", "optimize"]));
    ok(railyard(&envs, &["check", "after the checkpoint"]));
    let ours: Vec<String> = ok(railyard(&envs, &["log", "query", "--json"]))
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["decision_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ours.len(), 15);
    let mut ours_sorted = ours.clone();
    ours_sorted.sort();
    for mode in ["replay", "duckdb"] {
        let theirs = reader(&py, mode, &audit.join("decisions"));
        let mut ids: Vec<String> = theirs["decision_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        ids.sort();
        assert_eq!(ids, ours_sorted, "{mode} reader disagrees");
    }
    let replayed = reader(&py, "replay", &audit.join("decisions"));
    let txn = replayed["txn"].as_object().unwrap();
    assert_eq!(txn.len(), 1, "one writer, one txn app id: {txn:?}");
    assert!(txn.keys().all(|k| k.starts_with("railyard:")));
}

/// moto's S3 server on a free loopback port; killed on drop.
pub(crate) struct Moto {
    child: Child,
    pub(crate) endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn moto(py: &Path) -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(py)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let endpoint = format!("http://127.0.0.1:{port}");
    let m = Moto { child, endpoint };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    m
}

#[test]
fn decisions_reach_an_s3_table_and_read_back() {
    let Some(py) = python() else { return };
    let server = moto(&py);
    let create = Command::new(&py)
        .args([
            "-c",
            "import boto3,sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test').create_bucket(Bucket='audit')",
            &server.endpoint,
        ])
        .output()
        .unwrap();
    ok(create);
    let tmp = tempfile::tempdir().unwrap();
    let (cache, state) = (tmp.path().join("cache"), tmp.path().join("state"));
    let envs = [
        ("RAILYARD_CACHE_DIR", cache.to_str().unwrap()),
        ("RAILYARD_STATE_DIR", state.to_str().unwrap()),
        ("RAILYARD_AUDIT_URL", "s3://audit/railyard"),
        ("AWS_ENDPOINT_URL", server.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let out = ok(railyard(
        &envs,
        &["check", "--json", "s3 test: grace@example.com"],
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let o = railyard(&envs, &["check", "second call"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("warning"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows: Vec<serde_json::Value> = ok(railyard(&envs, &["log", "query", "--json"]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert_eq!(
        rows.iter()
            .filter(|r| r["request_id"] == v["request_id"])
            .count(),
        3
    );
    ok(railyard(&envs, &["log", "checkpoint"]));
}

//! Tamper evidence: tables written by two hosts (two processes, two host
//! ids, a signing key) verify; each kind of tampering is found by
//! `railyard log verify` with the right message; compaction keeps a
//! verified table verifiable.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use deltalake::arrow::array::RecordBatch;
use deltalake::parquet::arrow::ArrowWriter;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use railyard::audit::schema::{Columns, decisions_batch};
use serde_json::Value;

/// A seed for the test signing key (any 32 bytes).
const SEED: &str = "4c0ffee04c0ffee04c0ffee04c0ffee04c0ffee04c0ffee04c0ffee04c0ffee0";

struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn audit(&self) -> PathBuf {
        self.tmp.path().join("audit")
    }

    fn run(&self, host: &str, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_railyard"));
        c.args(args)
            .env("RAILYARD_CACHE_DIR", self.tmp.path().join("cache"))
            .env("RAILYARD_AUDIT_URL", self.audit())
            .env("RAILYARD_STATE_DIR", self.tmp.path().join(host))
            .env("RAILYARD_HOST_ID", host)
            .env("RAILYARD_AUDIT_SIGNING_KEY", SEED)
            .env("RAILYARD_AUDIT_SIGN_SECS", "0")
            .env("RAILYARD_AUDIT_SEGMENT_MS", "20")
            .env_remove("RAILYARD_AUDIT_KEY")
            .env_remove("RAILYARD_AUDIT_VERIFY_KEYS");
        for (k, v) in envs {
            c.env(k, v);
        }
        c.output().expect("run railyard")
    }

    /// Two hosts each record payloads in their own process.
    fn two_hosts() -> Env {
        let env = Env::new();
        for host in ["host-a", "host-b", "host-a"] {
            let o = env.run(
                host,
                &["log", "soak", "--count", "30", "--caller", host],
                &[],
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        env
    }

    fn verify(&self) -> Value {
        self.verify_with(&[])
    }

    fn verify_with(&self, envs: &[(&str, &str)]) -> Value {
        let o = self.run("verifier", &["log", "verify", "--json"], envs);
        let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "verify output: {e}\n{}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        });
        assert_eq!(
            o.status.code(),
            Some(if report["ok"] == true { 0 } else { 1 }),
            "exit code follows the result"
        );
        report
    }

    fn decisions(&self) -> PathBuf {
        self.audit().join("decisions")
    }
}

fn first_break(report: &Value) -> (String, String) {
    let b = &report["first_break"];
    assert!(b.is_object(), "expected a break: {report:#}");
    (
        b["kind"].as_str().unwrap().to_string(),
        b["message"].as_str().unwrap().to_string(),
    )
}

fn assert_verified(report: &Value) {
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["signatures_checked"], true);
}

fn data_files(table: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for part in std::fs::read_dir(table).unwrap() {
        let part = part.unwrap().path();
        if part.is_dir() && !part.ends_with("_delta_log") {
            for f in std::fs::read_dir(part).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "parquet") {
                    out.push(f);
                }
            }
        }
    }
    out.sort();
    out
}

fn commits(table: &Path) -> Vec<PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    out.sort();
    out
}

#[test]
fn an_untouched_two_host_table_verifies_with_signed_chains_per_host() {
    let env = Env::two_hosts();
    let report = env.verify();
    assert_verified(&report);
    let decisions = &report["tables"][0];
    assert_eq!(decisions["table"], "decisions");
    let chains: Vec<String> = decisions["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["chain"].as_str().unwrap().to_string())
        .collect();
    assert!(
        chains.iter().any(|c| c.starts_with("railyard:host-a:")),
        "{chains:?}"
    );
    assert!(
        chains.iter().any(|c| c.starts_with("railyard:host-b:")),
        "{chains:?}"
    );
    // host-a ran twice with one WAL: one chain, continued across processes.
    assert_eq!(chains.len(), 2, "{chains:?}");
    assert!(decisions["files_checked"].as_u64().unwrap() >= 2);
    assert!(decisions["rows_checked"].as_u64().unwrap() >= 90);

    // A key that is not the signer's: every signature is from an unknown key.
    let o = env.run(
        "verifier",
        &["log", "verify", "--json"],
        &[
            ("RAILYARD_AUDIT_SIGNING_KEY", ""),
            (
                "RAILYARD_AUDIT_VERIFY_KEYS",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            ),
        ],
    );
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(first_break(&report).0, "unknown_key", "{report:#}");
}

#[test]
fn a_flipped_byte_in_a_parquet_file_is_found() {
    let env = Env::two_hosts();
    let file = data_files(&env.decisions())[0].clone();
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    let (kind, message) = first_break(&env.verify());
    assert_eq!(kind, "file_changed", "{message}");
    assert!(
        message.contains(file.file_name().unwrap().to_str().unwrap()),
        "{message}"
    );
}

#[test]
fn one_row_rewritten_as_valid_parquet_is_found() {
    let env = Env::two_hosts();
    let file = data_files(&env.decisions())[0].clone();
    let bytes = bytes::Bytes::from(std::fs::read(&file).unwrap());
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
    let file_schema = reader.schema().clone();
    let mut rows = Vec::new();
    for b in reader.build().unwrap() {
        rows.extend(Columns::new(&b.unwrap()).decisions().unwrap());
    }
    rows[0].action = if rows[0].action == "block" {
        "allow"
    } else {
        "block"
    }
    .into();
    let full = decisions_batch(&rows).unwrap();
    let columns: Vec<_> = file_schema
        .fields()
        .iter()
        .map(|f| full.column_by_name(f.name()).unwrap().clone())
        .collect();
    let edited = RecordBatch::try_new(file_schema.clone(), columns).unwrap();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, file_schema, None).unwrap();
    w.write(&edited).unwrap();
    w.close().unwrap();
    std::fs::write(&file, out).unwrap();
    let (kind, message) = first_break(&env.verify());
    assert_eq!(kind, "file_changed", "{message}");
}

#[test]
fn a_deleted_commit_is_found() {
    let env = Env::two_hosts();
    let log = commits(&env.decisions());
    assert!(log.len() >= 4, "{log:?}");
    let victim = &log[log.len() / 2];
    std::fs::remove_file(victim).unwrap();
    let (kind, message) = first_break(&env.verify());
    assert_eq!(kind, "missing_commit", "{message}");
    let version: u64 = victim
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        message.contains(&format!("commit {version} is missing")),
        "{message}"
    );
}

#[test]
fn a_foreign_commit_is_found() {
    let env = Env::two_hosts();
    let table = env.decisions();
    let log = commits(&table);
    // Someone with bucket access adds a copy of a file in a commit of
    // their own (a valid Delta commit, without a chain entry).
    let source = std::fs::read_to_string(&log[1]).unwrap();
    let add: Value = source
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|a| a.get("add").is_some())
        .unwrap();
    let mut add = add;
    let path = add["add"]["path"].as_str().unwrap().to_string();
    let copy = path.replace(".parquet", "-extra.parquet");
    std::fs::copy(table.join(percent(&path)), table.join(percent(&copy))).unwrap();
    add["add"]["path"] = Value::String(copy);
    let next = log.len();
    let info = serde_json::json!({"commitInfo": {"timestamp": 1, "operation": "WRITE"}});
    std::fs::write(
        table.join("_delta_log").join(format!("{next:020}.json")),
        format!("{info}\n{add}\n"),
    )
    .unwrap();
    let (kind, message) = first_break(&env.verify());
    assert_eq!(kind, "foreign_commit", "{message}");
    assert!(message.contains(&format!("commit {next} ")), "{message}");
}

fn percent(p: &str) -> String {
    railyard::audit::table::percent_decode(p)
}

#[test]
fn a_removed_data_file_is_found() {
    let env = Env::two_hosts();
    let file = data_files(&env.decisions())[1].clone();
    std::fs::remove_file(&file).unwrap();
    let (kind, message) = first_break(&env.verify());
    assert_eq!(kind, "file_missing", "{message}");
    assert!(message.contains("is missing"), "{message}");
}

#[test]
fn two_swapped_files_are_found_and_named() {
    let env = Env::two_hosts();
    let files = data_files(&env.decisions());
    let (a, b) = (&files[0], &files[1]);
    let tmp = a.with_extension("tmp");
    std::fs::rename(a, &tmp).unwrap();
    std::fs::rename(b, a).unwrap();
    std::fs::rename(&tmp, b).unwrap();
    let (kind, message) = first_break(&env.verify());
    assert_eq!(kind, "file_changed", "{message}");
    assert!(message.contains("files swapped or copied"), "{message}");
}

#[test]
fn a_compacted_table_still_verifies() {
    let env = Env::two_hosts();
    let before = data_files(&env.decisions()).len();
    let o = env.run("host-a", &["log", "optimize"], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = env.run("host-a", &["log", "checkpoint"], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = env.verify();
    assert_verified(&report);
    let decisions = &report["tables"][0];
    assert!(before > 1);
    assert_eq!(decisions["files_checked"], 1, "{decisions:#}");
    let ops: Vec<&Value> = decisions["chains"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["ops"].get("optimize"))
        .collect();
    assert_eq!(ops.len(), 1, "the compaction is one signed chain entry");
}

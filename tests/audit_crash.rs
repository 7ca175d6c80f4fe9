//! Crash consistency with real processes: a writer killed with SIGKILL at
//! random points loses nothing it acknowledged and duplicates nothing, and
//! two writers on one table both land every row.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn writer(tmp: &Path, state: &str, caller: &str, count: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args([
            "log",
            "soak",
            "--count",
            &count.to_string(),
            "--caller",
            caller,
        ])
        .env("RAILYARD_CACHE_DIR", tmp.join("cache"))
        .env("RAILYARD_AUDIT_URL", tmp.join("audit"))
        .env("RAILYARD_STATE_DIR", tmp.join(state))
        // Small, young segments: many commits per run, so kills land
        // between every pair of states (appended, durable, sealed,
        // committed, deleted).
        .env("RAILYARD_AUDIT_SEGMENT_MS", "20")
        .stdout(Stdio::piped())
        // Kept in the temp dir, so a failed run can say why.
        .stderr(std::fs::File::create(tmp.join(format!("{caller}.stderr"))).unwrap())
        .spawn()
        .expect("start the writer")
}

/// Collects the complete lines a child prints (a line cut by the kill is
/// not an acknowledgement).
fn collect(child: &mut Child) -> (Arc<Mutex<Vec<String>>>, std::thread::JoinHandle<()>) {
    let out = child.stdout.take().unwrap();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let sink = acked.clone();
    let h = std::thread::spawn(move || {
        let mut r = BufReader::new(out);
        let mut line = String::new();
        while r.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(id) = line.strip_suffix('\n') {
                sink.lock().unwrap().push(id.to_string());
            }
            line.clear();
        }
    });
    (acked, h)
}

fn table_ids(tmp: &Path) -> Vec<(String, String)> {
    let o = Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["log", "query", "--json"])
        .env("RAILYARD_AUDIT_URL", tmp.join("audit"))
        .env("RAILYARD_STATE_DIR", tmp.join("reader-state"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["decision_id"].as_str().unwrap().to_string(),
                v["caller"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A pseudo-random number from the clock: the kill points differ run to
/// run, and the seed is printed so a failure can be reasoned about.
fn jitter(seed: &mut u64, range: std::ops::Range<u64>) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    range.start + *seed % (range.end - range.start)
}

#[test]
fn acknowledged_decisions_survive_sigkill_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    // Warm the compile cache so every round's writer starts quickly.
    let mut warm = writer(tmp.path(), "state", "warm", 1);
    assert!(warm.wait().unwrap().success());

    let mut acked: Vec<String> = Vec::new();
    let rounds = 6;
    for round in 0..rounds {
        let mut child = writer(tmp.path(), "state", "crash", 1_000_000);
        let (ids, reader) = collect(&mut child);
        let wait = jitter(&mut seed, 200..1500);
        std::thread::sleep(Duration::from_millis(wait));
        child.kill().expect("SIGKILL the writer");
        child.wait().unwrap();
        reader.join().unwrap();
        let got = ids.lock().unwrap().clone();
        eprintln!(
            "round {round}: killed after {wait} ms with {} acknowledged",
            got.len()
        );
        acked.extend(got);
    }
    assert!(
        acked.len() > 100,
        "the writers acknowledged too little to prove anything: {}",
        acked.len()
    );
    // Recovery: the next process commits what the killed ones left.
    let mut last = writer(tmp.path(), "state", "crash", 1);
    let (ids, reader) = collect(&mut last);
    assert!(last.wait().unwrap().success());
    reader.join().unwrap();
    acked.extend(ids.lock().unwrap().iter().cloned());

    let rows = table_ids(tmp.path());
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (id, _) in &rows {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    let dupes: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        dupes.is_empty(),
        "decisions committed more than once: {dupes:?}"
    );
    let missing: Vec<_> = acked
        .iter()
        .filter(|id| !counts.contains_key(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged decisions are not in the table, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
}

#[test]
fn two_writer_processes_append_to_one_table() {
    let tmp = tempfile::tempdir().unwrap();
    let mut warm = writer(tmp.path(), "state-a", "warm", 1);
    assert!(warm.wait().unwrap().success());
    let started = Instant::now();
    let mut a = writer(tmp.path(), "state-a", "writer-a", 300);
    let mut b = writer(tmp.path(), "state-b", "writer-b", 300);
    let (ids_a, ra) = collect(&mut a);
    let (ids_b, rb) = collect(&mut b);
    for (name, child) in [("writer-a", &mut a), ("writer-b", &mut b)] {
        let status = child.wait().unwrap();
        let stderr = std::fs::read_to_string(tmp.path().join(format!("{name}.stderr")));
        assert!(status.success(), "{name} exited {status}: {stderr:?}");
    }
    ra.join().unwrap();
    rb.join().unwrap();
    eprintln!("two writers: {:?}", started.elapsed());

    let rows = table_ids(tmp.path());
    let ids: HashSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), rows.len(), "no row twice");
    for (name, acked) in [("writer-a", ids_a), ("writer-b", ids_b)] {
        let acked = acked.lock().unwrap();
        assert_eq!(acked.len(), 900, "{name}: 300 payloads × 3 plugins");
        assert!(
            acked.iter().all(|id| ids.contains(id.as_str())),
            "{name} lost rows"
        );
        assert_eq!(rows.iter().filter(|(_, c)| c == name).count(), 900);
    }
}

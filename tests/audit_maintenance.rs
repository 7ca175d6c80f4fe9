//! Table maintenance: compaction while hosts append, and while other hosts
//! compact. Every row must read back through the Delta log exactly once.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::http::{Server, post};
use railyard::audit::maintenance::{commit_compaction, plan_compaction, write_compaction};
use railyard::audit::schema::{Columns, decisions_batch};
use railyard::audit::table::{commit_segment, open_existing, open_or_create, read_batches};
use railyard::audit::worm::Storage;
use railyard::audit::{DecisionRow, TableKind};
use serde_json::{Value, json};
use url::Url;

fn rows(segment: u64, n: usize) -> Vec<DecisionRow> {
    (0..n)
        .map(|i| DecisionRow {
            decision_id: format!("d-{segment}-{i}"),
            request_id: format!("r-{segment}-{i}"),
            timestamp_us: 1_796_400_000_000_000 + (segment * 1_000 + i as u64) as i64,
            stage: "request".into(),
            action: "allow".into(),
            ..DecisionRow::default()
        })
        .collect()
}

async fn decision_ids(root: &Url) -> Vec<String> {
    let t = open_existing(root, TableKind::Decisions, &HashMap::new())
        .await
        .unwrap()
        .unwrap();
    let mut ids = Vec::new();
    for b in read_batches(&t).await.unwrap() {
        ids.extend(
            Columns::new(&b)
                .decisions()
                .unwrap()
                .into_iter()
                .map(|d| d.decision_id),
        );
    }
    ids
}

fn data_files(table: &Path) -> usize {
    let mut n = 0;
    for part in std::fs::read_dir(table).unwrap() {
        let part = part.unwrap().path();
        if part.is_dir() && !part.ends_with("_delta_log") {
            n += std::fs::read_dir(part)
                .unwrap()
                .filter(|f| {
                    f.as_ref()
                        .is_ok_and(|f| f.path().extension().is_some_and(|e| e == "parquet"))
                })
                .count();
        }
    }
    n
}

/// Two hosts plan and write a compaction of the same files from the same
/// version, and an appender commits in between: the first compaction
/// commits, the second finds its files gone and commits nothing (deleting
/// what it wrote), the appender's rows stay, and every row is there once.
#[tokio::test(flavor = "current_thread")]
async fn two_hosts_compacting_the_same_files_commit_it_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Url::from_directory_path(tmp.path()).unwrap();
    let options = HashMap::new();
    let mut writer = open_or_create(&root, TableKind::Decisions, &options)
        .await
        .unwrap();
    for seg in 1..=8 {
        let batch = decisions_batch(&rows(seg, 5)).unwrap();
        commit_segment(&mut writer, "app", seg, batch, None)
            .await
            .unwrap();
    }
    let mut a = open_existing(&root, TableKind::Decisions, &options)
        .await
        .unwrap()
        .unwrap();
    let mut b = open_existing(&root, TableKind::Decisions, &options)
        .await
        .unwrap()
        .unwrap();
    let plan_a = plan_compaction(&a, 128 << 20, 4).unwrap();
    let plan_b = plan_compaction(&b, 128 << 20, 4).unwrap();
    assert_eq!((plan_a.files(), plan_b.files()), (8, 8));
    let files_a = write_compaction(&a, TableKind::Decisions, plan_a, 128 << 20, |_, _| {})
        .await
        .unwrap();
    let files_b = write_compaction(&b, TableKind::Decisions, plan_b, 128 << 20, |_, _| {})
        .await
        .unwrap();
    // An appender commits after both planned: neither compaction may
    // make it fail, and its file is not part of either plan.
    let batch = decisions_batch(&rows(9, 5)).unwrap();
    commit_segment(&mut writer, "app", 9, batch, None)
        .await
        .unwrap();

    let storage = Storage::new(root.clone(), options.clone(), false);
    let done_a = commit_compaction(&mut a, files_a, &storage).await.unwrap();
    assert!(done_a.version.is_some() && !done_a.superseded, "{done_a:?}");
    assert_eq!(done_a.files_removed, 8);
    let done_b = commit_compaction(&mut b, files_b, &storage).await.unwrap();
    assert!(done_b.superseded && done_b.version.is_none(), "{done_b:?}");

    // The appender goes on after a compaction it did not see.
    let batch = decisions_batch(&rows(10, 5)).unwrap();
    commit_segment(&mut writer, "app", 10, batch, None)
        .await
        .unwrap();

    let ids = decision_ids(&root).await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a row read twice");
    assert_eq!(ids.len(), 50, "10 segments × 5 rows");
    // 8 replaced files (kept for readers of older versions), A's compacted
    // file, the two appended after it; B's file is gone.
    assert_eq!(data_files(&tmp.path().join("decisions")), 8 + 1 + 2);
}

/// One guard call: its request id, or the refusal.
fn guard(addr: std::net::SocketAddr, i: usize) -> Result<String, String> {
    let a = post(
        addr,
        "/v1/guard",
        &[],
        &json!({"stage": "request", "messages": [{"role": "user", "content": format!("message {i} for ana{i}@example.org")}]}).to_string(),
    );
    if a.status == 200 {
        Ok(a.header("x-railyard-request-id").unwrap().to_string())
    } else {
        Err(format!("{} {}", a.status, a.text()))
    }
}

fn table_rows(tmp: &Path, table: &str) -> Vec<Value> {
    common::audit_rows(&tmp.join("audit"), &tmp.join("reader"), table, &[])
}

/// Commit files of a table's log with the operation and removes of each.
fn optimize_commits(table: &Path) -> (usize, usize) {
    let (mut commits, mut removes) = (0, 0);
    for entry in std::fs::read_dir(table.join("_delta_log")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("\"operation\":\"OPTIMIZE\"") {
            commits += 1;
            removes += text
                .lines()
                .filter(|l| l.starts_with("{\"remove\""))
                .count();
        }
    }
    (commits, removes)
}

/// Two `railyard serve` hosts append to one audit root under steady
/// traffic, each compacting on its own every second: traffic never fails,
/// and after a clean stop every acknowledged call's rows are in the tables
/// exactly once.
#[test]
fn serving_hosts_compact_while_traffic_flows_and_rows_read_back_once() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let cache = common::cache_dir();
    let audit = tmp.join("audit");
    let start = |state: &str| {
        let state = tmp.join(state);
        Server::start(
            &[],
            &[
                ("RAILYARD_CACHE_DIR", cache.as_path()),
                ("RAILYARD_AUDIT_URL", audit.as_path()),
                ("RAILYARD_STATE_DIR", state.as_path()),
                // Five files a second per host and table: compactable
                // backlogs within seconds.
                ("RAILYARD_AUDIT_SEGMENT_MS", Path::new("200")),
                ("RAILYARD_AUDIT_MAINTENANCE_SECS", Path::new("1")),
                ("RAILYARD_AUDIT_COMPACT_MIN_FILES", Path::new("4")),
                ("RAILYARD_LOG", Path::new("warn,railyard::audit=info")),
            ],
        )
    };
    let mut servers = [start("state-a"), start("state-b")];
    let compacted = |servers: &[Server]| {
        servers
            .iter()
            .map(|s| {
                s.stderr
                    .lock()
                    .unwrap()
                    .matches("audit maintenance: compacted")
                    .count()
            })
            .sum::<usize>()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let refused: Arc<Mutex<Vec<String>>> = Arc::default();
    let clients: Vec<_> = servers
        .iter()
        .flat_map(|s| [s.addr, s.addr])
        .enumerate()
        .map(|(c, addr)| {
            let (stop, acked, refused) = (stop.clone(), acked.clone(), refused.clone());
            std::thread::spawn(move || {
                let mut i = c * 1_000_000;
                while !stop.load(Ordering::SeqCst) {
                    match guard(addr, i) {
                        Ok(id) => acked.lock().unwrap().push(id),
                        Err(e) => {
                            // A refusal ends the run: it is the failure.
                            refused.lock().unwrap().push(e);
                            stop.store(true, Ordering::SeqCst);
                        }
                    }
                    i += 1;
                }
            })
        })
        .collect();
    // Traffic until the hosts have compacted several times between them,
    // then as many calls again, so compactions and appends overlap.
    let logs = |servers: &[Server]| {
        servers
            .iter()
            .map(|s| s.stderr.lock().unwrap().clone())
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut target = None;
    while !stop.load(Ordering::SeqCst) {
        let done = acked.lock().unwrap().len();
        match target {
            None if compacted(&servers) >= 6 => target = Some(done * 2),
            Some(t) if done >= t => break,
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "waited 300 s for six compactions and as many calls again ({done} calls); host logs: {}",
            logs(&servers)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let refused = refused.lock().unwrap().clone();
    assert!(
        refused.is_empty(),
        "calls refused during maintenance: {refused:?}; host logs: {}",
        logs(&servers)
    );
    for s in &mut servers {
        assert!(
            s.stop(),
            "a host did not stop cleanly: {}",
            s.stderr.lock().unwrap()
        );
    }
    for s in &servers {
        let log = s.stderr.lock().unwrap();
        assert!(
            !log.contains("audit maintenance failed") && !log.contains("commit to Delta failed"),
            "{log}"
        );
    }

    let acked = acked.lock().unwrap();
    let inferences = table_rows(tmp, "inferences");
    let decisions = table_rows(tmp, "decisions");
    let mut per_request: HashMap<&str, usize> = HashMap::new();
    for i in &inferences {
        *per_request
            .entry(i["request_id"].as_str().unwrap())
            .or_default() += 1;
    }
    assert!(
        per_request.values().all(|n| *n == 1),
        "an inferences row read twice"
    );
    assert_eq!(inferences.len(), acked.len(), "one inferences row per call");
    assert!(acked.iter().all(|id| per_request.contains_key(id.as_str())));
    let ids: HashSet<&str> = decisions
        .iter()
        .map(|d| d["decision_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), decisions.len(), "a decisions row read twice");
    assert_eq!(decisions.len(), acked.len() * 3, "three plugins per call");
    let (commits, removes) = optimize_commits(&audit.join("decisions"));
    assert!(
        commits >= 1 && removes >= 4,
        "compactions committed: {commits}, files replaced: {removes}"
    );
}

//! What one audit maintenance round leaves in the heap, in proportion to
//! the data it compacted (issue 19, target 6), read deterministically in
//! one process instead of in a soak.
//!
//! It plays `railyard serve`'s two audit threads on a `decisions` table in
//! a temp dir, in simulated time (no waiting): a committer that keeps its
//! table open and commits one segment of `RATE` rows a simulated second
//! (reading the table afresh every `REOPEN` commits, as
//! `RAILYARD_AUDIT_REOPEN_COMMITS` does), and a maintenance thread with its
//! own runtime, kept for the whole run as in `serve`, that runs
//! `audit::maintain_round` every `SECS` simulated seconds and then returns
//! the free heap (`malloc_trim(0)`, as `serve` does after a round;
//! `TRIM=0` leaves it out). Before each round the committer's table is read
//! afresh and one segment committed, and the heap in use read (glibc's
//! `mallinfo2`, the figure `/metrics` exposes as
//! `railyard_heap_in_use_bytes`); after the round the same again. So the
//! committer's saw-tooth (its open table's state grows with every commit
//! until the next reopen) is at the same point in both readings, and
//!
//!     kept by round k = heap after round k - heap before round k
//!
//! Rows a second stand for the call rate: the fast server of
//! `scripts/serve_heap/per_call.py` (~200 calls/s) writes ~20 times the
//! slow one's (10 calls/s) data in the same time. Run it at two or three
//! rates, one process each (a process's high-water marks are its own):
//!
//! ```sh
//! MALLOC_ARENA_MAX=2 RATE=30 cargo bench -p railyard --bench maintenance_heap
//! MALLOC_ARENA_MAX=2 RATE=600 cargo bench -p railyard --bench maintenance_heap
//! ```
//!
//! Knobs: `RATE` (rows a simulated second, 300), `SECS` (simulated seconds
//! between rounds, 300), `ROUNDS` (3), `REOPEN` (200), `TRIM` (1),
//! `EXIT_AFTER_ROUND` (exit right after that round's reading without
//! dropping anything, so that heaptrack's "leaked" lists what was live
//! then).

use std::collections::HashMap;
use std::sync::mpsc;

use deltalake::DeltaTable;
use railyard::audit::schema::decisions_batch;
use railyard::audit::table::{commit_segment, open_or_create};
use railyard::audit::{MaintenanceSettings, TableKind, maintain_round};
use url::Url;

#[path = "common/decision_row.rs"]
mod decision_row;
use decision_row::row;

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Heap in use: live allocations, small and mapped on their own.
fn heap() -> u64 {
    // SAFETY: reads the allocator's statistics under its own locks.
    let m = unsafe { libc::mallinfo2() };
    (m.uordblks + m.hblkhd) as u64
}

/// Anonymous resident memory (heap and stacks), from `/proc/self/status`.
fn rss_anon() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("RssAnon:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb << 10)
        .unwrap_or(0)
}

fn trim() {
    // SAFETY: walks the allocator's free lists under its locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn mib(b: u64) -> f64 {
    b as f64 / (1 << 20) as f64
}

struct Committer {
    root: Url,
    table: Option<DeltaTable>,
    since_open: u64,
    reopen: u64,
    rate: usize,
    second: u64,
}

impl Committer {
    async fn commit(&mut self) {
        if self.table.is_none() {
            self.table = Some(
                open_or_create(&self.root, TableKind::Decisions, &HashMap::new())
                    .await
                    .expect("open"),
            );
        }
        self.second += 1;
        let rows: Vec<_> = (0..self.rate)
            .map(|i| row(self.second, i, self.rate))
            .collect();
        commit_segment(
            self.table.as_mut().expect("opened"),
            "heap",
            self.second,
            decisions_batch(&rows).expect("batch"),
            None,
        )
        .await
        .expect("commit");
        self.since_open += 1;
        if self.since_open >= self.reopen {
            self.drop_table();
        }
    }

    /// Drops the open table (read afresh at the next commit) and returns
    /// the free heap, as the committer does.
    fn drop_table(&mut self) {
        self.table = None;
        self.since_open = 0;
        trim();
    }
}

fn main() {
    // `cargo bench -- --list` and the like: nothing to list.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rate = knob("RATE", 300) as usize;
    let secs = knob("SECS", 300);
    let rounds = knob("ROUNDS", 3);
    let reopen = knob("REOPEN", 200);
    let trim_after = knob("TRIM", 1) == 1;
    let exit_after = knob("EXIT_AFTER_ROUND", 0);

    let tmp = tempfile::tempdir().expect("temp dir");
    let root = Url::from_directory_path(tmp.path()).expect("url");

    // The maintenance thread: its own runtime for the whole run, as in serve.
    let (ask, asked) = mpsc::channel::<()>();
    let (tell, told) = mpsc::channel::<()>();
    let m_root = root.clone();
    let maintainer = std::thread::Builder::new()
        .name("maintenance".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let settings = MaintenanceSettings::default();
            for () in asked {
                rt.block_on(maintain_round(&m_root, &HashMap::new(), &settings))
                    .expect("round");
                if trim_after {
                    trim();
                }
                tell.send(()).expect("main waits");
            }
        })
        .expect("thread");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut c = Committer {
        root: root.clone(),
        table: None,
        since_open: 0,
        reopen,
        rate,
        second: 0,
    };
    println!(
        "rate {rate} rows/s, round every {secs} s, reopen every {reopen} commits, trim after round: {trim_after}"
    );
    println!(
        "round | data files MiB before | heap before | after, table kept open | after, read afresh | kept | RssAnon before | after | kept"
    );
    let mut first_before = None;
    for k in 1..=rounds {
        rt.block_on(async {
            for _ in 0..secs - 1 {
                c.commit().await;
            }
            // The reading before: the table read afresh, one commit.
            c.drop_table();
            c.commit().await;
        });
        let on_disk = data_bytes(tmp.path());
        let before = heap();
        let rss_before = rss_anon();
        first_before.get_or_insert(before);
        ask.send(()).expect("maintainer runs");
        told.recv().expect("round done");
        // The committer's open table brought up to date through the
        // compaction's commit, as in serve between reopens.
        rt.block_on(c.commit());
        let kept_open = heap();
        rt.block_on(async {
            c.drop_table();
            c.commit().await;
        });
        let after = heap();
        let rss_after = rss_anon();
        println!(
            "{k} | {:.1} | {:.2} | {:.2} | {:.2} | {:+.2} MiB | {:.1} | {:.1} | {:+.1} MiB",
            mib(on_disk),
            mib(before),
            mib(kept_open),
            mib(after),
            mib(after) - mib(before),
            mib(rss_before),
            mib(rss_after),
            mib(rss_after) - mib(rss_before),
        );
        if k == exit_after {
            std::process::exit(0);
        }
    }
    let end = heap();
    println!(
        "over all rounds: {:+.2} MiB (heap before round 1 -> after round {rounds})",
        mib(end) - mib(first_before.unwrap_or(end))
    );
    drop(ask);
    maintainer.join().expect("maintainer");
}

/// Bytes of data files (not the log) under `dir`.
fn data_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "_delta_log") {
                total += data_bytes(&p);
            }
        } else if p.extension().is_some_and(|x| x == "parquet") {
            total += e.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    total
}

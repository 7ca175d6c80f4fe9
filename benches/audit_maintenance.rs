//! Tables that stay readable: file count and a reader's full-scan time
//! after N simulated minutes of one host's traffic, with and without the
//! maintenance `railyard serve` runs by itself, side by side.
//!
//! Simulation: one host at a fixed rate commits one segment a second (the
//! default segment age) of `ROWS_PER_SECOND` `decisions` rows, through
//! the committer's own `table::commit_segment` (so delta-rs's checkpoint
//! every 100 versions happens in both arms). The "auto" arm runs
//! `audit::maintain_round` with the default settings every 5 simulated
//! minutes (the default interval: 300 commits). Simulated time is commits,
//! not wall time, so a 30-minute day runs in about a minute.
//!
//! Arms: `without` maintenance; `auto` measured right after a round (N is
//! a multiple of 5 minutes: the best case); `auto-late`, four minutes of
//! traffic later (N + 4 minutes, the round before the next: the worst case
//! between rounds).
//!
//! Measured (`audit_maintenance/full_scan/{arm}/{N}min`): a new
//! reader opening the table from its log (checkpoint + commits) and
//! reading every row of every live file, as `railyard log query` does.
//! The file counts (live files in the table version, and Parquet files on
//! disk, replaced ones included until vacuum) are printed before each
//! group.
//!
//! Run: `cargo bench -p railyard --bench audit_maintenance`.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use railyard::audit::schema::decisions_batch;
use railyard::audit::table::{commit_segment, open_existing, open_or_create, read_batches};
use railyard::audit::{MaintenanceSettings, TableKind, maintain_round};
use url::Url;

#[path = "common/decision_row.rs"]
mod decision_row;
use decision_row::row;

/// Decisions a second: ~100 calls a second through the default policy's
/// three plugins.
const ROWS_PER_SECOND: usize = 300;
/// The default maintenance interval, in simulated seconds.
const MAINTENANCE_EVERY: u64 = 300;

/// Writes `minutes` of traffic into a fresh table under `root`, with or
/// without maintenance every 5 simulated minutes.
async fn simulate(root: &Url, minutes: u64, auto: bool) {
    let options = HashMap::new();
    let mut t = open_or_create(root, TableKind::Decisions, &options)
        .await
        .unwrap();
    let settings = MaintenanceSettings::default();
    for second in 1..=minutes * 60 {
        let rows: Vec<_> = (0..ROWS_PER_SECOND)
            .map(|i| row(second, i, ROWS_PER_SECOND))
            .collect();
        commit_segment(
            &mut t,
            "bench",
            second,
            decisions_batch(&rows).unwrap(),
            None,
        )
        .await
        .unwrap();
        if auto && second % MAINTENANCE_EVERY == 0 {
            maintain_round(root, &options, &settings).await.unwrap();
        }
    }
}

async fn full_scan(root: &Url) -> usize {
    let t = open_existing(root, TableKind::Decisions, &HashMap::new())
        .await
        .unwrap()
        .unwrap();
    read_batches(&t)
        .await
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum()
}

fn parquet_on_disk(dir: &Path) -> usize {
    walk(dir)
        .iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "parquet")
                && !p.to_string_lossy().contains("_delta_log")
        })
        .count()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("audit_maintenance/full_scan");
    group.sample_size(10);
    for base in [10u64, 30] {
        for (arm, auto, minutes) in [
            ("without", false, base),
            ("auto", true, base),
            ("auto-late", true, base + 4),
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let root = Url::from_directory_path(tmp.path()).unwrap();
            rt.block_on(simulate(&root, minutes, auto));
            let live = rt.block_on(async {
                let t = open_existing(&root, TableKind::Decisions, &HashMap::new())
                    .await
                    .unwrap()
                    .unwrap();
                t.snapshot().unwrap().log_data().into_iter().count()
            });
            let rows = rt.block_on(full_scan(&root));
            assert_eq!(rows as u64, minutes * 60 * ROWS_PER_SECOND as u64);
            eprintln!(
                "audit_maintenance {arm}/{minutes}min: {rows} rows, {live} live files, {} Parquet files on disk",
                parquet_on_disk(&tmp.path().join("decisions"))
            );
            group.bench_function(format!("{arm}/{minutes}min"), |b| {
                b.iter(|| black_box(rt.block_on(full_scan(&root))))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The audit log: what recording a decision costs the request path, and
//! how many decisions per second reach Delta end to end.
//!
//! - `audit/record` — hot-path cost of `AuditLog::record` for one
//!   evaluation of the default request chain (3 decisions + 1 inference
//!   row) with `durability = async` (the caller returns once the rows are
//!   in the WAL buffer; fsync is the background flusher's), with the
//!   committer idle (segments do not seal during the run). Throughput is
//!   reported per decision row.
//! - `audit/record_fsync` — the same with `durability = fsync` from 8
//!   threads: the acknowledged, group-committed cost per decision.
//!   `record_fsync_sealing` seals a segment every second as `serve` does
//!   (the committer running), with the WAL's segments preallocated (the
//!   default); `record_fsync_sealing_appended` the same with them growing
//!   by appends (`RAILYARD_AUDIT_WAL_PREALLOCATE=off`): the pair is what
//!   preallocation takes off an acknowledged record.
//! - `audit/sustained` — 64 threads (a server's requests in flight) record
//!   3,125 evaluations each (`fsync`: every record waits for its group
//!   fsync), then `flush` waits until every row is committed to a local
//!   Delta table: decisions per second through WAL, Parquet and commits.
//!   With few writers the rate is bounded by writers × rows per fsync
//!   latency instead (8 writers: ~25,000/s here).
//! - `..._json` — each of the three with the WAL records in JSON (the
//!   format before the binary records, `RecordFormat::Json`), measured in
//!   the same run for the ratio.
//!
//! - `audit_chain/commit_1000_rows` — one chained commit of 1,000 decision
//!   rows to a local table (Parquet write, read-back and SHA-256 of the
//!   file, chain entry, Delta commit); `audit_chain/chain_part` — the part
//!   of it that chaining adds (read-back, SHA-256, entry hash, ed25519
//!   signature); `audit_chain/commit_1000_rows_no_chain` — the same
//!   commit without the chain (Parquet write, Delta commit with the same
//!   `txn`, the same state refresh first), side by side with the chained
//!   one: their difference is what chaining costs the commit path.
//! - `audit_chain/verify` — `log verify` of a 20-commit table (20,000
//!   rows): MB/s of data files hashed (rows/s = 20,000 / time).
//!
//! Run: `cargo bench -p railyard --bench audit` (one pair:
//! `-- 'audit/record(_json)?$'`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use railyard::audit::{
    AuditLog, AuditSettings, CallInfo, Capture, Durability, RecordContext, RecordFormat,
};
use railyard::engine::{EngineSettings, RailyardEngine};
use railyard::plugin::PluginLoader;
use railyard::{Evaluation, Payload, Pipeline, Policy, Stage};

fn evaluation() -> (Payload, Evaluation) {
    let cache = tempfile::tempdir().unwrap().keep();
    let engine = RailyardEngine::new(EngineSettings {
        pool_instances: 64,
        max_plugin_memory: 256 << 20,
        cache_dir: Some(cache),
        ..EngineSettings::default()
    })
    .unwrap();
    let loader = PluginLoader::new(engine).unwrap();
    let pipeline = Pipeline::load(&loader, Policy::embedded_default()).unwrap();
    let mut payload = Payload::text(
        Stage::Request,
        "Contact the account owner at maria.gonzalez@example.com if the invoice total does not match the purchase order.",
    );
    payload.caller = "bench".into();
    payload.route = "gpt-bench".into();
    let e = pipeline.evaluate(&payload);
    (payload, e)
}

/// An audit log in a temp dir. `quiet`: segments never seal during the
/// run, so the committer stays idle and what is measured is the recording
/// thread alone (on 2 cores, a committer draining 100,000+ rows/s takes
/// the other core and more).
fn open(
    durability: Durability,
    quiet: bool,
    format: RecordFormat,
    preallocate: bool,
) -> (tempfile::TempDir, AuditLog) {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = AuditSettings::new(
        tmp.path().join("audit").display().to_string(),
        tmp.path().join("state"),
    );
    s.durability = durability;
    s.host_id = Some("bench".into());
    s.hash_key = Some(b"bench key".to_vec());
    s.backlog_limit_bytes = 64 << 30;
    s.wal_format = format;
    s.wal_preallocate = preallocate;
    if quiet {
        s.segment_bytes = 16 << 30;
        s.segment_age = Duration::from_secs(3600);
    }
    let log = AuditLog::open(s).unwrap();
    (tmp, log)
}

fn ctx(p: &Payload) -> RecordContext<'_> {
    RecordContext {
        payload: p,
        capture: Capture::Redacted,
        call: Some(CallInfo::default()),
    }
}

fn bench(c: &mut Criterion) {
    let (payload, e) = evaluation();
    let decisions = e.decisions.len() as u64;
    let mut g = c.benchmark_group("audit");
    g.throughput(Throughput::Elements(decisions));
    // Each measurement twice, side by side: the binary WAL records
    // (`record`, ...) and the JSON records of earlier versions
    // (`record_json`, ...), which the reader still takes.
    for (suffix, format) in [("", RecordFormat::Binary), ("_json", RecordFormat::Json)] {
        let (_tmp, log) = open(Durability::Async, true, format, true);
        g.bench_function(format!("record{suffix}"), |b| {
            b.iter(|| black_box(log.record(black_box(&e), &ctx(&payload)).unwrap()))
        });
    }
    // The fsync pair, and then the binary records again with segments
    // sealed every second (as in `serve`), with the WAL's segments
    // preallocated (the default) and growing by appends: a quiet run's
    // one segment outgrows any preallocation.
    for (suffix, format, quiet, preallocate) in [
        ("", RecordFormat::Binary, true, true),
        ("_json", RecordFormat::Json, true, true),
        ("_sealing", RecordFormat::Binary, false, true),
        ("_sealing_appended", RecordFormat::Binary, false, false),
    ] {
        let (_tmp, log) = open(Durability::Fsync, quiet, format, preallocate);
        let log = Arc::new(log);
        let (payload, e) = (Arc::new(payload.clone()), Arc::new(e.clone()));
        g.bench_function(format!("record_fsync{suffix}"), |b| {
            b.iter_custom(|iters| {
                let threads = 8u64;
                let per = iters.div_ceil(threads);
                let started = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        let (log, payload, e) = (log.clone(), payload.clone(), e.clone());
                        s.spawn(move || {
                            for _ in 0..per {
                                log.record(&e, &ctx(&payload)).unwrap();
                            }
                        });
                    }
                });
                started.elapsed()
            })
        });
    }
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    for (suffix, format) in [("", RecordFormat::Binary), ("_json", RecordFormat::Json)] {
        g.bench_function(format!("sustained{suffix}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (_tmp, log) = open(Durability::Fsync, false, format, true);
                    let log = Arc::new(log);
                    let (payload, e) = (Arc::new(payload.clone()), Arc::new(e.clone()));
                    let started = Instant::now();
                    std::thread::scope(|s| {
                        for _ in 0..64 {
                            let (log, payload, e) = (log.clone(), payload.clone(), e.clone());
                            s.spawn(move || {
                                for _ in 0..3_125 {
                                    log.record(&e, &ctx(&payload)).unwrap();
                                }
                            });
                        }
                    });
                    log.flush(Duration::from_secs(600)).unwrap();
                    let elapsed = started.elapsed();
                    eprintln!(
                        "sustained{suffix}: {} decisions in {:?} = {:.0} decisions/s",
                        200_000 * decisions,
                        elapsed,
                        (200_000 * decisions) as f64 / elapsed.as_secs_f64()
                    );
                    // Criterion divides by the group's throughput (one
                    // evaluation's decisions); scale to one evaluation.
                    total += elapsed / 200_000;
                }
                total
            })
        });
    }
    g.finish();
}

fn decision_rows(segment: u64, n: usize) -> Vec<railyard::audit::DecisionRow> {
    (0..n)
        .map(|i| railyard::audit::DecisionRow {
            decision_id: format!("d-{segment}-{i}"),
            request_id: format!("r-{segment}-{i}"),
            timestamp_us: 1_796_400_000_000_000 + (segment * 10_000 + i as u64) as i64,
            stage: "request".into(),
            action: "allow".into(),
            reason: "no finding".into(),
            ..Default::default()
        })
        .collect()
}

fn chain(c: &mut Criterion) {
    use railyard::audit::TableKind;
    use railyard::audit::chain::{self, verify};
    use railyard::audit::schema::decisions_batch;
    use railyard::audit::table::{commit_segment, open_or_create, table_store};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = url::Url::from_directory_path(tmp.path()).unwrap();
    let options = std::collections::HashMap::new();
    let mut table = rt
        .block_on(open_or_create(&root, TableKind::Decisions, &options))
        .unwrap();
    let mut g = c.benchmark_group("audit_chain");
    g.sample_size(20);
    let mut seg = 0u64;
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("commit_1000_rows", |b| {
        b.iter(|| {
            seg += 1;
            let batch = decisions_batch(&decision_rows(seg, 1_000)).unwrap();
            rt.block_on(commit_segment(&mut table, "bench", seg, batch, None))
                .unwrap();
        })
    });
    // The same commit, unchained, on its own table (so the two tables grow
    // alike): what `table::commit_segment` does minus the read-back,
    // hashing, chain entry and signature.
    let utmp = tempfile::tempdir().unwrap();
    let uroot = url::Url::from_directory_path(utmp.path()).unwrap();
    let mut unchained = rt
        .block_on(open_or_create(&uroot, TableKind::Decisions, &options))
        .unwrap();
    let mut useg = 0u64;
    g.bench_function("commit_1000_rows_no_chain", |b| {
        b.iter(|| {
            useg += 1;
            let batch = decisions_batch(&decision_rows(useg, 1_000)).unwrap();
            rt.block_on(commit_unchained(&mut unchained, "bench", useg, batch));
        })
    });
    if table
        .snapshot()
        .unwrap()
        .log_data()
        .into_iter()
        .next()
        .is_none()
    {
        // `commit_1000_rows` was filtered out: one commit to hash (segment
        // 1, numbered as that bench numbers them), then the table state
        // read again so its file is seen.
        let batch = decisions_batch(&decision_rows(1, 1_000)).unwrap();
        rt.block_on(commit_segment(&mut table, "bench", 1, batch, None))
            .unwrap();
        rt.block_on(table.update_state()).unwrap();
    }
    let file = table
        .snapshot()
        .unwrap()
        .log_data()
        .into_iter()
        .next()
        .map(|f| f.path().into_owned())
        .unwrap();
    g.bench_function("chain_part", |b| {
        b.iter(|| {
            rt.block_on(async {
                let h = chain::hash_file(&table, &file).await.unwrap();
                let e = chain::next_entry(
                    &table,
                    "bench-part",
                    true,
                    "append",
                    vec![h],
                    Vec::new(),
                    serde_json::Value::Null,
                )
                .await
                .unwrap();
                black_box(chain::Signer::from_seed([7; 32]).sign_hash(&e.hash));
            })
        })
    });
    // The table for verify: 20 commits of 1,000 rows.
    let vtmp = tempfile::tempdir().unwrap();
    let vroot = url::Url::from_directory_path(vtmp.path()).unwrap();
    let mut vt = rt
        .block_on(open_or_create(&vroot, TableKind::Decisions, &options))
        .unwrap();
    for s in 1..=20 {
        let batch = decisions_batch(&decision_rows(s, 1_000)).unwrap();
        rt.block_on(commit_segment(&mut vt, "bench", s, batch, None))
            .unwrap();
    }
    let store = table_store(&vroot, TableKind::Decisions, &options).unwrap();
    let opts = verify::Options::default();
    let probe = rt
        .block_on(verify::verify_table("decisions", store.as_ref(), &opts))
        .unwrap();
    assert!(probe.breaks.is_empty(), "{:?}", probe.breaks);
    g.throughput(Throughput::Bytes(probe.bytes_checked));
    g.bench_function("verify", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(verify::verify_table("decisions", store.as_ref(), &opts))
                    .unwrap(),
            )
        })
    });
    g.finish();
}

/// One append commit of `batch` as segment `seg` of `app_id`, as the
/// committer makes it but without a chain entry (the benchmark's
/// baseline).
async fn commit_unchained(
    table: &mut deltalake::DeltaTable,
    app_id: &str,
    seg: u64,
    batch: deltalake::arrow::array::RecordBatch,
) {
    use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
    use deltalake::kernel::{Action, Transaction};
    use deltalake::parquet::basic::{Compression, ZstdLevel};
    use deltalake::parquet::file::properties::WriterProperties;
    use deltalake::protocol::{DeltaOperation, SaveMode};
    use deltalake::writer::{DeltaWriter, RecordBatchWriter};
    // `commit_segment` refreshes the state first too (the txn check).
    table.update_state().await.unwrap();
    let mut writer = RecordBatchWriter::for_table(table)
        .unwrap()
        .with_writer_properties(
            WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .build(),
        );
    writer.write(batch).await.unwrap();
    let adds = writer.flush().await.unwrap();
    CommitBuilder::from(
        CommitProperties::default()
            .with_application_transaction(Transaction::new(app_id, seg as i64))
            .with_cleanup_expired_logs(Some(false)),
    )
    .with_actions(adds.into_iter().map(Action::Add).collect())
    .build(
        Some(table.snapshot().unwrap()),
        table.log_store(),
        DeltaOperation::Write {
            mode: SaveMode::Append,
            partition_by: Some(vec!["date".to_string()]),
            predicate: None,
        },
    )
    .await
    .unwrap();
}

criterion_group!(benches, bench, chain);
criterion_main!(benches);

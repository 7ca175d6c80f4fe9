//! Output rails on a streamed answer, side by side: the response chain of
//! the default policy (`pii`, `secrets`) run through the detectors' own
//! stream scanners (pushed every 32 bytes, the default, and on every
//! piece), the same plugins host-buffered (`scanner = false`: the
//! host re-runs whole-text `detect` on the answer so far every `holdback`
//! bytes), and the same answer evaluated once, unstreamed.
//!
//! Each iteration is one whole answer: a `StreamGuard` is made, the answer
//! is pushed in 16-byte pieces (a few tokens per server-sent event, as
//! upstreams send them) and finished; the result includes every release
//! and the final verdict.
//!
//! Run: `cargo bench -p railyard --bench streaming`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use railyard::engine::{EngineSettings, RailyardEngine};
use railyard::pipeline::stream::{DEFAULT_SCAN_BATCH, StreamGuard};
use railyard::plugin::PluginLoader;
use railyard::{Payload, Pipeline, Policy, Stage};

/// An answer as a model writes it: prose, with an entity now and then.
const SENTENCES: &[&str] = &[
    "Here is a summary of the quarterly report for the leadership meeting. ",
    "Revenue grew in every region except the north, where a supplier issue delayed orders. ",
    "If the numbers look wrong, contact the finance lead at maria.gonzalez@example.com. ",
    "The migration plan has three phases, each with its own rollback procedure. ",
    "First, the read replicas move; second, the writers; third, the old cluster is retired. ",
    "The on-call engineer can be reached at +44 20 7946 0958 during the cut-over. ",
    "Remember that the staging key AKIAZ3MXQ7R4TWPLK2VN must never reach production. ",
    "Overall the risk is moderate and the schedule holds if the vendor delivers on time. ",
];

fn answer(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 128);
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(SENTENCES[i % SENTENCES.len()]);
        i += 1;
    }
    text.truncate(bytes);
    text
}

const PIECE: usize = 16;
const HOLDBACK: usize = 64;
const SIZES: &[(usize, &str)] = &[(2048, "2KiB"), (16384, "16KiB")];

fn stream(pipeline: &Arc<Pipeline>, text: &str, batch: usize) -> usize {
    let mut guard = StreamGuard::new(
        pipeline.clone(),
        Payload::text(Stage::Response, ""),
        HOLDBACK,
    )
    .scan_batch(batch);
    let mut out = 0;
    for piece in text.as_bytes().chunks(PIECE) {
        // The answers are ASCII, so every 16-byte cut is a boundary.
        out += guard.push(std::str::from_utf8(piece).unwrap()).len();
    }
    let end = guard.finish();
    out + end.tail.map_or(0, |t| t.len())
}

fn streaming(c: &mut Criterion) {
    let engine = RailyardEngine::new(EngineSettings {
        cache_dir: Some(std::env::temp_dir().join("railyard-bench-cache")),
        ..EngineSettings::default()
    })
    .expect("engine");
    let loader = PluginLoader::new(engine).expect("loader");
    let scanners = Arc::new(Pipeline::load(&loader, Policy::embedded_default()).expect("default"));
    let buffered = Arc::new(
        Pipeline::load(
            &loader,
            Policy::from_toml(
                "name = \"buffered\"\n[plugins.pii]\nbuiltin = \"pii\"\nscanner = false\n[plugins.secrets]\nbuiltin = \"secrets\"\nscanner = false\n[stages]\nresponse = [\"pii\", \"secrets\"]\n",
                None,
            )
            .expect("buffered policy"),
        )
        .expect("buffered pipeline"),
    );

    let mut group = c.benchmark_group("stream-answer");
    group.measurement_time(Duration::from_secs(8));
    for &(size, label) in SIZES {
        let text = answer(size);
        // Same output both ways, or the comparison means nothing.
        assert_eq!(
            stream(&scanners, &text, DEFAULT_SCAN_BATCH),
            stream(&buffered, &text, 1)
        );
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("scanners", label), &text, |b, t| {
            b.iter(|| black_box(stream(&scanners, black_box(t), DEFAULT_SCAN_BATCH)))
        });
        group.bench_with_input(
            BenchmarkId::new("scanners-every-piece", label),
            &text,
            |b, t| b.iter(|| black_box(stream(&scanners, black_box(t), 1))),
        );
        group.bench_with_input(BenchmarkId::new("host-buffered", label), &text, |b, t| {
            b.iter(|| black_box(stream(&buffered, black_box(t), 1)))
        });
        let whole = Payload::text(Stage::Response, text.clone());
        group.bench_with_input(BenchmarkId::new("unstreamed", label), &whole, |b, p| {
            b.iter(|| black_box(scanners.evaluate(black_box(p))))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = streaming
}
criterion_main!(benches);

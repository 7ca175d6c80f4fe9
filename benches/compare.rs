//! railyard's side of the peer comparison (`benches/compare/run.sh`, issue 8).
//!
//! Reads corpora in the shared formats (`pii-dev.jsonl`: `{"id", "text",
//! "entities"}`; `injection-dev.jsonl`: `{"id", "text", "label"}`), runs
//! every text through
//!
//! - `wasm`: the `railyard` library as in production: a [`Pipeline`] over
//!   the embedded first-party components, a fresh instance per plugin per
//!   call (`pii` with every pattern type + `secrets` on the PII corpora,
//!   `prompt-injection` on the injection corpora, `pii` alone with
//!   `entities = "PERSON,LOCATION,ORGANIZATION"` on the names corpora: the
//!   policy that turns the name tagger on, as Presidio + spaCy runs its NER
//!   alone);
//! - `wasm-reuse`: the same with the plugins opted in to instance reuse;
//! - `native`: the same detector cores compiled natively, doing what the
//!   component layer does per call (parse settings from config, scan);
//!
//! and writes, per tool and corpus, one JSON file with the predictions of
//! the first (warm-up) pass and the timing of the passes after it. The
//! Python side (`benches/compare/peers.py`) writes the same format; the
//! report (`benches/compare/report.py`) scores both.
//!
//! Timing: the payloads are built before the timed region; each call is
//! timed on its own (`Instant` around the call, nothing else inside); passes
//! over the whole corpus repeat until `--min-secs` of calls have been timed.
//! Pin the process to one core (`taskset -c 0`) for single-core figures.
//!
//! ```text
//! cargo bench -p railyard --bench compare -- --out DIR [--min-secs S]
//!     [--tools wasm,wasm-reuse,native] [--pii FILE]... [--names FILE]...
//!     [--injection FILE]...
//! ```

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use railyard::engine::{EngineSettings, RailyardEngine};
use railyard::plugin::PluginLoader;
use railyard::{Action, Payload, Pipeline, Policy, Stage};
use serde_json::{Value, json};

/// What a corpus is scored on.
#[derive(Clone, Copy, PartialEq)]
enum Task {
    /// Entity spans: (type, byte start, byte end).
    Pii,
    /// One label per text: injection or not.
    Injection,
    /// Entity spans of the name tagger's types only (PERSON, LOCATION,
    /// ORGANIZATION), scored as [`Task::Pii`].
    Names,
}

impl Task {
    fn as_str(self) -> &'static str {
        match self {
            // Scored as PII: the report reads entity spans.
            Task::Pii | Task::Names => "pii",
            Task::Injection => "injection",
        }
    }
}

/// One text of a corpus.
struct Row {
    id: String,
    text: String,
}

struct Args {
    out: PathBuf,
    min_secs: f64,
    tools: Vec<String>,
    corpora: Vec<(Task, PathBuf)>,
}

fn parse_args() -> Result<Args> {
    let mut out = None;
    let mut min_secs = 3.0;
    let mut tools = vec![
        "wasm".to_string(),
        "wasm-reuse".to_string(),
        "native".to_string(),
    ];
    let mut corpora = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} expects a value"));
        match arg.as_str() {
            // cargo appends `--bench` when it runs a bench target.
            "--bench" => {}
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--min-secs" => {
                min_secs = value("--min-secs")?
                    .parse()
                    .context("--min-secs expects a number of seconds")?
            }
            "--tools" => {
                tools = value("--tools")?
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect()
            }
            "--pii" => corpora.push((Task::Pii, PathBuf::from(value("--pii")?))),
            "--names" => corpora.push((Task::Names, PathBuf::from(value("--names")?))),
            "--injection" => corpora.push((Task::Injection, PathBuf::from(value("--injection")?))),
            other => bail!(
                "unknown argument {other:?}; expected --out DIR, --min-secs S, --tools wasm,wasm-reuse,native, --pii FILE, --names FILE, --injection FILE"
            ),
        }
    }
    let Some(out) = out else {
        bail!("--out DIR is required")
    };
    if let Some(t) = tools
        .iter()
        .find(|t| !["wasm", "wasm-reuse", "native"].contains(&t.as_str()))
    {
        bail!("--tools: unknown tool {t:?}; expected wasm, wasm-reuse and/or native");
    }
    Ok(Args {
        out,
        min_secs,
        tools,
        corpora,
    })
}

fn read_corpus(path: &Path) -> Result<Vec<Row>> {
    let data =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in data.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not JSON", path.display(), n + 1))?;
        let text = v["text"]
            .as_str()
            .with_context(|| format!("{}:{}: no \"text\"", path.display(), n + 1))?;
        let id = v["id"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| format!("line-{}", n + 1));
        rows.push(Row {
            id,
            text: text.to_string(),
        });
    }
    Ok(rows)
}

/// The prediction for one text, as JSON: a list of `[type, start, end]`
/// for PII, `true`/`false` (flagged as injection) for injection.
type Predict<'a> = Box<dyn FnMut(&Payload) -> Value + 'a>;
/// The call that is timed: the same work as [`Predict`] without turning
/// the result into JSON.
type Call<'a> = Box<dyn FnMut(&Payload) -> usize + 'a>;

fn spans_of(e: &railyard::Evaluation) -> Value {
    let mut spans: Vec<(String, u32, u32)> = e
        .findings()
        .filter_map(|(_, f)| f.span.map(|s| (f.category.clone(), s.start, s.end)))
        .collect();
    spans.sort();
    spans.dedup();
    json!(spans)
}

/// The pii plugin's `entities` on the PII corpora: every pattern type it
/// has, URLs and dates included (its default leaves those out), as
/// Presidio's pattern recognizers report them; not the name tagger's types,
/// which Presidio finds only with an NER model (measured apart, on the names
/// corpora, against Presidio + spaCy).
static PATTERN_ENTITIES: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = NAME_ENTITIES.split(',').collect();
    railyard_plugin_pii::CATEGORIES
        .iter()
        .filter(|c| !names.contains(c))
        .copied()
        .collect::<Vec<_>>()
        .join(",")
});

fn native_pii(text: &str, out: &mut Vec<railyard_plugin_pii::Detection>) {
    // As the components do per call: settings from the config (see
    // `pipeline`).
    let pii =
        railyard_plugin_pii::Settings::from_config(&railyard_plugin_pii::Config::new(vec![(
            "entities".into(),
            PATTERN_ENTITIES.clone(),
        )]))
        .expect("pii settings");
    let secrets =
        railyard_plugin_secrets::Settings::from_config(&railyard_plugin_secrets::Config::default())
            .expect("default secrets settings");
    railyard_plugin_pii::detect(text, &pii, out);
    railyard_plugin_secrets::detect(text, &secrets, out);
}

/// The name tagger's types, as the names policy configures the pii plugin.
const NAME_ENTITIES: &str = "PERSON,LOCATION,ORGANIZATION";

fn native_names(text: &str, out: &mut Vec<railyard_plugin_pii::Detection>) {
    let pii =
        railyard_plugin_pii::Settings::from_config(&railyard_plugin_pii::Config::new(vec![(
            "entities".into(),
            NAME_ENTITIES.into(),
        )]))
        .expect("pii settings for names");
    railyard_plugin_pii::detect(text, &pii, out);
}

/// Sorted, deduplicated `[type, start, end]` of native detections.
fn native_spans(found: &[railyard_plugin_pii::Detection]) -> Value {
    let mut spans: Vec<(&str, usize, usize)> =
        found.iter().map(|d| (d.category, d.start, d.end)).collect();
    spans.sort();
    spans.dedup();
    json!(spans)
}

fn native_injection(text: &str) -> bool {
    let settings = railyard_plugin_prompt_injection::Settings::from_config(
        &railyard_plugin_prompt_injection::Config::default(),
    )
    .expect("default prompt-injection settings");
    let a = railyard_plugin_prompt_injection::assess(&[text], &settings);
    a.decision(&settings) == railyard_plugin_prompt_injection::Decision::Block
}

/// Latency summary of the timed calls, in nanoseconds.
fn summary(
    mut lat: Vec<u64>,
    bytes_per_pass: u64,
    passes: u64,
    wall: Duration,
    cpu_ns: Option<u64>,
) -> Value {
    lat.sort_unstable();
    let n = lat.len();
    // Nearest rank, as peers.py computes it.
    let rank = |q: f64| lat[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
    let busy: u64 = lat.iter().sum();
    json!({
        "calls": n,
        "passes": passes,
        "bytes": bytes_per_pass * passes,
        "busy_ns": busy,
        "wall_ns": wall.as_nanos() as u64,
        "p50_ns": rank(0.5),
        "p99_ns": rank(0.99),
        "mean_ns": busy / n as u64,
        "cpu_ns": cpu_ns,
    })
}

fn run_one(
    rows: &[Row],
    predict: &mut Predict<'_>,
    call: &mut Call<'_>,
    min_secs: f64,
) -> (Value, Value) {
    let payloads: Vec<Payload> = rows
        .iter()
        .map(|r| Payload::text(Stage::Request, r.text.clone()))
        .collect();
    // Pass 1: warm-up, and the predictions that are scored.
    let mut predictions = serde_json::Map::new();
    for (r, p) in rows.iter().zip(&payloads) {
        predictions.insert(r.id.clone(), predict(p));
    }
    let bytes_per_pass: u64 = rows.iter().map(|r| r.text.len() as u64).sum();
    let mut lat = Vec::with_capacity(rows.len());
    let mut busy = Duration::ZERO;
    let mut passes = 0u64;
    let cpu_before = thread_cpu_ns();
    let started = Instant::now();
    while busy.as_secs_f64() < min_secs || passes == 0 {
        for p in &payloads {
            let t = Instant::now();
            black_box(call(black_box(p)));
            let d = t.elapsed();
            busy += d;
            lat.push(d.as_nanos() as u64);
        }
        passes += 1;
    }
    let wall = started.elapsed();
    let cpu = thread_cpu_ns()
        .zip(cpu_before)
        .map(|(a, b)| a.saturating_sub(b));
    let timing = summary(lat, bytes_per_pass, passes, wall, cpu);
    (Value::Object(predictions), timing)
}

/// The comparison's policy for `task`; `reuse`: the plugins opt in to
/// instance reuse (`reuse = true`) instead of a fresh instance per call.
fn pipeline(loader: &PluginLoader, task: Task, reuse: bool) -> Result<Pipeline> {
    let plugins: &[&str] = match task {
        Task::Pii => &["pii", "secrets"],
        Task::Names => &["pii"],
        Task::Injection => &["prompt-injection"],
    };
    let mut toml = format!("name = \"compare-{}\"\n", task.as_str());
    for p in plugins {
        toml.push_str(&format!(
            "[plugins.{p}]\nbuiltin = \"{p}\"\nreuse = {reuse}\n"
        ));
        // The pattern types on the PII corpora, the name tagger's types
        // alone on the names corpora.
        if *p == "pii" {
            let entities = if task == Task::Names {
                NAME_ENTITIES
            } else {
                PATTERN_ENTITIES.as_str()
            };
            toml.push_str(&format!(
                "[plugins.pii.config]\nentities = \"{entities}\"\n"
            ));
        }
    }
    toml.push_str(&format!(
        "[stages]\nrequest = [{}]\n",
        plugins
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let policy = Policy::from_toml(&toml, None).context("comparison policy")?;
    Ok(Pipeline::load(loader, policy)?)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let cache = std::env::temp_dir().join("railyard-compare-cache");
    let engine = RailyardEngine::new(EngineSettings {
        cache_dir: Some(cache),
        ..EngineSettings::default()
    })?;
    let loader = PluginLoader::new(engine)?;
    let pii = pipeline(&loader, Task::Pii, false)?;
    let injection = pipeline(&loader, Task::Injection, false)?;
    let names = pipeline(&loader, Task::Names, false)?;
    let pii_reuse = pipeline(&loader, Task::Pii, true)?;
    let injection_reuse = pipeline(&loader, Task::Injection, true)?;
    let names_reuse = pipeline(&loader, Task::Names, true)?;
    let mut plugins = serde_json::Map::new();
    for p in [&pii, &injection] {
        for (_, lp) in p.plugins() {
            plugins.insert(
                lp.info.name.clone(),
                json!({ "version": lp.info.version, "digest": lp.digest.to_string() }),
            );
        }
    }
    let versions = json!({
        "railyard": env!("CARGO_PKG_VERSION"),
        "wasmtime": wasmtime_version(),
        "plugins": plugins,
    });

    for (task, path) in &args.corpora {
        let rows = read_corpus(path)?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("corpus")
            .to_string();
        for tool in &args.tools {
            let (mut predict, mut call): (Predict<'_>, Call<'_>) = match (tool.as_str(), *task) {
                ("wasm", Task::Pii | Task::Names) => {
                    let pl = if *task == Task::Names { &names } else { &pii };
                    (
                        Box::new(move |p| spans_of(&pl.evaluate(p))),
                        Box::new(move |p| pl.evaluate(p).decisions.len()),
                    )
                }
                ("wasm", Task::Injection) => (
                    Box::new(|p| json!(injection.evaluate(p).action == Action::Block)),
                    Box::new(|p| usize::from(injection.evaluate(p).action == Action::Block)),
                ),
                ("wasm-reuse", Task::Pii | Task::Names) => {
                    let pl = if *task == Task::Names {
                        &names_reuse
                    } else {
                        &pii_reuse
                    };
                    (
                        Box::new(move |p| spans_of(&pl.evaluate(p))),
                        Box::new(move |p| pl.evaluate(p).decisions.len()),
                    )
                }
                ("wasm-reuse", Task::Injection) => (
                    Box::new(|p| json!(injection_reuse.evaluate(p).action == Action::Block)),
                    Box::new(|p| usize::from(injection_reuse.evaluate(p).action == Action::Block)),
                ),
                ("native", Task::Pii | Task::Names) => {
                    let detect = if *task == Task::Names {
                        native_names
                    } else {
                        native_pii
                    };
                    let mut buf = Vec::new();
                    let mut buf2 = Vec::new();
                    (
                        Box::new(move |p| {
                            buf.clear();
                            detect(&p.messages[0].content, &mut buf);
                            native_spans(&buf)
                        }),
                        Box::new(move |p| {
                            buf2.clear();
                            detect(&p.messages[0].content, &mut buf2);
                            buf2.len()
                        }),
                    )
                }
                ("native", Task::Injection) => (
                    Box::new(|p| json!(native_injection(&p.messages[0].content))),
                    Box::new(|p| usize::from(native_injection(&p.messages[0].content))),
                ),
                _ => unreachable!("tools are checked in parse_args"),
            };
            let (predictions, timing) = run_one(&rows, &mut predict, &mut call, args.min_secs);
            let name = format!("railyard-{tool}");
            let doc = json!({
                "tool": name,
                "task": task.as_str(),
                "corpus": stem,
                "texts": rows.len(),
                "versions": versions,
                "predictions": predictions,
                "timing": timing,
            });
            let file = args.out.join(format!("{name}__{stem}.json"));
            std::fs::write(&file, serde_json::to_vec(&doc)?)
                .with_context(|| format!("writing {}", file.display()))?;
            eprintln!(
                "{name:<16} {stem:<24} {} texts, p50 {} ns, {} passes",
                rows.len(),
                doc["timing"]["p50_ns"],
                doc["timing"]["passes"]
            );
        }
    }
    Ok(())
}

/// CPU time this thread has run, in ns (Linux `schedstat`): the timed
/// region's CPU time, which other processes on the core cannot inflate.
/// peers.py reads the same clock (`time.thread_time_ns`).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The wasmtime release the host is built against, from the lock file
/// (`=` pinned in host/Cargo.toml, so the two agree).
fn wasmtime_version() -> String {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    let Ok(text) = std::fs::read_to_string(lock) else {
        return "unknown".into();
    };
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .find(|w| w[0] == "name = \"wasmtime\"")
        .and_then(|w| w[1].strip_prefix("version = "))
        .map_or_else(|| "unknown".into(), |v| v.trim_matches('"').to_string())
}

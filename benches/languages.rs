//! What a plugin costs by the language it is written in.
//!
//! The check is the same in every language: the guardrail that
//! `railyard plugin new --lang LANG --kind guardrail` scaffolds (a
//! case-insensitive banned-phrase check with byte spans; the templates are
//! equivalent, as `tests/plugin_new.rs` checks). For each of Rust, C,
//! JavaScript and Python the bench scaffolds it, builds it with its own
//! `./build.sh` (toolchains from `scripts/toolchains/*.sh`), and reports:
//!
//! - the component's size;
//! - **cold** load: compiling the component with an empty compile cache
//!   (median of 3), and **warm** load: a new engine loading it from the
//!   compile cache (median of 5) — what a restart or a hot reload pays;
//! - `languages/<lang>` (criterion): one evaluation of a 140-byte prompt
//!   in a fresh instance (instantiate + check), the default isolation.
//!
//! Run: `./scripts/test` once (it installs the toolchains), then
//! `cargo bench -p railyard --bench languages`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use railyard::engine::{EngineSettings, RailyardEngine};
use railyard::plugin::PluginLoader;
use railyard::{Payload, Pipeline, Policy, Stage};

const LANGS: [&str; 4] = ["rust", "c", "js", "python"];
const PROMPT: &str = "Hello team, the quarterly numbers look fine. Please do not share the secret plan with anyone outside the company before Friday.";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `bin`/`.bin` folder under `.toolchains`, a few levels down.
fn toolchain_bins(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths.into_iter().filter(|p| p.is_dir()) {
        let name = p.file_name().unwrap_or_default();
        if name == "bin" || name == ".bin" {
            out.push(p);
        } else if depth > 1 {
            toolchain_bins(&p, depth - 1, out);
        }
    }
}

/// Scaffolds and builds `LANG-guardrail` under `root`; returns the component.
fn build(root: &Path, lang: &str) -> PathBuf {
    let name = format!("{lang}-guardrail");
    let status = Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args([
            "plugin",
            "new",
            "--lang",
            lang,
            "--kind",
            "guardrail",
            "--",
            &name,
        ])
        .current_dir(root)
        .status()
        .expect("railyard plugin new");
    assert!(status.success(), "plugin new --lang {lang}");
    let project = root.join(&name);
    let mut cmd = Command::new(project.join("build.sh"));
    cmd.current_dir(&project);
    // The scaffold's build is a plugin author's, not this bench's cargo.
    for (key, _) in std::env::vars_os() {
        if let Some(k) = key.to_str()
            && ((k.starts_with("CARGO_") && k != "CARGO_HOME")
                || matches!(k, "RUSTFLAGS" | "RUSTC_WORKSPACE_WRAPPER"))
        {
            cmd.env_remove(k);
        }
    }
    let mut path = Vec::new();
    toolchain_bins(&repo().join(".toolchains"), 4, &mut path);
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    cmd.env("PATH", std::env::join_paths(path).unwrap())
        .env("CARGO_TARGET_DIR", repo().join("target/plugin-new-rust"));
    let out = cmd.output().expect("build.sh");
    assert!(
        out.status.success(),
        "{lang} build.sh: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    project.join(format!("{name}.wasm"))
}

fn loader(cache: &Path) -> PluginLoader {
    let engine = RailyardEngine::new(EngineSettings {
        pool_instances: 16,
        cache_dir: Some(cache.to_path_buf()),
        ..EngineSettings::default()
    })
    .unwrap();
    PluginLoader::new(engine).unwrap()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    let mut group = c.benchmark_group("languages");
    group.measurement_time(Duration::from_secs(5));
    for lang in LANGS {
        let wasm = build(tmp.path(), lang);
        let bytes = std::fs::read(&wasm).unwrap();
        let cold = median(
            (0..3)
                .map(|_| {
                    let cache = tempfile::tempdir().unwrap();
                    let l = loader(cache.path());
                    let t = Instant::now();
                    l.load("g", &bytes).unwrap();
                    t.elapsed()
                })
                .collect(),
        );
        let cache = tempfile::tempdir().unwrap();
        loader(cache.path()).load("g", &bytes).unwrap();
        let warm = median(
            (0..5)
                .map(|_| {
                    let l = loader(cache.path());
                    let t = Instant::now();
                    l.load("g", &bytes).unwrap();
                    t.elapsed()
                })
                .collect(),
        );
        rows.push((lang, bytes.len(), cold, warm));

        let policy = Policy::from_toml(
            &format!(
                "[plugins.g]\npath = \"{}\"\ntimeout-ms = 1000\n[plugins.g.config]\nbanned = [\"secret plan\"]\n[stages]\nrequest = [\"g\"]\n",
                wasm.display()
            ),
            None,
        )
        .unwrap();
        let pipeline = Pipeline::load(&loader(cache.path()), policy).unwrap();
        let payload = Payload::text(Stage::Request, PROMPT);
        let e = pipeline.evaluate(&payload);
        assert_eq!(
            e.decisions[0].findings.len(),
            1,
            "{lang}: the template finds the phrase: {e:?}"
        );
        group.bench_function(lang, |b| b.iter(|| pipeline.evaluate(&payload).action));
    }
    group.finish();
    println!(
        "\n| language | component size | cold load (compile, no cache) | warm load (compile cache) |"
    );
    println!("|---|---|---|---|");
    for (lang, size, cold, warm) in rows {
        println!(
            "| {lang} | {:.1} KiB | {:.1} ms | {:.2} ms |",
            size as f64 / 1024.0,
            cold.as_secs_f64() * 1e3,
            warm.as_secs_f64() * 1e3
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! `railyard replay`: logged traffic re-evaluated through a candidate
//! policy (see `crate::replay` and `docs/replay.md`).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;

use super::{EXIT_ALLOWED, EXIT_BLOCKED, EXIT_ERROR};
use crate::engine::{EngineSettings, RailyardEngine};
use crate::pipeline::Pipeline;
use crate::plugin::PluginLoader;
use crate::policy::{PluginSource, Policy};
use crate::replay::report::{Candidate, Report, Threshold};
use crate::replay::source::Period;
use crate::replay::{LoggedCall, html, out_table, pool, source};

/// How often the progress line is printed on a long run.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// `--stdin` replays this many lines at a time on the pool (enough to keep
/// every core busy, small enough to stream).
const STDIN_BATCH: usize = 512;

#[derive(Args)]
pub(super) struct ReplayArgs {
    #[command(flatten)]
    audit: super::log::AuditArgs,
    /// Only calls recorded at or after this time: RFC 3339
    /// (2026-11-22T10:00:00Z) or an age (30s, 15m, 2h, 7d).
    #[arg(long)]
    since: Option<String>,
    /// Only calls recorded before this time (same forms as --since).
    #[arg(long)]
    until: Option<String>,
    /// Only calls served under this policy name (the `policy_name` column).
    #[arg(long, value_name = "NAME")]
    live_policy: Option<String>,
    /// The candidate policy (TOML). Default: the embedded default policy.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Run the candidate with this plugin's component replaced by another
    /// file (NAME is its name in the policy); repeatable.
    #[arg(long = "plugin", value_name = "NAME=PATH")]
    plugins: Vec<String>,
    /// Exit 1 when more replayed calls than this have a changed decision:
    /// a count (0 fails on any change) or a percentage (`2%`).
    #[arg(long, value_name = "COUNT|PERCENT%")]
    fail_on: Option<Threshold>,
    /// Print the whole report as one JSON object (no progress line).
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML report with charts to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Append the changed decisions to this Delta table (a folder or an
    /// object-store URL; created when missing).
    #[arg(long, value_name = "URL")]
    out_table: Option<String>,
    /// Worker threads. Default: every core.
    #[arg(long)]
    threads: Option<usize>,
    /// How many changed decisions and unreplayable calls the terminal and
    /// HTML reports list (`--json` and `--out-table` have them all).
    #[arg(long, default_value_t = 20)]
    examples: usize,
    /// Read logged calls as JSON lines on standard input (an `inferences`
    /// row with a `decisions` list) and write one result line per call:
    /// the worker a distributed engine (`scripts/replay/spark_replay.py`)
    /// pipes its partitions through.
    #[arg(long, conflicts_with_all = ["since", "until", "live_policy", "json", "html", "out_table", "fail_on"])]
    stdin: bool,
}

/// The candidate pipeline, with `--plugin` substitutions, and its
/// description for the report.
fn candidate(args: &ReplayArgs) -> anyhow::Result<(Pipeline, Candidate)> {
    let mut policy = match &args.policy {
        Some(path) => Policy::from_file(path)?,
        None => Policy::embedded_default(),
    };
    let mut substituted = Vec::new();
    for s in &args.plugins {
        let Some((name, path)) = s.split_once('=') else {
            bail!("--plugin {s:?}: expected NAME=PATH (NAME as the policy names the plugin)");
        };
        let names: Vec<&String> = policy.plugins.keys().collect();
        let known = format!("{names:?}");
        let Some(spec) = policy.plugins.get_mut(name) else {
            bail!(
                "--plugin {name}=…: the policy {} has no plugin `{name}` (it has {known})",
                policy.origin
            );
        };
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("--plugin {name}={}: no such file", path.display());
        }
        spec.source = PluginSource::File(path.clone());
        substituted.push(format!("{name}={}", path.display()));
    }
    let engine = RailyardEngine::new(EngineSettings::default())?;
    let loader = PluginLoader::new(engine)?;
    let pipeline = Pipeline::load(&loader, policy)?;
    let plugins = pipeline
        .plugins()
        .map(|(n, p)| (n.to_string(), p.info.version.clone(), p.digest.to_string()))
        .collect();
    let info = Candidate {
        policy: pipeline.policy().name.clone(),
        policy_digest: pipeline.policy().digest.clone(),
        plugins,
        substituted,
    };
    Ok((pipeline, info))
}

fn rfc3339(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| us.to_string())
}

pub(super) fn run(args: ReplayArgs) -> anyhow::Result<u8> {
    let threads = args.threads.unwrap_or_else(pool::default_threads).max(1);
    let (pipeline, info) = candidate(&args)?;
    if args.stdin {
        return run_stdin(&pipeline, threads);
    }
    let period = Period {
        since_us: args
            .since
            .as_deref()
            .map(super::log::parse_time)
            .transpose()?,
        until_us: args
            .until
            .as_deref()
            .map(super::log::parse_time)
            .transpose()?,
        policy_name: args.live_policy.clone(),
    };
    let settings = args.audit.settings()?;
    let root = crate::audit::root_url(&settings.table_root)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let calls = rt.block_on(source::read_calls(
        &root,
        &settings.storage_options,
        &period,
    ))?;
    let started = Instant::now();
    let results = with_progress(!args.json, calls.len(), |done| {
        pool::replay_all(&pipeline, &calls, threads, done)
    });
    let elapsed = started.elapsed();
    let report = Report::build(
        &results,
        info,
        (period.since_us.map(rfc3339), period.until_us.map(rfc3339)),
        threads,
        elapsed,
        args.fail_on,
    );
    if let Some(url) = &args.out_table {
        let url = crate::audit::root_url(url).with_context(|| format!("--out-table {url}"))?;
        let replay_id = crate::payload::new_request_id();
        let version = rt.block_on(out_table::append(
            &url,
            &settings.storage_options,
            &report,
            &replay_id,
        ))?;
        if !args.json {
            match version {
                Some(v) => eprintln!(
                    "replay {replay_id}: {} changed decision(s) appended to {url} (version {v})",
                    report.changes.len()
                ),
                None => eprintln!("replay {replay_id}: no changed decisions to append to {url}"),
            }
        }
    }
    if let Some(path) = &args.html {
        std::fs::write(path, html::render(&report, args.examples.max(200)))
            .with_context(|| format!("writing the HTML report {}", path.display()))?;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        report.write_text(&mut out, args.examples)?;
    }
    out.flush()?;
    Ok(if report.failed {
        EXIT_BLOCKED
    } else {
        EXIT_ALLOWED
    })
}

/// Runs `work` with a progress line on standard error every
/// [`PROGRESS_EVERY`] while it lasts (none on runs shorter than that).
fn with_progress<T>(show: bool, total: usize, work: impl FnOnce(&AtomicUsize) -> T) -> T {
    let done = AtomicUsize::new(0);
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        if show {
            let done = &done;
            s.spawn(move || {
                let started = Instant::now();
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stop_rx.recv_timeout(PROGRESS_EVERY)
                {
                    let n = done.load(Ordering::Relaxed);
                    let rate = n as f64 / started.elapsed().as_secs_f64().max(1e-3);
                    let left = (total.saturating_sub(n)) as f64 / rate.max(1e-3);
                    eprintln!(
                        "replay: {n}/{total} calls ({:.0}%), {rate:.0} calls/s, ~{left:.0} s left",
                        n as f64 * 100.0 / total.max(1) as f64
                    );
                }
            });
        }
        let out = work(&done);
        drop(stop_tx);
        out
    })
}

/// `--stdin`: JSON lines of logged calls in, JSON lines of results out, in
/// input order. A line that is not a logged call gets an `error` line and
/// the exit code 2 at the end (the engine driving it should fail the
/// task, not lose the call).
fn run_stdin(pipeline: &Pipeline, threads: usize) -> anyhow::Result<u8> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut line_no, mut errors) = (0usize, false);
    loop {
        let mut batch: Vec<(usize, Result<LoggedCall, String>)> = Vec::new();
        for line in lines.by_ref() {
            let line = line.context("reading standard input")?;
            line_no += 1;
            if line.trim().is_empty() {
                continue;
            }
            batch.push((
                line_no,
                serde_json::from_str(&line).map_err(|e| format!("not a logged call: {e}")),
            ));
            if batch.len() == STDIN_BATCH {
                break;
            }
        }
        if batch.is_empty() {
            break;
        }
        let calls: Vec<LoggedCall> = batch
            .iter()
            .filter_map(|(_, c)| c.as_ref().ok().cloned())
            .collect();
        let mut results =
            pool::replay_all(pipeline, &calls, threads, &AtomicUsize::new(0)).into_iter();
        for (n, parsed) in &batch {
            match parsed {
                Ok(_) => {
                    let r = results.next().expect("one result per parsed call");
                    serde_json::to_writer(&mut out, &r)?;
                }
                Err(e) => {
                    errors = true;
                    serde_json::to_writer(&mut out, &serde_json::json!({"line": n, "error": e}))?;
                }
            }
            writeln!(out)?;
        }
        out.flush()?;
    }
    Ok(if errors { EXIT_ERROR } else { EXIT_ALLOWED })
}

//! The `railyard` command line.
//!
//! Exit codes, for every command:
//! - `0`: done; for `check`, the payload may go on (allow, flag or redact);
//! - `1`: `check` blocked the payload (with `--jsonl`: at least one line);
//! - `2`: an error — bad arguments, a policy mistake, a plugin that does not
//!   load, unreadable input (with `--jsonl`: at least one line could not be
//!   evaluated; the others still were).

mod check;
mod conformance;
mod evidence;
mod evidence_html;
mod evidence_plugins;
pub mod log;
mod log_erase;
pub mod log_events;
mod log_print;
mod log_rollout;
mod log_stats;
mod log_verify;
mod plugin_new;
mod replay;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::engine::{EngineSettings, RailyardEngine};
use crate::pipeline::Pipeline;
use crate::plugin::PluginLoader;
use crate::policy::Policy;

/// Exit code: the payload may go on.
pub const EXIT_ALLOWED: u8 = 0;
/// Exit code: the payload was blocked.
pub const EXIT_BLOCKED: u8 = 1;
/// Exit code: something went wrong before a decision could be made.
pub const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "railyard",
    version,
    about = "Guardrail runtime for LLM traffic: sandboxed WebAssembly plugins on every inference payload"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a policy over a payload and print the decision.
    ///
    /// Exit code: 0 allowed (allow, flag or redact), 1 blocked, 2 error.
    Check(check::CheckArgs),
    /// Test a plugin component against the railyard contract.
    ///
    /// Exit code: 0 every check passed, 1 a check failed, 2 error.
    Conformance(conformance::ConformanceArgs),
    /// Print the manifest a plugins folder needs for a component.
    Manifest(conformance::ManifestArgs),
    /// Start a plugin project from a template (`railyard plugin new`).
    Plugin(plugin_new::PluginArgs),
    /// Load a policy's plugins and list them with kind, version and digest.
    Plugins {
        /// Policy file (TOML). Default: the embedded default policy.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Print one JSON object per plugin.
        #[arg(long)]
        json: bool,
    },
    /// Serve the guard API and the OpenAI-compatible guarded proxy.
    ///
    /// Exit code: 0 after a clean shutdown (SIGINT/SIGTERM), 2 error.
    Serve(serve::ServeArgs),
    /// Read and maintain the audit tables (decisions, inferences,
    /// judgements): tail, query, stats, flush, checkpoint, vacuum, optimize.
    Log(log::LogArgs),
    /// Re-evaluate logged calls through a candidate policy and report the
    /// decisions that change.
    ///
    /// Exit code: 0 done, 1 more changed calls than --fail-on allows, 2 error.
    Replay(replay::ReplayArgs),
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    crate::heap::limit_arenas();
    init_tracing();
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        end_quietly_when_stdout_closes();
    }
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Log(args) => log::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Conformance(args) => conformance::run(args),
        Command::Manifest(args) => conformance::manifest(args),
        Command::Plugin(args) => plugin_new::run(args),
        Command::Plugins { policy, json } => list_plugins(policy, json),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_ALLOWED),
        Err(e) => {
            eprintln!("railyard: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Whether `e` is a write to a reader that went away
/// (`railyard log query | head -1`).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A command whose reader goes away (`railyard check … | head`) ends
/// quietly with success, as ordinary Unix tools do, instead of the panic
/// `println!` raises on a closed stdout. (Not for `serve`, whose stdout is
/// a log, not its output.)
fn end_quietly_when_stdout_closes() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(i32::from(EXIT_ALLOWED));
        }
        default(info)
    }));
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    // The Delta kernel logs an ERROR whenever it looks for a table that is
    // not there yet, which is every first run; its real failures reach us
    // as errors and are reported with context, so its own lines are off
    // unless RAILYARD_LOG asks for them.
    // The same holds for a filter given in RAILYARD_LOG (`warn`, the
    // default, set explicitly must behave as the default) unless it names
    // the kernel's target itself.
    let filter = std::env::var("RAILYARD_LOG")
        .ok()
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            if f.contains("buoyant_kernel") {
                f
            } else {
                format!("{f},buoyant_kernel=off")
            }
        })
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("warn,buoyant_kernel=off"));
    // RAILYARD_LOG_FORMAT=json: one JSON object a line, for log shippers.
    let format = std::env::var("RAILYARD_LOG_FORMAT").unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format.as_str() {
        "json" => {
            let _ = builder.json().flatten_event(true).try_init();
        }
        "" | "text" => {
            let _ = builder.try_init();
        }
        other => {
            let _ = builder.try_init();
            tracing::warn!(
                "RAILYARD_LOG_FORMAT=`{other}` is not `text` or `json`; logging as text"
            );
        }
    }
}

/// Reads the policy (or the embedded default) and loads its plugins.
pub(crate) fn load(policy: Option<&PathBuf>) -> anyhow::Result<Pipeline> {
    let policy = match policy {
        Some(path) => Policy::from_file(path)?,
        None => Policy::embedded_default(),
    };
    let engine = RailyardEngine::new(EngineSettings::default())?;
    let loader = PluginLoader::new(engine)?;
    Ok(Pipeline::load(&loader, policy)?)
}

fn list_plugins(policy: Option<PathBuf>, json: bool) -> anyhow::Result<u8> {
    let pipeline = load(policy.as_ref())?;
    for (name, plugin) in pipeline.plugins() {
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "plugin": name,
                    "kind": plugin.kind,
                    "name": plugin.info.name,
                    "version": plugin.info.version,
                    "stages": plugin.info.stages,
                    "digest": plugin.digest,
                })
            );
        } else {
            println!(
                "{name:<20} {:<13} {:<8} {}",
                plugin.kind.as_str(),
                plugin.info.version,
                plugin.digest
            );
        }
    }
    Ok(EXIT_ALLOWED)
}

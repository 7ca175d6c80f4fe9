//! `railyard check`: run a policy over a payload, or over a dataset.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde::Deserialize;

use super::{EXIT_ALLOWED, EXIT_BLOCKED, EXIT_ERROR};
use crate::audit::{AuditLog, CallInfo, RecordContext};
use crate::payload::{Message, Payload, Stage, new_request_id};
use crate::pipeline::{Evaluation, Pipeline};
use crate::policy::Capture;
use crate::verdict::Action;

/// Longest input line `--jsonl` accepts; longer lines are reported as
/// errors (their payload would exceed every plugin's input cap anyway).
const MAX_LINE_BYTES: usize = 64 << 20;

#[derive(Clone, Copy, ValueEnum)]
enum StageArg {
    Request,
    Response,
}

#[derive(Args)]
pub(super) struct CheckArgs {
    /// Policy file (TOML). Default: the embedded default policy.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Which stage's plugins to run.
    #[arg(long, value_enum, default_value = "request")]
    stage: StageArg,
    /// Route recorded with the payload.
    #[arg(long, default_value = "")]
    route: String,
    /// Caller recorded with the payload.
    #[arg(long, default_value = "cli")]
    caller: String,
    /// Print one JSON object instead of text.
    #[arg(long, conflicts_with = "jsonl")]
    json: bool,
    /// Scan a dataset: one payload per input line (a JSON payload object,
    /// a JSON object with a "text" field, a JSON string, or plain text);
    /// one verdict object per output line.
    #[arg(long)]
    jsonl: bool,
    #[command(flatten)]
    audit: super::log::AuditArgs,
    /// Do not record the decisions in the audit log.
    #[arg(long, conflicts_with = "audit")]
    no_audit: bool,
    /// The text to check; `-` (or nothing) reads standard input. With
    /// `--jsonl`, a dataset file, or `-` for standard input.
    input: Option<String>,
}

/// How long `check` waits for its decisions to reach the Delta tables
/// before exiting. They are durable in the WAL either way; past this the
/// next railyard run commits them.
const AUDIT_FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// The audit log of one `check` run, unless `--no-audit`.
struct Recorder {
    log: Option<AuditLog>,
    capture: Capture,
}

impl Recorder {
    fn open(args: &CheckArgs, pipeline: &Pipeline) -> anyhow::Result<Recorder> {
        let log = if args.no_audit {
            None
        } else {
            let log = AuditLog::open(args.audit.settings()?)
                .context("opening the audit log (--no-audit skips it)")?;
            // The policy's text and plugins, so the decisions' digest
            // resolves in the `policies` table.
            let row = crate::serve::evidence::policy_row(pipeline, log.host_id());
            log.record_rows(&[crate::audit::AuditRecord::Policy(row)])
                .context("recording the policy in the audit log")?;
            Some(log)
        };
        Ok(Recorder {
            log,
            capture: pipeline.policy().audit.capture,
        })
    }

    /// Records one evaluation; an error means the decision is not on the
    /// record, and the run fails rather than pretend it is.
    fn record(&self, evaluation: &Evaluation, payload: &Payload) -> anyhow::Result<()> {
        if let Some(log) = &self.log {
            log.record(
                evaluation,
                &RecordContext {
                    payload,
                    capture: self.capture,
                    call: Some(CallInfo::default()),
                },
            )
            .context("recording the decision in the audit log")?;
        }
        Ok(())
    }

    /// Commits to Delta before exiting, so `railyard log tail` shows the
    /// decision at once.
    fn finish(self) {
        if let Some(log) = self.log
            && let Err(e) = log.shutdown(AUDIT_FLUSH_TIMEOUT)
        {
            eprintln!("railyard: warning: {e}");
        }
    }
}

pub(super) fn run(args: CheckArgs) -> anyhow::Result<u8> {
    let pipeline = super::load(args.policy.as_ref())?;
    let stage = match args.stage {
        StageArg::Request => Stage::Request,
        StageArg::Response => Stage::Response,
    };
    let recorder = Recorder::open(&args, &pipeline)?;
    if args.jsonl {
        let code = run_jsonl(&pipeline, &args, stage, &recorder);
        recorder.finish();
        return code;
    }
    let text = match args.input.as_deref() {
        None | Some("-") => {
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                bail!(
                    "give the text to check as an argument, or pipe it in (`-` reads standard input)"
                );
            }
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading standard input")?;
            String::from_utf8(buf).map_err(|e| {
                anyhow::anyhow!(
                    "standard input is not valid UTF-8 (first bad byte at offset {})",
                    e.utf8_error().valid_up_to()
                )
            })?
        }
        Some(text) => text.to_string(),
    };
    let mut payload = Payload::text(stage, text);
    payload.route = args.route.clone();
    payload.caller = args.caller.clone();
    let evaluation = pipeline.evaluate(&payload);
    recorder.record(&evaluation, &payload)?;
    if args.json {
        println!("{}", serde_json::to_string(&evaluation)?);
    } else {
        print_text(&evaluation, &payload);
    }
    recorder.finish();
    Ok(exit_code(evaluation.action))
}

fn exit_code(action: Action) -> u8 {
    if action == Action::Block {
        EXIT_BLOCKED
    } else {
        EXIT_ALLOWED
    }
}

/// A dataset line that is a JSON object.
#[derive(Deserialize)]
struct LinePayload {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    stage: Option<Stage>,
    #[serde(default)]
    route: Option<String>,
    #[serde(default)]
    caller: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Message>>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    attributes: Vec<(String, String)>,
    // Fields datasets carry for scoring; accepted and ignored.
    #[serde(default, rename = "entities")]
    _entities: Option<serde_json::Value>,
    #[serde(default, rename = "label")]
    _label: Option<serde_json::Value>,
}

fn run_jsonl(
    pipeline: &Pipeline,
    args: &CheckArgs,
    stage: Stage,
    recorder: &Recorder,
) -> anyhow::Result<u8> {
    let reader: Box<dyn BufRead> = match args.input.as_deref() {
        None | Some("-") => Box::new(std::io::stdin().lock()),
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening dataset {path}"))?,
        )),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut blocked, mut errors) = (false, false);
    let mut line_no = 0usize;
    let mut reader = reader;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .context("reading the dataset")?;
        if n == 0 {
            break;
        }
        line_no += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(&buf, stage, args) {
            Ok((id, payload)) => {
                let evaluation = pipeline.evaluate(&payload);
                recorder.record(&evaluation, &payload)?;
                blocked |= evaluation.action == Action::Block;
                let mut value = serde_json::to_value(&evaluation)?;
                if let serde_json::Value::Object(map) = &mut value {
                    map.insert("line".into(), line_no.into());
                    if let Some(id) = id {
                        map.insert("id".into(), id);
                    }
                }
                writeln!(out, "{value}")?;
            }
            Err(message) => {
                errors = true;
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "line": line_no, "error": message })
                )?;
            }
        }
    }
    out.flush()?;
    Ok(if errors {
        EXIT_ERROR
    } else if blocked {
        EXIT_BLOCKED
    } else {
        EXIT_ALLOWED
    })
}

fn parse_line(
    line: &[u8],
    stage: Stage,
    args: &CheckArgs,
) -> Result<(Option<serde_json::Value>, Payload), String> {
    if line.len() > MAX_LINE_BYTES {
        return Err(format!(
            "line is {} bytes; the limit is {MAX_LINE_BYTES}",
            line.len()
        ));
    }
    let text = std::str::from_utf8(line).map_err(|e| {
        format!(
            "line is not valid UTF-8 (first bad byte at offset {})",
            e.valid_up_to()
        )
    })?;
    let trimmed = text.trim_start();
    let base = |text: String| {
        let mut p = Payload::text(stage, text);
        p.route = args.route.clone();
        p.caller = args.caller.clone();
        p
    };
    if trimmed.starts_with('"') {
        let s: String =
            serde_json::from_str(trimmed).map_err(|e| format!("malformed JSON string: {e}"))?;
        return Ok((None, base(s)));
    }
    if !trimmed.starts_with('{') {
        return Ok((None, base(text.to_string())));
    }
    let parsed: LinePayload =
        serde_json::from_str(trimmed).map_err(|e| format!("malformed JSON payload: {e}"))?;
    if parsed.stage == Some(Stage::StreamChunk) {
        // As `/v1/guard` (`invalid_stage`): no plugin is run on a whole
        // text at this stage, so answering would report an unchecked
        // line as allowed.
        return Err("`stage` must be \"request\" or \"response\", not `stream-chunk`".into());
    }
    let messages = match (parsed.messages, parsed.text) {
        (Some(_), Some(_)) => return Err("give either \"messages\" or \"text\", not both".into()),
        (None, None) => {
            return Err(
                "a JSON line needs \"messages\" (a list of {role, content}) or \"text\"".into(),
            );
        }
        (Some(m), None) => m,
        (None, Some(t)) => base(t).messages,
    };
    Ok((
        parsed.id,
        Payload {
            request_id: parsed.request_id.unwrap_or_else(new_request_id),
            stage: parsed.stage.unwrap_or(stage),
            route: parsed.route.unwrap_or_else(|| args.route.clone()),
            caller: parsed.caller.unwrap_or_else(|| args.caller.clone()),
            messages,
            attributes: parsed.attributes,
        },
    ))
}

fn print_text(e: &Evaluation, payload: &Payload) {
    println!(
        "action: {}   (policy {}, {} plugin{}, {} µs)",
        e.action,
        e.policy,
        e.decisions.len(),
        if e.decisions.len() == 1 { "" } else { "s" },
        e.latency_us
    );
    if !e.reason.is_empty() {
        println!("reason: {}", e.reason);
    }
    println!();
    println!(
        "{:<20} {:<16} {:<7} {:>9}  findings",
        "plugin", "outcome", "action", "latency"
    );
    for d in &e.decisions {
        let outcome = match d.failure_mode {
            Some(mode) => format!("{} ({})", d.outcome.as_str(), mode.as_str()),
            None => d.outcome.as_str().to_string(),
        };
        println!(
            "{:<20} {:<16} {:<7} {:>6} µs  {}",
            d.plugin,
            outcome,
            d.action.as_str(),
            d.latency_us,
            d.findings.len()
        );
        if let Some(error) = &d.error {
            println!("    error: {error}");
        }
    }
    let findings: Vec<_> = e.findings().collect();
    if !findings.is_empty() {
        println!("\nfindings:");
        for (d, f) in findings {
            let place = match f.span {
                Some(s) => format!("message {}, bytes {}..{}", s.message, s.start, s.end),
                None => "whole payload".to_string(),
            };
            println!(
                "  {:<17} {:<16} {:<24} score {:.2}  {place}",
                d.plugin, f.category, f.rule_id, f.score
            );
        }
    }
    for r in &e.judge_requests {
        println!(
            "\njudge request: {} (rubric {}, {:?}) from {}: {}",
            r.request.judge, r.request.rubric, r.request.mode, r.router, r.request.reason
        );
    }
    if let Some(redacted) = &e.redacted {
        println!("\nredacted:");
        for m in redacted {
            println!("  [{}] {}", m.role, m.content);
        }
    } else if e.action != Action::Block {
        println!("\ntext unchanged: {} message(s)", payload.messages.len());
    }
}

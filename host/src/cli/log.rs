//! `railyard log`: read and maintain the audit tables.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};

use super::EXIT_ALLOWED;
use crate::audit::{
    self, AuditSettings, DecisionRow, InferenceRow, JudgementRow, TableKind, maintenance, table,
};

/// Where the audit tables are, for every command that touches them.
#[derive(Args, Clone, Default)]
pub(super) struct AuditArgs {
    /// Audit table root: a folder, or an s3://, az://, gs:// URL. Default:
    /// RAILYARD_AUDIT_URL, else $XDG_DATA_HOME/railyard/audit
    /// (~/.local/share/railyard/audit).
    #[arg(long, value_name = "URL")]
    pub audit: Option<String>,
}

impl AuditArgs {
    pub(super) fn settings(&self) -> anyhow::Result<AuditSettings> {
        Ok(AuditSettings::from_env(self.audit.clone())?)
    }
}

#[derive(Args)]
pub(super) struct LogArgs {
    #[command(flatten)]
    audit: AuditArgs,
    #[command(subcommand)]
    command: LogCommand,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(super) enum TableArg {
    Decisions,
    Inferences,
    Judgements,
    Events,
    Policies,
}

impl TableArg {
    pub(super) fn kind(self) -> TableKind {
        match self {
            TableArg::Decisions => TableKind::Decisions,
            TableArg::Inferences => TableKind::Inferences,
            TableArg::Judgements => TableKind::Judgements,
            TableArg::Events => TableKind::Events,
            TableArg::Policies => TableKind::Policies,
        }
    }
}

#[derive(Args, Clone, Default)]
pub(super) struct Filters {
    /// Only rows at or after this time: RFC 3339 (2026-11-22T10:00:00Z) or
    /// an age (30s, 15m, 2h, 7d).
    #[arg(long)]
    since: Option<String>,
    /// Only rows before this time (same forms as --since).
    #[arg(long)]
    until: Option<String>,
    /// Only this action (allow, flag, redact, block).
    #[arg(long)]
    action: Option<String>,
    /// Only this plugin (its policy name).
    #[arg(long)]
    plugin: Option<String>,
    /// Only this caller.
    #[arg(long)]
    pub(super) caller: Option<String>,
    /// Only this request id.
    #[arg(long = "request-id")]
    pub(super) request_id: Option<String>,
}

#[derive(Subcommand)]
enum LogCommand {
    /// The latest decisions, newest last.
    Tail {
        /// How many rows.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: usize,
        /// Which table.
        #[arg(long, value_enum, default_value = "decisions")]
        table: TableArg,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Decisions matching filters, oldest first.
    Query {
        #[command(flatten)]
        filters: Filters,
        /// Which table (--plugin applies to decisions only; events take
        /// --caller and --request-id; policies only the time window).
        #[arg(long, value_enum, default_value = "decisions")]
        table: TableArg,
        /// At most this many rows (the newest).
        #[arg(long)]
        limit: Option<usize>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Counts by action, plugin, outcome and rollout arm, latency
    /// percentiles, and the live-vs-shadow agreement per plugin (shadow
    /// rows are counted only there).
    Stats {
        #[command(flatten)]
        filters: Filters,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Commit the local WAL backlog to the tables now.
    Flush {
        /// Give up after this many seconds (the backlog stays in the WAL).
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
    },
    /// Write a checkpoint of every table and remove expired log entries
    /// (kept with RAILYARD_AUDIT_WORM=true).
    Checkpoint,
    /// Delete data files no longer referenced by any table version kept
    /// (refused with RAILYARD_AUDIT_WORM=true, except --dry-run).
    Vacuum {
        /// Keep unreferenced files younger than this many hours.
        #[arg(long, default_value_t = 168)]
        retention_hours: u64,
        /// List what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Compact small files: rewrite each day's small files as one.
    Optimize {
        /// Files at least this big are left alone (MiB).
        #[arg(long, default_value_t = 128)]
        target_mib: u64,
    },
    /// Check the tables' hash chains, signatures and data files; report
    /// the first break. Exit 0 when nothing is broken, 1 otherwise.
    Verify {
        /// Only hash data files added since (RFC 3339 or an age like 7d);
        /// the chains are always checked whole.
        #[arg(long)]
        since: Option<String>,
        /// A trusted ed25519 public key (64 hex digits, or a file holding
        /// them); repeatable. Also RAILYARD_AUDIT_VERIFY_KEYS
        /// (comma-separated) and the public half of
        /// `RAILYARD_AUDIT_SIGNING_KEY[_FILE]`.
        #[arg(long = "public-key")]
        public_keys: Vec<String>,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Erase one request's, caller's or end user's rows from every table
    /// (files rewritten without them; recorded in the hash chain).
    Erase(super::log_erase::EraseArgs),
    /// Write an evidence pack for a period: summary (JSON, Markdown),
    /// policies and plugins seen, verify result, an HTML page with charts,
    /// and a signed manifest of the files.
    Evidence(super::evidence::EvidenceArgs),
    /// Create an ed25519 key for signing chain heads.
    Keygen {
        /// Where to write the signing key (hex seed, mode 0600).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Testing aid: evaluate and record COUNT payloads with the embedded
    /// default policy, printing each acknowledged decision id.
    #[command(hide = true)]
    Soak {
        /// Payloads to record.
        #[arg(long, default_value_t = 1000)]
        count: u64,
        /// Prefix for the caller column (to tell writers apart).
        #[arg(long, default_value = "soak")]
        caller: String,
        /// Skip the final flush (leave the backlog in the WAL).
        #[arg(long)]
        no_flush: bool,
        /// Wait until this Unix time (milliseconds) before recording, so
        /// writers started one after another reach the tables together.
        #[arg(long)]
        start_at_ms: Option<u64>,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub(super) fn run(args: LogArgs) -> anyhow::Result<u8> {
    let settings = args.audit.settings()?;
    let root = audit::root_url(&settings.table_root)?;
    let options = settings.storage_options.clone();
    // RAILYARD_AUDIT_WORM=true: write-once storage, nothing is deleted.
    let storage = audit::worm::Storage::new(
        root.clone(),
        options.clone(),
        settings.maintenance.lifecycle.worm,
    );
    let rt = runtime()?;
    match args.command {
        LogCommand::Tail { lines, table, json } => {
            let filters = Filters::default();
            rt.block_on(super::log_print::print_rows(
                &root,
                &options,
                table,
                &filters,
                Some(lines),
                json,
            ))
        }
        LogCommand::Query {
            filters,
            table,
            limit,
            json,
        } => rt.block_on(super::log_print::print_rows(&root, &options, table, &filters, limit, json)),
        LogCommand::Stats { filters, json } => rt.block_on(super::log_stats::stats(&root, &options, &filters, json)),
        LogCommand::Flush { timeout_secs } => {
            let log = audit::AuditLog::open(settings)?;
            log.shutdown(Duration::from_secs(timeout_secs))?;
            eprintln!("audit log: WAL backlog committed to {root}");
            Ok(EXIT_ALLOWED)
        }
        LogCommand::Checkpoint => rt.block_on(async {
            for kind in TableKind::ALL {
                let Some(t) = table::open_existing(&root, kind, &options).await? else {
                    eprintln!("{:<11} no table yet", kind.name());
                    continue;
                };
                if storage.worm() {
                    let version = maintenance::checkpoint_only(&t).await?;
                    println!(
                        "{:<11} checkpoint at version {version}; expired log files kept (RAILYARD_AUDIT_WORM=true: railyard deletes nothing on write-once storage)",
                        kind.name()
                    );
                    continue;
                }
                let (version, removed) = maintenance::checkpoint(&t).await?;
                println!(
                    "{:<11} checkpoint at version {version}; {removed} expired log file(s) removed",
                    kind.name()
                );
            }
            Ok(EXIT_ALLOWED)
        }),
        LogCommand::Vacuum {
            retention_hours,
            dry_run,
        } => rt.block_on(async {
            if storage.worm() && !dry_run {
                bail!(
                    "RAILYARD_AUDIT_WORM=true: the tables are on write-once storage (S3 Object Lock) and railyard deletes nothing there; a vacuum would only add delete markers or be refused. The bucket's lifecycle rule expires replaced files after their lock; `--dry-run` lists them"
                );
            }
            for kind in TableKind::ALL {
                let Some(t) = table::open_existing(&root, kind, &options).await? else {
                    continue;
                };
                eprintln!("{}: scanning for unreferenced files…", kind.name());
                let files = maintenance::vacuum(
                    t,
                    chrono::Duration::hours(retention_hours as i64),
                    dry_run,
                )
                .await?;
                for f in &files {
                    println!("{}{f}", if dry_run { "would delete " } else { "deleted " });
                }
                eprintln!(
                    "{}: {} file(s) {}",
                    kind.name(),
                    files.len(),
                    if dry_run { "to delete" } else { "deleted" }
                );
            }
            Ok(EXIT_ALLOWED)
        }),
        LogCommand::Optimize { target_mib } => rt.block_on(async {
            for kind in [TableKind::Decisions, TableKind::Inferences] {
                let Some(mut t) = table::open_existing(&root, kind, &options).await? else {
                    continue;
                };
                let done = maintenance::compact(
                    &mut t,
                    kind,
                    target_mib << 20,
                    &storage,
                    |date, files| {
                        eprintln!("{}: compacting date={date}: {files} files…", kind.name());
                    },
                )
                .await?;
                println!(
                    "{:<11} {} partition(s): {} file(s) replaced by {}{}",
                    kind.name(),
                    done.partitions,
                    done.files_removed,
                    done.files_added,
                    done.version
                        .map(|v| format!(" (version {v})"))
                        .unwrap_or_default()
                );
            }
            Ok(EXIT_ALLOWED)
        }),
        LogCommand::Verify {
            since,
            public_keys,
            json,
        } => {
            let since_us = since.as_deref().map(parse_time).transpose()?;
            rt.block_on(super::log_verify::run_verify(
                &root,
                &options,
                since_us,
                &public_keys,
                json,
            ))
        }
        LogCommand::Keygen { out } => super::log_verify::keygen(&out),
        LogCommand::Erase(a) => rt.block_on(super::log_erase::run(&storage, a)),
        LogCommand::Evidence(a) => {
            rt.block_on(super::evidence::run(&root, &options, a, parse_time))
        }
        LogCommand::Soak {
            count,
            caller,
            no_flush,
            start_at_ms,
        } => soak(settings, count, &caller, no_flush, start_at_ms),
    }
}

/// Parses RFC 3339 or an age like `15m` into microseconds since the epoch.
pub(super) fn parse_time(s: &str) -> anyhow::Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_micros());
    }
    let (num, unit) = s.split_at(s.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len());
    let n: i64 = num.parse().with_context(|| {
        format!("time {s:?}: expected RFC 3339 (2026-11-22T10:00:00Z) or an age (30s, 15m, 2h, 7d)")
    })?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("time {s:?}: unknown unit {unit:?}; expected s, m, h or d"),
    };
    Ok(chrono::Utc::now().timestamp_micros() - secs * 1_000_000)
}

pub(super) struct Window {
    pub(super) since: Option<i64>,
    pub(super) until: Option<i64>,
}

impl Filters {
    pub(super) fn window(&self) -> anyhow::Result<Window> {
        Ok(Window {
            since: self.since.as_deref().map(parse_time).transpose()?,
            until: self.until.as_deref().map(parse_time).transpose()?,
        })
    }

    pub(super) fn keeps_decision(&self, w: &Window, d: &DecisionRow) -> bool {
        w.since.is_none_or(|s| d.timestamp_us >= s)
            && w.until.is_none_or(|u| d.timestamp_us < u)
            && self.action.as_ref().is_none_or(|a| &d.action == a)
            && self.plugin.as_ref().is_none_or(|p| &d.plugin == p)
            && self.caller.as_ref().is_none_or(|c| &d.caller == c)
            && self.request_id.as_ref().is_none_or(|r| &d.request_id == r)
    }

    pub(super) fn keeps_inference(&self, w: &Window, i: &InferenceRow) -> bool {
        w.since.is_none_or(|s| i.timestamp_us >= s)
            && w.until.is_none_or(|u| i.timestamp_us < u)
            && self.action.as_ref().is_none_or(|a| &i.action == a)
            && self.caller.as_ref().is_none_or(|c| &i.caller == c)
            && self.request_id.as_ref().is_none_or(|r| &i.request_id == r)
    }
}

/// Every decision row of the table (empty if there is no table yet).
pub async fn read_decisions(
    root: &url::Url,
    options: &std::collections::HashMap<String, String>,
) -> anyhow::Result<Vec<DecisionRow>> {
    let Some(t) = table::open_existing(root, TableKind::Decisions, options).await? else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    for b in table::read_batches(&t).await? {
        rows.extend(audit::schema::Columns::new(&b).decisions()?);
    }
    rows.sort_by(|a, b| (a.timestamp_us, &a.decision_id).cmp(&(b.timestamp_us, &b.decision_id)));
    Ok(rows)
}

/// Every inference row of the table.
pub async fn read_inferences(
    root: &url::Url,
    options: &std::collections::HashMap<String, String>,
) -> anyhow::Result<Vec<InferenceRow>> {
    let Some(t) = table::open_existing(root, TableKind::Inferences, options).await? else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    for b in table::read_batches(&t).await? {
        rows.extend(audit::schema::Columns::new(&b).inferences()?);
    }
    rows.sort_by(|a, b| (a.timestamp_us, &a.request_id).cmp(&(b.timestamp_us, &b.request_id)));
    Ok(rows)
}

/// Every judgement row of the table.
pub async fn read_judgements(
    root: &url::Url,
    options: &std::collections::HashMap<String, String>,
) -> anyhow::Result<Vec<JudgementRow>> {
    let Some(t) = table::open_existing(root, TableKind::Judgements, options).await? else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    for b in table::read_batches(&t).await? {
        rows.extend(audit::schema::Columns::new(&b).judgements()?);
    }
    rows.sort_by(|a, b| (a.timestamp_us, &a.judgement_id).cmp(&(b.timestamp_us, &b.judgement_id)));
    Ok(rows)
}

pub(super) fn time_str(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| us.to_string())
}

/// A writer process for crash tests: every decision id is printed only
/// after its record is acknowledged, so whatever the parent saw printed
/// must be in the table exactly once after recovery.
fn soak(
    settings: AuditSettings,
    count: u64,
    caller: &str,
    no_flush: bool,
    start_at_ms: Option<u64>,
) -> anyhow::Result<u8> {
    let pipeline = super::load(None)?;
    if let Some(at) = start_at_ms {
        let at = std::time::UNIX_EPOCH + Duration::from_millis(at);
        if let Ok(wait) = at.duration_since(std::time::SystemTime::now()) {
            std::thread::sleep(wait);
        }
    }
    let log = audit::AuditLog::open(settings)?;
    let capture = pipeline.policy().audit.capture;
    let out = std::io::stdout();
    let mut out = out.lock();
    for i in 0..count {
        let mut payload = crate::payload::Payload::text(
            crate::payload::Stage::Request,
            format!("message {i}: write to bob{i}@example.com"),
        );
        payload.caller = caller.to_string();
        let evaluation = pipeline.evaluate(&payload);
        let ack = log.record(
            &evaluation,
            &audit::RecordContext {
                payload: &payload,
                capture,
                call: Some(audit::CallInfo::default()),
            },
        )?;
        for id in &ack.decision_ids {
            writeln!(out, "{id}")?;
        }
        out.flush()?;
    }
    if !no_flush {
        log.shutdown(Duration::from_secs(60))?;
    }
    Ok(EXIT_ALLOWED)
}

//! `railyard log evidence`: what an auditor asks for, in one folder.
//!
//! ```text
//! OUT/summary.json   calls, actions by plugin / caller / route, blocks,
//!                    judge outcomes, refusals, per-bucket series
//! OUT/summary.md     the same, for people
//! OUT/policies.json  policies in force (name, digest, first and last seen,
//!                    and the exact text from the `policies` table)
//! OUT/plugins.json   plugin inventory (name, version, digest, kind, seen,
//!                    signature: see `evidence_plugins` for what the
//!                    tables can show and what comes from a folder)
//! OUT/verify.json    `railyard log verify` over the whole tables
//! OUT/index.html     self-contained page: charts of volume, block rate and
//!                    latency (inline SVG, no network)
//! OUT/manifest.json  every file above with its SHA-256 and size
//! OUT/manifest.sig   hex ed25519 signature of manifest.json's bytes, with
//!                    the chain's signing key (when one is configured)
//! ```
//!
//! Policies: the rows carry each policy's name and digest, so the pack
//! lists every (name, digest) seen in the period and when it was first and
//! last seen; a change of policy shows as a new digest. Each digest is
//! resolved to its text and plugin inventory through the `policies` table;
//! one it cannot resolve (a table written before that table existed) is
//! listed with `text: null`. Refusals that never became calls
//! (authentication failures, quota and overload refusals, admin calls,
//! reloads) are counted from the `events` table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::json;

use super::EXIT_ALLOWED;
use crate::audit::events::PolicyRow;
use crate::audit::{DecisionRow, InferenceRow, JudgementRow, chain};

/// `railyard log evidence` arguments.
#[derive(clap::Args, Clone, Debug)]
pub(super) struct EvidenceArgs {
    /// Start of the period: RFC 3339 or an age (7d).
    #[arg(long)]
    since: String,
    /// End of the period (exclusive; same forms). Default: now.
    #[arg(long)]
    until: Option<String>,
    /// Folder to write the pack to (created; must be empty if it exists).
    #[arg(long)]
    out: PathBuf,
    /// A plugins folder whose manifests give the signatures of the plugins
    /// in the inventory, matched by digest (the tables hold digests, not
    /// signatures); repeatable.
    #[arg(long = "plugins", value_name = "DIR")]
    plugins: Vec<PathBuf>,
    /// A public key (ed25519:<64 hex digits>) the plugin signatures are
    /// checked against; repeatable.
    #[arg(long = "trusted-key", value_name = "KEY")]
    trusted_keys: Vec<String>,
    /// A policy file whose `[registry]` folder and `trusted-keys` are used
    /// as --plugins and --trusted-key; repeatable.
    #[arg(long = "policy", value_name = "FILE")]
    policies: Vec<PathBuf>,
}

type Counts = BTreeMap<String, u64>;

/// One time bucket of the series the charts draw.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Bucket {
    /// Bucket start, RFC 3339.
    pub start: String,
    /// Calls (inferences rows).
    pub calls: u64,
    /// Calls whose action was `block`.
    pub blocks: u64,
    /// Median total latency of the calls that have one (µs).
    pub p50_latency_us: Option<i64>,
    /// 95th percentile (µs).
    pub p95_latency_us: Option<i64>,
}

/// The pack's `summary.json`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    /// Period start (inclusive), RFC 3339.
    pub since: String,
    /// Period end (exclusive), RFC 3339.
    pub until: String,
    /// Calls (inferences rows).
    pub calls: u64,
    /// Calls by final action.
    pub calls_by_action: Counts,
    /// Calls blocked.
    pub blocks: u64,
    /// Plugin decisions (decisions rows).
    pub decisions: u64,
    /// plugin → action → decisions.
    pub actions_by_plugin: BTreeMap<String, Counts>,
    /// caller → action → calls.
    pub actions_by_caller: BTreeMap<String, Counts>,
    /// route → action → calls.
    pub actions_by_route: BTreeMap<String, Counts>,
    /// Plugin runs that did not end `ok`, by outcome.
    pub plugin_faults: Counts,
    /// Judgements (judgements rows).
    pub judgements: u64,
    /// `judge/status/effect` → judgements.
    pub judge_outcomes: Counts,
    /// Calls answered with an HTTP error, by status code (blocks are 400,
    /// refusals for capacity 503, upstream failures 502/504).
    pub refusals_by_status: Counts,
    /// `events` rows in the period by kind (authentication failures,
    /// quota and overload refusals, admin calls, reloads, starts and stops).
    pub events_by_kind: Counts,
    /// Hosts that wrote rows in the period.
    pub hosts: Vec<String>,
    /// `hour` or `day`.
    pub bucket: String,
    /// Calls, blocks and latency per bucket.
    pub series: Vec<Bucket>,
}

fn bump(map: &mut BTreeMap<String, Counts>, key: &str, action: &str) {
    *map.entry(key.to_string())
        .or_default()
        .entry(action.to_string())
        .or_default() += 1;
}

fn rfc3339(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(i).copied()
}

/// Builds the summary of rows already restricted to `[since, until)`.
pub fn summarize(
    since_us: i64,
    until_us: i64,
    inferences: &[InferenceRow],
    decisions: &[DecisionRow],
    judgements: &[JudgementRow],
) -> Summary {
    let mut s = Summary {
        since: rfc3339(since_us),
        until: rfc3339(until_us),
        calls: inferences.len() as u64,
        decisions: decisions.len() as u64,
        judgements: judgements.len() as u64,
        ..Summary::default()
    };
    let mut hosts = std::collections::BTreeSet::new();
    for i in inferences {
        *s.calls_by_action.entry(i.action.clone()).or_default() += 1;
        if i.action == "block" {
            s.blocks += 1;
        }
        bump(&mut s.actions_by_caller, &i.caller, &i.action);
        bump(&mut s.actions_by_route, &i.route, &i.action);
        if let Some(code) = i.status_code.filter(|c| *c >= 400) {
            *s.refusals_by_status.entry(code.to_string()).or_default() += 1;
        }
        hosts.insert(i.host_id.clone());
    }
    for d in decisions {
        bump(&mut s.actions_by_plugin, &d.plugin, &d.action);
        if d.outcome != "ok" {
            *s.plugin_faults.entry(d.outcome.clone()).or_default() += 1;
        }
        hosts.insert(d.host_id.clone());
    }
    for j in judgements {
        *s.judge_outcomes
            .entry(format!("{}/{}/{}", j.judge, j.status, j.effect))
            .or_default() += 1;
    }
    s.hosts = hosts.into_iter().collect();
    // Hours for a period up to three days, days beyond.
    let hour = 3_600_000_000i64;
    let width = if until_us - since_us <= 72 * hour {
        s.bucket = "hour".into();
        hour
    } else {
        s.bucket = "day".into();
        24 * hour
    };
    let first = since_us.div_euclid(width) * width;
    let mut buckets: BTreeMap<i64, (u64, u64, Vec<i64>)> = BTreeMap::new();
    let mut t = first;
    while t < until_us {
        buckets.insert(t, Default::default());
        t += width;
    }
    for i in inferences {
        let b = buckets
            .entry(i.timestamp_us.div_euclid(width) * width)
            .or_default();
        b.0 += 1;
        if i.action == "block" {
            b.1 += 1;
        }
        if let Some(l) = i.total_latency_us {
            b.2.push(l);
        }
    }
    s.series = buckets
        .into_iter()
        .map(|(start, (calls, blocks, mut lat))| {
            lat.sort_unstable();
            Bucket {
                start: rfc3339(start),
                calls,
                blocks,
                p50_latency_us: percentile(&lat, 0.5),
                p95_latency_us: percentile(&lat, 0.95),
            }
        })
        .collect();
    s
}

/// `(name, digest)` of the policies seen, with when, each with its text
/// where the `policies` table has it (the plugins are
/// `evidence_plugins::inventory`).
fn policies_seen(inferences: &[InferenceRow], texts: &[PolicyRow]) -> serde_json::Value {
    let mut policies: BTreeMap<(String, String), (i64, i64, u64)> = BTreeMap::new();
    for i in inferences {
        let e = policies
            .entry((i.policy_name.clone(), i.policy_digest.clone()))
            .or_insert((i.timestamp_us, i.timestamp_us, 0));
        e.0 = e.0.min(i.timestamp_us);
        e.1 = e.1.max(i.timestamp_us);
        e.2 += 1;
    }
    let policies: Vec<_> = policies
        .into_iter()
        .map(|((name, digest), (first, last, calls))| {
            let row = texts.iter().find(|p| p.policy_digest == digest);
            let plugins = row.and_then(|p| serde_json::from_str::<serde_json::Value>(&p.plugins).ok());
            json!({"name": name, "digest": digest, "first_seen": rfc3339(first), "last_seen": rfc3339(last), "calls": calls,
                   "origin": row.map(|p| p.origin.clone()), "text": row.map(|p| p.text.clone()), "plugins": plugins})
        })
        .collect();
    json!({"source": "rows (policy_name, policy_digest of inferences), texts from the policies table", "policies": policies})
}

/// The Markdown summary.
fn markdown(s: &Summary, verify_ok: bool) -> String {
    let mut md = format!(
        "# railyard evidence pack\n\nPeriod: {} to {} (UTC, end exclusive). Hosts: {}.\n\n\
         Tamper evidence (`railyard log verify`): **{}**.\n\n\
         | | |\n|---|---|\n| calls | {} |\n| blocked calls | {} |\n| plugin decisions | {} |\n| judgements | {} |\n\n",
        s.since,
        s.until,
        if s.hosts.is_empty() {
            "none".to_string()
        } else {
            s.hosts.join(", ")
        },
        if verify_ok {
            "verified, no break"
        } else {
            "BROKEN, see verify.json"
        },
        s.calls,
        s.blocks,
        s.decisions,
        s.judgements
    );
    let table = |md: &mut String, title: &str, map: &BTreeMap<String, Counts>| {
        md.push_str(&format!(
            "## {title}\n\n| | allow | flag | redact | block |\n|---|---|---|---|---|\n"
        ));
        for (k, c) in map {
            let n = |a: &str| c.get(a).copied().unwrap_or(0);
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                k.replace('|', "\\|"),
                n("allow"),
                n("flag"),
                n("redact"),
                n("block")
            ));
        }
        md.push('\n');
    };
    table(&mut md, "Actions by plugin", &s.actions_by_plugin);
    table(&mut md, "Calls by caller", &s.actions_by_caller);
    table(&mut md, "Calls by route", &s.actions_by_route);
    let list = |md: &mut String, title: &str, c: &Counts| {
        md.push_str(&format!("## {title}\n\n"));
        if c.is_empty() {
            md.push_str("none\n\n");
        }
        for (k, n) in c {
            md.push_str(&format!("- {k}: {n}\n"));
        }
        md.push('\n');
    };
    list(
        &mut md,
        "Judge outcomes (judge/status/effect)",
        &s.judge_outcomes,
    );
    list(
        &mut md,
        "Calls answered with an error (HTTP status)",
        &s.refusals_by_status,
    );
    list(&mut md, "Plugin faults (outcome)", &s.plugin_faults);
    list(
        &mut md,
        "Events (refusals before a call, admin calls, reloads, starts and stops)",
        &s.events_by_kind,
    );
    md
}

/// Writes the pack; returns (files written, verify passed).
pub(super) async fn run(
    root: &url::Url,
    options: &std::collections::HashMap<String, String>,
    args: EvidenceArgs,
    parse_time: fn(&str) -> anyhow::Result<i64>,
) -> anyhow::Result<u8> {
    let since_us = parse_time(&args.since)?;
    let until_us = match &args.until {
        Some(u) => parse_time(u)?,
        None => crate::audit::now_us(),
    };
    if until_us <= since_us {
        bail!("--until must be after --since");
    }
    let out = &args.out;
    if out.exists()
        && std::fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_some()
    {
        bail!("{} is not empty; give a new folder", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let within = |t: i64| t >= since_us && t < until_us;
    let inferences: Vec<InferenceRow> = super::log::read_inferences(root, options)
        .await?
        .into_iter()
        .filter(|r| within(r.timestamp_us))
        .collect();
    let decisions: Vec<DecisionRow> = super::log::read_decisions(root, options)
        .await?
        .into_iter()
        .filter(|r| within(r.timestamp_us))
        .collect();
    let judgements: Vec<JudgementRow> = super::log::read_judgements(root, options)
        .await?
        .into_iter()
        .filter(|r| within(r.timestamp_us))
        .collect();
    // A shadow candidate's rows decided nothing: the summary counts what
    // served; the inventories below still list the candidate's plugins.
    let served: Vec<DecisionRow> = decisions
        .iter()
        .filter(|d| d.arm.as_deref() != Some("shadow"))
        .cloned()
        .collect();
    let mut summary = summarize(since_us, until_us, &inferences, &served, &judgements);
    for e in super::log_events::read_events(root, options).await? {
        if within(e.timestamp_us) {
            *summary.events_by_kind.entry(e.kind).or_default() += 1;
        }
    }
    let policy_rows = super::log_events::read_policies(root, options).await?;
    let policies = policies_seen(&inferences, &policy_rows);
    // The plugins of every policy in force: the policies rows of the
    // digests the period's calls carry, loaded before its end.
    let digests: std::collections::BTreeSet<&str> = inferences
        .iter()
        .map(|i| i.policy_digest.as_str())
        .collect();
    let in_force: Vec<&PolicyRow> = policy_rows
        .iter()
        .filter(|p| digests.contains(p.policy_digest.as_str()) && p.timestamp_us < until_us)
        .collect();
    let sources =
        super::evidence_plugins::Sources::new(&args.plugins, &args.trusted_keys, &args.policies)?;
    let plugins = super::evidence_plugins::inventory(&decisions, &in_force, &sources, rfc3339)?;
    let report = super::log_verify::verify_report(root, options, None, &[]).await?;
    let html = super::evidence_html::page(&summary, report.ok, &plugins);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("summary.json", serde_json::to_vec_pretty(&summary)?),
        (
            "summary.md",
            (markdown(&summary, report.ok) + &super::evidence_plugins::markdown(&plugins))
                .into_bytes(),
        ),
        ("policies.json", serde_json::to_vec_pretty(&policies)?),
        ("plugins.json", serde_json::to_vec_pretty(&plugins)?),
        ("verify.json", serde_json::to_vec_pretty(&report)?),
        ("index.html", html.into_bytes()),
    ];
    let mut listed = Vec::new();
    for (name, bytes) in &files {
        write(out, name, bytes)?;
        listed.push(json!({"path": name, "sha256": chain::sha256_hex(bytes), "size": bytes.len()}));
    }
    let signer = chain::signing_key_from_env().map_err(anyhow::Error::msg)?;
    let manifest = json!({
        "format": "railyard-evidence-v1",
        "table_root": root.as_str(),
        "since": summary.since,
        "until": summary.until,
        "created": rfc3339(crate::audit::now_us()),
        "verify_ok": report.ok,
        "files": listed,
        "key_id": signer.as_ref().map(|s| s.id().to_string()),
        "public_key": signer.as_ref().map(|s| s.public_hex()),
    });
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    write(out, "manifest.json", &manifest_bytes)?;
    match &signer {
        Some(s) => {
            write(
                out,
                "manifest.sig",
                s.sign_bytes(&manifest_bytes).as_bytes(),
            )?;
            eprintln!(
                "manifest signed with {} (public key {})",
                s.id(),
                s.public_hex()
            );
        }
        None => eprintln!(
            "manifest NOT signed: no RAILYARD_AUDIT_SIGNING_KEY[_FILE] (railyard log keygen makes one)"
        ),
    }
    println!(
        "evidence pack in {}: {} call(s), {} block(s), {} decision(s), {} judgement(s); verify: {}",
        out.display(),
        summary.calls,
        summary.blocks,
        summary.decisions,
        summary.judgements,
        if report.ok { "ok" } else { "BROKEN" }
    );
    Ok(EXIT_ALLOWED)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let p = dir.join(name);
    std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))
}

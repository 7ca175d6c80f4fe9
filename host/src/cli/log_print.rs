//! `railyard log show`: the rows of one table, filtered, as text or JSON
//! lines.

use std::io::Write;

use super::EXIT_ALLOWED;
use super::log::{Filters, TableArg, read_decisions, read_inferences, read_judgements, time_str};
use crate::audit::TableKind;

pub(super) async fn print_rows(
    root: &url::Url,
    options: &std::collections::HashMap<String, String>,
    table: TableArg,
    filters: &Filters,
    limit: Option<usize>,
    json: bool,
) -> anyhow::Result<u8> {
    let w = filters.window()?;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    match table.kind() {
        TableKind::Decisions => {
            let mut rows: Vec<_> = read_decisions(root, options)
                .await?
                .into_iter()
                .filter(|d| filters.keeps_decision(&w, d))
                .collect();
            if let Some(n) = limit {
                rows.drain(..rows.len().saturating_sub(n));
            }
            if !json && !rows.is_empty() {
                writeln!(
                    out,
                    "{:<24} {:<36} {:<16} {:<7} {:<13} {:>8}  reason",
                    "time", "request_id", "plugin", "action", "outcome", "latency"
                )?;
            }
            for d in rows {
                if json {
                    let mut v = serde_json::to_value(&d)?;
                    v["timestamp"] = time_str(d.timestamp_us).into();
                    writeln!(out, "{v}")?;
                } else {
                    writeln!(
                        out,
                        "{:<24} {:<36} {:<16} {:<7} {:<13} {:>5} µs  {}",
                        time_str(d.timestamp_us),
                        d.request_id,
                        d.plugin,
                        d.action,
                        d.outcome,
                        d.latency_us,
                        d.reason
                    )?;
                }
            }
        }
        TableKind::Inferences => {
            let mut rows: Vec<_> = read_inferences(root, options)
                .await?
                .into_iter()
                .filter(|i| filters.keeps_inference(&w, i))
                .collect();
            if let Some(n) = limit {
                rows.drain(..rows.len().saturating_sub(n));
            }
            for i in rows {
                if json {
                    let mut v = serde_json::to_value(&i)?;
                    v["timestamp"] = time_str(i.timestamp_us).into();
                    writeln!(out, "{v}")?;
                } else {
                    writeln!(
                        out,
                        "{:<24} {:<36} {:<7} {:<10} {:>6} µs  {}",
                        time_str(i.timestamp_us),
                        i.request_id,
                        i.action,
                        i.caller,
                        i.guard_latency_us,
                        i.request
                            .as_deref()
                            .or(i.response.as_deref())
                            .unwrap_or("-")
                    )?;
                }
            }
        }
        kind @ (TableKind::Events | TableKind::Policies) => {
            super::log_events::print(root, options, kind, filters, &w, limit, json, &mut out)
                .await?;
        }
        TableKind::Judgements => {
            let mut rows: Vec<_> = read_judgements(root, options)
                .await?
                .into_iter()
                .filter(|j| {
                    w.since.is_none_or(|s| j.timestamp_us >= s)
                        && w.until.is_none_or(|u| j.timestamp_us < u)
                        && filters.caller.as_ref().is_none_or(|c| &j.caller == c)
                        && filters
                            .request_id
                            .as_ref()
                            .is_none_or(|r| &j.request_id == r)
                })
                .collect();
            if let Some(n) = limit {
                rows.drain(..rows.len().saturating_sub(n));
            }
            for j in rows {
                if json {
                    let mut v = serde_json::to_value(&j)?;
                    v["timestamp"] = time_str(j.timestamp_us).into();
                    writeln!(out, "{v}")?;
                } else {
                    writeln!(
                        out,
                        "{:<24} {:<36} {:<16} {:<8} {:<8} {:<7} {:>8} ms  {}",
                        time_str(j.timestamp_us),
                        j.request_id,
                        j.judge,
                        j.mode,
                        j.status,
                        j.verdict.as_deref().unwrap_or("-"),
                        j.latency_us / 1000,
                        j.error.as_deref().or(j.reasoning.as_deref()).unwrap_or("")
                    )?;
                }
            }
        }
    }
    out.flush()?;
    Ok(EXIT_ALLOWED)
}

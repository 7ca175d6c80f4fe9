//! `railyard log query --table events|policies`: the operational evidence
//! tables (see `audit::events`).

use std::collections::HashMap;
use std::io::Write;

use crate::audit::events::{EventRow, PolicyRow, schema};
use crate::audit::schema::Columns;
use crate::audit::{TableKind, table};

use super::log::{Filters, Window, time_str};

/// Every `events` row (empty if there is no table yet), oldest first.
pub async fn read_events(
    root: &url::Url,
    options: &HashMap<String, String>,
) -> anyhow::Result<Vec<EventRow>> {
    let Some(t) = table::open_existing(root, TableKind::Events, options).await? else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    for b in table::read_batches(&t).await? {
        rows.extend(schema::events(&Columns::new(&b))?);
    }
    rows.sort_by(|a, b| (a.timestamp_us, &a.event_id).cmp(&(b.timestamp_us, &b.event_id)));
    Ok(rows)
}

/// Every `policies` row, oldest first.
pub async fn read_policies(
    root: &url::Url,
    options: &HashMap<String, String>,
) -> anyhow::Result<Vec<PolicyRow>> {
    let Some(t) = table::open_existing(root, TableKind::Policies, options).await? else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    for b in table::read_batches(&t).await? {
        rows.extend(schema::policies(&Columns::new(&b))?);
    }
    rows.sort_by(|a, b| {
        (a.timestamp_us, &a.policy_digest).cmp(&(b.timestamp_us, &b.policy_digest))
    });
    Ok(rows)
}

fn in_window(w: &Window, t: i64) -> bool {
    w.since.is_none_or(|s| t >= s) && w.until.is_none_or(|u| t < u)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn print(
    root: &url::Url,
    options: &HashMap<String, String>,
    kind: TableKind,
    filters: &Filters,
    w: &Window,
    limit: Option<usize>,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    fn keep_last<T>(rows: &mut Vec<T>, limit: Option<usize>) {
        if let Some(n) = limit {
            rows.drain(..rows.len().saturating_sub(n));
        }
    }
    if kind == TableKind::Events {
        let mut rows: Vec<_> = read_events(root, options)
            .await?
            .into_iter()
            .filter(|e| {
                in_window(w, e.timestamp_us)
                    && filters
                        .caller
                        .as_ref()
                        .is_none_or(|c| e.caller.as_ref() == Some(c))
                    && filters
                        .request_id
                        .as_ref()
                        .is_none_or(|r| e.request_id.as_ref() == Some(r))
            })
            .collect();
        keep_last(&mut rows, limit);
        for e in rows {
            if json {
                let mut v = serde_json::to_value(&e)?;
                v["timestamp"] = time_str(e.timestamp_us).into();
                writeln!(out, "{v}")?;
            } else {
                let who = e
                    .admin
                    .as_deref()
                    .or(e.caller.as_deref())
                    .or(e.remote_addr.as_deref())
                    .unwrap_or("-");
                writeln!(
                    out,
                    "{:<24} {:<5} {:<20} {:<22} {}",
                    time_str(e.timestamp_us),
                    e.severity,
                    e.kind,
                    who,
                    e.message
                )?;
            }
        }
    } else {
        let mut rows: Vec<_> = read_policies(root, options)
            .await?
            .into_iter()
            .filter(|p| in_window(w, p.timestamp_us))
            .collect();
        keep_last(&mut rows, limit);
        for p in rows {
            if json {
                let mut v = serde_json::to_value(&p)?;
                v["timestamp"] = time_str(p.timestamp_us).into();
                writeln!(out, "{v}")?;
            } else {
                let plugins = serde_json::from_str::<serde_json::Value>(&p.plugins)
                    .ok()
                    .and_then(|v| v.as_array().map(Vec::len))
                    .unwrap_or(0);
                writeln!(
                    out,
                    "{:<24} {:<71} {:<12} {} plugin(s)  {}",
                    time_str(p.timestamp_us),
                    p.policy_digest,
                    p.policy_name,
                    plugins,
                    p.origin
                )?;
            }
        }
    }
    Ok(())
}

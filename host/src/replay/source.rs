//! Reading the calls of a period from the audit tables.
//!
//! The `inferences` rows of the period are the calls; their `decisions`
//! rows are joined by request id. Files are the table snapshot's active
//! files (from the Delta log), and only those of the days the period
//! touches are read: every table is partitioned by `date`, the UTC day of
//! `timestamp`. A call's request-stage decisions are recorded before the
//! upstream answers, so decisions are read from the day before the period
//! too (a call that straddles midnight keeps its decisions).

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use deltalake::DeltaTable;
use deltalake::arrow::array::RecordBatch;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use url::Url;

use super::{LoggedCall, LoggedDecision, LoggedFinding};
use crate::audit::schema::{Columns, date_of};
use crate::audit::{TableKind, table};

/// Which calls to read.
#[derive(Debug, Clone, Default)]
pub struct Period {
    /// At or after, µs since the epoch.
    pub since_us: Option<i64>,
    /// Before, µs since the epoch.
    pub until_us: Option<i64>,
    /// Only calls served under this policy name.
    pub policy_name: Option<String>,
}

impl Period {
    fn keeps(&self, ts: i64) -> bool {
        self.since_us.is_none_or(|s| ts >= s) && self.until_us.is_none_or(|u| ts < u)
    }
}

/// The day of a data file, from its `date=YYYY-MM-DD` folder; `None` when
/// the path does not say (the file is read then).
fn file_day(path: &str) -> Option<i32> {
    let seg = path.split('/').find_map(|s| s.strip_prefix("date="))?;
    let seg = crate::audit::table::percent_decode(seg);
    let d = chrono::NaiveDate::parse_from_str(&seg, "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    Some((d - epoch).num_days() as i32)
}

/// The batches of the table's active files whose day is in `days`
/// (inclusive; `None` ends are open).
async fn batches(
    t: &DeltaTable,
    days: (Option<i32>, Option<i32>),
) -> anyhow::Result<Vec<RecordBatch>> {
    let url = t.table_url().clone();
    let store = t.object_store();
    let paths: Vec<_> = t
        .snapshot()
        .with_context(|| format!("{url}: reading the table state"))?
        .log_data()
        .into_iter()
        .map(|f| f.object_store_path())
        .filter(|p| match file_day(p.as_ref()) {
            Some(d) => days.0.is_none_or(|lo| d >= lo) && days.1.is_none_or(|hi| d <= hi),
            None => true,
        })
        .collect();
    let mut out = Vec::new();
    for path in paths {
        let bytes = store
            .get_opts(&path, Default::default())
            .await
            .with_context(|| format!("{url}: reading {path}"))?
            .bytes()
            .await
            .with_context(|| format!("{url}: reading {path}"))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|b| b.build())
            .with_context(|| format!("{url}: decoding {path}"))?;
        for batch in reader {
            out.push(batch.with_context(|| format!("{url}: decoding {path}"))?);
        }
    }
    Ok(out)
}

/// The calls of `period`, oldest first, each with its decisions.
pub async fn read_calls(
    root: &Url,
    options: &HashMap<String, String>,
    period: &Period,
) -> anyhow::Result<Vec<LoggedCall>> {
    let Some(inferences) = table::open_existing(root, TableKind::Inferences, options).await? else {
        anyhow::bail!(
            "no inferences table under {root}: nothing was recorded there (is --audit right?)"
        );
    };
    let days = (
        period.since_us.map(date_of),
        period.until_us.map(|u| date_of(u - 1)),
    );
    let mut calls: Vec<LoggedCall> = Vec::new();
    for b in batches(&inferences, days).await? {
        for i in Columns::new(&b).inferences()? {
            if !period.keeps(i.timestamp_us)
                || period
                    .policy_name
                    .as_ref()
                    .is_some_and(|p| *p != i.policy_name)
            {
                continue;
            }
            calls.push(LoggedCall {
                request_id: i.request_id,
                timestamp_us: i.timestamp_us,
                host_id: i.host_id,
                policy_name: i.policy_name,
                policy_digest: i.policy_digest,
                route: i.route,
                caller: i.caller,
                stage: i.stage,
                capture: i.capture,
                request: i.request,
                response: i.response,
                decision_count: Some(i.decision_count),
                decisions: Vec::new(),
            });
        }
    }
    calls.sort_by(|a, b| (a.timestamp_us, &a.request_id).cmp(&(b.timestamp_us, &b.request_id)));
    let wanted: HashSet<&str> = calls.iter().map(|c| c.request_id.as_str()).collect();
    let mut by_request: HashMap<String, Vec<LoggedDecision>> = HashMap::new();
    if let Some(decisions) = table::open_existing(root, TableKind::Decisions, options).await? {
        let days = (days.0.map(|d| d - 1), days.1);
        for b in batches(&decisions, days).await? {
            for d in Columns::new(&b).decisions()? {
                // A shadow candidate's rows (arm = "shadow") decided nothing.
                if !wanted.contains(d.request_id.as_str()) || d.arm.as_deref() == Some("shadow") {
                    continue;
                }
                by_request
                    .entry(d.request_id)
                    .or_default()
                    .push(LoggedDecision {
                        stage: d.stage,
                        plugin: d.plugin,
                        plugin_kind: d.plugin_kind,
                        plugin_digest: d.plugin_digest,
                        action: d.action,
                        outcome: d.outcome,
                        reason: d.reason,
                        findings: d
                            .findings
                            .into_iter()
                            .map(|f| LoggedFinding {
                                category: f.category,
                                message_index: f.message_index,
                            })
                            .collect(),
                    });
            }
        }
    }
    for c in &mut calls {
        c.decisions = by_request.remove(&c.request_id).unwrap_or_default();
    }
    Ok(calls)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_day_comes_from_its_date_folder() {
        assert_eq!(super::file_day("date=1970-01-02/part-1.parquet"), Some(1));
        assert_eq!(super::file_day("part-1.parquet"), None);
    }
}

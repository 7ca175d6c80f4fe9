//! The changed decisions of a replay, as a Delta table (`--out-table`).
//!
//! One row per changed decision; every run appends its rows under a fresh
//! `replay_id`, so one table can keep the history of a plugin's rollout.
//! The Spark job (`scripts/replay/spark_replay.py`) writes the same
//! columns.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use deltalake::arrow::array::{
    ArrayRef, ListBuilder, RecordBatch, StringArray, StringBuilder, TimestampMicrosecondArray,
};
use deltalake::arrow::datatypes::{DataType as ArrowType, Schema as ArrowSchema};
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
use deltalake::kernel::{ArrayType, DataType, StructField, StructType};
use deltalake::protocol::SaveMode;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use deltalake::{DeltaTableBuilder, DeltaTableError};
use url::Url;

use super::report::{Change, Report};

/// The string columns after `replay_id`, `replayed_at` and the candidate's
/// policy, in order.
const TEXT_COLUMNS: [&str; 15] = [
    "request_id",
    "host_id",
    "route",
    "caller",
    "stage",
    "plugin",
    "live_action",
    "candidate_action",
    "live_outcome",
    "candidate_outcome",
    "live_reason",
    "candidate_reason",
    "live_plugin_digest",
    "candidate_plugin_digest",
    "live_policy_digest",
];

fn text(c: &Change, column: &str) -> String {
    match column {
        "request_id" => &c.request_id,
        "host_id" => &c.host_id,
        "route" => &c.route,
        "caller" => &c.caller,
        "stage" => &c.stage,
        "plugin" => &c.plugin,
        "live_action" => &c.live_action,
        "candidate_action" => &c.candidate_action,
        "live_outcome" => &c.live_outcome,
        "candidate_outcome" => &c.candidate_outcome,
        "live_reason" => &c.live_reason,
        "candidate_reason" => &c.candidate_reason,
        "live_plugin_digest" => &c.live_plugin_digest,
        "candidate_plugin_digest" => &c.candidate_plugin_digest,
        "live_policy_digest" => &c.live_policy_digest,
        _ => unreachable!("TEXT_COLUMNS lists the Change fields"),
    }
    .clone()
}

/// The table's Delta schema.
pub fn delta_schema() -> StructType {
    let s = |n: &str| StructField::new(n, DataType::STRING, false);
    let mut fields = vec![
        s("replay_id"),
        StructField::new("replayed_at", DataType::TIMESTAMP, false),
        s("candidate_policy"),
        s("candidate_policy_digest"),
        StructField::new("call_timestamp", DataType::TIMESTAMP, false),
    ];
    fields.extend(TEXT_COLUMNS.iter().map(|c| s(c)));
    fields.push(StructField::new(
        "candidate_categories",
        ArrayType::new(DataType::STRING, false),
        false,
    ));
    StructType::try_new(fields).expect("replay schema is valid")
}

fn batch(report: &Report, replay_id: &str, replayed_at_us: i64) -> anyhow::Result<RecordBatch> {
    let schema: ArrowSchema = (&delta_schema()).try_into_arrow()?;
    let schema = Arc::new(schema);
    let n = report.changes.len();
    let tz = |name: &str| match schema.field_with_name(name).map(|f| f.data_type()) {
        Ok(ArrowType::Timestamp(_, tz)) => tz.clone(),
        _ => None,
    };
    let same = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v; n])) };
    let mut columns: Vec<ArrayRef> = vec![
        same(replay_id),
        Arc::new(
            TimestampMicrosecondArray::from(vec![replayed_at_us; n])
                .with_timezone_opt(tz("replayed_at")),
        ),
        same(&report.candidate.policy),
        same(&report.candidate.policy_digest),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(
                report.changes.iter().map(|c| c.timestamp_us),
            )
            .with_timezone_opt(tz("call_timestamp")),
        ),
    ];
    for col in TEXT_COLUMNS {
        columns.push(Arc::new(StringArray::from_iter_values(
            report.changes.iter().map(|c| text(c, col)),
        )));
    }
    let item = match schema.field_with_name("candidate_categories")?.data_type() {
        ArrowType::List(f) => f.clone(),
        other => anyhow::bail!("candidate_categories is {other}, not a list"),
    };
    let mut categories = ListBuilder::new(StringBuilder::new()).with_field(item);
    for c in &report.changes {
        for k in &c.candidate_categories {
            categories.values().append_value(k);
        }
        categories.append(true);
    }
    columns.push(Arc::new(categories.finish()));
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Appends the report's changed decisions to the table at `url` (created
/// when there is none); returns the table version written, or `None` when
/// there was nothing to write.
pub async fn append(
    url: &Url,
    options: &HashMap<String, String>,
    report: &Report,
    replay_id: &str,
) -> anyhow::Result<Option<u64>> {
    if let Some(path) = crate::audit::table::is_local(url) {
        std::fs::create_dir_all(&path)
            .with_context(|| format!("creating the folder {}", path.display()))?;
    }
    let mut table = DeltaTableBuilder::from_url(url.clone())?
        .with_storage_options(options.clone())
        .build()?;
    match table.load().await {
        Ok(()) => {}
        Err(DeltaTableError::NotATable(_)) => {
            table = table
                .create()
                .with_table_name("replay_changes")
                .with_comment("railyard replay: decisions a candidate policy changes")
                .with_columns(delta_schema().fields().cloned())
                .with_save_mode(SaveMode::Ignore)
                .await
                .with_context(|| format!("creating the table {url}"))?;
        }
        Err(e) => return Err(e).with_context(|| format!("loading the table {url}")),
    }
    if report.changes.is_empty() {
        return Ok(None);
    }
    let batch = batch(report, replay_id, crate::audit::now_us())?;
    let mut writer = RecordBatchWriter::for_table(&table)
        .with_context(|| format!("{url}: preparing the Parquet writer"))?;
    writer
        .write(batch)
        .await
        .with_context(|| format!("{url}: writing Parquet"))?;
    let version = writer
        .flush_and_commit(&mut table)
        .await
        .with_context(|| format!("{url}: committing"))?;
    Ok(Some(version))
}

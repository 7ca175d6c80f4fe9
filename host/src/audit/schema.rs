//! The Delta schemas of the audit tables, and the conversion between rows
//! and Arrow record batches.
//!
//! The Delta schema is the source of truth; the Arrow schema batches are
//! built against is derived from it (`try_into_arrow`), so what the writer
//! checks and what we build cannot drift apart. Every table is partitioned
//! by `date` (UTC day of `timestamp`), the way Databricks inference tables
//! are, so auditors' time-range queries prune whole folders.

use std::sync::Arc;

use deltalake::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use deltalake::arrow::buffer::{NullBuffer, OffsetBuffer};
use deltalake::arrow::datatypes::{DataType as ArrowType, Schema as ArrowSchema, SchemaRef};
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
use deltalake::kernel::{ArrayType, DataType, StructField, StructType};

pub use super::columns::{Columns, ReadError};
use super::record::{DecisionRow, InferenceRow, JudgementRow};
use super::wal::wire::{DecisionIn, InferenceIn, Placed};

/// The partition column of every table.
pub const PARTITION_COLUMN: &str = "date";

/// Which audit table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableKind {
    /// One row per plugin evaluation.
    Decisions,
    /// One row per evaluated or proxied call.
    Inferences,
    /// One row per judge verdict.
    Judgements,
    /// One row per operational event (auth failures, refusals, admin
    /// calls, reloads, starts and stops; see `audit::events`).
    Events,
    /// One row per policy version a host loaded: its text and plugin
    /// inventory, by digest.
    Policies,
}

impl TableKind {
    /// Every table, in the order they are committed.
    pub const ALL: [TableKind; 5] = [
        TableKind::Decisions,
        TableKind::Inferences,
        TableKind::Judgements,
        TableKind::Events,
        TableKind::Policies,
    ];

    /// The table's folder name under the audit root.
    pub fn name(self) -> &'static str {
        match self {
            TableKind::Decisions => "decisions",
            TableKind::Inferences => "inferences",
            TableKind::Judgements => "judgements",
            TableKind::Events => "events",
            TableKind::Policies => "policies",
        }
    }

    /// Nullable columns added to the schema after tables were first
    /// written, at its end: a table without them is brought up to date
    /// when it is opened for writing, and read with them as null.
    pub fn added_columns(self) -> &'static [&'static str] {
        match self {
            TableKind::Decisions => &["finding_fields", "arm"],
            TableKind::Inferences => &[
                "api",
                "previous_response_id",
                "scanned_fields",
                "trace_id",
                // Provenance (issue 23), one block: see `provenance::fields`.
                "upstream",
                "upstream_model",
                "system_fingerprint",
                "parameters",
                "end_user",
                "attributes",
                "request_body",
                "response_body",
                // Rollouts (issue 20): which arm served, see `serve::rollout`.
                "arm",
            ],
            _ => &[],
        }
    }

    /// The Delta schema.
    pub fn delta_schema(self) -> StructType {
        let s = |n: &str| StructField::new(n, DataType::STRING, false);
        let so = |n: &str| StructField::new(n, DataType::STRING, true);
        let l = |n: &str| StructField::new(n, DataType::LONG, false);
        let lo = |n: &str| StructField::new(n, DataType::LONG, true);
        let head = |id: &str| {
            vec![
                s(id),
                StructField::new("timestamp", DataType::TIMESTAMP, false),
                StructField::new(PARTITION_COLUMN, DataType::DATE, false),
            ]
        };
        let tail = || vec![l("wal_segment"), l("wal_offset")];
        let fields: Vec<StructField> = match self {
            TableKind::Decisions => {
                let finding = StructType::try_new([
                    s("rule_id"),
                    s("category"),
                    StructField::new("score", DataType::FLOAT, false),
                    StructField::new("message_index", DataType::INTEGER, true),
                    StructField::new("span_start", DataType::INTEGER, true),
                    StructField::new("span_end", DataType::INTEGER, true),
                ])
                .expect("finding struct is valid");
                let mut f = head("decision_id");
                f.extend([
                    s("request_id"),
                    s("host_id"),
                    s("policy_name"),
                    s("policy_digest"),
                    s("route"),
                    s("caller"),
                    s("stage"),
                    s("plugin"),
                    s("plugin_name"),
                    s("plugin_version"),
                    s("plugin_digest"),
                    s("plugin_kind"),
                    s("action"),
                    s("reason"),
                    StructField::new(
                        "findings",
                        ArrayType::new(DataType::Struct(Box::new(finding)), false),
                        false,
                    ),
                    s("outcome"),
                    so("failure_mode"),
                    so("error"),
                    l("latency_us"),
                    s("payload_hash"),
                ]);
                f.extend(tail());
                // Added later (see `added_columns`): the wire field of each
                // finding, parallel to `findings` (a top-level column, not
                // a field inside the findings struct: docs/audit-schema.md
                // says why).
                f.push(StructField::new(
                    "finding_fields",
                    ArrayType::new(DataType::STRING, true),
                    true,
                ));
                f.push(so("arm"));
                f
            }
            TableKind::Inferences => {
                let mut f = head("request_id");
                f.extend([
                    s("host_id"),
                    s("policy_name"),
                    s("policy_digest"),
                    s("route"),
                    s("caller"),
                    s("stage"),
                    s("capture"),
                    so("request"),
                    so("response"),
                    s("payload_hash"),
                    s("action"),
                    s("reason"),
                    StructField::new("status_code", DataType::INTEGER, true),
                    lo("prompt_tokens"),
                    lo("completion_tokens"),
                    l("guard_latency_us"),
                    lo("total_latency_us"),
                    StructField::new("decision_count", DataType::INTEGER, false),
                ]);
                f.extend(tail());
                // Added later: last, so older tables gain it in place
                // (see `ADDED_COLUMNS`).
                f.push(so("api"));
                f.push(so("previous_response_id"));
                f.push(StructField::new(
                    "scanned_fields",
                    ArrayType::new(DataType::STRING, false),
                    true,
                ));
                f.push(so("trace_id"));
                f.extend(super::provenance::fields());
                f.push(so("arm"));
                f
            }
            TableKind::Judgements => {
                let mut f = head("judgement_id");
                f.extend([
                    s("request_id"),
                    s("decision_id"),
                    s("host_id"),
                    s("stage"),
                    s("route"),
                    s("caller"),
                    s("judge"),
                    s("model"),
                    s("rubric"),
                    s("router"),
                    s("router_digest"),
                    s("routing_reason"),
                    s("mode"),
                    StructField::new("priority", DataType::INTEGER, false),
                    StructField::new("sample_rate", DataType::DOUBLE, false),
                    s("status"),
                    so("verdict"),
                    StructField::new("score", DataType::DOUBLE, true),
                    StructField::new("categories", ArrayType::new(DataType::STRING, false), false),
                    so("reasoning"),
                    so("raw_answer"),
                    so("error"),
                    s("effect"),
                    StructField::new("requested_at", DataType::TIMESTAMP, false),
                    l("queued_us"),
                    l("latency_us"),
                ]);
                f.extend(tail());
                f
            }
            TableKind::Events | TableKind::Policies => super::events::schema::fields(self),
        };
        StructType::try_new(fields).expect("audit schema is valid")
    }

    /// The Arrow schema batches are built with (derived from the Delta one).
    pub fn arrow_schema(self) -> SchemaRef {
        let schema: ArrowSchema = (&self.delta_schema())
            .try_into_arrow()
            .expect("audit schema converts to Arrow");
        Arc::new(schema)
    }
}

/// Days since the Unix epoch of a microsecond timestamp (UTC).
pub fn date_of(timestamp_us: i64) -> i32 {
    timestamp_us.div_euclid(86_400_000_000) as i32
}

pub(crate) fn strings<'a>(v: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(v))
}
pub(crate) fn opt_strings<'a>(v: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(v.collect::<StringArray>())
}
pub(crate) fn longs(v: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(v))
}
pub(crate) fn opt_longs(v: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(v.collect::<Int64Array>())
}
pub(crate) fn timestamps(schema: &ArrowSchema, v: impl Iterator<Item = i64>) -> ArrayRef {
    timestamps_named(schema, "timestamp", v)
}
fn timestamps_named(schema: &ArrowSchema, column: &str, v: impl Iterator<Item = i64>) -> ArrayRef {
    let tz = match schema.field_with_name(column).map(|f| f.data_type()) {
        Ok(ArrowType::Timestamp(_, tz)) => tz.clone(),
        _ => None,
    };
    Arc::new(TimestampMicrosecondArray::from_iter_values(v).with_timezone_opt(tz))
}
pub(crate) fn dates(v: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(Date32Array::from_iter_values(v.map(date_of)))
}

/// A `decisions` batch (see [`super::batch`], which builds it from
/// borrowed rows).
pub fn decisions_batch(
    rows: &[DecisionRow],
) -> Result<RecordBatch, deltalake::arrow::error::ArrowError> {
    let views: Vec<_> = rows.iter().map(Placed::<DecisionIn<'_>>::of).collect();
    super::batch::decisions(&views)
}

/// A `list<string>` column: a null row for `None`, null elements for
/// `None` items.
pub(crate) fn string_lists<'a, I>(
    schema: &ArrowSchema,
    column: &str,
    rows: impl Iterator<Item = Option<I>>,
) -> Result<ArrayRef, deltalake::arrow::error::ArrowError>
where
    I: Iterator<Item = Option<&'a str>>,
{
    let field = match schema.field_with_name(column)?.data_type() {
        ArrowType::List(f) => f.clone(),
        other => unreachable!("{column} is a list in the schema, not {other}"),
    };
    let mut values: Vec<Option<&str>> = Vec::new();
    let mut lengths = Vec::new();
    let mut valid = Vec::new();
    for row in rows {
        let before = values.len();
        valid.push(row.is_some());
        if let Some(items) = row {
            values.extend(items);
        }
        lengths.push(values.len() - before);
    }
    let nulls = valid.iter().any(|v| !v).then(|| NullBuffer::from(valid));
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::from_lengths(lengths),
        Arc::new(StringArray::from(values)),
        nulls,
    )?))
}

/// An `inferences` batch (see [`super::batch`]).
pub fn inferences_batch(
    rows: &[InferenceRow],
) -> Result<RecordBatch, deltalake::arrow::error::ArrowError> {
    let views: Vec<_> = rows.iter().map(Placed::<InferenceIn<'_>>::of).collect();
    super::batch::inferences(&views)
}

/// A `judgements` batch.
pub fn judgements_batch(
    rows: &[JudgementRow],
) -> Result<RecordBatch, deltalake::arrow::error::ArrowError> {
    let schema = TableKind::Judgements.arrow_schema();
    let r = rows;
    let categories = {
        let field = match schema.field_with_name("categories")?.data_type() {
            ArrowType::List(f) => f.clone(),
            other => unreachable!("categories is a list in the schema, not {other}"),
        };
        // Collected first: a flat map has no exact size, which the
        // string builder needs.
        let values: Vec<&str> = r
            .iter()
            .flat_map(|x| x.categories.iter().map(String::as_str))
            .collect();
        let values = StringArray::from(values);
        let offsets = OffsetBuffer::from_lengths(r.iter().map(|x| x.categories.len()));
        Arc::new(ListArray::try_new(field, offsets, Arc::new(values), None)?) as ArrayRef
    };
    let columns: Vec<ArrayRef> = vec![
        strings(r.iter().map(|x| x.judgement_id.as_str())),
        timestamps(&schema, r.iter().map(|x| x.timestamp_us)),
        dates(r.iter().map(|x| x.timestamp_us)),
        strings(r.iter().map(|x| x.request_id.as_str())),
        strings(r.iter().map(|x| x.decision_id.as_str())),
        strings(r.iter().map(|x| x.host_id.as_str())),
        strings(r.iter().map(|x| x.stage.as_str())),
        strings(r.iter().map(|x| x.route.as_str())),
        strings(r.iter().map(|x| x.caller.as_str())),
        strings(r.iter().map(|x| x.judge.as_str())),
        strings(r.iter().map(|x| x.model.as_str())),
        strings(r.iter().map(|x| x.rubric.as_str())),
        strings(r.iter().map(|x| x.router.as_str())),
        strings(r.iter().map(|x| x.router_digest.as_str())),
        strings(r.iter().map(|x| x.routing_reason.as_str())),
        strings(r.iter().map(|x| x.mode.as_str())),
        Arc::new(Int32Array::from_iter_values(r.iter().map(|x| x.priority))),
        Arc::new(Float64Array::from_iter_values(
            r.iter().map(|x| x.sample_rate),
        )),
        strings(r.iter().map(|x| x.status.as_str())),
        opt_strings(r.iter().map(|x| x.verdict.as_deref())),
        Arc::new(r.iter().map(|x| x.score).collect::<Float64Array>()),
        categories,
        opt_strings(r.iter().map(|x| x.reasoning.as_deref())),
        opt_strings(r.iter().map(|x| x.raw_answer.as_deref())),
        opt_strings(r.iter().map(|x| x.error.as_deref())),
        strings(r.iter().map(|x| x.effect.as_str())),
        timestamps_named(&schema, "requested_at", r.iter().map(|x| x.requested_at_us)),
        longs(r.iter().map(|x| x.queued_us)),
        longs(r.iter().map(|x| x.latency_us)),
        longs(r.iter().map(|x| x.wal_segment)),
        longs(r.iter().map(|x| x.wal_offset)),
    ];
    RecordBatch::try_new(schema, columns)
}

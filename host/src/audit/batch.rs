//! The `decisions` and `inferences` batches, built from borrowed rows.
//!
//! The committer hands these builders the binary WAL records as they lie
//! in the segment's bytes ([`wal::wire`](super::wal::wire)): every string column is filled
//! by copying the record's bytes straight into the Arrow string buffer,
//! with no owned row (about 25 allocations each) in between. An owned row
//! (a JSON record, a row read back from a table for maintenance or
//! erasure) is borrowed into the same view, so one builder serves both.

use std::sync::Arc;

use deltalake::arrow::array::{
    ArrayRef, Float32Array, Int32Array, ListArray, MapArray, RecordBatch, StringArray, StructArray,
};
use deltalake::arrow::buffer::{NullBuffer, OffsetBuffer};
use deltalake::arrow::datatypes::{DataType as ArrowType, Schema as ArrowSchema};
use deltalake::arrow::error::ArrowError;

use super::schema::{
    TableKind, dates, longs, opt_longs, opt_strings, string_lists, strings, timestamps,
};
use super::wal::wire::{DecisionIn, FindingWire, InferenceIn, Placed};

/// A `decisions` batch of borrowed rows.
pub(crate) fn decisions(r: &[Placed<DecisionIn<'_>>]) -> Result<RecordBatch, ArrowError> {
    let schema = TableKind::Decisions.arrow_schema();
    let findings = findings(&schema, r)?;
    let columns: Vec<ArrayRef> = vec![
        strings(r.iter().map(|x| x.row.decision_id)),
        timestamps(&schema, r.iter().map(|x| x.row.timestamp_us)),
        dates(r.iter().map(|x| x.row.timestamp_us)),
        strings(r.iter().map(|x| x.row.request_id)),
        strings(r.iter().map(|x| x.row.host_id)),
        strings(r.iter().map(|x| x.row.policy_name)),
        strings(r.iter().map(|x| x.row.policy_digest)),
        strings(r.iter().map(|x| x.row.route)),
        strings(r.iter().map(|x| x.row.caller)),
        strings(r.iter().map(|x| x.row.stage)),
        strings(r.iter().map(|x| x.row.plugin)),
        strings(r.iter().map(|x| x.row.plugin_name)),
        strings(r.iter().map(|x| x.row.plugin_version)),
        strings(r.iter().map(|x| x.row.plugin_digest)),
        strings(r.iter().map(|x| x.row.plugin_kind)),
        strings(r.iter().map(|x| x.row.action)),
        strings(r.iter().map(|x| x.row.reason)),
        findings,
        strings(r.iter().map(|x| x.row.outcome)),
        opt_strings(r.iter().map(|x| x.row.failure_mode)),
        opt_strings(r.iter().map(|x| x.row.error)),
        longs(r.iter().map(|x| x.row.latency_us)),
        strings(r.iter().map(|x| x.row.payload_hash)),
        longs(r.iter().map(|x| x.segment)),
        longs(r.iter().map(|x| x.offset)),
        string_lists(
            &schema,
            "finding_fields",
            r.iter()
                .map(|x| Some(x.row.findings.iter().map(|f| f.field))),
        )?,
        opt_strings(r.iter().map(|x| x.row.arm)),
    ];
    RecordBatch::try_new(schema, columns)
}

fn findings(schema: &ArrowSchema, rows: &[Placed<DecisionIn<'_>>]) -> Result<ArrayRef, ArrowError> {
    let list_field = match schema.field_with_name("findings")?.data_type() {
        ArrowType::List(f) => f.clone(),
        other => unreachable!("findings is a list in the schema, not {other}"),
    };
    let struct_fields = match list_field.data_type() {
        ArrowType::Struct(fields) => fields.clone(),
        other => unreachable!("findings elements are structs, not {other}"),
    };
    let all: Vec<&FindingWire<'_>> = rows.iter().flat_map(|r| r.row.findings.iter()).collect();
    let opt_ints = |f: fn(&FindingWire<'_>) -> Option<i32>| -> ArrayRef {
        Arc::new(all.iter().map(|x| f(x)).collect::<Int32Array>())
    };
    let values = StructArray::try_new(
        struct_fields,
        vec![
            strings(all.iter().map(|f| f.rule_id)),
            strings(all.iter().map(|f| f.category)),
            Arc::new(Float32Array::from_iter_values(all.iter().map(|f| f.score))),
            opt_ints(|f| f.message_index),
            opt_ints(|f| f.span_start),
            opt_ints(|f| f.span_end),
        ],
        None,
    )?;
    let offsets = OffsetBuffer::from_lengths(rows.iter().map(|r| r.row.findings.len()));
    Ok(Arc::new(ListArray::try_new(
        list_field,
        offsets,
        Arc::new(values),
        None::<NullBuffer>,
    )?))
}

/// An `inferences` batch of borrowed rows.
pub(crate) fn inferences(r: &[Placed<InferenceIn<'_>>]) -> Result<RecordBatch, ArrowError> {
    let schema = TableKind::Inferences.arrow_schema();
    let mut columns: Vec<ArrayRef> = vec![
        strings(r.iter().map(|x| x.row.request_id)),
        timestamps(&schema, r.iter().map(|x| x.row.timestamp_us)),
        dates(r.iter().map(|x| x.row.timestamp_us)),
        strings(r.iter().map(|x| x.row.host_id)),
        strings(r.iter().map(|x| x.row.policy_name)),
        strings(r.iter().map(|x| x.row.policy_digest)),
        strings(r.iter().map(|x| x.row.route)),
        strings(r.iter().map(|x| x.row.caller)),
        strings(r.iter().map(|x| x.row.stage)),
        strings(r.iter().map(|x| x.row.capture)),
        // The message text: the record's bytes, copied once into the
        // column.
        opt_strings(r.iter().map(|x| x.row.request)),
        opt_strings(r.iter().map(|x| x.row.response)),
        strings(r.iter().map(|x| x.row.payload_hash)),
        strings(r.iter().map(|x| x.row.action)),
        strings(r.iter().map(|x| x.row.reason)),
        Arc::new(r.iter().map(|x| x.row.status_code).collect::<Int32Array>()),
        opt_longs(r.iter().map(|x| x.row.prompt_tokens)),
        opt_longs(r.iter().map(|x| x.row.completion_tokens)),
        longs(r.iter().map(|x| x.row.guard_latency_us)),
        opt_longs(r.iter().map(|x| x.row.total_latency_us)),
        Arc::new(Int32Array::from_iter_values(
            r.iter().map(|x| x.row.decision_count),
        )),
        longs(r.iter().map(|x| x.segment)),
        longs(r.iter().map(|x| x.offset)),
        opt_strings(r.iter().map(|x| x.row.api)),
        opt_strings(r.iter().map(|x| x.row.previous_response_id)),
        string_lists(
            &schema,
            "scanned_fields",
            r.iter().map(|x| {
                x.row
                    .scanned_fields
                    .as_ref()
                    .map(|f| f.iter().map(|s| Some(*s)))
            }),
        )?,
        opt_strings(r.iter().map(|x| x.row.trace_id)),
    ];
    columns.extend(provenance(&schema, r)?);
    columns.push(opt_strings(r.iter().map(|x| x.row.arm)));
    RecordBatch::try_new(schema, columns)
}

/// The provenance columns of an `inferences` batch, in
/// [`super::provenance::fields`] order.
fn provenance(
    schema: &ArrowSchema,
    r: &[Placed<InferenceIn<'_>>],
) -> Result<Vec<ArrayRef>, ArrowError> {
    let p = |f: for<'r> fn(&'r InferenceIn<'_>) -> Option<&'r str>| -> ArrayRef {
        Arc::new(r.iter().map(|x| f(&x.row)).collect::<StringArray>())
    };
    let attributes = {
        let field = match schema.field_with_name("attributes")?.data_type() {
            ArrowType::Map(f, _) => f.clone(),
            other => unreachable!("attributes is a map in the schema, not {other}"),
        };
        let entry_fields = match field.data_type() {
            ArrowType::Struct(fields) => fields.clone(),
            other => unreachable!("map entries are structs, not {other}"),
        };
        // Collected first: a flat map has no exact size, which the
        // string builder needs.
        let (keys, values): (Vec<&str>, Vec<&str>) =
            r.iter().flat_map(|x| x.row.attributes.iter()).unzip();
        let entries = StructArray::try_new(
            entry_fields,
            vec![
                Arc::new(StringArray::from(keys)) as ArrayRef,
                Arc::new(StringArray::from(values)),
            ],
            None,
        )?;
        let offsets = OffsetBuffer::from_lengths(r.iter().map(|x| x.row.attributes.len()));
        Arc::new(MapArray::try_new(field, offsets, entries, None, false)?) as ArrayRef
    };
    Ok(vec![
        p(|x| x.upstream),
        p(|x| x.upstream_model),
        p(|x| x.system_fingerprint),
        p(|x| x.parameters),
        p(|x| x.end_user),
        attributes,
        p(|x| x.request_body),
        p(|x| x.response_body),
    ])
}

//! What a reader takes from a commit besides its file paths: each `add`'s
//! stats, partition values, size and deletion vector, and the table's
//! `metaData` and `protocol`.
//!
//! - An entry written by this version records, for every file it adds, the
//!   SHA-256 of the whole `add` action ([`add_action_hash`]); an edit to
//!   its stats (which readers prune files by) or anything else in it is a
//!   break.
//! - Every `metaData` and `protocol` action, chained or not (the table's
//!   version 0 has no entry), must be the one railyard writes for that
//!   table: its schema (allowing columns added by a later railyard to be
//!   missing at the end), `date` partitions, `delta.appendOnly` only, and
//!   reader 1 / writer 2.
//! - For every add, chained or not: the partition values must be the ones
//!   its (chained) path names.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::audit::TableKind;
use crate::audit::schema::PARTITION_COLUMN;
use crate::audit::table::percent_decode;

/// `v` with null members left out and object keys sorted, recursively: two
/// writers that spell the same action differently (key order, an explicit
/// `null`) give the same value.
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, Value> = m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, canonical(v)))
                .collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn sha256_of(v: &Value) -> [u8; 32] {
    // serde_json writes an object's members in the map's order, which
    // `canonical` made sorted.
    Sha256::digest(serde_json::to_vec(&canonical(v)).expect("JSON serialises")).into()
}

/// Hex SHA-256 of an `add` action (the object under `"add"`), as the chain
/// records it.
pub fn add_action_hash(add: &Value) -> String {
    hex::encode(sha256_of(add))
}

/// The hash [`add_action_hash`] gives the action `add` is committed as.
pub fn add_hash(add: &deltalake::kernel::Add) -> String {
    add_action_hash(&serde_json::to_value(add).expect("an add action serialises"))
}

/// A digest of what a reader takes from an `add` (partition values, size,
/// stats, deletion vector), the same for a commit's JSON and a checkpoint
/// row: checkpoints may rewrite `dataChange` and the stats' spelling.
pub fn reader_view(add: &Value) -> [u8; 32] {
    let stats = match add.get("stats") {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
        _ => Value::Null,
    };
    let mut view = Map::new();
    for key in ["partitionValues", "size", "deletionVector"] {
        view.insert(key.into(), add.get(key).cloned().unwrap_or(Value::Null));
    }
    view.insert("stats".into(), stats);
    sha256_of(&Value::Object(view))
}

/// `numRecords` from an add's stats.
pub fn num_records(add: &Value) -> Option<u64> {
    let stats: Value = serde_json::from_str(add.get("stats")?.as_str()?).ok()?;
    stats.get("numRecords")?.as_u64()
}

/// Why an add's partition values are not the ones its path names.
pub fn partition_mismatch(add: &Value) -> Option<String> {
    let path = percent_decode(add.get("path")?.as_str()?);
    let from_path: BTreeMap<&str, &str> = path
        .split('/')
        .filter_map(|seg| seg.split_once('='))
        .collect();
    let given: BTreeMap<&str, &str> = add
        .get("partitionValues")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("<null>")))
                .collect()
        })
        .unwrap_or_default();
    (from_path != given || given.len() != 1 || !given.contains_key(PARTITION_COLUMN))
        .then(|| format!("its partition values {given:?} are not the ones its path {path} names"))
}

/// Why a `metaData` action is not one railyard writes for `kind` (`None`:
/// a table railyard does not know; its schema is not checked).
pub fn metadata_problem(kind: Option<TableKind>, meta: &Value) -> Option<String> {
    let meta = canonical(meta);
    if meta["partitionColumns"] != serde_json::json!([PARTITION_COLUMN]) {
        return Some(format!(
            "partition columns {} (railyard partitions by {PARTITION_COLUMN})",
            meta["partitionColumns"]
        ));
    }
    if meta["format"] != serde_json::json!({"provider": "parquet", "options": {}}) {
        return Some(format!("format {}", meta["format"]));
    }
    let config = meta
        .get("configuration")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in &config {
        let known = k == "delta.appendOnly" && matches!(v.as_str(), Some("true" | "false"));
        if !known {
            return Some(format!(
                "table property {k} = {v} (railyard sets only delta.appendOnly)"
            ));
        }
    }
    let kind = kind?;
    let Some(found) = meta["schemaString"]
        .as_str()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
    else {
        return Some("its schemaString is not a schema".into());
    };
    let expected = serde_json::to_value(kind.delta_schema()).expect("a schema serialises");
    let (found, expected) = (canonical(&found), canonical(&expected));
    let (Some(got), Some(want)) = (found["fields"].as_array(), expected["fields"].as_array())
    else {
        return Some("its schema has no fields".into());
    };
    // Tables written before columns were added lack them, at the end.
    let lacking = &want[got.len().min(want.len())..];
    let later = lacking.iter().all(|f| {
        f["name"]
            .as_str()
            .is_some_and(|n| kind.added_columns().contains(&n))
    });
    if got.len() > want.len() || got[..] != want[..got.len()] || !later {
        let names = |fs: &[Value]| -> Vec<String> {
            fs.iter()
                .map(|f| format!("{} {}", f["name"], f["type"]))
                .collect()
        };
        let missing: Vec<_> = names(want)
            .into_iter()
            .filter(|n| !names(got).contains(n))
            .collect();
        let extra: Vec<_> = names(got)
            .into_iter()
            .filter(|n| !names(want).contains(n))
            .collect();
        return Some(format!(
            "its schema is not railyard's {} schema (missing or changed: {missing:?}; unexpected: {extra:?})",
            kind.name()
        ));
    }
    None
}

/// Why a `protocol` action is not the one railyard's tables have.
pub fn protocol_problem(protocol: &Value) -> Option<String> {
    let expected = serde_json::json!({"minReaderVersion": 1, "minWriterVersion": 2});
    (canonical(protocol) != expected)
        .then(|| format!("protocol {protocol} (railyard's tables are reader 1, writer 2)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_ignores_key_order_and_nulls() {
        let a = json!({"b": 1, "a": {"y": null, "x": [1, {"d": 2, "c": null}]}});
        let b = json!({"a": {"x": [1, {"d": 2}]}, "b": 1});
        assert_eq!(add_action_hash(&a), add_action_hash(&b));
        assert_ne!(add_action_hash(&a), add_action_hash(&json!({"b": 2})));
    }

    #[test]
    fn reader_view_sees_stats_not_their_spelling_or_data_change() {
        let a = json!({"path": "p", "size": 3, "dataChange": true,
            "partitionValues": {"date": "2026-01-01"}, "stats": "{\"numRecords\":1,\"maxValues\":{\"a\":\"x\"}}"});
        let mut b = a.clone();
        b["dataChange"] = json!(false);
        b["stats"] = json!("{\"maxValues\": {\"a\": \"x\"}, \"numRecords\": 1}");
        assert_eq!(reader_view(&a), reader_view(&b));
        b["stats"] = json!("{\"maxValues\": {\"a\": \"y\"}, \"numRecords\": 1}");
        assert_ne!(reader_view(&a), reader_view(&b));
        assert_eq!(num_records(&a), Some(1));
    }

    #[test]
    fn partition_values_must_match_the_path() {
        let ok = json!({"path": "date=2026-01-01/part-1.parquet", "partitionValues": {"date": "2026-01-01"}});
        assert_eq!(partition_mismatch(&ok), None);
        let bad = json!({"path": "date=2026-01-01/part-1.parquet", "partitionValues": {"date": "2020-01-01"}});
        assert!(partition_mismatch(&bad).is_some());
    }

    #[test]
    fn railyards_own_definitions_pass_and_edits_do_not() {
        let kind = TableKind::Decisions;
        let schema = serde_json::to_string(&kind.delta_schema()).unwrap();
        let meta = json!({"id": "x", "format": {"provider": "parquet", "options": {}},
            "schemaString": schema, "partitionColumns": ["date"],
            "configuration": {"delta.appendOnly": "true"}, "createdTime": 1});
        assert_eq!(metadata_problem(Some(kind), &meta), None);
        // An older table, before the added columns.
        let mut old: Value = serde_json::from_str(&schema).unwrap();
        let n = old["fields"].as_array().unwrap().len() - kind.added_columns().len();
        old["fields"].as_array_mut().unwrap().truncate(n);
        let mut older = meta.clone();
        older["schemaString"] = json!(old.to_string());
        assert_eq!(metadata_problem(Some(kind), &older), None);
        // A core column removed.
        let mut cut: Value = serde_json::from_str(&schema).unwrap();
        cut["fields"]
            .as_array_mut()
            .unwrap()
            .retain(|f| f["name"] != "action");
        let mut edited = meta.clone();
        edited["schemaString"] = json!(cut.to_string());
        assert!(metadata_problem(Some(kind), &edited).is_some());
        assert_eq!(
            protocol_problem(&json!({"minReaderVersion": 1, "minWriterVersion": 2})),
            None
        );
        assert!(protocol_problem(&json!({"minReaderVersion": 3, "minWriterVersion": 7})).is_some());
    }
}

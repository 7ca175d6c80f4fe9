//! The Delta schemas of the `events` and `policies` tables, and their
//! Arrow batches (the same conventions as `audit::schema`: `date`
//! partition derived from `timestamp`, WAL position last).

use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, Int32Array, RecordBatch};
use deltalake::arrow::error::ArrowError;
use deltalake::kernel::{DataType, StructField};

use super::{EventRow, PolicyRow};
use crate::audit::schema::{
    Columns, PARTITION_COLUMN, ReadError, TableKind, dates, longs, opt_strings, strings, timestamps,
};

/// The columns of `events` or `policies`.
pub(crate) fn fields(kind: TableKind) -> Vec<StructField> {
    let s = |n: &str| StructField::new(n, DataType::STRING, false);
    let so = |n: &str| StructField::new(n, DataType::STRING, true);
    let head = |id: &str| {
        vec![
            s(id),
            StructField::new("timestamp", DataType::TIMESTAMP, false),
            StructField::new(PARTITION_COLUMN, DataType::DATE, false),
        ]
    };
    let tail = [
        StructField::new("wal_segment", DataType::LONG, false),
        StructField::new("wal_offset", DataType::LONG, false),
    ];
    let mut f = match kind {
        TableKind::Events => {
            let mut f = head("event_id");
            f.extend([
                s("host_id"),
                s("kind"),
                s("severity"),
                s("message"),
                so("endpoint"),
                so("remote_addr"),
                so("caller"),
                so("admin"),
                so("key_prefix"),
                StructField::new("status_code", DataType::INTEGER, true),
                so("code"),
                so("request_id"),
                so("policy"),
                so("digest_before"),
                so("digest_after"),
                so("detail"),
            ]);
            f
        }
        TableKind::Policies => {
            let mut f = head("policy_digest");
            f.extend([
                s("host_id"),
                s("policy_name"),
                s("origin"),
                s("text"),
                s("plugins"),
                s("inventory_digest"),
            ]);
            f
        }
        other => unreachable!("{} is not an events table", other.name()),
    };
    f.extend(tail);
    f
}

/// An `events` batch.
pub fn events_batch(rows: &[EventRow]) -> Result<RecordBatch, ArrowError> {
    let schema = TableKind::Events.arrow_schema();
    let r = rows;
    let o = |f: fn(&EventRow) -> Option<&str>| opt_strings(r.iter().map(f));
    let columns: Vec<ArrayRef> = vec![
        strings(r.iter().map(|x| x.event_id.as_str())),
        timestamps(&schema, r.iter().map(|x| x.timestamp_us)),
        dates(r.iter().map(|x| x.timestamp_us)),
        strings(r.iter().map(|x| x.host_id.as_str())),
        strings(r.iter().map(|x| x.kind.as_str())),
        strings(r.iter().map(|x| x.severity.as_str())),
        strings(r.iter().map(|x| x.message.as_str())),
        o(|x| x.endpoint.as_deref()),
        o(|x| x.remote_addr.as_deref()),
        o(|x| x.caller.as_deref()),
        o(|x| x.admin.as_deref()),
        o(|x| x.key_prefix.as_deref()),
        Arc::new(r.iter().map(|x| x.status_code).collect::<Int32Array>()),
        o(|x| x.code.as_deref()),
        o(|x| x.request_id.as_deref()),
        o(|x| x.policy.as_deref()),
        o(|x| x.digest_before.as_deref()),
        o(|x| x.digest_after.as_deref()),
        o(|x| x.detail.as_deref()),
        longs(r.iter().map(|x| x.wal_segment)),
        longs(r.iter().map(|x| x.wal_offset)),
    ];
    RecordBatch::try_new(schema, columns)
}

/// A `policies` batch.
pub fn policies_batch(rows: &[PolicyRow]) -> Result<RecordBatch, ArrowError> {
    let schema = TableKind::Policies.arrow_schema();
    let r = rows;
    let columns: Vec<ArrayRef> = vec![
        strings(r.iter().map(|x| x.policy_digest.as_str())),
        timestamps(&schema, r.iter().map(|x| x.timestamp_us)),
        dates(r.iter().map(|x| x.timestamp_us)),
        strings(r.iter().map(|x| x.host_id.as_str())),
        strings(r.iter().map(|x| x.policy_name.as_str())),
        strings(r.iter().map(|x| x.origin.as_str())),
        strings(r.iter().map(|x| x.text.as_str())),
        strings(r.iter().map(|x| x.plugins.as_str())),
        strings(r.iter().map(|x| x.inventory_digest.as_str())),
        longs(r.iter().map(|x| x.wal_segment)),
        longs(r.iter().map(|x| x.wal_offset)),
    ];
    RecordBatch::try_new(schema, columns)
}

/// The rows of an `events` batch read back.
pub fn events(c: &Columns<'_>) -> Result<Vec<EventRow>, ReadError> {
    let g = |n: &str| c.req_strings(n);
    let o = |n: &str| c.strings(n);
    let (id, ts, host, kind, severity, message) = (
        g("event_id")?,
        c.timestamps()?,
        g("host_id")?,
        g("kind")?,
        g("severity")?,
        g("message")?,
    );
    let (endpoint, remote, caller, admin, key, status, code) = (
        o("endpoint")?,
        o("remote_addr")?,
        o("caller")?,
        o("admin")?,
        o("key_prefix")?,
        c.ints("status_code")?,
        o("code")?,
    );
    let (request, policy, before, after, detail, seg, off) = (
        o("request_id")?,
        o("policy")?,
        o("digest_before")?,
        o("digest_after")?,
        o("detail")?,
        c.req_longs("wal_segment")?,
        c.req_longs("wal_offset")?,
    );
    Ok((0..id.len())
        .map(|i| EventRow {
            event_id: id[i].clone(),
            timestamp_us: ts[i],
            host_id: host[i].clone(),
            kind: kind[i].clone(),
            severity: severity[i].clone(),
            message: message[i].clone(),
            endpoint: endpoint[i].clone(),
            remote_addr: remote[i].clone(),
            caller: caller[i].clone(),
            admin: admin[i].clone(),
            key_prefix: key[i].clone(),
            status_code: status[i],
            code: code[i].clone(),
            request_id: request[i].clone(),
            policy: policy[i].clone(),
            digest_before: before[i].clone(),
            digest_after: after[i].clone(),
            detail: detail[i].clone(),
            wal_segment: seg[i],
            wal_offset: off[i],
        })
        .collect())
}

/// The rows of a `policies` batch read back.
pub fn policies(c: &Columns<'_>) -> Result<Vec<PolicyRow>, ReadError> {
    let g = |n: &str| c.req_strings(n);
    let (digest, ts, host, name, origin, text, plugins, inventory) = (
        g("policy_digest")?,
        c.timestamps()?,
        g("host_id")?,
        g("policy_name")?,
        g("origin")?,
        g("text")?,
        g("plugins")?,
        g("inventory_digest")?,
    );
    let (seg, off) = (c.req_longs("wal_segment")?, c.req_longs("wal_offset")?);
    Ok((0..digest.len())
        .map(|i| PolicyRow {
            policy_digest: digest[i].clone(),
            timestamp_us: ts[i],
            host_id: host[i].clone(),
            policy_name: name[i].clone(),
            origin: origin[i].clone(),
            text: text[i].clone(),
            plugins: plugins[i].clone(),
            inventory_digest: inventory[i].clone(),
            wal_segment: seg[i],
            wal_offset: off[i],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_and_policy_rows_survive_a_batch_round_trip() {
        let e = EventRow {
            event_id: "e1".into(),
            timestamp_us: 1_763_800_000_000_000,
            host_id: "h".into(),
            kind: "auth_failure".into(),
            severity: "warn".into(),
            message: "m".into(),
            remote_addr: Some("127.0.0.1:5".into()),
            key_prefix: Some("abcdef012345".into()),
            status_code: Some(401),
            wal_segment: 3,
            wal_offset: 9,
            ..EventRow::default()
        };
        let b = events_batch(std::slice::from_ref(&e)).unwrap();
        assert_eq!(events(&Columns::new(&b)).unwrap(), [e]);
        let p = PolicyRow {
            policy_digest: "sha256:00".into(),
            timestamp_us: 1_763_800_000_000_000,
            host_id: "h".into(),
            policy_name: "default".into(),
            origin: "embedded default".into(),
            text: "name = \"default\"".into(),
            plugins: "[]".into(),
            inventory_digest: "sha256:11".into(),
            wal_segment: 1,
            wal_offset: 2,
        };
        let b = policies_batch(std::slice::from_ref(&p)).unwrap();
        assert_eq!(policies(&Columns::new(&b)).unwrap(), [p]);
    }
}

//! A record's bytes in a segment: the framing (magic, length, CRC) and the
//! payload, binary or JSON.

use super::{RECORD_HEADER_LEN, RECORD_MAGIC, wire};
use crate::audit::record::AuditRecord;

/// How [`encode`] writes the payloads of decision and inference records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordFormat {
    /// Binary (`D`, `I`; see `wire`): what this version writes.
    #[default]
    Binary,
    /// JSON (`d`, `i`), as versions before the binary records wrote them:
    /// a WAL that an older version may have to read (a rollback), and the
    /// baseline of the audit benchmark.
    Json,
}

/// Appends one record's framing and payload to `out`. The payload is one
/// byte naming the table and format (see `wire`) and the row: decisions
/// and inferences in binary (unless `format` says JSON), judgements,
/// events and policies as JSON. Decoding picks the row type from the byte,
/// which is several times faster than a tagged JSON object (serde buffers
/// those whole before choosing).
pub fn encode(record: &AuditRecord, format: RecordFormat, out: &mut Vec<u8>) {
    match (record, format) {
        (AuditRecord::Decision(r), RecordFormat::Binary) => frame(wire::DECISION, out, |o| {
            wire::put(&wire::DecisionIn::of(r), o)
        }),
        (AuditRecord::Inference(r), RecordFormat::Binary) => frame(wire::INFERENCE, out, |o| {
            wire::put(&wire::InferenceIn::of(r), o)
        }),
        (AuditRecord::Decision(r), RecordFormat::Json) => encode_row(b'd', r, out),
        (AuditRecord::Inference(r), RecordFormat::Json) => encode_row(b'i', r, out),
        (AuditRecord::Judgement(r), _) => encode_row(b'j', r, out),
        (AuditRecord::Event(r), _) => encode_row(b'e', r, out),
        (AuditRecord::Policy(r), _) => encode_row(b'p', r, out),
    }
}

/// Appends one record: `tag` (`d`, `i`, `j`, `e`, `p`) and `row` as JSON,
/// framed.
pub fn encode_row<T: serde::Serialize>(tag: u8, row: &T, out: &mut Vec<u8>) {
    frame(tag, out, |o| {
        serde_json::to_writer(o, row).expect("audit records serialise")
    });
}

/// Appends one record: the framing, `tag`, and what `body` appends.
pub(crate) fn frame(tag: u8, out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&RECORD_MAGIC.to_le_bytes());
    out.extend_from_slice(&[0u8; 8]);
    out.push(tag);
    body(out);
    let len = (out.len() - start - RECORD_HEADER_LEN) as u32;
    out[start + 4..start + 8].copy_from_slice(&len.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(&out[start + RECORD_HEADER_LEN..]);
    out[start + 8..start + 12].copy_from_slice(&h.finalize().to_le_bytes());
}

//! Reading a segment back: every record whose checksum holds, and every
//! damaged region named (see the module above for the framing).

use std::fs;
use std::path::Path;

use super::{
    HEADER_LEN, MAX_RECORD, RECORD_HEADER_LEN, RECORD_MAGIC, SEGMENT_MAGIC, WalError, io_err, wire,
};
use crate::audit::record::AuditRecord;

/// Damage found while reading a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// The segment header is not a railyard WAL header.
    BadHeader,
    /// Bytes that do not form a valid record, followed by valid records.
    Corrupt {
        /// Where the bad bytes start.
        offset: u64,
        /// How many bytes were skipped.
        bytes: u64,
    },
    /// Bytes at the end that do not form a complete valid record: a write
    /// cut short by a crash (or damage at the very end).
    TornTail {
        /// Where the bad bytes start.
        offset: u64,
        /// How many bytes were skipped.
        bytes: u64,
    },
    /// A record whose checksum holds but whose payload does not decode.
    Undecodable {
        /// The record's offset.
        offset: u64,
        /// The decoder's message.
        error: String,
    },
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::BadHeader => f.write_str("bad segment header"),
            Damage::Corrupt { offset, bytes } => {
                write!(f, "{bytes} damaged bytes at offset {offset} skipped")
            }
            Damage::TornTail { offset, bytes } => {
                write!(f, "torn tail: {bytes} bytes at offset {offset} skipped")
            }
            Damage::Undecodable { offset, error } => {
                write!(f, "record at offset {offset} does not decode: {error}")
            }
        }
    }
}

/// What reading one segment gave.
#[derive(Debug)]
pub struct SegmentContents {
    /// The segment's sequence.
    pub segment: u64,
    /// Every valid record with its offset (and position stamped in).
    pub records: Vec<(u64, AuditRecord)>,
    /// Every damaged region.
    pub damage: Vec<Damage>,
}

/// Whether a valid record starts at `pos`; returns its end.
fn valid_at(data: &[u8], pos: usize) -> Option<usize> {
    let rest = data.get(pos..)?;
    if rest.len() < RECORD_HEADER_LEN {
        return None;
    }
    let word = |i: usize| u32::from_le_bytes(rest[i..i + 4].try_into().expect("4 bytes"));
    if word(0) != RECORD_MAGIC {
        return None;
    }
    let len = word(4);
    if len > MAX_RECORD || rest.len() < RECORD_HEADER_LEN + len as usize {
        return None;
    }
    let payload = &rest[RECORD_HEADER_LEN..RECORD_HEADER_LEN + len as usize];
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(payload);
    (h.finalize() == word(8)).then_some(pos + RECORD_HEADER_LEN + len as usize)
}

/// A record as read from a segment: a binary record borrowed from the
/// segment's bytes (the committer builds its Arrow columns from these
/// without an owned row in between), any other an owned row with its
/// position stamped in.
#[derive(Debug)]
pub enum Scanned<'a> {
    /// A binary `decisions` record.
    Decision(wire::DecisionIn<'a>),
    /// A binary `inferences` record.
    Inference(wire::InferenceIn<'a>),
    /// A JSON record (any table; boxed, as these are the rare ones).
    Row(Box<AuditRecord>),
}

impl Scanned<'_> {
    /// The owned row, at (`segment`, `offset`).
    pub fn into_row(self, segment: u64, offset: u64) -> AuditRecord {
        match self {
            Scanned::Decision(d) => AuditRecord::Decision(d.to_row(segment, offset)),
            Scanned::Inference(i) => AuditRecord::Inference(i.to_row(segment, offset)),
            Scanned::Row(r) => *r,
        }
    }
}

/// A record's payload (see [`super::encode()`]) at (`segment`, `offset`).
fn decode(payload: &[u8], segment: u64, offset: u64) -> Result<Scanned<'_>, String> {
    let (tag, body) = payload.split_first().ok_or("an empty record")?;
    let e = |e: serde_json::Error| e.to_string();
    let mut record = match *tag {
        wire::DECISION => return wire::take(body).map(Scanned::Decision),
        wire::INFERENCE => return wire::take(body).map(Scanned::Inference),
        b'd' => serde_json::from_slice(body)
            .map(AuditRecord::Decision)
            .map_err(e),
        b'i' => serde_json::from_slice(body)
            .map(AuditRecord::Inference)
            .map_err(e),
        b'j' => serde_json::from_slice(body)
            .map(AuditRecord::Judgement)
            .map_err(e),
        b'e' => serde_json::from_slice(body)
            .map(AuditRecord::Event)
            .map_err(e),
        b'p' => serde_json::from_slice(body)
            .map(AuditRecord::Policy)
            .map_err(e),
        other => Err(format!("unknown record type byte {other:#04x}")),
    }?;
    record.set_position(segment, offset);
    Ok(Scanned::Row(Box::new(record)))
}

/// What scanning one segment's bytes gave.
#[derive(Debug)]
pub struct ScannedSegment<'a> {
    /// The segment's sequence.
    pub segment: u64,
    /// Every valid record with its offset.
    pub records: Vec<(u64, Scanned<'a>)>,
    /// Every damaged region.
    pub damage: Vec<Damage>,
}

/// Reads a segment file, keeping every record whose checksum holds.
pub fn read_segment(path: &Path, segment: u64) -> Result<SegmentContents, WalError> {
    let data = fs::read(path).map_err(io_err(path, "reading a segment"))?;
    let scanned = scan(&data, segment);
    Ok(SegmentContents {
        segment,
        records: scanned
            .records
            .into_iter()
            .map(|(offset, r)| (offset, r.into_row(segment, offset)))
            .collect(),
        damage: scanned.damage,
    })
}

/// Reads a segment file's bytes, for [`scan`].
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, WalError> {
    fs::read(path).map_err(io_err(path, "reading a segment"))
}

/// Every record of a segment's bytes whose checksum holds, binary ones
/// borrowed from `data`.
pub fn scan(data: &[u8], segment: u64) -> ScannedSegment<'_> {
    let mut damage = Vec::new();
    let header_ok = data.len() >= HEADER_LEN as usize
        && &data[..8] == SEGMENT_MAGIC
        && data[8..16] == segment.to_le_bytes();
    if !header_ok {
        damage.push(Damage::BadHeader);
    }
    let mut records = Vec::new();
    let mut pos = (HEADER_LEN as usize).min(data.len());
    while pos < data.len() {
        match valid_at(data, pos) {
            Some(end) => {
                let payload = &data[pos + RECORD_HEADER_LEN..end];
                match decode(payload, segment, pos as u64) {
                    Ok(r) => records.push((pos as u64, r)),
                    Err(e) => damage.push(Damage::Undecodable {
                        offset: pos as u64,
                        error: e,
                    }),
                }
                pos = end;
            }
            None if data[pos..].iter().all(|&b| b == 0) => {
                // A preallocated segment's unwritten rest (see `spare`):
                // the end, not damage.
                break;
            }
            None => {
                // Re-synchronise: the next offset where a whole valid
                // record starts.
                let next = (pos + 1..data.len()).find(|&p| valid_at(data, p).is_some());
                match next {
                    Some(n) => {
                        damage.push(Damage::Corrupt {
                            offset: pos as u64,
                            bytes: (n - pos) as u64,
                        });
                        pos = n;
                    }
                    None => {
                        damage.push(Damage::TornTail {
                            offset: pos as u64,
                            bytes: (data.len() - pos) as u64,
                        });
                        break;
                    }
                }
            }
        }
    }
    ScannedSegment {
        segment,
        records,
        damage,
    }
}

//! Calls cut by a crash: a proxied call whose request was recorded but
//! whose end never was gets an `inferences` row that says so, exactly once.
//!
//! A proxied call writes its records in two appends: the request stage's
//! `decisions` rows before the call goes upstream, then (response
//! decisions and) one `inferences` row when it ends. Every other caller
//! writes its decisions and its `inferences` row in one append. So "a
//! request id with decision rows and no inferences row" is exactly "a call
//! whose end is not recorded", and the WAL already says everything needed:
//! no marker record, nothing extra on the hot path.
//!
//! The states of a call, and what a crash in each means:
//!
//! 1. *opened*: its decision rows are in a WAL segment, no `inferences` row
//!    yet. A crash leaves the segment in the WAL; recovery finds the call
//!    by reading the segments.
//! 2. *tracked*: that segment is committed and deleted. Before the
//!    committer records a segment as committed (the `committed` file), it
//!    writes the calls still open after it to `open-calls` (fsynced,
//!    renamed into place), so a deleted segment's open calls are never
//!    forgotten. A crash between the two writes replays segments whose
//!    effect `open-calls` already holds; applying a segment is idempotent
//!    (an id is opened once and closed once, in that order), so replaying
//!    a suffix in order lands in the same set.
//! 3. *closed*: an `inferences` row for the request id is appended — the
//!    call's real end, or the synthetic one recovery writes. The row both
//!    records the end and closes the call: it is one WAL record, so a torn
//!    write loses both or neither.
//! 4. *settled*: the segment carrying the `inferences` row is committed;
//!    the call leaves `open-calls` with that segment's retirement.
//!
//! Recovery ([`recover`], when the log opens, before any new traffic and
//! before the committer starts): the open set is `open-calls` plus every
//! segment left in the WAL, applied in order. Every call in it belongs to a
//! previous run, so each gets an `inferences` row with `stage =
//! "interrupted"`, appended and fsynced. Killed before the fsync, the rows
//! are not in the WAL and the next recovery writes them again; killed
//! after, the next recovery reads them in the WAL (state 3) and writes
//! nothing. The committer's `txn` makes the Delta side exactly once as for
//! every row.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::record::{AuditRecord, InferenceRow};
use super::wal::wire::DecisionIn;

/// The `inferences.stage` of a call that never ended.
pub const INTERRUPTED_STAGE: &str = "interrupted";

/// File, in the WAL folder, of the calls open after the last committed
/// segment: one JSON [`OpenCall`] per line.
const FILE: &str = "open-calls";

/// One call whose end is not recorded.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct OpenCall {
    /// The `inferences` row recovery writes for it.
    row: InferenceRow,
    /// Its decision ids seen so far: a replayed segment adds none twice.
    decisions: BTreeSet<String>,
}

/// Calls whose request is recorded and whose end is not, by request id.
#[derive(Debug, Default)]
pub(crate) struct OpenCalls {
    calls: BTreeMap<String, OpenCall>,
    changed: bool,
    /// What `open-calls` holds now (as loaded or last saved): a batch
    /// whose calls all opened and closed within it (every guard call, most
    /// proxied ones) leaves it as it was and costs no write.
    on_disk: Vec<u8>,
}

/// Why `open-calls` could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("audit WAL {path}: {what}: {source}")]
pub struct OpenCallsError {
    path: PathBuf,
    what: &'static str,
    #[source]
    source: std::io::Error,
}

impl OpenCalls {
    /// The set recorded in `dir` (empty if none yet). A damaged line is
    /// skipped with an error logged: it can cost one call's synthetic row,
    /// never the log.
    pub(crate) fn load(dir: &Path) -> Result<OpenCalls, OpenCallsError> {
        let path = dir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(OpenCallsError {
                    path,
                    what: "reading the open calls",
                    source,
                });
            }
        };
        let mut calls = BTreeMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<OpenCall>(line) {
                Ok(call) => {
                    calls.insert(call.row.request_id.clone(), call);
                }
                Err(e) => {
                    tracing::error!(file = %path.display(), error = %e, "audit WAL: a damaged open-call entry was skipped");
                }
            }
        }
        let mut loaded = OpenCalls {
            calls,
            changed: false,
            on_disk: Vec::new(),
        };
        loaded.on_disk = loaded.serialise();
        Ok(loaded)
    }

    /// Applies one segment's records, in order: a decision row opens its
    /// call (or adds to it), an `inferences` row closes it.
    pub(crate) fn apply<'a>(&mut self, records: impl IntoIterator<Item = &'a AuditRecord>) {
        for r in records {
            match r {
                AuditRecord::Decision(d) => self.decision(&DecisionIn::of(d)),
                AuditRecord::Inference(i) => self.inference(&i.request_id),
                AuditRecord::Judgement(_) | AuditRecord::Event(_) | AuditRecord::Policy(_) => {}
            }
        }
    }

    /// A decision row: opens its call or adds to it.
    pub(crate) fn decision(&mut self, d: &DecisionIn<'_>) {
        // A shadow candidate's rows (`serve::rollout`) come after the call
        // they shadow and belong to no call of their own.
        if d.arm == Some("shadow") {
            return;
        }
        let call = match self.calls.get_mut(d.request_id) {
            Some(call) => call,
            None => self
                .calls
                .entry(d.request_id.to_string())
                .or_insert_with(|| OpenCall {
                    row: interrupted_row(d),
                    decisions: BTreeSet::new(),
                }),
        };
        if !call.decisions.contains(d.decision_id) {
            call.decisions.insert(d.decision_id.to_string());
            self.changed = true;
            call.row.decision_count = call.decisions.len() as i32;
            if action_rank(d.action) > action_rank(&call.row.action) {
                call.row.action = d.action.to_string();
            }
        }
    }

    /// An `inferences` row: closes its call.
    pub(crate) fn inference(&mut self, request_id: &str) {
        if self.calls.remove(request_id).is_some() {
            self.changed = true;
        }
    }

    /// The `inferences` rows of every open call, as recovery writes them.
    pub(crate) fn interrupted_rows(&self) -> Vec<InferenceRow> {
        self.calls.values().map(|c| c.row.clone()).collect()
    }

    /// Writes the set to `dir` if it changed since the last save: a
    /// temporary file, fsynced, renamed over the old one (the caller
    /// fsyncs the folder with the `committed` file it writes next).
    pub(crate) fn save(&mut self, dir: &Path) -> Result<(), OpenCallsError> {
        if !self.changed {
            return Ok(());
        }
        let path = dir.join(FILE);
        let tmp = dir.join(format!("{FILE}.tmp"));
        let io = |what: &'static str| {
            let path = path.clone();
            move |source| OpenCallsError { path, what, source }
        };
        let text = self.serialise();
        if text == self.on_disk {
            self.changed = false;
            return Ok(());
        }
        let mut f = std::fs::File::create(&tmp).map_err(io("writing the open calls"))?;
        f.write_all(&text)
            .and_then(|()| f.sync_all())
            .map_err(io("writing the open calls"))?;
        std::fs::rename(&tmp, &path).map_err(io("replacing the open calls"))?;
        self.changed = false;
        self.on_disk = text;
        Ok(())
    }

    fn serialise(&self) -> Vec<u8> {
        let mut text = Vec::with_capacity(self.calls.len() * 512);
        for call in self.calls.values() {
            serde_json::to_writer(&mut text, call).expect("an open call serialises");
            text.push(b'\n');
        }
        text
    }
}

/// `block` beats `redact` beats `flag` beats `allow`, as verdicts merge.
fn action_rank(action: &str) -> u8 {
    match action {
        "block" => 3,
        "redact" => 2,
        "flag" => 1,
        _ => 0,
    }
}

/// The row that says a call never ended, from its first decision row. Its
/// timestamp is the request's, so it lands in the call's `date` partition
/// beside its decisions.
fn interrupted_row(d: &DecisionIn<'_>) -> InferenceRow {
    InferenceRow {
        request_id: d.request_id.to_string(),
        timestamp_us: d.timestamp_us,
        host_id: d.host_id.to_string(),
        policy_name: d.policy_name.to_string(),
        policy_digest: d.policy_digest.to_string(),
        route: d.route.to_string(),
        caller: d.caller.to_string(),
        stage: INTERRUPTED_STAGE.to_string(),
        capture: "none".to_string(),
        request: None,
        response: None,
        payload_hash: d.payload_hash.to_string(),
        action: "allow".to_string(),
        reason: format!(
            "interrupted: host {} stopped after the request stage and before the call ended; written when the log was next opened",
            d.host_id
        ),
        status_code: None,
        prompt_tokens: None,
        completion_tokens: None,
        guard_latency_us: 0,
        total_latency_us: None,
        decision_count: 0,
        wal_segment: 0,
        wal_offset: 0,
        api: None,
        previous_response_id: None,
        scanned_fields: None,
        provenance: Default::default(),
        trace_id: None,
        arm: d.arm.map(str::to_string),
    }
}

/// Reads `open-calls` and every segment left in `dir`, and returns the
/// calls a previous run left open (see the module docs).
pub(crate) fn recover(dir: &Path) -> Result<OpenCalls, super::AuditError> {
    let mut calls = OpenCalls::load(dir).map_err(|e| super::AuditError::Settings(e.to_string()))?;
    for (seq, path) in super::wal::list_segments(dir)? {
        let contents = super::wal::read_segment(&path, seq)?;
        calls.apply(contents.records.iter().map(|(_, r)| r));
    }
    Ok(calls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::DecisionRow;

    fn decision(request: &str, id: &str, action: &str) -> AuditRecord {
        AuditRecord::Decision(DecisionRow {
            decision_id: id.into(),
            request_id: request.into(),
            action: action.into(),
            host_id: "h".into(),
            ..DecisionRow::default()
        })
    }

    fn inference(request: &str) -> AuditRecord {
        AuditRecord::Inference(InferenceRow {
            request_id: request.into(),
            ..InferenceRow::default()
        })
    }

    #[test]
    fn a_request_without_an_end_is_open_and_an_inference_closes_it() {
        let mut calls = OpenCalls::default();
        calls.apply(&[
            decision("a", "1", "allow"),
            decision("a", "2", "flag"),
            decision("b", "3", "allow"),
            inference("b"),
        ]);
        let rows = calls.interrupted_rows();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].request_id, "a");
        assert_eq!(rows[0].stage, INTERRUPTED_STAGE);
        assert_eq!(rows[0].action, "flag");
        assert_eq!(rows[0].decision_count, 2);
    }

    #[test]
    fn a_shadow_decision_after_its_call_ended_opens_nothing() {
        let mut calls = OpenCalls::default();
        let AuditRecord::Decision(mut shadow) = decision("a", "2", "block") else {
            unreachable!()
        };
        shadow.arm = Some("shadow".into());
        calls.apply(&[
            decision("a", "1", "allow"),
            inference("a"),
            AuditRecord::Decision(shadow),
        ]);
        assert!(calls.interrupted_rows().is_empty());
    }

    #[test]
    fn replaying_a_suffix_of_segments_lands_in_the_same_set() {
        let segments = [
            vec![decision("a", "1", "allow"), decision("b", "2", "allow")],
            vec![inference("a"), decision("c", "3", "redact")],
            vec![inference("b")],
        ];
        let mut once = OpenCalls::default();
        for s in &segments {
            once.apply(s);
        }
        for from in 0..segments.len() {
            let mut replayed = OpenCalls::default();
            for s in &segments {
                replayed.apply(s);
            }
            for s in &segments[from..] {
                replayed.apply(s);
            }
            assert_eq!(replayed.interrupted_rows(), once.interrupted_rows());
        }
    }

    #[test]
    fn calls_opened_and_closed_in_one_batch_cost_no_write() {
        let dir = tempfile::tempdir().unwrap();
        let mut calls = OpenCalls::load(dir.path()).unwrap();
        calls.apply(&[decision("a", "1", "allow"), inference("a")]);
        calls.save(dir.path()).unwrap();
        assert!(!dir.path().join(FILE).exists());
    }

    #[test]
    fn the_set_survives_a_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let mut calls = OpenCalls::default();
        calls.apply(&[decision("a", "1", "block")]);
        calls.save(dir.path()).unwrap();
        let back = OpenCalls::load(dir.path()).unwrap();
        assert_eq!(back.interrupted_rows(), calls.interrupted_rows());
    }
}

//! Reading rows back out of the audit tables' record batches: columns
//! looked up by name, cast to the table schema's types, and turned into
//! the row structs (the inverse of the batch builders in `schema`).

use deltalake::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::DataType as ArrowType;

use super::provenance::Provenance;
use super::record::{DecisionRow, FindingRow, InferenceRow, JudgementRow};

/// A batch read back from a table's Parquet files, with columns looked up
/// by name and cast to the types of the table schema (readers may hand back
/// dictionary or view types).
pub struct Columns<'a> {
    batch: &'a RecordBatch,
}

/// Why a batch read back could not be turned into rows.
#[derive(Debug, thiserror::Error)]
#[error("audit table file: column `{column}`: {problem}")]
pub struct ReadError {
    pub(crate) column: String,
    pub(crate) problem: String,
}

impl<'a> Columns<'a> {
    /// Wraps a batch.
    pub fn new(batch: &'a RecordBatch) -> Self {
        Columns { batch }
    }

    pub(crate) fn column(&self, name: &str, ty: &ArrowType) -> Result<ArrayRef, ReadError> {
        let col = self.batch.column_by_name(name).ok_or_else(|| ReadError {
            column: name.into(),
            problem: "missing".into(),
        })?;
        if col.data_type() == ty {
            return Ok(col.clone());
        }
        cast(col, ty).map_err(|e| ReadError {
            column: name.into(),
            problem: e.to_string(),
        })
    }

    pub(crate) fn strings(&self, name: &str) -> Result<Vec<Option<String>>, ReadError> {
        let a = self.column(name, &ArrowType::Utf8)?;
        Ok(a.as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    }

    pub(crate) fn req_strings(&self, name: &str) -> Result<Vec<String>, ReadError> {
        self.strings(name)?
            .into_iter()
            .map(|v| {
                v.ok_or_else(|| ReadError {
                    column: name.into(),
                    problem: "null in a required column".into(),
                })
            })
            .collect()
    }

    pub(crate) fn longs(&self, name: &str) -> Result<Vec<Option<i64>>, ReadError> {
        let a = self.column(name, &ArrowType::Int64)?;
        let a = a.as_primitive::<deltalake::arrow::datatypes::Int64Type>();
        Ok(a.iter().collect())
    }

    pub(crate) fn req_longs(&self, name: &str) -> Result<Vec<i64>, ReadError> {
        Ok(self
            .longs(name)?
            .into_iter()
            .map(|v| v.unwrap_or_default())
            .collect())
    }

    pub(crate) fn ints(&self, name: &str) -> Result<Vec<Option<i32>>, ReadError> {
        let a = self.column(name, &ArrowType::Int32)?;
        Ok(a.as_primitive::<deltalake::arrow::datatypes::Int32Type>()
            .iter()
            .collect())
    }

    pub(crate) fn timestamps(&self) -> Result<Vec<i64>, ReadError> {
        self.timestamps_of("timestamp")
    }

    pub(crate) fn timestamps_of(&self, name: &str) -> Result<Vec<i64>, ReadError> {
        let col = self.batch.column_by_name(name).ok_or_else(|| ReadError {
            column: name.into(),
            problem: "missing".into(),
        })?;
        let tz = match col.data_type() {
            ArrowType::Timestamp(_, tz) => tz.clone(),
            _ => None,
        };
        let a = self.column(
            name,
            &ArrowType::Timestamp(deltalake::arrow::datatypes::TimeUnit::Microsecond, tz),
        )?;
        Ok(
            a.as_primitive::<deltalake::arrow::datatypes::TimestampMicrosecondType>()
                .iter()
                .map(|v| v.unwrap_or_default())
                .collect(),
        )
    }

    /// The rows of a `decisions` batch.
    pub fn decisions(&self) -> Result<Vec<DecisionRow>, ReadError> {
        let n = self.batch.num_rows();
        let (id, ts, req) = (
            self.req_strings("decision_id")?,
            self.timestamps()?,
            self.req_strings("request_id")?,
        );
        let g = |c: &str| self.req_strings(c);
        let (host, pname, pdig, route, caller, stage) = (
            g("host_id")?,
            g("policy_name")?,
            g("policy_digest")?,
            g("route")?,
            g("caller")?,
            g("stage")?,
        );
        let (plugin, plugin_name, plugin_version, plugin_digest, kind, action, reason) = (
            g("plugin")?,
            g("plugin_name")?,
            g("plugin_version")?,
            g("plugin_digest")?,
            g("plugin_kind")?,
            g("action")?,
            g("reason")?,
        );
        let (outcome, fmode, error, hash) = (
            g("outcome")?,
            self.strings("failure_mode")?,
            self.strings("error")?,
            g("payload_hash")?,
        );
        let (lat, seg, off) = (
            self.req_longs("latency_us")?,
            self.req_longs("wal_segment")?,
            self.req_longs("wal_offset")?,
        );
        let mut findings = self.findings()?;
        // Absent from tables written before it was added: the fields are
        // then unknown.
        if self.batch.column_by_name("finding_fields").is_some() {
            let fields = self.optional_string_lists("finding_fields")?;
            for (row, names) in findings.iter_mut().zip(fields) {
                for (f, name) in row.iter_mut().zip(names.unwrap_or_default()) {
                    f.field = name;
                }
            }
        }
        // Absent from tables written before it was added.
        let arm = match self.batch.column_by_name("arm") {
            Some(_) => self.strings("arm")?,
            None => vec![None; n],
        };
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            out.push(DecisionRow {
                decision_id: id[i].clone(),
                request_id: req[i].clone(),
                timestamp_us: ts[i],
                host_id: host[i].clone(),
                policy_name: pname[i].clone(),
                policy_digest: pdig[i].clone(),
                route: route[i].clone(),
                caller: caller[i].clone(),
                stage: stage[i].clone(),
                plugin: plugin[i].clone(),
                plugin_name: plugin_name[i].clone(),
                plugin_version: plugin_version[i].clone(),
                plugin_digest: plugin_digest[i].clone(),
                plugin_kind: kind[i].clone(),
                action: action[i].clone(),
                reason: reason[i].clone(),
                findings: findings[i].clone(),
                outcome: outcome[i].clone(),
                failure_mode: fmode[i].clone(),
                error: error[i].clone(),
                latency_us: lat[i],
                payload_hash: hash[i].clone(),
                wal_segment: seg[i],
                wal_offset: off[i],
                arm: arm[i].clone(),
            });
        }
        Ok(out)
    }

    fn findings(&self) -> Result<Vec<Vec<FindingRow>>, ReadError> {
        let bad = |p: &str| ReadError {
            column: "findings".into(),
            problem: p.into(),
        };
        let col = self
            .batch
            .column_by_name("findings")
            .ok_or_else(|| bad("missing"))?;
        let list = col.as_list_opt::<i32>().ok_or_else(|| bad("not a list"))?;
        let values = list
            .values()
            .as_struct_opt()
            .ok_or_else(|| bad("elements are not structs"))?;
        let inner = RecordBatch::from(values.clone());
        let c = Columns::new(&inner);
        let (rule, cat) = (c.req_strings("rule_id")?, c.req_strings("category")?);
        let score = cast(
            values
                .column_by_name("score")
                .ok_or_else(|| bad("no score"))?,
            &ArrowType::Float32,
        )
        .map_err(|e| bad(&e.to_string()))?;
        let score = score.as_primitive::<deltalake::arrow::datatypes::Float32Type>();
        let (msg, start, end) = (
            c.ints("message_index")?,
            c.ints("span_start")?,
            c.ints("span_end")?,
        );
        let offsets = list.value_offsets();
        Ok((0..list.len())
            .map(|i| {
                (offsets[i] as usize..offsets[i + 1] as usize)
                    .map(|j| FindingRow {
                        rule_id: rule[j].clone(),
                        category: cat[j].clone(),
                        score: score.value(j),
                        message_index: msg[j],
                        span_start: start[j],
                        span_end: end[j],
                        field: None,
                    })
                    .collect()
            })
            .collect())
    }

    /// The rows of an `inferences` batch.
    pub fn inferences(&self) -> Result<Vec<InferenceRow>, ReadError> {
        let n = self.batch.num_rows();
        let g = |c: &str| self.req_strings(c);
        let (req_id, ts, host, pname, pdig, route, caller, stage, capture) = (
            g("request_id")?,
            self.timestamps()?,
            g("host_id")?,
            g("policy_name")?,
            g("policy_digest")?,
            g("route")?,
            g("caller")?,
            g("stage")?,
            g("capture")?,
        );
        let (request, response, hash, action, reason) = (
            self.strings("request")?,
            self.strings("response")?,
            g("payload_hash")?,
            g("action")?,
            g("reason")?,
        );
        let (status, pt, ct, gl, tl, dc, seg, off) = (
            self.ints("status_code")?,
            self.longs("prompt_tokens")?,
            self.longs("completion_tokens")?,
            self.req_longs("guard_latency_us")?,
            self.longs("total_latency_us")?,
            self.ints("decision_count")?,
            self.req_longs("wal_segment")?,
            self.req_longs("wal_offset")?,
        );
        // Absent from tables written before it was added.
        let added = |c: &str| match self.batch.column_by_name(c) {
            Some(_) => self.strings(c),
            None => Ok(vec![None; n]),
        };
        let (api, previous) = (added("api")?, added("previous_response_id")?);
        let scanned = match self.batch.column_by_name("scanned_fields") {
            Some(_) => self.optional_string_lists("scanned_fields")?,
            None => vec![None; n],
        };
        let provenance = self.provenance(n)?;
        let trace = added("trace_id")?;
        let arm = added("arm")?;
        Ok((0..n)
            .map(|i| InferenceRow {
                request_id: req_id[i].clone(),
                timestamp_us: ts[i],
                host_id: host[i].clone(),
                policy_name: pname[i].clone(),
                policy_digest: pdig[i].clone(),
                route: route[i].clone(),
                caller: caller[i].clone(),
                stage: stage[i].clone(),
                capture: capture[i].clone(),
                request: request[i].clone(),
                response: response[i].clone(),
                payload_hash: hash[i].clone(),
                action: action[i].clone(),
                reason: reason[i].clone(),
                status_code: status[i],
                prompt_tokens: pt[i],
                completion_tokens: ct[i],
                guard_latency_us: gl[i],
                total_latency_us: tl[i],
                decision_count: dc[i].unwrap_or_default(),
                wal_segment: seg[i],
                wal_offset: off[i],
                api: api[i].clone(),
                previous_response_id: previous[i].clone(),
                scanned_fields: scanned[i]
                    .clone()
                    .map(|v| v.into_iter().flatten().collect()),
                trace_id: trace[i].clone(),
                provenance: provenance[i].clone(),
                arm: arm[i].clone(),
            })
            .collect())
    }

    /// The provenance columns of an `inferences` batch (absent, so null,
    /// in files written before they were added).
    fn provenance(&self, n: usize) -> Result<Vec<Provenance>, ReadError> {
        let added = |c: &str| match self.batch.column_by_name(c) {
            Some(_) => self.strings(c),
            None => Ok(vec![None; n]),
        };
        let (upstream, model, fingerprint, parameters, end_user, req_body, resp_body) = (
            added("upstream")?,
            added("upstream_model")?,
            added("system_fingerprint")?,
            added("parameters")?,
            added("end_user")?,
            added("request_body")?,
            added("response_body")?,
        );
        let attributes = self.string_maps("attributes", n)?;
        Ok((0..n)
            .map(|i| Provenance {
                upstream: upstream[i].clone(),
                upstream_model: model[i].clone(),
                system_fingerprint: fingerprint[i].clone(),
                parameters: parameters[i].clone(),
                end_user: end_user[i].clone(),
                attributes: attributes[i].clone(),
                request_body: req_body[i].clone(),
                response_body: resp_body[i].clone(),
            })
            .collect())
    }

    fn string_maps(
        &self,
        name: &str,
        n: usize,
    ) -> Result<Vec<std::collections::BTreeMap<String, String>>, ReadError> {
        let bad = |p: &str| ReadError {
            column: name.into(),
            problem: p.into(),
        };
        let Some(col) = self.batch.column_by_name(name) else {
            return Ok(vec![Default::default(); n]);
        };
        let map = col.as_map_opt().ok_or_else(|| bad("not a map"))?;
        let keys = cast(map.keys(), &ArrowType::Utf8).map_err(|e| bad(&e.to_string()))?;
        let values = cast(map.values(), &ArrowType::Utf8).map_err(|e| bad(&e.to_string()))?;
        let (keys, values) = (keys.as_string::<i32>(), values.as_string::<i32>());
        let offsets = map.value_offsets();
        Ok((0..map.len())
            .map(|i| {
                (offsets[i] as usize..offsets[i + 1] as usize)
                    .filter(|&j| values.is_valid(j))
                    .map(|j| (keys.value(j).to_string(), values.value(j).to_string()))
                    .collect()
            })
            .collect())
    }

    fn doubles(&self, name: &str) -> Result<Vec<Option<f64>>, ReadError> {
        let a = self.column(name, &ArrowType::Float64)?;
        Ok(a.as_primitive::<deltalake::arrow::datatypes::Float64Type>()
            .iter()
            .collect())
    }

    /// A nullable `list<string>` column with nullable elements.
    pub(crate) fn optional_string_lists(
        &self,
        name: &str,
    ) -> Result<Vec<Option<Vec<Option<String>>>>, ReadError> {
        let bad = |p: &str| ReadError {
            column: name.into(),
            problem: p.into(),
        };
        let col = self
            .batch
            .column_by_name(name)
            .ok_or_else(|| bad("missing"))?;
        let list = col.as_list_opt::<i32>().ok_or_else(|| bad("not a list"))?;
        let values = cast(list.values(), &ArrowType::Utf8).map_err(|e| bad(&e.to_string()))?;
        let values = values.as_string::<i32>();
        let offsets = list.value_offsets();
        Ok((0..list.len())
            .map(|i| {
                list.is_valid(i).then(|| {
                    (offsets[i] as usize..offsets[i + 1] as usize)
                        .map(|j| values.is_valid(j).then(|| values.value(j).to_string()))
                        .collect()
                })
            })
            .collect())
    }

    fn string_lists(&self, name: &str) -> Result<Vec<Vec<String>>, ReadError> {
        let bad = |p: &str| ReadError {
            column: name.into(),
            problem: p.into(),
        };
        let col = self
            .batch
            .column_by_name(name)
            .ok_or_else(|| bad("missing"))?;
        let list = col.as_list_opt::<i32>().ok_or_else(|| bad("not a list"))?;
        let values = cast(list.values(), &ArrowType::Utf8).map_err(|e| bad(&e.to_string()))?;
        let values = values.as_string::<i32>();
        let offsets = list.value_offsets();
        Ok((0..list.len())
            .map(|i| {
                (offsets[i] as usize..offsets[i + 1] as usize)
                    .map(|j| values.value(j).to_string())
                    .collect()
            })
            .collect())
    }

    /// The rows of a `judgements` batch.
    pub fn judgements(&self) -> Result<Vec<JudgementRow>, ReadError> {
        let n = self.batch.num_rows();
        let g = |c: &str| self.req_strings(c);
        let o = |c: &str| self.strings(c);
        let (id, ts, req, dec, host, stage, route, caller) = (
            g("judgement_id")?,
            self.timestamps()?,
            g("request_id")?,
            g("decision_id")?,
            g("host_id")?,
            g("stage")?,
            g("route")?,
            g("caller")?,
        );
        let (judge, model, rubric, router, digest, why, mode) = (
            g("judge")?,
            g("model")?,
            g("rubric")?,
            g("router")?,
            g("router_digest")?,
            g("routing_reason")?,
            g("mode")?,
        );
        let (priority, rate, status, verdict, score, categories) = (
            self.ints("priority")?,
            self.doubles("sample_rate")?,
            g("status")?,
            o("verdict")?,
            self.doubles("score")?,
            self.string_lists("categories")?,
        );
        let (reasoning, raw, error, effect, requested, queued, latency, seg, off) = (
            o("reasoning")?,
            o("raw_answer")?,
            o("error")?,
            g("effect")?,
            self.timestamps_of("requested_at")?,
            self.req_longs("queued_us")?,
            self.req_longs("latency_us")?,
            self.req_longs("wal_segment")?,
            self.req_longs("wal_offset")?,
        );
        Ok((0..n)
            .map(|i| JudgementRow {
                judgement_id: id[i].clone(),
                request_id: req[i].clone(),
                decision_id: dec[i].clone(),
                timestamp_us: ts[i],
                host_id: host[i].clone(),
                stage: stage[i].clone(),
                route: route[i].clone(),
                caller: caller[i].clone(),
                judge: judge[i].clone(),
                model: model[i].clone(),
                rubric: rubric[i].clone(),
                router: router[i].clone(),
                router_digest: digest[i].clone(),
                routing_reason: why[i].clone(),
                mode: mode[i].clone(),
                priority: priority[i].unwrap_or_default(),
                sample_rate: rate[i].unwrap_or_default(),
                status: status[i].clone(),
                verdict: verdict[i].clone(),
                score: score[i],
                categories: categories[i].clone(),
                reasoning: reasoning[i].clone(),
                raw_answer: raw[i].clone(),
                error: error[i].clone(),
                effect: effect[i].clone(),
                requested_at_us: requested[i],
                queued_us: queued[i],
                latency_us: latency[i],
                wal_segment: seg[i],
                wal_offset: off[i],
            })
            .collect())
    }
}

//! Operational evidence: the `events` and `policies` tables.
//!
//! Decisions say what the rails did to each call; events say what happened
//! to the server around them: who failed to authenticate and from where,
//! which calls were refused for quota or load, what each admin did, when
//! plugins and policies were reloaded (with the digests before and after),
//! and when the server started and stopped, cleanly or not. The
//! `policies` table keeps the full text and plugin inventory of every
//! policy a host ran, so every `policy_digest` in a row resolves to what
//! decided.
//!
//! Rows go through the same WAL, committer and `txn` exactly-once path as
//! decisions (record types `e` and `p`). An event that cannot be recorded
//! (the audit log refusing a full backlog) is logged at `error` and the
//! server goes on: the refusal it describes has happened already.
//!
//! Every event is also logged, security events (authentication failures,
//! refusals, admin calls, reloads) at `warn`, which the default filter
//! shows.

pub mod direct;
mod run;
pub mod schema;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AuditLog, AuditRecord, now_us};

pub use run::RunMarker;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A model-facing request with a missing, unknown, expired or
    /// conflicting credential (or a JWT that failed verification).
    AuthFailure,
    /// An admin request with a missing or wrong admin key.
    AdminAuthFailure,
    /// A `/metrics` scrape with a missing or wrong key.
    MetricsAuthFailure,
    /// An authenticated caller asked for a policy or a model it was not
    /// granted (403 `policy_not_allowed`, `model_not_allowed`).
    AccessDenied,
    /// A call refused by a requests- or tokens-per-minute quota (429).
    QuotaRefused,
    /// A call refused because the shared quota backend could not be
    /// reached and the configuration fails closed (503).
    QuotaUnavailable,
    /// A call refused by the server's or the caller's concurrency limit
    /// (503 or 429).
    Overloaded,
    /// An admin endpoint was called (who, which, and what it did).
    AdminCall,
    /// A policy's pipeline was replaced: a new policy text, a plugin
    /// version gone live or removed.
    PolicyReload,
    /// A reload refused a policy text or a plugin version (the running one
    /// stays).
    ReloadRefused,
    /// The serve configuration was reloaded (or a reload was refused).
    ConfigReload,
    /// The server started.
    Start,
    /// The server stopped after draining (SIGTERM, SIGINT).
    Stop,
    /// Found at start: the previous run on this WAL never recorded its
    /// stop (killed, crashed, lost power).
    UncleanStop,
    /// Rows were erased (`railyard log erase`): who, which selector (its
    /// kind and the SHA-256 of its value), how many rows per table.
    Erasure,
    /// With `worm = true`, maintenance left objects in storage it would
    /// otherwise have deleted (files a vacuum would remove, files written
    /// for a commit that never landed), and says which and why.
    WormKept,
}

impl EventKind {
    /// The `kind` column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AuthFailure => "auth_failure",
            EventKind::AdminAuthFailure => "admin_auth_failure",
            EventKind::MetricsAuthFailure => "metrics_auth_failure",
            EventKind::AccessDenied => "access_denied",
            EventKind::QuotaRefused => "quota_refused",
            EventKind::QuotaUnavailable => "quota_unavailable",
            EventKind::Overloaded => "overloaded",
            EventKind::AdminCall => "admin_call",
            EventKind::PolicyReload => "policy_reload",
            EventKind::ReloadRefused => "reload_refused",
            EventKind::ConfigReload => "config_reload",
            EventKind::Start => "start",
            EventKind::Stop => "stop",
            EventKind::UncleanStop => "unclean_stop",
            EventKind::Erasure => "erasure",
            EventKind::WormKept => "worm_kept",
        }
    }

    /// How loud: security events and anything an operator must act on
    /// are `warn` (shown by the default filter); starts and clean stops
    /// are `info`.
    pub fn severity(self) -> &'static str {
        match self {
            EventKind::Start | EventKind::Stop => "info",
            EventKind::UncleanStop | EventKind::QuotaUnavailable => "error",
            _ => "warn",
        }
    }
}

/// One row of the `events` table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EventRow {
    /// UUIDv7 of this event.
    pub event_id: String,
    /// When it happened, microseconds since the Unix epoch (UTC).
    pub timestamp_us: i64,
    /// The host it happened on.
    pub host_id: String,
    /// What happened ([`EventKind::as_str`]).
    pub kind: String,
    /// `info`, `warn` or `error`.
    pub severity: String,
    /// What happened, for a human.
    pub message: String,
    /// The endpoint called, for request events.
    pub endpoint: Option<String>,
    /// The peer's address (`ip:port`), for request events.
    pub remote_addr: Option<String>,
    /// The caller, when it was authenticated.
    pub caller: Option<String>,
    /// The admin identity, for admin calls.
    pub admin: Option<String>,
    /// The first 12 hex digits of the SHA-256 of the credential presented
    /// (what `key-sha256` in `serve.toml` starts with), for auth failures:
    /// enough to tell which key was tried, not enough to use it.
    pub key_prefix: Option<String>,
    /// The HTTP status answered, for request events.
    pub status_code: Option<i32>,
    /// The error code answered (`invalid_api_key`, …).
    pub code: Option<String>,
    /// The request id answered in `x-railyard-request-id`.
    pub request_id: Option<String>,
    /// The policy (its name in the serve configuration), for reloads.
    pub policy: Option<String>,
    /// The policy digest before a reload (or the previous config digest).
    pub digest_before: Option<String>,
    /// The policy digest after a reload (or the new config digest).
    pub digest_after: Option<String>,
    /// More, as a JSON object (plugins gone live, quota limits, …).
    pub detail: Option<String>,
    /// WAL segment that carried the row.
    pub wal_segment: i64,
    /// Byte offset of the row's record in that segment.
    pub wal_offset: i64,
}

/// One row of the `policies` table: a policy as a host loaded it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicyRow {
    /// `sha256:<hex>` of the policy text (what decision rows carry).
    pub policy_digest: String,
    /// When it was loaded, microseconds since the Unix epoch (UTC).
    pub timestamp_us: i64,
    /// The host that loaded it.
    pub host_id: String,
    /// The policy's own name (what decision rows carry).
    pub policy_name: String,
    /// Where it came from: a path, or `embedded default`.
    pub origin: String,
    /// The exact text, whose SHA-256 is `policy_digest`.
    pub text: String,
    /// The plugins its pipeline ran, as a JSON array of
    /// `{plugin, name, version, kind, stages, digest}` in name order.
    pub plugins: String,
    /// `sha256:<hex>` of `plugins`: the same policy text with another
    /// plugin version (a plugins-folder reload) is another row.
    pub inventory_digest: String,
    /// WAL segment that carried the row.
    pub wal_segment: i64,
    /// Byte offset of the row's record in that segment.
    pub wal_offset: i64,
}

/// An event about to be recorded: the kind, a message, and what is known.
#[derive(Debug, Clone)]
pub struct Event {
    row: EventRow,
    kind: EventKind,
}

impl Event {
    /// An event of `kind`.
    pub fn new(kind: EventKind, message: impl Into<String>) -> Event {
        Event {
            row: EventRow {
                kind: kind.as_str().to_string(),
                severity: kind.severity().to_string(),
                message: message.into(),
                ..EventRow::default()
            },
            kind,
        }
    }

    /// The endpoint.
    pub fn endpoint(mut self, e: &str) -> Event {
        self.row.endpoint = Some(e.to_string());
        self
    }

    /// The peer's address.
    pub fn remote(mut self, addr: Option<std::net::SocketAddr>) -> Event {
        self.row.remote_addr = addr.map(|a| a.to_string());
        self
    }

    /// The authenticated caller.
    pub fn caller(mut self, c: &str) -> Event {
        self.row.caller = Some(c.to_string());
        self
    }

    /// The admin identity.
    pub fn admin(mut self, a: &str) -> Event {
        self.row.admin = Some(a.to_string());
        self
    }

    /// The credential presented (only its hash prefix is kept).
    pub fn credential(mut self, key: Option<&str>) -> Event {
        self.row.key_prefix = key.map(key_prefix);
        self
    }

    /// The status and error code answered.
    pub fn answered(mut self, status: u16, code: &str) -> Event {
        self.row.status_code = Some(i32::from(status));
        self.row.code = Some(code.to_string());
        self
    }

    /// The request id.
    pub fn request_id(mut self, id: &str) -> Event {
        self.row.request_id = Some(id.to_string());
        self
    }

    /// The policy and its digests before and after.
    pub fn policy(mut self, name: &str, before: Option<&str>, after: Option<&str>) -> Event {
        self.row.policy = Some(name.to_string());
        self.row.digest_before = before.map(str::to_string);
        self.row.digest_after = after.map(str::to_string);
        self
    }

    /// Digests before and after (a config reload).
    pub fn digests(mut self, before: Option<&str>, after: Option<&str>) -> Event {
        self.row.digest_before = before.map(str::to_string);
        self.row.digest_after = after.map(str::to_string);
        self
    }

    /// More, as JSON.
    pub fn detail(mut self, detail: serde_json::Value) -> Event {
        self.row.detail = Some(detail.to_string());
        self
    }
}

/// The first 12 hex digits of a credential's SHA-256.
pub fn key_prefix(key: &str) -> String {
    let mut hex = String::with_capacity(64);
    super::hex_into(&Sha256::digest(key.as_bytes()), &mut hex);
    hex.truncate(12);
    hex
}

/// Records events and policy versions; shared by everything that serves.
pub struct Events {
    audit: Option<Arc<AuditLog>>,
    host_id: String,
    /// (policy digest, inventory digest) pairs already recorded by this
    /// process: a policy row is written when a version is first loaded.
    policies_seen: Mutex<HashSet<(String, String)>>,
    run: Mutex<Option<RunMarker>>,
}

impl Events {
    /// Records into `audit` (or only logs, without one).
    pub fn new(audit: Option<Arc<AuditLog>>) -> Events {
        let host_id = audit
            .as_ref()
            .map(|a| a.host_id().to_string())
            .unwrap_or_default();
        Events {
            audit,
            host_id,
            policies_seen: Mutex::default(),
            run: Mutex::default(),
        }
    }

    /// Logs `event` at its severity and records it. Never fails: a row the
    /// audit log refuses is logged at `error`.
    pub fn record(&self, event: Event) {
        let Event { mut row, kind } = event;
        log(kind, &row);
        let Some(audit) = &self.audit else { return };
        row.event_id = crate::payload::new_request_id();
        row.timestamp_us = now_us();
        row.host_id = self.host_id.clone();
        self.append(audit, AuditRecord::Event(row), kind.as_str());
    }

    fn append(&self, audit: &AuditLog, record: AuditRecord, what: &str) {
        let appended = match tokio::runtime::Handle::try_current() {
            // On a runtime worker the WAL's fsync must not stall the
            // other tasks of the thread.
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| audit.record_rows(std::slice::from_ref(&record)))
            }
            _ => audit.record_rows(std::slice::from_ref(&record)),
        };
        if let Err(e) = appended {
            tracing::error!(event = what, error = %e, "audit log refused an operational event; it is only in this log");
        }
    }

    /// The host id its rows carry.
    pub fn host_id(&self) -> &str {
        &self.host_id
    }

    /// Records a policy version (`serve::evidence::policy_row` builds the
    /// row from the pipeline that runs it), unless this process already
    /// recorded this text with this plugin inventory.
    pub fn policy_loaded(&self, row: PolicyRow) {
        let Some(audit) = &self.audit else { return };
        let key = (row.policy_digest.clone(), row.inventory_digest.clone());
        if !self
            .policies_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key)
        {
            return;
        }
        self.append(audit, AuditRecord::Policy(row), "policy");
    }

    /// The server starts: a previous run that never recorded its stop is
    /// recorded as an unclean stop, then this start. `detail` says what
    /// serves (address, policies).
    pub fn started(&self, detail: serde_json::Value) {
        if let Some(audit) = &self.audit {
            let marker = RunMarker::in_dir(audit.wal_dir());
            if let Some(prev) = marker.previous() {
                self.record(
                    Event::new(
                        EventKind::UncleanStop,
                        format!(
                            "the previous run (pid {}, started {}) never recorded its stop: it was killed or crashed",
                            prev.pid, prev.started
                        ),
                    )
                    .detail(serde_json::json!({
                        "previous_pid": prev.pid,
                        "previous_start": prev.started,
                        "interrupted_calls": audit.interrupted_calls(),
                    })),
                );
            }
            if let Err(e) = marker.begin() {
                tracing::error!(error = %e, "cannot write the run marker; an unclean stop of this run will not be detected");
            }
            *self.run.lock().unwrap_or_else(|p| p.into_inner()) = Some(marker);
        }
        self.record(Event::new(EventKind::Start, "server started").detail(detail));
    }

    /// The server stops after draining: records the stop and clears the
    /// run marker (before the final flush, which commits the row).
    pub fn stopped(&self, detail: serde_json::Value) {
        self.record(Event::new(EventKind::Stop, "server stopped cleanly").detail(detail));
        if let Some(marker) = self.run.lock().unwrap_or_else(|p| p.into_inner()).take()
            && let Err(e) = marker.end()
        {
            tracing::error!(error = %e, "cannot remove the run marker; the next start will report an unclean stop");
        }
    }
}

fn log(kind: EventKind, r: &EventRow) {
    macro_rules! at {
        ($level:ident) => {
            tracing::$level!(
                event = kind.as_str(),
                endpoint = r.endpoint.as_deref(),
                remote_addr = r.remote_addr.as_deref(),
                caller = r.caller.as_deref(),
                admin = r.admin.as_deref(),
                key_prefix = r.key_prefix.as_deref(),
                status = r.status_code,
                code = r.code.as_deref(),
                request_id = r.request_id.as_deref(),
                policy = r.policy.as_deref(),
                digest_before = r.digest_before.as_deref(),
                digest_after = r.digest_after.as_deref(),
                detail = r.detail.as_deref(),
                "{}",
                r.message
            )
        };
    }
    match kind.severity() {
        "info" => at!(info),
        "error" => at!(error),
        _ => at!(warn),
    }
}

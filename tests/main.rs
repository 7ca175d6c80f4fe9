//! railyard's integration tests, one module per capability, linked into one
//! test binary: wasmtime and deltalake are linked once for the whole suite,
//! and a new test file needs only a `mod` line here (no Cargo.toml edit).
//!
//! Run one module with `cargo test --test integration MODULE::`, e.g.
//! `cargo test --test integration serve::`.

mod common;

mod anthropic_stream_equivalence;
mod anthropic_upstream;
mod audit_added_columns;
mod audit_chain;
mod audit_cli;
mod audit_crash;
mod audit_create_race;
mod audit_events;
mod audit_evidence;
mod audit_evidence_plugins;
mod audit_external;
mod audit_finding_fields;
mod audit_interrupted;
mod audit_lifecycle;
mod audit_log;
mod audit_log_edits;
mod audit_maintenance;
mod audit_provenance;
mod audit_wal_format;
mod audit_worm;
mod cli;
mod compile_cache;
mod conformance_broken;
mod conformance_first_party;
mod custom_detector;
mod detection_quality;
mod hostile_plugins;
mod hot_reload;
mod instance_reuse;
mod judges;
mod judges_blocking;
mod judges_errors;
mod pipeline_fanout;
mod plugin_c;
mod plugin_js;
mod plugin_manifests;
mod plugin_new;
mod plugin_python;
mod plugins_through_host;
mod policy_errors;
mod replay;
mod replay_spark;
mod responses_relay;
mod responses_stream_equivalence;
mod responses_upstream;
mod serve;
mod serve_access;
mod serve_answer_shapes;
mod serve_anthropic;
mod serve_config_mistakes;
mod serve_config_reload;
mod serve_connections;
mod serve_durability;
mod serve_format_errors;
mod serve_formats_coverage;
mod serve_jwt;
mod serve_openai;
mod serve_operations;
mod serve_payload_coverage;
mod serve_payload_coverage_policies;
mod serve_quota_settle;
mod serve_quota_shared;
mod serve_request_nested;
mod serve_responses;
mod serve_rollout;
mod serve_stream_capacity;
mod serve_stream_fields;
mod serve_trace;
mod stream_envelope;
mod stream_equivalence;
mod wal_stress;

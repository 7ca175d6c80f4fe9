//! `[audit]` in `serve.toml`: what the server adds to each `inferences`
//! row from the request's headers (end user, business attributes), and how
//! long the tables keep their rows (retention, legal holds, WORM storage).
//!
//! ```toml
//! [audit]
//! end-user-header = "x-end-user"     # wins over the body's `user`
//! retention-days = { inferences = 90, decisions = 365, judgements = 365 }
//! legal-hold = ["2026-03-14", "2026-04-01..2026-04-30"]
//! worm = false
//! request-durability = "with-answer"  # or "before-upstream"
//!
//! [audit.attributes]                 # request header = attribute name
//! "x-team" = "team"
//! ```

use std::collections::BTreeMap;

use hyper::HeaderMap;
use serde::Deserialize;

use crate::audit::retention::{Hold, Lifecycle};
use crate::audit::schema::TableKind;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawAudit {
    end_user_header: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default)]
    retention_days: BTreeMap<String, u32>,
    #[serde(default)]
    legal_hold: Vec<String>,
    worm: Option<bool>,
    request_durability: Option<RequestDurability>,
}

/// When a proxied call's request record must be durable (with the
/// default `fsync` durability; see `crate::audit::deferred`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestDurability {
    /// Its fsync runs while the upstream works; the answer waits for it
    /// (and for its own record) before any byte goes to the client.
    #[default]
    WithAnswer,
    /// Durable before the prompt goes upstream (two fsync waits a call).
    BeforeUpstream,
}

/// The validated `[audit]` section.
#[derive(Debug, Clone, Default)]
pub struct AuditConfig {
    /// The request header naming the end user (lower-case).
    pub end_user_header: Option<String>,
    /// Request header (lower-case) → attribute name in the
    /// `inferences.attributes` column.
    pub attributes: BTreeMap<String, String>,
    /// Retention, holds and WORM, applied by the serving host's
    /// maintenance.
    pub lifecycle: Lifecycle,
    /// When a proxied call's request record must be durable.
    pub request_durability: RequestDurability,
}

/// What a request's headers say for the record.
#[derive(Debug, Clone, Default)]
pub struct RequestTags {
    /// The end user, from the configured header.
    pub end_user: Option<String>,
    /// Business attributes, from the configured headers.
    pub attributes: BTreeMap<String, String>,
}

impl RawAudit {
    /// Validates the section; errors are (dotted key, message).
    pub(super) fn validate(self) -> Result<AuditConfig, (String, String)> {
        let header_name = |key: &str, h: &str| -> Result<String, (String, String)> {
            hyper::header::HeaderName::from_bytes(h.as_bytes())
                .map(|n| n.as_str().to_string())
                .map_err(|_| (key.to_string(), format!("`{h}` is not an HTTP header name")))
        };
        let end_user_header = self
            .end_user_header
            .as_deref()
            .map(|h| header_name("audit.end-user-header", h))
            .transpose()?;
        let mut attributes = BTreeMap::new();
        for (header, name) in self.attributes {
            let key = format!("audit.attributes.{header}");
            if name.trim().is_empty() {
                return Err((key, "the attribute name must not be empty".into()));
            }
            attributes.insert(header_name(&key, &header)?, name);
        }
        let mut retention = BTreeMap::new();
        for (table, days) in self.retention_days {
            let key = format!("audit.retention-days.{table}");
            let kind = TableKind::ALL
                .into_iter()
                .find(|k| k.name() == table)
                .ok_or_else(|| {
                    (
                        key.clone(),
                        "no such audit table (decisions, inferences, judgements)".to_string(),
                    )
                })?;
            if days == 0 {
                return Err((
                    key,
                    "must be at least 1 (a day is dropped once it is older than this many days)"
                        .into(),
                ));
            }
            retention.insert(kind, days);
        }
        let holds = self
            .legal_hold
            .iter()
            .enumerate()
            .map(|(i, h)| Hold::parse(h).map_err(|m| (format!("audit.legal-hold[{i}]"), m)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AuditConfig {
            end_user_header,
            attributes,
            lifecycle: Lifecycle {
                retention_days: retention,
                holds,
                worm: self.worm.unwrap_or(false),
            },
            request_durability: self.request_durability.unwrap_or_default(),
        })
    }
}

impl AuditConfig {
    /// The end user and business attributes a request's headers carry.
    pub fn tags(&self, headers: &HeaderMap) -> RequestTags {
        let get = |h: &str| {
            headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        RequestTags {
            end_user: self.end_user_header.as_deref().and_then(get),
            attributes: self
                .attributes
                .iter()
                .filter_map(|(h, name)| Some((name.clone(), get(h)?)))
                .collect(),
        }
    }
}

impl RequestTags {
    /// The provenance of a proxied call before it goes out: the upstream,
    /// the request's parameters, the end user (the configured header wins
    /// over the body's `user` / `metadata.user_id`: the header is set by
    /// the operator's own front end, the body by whatever client called).
    pub fn provenance(&self, upstream: &str, body: &serde_json::Value) -> crate::audit::Provenance {
        use crate::audit::provenance;
        crate::audit::Provenance {
            upstream: Some(upstream.to_string()),
            parameters: provenance::parameters_of(body),
            end_user: self
                .end_user
                .clone()
                .or_else(|| provenance::body_end_user(body)),
            attributes: self.attributes.clone(),
            ..Default::default()
        }
    }

    /// The provenance of a guard call: the header's end user, else the
    /// `end_user` attribute the caller passed; every attribute the caller
    /// passed, then the configured headers' (which win on a clash).
    pub fn guard_provenance(&self, attributes: &[(String, String)]) -> crate::audit::Provenance {
        let mut all: BTreeMap<String, String> = attributes.iter().cloned().collect();
        all.extend(self.attributes.clone());
        crate::audit::Provenance {
            end_user: self
                .end_user
                .clone()
                .or_else(|| all.get("end_user").cloned()),
            attributes: all,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<AuditConfig, (String, String)> {
        let raw: RawAudit = toml::from_str(toml_text).unwrap();
        raw.validate()
    }

    #[test]
    fn headers_become_end_user_and_attributes() {
        let c = parse(
            "end-user-header = \"X-End-User\"\n[attributes]\n\"x-team\" = \"team\"\n\"x-cost-center\" = \"cost_center\"\n",
        )
        .unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-end-user", "alice".parse().unwrap());
        h.insert("x-team", "payments".parse().unwrap());
        let tags = c.tags(&h);
        assert_eq!(tags.end_user.as_deref(), Some("alice"));
        assert_eq!(
            tags.attributes,
            BTreeMap::from([("team".to_string(), "payments".to_string())])
        );
    }

    #[test]
    fn bad_retention_and_holds_name_their_key() {
        let e = parse("retention-days = { inference = 30 }").unwrap_err();
        assert_eq!(e.0, "audit.retention-days.inference");
        let e = parse("retention-days = { inferences = 0 }").unwrap_err();
        assert_eq!(e.0, "audit.retention-days.inferences");
        let e = parse("legal-hold = [\"2026-13-01\"]").unwrap_err();
        assert_eq!(e.0, "audit.legal-hold[0]");
        let ok = parse("legal-hold = [\"2026-04-01..2026-04-30\"]\nworm = true").unwrap();
        assert!(ok.lifecycle.worm);
        assert_eq!(ok.lifecycle.holds.len(), 1);
    }
}

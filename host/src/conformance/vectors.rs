//! Conformance vectors: language-neutral JSON files of payloads and the
//! properties a plugin's answer must have.
//!
//! The files live in `tests/conformance/` (embedded in the binary, so
//! `railyard conformance` works anywhere; `--vectors DIR` reads another
//! folder). Each file:
//!
//! ```json
//! {
//!   "kind": "pii-detector",            // or "guardrail", "judge-router", "any"
//!   "description": "what this file covers",
//!   "vectors": [
//!     {
//!       "id": "obvious-email",
//!       "description": "why this case exists",
//!       "payload": {
//!         "messages": [{"role": "user", "content": "mail bob@example.com"}],
//!         "repeat_messages": 1,        // optional: the message list, repeated
//!         "attributes": [["k", "v"]]   // optional
//!       },
//!       "findings": [],                // optional: prior findings, for judge routers
//!       "smoke": true,                 // optional (default true): part of the hot-reload smoke test
//!       "expect": {
//!         "finds_one_of": [{"text": "bob@example.com", "category": "EMAIL_ADDRESS"}],
//!         "action_not": ["block"]
//!       }
//!     }
//!   ]
//! }
//! ```
//!
//! A message `content` is a string, or `{"repeat": "text", "bytes": N}`:
//! the text repeated and cut (on a character boundary) to N bytes, so a
//! 1 MiB case is a line, not a megabyte. Every vector is run at each stage
//! the plugin declares. Beyond `expect`, every answer must be a valid
//! answer (no trap, timeout, error or broken span), the same on a second
//! run, and within the fuel and memory budgets.
//!
//! A plugin's manifest can bring its own vectors (`vectors = "file.json"`
//! or a folder) and declare the categories it reports (`finds = […]`):
//! [`for_manifest`] then keeps, of the built-in `finds_one_of`
//! expectations, only those whose category it declares (an expectation
//! with no category only applies to a plugin that declares nothing), and
//! adds its own vectors, which must be for its kind or `any`.

use std::path::Path;

use serde::Deserialize;

use crate::payload::{Message, Payload, Stage};
use crate::plugin::PluginKind;
use crate::plugin::manifest::Manifest;
use crate::verdict::{Action, Finding};

/// The vectors shipped with railyard (`tests/conformance/`).
const EMBEDDED: &[(&str, &str)] = &[
    (
        "edge-cases.json",
        include_str!("../../../tests/conformance/edge-cases.json"),
    ),
    (
        "guardrail.json",
        include_str!("../../../tests/conformance/guardrail.json"),
    ),
    (
        "pii-detector.json",
        include_str!("../../../tests/conformance/pii-detector.json"),
    ),
    (
        "judge-router.json",
        include_str!("../../../tests/conformance/judge-router.json"),
    ),
];

/// Which plugins a vector file applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Every kind.
    Any,
    /// One kind.
    Kind(PluginKind),
}

/// One vector, ready to run.
#[derive(Debug, Clone)]
pub struct Vector {
    /// `file.json#id`.
    pub id: String,
    /// Why it exists.
    pub description: String,
    /// Whose it is.
    pub applies: Applies,
    /// The messages, attributes, route and caller (the stage is set per run).
    pub payload: Payload,
    /// Findings shown to judge routers.
    pub findings: Vec<Finding>,
    /// Part of the hot-reload smoke test.
    pub smoke: bool,
    /// Properties the answer must have.
    pub expect: Expect,
}

/// Properties an answer must have, beyond being valid and deterministic.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// At least one of these must be found: a finding whose span covers the
    /// text (and, when given, has the category).
    #[serde(default)]
    pub finds_one_of: Vec<ExpectedFinding>,
    /// A guardrail's action must not be one of these.
    #[serde(default)]
    pub action_not: Vec<Action>,
}

/// A finding a vector expects.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFinding {
    /// The text the span must cover.
    pub text: String,
    /// The category it must have, if given.
    #[serde(default)]
    pub category: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    vectors: Vec<RawVector>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVector {
    id: String,
    #[serde(default)]
    description: String,
    payload: RawPayload,
    #[serde(default)]
    findings: Vec<Finding>,
    #[serde(default = "yes")]
    smoke: bool,
    #[serde(default)]
    expect: Expect,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayload {
    messages: Vec<RawMessage>,
    #[serde(default)]
    repeat_messages: Option<usize>,
    #[serde(default)]
    attributes: Vec<(String, String)>,
    #[serde(default)]
    route: String,
    #[serde(default)]
    caller: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessage {
    role: String,
    content: RawContent,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawContent {
    Text(String),
    Repeat { repeat: String, bytes: usize },
}

/// Largest generated content: a vector cannot ask for more.
const MAX_GENERATED: usize = 64 << 20;

impl RawContent {
    fn build(self) -> Result<String, String> {
        match self {
            RawContent::Text(t) => Ok(t),
            RawContent::Repeat { repeat, bytes } => {
                if repeat.is_empty() || bytes > MAX_GENERATED {
                    return Err(format!(
                        "`repeat` must be non-empty and `bytes` at most {MAX_GENERATED}"
                    ));
                }
                let mut s = repeat.repeat(bytes / repeat.len() + 1);
                let mut cut = bytes.min(s.len());
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
                Ok(s)
            }
        }
    }
}

/// The embedded vectors.
pub fn embedded() -> Result<Vec<Vector>, String> {
    let mut out = Vec::new();
    for (name, text) in EMBEDDED {
        out.extend(parse(name, text)?);
    }
    Ok(out)
}

/// Every `*.json` vector file in `dir`, by file name.
pub fn from_dir(dir: &Path) -> Result<Vec<Vector>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{} holds no *.json vector files", dir.display()));
    }
    let mut out = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.extend(parse(&name, &text)?);
    }
    Ok(out)
}

/// The vectors in `path`: one JSON vector file, or a folder of them.
pub fn from_path(path: &Path) -> Result<Vec<Vector>, String> {
    if path.is_dir() {
        return from_dir(path);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read vector file {}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parse(&name, &text)
}

/// Keeps, of each vector's `finds_one_of`, the expected findings a plugin
/// that reports only `finds` can meet: those whose category is one of them.
/// A vector left with none expects nothing found (its other properties
/// still hold).
pub fn fit_to_finds(vectors: &mut [Vector], finds: &[String]) {
    for v in vectors {
        v.expect
            .finds_one_of
            .retain(|e| e.category.as_ref().is_some_and(|c| finds.contains(c)));
    }
}

/// The vectors for a plugin with `manifest` (or none): the built-in ones,
/// fitted to what it declares it finds, then its own.
pub fn for_manifest(manifest: Option<&Manifest>) -> Result<Vec<Vector>, String> {
    let mut out = embedded()?;
    let Some(m) = manifest else { return Ok(out) };
    if let Some(finds) = &m.finds {
        fit_to_finds(&mut out, finds);
    }
    if let Some(path) = &m.vectors {
        let own = from_path(path)
            .map_err(|e| format!("{e} (the `vectors` of the manifest {})", m.path.display()))?;
        if let Some(v) = own.iter().find(|v| !v.applies_to(m.kind)) {
            return Err(format!(
                "vector {} in {} is not for a {} (its file's `kind` must be \"{}\" or \"any\")",
                v.id,
                path.display(),
                m.kind,
                m.kind
            ));
        }
        if own.is_empty() {
            return Err(format!("{} holds no vectors", path.display()));
        }
        out.extend(own);
    }
    Ok(out)
}

/// Parses one vector file.
pub fn parse(name: &str, text: &str) -> Result<Vec<Vector>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RawFile = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| format!("vector file {name}: `{}`: {}", e.path(), e.inner()))?;
    let applies = match raw.kind.as_str() {
        "any" => Applies::Any,
        k => Applies::Kind(PluginKind::parse(k).ok_or_else(|| {
            format!(
                "vector file {name}: unknown kind {k:?}; expected any, guardrail, pii-detector or judge-router"
            )
        })?),
    };
    let mut out = Vec::with_capacity(raw.vectors.len());
    for v in raw.vectors {
        let id = format!("{name}#{}", v.id);
        let mut messages = Vec::with_capacity(v.payload.messages.len());
        for m in v.payload.messages {
            let content = m.content.build().map_err(|e| format!("vector {id}: {e}"))?;
            messages.push(Message::new(m.role, content));
        }
        if let Some(n) = v.payload.repeat_messages {
            if n == 0 || n > 100_000 {
                return Err(format!(
                    "vector {id}: `repeat_messages` must be from 1 to 100000"
                ));
            }
            let one = messages.clone();
            messages = one.iter().cycle().take(one.len() * n).cloned().collect();
        }
        out.push(Vector {
            description: v.description,
            applies,
            payload: Payload {
                request_id: format!("conformance-{}", v.id),
                stage: Stage::Request,
                route: v.payload.route,
                caller: v.payload.caller,
                messages,
                attributes: v.payload.attributes,
            },
            findings: v.findings,
            smoke: v.smoke,
            expect: v.expect,
            id,
        });
    }
    Ok(out)
}

impl Vector {
    /// Whether this vector applies to a plugin of `kind`.
    pub fn applies_to(&self, kind: PluginKind) -> bool {
        match self.applies {
            Applies::Any => true,
            Applies::Kind(k) => k == kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_to_declared_categories_drops_the_others() {
        let mut v = embedded().unwrap();
        let before = v
            .iter()
            .filter(|v| !v.expect.finds_one_of.is_empty())
            .count();
        assert!(before > 0);
        fit_to_finds(&mut v, &["EMPLOYEE_ID".to_string()]);
        assert!(v.iter().all(|v| v.expect.finds_one_of.is_empty()));
        let mut v = embedded().unwrap();
        fit_to_finds(&mut v, &["EMAIL_ADDRESS".to_string()]);
        let kept: Vec<_> = v.iter().flat_map(|v| &v.expect.finds_one_of).collect();
        assert!(!kept.is_empty());
        assert!(
            kept.iter()
                .all(|e| e.category.as_deref() == Some("EMAIL_ADDRESS"))
        );
    }
}

//! The crate's modules import each other one way only, and this test keeps
//! it so.
//!
//! Every `crate::x` path in `host/src/**/*.rs` (comments aside) is checked
//! against [`ALLOWED`]: a module may name only the modules listed for it,
//! and those are always listed before it, so the graph cannot have a
//! cycle. A new module, or a new edge, is a line added here on purpose;
//! an edge that closes a cycle cannot be added at all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module and the top-level modules it may import, lowest
/// layer first. Leaves: `verdict`, `payload`, `heap`, `base_url`, and
/// `engine` above `heap` (it trims the heap after a compile);
/// `evaluation` sits below both `pipeline` (which makes evaluations) and
/// `audit`/`judge` (which record and amend them); `live` (hot reload) sits
/// above `conformance`, whose smoke test it runs before a plugin goes live.
const ALLOWED: &[(&str, &[&str])] = &[
    ("verdict", &[]),
    ("payload", &[]),
    ("heap", &[]),
    ("engine", &["heap"]),
    ("base_url", &[]),
    ("plugin", &["engine", "payload", "verdict"]),
    ("policy", &["plugin", "payload", "verdict"]),
    ("evaluation", &["plugin", "policy", "payload", "verdict"]),
    (
        "telemetry",
        &["evaluation", "plugin", "policy", "payload", "verdict"],
    ),
    (
        "pipeline",
        &["evaluation", "plugin", "policy", "payload", "verdict"],
    ),
    (
        "conformance",
        &[
            "pipeline",
            "evaluation",
            "plugin",
            "policy",
            "engine",
            "payload",
            "verdict",
        ],
    ),
    (
        "live",
        &[
            "conformance",
            "pipeline",
            "evaluation",
            "plugin",
            "policy",
            "engine",
            "payload",
            "verdict",
        ],
    ),
    (
        "audit",
        &["evaluation", "policy", "heap", "payload", "verdict"],
    ),
    (
        "judge",
        &[
            "telemetry",
            "audit",
            "evaluation",
            "policy",
            "base_url",
            "payload",
            "verdict",
        ],
    ),
    (
        "serve",
        &[
            "telemetry",
            "judge",
            "audit",
            "live",
            "pipeline",
            "evaluation",
            "plugin",
            "policy",
            "engine",
            "heap",
            "base_url",
            "payload",
            "verdict",
        ],
    ),
    (
        "replay",
        &[
            "audit",
            "pipeline",
            "evaluation",
            "plugin",
            "policy",
            "engine",
            "payload",
            "verdict",
        ],
    ),
    (
        "cli",
        &[
            "telemetry",
            "replay",
            "serve",
            "judge",
            "audit",
            "live",
            "conformance",
            "pipeline",
            "evaluation",
            "plugin",
            "policy",
            "engine",
            "heap",
            "base_url",
            "payload",
            "verdict",
        ],
    ),
];

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The line without its `//` comment (a `//` inside a string, as in a URL,
/// is kept: the quotes before it are counted).
fn code_of(line: &str) -> &str {
    let mut from = 0;
    while let Some(i) = line[from..].find("//") {
        let at = from + i;
        if line[..at].matches('"').count().is_multiple_of(2) {
            return &line[..at];
        }
        from = at + 2;
    }
    line
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules a line of code names through `crate::x` or
/// `crate::{x::…, y}`.
fn crate_refs(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        let after = &rest[i + "crate::".len()..];
        rest = after;
        // `railyard_crate::` or `$crate::` are not this crate's paths.
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        out.push(ident_at(&group[j..]).to_string());
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident_at(after).to_string());
        }
    }
    out
}

#[test]
fn crate_imports_follow_the_one_way_module_graph() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, deps)| (*m, deps.iter().copied().collect()))
        .collect();
    // The table itself is one-way: every dependency is listed earlier.
    for (i, (module, deps)) in ALLOWED.iter().enumerate() {
        for dep in *deps {
            let earlier = ALLOWED[..i].iter().any(|(m, _)| m == dep);
            assert!(
                earlier,
                "ALLOWED lets `{module}` import `{dep}`, which is not listed before it: that could close a cycle"
            );
        }
    }

    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut modules_seen = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str();
        let module = first.to_str().unwrap().trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" || module == "module_graph" {
            continue;
        }
        modules_seen.insert(module.clone());
        let Some(deps) = allowed.get(module.as_str()) else {
            problems.push(format!(
                "module `{module}` ({}) is not in ALLOWED: add it with the modules it may import",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for dep in crate_refs(code_of(line)) {
                if dep == module || !allowed.contains_key(dep.as_str()) {
                    // Itself, or a root item (`crate::Action` re-exports).
                    continue;
                }
                if !deps.contains(dep.as_str()) {
                    problems.push(format!(
                        "{}:{}: `{module}` imports `crate::{dep}`, which the one-way graph does not allow",
                        rel.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The test saw the crate (a wrong path would make it pass vacuously).
    for (module, _) in ALLOWED {
        assert!(
            modules_seen.contains(*module),
            "ALLOWED names `{module}`, which has no file under src/"
        );
    }
}

#[test]
fn crate_refs_reads_plain_and_grouped_paths() {
    assert_eq!(crate_refs("use crate::audit::AuditLog;"), ["audit"]);
    assert_eq!(
        crate_refs("use crate::{plugin::X, policy, verdict::{A, B}};"),
        ["plugin", "policy", "verdict"]
    );
    assert_eq!(
        crate_refs("let x = $crate::foo; my_crate::bar"),
        Vec::<String>::new()
    );
    assert_eq!(
        code_of("let u = \"http://x\"; // crate::serve"),
        "let u = \"http://x\"; "
    );
}

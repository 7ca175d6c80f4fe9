//! Conformance reports: text for people, JSON for tools, JUnit XML for CI
//! systems (GitHub Actions, GitLab, Jenkins read the common subset written
//! here: one `<testsuite>` per plugin, one `<testcase>` per check, a
//! `<failure>` with a message on the failed ones).

use std::fmt::Write as _;

use super::Report;

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per failed check and a summary.
    Text,
    /// The whole report as one JSON object.
    Json,
    /// JUnit XML.
    Junit,
}

impl Format {
    /// Parses `text`, `json` or `junit`.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            "junit" => Some(Format::Junit),
            _ => None,
        }
    }
}

pub(super) fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text(report),
        Format::Json => serde_json::to_string_pretty(report)
            .expect("a report serializes (plain data, no maps with non-string keys)"),
        Format::Junit => junit(report),
    }
}

fn text(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "railyard conformance: {}", r.plugin);
    if let Some(d) = &r.digest {
        let _ = writeln!(out, "digest: {d}");
    }
    if let (Some(kind), Some(info)) = (&r.kind, &r.info) {
        let _ = writeln!(
            out,
            "plugin: {} {} ({kind}), stages [{}]",
            info.name,
            info.version,
            info.stages
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(out);
    let mut groups: Vec<(&str, usize, usize)> = Vec::new();
    for c in &r.checks {
        match groups.iter_mut().find(|(g, _, _)| *g == c.check) {
            Some(g) => {
                g.1 += 1;
                g.2 += usize::from(!c.passed);
            }
            None => groups.push((c.check, 1, usize::from(!c.passed))),
        }
    }
    for (group, total, failed) in &groups {
        let _ = writeln!(
            out,
            "{:<5} {group:<12} {}/{total} passed",
            if *failed == 0 { "ok" } else { "FAIL" },
            total - failed
        );
    }
    let failures: Vec<_> = r.failures().collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\nfailures:");
        for c in &failures {
            let _ = writeln!(out, "  {} {}:\n    {}", c.check, c.case, c.message);
        }
    }
    let max_fuel = r.checks.iter().filter_map(|c| c.fuel).max();
    let max_mem = r.checks.iter().filter_map(|c| c.peak_memory).max();
    if let (Some(fuel), Some(mem)) = (max_fuel, max_mem) {
        let _ = writeln!(
            out,
            "\nbudgets: most fuel in one call {fuel}; peak memory {} KiB of {} MiB",
            mem >> 10,
            r.memory_budget >> 20
        );
    }
    let _ = writeln!(
        out,
        "\n{}: {} checks, {} failed",
        if failures.is_empty() { "PASS" } else { "FAIL" },
        r.checks.len(),
        failures.len()
    );
    out
}

fn junit(r: &Report) -> String {
    let name = match &r.info {
        Some(info) => format!("railyard conformance: {} {}", info.name, info.version),
        None => format!("railyard conformance: {}", r.plugin),
    };
    let failures = r.failures().count();
    let time: f64 = r.checks.iter().map(|c| c.time_ms).sum::<f64>() / 1e3;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"railyard conformance\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">",
        r.checks.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{time:.3}\">",
        xml(&name),
        r.checks.len()
    );
    if let Some(d) = &r.digest {
        let _ = writeln!(
            out,
            "    <properties>\n      <property name=\"plugin\" value=\"{}\"/>\n      <property name=\"digest\" value=\"{d}\"/>\n    </properties>",
            xml(&r.plugin)
        );
    }
    for c in &r.checks {
        let _ = write!(
            out,
            "    <testcase classname=\"conformance.{}\" name=\"{}\" time=\"{:.3}\"",
            c.check,
            xml(&c.case),
            c.time_ms / 1e3
        );
        if c.passed {
            let _ = writeln!(out, "/>");
        } else {
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                xml(&c.message),
                c.check,
                xml(&c.message)
            );
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Escapes text for an XML attribute or element. Characters XML 1.0 cannot
/// carry at all (most C0 controls) are written as `\u{..}` so a plugin's
/// message can never make the report unparseable.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn xml_escapes_markup_and_control_characters() {
        assert_eq!(
            xml("a<b & \"c\"\u{1}\u{1b}"),
            "a&lt;b &amp; &quot;c&quot;\\u{1}\\u{1b}"
        );
    }
}

//! The replay report as one self-contained HTML page: inline CSS and SVG
//! charts, no script, nothing fetched from the network (it is opened from
//! CI artifacts and mail attachments, often offline).

use std::fmt::Write;

use super::report::{Matrix, Report};

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const ACTIONS: [&str; 5] = ["allow", "flag", "redact", "block", super::ABSENT];

/// Horizontal bars, one per plugin: unchanged and changed decisions.
fn bars(report: &Report) -> String {
    let rows: Vec<&Matrix> = report.matrices.iter().collect();
    let (label_w, bar_w, row_h) = (220.0, 420.0, 26.0);
    let height = row_h * rows.len().max(1) as f64 + 30.0;
    let max = rows.iter().map(|m| m.total).max().unwrap_or(1).max(1) as f64;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" role="img" aria-label="decisions per plugin">"#,
        label_w + bar_w + 120.0
    );
    for (i, m) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let same = (m.total - m.changed) as f64 / max * bar_w;
        let changed = m.changed as f64 / max * bar_w;
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end" font-size="13">{} · {}</text><rect x="{label_w}" y="{y}" width="{same:.1}" height="18" fill="#9cb8d9"><title>{} unchanged</title></rect><rect x="{:.1}" y="{y}" width="{changed:.1}" height="18" fill="#d9534f"><title>{} changed</title></rect><text x="{:.1}" y="{}" font-size="12">{} / {}</text>"##,
            label_w - 8.0,
            y + 14.0,
            esc(&m.stage),
            esc(&m.plugin),
            m.total - m.changed,
            label_w + same,
            m.changed,
            label_w + same + changed + 6.0,
            y + 14.0,
            m.changed,
            m.total
        );
    }
    let y = height - 8.0;
    let _ = write!(
        s,
        r##"<rect x="{label_w}" y="{}" width="12" height="12" fill="#9cb8d9"/><text x="{}" y="{y}" font-size="12">unchanged</text><rect x="{}" y="{}" width="12" height="12" fill="#d9534f"/><text x="{}" y="{y}" font-size="12">changed</text></svg>"##,
        y - 10.0,
        label_w + 16.0,
        label_w + 110.0,
        y - 10.0,
        label_w + 126.0
    );
    s
}

/// A live × candidate grid, cells shaded by count, changed cells in red.
fn grid(m: &Matrix) -> String {
    let used: Vec<&str> = ACTIONS
        .iter()
        .copied()
        .filter(|a| m.cells.iter().any(|c| c.live == *a || c.candidate == *a))
        .collect();
    let (cell, head) = (58.0, 70.0);
    let size = head + cell * used.len() as f64;
    let max = m.cells.iter().map(|c| c.count).max().unwrap_or(1).max(1) as f64;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" role="img" aria-label="{} {}: live versus candidate">"#,
        size + 10.0,
        size + 10.0,
        esc(&m.stage),
        esc(&m.plugin)
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="11" font-weight="bold" text-anchor="middle">candidate</text><text x="10" y="{}" font-size="11" font-weight="bold" transform="rotate(-90 10 {})" text-anchor="middle">live</text>"#,
        head + cell * used.len() as f64 / 2.0,
        head - 26.0,
        head + cell * used.len() as f64 / 2.0,
        head + cell * used.len() as f64 / 2.0
    );
    for (j, a) in used.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="11" text-anchor="middle">{a}</text><text x="{}" y="{}" font-size="11" text-anchor="end">{a}</text>"#,
            head + cell * j as f64 + cell / 2.0,
            head - 8.0,
            head - 6.0,
            head + cell * j as f64 + cell / 2.0 + 4.0
        );
    }
    fn effective(a: &str) -> &str {
        if a == super::ABSENT { "allow" } else { a }
    }
    for (i, live) in used.iter().enumerate() {
        for (j, cand) in used.iter().enumerate() {
            let n = m
                .cells
                .iter()
                .find(|c| c.live == *live && c.candidate == *cand)
                .map_or(0, |c| c.count);
            let alpha = if n == 0 {
                0.0
            } else {
                0.15 + 0.85 * n as f64 / max
            };
            let color = if effective(live) == effective(cand) {
                "43,108,176"
            } else {
                "217,83,79"
            };
            let (x, y) = (head + cell * j as f64, head + cell * i as f64);
            let _ = write!(
                s,
                r##"<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="rgba({color},{alpha:.2})" stroke="#ccc"><title>live {live} → candidate {cand}: {n}</title></rect><text x="{}" y="{}" font-size="12" text-anchor="middle">{n}</text>"##,
                x + cell / 2.0,
                y + cell / 2.0 + 4.0
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// The whole page; `examples` caps the rows of each list.
pub fn render(report: &Report, examples: usize) -> String {
    let mut h = String::new();
    let title = format!("railyard replay: policy {}", report.candidate.policy);
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title><style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}} th{{background:#f3f3f3}}
.n{{text-align:right}} .grids{{display:flex;flex-wrap:wrap;gap:2em}} .grids figure{{margin:0}}
code{{font-size:12px}} .bad{{color:#b52b27;font-weight:bold}}</style></head><body>"#,
        esc(&title)
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p>Policy digest <code>{}</code>{}. Period {} .. {}.</p>",
        esc(&title),
        esc(&report.candidate.policy_digest),
        if report.candidate.substituted.is_empty() {
            String::new()
        } else {
            format!(
                "; substituted {}",
                esc(&report.candidate.substituted.join(", "))
            )
        },
        esc(report.since.as_deref().unwrap_or("(start)")),
        esc(report.until.as_deref().unwrap_or("(now)"))
    );
    let _ = write!(
        h,
        r#"<table><tr><th>calls read</th><td class="n">{}</td></tr><tr><th>replayed</th><td class="n">{}</td></tr><tr><th>not replayable</th><td class="n">{}</td></tr><tr><th>changed calls</th><td class="n">{}</td></tr><tr><th>changed decisions</th><td class="n">{} of {}</td></tr><tr><th>throughput</th><td class="n">{:.0} calls/s on {} threads</td></tr>"#,
        report.calls,
        report.replayed,
        report.not_replayable,
        report.changed_calls,
        report.decisions_changed,
        report.decisions_compared,
        report.calls_per_second,
        report.threads
    );
    if let Some(t) = &report.fail_on {
        let _ = write!(
            h,
            r#"<tr><th>--fail-on {}</th><td class="{}">{}</td></tr>"#,
            esc(t),
            if report.failed { "bad" } else { "n" },
            if report.failed {
                "above the threshold"
            } else {
                "within the threshold"
            }
        );
    }
    h.push_str("</table><h2>Decisions per plugin</h2>");
    h.push_str(&bars(report));
    h.push_str("<h2>Live vs candidate</h2><div class=\"grids\">");
    for m in report.matrices.iter().chain([&report.call_matrix]) {
        let name = if m.stage == "call" {
            "whole call (most severe action)".to_string()
        } else {
            format!("{} · {}", m.stage, m.plugin)
        };
        let _ = write!(
            h,
            "<figure>{}<figcaption>{} — {} of {} changed</figcaption></figure>",
            grid(m),
            esc(&name),
            m.changed,
            m.total
        );
    }
    h.push_str("</div>");
    let _ = write!(
        h,
        "<h2>Changed decisions ({} of {})</h2><table><tr><th>request id</th><th>stage</th><th>plugin</th><th>live</th><th>candidate</th><th>candidate reason</th><th>live reason</th></tr>",
        report.changes.len().min(examples),
        report.changes.len()
    );
    for c in report.changes.iter().take(examples) {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.request_id),
            esc(&c.stage),
            esc(&c.plugin),
            esc(&c.live_action),
            esc(&c.candidate_action),
            esc(&c.candidate_reason),
            esc(&c.live_reason)
        );
    }
    h.push_str("</table>");
    let _ = write!(
        h,
        "<h2>Not replayable ({} call{})</h2><table><tr><th>reason</th><th>calls</th></tr>",
        report.not_replayable,
        if report.not_replayable == 1 { "" } else { "s" }
    );
    for (why, n) in &report.unreplayable_reasons {
        let _ = write!(h, r#"<tr><td>{}</td><td class="n">{n}</td></tr>"#, esc(why));
    }
    h.push_str("</table><table><tr><th>request id</th><th>why</th></tr>");
    for u in report.unreplayable.iter().take(examples) {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            esc(&u.request_id),
            esc(&u.reasons.join("; "))
        );
    }
    h.push_str("</table></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_escaped() {
        assert_eq!(
            super::esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}

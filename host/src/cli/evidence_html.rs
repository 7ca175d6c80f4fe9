//! The evidence pack's `index.html`: one self-contained page (no script,
//! no font, no image fetched: every chart is inline SVG drawn here).

use super::evidence::{Bucket, Summary};

/// Escapes text for HTML content and attribute values. (Five characters;
/// a crate for it would be the only HTML dependency of the host.)
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

const W: f64 = 720.0;
const H: f64 = 180.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 28.0;

/// A bar chart of one value per bucket, with a y axis of its maximum and
/// first/last bucket labels. `fmt` formats axis and tooltip values.
fn bars(
    title: &str,
    buckets: &[Bucket],
    value: impl Fn(&Bucket) -> Option<f64>,
    fmt: impl Fn(f64) -> String,
    color: &str,
) -> String {
    let values: Vec<Option<f64>> = buckets.iter().map(&value).collect();
    let max = values
        .iter()
        .flatten()
        .copied()
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let n = buckets.len().max(1) as f64;
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - BOTTOM - 8.0;
    let bw = plot_w / n;
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(title),
        esc(title)
    );
    svg.push_str(&format!(
        "<line x1=\"{LEFT}\" y1=\"8\" x2=\"{LEFT}\" y2=\"{}\" stroke=\"#888\"/><line x1=\"{LEFT}\" y1=\"{0}\" x2=\"{}\" y2=\"{0}\" stroke=\"#888\"/>",
        8.0 + plot_h,
        W - 8.0
    ));
    svg.push_str(&format!(
        "<text x=\"{}\" y=\"16\" text-anchor=\"end\" font-size=\"11\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\">0</text>",
        LEFT - 4.0,
        esc(&fmt(if max == f64::MIN_POSITIVE { 0.0 } else { max })),
        LEFT - 4.0,
        8.0 + plot_h
    ));
    for (i, (b, v)) in buckets.iter().zip(&values).enumerate() {
        let Some(v) = v else { continue };
        let h = plot_h * v / max;
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{}: {}</title></rect>",
            LEFT + bw * i as f64 + bw * 0.1,
            8.0 + plot_h - h,
            (bw * 0.8).max(0.5),
            h,
            esc(&b.start),
            esc(&fmt(*v))
        ));
    }
    if let (Some(first), Some(last)) = (buckets.first(), buckets.last()) {
        svg.push_str(&format!(
            "<text x=\"{LEFT}\" y=\"{}\" font-size=\"11\">{}</text><text x=\"{}\" y=\"{0}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
            H - 8.0,
            esc(&first.start),
            W - 8.0,
            esc(&last.start)
        ));
    }
    svg.push_str("</svg></figure>");
    svg
}

fn counts_table(
    title: &str,
    rows: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
) -> String {
    let mut t = format!(
        "<h2>{}</h2><table><tr><th></th><th>allow</th><th>flag</th><th>redact</th><th>block</th></tr>",
        esc(title)
    );
    for (k, c) in rows {
        let n = |a: &str| c.get(a).copied().unwrap_or(0);
        t.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(k),
            n("allow"),
            n("flag"),
            n("redact"),
            n("block")
        ));
    }
    t.push_str("</table>");
    t
}

/// The plugin inventory (`plugins.json`): digest and signature of each
/// plugin in force.
fn plugins_table(inventory: &serde_json::Value) -> String {
    let mut t = String::from(
        "<h2>Plugin inventory</h2><p>Digests from the tables; signatures from the plugins folders and keys named in plugins.json, as they were when this pack was made.</p>\
         <table><tr><th>plugin</th><th>version</th><th>digest</th><th>signature</th><th>key id</th></tr>",
    );
    let s = |v: &serde_json::Value| esc(v.as_str().unwrap_or(""));
    for p in inventory["plugins"].as_array().into_iter().flatten() {
        t.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            s(&p["plugin"]),
            s(&p["version"]),
            s(&p["digest"]),
            s(&p["signature"]["status"]),
            s(&p["signature"]["key_id"]),
        ));
    }
    t.push_str("</table>");
    t
}

/// The whole page.
pub(super) fn page(s: &Summary, verify_ok: bool, plugins: &serde_json::Value) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>railyard evidence</title>\
         <style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;margin-bottom:1em}\
         td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}td:first-child{text-align:left}\
         .ok{color:#176117}.bad{color:#a30000}figure{margin:1em 0}figcaption{font-weight:600}</style></head><body>",
    );
    html.push_str(&format!(
        "<h1>railyard evidence pack</h1><p>Period {} to {} (UTC, end exclusive), by {}. Hosts: {}.</p>\
         <p>Tamper evidence: <strong class=\"{}\">{}</strong></p>\
         <table><tr><td>calls</td><td>{}</td></tr><tr><td>blocked calls</td><td>{}</td></tr>\
         <tr><td>plugin decisions</td><td>{}</td></tr><tr><td>judgements</td><td>{}</td></tr></table>",
        esc(&s.since),
        esc(&s.until),
        esc(&s.bucket),
        esc(&s.hosts.join(", ")),
        if verify_ok { "ok" } else { "bad" },
        if verify_ok {
            "verified, no break"
        } else {
            "BROKEN: see verify.json"
        },
        s.calls,
        s.blocks,
        s.decisions,
        s.judgements
    ));
    html.push_str(&bars(
        &format!("Calls per {}", s.bucket),
        &s.series,
        |b| Some(b.calls as f64),
        |v| format!("{v:.0}"),
        "#3b6fb6",
    ));
    html.push_str(&bars(
        &format!("Block rate per {}", s.bucket),
        &s.series,
        |b| (b.calls > 0).then(|| b.blocks as f64 / b.calls as f64),
        |v| format!("{:.1} %", v * 100.0),
        "#b63b3b",
    ));
    html.push_str(&bars(
        &format!("Latency p95 per {} (ms, whole call)", s.bucket),
        &s.series,
        |b| b.p95_latency_us.map(|v| v as f64 / 1000.0),
        |v| format!("{v:.1} ms"),
        "#6b6b6b",
    ));
    html.push_str(&counts_table("Actions by plugin", &s.actions_by_plugin));
    html.push_str(&counts_table("Calls by caller", &s.actions_by_caller));
    html.push_str(&counts_table("Calls by route", &s.actions_by_route));
    for (title, c) in [
        ("Judge outcomes (judge/status/effect)", &s.judge_outcomes),
        (
            "Calls answered with an error (HTTP status)",
            &s.refusals_by_status,
        ),
        ("Plugin faults (outcome)", &s.plugin_faults),
    ] {
        html.push_str(&format!("<h2>{}</h2><table>", esc(title)));
        for (k, n) in c {
            html.push_str(&format!("<tr><td>{}</td><td>{n}</td></tr>", esc(k)));
        }
        if c.is_empty() {
            html.push_str("<tr><td>none</td><td></td></tr>");
        }
        html.push_str("</table>");
    }
    html.push_str(&plugins_table(plugins));
    html.push_str("<p>Files of this pack and their SHA-256: manifest.json (signed in manifest.sig when a key is configured).</p></body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_is_self_contained_and_escapes_names() {
        let mut s = Summary {
            bucket: "hour".into(),
            ..Summary::default()
        };
        s.series = vec![
            Bucket {
                start: "2026-01-01T00:00:00Z".into(),
                calls: 4,
                blocks: 1,
                p50_latency_us: Some(1000),
                p95_latency_us: Some(3000),
            },
            Bucket {
                start: "2026-01-01T01:00:00Z".into(),
                ..Bucket::default()
            },
        ];
        s.actions_by_caller
            .entry("<script>".into())
            .or_default()
            .insert("block".into(), 1);
        let plugins = serde_json::json!({"plugins": [{"plugin": "<b>", "version": "1", "digest": "sha256:00",
            "signature": {"status": "verified", "key_id": "ed25519:ab"}}]});
        let html = page(&s, true, &plugins);
        assert!(
            html.contains("<td>verified</td><td>ed25519:ab</td>") && html.contains("&lt;b&gt;")
        );
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("src=") && !html.contains("href="));
        assert_eq!(html.matches("<svg").count(), 3);
        assert!(html.contains("25.0 %"), "block rate of the first hour");
    }
}

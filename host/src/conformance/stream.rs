//! The `stream` check: a plugin's scanner agrees with its whole-text answer.
//!
//! For a plugin that exports the `scanning` interface, each vector's
//! longest message is streamed through a fresh scanner, split at many
//! positions (every character boundary of a short text, 48 spread over a
//! long one) and in runs of 1, 7 and 64 bytes. Every split must give:
//!
//! - valid pushes (the host's own checks: spans inside the text so far, a
//!   settled point on a character boundary that never moves back);
//! - a `finish` equal to `check` / `detect` on the whole text;
//! - no finding of the whole-text answer that starts before the settled
//!   point of the last push but was not reported by a push (the host would
//!   have released it unredacted);
//! - no push finding the whole-text answer does not have, and (guardrails)
//!   no push that blocks when the whole text does not.

use std::sync::Arc;
use std::time::Instant;

use super::{Check, FUEL_BASE, FUEL_PER_BYTE, Vector, explain, summarize};
use crate::payload::{Message, Payload, Stage};
use crate::plugin::PluginLimits;
use crate::plugin::{CallOutput, LoadedPlugin, StageInput};
use crate::verdict::{Action, Finding};

/// Longest message streamed (longer ones are cut at a character boundary).
const MAX_TEXT: usize = 4096;

pub(super) fn check(
    plugin: &LoadedPlugin,
    vector: &Vector,
    config: &Arc<[(String, String)]>,
    limits: &PluginLimits,
) -> Option<Check> {
    let stage = if plugin.info.stages.contains(&Stage::Response) {
        Stage::Response
    } else {
        *plugin.info.stages.first()?
    };
    let longest = vector
        .payload
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .max_by_key(|c| c.len())
        .filter(|c| !c.is_empty())?;
    let mut cut = longest.len().min(MAX_TEXT);
    while !longest.is_char_boundary(cut) {
        cut -= 1;
    }
    let text = &longest[..cut];
    let case = format!("{}@{stage}", vector.id);
    let started = Instant::now();
    let mut payload = vector.payload.clone();
    payload.stage = stage;
    payload.messages = vec![Message::new("assistant", text)];
    let (whole, _) = plugin.call_metered(
        &StageInput::new(&payload),
        &[],
        config,
        limits,
        fuel_for(text.len()),
    );
    // The contract check reports the whole-text call's faults.
    let whole = whole.ok()?;
    let splits = splits(text);
    for pieces in &splits {
        if let Err(problem) = stream_one(plugin, &payload, pieces, &whole, config, limits) {
            return Some(Check::fail(
                "stream",
                &case,
                format!(
                    "streamed in {} pieces ({}): {problem}",
                    pieces.len(),
                    describe(pieces)
                ),
                started,
            ));
        }
    }
    Some(Check::pass(
        "stream",
        &case,
        format!(
            "the scanner agrees with the whole-text answer on {} splits of {} bytes",
            splits.len(),
            text.len()
        ),
        started,
    ))
}

fn stream_one(
    plugin: &LoadedPlugin,
    payload: &Payload,
    pieces: &[&str],
    whole: &CallOutput,
    config: &Arc<[(String, String)]>,
    limits: &PluginLimits,
) -> Result<(), String> {
    let mut template = payload.clone();
    template.messages.clear();
    let mut session = match plugin.start_scan(&StageInput::new(&template), config, limits) {
        None => return Err("the plugin stopped exporting its scanner".into()),
        Some(Err(fault)) => {
            return Err(format!(
                "start failed: {}",
                explain(&fault, limits.memory_bytes)
            ));
        }
        Some(Ok(s)) => s,
    };
    // Each push and the finish get a whole call's budget for the text.
    session.meter(fuel_for(payload.messages[0].content.len()));
    let whole_findings = super::findings_of(whole);
    let whole_blocks = matches!(whole, CallOutput::Verdict(v) if v.action == Action::Block);
    let mut text = String::new();
    let mut reported: Vec<Finding> = Vec::new();
    for (k, piece) in pieces.iter().enumerate() {
        text.push_str(piece);
        let p = session.push(piece, &text).map_err(|fault| {
            format!(
                "push {} failed: {}",
                k + 1,
                explain(&fault, limits.memory_bytes)
            )
        })?;
        if p.action == Action::Block && !whole_blocks {
            return Err(format!(
                "push {} blocked ({:?}), but the whole text is not blocked: a stream would stop where the unstreamed answer passes",
                k + 1,
                p.reason
            ));
        }
        for f in p.findings {
            if !whole_findings.iter().any(|w| same(w, &f)) {
                return Err(format!(
                    "push {} reported `{}` at {} that the whole-text answer does not have",
                    k + 1,
                    f.rule_id,
                    span_text(&f)
                ));
            }
            reported.push(f);
        }
    }
    let settled = session.settled();
    let finished = session
        .finish(&text)
        .map_err(|fault| format!("finish failed: {}", explain(&fault, limits.memory_bytes)))?;
    if &finished != whole {
        return Err(format!(
            "finish answered {}, but check on the whole text answered {}: finish must return the unstreamed answer",
            summarize(&finished),
            summarize(whole)
        ));
    }
    if let Some(f) = whole_findings.iter().find(|f| {
        f.span.is_some_and(|s| (s.start as usize) < settled) && !reported.iter().any(|r| same(r, f))
    }) {
        return Err(format!(
            "`{}` at {} was only reported by finish, but the last push had settled the text up to byte {settled}: the host would already have released it",
            f.rule_id,
            span_text(f)
        ));
    }
    Ok(())
}

fn fuel_for(bytes: usize) -> u64 {
    FUEL_BASE.saturating_add(FUEL_PER_BYTE.saturating_mul(bytes as u64))
}

fn same(a: &Finding, b: &Finding) -> bool {
    a.rule_id == b.rule_id && a.span == b.span
}

fn span_text(f: &Finding) -> String {
    match f.span {
        Some(s) => format!("bytes {}..{}", s.start, s.end),
        None => "no span".into(),
    }
}

/// The splits of `text` the check streams it in.
fn splits(text: &str) -> Vec<Vec<&str>> {
    let boundaries: Vec<usize> = (1..text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    let step = (boundaries.len() / 48).max(1);
    let mut out: Vec<Vec<&str>> = boundaries
        .iter()
        .step_by(step)
        .map(|&i| vec![&text[..i], &text[i..]])
        .collect();
    for size in [1, 7, 64] {
        let mut pieces = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let mut cut = size.min(rest.len());
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            let (a, b) = rest.split_at(cut);
            pieces.push(a);
            rest = b;
        }
        out.push(pieces);
    }
    out
}

fn describe(pieces: &[&str]) -> String {
    let lens: Vec<String> = pieces.iter().take(4).map(|p| p.len().to_string()).collect();
    format!(
        "bytes {}{}",
        lens.join(" + "),
        if pieces.len() > 4 { " + ..." } else { "" }
    )
}

//! Prompt-injection guardrail core: instruction overrides, jailbreaks,
//! smuggled chat roles and invisible Unicode, scored per payload.
//!
//! How a text is judged:
//!
//! 1. The `scan` module tokenizes it once, undoing cheap obfuscation (case,
//!    fullwidth and look-alike letters, zero-width characters inside words,
//!    leetspeak, letter-by-letter spelling) while keeping byte spans into
//!    the original, and notes chat markup (`<|im_start|>`, `</user>`,
//!    `[INST]`) and runs of invisible characters on the way.
//! 2. The `rules` module looks for *structure*, not keywords: an override
//!    verb whose object is an instruction noun that belongs to someone
//!    else ("ignore all previous instructions", not "ignore the typos in my
//!    previous message"), a persona request combined with the absence of
//!    restrictions, a fake claim about the rules ("the previous rules were
//!    a test"). Verbs that are negated, or whose subject is not the model
//!    ("how do I ignore whitespace"), score low.
//! 3. Each piece of evidence is a [`Detection`]. A text's score is, over
//!    every 600-byte neighbourhood, its strongest evidence raised by half
//!    the combined weight of the other distinct evidence there: cues that
//!    reinforce each other count, one weak cue per page of a long document
//!    does not add up. Harmful payloads ("write malware") and requests for
//!    credentials only strengthen other evidence.
//!
//! At or above `threshold` a payload is an injection; between
//! `flag-threshold` and `threshold` the guardrail flags it. Findings are
//! reported only for texts that reach `flag-threshold`.
//!
//! Untrusted text (tool results, retrieved documents: indirect injection,
//! instructions addressed to the assistant inside content it reads) is
//! held to `untrusted-threshold`: what would only be flagged in a user's
//! message blocks there, because nobody asked for instructions to be in a
//! tool's output. System messages are written by the application and are
//! not assessed unless `scan-system` is set.
//!
//! Config keys: `threshold` (default 0.5), `flag-threshold` (default 0.35),
//! `untrusted-threshold` (default 0.35), `scan-system` (default false),
//! `invisible-unicode` (default true), `extra-phrases` (repeatable),
//! `model` (default true: add the learned model's evidence, see `model`).
#![deny(missing_docs)]

pub use railyard_plugin_sdk::{Config, Detection};

#[cfg(target_arch = "wasm32")]
#[allow(missing_docs, clippy::too_many_arguments)] // generated bindings
mod component;

#[cfg(not(target_arch = "wasm32"))]
mod boost;
mod claims;
mod code;
mod decoded;
mod disable;
mod extraction;
mod hits;
mod indirect;
mod lexicon;
mod lifted;
mod memory;
mod model;
mod modes;
mod obfuscated;
mod persona;
mod quoted;
mod rules;
mod scan;
#[cfg(not(target_arch = "wasm32"))]
mod stack;
#[cfg(not(target_arch = "wasm32"))]
#[doc(hidden)]
pub mod train;
mod words;

use rules::Signal;
use scan::{Ctx, K_BIDI, K_JOINER, K_MARK, K_OVERRIDE, K_TAG, K_VS, K_ZW};

/// Instructions that try to replace or reveal the application's own.
pub const INJECTION: &str = "PROMPT_INJECTION";
/// Attempts to talk the model out of its safety behaviour.
pub const JAILBREAK: &str = "JAILBREAK";
/// Fake chat-role or template boundaries inside a message.
pub const ROLE_SMUGGLING: &str = "ROLE_SMUGGLING";
/// Zero-width, bidi-control, tag and other invisible characters.
pub const INVISIBLE_UNICODE: &str = "INVISIBLE_UNICODE";

/// Every category this guardrail reports.
pub const CATEGORIES: &[&str] = &[INJECTION, JAILBREAK, ROLE_SMUGGLING, INVISIBLE_UNICODE];

/// Score that `extra-phrases` matches get.
pub(crate) const EXTRA_PHRASE_SCORE: f32 = 0.9;
/// At most this many invisible-character runs are reported per text: a
/// payload with thousands of them is blocked either way, and the findings
/// list stays small.
const MAX_INVISIBLE_FINDINGS: usize = 64;

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// At or above: injection (block).
    pub threshold: f32,
    /// At or above, but below `threshold`: flag.
    pub flag_threshold: f32,
    /// At or above, in untrusted text (tool results, retrieved content):
    /// injection (block).
    pub untrusted_threshold: f32,
    /// Assess system messages too.
    pub scan_system: bool,
    /// Report invisible Unicode. Invisible characters are stripped for the
    /// phrase rules either way.
    pub invisible_unicode: bool,
    /// Extra override phrases, as normalised token hashes.
    extra_phrases: Vec<Vec<u64>>,
    /// Add the learned model's evidence (config key `model`).
    pub(crate) model: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            threshold: 0.5,
            flag_threshold: 0.35,
            untrusted_threshold: 0.35,
            scan_system: false,
            invisible_unicode: true,
            extra_phrases: Vec::new(),
            model: true,
        }
    }
}

impl Settings {
    /// Reads `threshold`, `flag-threshold`, `invisible-unicode` and
    /// `extra-phrases` from the plugin config.
    pub fn from_config(cfg: &Config) -> Result<Settings, String> {
        let d = Settings::default();
        let threshold = cfg.get_unit("threshold", d.threshold)?;
        let flag_threshold = cfg.get_unit("flag-threshold", d.flag_threshold.min(threshold))?;
        if flag_threshold > threshold {
            return Err(format!(
                "config key `flag-threshold`: expected at most `threshold` ({threshold}), got {flag_threshold}"
            ));
        }
        let untrusted_threshold =
            cfg.get_unit("untrusted-threshold", d.untrusted_threshold.min(threshold))?;
        if untrusted_threshold > threshold {
            return Err(format!(
                "config key `untrusted-threshold`: expected at most `threshold` ({threshold}), got {untrusted_threshold}"
            ));
        }
        let scan_system = cfg.get_bool("scan-system", d.scan_system)?;
        let invisible_unicode = cfg.get_bool("invisible-unicode", d.invisible_unicode)?;
        let model = cfg.get_bool("model", d.model)?;
        let mut extra_phrases = Vec::new();
        for p in cfg.get_all("extra-phrases") {
            let words: Vec<u64> = scan::scan(p).toks.iter().map(|t| t.hash).collect();
            if words.is_empty() || words.len() > 32 {
                return Err(format!(
                    "config key `extra-phrases`: expected a phrase of 1 to 32 words, got {p:?}"
                ));
            }
            extra_phrases.push(words);
        }
        Ok(Settings {
            threshold,
            flag_threshold,
            untrusted_threshold,
            scan_system,
            invisible_unicode,
            extra_phrases,
            model,
        })
    }
}

/// What the guardrail should do with a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Below `flag-threshold`.
    Allow,
    /// At or above `flag-threshold`, below `threshold`.
    Flag,
    /// At or above `threshold`.
    Block,
}

/// The verdict on a whole payload.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Assessment {
    /// Confidence that the payload is an injection, in 0..=1: the highest
    /// score of any of its messages.
    pub score: f32,
    /// The highest score of an untrusted message (0 without one).
    pub untrusted_score: f32,
    /// Evidence, with the index of the message it was found in. Only
    /// messages that reached `flag-threshold` contribute.
    pub detections: Vec<(usize, Detection)>,
}

impl Assessment {
    /// Allow, flag or block, by the settings' thresholds (an untrusted
    /// message at `untrusted-threshold` blocks).
    pub fn decision(&self, settings: &Settings) -> Decision {
        if self.untrusted_score >= settings.untrusted_threshold {
            return Decision::Block;
        }
        decide(self.score, settings)
    }
}

/// Whether a text comes from someone the application trusts to give
/// instructions (a user, the application) or is content the model reads
/// (a tool's output, a retrieved document).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// A user's or the application's own message.
    Trusted,
    /// A tool result or retrieved content: held to `untrusted-threshold`.
    Untrusted,
}

fn decide(score: f32, s: &Settings) -> Decision {
    if score >= s.threshold {
        Decision::Block
    } else if score >= s.flag_threshold {
        Decision::Flag
    } else {
        Decision::Allow
    }
}

/// Appends the evidence found in `text` to `out`, if the text as a whole
/// scores at least `flag-threshold`.
pub fn detect(text: &str, settings: &Settings, out: &mut Vec<Detection>) {
    let mark = out.len();
    if analyze(text, settings, out) < settings.flag_threshold {
        out.truncate(mark);
    }
}

/// The score of one text, without its findings.
pub fn score(text: &str, settings: &Settings) -> f32 {
    analyze(text, settings, &mut Vec::new())
}

/// Assesses every message of a payload, all trusted.
pub fn assess(texts: &[&str], settings: &Settings) -> Assessment {
    let texts: Vec<(&str, Trust)> = texts.iter().map(|t| (*t, Trust::Trusted)).collect();
    assess_with_trust(&texts, settings)
}

/// Assesses every message of a payload, each with its trust.
pub fn assess_with_trust(texts: &[(&str, Trust)], settings: &Settings) -> Assessment {
    let mut a = Assessment::default();
    let mut buf = Vec::new();
    for (i, (text, trust)) in texts.iter().enumerate() {
        buf.clear();
        let s = analyze(text, settings, &mut buf);
        let reported = match trust {
            Trust::Trusted => settings.flag_threshold,
            Trust::Untrusted => settings.flag_threshold.min(settings.untrusted_threshold),
        };
        if s >= reported {
            a.detections.extend(buf.drain(..).map(|d| (i, d)));
        }
        a.score = a.score.max(s);
        if *trust == Trust::Untrusted {
            a.untrusted_score = a.untrusted_score.max(s);
        }
    }
    a
}

/// Scans one text, appends every piece of evidence to `out` and returns the
/// text's combined score.
fn analyze(text: &str, settings: &Settings, out: &mut Vec<Detection>) -> f32 {
    let mut signals: Vec<Signal> = Vec::new();
    let learned = collect(text, settings, 0, &mut signals);
    if let Some(learned) = learned {
        signals.push(Signal {
            rule: "prompt-injection.model",
            cat: INJECTION,
            score: learned,
            start: 0,
            end: text.len(),
            booster: false,
        });
    }
    signals.sort_by_key(|s| (s.start, s.end));
    // The model's score is not blended with the rules' (the margin was
    // chosen for "rules or model"): the text scores the higher of the two.
    let total = combine(&signals).max(learned.unwrap_or(0.0));
    out.extend(signals.iter().map(|s| Detection {
        rule_id: s.rule,
        category: s.cat,
        score: s.score,
        start: s.start,
        end: s.end,
    }));
    total
}

/// Appends the evidence in `text` (`depth` levels of decoding deep) to
/// `signals`, unsorted: rules, chat markup, invisible characters, and the
/// same in its encoded runs (see `decoded`). Returns the learned model's
/// score of the text as written, if it counts (not for decoded runs, not
/// with `model` off, not when the rules' evidence was discounted as quoted
/// or reported).
fn collect(
    text: &str,
    settings: &Settings,
    depth: usize,
    signals: &mut Vec<Signal>,
) -> Option<f32> {
    let mut scan = scan::scan(text);
    let words = words::words(text, &mut scan);
    let mark = signals.len();
    rules::run(&scan, &settings.extra_phrases, signals);
    indirect::run(text, &words, signals);
    extraction::run(text, &words, signals);
    lifted::run(&words, signals);
    claims::run(&words, signals);
    persona::run(&words, signals);
    disable::run(&words, signals);
    modes::run(&words, signals);
    memory::run(&words, signals);
    let before = strongest(&signals[mark..]);
    quoted::discount(text, &words, &mut signals[mark..]);
    code::discount(text, &mut signals[mark..]);
    // When the rules' strongest evidence turned out to be quoted, reported
    // or data ("the article says attackers write \"ignore previous
    // instructions\""), the model, which reads the same words without
    // their frame, does not count either. Below `MODEL_REPORTED` its score
    // is noise: it adds nothing.
    let discounted = strongest(&signals[mark..]) < before;
    let learned = if settings.model && depth == 0 && !discounted {
        Some(model::score(text, &scan, &words))
            .filter(|s| *s >= MODEL_REPORTED)
            // A user's own bot's prompt, pasted to be improved, reads to
            // the model like instructions to it ("You are Lia, the shop's
            // assistant. Only answer…"): there the model's score counts
            // as a finding but blocks only from `MODEL_OWN_PROMPT`.
            .map(|s| {
                if (settings.threshold..MODEL_OWN_PROMPT).contains(&s)
                    && indirect::users_own_prompt(&words)
                {
                    s.min(settings.threshold - 0.01)
                } else {
                    s
                }
            })
    } else {
        None
    };
    for m in &scan.markup {
        signals.push(Signal {
            rule: "prompt-injection.chat-markup",
            cat: ROLE_SMUGGLING,
            score: if mentioned(text, m.start, m.end) {
                MENTIONED_MARKUP
            } else {
                m.score
            },
            start: m.start,
            end: m.end,
            booster: false,
        });
    }
    if settings.invisible_unicode {
        invisible(text, &scan, signals);
    }
    decoded::signals(text, settings, depth, signals);
    obfuscated::signals(text, &words, settings, depth, signals);
    learned
}

/// A chat-markup token that is named rather than used scores this (noise).
const MENTIONED_MARKUP: f32 = 0.2;

/// Whether the chat-markup token at `start..end` is named, not used: in
/// backticks or quotes ("what does `<|endoftext|>` mean?"), or followed by
/// a comma, a closing bracket, a question mark or a word that goes on
/// talking about it ("tokens such as <|im_start|> and <|im_end|>", "[INST]
/// tags are…"). Used markup is followed by a role name, a line break,
/// more markup or the smuggled text itself.
fn mentioned(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    if matches!(
        (before, after),
        (Some('`'), Some('`')) | (Some('"'), Some('"')) | (Some('\''), Some('\'')) | (Some('«'), _)
    ) {
        return true;
    }
    let rest = text[end..].trim_start_matches(' ');
    if rest.starts_with([',', ')', '?', ';']) {
        return true;
    }
    // The second of a list of tokens named ("<|im_start|> and
    // <|im_end|> mark…", "[INST] or [/INST]").
    let head = text[..start].trim_end_matches(' ');
    if [
        " and", " or", " et", " und", " y", " e", " ou", " oder", ",",
    ]
    .iter()
    .filter_map(|c| head.strip_suffix(c))
    .any(|h| h.trim_end_matches(' ').ends_with(['>', ']']))
    {
        return true;
    }
    let next: String = rest
        .chars()
        .take_while(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    rest.len() < text[end..].len()
        && matches!(
            next.as_str(),
            "and"
                | "or"
                | "et"
                | "ou"
                | "und"
                | "oder"
                | "y"
                | "o"
                | "e"
                | "token"
                | "tokens"
                | "tag"
                | "tags"
                | "marker"
                | "markers"
                | "mean"
                | "means"
                | "is"
                | "are"
                | "in"
                | "into"
                | "as"
                | "at"
                | "with"
                | "to"
        )
}

/// The highest score among `signals` (0 without any).
fn strongest(signals: &[Signal]) -> f32 {
    signals.iter().fold(0.0, |m, s| m.max(s.score))
}

/// The learned model's score counts, and is reported as a finding, from
/// this score up.
const MODEL_REPORTED: f32 = 0.3;

/// In a text announcing the user's own bot's prompt, the learned model's
/// score blocks only from this score up (it scored such texts 0.50 to
/// 0.53).
const MODEL_OWN_PROMPT: f32 = 0.6;

/// Evidence this far apart (in bytes) is about different things: a long
/// document with one weak cue per page is not an injection.
const COMBINE_WINDOW: usize = 600;

/// The text's score: over every neighbourhood of `COMBINE_WINDOW` bytes
/// around a piece of evidence, the strongest evidence raised by half the
/// noisy-OR of the other distinct rules' evidence there. Boosters count
/// only next to real evidence. `signals` must be sorted by start.
fn combine(signals: &[Signal]) -> f32 {
    let mut total = 0.0f32;
    let mut lo = 0;
    let mut best: Vec<(&str, f32)> = Vec::new();
    for anchor in signals {
        if anchor.booster {
            continue;
        }
        while signals[lo].start + COMBINE_WINDOW < anchor.start {
            lo += 1;
        }
        let near = signals[lo..]
            .iter()
            .take_while(|s| s.start <= anchor.start + COMBINE_WINDOW);
        // Best score per rule: the same phrase twice is one piece of
        // evidence.
        best.clear();
        let mut primary = 0.0f32;
        for s in near {
            if !s.booster {
                primary = primary.max(s.score);
            }
            match best.iter_mut().find(|(r, _)| *r == s.rule) {
                Some((_, b)) => *b = b.max(s.score),
                None => best.push((s.rule, s.score)),
            }
        }
        if primary < 0.3 {
            total = total.max(primary);
            continue;
        }
        let top = best.iter().fold(0.0f32, |m, (_, s)| m.max(*s));
        let mut skipped_top = false;
        let mut none = 1.0f32;
        for (_, s) in &best {
            if !skipped_top && *s == top {
                skipped_top = true;
                continue;
            }
            // Below 0.2 is noise: it never raises a score.
            if *s >= 0.2 {
                none *= 1.0 - s;
            }
        }
        total = total.max((top + (1.0 - top) * (1.0 - none) * 0.5).min(0.99));
    }
    total
}

/// Scores the runs of invisible characters. Legitimate uses are let
/// through: ZWJ/ZWNJ in emoji sequences and in scripts that need them,
/// direction marks in right-to-left text, a leading byte-order mark, tag
/// characters in emoji subdivision flags, ideographic variation selectors.
fn invisible(text: &str, scan: &scan::Scan, out: &mut Vec<Signal>) {
    let mut runs: Vec<(usize, usize, f32, bool)> = Vec::new();
    let mut latin_runs = 0;
    for r in &scan.invisible {
        let near = |c: Ctx| r.before == c || r.after == c;
        let foreign = near(Ctx::Rtl)
            || near(Ctx::Script)
            || near(Ctx::Cjk)
            || near(Ctx::Emoji)
            || near(Ctx::BlackFlag);
        let (score, zero_width) = if r.kinds & K_TAG != 0 {
            if r.before == Ctx::BlackFlag && r.ends_with_cancel_tag && r.kinds == K_TAG {
                continue;
            }
            (if r.count >= 2 { 0.9 } else { 0.6 }, false)
        } else if r.kinds & K_VS != 0 {
            if r.before == Ctx::Cjk {
                continue;
            }
            (if r.count >= 2 { 0.85 } else { 0.3 }, false)
        } else if r.kinds & K_OVERRIDE != 0 {
            (0.75, false)
        } else if r.kinds & K_BIDI != 0 {
            (if scan.has_rtl { 0.35 } else { 0.6 }, false)
        } else {
            let bom =
                r.start == 0 && text.as_bytes().starts_with(&[0xEF, 0xBB, 0xBF]) && r.count == 1;
            let benign = bom
                || (r.kinds & (K_JOINER | K_ZW) != 0 && r.kinds & K_MARK == 0 && foreign)
                || (r.kinds & K_MARK != 0
                    && r.kinds & !(K_MARK | K_JOINER) == 0
                    && (scan.has_rtl || foreign));
            if benign {
                continue;
            }
            let inside_word = r.before == Ctx::Latin && r.after == Ctx::Latin;
            latin_runs += 1;
            let s: f32 = if r.count >= 3 {
                0.6
            } else if inside_word {
                0.45
            } else {
                0.35
            };
            (s, true)
        };
        runs.push((r.start, r.end, score, zero_width));
    }
    // Several zero-width characters scattered through Latin text are a
    // deliberate pattern (obfuscated keywords, hidden watermark bits).
    let spread: f32 = match latin_runs {
        0..=1 => 0.0,
        2 => 0.6,
        _ => 0.75,
    };
    for &(start, end, score, zero_width) in runs.iter().take(MAX_INVISIBLE_FINDINGS) {
        out.push(Signal {
            rule: "prompt-injection.invisible-unicode",
            cat: INVISIBLE_UNICODE,
            score: if zero_width { score.max(spread) } else { score },
            start,
            end,
            booster: false,
        });
    }
}

#[cfg(test)]
mod tests;

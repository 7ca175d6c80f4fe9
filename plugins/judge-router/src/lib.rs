//! Judge router core: decides which LLM judges should see a payload.
//!
//! A policy names routing *rules*. Each rule sends the payload to one judge
//! with one rubric when the findings other plugins produced match it (a
//! category it listens to, scored at least its `min-score`), or, when the
//! rule lists no categories, for every payload. A rule's `sample-rate` then
//! keeps only a fraction of the triggered payloads. Sampling is a pure
//! function of the request id and the rule name, so a retried request routes
//! exactly as it did the first time and two hosts agree without coordination.
//!
//! Config (flattened dotted keys; arrays repeat the key):
//!
//! ```toml
//! rules = ["pii-review", "audit"]
//! pii-review.judge = "privacy-judge"
//! pii-review.rubric = "pii-leak"          # default "default"
//! pii-review.mode = "blocking"            # or "background" (default)
//! pii-review.priority = 5                 # 0..=255, default 0
//! pii-review.categories = ["EMAIL_ADDRESS", "US_SSN"]  # "*" = any finding
//! pii-review.min-score = 0.8              # default 0.0
//! audit.judge = "quality-judge"
//! audit.sample-rate = 0.01                # no categories: pure sampling
//! ```
#![deny(missing_docs)]

pub use railyard_plugin_sdk::{Config, Detection};

#[cfg(target_arch = "wasm32")]
#[allow(missing_docs, clippy::too_many_arguments)] // generated bindings
mod component;
mod config;

/// Finding categories this plugin itself produces: none. It consumes the
/// findings of other plugins and produces judge requests.
pub const CATEGORIES: &[&str] = &[];

/// A finding from another plugin, as much of it as routing needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FindingView<'a> {
    /// The finding's category, e.g. `PROMPT_INJECTION`.
    pub category: &'a str,
    /// The finding's confidence in 0..=1.
    pub score: f32,
}

/// One request that the host send the payload to a judge.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeRequest {
    /// Name of the judge, as the host's judge registry knows it.
    pub judge: String,
    /// Rubric the judge should apply.
    pub rubric: String,
    /// Whether the answer waits for the judge (`true`) or the judgement is
    /// logged later (`false`).
    pub blocking: bool,
    /// Higher runs first when a judge's queue is contended.
    pub priority: u8,
    /// The rule's sample rate: the fraction of matching payloads sent.
    pub sample_rate: f32,
    /// Which rule fired, on which finding, and the sampling draw, for the
    /// audit log.
    pub reason: String,
}

/// How the host runs a judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Off the hot path: the caller is answered at once.
    #[default]
    Background,
    /// The answer waits for the judge.
    Blocking,
}

/// One validated routing rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule's name, the prefix of its config keys.
    pub name: String,
    /// Judge to send to.
    pub judge: String,
    /// Rubric to apply.
    pub rubric: String,
    /// Background or blocking.
    pub mode: Mode,
    /// Queue priority.
    pub priority: u8,
    /// Finding categories that trigger the rule; `*` matches any finding.
    /// Empty: the rule applies to every payload.
    pub categories: Vec<String>,
    /// A triggering finding must score at least this.
    pub min_score: f32,
    /// Fraction of triggered payloads routed, in 0..=1.
    pub sample_rate: f32,
}

/// The router's settings: its rules, in config order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    /// Rules in the order the policy lists them; requests come out in the
    /// same order.
    pub rules: Vec<Rule>,
}

/// The judge requests for one payload, one per rule that fires, in rule
/// order.
pub fn route(request_id: &str, findings: &[FindingView], settings: &Settings) -> Vec<JudgeRequest> {
    let mut out = Vec::new();
    for rule in &settings.rules {
        let trigger = if rule.categories.is_empty() {
            Trigger::EveryPayload
        } else {
            match strongest_match(rule, findings) {
                Some(f) => Trigger::Finding(f),
                None => continue,
            }
        };
        let draw = sample_draw(request_id, &rule.name);
        if !sampled(draw, rule.sample_rate) {
            continue;
        }
        out.push(JudgeRequest {
            judge: rule.judge.clone(),
            rubric: rule.rubric.clone(),
            blocking: rule.mode == Mode::Blocking,
            priority: rule.priority,
            sample_rate: rule.sample_rate,
            reason: reason(rule, &trigger, draw),
        });
    }
    out
}

enum Trigger<'f, 'a> {
    EveryPayload,
    Finding(&'f FindingView<'a>),
}

/// The highest-scoring finding that triggers `rule`, if any. The first one
/// wins a tie, so the reason is stable for a given findings list.
fn strongest_match<'f, 'a>(
    rule: &Rule,
    findings: &'f [FindingView<'a>],
) -> Option<&'f FindingView<'a>> {
    let mut best: Option<&FindingView> = None;
    for f in findings {
        // A NaN score compares as nothing, so a malformed score never
        // triggers.
        if f.score
            .partial_cmp(&rule.min_score)
            .is_none_or(|o| o.is_lt())
        {
            continue;
        }
        let listens = rule
            .categories
            .iter()
            .any(|c| c == "*" || c.eq_ignore_ascii_case(f.category));
        if listens && best.is_none_or(|b| f.score > b.score) {
            best = Some(f);
        }
    }
    best
}

fn sampled(draw: f64, rate: f32) -> bool {
    // Rate 1 routes everything and rate 0 nothing, whatever the draw.
    rate >= 1.0 || draw < f64::from(rate)
}

/// A stable draw in [0, 1) for this request and rule: FNV-1a over the
/// request id, a separator byte that cannot occur in UTF-8 (so `("ab", "c")`
/// and `("a", "bc")` differ) and the rule name, then a 64-bit finaliser
/// because FNV's low bits mix poorly on short inputs. Hashing the rule name
/// in makes rules with the same rate sample independent subsets.
pub fn sample_draw(request_id: &str, rule_name: &str) -> f64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let bytes = request_id
        .as_bytes()
        .iter()
        .chain([0xffu8].iter())
        .chain(rule_name.as_bytes());
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    // splitmix64 / murmur3 fmix64 finaliser.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    // Top 53 bits: exactly representable as f64, result strictly below 1.
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn reason(rule: &Rule, trigger: &Trigger, draw: f64) -> String {
    let why = match trigger {
        Trigger::EveryPayload => "applies to every payload".to_string(),
        Trigger::Finding(f) => format!(
            "finding {} scored {:.2} (min-score {:.2})",
            f.category, f.score, rule.min_score
        ),
    };
    let sample = if rule.sample_rate >= 1.0 {
        "sample-rate 1.00".to_string()
    } else {
        format!("sample {draw:.4} < sample-rate {:.2}", rule.sample_rate)
    };
    format!("rule {}: {why}; {sample}", rule.name)
}

#[cfg(test)]
mod tests;

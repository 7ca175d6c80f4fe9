//! Secrets detector core: cloud keys, tokens, private keys and JWTs in
//! free text, by byte span.
//!
//! One left-to-right pass over the bytes. Every secret this crate knows
//! starts with a fixed ASCII marker (`AKIA`, `ghp_`, `xoxb-`, `-----BEGIN`,
//! `eyJ`, …), so a 256-entry table says which bytes can start one and every
//! other byte costs one lookup. Candidates are then checked for their exact
//! shape, for word boundaries (a secret glued to `[A-Za-z0-9_]` is part of a
//! longer token, not a secret) and for placeholder-looking values
//! (`AKIAXXXXXXXXXXXXXXXX`, AWS's documented `…EXAMPLE` key, runs and
//! sequences), which are scored low so the default `min-score` drops them.
//!
//! Every span starts and ends on an ASCII byte (or the end of the text), so
//! spans always lie on UTF-8 character boundaries.
//!
//! Config keys:
//! - `entities` (repeatable, default all): categories to report, e.g.
//!   `AWS_ACCESS_KEY`.
//! - `allow` (repeatable): exact values never reported (known test keys).
//! - `min-score` (0..=1, default 0.5): findings scored lower are dropped.
#![deny(missing_docs)]

pub use railyard_plugin_sdk::{Config, Detection};

#[cfg(target_arch = "wasm32")]
#[allow(missing_docs, clippy::too_many_arguments)] // generated bindings
mod component;
mod shapes;
use shapes::{aws_key, back, github_token, jwt, private_key, slack_token, slack_webhook};

/// AWS access key id: `AKIA`/`ASIA`/… followed by 16 base32 characters.
pub const AWS_ACCESS_KEY: &str = "AWS_ACCESS_KEY";
/// GitHub personal, OAuth, app and refresh tokens, classic and fine-grained.
pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
/// Slack API tokens (`xoxb-`, `xoxp-`, …, `xapp-`) and incoming webhooks.
pub const SLACK_TOKEN: &str = "SLACK_TOKEN";
/// A PEM private key block, including the BEGIN and END lines.
pub const PRIVATE_KEY: &str = "PRIVATE_KEY";
/// A JSON Web Token (JWS compact form, or JWE).
pub const JWT: &str = "JWT";

/// Every category this detector reports.
pub const CATEGORIES: &[&str] = &[AWS_ACCESS_KEY, GITHUB_TOKEN, SLACK_TOKEN, PRIVATE_KEY, JWT];

/// Score given to values that have a secret's shape but look like a
/// placeholder or documentation example: below the default `min-score`, so
/// they are reported only to a policy that asks for everything.
pub(crate) const PLACEHOLDER_SCORE: f32 = 0.2;

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Bit `i` set: `CATEGORIES[i]` is reported.
    enabled: u8,
    /// Exact values never reported.
    allow: Vec<String>,
    /// Findings scored below this are dropped.
    min_score: f32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: (1u8 << CATEGORIES.len()) - 1,
            allow: Vec::new(),
            min_score: 0.5,
        }
    }
}

impl Settings {
    /// Reads `entities`, `allow` and `min-score` from the plugin config.
    pub fn from_config(cfg: &Config) -> Result<Settings, String> {
        let mut s = Settings::default();
        let mut listed = false;
        let mut enabled = 0u8;
        for v in cfg.get_all("entities") {
            listed = true;
            let v = v.trim();
            match CATEGORIES.iter().position(|c| c.eq_ignore_ascii_case(v)) {
                Some(i) => enabled |= 1 << i,
                None => {
                    return Err(format!(
                        "config key `entities`: unknown entity {v:?}, expected one of {}",
                        CATEGORIES.join(", ")
                    ));
                }
            }
        }
        if listed {
            s.enabled = enabled;
        }
        s.allow = cfg.get_all("allow").map(str::to_string).collect();
        s.min_score = cfg.get_unit("min-score", 0.5)?;
        Ok(s)
    }

    /// Whether `category` (one of [`CATEGORIES`]) is reported.
    pub fn is_enabled(&self, category: &str) -> bool {
        CATEGORIES
            .iter()
            .position(|c| *c == category)
            .is_some_and(|i| self.enabled & (1 << i) != 0)
    }

    /// The minimum score a finding needs to be reported.
    pub fn min_score(&self) -> f32 {
        self.min_score
    }
}

/// Which secret a byte may belong to. The scan stops only on bytes that
/// are rare in prose: `A` (AWS), `x` (Slack), and for the others a byte
/// inside their fixed prefix: the `B` of `-----BEGIN`, the `_` of `ghp_`
/// and `github_pat_`, the `T` of a webhook's `/services/T…`, the `J` of
/// `eyJ`. The match then starts a few bytes back. (Not the `-` of a PEM
/// line nor the `.` of the host name: hyphens and full stops are common in
/// prose, and no other secret starts between them and the byte used
/// instead.) All but `x` lie in `A`..`_`, so eight bytes are skipped with
/// two word tests.
const T_AWS: u8 = 1;
const T_SLACK: u8 = 2;
const T_PEM: u8 = 3;
const T_UNDERSCORE: u8 = 4;
const T_WEBHOOK: u8 = 5;
const T_J: u8 = 6;

const TRIGGER: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'A' as usize] = T_AWS;
    t[b'x' as usize] = T_SLACK;
    t[b'B' as usize] = T_PEM;
    t[b'_' as usize] = T_UNDERSCORE;
    t[b'T' as usize] = T_WEBHOOK;
    t[b'J' as usize] = T_J;
    t
};

/// Whether one of the eight bytes of `x` may be a trigger: a superset of
/// [`TRIGGER`] (`@`..`_`, which holds the upper-case triggers and `_`,
/// then `x`), exact bit tricks from "Bit Twiddling Hacks".
#[inline]
fn may_trigger(x: u64) -> bool {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    let has = |c: u8| {
        let y = x ^ (ONES * c as u64);
        y.wrapping_sub(ONES) & !y & HIGH != 0
    };
    // Bytes strictly between 0x40 and 0x60 ("hasbetween").
    let low = x & (ONES * 127);
    let between = (ONES * (127 + 0x60)).wrapping_sub(low) & !x & (low + ONES * (127 - 0x40)) & HIGH;
    between != 0 || has(b'x')
}

/// One candidate: category index into [`CATEGORIES`], rule id, span, score.
struct Hit {
    cat: usize,
    rule: &'static str,
    start: usize,
    end: usize,
    score: f32,
}

/// How far this detector's decisions reach, for streamed answers (see
/// `railyard_plugin_sdk::stream`): every secret but a PEM block is one
/// whitespace-free token (held back whole while it arrives), and a PEM
/// block is held by [`unterminated_key`] until its END line.
pub const STREAM_REACH: railyard_plugin_sdk::stream::Reach = railyard_plugin_sdk::stream::Reach {
    before: 64,
    after: 64,
    max_token: 4096,
    every: 16,
};

/// Where an unterminated `-----BEGIN … PRIVATE KEY-----` block starts in
/// the unsettled tail of a streamed answer (nothing of it may be released
/// until its END line has arrived and the detector has seen the whole
/// block). A BEGIN before the tail cannot be unterminated: the settled
/// point never passed one that was.
pub fn unterminated_key(text: &str) -> Option<usize> {
    let begin = text.rfind("-----BEGIN ")?;
    (!text[begin..].contains("-----END ")).then_some(begin)
}

/// Appends every secret found in `text` to `out`, in text order. The text
/// is normalised first (see `railyard_plugin_sdk::normalize`: look-alike
/// letters, invisible characters such as a zero-width space inside a key,
/// base64, hex and percent-encoded runs); spans refer to `text` as given.
pub fn detect(text: &str, settings: &Settings, out: &mut Vec<Detection>) {
    railyard_plugin_sdk::normalize::detect(text, out, |t, out| detect_plain(t, settings, out));
}

/// [`detect`] on text as it is.
fn detect_plain(text: &str, settings: &Settings, out: &mut Vec<Detection>) {
    let b = text.as_bytes();
    let mut i = 0;
    // End of the last match: a match found looking back may not start
    // before it.
    let mut floor = 0;
    while i < b.len() {
        // Skip eight bytes at a time while none of them is a trigger.
        while i + 8 <= b.len() {
            let c = &b[i..i + 8];
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            if may_trigger(u64::from_le_bytes(w))
                && let Some(k) = c.iter().position(|&x| TRIGGER[x as usize] != 0)
            {
                i += k;
                break;
            }
            i += 8;
        }
        if i >= b.len() {
            break;
        }
        let hit = match TRIGGER[b[i] as usize] {
            0 => None,
            T_AWS => aws_key(b, i),
            T_SLACK => slack_token(b, i),
            T_PEM => back(i, 5).and_then(|s| private_key(b, s)),
            T_UNDERSCORE => back(i, 3)
                .and_then(|s| github_token(b, s))
                .or_else(|| back(i, 6).and_then(|s| github_token(b, s))),
            // `hooks.slack.com/services/T…` (or `triggers/`), or
            // `…/workflows/T…`: the host starts 25 or 26 bytes back.
            T_WEBHOOK if i > 0 && b[i - 1] == b'/' => back(i, 25)
                .and_then(|s| slack_webhook(b, s))
                .or_else(|| back(i, 26).and_then(|s| slack_webhook(b, s))),
            T_WEBHOOK => None,
            _ => back(i, 2).and_then(|s| jwt(b, s)),
        };
        let Some(h) = hit.filter(|h| h.start >= floor) else {
            i += 1;
            continue;
        };
        // Resume after the match even when it is not reported: the inside
        // of a private key or a placeholder must not yield a second match.
        i = h.end.max(i + 1);
        floor = h.end;
        if settings.enabled & (1 << h.cat) == 0 || h.score < settings.min_score {
            continue;
        }
        let value = &text[h.start..h.end];
        if settings.allow.iter().any(|a| a == value) {
            continue;
        }
        out.push(Detection {
            rule_id: h.rule,
            category: CATEGORIES[h.cat],
            score: h.score,
            start: h.start,
            end: h.end,
        });
    }
}

#[cfg(test)]
mod evasion_tests;
#[cfg(test)]
mod tests;

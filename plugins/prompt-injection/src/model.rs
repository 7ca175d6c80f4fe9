//! The learned component: a logistic-regression model over hashed
//! features of the scanned (normalised) text, compiled into the plugin as
//! a static table (`model_weights.bin`, written by the `train_model`
//! example from the development sets; see [`crate::train`]).
//!
//! Features, per token of [`crate::scan`] (case, look-alike letters,
//! zero-width characters and leetspeak already undone): the word, the
//! word and the one before it, and the character 4-grams of the word with
//! its boundaries (`^olv`, `olvi`, …, `da$`), so "olvida", "olvidar" and
//! "olvidate" share evidence. Every feature hashes into one of
//! [`DIM`] signed 8-bit weights.
//!
//! A text is scored over windows of [`WINDOW`] tokens (the whole text when
//! shorter): the bias plus the sum of the window's weights over the square
//! root of its feature count, the highest window wins. One pass over the
//! tokens; the weights are a table in the component's data segment.
//!
//! The score joins the rules' as one more piece of evidence
//! (`prompt-injection.model`): at the margin the trainer chose by
//! cross-validation on the development sets it is 0.5, the default block
//! threshold.

use crate::scan::{Scan, Tok};
use railyard_plugin_sdk::normalize::fold;

/// Bits of the hashed feature space.
pub const DIM_BITS: u32 = 16;
/// Number of weights.
pub const DIM: usize = 1 << DIM_BITS;
/// Header: scale, bias, threshold margin (f32, little-endian).
pub const HEADER: usize = 12;
/// Tokens per scoring window; windows overlap by half.
pub const WINDOW: usize = 64;

static WEIGHTS: &[u8; HEADER + DIM] = include_bytes!("model_weights.bin");

/// The compiled model, read from its table.
pub struct Model<'a> {
    /// Weight of one quantisation step.
    pub scale: f32,
    /// Bias of the linear model.
    pub bias: f32,
    /// Margin that maps to a score of 0.5.
    pub theta: f32,
    /// Quantised weights.
    pub weights: &'a [u8],
}

impl<'a> Model<'a> {
    /// Reads a model from a table in the `model_weights.bin` layout.
    pub fn from_bytes(b: &'a [u8]) -> Model<'a> {
        let f = |i: usize| f32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Model {
            scale: f(0),
            bias: f(4),
            theta: f(8),
            weights: &b[HEADER..HEADER + DIM],
        }
    }

    /// The highest window margin of the text.
    pub fn margin(&self, text: &str, scan: &Scan) -> f32 {
        let n = scan.toks.len();
        if n == 0 {
            return self.bias;
        }
        // Per-token sums, then sliding windows over them.
        let mut sums: Vec<(i32, u32)> = Vec::with_capacity(n);
        let w = self.weights;
        for_each_token(text, scan, |_, feats| {
            let mut s = 0i32;
            for &f in feats {
                s += i32::from(w[f as usize] as i8);
            }
            sums.push((s, feats.len() as u32));
        });
        let step = WINDOW / 2;
        let mut best = f32::MIN;
        let mut start = 0;
        loop {
            let end = (start + WINDOW).min(n);
            let (s, c) = sums[start..end]
                .iter()
                .fold((0i32, 0u32), |(a, b), (s, c)| (a + s, b + c));
            let m = self.bias + s as f32 * self.scale / (c.max(1) as f32).sqrt();
            best = best.max(m);
            if end == n {
                break;
            }
            start += step;
        }
        best
    }
}

/// The compiled-in model.
pub fn compiled() -> Model<'static> {
    Model::from_bytes(WEIGHTS)
}

/// The model's evidence for a text: a score in 0..1, 0.5 at the chosen
/// margin.
pub fn score(text: &str, scan: &Scan) -> f32 {
    let m = compiled();
    let x = m.margin(text, scan) - m.theta;
    1.0 / (1.0 + (-x).exp())
}

fn mix(a: u64, b: u64) -> u64 {
    let x = (a ^ b.rotate_left(23)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 29)
}

fn index(h: u64) -> u32 {
    (mix(h, 0x5bd1_e995) >> (64 - DIM_BITS)) as u32
}

/// Calls `f(token number, feature indices)` for every token, in order.
pub fn for_each_token(text: &str, scan: &Scan, mut f: impl FnMut(usize, &[u32])) {
    let mut feats: Vec<u32> = Vec::with_capacity(32);
    let mut prev: u64 = 0x1234_5678;
    let mut chars: Vec<u32> = Vec::with_capacity(32);
    // Lexicon classes of the last few tokens of the sentence.
    let mut recent = [0u64; CLASS_REACH];
    let mut sent = u32::MAX;
    for (i, t) in scan.toks.iter().enumerate() {
        feats.clear();
        feats.push(index(t.hash));
        feats.push(index(mix(prev, t.hash) ^ 0xb16));
        prev = t.hash;
        if t.sent != sent {
            recent = [0; CLASS_REACH];
            sent = t.sent;
        }
        classes(t.class, &recent, &mut feats);
        recent.rotate_right(1);
        recent[0] = t.class;
        grams(text, t, &mut chars, &mut feats);
        f(i, &feats);
    }
}

/// Tokens back within a sentence whose lexicon classes pair with a
/// token's.
const CLASS_REACH: usize = 4;

/// The token's lexicon classes (the rules' multilingual word lists: an
/// override verb, an instruction noun, an AI noun…), alone and paired
/// with the classes of the few tokens before it in the sentence: "verb of
/// overriding, then instruction noun" in any language the lexicon knows.
fn classes(class: u64, recent: &[u64; CLASS_REACH], feats: &mut Vec<u32>) {
    let mut c = class;
    while c != 0 {
        let bit = u64::from(c.trailing_zeros());
        c &= c - 1;
        feats.push(index(mix(0xc1a55, bit)));
        for &p in recent {
            let mut p = p;
            while p != 0 {
                let pb = u64::from(p.trailing_zeros());
                p &= p - 1;
                feats.push(index(mix(0xc1a56 ^ (pb << 8), bit)));
            }
        }
    }
}

/// Character 4-grams of one token with `^`/`$` boundaries.
fn grams(text: &str, t: &Tok, chars: &mut Vec<u32>, feats: &mut Vec<u32>) {
    chars.clear();
    chars.push(u32::from(b'^'));
    let word = text.get(t.start as usize..t.end as usize).unwrap_or("");
    for c in word.chars() {
        if fold::is_invisible(c) {
            continue;
        }
        let c = match fold::confusable(c) {
            Some(a) => char::from(a),
            None => c,
        };
        if c.is_ascii() {
            chars.push(u32::from(c.to_ascii_lowercase()));
        } else {
            chars.push(u32::from(c.to_lowercase().next().unwrap_or(c)));
        }
        if chars.len() > 24 {
            break;
        }
    }
    chars.push(u32::from(b'$'));
    if chars.len() < 5 {
        return;
    }
    for g in chars.windows(4) {
        let h = (u64::from(g[0]) << 42) ^ (u64::from(g[1]) << 28) ^ (u64::from(g[2]) << 14);
        feats.push(index(mix(h ^ u64::from(g[3]), 0x4c)));
    }
}

//! The second layer: a few hundred boosted depth-2 trees over what the
//! first layer found in a text — the linear model's margin
//! ([`crate::model`]), the rules' combined score, and every rule's
//! strongest evidence — so it learns which rule hits are false alarms on
//! look-alikes (a rule that fires alone on a document the model finds
//! plain) and which model margins are safe to add. Trained by
//! [`crate::train::second_layer`] on out-of-fold margins, as an analysis
//! only: the plugin does not use it.

use crate::lexicon::*;
use crate::scan::Scan;

/// The rules whose strongest evidence is a feature, in feature order.
pub const RULES: &[&str] = &[
    "prompt-injection.addressed-to-model",
    "prompt-injection.addresses-model",
    "prompt-injection.authority-claim",
    "prompt-injection.boundary",
    "prompt-injection.chat-markup",
    "prompt-injection.credential-request",
    "prompt-injection.dan",
    "prompt-injection.disable-safety",
    "prompt-injection.exfiltration",
    "prompt-injection.extra-phrase",
    "prompt-injection.fake-notice",
    "prompt-injection.fake-rule-status",
    "prompt-injection.fake-turns",
    "prompt-injection.fiction-wrapper",
    "prompt-injection.follow-embedded",
    "prompt-injection.follow-only-mine",
    "prompt-injection.from-now-on",
    "prompt-injection.harmful-payload",
    "prompt-injection.instruction-extraction",
    "prompt-injection.instruction-override",
    "prompt-injection.invisible-unicode",
    "prompt-injection.jailbreak-mode",
    "prompt-injection.jailbreak-persona",
    "prompt-injection.json-role",
    "prompt-injection.never-refuse",
    "prompt-injection.new-instructions",
    "prompt-injection.no-longer-bound",
    "prompt-injection.no-restrictions",
    "prompt-injection.prompt-leak",
    "prompt-injection.role-label",
    "prompt-injection.safeguards-lifted",
    "prompt-injection.safety-lifted",
    "prompt-injection.skip-controls",
    "prompt-injection.stay-in-character",
    "prompt-injection.unfiltered-persona",
];

/// Features before the per-rule ones: margin, rules' score, distinct
/// rules at 0.3 or more, their summed score, log2 of the length.
pub const BASE: usize = 5;
/// Lexicon classes counted (bits of [`crate::lexicon`]).
const CLASS_BITS: usize = 51;
/// Sentence-level pairings: who an instruction is addressed to.
const PAIRS: usize = 8;
/// Lexical features: tokens per lexicon class, then sentences per
/// pairing.
pub const LEX: usize = CLASS_BITS + PAIRS;
/// Number of features.
pub const NF: usize = BASE + RULES.len() + LEX;

/// Verbs of an instruction to the model: override, disable, leak, follow,
/// exfiltrate, take a persona.
const VERBS: u64 = V_OVERRIDE | V_DISABLE | V_LEAK | V_FOLLOW | V_EXFIL | V_PERSONA;

/// The lexical features of a scanned text: how many tokens of each
/// lexicon class, and how many sentences pair an instruction verb with an
/// AI noun, a second person, a role, an instruction or secret noun, a
/// question word, an authority, a negation (in the six languages the
/// lexicon knows).
pub fn lexical(scan: &Scan) -> [f32; LEX] {
    let mut x = [0f32; LEX];
    let sentence = |u: u64, x: &mut [f32; LEX]| {
        let v = u & VERBS != 0;
        let pairs = [
            v && u & AI != 0,
            v && u & YOU != 0,
            u & AI != 0 && u & YOU != 0,
            v && u & (N_INSTR | SECRET_N | DATA_N) != 0,
            v && u & ROLE != 0,
            v && u & (QWORD | HOWTO_V) != 0,
            v && u & AUTH_N != 0,
            v && u & NEG != 0,
        ];
        for (k, p) in pairs.iter().enumerate() {
            if *p {
                x[CLASS_BITS + k] += 1.0;
            }
        }
    };
    let mut sent = u32::MAX;
    let mut union = 0u64;
    for t in &scan.toks {
        if t.sent != sent {
            sentence(union, &mut x);
            union = 0;
            sent = t.sent;
        }
        union |= t.class;
        let mut c = t.class;
        while c != 0 {
            let b = c.trailing_zeros() as usize;
            c &= c - 1;
            if b < CLASS_BITS {
                x[b] += 1.0;
            }
        }
    }
    sentence(union, &mut x);
    x
}

/// The features of a text from its length, the linear model's margin, the
/// rules' combined score and their evidence `(rule, score)`.
pub fn features<'a>(
    len: usize,
    lex: &[f32; LEX],
    margin: f32,
    rules_score: f32,
    evidence: impl Iterator<Item = (&'a str, f32)>,
) -> [f32; NF] {
    let mut x = [0f32; NF];
    x[0] = margin;
    x[1] = rules_score;
    x[4] = ((len + 1) as f32).log2();
    x[BASE + RULES.len()..].copy_from_slice(lex);
    for (rule, s) in evidence {
        if let Some(k) = RULES.iter().position(|r| *r == rule) {
            x[BASE + k] = x[BASE + k].max(s);
        }
    }
    let (n, sum) = x[BASE..BASE + RULES.len()]
        .iter()
        .filter(|s| **s >= 0.3)
        .fold((0f32, 0f32), |(n, t), s| (n + 1.0, t + s));
    x[2] = n;
    x[3] = sum;
    x
}

/// One depth-2 tree: a root split, one split per side, four leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// Feature of the root, left child, right child.
    pub feat: [u8; 3],
    /// Thresholds: `x < t` goes left.
    pub thr: [f32; 3],
    /// Leaf values, left-left, left-right, right-left, right-right.
    pub leaf: [f32; 4],
}

impl Tree {
    /// The tree's value at `x`.
    pub fn eval(&self, x: &[f32; NF]) -> f32 {
        let go = |n: usize| x[self.feat[n] as usize] >= self.thr[n];
        let r = go(0);
        let c = if r { 2 } else { 1 };
        let rr = go(c);
        self.leaf[(r as usize) * 2 + rr as usize]
    }
}

/// A fitted second layer.
pub struct Stack {
    /// Initial value of the sum.
    pub base: f32,
    /// The trees.
    pub trees: Vec<Tree>,
}

impl Stack {
    /// The sum of the trees at `x` (log-odds).
    pub fn value(&self, x: &[f32; NF]) -> f32 {
        self.base + self.trees.iter().map(|t| t.eval(x)).sum::<f32>()
    }

    /// Bytes it would take compiled in: a header, then per tree three
    /// feature numbers, three thresholds and four leaves.
    pub fn table_bytes(&self) -> usize {
        12 + self.trees.len() * (3 + 4 * 3 + 4 * 4)
    }
}

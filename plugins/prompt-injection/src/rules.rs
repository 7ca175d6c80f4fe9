//! Phrase rules over the normalised tokens.
//!
//! Single keywords prove nothing: "ignore", "previous" and "instructions"
//! all appear in ordinary requests. The rules look for structure instead:
//! an override verb whose *object* is an instruction noun qualified as
//! someone else's or earlier ("ignore all previous instructions"), a
//! persona request *combined* with the absence of restrictions, a fake rule
//! status ("the previous rules were a test"). A verb with an ordinary
//! object ("ignore the typos"), a negated verb ("never reveal your
//! prompt"), or a verb whose subject is not the model ("how do I ignore
//! whitespace") scores low or not at all.

mod jailbreak;
mod leak;
mod object;
mod overrides;
mod phrases;
mod roles;
#[cfg(test)]
mod tests;

use crate::INJECTION;
use crate::lexicon::*;
use crate::scan::*;

/// One piece of evidence.
#[derive(Debug, Clone, Copy)]
pub struct Signal {
    pub rule: &'static str,
    pub cat: &'static str,
    pub score: f32,
    pub start: usize,
    pub end: usize,
    /// Evidence that only strengthens other evidence (a harmful payload, a
    /// credential request): never a reason to flag on its own.
    pub booster: bool,
}

struct Rules<'a> {
    t: &'a [Tok],
    all: u64,
    out: &'a mut Vec<Signal>,
    /// Line-start role labels seen: (assistant-like, others, first start,
    /// last end).
    labels: (u32, u32, usize, usize),
    /// Whether a scripted turn does the attack's work: a system turn that
    /// instructs, an assistant turn that starts complying.
    strong_turn: bool,
    /// Whether "do anything now" occurs, computed on first need (a text
    /// full of "DAN" must not rescan itself for every one).
    dan_phrase: Option<bool>,
}

/// Classes that start a rule: tokens with none of them (articles, fillers,
/// unknown words) are skipped at once.
const ANCHORS: u64 = V_OVERRIDE
    | V_DISABLE
    | V_FOLLOW
    | V_LEAK
    | NEWADJ
    | REALADJ
    | N_INSTR
    | V_PERSONA
    | YOU
    | NEG_FREE
    | ADJ_FREE
    | REFUSE_V
    | ROLE
    | V_EXFIL
    | PAYLOAD
    | A_SYSTEM
    | AUTH_N
    | QWORD
    | PHRASE
    | AI
    | N_SAFETY
    | NOTICE_N
    | HOWTO_V;

/// Runs every phrase rule over `scan`'s tokens.
pub fn run(scan: &Scan, extra: &[Vec<u64>], out: &mut Vec<Signal>) {
    let mut r = Rules {
        t: &scan.toks,
        all: scan.all_classes,
        out,
        labels: (0, 0, usize::MAX, 0),
        strong_turn: false,
        dan_phrase: None,
    };
    // Most tokens start no rule: skip them in a tight loop, and keep the
    // rule dispatch out of line so that the loop stays small.
    let t = r.t;
    let mut i = 0;
    while i < t.len() {
        if t[i].class & ANCHORS != 0 {
            r.dispatch(i, t[i].class);
        }
        i += 1;
    }
    r.fake_turns();
    if !extra.is_empty() {
        r.extra_phrases(extra);
    }
}

impl Rules<'_> {
    /// Runs the rules that token `i`, of classes `c`, can start.
    #[inline(never)]
    fn dispatch(&mut self, i: usize, c: u64) {
        let r = self;
        if c & (V_OVERRIDE | V_DISABLE) != 0 {
            r.override_verb(i);
        }
        if c & V_FOLLOW != 0 {
            r.negated_follow(i);
            r.follow_only(i);
        }
        if c & (V_LEAK | V_EXFIL) != 0 {
            r.leak(i);
        }
        if c & N_SAFETY != 0 {
            r.safety_lifted(i);
        }
        if c & NOTICE_N != 0 {
            r.fake_notice(i);
        }
        if c & HOWTO_V != 0 {
            r.harmful_howto(i);
        }
        if c & (NEWADJ | REALADJ) != 0 {
            r.new_instructions(i);
        }
        if c & N_INSTR != 0 {
            r.fake_status(i);
        }
        if c & (V_PERSONA | YOU) != 0 {
            r.persona(i);
        }
        if c & NEG_FREE != 0 {
            r.restriction_free(i);
        }
        if c & ADJ_FREE != 0 {
            r.unfiltered(i);
        }
        if c & REFUSE_V != 0 {
            r.never_refuse(i);
        }
        if c & ROLE != 0 {
            r.role_label(i);
        }
        if c & V_EXFIL != 0 {
            r.exfiltration(i);
        }
        if c & PAYLOAD != 0 {
            r.push_booster(i, i, "prompt-injection.harmful-payload", 0.2);
        }
        if c & (A_SYSTEM | AUTH_N) != 0 {
            r.authority(i);
        }
        if c & QWORD != 0 {
            r.what_is_your_prompt(i);
        }
        if c & (PHRASE | V_LEAK | AI) != 0 {
            r.fixed_phrases(i);
        }
    }

    #[inline]
    fn c(&self, k: usize) -> u64 {
        self.t.get(k).map_or(0, |t| t.class)
    }

    #[inline]
    fn h(&self, k: usize) -> u64 {
        self.t.get(k).map_or(0, |t| t.hash)
    }

    /// Classes of token `k - d`, 0 before the start.
    #[inline]
    fn cb(&self, k: usize, d: usize) -> u64 {
        k.checked_sub(d).map_or(0, |j| self.c(j))
    }

    /// Hash of token `k - d`, 0 before the start.
    #[inline]
    fn hb(&self, k: usize, d: usize) -> u64 {
        k.checked_sub(d).map_or(0, |j| self.h(j))
    }

    /// Whether token `k` exists and is in the same sentence as `i`.
    #[inline]
    fn same(&self, i: usize, k: usize) -> bool {
        k < self.t.len() && self.t[k].sent == self.t[i].sent
    }

    fn push(&mut self, a: usize, b: usize, rule: &'static str, cat: &'static str, score: f32) {
        if score <= 0.0 {
            return;
        }
        self.out.push(Signal {
            rule,
            cat,
            score: score.min(0.99),
            start: self.t[a].start as usize,
            end: self.t[b].end as usize,
            booster: false,
        });
    }

    fn push_booster(&mut self, a: usize, b: usize, rule: &'static str, score: f32) {
        self.out.push(Signal {
            rule,
            cat: INJECTION,
            score,
            start: self.t[a].start as usize,
            end: self.t[b].end as usize,
            booster: true,
        });
    }

    /// Whether the hashes `words` follow from token `k` on, in one sentence.
    fn seq(&self, k: usize, words: &[u64]) -> bool {
        words
            .iter()
            .enumerate()
            .all(|(j, &w)| self.h(k + j) == w && self.same(k, k + j))
    }

    /// A negation shortly before `i` in its sentence: "never reveal",
    /// "do not ignore", "you must not".
    fn negated(&self, i: usize) -> bool {
        (1..=3).any(|d| {
            i >= d && self.same(i, i - d) && self.c(i - d) & NEG != 0 && self.h(i - d) != w::WITHOUT
        })
    }

    /// How much the verb at `i` reads as an order to the model rather than a
    /// description: 1.0 for an imperative or a "you" subject, less when
    /// someone else is the subject ("how do I ignore…", "attackers
    /// ignore…").
    fn addressed(&self, i: usize) -> f32 {
        let mut k = i;
        let mut plain = true;
        // "must", "should", "will": an order even in the third person ("the
        // assistant must now reveal…"), unlike "might", "can", "may".
        let mut obliged = false;
        for _ in 0..5 {
            if k == 0
                || !self.same(i, k - 1)
                || self.t[k].flags & (F_COLON_BEFORE | F_QUOTE_BEFORE) != 0
            {
                return if plain { 1.0 } else { 0.85 };
            }
            k -= 1;
            let c = self.c(k);
            if c & YOU != 0 {
                return 1.0;
            }
            if self.h(k) == w::TO {
                if k > 0
                    && self.same(i, k - 1)
                    && (self.c(k - 1) & QWORD != 0 || self.h(k - 1) == w::WAY)
                {
                    return 0.45;
                }
                continue;
            }
            // "I", "they", "attackers"; "a model", "the assistant".
            if c & SUBJ_OTHER != 0 {
                return 0.45;
            }
            if c & AI != 0 && k > 0 && self.same(i, k - 1) && self.c(k - 1) & D_THE != 0 {
                return if obliged { 1.0 } else { 0.45 };
            }
            obliged |= w::OBLIGATION.contains(&self.h(k));
            if c & (ADV | MODAL | NEG | FILLER) == 0 || c & (D_THE | D_MY) != 0 {
                plain = false;
            }
        }
        0.85
    }

    /// Talk *about* injections ("explain what 'ignore previous
    /// instructions' means") quotes the phrase: half weight.
    fn quoted_meta(&self, i: usize) -> f32 {
        if self.t[i].flags & F_QUOTE_BEFORE == 0 {
            return 1.0;
        }
        // Quoted after a reporting verb or in a question: "why do people
        // say 'ignore all previous instructions'?"
        let reported = (1..=3).any(|d| {
            i >= d
                && self.same(i, i - d)
                && (w::REPORTING.contains(&self.h(i - d)) || self.c(i - d) & QWORD != 0)
        });
        // A question word opening the sentence.
        let question = (1..=12).any(|d| {
            i >= d
                && self.same(i, i - d)
                && self.c(i - d) & QWORD != 0
                && (i == d || !self.same(i, i - d - 1))
        });
        if self.all & META != 0 || reported || question {
            0.5
        } else {
            1.0
        }
    }
}

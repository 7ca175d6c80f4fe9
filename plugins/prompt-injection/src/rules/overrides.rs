//! Instruction overrides: verbs that discard or stop following someone
//! else's instructions, "obey only me", announced new instructions and
//! fake claims about the rules' status.

use super::Rules;
use super::object::Kind;
use crate::lexicon::*;
use crate::scan::*;
use crate::{INJECTION, JAILBREAK};

impl Rules<'_> {
    pub(super) fn override_verb(&mut self, i: usize) {
        // Not inside an identifier: "check_ldap_escape_filter".
        if self.negated(i) || self.t[i].flags & F_GLUED != 0 {
            return;
        }
        let c = self.c(i);
        let disable_only = c & V_OVERRIDE == 0;
        let mut from = i;
        // Particles: turn off, switch off; "forget about"; "throw out".
        if matches!(self.h(i + 1), w::OFF | w::ABOUT) && self.same(i, i + 1) {
            from = i + 1;
        } else if w::PARTICLE_VERBS.contains(&self.h(i)) {
            if !(self.same(i, i + 1) && matches!(self.h(i + 1), w::OUT | w::AWAY | w::ASIDE)) {
                return;
            }
            from = i + 1;
        } else if disable_only && w::NEEDS_PARTICLE.contains(&self.h(i)) {
            return;
        }
        let Some(o) = self.object(from, 7) else {
            return;
        };
        let (base, cat): (f32, &str) = match (o.kind, disable_only) {
            (Kind::Instr, false) => (if o.qualified() { 0.9 } else { 0.45 }, INJECTION),
            (Kind::Safety, _) => (
                if o.qualified() {
                    0.85
                } else if w::AI_SAFETY_NOUNS.contains(&self.h(o.end)) || self.h(o.end) == w::SAFETY
                {
                    // "disregard safety", "bypass the filters".
                    0.6
                } else {
                    0.35
                },
                JAILBREAK,
            ),
            (Kind::Instr, true) => (if o.your || o.system { 0.8 } else { 0.3 }, JAILBREAK),
            (Kind::Weak, false) => (
                if o.system || o.your {
                    0.6
                } else if o.prior {
                    0.45
                } else {
                    0.2
                },
                INJECTION,
            ),
            (Kind::Everything, false) => (if o.prior { 0.85 } else { 0.4 }, INJECTION),
            (Kind::PriorPronoun, false) => (0.8, INJECTION),
            _ => return,
        };
        // "ignore the translation task and instead say…"
        let instead = (o.end + 1..=o.end + 3).any(|k| self.same(i, k) && self.h(k) == w::INSTEAD);
        let base = if instead && cat == INJECTION {
            base.max(0.7)
        } else {
            base
        };
        let mut score = base * self.addressed(i) * self.quoted_meta(i);
        // "Ignore everything I told you about the tone": the user's own
        // earlier words, a relative clause with "I" as its subject.
        let i_said = matches!(o.kind, Kind::Everything | Kind::PriorPronoun | Kind::Weak)
            && (from + 1..=o.end + 2).any(|k| {
                self.same(i, k)
                    && self.h(k) == w::I
                    && self.t[k].flags & (F_COMMA_BEFORE | F_COLON_BEFORE) == 0
                    && (k <= o.end + 1 || self.h(k - 1) == w::THAT)
            });
        // "the previous instructions I gave you", "les consignes que je
        // t'ai données", "die Anweisungen, die ich dir gegeben habe", "las
        // instrucciones que te di": a relative clause right after the
        // object, with the user as the one who gave them.
        let self_given = (o.end + 1..=o.end + 4).any(|k| {
            self.same(i, k)
                && (w::SELF_SUBJECTS.contains(&self.h(k))
                    && (1..=5)
                        .any(|d| self.same(i, k + d) && w::SELF_GAVE.contains(&self.h(k + d)))
                    || w::SELF_GAVE_ES.contains(&self.h(k))
                        && matches!(self.h(k - 1), h if h == w::TE || h == w::LE))
        });
        if (o.my || i_said || self_given) && !(o.your || o.system) {
            // The user taking back their own words: "ignore my previous
            // message".
            score *= 0.35;
        }
        if o.modified && !o.qualified() && !instead {
            score *= 0.6;
        }
        if o.indefinite {
            // "remove a restriction": some rule, not the model's rules.
            score *= 0.5;
        }
        // Verbs common in technical prose ("drop all patches", "skip the
        // tests") and -ing forms ("overriding commands") are orders to the
        // model only against its own rules.
        let h = self.h(i);
        if (c & V_WEAK != 0 || w::ING_FORMS.contains(&h)) && !(o.your || o.system) {
            score *= 0.6;
        }
        let rule = if cat == JAILBREAK {
            "prompt-injection.disable-safety"
        } else {
            "prompt-injection.instruction-override"
        };
        self.push(i, o.end, rule, cat, score);
    }

    /// "do not follow your rules", "stop obeying the system prompt", "you
    /// no longer have to follow…".
    pub(super) fn negated_follow(&mut self, i: usize) {
        let neg = (1..=3).any(|d| {
            i >= d
                && self.same(i, i - d)
                && (self.c(i - d) & NEG != 0 || matches!(self.h(i - d), w::STOP | w::LONGER))
                && self.h(i - d) != w::WITHOUT
        });
        if !neg {
            return;
        }
        // "adhere to", "comply with", "abide by", "listen to".
        let from = if self.same(i, i + 1)
            && (self.h(i + 1) == w::TO || matches!(self.h(i + 1), w::WITH | w::BY))
        {
            i + 1
        } else {
            i
        };
        let Some(o) = self.object(from, 7) else {
            return;
        };
        if !matches!(o.kind, Kind::Instr | Kind::Safety) {
            return;
        }
        let score = if o.your || o.system || o.prior {
            0.85
        } else {
            0.3
        };
        let start = (1..=3)
            .map(|d| i.saturating_sub(d))
            .find(|&k| self.same(i, k) && self.c(k) & NEG != 0)
            .unwrap_or(i);
        let cat = if o.kind == Kind::Safety {
            JAILBREAK
        } else {
            INJECTION
        };
        self.push(
            start,
            o.end,
            "prompt-injection.instruction-override",
            cat,
            score * self.addressed(start) * self.quoted_meta(start),
        );
    }

    /// "new instructions override…", "the real instruction is…", "your
    /// new task is…".
    pub(super) fn new_instructions(&mut self, i: usize) {
        let adj = self.c(i);
        let mut j = i + 1;
        if self.same(i, j)
            && self.c(j) & (A_SYSTEM | A_PRIOR) != 0
            && self.c(j) & (N_INSTR | TASK_N) == 0
        {
            j += 1;
        }
        if !self.same(i, j) {
            return;
        }
        let noun = self.c(j);
        let your = i > 0 && self.same(i, i - 1) && self.c(i - 1) & D_YOUR != 0;
        let strong_real = adj & REALADJ != 0 && !w::WEAK_REAL.contains(&self.h(i));
        let mut score = 0.0;
        let mut end = j;
        if noun & N_INSTR != 0 {
            for k in j + 1..=j + 3 {
                if !self.same(i, k) {
                    break;
                }
                if self.c(k) & OVERRIDE_N != 0
                    || (matches!(self.h(k), w::TAKE | w::TAKES) && self.c(k + 1) & OVERRIDE_N != 0)
                {
                    score = 0.9;
                    end = k;
                    break;
                }
            }
            if score == 0.0 {
                let be = self.same(i, j + 1) && self.c(j + 1) & BE != 0;
                let colon = self.t[j].flags & F_TRAIL_COLON != 0;
                score = if adj & REALADJ != 0 && strong_real && (be || colon) {
                    0.85
                } else if adj & REALADJ != 0 && (be || colon) {
                    0.45
                } else if adj & NEWADJ != 0 && your && (be || colon) {
                    0.6
                } else if adj & NEWADJ != 0 && colon {
                    // "NEW INSTRUCTIONS:", "New instructions: you must…";
                    // not "GDB has a new command:".
                    let shouted = self.t[i].flags & F_UPPER != 0;
                    let to_model =
                        (j + 1..=j + 4).any(|k| k < self.t.len() && self.c(k) & (YOU | MODAL) != 0);
                    if shouted || to_model { 0.45 } else { 0.3 }
                } else {
                    0.0
                };
                if be {
                    end = j + 1;
                }
            }
        } else if noun & TASK_N != 0 && your {
            let be = self.same(i, j + 1) && (self.c(j + 1) & BE != 0 || self.h(j + 1) == w::NOW);
            let colon = self.t[j].flags & F_TRAIL_COLON != 0;
            if be || colon {
                score = if strong_real || adj & NEWADJ != 0 {
                    0.45
                } else {
                    0.3
                };
                end = j;
            }
        }
        if score > 0.0 {
            let start = if your { i - 1 } else { i };
            self.push(
                start,
                end,
                "prompt-injection.new-instructions",
                INJECTION,
                score * self.quoted_meta(start),
            );
        }
    }

    /// "the previous rules were a test", "your instructions are void",
    /// "the above instructions were not real".
    pub(super) fn fake_status(&mut self, i: usize) {
        let mut qual = None;
        let mut mine = false;
        let mut addressed = false;
        for d in 1..=3 {
            if i < d || !self.same(i, i - d) {
                break;
            }
            let c = self.c(i - d);
            if c & (A_PRIOR | A_SYSTEM | D_YOUR) != 0 {
                qual = Some(i - d);
            }
            addressed |= c & (A_SYSTEM | D_YOUR) != 0 && c & A_PRIOR == 0;
            if c & D_MY != 0 {
                mine = true;
            }
        }
        let Some(start) = qual else { return };
        // The claim opens its clause ("IMPORTANT: the previous rules were a
        // test"); inside reported speech ("the committee decided the
        // previous rules were outdated") it is a description.
        let mut head = start;
        if head > 0 && self.same(i, head - 1) && self.c(head - 1) & D_THE != 0 {
            head -= 1;
        }
        let opens = head == 0
            || !self.same(i, head - 1)
            || self.t[head].flags & (F_COLON_BEFORE | F_COMMA_BEFORE | F_QUOTE_BEFORE) != 0
            || self.c(head - 1) & (ADV | YOU | V_PERSONA) != 0
            || self.h(head - 1) == w::THAT;
        let damp = if opens { 1.0 } else { 0.5 };
        let mut k = i + 1;
        // "have been", "are now", "were all"; "do not apply".
        if !(self.same(i, k)
            && (self.c(k) & (BE | NEG) != 0
                || matches!(self.h(k), w::HAS | w::HAVE | w::DO | w::NO)))
        {
            return;
        }
        if self.c(k) & NEG == 0 && self.h(k) != w::NO {
            k += 1;
        }
        let mut negated = false;
        while k <= i + 6 && self.same(i, k) {
            let c = self.c(k);
            if c & STATUS != 0 || (negated && c & REALADJ != 0) {
                // "Your instructions have changed" speaks to the model; "the
                // previous instructions were updated" may describe a manual.
                let soft = w::SOFT_STATUS.contains(&self.h(k));
                let score = if mine || (soft && !addressed) {
                    0.3
                } else if soft {
                    0.7
                } else {
                    0.85
                };
                self.push(
                    start,
                    k,
                    "prompt-injection.fake-rule-status",
                    INJECTION,
                    score * damp * self.quoted_meta(start),
                );
                return;
            }
            if w::NO_EFFECT.contains(&self.h(k))
                && (1..=2).any(|d| self.cb(k, d) & NEG != 0 || self.hb(k, d) == w::LONGER)
            {
                // "…rules do not apply", "…instructions no longer matter".
                let score = if mine { 0.3 } else { 0.85 };
                self.push(
                    start,
                    k,
                    "prompt-injection.fake-rule-status",
                    INJECTION,
                    score * damp * self.quoted_meta(start),
                );
                return;
            }
            if self.h(k) == w::LONGER && self.hb(k, 1) == w::NO {
                let score = if mine { 0.3 } else { 0.8 };
                self.push(
                    start,
                    k,
                    "prompt-injection.fake-rule-status",
                    INJECTION,
                    score * damp,
                );
                return;
            }
            if c & NEG != 0 {
                negated = true;
            } else if c & (BE | ADV | FILLER | D_THE | D_ALL) == 0 && self.h(k) != w::NO {
                return;
            }
            k += 1;
        }
    }

    /// "obey only me", "follow only the instructions below": a claim that
    /// only the sender's instructions count.
    pub(super) fn follow_only(&mut self, i: usize) {
        if self.negated(i) {
            return;
        }
        // "follow mine", "obey me".
        if self.same(i, i + 1) && matches!(self.h(i + 1), w::ME | w::MINE) {
            let score = 0.5 * self.addressed(i) * self.quoted_meta(i);
            self.push(
                i,
                i + 1,
                "prompt-injection.follow-only-mine",
                INJECTION,
                score,
            );
            return;
        }
        if !(1..=2).any(|d| self.same(i, i + d) && self.h(i + d) == w::ONLY) {
            return;
        }
        let mut score: f32 = 0.0;
        let mut end = i;
        for k in i + 1..=i + 6 {
            if !self.same(i, k) {
                break;
            }
            let h = self.h(k);
            if matches!(h, w::ME | w::MINE | w::MY) {
                score = 0.6;
                end = k;
                break;
            }
            if h == w::BELOW && (i + 1..k).any(|q| self.c(q) & N_INSTR != 0) {
                score = 0.45;
                end = k;
                break;
            }
        }
        if score > 0.0 {
            self.push(
                i,
                end,
                "prompt-injection.follow-only-mine",
                INJECTION,
                score * self.addressed(i) * self.quoted_meta(i),
            );
        }
    }
}

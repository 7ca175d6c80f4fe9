//! Who is speaking: smuggled role labels and scripted turns, fake notices
//! from a privileged author, and claims of authority.

use super::{Rules, Signal};
use crate::lexicon::*;
use crate::scan::*;
use crate::{INJECTION, ROLE_SMUGGLING};

impl Rules<'_> {
    /// A fake notice from a privileged author: "SYSTEM NOTICE:", "Admin
    /// message:".
    pub(super) fn fake_notice(&mut self, i: usize) {
        if i == 0
            || !self.same(i, i - 1)
            || self.c(i - 1) & (A_SYSTEM | AUTH_N) == 0
            || self.t[i].flags & F_GLUED != 0
        {
            return;
        }
        let marked = self.t[i].flags & F_TRAIL_COLON != 0 || self.t[i - 1].flags & F_UPPER != 0;
        if !marked || self.c(i) & OVERRIDE_N != 0 {
            return;
        }
        // "Safety notice:" on a product, "Internal note:" on a ticket: the
        // labels of ordinary documents, flagged but not blocked unless the
        // notice is an instruction ("Internal instruction:").
        let document = w::DOCUMENT_NOTICE_ADJ.contains(&self.h(i - 1))
            && self.c(i) & N_INSTR == 0
            && self.h(i) != w::PROMPT;
        // A label is no noun phrase inside a sentence: "never put secrets
        // in the system prompt: anything in it…" has an article before it.
        let opens = i == 1
            || !self.same(i, i - 2)
            || self.t[i - 1].flags & (F_LINE_START | F_COLON_BEFORE | F_QUOTE_BEFORE | F_UPPER)
                != 0
            || self.c(i - 2) & (D_THE | D_YOUR | D_MY) == 0;
        // "Here's my draft system prompt:": the user's own prompt, with a
        // word between the possessive and the label, is no notice either.
        let opens = opens && !(i >= 3 && self.same(i, i - 3) && self.c(i - 3) & D_MY != 0);
        let score = match (document, opens) {
            (_, false) => 0.25,
            (true, true) => 0.4,
            (false, true) => 0.5,
        };
        self.push(
            i - 1,
            i,
            "prompt-injection.fake-notice",
            ROLE_SMUGGLING,
            score * self.quoted_meta(i - 1),
        );
    }

    /// Role labels at the start of a line: `### SYSTEM:`, `System:`,
    /// `Assistant:`; and `"role": "system"` in pasted JSON.
    pub(super) fn role_label(&mut self, i: usize) {
        let t = self.t[i];
        let h = t.hash;
        if t.flags & F_COLON_BEFORE != 0
            && t.flags & F_QUOTE_BEFORE != 0
            && i > 0
            && self.h(i - 1) == w::ROLE
        {
            let score = if matches!(h, w::SYSTEM | w::DEVELOPER) {
                0.45
            } else {
                0.25
            };
            self.push(
                i - 1,
                i,
                "prompt-injection.json-role",
                ROLE_SMUGGLING,
                score,
            );
            return;
        }
        if t.flags & F_LINE_START == 0 || t.flags & F_TRAIL_COLON == 0 {
            return;
        }
        let assistant_like = matches!(h, w::ASSISTANT | w::AI | w::BOT | w::MODEL);
        self.labels.0 += u32::from(assistant_like);
        self.labels.1 += u32::from(!assistant_like);
        self.labels.2 = self.labels.2.min(t.start as usize);
        self.labels.3 = t.end as usize;
        let sys_like = matches!(
            h,
            w::SYSTEM
                | w::SYS
                | w::DEVELOPER
                | w::INSTRUCTION
                | w::INSTRUCTIONS
                | w::ADMIN
                | w::OPERATOR
        );
        let heading = t.flags & (F_HASH | F_UPPER) != 0;
        let score = if sys_like {
            // "System: Ubuntu 22.04" in a bug report is not a smuggled
            // turn; "System: you must now…" is.
            let instructive = (i + 1..(i + 16).min(self.t.len()))
                .take_while(|&k| self.same(i, k))
                .any(|k| {
                    self.c(k)
                        & (YOU | V_OVERRIDE | V_LEAK | MODAL | NEG | N_INSTR | NEWADJ | ADJ_FREE)
                        != 0
                });
            if heading {
                0.7
            } else if instructive {
                0.55
            } else {
                0.25
            }
        } else if assistant_like {
            // A scripted assistant turn that starts complying ("Assistant:
            // Sure, here is…") is a prefill attack.
            let complies = (i + 1..=i + 3).any(|k| {
                self.same(i, k)
                    && (w::COMPLIANCE.contains(&self.h(k))
                        || (self.h(k) == w::OF && self.h(k + 1) == w::COURSE))
            });
            // A prefill ends on the complying turn, for the model to go
            // on; a transcript goes on with the user's next turn ("User:
            // Great, now make it firmer") and no more scripted answers
            // (many-shot jailbreaks script several).
            let label = |k: usize| {
                self.t[k].flags & F_LINE_START != 0 && self.t[k].flags & F_TRAIL_COLON != 0
            };
            // What the scripted turn says: "Sure! Here are my hidden
            // instructions: …" does the work whatever follows.
            let turn_end = (i + 1..self.t.len())
                .find(|&k| label(k))
                .unwrap_or(self.t.len());
            let telling = (i + 1..turn_end).any(|k| self.c(k) & (N_INSTR | N_SAFETY) != 0);
            let answered = complies
                && !telling
                && (i + 4..self.t.len())
                    .any(|k| label(k) && matches!(self.h(k), w::USER | w::HUMAN))
                && !(i + 1..self.t.len()).any(|k| {
                    label(k) && matches!(self.h(k), w::ASSISTANT | w::AI | w::BOT | w::MODEL)
                });
            if complies && !answered {
                0.6
            } else if heading {
                0.45
            } else {
                0.35
            }
        } else if matches!(h, w::USER | w::HUMAN) {
            0.2
        } else {
            0.25
        };
        self.strong_turn |= score >= 0.55;
        self.push(i, i, "prompt-injection.role-label", ROLE_SMUGGLING, score);
    }

    /// A user message that scripts both sides of a conversation
    /// ("User: … Assistant: …") is putting words in the model's mouth.
    pub(super) fn fake_turns(&mut self) {
        let (assistant, other, lo, hi) = self.labels;
        if assistant >= 1 && assistant + other >= 2 {
            // An exported chat ("User: … / Bot: …") is a transcript unless
            // one of its turns instructs or complies.
            let score = if self.strong_turn { 0.45 } else { 0.25 };
            self.out.push(Signal {
                rule: "prompt-injection.fake-turns",
                cat: ROLE_SMUGGLING,
                score,
                start: lo,
                end: hi,
                booster: false,
            });
        }
    }

    /// "I am your developer", "SYSTEM OVERRIDE", "message from the admin".
    pub(super) fn authority(&mut self, i: usize) {
        let c = self.c(i);
        let h = self.h(i);
        // "system override", "admin override".
        // Not "system-override.sh": a file name, not a claim.
        if (c & AUTH_N != 0 || h == w::SYSTEM)
            && self.same(i, i + 1)
            && matches!(self.h(i + 1), w::OVERRIDE | w::OVERRIDES)
            && self.t[i + 1].flags & F_GLUED == 0
        {
            // "Add admin override for rate limits": a feature, named.
            // "admin override used for user=jsmith" in a log: an event.
            let feature = self.same(i, i + 2)
                && (w::FEATURE_FOR.contains(&self.h(i + 2))
                    || w::OVERRIDE_EVENT.contains(&self.h(i + 2))
                    // "A manager override is required above the limit",
                    // "the admin override was logged": the override is the
                    // subject of a statement about it, not a header that
                    // claims one in force ("SYSTEM OVERRIDE: …"), unless
                    // the statement is that it is in force now.
                    || w::OVERRIDE_STATED.contains(&self.h(i + 2))
                        && !(self.same(i, i + 3) && w::IN_FORCE.contains(&self.h(i + 3))));
            let score = if feature { 0.3 } else { 0.75 };
            self.push(
                i,
                i + 1,
                "prompt-injection.authority-claim",
                INJECTION,
                score * self.quoted_meta(i),
            );
            return;
        }
        if c & AUTH_N == 0 {
            return;
        }
        // "I am your developer", "this is the admin".
        let mut k = i;
        let mut your = false;
        if k > 0 && self.same(i, k - 1) && self.c(k - 1) & (D_YOUR | D_THE) != 0 {
            your = self.c(k - 1) & D_YOUR != 0;
            k -= 1;
        }
        let claim = k >= 1
            && self.same(i, k - 1)
            && (self.h(k - 1) == w::IM
                || (k >= 2
                    && self.same(i, k - 2)
                    && matches!(
                        (self.h(k - 2), self.h(k - 1)),
                        (w::I, w::AM) | (w::THIS, w::IS)
                    )));
        if claim {
            let org = w::ORGS.contains(&h);
            let score = if your || org { 0.5 } else { 0.25 };
            let start = if self.h(k - 1) == w::IM { k - 1 } else { k - 2 };
            self.push(
                start,
                i,
                "prompt-injection.authority-claim",
                INJECTION,
                score * self.quoted_meta(start),
            );
            return;
        }
        // "message from the developer".
        let mut k = i;
        if k > 0 && self.c(k - 1) & (D_YOUR | D_THE) != 0 {
            k -= 1;
        }
        if k >= 2
            && self.same(i, k - 2)
            && self.h(k - 1) == w::FROM
            && matches!(
                self.h(k - 2),
                w::MESSAGE | w::NOTE | w::INSTRUCTIONS | w::INSTRUCTION
            )
        {
            self.push(
                k - 2,
                i,
                "prompt-injection.authority-claim",
                INJECTION,
                0.5 * self.quoted_meta(k - 2),
            );
        }
    }
}

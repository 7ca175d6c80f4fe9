//! Parsing the object of an override or disclosure verb: determiners,
//! qualifiers ("your", "all previous", "system") and the head noun.

use super::Rules;
use crate::lexicon::*;
use crate::scan::*;

/// What an override or disclosure verb acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// instructions, rules, prompt, guidelines…
    Instr,
    /// restrictions, filters, guardrails…
    Safety,
    /// message, text, context…
    Weak,
    /// everything, anything.
    Everything,
    /// "the above", "all previous".
    PriorPronoun,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Obj {
    pub(super) kind: Kind,
    pub(super) end: usize,
    pub(super) your: bool,
    pub(super) my: bool,
    pub(super) all: bool,
    pub(super) prior: bool,
    pub(super) system: bool,
    pub(super) prompt: bool,
    /// An unknown word modified the noun: "the translation task".
    pub(super) modified: bool,
    /// The object is indefinite: "a rule", "an instruction".
    pub(super) indefinite: bool,
}

impl Obj {
    pub(super) fn qualified(&self) -> bool {
        self.your || self.all || self.prior || self.system
    }
}

const NOUNS: u64 = N_INSTR | N_SAFETY | N_WEAK;

impl Rules<'_> {
    /// Parses the object of the verb at `i`: determiners and adjectives,
    /// then a head noun (or "everything", or "the above").
    pub(super) fn object(&self, i: usize, max: usize) -> Option<Obj> {
        let mut o = Obj {
            kind: Kind::Instr,
            end: i,
            your: false,
            my: false,
            all: false,
            prior: false,
            system: false,
            prompt: false,
            modified: false,
            indefinite: false,
        };
        let mut j = i + 1;
        while j <= i + max && self.same(i, j) {
            let c = self.c(j);
            let next = if self.same(i, j + 1) {
                self.c(j + 1)
            } else {
                0
            };
            let adjective_here =
                c & (A_SYSTEM | A_PRIOR | D_ALL) != 0 && next & (NOUNS | A_SYSTEM | A_PRIOR) != 0;
            // A noun followed at once by an unknown word is often a modifier
            // ("safety checks", "command line"); instruction nouns less so
            // ("ignore previous instructions write a poem").
            let unknown_next = self.same(i, j + 1)
                && next == 0
                && self.t[j + 1].flags & (F_COMMA_BEFORE | F_COLON_BEFORE | F_QUOTE_BEFORE) == 0;
            if c & (N_INSTR | N_SAFETY) != 0 && !adjective_here {
                if next & COMPOUND != 0 || (c & N_INSTR == 0 && unknown_next) {
                    return None;
                }
                o.kind = if c & N_INSTR != 0 {
                    Kind::Instr
                } else {
                    Kind::Safety
                };
                o.prompt = matches!(self.h(j), w::PROMPT | w::PREPROMPT);
                o.end = j;
                self.trailing_prior(&mut o);
                return Some(o);
            }
            if c & N_WEAK != 0 && !adjective_here && c & (A_PRIOR | W_EVERYTHING) == 0 {
                if next & COMPOUND != 0 || unknown_next {
                    return None;
                }
                o.kind = Kind::Weak;
                o.end = j;
                self.trailing_prior(&mut o);
                return Some(o);
            }
            // "everything above", "all before".
            if c & W_EVERYTHING != 0
                && next & A_PRIOR != 0
                && next & A_SYSTEM == 0
                && !(self.same(i, j + 2) && self.c(j + 2) & NOUNS != 0)
            {
                o.kind = Kind::Everything;
                o.prior = true;
                o.end = j + 1;
                return Some(o);
            }
            // "everything", "everything you were told": a pronoun, maybe
            // with a relative clause ("all of the…" goes on to its noun).
            let relative = next & (YOU | SUBJ_OTHER | BE | MODAL) != 0 || self.h(j + 1) == w::THAT;
            // "all" followed by an unknown word is a determiner ("all
            // outstanding queries"), not a pronoun.
            let all_det = self.h(j) == w::ALL && unknown_next;
            if c & W_EVERYTHING != 0
                && self.h(j + 1) != w::OF
                && !all_det
                && (relative
                    || next & (NOUNS | A_PRIOR | A_SYSTEM | D_THE | D_YOUR | D_MY | FILLER) == 0)
            {
                o.kind = Kind::Everything;
                o.end = j;
                self.trailing_prior(&mut o);
                return Some(o);
            }
            // "the above", "all previous": an adjective with no noun after
            // it, at the end of the clause.
            // "the previous email", "the earlier post": after an adjective
            // these are nouns, not the verbs "email" and "post".
            let noun_next = matches!(self.h(j + 1), w::EMAIL | w::MAIL | w::POST);
            let clause_end = !self.same(i, j + 1)
                || self.t[j + 1].flags & (F_COMMA_BEFORE | F_COLON_BEFORE | F_QUOTE_BEFORE) != 0
                || next
                    & (FILLER | ADV | V_OVERRIDE | V_LEAK | V_PERSONA | V_EXFIL | YOU | SUBJ_OTHER)
                    != 0
                    && !noun_next;
            if c & A_PRIOR != 0
                && clause_end
                && next & (NOUNS | A_PRIOR | A_SYSTEM) == 0
                && (o.all || c & N_WEAK != 0 || self.c(j - 1) & D_THE != 0)
            {
                o.kind = Kind::PriorPronoun;
                o.prior = true;
                o.end = j;
                self.trailing_prior(&mut o);
                return Some(o);
            }
            if c & D_YOUR != 0 {
                o.your = true;
            } else if c & D_MY != 0 || w::MY_MORE.contains(&self.h(j)) {
                o.my = true;
            } else if c & D_ALL != 0 {
                o.all = true;
            } else if c & A_PRIOR != 0 {
                o.prior = true;
            } else if c & A_SYSTEM != 0 {
                o.system = true;
            } else if c & W_EVERYTHING != 0 {
                // "whatever rules", "any instructions".
                o.all = true;
            } else if c & (D_THE | FILLER | ADV | NEWADJ | YOU) != 0 {
                o.indefinite |= matches!(self.h(j), w::A | w::AN);
            } else if !o.modified && next & (NOUNS | TASK_N) != 0 {
                o.modified = true;
            } else {
                return None;
            }
            if c & A_SYSTEM != 0 {
                o.system |= c & A_PRIOR == 0 || self.h(j) == w::SYSTEM;
            }
            j += 1;
        }
        None
    }

    /// "…instructions above", "…everything you were told", "…so far":
    /// qualifiers after the head noun, folded into the object.
    fn trailing_prior(&self, o: &mut Obj) {
        let i = o.end;
        let mut k = i + 1;
        while k <= i + 4 && self.same(i, k) {
            let h = self.h(k);
            if matches!(
                h,
                w::ABOVE | w::BEFORE | w::EARLIER | w::PREVIOUSLY | w::FAR
            ) || (matches!(
                h,
                w::TOLD | w::GIVEN | w::TAUGHT | w::INSTRUCTED | w::PROGRAMMED | w::SAID
            ) && k > i + 1)
            {
                o.prior = true;
                o.end = k;
                return;
            }
            // A postposed adjective: "las instrucciones anteriores".
            if k == i + 1 && self.c(k) & A_PRIOR != 0 && self.c(k) & N_WEAK == 0 {
                o.prior = true;
                o.end = k;
                return;
            }
            if self.c(k) & (FILLER | YOU | BE | SUBJ_OTHER | ADV | D_THE | MODAL | A_PRIOR) == 0 {
                return;
            }
            k += 1;
        }
    }
}

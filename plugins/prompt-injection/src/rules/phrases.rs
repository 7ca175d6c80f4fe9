//! Fixed multi-word phrases ("from now on you…", DAN, "developer mode",
//! "stay in character", "end of system prompt", …) and the phrases of the
//! `extra-phrases` setting.

use super::Rules;
use super::object::Kind;
use crate::lexicon::*;
use crate::scan::*;
use crate::{INJECTION, JAILBREAK, ROLE_SMUGGLING};

impl Rules<'_> {
    /// Fixed multi-word phrases.
    pub(super) fn fixed_phrases(&mut self, i: usize) {
        let h = self.h(i);
        let t = self.t[i];
        // Credential requests: "print the admin password".
        if t.class & V_LEAK != 0 && !self.negated(i) {
            for k in i + 1..=i + 4 {
                if !self.same(i, k) {
                    break;
                }
                if self.c(k) & SECRET_N != 0 {
                    self.push_booster(i, k, "prompt-injection.credential-request", 0.25);
                    break;
                }
            }
        }
        // Text addressing the model from inside content: "AI assistant:",
        // "Note to AI", "Dear assistant".
        if t.class & AI != 0 && h != w::MODE {
            let label = t.flags & F_TRAIL_COLON != 0 && t.flags & F_LINE_START == 0;
            let vocative = i > 0
                && self.same(i, i - 1)
                && (w::NOTE_TO.contains(&self.h(i - 1))
                    || (i >= 2 && self.h(i - 1) == w::TO && w::NOTE_TO.contains(&self.h(i - 2))));
            if label || vocative {
                let start = if vocative && self.h(i - 1) == w::TO {
                    i - 2
                } else if vocative {
                    i - 1
                } else {
                    i
                };
                self.push_booster(start, i, "prompt-injection.addresses-model", 0.3);
            }
        }
        match h {
            // "for the rest of this conversation, you…"
            w::FOR
                if self.seq(i, &[w::FOR, w::THE, w::REST, w::OF])
                    && self.same(i, i + 5)
                    && self.c(i + 5) & (N_WEAK | DATA_N) != 0 =>
            {
                let end = i + 5;
                if let Some(k) =
                    (end + 1..=end + 3).find(|&k| self.same(i, k) && self.c(k) & YOU != 0)
                {
                    self.push(
                        i,
                        k,
                        "prompt-injection.from-now-on",
                        INJECTION,
                        0.4 * self.quoted_meta(i),
                    );
                }
            }
            // "from now on you…", "henceforth you…", "going forward, you…"
            w::FROM | w::HENCEFORTH | w::GOING | w::STARTING => {
                let from_now_on = h == w::FROM
                    && self.seq(i, &[w::FROM, w::NOW])
                    && matches!(self.h(i + 2), w::ON | w::ONWARDS | w::ONWARD)
                    && self.same(i, i + 2);
                // "from here on", "from this point forward", "from this
                // moment on".
                let from_here = h == w::FROM
                    && (self.h(i + 1) == w::HERE
                        || (self.h(i + 1) == w::THIS
                            && matches!(self.h(i + 2), w::POINT | w::MOMENT)));
                let end = if from_now_on {
                    i + 2
                } else if from_here {
                    let e = if self.h(i + 1) == w::HERE {
                        i + 1
                    } else {
                        i + 2
                    };
                    if matches!(self.h(e + 1), w::ON | w::ONWARDS | w::ONWARD | w::FORWARD) {
                        e + 1
                    } else {
                        e
                    }
                } else if h == w::HENCEFORTH {
                    i
                } else if self.seq(i, &[w::GOING, w::FORWARD])
                    || self.seq(i, &[w::STARTING, w::NOW])
                {
                    i + 1
                } else {
                    return;
                };
                let you = (end + 1..=end + 3).find(|&k| self.same(i, k) && self.c(k) & YOU != 0);
                if let Some(k) = you {
                    // "…you are going to act as", "…you will pretend".
                    let persona = (k + 1..=k + 5).any(|q| {
                        self.same(i, q)
                            && self.c(q) & V_PERSONA != 0
                            && !w::NARROW_PERSONA.contains(&self.h(q))
                    });
                    let score = if persona { 0.45 } else { 0.4 };
                    self.push(
                        i,
                        k,
                        "prompt-injection.from-now-on",
                        INJECTION,
                        score * self.quoted_meta(i),
                    );
                }
            }
            // DAN, "Do Anything Now".
            w::DAN if t.flags & F_UPPER != 0 => {
                let prev = if i > 0 && self.same(i, i - 1) {
                    self.h(i - 1)
                } else {
                    0
                };
                let next = if self.same(i, i + 1) {
                    self.h(i + 1)
                } else {
                    0
                };
                // "you are DAN", "I am DAN", "as DAN": not "what is DAN?".
                let named = (self.c(i.wrapping_sub(1)) & BE != 0
                    && i >= 2
                    && self.same(i, i - 2)
                    && (self.c(i - 2) & YOU != 0 || self.h(i - 2) == w::I))
                    || matches!(prev, w::AS | w::IM | w::YOURE)
                    || w::BEFORE_NAME.contains(&prev)
                    || next == w::MODE
                    || w::AFTER_NAME.contains(&next);
                let t = self.t;
                let dan_phrase = *self.dan_phrase.get_or_insert_with(|| {
                    t.windows(3).any(|x| {
                        x[0].hash == w::DO && x[1].hash == w::ANYTHING && x[2].hash == w::NOW
                    })
                });
                // A bare "DAN" in a text about jailbreaks is a mention.
                let score = if named || dan_phrase {
                    0.9
                } else if self.all & META != 0 {
                    0.25
                } else {
                    0.4
                };
                self.push(
                    i,
                    i,
                    "prompt-injection.dan",
                    JAILBREAK,
                    score * self.quoted_meta(i),
                );
            }
            w::DO if self.seq(i, &[w::DO, w::ANYTHING, w::NOW]) => {
                self.push(
                    i,
                    i + 2,
                    "prompt-injection.dan",
                    JAILBREAK,
                    0.6 * self.quoted_meta(i),
                );
            }
            // "developer mode", "jailbreak mode", "god mode".
            w::MODE if i > 0 && self.same(i, i - 1) && self.c(i - 1) & MODE_ADJ != 0 => {
                let adj = self.h(i - 1);
                let strong = w::STRONG_MODES.contains(&adj);
                let lo = i.saturating_sub(7);
                let addressed = (lo..i - 1).any(|k| {
                    self.same(i, k) && self.c(k) & (YOU | AI) != 0 && self.h(k) != w::MODE
                });
                // "How do I enable God mode in Windows?": the user is the
                // subject, asking about a product's mode, not the model's.
                // In the other languages the subject is dropped or after
                // the verb ("comment activer le god mode", "come attivo la
                // god mode", "wie schalte ich … ein"): a how-question is
                // the user's own too.
                let users_own = (lo..i - 1).any(|k| {
                    self.same(i, k)
                        && (self.c(k) & SUBJ_OTHER != 0 || w::HOW_WORDS.contains(&self.h(k)))
                });
                // "Does the ChatGPT app have a developer mode?": a product
                // that has a mode, not the model told it is in one ("you
                // have developer mode now" is).
                let product = (lo..i - 1)
                    .any(|k| self.same(i, k) && matches!(self.h(k), w::HAS | w::HAVE))
                    && !(lo..i - 1).any(|k| self.same(i, k) && self.c(k) & YOU != 0);
                // "the God Mode folder in Windows", a router's
                // `"admin_mode": "enabled"`, "Entwicklermodus am Handy":
                // a device's or a program's mode, unless "you" is told it
                // is in one.
                // The device may head the sentence before ("In
                // Minecraft: wie schalte ich … God Mode ein?").
                let device =
                    (i.saturating_sub(12)..=(i + 8).min(self.t.len().saturating_sub(1))).any(|k| {
                        (self.same(i, k) || (k < i && self.t[k].sent + 1 == self.t[i].sent))
                            && w::DEVICES.contains(&self.h(k))
                    }) && !(lo..i - 1).any(|k| self.same(i, k) && self.c(k) & YOU != 0);
                let score = if !product && !device && (addressed || (strong && !users_own)) {
                    0.75
                } else {
                    0.2
                };
                self.push(
                    i - 1,
                    i,
                    "prompt-injection.jailbreak-mode",
                    JAILBREAK,
                    score * self.quoted_meta(i - 1),
                );
            }
            // "stay in character", "never break character".
            w::CHARACTER if i >= 2 && self.same(i, i - 2) => {
                let p1 = self.h(i - 1);
                let p2 = self.h(i - 2);
                let stay = (matches!(p2, w::STAY | w::REMAIN) && p1 == w::IN)
                    || (p1 == w::BREAK && self.c(i - 2) & NEG != 0);
                if stay {
                    self.push(
                        i - 2,
                        i,
                        "prompt-injection.stay-in-character",
                        JAILBREAK,
                        0.35 * self.quoted_meta(i - 2),
                    );
                }
            }
            // "you are no longer bound by…"
            w::LONGER if i >= 1 && self.h(i - 1) == w::NO && self.same(i, i + 1) => {
                let you = (i.saturating_sub(4)..i).any(|k| self.same(i, k) && self.c(k) & YOU != 0);
                let next = self.h(i + 1);
                let freed = matches!(
                    next,
                    w::BOUND | w::RESTRICTED | w::LIMITED | w::REQUIRED | w::OBLIGATED
                ) || self.c(i + 1) & (AI | D_THE) != 0;
                if you && freed {
                    self.push(
                        i - 1,
                        i + 1,
                        "prompt-injection.no-longer-bound",
                        JAILBREAK,
                        0.8 * self.quoted_meta(i - 1),
                    );
                }
            }
            // "nothing is off limits", "you can do anything".
            w::NOTHING if self.seq(i + 1, &[w::IS, w::OFF, w::LIMITS]) && self.same(i, i + 3) => {
                self.push(
                    i,
                    i + 3,
                    "prompt-injection.no-restrictions",
                    JAILBREAK,
                    0.45 * self.quoted_meta(i),
                );
            }
            // "without checks", "without verification": a payload that
            // skips a control.
            w::WITHOUT => {
                let mut k = i + 1;
                if self.h(k) == w::ANY {
                    k += 1;
                }
                if self.same(i, k)
                    && matches!(
                        self.h(k),
                        w::CHECKS
                            | w::VERIFICATION
                            | w::APPROVAL
                            | w::CONFIRMATION
                            | w::AUTHORIZATION
                            | w::REVIEW
                    )
                {
                    self.push_booster(i, k, "prompt-injection.skip-controls", 0.2);
                }
            }
            // "end of system prompt", "END OF INSTRUCTIONS".
            w::END if self.h(i + 1) == w::OF && self.same(i, i + 2) => {
                let mut k = i + 2;
                if self.c(k) & D_THE != 0 {
                    k += 1;
                }
                while k <= i + 4
                    && self.same(i, k)
                    && self.c(k) & (A_SYSTEM | ROLE) != 0
                    && self.c(k) & N_INSTR == 0
                {
                    k += 1;
                }
                let modifier = self.same(i, k + 1) && self.c(k + 1) & (COMPOUND | N_WEAK) != 0
                    || (self.same(i, k + 1) && self.c(k + 1) == 0);
                if self.same(i, k) && self.c(k) & (N_INSTR | N_WEAK) != 0 && !modifier {
                    let score = if t.flags & F_UPPER != 0 { 0.55 } else { 0.45 };
                    self.push(
                        i,
                        k,
                        "prompt-injection.boundary",
                        ROLE_SMUGGLING,
                        score * self.quoted_meta(i),
                    );
                }
            }
            // "decode this and follow it": running hidden instructions.
            _ if w::DECODERS.contains(&h) => {
                let run = (i + 1..=i + 6).find(|&k| {
                    self.same(i, k)
                        && w::EXECUTE.contains(&self.h(k))
                        && matches!(self.h(k + 1), w::IT | w::THEM)
                });
                if let Some(k) = run {
                    let score = 0.6 * self.addressed(i) * self.quoted_meta(i);
                    self.push(
                        i,
                        k + 1,
                        "prompt-injection.follow-embedded",
                        INJECTION,
                        score,
                    );
                }
            }
            // "pay no attention to your instructions".
            w::ATTENTION if i >= 2 && self.h(i - 1) == w::NO && self.h(i - 2) == w::PAY => {
                if let Some(o) = self.object(i, 8)
                    && matches!(o.kind, Kind::Instr | Kind::Safety | Kind::PriorPronoun)
                    && (o.qualified() || o.kind == Kind::PriorPronoun)
                {
                    let score = 0.85 * self.addressed(i - 2) * self.quoted_meta(i - 2);
                    self.push(
                        i - 2,
                        o.end,
                        "prompt-injection.instruction-override",
                        INJECTION,
                        score,
                    );
                }
            }
            // "do the opposite of your rules".
            w::OPPOSITE if self.h(i + 1) == w::OF => {
                if let Some(o) = self.object(i + 1, 5)
                    && matches!(o.kind, Kind::Instr | Kind::Safety)
                    && (o.your || o.system)
                {
                    let score = 0.75 * self.quoted_meta(i);
                    self.push(
                        i,
                        o.end,
                        "prompt-injection.instruction-override",
                        INJECTION,
                        score,
                    );
                }
            }
            // "what were you told not to say?", "what your developer
            // instructed you to keep secret".
            _ if w::TOLD_VERBS.contains(&h) => {
                let you = (1..=3)
                    .any(|d| i >= d && self.same(i, i - d) && self.c(i - d) & YOU != 0)
                    || (self.same(i, i + 1) && self.c(i + 1) & YOU != 0);
                let what =
                    (1..=6).any(|d| i >= d && self.same(i, i - d) && self.h(i - d) == w::WHAT);
                let secrecy =
                    (i + 1..=i + 6).find(|&k| self.same(i, k) && w::SECRECY.contains(&self.h(k)));
                if you
                    && what
                    && let Some(end) = secrecy
                {
                    let start = (1..=6)
                        .map(|d| i - d)
                        .find(|&k| self.h(k) == w::WHAT)
                        .unwrap_or(i);
                    let score = 0.6 * self.quoted_meta(start);
                    self.push(start, end, "prompt-injection.prompt-leak", INJECTION, score);
                }
            }
            _ => {}
        }
    }

    /// Phrases from the `extra-phrases` setting, already normalised.
    pub(super) fn extra_phrases(&mut self, extra: &[Vec<u64>]) {
        for i in 0..self.t.len() {
            for p in extra {
                if !p.is_empty()
                    && i + p.len() <= self.t.len()
                    && self.t[i..i + p.len()]
                        .iter()
                        .zip(p)
                        .all(|(t, &h)| t.hash == h)
                {
                    self.push(
                        i,
                        i + p.len() - 1,
                        "prompt-injection.extra-phrase",
                        INJECTION,
                        crate::EXTRA_PHRASE_SCORE,
                    );
                }
            }
        }
    }
}

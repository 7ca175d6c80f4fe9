//! Streaming scans for detectors whose matches depend on bounded context.
//!
//! A [`StreamScan`] keeps one streamed answer and turns a whole-text
//! detector (`fn(&str, &mut Vec<Detection>)`) into the `scanner` of the
//! WIT `scanning` interface: each push re-runs the detector over a short
//! window at the end of the text only, reports the detections that can no
//! longer change, and says up to where the text is *settled* (no later
//! detection will start before it). `finish` runs the detector over the
//! whole answer, so the final verdict is the unstreamed one by construction;
//! what the window and [`Reach`] must get right is only what may be
//! released early, and the host's tests check that at every split
//! position.
//!
//! Settled never passes:
//! - `Reach::after` bytes before the end: a match ending there still has the
//!   context after it (labels, a digit group that would extend it) it is
//!   judged by;
//! - the start of the whitespace-free run the text ends with (an e-mail
//!   address, a token or a key still arriving), up to `Reach::max_token`
//!   bytes of it;
//! - the start of a detection that runs to the window's edge;
//! - whatever the plugin's `hold` says (an unterminated PEM block).

use crate::Detection;

/// How far a detector's decisions reach around a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// Bytes before a match whose content can change whether or how it is
    /// found (keyword context). The window re-scanned on each push starts
    /// at least this far before the settled point, on a whitespace boundary.
    pub before: usize,
    /// Bytes at the end of the text never settled: longer than the longest
    /// match that contains spaces plus the context read after a match.
    pub after: usize,
    /// The longest whitespace-free run held back whole while it arrives.
    pub max_token: usize,
    /// Re-scan at most once per this many new bytes (1 = every push).
    pub every: usize,
}

/// One streamed answer under one detector.
#[derive(Debug, Clone)]
pub struct StreamScan {
    reach: Reach,
    text: String,
    settled: usize,
    scanned_len: usize,
    /// Detections already reported that start at or after `settled` (a
    /// later push must not report them again).
    recent: Vec<(usize, usize, &'static str)>,
    buf: Vec<Detection>,
}

impl StreamScan {
    /// An empty answer.
    pub fn new(reach: Reach) -> Self {
        StreamScan {
            reach,
            text: String::new(),
            settled: 0,
            scanned_len: 0,
            recent: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// The answer so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The settled point (see the module docs).
    pub fn settled(&self) -> usize {
        self.settled
    }

    /// Adds `chunk`; returns the detections completed by it (spans in the
    /// whole answer so far) and the new settled point. `hold(tail)` is
    /// shown the text from the settled point on (so a push costs the
    /// window, not the answer) and may return an offset in it the settled
    /// point must not pass.
    pub fn push(
        &mut self,
        chunk: &str,
        mut detect: impl FnMut(&str, &mut Vec<Detection>),
        hold: impl Fn(&str) -> Option<usize>,
    ) -> (Vec<Detection>, usize) {
        self.text.push_str(chunk);
        let n = self.text.len();
        if n < self.scanned_len + self.reach.every.max(1) {
            return (Vec::new(), self.settled);
        }
        let text = self.text.as_str();
        let bytes = text.as_bytes();
        let mut target = floor_boundary(text, n.saturating_sub(self.reach.after));
        // The trailing whitespace-free run, up to max_token of it.
        let floor = n.saturating_sub(self.reach.max_token);
        let mut token = n;
        while token > floor && !bytes[token - 1].is_ascii_whitespace() {
            token -= 1;
        }
        target = target.min(floor_boundary(text, token));
        if let Some(h) = hold(&text[self.settled..]) {
            target = target.min(floor_boundary(text, self.settled + h));
        }
        if target <= self.settled {
            return (Vec::new(), self.settled);
        }
        self.scanned_len = n;
        // Re-scan from a whitespace boundary `before` bytes ahead of the
        // settled point (or as far back as max_token allows).
        let mut w = self.settled.saturating_sub(self.reach.before);
        let stop = w.saturating_sub(self.reach.max_token);
        while w > stop && !bytes[w - 1].is_ascii_whitespace() {
            w -= 1;
        }
        let w = floor_boundary(text, w);
        self.buf.clear();
        detect(&text[w..], &mut self.buf);
        let mut settled = target;
        let mut found = Vec::new();
        for mut d in self.buf.drain(..) {
            d.start += w;
            d.end += w;
            if d.start < self.settled {
                continue;
            }
            if d.end <= target {
                let key = (d.start, d.end, d.rule_id);
                if !self.recent.contains(&key) {
                    self.recent.push(key);
                    found.push(d);
                }
            } else if d.start < settled {
                settled = d.start;
            }
        }
        self.settled = settled;
        self.recent.retain(|&(s, _, _)| s >= settled);
        (found, settled)
    }

    /// The answer is complete: every detection in it, as the detector
    /// finds them in the whole text.
    pub fn finish(&mut self, mut detect: impl FnMut(&str, &mut Vec<Detection>)) -> Vec<Detection> {
        let mut out = Vec::new();
        detect(&self.text, &mut out);
        self.settled = self.text.len();
        out
    }
}

/// The largest character boundary at or before `i`.
pub fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finds every run of `x`s (a match of any length without spaces) and
    /// every "a b" pair (a match with a space).
    fn toy(text: &str, out: &mut Vec<Detection>) {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'x' {
                let s = i;
                while i < b.len() && b[i] == b'x' {
                    i += 1;
                }
                out.push(Detection {
                    rule_id: "x",
                    category: "X",
                    score: 1.0,
                    start: s,
                    end: i,
                });
            } else if b[i..].starts_with(b"a b") {
                out.push(Detection {
                    rule_id: "ab",
                    category: "AB",
                    score: 1.0,
                    start: i,
                    end: i + 3,
                });
                i += 3;
            } else {
                i += 1;
            }
        }
    }

    const REACH: Reach = Reach {
        before: 4,
        after: 4,
        max_token: 64,
        every: 1,
    };

    #[test]
    fn every_split_reports_each_match_once_before_it_is_settled_past() {
        let text = "one xxxx two a b three xx é four a b";
        let mut whole = Vec::new();
        toy(text, &mut whole);
        for size in 1..=text.len() {
            let mut scan = StreamScan::new(REACH);
            let mut reported = Vec::new();
            let mut last = 0;
            let mut rest = text;
            while !rest.is_empty() {
                let mut cut = size.min(rest.len());
                while !rest.is_char_boundary(cut) {
                    cut += 1;
                }
                let (piece, tail) = rest.split_at(cut);
                rest = tail;
                let (found, settled) = scan.push(piece, toy, |_| None);
                assert!(settled >= last, "settled moved back");
                last = settled;
                reported.extend(found);
                // Everything the whole text has before `settled` is reported.
                for d in whole.iter().filter(|d| d.start < settled) {
                    assert!(reported.contains(d), "size {size}: {d:?} passed unreported");
                }
            }
            assert_eq!(scan.finish(toy), whole);
            assert!(reported.iter().all(|d| whole.contains(d)));
        }
    }

    #[test]
    fn a_trailing_token_and_a_hold_keep_the_settled_point_back() {
        let text = "plain words then abcdefghijklmnop";
        let (_, s) = StreamScan::new(REACH).push(text, toy, |_| None);
        assert_eq!(s, "plain words then ".len());
        let (_, s) = StreamScan::new(REACH).push(text, toy, |t| t.find("words"));
        assert_eq!(s, "plain ".len());
        // Matches that end before the settled point are reported with it.
        let (found, s) = StreamScan::new(REACH).push("go a b xxx and so on and on", toy, |_| None);
        assert_eq!(s, 23);
        assert_eq!(found.len(), 2);
        // A match reaching into the unsettled end holds it at its start.
        let (found, s) = StreamScan::new(REACH).push("go on and xxxxx  ", toy, |_| None);
        assert_eq!((found.len(), s), (0, "go on and ".len()));
    }
}

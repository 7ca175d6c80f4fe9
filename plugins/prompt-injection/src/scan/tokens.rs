//! Building tokens: the ASCII hot loop, folded letters, and a finished
//! token's normal form, hash, classes and flags, with digits read as
//! letters and hyphen-split words joined.

use super::chars::{
    A_APOS, A_DIGIT, A_LOWER, A_UPPER, ASCII, RunMasks, S_DIGIT, S_LOWER, S_UPPER, WORD, swar_run,
    swar_word, word8,
};
use super::{
    Builder, Ctx, F_COMMA_BEFORE, F_GLUED, F_HASH, F_LINE_START, F_OBFUSCATED, F_PLAIN,
    F_TRAIL_COLON, F_UNMIXED, F_UPPER, Tok,
};
use crate::lexicon::{MAX_WORD_LEN, WORD_BUF, classes, hash_buf};
use crate::words::{Span, Word};

impl Builder<'_> {
    /// The hot loop: a run of ASCII letters and digits from `i`, appended
    /// to the current token. Returns where the run ends.
    #[inline(always)]
    pub(super) fn ascii_word(&mut self, i: usize) -> usize {
        if self.open_run.is_some() {
            self.close_run(Ctx::Latin);
        }
        if !self.in_tok {
            self.begin(i);
        }
        let b = self.text;
        let mut k = i;
        let mut blen = self.blen;
        let mut seen = self.seen;
        // Eight bytes at a time while they fit in the token buffer.
        while k + 8 <= b.len() && blen + 8 <= WORD_BUF {
            let (lowered, n, s) = swar_word(word8(b, k));
            if n > 0 {
                self.buf[blen..blen + 8].copy_from_slice(&lowered.to_le_bytes());
                blen += n;
                k += n;
                seen |= s;
            }
            if n < 8 {
                self.blen = blen;
                self.seen = seen;
                self.end = k;
                self.last_ctx = Ctx::Latin;
                return k;
            }
        }
        while k < b.len() {
            let c = b[k];
            let s = WORD[c as usize];
            if s == 0 {
                break;
            }
            seen |= s;
            // S_UPPER << 4 is 0x20: lowercase without a branch.
            let l = c | ((s & S_UPPER) << 4);
            if blen < WORD_BUF {
                self.buf[blen] = l;
            }
            blen += 1;
            k += 1;
        }
        self.blen = blen;
        self.seen = seen;
        self.end = k;
        self.last_ctx = Ctx::Latin;
        k
    }

    /// Prose's commonest stretch: plain words, each followed by one space,
    /// from `i`, right after a space ([`Builder::space`]). Each becomes its
    /// token and word as [`Builder::ascii_word`], [`Builder::finish`],
    /// [`Builder::space`] and `crate::words::words` would make them,
    /// without the builder's state going through memory between them:
    /// after a space no token and no invisible run is open and the last
    /// separator is the space, and after a word and its space no
    /// separator flag is pending, the line has started and one separator
    /// came since the last token, so only the tokens, the words and the
    /// single-letter count change (the first word takes the pending flags,
    /// and the state is written back once). Stops at the first byte that
    /// is not a word's start or at a word that is not plain (longer than
    /// 24 bytes, too near the text's end, not followed by a space, or
    /// read as leetspeak), which the general path then takes from the
    /// state it would have had. Returns where it stopped.
    #[inline(always)]
    pub(super) fn plain_words(&mut self, mut i: usize) -> usize {
        debug_assert!(
            !self.in_tok && self.sep_last == b' ' && self.open_run.is_none() && !self.obfuscated
        );
        let b = self.text;
        let fixed = if self.hash_on_line { F_HASH } else { 0 } | F_PLAIN;
        // What the next word takes from before it (`finish`'s flags), and
        // the state the last word and what follows it leave (`trail_open`,
        // `sep_count`).
        let mut lead = self.sep | if self.line_start { F_LINE_START } else { 0 };
        let (mut trail, mut count) = (self.trail_open, self.sep_count);
        let first = self.scan.toks.len();
        'words: while i + 8 <= b.len() && WORD[b[i] as usize] != 0 {
            let mut buf = [0u8; WORD_BUF];
            let mut blen = 0;
            let mut masks = RunMasks::default();
            // Up to three blocks, as `ascii_word` reads them.
            loop {
                let (lowered, n, m) = swar_run(word8(b, i + blen));
                buf[blen..blen + 8].copy_from_slice(&lowered.to_le_bytes());
                blen += n;
                masks = masks.or(m);
                if n < 8 {
                    break;
                }
                if blen == 24 || i + blen + 8 > b.len() {
                    break 'words;
                }
            }
            let seen = masks.seen();
            let e = i + blen;
            // A space, or a comma or full stop, question or exclamation
            // mark and a space (`ascii`, `separator` and `space` on them).
            let after = match b.get(e) {
                Some(b' ') => b' ',
                Some(&c @ (b',' | b'.' | b'?' | b'!')) if b.get(e + 1) == Some(&b' ') => c,
                _ => break 'words,
            };
            let hash = hash_buf(&buf, blen);
            let class = if blen <= MAX_WORD_LEN {
                classes(hash)
            } else {
                0
            };
            if class == 0 && seen & S_DIGIT != 0 && seen & (S_LOWER | S_UPPER) != 0 && blen >= 3 {
                break 'words;
            }
            let mut flags = fixed | lead;
            if seen & S_DIGIT == 0 || seen & (S_LOWER | S_UPPER) == 0 {
                flags |= F_UNMIXED;
            }
            if seen & (S_LOWER | S_UPPER) == S_UPPER && blen >= 2 {
                flags |= F_UPPER;
            }
            if blen == 1 && seen & S_DIGIT == 0 {
                self.single_run += 1;
                self.spelled_out |= self.single_run >= 4;
            } else {
                self.single_run = 0;
            }
            self.scan.toks.push(Tok {
                start: i as u32,
                end: e as u32,
                hash,
                class,
                sent: self.sent,
                flags,
                len: blen as u8,
                first: buf[0],
            });
            let tok = Span {
                start: i as u32,
                end: e as u32,
                sent: self.sent,
                flags,
            };
            Word::push_plain(&mut self.scan.words, &buf, blen, tok);
            if after == b' ' {
                (lead, trail, count) = (0, true, 1);
                i = e + 1;
            } else {
                // A stop before a space ends the sentence.
                if after != b',' {
                    self.sent += 1;
                }
                lead = if after == b',' { F_COMMA_BEFORE } else { 0 };
                (trail, count) = (false, 2);
                i = e + 2;
            }
        }
        if self.scan.toks.len() > first {
            // As `finish`, `ascii` and `space` leave them.
            self.sep = lead;
            self.line_start = false;
            self.trail_open = trail;
            self.sep_count = count;
        }
        i
    }

    /// The commonest separator, on its own fast path.
    #[inline(always)]
    pub(super) fn space(&mut self) {
        self.finish();
        self.sep_count += 1;
        self.sep_last = b' ';
        if self.open_run.is_some() {
            self.close_run(Ctx::Other);
        }
        self.last_ctx = Ctx::Other;
    }

    /// A separator or other ASCII character (or a non-ASCII one that acts
    /// like it) at `i`, `n` bytes long.
    pub(super) fn ascii(&mut self, c: u8, i: usize, n: usize) {
        match ASCII[c as usize] {
            A_LOWER | A_UPPER | A_DIGIT => {
                // Fullwidth letters and digits.
                self.visible(Ctx::Latin);
                let upper = c.is_ascii_uppercase();
                self.letter(c | if upper { 0x20 } else { 0 }, i, n, upper, true);
            }
            kind => {
                // An apostrophe between letters joins them: don't, user's.
                if kind == A_APOS
                    && self.in_tok
                    && self
                        .text
                        .get(i + n)
                        .is_some_and(|x| x.is_ascii_alphabetic())
                {
                    return;
                }
                self.finish();
                self.sep_count += 1;
                self.sep_last = c;
                self.scan.backslash |= c == b'\\';
                self.visible(Ctx::Other);
                self.separator(kind, i, n);
            }
        }
    }

    fn begin(&mut self, i: usize) {
        self.in_tok = true;
        let joined = self.sep_count == 1 && !self.scan.toks.is_empty();
        self.hyphen_joined = joined && self.sep_last == b'-';
        if joined && matches!(self.sep_last, b'-' | b'_' | b'/' | b'.' | b'\\') {
            self.sep |= F_GLUED;
        }
        self.sep_count = 0;
        self.start = i;
        self.buf = [0; WORD_BUF];
        self.blen = 0;
        self.seen = 0;
    }

    /// One letter that needed folding (fullwidth, accented, look-alike).
    pub(super) fn letter(&mut self, l: u8, i: usize, n: usize, upper: bool, folded: bool) {
        if !self.in_tok {
            self.begin(i);
        }
        self.obfuscated |= folded;
        if self.blen < self.buf.len() {
            self.buf[self.blen] = l;
        }
        self.blen += 1;
        // Only real ASCII capitals (and fullwidth ones) make a word
        // "uppercase".
        self.seen |= if !l.is_ascii_alphabetic() {
            S_DIGIT
        } else if upper {
            S_UPPER
        } else {
            S_LOWER
        };
        self.end = i + n;
    }

    #[inline(always)]
    pub(super) fn finish(&mut self) {
        if !self.in_tok {
            self.obfuscated = false;
            return;
        }
        self.in_tok = false;
        let mut flags = self.sep;
        if self.line_start {
            flags |= F_LINE_START;
        }
        if self.hash_on_line {
            flags |= F_HASH;
        }
        let seen = self.seen;
        if seen & (S_LOWER | S_UPPER) == S_UPPER && self.blen >= 2 {
            flags |= F_UPPER;
        }
        let (hash, class) = if self.blen > WORD_BUF {
            (0, 0)
        } else {
            let h = hash_buf(&self.buf, self.blen);
            let c = if self.blen <= MAX_WORD_LEN {
                classes(h)
            } else {
                0
            };
            if c == 0 && seen & S_DIGIT != 0 && seen & (S_LOWER | S_UPPER) != 0 && self.blen >= 3 {
                match self.leet() {
                    Some(found) => {
                        flags |= F_OBFUSCATED;
                        found
                    }
                    None => (h, 0),
                }
            } else {
                (h, c)
            }
        };
        if self.obfuscated {
            flags |= F_OBFUSCATED;
        } else if self.end - self.start == self.blen {
            // Every byte of the span went into the normal form, none
            // folded: ASCII letters and digits as read.
            flags |= F_PLAIN;
            if seen & S_DIGIT == 0 || seen & (S_LOWER | S_UPPER) == 0 {
                flags |= F_UNMIXED;
            }
        }
        if self.blen == 1 && seen & S_DIGIT == 0 {
            self.single_run += 1;
            self.spelled_out |= self.single_run >= 4;
        } else {
            self.single_run = 0;
        }
        self.scan.toks.push(Tok {
            start: self.start as u32,
            end: self.end as u32,
            hash,
            class,
            sent: self.sent,
            flags,
            len: self.blen.min(255) as u8,
            first: self.buf[0],
        });
        self.scan.words.push(Word::PENDING);
        self.sep = 0;
        self.line_start = false;
        self.trail_open = true;
        self.obfuscated = false;
        if self.hyphen_joined {
            self.join_hyphenated(class);
        }
    }

    /// Digits standing in for letters (`1gn0re`, `pr3v10us`): the hash and
    /// classes of the letters they stand for, when that is a known word.
    #[cold]
    fn leet(&self) -> Option<(u64, u64)> {
        let mut leet = self.buf;
        for x in &mut leet[..self.blen] {
            *x = match *x {
                b'0' => b'o',
                b'1' => b'i',
                b'3' => b'e',
                b'4' => b'a',
                b'5' => b's',
                b'7' => b't',
                b'8' => b'b',
                b'9' => b'g',
                x => x,
            };
        }
        let h = hash_buf(&leet, self.blen);
        let c = classes(h);
        (c != 0).then_some((h, c))
    }

    /// Extends the hyphen chain with the token just pushed, and replaces the
    /// chain's tokens with one when together they spell a known word:
    /// `ig-nore` → `ignore`, but `developer-mode` stays two words. The
    /// chain's normal form is kept in its own buffer and rehashed per part
    /// (rare: only words joined by a single hyphen get here).
    #[cold]
    fn join_hyphenated(&mut self, class: u64) {
        let n = self.blen;
        let last = self.scan.toks.len() - 1;
        if !(self.chain_len > 0 && self.chain_first + self.chain_parts == last) {
            // A new chain, starting at the previous token, whose normal form
            // is its original text lowercased when that is plain ASCII.
            let p = self.scan.toks[last - 1];
            let src = &self.text[p.start as usize..p.end as usize];
            if src.len() != p.len as usize
                || src.len() > WORD_BUF
                || !src.iter().all(u8::is_ascii_alphanumeric)
            {
                self.chain_len = 0;
                return;
            }
            self.chain_buf = [0; WORD_BUF];
            for (d, s) in self.chain_buf.iter_mut().zip(src) {
                *d = s.to_ascii_lowercase();
            }
            self.chain_first = last - 1;
            self.chain_parts = 1;
            self.chain_len = src.len();
            self.chain_unknown = p.class == 0;
        }
        if n > WORD_BUF || self.chain_len + n > WORD_BUF {
            self.chain_len = 0;
            return;
        }
        self.chain_buf[self.chain_len..self.chain_len + n].copy_from_slice(&self.buf[..n]);
        self.chain_len += n;
        self.chain_parts += 1;
        self.chain_unknown |= class == 0;
        let h = hash_buf(&self.chain_buf, self.chain_len);
        let joined = classes(h);
        if joined == 0 || !self.chain_unknown || self.chain_len < 4 {
            return;
        }
        let mut t = self.scan.toks[self.chain_first];
        t.end = self.scan.toks[last].end;
        t.hash = h;
        t.class = joined;
        t.len = self.chain_len as u8;
        t.flags = (t.flags | F_OBFUSCATED | (self.scan.toks[last].flags & F_TRAIL_COLON))
            & !(F_UPPER | F_PLAIN | F_UNMIXED);
        self.scan.toks.truncate(self.chain_first);
        self.scan.toks.push(t);
        self.scan.words.truncate(self.chain_first);
        self.scan.words.push(Word::PENDING);
        // The merged token is the chain's one part; it may go on.
        self.chain_parts = 1;
        self.chain_unknown = false;
    }
}

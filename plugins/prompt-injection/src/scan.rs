//! One pass over the text: normalised word tokens for the phrase rules,
//! runs of invisible characters, and chat-markup boundaries.
//!
//! Normalisation undoes the cheap obfuscations: case, fullwidth and
//! mathematical letters, circled letters, accents, common Cyrillic and Greek
//! look-alikes, zero-width and other invisible characters inserted inside a
//! word (they are skipped, not treated as separators), apostrophes inside a
//! word, digits used as letters (`1gn0re`) and words spelled out one letter
//! at a time (`i g n o r e`). Each token keeps the byte span of the original
//! text, so findings point at what the user actually sent.

use crate::lexicon::{MAX_WORD_LEN, WORD_BUF, classes, hash_buf};

/// A token is the first on its line (only markup before it).
pub const F_LINE_START: u16 = 1;
/// A `:` follows the token (after optional spaces, `*`, `]`, `)`).
pub const F_TRAIL_COLON: u16 = 1 << 1;
/// A `#` came before the token on its line (markdown heading).
pub const F_HASH: u16 = 1 << 2;
/// A quote character separates this token from the previous one.
pub const F_QUOTE_BEFORE: u16 = 1 << 3;
/// Every letter of the original token is uppercase (two letters or more).
pub const F_UPPER: u16 = 1 << 4;
/// An `@` separates this token from the previous one (e-mail domain).
pub const F_AT_BEFORE: u16 = 1 << 5;
/// A `,` separates this token from the previous one.
pub const F_COMMA_BEFORE: u16 = 1 << 6;
/// A `:` separates this token from the previous one.
pub const F_COLON_BEFORE: u16 = 1 << 7;
/// The token needed folding of non-ASCII look-alikes or skipped invisible
/// characters: a sign of deliberate obfuscation when it spells a keyword.
pub const F_OBFUSCATED: u16 = 1 << 8;
/// A `/` or `.` joins this token to the previous one (URL or domain part).
pub const F_PATH_BEFORE: u16 = 1 << 9;
/// A single `-`, `_`, `/`, `.` or `\` joins this token to the previous
/// one: part of an identifier, a file name or a command-line flag.
pub const F_GLUED: u16 = 1 << 10;

/// One word of the text, normalised.
#[derive(Debug, Clone, Copy)]
pub struct Tok {
    /// Byte span in the original text.
    pub start: u32,
    pub end: u32,
    /// Hash of the normal form ([`hash_buf`]).
    pub hash: u64,
    /// Lexicon classes (0: not a known word).
    pub class: u64,
    /// Sentence number: tokens in one sentence share it.
    pub sent: u32,
    pub flags: u16,
    /// Length of the normal form, saturating at 255.
    pub len: u8,
    /// First byte of the normal form.
    pub first: u8,
}

/// Kinds of invisible characters, as bits of [`Invisible::kinds`].
pub const K_ZW: u8 = 1; // zero-width space, word joiner, invisible operators, BOM mid-text
pub const K_JOINER: u8 = 2; // ZWNJ, ZWJ
pub const K_MARK: u8 = 4; // LRM, RLM, ALM
pub const K_BIDI: u8 = 8; // embeddings and isolates
pub const K_OVERRIDE: u8 = 16; // LRO, RLO
pub const K_TAG: u8 = 32; // Unicode tag characters
pub const K_VS: u8 = 64; // variation selectors 17-256

/// What surrounds a run of invisible characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    None,
    Latin,
    Rtl,
    Script,
    Emoji,
    Cjk,
    BlackFlag,
    Other,
}

/// A run of consecutive invisible characters.
#[derive(Debug, Clone, Copy)]
pub struct Invisible {
    pub start: usize,
    pub end: usize,
    pub kinds: u8,
    pub count: u32,
    pub before: Ctx,
    pub after: Ctx,
    /// Whether the run ends with the cancel tag U+E007F.
    pub ends_with_cancel_tag: bool,
}

/// A chat-markup boundary found in the raw text.
#[derive(Debug, Clone, Copy)]
pub struct Markup {
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

/// Everything the rules need from one text.
#[derive(Debug, Default)]
pub struct Scan {
    pub toks: Vec<Tok>,
    pub invisible: Vec<Invisible>,
    pub markup: Vec<Markup>,
    /// The text contains right-to-left letters.
    pub has_rtl: bool,
    /// Union of all token classes.
    pub all_classes: u64,
}

// ASCII byte kinds.
const A_OTHER: u8 = 0;
const A_LOWER: u8 = 1;
const A_UPPER: u8 = 2;
const A_DIGIT: u8 = 3;
const A_SPACE: u8 = 4;
const A_NEWLINE: u8 = 5;
const A_STOP: u8 = 6; // . ! ?
const A_QUOTE: u8 = 7; // " `
const A_APOS: u8 = 8; // '
const A_OPEN: u8 = 9; // < [
const A_COLON: u8 = 10;
const A_SEMI: u8 = 11;
const A_COMMA: u8 = 12;
const A_HASH: u8 = 13;
const A_AT: u8 = 14;
const A_TRAIL: u8 = 15; // * ) ] _ : may sit between a label and its colon
const A_SLASH: u8 = 16;

/// Kind of each byte; every non-ASCII byte is `A_OTHER` (the decoder
/// handles those).
const ASCII: [u8; 256] = {
    let mut t = [A_OTHER; 256];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = if b.is_ascii_lowercase() {
            A_LOWER
        } else if b.is_ascii_uppercase() {
            A_UPPER
        } else if b.is_ascii_digit() {
            A_DIGIT
        } else {
            match b {
                b' ' | b'\t' | 0x0b | 0x0c => A_SPACE,
                b'\n' | b'\r' => A_NEWLINE,
                b'.' | b'!' | b'?' => A_STOP,
                b'"' | b'`' => A_QUOTE,
                b'\'' => A_APOS,
                b'<' | b'[' => A_OPEN,
                b':' => A_COLON,
                b';' => A_SEMI,
                b',' => A_COMMA,
                b'#' => A_HASH,
                b'@' => A_AT,
                b'*' | b')' | b']' | b'_' => A_TRAIL,
                b'/' => A_SLASH,
                _ => A_OTHER,
            }
        };
        c += 1;
    }
    t
};

/// Letter-and-digit classes for the hot loop: what a byte adds to a
/// token's `seen` set (0: not part of a word).
const S_LOWER: u8 = 1;
const S_UPPER: u8 = 2;
const S_DIGIT: u8 = 4;
const WORD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = if b.is_ascii_lowercase() {
            S_LOWER
        } else if b.is_ascii_uppercase() {
            S_UPPER
        } else if b.is_ascii_digit() {
            S_DIGIT
        } else {
            0
        };
        c += 1;
    }
    t
};

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Per byte of `v` (all ASCII, high bits clear): 0x80 where the byte is in
/// `lo..=hi`. No carries cross bytes because every byte is below 0x80.
#[inline]
const fn in_range(v: u64, lo: u8, hi: u8) -> u64 {
    let a = v + LO * (0x80 - lo as u64);
    let b = v + LO * (0x7f - hi as u64);
    a & !b & HI
}

/// The leading run of ASCII letters and digits in the eight bytes `v`
/// (little-endian): the run lowercased and zero-padded, its length, and
/// its `S_*` classes.
#[inline]
fn swar_word(v: u64) -> (u64, usize, u8) {
    let ascii = !v & HI;
    let v7 = v & !HI;
    let upper = in_range(v7, b'A', b'Z') & ascii;
    let lower = in_range(v7, b'a', b'z') & ascii;
    let digit = in_range(v7, b'0', b'9') & ascii;
    let word = upper | lower | digit;
    let n = ((!word & HI).trailing_zeros() / 8) as usize;
    let keep = if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    };
    // 0x80 >> 2 is 0x20: the lowercase bit.
    let lowered = (v | (upper >> 2)) & keep;
    let seen = (u8::from(lower & keep != 0) * S_LOWER)
        | (u8::from(upper & keep != 0) * S_UPPER)
        | (u8::from(digit & keep != 0) * S_DIGIT);
    (lowered, n, seen)
}

/// Base letters for U+00C0..U+024F (Latin-1 Supplement, Latin Extended-A
/// and -B), from their compatibility decompositions; `.` for none.
const LATIN_FOLD: &[u8; 400] = b"aaaaaaaceeeeiiiidnooooo.ouuuuytsaaaaaaaceeeeiiiidnooooo.ouuuuyty\
aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkk.lllllll\
lllnnnnnnn..oooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs\
b.........................l.....oo.............uu...............\
....dddlllnnnaaiioouuuuuuuuuu.aaaa....ggkkoooo..jdddgg..nnaa....\
aaaaeeeeiiiioooorrrruuuusstt..hh......aaeeooooooooyy............\
................";

/// What one non-ASCII code point is to the tokenizer.
enum Uni {
    /// A letter that folds to this ASCII letter (or digit).
    Letter(u8),
    /// Same as this ASCII byte (fullwidth forms).
    Ascii(u8),
    /// Invisible and reportable, of this kind.
    Invisible(u8),
    /// Invisible and harmless (combining marks, soft hyphen, emoji
    /// variation selectors): skipped inside words, never reported.
    Skip,
    Space,
    Newline,
    Quote,
    /// A right single quote: an apostrophe inside a word, else a quote.
    Apostrophe,
    /// Anything else: a separator, with its context class.
    Sep(Ctx),
}

fn classify(cp: u32) -> Uni {
    match cp {
        0xC0..=0x24F => match LATIN_FOLD[(cp - 0xC0) as usize] {
            b'.' => Uni::Sep(Ctx::Other),
            c => Uni::Letter(c),
        },
        0xA0 | 0x1680 | 0x2000..=0x200A | 0x202F | 0x205F | 0x3000 => Uni::Space,
        0x85 | 0x2028 | 0x2029 => Uni::Newline,
        0xAD
        | 0x34F
        | 0x300..=0x36F
        | 0xFE00..=0xFE0F
        | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF
        | 0x20D0..=0x20FF => Uni::Skip,
        0x200B | 0x2060..=0x2064 | 0xFEFF | 0x180E | 0x115F | 0x1160 | 0x3164 | 0xFFA0 => {
            Uni::Invisible(K_ZW)
        }
        0x200C | 0x200D => Uni::Invisible(K_JOINER),
        0x200E | 0x200F | 0x61C => Uni::Invisible(K_MARK),
        0x202D | 0x202E => Uni::Invisible(K_OVERRIDE),
        0x202A..=0x202C | 0x2066..=0x2069 => Uni::Invisible(K_BIDI),
        0xE0000..=0xE007F => Uni::Invisible(K_TAG),
        0xE0100..=0xE01EF => Uni::Invisible(K_VS),
        0x2018 | 0x201A..=0x201F | 0xAB | 0xBB | 0x2039 | 0x203A | 0xFF02 => Uni::Quote,
        0x2019 | 0x2BC | 0xFF07 => Uni::Apostrophe,
        0xFF01..=0xFF5E => Uni::Ascii((cp - 0xFEE0) as u8),
        0x1D400..=0x1D6A3 => {
            let k = ((cp - 0x1D400) % 52) as u8;
            Uni::Letter(if k < 26 { b'a' + k } else { b'a' + k - 26 })
        }
        0x1D7CE..=0x1D7FF => Uni::Letter(b'0' + ((cp - 0x1D7CE) % 10) as u8),
        0x24B6..=0x24CF => Uni::Letter(b'a' + (cp - 0x24B6) as u8),
        0x24D0..=0x24E9 => Uni::Letter(b'a' + (cp - 0x24D0) as u8),
        0x249C..=0x24B5 => Uni::Letter(b'a' + (cp - 0x249C) as u8),
        0x1F130..=0x1F149 => Uni::Letter(b'a' + (cp - 0x1F130) as u8),
        0x1F150..=0x1F169 => Uni::Letter(b'a' + (cp - 0x1F150) as u8),
        0x1F170..=0x1F189 => Uni::Letter(b'a' + (cp - 0x1F170) as u8),
        // Greek, Cyrillic and Cyrillic Supplement.
        0x370..=0x52F => match confusable(cp) {
            Some(c) => Uni::Letter(c),
            None => Uni::Sep(Ctx::Script),
        },
        0x1F3F4 => Uni::Sep(Ctx::BlackFlag),
        0x590..=0x8FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFC => Uni::Sep(Ctx::Rtl),
        0x2010..=0x2017 | 0x2020..=0x205E | 0x2E00..=0x2E7F | 0x3001..=0x303F => {
            Uni::Sep(Ctx::Other)
        }
        0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF | 0xAC00..=0xD7AF => {
            Uni::Sep(Ctx::Cjk)
        }
        0x2190..=0x2BFF | 0x1F000..=0x1FAFF => Uni::Sep(Ctx::Emoji),
        _ => Uni::Sep(Ctx::Script),
    }
}

/// Cyrillic and Greek letters that render like Latin ones: the SDK's
/// table, shared with the PII and secrets detectors, lower-cased.
fn confusable(cp: u32) -> Option<u8> {
    char::from_u32(cp)
        .and_then(railyard_plugin_sdk::normalize::fold::confusable)
        .map(|b| b.to_ascii_lowercase())
}

struct Builder<'a> {
    text: &'a [u8],
    scan: Scan,
    // Current token: span and normal form (zero-padded; longer words are
    // never keywords).
    in_tok: bool,
    start: usize,
    end: usize,
    buf: [u8; WORD_BUF],
    blen: usize,
    /// Union of `S_*` over the token's characters.
    seen: u8,
    obfuscated: bool,
    // Separator state since the last token.
    sep: u16,
    line_start: bool,
    hash_on_line: bool,
    sent: u32,
    /// Only trailing label characters since the last token: a `:` now
    /// makes it a label.
    trail_open: bool,
    // Words split by hyphens ("in-struc-tions"): separator characters since
    // the last token, the last of them, and the chain so far (where it
    // starts in `toks`, its joined hash and length, whether a part was an
    // unknown word).
    sep_count: u32,
    sep_last: u8,
    hyphen_joined: bool,
    chain_first: usize,
    chain_parts: usize,
    chain_buf: [u8; WORD_BUF],
    chain_len: usize,
    chain_unknown: bool,
    // Consecutive single-letter tokens, and whether four ever were: only
    // then does the merge pass run.
    single_run: u32,
    spelled_out: bool,
    // Invisible runs.
    last_ctx: Ctx,
    open_run: Option<Invisible>,
}

/// Tokenizes `text` and collects invisible runs and markup.
pub fn scan(text: &str) -> Scan {
    let b = text.as_bytes();
    let mut bld = Builder {
        text: b,
        scan: Scan {
            toks: Vec::with_capacity(b.len() / 5 + 4),
            ..Scan::default()
        },
        in_tok: false,
        start: 0,
        end: 0,
        buf: [0; WORD_BUF],
        blen: 0,
        seen: 0,
        obfuscated: false,
        sep: 0,
        line_start: true,
        hash_on_line: false,
        sent: 0,
        trail_open: false,
        sep_count: 0,
        sep_last: 0,
        hyphen_joined: false,
        chain_first: 0,
        chain_parts: 0,
        chain_buf: [0; WORD_BUF],
        chain_len: 0,
        chain_unknown: false,
        single_run: 0,
        spelled_out: false,
        last_ctx: Ctx::None,
        open_run: None,
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            if WORD[c as usize] != 0 {
                i = bld.ascii_word(i);
                // Most words end at a space: take it on the same iteration.
                if i < b.len() && b[i] == b' ' {
                    bld.space();
                    i += 1;
                }
            } else if c == b' ' {
                bld.space();
                i += 1;
            } else {
                bld.ascii(c, i, 1);
                i += 1;
            }
            continue;
        }
        let (cp, n) = decode(b, i);
        match classify(cp) {
            Uni::Letter(l) => {
                bld.visible(Ctx::Latin);
                bld.letter(l, i, n, false, true);
            }
            Uni::Ascii(a) => bld.ascii(a, i, n),
            Uni::Invisible(kind) => bld.invisible(kind, i, n),
            Uni::Skip => {
                if bld.in_tok {
                    bld.obfuscated |= cp == 0xAD;
                }
            }
            Uni::Space => bld.ascii(b' ', i, n),
            Uni::Newline => bld.ascii(b'\n', i, n),
            Uni::Quote => bld.ascii(b'"', i, n),
            Uni::Apostrophe => bld.ascii(b'\'', i, n),
            Uni::Sep(ctx) => {
                bld.finish();
                bld.sep_count += 1;
                bld.sep_last = 0;
                bld.trail_open = false;
                bld.visible(ctx);
                if ctx == Ctx::Rtl {
                    bld.scan.has_rtl = true;
                }
            }
        }
        i += n;
    }
    bld.finish();
    bld.close_run(Ctx::None);
    if bld.spelled_out {
        merge_spelled_out(&mut bld.scan.toks);
    }
    let mut all = 0;
    for t in &bld.scan.toks {
        all |= t.class;
    }
    bld.scan.all_classes = all;
    bld.scan
}

/// Decodes the code point at `i` of valid UTF-8.
#[inline]
fn decode(b: &[u8], i: usize) -> (u32, usize) {
    let c = b[i] as u32;
    let cont = |k: usize| (b[i + k] & 0x3f) as u32;
    if c < 0xE0 {
        (((c & 0x1f) << 6) | cont(1), 2)
    } else if c < 0xF0 {
        (((c & 0x0f) << 12) | (cont(1) << 6) | cont(2), 3)
    } else {
        (
            ((c & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
            4,
        )
    }
}

impl Builder<'_> {
    /// The hot loop: a run of ASCII letters and digits from `i`, appended
    /// to the current token. Returns where the run ends.
    #[inline(always)]
    fn ascii_word(&mut self, i: usize) -> usize {
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
            let mut chunk = [0u8; 8];
            chunk.copy_from_slice(&b[k..k + 8]);
            let v = u64::from_le_bytes(chunk);
            let (lowered, n, s) = swar_word(v);
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

    /// The commonest separator, on its own fast path.
    #[inline(always)]
    fn space(&mut self) {
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
    fn ascii(&mut self, c: u8, i: usize, n: usize) {
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
    fn letter(&mut self, l: u8, i: usize, n: usize, upper: bool, folded: bool) {
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
    fn finish(&mut self) {
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
        t.flags =
            (t.flags | F_OBFUSCATED | (self.scan.toks[last].flags & F_TRAIL_COLON)) & !F_UPPER;
        self.scan.toks.truncate(self.chain_first);
        self.scan.toks.push(t);
        // The merged token is the chain's one part; it may go on.
        self.chain_parts = 1;
        self.chain_unknown = false;
    }

    fn separator(&mut self, kind: u8, i: usize, n: usize) {
        match kind {
            A_SPACE => {}
            A_TRAIL => {}
            A_NEWLINE => {
                self.sent += 1;
                self.line_start = true;
                self.hash_on_line = false;
                self.trail_open = false;
            }
            A_STOP => {
                self.trail_open = false;
                let next = self.text.get(i + n).copied();
                // A stop ends a sentence only before a space, a quote, a
                // bracket or the end: not inside `e.g.` or `example.com`.
                if next.is_none_or(|x| {
                    matches!(
                        x,
                        b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b')' | b'*' | b'<' | b'['
                    ) || x >= 0x80
                }) {
                    self.sent += 1;
                } else {
                    self.sep |= F_PATH_BEFORE;
                }
            }
            A_SEMI => {
                self.sent += 1;
                self.trail_open = false;
            }
            A_COLON => {
                if self.trail_open
                    && let Some(t) = self.scan.toks.last_mut()
                {
                    t.flags |= F_TRAIL_COLON;
                }
                self.trail_open = false;
                self.sep |= F_COLON_BEFORE;
            }
            A_COMMA => {
                self.trail_open = false;
                self.sep |= F_COMMA_BEFORE;
            }
            A_QUOTE | A_APOS => {
                self.trail_open = false;
                self.sep |= F_QUOTE_BEFORE;
            }
            A_HASH => {
                if self.line_start {
                    self.hash_on_line = true;
                }
                self.trail_open = false;
            }
            A_AT => {
                self.trail_open = false;
                self.sep |= F_AT_BEFORE;
            }
            A_SLASH => {
                self.trail_open = false;
                self.sep |= F_PATH_BEFORE;
            }
            A_OPEN => {
                self.trail_open = false;
                if let Some(m) = markup(self.text, i) {
                    self.scan.markup.push(m);
                }
            }
            _ => self.trail_open = false,
        }
    }

    /// A visible character: closes an open invisible run.
    #[inline]
    fn visible(&mut self, ctx: Ctx) {
        if self.open_run.is_some() {
            self.close_run(ctx);
        }
        self.last_ctx = ctx;
    }

    fn invisible(&mut self, kind: u8, i: usize, n: usize) {
        // Inside a word the token goes on: `ig\u{200b}nore` is `ignore`.
        if self.in_tok {
            self.obfuscated = true;
        }
        let is_cancel = self.text[i..i + n] == [0xF3, 0xA0, 0x81, 0xBF];
        match &mut self.open_run {
            Some(r) => {
                r.end = i + n;
                r.kinds |= kind;
                r.count += 1;
                r.ends_with_cancel_tag = is_cancel;
            }
            None => {
                self.open_run = Some(Invisible {
                    start: i,
                    end: i + n,
                    kinds: kind,
                    count: 1,
                    before: self.last_ctx,
                    after: Ctx::None,
                    ends_with_cancel_tag: is_cancel,
                });
            }
        }
    }

    fn close_run(&mut self, after: Ctx) {
        if let Some(mut r) = self.open_run.take() {
            r.after = after;
            self.scan.invisible.push(r);
        }
    }
}

/// Words spelled out one letter at a time (`i g n o r e`, `i.g.n.o.r.e`):
/// four or more single-letter tokens a short separator apart, in one
/// sentence, become one token.
fn merge_spelled_out(toks: &mut Vec<Tok>) {
    let single = |t: &Tok| t.len == 1 && t.first.is_ascii_alphabetic();
    let mut k = 0;
    let mut w = 0;
    while k < toks.len() {
        let mut e = k;
        if single(&toks[k]) {
            while e + 1 < toks.len()
                && single(&toks[e + 1])
                && toks[e + 1].sent == toks[k].sent
                && toks[e + 1].start - toks[e].end <= 3
                && e + 1 - k < 32
            {
                e += 1;
            }
        }
        if e - k + 1 >= 4 {
            let mut buf = [0u8; 32];
            for (j, t) in toks[k..=e].iter().enumerate() {
                buf[j] = t.first;
            }
            let n = e - k + 1;
            let hash = hash_buf(&buf, n);
            let mut t = toks[k];
            t.end = toks[e].end;
            t.hash = hash;
            t.class = classes(hash);
            t.len = n as u8;
            t.flags |= F_OBFUSCATED;
            t.flags &= !F_UPPER;
            toks[w] = t;
            w += 1;
            k = e + 1;
        } else {
            toks[w] = toks[k];
            w += 1;
            k += 1;
        }
    }
    toks.truncate(w);
}

/// Chat-template and role markup at a `<` or `[`: `<|im_start|>`,
/// `<system>`, `</user>`, `[INST]`, `<<SYS>>`, `[SYSTEM]`.
fn markup(b: &[u8], i: usize) -> Option<Markup> {
    let rest = &b[i..];
    let get = |len: usize| -> Option<&[u8]> { rest.get(..len) };
    // <<SYS>> and <</SYS>>
    for pat in [&b"<<SYS>>"[..], b"<</SYS>>"] {
        if get(pat.len()).is_some_and(|s| s.eq_ignore_ascii_case(pat)) {
            return Some(Markup {
                start: i,
                end: i + pat.len(),
                score: 0.85,
            });
        }
    }
    if rest[0] == b'<' && rest.get(1) == Some(&b'|') {
        // <|name|>
        let n = rest[2..]
            .iter()
            .take(40)
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_')
            .count();
        if n >= 2 && rest.get(2 + n..4 + n) == Some(b"|>") {
            let name = &rest[2..2 + n];
            let known = name.starts_with(b"im_")
                || [
                    &b"system"[..],
                    b"user",
                    b"assistant",
                    b"endoftext",
                    b"start_header_id",
                    b"end_header_id",
                    b"eot_id",
                    b"begin_of_text",
                    b"end_of_text",
                    b"eom_id",
                    b"end",
                    b"start",
                ]
                .iter()
                .any(|k| name.eq_ignore_ascii_case(k));
            return Some(Markup {
                start: i,
                end: i + n + 4,
                score: if known { 0.9 } else { 0.7 },
            });
        }
        return None;
    }
    let (close, open_len, closer) = match (rest[0], rest.get(1)) {
        (b'<', Some(b'/')) => (true, 2, b'>'),
        (b'<', _) => (false, 1, b'>'),
        (b'[', Some(b'/')) => (true, 2, b']'),
        _ => (false, 1, b']'),
    };
    let name_start = open_len + rest[open_len..].iter().take_while(|&&c| c == b' ').count();
    let n = rest[name_start.min(rest.len())..]
        .iter()
        .take(24)
        .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        .count();
    if n < 2 {
        return None;
    }
    let name = &rest[name_start..name_start + n];
    // Attributes allowed in XML-style tags, up to the closer on the line.
    let after = &rest[name_start + n..];
    let tail = if closer == b'>' {
        after
            .iter()
            .take(80)
            .position(|&c| c == b'>' || c == b'\n' || c == b'<')
    } else {
        after.iter().take(2).position(|&c| c == b']')
    };
    let tail = tail.filter(|&k| after[k] == closer)?;
    if closer == b'>' && tail > 0 && after[0] != b' ' {
        return None;
    }
    let is = |k: &[u8]| name.eq_ignore_ascii_case(k);
    let score = if closer == b']' {
        if is(b"INST") {
            0.85
        } else if is(b"SYSTEM") || is(b"SYS") || is(b"system_prompt") {
            0.7
        } else if is(b"ASSISTANT") || is(b"USER") || is(b"HUMAN") {
            0.35
        } else {
            return None;
        }
    } else if is(b"system")
        || is(b"system_prompt")
        || is(b"system-prompt")
        || is(b"sys")
        || is(b"developer")
        || is(b"im_start")
        || is(b"im_end")
    {
        0.8
    } else if is(b"user") || is(b"human") || is(b"assistant") || is(b"ai") || is(b"bot") {
        if close { 0.75 } else { 0.5 }
    } else if is(b"instructions") || is(b"instruction") || is(b"admin") || is(b"override") {
        0.35
    } else {
        return None;
    };
    let end = i + name_start + n + tail + 1;
    // An XML-style role tag marks a turn boundary when it stands on its own:
    // at the start of a line, next to another tag, or before a line break.
    // Inside a sentence ("not <system>:0.0") it is more likely quoted markup.
    let boundary = closer == b']' || {
        let before = &b[..i];
        let line_start = before
            .iter()
            .rev()
            .take(80)
            .take_while(|&&c| c != b'\n')
            .all(|c| c.is_ascii_whitespace())
            && before.iter().rev().take(81).any(|&c| c == b'\n') | (i <= 80);
        let after_tag = before.iter().rev().find(|c| !c.is_ascii_whitespace()) == Some(&b'>');
        let before_break = matches!(b.get(end), None | Some(b'\n' | b'\r' | b'<'));
        line_start || after_tag || before_break
    };
    let score = if boundary { score } else { score * 0.4 };
    Some(Markup {
        start: i,
        end,
        score,
    })
}

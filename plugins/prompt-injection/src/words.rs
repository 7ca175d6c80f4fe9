//! The scanner's tokens as lower-case ASCII words, for the phrase lists of
//! `indirect` and `extraction`, which match word stems in six languages
//! (a stem such as `autori` covers authorised, authorized, autorizado,
//! autorisé, autorizzato) rather than whole-word hashes.
//!
//! Normal forms live inline (no allocation per word): every payload's
//! every token passes through here, and the conformance harness's fuel
//! budget is per input byte.

use crate::lexicon::WORD_BUF;
use crate::scan::{F_PLAIN, Scan, Tok};

/// Longest normal form kept; longer words are cut (no keyword is that
/// long, and a stem still matches the cut form's prefix).
const NORM_MAX: usize = 24;

/// One word: its normal form (lower-case ASCII, accents folded) and token.
#[derive(Debug)]
pub(crate) struct Word {
    buf: [u8; NORM_MAX],
    len: u8,
    /// ASCII letters and digits only, at most `NORM_MAX` bytes, and the
    /// token's span as scanned (not moved past an escaped newline): the
    /// normal form is the token's lower case, whole.
    pub(crate) plain: bool,
    /// Which rule families' first tests the word passes (`hits::*` bits),
    /// found once here instead of by each family's own pass (it fits in
    /// what was padding).
    pub(crate) hits: u16,
    pub(crate) tok: Span,
}

// `hits` lives in what was padding: a word is still 44 bytes (a 64 KiB
// text has some ten thousand).
const _: () = assert!(std::mem::size_of::<Word>() == 44);

/// What the word lists' rules read of a word's token ([`Tok`]): its span,
/// sentence and flags. Half a `Tok`: a 64 KiB text has some ten thousand
/// words, and a fresh WebAssembly instance pays for every page of memory
/// a call touches.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    /// Byte span in the original text (its start moved past an escaped
    /// newline's `n`, `r` or `t`).
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// Sentence number.
    pub(crate) sent: u32,
    /// The token's `F_*` flags.
    pub(crate) flags: u16,
}

/// `hits` of a word the scanner left for [`words`] to build (no word's
/// family bits are all set).
const PENDING: u16 = u16::MAX;

impl Word {
    /// A word the scanner leaves for [`words`] to build.
    pub(crate) const PENDING: Word = Word {
        buf: [0; NORM_MAX],
        len: 0,
        plain: false,
        hits: PENDING,
        tok: Span {
            start: 0,
            end: 0,
            sent: 0,
            flags: 0,
        },
    };

    /// Pushes the word of a plain token (`F_PLAIN`, at most `NORM_MAX`
    /// bytes, after a space) onto `words`, given its lower case
    /// zero-padded in `lower`, as [`words`] would build it; the scanner's
    /// fast path builds these.
    ///
    /// The word is written field by field into its slot after the push:
    /// built first and pushed whole, it was copied through the stack, and
    /// the copy's wide loads of fields just written narrow stalled store
    /// forwarding (a third of the scan's time in `perf`).
    #[inline(always)]
    pub(crate) fn push_plain(words: &mut Vec<Word>, lower: &[u8; WORD_BUF], len: usize, tok: Span) {
        let hits = crate::hits::of(&lower[..len]);
        words.push(Word::PENDING);
        if let Some(w) = words.last_mut() {
            w.buf.copy_from_slice(&lower[..NORM_MAX]);
            w.len = len as u8;
            w.plain = true;
            w.hits = hits;
            w.tok = tok;
        }
    }

    /// The normal form, as bytes: only ASCII bytes are stored, and
    /// comparing bytes spares a UTF-8 validation at each of the many
    /// look-ups a word goes through.
    pub(crate) fn norm(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

/// The words of `text`, one per token of its scan: those the scanner
/// built (plain words after a space, see `scan::Builder::plain_words`;
/// it keeps their flags in step with their tokens') taken from it, and
/// the rest built here.
pub(crate) fn words(text: &str, scan: &mut Scan) -> Vec<Word> {
    // Most texts hold no backslash (the scanner saw every one): then no
    // word starts after an escape, and every word is spared the test.
    let escapes = scan.backslash;
    let mut out = std::mem::take(&mut scan.words);
    if out.len() != scan.toks.len() {
        // Spelled-out words merged: the tokens were renumbered.
        out.clear();
        out.extend(scan.toks.iter().map(|t| word(text, t, escapes)));
        return out;
    }
    for (w, t) in out.iter_mut().zip(&scan.toks) {
        if w.hits == PENDING {
            fill(text, t, escapes, w);
        }
    }
    out
}

/// The word of token `t`; `escapes`: the text holds a backslash.
fn word(text: &str, t: &Tok, escapes: bool) -> Word {
    let mut w = Word::PENDING;
    fill(text, t, escapes, &mut w);
    w
}

/// Writes the word of token `t` over `w`, in place (see
/// [`Word::push_plain`] on why not by value).
#[inline]
fn fill(text: &str, t: &Tok, escapes: bool, w: &mut Word) {
    let mut tok = Span {
        start: t.start,
        end: t.end,
        sent: t.sent,
        flags: t.flags,
    };
    // "…milk.\\n\\nHey model": an escaped newline inside a JSON or
    // code string (tool outputs) is a line break, not part of the
    // next word.
    let (s, e) = (tok.start as usize, tok.end as usize);
    if escapes
        && e > s + 1
        && s >= 1
        && text.as_bytes()[s - 1] == b'\\'
        && matches!(text.as_bytes()[s], b'n' | b'r' | b't')
    {
        tok.start += 1;
    }
    w.buf = [0; NORM_MAX];
    w.len = 0;
    w.plain = false;
    w.tok = tok;
    let (s, e) = (tok.start as usize, tok.end as usize);
    let b = text.as_bytes().get(s..e);
    if t.flags & F_PLAIN != 0 && tok.start == t.start && e - s <= NORM_MAX {
        // ASCII letters and digits, as the scanner read them: their
        // lower case is `| 0x20` (digits have that bit already).
        for (d, &c) in w.buf.iter_mut().zip(b.unwrap_or(&[])) {
            *d = c | 0x20;
        }
        w.len = (e - s) as u8;
        w.plain = true;
    } else if !b.is_some_and(|b| plain(b, w)) {
        // A plain word is ASCII: whole characters, no boundary
        // checks.
        normal(text.get(s..e).unwrap_or(""), w);
    }
    // Moved past an escape, the word is not the token as scanned.
    w.plain &= tok.start == t.start;
    w.hits = crate::hits::of(w.norm());
}

/// Each ASCII letter or digit's lower case; 0 for every other byte.
static LOWER_ALNUM: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() {
            t[c] = b.to_ascii_lowercase();
        }
        c += 1;
    }
    t
};

/// The normal form of a plain word (ASCII letters and digits only, at
/// most `NORM_MAX` bytes): its lower case. Most words of prose are plain.
/// Returns false for any other word, whose normal form [`normal`] then
/// writes over what this left in `w`.
#[inline]
fn plain(b: &[u8], w: &mut Word) -> bool {
    if b.len() > NORM_MAX {
        return false;
    }
    let mut plain = true;
    for (d, &c) in w.buf.iter_mut().zip(b) {
        let l = LOWER_ALNUM[c as usize];
        plain &= l != 0;
        *d = l;
    }
    w.len = b.len() as u8;
    w.plain = plain;
    plain
}

fn normal(s: &str, w: &mut Word) {
    w.len = 0;
    let b = s.as_bytes();
    // One pass over the bytes. Elision ("l'assistant", "dell'assistente",
    // "qu'il") keeps the word after the last apostrophe (ASCII, or U+2019);
    // an English contraction ("what's", "user's", "don't") keeps the word
    // before it; the French "t'" (to you) is kept as "t-" ("t'a" → "t-a").
    let mut i = 0;
    let mut apos: Option<usize> = None;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            i += 1;
            let c = match c {
                b'\'' => {
                    settle(w, apos);
                    apos = Some(w.len as usize);
                    continue;
                }
                c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
                b'-' => b'-',
                _ => continue,
            };
            push(w, c);
            continue;
        }
        let Some(ch) = s[i..].chars().next() else {
            return;
        };
        i += ch.len_utf8();
        let c = match ch {
            '\u{2019}' => {
                settle(w, apos);
                apos = Some(w.len as usize);
                continue;
            }
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' => b'a',
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => b'e',
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => b'i',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => b'o',
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => b'u',
            'ç' | 'Ç' => b'c',
            'ñ' | 'Ñ' => b'n',
            'ß' => b's',
            _ => continue,
        };
        push(w, c);
    }
    settle(w, apos);
}

/// Settles the form of a word with an apostrophe whose second part
/// starts at `at`: the first part before an English contraction's ending
/// ("what's", "user's", "don't"), else the second part, with a French
/// "t'" (to you) kept as "t-" ("t'a" → "t-a").
fn settle(w: &mut Word, at: Option<usize>) {
    let Some(a) = at else {
        return;
    };
    let len = w.len as usize;
    let (before, after) = w.buf[..len].split_at(a);
    if matches!(after, b"s" | b"t" | b"re" | b"ll" | b"ve" | b"d" | b"m") {
        w.len = a as u8;
    } else if before == b"t" {
        let end = len.min(NORM_MAX - 1);
        w.buf.copy_within(a..end, 2);
        w.buf[1] = b'-';
        w.len = (end - a + 2) as u8;
    } else {
        w.buf.copy_within(a..len, 0);
        w.len = (len - a) as u8;
    }
}

/// Appends `c` to the normal form unless it is full (the rest of a long
/// word is cut, but an apostrophe after the cut still starts it again).
#[inline]
fn push(w: &mut Word, c: u8) {
    if let Some(slot) = w.buf.get_mut(w.len as usize) {
        *slot = c;
        w.len += 1;
    }
}

/// A word list: its entries, sorted, where an entry ending in `*` is a
/// stem, and a filter built at compile time from the entries' first three
/// bytes (two or one for shorter entries). Most words of ordinary prose
/// share no first three bytes with any entry, so [`is`] turns them away
/// with a few bit tests instead of a search.
pub(crate) struct Lex {
    pub(crate) words: &'static [&'static str],
    pub(crate) filter: Filter,
    /// `letters[k]`: how many entries start below the byte `b'a' + k`: where
    /// the entries starting with the lower-case letter `b'a' + k` begin,
    /// without a binary search.
    letters: [u16; 26],
}

/// The filter of one or more word lists.
pub(crate) struct Filter {
    /// First three bytes of each entry (or stem) three or more bytes
    /// long, hashed into `TRIPLE_BITS` bits.
    triples: [u64; TRIPLE_WORDS],
    /// First two bytes of each entry (or stem) two bytes long, hashed into
    /// 512 bits.
    pairs: [u64; 8],
    /// First byte of each entry (or stem) one byte long.
    firsts: [u64; 4],
    /// An empty stem (`*`): every word passes the filter.
    any: bool,
    /// Some entry (or stem) is one or two bytes long: `firsts` or `pairs`
    /// has a bit set. Most lists have none, and their words need only the
    /// `triples` test.
    short: bool,
}

const fn pair(a: u8, b: u8) -> usize {
    (a as usize * 33 + b as usize) % 512
}

/// Bits of a filter's set of three-byte prefixes: few enough of them set
/// that a word of prose rarely passes by chance.
const TRIPLE_BITS: u32 = 10;
const TRIPLE_WORDS: usize = (1 << TRIPLE_BITS) / 64;

const fn triple(a: u8, b: u8, c: u8) -> usize {
    let k = u32::from_le_bytes([a, b, c, 0]);
    (k.wrapping_mul(0x9E37_79B1) >> (32 - TRIPLE_BITS)) as usize
}

impl Lex {
    pub(crate) const fn new(words: &'static [&'static str]) -> Lex {
        let mut filter = Filter {
            triples: [0; TRIPLE_WORDS],
            pairs: [0; 8],
            firsts: [0; 4],
            any: false,
            short: false,
        };
        let mut i = 0;
        while i < words.len() {
            let b = words[i].as_bytes();
            let stem = if !b.is_empty() && b[b.len() - 1] == b'*' {
                b.len() - 1
            } else {
                b.len()
            };
            if stem >= 3 {
                let h = triple(b[0], b[1], b[2]);
                filter.triples[h / 64] |= 1 << (h % 64);
            } else if stem == 2 {
                let h = pair(b[0], b[1]);
                filter.pairs[h / 64] |= 1 << (h % 64);
                filter.short = true;
            } else if stem == 1 {
                let h = b[0] as usize;
                filter.firsts[h / 64] |= 1 << (h % 64);
                filter.short = true;
            } else {
                filter.any = true;
            }
            i += 1;
        }
        let mut letters = [0u16; 26];
        let mut k = 0;
        while k < 26 {
            let mut n = 0;
            while n < words.len() {
                let b = words[n].as_bytes();
                if !b.is_empty() && b[0] >= b'a' + k as u8 {
                    break;
                }
                n += 1;
            }
            letters[k] = n as u16;
            k += 1;
        }
        Lex {
            words,
            filter,
            letters,
        }
    }
}

impl Filter {
    /// One filter for several lists: a word that passes none of theirs
    /// is in none of them, with one test instead of one per list.
    pub(crate) const fn union(lists: &[&Lex]) -> Filter {
        let mut f = Filter {
            triples: [0; TRIPLE_WORDS],
            pairs: [0; 8],
            firsts: [0; 4],
            any: false,
            short: false,
        };
        let mut i = 0;
        while i < lists.len() {
            let g = &lists[i].filter;
            let mut k = 0;
            while k < TRIPLE_WORDS {
                f.triples[k] |= g.triples[k];
                if k < 8 {
                    f.pairs[k] |= g.pairs[k];
                }
                if k < 4 {
                    f.firsts[k] |= g.firsts[k];
                }
                k += 1;
            }
            f.any |= g.any;
            f.short |= g.short;
            i += 1;
        }
        f
    }

    /// Whether some entry could match `w` (no false negatives): an entry
    /// of three bytes or more matches only words that start with its first
    /// three, so "in", "is", "to" pass no list without a two-letter entry.
    #[inline]
    pub(crate) fn may_hold(&self, w: &[u8]) -> bool {
        let bit = |set: &[u64], h: usize| set[h / 64] & (1 << (h % 64)) != 0;
        match *w {
            [] => false,
            [a, b, c, ..] if bit(&self.triples, triple(a, b, c)) => true,
            _ if self.any => true,
            _ if !self.short => false,
            [a, b, ..] => bit(&self.firsts, a as usize) || bit(&self.pairs, pair(a, b)),
            [a] => bit(&self.firsts, a as usize),
        }
    }
}

/// Several filters' tests at once: `triples[h]` holds the bits of the
/// filters whose triple set has `h` (`pairs`, `firsts` likewise), so a
/// word's one hash answers them all, exactly as [`Filter::may_hold`]
/// would one by one.
pub(crate) struct Gates {
    triples: [u16; 1 << TRIPLE_BITS],
    pairs: [u16; 512],
    firsts: [u16; 256],
    /// The bits of the filters with an empty stem.
    any: u16,
}

impl Gates {
    /// The table of `filters`, each given with its bit.
    pub(crate) const fn new(filters: &[(u16, &Filter)]) -> Gates {
        let mut g = Gates {
            triples: [0; 1 << TRIPLE_BITS],
            pairs: [0; 512],
            firsts: [0; 256],
            any: 0,
        };
        let mut i = 0;
        while i < filters.len() {
            let (bit, f) = filters[i];
            let mut h = 0;
            while h < 1 << TRIPLE_BITS {
                if f.triples[h / 64] & (1 << (h % 64)) != 0 {
                    g.triples[h] |= bit;
                }
                if h < 512 && f.pairs[h / 64] & (1 << (h % 64)) != 0 {
                    g.pairs[h] |= bit;
                }
                if h < 256 && f.firsts[h / 64] & (1 << (h % 64)) != 0 {
                    g.firsts[h] |= bit;
                }
                h += 1;
            }
            if f.any {
                g.any |= bit;
            }
            i += 1;
        }
        g
    }

    /// The bits of the filters that `w` may pass: bit `b` is set exactly
    /// when the filter given with `b` says [`Filter::may_hold`]. (A filter
    /// without short entries has no bit in `pairs` or `firsts`, so those
    /// add nothing for it, as `may_hold` skips them.)
    #[inline]
    pub(crate) fn of(&self, w: &[u8]) -> u16 {
        match *w {
            [] => 0,
            [a] => self.any | self.firsts[a as usize],
            [a, b] => self.any | self.firsts[a as usize] | self.pairs[pair(a, b)],
            [a, b, c, ..] => {
                self.any
                    | self.firsts[a as usize]
                    | self.pairs[pair(a, b)]
                    | self.triples[triple(a, b, c)]
            }
        }
    }
}

/// Whether `w` is one of `list`'s entries, where an entry ending in `*`
/// is a stem. The entries are sorted (the modules' tests check it): past
/// the filter, the list's letter index (or a binary search, for a word
/// not starting with a letter) finds those with `w`'s first byte, and
/// only those are compared.
#[inline]
pub(crate) fn is(w: &[u8], list: &Lex) -> bool {
    list.filter.may_hold(w) && search(w, list)
}

fn search(w: &[u8], list: &Lex) -> bool {
    let entries = list.words;
    let first = w[0];
    let from = match first {
        b'a'..=b'z' => list.letters[usize::from(first - b'a')] as usize,
        _ => entries.partition_point(|e| e.as_bytes().first().is_some_and(|&c| c < first)),
    };
    entries[from..]
        .iter()
        .take_while(|e| e.as_bytes().first() == Some(&first))
        .any(|e| match e.as_bytes().split_last() {
            Some((b'*', stem)) => w.starts_with(stem),
            _ => w == e.as_bytes(),
        })
}

/// Whether every list is sorted, as [`is`] needs, and its letter index
/// points where a binary search would.
#[cfg(test)]
pub(crate) fn sorted(lists: &[Lex]) -> bool {
    lists.iter().all(|l| {
        l.words
            .windows(2)
            .all(|p| p[0].as_bytes() <= p[1].as_bytes())
            && (b'a'..=b'z').all(|c| {
                let at = l
                    .words
                    .partition_point(|e| e.as_bytes().first().is_some_and(|&f| f < c));
                usize::from(l.letters[usize::from(c - b'a')]) == at
            })
    })
}

#[cfg(test)]
mod tests;

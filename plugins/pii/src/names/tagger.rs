//! The name tagger: an averaged perceptron trained offline
//! (`train/train.py`) and compiled in (`model.bin`: 2^16 hashed feature
//! buckets x 7 BIO labels, i16 little-endian, unused buckets indexed
//! away, 387 KiB). Greedy left to right; each
//! token's features are its word, shape, affixes, the words and shapes
//! around it, the gazetteers' marks and the two tags before it: exactly
//! those of `train/features.py` (the hashes must agree byte for byte).

use super::gazetteer::{FIRST_NAMES, ORGS, PLACES};
use super::{ORG_SUFFIX, STREET, TITLE, has};

static MODEL: &[u8] = include_bytes!("model.bin");
const BITS: u32 = 16;
const MASK: u32 = (1 << BITS) - 1;
const LABELS: [&str; 7] = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"];
/// The entity of each label (`None` for `O`), and whether it continues one.
const KIND: [Option<Kind>; 7] = [
    None,
    Some(Kind::Person),
    Some(Kind::Person),
    Some(Kind::Location),
    Some(Kind::Location),
    Some(Kind::Organization),
    Some(Kind::Organization),
];
const INSIDE: [bool; 7] = [false, false, true, false, true, false, true];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Person,
    Location,
    Organization,
}

/// FNV-1a over the pieces of one feature string.
#[derive(Clone, Copy)]
struct Fnv(u32);

impl Fnv {
    const fn new() -> Fnv {
        Fnv(0x811C_9DC5)
    }
    fn feed(mut self, s: &str) -> Fnv {
        for &b in s.as_bytes() {
            self.0 ^= u32::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0193);
        }
        self
    }
    fn bucket(self) -> usize {
        (self.0 & MASK) as usize
    }
}

/// Byte spans of the tokens: runs of letters and digits (with `.'’-&`
/// inside, between two of them, but not a possessive 's), every other
/// non-space character alone.
fn tokens(text: &str, out: &mut Vec<(usize, usize)>) {
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c.is_alphanumeric() {
            let mut end = i + c.len_utf8();
            loop {
                let rest = &text[end..];
                let mut cs = rest.chars();
                match (cs.next(), cs.next()) {
                    (Some(d), _) if d.is_alphanumeric() => end += d.len_utf8(),
                    (Some(d), Some(e))
                        if matches!(d, '.' | '\'' | '’' | '-' | '&')
                            && e.is_alphanumeric()
                            && !(matches!(d, '\'' | '’')
                                && matches!(e, 's' | 'S')
                                && !cs.next().is_some_and(char::is_alphanumeric)) =>
                    {
                        end += d.len_utf8() + e.len_utf8();
                    }
                    _ => break,
                }
            }
            while it.peek().is_some_and(|&(j, _)| j < end) {
                it.next();
            }
            out.push((i, end));
        } else if !c.is_whitespace() {
            out.push((i, i + c.len_utf8()));
        }
    }
}

/// Word shape: X upper, x lower, d digit, other characters as they are;
/// runs cut at two, six marks at most.
fn shape(w: &str) -> String {
    let mut out = String::new();
    let mut last = ['\0', '\0'];
    let mut n = 0;
    for c in w.chars() {
        let k = if c.is_uppercase() {
            'X'
        } else if c.is_alphabetic() {
            'x'
        } else if c.is_ascii_digit() {
            'd'
        } else {
            c
        };
        if n >= 2 && last[0] == k && last[1] == k {
            continue;
        }
        last = [last[1], k];
        n += 1;
        if n <= 6 {
            out.push(k);
        }
    }
    out
}

fn head(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

fn tail(s: &str, n: usize) -> &str {
    let k = s.chars().count();
    if k <= n {
        return s;
    }
    s.char_indices().nth(k - n).map_or(s, |(i, _)| &s[i..])
}

/// Gazetteer marks of token `i`: F given name, P place, O organisation
/// (alone or as a two-word entry with a neighbour), S company suffix,
/// R street suffix, T title.
fn marks(words: &[&str], i: usize) -> String {
    let w = words[i];
    let pair = |list: &[&str], a: &str, b: &str| {
        let mut s = String::with_capacity(a.len() + b.len() + 1);
        s.push_str(a);
        s.push(' ');
        s.push_str(b);
        has(list, &s)
    };
    let nxt = words.get(i + 1).copied();
    let prv = i.checked_sub(1).map(|k| words[k]);
    let in_pairs = |list: &[&str]| {
        has(list, w)
            || nxt.is_some_and(|n| pair(list, w, n))
            || prv.is_some_and(|p| pair(list, p, w))
    };
    let mut out = String::new();
    if has(FIRST_NAMES, w) {
        out.push('F');
    }
    if in_pairs(PLACES) {
        out.push('P');
    }
    if in_pairs(ORGS) {
        out.push('O');
    }
    if has(ORG_SUFFIX, w) {
        out.push('S');
    }
    if has(STREET, w) {
        out.push('R');
    }
    if has(TITLE, w) {
        out.push('T');
    }
    out
}

/// Each token's place in its run of capitalised words, "pos/len" (both
/// capped: 3 and 4), "-" outside runs.
fn runs(words: &[&str]) -> Vec<String> {
    let cap = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
    let mut out = vec![String::from("-"); words.len()];
    let mut i = 0;
    while i < words.len() {
        if !cap(words[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < words.len() && cap(words[j]) {
            j += 1;
        }
        for (k, o) in out.iter_mut().enumerate().take(j).skip(i) {
            *o = format!("{}/{}", (k - i).min(3), (j - i).min(4));
        }
        i = j;
    }
    out
}

/// `v[k]`, or `pad` past either end.
fn at<'a>(v: &'a [String], k: isize, pad: &'a str) -> &'a str {
    usize::try_from(k)
        .ok()
        .and_then(|k| v.get(k))
        .map_or(pad, String::as_str)
}

/// The row of a bucket's weights: `model.bin` starts with one u16 row
/// number per bucket (0: unused, all zeros), then the rows of 7 i16.
fn row(bucket: usize) -> usize {
    usize::from(u16::from_le_bytes([
        MODEL[2 * bucket],
        MODEL[2 * bucket + 1],
    ]))
}

fn weight(row: usize, label: usize) -> i32 {
    let k = (2 << BITS) + (row * LABELS.len() + label) * 2;
    i32::from(i16::from_le_bytes([MODEL[k], MODEL[k + 1]]))
}

/// Whether the tokens `toks` (one entity) can be a name, a place or an
/// organisation: they start with a capital (or a house number followed by
/// a capitalised word, for an address), and no token mixes letters and
/// digits (codes, ids, keys) except an ordinal ("5th"), and none is a
/// file or host name.
fn plausible(text: &str, toks: &[(usize, usize)], kind: Kind) -> bool {
    let word = |k: usize| &text[toks[k].0..toks[k].1];
    let first = word(0);
    let capital = first.chars().next().is_some_and(char::is_uppercase);
    let number = first.bytes().all(|b| b.is_ascii_digit());
    let address = kind == Kind::Location
        && number
        && toks.len() > 1
        && word(1).chars().next().is_some_and(char::is_uppercase);
    if !(capital || address) {
        return false;
    }
    (0..toks.len()).all(|k| {
        let w = word(k);
        let digits = w.bytes().filter(u8::is_ascii_digit).count();
        let letters = w.chars().filter(|c| c.is_alphabetic()).count();
        // A file or host name: "README.md", "example.com".
        let file = w.rsplit_once('.').is_some_and(|(a, b)| {
            a.chars().count() >= 2 && b.len() >= 2 && b.chars().all(|c| c.is_ascii_lowercase())
        });
        !file
            && (digits == 0
                || letters == 0
                || (letters == 2
                    && ["st", "nd", "rd", "th"]
                        .iter()
                        .any(|o| w.to_ascii_lowercase().ends_with(o))))
    })
}

fn allowed(prev: usize, label: usize) -> bool {
    !INSIDE[label] || (prev != 0 && KIND[prev] == KIND[label])
}

/// Tags `text` and calls `found(kind, start, end)` for each entity (byte
/// offsets).
pub(crate) fn tag(text: &str, mut found: impl FnMut(Kind, usize, usize)) {
    let mut toks = Vec::new();
    tokens(text, &mut toks);
    if toks.is_empty() {
        return;
    }
    let words: Vec<&str> = toks.iter().map(|&(s, e)| &text[s..e]).collect();
    let low: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let shp: Vec<String> = words.iter().map(|w| shape(w)).collect();
    let gz: Vec<String> = (0..words.len()).map(|i| marks(&words, i)).collect();
    let n = words.len();
    // A line break before the token; its run of capitalised words.
    let nl: Vec<bool> = (0..n)
        .map(|i| text[i.checked_sub(1).map_or(0, |j| toks[j].1)..toks[i].0].contains('\n'))
        .collect();
    let rn = runs(&words);
    let mut tags: Vec<usize> = Vec::with_capacity(n);
    let mut rows: Vec<usize> = Vec::with_capacity(32);
    // The entity being read: kind, first token, past its last token.
    let mut open: Option<(Kind, usize, usize)> = None;
    let mut emit = |kind: Kind, a: usize, mut b: usize| {
        // Lower-case words and commas at the end are not part of a name
        // ("Italy a good place", "Initrode Corporation office").
        while b > a + 1 {
            let w = &text[toks[b - 1].0..toks[b - 1].1];
            if w.chars()
                .next()
                .is_some_and(|c| c.is_lowercase() || matches!(c, ',' | '&' | '-'))
            {
                b -= 1;
            } else {
                break;
            }
        }
        if plausible(text, &toks[a..b], kind) {
            found(kind, toks[a].0, toks[b - 1].1);
        }
    };
    for i in 0..n {
        let k = i as isize;
        let f = Fnv::new();
        rows.clear();
        let lw = low[i].as_str();
        let s = shp[i].as_str();
        let (p1, n1) = (at(&low, k - 1, "<s>"), at(&low, k + 1, "</s>"));
        let (sp, sn) = (at(&shp, k - 1, "<s>"), at(&shp, k + 1, "</s>"));
        for h in [
            f.feed("b"),
            f.feed("w=").feed(lw),
            f.feed("s=").feed(s),
            f.feed("p3=").feed(head(lw, 3)),
            f.feed("x3=").feed(tail(lw, 3)),
            f.feed("x2=").feed(tail(lw, 2)),
            f.feed("w-1=").feed(p1),
            f.feed("w+1=").feed(n1),
            f.feed("w-2=").feed(at(&low, k - 2, "<s>")),
            f.feed("w+2=").feed(at(&low, k + 2, "</s>")),
            f.feed("s-1=").feed(sp),
            f.feed("s+1=").feed(sn),
            f.feed("s-1s=").feed(sp).feed("|").feed(s),
            f.feed("ss+1=").feed(s).feed("|").feed(sn),
            f.feed("w-1s=").feed(p1).feed("|").feed(s),
            f.feed("g=").feed(&gz[i]),
            f.feed("g-1=").feed(at(&gz, k - 1, "<s>")),
            f.feed("g+1=").feed(at(&gz, k + 1, "</s>")),
            f.feed("gw=").feed(&gz[i]).feed("|").feed(s),
            f.feed("r=").feed(&rn[i]),
            f.feed("rw-1=").feed(&rn[i]).feed("|").feed(p1),
            f.feed("nl=")
                .feed(if nl[i] { "1" } else { "0" })
                .feed("|")
                .feed(s),
        ] {
            rows.push(row(h.bucket()));
        }
        let t1 = i.checked_sub(1).map_or("<s>", |j| LABELS[tags[j]]);
        let t2 = i.checked_sub(2).map_or("<s>", |j| LABELS[tags[j]]);
        rows.push(row(f.feed("t-1=").feed(t1).bucket()));
        rows.push(row(f.feed("t-2=").feed(t2).feed("|").feed(t1).bucket()));
        rows.push(row(f.feed("t-1s=").feed(t1).feed("|").feed(s).bucket()));
        let prev = i.checked_sub(1).map_or(0, |j| tags[j]);
        let mut best = (0usize, i32::MIN);
        for label in 0..LABELS.len() {
            if !allowed(prev, label) {
                continue;
            }
            let score: i32 = rows.iter().map(|&b| weight(b, label)).sum();
            if score > best.1 {
                best = (label, score);
            }
        }
        let label = best.0;
        tags.push(label);
        if INSIDE[label] {
            if let Some(o) = open.as_mut() {
                o.2 = i + 1;
            }
            continue;
        }
        if let Some((kind, a, b)) = open.take() {
            emit(kind, a, b);
        }
        if let Some(kind) = KIND[label] {
            open = Some((kind, i, i + 1));
        }
    }
    if let Some((kind, a, b)) = open {
        emit(kind, a, b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_shapes_match_the_trainer() {
        let text = "Dr. O'Neil-Smith (H&R Block) lives at 12 Rue d’Alsace, St.-Malo. Ana's";
        let mut t = Vec::new();
        tokens(text, &mut t);
        let words: Vec<&str> = t.iter().map(|&(s, e)| &text[s..e]).collect();
        // As features.tokens() splits it.
        assert_eq!(
            words,
            [
                "Dr",
                ".",
                "O'Neil-Smith",
                "(",
                "H&R",
                "Block",
                ")",
                "lives",
                "at",
                "12",
                "Rue",
                "d’Alsace",
                ",",
                "St",
                ".",
                "-",
                "Malo",
                ".",
                "Ana",
                "'",
                "s"
            ]
        );
        assert_eq!(shape("O'Neil-Smith"), "X'Xxx-");
        assert_eq!(shape("2024"), "dd");
        assert_eq!(shape("McDonald"), "XxXxx");
        // fnv("w=paris") as features.fnv computes it.
        assert_eq!(Fnv::new().feed("w=").feed("paris").0, 0x1b71_fd84);
    }
}

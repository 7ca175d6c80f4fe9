//! The scanner's tokens as lower-case ASCII words, for the phrase lists of
//! `indirect` and `extraction`, which match word stems in six languages
//! (a stem such as `autori` covers authorised, authorized, autorizado,
//! autorisé, autorizzato) rather than whole-word hashes.
//!
//! Normal forms live inline (no allocation per word): every payload's
//! every token passes through here, and the conformance harness's fuel
//! budget is per input byte.

use crate::scan::{Scan, Tok};

/// Longest normal form kept; longer words are cut (no keyword is that
/// long, and a stem still matches the cut form's prefix).
const NORM_MAX: usize = 24;

/// One word: its normal form (lower-case ASCII, accents folded) and token.
pub(crate) struct Word {
    buf: [u8; NORM_MAX],
    len: u8,
    pub(crate) tok: Tok,
}

impl Word {
    /// The normal form.
    pub(crate) fn norm(&self) -> &str {
        // Only ASCII bytes are stored.
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or("")
    }
}

/// The words of `text`, from its scan.
pub(crate) fn words(text: &str, scan: &Scan) -> Vec<Word> {
    scan.toks
        .iter()
        .map(|t| {
            let mut w = Word {
                buf: [0; NORM_MAX],
                len: 0,
                tok: *t,
            };
            normal(
                text.get(t.start as usize..t.end as usize).unwrap_or(""),
                &mut w,
            );
            w
        })
        .collect()
}

fn normal(s: &str, w: &mut Word) {
    // Elision: "l'assistant", "dell'assistente", "qu'il" keep the word.
    let s = s.rsplit(['\'', '\u{2019}']).next().unwrap_or(s);
    for c in s.chars() {
        if w.len as usize == NORM_MAX {
            return;
        }
        let c = match c {
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            '-' => '-',
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' => 'a',
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'Í' => 'i',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ó' | 'Ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'Ú' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            'ñ' | 'Ñ' => 'n',
            'ß' => 's',
            _ => continue,
        };
        w.buf[w.len as usize] = c as u8;
        w.len += 1;
    }
}

/// Whether `w` is one of `list`, where an entry ending in `*` is a stem.
/// `list` is sorted (the modules' tests check it): a binary search finds
/// the entries with `w`'s first byte, and only those are compared.
pub(crate) fn is(w: &str, list: &[&str]) -> bool {
    let Some(&first) = w.as_bytes().first() else {
        return false;
    };
    let from = list.partition_point(|e| e.as_bytes().first().is_some_and(|&c| c < first));
    list[from..]
        .iter()
        .take_while(|e| e.as_bytes().first() == Some(&first))
        .any(|e| match e.as_bytes().split_last() {
            Some((b'*', stem)) => w.as_bytes().starts_with(stem),
            _ => w.as_bytes() == e.as_bytes(),
        })
}

/// Whether every list is sorted, as [`is`] needs.
#[cfg(test)]
pub(crate) fn sorted(lists: &[&[&str]]) -> bool {
    lists
        .iter()
        .all(|l| l.windows(2).all(|p| p[0].as_bytes() <= p[1].as_bytes()))
}

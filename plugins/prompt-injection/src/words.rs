//! The scanner's tokens as lower-case ASCII words, for the phrase lists of
//! `indirect` and `extraction`, which match word stems in six languages
//! (a stem such as `autori` covers authorised, authorized, autorizado,
//! autorisé, autorizzato) rather than whole-word hashes.

use crate::scan::{Scan, Tok};

/// One word: its normal form (lower-case ASCII, accents folded) and token.
pub(crate) struct Word {
    pub(crate) norm: String,
    pub(crate) tok: Tok,
}

/// The words of `text`, from its scan.
pub(crate) fn words(text: &str, scan: &Scan) -> Vec<Word> {
    scan.toks
        .iter()
        .map(|t| Word {
            norm: normal(text.get(t.start as usize..t.end as usize).unwrap_or("")),
            tok: *t,
        })
        .collect()
}

fn normal(s: &str) -> String {
    // Elision: "l'assistant", "dell'assistente", "qu'il" keep the word.
    let s = s.rsplit(['\'', '\u{2019}']).next().unwrap_or(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' => 'a',
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'Í' => 'i',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ó' | 'Ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'Ú' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            'ñ' | 'Ñ' => 'n',
            'ß' => 's',
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            '-' => '-',
            _ => continue,
        };
        out.push(c);
    }
    out
}

/// Whether `w` is one of `list`, where an entry ending in `*` is a stem.
pub(crate) fn is(w: &str, list: &[&str]) -> bool {
    list.iter().any(|e| match e.strip_suffix('*') {
        Some(stem) => w.starts_with(stem),
        None => w == *e,
    })
}

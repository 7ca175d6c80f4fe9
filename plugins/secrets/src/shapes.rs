//! The shape of each secret, checked at a candidate's first byte: exact
//! lengths and alphabets, word boundaries, placeholders, a PEM block's key
//! material, a JWT's decoded header.

use crate::{Hit, PLACEHOLDER_SCORE};

/// `i - n`, if it exists.
#[inline]
pub(crate) fn back(i: usize, n: usize) -> Option<usize> {
    i.checked_sub(n)
}

#[inline]
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[inline]
fn is_b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Whether a token may start at `i`: the previous byte is not a word byte.
/// A word byte that ends a backslash escape (`\n`, `\t`, `\r` in a pasted
/// JSON string or log line) counts as a separator.
fn starts_token(b: &[u8], i: usize) -> bool {
    i == 0 || !is_word(b[i - 1]) || after_escape(b, i)
}

#[inline]
fn after_escape(b: &[u8], i: usize) -> bool {
    i >= 2 && b[i - 2] == b'\\' && matches!(b[i - 1], b'n' | b't' | b'r')
}

#[inline]
fn ends_token(b: &[u8], end: usize) -> bool {
    end >= b.len() || !is_word(b[end])
}

/// Length of the run of bytes from `from` that satisfy `f`.
#[inline]
fn run(b: &[u8], from: usize, f: impl Fn(u8) -> bool) -> usize {
    b[from.min(b.len())..].iter().take_while(|&&c| f(c)).count()
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Whether the random part of a token looks made up rather than generated:
/// a placeholder word, a long run of one character, an alphabet or digit
/// sequence, or too few distinct characters. Real keys are uniformly random,
/// for which each of these has a probability far below one in ten thousand.
fn looks_placeholder(s: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"example",
        b"sample",
        b"placeholder",
        b"dummy",
        b"xxxx",
        b"your",
        b"fake",
        b"redacted",
        b"changeme",
        b"secret",
        b"token",
        b"insert",
        b"replace",
    ];
    if WORDS.iter().any(|w| contains_ci(s, w)) {
        return true;
    }
    let mut seen = [false; 128];
    let mut distinct = 0;
    let (mut same, mut seq) = (1, 1);
    for (k, &c) in s.iter().enumerate() {
        if !seen[(c & 0x7f) as usize] {
            seen[(c & 0x7f) as usize] = true;
            distinct += 1;
        }
        if k > 0 {
            let p = s[k - 1];
            same = if c == p { same + 1 } else { 1 };
            seq = if c == p.wrapping_add(1) || c.wrapping_add(1) == p {
                seq + 1
            } else {
                1
            };
            if same >= 5 || seq >= 6 {
                return true;
            }
        }
    }
    // Hex tails (Slack user tokens) have at most 16 symbols, hence the cap.
    distinct <= (s.len() / 3).min(10)
}

/// `AKIA…`, `ASIA…` and the other IAM unique-id prefixes, then 16 base32
/// characters `[A-Z2-7]`.
pub(crate) fn aws_key(b: &[u8], i: usize) -> Option<Hit> {
    const PREFIXES: &[&[u8; 4]] = &[
        b"AKIA", b"ASIA", b"AGPA", b"AIDA", b"AROA", b"ANPA", b"ANVA", b"AIPA",
    ];
    if !matches!(b.get(i + 1), Some(b'K' | b'S' | b'G' | b'I' | b'R' | b'N')) {
        return None;
    }
    let p = b.get(i..i + 4)?;
    if !PREFIXES.iter().any(|x| x.as_slice() == p) || !starts_token(b, i) {
        return None;
    }
    let body = b.get(i + 4..i + 20)?;
    if !body
        .iter()
        .all(|&c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c))
        || !ends_token(b, i + 20)
    {
        return None;
    }
    let score = if looks_placeholder(body) {
        PLACEHOLDER_SCORE
    } else {
        0.9
    };
    Some(Hit {
        cat: 0,
        rule: "secrets.aws-access-key",
        start: i,
        end: i + 20,
        score,
    })
}

/// `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36 alphanumerics, or `github_pat_`
/// + 82 of `[A-Za-z0-9_]`.
pub(crate) fn github_token(b: &[u8], i: usize) -> Option<Hit> {
    if b[i] != b'g'
        || b.get(i + 1) != Some(&b'h') && b.get(i + 1) != Some(&b'i')
        || !starts_token(b, i)
    {
        return None;
    }
    let (body_start, len, end) = if b.get(i..i + 11) == Some(b"github_pat_") {
        let n = run(b, i + 11, is_word);
        (i + 11, 82, (n == 82).then_some(i + 11 + 82)?)
    } else {
        let head = b.get(i..i + 4)?;
        if !(head[0] == b'g'
            && head[1] == b'h'
            && matches!(head[2], b'p' | b'o' | b'u' | b's' | b'r')
            && head[3] == b'_')
        {
            return None;
        }
        let n = run(b, i + 4, |c| c.is_ascii_alphanumeric());
        if n != 36 || !ends_token(b, i + 40) {
            return None;
        }
        (i + 4, 36, i + 40)
    };
    let score = if looks_placeholder(&b[body_start..body_start + len]) {
        PLACEHOLDER_SCORE
    } else {
        0.95
    };
    Some(Hit {
        cat: 1,
        rule: "secrets.github-token",
        start: i,
        end,
        score,
    })
}

/// Slack tokens: `xox[baprse]-` (also the `xoxe.xoxp-` rotating form and
/// `xapp-` app-level tokens) followed by `-`-separated alphanumeric groups,
/// the first of them digits, the last a random tail.
pub(crate) fn slack_token(b: &[u8], i: usize) -> Option<Hit> {
    if !matches!(b.get(i + 1), Some(b'o' | b'a')) || !starts_token(b, i) {
        return None;
    }
    let mut p = i;
    if b.get(i..i + 5) == Some(b"xoxe.") {
        p += 5;
    }
    let head = b.get(p..p + 5)?;
    let ok = (head.starts_with(b"xox")
        && matches!(head[3], b'b' | b'a' | b'p' | b'r' | b's' | b'e')
        && head[4] == b'-')
        || head == b"xapp-";
    if !ok {
        return None;
    }
    p += 5;
    // Groups of [A-Za-z0-9] joined by single hyphens; a trailing hyphen is
    // punctuation, not part of the token.
    let body_start = p;
    let mut groups = 0;
    let (mut first_digits, mut last_start) = (false, p);
    loop {
        let n = run(b, p, |c| c.is_ascii_alphanumeric());
        if n == 0 {
            break;
        }
        if groups == 0 {
            first_digits = b[p..p + n].iter().all(u8::is_ascii_digit);
        }
        groups += 1;
        last_start = p;
        p += n;
        if b.get(p) == Some(&b'-')
            && b.get(p + 1).is_some_and(|c| c.is_ascii_alphanumeric())
            && groups < 8
        {
            p += 1;
        } else {
            break;
        }
    }
    let tail = &b[last_start..p];
    if groups < 2 || !first_digits || tail.len() < 8 || p - body_start < 20 || !ends_token(b, p) {
        return None;
    }
    let digits_fake = b[body_start..last_start]
        .windows(6)
        .any(|w| w.iter().all(|&c| c == w[0]));
    let score = if digits_fake || looks_placeholder(tail) {
        PLACEHOLDER_SCORE
    } else {
        0.9
    };
    Some(Hit {
        cat: 2,
        rule: "secrets.slack-token",
        start: i,
        end: p,
        score,
    })
}

/// `https://hooks.slack.com/services/T…/B…/…` (also `workflows/` and
/// `triggers/` URLs), with or without the scheme.
pub(crate) fn slack_webhook(b: &[u8], host_at: usize) -> Option<Hit> {
    const HOST: &[u8] = b"hooks.slack.com/";
    if b.get(host_at..host_at + HOST.len()) != Some(HOST) {
        return None;
    }
    // The scheme, when there is one, is part of the URL.
    let i = if b[..host_at].ends_with(b"https://") {
        host_at - 8
    } else if b[..host_at].ends_with(b"http://") {
        host_at - 7
    } else {
        host_at
    };
    if !starts_token(b, i) {
        return None;
    }
    let mut p = host_at + HOST.len();
    let kind = run(b, p, |c| c.is_ascii_lowercase());
    if !matches!(&b[p..p + kind], b"services" | b"workflows" | b"triggers")
        || b.get(p + kind) != Some(&b'/')
    {
        return None;
    }
    p += kind + 1;
    let mut segs = 0;
    let mut last = (p, p);
    let first = p;
    loop {
        let n = run(b, p, |c| c.is_ascii_alphanumeric());
        if n == 0 {
            break;
        }
        segs += 1;
        last = (p, p + n);
        p += n;
        if b.get(p) == Some(&b'/')
            && b.get(p + 1).is_some_and(|c| c.is_ascii_alphanumeric())
            && segs < 6
        {
            p += 1;
        } else {
            break;
        }
    }
    // The workspace id comes first and starts with T; the random secret is
    // the last segment.
    let tail = &b[last.0..last.1];
    if segs < 3 || b[first] != b'T' || tail.len() < 16 || !ends_token(b, p) {
        return None;
    }
    let score = if looks_placeholder(tail) || looks_placeholder(&b[first..last.0]) {
        PLACEHOLDER_SCORE
    } else {
        0.95
    };
    Some(Hit {
        cat: 2,
        rule: "secrets.slack-webhook",
        start: i,
        end: p,
        score,
    })
}

/// A `-----BEGIN … PRIVATE KEY-----` block through its `-----END …-----`
/// line. Unterminated (a truncated paste, a streamed chunk), the block runs
/// through the last line that still looks like key material.
pub(crate) fn private_key(b: &[u8], i: usize) -> Option<Hit> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    if b.get(i + 1) != Some(&b'-') || !b[i..].starts_with(BEGIN) {
        return None;
    }
    let label_start = i + BEGIN.len();
    let label_len = run(b, label_start, |c| {
        c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' '
    });
    let label = &b[label_start..label_start + label_len];
    let header_end = label_start + label_len + 5;
    if label_len > 48
        || !contains_ci(label, b"PRIVATE KEY")
        || b.get(header_end - 5..header_end) != Some(b"-----")
    {
        return None;
    }
    let end_line = find(b, header_end, b"-----END ");
    let next_begin = find(b, header_end, BEGIN);
    if let Some(e) = end_line.filter(|&e| next_begin.is_none_or(|n| e < n)) {
        let tail = e + 9;
        let n = run(b, tail, |c| {
            c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' '
        });
        if b.get(tail + n..tail + n + 5) == Some(b"-----") {
            let body = base64_count(&b[header_end..e]);
            let score = if body >= 40 { 0.99 } else { 0.3 };
            return Some(Hit {
                cat: 3,
                rule: "secrets.private-key",
                start: i,
                end: tail + n + 5,
                score,
            });
        }
    }
    // Unterminated: extend over the lines that look like key material, up
    // to the next BEGIN if there is one.
    let limit = next_begin.unwrap_or(b.len());
    let end = key_material_end(&b[..limit], header_end);
    let body = base64_count(&b[header_end..end]);
    let only_space_follows = b[end..].iter().all(u8::is_ascii_whitespace);
    let score = if body >= 16 {
        0.9
    } else if only_space_follows {
        // The text stops right after the BEGIN line: a key cut off by a
        // stream chunk boundary is still a key on its way out.
        0.6
    } else {
        0.3
    };
    Some(Hit {
        cat: 3,
        rule: "secrets.private-key",
        start: i,
        end,
        score,
    })
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let mut k = from;
    while k + needle.len() <= hay.len() {
        let off = hay[k..].iter().position(|&c| c == needle[0])?;
        k += off;
        if hay[k..].starts_with(needle) {
            return Some(k);
        }
        k += 1;
    }
    None
}

fn base64_count(s: &[u8]) -> usize {
    s.iter()
        .filter(|&&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
        .count()
}

/// End of the key material that follows a BEGIN line at `from`: whole lines
/// of base64 (or escaped `\n` sequences, as in a JSON string), PEM headers
/// such as `Proc-Type:`, blank lines between them. Stops at the first line
/// of anything else; trailing blank lines are not included.
fn key_material_end(b: &[u8], from: usize) -> usize {
    let is_body = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'\\');
    let mut last = from;
    let mut p = from;
    while p < b.len() {
        let line_end = b[p..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |k| p + k);
        let line = &b[p..line_end];
        let lead = run(line, 0, |c| c == b' ' || c == b'\t');
        let content = &line[lead..];
        let trimmed_len = content.len()
            - content
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_whitespace())
                .count();
        let content = &content[..trimmed_len];
        if !content.is_empty() {
            let header = [&b"Proc-Type:"[..], b"DEK-Info:", b"Comment:", b"Version:"]
                .iter()
                .any(|h| content.starts_with(h));
            let n = run(content, 0, is_body);
            if header || n == content.len() {
                last = p + lead + content.len();
            } else {
                if n >= 16 {
                    last = p + lead + n;
                }
                break;
            }
        }
        p = line_end + 1;
    }
    last
}

/// `eyJ…` (base64url of `{"`), a payload segment and a signature segment,
/// dot-separated. The signature may be empty only for `"alg":"none"`.
pub(crate) fn jwt(b: &[u8], i: usize) -> Option<Hit> {
    let glued = i > 0 && (is_b64url(b[i - 1]) || b[i - 1] == b'.') && !after_escape(b, i);
    if glued || b.get(i..i + 3) != Some(b"eyJ") {
        return None;
    }
    let h = run(b, i, is_b64url);
    if h < 10 || b.get(i + h) != Some(&b'.') {
        return None;
    }
    let p1 = i + h + 1;
    let pl = run(b, p1, is_b64url);
    if pl < 3 || b.get(p1 + pl) != Some(&b'.') {
        return None;
    }
    let p2 = p1 + pl + 1;
    let sl = run(b, p2, is_b64url);
    let mut end = p2 + sl;
    // JWE compact form has five segments.
    if sl > 0 && b.get(end) == Some(&b'.') {
        let mut q = end;
        let mut extra = 0;
        while extra < 2 && b.get(q) == Some(&b'.') {
            let n = run(b, q + 1, is_b64url);
            q += 1 + n;
            extra += 1;
        }
        if extra == 2 {
            end = q;
        }
    }
    let mut head = [0u8; 96];
    let decoded = b64url_decode(&b[i..i + h.min(128)], &mut head);
    let head = &head[..decoded];
    if sl == 0 && !contains_ci(head, b"\"none\"") {
        return None;
    }
    let score = if contains_ci(head, b"\"alg\"") {
        0.95
    } else if contains_ci(head, b"\"typ\"")
        || contains_ci(head, b"\"enc\"")
        || contains_ci(head, b"\"kid\"")
    {
        0.85
    } else {
        0.6
    };
    Some(Hit {
        cat: 4,
        rule: "secrets.jwt",
        start: i,
        end,
        score,
    })
}

/// Decodes base64url (no padding) into `out`, returning the bytes written;
/// stops when `out` is full. Invalid characters end the decode.
fn b64url_decode(s: &[u8], out: &mut [u8]) -> usize {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32)
    };
    let (mut acc, mut bits, mut n) = (0u32, 0, 0);
    for &c in s {
        let Some(v) = val(c) else { break };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if n == out.len() {
                break;
            }
            out[n] = (acc >> bits) as u8;
            n += 1;
        }
    }
    n
}

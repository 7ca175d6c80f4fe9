//! What lies between tokens: separators (sentence ends, a label's colon,
//! quotes, paths), runs of invisible characters, and chat-template markup.

use super::chars::*;
use super::{
    Builder, Ctx, F_AT_BEFORE, F_COLON_BEFORE, F_COMMA_BEFORE, F_PATH_BEFORE, F_QUOTE_BEFORE,
    F_TRAIL_COLON, Invisible, Markup,
};

impl Builder<'_> {
    pub(super) fn separator(&mut self, kind: u8, i: usize, n: usize) {
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
                    // Its word, when the fast path built it, in step.
                    if let Some(w) = self.scan.words.last_mut() {
                        w.tok.flags = t.flags;
                    }
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
    pub(super) fn visible(&mut self, ctx: Ctx) {
        if self.open_run.is_some() {
            self.close_run(ctx);
        }
        self.last_ctx = ctx;
    }

    pub(super) fn invisible(&mut self, kind: u8, i: usize, n: usize) {
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

    pub(super) fn close_run(&mut self, after: Ctx) {
        if let Some(mut r) = self.open_run.take() {
            r.after = after;
            self.scan.invisible.push(r);
        }
    }
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

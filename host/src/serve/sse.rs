//! Server-sent event framing: reading an upstream's event stream and
//! writing ours.

use bytes::Bytes;
use serde_json::json;

/// Splits a byte stream into the `data` of its events.
#[derive(Default)]
pub struct EventReader {
    buf: Vec<u8>,
}

impl EventReader {
    /// Adds bytes as they arrived.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The data of the next complete event (its `data:` lines joined);
    /// events without data (comments, keep-alives) are skipped.
    pub fn next_data(&mut self) -> Option<String> {
        loop {
            let (event, rest) = split_event(&self.buf)?;
            self.buf.drain(..rest);
            if let Some(data) = event_data(&event) {
                return Some(data);
            }
        }
    }

    /// Bytes received after the last complete event.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// The first complete event (ended by a blank line) of `buf`, and where
/// the rest begins.
fn split_event(buf: &[u8]) -> Option<(String, usize)> {
    let mut i = 0;
    while i + 1 < buf.len() {
        if buf[i] == b'\n' && buf[i + 1] == b'\n' {
            return Some((String::from_utf8_lossy(&buf[..i]).into_owned(), i + 2));
        }
        if i + 3 < buf.len() && &buf[i..i + 4] == b"\r\n\r\n" {
            return Some((String::from_utf8_lossy(&buf[..i]).into_owned(), i + 4));
        }
        i += 1;
    }
    None
}

/// The `data:` lines of an event, joined; `None` for comments and events
/// without data.
fn event_data(event: &str) -> Option<String> {
    let lines: Vec<&str> = event
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// One event with `data`.
pub fn event(data: &str) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

/// An OpenAI-shaped error event: the `openai` clients raise it as an
/// `APIError` with this message and code.
pub fn error_event(code: &str, message: &str) -> Bytes {
    event(
        &json!({"error": {"message": message, "type": "railyard_guardrail", "param": null, "code": code}})
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_on_blank_lines_of_either_style_and_skip_comments() {
        let mut r = EventReader::default();
        r.push(b": keep-alive\n\ndata: {\"a\":1}\r\n\r\ndata: x\ndata: y\n\ndata: part");
        assert_eq!(r.next_data().as_deref(), Some("{\"a\":1}"));
        assert_eq!(r.next_data().as_deref(), Some("x\ny"));
        assert_eq!(r.next_data(), None);
        assert_eq!(r.pending(), 10);
        r.push(b"ial\n\n");
        assert_eq!(r.next_data().as_deref(), Some("partial"));
    }
}

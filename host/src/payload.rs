//! What railyard checks: one inference payload.

use serde::{Deserialize, Serialize};

/// Where in the life of an inference call a payload is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// The prompt on its way to the model.
    Request,
    /// The model's answer on its way back.
    Response,
    /// One chunk of a streamed answer.
    StreamChunk,
}

impl Stage {
    /// The name used in policy files and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Request => "request",
            Stage::Response => "response",
            Stage::StreamChunk => "stream-chunk",
        }
    }

    /// Parses a policy or CLI name.
    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "request" => Some(Stage::Request),
            "response" => Some(Stage::Response),
            "stream-chunk" => Some(Stage::StreamChunk),
            _ => None,
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user`, `assistant`, `tool`, …
    pub role: String,
    /// The text.
    pub content: String,
    /// Where the text sits in the body it came from, as a JSON path
    /// (`messages[2].tool_calls[0].function.arguments`,
    /// `choices[0].message.refusal`), when it came from a wire format. The
    /// audit record keeps it next to the text, so a finding's message index
    /// names the field it was found in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Message {
    /// A message with `role` and `content`.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Message {
            role: role.into(),
            content: content.into(),
            field: None,
        }
    }

    /// This message, noting the field of the body it came from.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// Everything plugins are shown about one inference payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// Correlates every decision made about one call.
    pub request_id: String,
    /// Which side of the call this is.
    pub stage: Stage,
    /// The route (model name or endpoint) the call is for.
    #[serde(default)]
    pub route: String,
    /// Who made the call.
    #[serde(default)]
    pub caller: String,
    /// The chat messages.
    pub messages: Vec<Message>,
    /// Free-form key/value context.
    #[serde(default)]
    pub attributes: Vec<(String, String)>,
}

impl Payload {
    /// A payload of one user message at `stage`, with a fresh request id.
    pub fn text(stage: Stage, text: impl Into<String>) -> Self {
        Payload {
            request_id: new_request_id(),
            stage,
            route: String::new(),
            caller: String::new(),
            messages: vec![Message::new(
                if stage == Stage::Request {
                    "user"
                } else {
                    "assistant"
                },
                text,
            )],
            attributes: Vec::new(),
        }
    }

    /// Bytes a plugin is handed: message contents, roles and attributes.
    /// Compared against each plugin's input cap.
    pub fn input_bytes(&self) -> usize {
        let messages: usize = self
            .messages
            .iter()
            .map(|m| m.role.len() + m.content.len())
            .sum();
        let attributes: usize = self.attributes.iter().map(|(k, v)| k.len() + v.len()).sum();
        messages + attributes + self.request_id.len() + self.route.len() + self.caller.len()
    }
}

/// A request id that sorts by time: 48 bits of milliseconds since the epoch
/// and 80 random-ish bits, printed as a UUID (version 7 layout).
pub fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // Mix process id, a counter and the clock's nanoseconds: unique within
    // and across processes without pulling in a random number generator.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    // The process id once: `getpid` is a system call each time.
    static PID: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let pid = *PID.get_or_init(|| u64::from(std::process::id()));
    let mut x = (pid << 32) ^ count.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ nanos;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    let rand_a = (x >> 52) & 0x0fff;
    let rand_b = x & 0x3fff_ffff_ffff_ffff;
    // `{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}`, written by hand: `format!`
    // was a tenth of recording a decision.
    let mut out = [0u8; 36];
    let mut put = |at: usize, digits: usize, v: u64| {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for i in 0..digits {
            out[at + i] = HEX[((v >> (4 * (digits - 1 - i))) & 15) as usize];
        }
    };
    put(0, 8, (millis >> 16) & 0xffff_ffff);
    put(9, 4, millis & 0xffff);
    put(15, 3, rand_a);
    put(19, 4, 0x8000 | ((rand_b >> 48) & 0x3fff));
    put(24, 12, rand_b & 0xffff_ffff_ffff);
    for at in [8, 13, 18, 23] {
        out[at] = b'-';
    }
    out[14] = b'7';
    String::from_utf8(out.to_vec()).expect("hex digits and dashes")
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_uuid_v7_of_now_and_distinct() {
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let ids: Vec<String> = (0..1000).map(|_| super::new_request_id()).collect();
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in &ids {
            let b = id.as_bytes();
            assert_eq!(b.len(), 36, "{id}");
            for (i, c) in b.iter().enumerate() {
                match i {
                    8 | 13 | 18 | 23 => assert_eq!(*c, b'-', "{id}"),
                    14 => assert_eq!(*c, b'7', "{id}"),
                    19 => assert!(b"89ab".contains(c), "{id}"),
                    _ => assert!(c.is_ascii_hexdigit() && !c.is_ascii_uppercase(), "{id}"),
                }
            }
            let millis = u64::from_str_radix(&id[..8], 16).unwrap() << 16
                | u64::from_str_radix(&id[9..13], 16).unwrap();
            assert!(millis >= before && millis < before + 60_000, "{id}");
        }
    }
}

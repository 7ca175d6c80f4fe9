//! What a judge answers, and how its answer is read.
//!
//! A judge is asked to answer with one JSON object:
//!
//! ```json
//! {"verdict": "block", "score": 0.92, "categories": ["PII_LEAK"], "reasoning": "…"}
//! ```
//!
//! - `verdict` (required): `allow`, `flag` or `block`;
//! - `score` (optional): a number in 0..=1, the judge's confidence that
//!   the payload breaks the rubric;
//! - `categories` (optional): strings;
//! - `reasoning` (optional): a string.
//!
//! The object may stand alone or inside one Markdown code fence (models
//! like to add one); anything else — prose around it, a second object, a
//! missing or unknown verdict, a score outside 0..=1 — is a malformed
//! answer, recorded as a judge error with the raw text kept.

use serde_json::Value;

use crate::verdict::Action;

/// Longest reasoning kept, in bytes (longer is cut on a character
/// boundary and marked).
pub const MAX_REASONING_BYTES: usize = 4096;
/// Most categories kept.
pub const MAX_CATEGORIES: usize = 32;

/// A judge's parsed answer.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeVerdict {
    /// What the judge says should happen.
    pub verdict: Action,
    /// Its score, when given.
    pub score: Option<f64>,
    /// Its categories.
    pub categories: Vec<String>,
    /// Its reasoning (empty when not given).
    pub reasoning: String,
}

/// Parses the text of a judge's answer (the chat completion's message
/// content). The error says what is wrong, for the judgement's `error`.
pub fn parse(text: &str) -> Result<JudgeVerdict, String> {
    let body = strip_fence(text.trim());
    let value: Value = serde_json::from_str(body).map_err(|e| {
        format!(
            "the answer is not one JSON object ({e}); a judge must answer {{\"verdict\": \"allow\"|\"flag\"|\"block\", \"score\": 0..1, \"categories\": [..], \"reasoning\": \"..\"}}"
        )
    })?;
    let Value::Object(map) = value else {
        return Err("the answer is JSON but not an object".into());
    };
    let verdict = match map.get("verdict") {
        Some(Value::String(v)) => match v.to_ascii_lowercase().as_str() {
            "allow" => Action::Allow,
            "flag" => Action::Flag,
            "block" => Action::Block,
            other => {
                return Err(format!(
                    "`verdict` is `{other}`; expected `allow`, `flag` or `block`"
                ));
            }
        },
        Some(other) => return Err(format!("`verdict` is {other}, not a string")),
        None => return Err("the answer has no `verdict`".into()),
    };
    let score = match map.get("score") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(s) if (0.0..=1.0).contains(&s) => Some(s),
            _ => return Err(format!("`score` is {n}, outside 0..1")),
        },
        Some(other) => return Err(format!("`score` is {other}, not a number")),
    };
    let categories = match map.get("categories") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len().min(MAX_CATEGORIES));
            for item in items.iter().take(MAX_CATEGORIES) {
                match item {
                    Value::String(s) => out.push(truncate(s, 128)),
                    other => return Err(format!("`categories` holds {other}, not a string")),
                }
            }
            out
        }
        Some(other) => return Err(format!("`categories` is {other}, not a list")),
    };
    let reasoning = match map.get("reasoning") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => truncate(s, MAX_REASONING_BYTES),
        Some(other) => return Err(format!("`reasoning` is {other}, not a string")),
    };
    Ok(JudgeVerdict {
        verdict,
        score,
        categories,
        reasoning,
    })
}

/// The inside of one Markdown code fence around the whole answer, if there
/// is one (```json … ``` or ``` … ```).
fn strip_fence(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let Some(inner) = rest.strip_suffix("```") else {
        return text;
    };
    // Drop the info string (`json`) on the opening line.
    match inner.split_once('\n') {
        Some((info, body)) if !info.trim_start().starts_with('{') => body.trim(),
        _ => inner.trim(),
    }
}

/// `s` cut to at most `max` bytes on a character boundary, marked when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} bytes cut]", &s[..end], s.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_shape_parses_with_or_without_a_fence() {
        let v = parse(
            r#"{"verdict":"block","score":0.9,"categories":["PII_LEAK"],"reasoning":"an email"}"#,
        )
        .unwrap();
        assert_eq!(v.verdict, Action::Block);
        assert_eq!(v.score, Some(0.9));
        assert_eq!(v.categories, ["PII_LEAK"]);
        assert_eq!(v.reasoning, "an email");
        let fenced = parse("```json\n{\"verdict\": \"allow\"}\n```").unwrap();
        assert_eq!(fenced.verdict, Action::Allow);
        assert_eq!(fenced.score, None);
        assert!(fenced.categories.is_empty());
        assert_eq!(
            parse("```\n{\"verdict\":\"FLAG\"}```").unwrap().verdict,
            Action::Flag
        );
    }

    #[test]
    fn malformed_answers_say_what_is_wrong() {
        for (text, needle) in [
            ("Sure! The verdict is block.", "not one JSON object"),
            ("Here: {\"verdict\":\"block\"}", "not one JSON object"),
            ("[1,2]", "not an object"),
            ("{}", "no `verdict`"),
            ("{\"verdict\":\"deny\"}", "`deny`"),
            ("{\"verdict\":1}", "not a string"),
            ("{\"verdict\":\"block\",\"score\":1.5}", "outside 0..1"),
            ("{\"verdict\":\"block\",\"score\":\"high\"}", "not a number"),
            (
                "{\"verdict\":\"block\",\"categories\":\"PII\"}",
                "not a list",
            ),
            ("{\"verdict\":\"block\",\"categories\":[1]}", "not a string"),
            ("{\"verdict\":\"block\",\"reasoning\":{}}", "not a string"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn long_reasoning_is_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_REASONING_BYTES);
        let v = parse(&format!(
            "{{\"verdict\":\"allow\",\"reasoning\":\"{long}\"}}"
        ))
        .unwrap();
        assert!(v.reasoning.len() < MAX_REASONING_BYTES + 40);
        assert!(v.reasoning.ends_with("bytes cut]"));
    }
}

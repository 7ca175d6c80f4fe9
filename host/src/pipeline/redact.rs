//! The single redaction pass of a stage.
//!
//! Detectors only report spans; this is the one place text is rewritten, so
//! overlapping findings from different plugins merge into one replacement
//! and the policy's operator is applied once.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::payload::Message;
use crate::policy::{RedactionOperator, RedactionPolicy};
use crate::verdict::Finding;

/// One merged region to replace.
#[derive(Debug, Clone)]
struct Region<'a> {
    start: usize,
    end: usize,
    /// The finding that names the region: the highest score, then the
    /// longest span.
    representative: &'a Finding,
}

/// Rewrites `messages` with every spanned finding in `findings` replaced.
/// Returns `None` when there is nothing to replace.
pub fn redact<'a>(
    messages: &[Message],
    findings: impl IntoIterator<Item = &'a Finding>,
    policy: &RedactionPolicy,
) -> Option<Vec<Message>> {
    let mut per_message: Vec<Vec<(usize, usize, &Finding)>> = vec![Vec::new(); messages.len()];
    let mut any = false;
    for f in findings {
        if let Some(span) = f.span
            && let Some(list) = per_message.get_mut(span.message as usize)
            && span.start < span.end
        {
            list.push((span.start as usize, span.end as usize, f));
            any = true;
        }
    }
    if !any {
        return None;
    }
    Some(
        messages
            .iter()
            .zip(per_message)
            .map(|(message, mut spans)| {
                if spans.is_empty() {
                    return message.clone();
                }
                spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
                let regions = merge(&spans);
                Message {
                    content: rewrite(&message.content, &regions, policy),
                    ..message.clone()
                }
            })
            .collect(),
    )
}

/// Merges overlapping spans (sorted by start) into regions.
fn merge<'a>(spans: &[(usize, usize, &'a Finding)]) -> Vec<Region<'a>> {
    let mut regions: Vec<Region<'a>> = Vec::with_capacity(spans.len());
    for &(start, end, finding) in spans {
        match regions.last_mut() {
            Some(last) if start < last.end => {
                last.end = last.end.max(end);
                let rep = last.representative;
                let rep_len = rep.span.map(|s| s.end - s.start).unwrap_or(0);
                let len = (end - start) as u32;
                if finding.score > rep.score || (finding.score == rep.score && len > rep_len) {
                    last.representative = finding;
                }
            }
            _ => regions.push(Region {
                start,
                end,
                representative: finding,
            }),
        }
    }
    regions
}

fn rewrite(content: &str, regions: &[Region<'_>], policy: &RedactionPolicy) -> String {
    let mut out = String::with_capacity(content.len());
    let mut at = 0;
    for region in regions {
        out.push_str(&content[at..region.start]);
        let original = &content[region.start..region.end];
        let category = region.representative.category.as_str();
        match policy.operator_for(category) {
            RedactionOperator::Tag => push_tag(&mut out, category, None),
            RedactionOperator::Mask => out.extend(std::iter::repeat_n(
                policy.mask_char,
                original.chars().count(),
            )),
            RedactionOperator::Hash => {
                let key = policy.hash_key.as_deref().unwrap_or_default();
                let mut mac =
                    Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
                mac.update(original.as_bytes());
                let digest = mac.finalize().into_bytes();
                push_tag(&mut out, category, Some(&hex::encode(&digest[..8])));
            }
            RedactionOperator::Drop => {}
            RedactionOperator::Plugin => match &region.representative.replacement {
                Some(r) => out.push_str(r),
                None => push_tag(&mut out, category, None),
            },
        }
        at = region.end;
    }
    out.push_str(&content[at..]);
    out
}

fn push_tag(out: &mut String, category: &str, suffix: Option<&str>) {
    out.push('<');
    out.push_str(category);
    if let Some(s) = suffix {
        out.push(':');
        out.push_str(s);
    }
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Span;
    use std::collections::BTreeMap;

    fn finding(category: &str, score: f32, start: u32, end: u32) -> Finding {
        Finding {
            rule_id: format!("test.{category}"),
            category: category.into(),
            score,
            span: Some(Span {
                message: 0,
                start,
                end,
            }),
            replacement: Some("[plugin]".into()),
        }
    }

    fn policy(operator: RedactionOperator) -> RedactionPolicy {
        RedactionPolicy {
            operator,
            categories: BTreeMap::new(),
            mask_char: '*',
            hash_key: Some(b"k".to_vec()),
        }
    }

    fn run(text: &str, findings: &[Finding], op: RedactionOperator) -> String {
        let messages = vec![Message::new("user", text)];
        redact(&messages, findings, &policy(op))
            .unwrap()
            .remove(0)
            .content
    }

    #[test]
    fn overlapping_spans_merge_into_one_replacement_named_by_the_strongest() {
        let text = "mail bob@example.com now";
        let f = [
            finding("URL", 0.4, 9, 20),
            finding("EMAIL_ADDRESS", 0.9, 5, 20),
        ];
        assert_eq!(
            run(text, &f, RedactionOperator::Tag),
            "mail <EMAIL_ADDRESS> now"
        );
    }

    #[test]
    fn operators_write_what_they_promise() {
        let text = "card 4111 1111 1111 1111 ok";
        let f = [finding("CREDIT_CARD", 1.0, 5, 24)];
        assert_eq!(
            run(text, &f, RedactionOperator::Mask),
            "card ******************* ok"
        );
        assert_eq!(run(text, &f, RedactionOperator::Drop), "card  ok");
        assert_eq!(run(text, &f, RedactionOperator::Plugin), "card [plugin] ok");
        let hashed = run(text, &f, RedactionOperator::Hash);
        assert!(
            hashed.starts_with("card <CREDIT_CARD:") && hashed.ends_with("> ok"),
            "{hashed}"
        );
        assert_eq!(
            hashed,
            run(text, &f, RedactionOperator::Hash),
            "keyed hash is stable"
        );
    }

    #[test]
    fn mask_counts_characters_not_bytes() {
        let text = "name: Zoë Ångström.";
        let f = [finding("PERSON", 1.0, 6, 21)];
        assert_eq!(
            run(text, &f, RedactionOperator::Mask),
            "name: ************."
        );
    }

    #[test]
    fn nothing_to_redact_is_none() {
        let messages = vec![Message::new("user", "hi")];
        let mut f = finding("X", 1.0, 0, 1);
        f.span = None;
        assert!(redact(&messages, [&f], &policy(RedactionOperator::Tag)).is_none());
    }

    #[test]
    fn per_category_operator_overrides_the_default() {
        let mut p = policy(RedactionOperator::Tag);
        p.categories
            .insert("CREDIT_CARD".into(), RedactionOperator::Mask);
        let messages = vec![Message::new("user", "a@b.io 4111")];
        let f = [
            finding("EMAIL_ADDRESS", 1.0, 0, 6),
            finding("CREDIT_CARD", 1.0, 7, 11),
        ];
        let out = redact(&messages, &f, &p).unwrap();
        assert_eq!(out[0].content, "<EMAIL_ADDRESS> ****");
    }
}

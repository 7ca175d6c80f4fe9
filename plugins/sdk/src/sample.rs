//! The prose the hot-path benchmark (`benches/hot_path.rs`) scans and the
//! detectors' cost examples (`plugins/*/examples/*_cost.rs`) time, so the
//! native figures and the benchmark's are taken on the same text.

use std::hint::black_box;
use std::time::Instant;

/// Prose with the occasional entity, as chat traffic looks: most text is
/// clean, a little is not.
const SENTENCES: &[&str] = &[
    "Can you summarise the quarterly report for the leadership meeting on Thursday? ",
    "The customer says the invoice total does not match the purchase order. ",
    "Please draft a polite reply explaining that the refund takes five to seven business days. ",
    "Our deployment pipeline failed at the integration step after the dependency upgrade. ",
    "Contact the account owner at maria.gonzalez@example.com if the issue persists. ",
    "What are the trade-offs between a write-ahead log and a copy-on-write tree? ",
    "The shipment left the warehouse yesterday and should arrive early next week. ",
    "Rewrite this paragraph so that it reads well for a general audience. ",
    "She called from +44 20 7946 0958 to ask about the delayed order. ",
    "List three risks of migrating the billing service before the holiday freeze. ",
    "The meeting notes mention version 2.4.1 of the client library and a new retry policy. ",
    "Translate the following product description into French and German. ",
];

/// `bytes` of the prose (cut on a character boundary).
pub fn prose(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 128);
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(SENTENCES[i % SENTENCES.len()]);
        i += 1;
    }
    let mut cut = bytes;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text
}

/// [`prose`] laid out as a pasted document: one sentence a line. The chat
/// prose is a single line, so a rule that only works past a line break
/// costs nothing on it; this times such rules too. Same bytes as
/// [`prose`] (each sentence's closing space becomes the line break).
pub fn document(bytes: usize) -> String {
    prose(bytes).replace(". ", ".\n").replace("? ", "?\n")
}

/// A cost example's `main`: arguments `[bytes] [iterations] [lines]`
/// (default 2048 and 20000; a third argument `lines` times [`document`]
/// instead of [`prose`]), `call` run that many times on the text of that
/// size (it returns how many detections it made), the time per call
/// printed under `name`. For profiling and callgrind counts
/// (BENCHMARKS.md).
pub fn time_calls(name: &str, mut call: impl FnMut(&str) -> usize) {
    let mut args = std::env::args().skip(1);
    let bytes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2048);
    let iters: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20000);
    let lines = args.next().is_some_and(|a| a == "lines");
    let text = if lines { document(bytes) } else { prose(bytes) };
    let start = Instant::now();
    let mut n = 0;
    for _ in 0..iters {
        n += call(black_box(&text));
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / iters as f64;
    println!("{name} {bytes} B: {per:.3} us/call ({n} detections)");
}

#[cfg(test)]
mod tests {
    use super::{document, prose};

    #[test]
    fn prose_is_exactly_the_size_asked() {
        for n in [0, 1, 256, 2048, 65536] {
            assert_eq!(prose(n).len(), n);
        }
    }

    #[test]
    fn the_document_is_the_prose_one_sentence_a_line() {
        let (p, d) = (prose(2048), document(2048));
        assert_eq!(d.len(), p.len());
        assert!(!p.contains('\n'));
        assert!(d.lines().count() > 20, "{d}");
        assert_eq!(d.replace('\n', " "), p);
    }
}

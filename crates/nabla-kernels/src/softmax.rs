//! The rows of cross-entropy. From logits: the softmax (the max-shifted exponential by
//! the SIMD kernel with its normalizer summed in f64), the sums over the loss's class
//! coefficients (label smoothing, class weights, probability targets) and the gradient
//! rows. From probabilities: the normalized row, the coefficients, the clipped
//! log-likelihood and its gradient. Here, built at opt-level 3, because the losses in
//! nabla-core are built for size and these loops carry the loss's time;
//! losses/cross_entropy.rs keeps the formulas' derivation, the options and the
//! validation, and passes rows here as plain slices.

use crate::unary::{unary, Unary};

/// p = softmax(row), using `z` (as long as `row`) as scratch. With m = max(row) (NaN
/// skipped; 0 if the max is not finite) and z = row − m: p = exp(z)·(1/s) with
/// s = Σ exp(z) summed in f64 in order and 1/s rounded to f32. Returns (m, s):
/// logSumExp(row) = m + ln s.
pub fn softmax_row(row: &[f32], z: &mut [f32], p: &mut [f32]) -> (f32, f64) {
    let m = row
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| if m < v { v } else { m });
    let m = if m.is_finite() { m } else { 0.0 };
    for (zk, &xk) in z.iter_mut().zip(row) {
        *zk = xk - m;
    }
    unary(Unary::Exp, z, p);
    let s: f64 = p.iter().map(|&e| e as f64).sum();
    let inv = (1.0 / s) as f32;
    for pk in p.iter_mut() {
        *pk *= inv;
    }
    (m, s)
}

/// out = u·(a·p): a cross-entropy gradient row without label smoothing.
pub fn scaled_probs(p: &[f32], a: f32, u: f32, out: &mut [f32]) {
    for (o, &pk) in out.iter_mut().zip(p) {
        *o = u * (a * pk);
    }
}

// --- the cross-entropy rows around the softmax (losses/cross_entropy.rs) ---------------
// Class weights come as `Option<&[f32]>` (one per class; None: all 1). Sums are f64 in
// class order, as the loss's documented formulas.

/// Binds `$ws` to the class weights as an iterator of f32 (1.0 for each class without
/// weights) and evaluates `$body` once per case: each case is its own loop, with no
/// branch per element.
macro_rules! with_weights {
    ($w:expr, |$ws:ident| $body:expr) => {
        match $w {
            None => {
                let $ws = std::iter::repeat(1.0f32);
                $body
            }
            Some(w) => {
                let $ws = w.iter().copied();
                $body
            }
        }
    };
}

/// Σ_k w_k over `c` classes, in f64.
pub fn class_weight_total(w: Option<&[f32]>, c: usize) -> f64 {
    with_weights!(w, |ws| ws.take(c).map(|w| w as f64).sum())
}

/// Σ_k w_k·x_k in f64: the label-smoothing term of a row's loss from logits.
pub fn weighted_row_sum(x: &[f32], w: Option<&[f32]>) -> f64 {
    debug_assert!(w.is_none_or(|w| w.len() == x.len()));
    with_weights!(w, |ws| x
        .iter()
        .zip(ws)
        .map(|(&x, w)| w as f64 * x as f64)
        .sum())
}

/// (Σ_k a_k, Σ_k a_k·x_k) for probability targets t, with a_k = w_k·((1−ε)·t_k + ε/C)
/// and C = the row's length.
pub fn dense_target_sums(t: &[f32], x: &[f32], w: Option<&[f32]>, eps: f64) -> (f64, f64) {
    debug_assert!(t.len() == x.len() && w.is_none_or(|w| w.len() == t.len()));
    let e = eps / t.len() as f64;
    with_weights!(w, |ws| {
        let a = |(&t, w): (&f32, f32)| w as f64 * ((1.0 - eps) * t as f64 + e);
        let sum_a: f64 = t.iter().zip(ws.clone()).map(a).sum();
        let dot: f64 = t
            .iter()
            .zip(ws)
            .zip(x)
            .map(|(tw, &x)| a(tw) * x as f64)
            .sum();
        (sum_a, dot)
    })
}

/// out_k = u·(Σa·p_k − (ε/C)·w_k): a gradient row from logits for an integer label with
/// label smoothing ε, before the label's own −u·(1−ε)·w_y. `sum_a` is Σa rounded to f32.
pub fn smoothed_probs(p: &[f32], sum_a: f32, u: f64, eps: f64, w: Option<&[f32]>, out: &mut [f32]) {
    debug_assert!(w.is_none_or(|w| w.len() == p.len()));
    let e = eps / p.len() as f64;
    with_weights!(
        w,
        |ws| for ((o, &pk), wk) in out.iter_mut().zip(p).zip(ws) {
            *o = (u * (sum_a as f64 * pk as f64 - e * wk as f64)) as f32;
        }
    )
}

/// out_k = u·((Σa)·p_k − a_k), a_k as in [`dense_target_sums`]: a gradient row from
/// logits for probability targets t.
pub fn dense_target_grad(
    p: &[f32],
    t: &[f32],
    w: Option<&[f32]>,
    eps: f64,
    u: f64,
    out: &mut [f32],
) {
    debug_assert!(t.len() == p.len() && w.is_none_or(|w| w.len() == t.len()));
    let e = eps / t.len() as f64;
    with_weights!(w, |ws| {
        let a = |t: f32, w: f32| w as f64 * ((1.0 - eps) * t as f64 + e);
        let sum_a: f64 = t.iter().zip(ws.clone()).map(|(&t, w)| a(t, w)).sum();
        for (((o, &pk), &tk), wk) in out.iter_mut().zip(p).zip(t).zip(ws) {
            *o = (u * (sum_a * pk as f64 - a(tk, wk))) as f32;
        }
    })
}

/// r = q / s with s = Σq (f64, in order), rounded to f32; returns s. The caller checks
/// q (finite, ≥ 0, s > 0).
pub fn normalize_row(q: &[f32], r: &mut [f32]) -> f64 {
    let s: f64 = q.iter().map(|&v| v as f64).sum();
    for (rk, &qk) in r.iter_mut().zip(q) {
        *rk = (qk as f64 / s) as f32;
    }
    s
}

/// a_k = (ε/C)·w_k rounded to f32: an integer label's coefficients before its own
/// (1−ε)·w_y.
pub fn smoothing_coefs(eps: f64, w: Option<&[f32]>, a: &mut [f32]) {
    let e = eps / a.len() as f64;
    with_weights!(w, |ws| for (ak, wk) in a.iter_mut().zip(ws) {
        *ak = (e * wk as f64) as f32;
    })
}

/// a_k = w_k·((1−ε)·t_k + ε/C) rounded to f32, for probability targets t.
pub fn dense_target_coefs(t: &[f32], w: Option<&[f32]>, eps: f64, a: &mut [f32]) {
    let e = eps / t.len() as f64;
    with_weights!(w, |ws| for ((ak, &tk), wk) in a.iter_mut().zip(t).zip(ws) {
        *ak = (wk as f64 * ((1.0 - eps) * tk as f64 + e)) as f32;
    })
}

/// −Σ_k a_k·log clip(q_k / s, ε_p, 1 − ε_p): a row's loss from probabilities.
pub fn clipped_nll(a: &[f32], q: &[f32], s: f64, clip: f64) -> f64 {
    0.0 - a
        .iter()
        .zip(q)
        .map(|(&ak, &qk)| ak as f64 * (qk as f64 / s).clamp(clip, 1.0 - clip).ln())
        .sum::<f64>()
}

/// The gradient row of [`clipped_nll`] w.r.t. q, from the saved r = q / s (f32) and s:
/// with g_k = −a_k / r_k inside the clip (0 where clipped) and d = Σ g_k·r_k,
/// out_k = u·(g_k − d) / s.
pub fn clipped_nll_grad(a: &[f32], r: &[f32], s: f64, u: f64, clip: f64, out: &mut [f32]) {
    let g = |ak: f32, rk: f32| {
        let rk = rk as f64;
        if rk > clip && rk < 1.0 - clip {
            -(ak as f64) / rk
        } else {
            0.0
        }
    };
    let dot: f64 = a
        .iter()
        .zip(r)
        .map(|(&ak, &rk)| g(ak, rk) * rk as f64)
        .sum();
    for ((o, &ak), &rk) in out.iter_mut().zip(a).zip(r) {
        *o = (u * (g(ak, rk) - dot) / s) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Each case: the class count (odd sizes), the class weights and the label smoothing.
    fn cases() -> Vec<(usize, Option<Vec<f32>>, f64)> {
        let mut rng = Rng::new(7);
        let mut out = Vec::new();
        for c in [1usize, 7, 33] {
            let w: Vec<f32> = (0..c).map(|_| 2.0 * rng.uniform()).collect();
            for w in [None, Some(w)] {
                for eps in [0.0, 0.1] {
                    out.push((c, w.clone(), eps));
                }
            }
        }
        out
    }

    fn normal(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| 3.0 * rng.normal()).collect()
    }

    /// Probabilities (positive, summing to about 1) with a few at the clip's edges.
    fn probs(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        let mut q: Vec<f32> = (0..n).map(|_| rng.uniform() + 1e-3).collect();
        let s: f32 = q.iter().sum();
        q.iter_mut().for_each(|v| *v /= s);
        if n > 2 {
            (q[0], q[1]) = (1e-9, 0.0);
        }
        q
    }

    /// One-hot targets at `n / 2`, mixed with a uniform row for a dense case.
    fn targets(n: usize) -> Vec<f32> {
        (0..n)
            .map(|k| if k == n / 2 { 0.75 } else { 0.25 / n as f32 })
            .collect()
    }

    fn weight(w: &Option<Vec<f32>>, k: usize) -> f64 {
        w.as_ref().map_or(1.0, |w| w[k] as f64)
    }

    fn bits(x: &[f32]) -> Vec<u32> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn class_weight_total_matches_reference() {
        for (c, w, _) in cases() {
            let r: f64 = (0..c).map(|k| weight(&w, k)).sum();
            assert_eq!(class_weight_total(w.as_deref(), c).to_bits(), r.to_bits());
        }
    }

    #[test]
    fn weighted_row_sum_matches_reference() {
        for (c, w, _) in cases() {
            let x = normal(c, c as u64);
            let r: f64 = (0..c).map(|k| weight(&w, k) * x[k] as f64).sum();
            assert_eq!(weighted_row_sum(&x, w.as_deref()).to_bits(), r.to_bits());
        }
    }

    #[test]
    fn dense_target_sums_matches_reference() {
        for (c, w, eps) in cases() {
            let (x, t) = (normal(c, 3), targets(c));
            let a = |k: usize| weight(&w, k) * ((1.0 - eps) * t[k] as f64 + eps / c as f64);
            let sum_a: f64 = (0..c).map(a).sum();
            let dot: f64 = (0..c).map(|k| a(k) * x[k] as f64).sum();
            let (s, d) = dense_target_sums(&t, &x, w.as_deref(), eps);
            assert_eq!((s.to_bits(), d.to_bits()), (sum_a.to_bits(), dot.to_bits()));
        }
    }

    #[test]
    fn smoothed_probs_matches_reference() {
        for (c, w, eps) in cases() {
            let (p, sum_a, u) = (probs(c, 4), 0.9f32, 0.3f64);
            let r: Vec<f32> = (0..c)
                .map(|k| (u * (sum_a as f64 * p[k] as f64 - eps / c as f64 * weight(&w, k))) as f32)
                .collect();
            let mut out = vec![0.0; c];
            smoothed_probs(&p, sum_a, u, eps, w.as_deref(), &mut out);
            assert_eq!(bits(&out), bits(&r), "c={c} eps={eps} {w:?}");
        }
    }

    #[test]
    fn dense_target_grad_matches_reference() {
        for (c, w, eps) in cases() {
            let (p, t, u) = (probs(c, 5), targets(c), -1.7f64);
            let a = |k: usize| weight(&w, k) * ((1.0 - eps) * t[k] as f64 + eps / c as f64);
            let sum_a: f64 = (0..c).map(a).sum();
            let r: Vec<f32> = (0..c)
                .map(|k| (u * (sum_a * p[k] as f64 - a(k))) as f32)
                .collect();
            let mut out = vec![0.0; c];
            dense_target_grad(&p, &t, w.as_deref(), eps, u, &mut out);
            assert_eq!(bits(&out), bits(&r), "c={c} eps={eps} {w:?}");
        }
    }

    #[test]
    fn normalize_row_matches_reference() {
        for (c, _, _) in cases() {
            let q: Vec<f32> = normal(c, 6).iter().map(|v| v.abs()).collect();
            let s: f64 = q.iter().map(|&v| v as f64).sum();
            let r: Vec<f32> = (0..c).map(|k| (q[k] as f64 / s) as f32).collect();
            let mut out = vec![0.0; c];
            assert_eq!(normalize_row(&q, &mut out).to_bits(), s.to_bits());
            assert_eq!(bits(&out), bits(&r));
        }
    }

    #[test]
    fn smoothing_coefs_matches_reference() {
        for (c, w, eps) in cases() {
            let r: Vec<f32> = (0..c)
                .map(|k| ((eps / c as f64) * weight(&w, k)) as f32)
                .collect();
            let mut a = vec![0.0; c];
            smoothing_coefs(eps, w.as_deref(), &mut a);
            assert_eq!(bits(&a), bits(&r), "c={c} eps={eps} {w:?}");
        }
    }

    #[test]
    fn dense_target_coefs_matches_reference() {
        for (c, w, eps) in cases() {
            let t = targets(c);
            let r: Vec<f32> = (0..c)
                .map(|k| (weight(&w, k) * ((1.0 - eps) * t[k] as f64 + eps / c as f64)) as f32)
                .collect();
            let mut a = vec![0.0; c];
            dense_target_coefs(&t, w.as_deref(), eps, &mut a);
            assert_eq!(bits(&a), bits(&r), "c={c} eps={eps} {w:?}");
        }
    }

    #[test]
    fn clipped_nll_matches_reference() {
        for (c, w, eps) in cases() {
            let (q, clip) = (probs(c, 8), 1e-7);
            let s: f64 = q.iter().map(|&v| v as f64).sum::<f64>() * 1.5;
            let mut a = vec![0.0; c];
            dense_target_coefs(&targets(c), w.as_deref(), eps, &mut a);
            let logp = |k: usize| (q[k] as f64 / s).clamp(clip, 1.0 - clip).ln();
            let r = 0.0 - (0..c).map(|k| a[k] as f64 * logp(k)).sum::<f64>();
            assert_eq!(clipped_nll(&a, &q, s, clip).to_bits(), r.to_bits());
        }
    }

    #[test]
    fn clipped_nll_grad_matches_reference() {
        for (c, w, eps) in cases() {
            let (r, clip, s, u) = (probs(c, 9), 1e-7, 1.25f64, 0.6f64);
            let mut a = vec![0.0; c];
            dense_target_coefs(&targets(c), w.as_deref(), eps, &mut a);
            let gl = |k: usize| {
                let rk = r[k] as f64;
                if rk > clip && rk < 1.0 - clip {
                    -(a[k] as f64) / rk
                } else {
                    0.0
                }
            };
            let dot: f64 = (0..c).map(|k| gl(k) * r[k] as f64).sum();
            let want: Vec<f32> = (0..c).map(|k| (u * (gl(k) - dot) / s) as f32).collect();
            let mut out = vec![0.0; c];
            clipped_nll_grad(&a, &r, s, u, clip, &mut out);
            assert_eq!(bits(&out), bits(&want), "c={c} eps={eps} {w:?}");
        }
    }
}

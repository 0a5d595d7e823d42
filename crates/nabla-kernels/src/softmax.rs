//! Softmax rows of the fused cross-entropy from logits: the max-shifted exponential by
//! the SIMD kernel with its normalizer summed in f64, and the gradient's scaled
//! probabilities. Here, built at opt-level 3, because the losses in nabla-core are
//! built for size and these loops carry the loss's time.

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

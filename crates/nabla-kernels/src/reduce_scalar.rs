//! Reference reductions: one pass over k per output element, in order.

use super::reduce::Reduce;

/// One reduction over `len` values read through `at`, in order.
#[inline(always)]
pub fn reduce_one(op: Reduce, len: usize, at: impl Fn(usize) -> f32) -> f32 {
    match op {
        Reduce::Sum => (0..len).fold(0.0, |s, k| s + at(k)),
        Reduce::Max => {
            let (mut m, mut nan) = (f32::NEG_INFINITY, false);
            for k in 0..len {
                let v = at(k);
                nan |= v.is_nan();
                if m < v {
                    m = v;
                }
            }
            if nan {
                f32::NAN
            } else {
                m
            }
        }
    }
}

/// Index of the first largest of `len` values; the first NaN wins.
#[inline(always)]
pub fn argmax_one(len: usize, at: impl Fn(usize) -> f32) -> usize {
    let mut best = 0;
    for k in 1..len {
        let (v, b) = (at(k), at(best));
        // Strictly greater keeps the first of ties; a NaN is taken once and then kept.
        if !b.is_nan() && (v > b || v.is_nan()) {
            best = k;
        }
    }
    best
}

pub fn reduce_scalar(
    op: Reduce,
    x: &[f32],
    outer: usize,
    len: usize,
    inner: usize,
    out: &mut [f32],
) {
    for o in 0..outer {
        for i in 0..inner {
            out[o * inner + i] = reduce_one(op, len, |k| x[(o * len + k) * inner + i]);
        }
    }
}

pub fn argmax_scalar(x: &[f32], outer: usize, len: usize, inner: usize, out: &mut [i32]) {
    for o in 0..outer {
        for i in 0..inner {
            out[o * inner + i] = argmax_one(len, |k| x[(o * len + k) * inner + i]) as i32;
        }
    }
}

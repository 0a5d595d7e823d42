//! Reductions along one axis of a tensor viewed as `[outer, len, inner]` (row-major):
//! `out[o, i] = reduce over k of x[o, k, i]`. Reducing several axes is several calls.
//!
//! Sum order: the scalar twin adds k in order. The SIMD twin vectorizes over `inner`
//! when it is at least 4 (same order per lane, so bit-equal) and, for contiguous rows
//! (`inner == 1`), keeps 8 running partial sums: a different rounding, within
//! `len · ε · Σ|x|` of the exact sum like the sequential one. Max is exact in both;
//! it is NaN when any element is NaN.

use super::reduce_scalar::{argmax_scalar, reduce_scalar};
use super::reduce_simd128::{argmax_simd128, reduce_simd128};
use super::{mode, Mode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    Sum,
    Max,
}

/// The `[outer, len, inner]` view of a reduction over `axis` of `dims`.
pub fn split_axis(dims: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = dims[..axis].iter().product();
    let inner = dims[axis + 1..].iter().product();
    (outer, dims[axis], inner)
}

fn check(x: usize, outer: usize, len: usize, inner: usize, out: usize) {
    assert_eq!(x, outer * len * inner, "reduce: input length");
    assert_eq!(out, outer * inner, "reduce: output length");
}

/// `out[o, i] = Σ_k x[o, k, i]` (or max). A max over zero elements is -∞, a sum 0.
pub fn reduce(op: Reduce, x: &[f32], outer: usize, len: usize, inner: usize, out: &mut [f32]) {
    check(x.len(), outer, len, inner, out.len());
    match mode() {
        Mode::Simd => reduce_simd128(op, x, outer, len, inner, out),
        Mode::Scalar => reduce_scalar(op, x, outer, len, inner, out),
    }
}

/// Index along the axis of the first largest element; a NaN counts as largest.
/// Needs `len > 0` (the op checks).
pub fn argmax(x: &[f32], outer: usize, len: usize, inner: usize, out: &mut [i32]) {
    check(x.len(), outer, len, inner, out.len());
    assert!(len > 0 || out.is_empty(), "argmax: empty axis");
    match mode() {
        Mode::Simd => argmax_simd128(x, outer, len, inner, out),
        Mode::Scalar => argmax_scalar(x, outer, len, inner, out),
    }
}

/// Index of the first largest value of a row (a NaN counts as largest).
pub fn argmax_index(row: &[f32]) -> usize {
    super::reduce_scalar::argmax_one(row.len(), |k| row[k])
}

#[cfg(test)]
mod tests {
    use super::super::{with_mode, Mode};
    use super::*;
    use proptest::prelude::*;

    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut r = crate::rng::Rng::new(seed);
        (0..n).map(|_| r.normal()).collect()
    }

    fn both<T: Clone + Default>(f: impl Fn(&mut [T]), n: usize) -> (Vec<T>, Vec<T>) {
        let mut s = vec![T::default(); n];
        let mut v = vec![T::default(); n];
        with_mode(Mode::Scalar, || f(&mut s));
        with_mode(Mode::Simd, || f(&mut v));
        (s, v)
    }

    fn check_shape(outer: usize, len: usize, inner: usize, seed: u64) {
        let mut x = values(outer * len * inner, seed);
        if seed % 3 == 0 && !x.is_empty() {
            let i = (seed as usize * 7) % x.len();
            x[i] = x[(i + 1) % x.len()]; // a tie for argmax
        }
        let n = outer * inner;
        let (s, v) = both(|o| reduce(Reduce::Sum, &x, outer, len, inner, o), n);
        for j in 0..n {
            let (o, i) = (j / inner.max(1), j % inner.max(1));
            let abs: f32 = (0..len).map(|k| x[(o * len + k) * inner + i].abs()).sum();
            let tol = (len as f32 + 1.0) * f32::EPSILON * abs;
            assert!(
                (s[j] - v[j]).abs() <= tol,
                "sum {outer}x{len}x{inner} [{j}]: {} vs {}",
                s[j],
                v[j]
            );
            if inner >= 4 {
                assert_eq!(
                    s[j].to_bits(),
                    v[j].to_bits(),
                    "vectorized over inner: same order"
                );
            }
        }
        let (s, v) = both(|o| reduce(Reduce::Max, &x, outer, len, inner, o), n);
        assert_eq!(s, v, "max {outer}x{len}x{inner}");
        if len > 0 {
            let (s, v) = both(|o| argmax(&x, outer, len, inner, o), n);
            assert_eq!(s, v, "argmax {outer}x{len}x{inner}");
            for j in 0..n {
                let (o, i) = (j / inner, j % inner);
                let at = |k: usize| x[(o * len + k) * inner + i];
                let k = s[j] as usize;
                assert!(
                    (0..len).all(|q| at(q) <= at(k)) && (0..k).all(|q| at(q) < at(k)),
                    "argmax is the first largest"
                );
            }
        }
    }

    #[test]
    fn fixed_shapes() {
        let sizes = [0, 1, 3, 4, 5, 7, 15, 16, 17, 33];
        let mut seed = 0;
        for &outer in &[1, 3] {
            for &len in &sizes {
                for &inner in &sizes {
                    seed += 1;
                    check_shape(outer, len, inner, seed);
                }
            }
        }
        check_shape(2, 10_000, 1, 99);
        check_shape(1, 1000, 37, 98);
    }

    #[test]
    fn known_values_and_nan() {
        let x = [1.0, 5.0, 2.0, 4.0, 3.0, 0.0];
        let mut out = [0.0; 2];
        reduce(Reduce::Sum, &x, 2, 3, 1, &mut out);
        assert_eq!(out, [8.0, 7.0]);
        let mut out3 = [0.0; 3];
        reduce(Reduce::Max, &x, 1, 2, 3, &mut out3);
        assert_eq!(out3, [4.0, 5.0, 2.0]);
        let mut idx = [0; 3];
        argmax(&x, 1, 2, 3, &mut idx);
        assert_eq!(idx, [1, 0, 0]);
        for m in [Mode::Simd, Mode::Scalar] {
            let y = [1.0, f32::NAN, 3.0, 2.0, 0.0, 1.0, 2.0, 3.0, 4.0];
            let mut out = [0.0; 1];
            with_mode(m, || reduce(Reduce::Max, &y, 1, 9, 1, &mut out));
            assert!(out[0].is_nan(), "{m:?}");
            let mut i = [0; 1];
            with_mode(m, || argmax(&y, 1, 9, 1, &mut i));
            assert_eq!(i[0], 1, "{m:?}");
            let mut e = [0.0; 2];
            with_mode(m, || reduce(Reduce::Max, &[], 2, 0, 1, &mut e));
            assert_eq!(e, [f32::NEG_INFINITY; 2]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(150))]
        #[test]
        fn simd_equals_scalar_on_random_shapes(outer in 0usize..4, len in 0usize..70, inner in 0usize..40, seed in 0u64..1000) {
            check_shape(outer, len, inner, seed);
        }
    }
}

//! Small elementwise kernels that are not arithmetic between two tensors: `abs`,
//! `sqrt`, selection by a condition, and masks for piecewise derivatives. Each has a
//! scalar twin and a SIMD twin that computes the same IEEE result bit for bit.

use super::simd::F32x4;
use super::{mode, Mode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Map {
    Abs,
    Sqrt,
    /// 1 where `x > 0`, 0 elsewhere (NaN → 0): the derivative of relu.
    Step,
    /// -1, 0 or 1 (NaN stays NaN; ±0 → 0): the derivative of abs.
    Sign,
}

#[inline(always)]
fn map_one(f: Map, x: f32) -> f32 {
    match f {
        Map::Abs => x.abs(),
        Map::Sqrt => x.sqrt(),
        Map::Step => {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Map::Sign => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else if x.is_nan() {
                x
            } else {
                0.0
            }
        }
    }
}

#[inline(always)]
fn map_lanes(f: Map, x: F32x4) -> F32x4 {
    let (zero, one) = (F32x4::splat(0.0), F32x4::splat(1.0));
    match f {
        Map::Abs => x.abs(),
        Map::Sqrt => x.sqrt(),
        Map::Step => x.gt(zero).select(one, zero),
        Map::Sign => x
            .gt(zero)
            .select(one, x.lt(zero).select(one.neg(), x.eq(x).select(zero, x))),
    }
}

pub fn map_scalar(f: Map, x: &[f32], out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = map_one(f, v);
    }
}

pub fn map_simd128(f: Map, x: &[f32], out: &mut [f32]) {
    let n = out.len();
    let main = n - n % 4;
    let mut i = 0;
    while i < main {
        // SAFETY: i + 4 <= n = x.len() = out.len().
        unsafe { map_lanes(f, F32x4::load(x.as_ptr().add(i))).store(out.as_mut_ptr().add(i)) };
        i += 4;
    }
    for i in main..n {
        out[i] = map_one(f, x[i]);
    }
}

pub fn map(f: Map, x: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "map: lengths differ");
    match mode() {
        Mode::Simd => map_simd128(f, x, out),
        Mode::Scalar => map_scalar(f, x, out),
    }
}

/// `out[i] = if cond[i] != 0 { a[i] } else { b[i] }` (a NaN condition counts as true).
pub fn select_scalar(cond: &[f32], a: &[f32], b: &[f32], out: &mut [f32]) {
    for i in 0..out.len() {
        out[i] = if cond[i] != 0.0 { a[i] } else { b[i] };
    }
}

pub fn select_simd128(cond: &[f32], a: &[f32], b: &[f32], out: &mut [f32]) {
    let n = out.len();
    let main = n - n % 4;
    let zero = F32x4::splat(0.0);
    let mut i = 0;
    while i < main {
        // SAFETY: i + 4 <= n, the length of all four slices.
        unsafe {
            let c = F32x4::load(cond.as_ptr().add(i));
            let r = c.eq(zero).select(
                F32x4::load(b.as_ptr().add(i)),
                F32x4::load(a.as_ptr().add(i)),
            );
            r.store(out.as_mut_ptr().add(i));
        }
        i += 4;
    }
    select_scalar(&cond[main..], &a[main..], &b[main..], &mut out[main..]);
}

pub fn select(cond: &[f32], a: &[f32], b: &[f32], out: &mut [f32]) {
    let n = out.len();
    assert!(
        cond.len() == n && a.len() == n && b.len() == n,
        "select: lengths differ"
    );
    match mode() {
        Mode::Simd => select_simd128(cond, a, b, out),
        Mode::Scalar => select_scalar(cond, a, b, out),
    }
}

/// `out[i] = g[i]` where `lo <= x[i] <= hi`, else 0: the derivative of clip.
pub fn pass_in_range_scalar(x: &[f32], lo: f32, hi: f32, g: &[f32], out: &mut [f32]) {
    for i in 0..out.len() {
        out[i] = if x[i] >= lo && x[i] <= hi { g[i] } else { 0.0 };
    }
}

pub fn pass_in_range_simd128(x: &[f32], lo: f32, hi: f32, g: &[f32], out: &mut [f32]) {
    let n = out.len();
    let main = n - n % 4;
    let (vlo, vhi, zero) = (F32x4::splat(lo), F32x4::splat(hi), F32x4::splat(0.0));
    let mut i = 0;
    while i < main {
        // SAFETY: i + 4 <= n, the length of all three slices.
        unsafe {
            let v = F32x4::load(x.as_ptr().add(i));
            let inside = v.ge(vlo).and(v.le(vhi));
            inside
                .select(F32x4::load(g.as_ptr().add(i)), zero)
                .store(out.as_mut_ptr().add(i));
        }
        i += 4;
    }
    pass_in_range_scalar(&x[main..], lo, hi, &g[main..], &mut out[main..]);
}

pub fn pass_in_range(x: &[f32], lo: f32, hi: f32, g: &[f32], out: &mut [f32]) {
    assert!(
        x.len() == out.len() && g.len() == out.len(),
        "pass_in_range: lengths differ"
    );
    match mode() {
        Mode::Simd => pass_in_range_simd128(x, lo, hi, g, out),
        Mode::Scalar => pass_in_range_scalar(x, lo, hi, g, out),
    }
}

/// The index of the first NaN in `x`, or with `infinity_ok` false the first value that
/// is not finite. Scans 64 values at a time without branches, which the compiler
/// vectorizes: validation of every loss input and every gradient runs through here.
pub fn first_non_finite(x: &[f32], infinity_ok: bool) -> Option<usize> {
    let bad = |v: f32| v.is_nan() | (!infinity_ok & v.is_infinite());
    for (c, chunk) in x.chunks(64).enumerate() {
        if chunk.iter().fold(false, |b, &v| b | bad(v)) {
            return chunk.iter().position(|&v| bad(v)).map(|i| c * 64 + i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(a: &[f32], b: &[f32]) -> bool {
        a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    }

    const SPECIAL: [f32; 9] = [
        0.0,
        -0.0,
        1.5,
        -2.5,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        1e-40,
        -7.0,
    ];

    #[test]
    fn special_values() {
        let mut out = [0.0; 9];
        map(Map::Sign, &SPECIAL, &mut out);
        assert_eq!(&out[..4], &[0.0, 0.0, 1.0, -1.0]);
        assert!(out[4].is_nan());
        map(Map::Step, &SPECIAL, &mut out);
        assert_eq!(out, [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    }

    proptest! {
        #[test]
        fn simd_equals_scalar(xs in prop::collection::vec(prop::num::f32::ANY, 0..70), lo in -2.0f32..0.0, hi in 0.0f32..2.0) {
            let n = xs.len();
            let xs: Vec<f32> = xs.into_iter().chain(SPECIAL).collect();
            let m = xs.len();
            for f in [Map::Abs, Map::Sqrt, Map::Step, Map::Sign] {
                let (mut s, mut v) = (vec![0.0; m], vec![0.0; m]);
                map_scalar(f, &xs, &mut s);
                map_simd128(f, &xs, &mut v);
                prop_assert!(same(&s, &v), "{:?}", f);
            }
            let g: Vec<f32> = (0..m).map(|i| i as f32).collect();
            let (mut s, mut v) = (vec![0.0; m], vec![0.0; m]);
            select_scalar(&xs, &g, &xs, &mut s);
            select_simd128(&xs, &g, &xs, &mut v);
            prop_assert!(same(&s, &v));
            pass_in_range_scalar(&xs, lo, hi, &g, &mut s);
            pass_in_range_simd128(&xs, lo, hi, &g, &mut v);
            prop_assert!(same(&s, &v), "n={}", n);
        }
    }

    #[test]
    fn first_non_finite_finds_the_first_bad_value() {
        let mut x = vec![1.0f32; 200];
        assert_eq!(first_non_finite(&x, false), None);
        x[150] = f32::INFINITY;
        x[170] = f32::NAN;
        assert_eq!(first_non_finite(&x, false), Some(150));
        assert_eq!(first_non_finite(&x, true), Some(170));
        x[3] = f32::NEG_INFINITY;
        assert_eq!(first_non_finite(&x, false), Some(3));
        assert_eq!(first_non_finite(&[], false), None);
    }
}

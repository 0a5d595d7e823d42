//! SIMD128 span kernel for binary ops: four lanes per step, the same IEEE operations
//! as `Binary::apply` (so results are bit-equal), scalar `apply` for the tail. `pow`
//! has no vector form here and runs `apply` throughout.

use super::binary::{Binary, Span};
use super::simd::F32x4;

#[inline(always)]
fn lanes(op: Binary, a: F32x4, b: F32x4) -> F32x4 {
    match op {
        Binary::Add => a.add(b),
        Binary::Sub => a.sub(b),
        Binary::Mul => a.mul(b),
        Binary::Div => a.div(b),
        // pmax/pmin keep `a` unless `a < b`; then a NaN in `b` must win, as in `apply`.
        Binary::Maximum => b.eq(b).select(a.max(b), b),
        Binary::Minimum => b.eq(b).select(a.min(b), b),
        Binary::Pow => unreachable!("pow has no vector form"),
    }
}

#[inline(always)]
fn run(op: Binary, a: Span, b: Span, out: &mut [f32]) {
    let n = out.len();
    let main = n - n % 4;
    let ld = |s: &Span, i: usize| match s {
        // SAFETY: i + 4 <= main <= n, the slice's length.
        Span::Slice(x) => unsafe { F32x4::load(x.as_ptr().add(i)) },
        Span::Splat(v) => F32x4::splat(*v),
    };
    let mut i = 0;
    while i < main {
        let r = lanes(op, ld(&a, i), ld(&b, i));
        // SAFETY: as above, for `out`.
        unsafe { r.store(out.as_mut_ptr().add(i)) };
        i += 4;
    }
    let at = |s: &Span, i: usize| match s {
        Span::Slice(x) => x[i],
        Span::Splat(v) => *v,
    };
    for i in main..n {
        out[i] = op.apply(at(&a, i), at(&b, i));
    }
}

pub fn span_simd128(op: Binary, a: Span, b: Span, out: &mut [f32]) {
    if let Span::Slice(x) = a {
        assert_eq!(x.len(), out.len());
    }
    if let Span::Slice(x) = b {
        assert_eq!(x.len(), out.len());
    }
    if op == Binary::Pow {
        return super::binary_scalar::span_scalar(op, a, b, out);
    }
    // One monomorphic loop per op so the match is hoisted out of the lane loop.
    match op {
        Binary::Add => run(Binary::Add, a, b, out),
        Binary::Sub => run(Binary::Sub, a, b, out),
        Binary::Mul => run(Binary::Mul, a, b, out),
        Binary::Div => run(Binary::Div, a, b, out),
        Binary::Maximum => run(Binary::Maximum, a, b, out),
        Binary::Minimum => run(Binary::Minimum, a, b, out),
        Binary::Pow => unreachable!(),
    }
}

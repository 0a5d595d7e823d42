//! Elementwise binary arithmetic with NumPy broadcasting. The broadcast walk (shared)
//! reduces any pair of shapes to runs over contiguous spans, each span a slice or a
//! single broadcast value; the span kernels are the scalar/SIMD twins.

use super::binary_scalar::span_scalar;
use super::binary_simd128::span_simd128;
use super::{mode, Mode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    /// `a^b` (`f32::powf`); computed by the scalar code in both twins.
    Pow,
    /// The larger value; NaN if either is NaN.
    Maximum,
    /// The smaller value; NaN if either is NaN.
    Minimum,
}

impl Binary {
    pub const ALL: [Binary; 7] = [
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Div,
        Binary::Pow,
        Binary::Maximum,
        Binary::Minimum,
    ];

    /// The public name, as in `nb.add`.
    pub fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
            Binary::Pow => "pow",
            Binary::Maximum => "maximum",
            Binary::Minimum => "minimum",
        }
    }

    pub fn from_name(name: &str) -> Option<Binary> {
        Binary::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The definition of each op on one pair; the SIMD spans compute exactly this.
    #[inline(always)]
    pub fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            Binary::Div => a / b,
            Binary::Pow => a.powf(b),
            // `a < b ? b : a` (wasm pmax), then NaN in `b` wins too.
            Binary::Maximum => {
                if b.is_nan() || a < b {
                    b
                } else {
                    a
                }
            }
            Binary::Minimum => {
                if b.is_nan() || b < a {
                    b
                } else {
                    a
                }
            }
        }
    }
}

/// One operand of a span: a slice as long as the output, or one value broadcast over it.
#[derive(Clone, Copy)]
pub enum Span<'a> {
    Slice(&'a [f32]),
    Splat(f32),
}

fn span(op: Binary, a: Span, b: Span, out: &mut [f32]) {
    match mode() {
        Mode::Simd => span_simd128(op, a, b, out),
        Mode::Scalar => span_scalar(op, a, b, out),
    }
}

/// `out = a op b` for equal-length slices.
pub fn binary(op: Binary, a: &[f32], b: &[f32], out: &mut [f32]) {
    assert!(
        a.len() == out.len() && b.len() == out.len(),
        "binary: lengths differ"
    );
    span(op, Span::Slice(a), Span::Slice(b), out)
}

/// `acc += x`, for gradient accumulation.
pub fn add_assign(acc: &mut [f32], x: &[f32]) {
    assert_eq!(acc.len(), x.len(), "add_assign: lengths differ");
    // The span kernels read `a` and write `out` element by element in the same order,
    // but aliasing a shared and a mutable slice is not allowed: go through chunks.
    let mut tmp = [0.0f32; 256];
    for (acc, x) in acc.chunks_mut(256).zip(x.chunks(256)) {
        let t = &mut tmp[..acc.len()];
        t.copy_from_slice(acc);
        span(Binary::Add, Span::Slice(t), Span::Slice(x), acc);
    }
}

/// `m[row, j] += b[j]` for every row of row-major `m` with `b.len()` columns (bias add).
/// A plain loop, which the compiler vectorizes (this crate is built at opt-level 3).
pub fn add_to_rows(m: &mut [f32], b: &[f32]) {
    for row in m.chunks_exact_mut(b.len()) {
        for (v, &bi) in row.iter_mut().zip(b) {
            *v += bi;
        }
    }
}

/// `sum[j] += Σ_rows m[row, j]` for row-major `m` with `sum.len()` columns, row by row
/// (bias gradients). A plain loop, as `add_to_rows`.
pub fn add_column_sums(m: &[f32], sum: &mut [f32]) {
    for row in m.chunks_exact(sum.len()) {
        for (s, &v) in sum.iter_mut().zip(row) {
            *s += v;
        }
    }
}

/// The broadcast shape of `a` and `b` (NumPy rules: align right, 1 stretches), or `None`.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            a[i + a.len() - rank]
        } else {
            1
        };
        let db = if i + b.len() >= rank {
            b[i + b.len() - rank]
        } else {
            1
        };
        out[i] = match (da, db) {
            _ if da == db => da,
            (1, d) | (d, 1) => d,
            _ => return None,
        };
    }
    Some(out)
}

/// Row-major strides of `dims` seen as `out_dims` (right-aligned), 0 where broadcast.
pub fn broadcast_strides(dims: &[usize], out_dims: &[usize]) -> Vec<usize> {
    let offset = out_dims.len() - dims.len();
    let mut strides = vec![0; out_dims.len()];
    let mut s = 1;
    for i in (0..dims.len()).rev() {
        strides[i + offset] = if dims[i] == 1 { 0 } else { s };
        s *= dims[i];
    }
    strides
}

/// Merges adjacent dimensions that every operand walks contiguously, so the innermost
/// span is as long as possible. Returns `(dims, strides per operand)`.
fn coalesce(dims: &[usize], strides: &[Vec<usize>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut d: Vec<usize> = Vec::new();
    let mut s: Vec<Vec<usize>> = vec![Vec::new(); strides.len()];
    for i in 0..dims.len() {
        if dims[i] == 1 {
            continue;
        }
        let mergeable = !d.is_empty()
            && strides
                .iter()
                .enumerate()
                .all(|(k, st)| s[k].last() == Some(&(st[i] * dims[i])));
        if mergeable {
            *d.last_mut().unwrap() *= dims[i];
            for (k, st) in strides.iter().enumerate() {
                *s[k].last_mut().unwrap() = st[i];
            }
        } else {
            d.push(dims[i]);
            for (k, st) in strides.iter().enumerate() {
                s[k].push(st[i]);
            }
        }
    }
    (d, s)
}

/// Calls `f(offsets)` for each innermost run of a row-major walk over `dims`, where
/// `offsets[k]` is operand k's start; returns the run length and each operand's
/// innermost stride (0 or 1 after broadcasting).
fn walk_runs(dims: &[usize], strides: &[Vec<usize>], mut f: impl FnMut(&[usize])) -> usize {
    let rank = dims.len();
    if rank == 0 {
        f(&vec![0; strides.len()]);
        return 1;
    }
    let inner = dims[rank - 1];
    let outer: usize = dims[..rank - 1].iter().product();
    let mut idx = vec![0usize; rank - 1];
    let mut offsets = vec![0usize; strides.len()];
    for _ in 0..outer {
        f(&offsets);
        // Advance the multi-index (last outer dimension fastest).
        for d in (0..rank - 1).rev() {
            idx[d] += 1;
            for (k, st) in strides.iter().enumerate() {
                offsets[k] += st[d];
            }
            if idx[d] < dims[d] {
                break;
            }
            for (k, st) in strides.iter().enumerate() {
                offsets[k] -= st[d] * dims[d];
            }
            idx[d] = 0;
        }
    }
    inner
}

/// `out = a op b` with broadcasting; `out_dims` must be `broadcast_shape(a_dims, b_dims)`.
pub fn binary_broadcast(
    op: Binary,
    a: &[f32],
    a_dims: &[usize],
    b: &[f32],
    b_dims: &[usize],
    out_dims: &[usize],
    out: &mut [f32],
) {
    let n: usize = out_dims.iter().product();
    assert_eq!(out.len(), n, "binary_broadcast: output length");
    if n == 0 {
        return;
    }
    // Same-shape and one-value operands (relu's max(x, 0), a scale) are one span: no
    // stride tables. An operand broadcast to the output with all of its elements has
    // the output's shape.
    fn whole(x: &[f32], n: usize) -> Option<Span<'_>> {
        match x.len() {
            len if len == n => Some(Span::Slice(x)),
            1 => Some(Span::Splat(x[0])),
            _ => None,
        }
    }
    if let (Some(sa), Some(sb)) = (whole(a, n), whole(b, n)) {
        return span(op, sa, sb, out);
    }
    let sa = broadcast_strides(a_dims, out_dims);
    let sb = broadcast_strides(b_dims, out_dims);
    let so = broadcast_strides(out_dims, out_dims);
    let (dims, strides) = coalesce(out_dims, &[sa, sb, so]);
    let inner = dims.last().copied().unwrap_or(1);
    let (ia, ib) = (
        strides[0].last().copied().unwrap_or(0),
        strides[1].last().copied().unwrap_or(0),
    );
    fn operand(x: &[f32], o: usize, inner_stride: usize, inner: usize) -> Span<'_> {
        if inner_stride == 0 {
            Span::Splat(x[o])
        } else {
            Span::Slice(&x[o..o + inner])
        }
    }
    walk_runs(&dims, &strides, |off| {
        let (sa, sb) = (operand(a, off[0], ia, inner), operand(b, off[1], ib, inner));
        span(op, sa, sb, &mut out[off[2]..off[2] + inner]);
    });
}

/// Materializes `x` (shape `dims`) broadcast to `out_dims`.
pub fn broadcast_to(x: &[f32], dims: &[usize], out_dims: &[usize], out: &mut [f32]) {
    let n: usize = out_dims.iter().product();
    assert_eq!(out.len(), n, "broadcast_to: output length");
    if n == 0 {
        return;
    }
    let sx = broadcast_strides(dims, out_dims);
    let so = broadcast_strides(out_dims, out_dims);
    let (cd, strides) = coalesce(out_dims, &[sx, so]);
    let inner = cd.last().copied().unwrap_or(1);
    let ix = strides[0].last().copied().unwrap_or(0);
    walk_runs(&cd, &strides, |off| {
        let dst = &mut out[off[1]..off[1] + inner];
        if ix == 0 {
            dst.fill(x[off[0]]);
        } else {
            dst.copy_from_slice(&x[off[0]..off[0] + inner]);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::super::{with_mode, Mode};
    use super::*;
    use proptest::prelude::*;

    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut r = crate::rng::Rng::new(seed);
        (0..n).map(|_| r.normal() * 3.0).collect()
    }

    /// The broadcast result computed the slow, obvious way: one multi-index at a time.
    fn naive(
        op: Binary,
        a: &[f32],
        ad: &[usize],
        b: &[f32],
        bd: &[usize],
        od: &[usize],
    ) -> Vec<f32> {
        let n: usize = od.iter().product();
        let (sa, sb) = (broadcast_strides(ad, od), broadcast_strides(bd, od));
        (0..n)
            .map(|mut flat| {
                let (mut oa, mut ob) = (0, 0);
                for d in (0..od.len()).rev() {
                    let i = flat % od[d];
                    flat /= od[d];
                    oa += i * sa[d];
                    ob += i * sb[d];
                }
                op.apply(a[oa], b[ob])
            })
            .collect()
    }

    fn check(op: Binary, ad: &[usize], bd: &[usize]) {
        let od = broadcast_shape(ad, bd).unwrap();
        let a = values(ad.iter().product(), 1);
        let mut b = values(bd.iter().product(), 2);
        if op == Binary::Pow {
            b.iter_mut().for_each(|x| *x = x.round() / 2.0);
        }
        let want = naive(op, &a, ad, &b, bd, &od);
        for m in [Mode::Simd, Mode::Scalar] {
            let mut got = vec![0.0; want.len()];
            with_mode(m, || binary_broadcast(op, &a, ad, &b, bd, &od, &mut got));
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                    "{op:?} {ad:?} {bd:?} {m:?}: {g} vs {w}"
                );
            }
        }
    }

    #[test]
    fn broadcast_shapes_follow_numpy() {
        assert_eq!(broadcast_shape(&[2, 1, 3], &[4, 1]), Some(vec![2, 4, 3]));
        assert_eq!(broadcast_shape(&[], &[5]), Some(vec![5]));
        assert_eq!(broadcast_shape(&[2, 3], &[3, 2]), None);
        assert_eq!(broadcast_shape(&[0, 3], &[1, 3]), Some(vec![0, 3]));
    }

    #[test]
    fn every_op_on_fixed_broadcast_patterns_equals_the_naive_walk() {
        let patterns: &[(&[usize], &[usize])] = &[
            (&[], &[]),
            (&[7], &[7]),
            (&[17], &[]),
            (&[], &[33]),
            (&[3, 5], &[5]),
            (&[3, 1], &[1, 4]),
            (&[2, 1, 7], &[3, 1]),
            (&[4, 1, 5, 1], &[1, 3, 1, 2]),
            (&[0, 3], &[3]),
            (&[16, 15], &[16, 1]),
        ];
        for op in Binary::ALL {
            for (a, b) in patterns {
                check(op, a, b);
            }
        }
    }

    #[test]
    fn nan_and_signed_zero_follow_the_definition() {
        let a = [f32::NAN, 1.0, -0.0, 0.0, 2.0];
        let b = [1.0, f32::NAN, 0.0, -0.0, 2.0];
        for op in [Binary::Maximum, Binary::Minimum] {
            let want: Vec<f32> = a.iter().zip(&b).map(|(&x, &y)| op.apply(x, y)).collect();
            assert!(want[0].is_nan() && want[1].is_nan());
            let mut got = [0.0; 5];
            binary(op, &a, &b, &mut got);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                    "{op:?}: {g} vs {w}"
                );
            }
        }
    }

    #[test]
    fn add_assign_accumulates() {
        let mut acc = values(1000, 3);
        let x = values(1000, 4);
        let want: Vec<f32> = acc.iter().zip(&x).map(|(a, b)| a + b).collect();
        add_assign(&mut acc, &x);
        assert_eq!(acc, want);
    }

    #[test]
    fn broadcast_to_materializes() {
        let mut out = vec![0.0; 6];
        broadcast_to(&[1.0, 2.0, 3.0], &[3], &[2, 3], &mut out);
        assert_eq!(out, [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        broadcast_to(&[1.0, 2.0], &[2, 1], &[2, 3], &mut out);
        assert_eq!(out, [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    }

    fn dims_strategy() -> impl Strategy<Value = Vec<usize>> {
        prop::collection::vec(
            prop::sample::select(vec![0usize, 1, 1, 3, 4, 5, 7, 15, 16, 17, 33]),
            0..4,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn simd_equals_scalar_on_random_broadcasts(a in dims_strategy(), mask in prop::collection::vec(any::<bool>(), 4), op in 0usize..7) {
            // b: a's shape with some dimensions set to 1 and maybe fewer leading dims.
            let b: Vec<usize> = a.iter().enumerate().map(|(i, &d)| if mask[i % 4] { 1 } else { d }).skip(usize::from(mask[3] && !a.is_empty())).collect();
            check(Binary::ALL[op], &a, &b);
            check(Binary::ALL[op], &b, &a);
        }
    }
}

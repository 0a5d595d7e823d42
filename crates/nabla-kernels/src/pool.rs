//! Max and average pooling, channels last (the 1-D ops are the `h = 1` case), plus
//! global average pooling: the geometry, validated once from user shapes, and forward
//! and backward kernels dispatching to the scalar reference (`*_scalar`) or the
//! SIMD128 version (`*_simd128`), which vectorizes over the contiguous channels.
//!
//! Shapes: input `x [n, h, w, c]`, output `y [n, oh, ow, c]`; window `(oy, ox)` covers
//! input rows `oy·stride_h − pad_top ..+ kh` (and likewise for columns).
//!
//! Padding is never part of a window's value: max pooling never picks it, and average
//! pooling divides by the number of in-bounds elements only.
//! NOTE: this is TF/Keras `"same"` semantics and PyTorch's `count_include_pad=False`;
//! PyTorch's default (`True`) divides by the full window size.
//!
//! See: `keras.layers.MaxPooling2D` / `AveragePooling2D` / `GlobalAveragePooling2D`,
//! `torch.nn.functional.max_pool2d` / `avg_pool2d`.

pub use super::conv::Padding;
use super::conv::{fmt_dims, numel, resolve_axis, AxisPad};
pub use super::pool_scalar::{
    avg_pool2d_backward_scalar, avg_pool2d_scalar, global_avg_pool2d_backward_scalar,
    global_avg_pool2d_scalar, max_pool2d_backward_scalar, max_pool2d_scalar,
};
pub use super::pool_simd128::{
    avg_pool2d_backward_simd128, avg_pool2d_simd128, global_avg_pool2d_backward_simd128,
    global_avg_pool2d_simd128, max_pool2d_backward_simd128, max_pool2d_simd128,
};
use super::{mode, Mode};
use crate::error::{Error, Result};

/// The shapes of one pooling, checked against each other. Build it with
/// [`Pool2dGeometry::new`] or [`Pool2dGeometry::pool1d`]; the kernels trust it.
/// Every window holds at least one input element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool2dGeometry {
    /// The public op name, for messages (`maxPool2d`, `avgPool1d`, ...).
    pub op: &'static str,
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    /// The pool (window) size.
    pub kh: usize,
    pub kw: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_bottom: usize,
    pub pad_left: usize,
    pub pad_right: usize,
    pub oh: usize,
    pub ow: usize,
    /// Built by [`Pool2dGeometry::pool1d`]: `h == kh == 1`, and shapes have no height.
    pub one_d: bool,
}

impl Pool2dGeometry {
    /// Validates pooling `input_dims [n, h, w, c]` with windows `pool [kh, kw]` moved by
    /// `strides [vertical, horizontal]`. Explicit padding must be smaller than the
    /// window on every side, so no window lies entirely in the padding.
    pub fn new(
        op: &'static str,
        input_dims: &[usize],
        pool: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
    ) -> Result<Self> {
        if input_dims.len() != 4 {
            return Err(Error::shape(
                op,
                "input",
                "a rank-4 shape [batch, height, width, channels]",
                format!("shape {}", fmt_dims(input_dims)),
            ));
        }
        Self::build(op, input_dims, pool, strides, padding, false)
    }

    /// Validates 1-D pooling of `input_dims [n, len, c]` with windows of `pool` steps
    /// moved by `stride`; explicit padding uses `left` and `right`.
    pub fn pool1d(
        op: &'static str,
        input_dims: &[usize],
        pool: usize,
        stride: usize,
        padding: Padding,
    ) -> Result<Self> {
        if input_dims.len() != 3 {
            return Err(Error::shape(
                op,
                "input",
                "a rank-3 shape [batch, length, channels]",
                format!("shape {}", fmt_dims(input_dims)),
            ));
        }
        if let Padding::Explicit { top, bottom, .. } = padding {
            if top != 0 || bottom != 0 {
                return Err(Error::invalid(
                    op,
                    "padding",
                    "no top or bottom padding for a 1-D op (pad the sequence with `left` and `right`)",
                    format!("top {top}, bottom {bottom}"),
                ));
            }
        }
        let x = [input_dims[0], 1, input_dims[1], input_dims[2]];
        Self::build(op, &x, [1, pool], [1, stride], padding, true)
    }

    fn build(
        op: &'static str,
        x: &[usize],
        pool: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
        one_d: bool,
    ) -> Result<Self> {
        let shown = if one_d {
            fmt_dims(&[x[0], x[2], x[3]])
        } else {
            fmt_dims(x)
        };
        let pair = |[a, b]: [usize; 2]| {
            if one_d {
                b.to_string()
            } else {
                format!("[{a}, {b}]")
            }
        };
        let positive = if one_d {
            "a positive integer"
        } else {
            "positive integers"
        };
        let [n, h, w, c] = [x[0], x[1], x[2], x[3]];
        if h == 0 || w == 0 || c == 0 {
            return Err(Error::shape(
                op,
                "input",
                if one_d {
                    "a positive length and channel count"
                } else {
                    "a positive height, width and channel count"
                },
                format!("shape {shown}"),
            ));
        }
        // max pooling records flat input indices as u32.
        if numel(x).is_none_or(|len| len as u64 > 1 << 32) {
            return Err(Error::shape(
                op,
                "input",
                "at most 2^32 elements",
                format!("shape {shown}"),
            ));
        }
        if pool.contains(&0) {
            return Err(Error::invalid(op, "poolSize", positive, pair(pool)));
        }
        if strides.contains(&0) {
            return Err(Error::invalid(op, "strides", positive, pair(strides)));
        }
        let wide = if one_d { "length" } else { "width" };
        for (vertical, k, axis) in [(true, pool[0], "height"), (false, pool[1], wide)] {
            if let AxisPad::Explicit(before, after) = padding.axis(vertical) {
                if before >= k || after >= k {
                    return Err(Error::invalid(
                        op,
                        "padding",
                        format!(
                            "at most {} on each side of the {axis} (less than the pool size {k}, so every window holds an input element)",
                            k - 1
                        ),
                        format!("{before} + {after}"),
                    ));
                }
            }
        }
        let ay = resolve_axis(
            op,
            "poolSize",
            "height",
            h,
            pool[0],
            strides[0],
            1,
            padding.axis(true),
        )?;
        let ax = resolve_axis(
            op,
            "poolSize",
            wide,
            w,
            pool[1],
            strides[1],
            1,
            padding.axis(false),
        )?;
        // The output is no larger than the (validated) input: every window starts inside it.
        Ok(Pool2dGeometry {
            op,
            n,
            h,
            w,
            c,
            kh: pool[0],
            kw: pool[1],
            stride_h: strides[0],
            stride_w: strides[1],
            pad_top: ay.before,
            pad_bottom: ay.after,
            pad_left: ax.before,
            pad_right: ax.after,
            oh: ay.out,
            ow: ax.out,
            one_d,
        })
    }

    /// The output shape: `[n, oh, ow, c]`, or `[n, ow, c]` for the 1-D ops.
    pub fn output_dims(&self) -> Vec<usize> {
        if self.one_d {
            vec![self.n, self.ow, self.c]
        } else {
            vec![self.n, self.oh, self.ow, self.c]
        }
    }

    pub fn input_len(&self) -> usize {
        self.n * self.h * self.w * self.c
    }

    pub fn output_len(&self) -> usize {
        self.n * self.oh * self.ow * self.c
    }

    /// Kernel precondition: the slices have the lengths this geometry names.
    pub(crate) fn assert_lens(&self, input: usize, output: usize) {
        assert_eq!(
            input,
            self.input_len(),
            "{}: input has the wrong length",
            self.op
        );
        assert_eq!(
            output,
            self.output_len(),
            "{}: output has the wrong length",
            self.op
        );
    }
}

/// `y` = the largest element of each window; `argmax` = its flat index into `x`
/// (the first one on ties), for the backward pass. Overwrites `y` and `argmax`.
pub fn max_pool2d(g: &Pool2dGeometry, x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
    match mode() {
        Mode::Simd => max_pool2d_simd128(g, x, y, argmax),
        Mode::Scalar => max_pool2d_scalar(g, x, y, argmax),
    }
}

/// `gx[argmax[o]] += gy[o]` over all outputs `o`: the gradient goes to the chosen
/// element only. `gx` is overwritten.
pub fn max_pool2d_backward(g: &Pool2dGeometry, gy: &[f32], argmax: &[u32], gx: &mut [f32]) {
    match mode() {
        Mode::Simd => max_pool2d_backward_simd128(g, gy, argmax, gx),
        Mode::Scalar => max_pool2d_backward_scalar(g, gy, argmax, gx),
    }
}

/// `y` = the mean of each window's in-bounds elements (padding is not counted).
pub fn avg_pool2d(g: &Pool2dGeometry, x: &[f32], y: &mut [f32]) {
    match mode() {
        Mode::Simd => avg_pool2d_simd128(g, x, y),
        Mode::Scalar => avg_pool2d_scalar(g, x, y),
    }
}

/// Each window's `gy / count` added to every in-bounds element it averaged, where
/// `count` is that window's number of in-bounds elements. `gx` is overwritten.
pub fn avg_pool2d_backward(g: &Pool2dGeometry, gy: &[f32], gx: &mut [f32]) {
    match mode() {
        Mode::Simd => avg_pool2d_backward_simd128(g, gy, gx),
        Mode::Scalar => avg_pool2d_backward_scalar(g, gy, gx),
    }
}

/// `y[b, ch] = mean over the hw positions of x[b, ·, ch]` for `x [n, hw, c]` (an image
/// flattened to `hw = h·w` positions, or a sequence); `hw` must be positive.
/// See: `keras.layers.GlobalAveragePooling2D` / `1D`.
pub fn global_avg_pool2d(n: usize, hw: usize, c: usize, x: &[f32], y: &mut [f32]) {
    match mode() {
        Mode::Simd => global_avg_pool2d_simd128(n, hw, c, x, y),
        Mode::Scalar => global_avg_pool2d_scalar(n, hw, c, x, y),
    }
}

/// `gx[b, p, ch] = gy[b, ch] / hw`. `gx` is overwritten.
pub fn global_avg_pool2d_backward(n: usize, hw: usize, c: usize, gy: &[f32], gx: &mut [f32]) {
    match mode() {
        Mode::Simd => global_avg_pool2d_backward_simd128(n, hw, c, gy, gx),
        Mode::Scalar => global_avg_pool2d_backward_scalar(n, hw, c, gy, gx),
    }
}

/// Kernel precondition for global pooling: `x [n, hw, c]`, `y [n, c]`, `hw > 0`.
pub(crate) fn assert_global(n: usize, hw: usize, c: usize, x: usize, y: usize) {
    assert!(
        hw > 0 || n * c == 0,
        "globalAvgPool: no positions to average"
    );
    assert_eq!(x, n * hw * c, "globalAvgPool: input has the wrong length");
    assert_eq!(y, n * c, "globalAvgPool: output has the wrong length");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::with_mode;
    use proptest::prelude::*;

    /// A tiny deterministic generator: values in [-1, 1).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// Distinct values (no ties), spaced 0.01 apart in a scrambled order.
    fn distinct(n: usize, seed: u32) -> Vec<f32> {
        let keys = values(n, seed);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]));
        let mut out = vec![0.0; n];
        for (rank, &i) in order.iter().enumerate() {
            out[i] = rank as f32 * 0.01 - 1.0;
        }
        out
    }

    fn geom(
        n: usize,
        [h, w]: [usize; 2],
        c: usize,
        pool: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
    ) -> Result<Pool2dGeometry> {
        Pool2dGeometry::new("maxPool2d", &[n, h, w, c], pool, strides, padding)
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|a| a.to_bits()).collect()
    }

    /// The SIMD kernels do per channel what the scalar ones do, in the same order:
    /// results must agree bit for bit. Outputs start as NaN to check every one is written.
    fn check_twins(g: &Pool2dGeometry, seed: u32) {
        let mut x = values(g.input_len(), seed);
        // Some ties, to check that both pick the first.
        for v in x.iter_mut().step_by(3) {
            *v = (*v * 4.0).round() / 4.0;
        }
        let gy = values(g.output_len(), seed ^ 0xaaaa);
        let (il, ol) = (g.input_len(), g.output_len());

        let (mut y0, mut y1) = (vec![f32::NAN; ol], vec![f32::NAN; ol]);
        let (mut a0, mut a1) = (vec![u32::MAX; ol], vec![u32::MAX; ol]);
        max_pool2d_scalar(g, &x, &mut y0, &mut a0);
        max_pool2d_simd128(g, &x, &mut y1, &mut a1);
        assert_eq!(bits(&y0), bits(&y1), "max forward for {g:?}");
        assert_eq!(a0, a1, "argmax for {g:?}");
        for (o, &i) in a0.iter().enumerate() {
            assert_eq!(x[i as usize].to_bits(), y0[o].to_bits());
        }
        let (mut gx0, mut gx1) = (vec![f32::NAN; il], vec![f32::NAN; il]);
        max_pool2d_backward_scalar(g, &gy, &a0, &mut gx0);
        max_pool2d_backward_simd128(g, &gy, &a0, &mut gx1);
        assert_eq!(bits(&gx0), bits(&gx1), "max backward for {g:?}");

        let (mut y0, mut y1) = (vec![f32::NAN; ol], vec![f32::NAN; ol]);
        avg_pool2d_scalar(g, &x, &mut y0);
        avg_pool2d_simd128(g, &x, &mut y1);
        assert_eq!(bits(&y0), bits(&y1), "avg forward for {g:?}");
        let (mut gx0, mut gx1) = (vec![f32::NAN; il], vec![f32::NAN; il]);
        avg_pool2d_backward_scalar(g, &gy, &mut gx0);
        avg_pool2d_backward_simd128(g, &gy, &mut gx1);
        assert_eq!(bits(&gx0), bits(&gx1), "avg backward for {g:?}");
    }

    const PADDINGS: [Padding; 4] = [
        Padding::Valid,
        Padding::Same,
        Padding::Explicit {
            top: 1,
            bottom: 0,
            left: 0,
            right: 1,
        },
        Padding::Explicit {
            top: 2,
            bottom: 2,
            left: 2,
            right: 2,
        },
    ];

    #[test]
    fn simd_matches_scalar_on_a_sweep_of_geometries() {
        let sizes = [1, 3, 4, 5, 7, 8, 15, 16, 17];
        let chans = [1, 3, 4, 5, 8, 17];
        let pools = [1, 2, 3, 5];
        let (mut i, mut ran) = (0usize, 0);
        for &h in &sizes {
            for &kh in &pools {
                for s in 1..=3 {
                    for pad in PADDINGS {
                        for &c in &chans {
                            i += 1;
                            let w = sizes[(i * 7) % sizes.len()];
                            let kw = pools[(i / 3) % pools.len()];
                            let sw = 1 + (i / 2) % 3;
                            let n = if i % 2 == 0 { 1 } else { 3 };
                            if let Ok(g) = geom(n, [h, w], c, [kh, kw], [s, sw], pad) {
                                check_twins(&g, i as u32);
                                ran += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(ran > 1000, "only {ran} of {i} geometries were valid");
    }

    #[test]
    fn simd_matches_scalar_on_edge_cases() {
        let cases = [
            // pool == input size: one window
            geom(3, [5, 7], 5, [5, 7], [1, 1], Padding::Valid),
            // stride larger than the pool: input rows are skipped
            geom(2, [9, 10], 17, [2, 2], [3, 3], Padding::Valid),
            geom(2, [9, 10], 17, [2, 2], [3, 3], Padding::Same),
            // stride 2 "same" with odd and even inputs
            geom(2, [7, 7], 8, [3, 3], [2, 2], Padding::Same),
            geom(2, [8, 6], 5, [3, 3], [2, 2], Padding::Same),
            geom(1, [1, 1], 3, [2, 2], [2, 2], Padding::Same),
            geom(0, [4, 4], 3, [2, 2], [2, 2], Padding::Valid),
            Pool2dGeometry::pool1d("maxPool1d", &[3, 17, 5], 3, 2, Padding::Same),
        ];
        for (i, g) in cases.into_iter().enumerate() {
            check_twins(&g.unwrap(), 100 + i as u32);
        }
    }

    fn padding_strategy() -> impl Strategy<Value = Padding> {
        prop_oneof![
            Just(Padding::Valid),
            Just(Padding::Same),
            (0..=3usize, 0..=3usize, 0..=3usize, 0..=3usize).prop_map(
                |(top, bottom, left, right)| Padding::Explicit {
                    top,
                    bottom,
                    left,
                    right
                }
            ),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn simd_matches_scalar_on_random_geometries(
            n in 1..=3usize,
            h in 1..=17usize,
            w in 1..=17usize,
            c in 1..=19usize,
            kh in 1..=5usize,
            kw in 1..=5usize,
            sh in 1..=3usize,
            sw in 1..=3usize,
            padding in padding_strategy(),
            seed in any::<u32>(),
        ) {
            // Invalid geometries must be errors, not panics; valid ones must agree.
            if let Ok(g) = geom(n, [h, w], c, [kh, kw], [sh, sw], padding) {
                check_twins(&g, seed);
            }
        }
    }

    fn weighted_sum(y: &[f32], r: &[f32]) -> f64 {
        y.iter().zip(r).map(|(&a, &b)| a as f64 * b as f64).sum()
    }

    /// Central differences of `Σ r·pool(x)` against the backward kernels. Inputs are
    /// distinct and 0.01 apart, so a 1e-3 step never changes which element is the max.
    fn check_gradients(g: &Pool2dGeometry) {
        let x = distinct(g.input_len(), 5);
        let r = values(g.output_len(), 6);
        let max_loss = |x: &[f32]| {
            let mut y = vec![0.0; g.output_len()];
            let mut a = vec![0; g.output_len()];
            max_pool2d(g, x, &mut y, &mut a);
            weighted_sum(&y, &r)
        };
        let avg_loss = |x: &[f32]| {
            let mut y = vec![0.0; g.output_len()];
            avg_pool2d(g, x, &mut y);
            weighted_sum(&y, &r)
        };
        let mut argmax = vec![0; g.output_len()];
        max_pool2d(g, &x, &mut vec![0.0; g.output_len()], &mut argmax);
        let mut gmax = vec![f32::NAN; x.len()];
        max_pool2d_backward(g, &r, &argmax, &mut gmax);
        let mut gavg = vec![f32::NAN; x.len()];
        avg_pool2d_backward(g, &r, &mut gavg);
        for (loss, grad, what) in [
            (&max_loss as &dyn Fn(&[f32]) -> f64, &gmax, "max"),
            (&avg_loss, &gavg, "avg"),
        ] {
            for j in 0..x.len() {
                let (mut p, mut m) = (x.clone(), x.clone());
                p[j] += 1e-3;
                m[j] -= 1e-3;
                let num = (loss(&p) - loss(&m)) / (p[j] as f64 - m[j] as f64);
                let err = (num - grad[j] as f64).abs();
                assert!(
                    err <= 1e-3 * (1.0 + num.abs()),
                    "{what} ∂x[{j}]: {} vs numeric {num} for {g:?}",
                    grad[j]
                );
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let cases = [
            geom(2, [5, 7], 3, [3, 3], [2, 2], Padding::Same),
            geom(1, [4, 5], 5, [2, 2], [2, 2], Padding::Valid),
            geom(1, [5, 5], 2, [3, 3], [1, 1], Padding::symmetric(1, 1)),
            geom(1, [6, 5], 3, [3, 2], [1, 3], Padding::Same),
            Pool2dGeometry::pool1d("avgPool1d", &[2, 9, 4], 3, 2, Padding::Same),
        ];
        for g in cases {
            let g = g.unwrap();
            for mode in [Mode::Simd, Mode::Scalar] {
                with_mode(mode, || check_gradients(&g));
            }
        }
        // Global average pooling: ∂/∂x = gy / hw everywhere.
        let (n, hw, c) = (2, 5, 6);
        let x = values(n * hw * c, 7);
        let r = values(n * c, 8);
        for mode in [Mode::Simd, Mode::Scalar] {
            with_mode(mode, || {
                let loss = |x: &[f32]| {
                    let mut y = vec![0.0; n * c];
                    global_avg_pool2d(n, hw, c, x, &mut y);
                    weighted_sum(&y, &r)
                };
                let mut gx = vec![f32::NAN; x.len()];
                global_avg_pool2d_backward(n, hw, c, &r, &mut gx);
                for j in 0..x.len() {
                    let (mut p, mut m) = (x.clone(), x.clone());
                    p[j] += 0.25;
                    m[j] -= 0.25;
                    let num = (loss(&p) - loss(&m)) / (p[j] as f64 - m[j] as f64);
                    assert!(
                        (num - gx[j] as f64).abs() <= 1e-4,
                        "∂x[{j}]: {} vs {num}",
                        gx[j]
                    );
                }
            });
        }
    }

    #[test]
    fn global_average_twins_agree_and_average() {
        for &(n, hw, c) in &[(1, 1, 1), (3, 7, 5), (2, 16, 17), (1, 49, 64), (0, 3, 3)] {
            let x = values(n * hw * c, (hw * 31 + c) as u32);
            let gy = values(n * c, 9);
            let (mut y0, mut y1) = (vec![f32::NAN; n * c], vec![f32::NAN; n * c]);
            global_avg_pool2d_scalar(n, hw, c, &x, &mut y0);
            global_avg_pool2d_simd128(n, hw, c, &x, &mut y1);
            assert_eq!(bits(&y0), bits(&y1));
            let (mut g0, mut g1) = (vec![f32::NAN; n * hw * c], vec![f32::NAN; n * hw * c]);
            global_avg_pool2d_backward_scalar(n, hw, c, &gy, &mut g0);
            global_avg_pool2d_backward_simd128(n, hw, c, &gy, &mut g1);
            assert_eq!(bits(&g0), bits(&g1));
        }
        // [1, 2 positions, 2 channels]: means of [1, 3] and [2, 4].
        for mode in [Mode::Simd, Mode::Scalar] {
            let mut y = [0.0; 2];
            with_mode(mode, || {
                global_avg_pool2d(1, 2, 2, &[1.0, 2.0, 3.0, 4.0], &mut y)
            });
            assert_eq!(y, [2.0, 3.0]);
            let mut gx = [0.0; 4];
            with_mode(mode, || {
                global_avg_pool2d_backward(1, 2, 2, &[1.0, -4.0], &mut gx)
            });
            assert_eq!(gx, [0.5, -2.0, 0.5, -2.0]);
        }
    }

    #[test]
    fn average_counts_only_in_bounds_elements() {
        // x = [[1, 2], [3, 4]], pool 2, stride 1, same: pad 0 before, 1 after, so the
        // windows hold 4, 2, 2 and 1 elements.
        let g = geom(1, [2, 2], 1, [2, 2], [1, 1], Padding::Same).unwrap();
        assert_eq!((g.oh, g.ow, g.pad_top, g.pad_bottom), (2, 2, 0, 1));
        for mode in [Mode::Simd, Mode::Scalar] {
            let mut y = [0.0; 4];
            with_mode(mode, || avg_pool2d(&g, &[1.0, 2.0, 3.0, 4.0], &mut y));
            assert_eq!(y, [2.5, 3.0, 3.5, 4.0]);
            let mut gx = [0.0; 4];
            with_mode(mode, || {
                avg_pool2d_backward(&g, &[4.0, 2.0, 2.0, 1.0], &mut gx)
            });
            // x[0] is only in the first window (4/4); x[3] is in all four.
            assert_eq!(gx, [1.0, 2.0, 2.0, 4.0]);
        }
    }

    #[test]
    fn max_picks_the_first_of_ties_and_never_the_padding() {
        // All equal: each window's first in-bounds element wins.
        let g = geom(1, [3, 3], 1, [2, 2], [1, 1], Padding::Valid).unwrap();
        for mode in [Mode::Simd, Mode::Scalar] {
            let mut y = [0.0; 4];
            let mut a = [0; 4];
            with_mode(mode, || max_pool2d(&g, &[7.0; 9], &mut y, &mut a));
            assert_eq!(a, [0, 1, 3, 4]);
        }
        // All negative, same padding: a zero from the padding would win if it counted.
        let g = geom(1, [3, 3], 4, [2, 2], [2, 2], Padding::Same).unwrap();
        let x: Vec<f32> = (0..36).map(|i| -1.0 - i as f32).collect();
        for mode in [Mode::Simd, Mode::Scalar] {
            let mut y = [0.0; 16];
            let mut a = [0; 16];
            with_mode(mode, || max_pool2d(&g, &x, &mut y, &mut a));
            // Window (1, 1) holds only x[2, 2, ·] = −33..−36.
            assert_eq!(&y[12..], &[-33.0, -34.0, -35.0, -36.0]);
            assert_eq!(&a[12..], &[32, 33, 34, 35]);
            assert!(y.iter().all(|&v| v < 0.0));
        }
        // The backward pass routes each gradient to its argmax.
        let g = geom(1, [2, 2], 1, [2, 2], [1, 1], Padding::Same).unwrap();
        for mode in [Mode::Simd, Mode::Scalar] {
            let x = [1.0, 4.0, 3.0, 2.0];
            let (mut y, mut a) = ([0.0; 4], [0; 4]);
            with_mode(mode, || max_pool2d(&g, &x, &mut y, &mut a));
            assert_eq!((y, a), ([4.0, 4.0, 3.0, 2.0], [1, 1, 2, 3]));
            let mut gx = [9.0; 4];
            with_mode(mode, || {
                max_pool2d_backward(&g, &[1.0, 10.0, 100.0, 1000.0], &a, &mut gx)
            });
            assert_eq!(gx, [0.0, 11.0, 100.0, 1000.0]);
        }
    }

    #[test]
    fn same_padding_offsets_for_stride_two() {
        let g = geom(1, [5, 4], 1, [3, 3], [2, 2], Padding::Same).unwrap();
        assert_eq!((g.oh, g.pad_top, g.pad_bottom), (3, 1, 1));
        assert_eq!((g.ow, g.pad_left, g.pad_right), (2, 0, 1));
        let g = Pool2dGeometry::pool1d("maxPool1d", &[4, 7, 3], 2, 2, Padding::Same).unwrap();
        assert_eq!(g.output_dims(), vec![4, 4, 3]);
        assert_eq!((g.pad_left, g.pad_right), (0, 1));
        let g = geom(2, [7, 8], 3, [2, 3], [2, 3], Padding::Valid).unwrap();
        assert_eq!(g.output_dims(), vec![2, 3, 2, 3]);
    }

    fn message(r: Result<Pool2dGeometry>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn geometry_errors_name_the_argument() {
        let v = Padding::Valid;
        assert_eq!(
            message(geom(1, [5, 3], 1, [2, 4], [1, 1], v)),
            "maxPool2d: invalid `poolSize`: expected at most 3 (the padded input width) with padding \"valid\", received 4"
        );
        assert_eq!(
            message(Pool2dGeometry::new("avgPool2d", &[1, 5, 5, 1], [2, 2], [1, 1], Padding::Explicit { top: 2, bottom: 0, left: 0, right: 0 })),
            "avgPool2d: invalid `padding`: expected at most 1 on each side of the height (less than the pool size 2, so every window holds an input element), received 2 + 0"
        );
        assert_eq!(
            message(geom(1, [5, 5], 1, [0, 2], [1, 1], v)),
            "maxPool2d: invalid `poolSize`: expected positive integers, received [0, 2]"
        );
        assert_eq!(
            message(geom(1, [5, 5], 1, [2, 2], [1, 0], v)),
            "maxPool2d: invalid `strides`: expected positive integers, received [1, 0]"
        );
        assert_eq!(
            message(Pool2dGeometry::new("maxPool2d", &[5, 5, 1], [2, 2], [2, 2], v)),
            "maxPool2d: invalid `input`: expected a rank-4 shape [batch, height, width, channels], received shape [5, 5, 1]"
        );
        assert_eq!(
            message(Pool2dGeometry::pool1d("maxPool1d", &[1, 3, 2], 4, 1, v)),
            "maxPool1d: invalid `poolSize`: expected at most 3 (the padded input length) with padding \"valid\", received 4"
        );
        assert_eq!(
            message(Pool2dGeometry::pool1d("avgPool1d", &[1, 3, 2], 2, 0, v)),
            "avgPool1d: invalid `strides`: expected a positive integer, received 0"
        );
        assert_eq!(
            message(Pool2dGeometry::pool1d("avgPool1d", &[1, 3, 0], 2, 1, v)),
            "avgPool1d: invalid `input`: expected a positive length and channel count, received shape [1, 3, 0]"
        );
        let e = geom(1 << 20, [1 << 10, 1 << 10], 8, [2, 2], [2, 2], v).unwrap_err();
        assert_eq!(e.code(), "SHAPE_MISMATCH");
        let big = usize::MAX / 2;
        // Huge windows and strides are valid with "same" padding, and cost no more
        // than the input they cover.
        for g in [
            geom(1, [4, 4], 1, [big, 2], [1, 1], Padding::Same).unwrap(),
            geom(1, [4, 4], 1, [2, 2], [big, big], Padding::Same).unwrap(),
        ] {
            check_twins(&g, 1);
        }
    }
}

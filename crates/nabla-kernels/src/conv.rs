//! 2-D convolution, channels last (conv1d is the `h = 1` case): the geometry, validated
//! once from user shapes, and the forward and both backward kernels, dispatching to the
//! direct-loop reference (`*_scalar`) or im2col + GEMM (`*_simd128`).
//!
//! Shapes: input `x [n, h, w, cin]`, filter `w [kh, kw, cin, cout]` (TF/Keras layout,
//! which row-major is the `[kh·kw·cin, cout]` matrix im2col multiplies), output
//! `y [n, oh, ow, cout]`. Output position `(oy, ox)` reads input row
//! `oy·stride_h + ky·dil_h − pad_top` (and likewise for columns); rows outside the
//! input are zeros. Bias is not part of the kernel: the layer adds it.
//!
//! See: `tf.nn.conv2d` / `keras.layers.Conv2D`, `torch.nn.functional.conv2d` (which is
//! channels first, `[cout, cin, kh, kw]` filters: transpose at the edge).

pub use super::conv_scalar::{
    conv2d_backward_filter_scalar, conv2d_backward_input_scalar, conv2d_scalar,
};
pub use super::conv_simd128::{
    conv2d_backward_filter_simd128, conv2d_backward_input_simd128, conv2d_simd128,
};
use super::{mode, Mode};
use crate::error::{Error, Result};

/// How the input is padded with zeros before the window slides over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// No padding: only windows that fit entirely inside the input.
    /// `out = (in − window) / stride + 1`, with `window = (k − 1)·dilation + 1`.
    Valid,
    /// TF/Keras `"same"`: `out = ceil(in / stride)`, padding
    /// `max((out − 1)·stride + window − in, 0)` in total, half before (rounded down)
    /// and the rest after.
    ///
    /// NOTE: with stride 2 this is asymmetric (the extra row goes to the bottom/right),
    /// which PyTorch's symmetric `padding=k//2` is not; use `Explicit` for that.
    Same,
    /// Zeros added on each side, as PyTorch's `padding=` (symmetric when
    /// `top == bottom` and `left == right`). A 1-D op uses `left`/`right` only.
    Explicit {
        top: usize,
        bottom: usize,
        left: usize,
        right: usize,
    },
}

impl Padding {
    /// The padding named `"valid"` or `"same"`, as the layers take it.
    pub fn from_name(op: &'static str, name: &str) -> Result<Self> {
        match name {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            _ => Err(Error::invalid(
                op,
                "padding",
                "\"valid\" or \"same\"",
                // quoted by hand: `{:?}` of a str links core's Unicode tables (4 KB of .wasm)
                format!("\"{name}\""),
            )),
        }
    }

    /// Symmetric explicit padding on both spatial axes, PyTorch's `padding=(ph, pw)`.
    pub fn symmetric(ph: usize, pw: usize) -> Self {
        Padding::Explicit {
            top: ph,
            bottom: ph,
            left: pw,
            right: pw,
        }
    }

    /// How a 1-D op pads its one axis (`left`/`right`), or an error naming `op`
    /// if explicit padding asks for rows above or below a sequence.
    fn to_1d(self, op: &'static str) -> Result<Self> {
        match self {
            Padding::Explicit { top, bottom, .. } if top != 0 || bottom != 0 => {
                Err(Error::invalid(
                    op,
                    "padding",
                    "no top or bottom padding for a 1-D op (pad the sequence with `left` and `right`)",
                    format!("top {top}, bottom {bottom}"),
                ))
            }
            p => Ok(p),
        }
    }

    /// This padding along one axis: `(before, after)` for `Explicit`.
    pub(crate) fn axis(self, vertical: bool) -> AxisPad {
        match self {
            Padding::Valid => AxisPad::Valid,
            Padding::Same => AxisPad::Same,
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            } => {
                if vertical {
                    AxisPad::Explicit(top, bottom)
                } else {
                    AxisPad::Explicit(left, right)
                }
            }
        }
    }
}

/// Padding along one axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AxisPad {
    Valid,
    Same,
    Explicit(usize, usize),
}

/// One spatial axis resolved: output size and zeros before and after the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Axis {
    pub out: usize,
    pub before: usize,
    pub after: usize,
}

/// Resolves one axis of a sliding window: `size` input positions, a window of `k` taps
/// `dil` apart, moved by `stride`. `k`, `stride` and `dil` must be positive (checked
/// by the caller). `arg` names the window argument (`kernelSize`, `poolSize`) and
/// `axis` the dimension (`height`, `width`, `length`) in error messages.
#[allow(clippy::too_many_arguments)]
pub(crate) fn resolve_axis(
    op: &'static str,
    arg: &str,
    axis: &str,
    size: usize,
    k: usize,
    stride: usize,
    dil: usize,
    pad: AxisPad,
) -> Result<Axis> {
    debug_assert!(k > 0 && stride > 0 && dil > 0);
    let too_wide = || {
        Error::invalid(
            op,
            "dilationRate",
            "a dilated window that fits in memory",
            format!("{k} taps with dilation {dil}"),
        )
    };
    let window = (k - 1)
        .checked_mul(dil)
        .and_then(|s| s.checked_add(1))
        .ok_or_else(too_wide)?;
    let (before, after, described) = match pad {
        AxisPad::Same => {
            let out = size.div_ceil(stride);
            if out == 0 {
                return Ok(Axis {
                    out,
                    before: 0,
                    after: 0,
                });
            }
            // The last window's end; (out − 1)·stride < size cannot overflow.
            let reach = ((out - 1) * stride)
                .checked_add(window)
                .ok_or_else(too_wide)?;
            let total = reach.saturating_sub(size);
            return Ok(Axis {
                out,
                before: total / 2,
                after: total - total / 2,
            });
        }
        AxisPad::Valid => (0, 0, "padding \"valid\"".to_string()),
        AxisPad::Explicit(b, a) => (b, a, format!("padding {b} + {a}")),
    };
    let padded = size
        .checked_add(before)
        .and_then(|s| s.checked_add(after))
        .ok_or_else(|| {
            Error::invalid(
                op,
                "padding",
                format!("a padded input {axis} that fits in memory"),
                format!("{before} + {size} + {after}"),
            )
        })?;
    if window > padded {
        let (expected, received) = if dil == 1 {
            (
                format!("at most {padded} (the padded input {axis}) with {described}"),
                k.to_string(),
            )
        } else {
            (
                format!(
                    "a dilated window of at most {padded} (the padded input {axis}) with {described}"
                ),
                format!("{k} with dilation {dil} (a window of {window})"),
            )
        };
        return Err(Error::invalid(op, arg, expected, received));
    }
    Ok(Axis {
        out: (padded - window) / stride + 1,
        before,
        after,
    })
}

/// The product of `dims`, or `None` if it (or its size in bytes) overflows `usize`.
pub(crate) fn numel(dims: &[usize]) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|n| n.checked_mul(4).is_some())
}

pub(crate) fn fmt_dims(dims: &[usize]) -> String {
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// `[a, b]`, or just `b` for a 1-D op (whose first axis is the dummy height 1).
fn fmt_pair(one_d: bool, [a, b]: [usize; 2]) -> String {
    if one_d {
        b.to_string()
    } else {
        format!("[{a}, {b}]")
    }
}

/// The range `k0..k1` of window taps that land inside the input for output position
/// `o`: tap `k` reads input position `o·stride + k·dil − pad`, which increases with `k`,
/// so the in-bounds taps are contiguous (possibly empty, then `k0 == k1`).
#[inline]
pub(crate) fn taps(
    o: usize,
    k: usize,
    stride: usize,
    dil: usize,
    pad: usize,
    size: usize,
) -> (usize, usize) {
    let start = o * stride;
    // First tap with start + k·dil ≥ pad, and first with start + k·dil ≥ pad + size.
    let k0 = pad.saturating_sub(start).div_ceil(dil).min(k);
    let k1 = (pad + size).saturating_sub(start).div_ceil(dil).min(k);
    (k0, k1.max(k0))
}

/// The shapes of one convolution, checked against each other. Build it with
/// [`Conv2dGeometry::new`] or [`Conv2dGeometry::conv1d`]; the kernels trust it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conv2dGeometry {
    /// The public op name, for messages (`conv2d`, `conv1d`).
    pub op: &'static str,
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub cin: usize,
    pub kh: usize,
    pub kw: usize,
    pub cout: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dil_h: usize,
    pub dil_w: usize,
    pub pad_top: usize,
    pub pad_bottom: usize,
    pub pad_left: usize,
    pub pad_right: usize,
    pub oh: usize,
    pub ow: usize,
    /// Built by [`Conv2dGeometry::conv1d`]: `h == kh == 1`, and shapes have no height.
    pub one_d: bool,
}

impl Conv2dGeometry {
    /// Validates a 2-D convolution of `input_dims [n, h, w, cin]` by `filter_dims
    /// [kh, kw, cin, cout]`. `strides` and `dilations` are `[vertical, horizontal]`.
    /// See: `keras.layers.Conv2D(kernel_size, strides, padding, dilation_rate)`.
    pub fn new(
        op: &'static str,
        input_dims: &[usize],
        filter_dims: &[usize],
        strides: [usize; 2],
        dilations: [usize; 2],
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
        if filter_dims.len() != 4 {
            return Err(Error::shape(
                op,
                "filter",
                "a rank-4 shape [kernelHeight, kernelWidth, inChannels, outChannels]",
                format!("shape {}", fmt_dims(filter_dims)),
            ));
        }
        Self::build(
            op,
            input_dims,
            filter_dims,
            strides,
            dilations,
            padding,
            false,
        )
    }

    /// Validates a 1-D convolution of `input_dims [n, len, cin]` by `filter_dims
    /// [k, cin, cout]`, as the 2-D one with height 1. Explicit padding uses `left` and
    /// `right` (see [`Padding::Explicit`]); causal padding is `left = (k − 1)·dilation`.
    /// See: `keras.layers.Conv1D`.
    pub fn conv1d(
        op: &'static str,
        input_dims: &[usize],
        filter_dims: &[usize],
        stride: usize,
        dilation: usize,
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
        if filter_dims.len() != 3 {
            return Err(Error::shape(
                op,
                "filter",
                "a rank-3 shape [kernelSize, inChannels, outChannels]",
                format!("shape {}", fmt_dims(filter_dims)),
            ));
        }
        let padding = padding.to_1d(op)?;
        let x = [input_dims[0], 1, input_dims[1], input_dims[2]];
        let f = [1, filter_dims[0], filter_dims[1], filter_dims[2]];
        Self::build(op, &x, &f, [1, stride], [1, dilation], padding, true)
    }

    fn build(
        op: &'static str,
        x: &[usize],
        f: &[usize],
        strides: [usize; 2],
        dilations: [usize; 2],
        padding: Padding,
        one_d: bool,
    ) -> Result<Self> {
        let (in_dims, f_dims) = if one_d {
            (vec![x[0], x[2], x[3]], vec![f[1], f[2], f[3]])
        } else {
            (x.to_vec(), f.to_vec())
        };
        let [n, h, w, cin] = [x[0], x[1], x[2], x[3]];
        let [kh, kw, fcin, cout] = [f[0], f[1], f[2], f[3]];
        if h == 0 || w == 0 || cin == 0 {
            return Err(Error::shape(
                op,
                "input",
                if one_d {
                    "a positive length and channel count"
                } else {
                    "a positive height, width and channel count"
                },
                format!("shape {}", fmt_dims(&in_dims)),
            ));
        }
        if numel(x).is_none() {
            return Err(Error::shape(
                op,
                "input",
                "a shape whose element count fits in memory",
                format!("shape {}", fmt_dims(&in_dims)),
            ));
        }
        if kh == 0 || kw == 0 {
            return Err(Error::invalid(
                op,
                "kernelSize",
                if one_d {
                    "a positive integer"
                } else {
                    "positive integers"
                },
                fmt_pair(one_d, [kh, kw]),
            ));
        }
        if fcin != cin {
            return Err(Error::shape(
                op,
                "filter",
                format!(
                    "{cin} input channels (the last dimension of the input, shape {})",
                    fmt_dims(&in_dims)
                ),
                format!("{fcin} (shape {})", fmt_dims(&f_dims)),
            ));
        }
        if cout == 0 {
            return Err(Error::shape(
                op,
                "filter",
                "a positive number of output channels",
                format!("shape {}", fmt_dims(&f_dims)),
            ));
        }
        if numel(f).is_none() {
            return Err(Error::shape(
                op,
                "filter",
                "a shape whose element count fits in memory",
                format!("shape {}", fmt_dims(&f_dims)),
            ));
        }
        if strides.contains(&0) {
            return Err(Error::invalid(
                op,
                "strides",
                if one_d {
                    "a positive integer"
                } else {
                    "positive integers"
                },
                fmt_pair(one_d, strides),
            ));
        }
        if dilations.contains(&0) {
            return Err(Error::invalid(
                op,
                "dilationRate",
                if one_d {
                    "a positive integer"
                } else {
                    "positive integers"
                },
                fmt_pair(one_d, dilations),
            ));
        }
        let [sh, sw] = strides;
        let [dh, dw] = dilations;
        let wide = if one_d { "length" } else { "width" };
        let ay = resolve_axis(
            op,
            "kernelSize",
            "height",
            h,
            kh,
            sh,
            dh,
            padding.axis(true),
        )?;
        let ax = resolve_axis(op, "kernelSize", wide, w, kw, sw, dw, padding.axis(false))?;
        let out = [n, ay.out, ax.out, cout];
        if numel(&out).is_none() {
            let shown = if one_d {
                vec![n, ax.out, cout]
            } else {
                out.to_vec()
            };
            return Err(Error::invalid(
                op,
                "padding",
                "an output whose element count fits in memory",
                format!("output shape {}", fmt_dims(&shown)),
            ));
        }
        Ok(Conv2dGeometry {
            op,
            n,
            h,
            w,
            cin,
            kh,
            kw,
            cout,
            stride_h: sh,
            stride_w: sw,
            dil_h: dh,
            dil_w: dw,
            pad_top: ay.before,
            pad_bottom: ay.after,
            pad_left: ax.before,
            pad_right: ax.after,
            oh: ay.out,
            ow: ax.out,
            one_d,
        })
    }

    /// The output shape: `[n, oh, ow, cout]`, or `[n, ow, cout]` for conv1d.
    pub fn output_dims(&self) -> Vec<usize> {
        if self.one_d {
            vec![self.n, self.ow, self.cout]
        } else {
            vec![self.n, self.oh, self.ow, self.cout]
        }
    }

    pub fn input_len(&self) -> usize {
        self.n * self.h * self.w * self.cin
    }

    pub fn filter_len(&self) -> usize {
        self.kh * self.kw * self.cin * self.cout
    }

    pub fn output_len(&self) -> usize {
        self.n * self.oh * self.ow * self.cout
    }

    /// Output positions `n·oh·ow`: the rows of the im2col matrix.
    pub(crate) fn rows(&self) -> usize {
        self.n * self.oh * self.ow
    }

    /// Taps per output position `kh·kw·cin`: the columns of the im2col matrix.
    pub(crate) fn depth(&self) -> usize {
        self.kh * self.kw * self.cin
    }

    /// A 1×1 kernel, stride 1, no padding: the im2col matrix is the input itself.
    pub(crate) fn is_pointwise(&self) -> bool {
        self.kh == 1
            && self.kw == 1
            && self.stride_h == 1
            && self.stride_w == 1
            && self.pad_top == 0
            && self.pad_bottom == 0
            && self.pad_left == 0
            && self.pad_right == 0
    }

    /// Kernel precondition: the slices have the lengths this geometry names.
    pub(crate) fn assert_lens(&self, input: usize, filter: usize, output: usize) {
        assert_eq!(
            input,
            self.input_len(),
            "{}: input has the wrong length",
            self.op
        );
        assert_eq!(
            filter,
            self.filter_len(),
            "{}: filter has the wrong length",
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

/// `y [n, oh, ow, cout] = conv(x [n, h, w, cin], w [kh, kw, cin, cout])`, overwriting `y`.
pub fn conv2d(g: &Conv2dGeometry, x: &[f32], w: &[f32], y: &mut [f32]) {
    match mode() {
        Mode::Simd => conv2d_simd128(g, x, w, y),
        Mode::Scalar => conv2d_scalar(g, x, w, y),
    }
}

/// `gx = ∂L/∂x` from `gy = ∂L/∂y`: each output's gradient flows back through the
/// filter taps to the input positions it read (the transposed convolution).
/// `gx` is overwritten.
pub fn conv2d_backward_input(g: &Conv2dGeometry, gy: &[f32], w: &[f32], gx: &mut [f32]) {
    match mode() {
        Mode::Simd => conv2d_backward_input_simd128(g, gy, w, gx),
        Mode::Scalar => conv2d_backward_input_scalar(g, gy, w, gx),
    }
}

/// `gw = ∂L/∂w`: `gw[ky, kx, ci, co] = Σ_{b, oy, ox} x[b, iy, ix, ci] · gy[b, oy, ox, co]`
/// (the im2col matrix transposed times `gy`). `gw` is overwritten.
pub fn conv2d_backward_filter(g: &Conv2dGeometry, x: &[f32], gy: &[f32], gw: &mut [f32]) {
    match mode() {
        Mode::Simd => conv2d_backward_filter_simd128(g, x, gy, gw),
        Mode::Scalar => conv2d_backward_filter_scalar(g, x, gy, gw),
    }
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

    fn abs(v: &[f32]) -> Vec<f32> {
        v.iter().map(|a| a.abs()).collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn geom(
        n: usize,
        [h, w]: [usize; 2],
        cin: usize,
        [kh, kw]: [usize; 2],
        cout: usize,
        strides: [usize; 2],
        dilations: [usize; 2],
        padding: Padding,
    ) -> Result<Conv2dGeometry> {
        Conv2dGeometry::new(
            "conv2d",
            &[n, h, w, cin],
            &[kh, kw, cin, cout],
            strides,
            dilations,
            padding,
        )
    }

    /// `got` agrees with `want` within 1e-5 of the magnitude scale of each element
    /// (the same sum over absolute values): the twins sum in different orders.
    fn assert_close(what: &str, g: &Conv2dGeometry, got: &[f32], want: &[f32], scale: &[f32]) {
        for (i, ((a, b), s)) in got.iter().zip(want).zip(scale).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * s,
                "{what}: element {i}: simd {a} vs scalar {b} (scale {s}) for {g:?}"
            );
        }
    }

    /// Holds the SIMD kernels to the scalar ones, forward and both backward passes.
    /// Outputs start as NaN to check that every element is written.
    fn check_twins(g: &Conv2dGeometry, seed: u32) {
        let x = values(g.input_len(), seed);
        let w = values(g.filter_len(), seed ^ 0x5555);
        let gy = values(g.output_len(), seed ^ 0xaaaa);
        let run = |f: &dyn Fn(&mut [f32]), len: usize| {
            let mut out = vec![f32::NAN; len];
            f(&mut out);
            out
        };

        let ol = g.output_len();
        let want = run(&|y| conv2d_scalar(g, &x, &w, y), ol);
        let got = run(&|y| conv2d_simd128(g, &x, &w, y), ol);
        let scale = run(&|y| conv2d_scalar(g, &abs(&x), &abs(&w), y), ol);
        assert_close("forward", g, &got, &want, &scale);

        let il = g.input_len();
        let want = run(&|gx| conv2d_backward_input_scalar(g, &gy, &w, gx), il);
        let got = run(&|gx| conv2d_backward_input_simd128(g, &gy, &w, gx), il);
        let scale = run(
            &|gx| conv2d_backward_input_scalar(g, &abs(&gy), &abs(&w), gx),
            il,
        );
        assert_close("backward input", g, &got, &want, &scale);

        let fl = g.filter_len();
        let want = run(&|gw| conv2d_backward_filter_scalar(g, &x, &gy, gw), fl);
        let got = run(&|gw| conv2d_backward_filter_simd128(g, &x, &gy, gw), fl);
        let scale = run(
            &|gw| conv2d_backward_filter_scalar(g, &abs(&x), &abs(&gy), gw),
            fl,
        );
        assert_close("backward filter", g, &got, &want, &scale);
    }

    const PADDINGS: [Padding; 4] = [
        Padding::Valid,
        Padding::Same,
        Padding::Explicit {
            top: 1,
            bottom: 0,
            left: 2,
            right: 1,
        },
        Padding::Explicit {
            top: 3,
            bottom: 3,
            left: 3,
            right: 3,
        },
    ];

    #[test]
    fn simd_matches_scalar_on_a_sweep_of_geometries() {
        let sizes = [1, 3, 4, 5, 7, 8, 15, 16, 17];
        let chans = [1, 3, 4, 5, 8, 17];
        let kernels = [1, 2, 3, 5];
        let (mut i, mut ran) = (0usize, 0);
        for &h in &sizes {
            for &kh in &kernels {
                for s in 1..=3 {
                    for d in 1..=2 {
                        for pad in PADDINGS {
                            i += 1;
                            let w = sizes[(i * 7) % sizes.len()];
                            let kw = kernels[(i / 3) % kernels.len()];
                            let cin = chans[i % chans.len()];
                            let cout = chans[(i / chans.len() + 2 * i) % chans.len()];
                            let n = if i % 2 == 0 { 1 } else { 3 };
                            let sw = 1 + (i / 2) % 3;
                            let dw = 1 + (i / 5) % 2;
                            let g = geom(n, [h, w], cin, [kh, kw], cout, [s, sw], [d, dw], pad);
                            if let Ok(g) = g {
                                check_twins(&g, i as u32);
                                ran += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(ran > 500, "only {ran} of {i} geometries were valid");
    }

    #[test]
    fn simd_matches_scalar_on_edge_cases() {
        let explicit = |top, bottom, left, right| Padding::Explicit {
            top,
            bottom,
            left,
            right,
        };
        let cases = [
            // kernel == input size (valid): one output position
            geom(3, [5, 5], 3, [5, 5], 4, [1, 1], [1, 1], Padding::Valid),
            // stride larger than the kernel: input rows are skipped
            geom(1, [9, 10], 2, [2, 2], 3, [3, 3], [1, 1], Padding::Valid),
            geom(1, [9, 10], 2, [2, 1], 3, [3, 4], [1, 1], Padding::Same),
            // stride 2 "same" with odd and even inputs (asymmetric padding)
            geom(2, [7, 7], 3, [3, 3], 5, [2, 2], [1, 1], Padding::Same),
            geom(2, [8, 6], 3, [3, 3], 5, [2, 2], [1, 1], Padding::Same),
            // pointwise (no im2col), and 1×1 kernels that still need it
            geom(3, [5, 7], 17, [1, 1], 8, [1, 1], [1, 1], Padding::Valid),
            geom(3, [5, 7], 17, [1, 1], 8, [1, 1], [1, 1], Padding::Same),
            geom(3, [5, 7], 5, [1, 1], 8, [2, 2], [1, 1], Padding::Valid),
            geom(
                1,
                [4, 4],
                3,
                [1, 1],
                2,
                [1, 1],
                [1, 1],
                explicit(1, 1, 1, 1),
            ),
            // padding wider than the kernel: some windows see only zeros
            geom(
                2,
                [3, 4],
                3,
                [2, 2],
                3,
                [1, 2],
                [1, 1],
                explicit(3, 3, 4, 2),
            ),
            // a dilated window exactly as large as the input
            geom(1, [5, 5], 2, [3, 3], 2, [1, 1], [2, 2], Padding::Valid),
            geom(2, [7, 9], 4, [3, 2], 5, [2, 1], [2, 3], Padding::Same),
            // a receptive field larger than the (test-sized) workspace: one row per chunk
            geom(2, [6, 6], 100, [5, 5], 3, [1, 1], [1, 1], Padding::Same),
            // many chunks, with accumulation across them in the filter gradient
            geom(3, [17, 16], 17, [3, 3], 17, [1, 1], [1, 1], Padding::Same),
            // one pixel
            geom(1, [1, 1], 1, [1, 1], 1, [1, 1], [1, 1], Padding::Same),
            geom(1, [1, 1], 3, [3, 3], 2, [2, 2], [2, 2], Padding::Same),
            // empty batch
            geom(0, [5, 5], 3, [3, 3], 2, [1, 1], [1, 1], Padding::Same),
            Conv2dGeometry::conv1d("conv1d", &[3, 17, 5], &[3, 5, 4], 2, 1, Padding::Same),
            Conv2dGeometry::conv1d(
                "conv1d",
                &[2, 16, 1],
                &[5, 1, 8],
                1,
                2,
                explicit(0, 0, 8, 0),
            ),
        ];
        for (i, g) in cases.into_iter().enumerate() {
            check_twins(&g.unwrap(), 1000 + i as u32);
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
            cin in prop::sample::select(vec![1usize, 3, 4, 5, 8, 17]),
            cout in prop::sample::select(vec![1usize, 3, 4, 5, 8, 17]),
            kh in 1..=5usize,
            kw in 1..=5usize,
            sh in 1..=3usize,
            sw in 1..=3usize,
            dh in 1..=2usize,
            dw in 1..=2usize,
            padding in padding_strategy(),
            seed in any::<u32>(),
        ) {
            // Invalid geometries must be errors, not panics; valid ones must agree.
            if let Ok(g) = geom(n, [h, w], cin, [kh, kw], cout, [sh, sw], [dh, dw], padding) {
                check_twins(&g, seed);
            }
        }
    }

    /// `Σ r·y` in f64: a scalar loss whose gradient with respect to `y` is `r`.
    fn weighted_sum(y: &[f32], r: &[f32]) -> f64 {
        y.iter().zip(r).map(|(&a, &b)| a as f64 * b as f64).sum()
    }

    /// Central differences of `Σ r·conv(x, w)` against both backward kernels.
    /// The loss is linear in each argument, so a large step loses nothing.
    fn check_gradients(g: &Conv2dGeometry) {
        let x = values(g.input_len(), 11);
        let w = values(g.filter_len(), 12);
        let r = values(g.output_len(), 13);
        let loss = |x: &[f32], w: &[f32]| {
            let mut y = vec![0.0; g.output_len()];
            conv2d(g, x, w, &mut y);
            weighted_sum(&y, &r)
        };
        let mut gx = vec![f32::NAN; g.input_len()];
        conv2d_backward_input(g, &r, &w, &mut gx);
        let mut gw = vec![f32::NAN; g.filter_len()];
        conv2d_backward_filter(g, &x, &r, &mut gw);
        let numeric = |v: &[f32], j: usize, f: &dyn Fn(&[f32]) -> f64| {
            let (mut p, mut m) = (v.to_vec(), v.to_vec());
            p[j] += 0.25;
            m[j] -= 0.25;
            (f(&p) - f(&m)) / (p[j] as f64 - m[j] as f64)
        };
        for (j, &d) in gx.iter().enumerate() {
            let num = numeric(&x, j, &|x| loss(x, &w));
            let err = (num - d as f64).abs();
            assert!(
                err <= 1e-4 * (1.0 + num.abs()),
                "∂x[{j}]: {d} vs numeric {num} for {g:?}"
            );
        }
        for (j, &d) in gw.iter().enumerate() {
            let num = numeric(&w, j, &|w| loss(&x, w));
            let err = (num - d as f64).abs();
            assert!(
                err <= 1e-4 * (1.0 + num.abs()),
                "∂w[{j}]: {d} vs numeric {num} for {g:?}"
            );
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let cases = [
            geom(2, [5, 7], 3, [3, 3], 2, [2, 2], [1, 1], Padding::Same),
            geom(1, [6, 5], 2, [3, 2], 3, [2, 1], [1, 1], Padding::Same),
            geom(1, [7, 5], 2, [3, 3], 2, [1, 1], [2, 2], Padding::Same),
            geom(2, [5, 5], 3, [3, 3], 2, [1, 1], [1, 1], Padding::Valid),
            geom(
                1,
                [6, 5],
                3,
                [2, 2],
                2,
                [3, 1],
                [1, 2],
                Padding::Explicit {
                    top: 1,
                    bottom: 0,
                    left: 2,
                    right: 1,
                },
            ),
            geom(2, [3, 3], 5, [1, 1], 3, [1, 1], [1, 1], Padding::Valid),
            Conv2dGeometry::conv1d("conv1d", &[2, 9, 3], &[3, 3, 2], 2, 2, Padding::Same),
        ];
        for g in cases {
            let g = g.unwrap();
            for mode in [Mode::Simd, Mode::Scalar] {
                with_mode(mode, || check_gradients(&g));
            }
        }
    }

    #[test]
    fn computes_a_small_convolution_by_hand() {
        // x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], w = [[1, 2], [3, 4]], valid:
        // y[0,0] = 1·1 + 2·2 + 4·3 + 5·4 = 37, and so on.
        let g = geom(1, [3, 3], 1, [2, 2], 1, [1, 1], [1, 1], Padding::Valid).unwrap();
        assert_eq!(g.output_dims(), vec![1, 2, 2, 1]);
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let w = [1.0, 2.0, 3.0, 4.0];
        for mode in [Mode::Simd, Mode::Scalar] {
            let mut y = [0.0; 4];
            with_mode(mode, || conv2d(&g, &x, &w, &mut y));
            assert_eq!(y, [37.0, 47.0, 67.0, 77.0]);
            // ∂(Σy)/∂w[ky, kx] = the sum of the inputs each tap saw.
            let mut gw = [0.0; 4];
            with_mode(mode, || conv2d_backward_filter(&g, &x, &[1.0; 4], &mut gw));
            assert_eq!(gw, [12.0, 16.0, 24.0, 28.0]);
            // ∂(Σy)/∂x: how many windows (and with which weights) read each input.
            let mut gx = [0.0; 9];
            with_mode(mode, || conv2d_backward_input(&g, &[1.0; 4], &w, &mut gx));
            assert_eq!(gx, [1.0, 3.0, 2.0, 4.0, 10.0, 6.0, 3.0, 7.0, 4.0]);
        }
    }

    #[test]
    fn two_channels_in_and_out_by_hand() {
        // One pixel, 2 → 2 channels: a plain matrix product with w as [cin, cout].
        let g = geom(1, [1, 1], 2, [1, 1], 2, [1, 1], [1, 1], Padding::Valid).unwrap();
        let mut y = [0.0; 2];
        conv2d(&g, &[1.0, 2.0], &[1.0, 2.0, 3.0, 4.0], &mut y);
        assert_eq!(y, [7.0, 10.0]);
    }

    #[test]
    fn same_padding_follows_tensorflow() {
        let axis = |h, k, s, d| {
            resolve_axis("conv2d", "kernelSize", "height", h, k, s, d, AxisPad::Same).unwrap()
        };
        // h = 5, k = 3, s = 2: oh = 3, pad 1 + 1.
        assert_eq!(
            axis(5, 3, 2, 1),
            Axis {
                out: 3,
                before: 1,
                after: 1
            }
        );
        // h = 4, k = 3, s = 2: oh = 2, pad total 1, all of it after.
        assert_eq!(
            axis(4, 3, 2, 1),
            Axis {
                out: 2,
                before: 0,
                after: 1
            }
        );
        // h = 6, k = 2, s = 1: the odd pad goes after.
        assert_eq!(
            axis(6, 2, 1, 1),
            Axis {
                out: 6,
                before: 0,
                after: 1
            }
        );
        // a stride larger than the kernel needs no padding.
        assert_eq!(
            axis(7, 1, 2, 1),
            Axis {
                out: 4,
                before: 0,
                after: 0
            }
        );
        // dilation 2 turns k = 3 into a window of 5.
        assert_eq!(
            axis(5, 3, 1, 2),
            Axis {
                out: 5,
                before: 2,
                after: 2
            }
        );

        let g = geom(2, [5, 4], 3, [3, 3], 8, [2, 2], [1, 1], Padding::Same).unwrap();
        assert_eq!(
            (g.oh, g.ow, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right),
            (3, 2, 1, 1, 0, 1)
        );
        assert_eq!(g.output_dims(), vec![2, 3, 2, 8]);

        // 4×4 input 1..16, 3×3 ones, stride 2, same: rows/cols 0..3 and 2..4 (the
        // extra pad is at the bottom/right), so y[0,0] = 1+2+3+5+6+7+9+10+11.
        let g = geom(1, [4, 4], 1, [3, 3], 1, [2, 2], [1, 1], Padding::Same).unwrap();
        let x: Vec<f32> = (1..=16).map(|v| v as f32).collect();
        for mode in [Mode::Simd, Mode::Scalar] {
            let mut y = [0.0; 4];
            with_mode(mode, || conv2d(&g, &x, &[1.0; 9], &mut y));
            assert_eq!(y, [54.0, 45.0, 72.0, 54.0]);
        }
    }

    #[test]
    fn valid_and_explicit_output_sizes() {
        let g = geom(1, [7, 8], 1, [3, 2], 1, [2, 3], [1, 1], Padding::Valid).unwrap();
        assert_eq!((g.oh, g.ow), (3, 3)); // (7 − 3)/2 + 1, (8 − 2)/3 + 1
        let g = geom(
            1,
            [7, 8],
            1,
            [3, 3],
            1,
            [1, 1],
            [1, 1],
            Padding::symmetric(1, 1),
        )
        .unwrap();
        assert_eq!((g.oh, g.ow, g.pad_top, g.pad_left), (7, 8, 1, 1));
        let g = geom(1, [5, 5], 1, [3, 3], 1, [1, 1], [2, 2], Padding::Valid).unwrap();
        assert_eq!((g.oh, g.ow), (1, 1));
    }

    #[test]
    fn conv1d_is_conv2d_with_height_one() {
        let g =
            Conv2dGeometry::conv1d("conv1d", &[2, 10, 3], &[4, 3, 5], 3, 1, Padding::Same).unwrap();
        assert_eq!(g.output_dims(), vec![2, 4, 5]);
        assert_eq!((g.h, g.kh, g.oh, g.pad_left, g.pad_right), (1, 1, 1, 1, 2));
        let g2 = geom(2, [1, 10], 3, [1, 4], 5, [1, 3], [1, 1], Padding::Same).unwrap();
        assert_eq!(
            (g.oh, g.ow, g.pad_top, g.pad_left),
            (g2.oh, g2.ow, g2.pad_top, g2.pad_left)
        );
        // Causal: left padding (k − 1)·dilation keeps the length and sees only the past.
        let g = Conv2dGeometry::conv1d(
            "conv1d",
            &[1, 4, 1],
            &[2, 1, 1],
            1,
            1,
            Padding::Explicit {
                top: 0,
                bottom: 0,
                left: 1,
                right: 0,
            },
        )
        .unwrap();
        let mut y = [0.0; 4];
        conv2d(&g, &[1.0, 2.0, 3.0, 4.0], &[10.0, 1.0], &mut y);
        assert_eq!(y, [1.0, 12.0, 23.0, 34.0]);
    }

    fn message(r: Result<Conv2dGeometry>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn geometry_errors_name_the_argument() {
        let v = Padding::Valid;
        assert_eq!(
            message(geom(1, [5, 5], 1, [3, 7], 1, [1, 1], [1, 1], v)),
            "conv2d: invalid `kernelSize`: expected at most 5 (the padded input width) with padding \"valid\", received 7"
        );
        assert_eq!(
            message(geom(1, [5, 5], 1, [3, 3], 1, [1, 1], [3, 1], v)),
            "conv2d: invalid `kernelSize`: expected a dilated window of at most 5 (the padded input height) with padding \"valid\", received 3 with dilation 3 (a window of 7)"
        );
        assert_eq!(
            message(geom(1, [3, 3], 1, [6, 1], 1, [1, 1], [1, 1], Padding::symmetric(1, 0))),
            "conv2d: invalid `kernelSize`: expected at most 5 (the padded input height) with padding 1 + 1, received 6"
        );
        let e = Conv2dGeometry::new("conv2d", &[2, 8, 8, 3], &[3, 3, 4, 16], [1, 1], [1, 1], v)
            .unwrap_err();
        assert_eq!(e.code(), "SHAPE_MISMATCH");
        assert_eq!(
            e.to_string(),
            "conv2d: invalid `filter`: expected 3 input channels (the last dimension of the input, shape [2, 8, 8, 3]), received 4 (shape [3, 3, 4, 16])"
        );
        let e = geom(1, [5, 5], 1, [3, 3], 1, [0, 1], [1, 1], v).unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT");
        assert_eq!(
            e.to_string(),
            "conv2d: invalid `strides`: expected positive integers, received [0, 1]"
        );
        assert_eq!(
            message(geom(1, [5, 5], 1, [3, 3], 1, [1, 1], [1, 0], v)),
            "conv2d: invalid `dilationRate`: expected positive integers, received [1, 0]"
        );
        assert_eq!(
            message(geom(1, [5, 5], 1, [0, 3], 1, [1, 1], [1, 1], v)),
            "conv2d: invalid `kernelSize`: expected positive integers, received [0, 3]"
        );
        assert_eq!(
            message(Conv2dGeometry::new("conv2d", &[8, 8, 3], &[3, 3, 3, 4], [1, 1], [1, 1], v)),
            "conv2d: invalid `input`: expected a rank-4 shape [batch, height, width, channels], received shape [8, 8, 3]"
        );
        assert_eq!(
            message(Conv2dGeometry::new("conv2d", &[1, 8, 8, 3], &[3, 3, 3], [1, 1], [1, 1], v)),
            "conv2d: invalid `filter`: expected a rank-4 shape [kernelHeight, kernelWidth, inChannels, outChannels], received shape [3, 3, 3]"
        );
        assert_eq!(
            message(geom(1, [0, 5], 1, [1, 1], 1, [1, 1], [1, 1], v)),
            "conv2d: invalid `input`: expected a positive height, width and channel count, received shape [1, 0, 5, 1]"
        );
        assert_eq!(
            message(geom(1, [5, 5], 2, [1, 1], 0, [1, 1], [1, 1], v)),
            "conv2d: invalid `filter`: expected a positive number of output channels, received shape [1, 1, 2, 0]"
        );
    }

    #[test]
    fn conv1d_errors_speak_of_lengths() {
        let c1 =
            |x: &[usize], f: &[usize], s, d, p| Conv2dGeometry::conv1d("conv1d", x, f, s, d, p);
        assert_eq!(
            message(c1(&[1, 4, 2], &[5, 2, 3], 1, 1, Padding::Valid)),
            "conv1d: invalid `kernelSize`: expected at most 4 (the padded input length) with padding \"valid\", received 5"
        );
        assert_eq!(
            message(c1(&[1, 4, 2], &[2, 2, 3], 0, 1, Padding::Valid)),
            "conv1d: invalid `strides`: expected a positive integer, received 0"
        );
        assert_eq!(
            message(c1(&[1, 4, 2], &[2, 3, 3], 1, 1, Padding::Valid)),
            "conv1d: invalid `filter`: expected 2 input channels (the last dimension of the input, shape [1, 4, 2]), received 3 (shape [2, 3, 3])"
        );
        assert_eq!(
            message(c1(&[1, 4, 2, 1], &[2, 2, 3], 1, 1, Padding::Valid)),
            "conv1d: invalid `input`: expected a rank-3 shape [batch, length, channels], received shape [1, 4, 2, 1]"
        );
        assert_eq!(
            message(c1(&[1, 4, 2], &[2, 2, 3], 1, 1, Padding::symmetric(1, 1))),
            "conv1d: invalid `padding`: expected no top or bottom padding for a 1-D op (pad the sequence with `left` and `right`), received top 1, bottom 1"
        );
        assert_eq!(
            Padding::from_name("conv1d", "causal")
                .unwrap_err()
                .to_string(),
            "conv1d: invalid `padding`: expected \"valid\" or \"same\", received \"causal\""
        );
    }

    #[test]
    fn huge_arguments_are_errors_not_panics() {
        let big = usize::MAX / 2;
        assert!(geom(
            1,
            [4, 4],
            1,
            [1, 1],
            1,
            [1, 1],
            [1, 1],
            Padding::symmetric(big, big)
        )
        .is_err());
        assert!(geom(1, [4, 4], 1, [3, 3], 1, [1, 1], [big, 1], Padding::Same).is_err());
        assert!(geom(1, [4, 4], 1, [3, 3], 1, [1, 1], [big, 1], Padding::Valid).is_err());
        assert!(geom(big, [big, 4], 1, [1, 1], 1, [1, 1], [1, 1], Padding::Valid).is_err());
        assert!(geom(1, [4, 4], big, [1, 1], big, [1, 1], [1, 1], Padding::Valid).is_err());
        // A huge stride is fine: one window.
        let g = geom(1, [4, 4], 1, [3, 3], 1, [big, big], [1, 1], Padding::Same).unwrap();
        assert_eq!((g.oh, g.ow), (1, 1));
    }
}

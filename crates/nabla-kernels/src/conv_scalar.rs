//! The convolution reference: direct nested loops over output positions and filter
//! taps, skipping taps that fall in the padding. Slow and obviously right.

use super::conv::Conv2dGeometry;

/// The input position tap `k` of output position `o` reads, or `None` in the padding.
#[inline(always)]
pub(super) fn tap(
    o: usize,
    k: usize,
    stride: usize,
    dil: usize,
    pad: usize,
    size: usize,
) -> Option<usize> {
    (o * stride + k * dil)
        .checked_sub(pad)
        .filter(|&i| i < size)
}

/// Calls `f(x offset, filter offset, output offset)` for every in-bounds tap, in the
/// order output position, then ky, kx; offsets are of the first channel.
fn for_each_tap(g: &Conv2dGeometry, mut f: impl FnMut(usize, usize, usize)) {
    for b in 0..g.n {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let yo = ((b * g.oh + oy) * g.ow + ox) * g.cout;
                for ky in 0..g.kh {
                    let Some(iy) = tap(oy, ky, g.stride_h, g.dil_h, g.pad_top, g.h) else {
                        continue;
                    };
                    for kx in 0..g.kw {
                        let Some(ix) = tap(ox, kx, g.stride_w, g.dil_w, g.pad_left, g.w) else {
                            continue;
                        };
                        let xo = ((b * g.h + iy) * g.w + ix) * g.cin;
                        let wo = (ky * g.kw + kx) * g.cin * g.cout;
                        f(xo, wo, yo);
                    }
                }
            }
        }
    }
}

/// `y[b, oy, ox, co] = Σ_{ky, kx, ci} x[b, iy, ix, ci] · w[ky, kx, ci, co]`, summed in
/// (ky, kx, ci) order.
pub fn conv2d_scalar(g: &Conv2dGeometry, x: &[f32], w: &[f32], y: &mut [f32]) {
    g.assert_lens(x.len(), w.len(), y.len());
    let (cin, cout) = (g.cin, g.cout);
    y.fill(0.0);
    for_each_tap(g, |xo, wo, yo| {
        for ci in 0..cin {
            let xv = x[xo + ci];
            for co in 0..cout {
                y[yo + co] += xv * w[wo + ci * cout + co];
            }
        }
    });
}

/// `gx[b, iy, ix, ci] = Σ over the outputs that read it of Σ_co gy[.., co] · w[.., ci, co]`.
pub fn conv2d_backward_input_scalar(g: &Conv2dGeometry, gy: &[f32], w: &[f32], gx: &mut [f32]) {
    g.assert_lens(gx.len(), w.len(), gy.len());
    let (cin, cout) = (g.cin, g.cout);
    gx.fill(0.0);
    for_each_tap(g, |xo, wo, yo| {
        for ci in 0..cin {
            let mut s = 0.0f32;
            for co in 0..cout {
                s += gy[yo + co] * w[wo + ci * cout + co];
            }
            gx[xo + ci] += s;
        }
    });
}

/// `gw[ky, kx, ci, co] = Σ_{b, oy, ox} x[b, iy, ix, ci] · gy[b, oy, ox, co]`.
pub fn conv2d_backward_filter_scalar(g: &Conv2dGeometry, x: &[f32], gy: &[f32], gw: &mut [f32]) {
    g.assert_lens(x.len(), gw.len(), gy.len());
    let (cin, cout) = (g.cin, g.cout);
    gw.fill(0.0);
    for_each_tap(g, |xo, wo, yo| {
        for ci in 0..cin {
            let xv = x[xo + ci];
            for co in 0..cout {
                gw[wo + ci * cout + co] += xv * gy[yo + co];
            }
        }
    });
}

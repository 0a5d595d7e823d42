//! Convolution as GEMM: im2col lays each output position's receptive field out as one
//! row of a `[n·oh·ow, kh·kw·cin]` matrix (zeros for padding), so
//! forward `y = col · w`, backward filter `gw = colᵀ · gy`, and backward input
//! `gcol = gy · wᵀ` scattered back by col2im; `w` is the `[kh·kw·cin, cout]` matrix
//! and the transposes are strided views. The im2col matrix is built a chunk of output
//! positions at a time in a reused per-thread workspace, so memory stays bounded and
//! steady-state calls do not allocate. A 1×1 kernel with stride 1 and no padding needs
//! no im2col at all: the input already is that matrix.

use super::conv::{taps, Conv2dGeometry};
use super::matmul::{gemm_simd128, MatRef};
use super::simd::F32x4;
use std::cell::RefCell;

/// Most floats the im2col workspace holds (4 MiB, about 227 output positions of a
/// 3×3×512 kernel); a chunk is at least one position, however large its receptive
/// field. Tests shrink it so every path chunks, down to one position per chunk.
#[cfg(not(test))]
const WORKSPACE: usize = 1 << 20;
#[cfg(test)]
const WORKSPACE: usize = 1 << 11;

thread_local! {
    static COL: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the first `len` floats of this thread's workspace, grown if needed.
fn with_workspace<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    COL.with(|ws| {
        let mut ws = ws.borrow_mut();
        if ws.len() < len {
            ws.resize(len, 0.0);
        }
        f(&mut ws[..len])
    })
}

/// Output positions per im2col chunk.
fn chunk_rows(g: &Conv2dGeometry) -> usize {
    (WORKSPACE / g.depth()).clamp(1, g.rows().max(1))
}

/// Calls `f(output row, (ky0, ky1), (kx0, kx1), oy, ox, b)` for output rows `r0..r1`,
/// with the in-bounds tap ranges of each.
#[inline(always)]
fn for_rows(
    g: &Conv2dGeometry,
    r0: usize,
    r1: usize,
    mut f: impl FnMut(usize, (usize, usize), (usize, usize), usize, usize, usize),
) {
    for r in r0..r1 {
        let ox = r % g.ow;
        let oy = (r / g.ow) % g.oh;
        let b = r / (g.ow * g.oh);
        let ky = taps(oy, g.kh, g.stride_h, g.dil_h, g.pad_top, g.h);
        let kx = taps(ox, g.kw, g.stride_w, g.dil_w, g.pad_left, g.w);
        f(r - r0, ky, kx, oy, ox, b);
    }
}

/// Fills `col` (row-major `(r1 − r0) × kh·kw·cin`) with the receptive fields of output
/// positions `r0..r1`, in (ky, kx, ci) order; taps in the padding are zeros.
fn im2col(g: &Conv2dGeometry, x: &[f32], r0: usize, r1: usize, col: &mut [f32]) {
    let (cin, depth) = (g.cin, g.depth());
    let seg = g.kw * cin;
    debug_assert_eq!(col.len(), (r1 - r0) * depth);
    for_rows(g, r0, r1, |i, (ky0, ky1), (kx0, kx1), oy, ox, b| {
        let row = &mut col[i * depth..(i + 1) * depth];
        row[..ky0 * seg].fill(0.0);
        row[ky1 * seg..].fill(0.0);
        for ky in ky0..ky1 {
            let iy = oy * g.stride_h + ky * g.dil_h - g.pad_top;
            let pixel = (b * g.h + iy) * g.w; // index of pixel (b, iy, 0)
            let s = &mut row[ky * seg..(ky + 1) * seg];
            s[..kx0 * cin].fill(0.0);
            s[kx1 * cin..].fill(0.0);
            if g.dil_w == 1 && kx1 > kx0 {
                // Adjacent taps read adjacent pixels: one contiguous copy.
                let ix0 = ox * g.stride_w + kx0 - g.pad_left;
                let len = (kx1 - kx0) * cin;
                s[kx0 * cin..kx1 * cin].copy_from_slice(&x[(pixel + ix0) * cin..][..len]);
            } else {
                for kx in kx0..kx1 {
                    let ix = ox * g.stride_w + kx * g.dil_w - g.pad_left;
                    s[kx * cin..(kx + 1) * cin].copy_from_slice(&x[(pixel + ix) * cin..][..cin]);
                }
            }
        }
    });
}

/// The adjoint of [`im2col`]: adds each in-bounds entry of `gcol` (rows `r0..r1`) into
/// the input position it was copied from; padding entries are dropped.
fn col2im_add(g: &Conv2dGeometry, gcol: &[f32], r0: usize, r1: usize, gx: &mut [f32]) {
    let (cin, depth) = (g.cin, g.depth());
    let seg = g.kw * cin;
    debug_assert_eq!(gcol.len(), (r1 - r0) * depth);
    for_rows(g, r0, r1, |i, (ky0, ky1), (kx0, kx1), oy, ox, b| {
        let row = &gcol[i * depth..(i + 1) * depth];
        for ky in ky0..ky1 {
            let iy = oy * g.stride_h + ky * g.dil_h - g.pad_top;
            let pixel = (b * g.h + iy) * g.w;
            let s = &row[ky * seg..(ky + 1) * seg];
            if g.dil_w == 1 && kx1 > kx0 {
                let ix0 = ox * g.stride_w + kx0 - g.pad_left;
                let len = (kx1 - kx0) * cin;
                add_into(
                    &mut gx[(pixel + ix0) * cin..][..len],
                    &s[kx0 * cin..kx1 * cin],
                );
            } else {
                for kx in kx0..kx1 {
                    let ix = ox * g.stride_w + kx * g.dil_w - g.pad_left;
                    add_into(
                        &mut gx[(pixel + ix) * cin..][..cin],
                        &s[kx * cin..(kx + 1) * cin],
                    );
                }
            }
        }
    });
}

/// `dst += src`, four lanes at a time.
#[inline(always)]
pub(super) fn add_into(dst: &mut [f32], src: &[f32]) {
    assert_eq!(dst.len(), src.len());
    let n4 = dst.len() / 4 * 4;
    for i in (0..n4).step_by(4) {
        // SAFETY: i + 4 ≤ n4 ≤ the length of both slices.
        unsafe {
            let d = F32x4::load(dst.as_ptr().add(i)).add(F32x4::load(src.as_ptr().add(i)));
            d.store(dst.as_mut_ptr().add(i));
        }
    }
    // leftovers
    for (d, s) in dst[n4..].iter_mut().zip(&src[n4..]) {
        *d += *s;
    }
}

pub fn conv2d_simd128(g: &Conv2dGeometry, x: &[f32], w: &[f32], y: &mut [f32]) {
    g.assert_lens(x.len(), w.len(), y.len());
    let (m, k, n) = (g.rows(), g.depth(), g.cout);
    let wm = MatRef::row_major(w, k, n);
    if g.is_pointwise() {
        gemm_simd128(MatRef::row_major(x, m, k), wm, y, false);
        return;
    }
    let chunk = chunk_rows(g);
    with_workspace(chunk * k, |col| {
        for r0 in (0..m).step_by(chunk) {
            let r1 = (r0 + chunk).min(m);
            let col = &mut col[..(r1 - r0) * k];
            im2col(g, x, r0, r1, col);
            gemm_simd128(
                MatRef::row_major(col, r1 - r0, k),
                wm,
                &mut y[r0 * n..r1 * n],
                false,
            );
        }
    });
}

pub fn conv2d_backward_input_simd128(g: &Conv2dGeometry, gy: &[f32], w: &[f32], gx: &mut [f32]) {
    g.assert_lens(gx.len(), w.len(), gy.len());
    let (m, k, n) = (g.rows(), g.depth(), g.cout);
    let wt = MatRef::row_major(w, k, n).t();
    if g.is_pointwise() {
        gemm_simd128(MatRef::row_major(gy, m, n), wt, gx, false);
        return;
    }
    gx.fill(0.0);
    let chunk = chunk_rows(g);
    with_workspace(chunk * k, |gcol| {
        for r0 in (0..m).step_by(chunk) {
            let r1 = (r0 + chunk).min(m);
            let gcol = &mut gcol[..(r1 - r0) * k];
            gemm_simd128(
                MatRef::row_major(&gy[r0 * n..r1 * n], r1 - r0, n),
                wt,
                gcol,
                false,
            );
            col2im_add(g, gcol, r0, r1, gx);
        }
    });
}

pub fn conv2d_backward_filter_simd128(g: &Conv2dGeometry, x: &[f32], gy: &[f32], gw: &mut [f32]) {
    g.assert_lens(x.len(), gw.len(), gy.len());
    let (m, k, n) = (g.rows(), g.depth(), g.cout);
    if g.is_pointwise() {
        gemm_simd128(
            MatRef::row_major(x, m, k).t(),
            MatRef::row_major(gy, m, n),
            gw,
            false,
        );
        return;
    }
    if m == 0 {
        gw.fill(0.0);
        return;
    }
    let chunk = chunk_rows(g);
    with_workspace(chunk * k, |col| {
        for r0 in (0..m).step_by(chunk) {
            let r1 = (r0 + chunk).min(m);
            let col = &mut col[..(r1 - r0) * k];
            im2col(g, x, r0, r1, col);
            // Later chunks continue the sums, so each gw entry adds its terms in
            // output-position order, as the reference does.
            gemm_simd128(
                MatRef::row_major(col, r1 - r0, k).t(),
                MatRef::row_major(&gy[r0 * n..r1 * n], r1 - r0, n),
                gw,
                r0 > 0,
            );
        }
    });
}

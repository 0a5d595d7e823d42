//! Pooling in `F32x4`, four channels at a time: channels are contiguous in NHWC, so a
//! window's elements for four channels are one load per tap. Each channel sees the same
//! operations in the same order as the scalar reference, so results agree bit for bit.

use super::conv::taps;
use super::conv_simd128::add_into;
use super::pool::{assert_global, Pool2dGeometry};
use super::simd::{F32x4, I32x4};

/// The in-bounds window of one output position.
struct Window {
    /// Flat offset of channel 0 at output position `(b, oy, ox)`.
    yo: usize,
    /// Flat offset of channel 0 at the input pixel of tap `(ky0, kx0)`.
    first: usize,
    /// In-bounds taps in each direction.
    rows: usize,
    cols: usize,
    /// Flat distance between vertically adjacent input pixels (`w·c`).
    row_stride: usize,
}

impl Window {
    /// Flat offsets (of channel 0) of the window's pixels, in (ky, kx) order.
    #[inline(always)]
    fn pixels(&self, c: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.rows).flat_map(move |r| {
            let row = self.first + r * self.row_stride;
            (0..self.cols).map(move |k| row + k * c)
        })
    }

    fn count(&self) -> f32 {
        (self.rows * self.cols) as f32
    }
}

/// Calls `f` with every output position's in-bounds window, in output order.
#[inline(always)]
fn for_each_window(g: &Pool2dGeometry, mut f: impl FnMut(&Window)) {
    for b in 0..g.n {
        for oy in 0..g.oh {
            let (ky0, ky1) = taps(oy, g.kh, g.stride_h, 1, g.pad_top, g.h);
            for ox in 0..g.ow {
                let (kx0, kx1) = taps(ox, g.kw, g.stride_w, 1, g.pad_left, g.w);
                let iy = oy * g.stride_h + ky0 - g.pad_top;
                let ix = ox * g.stride_w + kx0 - g.pad_left;
                f(&Window {
                    yo: ((b * g.oh + oy) * g.ow + ox) * g.c,
                    first: ((b * g.h + iy) * g.w + ix) * g.c,
                    rows: ky1 - ky0,
                    cols: kx1 - kx0,
                    row_stride: g.w * g.c,
                });
            }
        }
    }
}

/// Loads four floats at `s[i..i + 4]`, checking the bounds.
#[inline(always)]
fn load(s: &[f32], i: usize) -> F32x4 {
    let s = &s[i..i + 4];
    // SAFETY: `s` holds four floats.
    unsafe { F32x4::load(s.as_ptr()) }
}

#[inline(always)]
fn store(v: F32x4, s: &mut [f32], i: usize) {
    let s = &mut s[i..i + 4];
    // SAFETY: `s` holds four floats.
    unsafe { v.store(s.as_mut_ptr()) }
}

pub fn max_pool2d_simd128(g: &Pool2dGeometry, x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
    g.assert_lens(x.len(), y.len());
    assert_eq!(
        argmax.len(),
        y.len(),
        "{}: argmax has the wrong length",
        g.op
    );
    let c = g.c;
    let c4 = c / 4 * 4;
    // Lane offsets 0, 1, 2, 3, to turn a pixel offset into four channel indices.
    let lanes = F32x4::from_array([0.0, 1.0, 2.0, 3.0]).to_i32();
    // Indices fit in u32 (the geometry checks); as i32 bits they may wrap, harmlessly.
    let index = |i: usize| I32x4::splat(i as u32 as i32).add(lanes);
    for_each_window(g, |win| {
        for ch in (0..c4).step_by(4) {
            let mut best = load(x, win.first + ch);
            let mut at = index(win.first + ch).to_bits_f32();
            // The first pixel again is a no-op: nothing is strictly larger than itself.
            for p in win.pixels(c) {
                let v = load(x, p + ch);
                let larger = v.gt(best);
                best = larger.select(v, best);
                at = larger.select(index(p + ch).to_bits_f32(), at);
            }
            store(best, y, win.yo + ch);
            let at = at.to_bits().to_array();
            for (l, &i) in at.iter().enumerate() {
                argmax[win.yo + ch + l] = i as u32;
            }
        }
        // leftovers
        for ch in c4..c {
            let mut at = win.first + ch;
            for p in win.pixels(c) {
                if x[p + ch] > x[at] {
                    at = p + ch;
                }
            }
            y[win.yo + ch] = x[at];
            argmax[win.yo + ch] = at as u32;
        }
    });
}

/// A scatter: SIMD128 has no scatter instruction, and the work is one add per output.
pub fn max_pool2d_backward_simd128(g: &Pool2dGeometry, gy: &[f32], argmax: &[u32], gx: &mut [f32]) {
    g.assert_lens(gx.len(), gy.len());
    assert_eq!(
        argmax.len(),
        gy.len(),
        "{}: argmax has the wrong length",
        g.op
    );
    gx.fill(0.0);
    for (&d, &i) in gy.iter().zip(argmax) {
        gx[i as usize] += d;
    }
}

pub fn avg_pool2d_simd128(g: &Pool2dGeometry, x: &[f32], y: &mut [f32]) {
    g.assert_lens(x.len(), y.len());
    let c = g.c;
    let c4 = c / 4 * 4;
    for_each_window(g, |win| {
        let count = win.count();
        let cv = F32x4::splat(count);
        for ch in (0..c4).step_by(4) {
            let mut s = F32x4::splat(0.0);
            for p in win.pixels(c) {
                s = s.add(load(x, p + ch));
            }
            store(s.div(cv), y, win.yo + ch);
        }
        // leftovers
        for ch in c4..c {
            let mut s = 0.0f32;
            for p in win.pixels(c) {
                s += x[p + ch];
            }
            y[win.yo + ch] = s / count;
        }
    });
}

pub fn avg_pool2d_backward_simd128(g: &Pool2dGeometry, gy: &[f32], gx: &mut [f32]) {
    g.assert_lens(gx.len(), gy.len());
    gx.fill(0.0);
    let c = g.c;
    let c4 = c / 4 * 4;
    for_each_window(g, |win| {
        let count = win.count();
        let cv = F32x4::splat(count);
        for ch in (0..c4).step_by(4) {
            let d = load(gy, win.yo + ch).div(cv);
            for p in win.pixels(c) {
                store(load(gx, p + ch).add(d), gx, p + ch);
            }
        }
        // leftovers
        for ch in c4..c {
            let d = gy[win.yo + ch] / count;
            for p in win.pixels(c) {
                gx[p + ch] += d;
            }
        }
    });
}

/// Divides `v` by `d` in place.
fn div_by(v: &mut [f32], d: f32) {
    let dv = F32x4::splat(d);
    let n4 = v.len() / 4 * 4;
    for i in (0..n4).step_by(4) {
        store(load(v, i).div(dv), v, i);
    }
    // leftovers
    for a in &mut v[n4..] {
        *a /= d;
    }
}

pub fn global_avg_pool2d_simd128(n: usize, hw: usize, c: usize, x: &[f32], y: &mut [f32]) {
    assert_global(n, hw, c, x.len(), y.len());
    for b in 0..n {
        let yb = &mut y[b * c..(b + 1) * c];
        // Sum whole pixel rows into y, position by position: contiguous, and each
        // channel adds its terms in the reference's order.
        yb.fill(0.0);
        for p in 0..hw {
            add_into(yb, &x[(b * hw + p) * c..][..c]);
        }
        div_by(yb, hw as f32);
    }
}

pub fn global_avg_pool2d_backward_simd128(
    n: usize,
    hw: usize,
    c: usize,
    gy: &[f32],
    gx: &mut [f32],
) {
    assert_global(n, hw, c, gx.len(), gy.len());
    if c == 0 {
        return;
    }
    for b in 0..n {
        let gb = &mut gx[b * hw * c..(b + 1) * hw * c];
        // The first position gets gy / hw; the others copy it.
        gb[..c].copy_from_slice(&gy[b * c..(b + 1) * c]);
        div_by(&mut gb[..c], hw as f32);
        for p in 1..hw {
            gb.copy_within(..c, p * c);
        }
    }
}

//! The pooling reference: direct loops over each window's in-bounds elements, one
//! channel at a time. Slow and obviously right.

use super::pool::{assert_global, Pool2dGeometry};
use std::ops::Range;

/// The input positions a window starting at padded position `start` covers: `k` of
/// them, shifted back by `pad` and clipped to the input.
fn clip(start: usize, k: usize, pad: usize, size: usize) -> Range<usize> {
    start.saturating_sub(pad)..(start + k).saturating_sub(pad).min(size)
}

/// Calls `f(output offset, [flat input offsets of the window's in-bounds pixels])`
/// for every output position; offsets are of channel 0, in (row, column) order.
fn for_each_window(g: &Pool2dGeometry, mut f: impl FnMut(usize, &[usize])) {
    let mut window = Vec::new();
    for b in 0..g.n {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                window.clear();
                for iy in clip(oy * g.stride_h, g.kh, g.pad_top, g.h) {
                    for ix in clip(ox * g.stride_w, g.kw, g.pad_left, g.w) {
                        window.push(((b * g.h + iy) * g.w + ix) * g.c);
                    }
                }
                f(((b * g.oh + oy) * g.ow + ox) * g.c, &window);
            }
        }
    }
}

pub fn max_pool2d_scalar(g: &Pool2dGeometry, x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
    g.assert_lens(x.len(), y.len());
    assert_eq!(
        argmax.len(),
        y.len(),
        "{}: argmax has the wrong length",
        g.op
    );
    for_each_window(g, |yo, window| {
        for ch in 0..g.c {
            // The first element starts; a later one replaces it only if strictly larger.
            let mut at = window[0] + ch;
            for &p in &window[1..] {
                if x[p + ch] > x[at] {
                    at = p + ch;
                }
            }
            y[yo + ch] = x[at];
            argmax[yo + ch] = at as u32;
        }
    });
}

pub fn max_pool2d_backward_scalar(g: &Pool2dGeometry, gy: &[f32], argmax: &[u32], gx: &mut [f32]) {
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

pub fn avg_pool2d_scalar(g: &Pool2dGeometry, x: &[f32], y: &mut [f32]) {
    g.assert_lens(x.len(), y.len());
    for_each_window(g, |yo, window| {
        let count = window.len() as f32;
        for ch in 0..g.c {
            let mut s = 0.0f32;
            for &p in window {
                s += x[p + ch];
            }
            y[yo + ch] = s / count;
        }
    });
}

pub fn avg_pool2d_backward_scalar(g: &Pool2dGeometry, gy: &[f32], gx: &mut [f32]) {
    g.assert_lens(gx.len(), gy.len());
    gx.fill(0.0);
    for_each_window(g, |yo, window| {
        let count = window.len() as f32;
        for ch in 0..g.c {
            let d = gy[yo + ch] / count;
            for &p in window {
                gx[p + ch] += d;
            }
        }
    });
}

pub fn global_avg_pool2d_scalar(n: usize, hw: usize, c: usize, x: &[f32], y: &mut [f32]) {
    assert_global(n, hw, c, x.len(), y.len());
    for b in 0..n {
        for ch in 0..c {
            let mut s = 0.0f32;
            for p in 0..hw {
                s += x[(b * hw + p) * c + ch];
            }
            y[b * c + ch] = s / hw as f32;
        }
    }
}

pub fn global_avg_pool2d_backward_scalar(
    n: usize,
    hw: usize,
    c: usize,
    gy: &[f32],
    gx: &mut [f32],
) {
    assert_global(n, hw, c, gx.len(), gy.len());
    for b in 0..n {
        for p in 0..hw {
            for ch in 0..c {
                gx[(b * hw + p) * c + ch] = gy[b * c + ch] / hw as f32;
            }
        }
    }
}

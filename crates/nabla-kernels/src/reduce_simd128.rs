//! SIMD128 reductions: across `inner` four lanes at a time (the scalar order per lane),
//! or along a contiguous row with eight running partial sums.

use super::reduce::Reduce;
use super::reduce_scalar::{argmax_one, argmax_scalar, reduce_one, reduce_scalar};
use super::simd::F32x4;

pub fn reduce_simd128(
    op: Reduce,
    x: &[f32],
    outer: usize,
    len: usize,
    inner: usize,
    out: &mut [f32],
) {
    if inner == 1 {
        for o in 0..outer {
            let row = &x[o * len..(o + 1) * len];
            out[o] = match op {
                Reduce::Sum => row_sum(row),
                Reduce::Max => row_max(row),
            };
        }
        return;
    }
    if inner < 4 {
        return reduce_scalar(op, x, outer, len, inner, out);
    }
    let main = inner - inner % 4;
    for o in 0..outer {
        let base = o * len * inner;
        let mut i = 0;
        while i < main {
            // SAFETY: i + 4 <= inner, so every load/store stays inside row k / the output row.
            unsafe {
                let p = x.as_ptr().add(base + i);
                let (mut acc, mut ok) = match op {
                    Reduce::Sum => (F32x4::splat(0.0), None),
                    Reduce::Max => (
                        F32x4::splat(f32::NEG_INFINITY),
                        Some(F32x4::splat(0.0).eq(F32x4::splat(0.0))),
                    ),
                };
                for k in 0..len {
                    let v = F32x4::load(p.add(k * inner));
                    match op {
                        Reduce::Sum => acc = acc.add(v),
                        Reduce::Max => {
                            acc = acc.max(v);
                            ok = ok.map(|m| m.and(v.eq(v)));
                        }
                    }
                }
                if let Some(ok) = ok {
                    acc = ok.select(acc, F32x4::splat(f32::NAN));
                }
                acc.store(out.as_mut_ptr().add(o * inner + i));
            }
            i += 4;
        }
        // The tail lanes, in scalar order.
        for i in main..inner {
            out[o * inner + i] = reduce_one(op, len, |k| x[base + k * inner + i]);
        }
    }
}

fn row_sum(row: &[f32]) -> f32 {
    let n = row.len();
    let main = n - n % 8;
    let (mut a, mut b) = (F32x4::splat(0.0), F32x4::splat(0.0));
    let mut k = 0;
    while k < main {
        // SAFETY: k + 8 <= n.
        unsafe {
            a = a.add(F32x4::load(row.as_ptr().add(k)));
            b = b.add(F32x4::load(row.as_ptr().add(k + 4)));
        }
        k += 8;
    }
    let mut s = a.add(b).sum();
    for &v in &row[main..] {
        s += v;
    }
    s
}

fn row_max(row: &[f32]) -> f32 {
    let n = row.len();
    let main = n - n % 4;
    let mut m = F32x4::splat(f32::NEG_INFINITY);
    let mut ok = m.eq(m);
    let mut k = 0;
    while k < main {
        // SAFETY: k + 4 <= n.
        let v = unsafe { F32x4::load(row.as_ptr().add(k)) };
        m = m.max(v);
        ok = ok.and(v.eq(v));
        k += 4;
    }
    let all_ok = ok.to_array().iter().all(|&b| b != 0);
    let mut best = m.max_lane();
    let mut nan = !all_ok;
    for &v in &row[main..] {
        nan |= v.is_nan();
        if best < v {
            best = v;
        }
    }
    if nan {
        f32::NAN
    } else {
        best
    }
}

pub fn argmax_simd128(x: &[f32], outer: usize, len: usize, inner: usize, out: &mut [i32]) {
    if inner < 4 {
        return argmax_scalar(x, outer, len, inner, out);
    }
    let main = inner - inner % 4;
    let all = F32x4::splat(0.0).eq(F32x4::splat(0.0)); // all lanes set
    for o in 0..outer {
        let base = o * len * inner;
        let mut i = 0;
        while i < main {
            // SAFETY: i + 4 <= inner for every row k < len.
            unsafe {
                let p = x.as_ptr().add(base + i);
                let mut best = F32x4::load(p);
                let mut idx = F32x4::splat(0.0); // exact: len < 2^24 is checked by the op
                for k in 1..len {
                    let v = F32x4::load(p.add(k * inner));
                    // Take v where best is not NaN and (v > best or v is NaN), as the scalar twin does.
                    let v_nan = v.eq(v).xor(all);
                    let take = best.eq(best).and(v.gt(best).or(v_nan));
                    best = take.select(v, best);
                    idx = take.select(F32x4::splat(k as f32), idx);
                }
                let lanes = idx.to_array();
                for (l, &v) in lanes.iter().enumerate() {
                    out[o * inner + i + l] = v as i32;
                }
            }
            i += 4;
        }
        for i in main..inner {
            out[o * inner + i] = argmax_one(len, |k| x[base + k * inner + i]) as i32;
        }
    }
}

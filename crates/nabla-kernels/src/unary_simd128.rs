//! The unary kernels in `F32x4`: range reduction, polynomials fitted for f32 and the
//! exponent bits, four lanes at a time, no branches (both sides of a split are computed
//! and the lanes pick with `select`). Accuracy is measured in `unary.rs`.
//!
//! Polynomial coefficients are weighted-minimax fits (Lawson's algorithm on 200–400
//! Chebyshev nodes, 40-digit mpmath), rounded to f32 one coefficient at a time with the
//! rest refitted around the rounded ones; the weight makes the error relative to what
//! the final result feels. Each table states the function, variable, interval, weight
//! and the fit's max error with its f32 coefficients (evaluated exactly).
//!
//! Constant vectors are `F32x4::splat` of constants: after inlining they are
//! compile-time constants (`v128.const` on wasm), not per-iteration work.

use super::simd::{F32x4, I32x4};
use super::unary::{check_lengths, Unary};

pub fn unary_simd128(f: Unary, x: &[f32], out: &mut [f32]) {
    check_lengths("unary", x.len(), &[("out", out.len())]);
    match f {
        Unary::Exp => map(x, out, exp),
        Unary::Expm1 => map(x, out, expm1),
        Unary::Log => map(x, out, log),
        Unary::Log1p => map(x, out, log1p),
        Unary::Tanh => map(x, out, tanh),
        Unary::Sigmoid => map(x, out, sigmoid),
        Unary::LogSigmoid => map(x, out, log_sigmoid),
        Unary::Softplus => map(x, out, softplus),
        Unary::Erf => map(x, out, erf),
        Unary::Gelu => map(x, out, gelu),
        Unary::GeluTanh => map(x, out, gelu_tanh),
        Unary::Silu => map(x, out, silu),
    }
}

pub fn unary_backward_simd128(f: Unary, x: &[f32], y: &[f32], gy: &[f32], gx: &mut [f32]) {
    check_lengths(
        "unary_backward",
        x.len(),
        &[("y", y.len()), ("gy", gy.len()), ("gx", gx.len())],
    );
    match f {
        Unary::Exp => map3(x, y, gy, gx, |_, y, gy| gy.mul(y)),
        Unary::Expm1 => map3(x, y, gy, gx, |_, y, gy| gy.mul(y.add(splat(1.0)))),
        Unary::Log => map3(x, y, gy, gx, |x, _, gy| gy.div(x)),
        Unary::Log1p => map3(x, y, gy, gx, |x, _, gy| gy.div(splat(1.0).add(x))),
        // 1 − y², factored: exact where y is close to ±1
        Unary::Tanh => map3(x, y, gy, gx, |_, y, gy| {
            gy.mul(splat(1.0).sub(y).mul(splat(1.0).add(y)))
        }),
        Unary::Sigmoid => map3(x, y, gy, gx, |_, y, gy| gy.mul(y.mul(splat(1.0).sub(y)))),
        Unary::LogSigmoid => map3(x, y, gy, gx, |x, _, gy| gy.mul(sigmoid(x.neg()))),
        Unary::Softplus => map3(x, y, gy, gx, |x, _, gy| gy.mul(sigmoid(x))),
        Unary::Erf => map3(x, y, gy, gx, |x, _, gy| gy.mul(erf_derivative(x))),
        Unary::Gelu => map3(x, y, gy, gx, |x, _, gy| gy.mul(gelu_derivative(x))),
        Unary::GeluTanh => map3(x, y, gy, gx, |x, _, gy| gy.mul(gelu_tanh_derivative(x))),
        Unary::Silu => map3(x, y, gy, gx, |x, _, gy| gy.mul(silu_derivative(x))),
    }
}

/// `out[i] = f(x[i])`, four lanes at a time.
#[inline(always)]
fn map(x: &[f32], out: &mut [f32], f: impl Fn(F32x4) -> F32x4) {
    let (xs, os) = (x.chunks_exact(4), out.chunks_exact_mut(4));
    let tail = xs.remainder();
    for (xc, oc) in xs.zip(os) {
        // SAFETY: both chunks hold exactly four f32s.
        unsafe { f(F32x4::load(xc.as_ptr())).store(oc.as_mut_ptr()) }
    }
    // leftovers: through one padded vector, so an element's result does not depend on
    // where it sits in the slice
    let n = tail.len();
    if n > 0 {
        let start = x.len() - n;
        let mut t = [0.0f32; 4];
        t[..n].copy_from_slice(tail);
        let r = f(F32x4::from_array(t)).to_array();
        out[start..].copy_from_slice(&r[..n]);
    }
}

/// `gx[i] = f(x[i], y[i], gy[i])`, four lanes at a time.
#[inline(always)]
fn map3(
    x: &[f32],
    y: &[f32],
    gy: &[f32],
    gx: &mut [f32],
    f: impl Fn(F32x4, F32x4, F32x4) -> F32x4,
) {
    let (xs, ys, gs) = (x.chunks_exact(4), y.chunks_exact(4), gy.chunks_exact(4));
    let tails = (xs.remainder(), ys.remainder(), gs.remainder());
    for (((xc, yc), gc), oc) in xs.zip(ys).zip(gs).zip(gx.chunks_exact_mut(4)) {
        // SAFETY: all four chunks hold exactly four f32s.
        unsafe {
            let (x, y, g) = (
                F32x4::load(xc.as_ptr()),
                F32x4::load(yc.as_ptr()),
                F32x4::load(gc.as_ptr()),
            );
            f(x, y, g).store(oc.as_mut_ptr())
        }
    }
    // leftovers: padded, as in `map`
    let n = tails.0.len();
    if n > 0 {
        let pad = |s: &[f32]| {
            let mut t = [0.0f32; 4];
            t[..n].copy_from_slice(s);
            F32x4::from_array(t)
        };
        let r = f(pad(tails.0), pad(tails.1), pad(tails.2)).to_array();
        let start = x.len() - n;
        gx[start..].copy_from_slice(&r[..n]);
    }
}

#[inline(always)]
fn splat(c: f32) -> F32x4 {
    F32x4::splat(c)
}

#[inline(always)]
fn splat_i(c: i32) -> I32x4 {
    I32x4::splat(c)
}

/// `c[0] + c[1]·x + … + c[N−1]·x^(N−1)` by Horner's rule.
#[inline(always)]
fn poly<const N: usize>(x: F32x4, c: &[f32; N]) -> F32x4 {
    let mut acc = splat(c[N - 1]);
    for k in (0..N - 1).rev() {
        acc = splat(c[k]).mul_add(acc, x);
    }
    acc
}

const SIGN: i32 = i32::MIN;

/// `r` (sign bit clear) with the sign of `s`.
#[inline(always)]
fn with_sign_of(r: F32x4, s: F32x4) -> F32x4 {
    r.to_bits().or(s.to_bits().and(splat_i(SIGN))).to_bits_f32()
}

/// `2^n` for integer lanes `n` in [−126, 127].
#[inline(always)]
fn pow2(n: I32x4) -> F32x4 {
    n.add(splat_i(127)).shl(23).to_bits_f32()
}

/// `v` split into `hi + lo` with `hi` the top 12 significant bits, so products of two
/// such halves are exact (Dekker). `lo` is exact too.
#[inline(always)]
fn split(v: F32x4) -> (F32x4, F32x4) {
    let hi = v.to_bits().and(splat_i(-4096)).to_bits_f32();
    (hi, v.sub(hi))
}

/// `−u²` as `hi + lo`, `hi` exact and `|lo| ≤ 2^−11·u²` (error ~2^−35·u²), for arguments
/// of `exp` where rounding `u²` to f32 would cost up to 64 ulp.
#[inline(always)]
fn neg_square(u: F32x4) -> (F32x4, F32x4) {
    let (uh, ul) = split(u);
    (uh.mul(uh).neg(), ul.mul(u.add(uh)).neg())
}

// ---- exp ---------------------------------------------------------------------------

const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 for Cody–Waite reduction: `LN2_HI` = 45426·2⁻¹⁶ has 16 significant bits, so
/// `n·LN2_HI` is exact for |n| < 256; `LN2_LO` = ln 2 − `LN2_HI`.
const LN2_HI: f32 = 45426.0 / 65536.0;
const LN2_LO: f32 = 1.428_606_8e-6;

/// `(e^r − 1 − r − r²/2)/r³` on |r| ≤ 0.3467 (a bit over ln2/2), weighted by r² (error
/// relative to e^r − 1): max 4.2e−10.
const EXPM1_Q: [f32; 5] = [
    0.16666667,
    0.04166649,
    0.008333208,
    0.0013932671,
    0.00019944269,
];

/// `e^r − 1` for |r| ≤ 0.3467, as `r + r²·(1/2 + r·Q(r))`: the leading `r` is exact,
/// so the result is accurate relative to itself even near 0.
#[inline(always)]
fn expm1_poly(r: F32x4) -> F32x4 {
    let q = splat(0.5).mul_add(r, poly(r, &EXPM1_Q));
    r.mul_add(r.mul(r), q)
}

/// `x = n·ln2 + r`, |r| ≤ ln2/2, for `x` clamped to [−150, 89]; returns `(n, e^r − 1)`.
/// `lo` is a small extra term of the argument (`x + lo`), added after the exact
/// subtraction of `n·LN2_HI`.
#[inline(always)]
fn exp_reduce(x: F32x4, lo: F32x4) -> (F32x4, F32x4) {
    // pmin/pmax keep a NaN in `x`
    let x = x.min(splat(89.0)).max(splat(-150.0));
    let n = x.mul(splat(LOG2_E)).round();
    let r = x
        .sub(n.mul(splat(LN2_HI)))
        .sub(n.mul(splat(LN2_LO)).sub(lo));
    (n, expm1_poly(r))
}

/// `e^(hi + lo)` as `q·s1·s2` with `q` ∈ [0.7, 1.42] and `s1`, `s2` powers of two, so a
/// caller can fold a factor into `q` before the last, possibly subnormal, scaling and
/// round only once: `((q·m)·s1)·s2` is `m·e^x` correctly down to the smallest subnormal.
/// `hi` ≥ 89 gives +∞ and `hi` ≤ −150 gives 0 (beyond f32 either way); NaN stays NaN.
#[inline(always)]
fn exp_parts(hi: F32x4, lo: F32x4) -> (F32x4, F32x4, F32x4) {
    let (n, p) = exp_reduce(hi, lo);
    // n ∈ [−216, 128] (0 for NaN): two factors 2^(n>>1) and 2^(n − n>>1), both normal
    let n = n.to_i32();
    let n1 = n.shr(1);
    (splat(1.0).add(p), pow2(n1), pow2(n.sub(n1)))
}

#[inline(always)]
fn exp_from_parts((q, s1, s2): (F32x4, F32x4, F32x4)) -> F32x4 {
    q.mul(s1).mul(s2)
}

/// `m·e^x` from [`exp_parts`], rounded once.
#[inline(always)]
fn mul_exp_parts(m: F32x4, (q, s1, s2): (F32x4, F32x4, F32x4)) -> F32x4 {
    q.mul(m).mul(s1).mul(s2)
}

#[inline(always)]
fn exp(x: F32x4) -> F32x4 {
    exp_from_parts(exp_parts(x, splat(0.0)))
}

/// `e^x − 1 = 2^n·(e^r − 1) + (2^n − 1)`, written `2·(s·p + (s − ½))` with `s = 2^(n−1)`
/// so that `n = 128` (x just below the overflow threshold) needs no 2^128.
#[inline(always)]
fn expm1(x: F32x4) -> F32x4 {
    // below −30, e^x − 1 rounds to −1
    let (n, p) = exp_reduce(x.max(splat(-30.0)), splat(0.0));
    let s = pow2(n.to_i32().sub(splat_i(1)));
    let r = s.mul(p).add(s.sub(splat(0.5))).mul(splat(2.0));
    // |x| < 2^−25: e^x − 1 rounds to x (this keeps −0 and subnormals exact)
    x.abs().lt(splat(2.980_232_2e-8)).select(x, r)
}

// ---- log ---------------------------------------------------------------------------

/// `R(z)/z` where `log(1+f) = 2·atanh(s) = 2s + s·R(z)`, `s = f/(2+f)`, `z = s²` ∈
/// [0, 0.02944] (f ∈ [√½−1, √2−1)), weighted by z: max 5.0e−11.
const LOG_R: [f32; 4] = [0.6666666, 0.40000972, 0.28498787, 0.24279244];

/// Splits positive normal `u` into `(k, m − 1)` with `u = m·2^k`, m ∈ [√½, √2).
#[inline(always)]
fn split_mantissa(u: F32x4) -> (I32x4, F32x4) {
    const SQRT_HALF_BITS: i32 = 0x3f35_04f3;
    // adding 1.0 − √½ to the bits carries into the exponent exactly when m ≥ √2
    let ix = u.to_bits().add(splat_i(0x3f80_0000 - SQRT_HALF_BITS));
    let k = ix.shr(23).sub(splat_i(127));
    let m = ix
        .and(splat_i(0x007f_ffff))
        .add(splat_i(SQRT_HALF_BITS))
        .to_bits_f32();
    (k, m.sub(splat(1.0)))
}

/// `log(1 + f) + k·ln2 + c` for f ∈ [√½−1, √2−1) and a small correction `c`.
/// With `hfsq = f²/2`: `log(1+f) = f − hfsq + s·(hfsq + R)`, summed small to large.
#[inline(always)]
fn log_core(f: F32x4, k: F32x4, c: F32x4) -> F32x4 {
    let s = f.div(splat(2.0).add(f));
    let z = s.mul(s);
    let r = z.mul(poly(z, &LOG_R));
    let hfsq = splat(0.5).mul(f).mul(f);
    s.mul(hfsq.add(r))
        .add(k.mul(splat(LN2_LO)).add(c))
        .sub(hfsq)
        .add(f)
        .add(k.mul(splat(LN2_HI)))
}

#[inline(always)]
fn log(x: F32x4) -> F32x4 {
    // subnormals: scale by 2^25 first
    let tiny = x.lt(splat(f32::MIN_POSITIVE));
    let u = tiny.select(x.mul(splat(33_554_432.0)), x);
    let (k, f) = split_mantissa(u);
    let k = k.sub(tiny.and(splat_i(25)));
    let r = log_core(f, k.to_f32(), splat(0.0));
    // x = ±0: −∞; x < 0: NaN; +∞ and NaN: themselves
    let special = x.eq(splat(0.0)).select(
        splat(f32::NEG_INFINITY),
        x.lt(splat(0.0)).select(splat(f32::NAN), x),
    );
    x.gt(splat(0.0))
        .and(x.lt(splat(f32::INFINITY)))
        .select(r, special)
}

/// `log1p` without the special cases: for x in (−1, ∞) and NaN. `u = 1 + x` is rounded;
/// `c = (1 + x − u)/u` puts the lost bits back (log(1+x) ≈ log(u) + c).
#[inline(always)]
fn log1p_finite(x: F32x4) -> F32x4 {
    let u = splat(1.0).add(x);
    let (k, f) = split_mantissa(u);
    let k = k.to_f32();
    // 1 + x − u exactly: by `x − (u − 1)` while u < 2√2, by `1 − (u − x)` above
    let c = k
        .ge(splat(2.0))
        .select(splat(1.0).sub(u.sub(x)), x.sub(u.sub(splat(1.0))))
        .div(u);
    log_core(f, k, c)
}

#[inline(always)]
fn log1p(x: F32x4) -> F32x4 {
    // |x| < 2^−24: log1p(x) rounds to x (this keeps −0 and subnormals exact)
    let r = x.abs().lt(splat(5.960_464_5e-8)).select(x, log1p_finite(x));
    // x = −1: −∞; x < −1: NaN; +∞ and NaN: themselves
    let special = x.eq(splat(-1.0)).select(
        splat(f32::NEG_INFINITY),
        x.lt(splat(-1.0)).select(splat(f32::NAN), x),
    );
    x.gt(splat(-1.0))
        .and(x.lt(splat(f32::INFINITY)))
        .select(r, special)
}

// ---- tanh, sigmoid and friends ------------------------------------------------------

/// `(tanh(a)/a − 1)/z`, `z = a²` ∈ [0, 0.625²], weighted by z: max 1.6e−10.
const TANH_P: [f32; 6] = [
    -0.3333333,
    0.13333222,
    -0.053948462,
    0.02170875,
    -0.008195086,
    0.0021576358,
];

/// tanh(x) = `a + a·z·P(z)` for |x| < 0.625, else `1 − 2/(1 + e^2|x|)` (≥ 0.55, so the
/// subtraction loses nothing); the sign is put back last, so tanh(−0) = −0. For
/// |x| > 9.01, e^2|x| is large enough (or +∞) that the result is exactly 1.
#[inline(always)]
fn tanh(x: F32x4) -> F32x4 {
    let a = x.abs();
    let z = a.mul(a);
    let small = a.mul_add(a.mul(z), poly(z, &TANH_P));
    let e = exp(a.add(a));
    let large = splat(1.0).sub(splat(2.0).div(splat(1.0).add(e)));
    with_sign_of(a.lt(splat(0.625)).select(small, large), x)
}

/// σ(x) = `1/(1 + e)` for x ≥ 0 and `e/(1 + e)` for x < 0, with `e = e^−|x|` ≤ 1: no
/// overflow on either side, and exact subnormal results far left.
#[inline(always)]
fn sigmoid(x: F32x4) -> F32x4 {
    let e = exp(x.abs().neg());
    x.lt(splat(0.0))
        .select(e, splat(1.0))
        .div(splat(1.0).add(e))
}

/// `x·σ(z)` for `z` of the sign of `x`, given `−|z|` as `hi + lo`: `x/(1 + e)` for x ≥ 0
/// and `x·e/(1 + e)` for x < 0, `e = e^−|z|`, with `x·e` rounded once (so subnormal
/// results are exact too). `x` below −150 is raised to −150, where `x·e` is 0 anyway:
/// that makes x = −∞ give −0 (the limit) instead of −∞·0.
#[inline(always)]
fn x_sigmoid(x: F32x4, hi: F32x4, lo: F32x4) -> F32x4 {
    let parts = exp_parts(hi, lo);
    let e = exp_from_parts(parts);
    let xe = mul_exp_parts(x.max(splat(-150.0)), parts);
    x.lt(splat(0.0)).select(xe, x).div(splat(1.0).add(e))
}

#[inline(always)]
fn silu(x: F32x4) -> F32x4 {
    x_sigmoid(x, x.abs().neg(), splat(0.0))
}

/// log σ(x) = `min(x, 0) − log1p(e^−|x|)`.
#[inline(always)]
fn log_sigmoid(x: F32x4) -> F32x4 {
    x.min(splat(0.0)).sub(log1p_finite(exp(x.abs().neg())))
}

/// softplus(x) = log(1 + e^x) = `max(x, 0) + log1p(e^−|x|)`.
#[inline(always)]
fn softplus(x: F32x4) -> F32x4 {
    x.max(splat(0.0)).add(log1p_finite(exp(x.abs().neg())))
}

/// σ(x)·(1 + x·(1 − σ(x))), with σ and 1 − σ each from `e = e^−|x|` (no cancellation).
#[inline(always)]
fn silu_derivative(x: F32x4) -> F32x4 {
    // beyond ±150, σ is exactly 0 or 1 and x·(1 − σ) would be ∞·0
    let x = x.max(splat(-150.0)).min(splat(150.0));
    let e = exp(x.abs().neg());
    let d = splat(1.0).add(e);
    let neg = x.lt(splat(0.0));
    let s = neg.select(e, splat(1.0)).div(d);
    let one_minus_s = neg.select(splat(1.0), e).div(d);
    s.mul(splat(1.0).add(x.mul(one_minus_s)))
}

// ---- geluTanh -----------------------------------------------------------------------

/// geluTanh(x) = x·(1 + tanh y)/2 = x·σ(2y), `2y = x·(A + B·x²)` with A = 2·√(2/π) and
/// B = 0.044715·A, each as an f32 pair `HI + LO`; `B_HI` has 12 significant bits so
/// `B_HI·v` splits exactly.
const GT_A_HI: f32 = 1.595_769_2;
const GT_A_LO: f32 = -4.534_068e-8;
const GT_B_HI: f32 = 2338.0 / 32768.0;
const GT_B_LO: f32 = 4.718_616_3e-6;

/// `|2y| = a·(A + B·a²)` for `a = |x|` ≤ 20, as `hi + lo` in double-f32 (relative error
/// ~2^−40). In plain f32 the argument would carry a relative error of a few 2^−24, and
/// e^−|2y| would inherit it times |2y| (up to ~100): some 200 ulp in the left tail.
#[inline(always)]
fn gelu_tanh_arg(a: F32x4) -> (F32x4, F32x4) {
    // a² = s + s_lo exactly (Dekker's product)
    let (ah, al) = split(a);
    let s = a.mul(a);
    let ahal = ah.mul(al);
    let s_lo = ah.mul(ah).sub(s).add(ahal.add(ahal)).add(al.mul(al));
    // B·a² = p + p_lo
    let b_hi = splat(GT_B_HI);
    let (sh, sl) = split(s);
    let p = b_hi.mul(s);
    let p_lo = b_hi
        .mul(sh)
        .sub(p)
        .add(b_hi.mul(sl))
        .add(b_hi.mul(s_lo).add(splat(GT_B_LO).mul(s)));
    // A + B·a² = q + q_lo (Knuth's two-sum for the high parts)
    let a_hi = splat(GT_A_HI);
    let q = a_hi.add(p);
    let bv = q.sub(a_hi);
    let q_err = a_hi.sub(q.sub(bv)).add(p.sub(bv));
    let q_lo = q_err.add(splat(GT_A_LO).add(p_lo));
    // a·(q + q_lo) = hi + lo
    let hi = a.mul(q);
    let (qh, ql) = split(q);
    let err = ah
        .mul(qh)
        .sub(hi)
        .add(ah.mul(ql))
        .add(al.mul(qh))
        .add(al.mul(ql));
    (hi, err.add(a.mul(q_lo)))
}

#[inline(always)]
fn gelu_tanh(x: F32x4) -> F32x4 {
    // beyond |x| = 20, σ(2y) is exactly 0 or 1; the bound keeps ∞ out of the pairs
    let (hi, lo) = gelu_tanh_arg(x.abs().min(splat(20.0)));
    x_sigmoid(x, hi.neg(), lo.neg())
}

/// σ(z) + x·σ(z)·(1 − σ(z))·z', `z = 2y`, `z' = A + 3B·x²`; σ(1 − σ) = e/(1 + e)².
#[inline(always)]
fn gelu_tanh_derivative(x: F32x4) -> F32x4 {
    let x = x.max(splat(-20.0)).min(splat(20.0));
    let (hi, lo) = gelu_tanh_arg(x.abs());
    let e = exp_from_parts(exp_parts(hi.neg(), lo.neg()));
    let d = splat(1.0).add(e);
    let s = x.lt(splat(0.0)).select(e, splat(1.0)).div(d);
    let s1s = e.div(d.mul(d));
    let dz = splat(GT_A_HI).add(splat(3.0 * (GT_B_HI + GT_B_LO)).mul(x.mul(x)));
    s.add(x.mul(s1s).mul(dz))
}

// ---- erf ----------------------------------------------------------------------------

/// `erf(z)/z − 1` as a polynomial in `s = z²` ∈ [0, 0.875²]: max 9.7e−10.
const ERF_P: [f32; 7] = [
    0.12837917,
    -0.3761263,
    0.11283623,
    -0.026855325,
    0.005190723,
    -0.0008022466,
    7.844385e-5,
];

/// `log(erfc(z)) + z²` on z ∈ [0.875, 4], weighted by erfc(z)/erf(z) (its effect on
/// erf): max 8.6e−11.
const ERF_L: [f32; 8] = [
    0.00016203041,
    -1.1294532,
    0.36652654,
    -0.108139,
    0.02502708,
    -0.0041355984,
    0.0004270673,
    -2.0449317e-5,
];

/// erf(x) = `z + z·P(z²)` for |x| < 0.875, else `1 − e^(L(z) − z²)`, z = |x| ≤ 4
/// (erfc(z) < 2^−25 beyond 3.92, so erf rounds to 1). erfc ≤ 0.22 there, so its small
/// relative errors barely reach erf, and −z² needs no extra precision.
#[inline(always)]
fn erf(x: F32x4) -> F32x4 {
    let a = x.abs();
    let small = a.mul_add(a, poly(a.mul(a), &ERF_P));
    let z = a.min(splat(4.0));
    let large = splat(1.0).sub(exp(poly(z, &ERF_L).sub(z.mul(z))));
    with_sign_of(a.lt(splat(0.875)).select(small, large), x)
}

/// erf'(x) = 2/√π·e^−x², with −x² carried exactly into the exponential.
#[inline(always)]
fn erf_derivative(x: F32x4) -> F32x4 {
    // e^−121 is 0 in f32; the bound keeps ∞ out of the square
    let (hi, lo) = neg_square(x.abs().min(splat(11.0)));
    mul_exp_parts(splat(std::f32::consts::FRAC_2_SQRT_PI), exp_parts(hi, lo))
}

// ---- gelu ---------------------------------------------------------------------------

/// `(Φ(x) − ½)/x` as a polynomial in `s = x²` ∈ [0, 0.75²], weighted by |x|/Φ(−|x|)
/// (its effect on gelu relative to itself): max 1.9e−9.
const GELU_E: [f32; 6] = [
    0.3989423,
    -0.06649074,
    0.009976871,
    -0.0012000195,
    0.0001367954,
    -2.2188633e-5,
];

/// `G(u) = u·Φ(−u)·e^(u²/2)`, so that u·Φ(−u) = e^(−u²/2)·G(u), in two pieces. Near:
/// u ∈ [0.75, 2.5] as a polynomial in `u − 1.625` (exact input: a divided variable
/// would pass its rounding on, amplified, where G is steep), relative error 2.5e−8.
const GELU_G_NEAR: [f32; 11] = [
    0.31691256,
    0.061724804,
    -0.031878803,
    0.013594948,
    -0.005098392,
    0.0017405613,
    -0.00056612736,
    0.00016130916,
    -2.0920053e-5,
    1.3767185e-5,
    -1.5863126e-5,
];
const GELU_G_NEAR_CENTER: f32 = 1.625;
/// Far: u ∈ [2.5, 15] as a polynomial in `t − GELU_G_FAR_CENTER`, `t = 1/(1 + 0.3·u)`
/// (G flattens towards 1/√(2π) like 1 − 1/u², which a polynomial in u follows badly),
/// relative error 5.1e−9. Beyond 15, e^(−u²/2) is 0 in f32 and G does not matter.
const GELU_G_FAR: [f32; 8] = [
    0.38695395,
    -0.09383221,
    -0.2884363,
    -0.48269516,
    -0.5203419,
    -0.30847752,
    0.029873712,
    0.18325907,
];
const GELU_G_FAR_CENTER: f32 = 0.376_623_36;
const GELU_G_FAR_P: f32 = 0.3;
/// 1/√(2π), the standard normal density at 0.
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

/// `u·Φ(−u)` for u = |x| ≥ 0.75 as `e^(−u²/2)·G(u)`, with −u²/2 carried exactly into the
/// exponential (where gelu is tiny, all its relative error sits in that factor), and the
/// exponential's parts.
#[inline(always)]
fn gelu_tail(u: F32x4) -> (F32x4, (F32x4, F32x4, F32x4)) {
    let (hi, lo) = neg_square(u);
    let parts = exp_parts(hi.mul(splat(0.5)), lo.mul(splat(0.5)));
    let near = poly(u.sub(splat(GELU_G_NEAR_CENTER)), &GELU_G_NEAR);
    let t = splat(1.0).div(splat(1.0).mul_add(splat(GELU_G_FAR_P), u));
    let far = poly(t.sub(splat(GELU_G_FAR_CENTER)), &GELU_G_FAR);
    let g = u.lt(splat(2.5)).select(near, far);
    (mul_exp_parts(g, parts), parts)
}

/// gelu(x) = x·Φ(x): `x/2 + x²·E(x²)` for |x| < 0.75; else `x − u·Φ(−u)` for x > 0 and
/// `−u·Φ(−u)` for x < 0 (u = |x|), never `1 + erf` across a cancellation.
#[inline(always)]
fn gelu(x: F32x4) -> F32x4 {
    let s = x.mul(x);
    let small = splat(0.5).mul(x).add(s.mul(poly(s, &GELU_E)));
    // e^−200 is 0 in f32: the bound keeps ∞ out of the square
    let (tail, _) = gelu_tail(x.abs().min(splat(20.0)));
    // −(tail − max(x, 0)) rather than max(x, 0) − tail so that x = −∞ gives −0
    let large = tail.sub(x.max(splat(0.0))).neg();
    let r = x.abs().lt(splat(0.75)).select(small, large);
    // −0 stays −0 (½x + 0 would be +0)
    x.eq(splat(0.0)).select(x, r)
}

/// gelu'(x) = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π); Φ(x) = ½ + x·E(x²) for |x| < 0.75,
/// else from u·Φ(−u) / u.
#[inline(always)]
fn gelu_derivative(x: F32x4) -> F32x4 {
    let x = x.max(splat(-20.0)).min(splat(20.0));
    let u = x.abs();
    let (tail, parts) = gelu_tail(u);
    let cdf_left = tail.div(u);
    let cdf_large = x.lt(splat(0.0)).select(cdf_left, splat(1.0).sub(cdf_left));
    let cdf_small = splat(0.5).mul_add(x, poly(x.mul(x), &GELU_E));
    let cdf = u.lt(splat(0.75)).select(cdf_small, cdf_large);
    cdf.add(mul_exp_parts(x.mul(splat(FRAC_1_SQRT_2PI)), parts))
}

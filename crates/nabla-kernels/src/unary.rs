//! Elementwise math: `out = f(x)` for the [`Unary`] functions, and the fused backward
//! pass `gx = gy·f'(x)`. SIMD128 approximations (range reduction and fitted polynomials,
//! `unary_simd128.rs`) with a scalar `std`/`libm` twin (`unary_scalar.rs`).
//!
//! # Accuracy
//!
//! Max error in ulp: f32 steps between the result and the truth rounded to f32, where
//! the truth is the f64 formula (`std`; `libm` for erf/erfc) in the stable form the
//! variant documents. Measured over **every** f32 input (all 2³² bit patterns; NaN
//! must stay NaN; `tests::accuracy_table`, 17 minutes on two cores). The tests assert
//! these exact numbers (a ~1M-input sweep on every run), so a regression fails.
//!
//! | function   | inputs             | SIMD | scalar | scalar absolute error |
//! |------------|--------------------|-----:|-------:|-----------------------|
//! | exp        | all                |    1 |      1 |                       |
//! | expm1      | all                |    1 |      1 |                       |
//! | log        | all                |    1 |      1 |                       |
//! | log1p      | all                |    1 |      1 |                       |
//! | tanh       | all                |    1 |      2 |                       |
//! | sigmoid    | all                |    2 |      2 |                       |
//! | logSigmoid | all                |    2 |      2 |                       |
//! | softplus   | all                |    2 |      2 |                       |
//! | erf        | all                |    1 |      1 |                       |
//! | gelu       | x > −1.5           |    3 |      4 |                       |
//! | gelu       | −5 < x ≤ −1.5      |    3 |     24 | ≤ 3.3e−8              |
//! | gelu       | x ≤ −5             |    2 |    199 | ≤ 2.1e−12             |
//! | geluTanh   | x > −1.5           |    3 |      6 |                       |
//! | geluTanh   | −5 < x ≤ −1.5      |    3 |     38 | ≤ 4.3e−8              |
//! | geluTanh   | x ≤ −5             |    2 |    271 | ≤ 5.4e−13             |
//! | silu       | x > −87.34         |    3 |      3 |                       |
//! | silu       | x ≤ −87.34         |    2 |     52 | ≤ 1.1e−43             |
//!
//! The SIMD bounds hold for every input, near the zero crossings too (x = 1 for log,
//! x = 0 for the others: the reductions keep the leading term exact) and for subnormal
//! results (rounded once, from a normal intermediate). The scalar twin is plain f32 and
//! loses in three places, all where the result is tiny:
//! gelu computes erfc(−x/√2) from a rounded argument and geluTanh rounds its tanh
//! argument, so both inherit a relative error of about x²·2⁻²⁴ (the SIMD versions carry
//! those arguments exactly, in two f32s); silu multiplies x by a subnormal e^x.
//! SIMD and scalar results are held within the sum of their bounds of each other.
//!
//! # Derivatives
//!
//! `unary_backward` takes f'(x) from `y = f(x)` where that is exact and cheap (exp: y,
//! expm1: y + 1, tanh: (1 − y)(1 + y), sigmoid: y(1 − y)) and from `x` elsewhere (log:
//! 1/x, log1p: 1/(1 + x), logSigmoid: σ(−x), softplus: σ(x), erf: 2/√π·e^(−x²), gelu:
//! Φ(x) + x·φ(x), geluTanh: σ(z) + x·σ(z)·(1 − σ(z))·z' with z = 2·√(2/π)·(x +
//! 0.044715·x³), silu: σ(x)·(1 + x·(1 − σ(x)))). Both twins are tested against central
//! differences of the f64 forward: relative 1e−5, plus 2e−7·|gy| where f' is near 0.
//!
//! NOTE: at x = −∞, gelu, geluTanh and silu return −0 (the limit), where PyTorch's
//! formulas give NaN (−∞·0).

pub use super::unary_scalar::{unary_backward_scalar, unary_scalar};
pub use super::unary_simd128::{unary_backward_simd128, unary_simd128};
use super::{mode, Mode};

/// An elementwise function with a fused derivative.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unary {
    /// e^x
    Exp,
    /// e^x − 1, accurate near 0
    Expm1,
    /// ln x
    Log,
    /// ln(1 + x), accurate near 0
    Log1p,
    Tanh,
    /// σ(x) = 1/(1 + e^−x)
    Sigmoid,
    /// log σ(x) = −softplus(−x)
    LogSigmoid,
    /// log(1 + e^x) = max(x, 0) + log1p(e^−|x|). See: `torch.nn.functional.softplus`
    /// with `beta = 1` and no linear threshold.
    Softplus,
    Erf,
    /// x·Φ(x) = x·(1 + erf(x/√2))/2. See: `torch.nn.functional.gelu(approximate='none')`.
    Gelu,
    /// x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2. See: `gelu(approximate='tanh')`.
    GeluTanh,
    /// x·σ(x), a.k.a. swish.
    Silu,
}

impl Unary {
    pub const ALL: [Unary; 12] = [
        Unary::Exp,
        Unary::Expm1,
        Unary::Log,
        Unary::Log1p,
        Unary::Tanh,
        Unary::Sigmoid,
        Unary::LogSigmoid,
        Unary::Softplus,
        Unary::Erf,
        Unary::Gelu,
        Unary::GeluTanh,
        Unary::Silu,
    ];

    /// The public (JavaScript) name.
    pub fn name(self) -> &'static str {
        match self {
            Unary::Exp => "exp",
            Unary::Expm1 => "expm1",
            Unary::Log => "log",
            Unary::Log1p => "log1p",
            Unary::Tanh => "tanh",
            Unary::Sigmoid => "sigmoid",
            Unary::LogSigmoid => "logSigmoid",
            Unary::Softplus => "softplus",
            Unary::Erf => "erf",
            Unary::Gelu => "gelu",
            Unary::GeluTanh => "geluTanh",
            Unary::Silu => "silu",
        }
    }

    /// The function with public name `name`, if any.
    pub fn from_name(name: &str) -> Option<Unary> {
        Unary::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// `out[i] = f(x[i])`. Panics if the lengths differ (callers validate shapes).
pub fn unary(f: Unary, x: &[f32], out: &mut [f32]) {
    match mode() {
        Mode::Simd => unary_simd128(f, x, out),
        Mode::Scalar => unary_scalar(f, x, out),
    }
}

/// `gx[i] = gy[i]·f'(x[i])`, where `y = f(x)` from the forward pass (some derivatives
/// are cheaper and exact from `y`). Panics if the lengths differ.
pub fn unary_backward(f: Unary, x: &[f32], y: &[f32], gy: &[f32], gx: &mut [f32]) {
    match mode() {
        Mode::Simd => unary_backward_simd128(f, x, y, gy, gx),
        Mode::Scalar => unary_backward_scalar(f, x, y, gy, gx),
    }
}

/// Panics unless every `(name, len)` in `others` has length `n`: a kernel precondition.
pub(super) fn check_lengths(op: &str, n: usize, others: &[(&str, usize)]) {
    for &(name, len) in others {
        assert_eq!(len, n, "{op}: `{name}` has length {len} but `x` has {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::with_mode;
    use proptest::prelude::*;
    use std::f64::consts::{FRAC_1_SQRT_2, PI};

    // ---- the truth: f64 formulas, rounded to f32 -----------------------------------

    fn sigmoid64(x: f64) -> f64 {
        let e = (-x.abs()).exp();
        if x < 0.0 {
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + e)
        }
    }

    fn softplus64(x: f64) -> f64 {
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }

    /// `f(x)` in f64 from the stable forms; −∞ gives the limits the kernels promise.
    fn truth64(f: Unary, x: f64) -> f64 {
        if x.is_nan() {
            return x;
        }
        let limit_at_minus_inf = matches!(f, Unary::Gelu | Unary::GeluTanh | Unary::Silu);
        if x == f64::NEG_INFINITY && limit_at_minus_inf {
            return -0.0;
        }
        match f {
            Unary::Exp => x.exp(),
            Unary::Expm1 => x.exp_m1(),
            Unary::Log => x.ln(),
            Unary::Log1p => x.ln_1p(),
            Unary::Tanh => x.tanh(),
            Unary::Sigmoid => sigmoid64(x),
            Unary::LogSigmoid => -softplus64(-x),
            Unary::Softplus => softplus64(x),
            Unary::Erf => libm::erf(x),
            Unary::Gelu => 0.5 * x * libm::erfc(-x * FRAC_1_SQRT_2),
            Unary::GeluTanh => {
                let k = (2.0 / PI).sqrt();
                x * sigmoid64(2.0 * k * (x + 0.044715 * x * x * x))
            }
            Unary::Silu => x * sigmoid64(x),
        }
    }

    /// Distance in f32 steps: bit patterns mapped onto a line ordered like the reals
    /// (±0 both at 0). NaN is at distance 0 from NaN and infinitely far from the rest.
    fn ulps(a: f32, b: f32) -> u64 {
        if a.is_nan() || b.is_nan() {
            return if a.is_nan() && b.is_nan() {
                0
            } else {
                u64::MAX
            };
        }
        let ord = |v: f32| {
            let m = (v.to_bits() & 0x7fff_ffff) as i64;
            if v.is_sign_negative() {
                -m
            } else {
                m
            }
        };
        (ord(a) - ord(b)).unsigned_abs()
    }

    // ---- the documented bounds ---------------------------------------------------------

    /// Max ulp error against the truth for x in `[from, to]`, per twin (a region's
    /// first listed bound wins at a shared end).
    #[derive(Clone, Copy, Debug)]
    struct Bound {
        f: Unary,
        from: f32,
        to: f32,
        simd: u64,
        scalar: u64,
    }

    const INF: f32 = f32::INFINITY;

    const fn b(f: Unary, from: f32, to: f32, simd: u64, scalar: u64) -> Bound {
        Bound {
            f,
            from,
            to,
            simd,
            scalar,
        }
    }

    /// The table in the module docs; for each function the regions cover every x.
    const BOUNDS: &[Bound] = &[
        b(Unary::Exp, -INF, INF, 1, 1),
        b(Unary::Expm1, -INF, INF, 1, 1),
        b(Unary::Log, -INF, INF, 1, 1),
        b(Unary::Log1p, -INF, INF, 1, 1),
        b(Unary::Tanh, -INF, INF, 1, 2),
        b(Unary::Sigmoid, -INF, INF, 2, 2),
        b(Unary::LogSigmoid, -INF, INF, 2, 2),
        b(Unary::Softplus, -INF, INF, 2, 2),
        b(Unary::Erf, -INF, INF, 1, 1),
        b(Unary::Gelu, -INF, -5.0, 2, 199),
        b(Unary::Gelu, -5.0, -1.5, 3, 24),
        b(Unary::Gelu, -1.5, INF, 3, 4),
        b(Unary::GeluTanh, -INF, -5.0, 2, 271),
        b(Unary::GeluTanh, -5.0, -1.5, 3, 38),
        b(Unary::GeluTanh, -1.5, INF, 3, 6),
        b(Unary::Silu, -INF, -87.336_55, 2, 52),
        b(Unary::Silu, -87.336_55, INF, 3, 3),
    ];

    fn bound_index(f: Unary, x: f32) -> usize {
        BOUNDS
            .iter()
            .position(|b| b.f == f && (x.is_nan() || (b.from <= x && x <= b.to)))
            .unwrap_or_else(|| panic!("{}: no bound covers {x}", f.name()))
    }

    /// How far apart the twins may be at `x`: both within their bounds of the truth.
    fn twin_tolerance(f: Unary, x: f32) -> u64 {
        let b = BOUNDS[bound_index(f, x)];
        b.simd + b.scalar
    }

    // ---- measuring ---------------------------------------------------------------------

    /// ±0, ±tiny, subnormals, ±1, large, ±∞, NaN, and the functions' edges.
    fn special_values() -> Vec<f32> {
        let mut v = vec![
            0.0,
            f32::from_bits(1),
            f32::from_bits(0x007f_ffff),
            f32::MIN_POSITIVE,
            1e-30,
            1e-10,
            2.980_232_2e-8,
            5.960_464_5e-8,
            1e-7,
            1e-4,
            0.5,
            0.625,
            0.75,
            0.875,
            1.0,
            1.5,
            2.0,
            2.5,
            3.92,
            4.0,
            5.0,
            9.0,
            15.0,
            20.0,
            30.0,
            87.336_55,
            88.72,
            88.722_83,
            88.722_84,
            89.0,
            103.97,
            104.0,
            150.0,
            1e10,
            1e30,
            f32::MAX,
            INF,
        ];
        v.extend(v.clone().iter().map(|x| -x));
        v.extend([
            f32::NAN,
            -f32::NAN,
            -0.999_999_94,
            f32::EPSILON,
            1.0 + f32::EPSILON,
        ]);
        v
    }

    /// Per bound: max ulp error and where, max absolute error, for SIMD then scalar.
    #[derive(Clone, Copy, Default)]
    struct Worst {
        ulps: u64,
        at: f32,
        abs: f64,
    }

    type Stats = Vec<[Worst; 2]>;

    fn new_stats() -> Stats {
        vec![[Worst::default(); 2]; BOUNDS.len()]
    }

    fn fold(w: &mut Worst, e: Worst) {
        if e.ulps > w.ulps {
            (w.ulps, w.at) = (e.ulps, e.at);
        }
        if e.abs > w.abs {
            w.abs = e.abs;
        }
    }

    /// Runs both twins on `xs` and folds their errors into `stats`.
    fn measure(xs: &[f32], stats: &mut Stats) {
        let mut outs = [vec![0.0; xs.len()], vec![0.0; xs.len()]];
        for f in Unary::ALL {
            unary_simd128(f, xs, &mut outs[0]);
            unary_scalar(f, xs, &mut outs[1]);
            for (i, &x) in xs.iter().enumerate() {
                let want = truth64(f, x as f64);
                let k = bound_index(f, x);
                for t in 0..2 {
                    let got = outs[t][i];
                    // against the unrounded truth; 0 where the twin hits it (±∞ included)
                    let abs = if got == want as f32 || (got.is_nan() && want.is_nan()) {
                        0.0
                    } else {
                        (got as f64 - want).abs()
                    };
                    let e = Worst {
                        ulps: ulps(got, want as f32),
                        at: x,
                        abs: if abs.is_nan() { f64::INFINITY } else { abs },
                    };
                    fold(&mut stats[k][t], e);
                }
            }
        }
    }

    /// Every `stride`-th f32 bit pattern (NaNs skipped) plus the special values.
    fn sweep(stride: u32, threads: u32) -> Stats {
        let mut stats = new_stats();
        measure(&special_values(), &mut stats);
        let parts: Vec<Stats> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        let mut stats = new_stats();
                        let mut batch = Vec::with_capacity(4096);
                        let step = stride as u64 * threads as u64;
                        let mut bits = t as u64 * stride as u64;
                        while bits <= u32::MAX as u64 {
                            let x = f32::from_bits(bits as u32);
                            if !x.is_nan() {
                                batch.push(x);
                            }
                            if batch.len() == 4096 {
                                measure(&batch, &mut stats);
                                batch.clear();
                            }
                            bits += step;
                        }
                        measure(&batch, &mut stats);
                        stats
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for p in parts {
            for (s, t) in stats.iter_mut().zip(p) {
                fold(&mut s[0], t[0]);
                fold(&mut s[1], t[1]);
            }
        }
        stats
    }

    fn report(stats: &Stats) -> String {
        let mut s = String::new();
        for (b, st) in BOUNDS.iter().zip(stats) {
            s += &format!(
                "{:<10} [{:e}, {:e}]  simd {} ulp at {:e} (abs {:.1e})  scalar {} ulp at {:e} (abs {:.1e})\n",
                b.f.name(),
                b.from,
                b.to,
                st[0].ulps,
                st[0].at,
                st[0].abs,
                st[1].ulps,
                st[1].at,
                st[1].abs,
            );
        }
        s
    }

    fn assert_within_bounds(stats: &Stats) {
        let table = report(stats);
        for (b, st) in BOUNDS.iter().zip(stats) {
            assert!(
                st[0].ulps <= b.simd && st[1].ulps <= b.scalar,
                "{} on [{}, {}]: measured simd {} / scalar {} ulp, documented {} / {}\n{table}",
                b.f.name(),
                b.from,
                b.to,
                st[0].ulps,
                st[1].ulps,
                b.simd,
                b.scalar
            );
        }
    }

    /// ~1M inputs spread over every binade of both signs, plus the special values.
    #[test]
    fn accuracy_within_documented_ulp_bounds() {
        let stats = sweep(4093, 2);
        assert_within_bounds(&stats);
    }

    /// The sweep behind the table in the module docs: every f32 (`UNARY_SWEEP_STRIDE`
    /// = k takes every k-th). About 17 minutes on two cores:
    /// `cargo test --release -p nabla-kernels accuracy_table -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn accuracy_table() {
        let stride = std::env::var("UNARY_SWEEP_STRIDE").map_or(1, |s| s.parse().unwrap());
        let stats = sweep(stride, 2);
        println!("{}", report(&stats));
        assert_within_bounds(&stats);
    }

    // ---- SIMD against scalar -------------------------------------------------------------

    /// Deterministic inputs: a third any bit pattern, a third in [−12, 12], a third
    /// special values.
    fn inputs(n: usize, seed: u32) -> Vec<f32> {
        let specials = special_values();
        let mut s = seed.wrapping_mul(2_654_435_761) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                match s % 3 {
                    0 => f32::from_bits(s.rotate_left(7)),
                    1 => (s >> 8) as f32 / (1u32 << 24) as f32 * 24.0 - 12.0,
                    _ => specials[(s >> 8) as usize % specials.len()],
                }
            })
            .collect()
    }

    fn assert_twins_agree(f: Unary, x: &[f32]) {
        let mut simd = vec![0.0; x.len()];
        let mut scalar = vec![0.0; x.len()];
        unary_simd128(f, x, &mut simd);
        unary_scalar(f, x, &mut scalar);
        for i in 0..x.len() {
            let d = ulps(simd[i], scalar[i]);
            assert!(
                d <= twin_tolerance(f, x[i]),
                "{}({:e}) of {}: simd {:e} vs scalar {:e}, {d} ulp apart",
                f.name(),
                x[i],
                x.len(),
                simd[i],
                scalar[i]
            );
        }
    }

    #[test]
    fn simd_matches_scalar_on_odd_sizes() {
        for f in Unary::ALL {
            for n in [0, 1, 3, 4, 5, 7, 15, 16, 17, 33, 1000] {
                assert_twins_agree(f, &inputs(n, n as u32 + 1));
            }
        }
    }

    /// The leftovers go through a padded vector, so a value's result is the same
    /// wherever it sits.
    #[test]
    fn results_do_not_depend_on_position() {
        let x = inputs(37, 5);
        for f in Unary::ALL {
            let mut full = vec![0.0; x.len()];
            unary_simd128(f, &x, &mut full);
            for off in 1..4 {
                let mut part = vec![0.0; x.len() - off];
                unary_simd128(f, &x[off..], &mut part);
                for (a, b) in part.iter().zip(&full[off..]) {
                    assert!(
                        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                        "{}",
                        f.name()
                    );
                }
            }
        }
    }

    /// ±0, ±∞, NaN and the domain edges give the same result from both twins, sign of
    /// zero included, and the one the math says.
    #[test]
    fn special_values_agree_between_twins() {
        use Unary::*;
        let nan = f32::NAN;
        #[rustfmt::skip]
        let cases: &[(Unary, f32, f32)] = &[
            (Exp, 0.0, 1.0), (Exp, -0.0, 1.0), (Exp, INF, INF), (Exp, -INF, 0.0), (Exp, 89.0, INF), (Exp, -104.0, 0.0),
            (Expm1, -0.0, -0.0), (Expm1, INF, INF), (Expm1, -INF, -1.0), (Expm1, 89.0, INF),
            (Log, 0.0, -INF), (Log, -0.0, -INF), (Log, 1.0, 0.0), (Log, INF, INF), (Log, -1.0, nan), (Log, -INF, nan),
            (Log1p, -0.0, -0.0), (Log1p, -1.0, -INF), (Log1p, -2.0, nan), (Log1p, INF, INF), (Log1p, -INF, nan),
            (Tanh, -0.0, -0.0), (Tanh, INF, 1.0), (Tanh, -INF, -1.0), (Tanh, 10.0, 1.0), (Tanh, -10.0, -1.0),
            (Sigmoid, 0.0, 0.5), (Sigmoid, INF, 1.0), (Sigmoid, -INF, 0.0), (Sigmoid, 20.0, 1.0),
            (LogSigmoid, INF, 0.0), (LogSigmoid, -INF, -INF), (LogSigmoid, -1e30, -1e30),
            (Softplus, INF, INF), (Softplus, -INF, 0.0), (Softplus, 1e30, 1e30),
            (Erf, -0.0, -0.0), (Erf, INF, 1.0), (Erf, -INF, -1.0), (Erf, 4.0, 1.0), (Erf, -4.0, -1.0),
            (Gelu, -0.0, -0.0), (Gelu, INF, INF), (Gelu, -INF, -0.0), (Gelu, -30.0, -0.0), (Gelu, 30.0, 30.0),
            (GeluTanh, -0.0, -0.0), (GeluTanh, INF, INF), (GeluTanh, -INF, -0.0), (GeluTanh, -30.0, -0.0), (GeluTanh, 30.0, 30.0),
            (Silu, -0.0, -0.0), (Silu, INF, INF), (Silu, -INF, -0.0), (Silu, -200.0, -0.0), (Silu, 200.0, 200.0),
        ];
        let same = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        for &(f, x, want) in cases {
            let (mut simd, mut scalar) = ([0.0], [0.0]);
            unary_simd128(f, &[x], &mut simd);
            unary_scalar(f, &[x], &mut scalar);
            assert!(
                same(simd[0], want),
                "simd {}({x}) = {}, want {want}",
                f.name(),
                simd[0]
            );
            assert!(
                same(scalar[0], want),
                "scalar {}({x}) = {}, want {want}",
                f.name(),
                scalar[0]
            );
        }
        for f in Unary::ALL {
            for x in [nan, -nan] {
                let (mut simd, mut scalar) = ([0.0], [0.0]);
                unary_simd128(f, &[x], &mut simd);
                unary_scalar(f, &[x], &mut scalar);
                assert!(simd[0].is_nan() && scalar[0].is_nan(), "{}(NaN)", f.name());
            }
        }
    }

    #[test]
    fn dispatch_follows_the_mode() {
        let x = inputs(19, 3);
        for f in Unary::ALL {
            let (mut a, mut b) = (vec![0.0; 19], vec![0.0; 19]);
            unary(f, &x, &mut a);
            unary_simd128(f, &x, &mut b);
            assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
            with_mode(Mode::Scalar, || unary(f, &x, &mut a));
            unary_scalar(f, &x, &mut b);
            assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
        }
    }

    #[test]
    fn names_round_trip() {
        for f in Unary::ALL {
            assert_eq!(Unary::from_name(f.name()), Some(f));
        }
        assert_eq!(Unary::from_name("relu"), None);
    }

    #[test]
    #[should_panic(expected = "unary: `out` has length 2 but `x` has 3")]
    fn length_mismatch_panics() {
        unary(Unary::Exp, &[1.0, 2.0, 3.0], &mut [0.0; 2]);
    }

    proptest! {
        #[test]
        fn simd_matches_scalar_on_any_f32(k in 0usize..12, x in prop::collection::vec(any::<f32>(), 0..70)) {
            assert_twins_agree(Unary::ALL[k], &x);
        }

        #[test]
        fn simd_matches_scalar_on_moderate_values(k in 0usize..12, x in prop::collection::vec(-20.0f32..20.0, 0..70)) {
            assert_twins_agree(Unary::ALL[k], &x);
        }

        #[test]
        fn backward_simd_matches_scalar_on_random_values(
            k in 0usize..12,
            xg in prop::collection::vec((-20.0f32..20.0, -2.0f32..2.0), 0..40),
        ) {
            let f = Unary::ALL[k];
            let x: Vec<f32> = xg.iter().map(|p| in_domain(f, p.0)).collect();
            let gy: Vec<f32> = xg.iter().map(|p| p.1).collect();
            assert_backward_twins_agree(f, &x, &gy);
        }
    }

    // ---- backward ------------------------------------------------------------------------

    /// Maps `t` into the function's domain (log: x > 0, log1p: x > −1).
    fn in_domain(f: Unary, t: f32) -> f32 {
        match f {
            Unary::Log => t.abs() * 2.0 + 1e-3,
            Unary::Log1p => t.abs() - 0.99,
            _ => t,
        }
    }

    /// `gx` from a twin, with `y` from the same twin's forward pass.
    fn backward(f: Unary, x: &[f32], gy: &[f32], simd: bool) -> Vec<f32> {
        let (mut y, mut gx) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        if simd {
            unary_simd128(f, x, &mut y);
            unary_backward_simd128(f, x, &y, gy, &mut gx);
        } else {
            unary_scalar(f, x, &mut y);
            unary_backward_scalar(f, x, &y, gy, &mut gx);
        }
        gx
    }

    /// Gradients in f32: relative 1e−5, plus 2e−7·|gy| absolute where the derivative is
    /// near 0 (a zero crossing, or a saturated tail computed from `y`).
    fn grad_close(got: f32, want: f64, gy: f32) -> bool {
        let got = got as f64;
        got == want
            || (got - want).abs() <= 1e-5 * want.abs() + 2e-7 * gy.abs() as f64
            || (got.is_nan() && want.is_nan())
    }

    fn assert_backward_twins_agree(f: Unary, x: &[f32], gy: &[f32]) {
        let simd = backward(f, x, gy, true);
        let scalar = backward(f, x, gy, false);
        for i in 0..x.len() {
            assert!(
                grad_close(simd[i], scalar[i] as f64, gy[i]),
                "{}'({:e}) · {}: simd {:e} vs scalar {:e}",
                f.name(),
                x[i],
                gy[i],
                simd[i],
                scalar[i]
            );
        }
    }

    #[test]
    fn backward_matches_a_central_difference_of_the_f64_forward() {
        for f in Unary::ALL {
            let x: Vec<f32> = (0..400)
                .map(|i| in_domain(f, -12.0 + 0.06 * i as f32 + 0.001))
                .collect();
            let gy: Vec<f32> = (0..400).map(|i| 1.5 - (i % 7) as f32 * 0.45).collect();
            for simd in [true, false] {
                let gx = backward(f, &x, &gy, simd);
                for i in 0..x.len() {
                    let x64 = x[i] as f64;
                    let h = 1e-6 * x64.abs().max(1.0);
                    let d = (truth64(f, x64 + h) - truth64(f, x64 - h)) / (2.0 * h);
                    let want = gy[i] as f64 * d;
                    assert!(
                        grad_close(gx[i], want, gy[i]),
                        "{} {}'({:e}) · {}: got {:e}, central difference {:e}",
                        if simd { "simd" } else { "scalar" },
                        f.name(),
                        x[i],
                        gy[i],
                        gx[i],
                        want
                    );
                }
            }
        }
    }

    #[test]
    fn backward_simd_matches_scalar_on_odd_sizes() {
        for f in Unary::ALL {
            for n in [0, 1, 3, 4, 5, 7, 15, 16, 17, 33, 1000] {
                let x: Vec<f32> = inputs(n, n as u32 + 9)
                    .into_iter()
                    .map(|v| {
                        in_domain(
                            f,
                            if v.is_finite() {
                                v.clamp(-30.0, 30.0)
                            } else {
                                v
                            },
                        )
                    })
                    .collect();
                let gy: Vec<f32> = (0..n).map(|i| 1.0 - (i % 5) as f32 * 0.5).collect();
                assert_backward_twins_agree(f, &x, &gy);
            }
        }
    }
}

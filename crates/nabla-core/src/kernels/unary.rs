//! Elementwise math: `out = f(x)` for the [`Unary`] functions, and the fused backward
//! pass `gx = gy·f'(x)`. SIMD128 approximations (range reduction and fitted polynomials,
//! `unary_simd128.rs`) with a scalar `std`/`libm` twin (`unary_scalar.rs`).
//!
//! ACCURACY_TABLE
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
    use crate::kernels::with_mode;
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

    fn truth(f: Unary, x: f32) -> f32 {
        truth64(f, x as f64) as f32
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

    /// Max ulp error against the truth for x in `[from, to]`, per twin.
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
        b(Unary::Exp, -INF, INF, 99, 99),
        b(Unary::Expm1, -INF, INF, 99, 99),
        b(Unary::Log, -INF, INF, 99, 99),
        b(Unary::Log1p, -INF, INF, 99, 99),
        b(Unary::Tanh, -INF, INF, 99, 99),
        b(Unary::Sigmoid, -INF, INF, 99, 99),
        b(Unary::LogSigmoid, -INF, INF, 99, 99),
        b(Unary::Softplus, -INF, INF, 99, 99),
        b(Unary::Erf, -INF, INF, 99, 99),
        b(Unary::Gelu, -INF, INF, 9999, 9999),
        b(Unary::GeluTanh, -INF, INF, 9999, 9999),
        b(Unary::Silu, -INF, INF, 9999, 9999),
    ];

    fn bound(f: Unary, x: f32) -> Bound {
        *BOUNDS
            .iter()
            .find(|b| b.f == f && (x.is_nan() || (b.from <= x && x <= b.to)))
            .unwrap_or_else(|| panic!("{}: no bound covers {x}", f.name()))
    }

    // ---- measuring ---------------------------------------------------------------------

    /// ±0, ±tiny, subnormals, ±1, large, ±∞, NaN, and each function's edges.
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
            2.0,
            3.92,
            4.0,
            9.0,
            20.0,
            30.0,
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

    /// Per-bound maxima: `(simd ulps, x, scalar ulps, x)`.
    type Stats = Vec<(u64, f32, u64, f32)>;

    /// Runs both twins on `xs` and folds their ulp errors into `stats` (indexed like
    /// `BOUNDS`).
    fn measure(xs: &[f32], stats: &mut Stats) {
        let mut simd = vec![0.0; xs.len()];
        let mut scalar = vec![0.0; xs.len()];
        for f in Unary::ALL {
            unary_simd128(f, xs, &mut simd);
            unary_scalar(f, xs, &mut scalar);
            for i in 0..xs.len() {
                let x = xs[i];
                let want = truth(f, x);
                let k = BOUNDS
                    .iter()
                    .position(|b| b.f == f && (x.is_nan() || (b.from <= x && x <= b.to)))
                    .unwrap();
                let (e1, e2) = (ulps(simd[i], want), ulps(scalar[i], want));
                let s = &mut stats[k];
                if e1 > s.0 {
                    (s.0, s.1) = (e1, x);
                }
                if e2 > s.2 {
                    (s.2, s.3) = (e2, x);
                }
            }
        }
    }

    /// Every `stride`-th f32 bit pattern (NaNs skipped) plus the special values.
    fn sweep(stride: u32, threads: u32) -> Stats {
        let merge = |a: &mut Stats, b: Stats| {
            for (s, t) in a.iter_mut().zip(b) {
                if t.0 > s.0 {
                    (s.0, s.1) = (t.0, t.1);
                }
                if t.2 > s.2 {
                    (s.2, s.3) = (t.2, t.3);
                }
            }
        };
        let mut stats: Stats = vec![(0, 0.0, 0, 0.0); BOUNDS.len()];
        measure(&special_values(), &mut stats);
        let parts: Vec<Stats> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        let mut stats: Stats = vec![(0, 0.0, 0, 0.0); BOUNDS.len()];
                        let mut batch = Vec::with_capacity(4096);
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
                            bits += stride as u64 * threads as u64;
                        }
                        measure(&batch, &mut stats);
                        stats
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for p in parts {
            merge(&mut stats, p);
        }
        stats
    }

    fn report(stats: &Stats) -> String {
        let mut s = String::new();
        for (b, st) in BOUNDS.iter().zip(stats) {
            s += &format!(
                "{:<11} [{:>12e}, {:>12e}]  simd {:>5} ulp (x = {:e})  scalar {:>5} ulp (x = {:e})\n",
                b.f.name(),
                b.from,
                b.to,
                st.0,
                st.1,
                st.2,
                st.3
            );
        }
        s
    }

    fn assert_within_bounds(stats: &Stats) {
        let table = report(stats);
        for (b, st) in BOUNDS.iter().zip(stats) {
            assert!(
                st.0 <= b.simd && st.2 <= b.scalar,
                "{} on [{}, {}]: measured simd {} / scalar {} ulp, documented {} / {}\n{table}",
                b.f.name(),
                b.from,
                b.to,
                st.0,
                st.2,
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

    /// The sweep behind the table in the module docs (every 7th bit pattern, ~600M
    /// inputs per function; `UNARY_SWEEP_STRIDE` overrides the 7). Run with
    /// `cargo test --release -p nabla-core accuracy_table -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn accuracy_table() {
        let stride = std::env::var("UNARY_SWEEP_STRIDE").map_or(7, |s| s.parse().unwrap());
        let stats = sweep(stride, 2);
        println!("{}", report(&stats));
        assert_within_bounds(&stats);
    }
}

//! The unary kernels' scalar reference: one f32 formula per function, in its stable form,
//! on `std` and `libm`. Slow and plain; its measured accuracy is in `unary.rs`.

use super::unary::{check_lengths, Unary};
use std::f32::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

/// `1/√(2π)`, the standard normal density at 0.
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;
/// `2·√(2/π)`: geluTanh's `1 + tanh(y)` is `2·σ(2y)` with `2y = x·(A + B·x²)`.
const GELU_TANH_A: f32 = 1.595769;
/// `2·√(2/π)·0.044715`.
const GELU_TANH_B: f32 = 0.071_354_82;

pub fn unary_scalar(f: Unary, x: &[f32], out: &mut [f32]) {
    check_lengths("unary", x.len(), &[("out", out.len())]);
    for (o, &x) in out.iter_mut().zip(x) {
        *o = forward(f, x);
    }
}

pub fn unary_backward_scalar(f: Unary, x: &[f32], y: &[f32], gy: &[f32], gx: &mut [f32]) {
    check_lengths(
        "unary_backward",
        x.len(),
        &[("y", y.len()), ("gy", gy.len()), ("gx", gx.len())],
    );
    for i in 0..x.len() {
        gx[i] = gy[i] * derivative(f, x[i], y[i]);
    }
}

fn forward(f: Unary, x: f32) -> f32 {
    match f {
        Unary::Exp => x.exp(),
        Unary::Expm1 => x.exp_m1(),
        Unary::Log => x.ln(),
        Unary::Log1p => x.ln_1p(),
        Unary::Tanh => x.tanh(),
        Unary::Sigmoid => sigmoid(x),
        // log σ(x) = min(x, 0) − log1p(e^−|x|) (a NaN comes back through the exp)
        Unary::LogSigmoid => x.min(0.0) - (-x.abs()).exp().ln_1p(),
        // softplus(x) = max(x, 0) + log1p(e^−|x|)
        Unary::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
        Unary::Erf => libm::erff(x),
        // x·Φ(x) = x·erfc(−x/√2)/2: no cancellation in `1 + erf` for x < 0.
        Unary::Gelu => {
            if x == f32::NEG_INFINITY {
                -0.0
            } else {
                0.5 * x * libm::erfcf(-x * FRAC_1_SQRT_2)
            }
        }
        // x·(1 + tanh y)/2 = x·σ(2y)
        Unary::GeluTanh => x_sigmoid(x, x * (GELU_TANH_A + GELU_TANH_B * x * x)),
        Unary::Silu => x_sigmoid(x, x),
    }
}

/// `f'(x)`, from `x` or from `y = f(x)`, whichever is exact and cheap.
fn derivative(f: Unary, x: f32, y: f32) -> f32 {
    match f {
        Unary::Exp => y,
        Unary::Expm1 => y + 1.0,
        Unary::Log => 1.0 / x,
        Unary::Log1p => 1.0 / (1.0 + x),
        // 1 − y², factored: exact where y is close to ±1
        Unary::Tanh => (1.0 - y) * (1.0 + y),
        Unary::Sigmoid => y * (1.0 - y),
        Unary::LogSigmoid => sigmoid(-x),
        Unary::Softplus => sigmoid(x),
        Unary::Erf => FRAC_2_SQRT_PI * (-x * x).exp(),
        // Φ(x) + x·φ(x); beyond ±20 the derivative is 0 or 1 to f32 precision.
        Unary::Gelu => {
            let x = x.clamp(-20.0, 20.0);
            0.5 * libm::erfcf(-x * FRAC_1_SQRT_2) + x * FRAC_1_SQRT_2PI * (-0.5 * x * x).exp()
        }
        // σ(z) + x·σ(z)·(1 − σ(z))·z'(x), z = 2y = x·(A + B·x²)
        Unary::GeluTanh => {
            let x = x.clamp(-20.0, 20.0);
            let z = x * (GELU_TANH_A + GELU_TANH_B * x * x);
            let s = sigmoid(z);
            s + x * s * sigmoid(-z) * (GELU_TANH_A + 3.0 * GELU_TANH_B * x * x)
        }
        // σ(x)·(1 + x·(1 − σ(x)))
        Unary::Silu => {
            let x = x.clamp(-150.0, 150.0);
            sigmoid(x) * (1.0 + x * sigmoid(-x))
        }
    }
}

/// σ(x) = 1/(1 + e^−x), as `e^x/(1 + e^x)` for x < 0 so neither side overflows.
fn sigmoid(x: f32) -> f32 {
    let e = (-x.abs()).exp();
    if x < 0.0 {
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + e)
    }
}

/// `x·σ(z)` for `z` of the sign of `x`; `-0` (the limit) at `x = −∞`.
fn x_sigmoid(x: f32, z: f32) -> f32 {
    let e = (-z.abs()).exp();
    if x == f32::NEG_INFINITY {
        -0.0
    } else if z < 0.0 {
        x * e / (1.0 + e)
    } else {
        x / (1.0 + e)
    }
}

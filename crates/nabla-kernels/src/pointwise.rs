//! The per-element formulas of the elementwise losses, value and gradient, over a
//! target slice t and a prediction slice p, computed in f64 and rounded to f32 once.
//! Here, built at opt-level 3, because the losses in nabla-core are built for size and
//! these loops carry the loss's time: the match on the formula is outside the element
//! loop, so each formula is one tight loop. Each loss file in nabla-core
//! (`losses/<name>.rs`) keeps the formula's derivation, its options and its tests, and
//! validates the inputs before passing them here. Also the loops of the reduction that
//! turns any loss's units into its value and back into their gradient.

/// An elementwise loss with its options; `losses/<name>.rs` documents each.
#[derive(Clone, Copy, Debug)]
pub enum Pointwise<'a> {
    Mse,
    Mae,
    Huber {
        delta: f64,
    },
    SmoothL1 {
        beta: f64,
    },
    LogCosh,
    Msle {
        eps: f64,
    },
    Mape {
        eps: f64,
    },
    Quantile {
        q: f64,
    },
    PoissonNll {
        log_input: bool,
        full: bool,
        eps: f64,
    },
    /// `binary`: targets are 0/1, taken as 2t − 1.
    Hinge {
        binary: bool,
        squared: bool,
    },
    SoftMargin,
    BinaryCrossEntropy {
        from_logits: bool,
        pos_weight: PosWeight<'a>,
        label_smoothing: f64,
        epsilon: f64,
    },
}

/// binaryCrossEntropy's weight of the positive term.
#[derive(Clone, Copy, Debug)]
pub enum PosWeight<'a> {
    Scalar(f64),
    /// One weight per entry of the last axis (its length).
    PerClass(&'a [f32]),
}

/// The per-element losses l(t, p).
pub fn values(f: Pointwise, t: &[f32], p: &[f32]) -> Vec<f32> {
    let mut out = Vec::new();
    values_into(f, t, p, &mut out);
    out
}

/// `values` into `out` (cleared first; its capacity is reused: no allocation once sized).
pub fn values_into(f: Pointwise, t: &[f32], p: &[f32], out: &mut Vec<f32>) {
    out.clear();
    match f {
        Pointwise::Mse => each(out, t, p, |t, p| (p - t) * (p - t)),
        Pointwise::Mae => each(out, t, p, |t, p| (p - t).abs()),
        Pointwise::Huber { delta } => each(out, t, p, |t, p| {
            let a = (p - t).abs();
            if a <= delta {
                0.5 * a * a
            } else {
                delta * (a - 0.5 * delta)
            }
        }),
        Pointwise::SmoothL1 { beta } => each(out, t, p, |t, p| {
            let a = (p - t).abs();
            if a < beta {
                0.5 * a * a / beta
            } else {
                a - 0.5 * beta
            }
        }),
        Pointwise::LogCosh => each(out, t, p, |t, p| log_cosh(p - t)),
        Pointwise::Msle { eps } => each(out, t, p, |t, p| {
            let d = p.max(eps).ln_1p() - t.max(eps).ln_1p();
            d * d
        }),
        Pointwise::Mape { eps } => each(out, t, p, |t, p| 100.0 * (p - t).abs() / t.abs().max(eps)),
        Pointwise::Quantile { q } => each(out, t, p, |t, p| {
            let e = t - p;
            (q * e).max((q - 1.0) * e)
        }),
        Pointwise::PoissonNll {
            log_input,
            full,
            eps,
        } => each(out, t, p, |t, p| {
            let l = if log_input {
                p.exp() - t * p
            } else {
                p - t * (p + eps).ln()
            };
            if full {
                l + stirling(t)
            } else {
                l
            }
        }),
        Pointwise::Hinge { binary, squared } => each(out, t, p, |t, p| {
            let m = (1.0 - sign_target(t, binary) * p).max(0.0);
            if squared {
                m * m
            } else {
                m
            }
        }),
        Pointwise::SoftMargin => each(out, t, p, |t, p| softplus(-t * p)),
        Pointwise::BinaryCrossEntropy {
            from_logits,
            pos_weight,
            label_smoothing: ls,
            epsilon: e,
        } => each_weighted(out, t, p, pos_weight, |t, p, w| {
            let tt = smooth(t, ls);
            if from_logits {
                w * tt * softplus(-p) + (1.0 - tt) * softplus(p)
            } else {
                let (q, r, _) = clip(p, e);
                -(w * tt * q.ln() + (1.0 - tt) * r.ln())
            }
        }),
    }
}

/// The gradient w.r.t. p of Σ up·l: up·dl/dp(t, p) per element.
pub fn grads(f: Pointwise, t: &[f32], p: &[f32], up: &[f32]) -> Vec<f32> {
    let mut out = Vec::new();
    grads_into(f, t, p, up, &mut out);
    out
}

/// `grads` into `out` (cleared first; its capacity is reused).
pub fn grads_into(f: Pointwise, t: &[f32], p: &[f32], up: &[f32], out: &mut Vec<f32>) {
    out.clear();
    match f {
        Pointwise::Mse => each_up(out, t, p, up, |t, p| 2.0 * (p - t)),
        Pointwise::Mae => each_up(out, t, p, up, |t, p| sign(p - t)),
        Pointwise::Huber { delta } => each_up(out, t, p, up, |t, p| (p - t).clamp(-delta, delta)),
        Pointwise::SmoothL1 { beta } => each_up(out, t, p, up, |t, p| {
            let d = p - t;
            if beta == 0.0 {
                sign(d)
            } else {
                (d / beta).clamp(-1.0, 1.0)
            }
        }),
        Pointwise::LogCosh => each_up(out, t, p, up, |t, p| (p - t).tanh()),
        Pointwise::Msle { eps } => each_up(out, t, p, up, |t, p| {
            if p < eps {
                0.0
            } else {
                2.0 * (p.ln_1p() - t.max(eps).ln_1p()) / (1.0 + p)
            }
        }),
        Pointwise::Mape { eps } => {
            each_up(out, t, p, up, |t, p| 100.0 * sign(p - t) / t.abs().max(eps))
        }
        Pointwise::Quantile { q } => each_up(out, t, p, up, |t, p| {
            let e = t - p;
            if e > 0.0 {
                -q
            } else if e < 0.0 {
                1.0 - q
            } else {
                0.0
            }
        }),
        Pointwise::PoissonNll { log_input, eps, .. } => each_up(out, t, p, up, |t, p| {
            if log_input {
                p.exp() - t
            } else {
                1.0 - t / (p + eps)
            }
        }),
        Pointwise::Hinge { binary, squared } => each_up(out, t, p, up, |t, p| {
            let t = sign_target(t, binary);
            let m = 1.0 - t * p;
            if m <= 0.0 {
                0.0
            } else if squared {
                -2.0 * m * t
            } else {
                -t
            }
        }),
        Pointwise::SoftMargin => each_up(out, t, p, up, |t, p| -t * sigmoid(-t * p)),
        Pointwise::BinaryCrossEntropy {
            from_logits,
            pos_weight,
            label_smoothing: ls,
            epsilon: e,
        } => each_weighted_up(out, t, p, up, pos_weight, |t, p, w| {
            let tt = smooth(t, ls);
            if from_logits {
                (1.0 - tt) * sigmoid(p) - w * tt * sigmoid(-p)
            } else {
                match clip(p, e) {
                    (q, r, true) => -w * tt / q + (1.0 - tt) / r,
                    _ => 0.0,
                }
            }
        }),
    }
}

// --- the reduction's loops (losses/reduction.rs), for every loss's units -------------

/// Σ w·l accumulated in f64 in order (w = 1 without weights).
pub fn weighted_sum(l: &[f32], w: Option<&[f32]>) -> f64 {
    match w {
        None => l.iter().map(|&l| l as f64).sum(),
        Some(w) => l.iter().zip(w).map(|(&l, &w)| w as f64 * l as f64).sum(),
    }
}

/// w·x per element (x itself without weights).
pub fn weighted(x: &[f32], w: Option<&[f32]>) -> Vec<f32> {
    match w {
        None => x.to_vec(),
        Some(w) => x.iter().zip(w).map(|(&x, &w)| w * x).collect(),
    }
}

/// w·s per element for `n` elements (s everywhere without weights), into `out`
/// (cleared first; its capacity is reused).
pub fn weighted_scalar_into(n: usize, w: Option<&[f32]>, s: f32, out: &mut Vec<f32>) {
    out.clear();
    match w {
        None => out.resize(n, s),
        Some(w) => out.extend(w[..n].iter().map(|&w| w * s)),
    }
}

// --- the loops: inlined into each arm, so every formula gets its own -----------------

#[inline(always)]
fn each(out: &mut Vec<f32>, t: &[f32], p: &[f32], f: impl Fn(f64, f64) -> f64) {
    out.extend(t.iter().zip(p).map(|(&t, &p)| f(t as f64, p as f64) as f32));
}

#[inline(always)]
fn each_up(out: &mut Vec<f32>, t: &[f32], p: &[f32], up: &[f32], d: impl Fn(f64, f64) -> f64) {
    out.extend(
        t.iter()
            .zip(p)
            .zip(up)
            .map(|((&t, &p), &u)| (u as f64 * d(t as f64, p as f64)) as f32),
    );
}

/// `each` with a third argument, the positive weight of the element's last-axis entry.
#[inline(always)]
fn each_weighted(
    out: &mut Vec<f32>,
    t: &[f32],
    p: &[f32],
    w: PosWeight,
    f: impl Fn(f64, f64, f64) -> f64,
) {
    match w {
        PosWeight::Scalar(w) => each(out, t, p, |t, p| f(t, p, w)),
        PosWeight::PerClass(w) => {
            for (t, p) in t.chunks(w.len().max(1)).zip(p.chunks(w.len().max(1))) {
                out.extend(
                    t.iter()
                        .zip(p)
                        .zip(w)
                        .map(|((&t, &p), &w)| f(t as f64, p as f64, w as f64) as f32),
                );
            }
        }
    }
}

#[inline(always)]
fn each_weighted_up(
    out: &mut Vec<f32>,
    t: &[f32],
    p: &[f32],
    up: &[f32],
    w: PosWeight,
    d: impl Fn(f64, f64, f64) -> f64,
) {
    match w {
        PosWeight::Scalar(w) => each_up(out, t, p, up, |t, p| d(t, p, w)),
        PosWeight::PerClass(w) => {
            let n = w.len().max(1); // no elements when the last axis is empty
            for ((t, p), up) in t.chunks(n).zip(p.chunks(n)).zip(up.chunks(n)) {
                out.extend(t.iter().zip(p).zip(up).zip(w).map(|(((&t, &p), &u), &w)| {
                    (u as f64 * d(t as f64, p as f64, w as f64)) as f32
                }));
            }
        }
    }
}

// --- per-element helpers, shared with the other losses --------------------------------
// #[inline]: nabla-core, built for size, inlines only hinted functions into its loops.

/// sign(d) with sign(0) = 0, the subgradient of |d| torch uses (`f64::signum(0.0)` is 1).
#[inline]
pub fn sign(d: f64) -> f64 {
    if d > 0.0 {
        1.0
    } else if d < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// log(1 + e^x) without overflow or cancellation.
#[inline]
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// 1 / (1 + e^(−x)), never forming e^(+large).
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// log(cosh(d)): log1p(2·sinh²(d/2)) for |d| < 1, |d| + log1p(e^(−2|d|)) − log 2 beyond.
#[inline]
fn log_cosh(d: f64) -> f64 {
    let a = d.abs();
    if a < 1.0 {
        let s = (0.5 * a).sinh();
        (2.0 * s * s).ln_1p()
    } else {
        a + (-2.0 * a).exp().ln_1p() - std::f64::consts::LN_2
    }
}

/// Stirling's approximation of log(y!), applied where y > 1 (torch's mask).
#[inline]
fn stirling(t: f64) -> f64 {
    if t > 1.0 {
        t * t.ln() - t + 0.5 * (2.0 * std::f64::consts::PI * t).ln()
    } else {
        0.0
    }
}

/// A hinge target as ±1: 0/1 targets map to 2t − 1.
#[inline]
fn sign_target(t: f64, binary: bool) -> f64 {
    if binary {
        2.0 * t - 1.0
    } else {
        t
    }
}

/// binaryCrossEntropy's smoothed target t·(1 − ls) + 0.5·ls.
#[inline]
fn smooth(t: f64, ls: f64) -> f64 {
    t * (1.0 - ls) + 0.5 * ls
}

/// The clipped q and 1 − q of a probability, and whether the clip is inactive.
#[inline]
fn clip(p: f64, e: f64) -> (f64, f64, bool) {
    let inside = p >= e && 1.0 - p >= e;
    (p.clamp(e, 1.0 - e), (1.0 - p).clamp(e, 1.0 - e), inside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_class_weights_follow_the_last_axis() {
        let (t, p) = ([1.0, 1.0, 1.0, 1.0], [0.5f32; 4]);
        let bce = |pos_weight| Pointwise::BinaryCrossEntropy {
            from_logits: false,
            pos_weight,
            label_smoothing: 0.0,
            epsilon: 1e-15,
        };
        let per = values(bce(PosWeight::PerClass(&[1.0, 2.0])), &t, &p);
        let one = values(bce(PosWeight::Scalar(1.0)), &t, &p);
        let two = values(bce(PosWeight::Scalar(2.0)), &t, &p);
        assert_eq!(per, [one[0], two[1], one[2], two[3]]);
        let up = [1.0, 2.0, 3.0, 4.0];
        let per = grads(bce(PosWeight::PerClass(&[1.0, 2.0])), &t, &p, &up);
        let one = grads(bce(PosWeight::Scalar(1.0)), &t, &p, &up);
        let two = grads(bce(PosWeight::Scalar(2.0)), &t, &p, &up);
        assert_eq!(per, [one[0], two[1], one[2], two[3]]);
    }
}

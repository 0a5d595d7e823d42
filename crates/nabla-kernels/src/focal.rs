//! The loops of the focal loss, l = −α_t·(1 − p_t)^γ·log p_t: its elementwise binary
//! mode, a multiclass row from logits, and the gradient from the saved local
//! derivatives. Here, built at opt-level 3, because the losses in nabla-core are built
//! for size and these loops carry the loss's time. losses/focal.rs keeps the formulas'
//! derivation, the options, the validation and the tests of the loss.

use crate::pointwise::{sigmoid, softplus};

/// The probability clip, as Keras's backend epsilon.
pub const CLIP: f64 = 1e-7;

/// (1 − P)^γ, with 0^0 = 1.
#[inline]
pub fn focus(gamma: f64, one_minus_p: f64) -> f64 {
    if gamma == 0.0 {
        1.0
    } else {
        one_minus_p.powf(gamma)
    }
}

/// Loss and dl/dP for a probability p_t, clipped to [CLIP, 1 − CLIP], with α_t = `a`
/// (0 gradient where clipped).
#[inline]
pub fn prob_term(gamma: f64, a: f64, p: f64) -> (f64, f64) {
    let (q, r) = (p.clamp(CLIP, 1.0 - CLIP), (1.0 - p).clamp(CLIP, 1.0 - CLIP));
    let (l, f) = (q.ln(), focus(gamma, r));
    let d = if p >= CLIP && 1.0 - p >= CLIP {
        -a * f * (1.0 / q - gamma * l / r)
    } else {
        0.0
    };
    (-a * f * l, d)
}

/// Elementwise losses and dl/dp for 0/1 targets t (1 is positive) and predictions p
/// (logits or probabilities), into `values` and `local`; `alpha` None: α_t = 1.
pub fn binary(
    t: &[f32],
    p: &[f32],
    gamma: f64,
    alpha: Option<f64>,
    from_logits: bool,
    values: &mut [f32],
    local: &mut [f32],
) {
    let n = p.len();
    let (t, values, local) = (&t[..n], &mut values[..n], &mut local[..n]);
    // One loop per mode: the branch stays outside the element loop.
    if from_logits {
        for i in 0..n {
            let pos = t[i] == 1.0;
            let s = if pos { 1.0 } else { -1.0 };
            let a = alpha.map_or(1.0, |a| if pos { a } else { 1.0 - a });
            let z = s * p[i] as f64;
            let f = (-gamma * softplus(z)).exp();
            let sp = softplus(-z);
            let (l, d) = (a * f * sp, a * f * (-sigmoid(-z) - gamma * sigmoid(z) * sp));
            values[i] = l as f32;
            local[i] = (s * d) as f32;
        }
    } else {
        for i in 0..n {
            let pos = t[i] == 1.0;
            let s = if pos { 1.0 } else { -1.0 };
            let a = alpha.map_or(1.0, |a| if pos { a } else { 1.0 - a });
            let pt = if pos { p[i] as f64 } else { 1.0 - p[i] as f64 };
            let (l, d) = prob_term(gamma, a, pt);
            values[i] = l as f32;
            local[i] = (s * d) as f32;
        }
    }
}

/// The loss of a row of logits x with label y, α = `a`; dl/dx into `g` (as long as x).
/// log p_y = x_y − logSumExp(x) (max-shifted, in f64), 1 − p_y = −expm1(log p_y).
pub fn logits_row(x: &[f32], y: usize, gamma: f64, a: f64, g: &mut [f32]) -> f64 {
    let m = x.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let m = if m.is_finite() { m } else { 0.0 };
    let lse = m + x.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
    let l = x[y] as f64 - lse;
    let (p, q) = (l.exp(), -l.exp_m1());
    let f = focus(gamma, q);
    let r = if q == 0.0 { -1.0 } else { l / q };
    let dl = -a * f * (1.0 - gamma * p * r);
    for (k, (gk, &xk)) in g.iter_mut().zip(x).enumerate() {
        let pk = (xk as f64 - lse).exp();
        *gk = (dl * (f64::from(u8::from(k == y)) - pk)) as f32;
    }
    -a * f * l
}

/// out = up of each unit · the saved local derivatives, `per` consecutive ones per unit
/// (f64 product rounded once); `out` is cleared first, its capacity reused.
pub fn scale_by_unit(local: &[f32], up: &[f32], per: usize, out: &mut Vec<f32>) {
    out.clear();
    for (d, &u) in local.chunks(per.max(1)).zip(up) {
        out.extend(d.iter().map(|&d| (u as f64 * d as f64) as f32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn bits(x: &[f32]) -> Vec<u32> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    /// (γ, α) cases: the default, no α, γ = 0 (0^0 = 1) and a fractional γ.
    const PARAMS: [(f64, Option<f64>); 4] = [
        (2.0, Some(0.25)),
        (2.0, None),
        (0.0, Some(0.6)),
        (0.5, None),
    ];

    #[test]
    fn binary_matches_reference() {
        let mut rng = Rng::new(11);
        for n in [1usize, 7, 33] {
            let t: Vec<f32> = (0..n).map(|i| ((i * 5) % 3 == 0) as u8 as f32).collect();
            let x: Vec<f32> = (0..n).map(|_| 4.0 * rng.normal()).collect();
            // Probabilities, the saturated ones included (clipped: no gradient).
            let mut p: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
            if n > 2 {
                (p[0], p[1]) = (0.0, 1.0);
            }
            for (gamma, alpha) in PARAMS {
                for (from_logits, p) in [(true, &x), (false, &p)] {
                    let (mut rv, mut rl) = (vec![0.0; n], vec![0.0; n]);
                    for i in 0..n {
                        let pos = t[i] == 1.0;
                        let s = if pos { 1.0 } else { -1.0 };
                        let a = alpha.map_or(1.0, |a| if pos { a } else { 1.0 - a });
                        let (l, d) = if from_logits {
                            let z = s * p[i] as f64;
                            let f = (-gamma * softplus(z)).exp();
                            let sp = softplus(-z);
                            let d = a * f * (-sigmoid(-z) - gamma * sigmoid(z) * sp);
                            (a * f * sp, d)
                        } else {
                            let pt = if pos { p[i] as f64 } else { 1.0 - p[i] as f64 };
                            let q = pt.clamp(CLIP, 1.0 - CLIP);
                            let r = (1.0 - pt).clamp(CLIP, 1.0 - CLIP);
                            let f = if gamma == 0.0 { 1.0 } else { r.powf(gamma) };
                            let d = if pt >= CLIP && 1.0 - pt >= CLIP {
                                -a * f * (1.0 / q - gamma * q.ln() / r)
                            } else {
                                0.0
                            };
                            (-a * f * q.ln(), d)
                        };
                        rv[i] = l as f32;
                        rl[i] = (s * d) as f32;
                    }
                    let (mut v, mut l) = (vec![0.0; n], vec![0.0; n]);
                    binary(&t, p, gamma, alpha, from_logits, &mut v, &mut l);
                    assert_eq!(bits(&v), bits(&rv), "n={n} γ={gamma} {from_logits}");
                    assert_eq!(bits(&l), bits(&rl), "n={n} γ={gamma} {from_logits}");
                }
            }
        }
    }

    #[test]
    fn logits_row_matches_reference() {
        let mut rng = Rng::new(12);
        for c in [1usize, 7, 33] {
            let mut x: Vec<f32> = (0..c).map(|_| 4.0 * rng.normal()).collect();
            for (gamma, alpha) in PARAMS {
                let a = alpha.unwrap_or(1.0);
                for y in [0, c / 2, c - 1] {
                    let m = x.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
                    let m = if m.is_finite() { m } else { 0.0 };
                    let lse = m + (0..c).map(|k| (x[k] as f64 - m).exp()).sum::<f64>().ln();
                    let l = x[y] as f64 - lse;
                    let (p, q) = (l.exp(), -l.exp_m1());
                    let f = if gamma == 0.0 { 1.0 } else { q.powf(gamma) };
                    let r = if q == 0.0 { -1.0 } else { l / q };
                    let dl = -a * f * (1.0 - gamma * p * r);
                    let want: Vec<f32> = (0..c)
                        .map(|k| {
                            let pk = (x[k] as f64 - lse).exp();
                            (dl * (if k == y { 1.0 } else { 0.0 } - pk)) as f32
                        })
                        .collect();
                    let mut g = vec![0.0; c];
                    let v = logits_row(&x, y, gamma, a, &mut g);
                    assert_eq!(v.to_bits(), (-a * f * l).to_bits(), "c={c} y={y}");
                    assert_eq!(bits(&g), bits(&want), "c={c} y={y}");
                }
            }
            // ±1e4 logits stay finite.
            x[0] = 1e4;
            let mut g = vec![0.0; c];
            assert!(logits_row(&x, c - 1, 2.0, 0.25, &mut g).is_finite());
            assert!(g.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn scale_by_unit_matches_reference() {
        let mut rng = Rng::new(13);
        for (units, per) in [(1usize, 1usize), (7, 1), (3, 7), (5, 33)] {
            let local: Vec<f32> = (0..units * per).map(|_| rng.normal()).collect();
            let up: Vec<f32> = (0..units).map(|_| rng.normal()).collect();
            let want: Vec<f32> = (0..units * per)
                .map(|i| (up[i / per] as f64 * local[i] as f64) as f32)
                .collect();
            let mut out = vec![9.0; 2];
            scale_by_unit(&local, &up, per, &mut out);
            assert_eq!(bits(&out), bits(&want));
        }
    }
}

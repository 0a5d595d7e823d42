//! Kullback–Leibler divergence of the prediction from the target, elementwise:
//!   l = t·(log t − log p)            (0 where t = 0, as torch's xlogy)
//!   logTarget (t given as log t):  l = e^t·(t − log p)   (0 where e^t = 0, e.g. t = −∞)
//! with log p = p if logInput, else log(max(p, ε)) (Keras-style clip; gradient 0 where
//! p < ε, so p = 0 gives a finite loss). dl/dp = −a·(1 if logInput else 1/p), with
//! a = t (or e^t). Summing over the last axis gives KL(t‖p) per distribution; the
//! "batchmean" reduction (Σ l / batch) is the true mean KL, "mean" divides by the number
//! of elements as torch does. See: torch.nn.KLDivLoss(log_target) with input = log p,
//! keras.losses.KLDivergence.
//!
//! NOTE: torch takes log-probabilities (our `logInput: true`); Keras clips t as well
//! (we use exact t and xlogy's 0 at t = 0).

use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

const OP: &str = "klDivergence";

pub struct KlDivergence {
    log_input: bool,
    log_target: bool,
    epsilon: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["logInput", "logTarget", "epsilon"])?;
    Ok(Box::new(KlDivergence {
        log_input: cfg.bool("logInput", false)?,
        log_target: cfg.bool("logTarget", false)?,
        epsilon: cfg.f64_where("epsilon", 1e-7, "a number in (0, 1)", |v| {
            v > 0.0 && v < 1.0
        })?,
    }))
}

impl KlDivergence {
    fn inputs<'a>(&self, x: &[&'a Tensor]) -> Result<(&'a [f32], &'a [f32])> {
        let (t, p) = same_shape(OP, ["yTrue", "yPred"], x[0], x[1])?;
        if !self.log_target {
            if let Some((i, v)) = t.iter().enumerate().find(|(_, &v)| v.is_nan() || v < 0.0) {
                return Err(Error::invalid(
                    OP,
                    "yTrue",
                    "probabilities ≥ 0 (pass logTarget: true for log-probabilities)",
                    format!("{v} at index {i}"),
                ));
            }
        }
        Ok((t, p))
    }

    /// The target's weight a (t, or e^t for log targets) and, for the loss, log t.
    #[inline]
    fn target(&self, t: f64) -> (f64, f64) {
        if self.log_target {
            (t.exp(), t)
        } else {
            (t, t.ln())
        }
    }

    fn log_p(&self, p: f64) -> f64 {
        if self.log_input {
            p
        } else if p < self.epsilon {
            self.epsilon.ln()
        } else {
            p.ln()
        }
    }
}

impl Loss for KlDivergence {
    fn name(&self) -> &'static str {
        OP
    }

    fn batchmean(&self) -> bool {
        true
    }

    /// Log-space inputs may hold log 0 = −∞.
    fn allows_infinity(&self, i: usize) -> bool {
        (i == 0 && self.log_target) || (i == 1 && self.log_input)
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let (t, p) = self.inputs(x)?;
        let values = t
            .iter()
            .zip(p)
            .map(|(&t, &p)| {
                let (a, log_t) = self.target(t as f64);
                if a == 0.0 {
                    0.0
                } else {
                    (a * (log_t - self.log_p(p as f64))) as f32
                }
            })
            .collect();
        Ok(Units::elementwise(Tensor::new(
            x[1].shape().clone(),
            values,
        )))
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let (t, p) = self.inputs(x)?;
        let g = (0..p.len())
            .map(|i| {
                let (a, _) = self.target(t[i] as f64);
                let p = p[i] as f64;
                let d = if a == 0.0 {
                    0.0
                } else if self.log_input {
                    -a
                } else if p < self.epsilon {
                    0.0
                } else {
                    -a / p
                };
                (up[i] as f64 * d) as f32
            })
            .collect();
        Ok(vec![None, Some(Tensor::new(x[1].shape().clone(), g))])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use super::*;

    fn err(cfg: &str, inputs: &[&Tensor]) -> String {
        error(OP, cfg, inputs)
    }

    fn close(a: f32, b: f64) {
        assert!((a as f64 - b).abs() < 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
    }

    fn ln(v: &[f32]) -> Vec<f32> {
        v.iter().map(|v| v.ln()).collect()
    }

    #[test]
    fn known_values() {
        let (tv, pv) = ([0.5, 0.5, 0.0, 1.0], [0.25, 0.75, 0.3, 0.5]);
        let l2 = 2f64.ln();
        let sum = 0.5 * l2 + 0.5 * (2.0f64 / 3.0).ln() + 0.0 + l2;
        let (y, p) = (t(&tv, &[2, 2]), t(&pv, &[2, 2]));
        close(value(OP, "", &[&y, &p]), sum / 4.0);
        close(
            value(OP, r#"{"reduction":"batchmean"}"#, &[&y, &p]),
            sum / 2.0,
        );
        close(value(OP, r#"{"reduction":"sum"}"#, &[&y, &p]), sum);
        let (ly, lp) = (t(&ln(&tv), &[2, 2]), t(&ln(&pv), &[2, 2]));
        close(
            value(OP, r#"{"logInput":true,"reduction":"sum"}"#, &[&y, &lp]),
            sum,
        );
        // ln 0 = −∞ is a valid log target: its term is 0, not NaN.
        close(
            value(OP, r#"{"logTarget":true,"reduction":"sum"}"#, &[&ly, &p]),
            sum,
        );
        close(
            value(
                OP,
                r#"{"logTarget":true,"logInput":true,"reduction":"sum"}"#,
                &[&ly, &lp],
            ),
            sum,
        );
        // p = 0 is clipped to epsilon: finite, with no gradient.
        let (y0, p0) = (t(&[1.0], &[1]), t(&[0.0], &[1]));
        close(value(OP, "", &[&y0, &p0]), -(1e-7f64.ln()));
        close(
            value(OP, r#"{"epsilon":1e-3}"#, &[&y0, &p0]),
            -(1e-3f64.ln()),
        );
        let (_, g) = LossOp::new(OP, "", false)
            .unwrap()
            .value_and_grad(&[&y0, &p0])
            .unwrap();
        assert_eq!(g[0].data(), &[0.0]);
        let (_, g) = LossOp::new(OP, r#"{"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&y, &p])
            .unwrap();
        assert_eq!(g[0].data(), &[-2.0, -0.5 / 0.75, 0.0, -2.0]);
    }

    #[test]
    fn gradients() {
        let probs = |dims: &[usize], seed| {
            let n = normal(dims, seed);
            t(
                &n.data().iter().map(|v| v.exp() / 3.0).collect::<Vec<_>>(),
                dims,
            )
        };
        for (dims, seed) in [(&[3usize, 5][..], 1u64), (&[7][..], 2), (&[1, 4][..], 3)] {
            let mut y = probs(dims, seed + 10);
            y.data_mut()[0] = 0.0;
            let ly = t(&ln(y.data()), dims);
            gradcheck(OP, "", vec![y.clone(), probs(dims, seed)], 1e-3, 1e-3);
            gradcheck(
                OP,
                r#"{"reduction":"batchmean"}"#,
                vec![y.clone(), probs(dims, seed)],
                1e-3,
                1e-3,
            );
            gradcheck(
                OP,
                r#"{"logInput":true}"#,
                vec![y.clone(), normal(dims, seed)],
                1e-3,
                1e-3,
            );
            gradcheck(
                OP,
                r#"{"logTarget":true}"#,
                vec![ly.clone(), probs(dims, seed)],
                1e-3,
                1e-3,
            );
            gradcheck(
                OP,
                r#"{"logTarget":true,"logInput":true,"epsilon":0.01}"#,
                vec![ly, normal(dims, seed)],
                1e-3,
                1e-3,
            );
        }
    }

    #[test]
    fn errors() {
        let p = t(&[0.5, 0.5], &[2]);
        assert_eq!(
            err("", &[&t(&[-0.5, 1.5], &[2]), &p]),
            "klDivergence: invalid `yTrue`: expected probabilities ≥ 0 (pass logTarget: true for log-probabilities), received -0.5 at index 0"
        );
        assert_eq!(
            err(r#"{"logTarget":true}"#, &[&t(&[-0.5, 1.5], &[2]), &p]),
            ""
        );
        assert_eq!(
            err("", &[&t(&[0.5], &[1]), &p]),
            "klDivergence: invalid `yTrue`: expected the shape of `yPred`, [2], received shape [1]"
        );
        assert_eq!(
            err(r#"{"epsilon":0}"#, &[]),
            "klDivergence: invalid `epsilon`: expected a number in (0, 1), received 0"
        );
        assert_eq!(
            err(r#"{"logInput":1}"#, &[]),
            "klDivergence: invalid `logInput`: expected true or false, received 1"
        );
        assert_eq!(
            err(r#"{"log_target":true}"#, &[]),
            "klDivergence: invalid `config`: expected options among logInput, logTarget, epsilon, reduction, received unknown option `log_target`"
        );
    }
}

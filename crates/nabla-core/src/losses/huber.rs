//! Huber loss: with d = ŷ − y,
//!   l = 0.5·d²            if |d| ≤ δ
//!       δ·(|d| − 0.5·δ)   otherwise
//! dl/dŷ = clamp(d, −δ, δ) (continuous at |d| = δ). Computed in f64: no cancellation.
//! See: torch.nn.HuberLoss(delta), keras.losses.Huber(delta).

use super::{Config, Loss, Units};
use crate::error::Result;
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct Huber {
    pub delta: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["delta"])?;
    let delta = cfg.f64_where("delta", 1.0, "a number > 0", |v| v.is_finite() && v > 0.0)?;
    Ok(Box::new(Huber { delta }))
}

impl Huber {
    fn formula(&self, _x: &[&Tensor]) -> Result<Pointwise<'static>> {
        Ok(Pointwise::Huber { delta: self.delta })
    }
}

impl Loss for Huber {
    fn name(&self) -> &'static str {
        "huber"
    }

    pointwise_loss!();
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::autograd::Op;
    use crate::tensor::Tensor;

    fn err(config: &str, inputs: &[&Tensor]) -> String {
        error("huber", config, inputs)
    }

    #[test]
    fn is_quadratic_inside_delta_and_linear_outside() {
        // d = 0.5, −1, 3, −0.25
        let y = t(&[0.0, 1.0, -1.0, 0.25], &[4]);
        let p = t(&[0.5, 0.0, 2.0, 0.0], &[4]);
        // δ = 1: 0.125, 0.5 (boundary, both branches agree), 1·(3 − 0.5) = 2.5, 0.03125
        assert_eq!(
            value("huber", r#"{"reduction":"sum"}"#, &[&y, &p]),
            0.125 + 0.5 + 2.5 + 0.03125
        );
        assert_eq!(
            value("huber", "", &[&y, &p]),
            (0.125 + 0.5 + 2.5 + 0.03125) / 4.0
        );
        // δ = 0.4: 0.4·(0.5 − 0.2) = 0.12, 0.4·0.8 = 0.32, 0.4·2.8 = 1.12, 0.03125
        let op = LossOp::new("huber", r#"{"delta":0.4,"reduction":"none"}"#, false).unwrap();
        let v = op.forward(&[&y, &p]).unwrap();
        for (a, b) in v.data().iter().zip([0.12, 0.32, 1.12, 0.03125]) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        let (_, g) = LossOp::new("huber", r#"{"delta":0.4,"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&y, &p])
            .unwrap();
        assert_eq!(g[0].data(), &[0.4, -0.4, 0.4, -0.25]);
    }

    #[test]
    fn far_values_are_finite_and_exact() {
        let (y, p) = (t(&[0.0, 0.0], &[2]), t(&[1e4, -1e4], &[2]));
        assert_eq!(
            value("huber", r#"{"reduction":"sum"}"#, &[&y, &p]),
            2.0 * 9999.5
        );
    }

    #[test]
    fn gradcheck_for_several_deltas() {
        for cfg in ["", r#"{"delta":0.3}"#, r#"{"delta":2.5}"#] {
            for (i, dims) in [&[3, 5][..], &[7], &[1, 3]].iter().enumerate() {
                let s = 10 * i as u64;
                gradcheck(
                    "huber",
                    cfg,
                    vec![normal(dims, s + 1), normal(dims, s + 2)],
                    1e-3,
                    1e-3,
                );
            }
        }
    }

    #[test]
    fn rejects_bad_options_and_shapes() {
        let (a, b) = (normal(&[3], 1), normal(&[1, 3], 2));
        assert_eq!(
            err(r#"{"delta":0}"#, &[&a, &a]),
            "huber: invalid `delta`: expected a number > 0, received 0"
        );
        assert_eq!(
            err(r#"{"delta":-1}"#, &[&a, &a]),
            "huber: invalid `delta`: expected a number > 0, received -1"
        );
        assert_eq!(
            err(r#"{"delta":"1"}"#, &[&a, &a]),
            "huber: invalid `delta`: expected a number, received \"1\""
        );
        assert_eq!(
            err(r#"{"beta":1}"#, &[&a, &a]),
            "huber: invalid `config`: expected options among delta, reduction, received unknown option `beta`"
        );
        assert_eq!(
            err("", &[&a, &b]),
            "huber: invalid `yTrue`: expected the shape of `yPred`, [1, 3], received shape [3]"
        );
    }
}

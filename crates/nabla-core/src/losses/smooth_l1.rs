//! Smooth L1 loss: with d = ŷ − y,
//!   l = 0.5·d²/β      if |d| < β
//!       |d| − 0.5·β   otherwise
//! dl/dŷ = clamp(d/β, −1, 1). β = 0 is the L1 loss |d| with gradient sign(d), 0 at d = 0
//! (as torch, which calls l1_loss there). Huber with δ = β is β times this loss.
//! See: torch.nn.SmoothL1Loss(beta).

use super::{Config, Loss, Units};
use crate::error::Result;
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct SmoothL1 {
    pub beta: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["beta"])?;
    let beta = cfg.f64_where("beta", 1.0, "a number ≥ 0", |v| v.is_finite() && v >= 0.0)?;
    Ok(Box::new(SmoothL1 { beta }))
}

impl SmoothL1 {
    fn formula(&self, _x: &[&Tensor]) -> Result<Pointwise<'static>> {
        Ok(Pointwise::SmoothL1 { beta: self.beta })
    }
}

impl Loss for SmoothL1 {
    fn name(&self) -> &'static str {
        "smoothL1"
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
        error("smoothL1", config, inputs)
    }

    fn none(config: &str, y: &Tensor, p: &Tensor) -> Vec<f32> {
        let cfg = format!(r#"{{"reduction":"none"{}}}"#, config);
        let op = LossOp::new("smoothL1", &cfg, false).unwrap();
        op.forward(&[y, p]).unwrap().data().to_vec()
    }

    #[test]
    fn is_quadratic_below_beta_and_linear_above() {
        // d = 0.5, −1, 3, 0
        let y = t(&[0.0, 1.0, -1.0, 0.25], &[2, 2]);
        let p = t(&[0.5, 0.0, 2.0, 0.25], &[2, 2]);
        // β = 1: 0.125, 0.5 (boundary), 2.5, 0
        assert_eq!(none("", &y, &p), vec![0.125, 0.5, 2.5, 0.0]);
        assert_eq!(value("smoothL1", "", &[&y, &p]), 3.125 / 4.0);
        // β = 2: 0.0625, 0.25, 2, 0
        assert_eq!(none(r#","beta":2"#, &y, &p), vec![0.0625, 0.25, 2.0, 0.0]);
        // β = 0: |d|
        assert_eq!(none(r#","beta":0"#, &y, &p), vec![0.5, 1.0, 3.0, 0.0]);
        let grad = |cfg: &str| {
            let op = LossOp::new("smoothL1", cfg, false).unwrap();
            op.value_and_grad(&[&y, &p]).unwrap().1[0].data().to_vec()
        };
        assert_eq!(
            grad(r#"{"reduction":"sum","beta":2}"#),
            vec![0.25, -0.5, 1.0, 0.0]
        );
        assert_eq!(
            grad(r#"{"reduction":"sum","beta":0}"#),
            vec![1.0, -1.0, 1.0, 0.0]
        );
    }

    #[test]
    fn gradcheck_for_several_betas() {
        for cfg in ["", r#"{"beta":0}"#, r#"{"beta":0.3}"#, r#"{"beta":2.5}"#] {
            for (i, dims) in [&[3, 5][..], &[7], &[1, 3]].iter().enumerate() {
                let s = 10 * i as u64;
                gradcheck(
                    "smoothL1",
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
        let (a, b) = (normal(&[3], 1), normal(&[4], 2));
        assert_eq!(
            err(r#"{"beta":-0.5}"#, &[&a, &a]),
            "smoothL1: invalid `beta`: expected a number ≥ 0, received -0.5"
        );
        assert_eq!(
            err(r#"{"beta":true}"#, &[&a, &a]),
            "smoothL1: invalid `beta`: expected a number, received true"
        );
        assert_eq!(
            err(r#"{"delta":1}"#, &[&a, &a]),
            "smoothL1: invalid `config`: expected options among beta, reduction, received unknown option `delta`"
        );
        assert_eq!(
            err("", &[&a, &b]),
            "smoothL1: invalid `yTrue`: expected the shape of `yPred`, [4], received shape [3]"
        );
    }
}

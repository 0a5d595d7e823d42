//! Mean absolute percentage error, Keras's definition: with d = ŷ − y,
//!   l = 100·|d| / max(|y|, ε),   dl/dŷ = 100·sign(d) / max(|y|, ε) (0 at d = 0).
//! See: keras.losses.MeanAbsolutePercentageError (ε = keras.backend.epsilon() = 1e-7).

use super::{Config, Loss, Units};
use crate::error::Result;
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct Mape {
    pub epsilon: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["epsilon"])?;
    let epsilon = cfg.f64_where("epsilon", 1e-7, "a number > 0", |v| {
        v.is_finite() && v > 0.0
    })?;
    Ok(Box::new(Mape { epsilon }))
}

impl Mape {
    fn formula(&self, _x: &[&Tensor]) -> Result<Pointwise<'static>> {
        Ok(Pointwise::Mape { eps: self.epsilon })
    }
}

impl Loss for Mape {
    fn name(&self) -> &'static str {
        "mape"
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
        error("mape", config, inputs)
    }

    #[test]
    fn known_values_and_the_epsilon_floor() {
        let y = t(&[2.0, -4.0, 0.5, 0.0], &[4]);
        let p = t(&[1.0, -3.0, 0.5, 0.25], &[4]);
        // 50, 25, 0, 100·0.25/ε
        let op = LossOp::new("mape", r#"{"reduction":"none"}"#, false).unwrap();
        let v = op.forward(&[&y, &p]).unwrap();
        assert_eq!(&v.data()[..3], &[50.0, 25.0, 0.0]);
        assert_eq!(v.data()[3], 2.5e8);
        let y3 = t(&[2.0, -4.0, 0.5], &[3]);
        let p3 = t(&[1.0, -3.0, 0.5], &[3]);
        assert_eq!(value("mape", "", &[&y3, &p3]), 25.0);
        assert_eq!(
            value("mape", r#"{"epsilon":1,"reduction":"sum"}"#, &[&y, &p]),
            50.0 + 25.0 + 0.0 + 25.0
        );
        let (_, g) = LossOp::new("mape", r#"{"epsilon":1,"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&y, &p])
            .unwrap();
        assert_eq!(g[0].data(), &[-50.0, 25.0, 0.0, 100.0]);
    }

    #[test]
    fn gradcheck_for_several_epsilons() {
        for cfg in [
            "",
            r#"{"epsilon":0.5}"#,
            r#"{"epsilon":2,"reduction":"sum"}"#,
        ] {
            for (i, dims) in [&[3, 5][..], &[7], &[1, 3]].iter().enumerate() {
                let s = 10 * i as u64;
                gradcheck(
                    "mape",
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
        let (a, b) = (normal(&[3], 1), normal(&[3, 1], 2));
        assert_eq!(
            err(r#"{"epsilon":0}"#, &[&a, &a]),
            "mape: invalid `epsilon`: expected a number > 0, received 0"
        );
        assert_eq!(
            err(r#"{"eps":1}"#, &[&a, &a]),
            "mape: invalid `config`: expected options among epsilon, reduction, received unknown option `eps`"
        );
        assert_eq!(
            err("", &[&a, &b]),
            "mape: invalid `yTrue`: expected the shape of `yPred`, [3, 1], received shape [3]"
        );
    }
}

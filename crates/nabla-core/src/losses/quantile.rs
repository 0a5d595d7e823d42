//! Quantile (pinball) loss at quantile q: with e = y − ŷ,
//!   l = max(q·e, (q − 1)·e)   (q·e if e ≥ 0, (q − 1)·e otherwise)
//!   dl/dŷ = −q if e > 0, 1 − q if e < 0, 0 at e = 0.
//! Minimizing it makes ŷ the q-th quantile of y; q = 0.5 is half the absolute error.
//! See: tfa.losses.PinballLoss (torch and Keras have none).
//! NOTE: the subgradient at e = 0 is 0 (as mae's), where tf.maximum would pass −q.

use super::{Config, Loss, Units};
use crate::error::Result;
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct Quantile {
    pub q: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["q"])?;
    let q = cfg.f64_where("q", 0.5, "a number in (0, 1)", |v| v > 0.0 && v < 1.0)?;
    Ok(Box::new(Quantile { q }))
}

impl Quantile {
    fn formula(&self, _x: &[&Tensor]) -> Result<Pointwise<'static>> {
        Ok(Pointwise::Quantile { q: self.q })
    }
}

impl Loss for Quantile {
    fn name(&self) -> &'static str {
        "quantile"
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
        error("quantile", config, inputs)
    }

    #[test]
    fn known_values_for_several_quantiles() {
        // e = y − ŷ = 2, −2, 0
        let y = t(&[1.0, 1.0, 1.0], &[3]);
        let p = t(&[-1.0, 3.0, 1.0], &[3]);
        assert_eq!(value("quantile", r#"{"reduction":"sum"}"#, &[&y, &p]), 2.0);
        assert_eq!(value("quantile", "", &[&y, &p]), 2.0 / 3.0);
        let op = LossOp::new("quantile", r#"{"q":0.75,"reduction":"none"}"#, false).unwrap();
        assert_eq!(op.forward(&[&y, &p]).unwrap().data(), &[1.5, 0.5, 0.0]);
        let (_, g) = LossOp::new("quantile", r#"{"q":0.75,"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&y, &p])
            .unwrap();
        assert_eq!(g[0].data(), &[-0.75, 0.25, 0.0]);
        let v = value("quantile", r#"{"q":0.1,"reduction":"sum"}"#, &[&y, &p]);
        assert!((v - (0.2 + 1.8)).abs() < 1e-6, "{v}");
    }

    #[test]
    fn gradcheck_for_several_quantiles() {
        for cfg in ["", r#"{"q":0.1}"#, r#"{"q":0.9,"reduction":"sum"}"#] {
            for (i, dims) in [&[3, 5][..], &[7], &[1, 3]].iter().enumerate() {
                let s = 10 * i as u64;
                gradcheck(
                    "quantile",
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
        let (a, b) = (normal(&[3], 1), normal(&[1], 2));
        for (q, shown) in [("0", "0"), ("1", "1"), ("1.5", "1.5"), ("-0.2", "-0.2")] {
            assert_eq!(
                err(&format!(r#"{{"q":{q}}}"#), &[&a, &a]),
                format!("quantile: invalid `q`: expected a number in (0, 1), received {shown}")
            );
        }
        assert_eq!(
            err(r#"{"tau":0.5}"#, &[&a, &a]),
            "quantile: invalid `config`: expected options among q, reduction, received unknown option `tau`"
        );
        assert_eq!(
            err("", &[&a, &b]),
            "quantile: invalid `yTrue`: expected the shape of `yPred`, [1], received shape [3]"
        );
    }
}

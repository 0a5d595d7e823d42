//! Mean absolute error: l = |ŷ − y|, dl/dŷ = sign(ŷ − y), taken as 0 at ŷ = y (torch's
//! subgradient). See: torch.nn.L1Loss, keras.losses.MeanAbsoluteError.

use super::{Config, Loss, Units};
use crate::error::Result;
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct Mae;

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&[])?;
    Ok(Box::new(Mae))
}

impl Mae {
    fn formula(&self, _x: &[&Tensor]) -> Result<Pointwise<'static>> {
        Ok(Pointwise::Mae)
    }
}

impl Loss for Mae {
    fn name(&self) -> &'static str {
        "mae"
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
        error("mae", config, inputs)
    }

    #[test]
    fn is_the_mean_of_absolute_differences() {
        let (y, p) = (
            t(&[1.0, 2.0, 3.0, -1.0], &[2, 2]),
            t(&[1.5, 2.0, 1.0, 1.0], &[2, 2]),
        );
        assert_eq!(value("mae", "", &[&y, &p]), (0.5 + 0.0 + 2.0 + 2.0) / 4.0);
        assert_eq!(value("mae", r#"{"reduction":"sum"}"#, &[&y, &p]), 4.5);
        let op = LossOp::new("mae", r#"{"reduction":"none"}"#, false).unwrap();
        assert_eq!(op.forward(&[&y, &p]).unwrap().data(), &[0.5, 0.0, 2.0, 2.0]);
    }

    #[test]
    fn gradient_is_the_sign_and_zero_at_equality() {
        let (y, p) = (t(&[1.0, 2.0, 3.0], &[3]), t(&[1.5, 2.0, 1.0], &[3]));
        let op = LossOp::new("mae", r#"{"reduction":"sum"}"#, false).unwrap();
        let (_, g) = op.value_and_grad(&[&y, &p]).unwrap();
        assert_eq!(g[0].data(), &[1.0, 0.0, -1.0]);
        for dims in [&[3, 5][..], &[7], &[1, 4]] {
            gradcheck(
                "mae",
                "",
                vec![normal(dims, 1), normal(dims, 2)],
                1e-3,
                1e-3,
            );
        }
    }

    #[test]
    fn rejects_bad_shapes_dtypes_and_options() {
        let (a, b) = (normal(&[2, 3], 1), normal(&[3, 2], 2));
        assert_eq!(
            err("", &[&a, &b]),
            "mae: invalid `yTrue`: expected the shape of `yPred`, [3, 2], received shape [2, 3]"
        );
        let l = labels(&[0, 1, 0, 1, 0, 1], &[2, 3]);
        assert_eq!(
            err("", &[&l, &a]),
            "mae: invalid `yTrue`: expected a float32 tensor, received an int32 tensor"
        );
        assert_eq!(
            err(r#"{"delta":1}"#, &[&a, &a]),
            "mae: invalid `config`: expected options among reduction, received unknown option `delta`"
        );
    }
}

//! Mean squared logarithmic error, Keras's definition: with the clip at ε,
//!   l = (log1p(max(ŷ, ε)) − log1p(max(y, ε)))²
//!   dl/dŷ = 2·(log1p(ŷ) − log1p(max(y, ε))) / (1 + ŷ) where ŷ ≥ ε, 0 where ŷ < ε.
//! log1p in f64 keeps small values exact. See: keras.losses.MeanSquaredLogarithmicError
//! (ε = keras.backend.epsilon() = 1e-7 there).

use super::{Config, Loss, Units};
use crate::error::Result;
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct Msle {
    pub epsilon: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["epsilon"])?;
    let epsilon = cfg.f64_where("epsilon", 1e-7, "a number ≥ 0", |v| {
        v.is_finite() && v >= 0.0
    })?;
    Ok(Box::new(Msle { epsilon }))
}

impl Msle {
    fn formula(&self, _x: &[&Tensor]) -> Result<Pointwise<'static>> {
        Ok(Pointwise::Msle { eps: self.epsilon })
    }
}

impl Loss for Msle {
    fn name(&self) -> &'static str {
        "msle"
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
        error("msle", config, inputs)
    }

    fn positive(dims: &[usize], seed: u64) -> Tensor {
        t(
            &normal(dims, seed)
                .data()
                .iter()
                .map(|v| v.exp())
                .collect::<Vec<_>>(),
            dims,
        )
    }

    #[test]
    fn known_values_with_the_clip() {
        let e = std::f64::consts::E;
        // log1p(p) − log1p(t): ln 2 − 0 (t = 0 clipped to 1e-7), 0 − ln 2 (p = −3 clipped),
        // 1 − ln 2
        let y = t(&[0.0, 1.0, 1.0], &[3]);
        let p = t(&[1.0, -3.0, (e - 1.0) as f32], &[3]);
        let ln2 = std::f64::consts::LN_2;
        let expect = [
            (ln2 - 1e-7f64.ln_1p()).powi(2),
            (1e-7f64.ln_1p() - ln2).powi(2),
            (1.0 - ln2).powi(2),
        ];
        let op = LossOp::new("msle", r#"{"reduction":"none"}"#, false).unwrap();
        let v = op.forward(&[&y, &p]).unwrap();
        for (a, b) in v.data().iter().zip(expect) {
            assert!((*a as f64 - b).abs() < 1e-6, "{a} vs {b}");
        }
        assert!(
            (value("msle", "", &[&y, &p]) as f64 - expect.iter().sum::<f64>() / 3.0).abs() < 1e-6
        );
        // ε = 0.5: max(0, 0.5) and max(−3, 0.5)
        let ln15 = 1.5f64.ln();
        let expect = (ln2 - ln15).powi(2) + (ln15 - ln2).powi(2) + (1.0 - ln2).powi(2);
        let v = value("msle", r#"{"epsilon":0.5,"reduction":"sum"}"#, &[&y, &p]);
        assert!((v as f64 - expect).abs() < 1e-6, "{v} vs {expect}");
        // The gradient is 0 where ŷ is clipped.
        let (_, g) = LossOp::new("msle", r#"{"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&y, &p])
            .unwrap();
        assert_eq!(g[0].data()[1], 0.0);
        assert!((g[0].data()[0] as f64 - 2.0 * (ln2 - 1e-7f64.ln_1p()) / 2.0).abs() < 1e-6);
        assert!((g[0].data()[2] as f64 - 2.0 * (1.0 - ln2) / e).abs() < 1e-6);
    }

    #[test]
    fn gradcheck_for_several_epsilons() {
        for cfg in [
            "",
            r#"{"epsilon":0}"#,
            r#"{"epsilon":0.05,"reduction":"sum"}"#,
        ] {
            for (i, dims) in [&[3, 5][..], &[7], &[1, 3]].iter().enumerate() {
                let s = 10 * i as u64;
                gradcheck(
                    "msle",
                    cfg,
                    vec![positive(dims, s + 1), positive(dims, s + 2)],
                    1e-3,
                    1e-3,
                );
                // Negative targets are clipped; the gradient for ŷ still checks.
                gradcheck(
                    "msle",
                    cfg,
                    vec![normal(dims, s + 1), positive(dims, s + 2)],
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
            err(r#"{"epsilon":-1e-7}"#, &[&a, &a]),
            "msle: invalid `epsilon`: expected a number ≥ 0, received -0.0000001"
        );
        assert_eq!(
            err(r#"{"eps":1}"#, &[&a, &a]),
            "msle: invalid `config`: expected options among epsilon, reduction, received unknown option `eps`"
        );
        assert_eq!(
            err("", &[&a, &b]),
            "msle: invalid `yTrue`: expected the shape of `yPred`, [3, 1], received shape [3]"
        );
    }
}

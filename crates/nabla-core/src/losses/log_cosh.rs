//! Log-cosh loss: with d = ŷ − y, l = log(cosh(d)), dl/dŷ = tanh(d).
//! Stable forms (f64): log1p(2·sinh²(d/2)) for |d| < 1 (cosh d − 1 = 2·sinh²(d/2), exact
//! for tiny d where cosh(d) rounds to 1), and |d| + log1p(e^(−2|d|)) − log 2 otherwise
//! (cosh overflows beyond |d| ≈ 710; this form is exact for any finite d).
//! See: keras.losses.LogCosh (torch has none).

use super::{Config, Loss, Units};
use crate::error::Result;
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct LogCosh;

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&[])?;
    Ok(Box::new(LogCosh))
}

impl LogCosh {
    fn formula(&self, _x: &[&Tensor]) -> Result<Pointwise<'static>> {
        Ok(Pointwise::LogCosh)
    }
}

impl Loss for LogCosh {
    fn name(&self) -> &'static str {
        "logCosh"
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
        error("logCosh", config, inputs)
    }

    #[test]
    fn known_values_small_and_large() {
        let y = t(&[0.0, 1.0, 0.0, 0.0, 5.0], &[5]);
        let p = t(&[0.0, 2.0, 1e-4, 1e4, -1e4], &[5]);
        let op = LossOp::new("logCosh", r#"{"reduction":"none"}"#, false).unwrap();
        let v = op.forward(&[&y, &p]).unwrap();
        let small = 1e-4f32 as f64;
        let expect = [
            0.0,
            0.4337808304830271, // ln cosh 1
            small * small / 2.0 - small.powi(4) / 12.0,
            1e4 - std::f64::consts::LN_2,
            10005.0 - std::f64::consts::LN_2,
        ];
        for (a, b) in v.data().iter().zip(expect) {
            assert!(((*a as f64) - b).abs() <= 1e-6 * b.abs(), "{a} vs {b}");
        }
        assert!(
            (value("logCosh", "", &[&y, &p]) as f64 - expect.iter().sum::<f64>() / 5.0).abs()
                < 1e-2
        );
        let (_, g) = LossOp::new("logCosh", r#"{"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&y, &p])
            .unwrap();
        assert_eq!(
            g[0].data(),
            &[0.0, 1f64.tanh() as f32, (small.tanh()) as f32, 1.0, -1.0]
        );
    }

    #[test]
    fn gradcheck_on_odd_shapes() {
        for (i, dims) in [&[3, 5][..], &[7], &[1, 3]].iter().enumerate() {
            let s = 10 * i as u64;
            gradcheck(
                "logCosh",
                "",
                vec![normal(dims, s + 1), normal(dims, s + 2)],
                1e-3,
                1e-3,
            );
            let far = t(
                &normal(dims, s + 3)
                    .data()
                    .iter()
                    .map(|v| v * 4.0)
                    .collect::<Vec<_>>(),
                dims,
            );
            gradcheck(
                "logCosh",
                r#"{"reduction":"sum"}"#,
                vec![normal(dims, s + 1), far],
                1e-3,
                1e-3,
            );
        }
    }

    #[test]
    fn rejects_bad_options_and_shapes() {
        let (a, b) = (normal(&[3], 1), normal(&[4], 2));
        assert_eq!(
            err(r#"{"delta":1}"#, &[&a, &a]),
            "logCosh: invalid `config`: expected options among reduction, received unknown option `delta`"
        );
        assert_eq!(
            err("", &[&a, &b]),
            "logCosh: invalid `yTrue`: expected the shape of `yPred`, [4], received shape [3]"
        );
    }
}

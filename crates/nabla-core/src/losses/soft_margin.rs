//! Soft margin (logistic) loss for ±1 targets: l = log(1 + e^(−t·p)) = softplus(−t·p),
//! computed as max(z, 0) + log1p(e^(−|z|)) (finite and exact for |z| up to 1e4 and
//! beyond); dl/dp = −t·σ(−t·p). Elementwise units. See: torch.nn.SoftMarginLoss.
//!
//! NOTE: targets must be −1 or 1 (torch does not check; a 0 would silently give log 2).

use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct SoftMargin;

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&[])?;
    Ok(Box::new(SoftMargin))
}

/// Checks that the targets are all −1 or 1.
fn signs(x: &[&Tensor]) -> Result<()> {
    let (t, _) = same_shape("softMargin", ["yTrue", "yPred"], x[0], x[1])?;
    if let Some((i, v)) = t.iter().enumerate().find(|(_, &v)| v != 1.0 && v != -1.0) {
        return Err(Error::invalid(
            "softMargin",
            "yTrue",
            "targets that are −1 or 1",
            format!("{v} at index {i}"),
        ));
    }
    Ok(())
}

impl SoftMargin {
    fn formula(&self, x: &[&Tensor]) -> Result<Pointwise<'static>> {
        signs(x)?;
        Ok(Pointwise::SoftMargin)
    }
}

impl Loss for SoftMargin {
    fn name(&self) -> &'static str {
        "softMargin"
    }

    pointwise_loss!();
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use super::*;
    use crate::autograd::Op;
    use crate::kernels::pointwise::{sigmoid, softplus};

    fn err(cfg: &str, inputs: &[&Tensor]) -> String {
        error("softMargin", cfg, inputs)
    }

    #[test]
    fn known_values() {
        let (y, p) = (t(&[1.0, -1.0, 1.0], &[3]), t(&[0.0, 2.0, 1.0], &[3]));
        let want = [
            2f64.ln(),
            (1.0 + 2f64.exp()).ln(),
            (1.0 + (-1f64).exp()).ln(),
        ];
        let sum: f64 = want.iter().sum();
        assert!(
            (value("softMargin", r#"{"reduction":"sum"}"#, &[&y, &p]) as f64 - sum).abs() < 1e-6
        );
        assert!((value("softMargin", "", &[&y, &p]) as f64 - sum / 3.0).abs() < 1e-6);
        let op = LossOp::new("softMargin", r#"{"reduction":"none"}"#, false).unwrap();
        let none = op.forward(&[&y, &p]).unwrap();
        for (a, b) in none.data().iter().zip(want) {
            assert!((*a as f64 - b).abs() < 1e-6);
        }
    }

    #[test]
    fn large_margins_are_exact() {
        let y = t(&[1.0, -1.0, 1.0, -1.0], &[4]);
        let p = t(&[1e4, -1e4, -1e4, 1e4], &[4]);
        assert_eq!(
            value("softMargin", r#"{"reduction":"sum"}"#, &[&y, &p]),
            2e4
        );
        let (_, g) = LossOp::new("softMargin", r#"{"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&y, &p])
            .unwrap();
        assert_eq!(g[0].data(), &[-0.0, 0.0, -1.0, 1.0]);
        assert_eq!(softplus(-1e4), 0.0);
        assert_eq!(sigmoid(-1e4), 0.0);
        assert_eq!(sigmoid(1e4), 1.0);
    }

    #[test]
    fn gradients() {
        for (dims, seed) in [(&[3usize, 5][..], 1u64), (&[7][..], 2), (&[1, 4][..], 3)] {
            let n: usize = dims.iter().product();
            let y: Vec<f32> = (0..n)
                .map(|i| if i % 3 == 0 { 1.0 } else { -1.0 })
                .collect();
            gradcheck(
                "softMargin",
                "",
                vec![t(&y, dims), normal(dims, seed)],
                1e-3,
                1e-3,
            );
        }
    }

    #[test]
    fn errors() {
        let p = t(&[0.0, 1.0], &[2]);
        assert_eq!(
            err("", &[&t(&[1.0, 0.0], &[2]), &p]),
            "softMargin: invalid `yTrue`: expected targets that are −1 or 1, received 0 at index 1"
        );
        assert_eq!(
            err("", &[&t(&[1.0, 1.0, 1.0], &[3]), &p]),
            "softMargin: invalid `yTrue`: expected the shape of `yPred`, [2], received shape [3]"
        );
        assert_eq!(
            err(r#"{"margin":1}"#, &[]),
            "softMargin: invalid `config`: expected options among reduction, received unknown option `margin`"
        );
        assert!(err("", &[&labels(&[1, -1], &[2]), &p]).contains("float32"));
    }
}

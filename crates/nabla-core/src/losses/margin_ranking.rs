//! Margin ranking loss: y = 1 says x1 should rank above x2, y = −1 the reverse.
//! Elementwise units:
//!   l = max(0, −y·(x1 − x2) + m),  dl/dx1 = −y, dl/dx2 = y where the hinge is active
//! (gradient 0 at the kink, as torch's clamp). See: torch.nn.MarginRankingLoss.
//!
//! NOTE: labels must be exactly 1 or −1 (torch accepts any value, and 0 then gives a
//! constant loss of `margin`).

use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

pub struct MarginRanking {
    margin: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["margin"])?;
    Ok(Box::new(MarginRanking {
        margin: cfg.f64_where("margin", 0.0, "a finite number", f64::is_finite)?,
    }))
}

/// `yTrue` as ±1 labels (float32 or int32).
fn signs(op: &'static str, y: &Tensor) -> Result<Vec<f64>> {
    let v: Vec<f64> = match y.dtype() {
        DType::I32 => y.i32s(op, "yTrue")?.iter().map(|&v| v as f64).collect(),
        DType::F32 => y.f32s(op, "yTrue")?.iter().map(|&v| v as f64).collect(),
    };
    if let Some((i, bad)) = v
        .iter()
        .enumerate()
        .find(|(_, v)| **v != 1.0 && **v != -1.0)
    {
        return Err(Error::invalid(
            op,
            "yTrue",
            "labels of 1 (x1 ranks higher) or -1 (x2 ranks higher)",
            format!("{bad} at index {i}"),
        ));
    }
    Ok(v)
}

impl MarginRanking {
    /// Labels and the hinge argument −y·(x1 − x2) + m per element.
    fn hinge(&self, x: &[&Tensor]) -> Result<(Vec<f64>, Vec<f64>)> {
        let op = self.name();
        let (a, b) = same_shape(op, ["x1", "x2"], x[1], x[2])?;
        if x[0].dims() != x[1].dims() {
            return Err(Error::shape(
                op,
                "yTrue",
                format!("the shape of `x1`, {}", x[1].shape()),
                format!("shape {}", x[0].shape()),
            ));
        }
        let y = signs(op, x[0])?;
        let h = (0..y.len())
            .map(|i| -y[i] * (a[i] as f64 - b[i] as f64) + self.margin)
            .collect();
        Ok((y, h))
    }
}

impl Loss for MarginRanking {
    fn name(&self) -> &'static str {
        "marginRanking"
    }

    fn inputs(&self) -> &'static [&'static str] {
        &["yTrue", "x1", "x2"]
    }

    fn differentiable(&self) -> &'static [usize] {
        &[1, 2]
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let (_, h) = self.hinge(x)?;
        let values = h.iter().map(|&h| h.max(0.0) as f32).collect();
        Ok(Units::elementwise(Tensor::new(
            x[1].shape().clone(),
            values,
        )))
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let (y, h) = self.hinge(x)?;
        let g1: Vec<f32> = (0..y.len())
            .map(|i| {
                if h[i] > 0.0 {
                    -y[i] as f32 * up[i]
                } else {
                    0.0
                }
            })
            .collect();
        let g2 = g1.iter().map(|&g| -g).collect();
        Ok(vec![
            None,
            Some(Tensor::new(x[1].shape().clone(), g1)),
            Some(Tensor::new(x[2].shape().clone(), g2)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::autograd::Op;
    use crate::tensor::Tensor;

    const NAME: &str = "marginRanking";

    fn fails(cfg: &str, x: &[&Tensor]) -> String {
        error(NAME, cfg, x)
    }

    #[test]
    fn known_values() {
        let y = t(&[1.0, 1.0, -1.0, -1.0], &[2, 2]);
        let x1 = t(&[2.0, 0.0, 2.0, 0.0], &[2, 2]);
        let x2 = t(&[1.0, 0.5, 1.0, 0.5], &[2, 2]);
        // −y·(x1 − x2): −1, 0.5, 1, −0.5
        assert_eq!(value(NAME, r#"{"reduction":"sum"}"#, &[&y, &x1, &x2]), 1.5);
        assert_eq!(value(NAME, "", &[&y, &x1, &x2]), 1.5 / 4.0);
        let op = LossOp::new(NAME, r#"{"margin":1,"reduction":"none"}"#, false).unwrap();
        assert_eq!(
            op.forward(&[&y, &x1, &x2]).unwrap().data(),
            &[0.0, 1.5, 2.0, 0.5]
        );
        let op = LossOp::new(NAME, r#"{"margin":1,"reduction":"sum"}"#, false).unwrap();
        let (_, g) = op
            .value_and_grad(&[&labels(&[1, 1, -1, -1], &[2, 2]), &x1, &x2])
            .unwrap();
        assert_eq!(g[0].data(), &[0.0, -1.0, 1.0, 1.0]);
        assert_eq!(g[1].data(), &[0.0, 1.0, -1.0, -1.0]);
    }

    #[test]
    fn gradients() {
        let y = t(
            &[
                1.0, -1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0,
            ],
            &[3, 5],
        );
        for cfg in ["", r#"{"margin":0.7}"#, r#"{"margin":-0.3}"#] {
            gradcheck(
                NAME,
                cfg,
                vec![y.clone(), normal(&[3, 5], 1), normal(&[3, 5], 2)],
                1e-3,
                1e-3,
            );
            gradcheck(
                NAME,
                cfg,
                vec![t(&[-1.0], &[1]), normal(&[1], 3), normal(&[1], 4)],
                1e-3,
                1e-3,
            );
        }
    }

    #[test]
    fn errors() {
        let (a, b) = (normal(&[3], 1), normal(&[3], 2));
        assert_eq!(
            fails("", &[&t(&[1.0, 0.0, -1.0], &[3]), &a, &b]),
            "marginRanking: invalid `yTrue`: expected labels of 1 (x1 ranks higher) or -1 (x2 ranks higher), received 0 at index 1"
        );
        assert_eq!(
            fails("", &[&t(&[1.0], &[1]), &a, &b]),
            "marginRanking: invalid `yTrue`: expected the shape of `x1`, [3], received shape [1]"
        );
        assert!(fails("", &[&t(&[1.0; 3], &[3]), &a, &normal(&[4], 3)]).contains("invalid `x1`"));
        assert!(fails(r#"{"margin":null,"p":2}"#, &[]).contains("unknown option `p`"));
    }
}

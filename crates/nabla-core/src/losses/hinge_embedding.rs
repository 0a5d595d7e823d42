//! Hinge embedding loss on distances x (yPred) labelled similar (y = 1) or dissimilar
//! (y = −1). Elementwise units:
//!   l = x                 if y = 1    (dl/dx = 1)
//!   l = max(0, m − x)     if y = −1   (dl/dx = −1 where m − x > 0, else 0)
//! See: torch.nn.HingeEmbeddingLoss.
//!
//! NOTE: labels must be exactly 1 or −1 (torch gives any other value both terms).

use super::{Config, Loss, Units};
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

pub struct HingeEmbedding {
    margin: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["margin"])?;
    Ok(Box::new(HingeEmbedding {
        margin: cfg.f64_where("margin", 1.0, "a finite number", f64::is_finite)?,
    }))
}

/// `yTrue` as ±1 labels (float32 or int32) of yPred's shape.
fn signs(op: &'static str, y: &Tensor, x: &Tensor) -> Result<Vec<f64>> {
    x.f32s(op, "yPred")?;
    let v: Vec<f64> = match y.dtype() {
        DType::I32 => y.i32s(op, "yTrue")?.iter().map(|&v| v as f64).collect(),
        DType::F32 => y.f32s(op, "yTrue")?.iter().map(|&v| v as f64).collect(),
    };
    if y.dims() != x.dims() {
        return Err(Error::shape(
            op,
            "yTrue",
            format!("the shape of `yPred`, {}", x.shape()),
            format!("shape {}", y.shape()),
        ));
    }
    if let Some((i, bad)) = v
        .iter()
        .enumerate()
        .find(|(_, v)| **v != 1.0 && **v != -1.0)
    {
        return Err(Error::invalid(
            op,
            "yTrue",
            "labels of 1 (similar) or -1 (dissimilar)",
            format!("{bad} at index {i}"),
        ));
    }
    Ok(v)
}

impl Loss for HingeEmbedding {
    fn name(&self) -> &'static str {
        "hingeEmbedding"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let y = signs(self.name(), x[0], x[1])?;
        let d = x[1].data();
        let values = (0..y.len())
            .map(|i| {
                let d = d[i] as f64;
                (if y[i] > 0.0 {
                    d
                } else {
                    (self.margin - d).max(0.0)
                }) as f32
            })
            .collect();
        Ok(Units::elementwise(Tensor::new(
            x[1].shape().clone(),
            values,
        )))
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let y = signs(self.name(), x[0], x[1])?;
        let d = x[1].data();
        let g = (0..y.len())
            .map(|i| {
                if y[i] > 0.0 {
                    up[i]
                } else if self.margin - (d[i] as f64) > 0.0 {
                    -up[i]
                } else {
                    0.0
                }
            })
            .collect();
        Ok(vec![None, Some(Tensor::new(x[1].shape().clone(), g))])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::autograd::Op;
    use crate::tensor::Tensor;

    const NAME: &str = "hingeEmbedding";

    fn fails(cfg: &str, x: &[&Tensor]) -> String {
        error(NAME, cfg, x)
    }

    #[test]
    fn known_values() {
        let y = t(&[1.0, 1.0, -1.0, -1.0, -1.0], &[5]);
        let d = t(&[0.5, 2.0, 0.25, 1.0, 3.0], &[5]);
        let op = LossOp::new(NAME, r#"{"reduction":"none"}"#, false).unwrap();
        assert_eq!(
            op.forward(&[&y, &d]).unwrap().data(),
            &[0.5, 2.0, 0.75, 0.0, 0.0]
        );
        assert_eq!(value(NAME, "", &[&y, &d]), 3.25 / 5.0);
        assert_eq!(
            value(NAME, r#"{"margin":2,"reduction":"sum"}"#, &[&y, &d]),
            2.5 + 1.75 + 1.0
        );
        let op = LossOp::new(NAME, r#"{"reduction":"sum"}"#, false).unwrap();
        let (_, g) = op
            .value_and_grad(&[&labels(&[1, 1, -1, -1, -1], &[5]), &d])
            .unwrap();
        assert_eq!(g[0].data(), &[1.0, 1.0, -1.0, 0.0, 0.0]);
    }

    #[test]
    fn gradients() {
        let y = t(
            &[
                1.0, -1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0, -1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0,
            ],
            &[3, 5],
        );
        for cfg in ["", r#"{"margin":0.3}"#, r#"{"margin":2.5}"#] {
            gradcheck(NAME, cfg, vec![y.clone(), normal(&[3, 5], 1)], 1e-3, 1e-3);
            gradcheck(
                NAME,
                cfg,
                vec![t(&[-1.0], &[1]), t(&[0.1], &[1])],
                1e-3,
                1e-3,
            );
        }
    }

    #[test]
    fn errors() {
        let d = normal(&[3], 1);
        assert_eq!(
            fails("", &[&t(&[1.0, 0.0, -1.0], &[3]), &d]),
            "hingeEmbedding: invalid `yTrue`: expected labels of 1 (similar) or -1 (dissimilar), received 0 at index 1"
        );
        assert_eq!(
            fails("", &[&labels(&[1, -1], &[2]), &d]),
            "hingeEmbedding: invalid `yTrue`: expected the shape of `yPred`, [3], received shape [2]"
        );
        assert!(fails("", &[&t(&[1.0, 1.0], &[2]), &d]).contains("invalid `yTrue`"));
        assert!(fails("", &[&d, &labels(&[1, 1, 1], &[3])])
            .contains("invalid `yPred`: expected a float32"));
        assert!(fails(r#"{"margin":"wide"}"#, &[]).contains("invalid `margin`"));
    }
}

//! Negative log-likelihood of class labels given log-probabilities over the last axis:
//! l = −w_y·p[y] per row (0 for ignored labels); dl/dp[y] = −w_y, 0 elsewhere.
//! "mean" divides by Σ w_y over the non-ignored labels (torch's weighted mean; their
//! count without weights). No logs are taken, so nothing here can overflow.
//! See: torch.nn.NLLLoss (weight, ignore_index).
//!
//! NOTE: the class axis is the last one (`[..., C]`), not torch's axis 1 (`[N, C, d...]`).
//! Also home of the per-row helpers the other class-axis losses share.

use super::{class_labels, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Predictions `[..., C]` seen as rows of C scores.
pub(super) struct Rows {
    /// The number of classes (> 0).
    pub c: usize,
    pub rows: usize,
    /// The unit shape: the leading dims.
    pub shape: Shape,
    /// The first dim, or 1 for a single row `[C]`.
    pub batch: usize,
}

pub(super) fn rows(op: &'static str, pred: &Tensor) -> Result<Rows> {
    let c = classes(op, pred)?;
    let pd = pred.dims();
    Ok(Rows {
        c,
        rows: pred.numel() / c,
        shape: Shape::new(pd[..pd.len() - 1].to_vec()),
        batch: pd.first().copied().filter(|_| pd.len() > 1).unwrap_or(1),
    })
}

/// The length of the class (last) axis of scores, which must not be empty.
pub(super) fn classes(op: &'static str, pred: &Tensor) -> Result<usize> {
    match pred.dims().last() {
        Some(&c) if c > 0 => Ok(c),
        _ => Err(Error::shape(
            op,
            "yPred",
            "scores with a non-empty last (class) axis",
            format!("shape {}", pred.shape()),
        )),
    }
}

/// The `classWeights` option: finite weights ≥ 0, if given.
pub(super) fn class_weights(cfg: &Config) -> Result<Option<Vec<f32>>> {
    let w = cfg.f32_list("classWeights")?;
    if let Some(bad) = w.iter().flatten().find(|v| !(v.is_finite() && **v >= 0.0)) {
        return Err(Error::invalid(
            cfg.op,
            "classWeights",
            "finite weights ≥ 0",
            format!("{bad}"),
        ));
    }
    Ok(w)
}

/// Class weights must give one weight per class.
pub(super) fn check_class_weights(op: &'static str, w: &Option<Vec<f32>>, c: usize) -> Result<()> {
    match w {
        Some(w) if w.len() != c => Err(Error::shape(
            op,
            "classWeights",
            format!("{c} weights, one per class"),
            format!("{} weights", w.len()),
        )),
        _ => Ok(()),
    }
}

pub struct Nll {
    class_weights: Option<Vec<f32>>,
    ignore_index: i64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["classWeights", "ignoreIndex"])?;
    Ok(Box::new(Nll {
        class_weights: class_weights(cfg)?,
        ignore_index: cfg.int("ignoreIndex", -100)?,
    }))
}

impl Nll {
    /// Labels and log-probabilities, validated.
    fn inputs<'a>(&self, x: &[&'a Tensor]) -> Result<(&'a [i32], &'a [f32], Rows)> {
        let p = x[1].f32s("nll", "yPred")?;
        let r = rows("nll", x[1])?;
        check_class_weights("nll", &self.class_weights, r.c)?;
        let y = class_labels("nll", x[0], x[1], Some(self.ignore_index))?;
        Ok((y, p, r))
    }

    /// The weight of row label `y`, 0 if ignored.
    fn weight(&self, y: i32) -> f64 {
        if y as i64 == self.ignore_index {
            0.0
        } else {
            self.class_weights
                .as_ref()
                .map_or(1.0, |w| w[y as usize] as f64)
        }
    }
}

impl Loss for Nll {
    fn name(&self) -> &'static str {
        "nll"
    }

    /// Log-probabilities may hold log 0 = −∞ (a loss of +∞ where it is the label's).
    fn allows_infinity(&self, i: usize) -> bool {
        i == 1
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let (y, p, r) = self.inputs(x)?;
        let mut values = vec![0f32; r.rows];
        let mut denom = 0.0;
        for (i, &yi) in y.iter().enumerate() {
            let w = self.weight(yi);
            if w != 0.0 {
                values[i] = (-w * p[i * r.c + yi as usize] as f64) as f32;
            }
            denom += w;
        }
        Ok(Units {
            values: Tensor::new(r.shape, values),
            denom,
            batch: r.batch,
            saved: Vec::new(),
        })
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let (y, p, r) = self.inputs(x)?;
        let mut g = vec![0f32; p.len()];
        for (i, &yi) in y.iter().enumerate() {
            let w = self.weight(yi);
            if w != 0.0 {
                g[i * r.c + yi as usize] = (-w * up[i] as f64) as f32;
            }
        }
        Ok(vec![None, Some(Tensor::new(x[1].shape().clone(), g))])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use super::*;
    use crate::autograd::Op;

    fn err(cfg: &str, inputs: &[&Tensor]) -> String {
        error("nll", cfg, inputs)
    }

    fn logp() -> Tensor {
        t(&[-1.0, -2.0, -3.0, -0.5, -1.5, -2.5], &[2, 3])
    }

    #[test]
    fn known_values() {
        let p = logp();
        let y = labels(&[2, 0], &[2]);
        assert_eq!(value("nll", "", &[&y, &p]), 1.75);
        assert_eq!(value("nll", r#"{"reduction":"sum"}"#, &[&y, &p]), 3.5);
        // Weighted mean: (3·3 + 1·0.5) / (3 + 1).
        assert_eq!(
            value("nll", r#"{"classWeights":[1,2,3]}"#, &[&y, &p]),
            2.375
        );
        assert_eq!(value("nll", "", &[&labels(&[2, -100], &[2]), &p]), 3.0);
        assert_eq!(value("nll", r#"{"ignoreIndex":0}"#, &[&y, &p]), 3.0);
        assert_eq!(value("nll", "", &[&labels(&[-100, -100], &[2]), &p]), 0.0);
        // A single row [C] with a scalar label.
        assert_eq!(
            value("nll", "", &[&labels(&[1], &[]), &t(&[-1.0, -4.0], &[2])]),
            4.0
        );
        let op = LossOp::new(
            "nll",
            r#"{"reduction":"none","classWeights":[1,2,3]}"#,
            false,
        )
        .unwrap();
        assert_eq!(op.forward(&[&y, &p]).unwrap().data(), &[9.0, 0.5]);
    }

    #[test]
    fn gradients() {
        for cfg in [
            "",
            r#"{"classWeights":[0.5,2,1,0,3]}"#,
            r#"{"ignoreIndex":4,"classWeights":[1,2,1,1,1]}"#,
        ] {
            gradcheck(
                "nll",
                cfg,
                vec![labels(&[0, 4, 2], &[3]), normal(&[3, 5], 1)],
                1e-3,
                1e-3,
            );
            gradcheck(
                "nll",
                cfg,
                vec![labels(&[3], &[1]), normal(&[1, 5], 2)],
                1e-3,
                1e-3,
            );
            gradcheck(
                "nll",
                cfg,
                vec![labels(&[1, 2, 4, 0, 0, 4], &[2, 3]), normal(&[2, 3, 5], 3)],
                1e-3,
                1e-3,
            );
        }
        let (_, g) = LossOp::new("nll", r#"{"classWeights":[1,2,3]}"#, false)
            .unwrap()
            .value_and_grad(&[&labels(&[2, 0], &[2]), &logp()])
            .unwrap();
        assert_eq!(g[0].data(), &[0.0, 0.0, -0.75, -0.25, 0.0, 0.0]);
    }

    #[test]
    fn errors() {
        let p = logp();
        assert_eq!(
            err("", &[&labels(&[0, 3], &[2]), &p]),
            "nll: invalid `yTrue`: expected class indices in [0, 3) or ignoreIndex -100, received 3 at index 1"
        );
        assert_eq!(
            err("", &[&labels(&[0, 1, 2], &[3]), &p]),
            "nll: invalid `yTrue`: expected class indices of shape [2] (yPred's shape [2, 3] without its last, class axis), received shape [3]"
        );
        assert_eq!(
            err("", &[&t(&[0.0, 1.0], &[2]), &p]),
            "nll: invalid `yTrue`: expected an int32 tensor, received a float32 tensor"
        );
        assert_eq!(
            err(r#"{"classWeights":[1,2]}"#, &[&labels(&[0, 1], &[2]), &p]),
            "nll: invalid `classWeights`: expected 3 weights, one per class, received 2 weights"
        );
        assert_eq!(
            err(r#"{"classWeights":[1,-2,1]}"#, &[]),
            "nll: invalid `classWeights`: expected finite weights ≥ 0, received -2"
        );
        assert_eq!(
            err(r#"{"ignoreIndex":1.5}"#, &[]),
            "nll: invalid `ignoreIndex`: expected an integer, received 1.5"
        );
        assert_eq!(
            err("", &[&labels(&[0], &[]), &t(&[], &[0])]),
            "nll: invalid `yPred`: expected scores with a non-empty last (class) axis, received shape [0]"
        );
        assert_eq!(
            err(r#"{"weight":[1]}"#, &[]),
            "nll: invalid `config`: expected options among classWeights, ignoreIndex, reduction, received unknown option `weight`"
        );
    }
}

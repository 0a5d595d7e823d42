//! Soft Dice loss, one unit per sample (sums over every non-batch axis):
//!   l = 1 − N/D,  N = 2·Σ t·p + s,  D = Σ t + Σ p + s
//!   dl/dp_i = (N − 2·t_i·D) / D²
//! in f64. t and p are in [0, 1], so D ≥ s ≥ 0; D = 0 (s = 0 and an empty target and
//! prediction) is a perfect match: l = 0 with gradient 0, never 0/0.
//! See: keras.losses.Dice; segmentation_models_pytorch DiceLoss (torch has none).
//!
//! NOTE: Keras's Dice sums over the whole batch at once (axis=None) and has no
//! smoothing term; we compute one Dice per sample with `smooth` (default 1), so
//! "mean" is the mean over samples of 1 − Dice.

use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::Tensor;

pub struct Dice {
    smooth: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["smooth"])?;
    Ok(Box::new(Dice {
        smooth: cfg.f64_where("smooth", 1.0, "a finite number ≥ 0", |v| {
            v.is_finite() && v >= 0.0
        })?,
    }))
}

/// Targets and predictions of the same shape `[N, ...]` with values in [0, 1]; returns
/// them with the number of samples and the size of one sample. Shared with `tversky`.
pub(super) fn segmentation<'a>(
    op: &'static str,
    x: &[&'a Tensor],
) -> Result<(&'a [f32], &'a [f32], usize, usize)> {
    let (t, p) = same_shape(op, ["yTrue", "yPred"], x[0], x[1])?;
    let dims = x[1].dims();
    if dims.is_empty() {
        return Err(Error::shape(
            op,
            "yPred",
            "a batch of masks, shape [N, ...]",
            "a scalar (shape [])",
        ));
    }
    for (arg, v) in [("yTrue", t), ("yPred", p)] {
        if let Some((i, bad)) = v
            .iter()
            .enumerate()
            .find(|(_, v)| !(0.0..=1.0).contains(*v))
        {
            return Err(Error::invalid(
                op,
                arg,
                "values in [0, 1] (probabilities: apply a sigmoid or softmax to logits)",
                format!("{bad} at index {i}"),
            ));
        }
    }
    Ok((t, p, dims[0], dims[1..].iter().product()))
}

/// Units of shape [N] from per-sample values.
pub(super) fn per_sample(values: Vec<f32>) -> Units {
    let n = values.len();
    Units {
        values: Tensor::new(Shape::new(vec![n]), values),
        denom: n as f64,
        batch: n,
        saved: Vec::new(),
    }
}

impl Dice {
    /// N and D of one sample.
    fn terms(&self, t: &[f32], p: &[f32]) -> (f64, f64) {
        let (mut tp, mut st, mut sp) = (0.0f64, 0.0f64, 0.0f64);
        for (&a, &b) in t.iter().zip(p) {
            let (a, b) = (a as f64, b as f64);
            tp += a * b;
            st += a;
            sp += b;
        }
        (2.0 * tp + self.smooth, st + sp + self.smooth)
    }
}

impl Loss for Dice {
    fn name(&self) -> &'static str {
        "dice"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let (t, p, n, m) = segmentation(self.name(), x)?;
        let values = (0..n)
            .map(|r| {
                let (num, den) = self.terms(&t[r * m..(r + 1) * m], &p[r * m..(r + 1) * m]);
                if den == 0.0 {
                    0.0
                } else {
                    (1.0 - num / den) as f32
                }
            })
            .collect();
        Ok(per_sample(values))
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let (t, p, n, m) = segmentation(self.name(), x)?;
        let mut g = vec![0f32; p.len()];
        for r in 0..n {
            let (tr, pr) = (&t[r * m..(r + 1) * m], &p[r * m..(r + 1) * m]);
            let (num, den) = self.terms(tr, pr);
            if den == 0.0 {
                continue;
            }
            let u = up[r] as f64;
            for k in 0..m {
                g[r * m + k] = (u * (num - 2.0 * tr[k] as f64 * den) / (den * den)) as f32;
            }
        }
        Ok(vec![None, Some(Tensor::new(x[1].shape().clone(), g))])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::tensor::Tensor;

    const NAME: &str = "dice";

    fn none(cfg: &str, x: &[&Tensor]) -> Vec<f32> {
        super::super::testing::none(NAME, cfg, x)
    }

    fn fails(cfg: &str, x: &[&Tensor]) -> String {
        error(NAME, cfg, x)
    }

    /// Uniform in (0, 1), for masks and predictions.
    fn unit(dims: &[usize], seed: u64) -> Tensor {
        let v: Vec<f32> = normal(dims, seed)
            .data()
            .iter()
            .map(|x| 1.0 / (1.0 + (-x).exp()))
            .collect();
        t(&v, dims)
    }

    #[test]
    fn known_values() {
        // sample 0: Σtp = 1, Σt = 2, Σp = 1.5; sample 1: all zero.
        let y = t(&[1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], &[2, 2, 2]);
        let p = t(&[1.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0], &[2, 2, 2]);
        let l = none(r#","smooth":0"#, &[&y, &p]);
        assert!(
            (l[0] - (1.0 - 2.0 / 3.5)).abs() < 1e-6 && l[1] == 0.0,
            "{l:?}"
        );
        let l = none("", &[&y, &p]);
        assert!(
            (l[0] - (1.0 - 3.0 / 4.5)).abs() < 1e-6 && l[1] == 0.0,
            "{l:?}"
        );
        assert!((value(NAME, "", &[&y, &p]) - (1.0 - 3.0 / 4.5) / 2.0).abs() < 1e-6);
        // Perfect prediction gives 0; disjoint masks give 1 without smoothing.
        assert_eq!(value(NAME, r#"{"smooth":0}"#, &[&y, &y]), 0.0);
        let q = t(&[0.0, 0.0, 1.0, 1.0], &[1, 4]);
        let yy = t(&[1.0, 1.0, 0.0, 0.0], &[1, 4]);
        assert_eq!(value(NAME, r#"{"smooth":0}"#, &[&yy, &q]), 1.0);
        // The all-empty sample with smooth 0 has a zero gradient, not NaN.
        let op = LossOp::new(NAME, r#"{"smooth":0}"#, false).unwrap();
        let (_, g) = op.value_and_grad(&[&y, &p]).unwrap();
        assert!(g[0].data()[4..].iter().all(|&v| v == 0.0));
        assert!(g[0].data().iter().all(|v| v.is_finite()));
    }

    #[test]
    fn gradients() {
        for cfg in [
            "",
            r#"{"smooth":0}"#,
            r#"{"smooth":0.01}"#,
            r#"{"smooth":5}"#,
        ] {
            gradcheck(
                NAME,
                cfg,
                vec![unit(&[3, 5], 1), unit(&[3, 5], 2)],
                1e-3,
                1e-3,
            );
            gradcheck(
                NAME,
                cfg,
                vec![unit(&[1, 7], 3), unit(&[1, 7], 4)],
                1e-3,
                1e-3,
            );
            gradcheck(
                NAME,
                cfg,
                vec![unit(&[2, 3, 2, 1], 5), unit(&[2, 3, 2, 1], 6)],
                1e-3,
                1e-3,
            );
            gradcheck(NAME, cfg, vec![unit(&[7], 7), unit(&[7], 8)], 1e-3, 1e-3);
        }
    }

    #[test]
    fn errors() {
        let (a, b) = (unit(&[2, 3], 1), unit(&[3, 2], 2));
        assert_eq!(
            fails("", &[&a, &b]),
            "dice: invalid `yTrue`: expected the shape of `yPred`, [3, 2], received shape [2, 3]"
        );
        assert_eq!(
            fails("", &[&a, &t(&[0.5, 0.5, 1.5, 0.0, 0.0, 0.0], &[2, 3])]),
            "dice: invalid `yPred`: expected values in [0, 1] (probabilities: apply a sigmoid or softmax to logits), received 1.5 at index 2"
        );
        assert!(
            fails("", &[&t(&[f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0], &[2, 3]), &a])
                .contains("invalid `yTrue`")
        );
        assert!(fails(r#"{"smooth":-1}"#, &[])
            .contains("invalid `smooth`: expected a finite number ≥ 0"));
        assert!(fails(r#"{"alpha":1}"#, &[]).contains("unknown option `alpha`"));
        let s = t(&[1.0], &[]);
        assert!(fails("", &[&s, &s]).contains("received a scalar"));
    }
}

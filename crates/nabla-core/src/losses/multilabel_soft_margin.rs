//! Multi-label soft margin: independent logistic losses per class, averaged over the last
//! (class) axis, per row:
//!   l = −(1/C)·Σ_c w_c·(t_c·logσ(p_c) + (1−t_c)·logσ(−p_c))
//!     =  (1/C)·Σ_c w_c·(t_c·softplus(−p_c) + (1−t_c)·softplus(p_c))   (stable form)
//!   dl/dp_c = (w_c/C)·(σ(p_c) − t_c)
//! Finite and exact for logits of ±1e4. Units are rows `[...]` of t, p `[..., C]`.
//! See: torch.nn.MultiLabelSoftMarginLoss(weight).
//!
//! NOTE: targets must lie in [0, 1] (soft targets allowed, as in torch).

use super::nll::{check_class_weights, class_weights, rows, Rows};
use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::kernels::pointwise::{sigmoid, softplus};
use crate::tensor::Tensor;

const OP: &str = "multilabelSoftMargin";

pub struct MultilabelSoftMargin {
    class_weights: Option<Vec<f32>>,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["classWeights"])?;
    Ok(Box::new(MultilabelSoftMargin {
        class_weights: class_weights(cfg)?,
    }))
}

impl MultilabelSoftMargin {
    fn inputs<'a>(&self, x: &[&'a Tensor]) -> Result<(&'a [f32], &'a [f32], Rows)> {
        let (t, p) = same_shape(OP, ["yTrue", "yPred"], x[0], x[1])?;
        let r = rows(OP, x[1])?;
        check_class_weights(OP, &self.class_weights, r.c)?;
        if let Some((i, v)) = t
            .iter()
            .enumerate()
            .find(|(_, &v)| !(0.0..=1.0).contains(&v))
        {
            return Err(Error::invalid(
                OP,
                "yTrue",
                "targets in [0, 1]",
                format!("{v} at index {i}"),
            ));
        }
        Ok((t, p, r))
    }

    /// w_c / C for element `i`.
    fn scale(&self, i: usize, c: usize) -> f64 {
        self.class_weights.as_ref().map_or(1.0, |w| w[i % c] as f64) / c as f64
    }
}

impl Loss for MultilabelSoftMargin {
    fn name(&self) -> &'static str {
        OP
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let (t, p, r) = self.inputs(x)?;
        let mut values = vec![0f32; r.rows];
        for (row, v) in values.iter_mut().enumerate() {
            let s: f64 = (row * r.c..(row + 1) * r.c)
                .map(|i| {
                    let (t, p) = (t[i] as f64, p[i] as f64);
                    self.scale(i, r.c) * (t * softplus(-p) + (1.0 - t) * softplus(p))
                })
                .sum();
            *v = s as f32;
        }
        Ok(Units {
            values: Tensor::new(r.shape, values),
            denom: r.rows as f64,
            batch: r.batch,
            saved: Vec::new(),
        })
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let (t, p, r) = self.inputs(x)?;
        let g = (0..p.len())
            .map(|i| {
                let d = self.scale(i, r.c) * (sigmoid(p[i] as f64) - t[i] as f64);
                (up[i / r.c] as f64 * d) as f32
            })
            .collect();
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
        error(OP, cfg, inputs)
    }

    fn close(a: f32, b: f64) {
        assert!((a as f64 - b).abs() < 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
    }

    #[test]
    fn known_values() {
        let sp = |x: f64| (1.0 + x.exp()).ln();
        let y = t(&[1.0, 0.0, 0.0, 1.0], &[2, 2]);
        let p = t(&[0.0, 2.0, -1.0, 3.0], &[2, 2]);
        let rows = [(sp(0.0) + sp(2.0)) / 2.0, (sp(-1.0) + sp(-3.0)) / 2.0];
        let op = LossOp::new(OP, r#"{"reduction":"none"}"#, false).unwrap();
        let none = op.forward(&[&y, &p]).unwrap();
        close(none.data()[0], rows[0]);
        close(none.data()[1], rows[1]);
        close(value(OP, "", &[&y, &p]), (rows[0] + rows[1]) / 2.0);
        let w = (0.5 * sp(0.0) + 2.0 * sp(2.0)) / 2.0 + (0.5 * sp(-1.0) + 2.0 * sp(-3.0)) / 2.0;
        close(
            value(
                OP,
                r#"{"classWeights":[0.5,2],"reduction":"sum"}"#,
                &[&y, &p],
            ),
            w,
        );
        // Soft targets mix both terms.
        close(
            value(OP, "", &[&t(&[0.25], &[1]), &t(&[1.0], &[1])]),
            0.25 * sp(-1.0) + 0.75 * sp(1.0),
        );
    }

    #[test]
    fn large_logits_are_exact() {
        let y = t(&[1.0, 0.0, 1.0, 0.0], &[1, 4]);
        let p = t(&[1e4, -1e4, -1e4, 1e4], &[1, 4]);
        assert_eq!(value(OP, r#"{"reduction":"sum"}"#, &[&y, &p]), 5e3);
        let (_, g) = LossOp::new(OP, r#"{"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&y, &p])
            .unwrap();
        assert_eq!(g[0].data(), &[0.0, 0.0, -0.25, 0.25]);
    }

    #[test]
    fn gradients() {
        for cfg in ["", r#"{"classWeights":[0.5,2,1,0,3]}"#] {
            for (n, seed) in [(3usize, 1u64), (1, 2)] {
                let y: Vec<f32> = (0..n * 5)
                    .map(|i| ((i * 3) % 4 == 0) as u8 as f32)
                    .collect();
                let soft: Vec<f32> = (0..n * 5).map(|i| ((i * 7) % 5) as f32 / 4.0).collect();
                for y in [y, soft] {
                    gradcheck(
                        OP,
                        cfg,
                        vec![t(&y, &[n, 5]), normal(&[n, 5], seed)],
                        1e-3,
                        1e-3,
                    );
                }
            }
        }
        gradcheck(
            OP,
            "",
            vec![t(&[0.0, 1.0, 1.0], &[3]), normal(&[3], 3)],
            1e-3,
            1e-3,
        );
    }

    #[test]
    fn errors() {
        let p = t(&[0.0, 1.0, 2.0, 3.0], &[2, 2]);
        assert_eq!(
            err("", &[&t(&[1.0, -1.0, 0.0, 1.0], &[2, 2]), &p]),
            "multilabelSoftMargin: invalid `yTrue`: expected targets in [0, 1], received -1 at index 1"
        );
        assert_eq!(
            err(r#"{"classWeights":[1,2,3]}"#, &[&t(&[1.0, 0.0, 0.0, 1.0], &[2, 2]), &p]),
            "multilabelSoftMargin: invalid `classWeights`: expected 2 weights, one per class, received 3 weights"
        );
        assert_eq!(
            err(r#"{"classWeights":"x"}"#, &[]),
            "multilabelSoftMargin: invalid `classWeights`: expected a number or a list of numbers, received \"x\""
        );
        assert_eq!(
            err("", &[&t(&[1.0, 0.0], &[2]), &p]),
            "multilabelSoftMargin: invalid `yTrue`: expected the shape of `yPred`, [2, 2], received shape [2]"
        );
        assert_eq!(
            err(r#"{"weight":[1]}"#, &[]),
            "multilabelSoftMargin: invalid `config`: expected options among classWeights, reduction, received unknown option `weight`"
        );
    }
}

//! Multi-class margin (hinge) loss of class labels y against scores x over the last axis,
//! per row:
//!   l = (1/C)·Σ_{i≠y} w_y·max(0, margin − x_y + x_i)^p,   p ∈ {1, 2}
//! With z_i = margin − x_y + x_i > 0 and c_i = w_y·(1 or 2·z_i)/C: dl/dx_i = c_i and
//! dl/dx_y = −Σ c_i (0 at the kink z_i = 0). Units are rows `[...]` of x `[..., C]`;
//! "mean" divides by the number of rows (as torch: class weights do not enter the mean).
//! See: torch.nn.MultiMarginLoss(p, margin, weight).

use super::nll::{check_class_weights, class_weights, rows, Rows};
use super::{class_labels, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

const OP: &str = "multiMargin";

pub struct MultiMargin {
    power: i64,
    margin: f64,
    class_weights: Option<Vec<f32>>,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["p", "margin", "classWeights"])?;
    let power = cfg.int("p", 1)?;
    if power != 1 && power != 2 {
        return Err(Error::invalid(OP, "p", "1 or 2", format!("{power}")));
    }
    Ok(Box::new(MultiMargin {
        power,
        margin: cfg.f64_where("margin", 1.0, "a finite number", f64::is_finite)?,
        class_weights: class_weights(cfg)?,
    }))
}

impl MultiMargin {
    fn inputs<'a>(&self, x: &[&'a Tensor]) -> Result<(&'a [i32], &'a [f32], Rows)> {
        let s = x[1].f32s(OP, "yPred")?;
        let r = rows(OP, x[1])?;
        check_class_weights(OP, &self.class_weights, r.c)?;
        let y = class_labels(OP, x[0], x[1], None)?;
        Ok((y, s, r))
    }

    /// w_y / C for label `y`.
    fn scale(&self, y: usize, c: usize) -> f64 {
        self.class_weights.as_ref().map_or(1.0, |w| w[y] as f64) / c as f64
    }
}

impl Loss for MultiMargin {
    fn name(&self) -> &'static str {
        OP
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let (y, s, r) = self.inputs(x)?;
        let c = r.c;
        let values = y
            .iter()
            .enumerate()
            .map(|(row, &yi)| {
                let (xs, yi) = (&s[row * c..(row + 1) * c], yi as usize);
                let total: f64 = (0..c)
                    .filter(|&i| i != yi)
                    .map(|i| {
                        let z = (self.margin - xs[yi] as f64 + xs[i] as f64).max(0.0);
                        if self.power == 2 {
                            z * z
                        } else {
                            z
                        }
                    })
                    .sum();
                (self.scale(yi, c) * total) as f32
            })
            .collect();
        Ok(Units {
            values: Tensor::new(r.shape, values),
            denom: r.rows as f64,
            batch: r.batch,
            saved: Vec::new(),
        })
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let (y, s, r) = self.inputs(x)?;
        let c = r.c;
        let mut g = vec![0f32; s.len()];
        for (row, &yi) in y.iter().enumerate() {
            let (xs, gr, yi) = (
                &s[row * c..(row + 1) * c],
                &mut g[row * c..(row + 1) * c],
                yi as usize,
            );
            let k = up[row] as f64 * self.scale(yi, c);
            let mut gy = 0.0;
            for i in (0..c).filter(|&i| i != yi) {
                let z = self.margin - xs[yi] as f64 + xs[i] as f64;
                if z > 0.0 {
                    let d = k * if self.power == 2 { 2.0 * z } else { 1.0 };
                    gr[i] = d as f32;
                    gy -= d;
                }
            }
            gr[yi] = gy as f32;
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
        error(OP, cfg, inputs)
    }

    fn none(cfg: &str, y: &Tensor, x: &Tensor) -> Vec<f32> {
        let cfg = format!("{{\"reduction\":\"none\"{}}}", cfg);
        let op = LossOp::new(OP, &cfg, false).unwrap();
        op.forward(&[y, x]).unwrap().data().to_vec()
    }

    #[test]
    fn known_values() {
        // torch's doc example: x = [0.1, 0.2, 0.4, 0.8], y = 3 →
        // (max(0, 1 − 0.7) + max(0, 1 − 0.6) + max(0, 1 − 0.4)) / 4 = 0.325.
        let x = t(&[0.1, 0.2, 0.4, 0.8, 2.0, 0.0, 0.5, -1.0], &[2, 4]);
        let y = labels(&[3, 0], &[2]);
        let v = none("", &y, &x);
        assert!((v[0] - 0.325).abs() < 1e-6 && v[1] == 0.0);
        // Row 2 with margin 2.5: z = 0.5 + x_i for i ≠ 0 → (0.5 + 1 + max(0, −0.5)) / 4.
        let v = none(r#","margin":2.5"#, &y, &x);
        assert!((v[1] - (0.5 + 1.0 + 0.0) / 4.0).abs() < 1e-6);
        let v = none(r#","p":2"#, &y, &x);
        assert!((v[0] - (0.09 + 0.16 + 0.36) / 4.0).abs() < 1e-6);
        let v = none(r#","classWeights":[2,1,1,0.5]"#, &y, &x);
        assert!((v[0] - 0.1625).abs() < 1e-6);
        let mean = value(OP, "", &[&y, &x]);
        assert!((mean - 0.1625).abs() < 1e-6);
        let sum = value(OP, r#"{"reduction":"sum"}"#, &[&y, &x]);
        assert!((sum - 0.325).abs() < 1e-6);
        // A single row [C] with a scalar label.
        let one = value(OP, "", &[&labels(&[1], &[]), &t(&[1.0, 1.0], &[2])]);
        assert_eq!(one, 0.5);
    }

    #[test]
    fn gradients() {
        for cfg in [
            "",
            r#"{"p":2}"#,
            r#"{"margin":0.5,"classWeights":[1,2,0.5,0,3]}"#,
            r#"{"p":2,"margin":2,"classWeights":[1,2,0.5,1,3]}"#,
        ] {
            gradcheck(
                OP,
                cfg,
                vec![labels(&[0, 4, 2], &[3]), normal(&[3, 5], 1)],
                1e-3,
                1e-3,
            );
            gradcheck(
                OP,
                cfg,
                vec![labels(&[3], &[1]), normal(&[1, 5], 2)],
                1e-3,
                1e-3,
            );
            gradcheck(
                OP,
                cfg,
                vec![labels(&[1, 2, 4, 0, 0, 4], &[2, 3]), normal(&[2, 3, 5], 3)],
                1e-3,
                1e-3,
            );
        }
        let (_, g) = LossOp::new(OP, r#"{"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&labels(&[3], &[1]), &t(&[0.1, 0.2, 0.4, 0.8], &[1, 4])])
            .unwrap();
        assert_eq!(g[0].data(), &[0.25, 0.25, 0.25, -0.75]);
    }

    #[test]
    fn errors() {
        let x = t(&[0.0, 1.0, 2.0, 3.0], &[2, 2]);
        assert_eq!(
            err(r#"{"p":3}"#, &[]),
            "multiMargin: invalid `p`: expected 1 or 2, received 3"
        );
        assert_eq!(
            err(r#"{"p":1.5}"#, &[]),
            "multiMargin: invalid `p`: expected an integer, received 1.5"
        );
        assert_eq!(
            err(r#"{"margin":"1"}"#, &[]),
            "multiMargin: invalid `margin`: expected a number, received \"1\""
        );
        assert_eq!(
            err(r#"{"classWeights":[1,2,3]}"#, &[&labels(&[0, 1], &[2]), &x]),
            "multiMargin: invalid `classWeights`: expected 2 weights, one per class, received 3 weights"
        );
        assert_eq!(
            err("", &[&labels(&[0, 2], &[2]), &x]),
            "multiMargin: invalid `yTrue`: expected class indices in [0, 2), received 2 at index 1"
        );
        assert_eq!(
            err("", &[&labels(&[0, -100], &[2]), &x]),
            "multiMargin: invalid `yTrue`: expected class indices in [0, 2), received -100 at index 1"
        );
        assert_eq!(
            err("", &[&t(&[0.0, 1.0], &[2]), &x]),
            "multiMargin: invalid `yTrue`: expected an int32 tensor, received a float32 tensor"
        );
        assert_eq!(
            err(r#"{"weight":[1]}"#, &[]),
            "multiMargin: invalid `config`: expected options among p, margin, classWeights, reduction, received unknown option `weight`"
        );
    }
}

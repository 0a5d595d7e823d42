//! Cosine similarity loss, one unit per row of the last axis:
//!   l = −s / max(n, ε),  s = Σ t·p,  n = ‖t‖·‖p‖
//!   dl/dp = −t/n + s·p/(‖p‖²·n)   where n > ε
//!         = −t/ε                  where the clamp is active (p near 0)
//! computed in f64. Minimizing l aligns the prediction with the target; −1 is perfect.
//! See: keras.losses.CosineSimilarity (which returns the negative, as here),
//! torch.nn.CosineSimilarity (a similarity, not a loss: it returns +cos).
//!
//! NOTE: Keras normalizes each vector by sqrt(max(Σx², 1e-12)); we clamp the product of
//! the norms at `epsilon` (torch's cosine_similarity), which differs only for vectors of
//! norm ≲ 1e-4.

use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::Tensor;

pub struct CosineSimilarity {
    epsilon: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["epsilon"])?;
    Ok(Box::new(CosineSimilarity {
        epsilon: cfg.f64_where("epsilon", 1e-8, "a finite number > 0", |v| {
            v > 0.0 && v.is_finite()
        })?,
    }))
}

/// Σ t·p, ‖t‖ and ‖p‖ of one row, in f64.
fn row_stats(t: &[f32], p: &[f32]) -> (f64, f64, f64) {
    let (mut s, mut tt, mut pp) = (0.0f64, 0.0f64, 0.0f64);
    for (&a, &b) in t.iter().zip(p) {
        let (a, b) = (a as f64, b as f64);
        s += a * b;
        tt += a * a;
        pp += b * b;
    }
    (s, tt.sqrt(), pp.sqrt())
}

impl Loss for CosineSimilarity {
    fn name(&self) -> &'static str {
        "cosineSimilarity"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let op = self.name();
        let (t, p) = same_shape(op, ["yTrue", "yPred"], x[0], x[1])?;
        let dims = x[1].dims();
        if dims.is_empty() {
            return Err(Error::shape(
                op,
                "yPred",
                "vectors along a last axis (rank ≥ 1)",
                "a scalar (shape [])",
            ));
        }
        let d = dims[dims.len() - 1];
        let lead = &dims[..dims.len() - 1];
        let rows: usize = lead.iter().product();
        let values = (0..rows)
            .map(|r| {
                let (s, nt, np) = row_stats(&t[r * d..(r + 1) * d], &p[r * d..(r + 1) * d]);
                (-s / (nt * np).max(self.epsilon)) as f32
            })
            .collect();
        Ok(Units {
            values: Tensor::new(Shape::new(lead.to_vec()), values),
            denom: rows as f64,
            batch: if dims.len() > 1 { dims[0] } else { 1 },
            saved: Vec::new(),
        })
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let (t, p) = (x[0].data(), x[1].data());
        let d = *x[1].dims().last().unwrap_or(&1);
        let mut g = vec![0f32; p.len()];
        for (r, &u) in up.iter().enumerate() {
            let (tr, pr) = (&t[r * d..(r + 1) * d], &p[r * d..(r + 1) * d]);
            let (s, nt, np) = row_stats(tr, pr);
            let n = nt * np;
            let u = u as f64;
            for k in 0..d {
                let (tk, pk) = (tr[k] as f64, pr[k] as f64);
                let dk = if n > self.epsilon {
                    -tk / n + s * pk / (np * np * n)
                } else {
                    -tk / self.epsilon
                };
                g[r * d + k] = (u * dk) as f32;
            }
        }
        Ok(vec![None, Some(Tensor::new(x[1].shape().clone(), g))])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::autograd::Op;
    use crate::tensor::Tensor;

    fn none(cfg: &str, x: &[&Tensor]) -> Tensor {
        let cfg = format!(r#"{{"reduction":"none"{}}}"#, cfg);
        LossOp::new("cosineSimilarity", &cfg, false)
            .unwrap()
            .forward(x)
            .unwrap()
    }

    fn fails(cfg: &str, x: &[&Tensor]) -> String {
        error("cosineSimilarity", cfg, x)
    }

    #[test]
    fn known_values() {
        let y = t(&[1.0, 0.0, 0.0, 1.0, 3.0, 4.0], &[3, 2]);
        let p = t(&[2.0, 0.0, 1.0, 0.0, -3.0, -4.0], &[3, 2]);
        // rows: aligned (−1), orthogonal (0), opposite (+1)
        assert_eq!(value("cosineSimilarity", "", &[&y, &p]), 0.0);
        let v = none("", &[&y, &p]);
        assert_eq!(v.dims(), &[3]);
        assert_eq!(v.data(), &[-1.0, 0.0, 1.0]);
        let p2 = t(&[1.0, 1.0, 0.0, 2.0, 3.0, 4.0], &[3, 2]);
        let s = value("cosineSimilarity", r#"{"reduction":"sum"}"#, &[&y, &p2]);
        assert!((s - (-(0.5f32).sqrt() - 2.0)).abs() < 1e-6);
        // A zero prediction: the clamp gives 0 and a finite gradient −t/ε.
        let (yt, z) = (t(&[1.0, 2.0], &[1, 2]), t(&[0.0, 0.0], &[1, 2]));
        assert_eq!(value("cosineSimilarity", "", &[&yt, &z]), 0.0);
        let op = LossOp::new("cosineSimilarity", r#"{"epsilon":0.5}"#, false).unwrap();
        let (_, g) = op.value_and_grad(&[&yt, &z]).unwrap();
        assert_eq!(g[0].data(), &[-2.0, -4.0]);
        // A rank-1 input is one row: a single unit of shape [].
        let one = t(&[1.0, 1.0], &[2]);
        assert!((value("cosineSimilarity", "", &[&one, &one]) + 1.0).abs() < 1e-6);
        assert_eq!(none("", &[&one, &one]).dims(), &[] as &[usize]);
    }

    #[test]
    fn gradients() {
        for cfg in ["", r#"{"epsilon":1e-3}"#, r#"{"epsilon":100}"#] {
            for (dims, s) in [(&[3, 5][..], 1), (&[1, 7][..], 3), (&[2, 3, 4][..], 5)] {
                gradcheck(
                    "cosineSimilarity",
                    cfg,
                    vec![normal(dims, s), normal(dims, s + 1)],
                    1e-3,
                    1e-3,
                );
            }
        }
    }

    #[test]
    fn errors() {
        let (a, b) = (normal(&[2, 3], 1), normal(&[3, 2], 2));
        assert_eq!(
            fails("", &[&a, &b]),
            "cosineSimilarity: invalid `yTrue`: expected the shape of `yPred`, [3, 2], received shape [2, 3]"
        );
        assert_eq!(
            fails(r#"{"epsilon":0}"#, &[&a, &a]),
            "cosineSimilarity: invalid `epsilon`: expected a finite number > 0, received 0"
        );
        assert!(fails(r#"{"margin":1}"#, &[&a, &a]).contains("unknown option `margin`"));
        assert!(fails("", &[&t(&[1.0], &[]), &t(&[1.0], &[])]).contains("rank ≥ 1"));
        assert!(fails("", &[&labels(&[1, 2, 3, 4, 5, 6], &[2, 3]), &a]).contains("float32"));
    }
}

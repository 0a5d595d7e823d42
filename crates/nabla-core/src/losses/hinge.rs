//! Hinge loss for ±1 targets: l = max(0, 1 − t·p); dl/dp = −t where 1 − t·p > 0, else 0
//! (0 at the kink). Elementwise units. `squared_hinge.rs` squares it with this code.
//! As Keras does, targets that are all 0 or 1 are first mapped to −1/1 (t ← 2t − 1);
//! the decision is made for the whole tensor. See: keras.losses.Hinge.
//!
//! NOTE: targets must be all in {−1, 1} or all in {0, 1}; Keras accepts any values.

use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct Hinge {
    pub op: &'static str,
    pub squared: bool,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&[])?;
    Ok(Box::new(Hinge {
        op: "hinge",
        squared: false,
    }))
}

impl Hinge {
    /// The formula, after checking the targets: `binary` if they are all 0 or 1 (taken
    /// as 2t − 1), otherwise all −1 or 1.
    fn formula(&self, x: &[&Tensor]) -> Result<Pointwise<'static>> {
        let (t, _) = same_shape(self.op, ["yTrue", "yPred"], x[0], x[1])?;
        let binary = t.iter().all(|&v| v == 0.0 || v == 1.0);
        if !binary {
            if let Some((i, v)) = t.iter().enumerate().find(|(_, &v)| v != 1.0 && v != -1.0) {
                return Err(Error::invalid(
                    self.op,
                    "yTrue",
                    "targets that are all −1 or 1, or all 0 or 1",
                    format!("{v} at index {i} (with values outside {{0, 1}})"),
                ));
            }
        }
        Ok(Pointwise::Hinge {
            binary,
            squared: self.squared,
        })
    }
}

impl Loss for Hinge {
    fn name(&self) -> &'static str {
        self.op
    }

    pointwise_loss!();
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use super::*;
    use crate::autograd::Op;

    fn err(cfg: &str, inputs: &[&Tensor]) -> String {
        error("hinge", cfg, inputs)
    }

    fn none(y: &Tensor, p: &Tensor) -> Vec<f32> {
        let op = LossOp::new("hinge", r#"{"reduction":"none"}"#, false).unwrap();
        op.forward(&[y, p]).unwrap().data().to_vec()
    }

    #[test]
    fn known_values() {
        let p = t(&[0.5, -2.0, 0.25, 3.0], &[2, 2]);
        let y = t(&[1.0, 1.0, -1.0, -1.0], &[2, 2]);
        assert_eq!(none(&y, &p), [0.5, 3.0, 1.25, 4.0]);
        assert_eq!(value("hinge", "", &[&y, &p]), 8.75 / 4.0);
        assert_eq!(value("hinge", r#"{"reduction":"sum"}"#, &[&y, &p]), 8.75);
        // 0/1 targets are the same as −1/1.
        let y01 = t(&[1.0, 1.0, 0.0, 0.0], &[2, 2]);
        assert_eq!(none(&y01, &p), [0.5, 3.0, 1.25, 4.0]);
        // All ones: binary, so nothing changes.
        assert_eq!(none(&t(&[1.0; 4], &[2, 2]), &p), [0.5, 3.0, 0.75, 0.0]);
        let (_, g) = LossOp::new("hinge", r#"{"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&t(&[1.0, -1.0, 1.0], &[3]), &t(&[2.0, 0.0, 1.0], &[3])])
            .unwrap();
        assert_eq!(g[0].data(), &[0.0, 1.0, 0.0]);
    }

    #[test]
    fn gradients() {
        for (dims, seed) in [(&[3usize, 5][..], 1u64), (&[7][..], 2), (&[1, 4][..], 3)] {
            let n: usize = dims.iter().product();
            let pm: Vec<f32> = (0..n)
                .map(|i| if i % 3 == 0 { 1.0 } else { -1.0 })
                .collect();
            let zo: Vec<f32> = (0..n).map(|i| (i % 2) as f32).collect();
            for y in [pm, zo] {
                gradcheck(
                    "hinge",
                    "",
                    vec![t(&y, dims), normal(dims, seed)],
                    1e-3,
                    1e-3,
                );
            }
        }
    }

    #[test]
    fn errors() {
        let p = t(&[0.0, 1.0, 2.0], &[3]);
        assert_eq!(
            err("", &[&t(&[1.0, 0.0, -1.0], &[3]), &p]),
            "hinge: invalid `yTrue`: expected targets that are all −1 or 1, or all 0 or 1, received 0 at index 1 (with values outside {0, 1})"
        );
        assert_eq!(
            err("", &[&t(&[1.0, 0.5, 1.0], &[3]), &p]),
            "hinge: invalid `yTrue`: expected targets that are all −1 or 1, or all 0 or 1, received 0.5 at index 1 (with values outside {0, 1})"
        );
        assert_eq!(
            err("", &[&t(&[1.0, 1.0], &[2]), &p]),
            "hinge: invalid `yTrue`: expected the shape of `yPred`, [3], received shape [2]"
        );
        assert_eq!(
            err(r#"{"margin":1}"#, &[]),
            "hinge: invalid `config`: expected options among reduction, received unknown option `margin`"
        );
    }
}

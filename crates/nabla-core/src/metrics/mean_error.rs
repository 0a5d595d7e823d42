//! Mean squared and mean absolute error over every element seen since the last reset:
//!   mse = Σ (ŷ − y)² / n,   mae = Σ |ŷ − y| / n,
//! with the sums kept in f64, so a stream of batches gives the one-big-batch value.
//! yTrue and yPred are floats of the same shape (or differing by a trailing axis of 1).
//! See: keras.metrics.MeanSquaredError, MeanAbsoluteError; torchmetrics.MeanSquaredError.
//!
//! NOTE: Keras averages per-sample means; with every sample the same size (any one
//! model's output) that is the same number.

use super::{finite, paired, Metric};
use crate::error::Result;
use crate::losses::Config;
use crate::tensor::Tensor;

pub struct MeanError {
    op: &'static str,
    squared: bool,
    sum: f64,
    count: u64,
}

fn build(cfg: &Config, op: &'static str, squared: bool) -> Result<Box<dyn Metric>> {
    super::no_options(cfg)?;
    Ok(Box::new(MeanError {
        op,
        squared,
        sum: 0.0,
        count: 0,
    }))
}

pub fn build_mse(cfg: &Config) -> Result<Box<dyn Metric>> {
    build(cfg, "mse", true)
}

pub fn build_mae(cfg: &Config) -> Result<Box<dyn Metric>> {
    build(cfg, "mae", false)
}

impl Metric for MeanError {
    fn name(&self) -> &'static str {
        self.op
    }

    fn reset(&mut self) {
        self.sum = 0.0;
        self.count = 0;
    }

    fn update(&mut self, y_true: &Tensor, y_pred: &Tensor) -> Result<()> {
        y_true.f32s(self.op, "yTrue")?;
        y_pred.f32s(self.op, "yPred")?;
        paired(self.op, y_true, y_pred)?;
        let (t, p) = (
            finite(self.op, "yTrue", y_true)?,
            finite(self.op, "yPred", y_pred)?,
        );
        let sum: f64 = t
            .iter()
            .zip(p)
            .map(|(&t, &p)| {
                let d = p as f64 - t as f64;
                if self.squared {
                    d * d
                } else {
                    d.abs()
                }
            })
            .sum();
        self.sum += sum;
        self.count += t.len() as u64;
        Ok(())
    }

    fn result(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::make;
    use super::super::testing::*;

    #[test]
    fn means_over_all_elements() {
        let y = t(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
        let p = t(&[1.5, 2.0, 1.0, 5.0], &[2, 2]);
        // differences 0.5, 0, −2, 1
        assert_eq!(value("mse", "", &y, &p), (0.25 + 0.0 + 4.0 + 1.0) / 4.0);
        assert_eq!(value("mae", "", &y, &p), (0.5 + 0.0 + 2.0 + 1.0) / 4.0);
        let col = t(&[1.5, 2.0, 1.0, 5.0], &[4, 1]);
        assert_eq!(
            value("mae", "", &t(&[1.0, 2.0, 3.0, 4.0], &[4]), &col),
            3.5 / 4.0
        );
    }

    #[test]
    fn batches_of_different_sizes_weigh_by_their_elements() {
        let mut m = make("mse", "").unwrap();
        m.update(&t(&[0.0], &[1]), &t(&[3.0], &[1])).unwrap();
        m.update(&t(&[0.0, 0.0, 0.0], &[3]), &t(&[1.0, 1.0, 1.0], &[3]))
            .unwrap();
        assert_eq!(m.result(), (9.0 + 3.0) / 4.0);
        // Sums in f64: small errors on top of large ones are not lost.
        let mut m = make("mae", "").unwrap();
        m.update(&t(&[0.0], &[1]), &t(&[1e8], &[1])).unwrap();
        for _ in 0..3 {
            m.update(&t(&[0.0], &[1]), &t(&[1.0], &[1])).unwrap();
        }
        assert_eq!(m.result(), (1e8 + 3.0) / 4.0);
    }

    #[test]
    fn errors_name_the_argument() {
        let p = t(&[1.0, 2.0], &[2]);
        assert_eq!(
            error("mse", "", &labels(&[1, 2], &[2]), &p),
            "mse: invalid `yTrue`: expected a float32 tensor, received an int32 tensor"
        );
        assert_eq!(
            error("mae", "", &t(&[1.0, 2.0, 3.0], &[3]), &p),
            "mae: invalid `yTrue`: expected the shape of `yPred`, [2], received shape [3]"
        );
        assert_eq!(
            error("mse", "", &t(&[1.0, 2.0], &[2]), &t(&[1.0, 2.0], &[1, 2])),
            "mse: invalid `yTrue`: expected the shape of `yPred`, [1, 2], received shape [2]"
        );
        assert_eq!(
            error("mse", "", &p, &t(&[f32::NEG_INFINITY, 2.0], &[2])),
            "mse: invalid `yPred`: expected finite values, received -inf at index 0"
        );
    }
}

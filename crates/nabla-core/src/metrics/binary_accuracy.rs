//! Binary accuracy: the share of elements where (yPred > threshold) = (yTrue > 0.5),
//! threshold 0.5 by default (0 for logits). yTrue is 0/1, float or int32; the shapes
//! are equal or differ by a trailing axis of 1. Multi-label outputs count every element.
//! See: keras.metrics.BinaryAccuracy, torchmetrics.BinaryAccuracy.
//!
//! NOTE: Keras compares yTrue to the thresholded prediction for equality; we threshold
//! yTrue at 0.5 too, so soft (label-smoothed) targets still count as their class.

use super::{binary, ratio, Metric};
use crate::error::Result;
use crate::losses::Config;
use crate::tensor::Tensor;

const OP: &str = "binaryAccuracy";

pub struct BinaryAccuracy {
    threshold: f64,
    hits: u64,
    total: u64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Metric>> {
    cfg.check_keys(&["threshold"])?;
    Ok(Box::new(BinaryAccuracy {
        threshold: threshold(cfg)?,
        hits: 0,
        total: 0,
    }))
}

/// The decision threshold on yPred: any finite number (0.5 for probabilities, 0 for logits).
pub(super) fn threshold(cfg: &Config) -> Result<f64> {
    cfg.f64_where("threshold", 0.5, "a finite number", f64::is_finite)
}

impl Metric for BinaryAccuracy {
    fn name(&self) -> &'static str {
        OP
    }

    fn reset(&mut self) {
        self.hits = 0;
        self.total = 0;
    }

    fn update(&mut self, y_true: &Tensor, y_pred: &Tensor) -> Result<()> {
        let (mut hits, mut total) = (0, 0);
        for (t, p) in binary(OP, y_true, y_pred, self.threshold)? {
            hits += u64::from(t == p);
            total += 1;
        }
        self.hits += hits;
        self.total += total;
        Ok(())
    }

    fn result(&self) -> f64 {
        ratio(self.hits, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn thresholds_predictions_and_targets() {
        let p = t(&[0.9, 0.2, 0.6, 0.5, -0.3, 0.1], &[2, 3]);
        let y = t(&[1.0, 0.0, 0.0, 1.0, 0.0, 1.0], &[2, 3]);
        // yPred > 0.5: 1 0 1 0 0 0 → matches at 0, 1, 4 → 3/6
        assert_eq!(value("binaryAccuracy", "", &y, &p), 0.5);
        // > 0: 1 1 1 1 0 1 → matches at 0, 3, 4, 5 → 4/6
        assert_eq!(
            value("binaryAccuracy", r#"{"threshold":0}"#, &y, &p),
            4.0 / 6.0
        );
        let y_int = labels(&[1, 0, 0, 1, 0, 1], &[2, 3]);
        assert_eq!(value("binaryAccuracy", "", &y_int, &p), 0.5);
        // Soft targets count as their class; [N] pairs with [N, 1].
        let soft = t(&[0.9, 0.1, 0.1, 0.9], &[4]);
        let col = t(&[0.8, 0.7, 0.2, 0.4], &[4, 1]);
        assert_eq!(value("binaryAccuracy", "", &soft, &col), 0.5);
    }

    #[test]
    fn errors_name_the_argument() {
        let p = t(&[0.9, 0.2, 0.6], &[3]);
        assert_eq!(
            error("binaryAccuracy", "", &t(&[1.0, 0.0], &[2]), &p),
            "binaryAccuracy: invalid `yTrue`: expected the shape of `yPred`, [3], received shape [2]"
        );
        assert_eq!(
            error("binaryAccuracy", "", &t(&[1.0, f32::NAN, 0.0], &[3]), &p),
            "binaryAccuracy: invalid `yTrue`: expected finite values, received NaN at index 1"
        );
        assert_eq!(
            error("binaryAccuracy", "", &p, &labels(&[1, 0, 1], &[3])),
            "binaryAccuracy: invalid `yPred`: expected a float32 tensor, received an int32 tensor"
        );
        assert_eq!(error("binaryAccuracy", r#"{"threshold":null}"#, &p, &p), "");
    }
}

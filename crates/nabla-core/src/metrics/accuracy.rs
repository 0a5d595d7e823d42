//! Accuracy: the share of predictions that name the true class, read from the shapes as
//! Keras's compile reads "accuracy":
//!   yPred [..., C], C > 1: argmax(yPred) = y for class indices y of shape [...] or
//!                          [..., 1] (int32, or integer-valued floats), or
//!                          argmax(yPred) = argmax(yTrue) for one-hot or probability
//!                          targets of yPred's shape (sparse / categorical accuracy);
//!   yPred [..., 1]:        one sigmoid output per sample: (yPred > 0.5) = (yTrue > 0.5),
//!                          yTrue of shape [..., 1] or [...] (binary accuracy).
//! Ties in an argmax go to the first class, as in numpy, TensorFlow and torch.
//! See: keras.metrics.SparseCategoricalAccuracy, CategoricalAccuracy, BinaryAccuracy;
//! torchmetrics.Accuracy.
//!
//! NOTE: a single output column is read as a probability (threshold 0.5), as Keras
//! does; for a logit use `binaryAccuracy({ threshold: 0 })`.

use super::{binary, no_options, ratio, scores, true_classes_into, Metric, Values};
use crate::error::Result;
use crate::losses::Config;
use crate::tensor::Tensor;

const OP: &str = "accuracy";

#[derive(Default)]
pub struct Accuracy {
    hits: u64,
    total: u64,
    /// The batch's true classes, reused from update to update.
    classes: Vec<usize>,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Metric>> {
    no_options(cfg)?;
    Ok(Box::new(Accuracy::default()))
}

impl Metric for Accuracy {
    fn name(&self) -> &'static str {
        OP
    }

    fn reset(&mut self) {
        self.hits = 0;
        self.total = 0;
    }

    fn update(&mut self, y_true: &Tensor, y_pred: &Tensor) -> Result<()> {
        let (p, c) = scores(OP, y_pred)?;
        let (hits, total) = if c == 1 {
            let (mut hits, mut total) = (0, 0);
            for (t, p) in binary(OP, y_true, y_pred, 0.5)? {
                hits += u64::from(t == p);
                total += 1;
            }
            (hits, total)
        } else {
            let classes = &mut self.classes;
            true_classes_into(OP, y_true, y_pred, c, true, classes)?;
            let p = Values::F32(p);
            let hits = classes
                .iter()
                .enumerate()
                .filter(|&(r, &y)| p.argmax(r * c, c) == y)
                .count();
            (hits as u64, classes.len() as u64)
        };
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

    fn scores4() -> crate::tensor::Tensor {
        // argmax per row: 1, 0, 2, 1 (row 3 ties 0.4 at classes 1 and 2: the first wins)
        t(
            &[0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.2, 0.2, 0.6, 0.2, 0.4, 0.4],
            &[4, 3],
        )
    }

    #[test]
    fn counts_argmax_matches_for_labels_and_targets() {
        let p = scores4();
        // hits: row 0 (1 = 1), row 1 (0 = 0); misses: row 2 (2 ≠ 1), row 3 (1 ≠ 2)
        assert_eq!(value("accuracy", "", &labels(&[1, 0, 1, 2], &[4]), &p), 0.5);
        assert_eq!(
            value("accuracy", "", &labels(&[1, 0, 1, 2], &[4, 1]), &p),
            0.5
        );
        assert_eq!(
            value("accuracy", "", &t(&[1.0, 0.0, 1.0, 2.0], &[4]), &p),
            0.5
        );
        assert_eq!(value("accuracy", "", &labels(&[1, 0, 2, 1], &[4]), &p), 1.0);
        let one_hot = t(&[0., 1., 0., 1., 0., 0., 0., 1., 0., 0., 0., 1.], &[4, 3]);
        assert_eq!(value("accuracy", "", &one_hot, &p), 0.5);
        let probs = t(
            &[0.2, 0.5, 0.3, 0.6, 0.3, 0.1, 0.1, 0.1, 0.8, 0.3, 0.3, 0.4],
            &[4, 3],
        );
        assert_eq!(value("accuracy", "", &probs, &p), 0.75);
        // Sequences [batch, time, classes] with labels [batch, time].
        let seq = t(&[0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7], &[2, 2, 2]);
        assert_eq!(
            value("accuracy", "", &labels(&[0, 1, 1, 1], &[2, 2]), &seq),
            0.75
        );
    }

    #[test]
    fn one_output_column_is_binary_accuracy_at_one_half() {
        let p = t(&[0.9, 0.2, 0.6, 0.5], &[4, 1]);
        // yPred > 0.5: 1, 0, 1, 0 (0.5 is not above); yTrue 1, 0, 0, 1 → 2 of 4
        assert_eq!(
            value("accuracy", "", &t(&[1.0, 0.0, 0.0, 1.0], &[4, 1]), &p),
            0.5
        );
        assert_eq!(value("accuracy", "", &labels(&[1, 0, 0, 1], &[4]), &p), 0.5);
    }

    #[test]
    fn errors_name_the_argument() {
        let p = scores4();
        let e = |y: &crate::tensor::Tensor, p: &crate::tensor::Tensor| error("accuracy", "", y, p);
        assert_eq!(
            e(&labels(&[1, 0, 3, 2], &[4]), &p),
            "accuracy: invalid `yTrue`: expected class indices in [0, 3), received 3 at index 2"
        );
        assert_eq!(
            e(&labels(&[1, 0, -1, 2], &[4]), &p),
            "accuracy: invalid `yTrue`: expected class indices in [0, 3), received -1 at index 2"
        );
        assert_eq!(
            e(&labels(&[1, 0, 1], &[3]), &p),
            "accuracy: invalid `yTrue`: expected class indices of shape [4] (yPred's shape \
             without its class axis), or targets of yPred's shape [4, 3], received shape [3]"
        );
        assert_eq!(
            e(&labels(&[1, 0, 1, 2], &[4]), &labels(&[0; 12], &[4, 3])),
            "accuracy: invalid `yPred`: expected a float32 tensor, received an int32 tensor"
        );
        assert_eq!(
            e(&labels(&[1], &[]), &t(&[0.3], &[])),
            "accuracy: invalid `yPred`: expected class scores of shape [..., classes], received a scalar (shape [])"
        );
        assert_eq!(
            e(&labels(&[0; 4], &[4]), &t(&[], &[4, 0])),
            "accuracy: invalid `yPred`: expected at least one class on the last axis, received shape [4, 0]"
        );
        assert_eq!(
            e(&t(&[0.0, f32::INFINITY, 0.0, 1.0], &[4]), &p),
            "accuracy: invalid `yTrue`: expected finite values, received inf at index 1"
        );
        assert_eq!(
            e(&t(&[1.0, 0.0], &[2]), &t(&[0.3, 0.7, 0.1], &[3, 1])),
            "accuracy: invalid `yTrue`: expected the shape of `yPred`, [3, 1], received shape [2]"
        );
        assert_eq!(e(&labels(&[], &[0]), &t(&[], &[0, 3])), "");
    }
}

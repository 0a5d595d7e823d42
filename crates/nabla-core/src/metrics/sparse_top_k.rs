//! Sparse top-k accuracy: the share of rows whose true class is among the k highest
//! scores. Class indices y of shape [...] or [..., 1] (int32, or integer-valued floats)
//! against scores [..., C]; k = 5 by default, and every row is a hit when k ≥ C.
//!
//! Ties: a row is a hit when its label's score is ≥ the k-th largest score, i.e. when
//! fewer than k scores are strictly greater than it; classes tied at the boundary all
//! count as in the top k (TensorFlow's `in_top_k` does the same). O(C) per row, no sort.
//! See: keras.metrics.SparseTopKCategoricalAccuracy, torchmetrics.Accuracy(top_k=k).
//!
//! NOTE: an implementation that sorts (torch.topk) may break such ties by index and
//! count fewer hits on tied scores.

use super::{ratio, scores, true_classes, Metric};
use crate::error::{Error, Result};
use crate::losses::Config;
use crate::tensor::Tensor;

const OP: &str = "sparseTopK";

pub struct SparseTopK {
    k: usize,
    hits: u64,
    total: u64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Metric>> {
    cfg.check_keys(&["k"])?;
    let k = cfg.int("k", 5)?;
    if k < 1 {
        return Err(Error::invalid(
            OP,
            "k",
            "a positive integer",
            format!("{k}"),
        ));
    }
    Ok(Box::new(SparseTopK {
        k: usize::try_from(k).unwrap_or(usize::MAX),
        hits: 0,
        total: 0,
    }))
}

impl Metric for SparseTopK {
    fn name(&self) -> &'static str {
        OP
    }

    fn reset(&mut self) {
        self.hits = 0;
        self.total = 0;
    }

    fn update(&mut self, y_true: &Tensor, y_pred: &Tensor) -> Result<()> {
        let (p, c) = scores(OP, y_pred)?;
        let classes = true_classes(OP, y_true, y_pred, c, false)?;
        let hits = classes
            .iter()
            .enumerate()
            .filter(|&(r, &y)| {
                let row = &p[r * c..(r + 1) * c];
                row.iter().filter(|&&s| s > row[y]).count() < self.k
            })
            .count();
        self.hits += hits as u64;
        self.total += classes.len() as u64;
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
    fn counts_labels_among_the_k_largest() {
        let p = t(
            &[
                0.1, 0.5, 0.3, 0.05, 0.05, // ranks: 1 > 2 > 0 > 3 = 4
                0.4, 0.3, 0.2, 0.1, 0.0, //  0 > 1 > 2 > 3 > 4
                0.2, 0.2, 0.2, 0.2, 0.2, //  all tied
            ],
            &[3, 5],
        );
        let y = labels(&[0, 3, 4], &[3]);
        // k = 1: only the tied row hits (0.2 ≥ the largest, 0.2)
        assert_eq!(value("sparseTopK", r#"{"k":1}"#, &y, &p), 1.0 / 3.0);
        // k = 3: row 0 (third), row 2; not row 1 (fourth)
        assert_eq!(value("sparseTopK", r#"{"k":3}"#, &y, &p), 2.0 / 3.0);
        // k = 4: row 1 too; class 3 of row 0 at the tied 4th/5th place would also be in
        assert_eq!(value("sparseTopK", r#"{"k":4}"#, &y, &p), 1.0);
        assert_eq!(
            value("sparseTopK", r#"{"k":4}"#, &labels(&[4, 4, 4], &[3, 1]), &p),
            2.0 / 3.0
        );
        assert_eq!(
            value("sparseTopK", r#"{"k":4}"#, &labels(&[3, 4, 0], &[3]), &p),
            2.0 / 3.0
        );
        // The default k = 5 ≥ C: every row.
        assert_eq!(value("sparseTopK", "", &labels(&[4, 4, 4], &[3]), &p), 1.0);
    }

    #[test]
    fn errors_name_the_argument() {
        let p = t(&[0.1, 0.9, 0.5, 0.5], &[2, 2]);
        assert_eq!(
            error("sparseTopK", r#"{"k":0}"#, &labels(&[0, 1], &[2]), &p),
            "sparseTopK: invalid `k`: expected a positive integer, received 0"
        );
        assert_eq!(
            error("sparseTopK", r#"{"k":2.5}"#, &labels(&[0, 1], &[2]), &p),
            "sparseTopK: invalid `k`: expected an integer, received 2.5"
        );
        assert_eq!(
            error("sparseTopK", "", &t(&[0.0, 1.0, 1.0, 0.0], &[2, 2]), &p),
            "sparseTopK: invalid `yTrue`: expected class indices of shape [2] (yPred's shape \
             without its class axis), received shape [2, 2]"
        );
        assert_eq!(
            error("sparseTopK", "", &labels(&[0, 2], &[2]), &p),
            "sparseTopK: invalid `yTrue`: expected class indices in [0, 2), received 2 at index 1"
        );
    }
}

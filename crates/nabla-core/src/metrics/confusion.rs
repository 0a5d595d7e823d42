//! Precision, recall and F1 from streaming counts of true positives (tp), false
//! positives (fp) and false negatives (fn):
//!   precision = tp / (tp + fp),  recall = tp / (tp + fn),  f1 = 2·P·R / (P + R),
//! each 0 when its denominator is (Keras's divide-no-NaN; torchmetrics' zero_division=0).
//! Two modes:
//!   binary (default): yTrue and yPred of the same shape (or differing by a trailing
//!     axis of 1); an element is predicted positive when yPred > threshold (0.5; 0 for
//!     logits) and truly positive when yTrue > 0.5 (yTrue float or int32). Multi-label
//!     outputs pool every element (micro average).
//!   classId: k: one class of a multiclass output, one-vs-rest: yPred [..., C] scores, a
//!     row is predicted positive when argmax(yPred) = k (ties: the first class), and is
//!     truly positive when its class is k, from class indices [...] or [..., 1] or
//!     one-hot / probability targets [..., C], as for `accuracy`.
//! See: keras.metrics.Precision, Recall, F1Score; torchmetrics BinaryPrecision and
//! MulticlassPrecision(average=None)[k].
//!
//! NOTE: with `classId` the prediction is the argmax, so `threshold` is not used; Keras's
//! `class_id` instead thresholds the score of class k alone.

use super::binary_accuracy::threshold;
use super::{binary, ratio, scores, true_classes, Metric, Values};
use crate::error::{Error, Result};
use crate::losses::Config;
use crate::tensor::Tensor;

#[derive(Clone, Copy)]
enum Kind {
    Precision,
    Recall,
    F1,
}

pub struct Confusion {
    op: &'static str,
    kind: Kind,
    threshold: f64,
    class_id: Option<usize>,
    tp: u64,
    fp: u64,
    fn_: u64,
}

fn build(cfg: &Config, op: &'static str, kind: Kind) -> Result<Box<dyn Metric>> {
    cfg.check_keys(&["threshold", "classId"])?;
    let threshold = threshold(cfg)?;
    let class_id =
        match cfg.raw("classId") {
            None => None,
            Some(_) => {
                let k = cfg.int("classId", 0)?;
                Some(usize::try_from(k).map_err(|_| {
                    Error::invalid(op, "classId", "a class index ≥ 0", format!("{k}"))
                })?)
            }
        };
    Ok(Box::new(Confusion {
        op,
        kind,
        threshold,
        class_id,
        tp: 0,
        fp: 0,
        fn_: 0,
    }))
}

pub fn build_precision(cfg: &Config) -> Result<Box<dyn Metric>> {
    build(cfg, "precision", Kind::Precision)
}

pub fn build_recall(cfg: &Config) -> Result<Box<dyn Metric>> {
    build(cfg, "recall", Kind::Recall)
}

pub fn build_f1(cfg: &Config) -> Result<Box<dyn Metric>> {
    build(cfg, "f1", Kind::F1)
}

impl Confusion {
    /// (truly positive, predicted positive) counted as (tp, fp, fn) over one batch.
    fn count(pairs: impl Iterator<Item = (bool, bool)>) -> (u64, u64, u64) {
        pairs.fold((0, 0, 0), |(tp, fp, fn_), (t, p)| {
            (
                tp + u64::from(t && p),
                fp + u64::from(!t && p),
                fn_ + u64::from(t && !p),
            )
        })
    }
}

impl Metric for Confusion {
    fn name(&self) -> &'static str {
        self.op
    }

    fn reset(&mut self) {
        self.tp = 0;
        self.fp = 0;
        self.fn_ = 0;
    }

    fn update(&mut self, y_true: &Tensor, y_pred: &Tensor) -> Result<()> {
        let (tp, fp, fn_) = match self.class_id {
            None => Confusion::count(binary(self.op, y_true, y_pred, self.threshold)?),
            Some(k) => {
                let (p, c) = scores(self.op, y_pred)?;
                if k >= c {
                    return Err(Error::invalid(
                        self.op,
                        "classId",
                        format!("a class of yPred, in [0, {c})"),
                        format!("{k}"),
                    ));
                }
                let classes = true_classes(self.op, y_true, y_pred, c, true)?;
                let p = Values::F32(p);
                Confusion::count(
                    classes
                        .iter()
                        .enumerate()
                        .map(|(r, &y)| (y == k, p.argmax(r * c, c) == k)),
                )
            }
        };
        self.tp += tp;
        self.fp += fp;
        self.fn_ += fn_;
        Ok(())
    }

    fn result(&self) -> f64 {
        let precision = ratio(self.tp, self.tp + self.fp);
        let recall = ratio(self.tp, self.tp + self.fn_);
        match self.kind {
            Kind::Precision => precision,
            Kind::Recall => recall,
            Kind::F1 if precision + recall == 0.0 => 0.0,
            Kind::F1 => 2.0 * precision * recall / (precision + recall),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn binary_counts() {
        let y = t(&[1., 1., 1., 0., 0., 1., 0., 0.], &[8]);
        let p = t(&[0.9, 0.4, 0.7, 0.8, 0.1, 0.2, 0.3, 0.5], &[8]);
        // predicted positive: 0, 2, 3 (0.5 is not above 0.5) → tp = 2, fp = 1, fn = 2
        assert!(close(value("precision", "", &y, &p), 2.0 / 3.0));
        assert!(close(value("recall", "", &y, &p), 2.0 / 4.0));
        let (pr, re) = (2.0 / 3.0, 0.5);
        assert!(close(value("f1", "", &y, &p), 2.0 * pr * re / (pr + re)));
        // threshold 0.35: positives 0, 1, 2, 3, 7 → tp = 3, fp = 2, fn = 1
        assert!(close(
            value("precision", r#"{"threshold":0.35}"#, &y, &p),
            3.0 / 5.0
        ));
        assert!(close(
            value("recall", r#"{"threshold":0.35}"#, &y, &p),
            3.0 / 4.0
        ));
        let y_int = labels(&[1, 1, 1, 0, 0, 1, 0, 0], &[8, 1]);
        assert!(close(value("recall", "", &y_int, &t(p.data(), &[8])), 0.5));
    }

    #[test]
    fn undefined_values_are_zero() {
        let y = t(&[0.0, 0.0], &[2]);
        let p = t(&[0.1, 0.2], &[2]);
        // Nothing predicted positive and nothing positive: P, R and F1 all 0.
        for name in ["precision", "recall", "f1"] {
            assert_eq!(value(name, "", &y, &p), 0.0, "{name}");
        }
        // Positives all missed: P undefined (0), R = 0, F1 = 0.
        assert_eq!(value("f1", "", &t(&[1.0, 1.0], &[2]), &p), 0.0);
    }

    #[test]
    fn class_id_is_one_vs_rest_on_the_argmax() {
        // argmax per row: 2, 0, 2, 1, 2
        let p = t(
            &[
                0.1, 0.2, 0.7, 0.6, 0.3, 0.1, 0.2, 0.3, 0.5, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4,
            ],
            &[5, 3],
        );
        let y = labels(&[2, 0, 1, 2, 2], &[5]);
        // class 2: predicted rows 0, 2, 4; true rows 0, 3, 4 → tp = 2, fp = 1, fn = 1
        let cfg = r#"{"classId":2}"#;
        assert!(close(value("precision", cfg, &y, &p), 2.0 / 3.0));
        assert!(close(value("recall", cfg, &y, &p), 2.0 / 3.0));
        assert!(close(value("f1", cfg, &y, &p), 2.0 / 3.0));
        // class 1: predicted row 3; true row 2 → tp = 0
        assert_eq!(value("f1", r#"{"classId":1}"#, &y, &p), 0.0);
        // class 0 from one-hot targets: predicted row 1, true row 1
        let one_hot = t(
            &[0., 0., 1., 1., 0., 0., 0., 1., 0., 0., 0., 1., 0., 0., 1.],
            &[5, 3],
        );
        assert_eq!(value("precision", r#"{"classId":0}"#, &one_hot, &p), 1.0);
        assert_eq!(
            value("recall", r#"{"classId":2,"threshold":0.9}"#, &one_hot, &p),
            2.0 / 3.0
        );
    }

    #[test]
    fn errors_name_the_argument() {
        let p = t(&[0.1, 0.9, 0.5, 0.5], &[2, 2]);
        let y = labels(&[0, 1], &[2]);
        assert_eq!(
            error("recall", r#"{"classId":2}"#, &y, &p),
            "recall: invalid `classId`: expected a class of yPred, in [0, 2), received 2"
        );
        assert_eq!(
            error("recall", r#"{"classId":-1}"#, &y, &p),
            "recall: invalid `classId`: expected a class index ≥ 0, received -1"
        );
        assert_eq!(
            error("f1", r#"{"classId":"cat"}"#, &y, &p),
            "f1: invalid `classId`: expected an integer, received \"cat\""
        );
        assert_eq!(
            error("precision", r#"{"threshold":true}"#, &y, &p),
            "precision: invalid `threshold`: expected a number, received true"
        );
        assert_eq!(
            error("precision", "", &y, &p),
            "precision: invalid `yTrue`: expected the shape of `yPred`, [2, 2], received shape [2]"
        );
        assert_eq!(
            error(
                "precision",
                r#"{"classId":1}"#,
                &labels(&[0, 1, 1], &[3]),
                &p
            ),
            "precision: invalid `yTrue`: expected class indices of shape [2] (yPred's shape \
             without its class axis), or targets of yPred's shape [2, 2], received shape [3]"
        );
    }
}

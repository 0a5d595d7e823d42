//! Binary cross-entropy of targets t ∈ [0, 1] and predicted probabilities (or logits),
//! elementwise. With smoothed targets t' = t·(1 − ls) + 0.5·ls and positive weight w:
//!   probabilities p:  q = clip(p, ε, 1 − ε), l = −(w·t'·log q + (1 − t')·log(1 − q))
//!                     computed in f64 with 1 − q taken as clip(1 − p, ε, 1 − ε) (1 − 1e-15
//!                     is not an f32, and not exact in f64 either), so p = 1 gives exactly
//!                     −log(ε)·(1 − t'); dl/dp = −w·t'/q + (1 − t')/(1 − q), 0 where clipped.
//!   logits x:         l = (1 − t')·x + (1 + (w − 1)·t')·softplus(−x)
//!                       = w·t'·softplus(−x) + (1 − t')·softplus(x)   (no cancellation:
//!                     finite and exact for ±1e4); dl/dx = (1 − t')·σ(x) − w·t'·σ(−x).
//! `posWeight` is a number, or one weight per entry of the last axis.
//! See: torch.nn.BCELoss, torch.nn.BCEWithLogitsLoss(pos_weight),
//! keras.losses.BinaryCrossentropy(from_logits, label_smoothing).
//!
//! NOTE: torch's BCELoss clamps log at −100 instead of clipping p; Keras clips at 1e-7.
//! Probabilities outside [0, 1] are an error (as torch), not clipped silently.

use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::kernels::pointwise::{self as kernel, Pointwise};
use crate::tensor::Tensor;

const OP: &str = "binaryCrossEntropy";

enum PosWeight {
    One,
    Scalar(f64),
    PerClass(Vec<f32>),
}

pub struct BinaryCrossEntropy {
    from_logits: bool,
    pos_weight: PosWeight,
    label_smoothing: f64,
    epsilon: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["fromLogits", "posWeight", "labelSmoothing", "epsilon"])?;
    // A number reads as f64; anything else (a list, or a wrong type) goes to f32_list,
    // which accepts lists and names the wrong type. NaN marks "absent" (or null).
    let pos_weight = match cfg.f64("posWeight", f64::NAN) {
        Ok(v) if v.is_nan() => PosWeight::One,
        Ok(v) => PosWeight::Scalar(v),
        Err(_) => PosWeight::PerClass(cfg.f32_list("posWeight")?.unwrap_or_default()),
    };
    let bad = match &pos_weight {
        PosWeight::One => None,
        PosWeight::Scalar(v) => Some(*v).filter(|v| !(v.is_finite() && *v >= 0.0)),
        PosWeight::PerClass(w) => w
            .iter()
            .map(|&v| v as f64)
            .find(|v| !(v.is_finite() && *v >= 0.0)),
    };
    if let Some(v) = bad {
        return Err(Error::invalid(
            OP,
            "posWeight",
            "finite weights ≥ 0",
            format!("{v}"),
        ));
    }
    Ok(Box::new(BinaryCrossEntropy {
        from_logits: cfg.bool("fromLogits", false)?,
        pos_weight,
        label_smoothing: cfg.f64_where("labelSmoothing", 0.0, "a number in [0, 1)", |v| {
            (0.0..1.0).contains(&v)
        })?,
        epsilon: cfg.f64_where("epsilon", 1e-15, "a number in (0, 0.5)", |v| {
            v > 0.0 && v < 0.5
        })?,
    }))
}

impl BinaryCrossEntropy {
    /// The formula, after checking the ranges of the inputs and the posWeight length.
    fn formula(&self, x: &[&Tensor]) -> Result<Pointwise<'_>> {
        let (t, p) = same_shape(OP, ["yTrue", "yPred"], x[0], x[1])?;
        let last = x[1].dims().last().copied().unwrap_or(1);
        if let PosWeight::PerClass(w) = &self.pos_weight {
            if w.len() != last {
                return Err(Error::shape(
                    OP,
                    "posWeight",
                    format!("a number, or {last} weights (one per entry of yPred's last axis)"),
                    format!("{} weights", w.len()),
                ));
            }
        }
        let outside = |v: &[f32]| {
            v.iter()
                .copied()
                .enumerate()
                .find(|(_, v)| !(0.0..=1.0).contains(v))
        };
        if let Some((i, v)) = outside(t) {
            return Err(Error::invalid(
                OP,
                "yTrue",
                "targets in [0, 1]",
                format!("{v} at index {i}"),
            ));
        }
        if !self.from_logits {
            if let Some((i, v)) = outside(p) {
                return Err(Error::invalid(
                    OP,
                    "yPred",
                    "probabilities in [0, 1] (pass fromLogits: true for logits)",
                    format!("{v} at index {i}"),
                ));
            }
        }
        Ok(Pointwise::BinaryCrossEntropy {
            from_logits: self.from_logits,
            pos_weight: match &self.pos_weight {
                PosWeight::One => kernel::PosWeight::Scalar(1.0),
                PosWeight::Scalar(w) => kernel::PosWeight::Scalar(*w),
                PosWeight::PerClass(w) => kernel::PosWeight::PerClass(w),
            },
            label_smoothing: self.label_smoothing,
            epsilon: self.epsilon,
        })
    }
}

impl Loss for BinaryCrossEntropy {
    fn name(&self) -> &'static str {
        OP
    }

    pointwise_loss!();
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use super::*;
    use crate::autograd::Op;
    use crate::kernels::pointwise::sigmoid;

    fn err(cfg: &str, inputs: &[&Tensor]) -> String {
        error(OP, cfg, inputs)
    }

    fn none(cfg: &str, y: &Tensor, p: &Tensor) -> Vec<f32> {
        let cfg = format!("{{\"reduction\":\"none\"{cfg}}}");
        let op = LossOp::new(OP, &cfg, false).unwrap();
        op.forward(&[y, p]).unwrap().data().to_vec()
    }

    fn grad(cfg: &str, y: &Tensor, p: &Tensor) -> Vec<f32> {
        let cfg = format!("{{\"reduction\":\"sum\"{cfg}}}");
        let (_, g) = LossOp::new(OP, &cfg, false)
            .unwrap()
            .value_and_grad(&[y, p])
            .unwrap();
        g[0].data().to_vec()
    }

    fn close(a: &[f32], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!(
                (*x as f64 - y).abs() < 1e-6 * (1.0 + y.abs()),
                "{a:?} vs {b:?}"
            );
        }
    }

    #[test]
    fn known_values_on_probabilities() {
        let (l8, l2) = (0.8f64.ln(), 2f64.ln());
        let y = t(&[1.0, 0.0, 1.0, 0.5], &[2, 2]);
        let p = t(&[0.8, 0.2, 0.5, 0.5], &[2, 2]);
        close(&none("", &y, &p), &[-l8, -l8, l2, l2]);
        let mean = value(OP, "", &[&y, &p]) as f64;
        assert!((mean - (l2 - l8) / 2.0).abs() < 1e-6);
        // posWeight multiplies the t'·log q term only.
        close(
            &none(r#","posWeight":2"#, &y, &p),
            &[-2.0 * l8, -l8, 2.0 * l2, 1.5 * l2],
        );
        close(
            &none(r#","posWeight":[1,3]"#, &y, &p),
            &[-l8, -l8, l2, 2.0 * l2],
        );
        // labelSmoothing 0.2: t' = 0.9, 0.1, 0.9, 0.5.
        let (l2_, l8_) = (0.2f64.ln(), l8);
        close(
            &none(r#","labelSmoothing":0.2"#, &y, &p),
            &[-(0.9 * l8_ + 0.1 * l2_), -(0.1 * l2_ + 0.9 * l8_), l2, l2],
        );
        // Gradient: −t/p + (1 − t)/(1 − p).
        close(&grad("", &y, &p), &[-1.25, 1.25, -2.0, 0.0]);
    }

    #[test]
    fn saturated_probabilities_are_finite_with_zero_gradient() {
        let y = t(&[1.0, 0.0, 0.0, 1.0], &[4]);
        let p = t(&[1.0, 0.0, 1.0, 0.0], &[4]);
        let v = none("", &y, &p);
        let big = -(1e-15f64.ln());
        assert!(
            v[0] >= 0.0 && v[0] < 1e-14 && v[1] >= 0.0 && v[1] < 1e-14,
            "{v:?}"
        );
        assert_eq!(v[2], big as f32);
        assert_eq!(v[3], big as f32);
        assert_eq!(grad("", &y, &p), [0.0; 4]);
        // −log(ε)·(1 − t') with smoothing, and a custom epsilon.
        let v = none(r#","labelSmoothing":0.1"#, &y, &p);
        assert!((v[2] as f64 - big * 0.95).abs() < 1e-4);
        close(
            &none(r#","epsilon":0.1"#, &y, &p)[2..],
            &[-(0.1f64.ln()); 2],
        );
        assert_eq!(
            grad(r#","epsilon":0.1"#, &y, &t(&[0.05, 0.95, 0.99, 0.01], &[4])),
            [0.0; 4]
        );
    }

    #[test]
    fn logits_are_stable_and_exact() {
        let y = t(&[1.0, 0.0, 1.0, 0.0], &[4]);
        let x = t(&[1e4, -1e4, -1e4, 1e4], &[4]);
        assert_eq!(none(r#","fromLogits":true"#, &y, &x), [0.0, 0.0, 1e4, 1e4]);
        assert_eq!(
            none(r#","fromLogits":true,"posWeight":2"#, &y, &x),
            [0.0, 0.0, 2e4, 1e4]
        );
        // t' = 0.75 for t = 1 and 0.25 for t = 0.
        assert_eq!(
            none(r#","fromLogits":true,"labelSmoothing":0.5"#, &y, &x),
            [2.5e3, 2.5e3, 7.5e3, 7.5e3]
        );
        assert_eq!(grad(r#","fromLogits":true"#, &y, &x), [0.0, 0.0, -1.0, 1.0]);
        // Logits and their sigmoids agree (where the probabilities are not clipped).
        let x = normal(&[3, 5], 7);
        let p = t(
            &x.data()
                .iter()
                .map(|&v| sigmoid(v as f64) as f32)
                .collect::<Vec<_>>(),
            &[3, 5],
        );
        let y = t(
            &(0..15).map(|i| (i % 4) as f32 / 3.0).collect::<Vec<_>>(),
            &[3, 5],
        );
        for cfg in [
            "",
            r#","posWeight":[1,2,0.5,0,3]"#,
            r#","labelSmoothing":0.3,"posWeight":1.5"#,
        ] {
            let a = none(&format!(r#","fromLogits":true{cfg}"#), &y, &x);
            let b = none(cfg, &y, &p);
            for (a, b) in a.iter().zip(&b) {
                assert!((a - b).abs() < 1e-5 * (1.0 + a.abs()), "{cfg}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn gradients() {
        let soft = |n: usize| {
            t(
                &(0..n).map(|i| (i % 5) as f32 / 4.0).collect::<Vec<_>>(),
                &[n],
            )
        };
        for (dims, seed) in [(&[3usize, 5][..], 1u64), (&[7][..], 2), (&[1, 5][..], 3)] {
            let n: usize = dims.iter().product();
            let y = t(soft(n).data(), dims);
            let x = normal(dims, seed);
            let p = t(
                &x.data()
                    .iter()
                    .map(|&v| sigmoid(v as f64) as f32 * 0.9 + 0.05)
                    .collect::<Vec<_>>(),
                dims,
            );
            let last = dims[dims.len() - 1];
            let list: Vec<String> = (0..last).map(|i| format!("{}", 0.5 + i as f32)).collect();
            let per_class = format!(r#"{{"posWeight":[{}]}}"#, list.join(","));
            for cfg in [
                "",
                r#"{"posWeight":2.5}"#,
                r#"{"labelSmoothing":0.2}"#,
                per_class.as_str(),
            ] {
                gradcheck(OP, cfg, vec![y.clone(), p.clone()], 1e-3, 2e-3);
                let logits = if cfg.is_empty() {
                    r#"{"fromLogits":true}"#.to_string()
                } else {
                    format!(r#"{{"fromLogits":true,{}"#, &cfg[1..])
                };
                gradcheck(OP, &logits, vec![y.clone(), x.clone()], 1e-3, 1e-3);
            }
        }
    }

    #[test]
    fn errors() {
        let p = t(&[0.5, 0.5], &[1, 2]);
        let y = t(&[1.0, 0.0], &[1, 2]);
        assert_eq!(
            err("", &[&t(&[1.0, -1.0], &[1, 2]), &p]),
            "binaryCrossEntropy: invalid `yTrue`: expected targets in [0, 1], received -1 at index 1"
        );
        assert_eq!(
            err("", &[&y, &t(&[0.5, 2.0], &[1, 2])]),
            "binaryCrossEntropy: invalid `yPred`: expected probabilities in [0, 1] (pass fromLogits: true for logits), received 2 at index 1"
        );
        assert_eq!(
            err(r#"{"fromLogits":true}"#, &[&y, &t(&[0.5, 2.0], &[1, 2])]),
            ""
        );
        assert_eq!(
            err("", &[&y, &t(&[0.5, f32::NAN], &[1, 2])]),
            "binaryCrossEntropy: invalid `yPred`: expected finite values, received NaN at index 1"
        );
        assert_eq!(
            err(r#"{"posWeight":[1,2,3]}"#, &[&y, &p]),
            "binaryCrossEntropy: invalid `posWeight`: expected a number, or 2 weights (one per entry of yPred's last axis), received 3 weights"
        );
        assert_eq!(
            err(r#"{"posWeight":[2]}"#, &[&y, &p]),
            "binaryCrossEntropy: invalid `posWeight`: expected a number, or 2 weights (one per entry of yPred's last axis), received 1 weights"
        );
        let e = LossOp::new(OP, r#"{"posWeight":[2,1]}"#, false)
            .unwrap()
            .forward(&[&t(&[1.0], &[1]), &t(&[0.5], &[1])])
            .unwrap_err();
        assert_eq!(e.code(), "SHAPE_MISMATCH");
        assert_eq!(
            err(r#"{"posWeight":-1}"#, &[]),
            "binaryCrossEntropy: invalid `posWeight`: expected finite weights ≥ 0, received -1"
        );
        assert_eq!(
            err(r#"{"posWeight":[1,-1]}"#, &[]),
            "binaryCrossEntropy: invalid `posWeight`: expected finite weights ≥ 0, received -1"
        );
        assert_eq!(
            err(r#"{"posWeight":"2"}"#, &[]),
            "binaryCrossEntropy: invalid `posWeight`: expected a number or a list of numbers, received \"2\""
        );
        assert_eq!(err(r#"{"posWeight":null}"#, &[&y, &p]), "");
        assert_eq!(
            err(r#"{"labelSmoothing":1}"#, &[]),
            "binaryCrossEntropy: invalid `labelSmoothing`: expected a number in [0, 1), received 1"
        );
        assert_eq!(
            err(r#"{"epsilon":0.5}"#, &[]),
            "binaryCrossEntropy: invalid `epsilon`: expected a number in (0, 0.5), received 0.5"
        );
        assert_eq!(
            err(r#"{"fromLogits":"yes"}"#, &[]),
            "binaryCrossEntropy: invalid `fromLogits`: expected true or false, received \"yes\""
        );
        assert_eq!(
            err("", &[&t(&[1.0], &[1]), &p]),
            "binaryCrossEntropy: invalid `yTrue`: expected the shape of `yPred`, [1, 2], received shape [1]"
        );
        assert_eq!(
            err(r#"{"weight":1}"#, &[]),
            "binaryCrossEntropy: invalid `config`: expected options among fromLogits, posWeight, labelSmoothing, epsilon, reduction, received unknown option `weight`"
        );
    }
}

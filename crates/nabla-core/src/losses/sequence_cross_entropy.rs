//! Cross-entropy over sequences: labels t [B, T] (int32), scores p [B, T, C], a mask
//! [B, T]. Each token's loss l_bt is crossEntropy's (same options, same stable math:
//! this file delegates to `CrossEntropy` and only masks and normalizes). A token counts
//! when mask ≠ 0 and t ≠ ignoreIndex; w_bt is the class weight of its label (1 without
//! classWeights). Units are the [B, T] tokens' l_bt (0 where a token does not count);
//! "sum" = Σ l and "none" = l_bt whatever the normalization. "mean":
//!   normalize "tokens":     Σ l / Σ_valid w_bt: torch's CrossEntropyLoss over the
//!     flattened tokens (ignore_index, weighted mean).
//!   normalize "timesteps":  (1/T')·Σ_t (Σ_b l_bt / n_t), n_t = Σ_b valid w_bt,
//!     T' = #{t : n_t > 0}: the mean over time steps of each step's mean over the batch
//!     (the seed's definition), as a per-token mean factor 1/n_t (`mean_scale`) and D = T'.
//! Tokens that do not count get zero gradient; the others crossEntropy's.
//! See: torch.nn.CrossEntropyLoss on [B·T, C] with ignore_index; the seed's
//! sequence loss (mean over time steps).
//!
//! NOTE: the mask is an indicator (any non-zero value counts the token fully), not a
//! weight: per-token weights go in `sampleWeight`, whose shape may be [B] or [B, T].
//! Labels of masked tokens are not checked (padding may hold any value); their scores
//! are, by crossEntropy (with fromLogits: false every row must be a valid distribution).

use super::cross_entropy::CrossEntropy;
use super::{Config, Loss, Units};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};

pub struct SequenceCrossEntropy {
    ce: CrossEntropy,
    timesteps: bool,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&[
        "fromLogits",
        "classWeights",
        "ignoreIndex",
        "labelSmoothing",
        "epsilon",
        "normalize",
    ])?;
    let ce = CrossEntropy::from_config(cfg, "sequenceCrossEntropy")?;
    let normalize = cfg.choice("normalize", "tokens", &["tokens", "timesteps"])?;
    Ok(Box::new(SequenceCrossEntropy {
        ce,
        timesteps: normalize == "timesteps",
    }))
}

impl SequenceCrossEntropy {
    /// Whether each token counts, and its labels with masked tokens set to class 0 (so
    /// crossEntropy accepts whatever padding they hold; their loss is dropped).
    fn tokens(&self, x: &[&Tensor]) -> Result<(Vec<bool>, Tensor)> {
        let op = self.name();
        let t = x[0].i32s(op, "yTrue")?;
        x[1].f32s(op, "yPred")?;
        let pd = x[1].dims();
        if pd.len() != 3 {
            return Err(Error::shape(
                op,
                "yPred",
                "scores of shape [batch, time, classes]",
                format!("shape {}", x[1].shape()),
            ));
        }
        let bt = Shape::new(pd[..2].to_vec());
        if x[0].dims() != bt.dims() {
            return Err(Error::shape(
                op,
                "yTrue",
                format!("class indices of shape {bt} (yPred's shape without its class axis)"),
                format!("shape {}", x[0].shape()),
            ));
        }
        if x[2].dims() != bt.dims() {
            return Err(Error::shape(
                op,
                "mask",
                format!("a mask of shape {bt}, one value per token"),
                format!("shape {}", x[2].shape()),
            ));
        }
        let on: Vec<bool> = match x[2].dtype() {
            DType::I32 => x[2].i32s(op, "mask")?.iter().map(|&m| m != 0).collect(),
            DType::F32 => {
                let m = x[2].f32s(op, "mask")?;
                if let Some((i, bad)) = m.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                    return Err(Error::invalid(
                        op,
                        "mask",
                        "finite values (0 drops a token)",
                        format!("{bad} at index {i}"),
                    ));
                }
                m.iter().map(|&m| m != 0.0).collect()
            }
        };
        let labels: Vec<i32> = t
            .iter()
            .zip(&on)
            .map(|(&y, &on)| if on { y } else { 0 })
            .collect();
        let valid = t
            .iter()
            .zip(&on)
            .map(|(&y, &on)| on && y as i64 != self.ce.ignore_index)
            .collect();
        Ok((valid, Tensor::from_i32(op, labels, bt)?))
    }
}

impl Loss for SequenceCrossEntropy {
    fn name(&self) -> &'static str {
        "sequenceCrossEntropy"
    }

    fn inputs(&self) -> &'static [&'static str] {
        &["yTrue", "yPred", "mask"]
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let (valid, labels) = self.tokens(x)?;
        let ce = self.ce.forward(&[&labels, x[1]])?;
        let (b, steps) = (x[1].dims()[0], x[1].dims()[1]);
        let y = labels.i32s(self.name(), "yTrue")?;
        // crossEntropy has checked the labels and the weights' length by now.
        let w = |i: usize| {
            self.ce
                .class_weights
                .as_ref()
                .map_or(1.0, |w| w[y[i] as usize] as f64)
        };
        let mut scale = vec![0f32; b * steps];
        let denom = if self.timesteps {
            let mut counted = 0usize;
            for s in 0..steps {
                let n: f64 = (0..b)
                    .map(|r| r * steps + s)
                    .filter(|&i| valid[i])
                    .map(w)
                    .sum();
                if n > 0.0 {
                    counted += 1;
                    for r in 0..b {
                        let i = r * steps + s;
                        if valid[i] {
                            scale[i] = (1.0 / n) as f32;
                        }
                    }
                }
            }
            counted as f64
        } else {
            for (s, &v) in scale.iter_mut().zip(&valid) {
                *s = if v { 1.0 } else { 0.0 };
            }
            (0..valid.len()).filter(|&i| valid[i]).map(w).sum()
        };
        let values = ce
            .values
            .data()
            .iter()
            .zip(&valid)
            .map(|(&l, &v)| if v { l } else { 0.0 })
            .collect();
        let keep = valid.iter().map(|&v| if v { 1.0 } else { 0.0 }).collect();
        let shape = labels.shape().clone();
        let mut saved = ce.saved;
        // crossEntropy's backward reads its own saved tensors by position from 0; ours
        // go after them: which tokens count, then the per-token factor of "mean".
        saved.push(Tensor::new(shape.clone(), keep));
        saved.push(Tensor::new(shape.clone(), scale));
        Ok(Units {
            values: Tensor::new(shape, values),
            denom,
            batch: b,
            saved,
        })
    }

    /// "timesteps": each token's 1/n_t.
    fn mean_scale(&self, units: &Units) -> Option<Vec<f32>> {
        let n = units.saved.len();
        (self.timesteps && n >= 2).then(|| units.saved[n - 1].data().to_vec())
    }

    fn backward(&self, x: &[&Tensor], units: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let n = units.saved.len();
        if n < 2 {
            return Err(Error::state(
                self.name(),
                "a forward pass before backward",
                "none",
            ));
        }
        let keep = units.saved[n - 2].data();
        let kept: Vec<f32> = up.iter().zip(keep).map(|(&u, &k)| u * k).collect();
        let mut g = self.ce.backward(&x[..2], units, &kept)?;
        Ok(vec![None, g.pop().flatten(), None])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::autograd::Op;
    use crate::tensor::Tensor;

    const NAME: &str = "sequenceCrossEntropy";

    fn run(cfg: &str, x: &[&Tensor]) -> Tensor {
        LossOp::new(NAME, cfg, false).unwrap().forward(x).unwrap()
    }

    fn fails(cfg: &str, x: &[&Tensor]) -> String {
        error(NAME, cfg, x)
    }

    /// crossEntropy's per-token losses ("none") on [B, T] labels.
    fn ce_tokens(cfg: &str, y: &Tensor, p: &Tensor) -> Vec<f32> {
        let cfg = cfg.trim_end_matches('}').to_string() + r#","reduction":"none"}"#;
        LossOp::new("crossEntropy", &cfg, false)
            .unwrap()
            .forward(&[y, p])
            .unwrap()
            .into_vec()
    }

    #[track_caller]
    fn close(a: f32, b: f32) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }

    #[test]
    fn tokens_normalization_is_cross_entropy_over_valid_tokens() {
        let p = normal(&[2, 3, 4], 1);
        let y = labels(&[0, 3, -100, 2, 1, 1], &[2, 3]);
        let mask = t(&[1.0, 1.0, 1.0, 1.0, 0.0, 1.0], &[2, 3]);
        // The masked token becomes an ignored one for crossEntropy.
        let y_ce = labels(&[0, 3, -100, 2, -100, 1], &[2, 3]);
        for cfg in [
            r#"{"fromLogits":true}"#,
            r#"{"fromLogits":true,"classWeights":[1,2,0.5,3],"labelSmoothing":0.1}"#,
        ] {
            close(
                value(NAME, cfg, &[&y, &p, &mask]),
                value("crossEntropy", cfg, &[&y_ce, &p]),
            );
            let sum = cfg.trim_end_matches('}').to_string() + r#","reduction":"sum"}"#;
            close(
                value(NAME, &sum, &[&y, &p, &mask]),
                value("crossEntropy", &sum, &[&y_ce, &p]),
            );
            let none = cfg.trim_end_matches('}').to_string() + r#","reduction":"none"}"#;
            let got = run(&none, &[&y, &p, &mask]);
            assert_eq!(got.dims(), &[2, 3]);
            assert_eq!(got.data(), &ce_tokens(cfg, &y_ce, &p)[..]);
        }
        // By hand: uniform logits give log C per valid token.
        let flat = t(&[0.0; 2 * 3 * 4], &[2, 3, 4]);
        close(
            value(NAME, r#"{"fromLogits":true}"#, &[&y, &flat, &mask]),
            4f32.ln(),
        );
        // Everything masked: 0, not NaN.
        let off = t(&[0.0; 6], &[2, 3]);
        assert_eq!(value(NAME, r#"{"fromLogits":true}"#, &[&y, &p, &off]), 0.0);
    }

    #[test]
    fn timesteps_normalization_is_the_mean_over_steps() {
        let p = normal(&[3, 4, 5], 2);
        let y = labels(&[0, 1, 2, 3, 4, -100, 0, 7, 1, 1, -100, 2], &[3, 4]);
        // Step 3 is fully masked (index 7 holds an out-of-range label: not checked).
        let mask = labels(&[1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0], &[3, 4]);
        let y_ok = labels(&[0, 1, 2, 0, 4, -100, 0, 0, 1, 1, -100, 0], &[3, 4]);
        for cfg in [
            r#"{"fromLogits":true,"normalize":"timesteps"}"#,
            r#"{"fromLogits":true,"normalize":"timesteps","classWeights":[1,2,3,0.5,1]}"#,
        ] {
            let w: Vec<f32> = if cfg.contains("classWeights") {
                vec![1.0, 2.0, 3.0, 0.5, 1.0]
            } else {
                vec![1.0; 5]
            };
            let l = ce_tokens(r#"{"fromLogits":true}"#, &y_ok, &p);
            let (mut total, mut raw, mut steps, mut per_token) =
                (0.0f64, 0.0f64, 0, vec![0f32; 12]);
            for s in 0..4 {
                let valid: Vec<usize> = (0..3)
                    .map(|b| b * 4 + s)
                    .filter(|&i| mask.to_f32_vec()[i] != 0.0 && y.to_f32_vec()[i] != -100.0)
                    .collect();
                let n: f64 = valid
                    .iter()
                    .map(|&i| w[y_ok.to_f32_vec()[i] as usize] as f64)
                    .sum();
                if n > 0.0 {
                    steps += 1;
                    for &i in &valid {
                        let li = l[i] as f64 * w[y_ok.to_f32_vec()[i] as usize] as f64;
                        total += li / n;
                        raw += li;
                        per_token[i] = li as f32;
                    }
                }
            }
            assert_eq!(steps, 3);
            close(
                value(NAME, cfg, &[&y, &p, &mask]),
                (total / steps as f64) as f32,
            );
            let sum = cfg.trim_end_matches('}').to_string() + r#","reduction":"sum"}"#;
            close(value(NAME, &sum, &[&y, &p, &mask]), raw as f32);
            let none = cfg.trim_end_matches('}').to_string() + r#","reduction":"none"}"#;
            for (a, b) in run(&none, &[&y, &p, &mask]).data().iter().zip(&per_token) {
                close(*a, *b);
            }
        }
        // Equal counts per step: the two normalizations agree.
        let full = t(&[1.0; 12], &[3, 4]);
        let y_all = labels(&[0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1], &[3, 4]);
        close(
            value(
                NAME,
                r#"{"fromLogits":true,"normalize":"timesteps"}"#,
                &[&y_all, &p, &full],
            ),
            value(NAME, r#"{"fromLogits":true}"#, &[&y_all, &p, &full]),
        );
    }

    #[test]
    fn logits_of_1e4_are_exact() {
        let p = t(&[1e4, -1e4, 0.0, 0.0, 1e4, -1e4], &[1, 2, 3]);
        let y = labels(&[0, 2], &[1, 2]);
        let mask = t(&[1.0, 1.0], &[1, 2]);
        assert_eq!(
            value(
                NAME,
                r#"{"fromLogits":true,"reduction":"sum"}"#,
                &[&y, &p, &mask]
            ),
            2e4
        );
    }

    #[test]
    fn gradients() {
        let y = labels(&[0, 3, -100, 2, 1, 1, 3, 0, 2, 2, 1, 0, 3, 3, 1], &[3, 5]);
        let mask = t(
            &[
                1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.5, 1.0, 1.0,
            ],
            &[3, 5],
        );
        for cfg in [
            r#"{"fromLogits":true}"#,
            r#"{"fromLogits":true,"normalize":"timesteps"}"#,
            r#"{"fromLogits":true,"labelSmoothing":0.2,"classWeights":[1,2,0.5,1]}"#,
            r#"{"fromLogits":true,"normalize":"timesteps","labelSmoothing":0.1,"classWeights":[1,2,0.5,1]}"#,
            r#"{"fromLogits":false,"normalize":"timesteps"}"#,
            r#"{"fromLogits":false,"labelSmoothing":0.1,"ignoreIndex":3}"#,
        ] {
            let logits = normal(&[3, 5, 4], 3);
            let p = if cfg.contains("false") {
                t(
                    &logits.data().iter().map(|v| v.exp()).collect::<Vec<_>>(),
                    &[3, 5, 4],
                )
            } else {
                logits
            };
            let y = if cfg.contains("ignoreIndex") {
                labels(
                    &y.to_f32_vec()
                        .iter()
                        .map(|&v| if v < 0.0 { 3 } else { v as i32 })
                        .collect::<Vec<_>>(),
                    &[3, 5],
                )
            } else {
                y.clone()
            };
            gradcheck(NAME, cfg, vec![y, p.clone(), mask.clone()], 1e-3, 2e-3);
            gradcheck(
                NAME,
                cfg,
                vec![
                    labels(&[1, 0, 2], &[1, 3]),
                    t(&p.data()[..12], &[1, 3, 4]),
                    t(&[1.0, 0.0, 1.0], &[1, 3]),
                ],
                1e-3,
                2e-3,
            );
        }
    }

    #[test]
    fn errors() {
        let p = normal(&[2, 3, 4], 1);
        let y = labels(&[0, 1, 2, 3, 0, 1], &[2, 3]);
        let m = t(&[1.0; 6], &[2, 3]);
        assert_eq!(
            fails("", &[&labels(&[0, 1, 2], &[3]), &normal(&[3, 4], 1), &t(&[1.0; 3], &[3])]),
            "sequenceCrossEntropy: invalid `yPred`: expected scores of shape [batch, time, classes], received shape [3, 4]"
        );
        assert_eq!(
            fails("", &[&labels(&[0, 1, 2], &[1, 3]), &p, &m]),
            "sequenceCrossEntropy: invalid `yTrue`: expected class indices of shape [2, 3] (yPred's shape without its class axis), received shape [1, 3]"
        );
        assert_eq!(
            fails("", &[&y, &p, &t(&[1.0; 3], &[3])]),
            "sequenceCrossEntropy: invalid `mask`: expected a mask of shape [2, 3], one value per token, received shape [3]"
        );
        assert!(fails(
            "",
            &[&y, &p, &t(&[1.0, f32::NAN, 1.0, 1.0, 1.0, 1.0], &[2, 3])]
        )
        .contains("invalid `mask`: expected finite values"));
        assert!(fails("", &[&m, &p, &m]).contains("invalid `yTrue`: expected an int32 tensor"));
        assert_eq!(
            fails(r#"{"fromLogits":true}"#, &[&labels(&[0, 1, 4, 3, 0, 1], &[2, 3]), &p, &m]),
            "sequenceCrossEntropy: invalid `yTrue`: expected class indices in [0, 4) or ignoreIndex -100, received 4 at index 2"
        );
        assert_eq!(
            fails(r#"{"normalize":"batch"}"#, &[]),
            "sequenceCrossEntropy: invalid `normalize`: expected one of \"tokens\", \"timesteps\", received \"batch\""
        );
        assert!(fails(r#"{"labelSmoothing":1}"#, &[])
            .contains("sequenceCrossEntropy: invalid `labelSmoothing`"));
        assert!(
            fails(r#"{"classWeights":[1,2]}"#, &[&y, &p, &m]).contains("invalid `classWeights`")
        );
        assert!(fails(r#"{"mask":1}"#, &[]).contains("unknown option `mask`"));
    }
}

//! Tversky loss, one unit per sample (sums over every non-batch axis):
//!   TP = Σ t·p,  FP = Σ (1−t)·p,  FN = Σ t·(1−p)
//!   l = 1 − N/D,  N = TP + s,  D = TP + α·FP + β·FN + s
//!   dl/dp_i = (N·dD_i − t_i·D) / D²,  dD_i = t_i + α·(1 − t_i) − β·t_i
//! in f64. With t, p in [0, 1] and α, β ≥ 0, D ≥ s ≥ 0; D = 0 is a perfect (empty)
//! match: l = 0 with gradient 0. α = β = 0.5 with smooth s equals dice with smooth 2s.
//! See: keras.losses.Tversky; segmentation_models_pytorch TverskyLoss.
//!
//! NOTE: Keras's Tversky sums over the whole batch at once (axis=None) with no
//! smoothing term; we compute one index per sample with `smooth` (default 1).

use super::dice::{per_sample, segmentation};
use super::{Config, Loss, Units};
use crate::error::Result;
use crate::tensor::Tensor;

pub struct Tversky {
    alpha: f64,
    beta: f64,
    smooth: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["alpha", "beta", "smooth"])?;
    let nonneg = |v: f64| v.is_finite() && v >= 0.0;
    Ok(Box::new(Tversky {
        alpha: cfg.f64_where("alpha", 0.5, "a finite number ≥ 0", nonneg)?,
        beta: cfg.f64_where("beta", 0.5, "a finite number ≥ 0", nonneg)?,
        smooth: cfg.f64_where("smooth", 1.0, "a finite number ≥ 0", nonneg)?,
    }))
}

impl Tversky {
    /// N and D of one sample.
    fn terms(&self, t: &[f32], p: &[f32]) -> (f64, f64) {
        let (mut tp, mut fp, mut fn_) = (0.0f64, 0.0f64, 0.0f64);
        for (&a, &b) in t.iter().zip(p) {
            let (a, b) = (a as f64, b as f64);
            tp += a * b;
            fp += (1.0 - a) * b;
            fn_ += a * (1.0 - b);
        }
        (
            tp + self.smooth,
            tp + self.alpha * fp + self.beta * fn_ + self.smooth,
        )
    }
}

impl Loss for Tversky {
    fn name(&self) -> &'static str {
        "tversky"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let (t, p, n, m) = segmentation(self.name(), x)?;
        let values = (0..n)
            .map(|r| {
                let (num, den) = self.terms(&t[r * m..(r + 1) * m], &p[r * m..(r + 1) * m]);
                if den == 0.0 {
                    0.0
                } else {
                    (1.0 - num / den) as f32
                }
            })
            .collect();
        Ok(per_sample(values))
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let (t, p, n, m) = segmentation(self.name(), x)?;
        let mut g = vec![0f32; p.len()];
        for r in 0..n {
            let (tr, pr) = (&t[r * m..(r + 1) * m], &p[r * m..(r + 1) * m]);
            let (num, den) = self.terms(tr, pr);
            if den == 0.0 {
                continue;
            }
            let u = up[r] as f64;
            for k in 0..m {
                let tk = tr[k] as f64;
                let dd = tk + self.alpha * (1.0 - tk) - self.beta * tk;
                g[r * m + k] = (u * (num * dd - tk * den) / (den * den)) as f32;
            }
        }
        Ok(vec![None, Some(Tensor::new(x[1].shape().clone(), g))])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::tensor::Tensor;

    const NAME: &str = "tversky";

    fn none(cfg: &str, x: &[&Tensor]) -> Vec<f32> {
        super::super::testing::none(NAME, cfg, x)
    }

    fn fails(cfg: &str, x: &[&Tensor]) -> String {
        error(NAME, cfg, x)
    }

    fn unit(dims: &[usize], seed: u64) -> Tensor {
        let v: Vec<f32> = normal(dims, seed)
            .data()
            .iter()
            .map(|x| 1.0 / (1.0 + (-x).exp()))
            .collect();
        t(&v, dims)
    }

    #[test]
    fn known_values() {
        // TP = 1, FP = 0.5, FN = 1 for sample 0; sample 1 is empty.
        let y = t(&[1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], &[2, 4]);
        let p = t(&[1.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0], &[2, 4]);
        let l = none(r#","smooth":0,"alpha":0.3,"beta":0.7"#, &[&y, &p]);
        assert!(
            (l[0] - (1.0 - 1.0 / (1.0 + 0.15 + 0.7))).abs() < 1e-6 && l[1] == 0.0,
            "{l:?}"
        );
        let l = none(r#","alpha":2,"beta":0"#, &[&y, &p]);
        assert!(
            (l[0] - (1.0 - 2.0 / 3.0)).abs() < 1e-6 && l[1] == 0.0,
            "{l:?}"
        );
        // α = β = 0.5 with smooth s is dice with smooth 2s.
        let (a, b) = (unit(&[3, 5], 1), unit(&[3, 5], 2));
        for s in [0.0, 0.5, 1.0] {
            let tv = value(NAME, &format!(r#"{{"smooth":{s}}}"#), &[&a, &b]);
            let dc = value("dice", &format!(r#"{{"smooth":{}}}"#, 2.0 * s), &[&a, &b]);
            assert!((tv - dc).abs() < 1e-6, "{tv} vs {dc}");
        }
        // α = β = 0 and s = 0 with no overlap: D = 0 gives 0 and a zero gradient.
        let op = LossOp::new(NAME, r#"{"smooth":0,"alpha":0,"beta":0}"#, false).unwrap();
        let (v, g) = op
            .value_and_grad(&[&t(&[1.0, 0.0], &[1, 2]), &t(&[0.0, 1.0], &[1, 2])])
            .unwrap();
        assert_eq!(v.data(), &[0.0]);
        assert_eq!(g[0].data(), &[0.0, 0.0]);
    }

    #[test]
    fn gradients() {
        for cfg in [
            "",
            r#"{"smooth":0}"#,
            r#"{"alpha":0.3,"beta":0.7,"smooth":0.1}"#,
            r#"{"alpha":2,"beta":0,"smooth":3}"#,
        ] {
            gradcheck(
                NAME,
                cfg,
                vec![unit(&[3, 5], 1), unit(&[3, 5], 2)],
                1e-3,
                1e-3,
            );
            gradcheck(
                NAME,
                cfg,
                vec![unit(&[1, 7], 3), unit(&[1, 7], 4)],
                1e-3,
                1e-3,
            );
            gradcheck(
                NAME,
                cfg,
                vec![unit(&[2, 3, 2, 1], 5), unit(&[2, 3, 2, 1], 6)],
                1e-3,
                1e-3,
            );
        }
    }

    #[test]
    fn errors() {
        let a = unit(&[2, 3], 1);
        assert!(fails("", &[&a, &unit(&[3, 2], 2)])
            .starts_with("tversky: invalid `yTrue`: expected the shape of `yPred`"));
        assert!(
            fails("", &[&t(&[-0.5, 0.0, 0.0, 0.0, 0.0, 0.0], &[2, 3]), &a])
                .contains("invalid `yTrue`: expected values in [0, 1]")
        );
        assert_eq!(
            fails(r#"{"alpha":-0.1}"#, &[]),
            "tversky: invalid `alpha`: expected a finite number ≥ 0, received -0.1"
        );
        assert!(fails(r#"{"beta":"x"}"#, &[]).contains("invalid `beta`: expected a number"));
        assert!(fails(r#"{"smooth":-1}"#, &[]).contains("invalid `smooth`"));
        assert!(fails(r#"{"gamma":1}"#, &[]).contains("unknown option `gamma`"));
    }
}

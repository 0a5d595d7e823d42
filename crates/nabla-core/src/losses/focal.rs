//! Focal loss: cross-entropy scaled down where the prediction is already confident,
//!   l = −α_t·(1 − p_t)^γ·log p_t
//! in two modes, chosen by the targets:
//!   binary (float 0/1 targets of yPred's shape; elementwise units): p_t = p if t = 1
//!     else 1 − p, α_t = α if t = 1 else 1 − α. From logits x, with z = ±x (+ for t = 1):
//!     log p_t = −softplus(−z), (1 − p_t)^γ = e^(−γ·softplus(z)) (finite and exact for
//!     ±1e4); dl/dz = α_t·e^(−γ·softplus(z))·(−σ(−z) − γ·σ(z)·softplus(−z)).
//!   multiclass (int32 labels y of shape [...], scores [..., C]; one unit per row):
//!     p_t = p_y, α_t = α for every class; log p_y = x_y − logSumExp(x) (max-shifted, in
//!     f64) and 1 − p_y = −expm1(log p_y). With L = log p_y, P = p_y, r = L/(1 − P):
//!     dl/dL = −α·(1 − P)^γ·(1 − γ·P·r), dl/dx_k = dl/dL·([k = y] − p_k).
//! Probabilities (fromLogits false) are clipped to [1e-7, 1 − 1e-7] (as Keras), with
//! gradient 0 where clipped; dl/dP = −α_t·(1 − P)^γ·(1/P − γ·L/(1 − P)).
//! `alpha: null` disables the α weighting (α_t = 1); γ = 0 and no α is cross-entropy.
//! See: torchvision.ops.sigmoid_focal_loss, keras.losses.BinaryFocalCrossentropy /
//! CategoricalFocalCrossentropy. The loops are in `kernels::focal` (built for speed); this
//! file keeps the options and the validation.
//!
//! NOTE: binary targets must be exactly 0 or 1 (torchvision and Keras also take soft
//! targets). Multiclass probabilities are not renormalized (Keras divides by the row
//! sum); only p_y is read and receives a gradient.

use super::nll::classes;
use super::{class_labels, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::kernels::focal::{binary, logits_row, prob_term, scale_by_unit};
use crate::kernels::zeroed;
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};

const OP: &str = "focal";

pub struct Focal {
    gamma: f64,
    /// None: no α weighting (`alpha: null`).
    alpha: Option<f64>,
    from_logits: bool,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["gamma", "alpha", "fromLogits"])?;
    // `alpha: null` means no weighting, unlike leaving alpha out (0.25).
    let alpha = match cfg.f64("alpha", 0.25)? {
        _ if cfg.is_null("alpha") => None,
        a if (0.0..=1.0).contains(&a) => Some(a),
        a => {
            return Err(Error::invalid(
                OP,
                "alpha",
                "a number in [0, 1], or null for no weighting",
                format!("{a}"),
            ))
        }
    };
    Ok(Box::new(Focal {
        gamma: cfg.f64_where("gamma", 2.0, "a finite number ≥ 0", |v| {
            v.is_finite() && v >= 0.0
        })?,
        alpha,
        from_logits: cfg.bool("fromLogits", false)?,
    }))
}

/// Probabilities in [0, 1], or an error pointing to `fromLogits`.
fn check_probs(p: &[f32]) -> Result<()> {
    match p
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        Some((i, v)) => Err(Error::invalid(
            OP,
            "yPred",
            "probabilities in [0, 1] (pass fromLogits: true for logits)",
            format!("{v} at index {i}"),
        )),
        None => Ok(()),
    }
}

impl Focal {
    /// Per-row losses and dl/dx for class labels, into `values` and `local` (zeros).
    fn multiclass(&self, y: &[i32], x: &[f32], c: usize, values: &mut [f32], local: &mut [f32]) {
        let a = self.alpha.unwrap_or(1.0);
        for (row, &yi) in y.iter().enumerate() {
            let (xs, g, yi) = (
                &x[row * c..(row + 1) * c],
                &mut local[row * c..(row + 1) * c],
                yi as usize,
            );
            if self.from_logits {
                values[row] = logits_row(xs, yi, self.gamma, a, g) as f32;
            } else {
                let (l, d) = prob_term(self.gamma, a, xs[yi] as f64);
                values[row] = l as f32;
                g[yi] = d as f32;
            }
        }
    }

    /// Validates the inputs: int32 labels (multiclass, with the class count) or 0/1
    /// targets (binary).
    fn check<'a>(&self, x: &[&'a Tensor]) -> Result<Targets<'a>> {
        let (target, pred) = (x[0], x[1]);
        let p = pred.f32s(OP, "yPred")?;
        if target.dtype() == DType::I32 {
            let c = classes(OP, pred)?;
            let y = class_labels(OP, target, pred, None)?;
            if !self.from_logits {
                check_probs(p)?;
            }
            return Ok(Targets::Labels(y, c));
        }
        let t = target.f32s(OP, "yTrue")?;
        if target.dims() != pred.dims() {
            let pd = pred.dims();
            return Err(Error::shape(
                OP,
                "yTrue",
                format!(
                    "0/1 targets of yPred's shape {} (binary), or int32 class indices of shape {} (multiclass)",
                    pred.shape(),
                    Shape::new(pd[..pd.len().saturating_sub(1)].to_vec())
                ),
                format!("float32 of shape {}", target.shape()),
            ));
        }
        if let Some((i, v)) = t.iter().enumerate().find(|(_, &v)| v != 0.0 && v != 1.0) {
            return Err(Error::invalid(
                OP,
                "yTrue",
                "binary targets that are 0 or 1 (or int32 class indices)",
                format!("{v} at index {i}"),
            ));
        }
        if !self.from_logits {
            check_probs(p)?;
        }
        Ok(Targets::Binary(t))
    }
}

enum Targets<'a> {
    Labels(&'a [i32], usize),
    Binary(&'a [f32]),
}

impl Loss for Focal {
    fn name(&self) -> &'static str {
        OP
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let mut units = Units::default();
        self.forward_into(x, &mut units)?;
        Ok(units)
    }

    /// Units `[...]` (one per row, multiclass) or of yPred's shape (binary); saves
    /// dl/d(yPred) per unit for backward.
    fn forward_into(&self, x: &[&Tensor], units: &mut Units) -> Result<()> {
        let targets = self.check(x)?;
        let pred = x[1];
        let (p, pd) = (pred.data(), pred.dims());
        units.saved.truncate(1);
        if units.saved.is_empty() {
            units.saved.push(Tensor::zeros(Shape::new(vec![0])));
        }
        let local = zeroed(units.saved[0].f32_buffer(pd), p.len());
        match targets {
            Targets::Labels(y, c) => {
                let values = zeroed(units.values.f32_buffer(&pd[..pd.len() - 1]), y.len());
                self.multiclass(y, p, c, values, local);
                units.denom = y.len() as f64;
                units.batch = pd.first().copied().filter(|_| pd.len() > 1).unwrap_or(1);
            }
            Targets::Binary(t) => {
                let values = zeroed(units.values.f32_buffer(pd), p.len());
                binary(
                    t,
                    p,
                    self.gamma,
                    self.alpha,
                    self.from_logits,
                    values,
                    local,
                );
                units.count_elements();
            }
        }
        Ok(())
    }

    fn backward(&self, x: &[&Tensor], units: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let mut g = Tensor::zeros(Shape::new(vec![0]));
        self.grad_into(x, units, up, 1, &mut g)?;
        Ok(vec![None, Some(g)])
    }

    /// dl/d(yPred) = upstream of its unit · the saved local derivative.
    fn grad_into(
        &self,
        x: &[&Tensor],
        units: &Units,
        up: &[f32],
        i: usize,
        out: &mut Tensor,
    ) -> Result<()> {
        if i != 1 {
            return Err(Error::no_gradient(OP));
        }
        let local = units.saved[0].data();
        // Elements per unit: 1 (binary) or C (multiclass).
        let per = (local.len() / up.len().max(1)).max(1);
        scale_by_unit(local, up, per, out.f32_buffer(x[1].dims()));
        Ok(())
    }
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

    fn close(a: &[f32], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!(
                (*x as f64 - y).abs() < 1e-6 * (1.0 + y.abs()),
                "{a:?} vs {b:?}"
            );
        }
    }

    fn sig(x: &Tensor) -> Tensor {
        t(
            &x.data()
                .iter()
                .map(|&v| sigmoid(v as f64) as f32)
                .collect::<Vec<_>>(),
            x.dims(),
        )
    }

    #[test]
    fn binary_known_values() {
        let (y, p) = (t(&[1.0, 0.0], &[2]), t(&[0.8, 0.8], &[2]));
        let (l8, l2) = (0.8f64.ln(), 0.2f64.ln());
        close(&none("", &y, &p), &[-0.25 * 0.04 * l8, -0.75 * 0.64 * l2]);
        close(&none(r#","alpha":null"#, &y, &p), &[-0.04 * l8, -0.64 * l2]);
        close(
            &none(r#","alpha":0.6,"gamma":1"#, &y, &p),
            &[-0.6 * 0.2 * l8, -0.4 * 0.8 * l2],
        );
        // γ = 0 without α is binary cross-entropy.
        close(&none(r#","alpha":null,"gamma":0"#, &y, &p), &[-l8, -l2]);
        let mean = value(OP, "", &[&y, &p]) as f64;
        assert!((mean - (-0.01 * l8 - 0.48 * l2) / 2.0).abs() < 1e-6);
        // Saturated probabilities are clipped: finite, with no gradient.
        let (y, p) = (
            t(&[1.0, 0.0, 1.0, 0.0], &[4]),
            t(&[0.0, 1.0, 1.0, 0.0], &[4]),
        );
        let v = none(r#","gamma":0,"alpha":null"#, &y, &p);
        close(&v[..2], &[-(1e-7f64.ln()); 2]);
        let (_, g) = LossOp::new(OP, "", false)
            .unwrap()
            .value_and_grad(&[&y, &p])
            .unwrap();
        assert_eq!(g[0].data(), &[0.0; 4]);
    }

    #[test]
    fn binary_logits_are_stable_and_exact() {
        let y = t(&[1.0, 0.0, 1.0, 0.0], &[2, 2]);
        let x = t(&[1e4, -1e4, -1e4, 1e4], &[2, 2]);
        assert_eq!(
            none(r#","fromLogits":true"#, &y, &x),
            [0.0, 0.0, 2.5e3, 7.5e3]
        );
        assert_eq!(
            none(r#","fromLogits":true,"alpha":null,"gamma":0.5"#, &y, &x),
            [0.0, 0.0, 1e4, 1e4]
        );
        let (_, g) = LossOp::new(OP, r#"{"fromLogits":true,"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&y, &x])
            .unwrap();
        assert_eq!(g[0].data(), &[0.0, 0.0, -0.25, 0.75]);
        // Logits and their sigmoids agree.
        let x = normal(&[3, 5], 4);
        let y = t(
            &(0..15).map(|i| (i % 2) as f32).collect::<Vec<_>>(),
            &[3, 5],
        );
        for cfg in [
            "",
            r#","alpha":null,"gamma":0.5"#,
            r#","alpha":0.9,"gamma":3"#,
        ] {
            let a = none(&format!(r#","fromLogits":true{cfg}"#), &y, &x);
            let b = none(cfg, &y, &sig(&x));
            for (a, b) in a.iter().zip(&b) {
                assert!((a - b).abs() < 1e-5 * (1.0 + a.abs()), "{cfg}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn multiclass_known_values() {
        let x = t(&[0.0, 3f32.ln(), 1e4, -1e4], &[2, 2]);
        let p = t(&[0.25, 0.75, 1.0, 0.0], &[2, 2]);
        let (l75, l25) = (0.75f64.ln(), 0.25f64.ln());
        let y = labels(&[1, 1], &[2]);
        let a = none(r#","fromLogits":true"#, &y, &x);
        close(&a[..1], &[-0.25 * 0.0625 * l75]);
        assert_eq!(a[1], 0.25 * 2e4);
        let b = none("", &y, &p);
        close(&b, &[-0.25 * 0.0625 * l75, -0.25 * 1e-7f64.ln()]);
        let y = labels(&[0, 0], &[2]);
        let a = none(r#","fromLogits":true,"alpha":null"#, &y, &x);
        close(&a[..1], &[-0.5625 * l25]);
        assert_eq!(a[1], 0.0);
        close(
            &none(r#","alpha":null,"gamma":1"#, &y, &p)[..1],
            &[-0.75 * l25],
        );
        // A single row [C] with a scalar label.
        close(
            &none(
                r#","gamma":0,"alpha":null"#,
                &labels(&[2], &[]),
                &t(&[0.2, 0.3, 0.5], &[3]),
            ),
            &[-(0.5f64.ln())],
        );
        let mean = value(
            OP,
            r#"{"fromLogits":true,"gamma":0,"alpha":null}"#,
            &[&labels(&[1, 0], &[2]), &x],
        );
        assert!((mean as f64 - (-l75 + 0.0) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn gradients() {
        for cfg in [
            "{}",
            r#"{"alpha":null,"gamma":0}"#,
            r#"{"alpha":0.6,"gamma":0.5}"#,
            r#"{"alpha":null,"gamma":3}"#,
        ] {
            let logits = format!(r#"{{"fromLogits":true,{}"#, &cfg[1..]);
            let logits = logits.replace(",}", "}");
            for (dims, seed) in [(&[3usize, 5][..], 1u64), (&[7][..], 2), (&[1, 4][..], 3)] {
                let n: usize = dims.iter().product();
                let y = t(
                    &(0..n)
                        .map(|i| ((i * 7) % 3 == 0) as u8 as f32)
                        .collect::<Vec<_>>(),
                    dims,
                );
                let x = normal(dims, seed);
                let p = t(
                    &sig(&x)
                        .data()
                        .iter()
                        .map(|v| v * 0.9 + 0.05)
                        .collect::<Vec<_>>(),
                    dims,
                );
                gradcheck(OP, cfg, vec![y.clone(), p], 1e-3, 2e-3);
                gradcheck(OP, &logits, vec![y, x], 1e-3, 1e-3);
            }
            for (n, c, seed) in [(3usize, 5usize, 4u64), (1, 7, 5), (4, 2, 6)] {
                let y = labels(
                    &(0..n).map(|i| ((i * 3) % c) as i32).collect::<Vec<_>>(),
                    &[n],
                );
                let x = normal(&[n, c], seed);
                let p = t(
                    &sig(&x)
                        .data()
                        .iter()
                        .map(|v| v * 0.9 + 0.05)
                        .collect::<Vec<_>>(),
                    &[n, c],
                );
                gradcheck(OP, cfg, vec![y.clone(), p], 1e-3, 2e-3);
                gradcheck(OP, &logits, vec![y, x], 1e-3, 1e-3);
            }
        }
    }

    #[test]
    fn errors() {
        let p = t(&[0.5, 0.5, 0.5, 0.5], &[2, 2]);
        assert_eq!(
            err(r#"{"gamma":-1}"#, &[]),
            "focal: invalid `gamma`: expected a finite number ≥ 0, received -1"
        );
        assert_eq!(
            err(r#"{"alpha":1.5}"#, &[]),
            "focal: invalid `alpha`: expected a number in [0, 1], or null for no weighting, received 1.5"
        );
        assert_eq!(
            err(r#"{"alpha":"none"}"#, &[]),
            "focal: invalid `alpha`: expected a number, received \"none\""
        );
        assert_eq!(
            err("", &[&t(&[1.0, 0.5, 0.0, 1.0], &[2, 2]), &p]),
            "focal: invalid `yTrue`: expected binary targets that are 0 or 1 (or int32 class indices), received 0.5 at index 1"
        );
        assert_eq!(
            err("", &[&t(&[1.0, 0.0], &[2]), &p]),
            "focal: invalid `yTrue`: expected 0/1 targets of yPred's shape [2, 2] (binary), or int32 class indices of shape [2] (multiclass), received float32 of shape [2]"
        );
        assert_eq!(
            err("", &[&labels(&[0, 2], &[2]), &p]),
            "focal: invalid `yTrue`: expected class indices in [0, 2), received 2 at index 1"
        );
        assert_eq!(
            err("", &[&labels(&[0, 1], &[2]), &t(&[0.5, 1.5, 0.5, 0.5], &[2, 2])]),
            "focal: invalid `yPred`: expected probabilities in [0, 1] (pass fromLogits: true for logits), received 1.5 at index 1"
        );
        assert_eq!(
            err("", &[&t(&[1.0, 0.0, 0.0, 1.0], &[2, 2]), &t(&[0.5, -0.5, 0.5, 0.5], &[2, 2])]),
            "focal: invalid `yPred`: expected probabilities in [0, 1] (pass fromLogits: true for logits), received -0.5 at index 1"
        );
        assert_eq!(
            err(
                r#"{"fromLogits":true}"#,
                &[&labels(&[0, 1], &[2]), &t(&[0.5, 1.5, 0.5, 0.5], &[2, 2])]
            ),
            ""
        );
        assert_eq!(
            err(r#"{"beta":1}"#, &[]),
            "focal: invalid `config`: expected options among gamma, alpha, fromLogits, reduction, received unknown option `beta`"
        );
    }
}

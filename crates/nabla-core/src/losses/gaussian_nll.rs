//! Gaussian negative log-likelihood of targets y under N(μ, σ²), inputs (yTrue, mean,
//! variance): with v = max(variance, eps) and d = μ − y,
//!   l = 0.5·(log v + d²/v)  (+ 0.5·log 2π if `full`)
//!   dl/dμ = d/v,   dl/dvariance = 0.5·(1/v − d²/v²)
//! The clamp is invisible to the gradient, as in torch (which clamps under no_grad): the
//! variance gradient is taken at v even where variance < eps. variance has mean's shape,
//! or mean's shape with a last dimension of 1 (one variance per row, broadcast over the
//! last axis; its gradient is summed over that axis). Computed in f64.
//! See: torch.nn.GaussianNLLLoss(full, eps).
//! NOTE: torch also accepts variance of mean's shape without the last dimension; pass
//! it with a trailing 1 here. Negative variances are an error, as in torch.

use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::Tensor;

pub struct GaussianNll {
    pub full: bool,
    pub eps: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["full", "eps"])?;
    Ok(Box::new(GaussianNll {
        full: cfg.bool("full", false)?,
        eps: cfg.f64_where("eps", 1e-6, "a number > 0", |v| v.is_finite() && v > 0.0)?,
    }))
}

const OP: &str = "gaussianNll";

/// How many consecutive mean elements share one variance: 1 (same shape) or the size of
/// the last axis (variance's last dimension is 1).
fn group(mean: &Tensor, var: &Tensor) -> Result<usize> {
    let (md, vd) = (mean.dims(), var.dims());
    if vd == md {
        return Ok(1);
    }
    let n = md.len();
    if n > 0 && vd.len() == n && vd[..n - 1] == md[..n - 1] && vd[n - 1] == 1 {
        return Ok(md[n - 1]);
    }
    let expected = if n > 0 {
        let mut row = md.to_vec();
        row[n - 1] = 1;
        format!(
            "mean's shape {} or {} (one variance per row)",
            mean.shape(),
            Shape::new(row)
        )
    } else {
        format!("mean's shape {}", mean.shape())
    };
    Err(Error::shape(
        OP,
        "variance",
        expected,
        format!("shape {}", var.shape()),
    ))
}

impl Loss for GaussianNll {
    fn name(&self) -> &'static str {
        OP
    }

    fn inputs(&self) -> &'static [&'static str] {
        &["yTrue", "mean", "variance"]
    }

    fn differentiable(&self) -> &'static [usize] {
        &[1, 2]
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let (t, mu) = same_shape(OP, ["yTrue", "mean"], x[0], x[1])?;
        let var = x[2].f32s(OP, "variance")?;
        let k = group(x[1], x[2])?;
        if let Some((i, v)) = var
            .iter()
            .enumerate()
            .find(|(_, v)| v.is_nan() || **v < 0.0)
        {
            return Err(Error::invalid(
                OP,
                "variance",
                "variances ≥ 0",
                format!("{v} at index {i}"),
            ));
        }
        let c = if self.full {
            0.5 * (2.0 * std::f64::consts::PI).ln()
        } else {
            0.0
        };
        let values = (0..mu.len())
            .map(|i| {
                let v = (var[i / k] as f64).max(self.eps);
                let d = mu[i] as f64 - t[i] as f64;
                (0.5 * (v.ln() + d * d / v) + c) as f32
            })
            .collect();
        Ok(Units::elementwise(Tensor::new(
            x[1].shape().clone(),
            values,
        )))
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let (t, mu, var) = (x[0].data(), x[1].data(), x[2].data());
        let k = group(x[1], x[2])?;
        let mut g_mu = vec![0f32; mu.len()];
        let mut g_var = vec![0f64; var.len()];
        for i in 0..mu.len() {
            let v = (var[i / k] as f64).max(self.eps);
            let d = mu[i] as f64 - t[i] as f64;
            let u = up[i] as f64;
            g_mu[i] = (u * d / v) as f32;
            g_var[i / k] += u * 0.5 * (1.0 / v - d * d / (v * v));
        }
        Ok(vec![
            None,
            Some(Tensor::new(x[1].shape().clone(), g_mu)),
            Some(Tensor::new(
                x[2].shape().clone(),
                g_var.into_iter().map(|g| g as f32).collect(),
            )),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::autograd::Op;
    use crate::tensor::Tensor;
    use std::f64::consts::{LN_2, PI};

    fn err(config: &str, inputs: &[&Tensor]) -> String {
        error("gaussianNll", config, inputs)
    }

    fn close(a: &[f32], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!(
                (*x as f64 - y).abs() <= 1e-6 * (1.0 + y.abs()),
                "{a:?} vs {b:?}"
            );
        }
    }

    /// Per-element losses, and the gradients of their sum for mean and variance, with
    /// `options` (JSON members without braces).
    fn run(options: &str, inputs: &[&Tensor]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let with = |r: &str| {
            let sep = if options.is_empty() { "" } else { "," };
            LossOp::new(
                "gaussianNll",
                &format!(r#"{{"reduction":"{r}"{sep}{options}}}"#),
                false,
            )
            .unwrap()
        };
        let units = with("none").forward(inputs).unwrap();
        let (_, g) = with("sum").value_and_grad(inputs).unwrap();
        (
            units.data().to_vec(),
            g[0].data().to_vec(),
            g[1].data().to_vec(),
        )
    }

    fn positive(dims: &[usize], seed: u64) -> Tensor {
        t(
            &normal(dims, seed)
                .data()
                .iter()
                .map(|v| v.exp())
                .collect::<Vec<_>>(),
            dims,
        )
    }

    #[test]
    fn known_values_gradients_and_the_clamp() {
        // d = 1, 0, 0, 2; variances 1, 4, 0 (clamped to eps), 2
        let y = t(&[0.0, 1.0, 3.0, -1.0], &[4]);
        let mu = t(&[1.0, 1.0, 3.0, 1.0], &[4]);
        let var = t(&[1.0, 4.0, 0.0, 2.0], &[4]);
        let (l, g_mu, g_var) = run("", &[&y, &mu, &var]);
        let l_eps = 0.5 * 1e-6f64.ln();
        close(&l, &[0.5, LN_2, l_eps, 0.5 * (LN_2 + 2.0)]);
        close(&g_mu, &[1.0, 0.0, 0.0, 1.0]);
        // 0.5·(1/v − d²/v²); at the clamp the gradient is taken at v = eps, as torch's
        close(&g_var, &[0.0, 0.125, 0.5e6, 0.5 * (0.5 - 1.0)]);
        let mean = value("gaussianNll", "", &[&y, &mu, &var]) as f64;
        assert!((mean - (0.5 + LN_2 + l_eps + 0.5 * (LN_2 + 2.0)) / 4.0).abs() < 1e-5);

        let c = 0.5 * (2.0 * PI).ln();
        let (l, _, g_var) = run(r#""full":true,"eps":2"#, &[&y, &mu, &var]);
        // v = 2, 4, 2, 2
        close(
            &l,
            &[
                0.5 * (LN_2 + 0.5) + c,
                LN_2 + c,
                0.5 * LN_2 + c,
                0.5 * (LN_2 + 2.0) + c,
            ],
        );
        close(
            &g_var,
            &[0.5 * (0.5 - 0.25), 0.125, 0.25, 0.5 * (0.5 - 1.0)],
        );
    }

    #[test]
    fn one_variance_per_row_broadcasts_and_sums_its_gradient() {
        let y = t(&[0.0, 0.0, 0.0, 1.0, 1.0, 1.0], &[2, 3]);
        let mu = t(&[1.0, -1.0, 0.0, 1.0, 3.0, 1.0], &[2, 3]);
        let var = t(&[1.0, 2.0], &[2, 1]);
        let (l, g_mu, g_var) = run("", &[&y, &mu, &var]);
        close(
            &l,
            &[0.5, 0.5, 0.0, 0.5 * LN_2, 0.5 * (LN_2 + 2.0), 0.5 * LN_2],
        );
        close(&g_mu, &[1.0, -1.0, 0.0, 0.0, 1.0, 0.0]);
        // row 0: 0.5·(1 − 1) + 0.5·(1 − 1) + 0.5 = 0.5; row 1: 0.25 + 0.5·(0.5 − 1) + 0.25 = 0.25
        close(&g_var, &[0.5, 0.25]);
        let full = t(&[1.0, 1.0, 1.0, 2.0, 2.0, 2.0], &[2, 3]);
        assert_eq!(
            value("gaussianNll", "", &[&y, &mu, &var]),
            value("gaussianNll", "", &[&y, &mu, &full])
        );
    }

    #[test]
    fn gradcheck_for_every_option_and_both_variance_shapes() {
        for cfg in ["", r#"{"full":true}"#, r#"{"eps":0.01,"reduction":"sum"}"#] {
            for (i, (dims, vdims)) in [
                (&[3, 5][..], &[3, 5][..]),
                (&[3, 5], &[3, 1]),
                (&[7], &[7]),
                (&[7], &[1]),
                (&[1, 3], &[1, 1]),
                (&[2, 3, 4], &[2, 3, 1]),
            ]
            .into_iter()
            .enumerate()
            {
                let s = 10 * i as u64;
                gradcheck(
                    "gaussianNll",
                    cfg,
                    vec![
                        normal(dims, s + 1),
                        normal(dims, s + 2),
                        positive(vdims, s + 3),
                    ],
                    1e-3,
                    1e-3,
                );
            }
        }
    }

    #[test]
    fn rejects_bad_variances_options_and_shapes() {
        let (y, mu) = (normal(&[2, 3], 1), normal(&[2, 3], 2));
        let bad = t(&[1.0, 1.0, -0.5, 1.0, 1.0, 1.0], &[2, 3]);
        assert_eq!(
            err("", &[&y, &mu, &bad]),
            "gaussianNll: invalid `variance`: expected variances ≥ 0, received -0.5 at index 2"
        );
        assert_eq!(
            err("", &[&y, &mu, &t(&[1.0, 1.0], &[2])]),
            "gaussianNll: invalid `variance`: expected mean's shape [2, 3] or [2, 1] (one variance per row), received shape [2]"
        );
        assert_eq!(
            err("", &[&y, &mu, &t(&[1.0; 3], &[1, 3])]),
            "gaussianNll: invalid `variance`: expected mean's shape [2, 3] or [2, 1] (one variance per row), received shape [1, 3]"
        );
        assert_eq!(
            err("", &[&t(&[0.0], &[]), &t(&[0.0], &[]), &t(&[1.0], &[1])]),
            "gaussianNll: invalid `variance`: expected mean's shape [], received shape [1]"
        );
        assert_eq!(
            err("", &[&normal(&[3, 2], 1), &mu, &positive(&[2, 3], 3)]),
            "gaussianNll: invalid `yTrue`: expected the shape of `mean`, [2, 3], received shape [3, 2]"
        );
        assert_eq!(
            err("", &[&y, &mu, &labels(&[1; 6], &[2, 3])]),
            "gaussianNll: invalid `variance`: expected a float32 tensor, received an int32 tensor"
        );
        assert_eq!(
            err(r#"{"eps":-1}"#, &[&y, &mu, &bad]),
            "gaussianNll: invalid `eps`: expected a number > 0, received -1"
        );
        assert_eq!(
            err(r#"{"full":0}"#, &[&y, &mu, &bad]),
            "gaussianNll: invalid `full`: expected true or false, received 0"
        );
        assert_eq!(
            err(r#"{"var":1}"#, &[&y, &mu, &bad]),
            "gaussianNll: invalid `config`: expected options among full, eps, reduction, received unknown option `var`"
        );
        assert_eq!(
            err("", &[&y, &mu]),
            "gaussianNll: invalid `arguments`: expected 3 tensors (yTrue, mean, variance), received 2"
        );
    }
}
